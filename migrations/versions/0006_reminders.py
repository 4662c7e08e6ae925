"""reminders: the company's reminder settings and the e-mail outbox

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-22
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
# A SQLite table that batch mode rebuilds keeps AUTOINCREMENT (ids never reused) only when told.
_KEEP_AUTOINCREMENT = {"sqlite_autoincrement": True}


def upgrade() -> None:
    with op.batch_alter_table("companies", table_kwargs=_KEEP_AUTOINCREMENT) as batch_op:
        batch_op.add_column(
            sa.Column(
                "reminder_days_before",
                sa.Integer(),
                server_default="3",
                nullable=False,
                comment="Days before the due date of the soon-to-expire reminder; 0: none",
            )
        )
        batch_op.add_column(
            sa.Column(
                "reminder_overdue_every",
                sa.Integer(),
                server_default="7",
                nullable=False,
                comment="Days between overdue reminders after the first; 0: only one",
            )
        )
        batch_op.add_column(
            sa.Column(
                "debt_summary_period",
                sa.String(length=8),
                server_default="monthly",
                nullable=False,
                comment="off, weekly or monthly",
            )
        )
        batch_op.add_column(
            sa.Column(
                "debt_summary_day",
                sa.Integer(),
                server_default="1",
                nullable=False,
                comment="Weekday (1 Monday … 7) or day of the month (1 … 28)",
            )
        )
        batch_op.add_column(
            sa.Column(
                "reply_to",
                sa.String(length=254),
                server_default="",
                nullable=False,
                comment="Reply-To of the company's reminders",
            )
        )
    op.create_table(
        "email_messages",
        sa.Column("id", _ID, autoincrement=True, nullable=False),
        sa.Column("company_id", _ID, nullable=False),
        sa.Column("client_id", _ID, nullable=False),
        sa.Column("document_id", _ID, nullable=True),
        sa.Column("kind", sa.String(length=20), nullable=False),
        sa.Column(
            "subject_id",
            sa.BigInteger(),
            nullable=False,
            comment="The document, note, payment or client (debt summary) the reminder is about",
        ),
        sa.Column("reminder_day", sa.Date(), nullable=False, comment="The Santiago day the reminder is for"),
        sa.Column("status", sa.String(length=10), nullable=False),
        sa.Column("attempts", sa.SmallInteger(), nullable=False),
        sa.Column("next_attempt_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("lease_expires_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("claimed_by", sa.String(length=40), nullable=True),
        sa.Column("message_id", sa.String(length=255), nullable=True, comment="Message-ID header"),
        sa.Column("sender", sa.String(length=512), nullable=True, comment="From header"),
        sa.Column("reply_to", sa.String(length=512), nullable=True),
        sa.Column("recipients", sa.Text(), nullable=True, comment="Addresses, one a line"),
        sa.Column("subject", sa.String(length=512), nullable=True),
        sa.Column("text_body", sa.Text(), nullable=True),
        sa.Column("html_body", sa.Text(), nullable=True),
        sa.Column(
            "attachment_ref",
            sa.String(length=64),
            nullable=True,
            comment="document:<id> or note:<id>: its PDF is attached",
        ),
        sa.Column("attachment_name", sa.String(length=128), nullable=True),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("last_attempt_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("sent_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["client_id"],
            ["clients.id"],
            name=op.f("fk_email_messages_client_id_clients"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["company_id"],
            ["companies.id"],
            name=op.f("fk_email_messages_company_id_companies"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["document_id"],
            ["documents.id"],
            name=op.f("fk_email_messages_document_id_documents"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_email_messages")),
        sa.UniqueConstraint(
            "company_id",
            "kind",
            "subject_id",
            "reminder_day",
            name=op.f("uq_email_messages_company_id_kind_subject_id_reminder_day"),
        ),
        sqlite_autoincrement=True,
    )
    op.create_index(
        "ix_email_messages_status_next_attempt", "email_messages", ["status", "next_attempt_at"], unique=False
    )
    op.create_index(
        "ix_email_messages_company_created",
        "email_messages",
        ["company_id", "created_at", "id"],
        unique=False,
    )
    op.create_index(
        "ix_email_messages_company_client", "email_messages", ["company_id", "client_id"], unique=False
    )
    op.create_index(
        "ix_email_messages_company_document", "email_messages", ["company_id", "document_id"], unique=False
    )


def downgrade() -> None:
    op.drop_table("email_messages")
    with op.batch_alter_table("companies", table_kwargs=_KEEP_AUTOINCREMENT) as batch_op:
        batch_op.drop_column("reply_to")
        batch_op.drop_column("debt_summary_day")
        batch_op.drop_column("debt_summary_period")
        batch_op.drop_column("reminder_overdue_every")
        batch_op.drop_column("reminder_days_before")
