from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import ForeignKey, SmallInteger, String
from sqlalchemy.orm import Mapped, mapped_column

from dtehub.models.base import Base, BigId, JsonColumn


class DocumentSiiAcceptance(Base):
    """What SII's acceptance/claim service said of a document when it was last asked: SII's reception time,
    the event history (acceptance, goods receipt, claims, credit notes) and SII's cedibility code.

    One row per document, written each time the service is read (``dtehub.factoring.acceptance``). What
    the SII sync reads of the document in the Registro de Ventas (reception, acuse, claim, receiver event)
    is kept on the document itself (its ``sii_*`` columns, :class:`dtehub.models.sii_state.SiiStated`).
    """

    __tablename__ = "document_sii_acceptances"

    document_id: Mapped[int] = mapped_column(
        BigId, ForeignKey("documents.id", ondelete="CASCADE"), primary_key=True
    )
    company_id: Mapped[int] = mapped_column(BigId, ForeignKey("companies.id", ondelete="CASCADE"), index=True)
    received_at: Mapped[datetime | None] = mapped_column(
        default=None,
        comment="When SII received the document (consultarFechaRecepcionSii); null: not received",
    )
    events: Mapped[list[dict[str, Any]]] = mapped_column(
        JsonColumn, default=list, comment="[{code, description, responsibleRut, at}] as SII listed them"
    )
    events_listed: Mapped[bool] = mapped_column(
        default=True, comment="False when SII gave no list (codResp 8: over 8 days since reception)"
    )
    cedibility_code: Mapped[int | None] = mapped_column(
        SmallInteger, default=None, comment="consultarDocDteCedible's codResp (20-25)"
    )
    cedibility_description: Mapped[str] = mapped_column(String(120), default="")
    checked_at: Mapped[datetime] = mapped_column(comment="When SII was asked")
    checked_by: Mapped[str] = mapped_column(String(12), default="", comment="The certificate holder's RUT")
