"""document_sii_acceptances: what SII's acceptance/claim service said of a document

Revision ID: 0012_document_sii_acceptance
Revises: 0011_sii_certificate
Create Date: 2026-12-07
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0012_document_sii_acceptance"
down_revision: str | None = "0011_sii_certificate"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_JSON = sa.JSON().with_variant(postgresql.JSONB(), "postgresql")
_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "document_sii_acceptances",
        sa.Column("document_id", _ID, nullable=False),
        sa.Column("company_id", _ID, nullable=False),
        sa.Column(
            "received_at",
            sa.DateTime(timezone=True),
            nullable=True,
            comment="When SII received the document (consultarFechaRecepcionSii); null: not received",
        ),
        sa.Column(
            "events",
            _JSON,
            nullable=False,
            comment="[{code, description, responsibleRut, at}] as SII listed them",
        ),
        sa.Column(
            "events_listed",
            sa.Boolean(),
            nullable=False,
            comment="False when SII gave no list (codResp 8: over 8 days since reception)",
        ),
        sa.Column(
            "cedibility_code",
            sa.SmallInteger(),
            nullable=True,
            comment="consultarDocDteCedible's codResp (20-25)",
        ),
        sa.Column("cedibility_description", sa.String(length=120), nullable=False),
        sa.Column("checked_at", sa.DateTime(timezone=True), nullable=False, comment="When SII was asked"),
        sa.Column("checked_by", sa.String(length=12), nullable=False, comment="The certificate holder's RUT"),
        sa.ForeignKeyConstraint(
            ["company_id"],
            ["companies.id"],
            name=op.f("fk_document_sii_acceptances_company_id_companies"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["document_id"],
            ["documents.id"],
            name=op.f("fk_document_sii_acceptances_document_id_documents"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("document_id", name=op.f("pk_document_sii_acceptances")),
    )
    op.create_index(
        op.f("ix_document_sii_acceptances_company_id"),
        "document_sii_acceptances",
        ["company_id"],
        unique=False,
    )


def downgrade() -> None:
    op.drop_index(op.f("ix_document_sii_acceptances_company_id"), table_name="document_sii_acceptances")
    op.drop_table("document_sii_acceptances")
