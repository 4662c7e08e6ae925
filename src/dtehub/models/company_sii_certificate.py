from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, LargeBinary, String
from sqlalchemy.orm import Mapped, mapped_column

from dtehub.kit.dates import utcnow
from dtehub.models.base import Base, BigId


class CompanySiiCertificate(Base):
    """The certificate of a person authorized for the company at SII, with which dtehub logs in to SII
    for it. The key and certificate are kept only sealed (:mod:`dtehub.kit.sealing`, purpose
    ``SII_CERTIFICATE``, the company id bound); the password it was uploaded with is not kept at all.
    The other columns are what the API shows of it: nothing secret."""

    __tablename__ = "company_sii_certificates"

    company_id: Mapped[int] = mapped_column(
        BigId, ForeignKey("companies.id", ondelete="CASCADE"), primary_key=True
    )
    sealed_pkcs12: Mapped[bytes] = mapped_column(
        LargeBinary,
        comment="AES-256-GCM nonce + ciphertext of a PKCS#12 (key, certificate, chain) without password",
    )
    holder_rut: Mapped[str] = mapped_column(String(12), comment="The person's RUT, canonical")
    holder_name: Mapped[str] = mapped_column(String(255), comment="The certificate's common name")
    valid_until: Mapped[datetime] = mapped_column(comment="The certificate's notAfter")
    fingerprint: Mapped[str] = mapped_column(String(64), comment="SHA-256 of the certificate (DER), hex")
    added_at: Mapped[datetime] = mapped_column(default=utcnow, comment="When this certificate was stored")
