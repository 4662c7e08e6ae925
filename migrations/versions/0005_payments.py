"""payments: payments and their allocations to documents

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-22
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "payments",
        sa.Column("id", _ID, autoincrement=True, nullable=False),
        sa.Column("company_id", _ID, nullable=False),
        sa.Column("client_id", _ID, nullable=False),
        sa.Column("paid_on", sa.Date(), nullable=False, comment="The payment's date (getPayments dateBy=1)"),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("amount_cents", sa.BigInteger(), nullable=False),
        sa.Column("method_id", sa.SmallInteger(), nullable=True, comment="dtehub.payments.methods catalogue"),
        sa.Column("description", sa.String(length=255), nullable=False),
        sa.Column("bank_code", sa.String(length=64), nullable=False),
        sa.Column("account_number", sa.String(length=64), nullable=False),
        sa.Column("transaction_code", sa.String(length=128), nullable=False),
        sa.Column("comments", sa.Text(), nullable=False),
        sa.Column(
            "status", sa.SmallInteger(), nullable=False, comment="0 pending, 1 reconciled, 2 discarded"
        ),
        sa.Column("reconciled_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column(
            "reconciled_on", sa.Date(), nullable=True, comment="reconciled_at's Santiago day (dateBy=3)"
        ),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("created_on", sa.Date(), nullable=False, comment="created_at's Santiago day (dateBy=2)"),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["client_id"], ["clients.id"], name=op.f("fk_payments_client_id_clients"), ondelete="RESTRICT"
        ),
        sa.ForeignKeyConstraint(
            ["company_id"],
            ["companies.id"],
            name=op.f("fk_payments_company_id_companies"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_payments")),
        sqlite_autoincrement=True,  # ids are never reused
    )
    op.create_index("ix_payments_client_id", "payments", ["client_id"], unique=False)
    op.create_index(
        "ix_payments_company_created_on", "payments", ["company_id", "created_on", "id"], unique=False
    )
    op.create_index("ix_payments_company_paid_on", "payments", ["company_id", "paid_on", "id"], unique=False)
    op.create_index(
        "ix_payments_company_reconciled_on", "payments", ["company_id", "reconciled_on", "id"], unique=False
    )
    op.create_table(
        "payment_allocations",
        sa.Column("payment_id", _ID, nullable=False),
        sa.Column("document_id", _ID, nullable=False),
        sa.Column("amount_cents", sa.BigInteger(), nullable=False),
        sa.ForeignKeyConstraint(
            ["document_id"],
            ["documents.id"],
            name=op.f("fk_payment_allocations_document_id_documents"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["payment_id"],
            ["payments.id"],
            name=op.f("fk_payment_allocations_payment_id_payments"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("payment_id", "document_id", name=op.f("pk_payment_allocations")),
    )
    op.create_index(
        "ix_payment_allocations_document_id", "payment_allocations", ["document_id"], unique=False
    )


def downgrade() -> None:
    op.drop_index("ix_payment_allocations_document_id", table_name="payment_allocations")
    op.drop_table("payment_allocations")
    op.drop_index("ix_payments_company_reconciled_on", table_name="payments")
    op.drop_index("ix_payments_company_paid_on", table_name="payments")
    op.drop_index("ix_payments_company_created_on", table_name="payments")
    op.drop_index("ix_payments_client_id", table_name="payments")
    op.drop_table("payments")
