"""held documents: invoices a company holds through a cession (its issuer kept on the document) and the AEC
that made it hold each one (document_holdings)

Revision ID: 0020_held_documents
Revises: 0019_document_cessions
Create Date: 2026-12-07
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0020_held_documents"
down_revision: str | None = "0019_document_cessions"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_JSON = sa.JSON().with_variant(postgresql.JSONB(), "postgresql")
_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
_OLD_KEY = ["company_id", "code", "number"]
_NEW_KEY = ["company_id", "issuer_rut", "code", "number"]


def _columns() -> list[sa.Column[object]]:
    return [
        sa.Column(
            "held",
            sa.Boolean(),
            nullable=False,
            server_default=sa.false(),
            comment="Bought through a cession (AEC): another company issued it, this one holds it",
        ),
        sa.Column(
            "issuer_rut",
            sa.String(length=12),
            nullable=False,
            server_default="",
            comment="A held document's issuer (canonical RUT); '' when the company issued it",
        ),
        sa.Column(
            "issuer_name",
            sa.String(length=100),
            nullable=False,
            server_default="",
            comment="A held document's issuer",
        ),
    ]


def _change_documents(add: bool) -> None:
    old, new = (_OLD_KEY, _NEW_KEY) if add else (_NEW_KEY, _OLD_KEY)
    sqlite = op.get_bind().dialect.name == "sqlite"
    # SQLite changes a table's unique key by copying the table, which drops its count triggers: they are
    # read before and made again after, as they were.
    triggers = (
        [
            row[0]
            for row in op.get_bind().execute(
                sa.text("SELECT sql FROM sqlite_master WHERE type = 'trigger' AND tbl_name = 'documents'")
            )
        ]
        if sqlite
        else []
    )
    with op.batch_alter_table("documents", table_kwargs={"sqlite_autoincrement": True}) as batch:
        if add:
            for column in _columns():
                batch.add_column(column)
        batch.drop_constraint(op.f(f"uq_documents_{'_'.join(old)}"), type_="unique")
        batch.create_unique_constraint(op.f(f"uq_documents_{'_'.join(new)}"), new)
        if not add:
            for name in ("issuer_name", "issuer_rut", "held"):
                batch.drop_column(name)
    for statement in triggers:
        op.execute(f"DROP TRIGGER IF EXISTS {statement.split()[2]}")
        op.execute(statement)


def upgrade() -> None:
    _change_documents(add=True)
    op.create_table(
        "document_holdings",
        sa.Column("document_id", _ID, autoincrement=False, nullable=False),
        sa.Column("company_id", _ID, nullable=False),
        sa.Column(
            "sequence", sa.SmallInteger(), nullable=False, comment="SeqCesion of the cession to this company"
        ),
        sa.Column(
            "assignor_rut", sa.String(length=12), nullable=False, comment="Who ceded it to this company"
        ),
        sa.Column("assignor_name", sa.String(length=100), nullable=False),
        sa.Column(
            "amount_cents", sa.BigInteger(), nullable=False, comment="MontoCesion, in hundredths of pesos"
        ),
        sa.Column("last_due_date", sa.Date(), nullable=True, comment="UltimoVencimiento"),
        sa.Column(
            "ceded_at",
            sa.DateTime(timezone=True),
            nullable=True,
            comment="TmstCesion (Santiago wall-clock time)",
        ),
        sa.Column("debtor_email", sa.String(length=80), nullable=False, comment="eMailDeudor"),
        sa.Column("aec", sa.LargeBinary(), nullable=False, comment="The AEC file as received, byte for byte"),
        sa.Column("aec_sha256", sa.String(length=64), nullable=False),
        sa.Column("checks", _JSON, nullable=False, comment="The verification's findings"),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["company_id"],
            ["companies.id"],
            name=op.f("fk_document_holdings_company_id_companies"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["document_id"],
            ["documents.id"],
            name=op.f("fk_document_holdings_document_id_documents"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("document_id", name=op.f("pk_document_holdings")),
    )
    op.create_index("ix_document_holdings_company", "document_holdings", ["company_id", "document_id"])


def downgrade() -> None:
    op.drop_index("ix_document_holdings_company", table_name="document_holdings")
    op.drop_table("document_holdings")
    op.execute("DELETE FROM documents WHERE held")
    _change_documents(add=False)
