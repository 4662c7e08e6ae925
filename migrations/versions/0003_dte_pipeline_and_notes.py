"""the DTE pipeline's verdicts, structured fields, credit and debit notes, the company's XML policy

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-22
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "notes",
        sa.Column(
            "id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), autoincrement=True, nullable=False
        ),
        sa.Column("company_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("client_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("document_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=True),
        sa.Column("code", sa.SmallInteger(), nullable=False, comment="SII type: 61/112 credit, 56/111 debit"),
        sa.Column("number", sa.String(length=40), nullable=False, comment="Folio"),
        sa.Column("number_sort", sa.BigInteger(), nullable=False),
        sa.Column("issue_date", sa.Date(), nullable=False),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("net_cents", sa.BigInteger(), nullable=False),
        sa.Column("taxes_cents", sa.BigInteger(), nullable=False),
        sa.Column("total_cents", sa.BigInteger(), nullable=False),
        sa.Column("ref_code", sa.String(length=10), nullable=True, comment="TpoDocRef it names"),
        sa.Column("ref_number", sa.String(length=40), nullable=True, comment="FolioRef it names"),
        sa.Column("reason", sa.SmallInteger(), nullable=True, comment="CodRef 1, 2 or 3"),
        sa.Column("gloss", sa.String(length=255), nullable=False, comment="RazonRef"),
        sa.Column("notes", sa.Text(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("created_on", sa.Date(), nullable=False, comment="created_at's Santiago day, for dateBy=2"),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column(
            "xml_schema", sa.String(length=12), nullable=True, comment="valid | invalid | unverifiable"
        ),
        sa.Column(
            "xml_signature",
            sa.String(length=12),
            nullable=True,
            comment="valid | unsigned | invalid | unverifiable",
        ),
        sa.Column("xml_ted", sa.String(length=12), nullable=True, comment="valid | absent | invalid"),
        sa.Column("xml_signer", sa.String(length=12), nullable=True, comment="The signer's RUT"),
        sa.Column("xml_signed_at", sa.DateTime(timezone=True), nullable=True, comment="TmstFirma"),
        sa.Column("xml_problems", sa.JSON().with_variant(postgresql.JSONB(), "postgresql"), nullable=True),
        sa.ForeignKeyConstraint(
            ["client_id"], ["clients.id"], name=op.f("fk_notes_client_id_clients"), ondelete="RESTRICT"
        ),
        sa.ForeignKeyConstraint(
            ["company_id"], ["companies.id"], name=op.f("fk_notes_company_id_companies"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["document_id"],
            ["documents.id"],
            name=op.f("fk_notes_document_id_documents"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_notes")),
        sa.UniqueConstraint("company_id", "code", "number", name=op.f("uq_notes_company_id_code_number")),
        sqlite_autoincrement=True,
    )
    with op.batch_alter_table("notes", schema=None) as batch_op:
        batch_op.create_index("ix_notes_client_id", ["client_id"], unique=False)
        batch_op.create_index("ix_notes_company_issue", ["company_id", "issue_date", "id"], unique=False)
        batch_op.create_index(
            "ix_notes_company_reference", ["company_id", "ref_code", "ref_number"], unique=False
        )
        batch_op.create_index("ix_notes_document_id", ["document_id"], unique=False)

    op.create_table(
        "note_sources",
        sa.Column("note_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.Column("content", sa.LargeBinary(), nullable=False),
        sa.Column("fields", sa.JSON().with_variant(postgresql.JSONB(), "postgresql"), nullable=True),
        sa.ForeignKeyConstraint(
            ["note_id"], ["notes.id"], name=op.f("fk_note_sources_note_id_notes"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("note_id", name=op.f("pk_note_sources")),
    )
    with op.batch_alter_table("companies", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column(
                "xml_policy",
                sa.String(length=10),
                server_default="lenient",
                nullable=False,
                comment="lenient: refuse only unsafe or unreadable XML; strict: also any check not valid",
            )
        )

    with op.batch_alter_table("document_sources", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("fields", sa.JSON().with_variant(postgresql.JSONB(), "postgresql"), nullable=True)
        )

    with op.batch_alter_table("documents", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column(
                "xml_schema", sa.String(length=12), nullable=True, comment="valid | invalid | unverifiable"
            )
        )
        batch_op.add_column(
            sa.Column(
                "xml_signature",
                sa.String(length=12),
                nullable=True,
                comment="valid | unsigned | invalid | unverifiable",
            )
        )
        batch_op.add_column(
            sa.Column("xml_ted", sa.String(length=12), nullable=True, comment="valid | absent | invalid")
        )
        batch_op.add_column(
            sa.Column("xml_signer", sa.String(length=12), nullable=True, comment="The signer's RUT")
        )
        batch_op.add_column(
            sa.Column("xml_signed_at", sa.DateTime(timezone=True), nullable=True, comment="TmstFirma")
        )
        batch_op.add_column(
            sa.Column("xml_problems", sa.JSON().with_variant(postgresql.JSONB(), "postgresql"), nullable=True)
        )


def downgrade() -> None:
    # Plain DROP COLUMN (SQLite 3.35+): a batch copy of documents would drop its count triggers.
    for column in ("xml_problems", "xml_signed_at", "xml_signer", "xml_ted", "xml_signature", "xml_schema"):
        op.execute(f"ALTER TABLE documents DROP COLUMN {column}")

    with op.batch_alter_table("document_sources", schema=None) as batch_op:
        batch_op.drop_column("fields")

    with op.batch_alter_table("companies", schema=None) as batch_op:
        batch_op.drop_column("xml_policy")

    op.drop_table("note_sources")
    with op.batch_alter_table("notes", schema=None) as batch_op:
        batch_op.drop_index("ix_notes_document_id")
        batch_op.drop_index("ix_notes_company_reference")
        batch_op.drop_index("ix_notes_company_issue")
        batch_op.drop_index("ix_notes_client_id")

    op.drop_table("notes")
