"""document_totals: document counts per company, code, currency and state, whatever the dates

Revision ID: 0008
Revises: 0007
Create Date: 2026-11-22
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0008"
down_revision: str | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
_DAYS = "company_id, issue_date, created_on, code, currency, state"
_TOTALS = "company_id, code, currency, state"

# SQLite: row triggers beside document_counts' (SQLite writes one transaction at a time, so their order
# does not matter).
_SQLITE_TRIGGERS = [
    f"""
    CREATE TRIGGER documents_total_insert AFTER INSERT ON documents BEGIN
      INSERT INTO document_totals ({_TOTALS}, documents)
      VALUES (NEW.company_id, NEW.code, NEW.currency, NEW.state, 1)
      ON CONFLICT ({_TOTALS}) DO UPDATE SET documents = documents + 1;
    END
    """,
    """
    CREATE TRIGGER documents_total_delete AFTER DELETE ON documents BEGIN
      UPDATE document_totals SET documents = documents - 1
      WHERE company_id = OLD.company_id AND code = OLD.code AND currency = OLD.currency AND state = OLD.state;
    END
    """,
    f"""
    CREATE TRIGGER documents_total_update AFTER UPDATE OF company_id, code, currency, state ON documents
    BEGIN
      UPDATE document_totals SET documents = documents - 1
      WHERE company_id = OLD.company_id AND code = OLD.code AND currency = OLD.currency AND state = OLD.state;
      INSERT INTO document_totals ({_TOTALS}, documents)
      VALUES (NEW.company_id, NEW.code, NEW.currency, NEW.state, 1)
      ON CONFLICT ({_TOTALS}) DO UPDATE SET documents = documents + 1;
    END
    """,
]


def _net_change(table: str, group: str, rows: str) -> str:
    """One upsert of a statement's net change per group: a row that kept its group (an UPDATE of amounts
    only) changes nothing and locks nothing; groups are taken in key order against lock-order deadlocks."""
    return f"""
    INSERT INTO {table} ({group}, documents)
    SELECT {group}, sum(n) FROM ({rows.format(group=group)}) AS changed
    GROUP BY {group} HAVING sum(n) <> 0 ORDER BY {group}
    ON CONFLICT ({group}) DO UPDATE SET documents = {table}.documents + EXCLUDED.documents;"""


def _removal(table: str, group: str) -> str:
    """Deleted rows only lower existing groups: an UPDATE, so a company's cascading delete, which has
    already removed its summary rows, writes nothing back."""
    columns = group.split(", ")
    summary, changed = (", ".join(f"{alias}.{column}" for column in columns) for alias in ("c", "g"))
    return f"""
    UPDATE {table} AS c SET documents = c.documents - g.n
    FROM (SELECT {group}, count(*) AS n FROM old_rows GROUP BY {group}) AS g
    WHERE ({summary}) = ({changed});"""


# A statement's rows as (group, +1 or -1); a transition table exists only for the statements that have it.
_INSERTED = "SELECT {group}, 1 AS n FROM new_rows"
_UPDATED = "SELECT {group}, 1 AS n FROM new_rows UNION ALL SELECT {group}, -1 FROM old_rows"


def _postgres_function(with_totals: bool) -> str:
    def changes(rows: str) -> str:
        # The totals are locked before the day rows, so every writer takes a company's rows in one order.
        totals = _net_change("document_totals", _TOTALS, rows) if with_totals else ""
        return totals + _net_change("document_counts", _DAYS, rows)

    removal = (_removal("document_totals", _TOTALS) if with_totals else "") + _removal(
        "document_counts", _DAYS
    )

    return f"""
CREATE OR REPLACE FUNCTION dtehub_count_documents() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF TG_OP = 'INSERT' THEN {changes(_INSERTED)}
  ELSIF TG_OP = 'DELETE' THEN {removal}
  ELSE {changes(_UPDATED)}
  END IF;
  RETURN NULL;
END
$$
"""


def upgrade() -> None:
    op.create_table(
        "document_totals",
        sa.Column("company_id", _ID, nullable=False),
        sa.Column("code", sa.SmallInteger(), nullable=False),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("state", sa.SmallInteger(), nullable=False),
        sa.Column("documents", sa.BigInteger(), nullable=False),
        sa.ForeignKeyConstraint(
            ["company_id"],
            ["companies.id"],
            name=op.f("fk_document_totals_company_id_companies"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("company_id", "code", "currency", "state", name=op.f("pk_document_totals")),
        sqlite_with_rowid=False,
    )
    if op.get_bind().dialect.name == "postgresql":
        # Old processes may go on writing documents during the upgrade: none may commit between the
        # backfill's snapshot and the new trigger, or the totals would miss it for good.
        op.execute("LOCK TABLE documents IN SHARE ROW EXCLUSIVE MODE")
    op.execute(
        f"INSERT INTO document_totals ({_TOTALS}, documents) "
        f"SELECT {_TOTALS}, sum(documents) FROM document_counts GROUP BY {_TOTALS}"
    )
    if op.get_bind().dialect.name == "postgresql":
        op.execute(_postgres_function(with_totals=True))
    else:
        for statement in _SQLITE_TRIGGERS:
            op.execute(statement)


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute(_postgres_function(with_totals=False))
    else:
        for name in ("documents_total_insert", "documents_total_delete", "documents_total_update"):
            op.execute(f"DROP TRIGGER IF EXISTS {name}")
    op.drop_table("document_totals")
