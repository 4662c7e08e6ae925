"""document_cessions: cessions of documents through SII's RTC (createCesion), with their track id and SII state

Revision ID: 0019_document_cessions
Revises: 0018_sii_received_index
Create Date: 2026-12-07
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0019_document_cessions"
down_revision: str | None = "0018_sii_received_index"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_JSON = sa.JSON().with_variant(postgresql.JSONB(), "postgresql")
_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "document_cessions",
        sa.Column("id", _ID, autoincrement=True, nullable=False),
        sa.Column("company_id", _ID, nullable=False),
        sa.Column("document_id", _ID, nullable=False),
        sa.Column(
            "seq", sa.SmallInteger(), nullable=False, comment="SeqCesion: 1 for the issuer's own cession"
        ),
        sa.Column("assignee_rut", sa.String(length=12), nullable=False),
        sa.Column("assignee_name", sa.String(length=100), nullable=False),
        sa.Column("assignee_address", sa.String(length=80), nullable=False),
        sa.Column("assignee_email", sa.String(length=80), nullable=False),
        sa.Column("amount_cents", sa.BigInteger(), nullable=False),
        sa.Column("last_due_date", sa.Date(), nullable=False, comment="UltimoVencimiento"),
        sa.Column("contact", _JSON, nullable=True),
        sa.Column("declaration", sa.Text(), nullable=False, comment="DeclaracionJurada as signed"),
        sa.Column("ceded_at", sa.DateTime(timezone=True), nullable=False, comment="TmstCesion"),
        sa.Column("signed_by", sa.String(length=12), nullable=False, comment="The certificate holder's RUT"),
        sa.Column("aec", sa.LargeBinary(), nullable=False, comment="The AEC file as uploaded, byte for byte"),
        sa.Column("track_id", sa.BigInteger(), nullable=False, comment="SII's TRACKID of the upload"),
        sa.Column("sii_state", sa.String(length=10), nullable=False, comment="pending | accepted | rejected"),
        sa.Column(
            "sii_code", sa.String(length=8), nullable=False, comment="SII's ESTADO_ENVIO (EOK, RCS...)"
        ),
        sa.Column("sii_message", sa.Text(), nullable=False, comment="What SII said, in words"),
        sa.Column(
            "sii_checked_at", sa.DateTime(timezone=True), nullable=True, comment="When SII was last asked"
        ),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["company_id"],
            ["companies.id"],
            name=op.f("fk_document_cessions_company_id_companies"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["document_id"],
            ["documents.id"],
            name=op.f("fk_document_cessions_document_id_documents"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_document_cessions")),
        sqlite_autoincrement=True,
    )
    op.create_index(
        "ix_document_cessions_company_document", "document_cessions", ["company_id", "document_id", "id"]
    )
    op.create_index("ix_document_cessions_sii_state", "document_cessions", ["sii_state", "id"])


def downgrade() -> None:
    op.drop_index("ix_document_cessions_sii_state", table_name="document_cessions")
    op.drop_index("ix_document_cessions_company_document", table_name="document_cessions")
    op.drop_table("document_cessions")
