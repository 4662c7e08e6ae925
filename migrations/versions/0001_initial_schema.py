"""initial schema

Revision ID: 0001
Revises:
Create Date: 2026-11-22
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0001"
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "companies",
        sa.Column(
            "id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), autoincrement=True, nullable=False
        ),
        sa.Column("rut", sa.String(length=12), nullable=False, comment="Canonical RUT, e.g. 76453707-6"),
        sa.Column("name", sa.String(length=255), nullable=False),
        sa.Column(
            "payment_term_days",
            sa.Integer(),
            nullable=False,
            comment="Days from issue to due date when neither the DTE nor the client says",
        ),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_companies")),
        sa.UniqueConstraint("rut", name=op.f("uq_companies_rut")),
    )
    op.create_table(
        "api_tokens",
        sa.Column(
            "id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), autoincrement=True, nullable=False
        ),
        sa.Column("company_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("token_hash", sa.String(length=64), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("revoked_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["company_id"],
            ["companies.id"],
            name=op.f("fk_api_tokens_company_id_companies"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_api_tokens")),
        sa.UniqueConstraint("token_hash", name=op.f("uq_api_tokens_token_hash")),
    )
    with op.batch_alter_table("api_tokens", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_api_tokens_company_id"), ["company_id"], unique=False)

    op.create_table(
        "clients",
        sa.Column(
            "id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), autoincrement=True, nullable=False
        ),
        sa.Column("company_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column(
            "tax_id", sa.String(length=32), nullable=False, comment="Canonical RUT for Chilean clients"
        ),
        sa.Column("name", sa.String(length=255), nullable=False),
        sa.Column("activity", sa.String(length=255), nullable=False, comment="Giro (GiroRecep)"),
        sa.Column("country", sa.String(length=64), nullable=False),
        sa.Column("region", sa.String(length=128), nullable=False),
        sa.Column("city", sa.String(length=128), nullable=False),
        sa.Column("comuna", sa.String(length=128), nullable=False),
        sa.Column("address", sa.String(length=255), nullable=False),
        sa.Column("zipcode", sa.String(length=32), nullable=False),
        sa.Column("phone", sa.String(length=64), nullable=False),
        sa.Column("fax", sa.String(length=64), nullable=False),
        sa.Column(
            "payment_term_days",
            sa.Integer(),
            nullable=True,
            comment="Overrides the company's payment term when set",
        ),
        sa.Column("remind_new_document", sa.Boolean(), nullable=False),
        sa.Column("remind_soon_to_expire", sa.Boolean(), nullable=False),
        sa.Column("remind_expired", sa.Boolean(), nullable=False),
        sa.Column("remind_new_payment", sa.Boolean(), nullable=False),
        sa.Column("remind_debt_summary", sa.Boolean(), nullable=False),
        sa.Column("portal_key", sa.String(length=43), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["company_id"], ["companies.id"], name=op.f("fk_clients_company_id_companies"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_clients")),
        sa.UniqueConstraint("company_id", "tax_id", name=op.f("uq_clients_company_id_tax_id")),
    )
    op.create_table(
        "tags",
        sa.Column(
            "id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), autoincrement=True, nullable=False
        ),
        sa.Column("company_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["company_id"], ["companies.id"], name=op.f("fk_tags_company_id_companies"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_tags")),
        sa.UniqueConstraint("company_id", "name", name=op.f("uq_tags_company_id_name")),
    )
    op.create_table(
        "contacts",
        sa.Column(
            "id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), autoincrement=True, nullable=False
        ),
        sa.Column("company_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("client_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("name", sa.String(length=128), nullable=False),
        sa.Column("last_name", sa.String(length=128), nullable=False),
        sa.Column("email", sa.String(length=254), nullable=False),
        sa.Column("position", sa.String(length=128), nullable=False),
        sa.Column("contact_type_id", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["client_id"], ["clients.id"], name=op.f("fk_contacts_client_id_clients"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["company_id"],
            ["companies.id"],
            name=op.f("fk_contacts_company_id_companies"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_contacts")),
    )
    with op.batch_alter_table("contacts", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_contacts_client_id"), ["client_id"], unique=False)
        batch_op.create_index("ix_contacts_company_id_client_id", ["company_id", "client_id"], unique=False)

    op.create_table(
        "documents",
        sa.Column(
            "id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), autoincrement=True, nullable=False
        ),
        sa.Column("company_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("client_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("code", sa.SmallInteger(), nullable=False, comment="SII type (TipoDTE); 0 = none"),
        sa.Column("number", sa.String(length=40), nullable=False, comment="Folio or number as given"),
        sa.Column(
            "number_sort",
            sa.BigInteger(),
            nullable=False,
            comment="Numeric value of number for ordering; 0 when not numeric",
        ),
        sa.Column("issue_date", sa.Date(), nullable=False),
        sa.Column("due_date", sa.Date(), nullable=False),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("net_cents", sa.BigInteger(), nullable=False),
        sa.Column("taxes_cents", sa.BigInteger(), nullable=False),
        sa.Column("total_cents", sa.BigInteger(), nullable=False),
        sa.Column("credit_cents", sa.BigInteger(), nullable=False),
        sa.Column("debit_cents", sa.BigInteger(), nullable=False),
        sa.Column("paid_cents", sa.BigInteger(), nullable=False),
        sa.Column("paid_date", sa.Date(), nullable=True),
        sa.Column("due_cents", sa.BigInteger(), nullable=False),
        sa.Column("voided", sa.Boolean(), nullable=False),
        sa.Column("state", sa.SmallInteger(), nullable=False),
        sa.Column("purchase_order", sa.String(length=255), nullable=False),
        sa.Column("gloss", sa.String(length=255), nullable=False),
        sa.Column("notes", sa.Text(), nullable=False),
        sa.Column(
            "send_requested",
            sa.Boolean(),
            nullable=False,
            comment="The creator asked for the new-document reminder (send=1)",
        ),
        sa.Column("portal_key", sa.String(length=43), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["client_id"], ["clients.id"], name=op.f("fk_documents_client_id_clients"), ondelete="RESTRICT"
        ),
        sa.ForeignKeyConstraint(
            ["company_id"],
            ["companies.id"],
            name=op.f("fk_documents_company_id_companies"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_documents")),
        sa.UniqueConstraint("company_id", "code", "number", name=op.f("uq_documents_company_id_code_number")),
    )
    with op.batch_alter_table("documents", schema=None) as batch_op:
        batch_op.create_index("ix_documents_client_id", ["client_id"], unique=False)
        batch_op.create_index(
            "ix_documents_company_client_issue", ["company_id", "client_id", "issue_date", "id"], unique=False
        )
        batch_op.create_index(
            "ix_documents_company_code_issue", ["company_id", "code", "issue_date", "id"], unique=False
        )
        batch_op.create_index(
            "ix_documents_company_created", ["company_id", "created_at", "id"], unique=False
        )
        batch_op.create_index(
            "ix_documents_company_currency_issue",
            ["company_id", "currency", "issue_date", "id"],
            unique=False,
        )
        batch_op.create_index("ix_documents_company_due", ["company_id", "due_date", "id"], unique=False)
        batch_op.create_index("ix_documents_company_issue", ["company_id", "issue_date", "id"], unique=False)
        batch_op.create_index("ix_documents_company_number", ["company_id", "number"], unique=False)
        batch_op.create_index(
            "ix_documents_company_number_sort", ["company_id", "number_sort", "id"], unique=False
        )
        batch_op.create_index(
            "ix_documents_company_state_due", ["company_id", "state", "due_date"], unique=False
        )
        batch_op.create_index(
            "ix_documents_company_state_issue", ["company_id", "state", "issue_date", "id"], unique=False
        )
        batch_op.create_index("ix_documents_company_total", ["company_id", "total_cents", "id"], unique=False)

    op.create_table(
        "document_sources",
        sa.Column("document_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.Column("content", sa.LargeBinary(), nullable=False),
        sa.ForeignKeyConstraint(
            ["document_id"],
            ["documents.id"],
            name=op.f("fk_document_sources_document_id_documents"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("document_id", name=op.f("pk_document_sources")),
    )
    op.create_table(
        "document_tags",
        sa.Column("document_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("tag_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.ForeignKeyConstraint(
            ["document_id"],
            ["documents.id"],
            name=op.f("fk_document_tags_document_id_documents"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["tag_id"], ["tags.id"], name=op.f("fk_document_tags_tag_id_tags"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("document_id", "tag_id", name=op.f("pk_document_tags")),
    )
    with op.batch_alter_table("document_tags", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_document_tags_tag_id"), ["tag_id"], unique=False)

    op.create_table(
        "files",
        sa.Column(
            "id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), autoincrement=True, nullable=False
        ),
        sa.Column("company_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("document_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("name", sa.String(length=255), nullable=False),
        sa.Column("mime_type", sa.String(length=127), nullable=False),
        sa.Column("size", sa.Integer(), nullable=False),
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.Column("content", sa.LargeBinary(), nullable=True),
        sa.Column("download_key", sa.String(length=43), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["company_id"], ["companies.id"], name=op.f("fk_files_company_id_companies"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["document_id"], ["documents.id"], name=op.f("fk_files_document_id_documents"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_files")),
    )
    with op.batch_alter_table("files", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_files_document_id"), ["document_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("files", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_files_document_id"))

    op.drop_table("files")
    with op.batch_alter_table("document_tags", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_document_tags_tag_id"))

    op.drop_table("document_tags")
    op.drop_table("document_sources")
    with op.batch_alter_table("documents", schema=None) as batch_op:
        batch_op.drop_index("ix_documents_company_total")
        batch_op.drop_index("ix_documents_company_state_issue")
        batch_op.drop_index("ix_documents_company_state_due")
        batch_op.drop_index("ix_documents_company_number_sort")
        batch_op.drop_index("ix_documents_company_number")
        batch_op.drop_index("ix_documents_company_issue")
        batch_op.drop_index("ix_documents_company_due")
        batch_op.drop_index("ix_documents_company_currency_issue")
        batch_op.drop_index("ix_documents_company_created")
        batch_op.drop_index("ix_documents_company_code_issue")
        batch_op.drop_index("ix_documents_company_client_issue")
        batch_op.drop_index("ix_documents_client_id")

    op.drop_table("documents")
    with op.batch_alter_table("contacts", schema=None) as batch_op:
        batch_op.drop_index("ix_contacts_company_id_client_id")
        batch_op.drop_index(batch_op.f("ix_contacts_client_id"))

    op.drop_table("contacts")
    op.drop_table("tags")
    op.drop_table("clients")
    with op.batch_alter_table("api_tokens", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_api_tokens_company_id"))

    op.drop_table("api_tokens")
    op.drop_table("companies")
