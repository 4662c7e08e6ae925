"""company_sii_certificates: the company's SII certificate, sealed, and what the API shows of it

Revision ID: 0011_sii_certificate
Revises: 0010
Create Date: 2026-12-07
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0011_sii_certificate"
down_revision: str | None = "0010"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "company_sii_certificates",
        sa.Column("company_id", _ID, nullable=False),
        sa.Column(
            "sealed_pkcs12",
            sa.LargeBinary(),
            nullable=False,
            comment="AES-256-GCM nonce + ciphertext of a PKCS#12 (key, certificate, chain) without password",
        ),
        sa.Column("holder_rut", sa.String(length=12), nullable=False, comment="The person's RUT, canonical"),
        sa.Column(
            "holder_name", sa.String(length=255), nullable=False, comment="The certificate's common name"
        ),
        sa.Column(
            "valid_until", sa.DateTime(timezone=True), nullable=False, comment="The certificate's notAfter"
        ),
        sa.Column(
            "fingerprint",
            sa.String(length=64),
            nullable=False,
            comment="SHA-256 of the certificate (DER), hex",
        ),
        sa.Column(
            "added_at", sa.DateTime(timezone=True), nullable=False, comment="When this certificate was stored"
        ),
        sa.ForeignKeyConstraint(
            ["company_id"],
            ["companies.id"],
            name=op.f("fk_company_sii_certificates_company_id_companies"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("company_id", name=op.f("pk_company_sii_certificates")),
    )


def downgrade() -> None:
    op.drop_table("company_sii_certificates")
