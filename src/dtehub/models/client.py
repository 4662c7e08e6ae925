from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from dtehub.kit.dates import utcnow
from dtehub.kit.secrets import new_link_key
from dtehub.models.base import Base, BigId, IdPk


class Client(Base):
    """A customer of the company: the receiver (``Receptor``) of its documents."""

    __tablename__ = "clients"
    __table_args__ = (UniqueConstraint("company_id", "tax_id"), {"sqlite_autoincrement": True})

    id: Mapped[IdPk]
    company_id: Mapped[int] = mapped_column(BigId, ForeignKey("companies.id", ondelete="CASCADE"))
    tax_id: Mapped[str] = mapped_column(String(32), comment="Canonical RUT for Chilean clients")
    name: Mapped[str] = mapped_column(String(255), default="")
    activity: Mapped[str] = mapped_column(String(255), default="", comment="Giro (GiroRecep)")
    country: Mapped[str] = mapped_column(String(64), default="Chile")
    region: Mapped[str] = mapped_column(String(128), default="")
    city: Mapped[str] = mapped_column(String(128), default="")
    comuna: Mapped[str] = mapped_column(String(128), default="")
    address: Mapped[str] = mapped_column(String(255), default="")
    zipcode: Mapped[str] = mapped_column(String(32), default="")
    phone: Mapped[str] = mapped_column(String(64), default="")
    fax: Mapped[str] = mapped_column(String(64), default="")
    payment_term_days: Mapped[int | None] = mapped_column(
        default=None, comment="Overrides the company's payment term when set"
    )
    remind_new_document: Mapped[bool] = mapped_column(default=True)
    remind_soon_to_expire: Mapped[bool] = mapped_column(default=True)
    remind_expired: Mapped[bool] = mapped_column(default=True)
    remind_new_payment: Mapped[bool] = mapped_column(default=True)
    remind_debt_summary: Mapped[bool] = mapped_column(default=True)
    portal_key: Mapped[str] = mapped_column(String(43), default=new_link_key)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)
