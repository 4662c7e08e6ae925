"""initial schema

Revision ID: 0001
Revises:
Create Date: 2026-11-22
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

_GROUP = "company_id, issue_date, created_on, code, currency, state"

# document_counts is kept exact by triggers, whatever writes documents (the API, imports, bulk loads).
_SQLITE_TRIGGERS = [
    f"""
    CREATE TRIGGER documents_count_insert AFTER INSERT ON documents BEGIN
      INSERT INTO document_counts ({_GROUP}, documents)
      VALUES (NEW.company_id, NEW.issue_date, NEW.created_on, NEW.code, NEW.currency, NEW.state, 1)
      ON CONFLICT ({_GROUP}) DO UPDATE SET documents = documents + 1;
    END
    """,
    """
    CREATE TRIGGER documents_count_delete AFTER DELETE ON documents BEGIN
      UPDATE document_counts SET documents = documents - 1
      WHERE company_id = OLD.company_id AND issue_date = OLD.issue_date AND created_on = OLD.created_on
        AND code = OLD.code AND currency = OLD.currency AND state = OLD.state;
    END
    """,
    f"""
    CREATE TRIGGER documents_count_update
    AFTER UPDATE OF company_id, issue_date, created_on, code, currency, state ON documents BEGIN
      UPDATE document_counts SET documents = documents - 1
      WHERE company_id = OLD.company_id AND issue_date = OLD.issue_date AND created_on = OLD.created_on
        AND code = OLD.code AND currency = OLD.currency AND state = OLD.state;
      INSERT INTO document_counts ({_GROUP}, documents)
      VALUES (NEW.company_id, NEW.issue_date, NEW.created_on, NEW.code, NEW.currency, NEW.state, 1)
      ON CONFLICT ({_GROUP}) DO UPDATE SET documents = documents + 1;
    END
    """,
]

# PostgreSQL: statement-level triggers with transition tables, so a bulk insert of a million rows adds
# one aggregated upsert rather than a million. Groups are taken in key order to avoid lock-order deadlocks.
_POSTGRES_FUNCTION = f"""
CREATE FUNCTION dtehub_count_documents() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF TG_OP IN ('DELETE', 'UPDATE') THEN
    UPDATE document_counts AS c SET documents = c.documents - g.n
    FROM (SELECT {_GROUP}, count(*) AS n FROM old_rows GROUP BY {_GROUP}) AS g
    WHERE (c.company_id, c.issue_date, c.created_on, c.code, c.currency, c.state)
        = (g.company_id, g.issue_date, g.created_on, g.code, g.currency, g.state);
  END IF;
  IF TG_OP IN ('INSERT', 'UPDATE') THEN
    INSERT INTO document_counts ({_GROUP}, documents)
    SELECT {_GROUP}, count(*) FROM new_rows GROUP BY {_GROUP} ORDER BY {_GROUP}
    ON CONFLICT ({_GROUP}) DO UPDATE SET documents = document_counts.documents + EXCLUDED.documents;
  END IF;
  RETURN NULL;
END
$$
"""
_POSTGRES_TRIGGERS = [
    "CREATE TRIGGER documents_count_insert AFTER INSERT ON documents REFERENCING NEW TABLE AS new_rows "
    "FOR EACH STATEMENT EXECUTE FUNCTION dtehub_count_documents()",
    "CREATE TRIGGER documents_count_delete AFTER DELETE ON documents REFERENCING OLD TABLE AS old_rows "
    "FOR EACH STATEMENT EXECUTE FUNCTION dtehub_count_documents()",
    "CREATE TRIGGER documents_count_update AFTER UPDATE ON documents "
    "REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows "
    "FOR EACH STATEMENT EXECUTE FUNCTION dtehub_count_documents()",
]


def _create_count_triggers() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute(_POSTGRES_FUNCTION)
        for statement in _POSTGRES_TRIGGERS:
            op.execute(statement)
    else:
        for statement in _SQLITE_TRIGGERS:
            op.execute(statement)


def _drop_count_triggers() -> None:
    postgres = op.get_bind().dialect.name == "postgresql"
    for name in ("documents_count_insert", "documents_count_delete", "documents_count_update"):
        op.execute(f"DROP TRIGGER IF EXISTS {name}" + (" ON documents" if postgres else ""))
    if postgres:
        op.execute("DROP FUNCTION IF EXISTS dtehub_count_documents()")


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
        sqlite_autoincrement=True,
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
        sqlite_autoincrement=True,
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
        sqlite_autoincrement=True,
    )
    op.create_table(
        "document_counts",
        sa.Column("company_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("issue_date", sa.Date(), nullable=False),
        sa.Column("created_on", sa.Date(), nullable=False),
        sa.Column("code", sa.SmallInteger(), nullable=False),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("state", sa.SmallInteger(), nullable=False),
        sa.Column("documents", sa.BigInteger(), nullable=False),
        sa.ForeignKeyConstraint(
            ["company_id"],
            ["companies.id"],
            name=op.f("fk_document_counts_company_id_companies"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint(
            "company_id",
            "issue_date",
            "created_on",
            "code",
            "currency",
            "state",
            name=op.f("pk_document_counts"),
        ),
        sqlite_with_rowid=False,
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
        sqlite_autoincrement=True,
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
        sqlite_autoincrement=True,
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
        sa.Column(
            "created_on",
            sa.Date(),
            nullable=False,
            comment="The Santiago calendar day of created_at (dateBy=2 filters)",
        ),
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
        sqlite_autoincrement=True,
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
            "ix_documents_company_created_on", ["company_id", "created_on", "id"], unique=False
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
        sa.Column("issue_date", sa.Date(), nullable=False),
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
        batch_op.create_index(
            "ix_document_tags_tag_issue", ["tag_id", "issue_date", "document_id"], unique=False
        )

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
        sqlite_autoincrement=True,
    )
    with op.batch_alter_table("files", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_files_document_id"), ["document_id"], unique=False)

    _create_count_triggers()


def downgrade() -> None:
    _drop_count_triggers()
    with op.batch_alter_table("files", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_files_document_id"))

    op.drop_table("files")
    with op.batch_alter_table("document_tags", schema=None) as batch_op:
        batch_op.drop_index("ix_document_tags_tag_issue")

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
        batch_op.drop_index("ix_documents_company_created_on")
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
    op.drop_table("document_counts")
    op.drop_table("clients")
    with op.batch_alter_table("api_tokens", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_api_tokens_company_id"))

    op.drop_table("api_tokens")
    op.drop_table("companies")
