"""open_balances, client_balances, issued_totals, collected_days: the dashboard's kept sums

The web app's dashboard and portfolio read these summaries instead of adding up open documents and a
year of payments on each request. Database triggers keep them exact whatever writes ``documents`` or
``payments`` (the API, imports, the ledger, notes, deletes, held documents, the SII sync, a bulk UPDATE),
as ``document_counts`` and ``document_totals`` are kept (0001, 0008).

History (a document synced from SII and issued before the company's ``collectionsStartDate``,
``dtehub.documents.history``) is derived when read, never stored: the summaries of documents keep, for a
document synced from SII, its issue date (``sii_issue_date``; 9999-12-31 for any other source, which is
never history), so a reader leaves history out with ``sii_issue_date >= collections start`` whatever the
company's date is now, and a change of that date changes no summary row.

Revision ID: 0027_receivable_summaries
Revises: 0026_open_documents_index
Create Date: 2026-12-07
"""

from collections.abc import Sequence
from dataclasses import dataclass

import sqlalchemy as sa
from alembic import op

revision: str = "0027_receivable_summaries"
down_revision: str | None = "0026_open_documents_index"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
NOT_SYNCED = "9999-12-31"
"""``sii_issue_date`` of a document that did not come from the SII sync: no start date makes it history."""


@dataclass(frozen=True)
class _Summary:
    table: str
    source: str
    keys: tuple[tuple[str, str], ...]
    """(column, expression over the source row ``{r}``)."""
    count: str
    amount: tuple[str, str]
    """(column, expression) summed."""
    condition: str
    """Which source rows count (expression over ``{r}``)."""
    watched: tuple[str, ...]
    """The source's columns the keys, the amount and the condition read: an UPDATE of others changes
    nothing here."""

    def key_columns(self) -> str:
        return ", ".join(name for name, _ in self.keys)

    def key_values(self, row: str) -> str:
        return ", ".join(expression.format(r=row) for _, expression in self.keys)

    def key_match(self, summary: str, row: str) -> str:
        return " AND ".join(f"{summary}{name} = {expression.format(r=row)}" for name, expression in self.keys)

    def named_values(self) -> str:
        """The keys of the row in scope, each under its summary column's name."""
        return ", ".join(f"{expression.format(r='')} AS {name}" for name, expression in self.keys)

    def where(self, row: str) -> str:
        return self.condition.format(r=row)


def _sii_issue_date(date_literal: str) -> str:
    return f"CASE WHEN {{r}}source = 'sii' THEN {{r}}issue_date ELSE {date_literal} END"


def _summaries(postgres: bool) -> list[_Summary]:
    not_synced = f"DATE '{NOT_SYNCED}'" if postgres else f"'{NOT_SYNCED}'"
    sii_issue = ("sii_issue_date", _sii_issue_date(not_synced))
    return [
        _Summary(
            "open_balances",
            "documents",
            (
                ("company_id", "{r}company_id"),
                ("currency", "{r}currency"),
                ("due_date", "{r}due_date"),
                sii_issue,
            ),
            "documents",
            ("due_cents", "{r}due_cents"),
            "{r}state = 0",  # DocumentState.OPEN
            ("company_id", "currency", "due_date", "source", "issue_date", "state", "due_cents"),
        ),
        _Summary(
            "client_balances",
            "documents",
            (
                ("company_id", "{r}company_id"),
                ("currency", "{r}currency"),
                ("client_id", "{r}client_id"),
                sii_issue,
            ),
            "documents",
            ("due_cents", "{r}due_cents"),
            "{r}state = 0",
            ("company_id", "currency", "client_id", "source", "issue_date", "state", "due_cents"),
        ),
        _Summary(
            "issued_totals",
            "documents",
            (
                ("company_id", "{r}company_id"),
                ("currency", "{r}currency"),
                ("issue_date", "{r}issue_date"),
                ("from_sii", "CASE WHEN {r}source = 'sii' THEN 1 ELSE 0 END"),
            ),
            "documents",
            ("total_cents", "{r}total_cents"),
            "{r}state IN (0, 1)",  # OPEN, SETTLED: not voided
            ("company_id", "currency", "issue_date", "source", "state", "total_cents"),
        ),
        _Summary(
            "collected_days",
            "payments",
            (("company_id", "{r}company_id"), ("currency", "{r}currency"), ("paid_on", "{r}paid_on")),
            "payments",
            ("amount_cents", "{r}amount_cents"),
            "{r}status = 1",  # PaymentStatus.RECONCILED
            ("company_id", "currency", "paid_on", "status", "amount_cents"),
        ),
    ]


# SQLite: row triggers. A group whose last document leaves is deleted, so the summaries hold only what is
# open (or sold, or collected) now, not every group there ever was.
def _sqlite_add(s: _Summary, row: str) -> str:
    amount = s.amount[0]
    return f"""
      INSERT INTO {s.table} ({s.key_columns()}, {s.count}, {amount})
      SELECT {s.key_values(row + ".")}, 1, {s.amount[1].format(r=row + ".")} WHERE {s.where(row + ".")}
      ON CONFLICT ({s.key_columns()}) DO UPDATE
      SET {s.count} = {s.count} + excluded.{s.count}, {amount} = {amount} + excluded.{amount};"""


def _sqlite_remove(s: _Summary, row: str) -> str:
    amount, match = s.amount[0], s.key_match("", row + ".")
    return f"""
      UPDATE {s.table} SET {s.count} = {s.count} - 1, {amount} = {amount} - {s.amount[1].format(r=row + ".")}
      WHERE {match} AND {s.where(row + ".")};
      DELETE FROM {s.table} WHERE {match} AND {s.count} = 0;"""


def _sqlite_triggers(s: _Summary) -> list[str]:
    return [
        f"CREATE TRIGGER {s.table}_insert AFTER INSERT ON {s.source} BEGIN{_sqlite_add(s, 'NEW')}\nEND",
        f"CREATE TRIGGER {s.table}_delete AFTER DELETE ON {s.source} BEGIN{_sqlite_remove(s, 'OLD')}\nEND",
        f"CREATE TRIGGER {s.table}_update AFTER UPDATE OF {', '.join(s.watched)} ON {s.source}"
        f" WHEN {s.where('OLD.')} OR {s.where('NEW.')} BEGIN"
        f"{_sqlite_remove(s, 'OLD')}{_sqlite_add(s, 'NEW')}\nEND",
    ]


# PostgreSQL: statement-level triggers with transition tables, as document_counts': one upsert of each
# group's net change per statement (a bulk load adds a few thousand rows, not a million), groups taken in
# key order against lock-order deadlocks; an UPDATE that changes nothing summed writes nothing.
def _pg_rows(s: _Summary, table: str, sign: str) -> str:
    return (
        f"SELECT {s.named_values()}, {sign}1 AS n, {sign}{s.amount[1].format(r='')} AS amount "
        f"FROM {table} WHERE {s.where('')}"
    )


def _pg_apply(s: _Summary, rows: str) -> str:
    keys, amount = s.key_columns(), s.amount[0]
    return f"""
    INSERT INTO {s.table} ({keys}, {s.count}, {amount})
    SELECT {keys}, sum(n), sum(amount) FROM ({rows}) AS changed
    GROUP BY {keys} HAVING sum(n) <> 0 OR sum(amount) <> 0 ORDER BY {keys}
    ON CONFLICT ({keys}) DO UPDATE SET {s.count} = {s.table}.{s.count} + EXCLUDED.{s.count},
      {amount} = {s.table}.{amount} + EXCLUDED.{amount};"""


def _pg_removal(s: _Summary) -> str:
    """Deleted rows only lower existing groups (an UPDATE: a company's cascading delete, which has already
    removed its summary rows, writes nothing back)."""
    keys, amount = s.key_columns(), s.amount[0]
    columns = [name for name, _ in s.keys]
    mine, theirs = (", ".join(f"{alias}.{name}" for name in columns) for alias in ("c", "g"))
    return f"""
    UPDATE {s.table} AS c SET {s.count} = c.{s.count} - g.n, {amount} = c.{amount} - g.amount
    FROM (SELECT {keys}, sum(n) AS n, sum(amount) AS amount FROM ({_pg_rows(s, "old_rows", "")}) AS gone
          GROUP BY {keys} ORDER BY {keys}) AS g
    WHERE ({mine}) = ({theirs});"""


def _pg_emptied(s: _Summary) -> str:
    columns = [name for name, _ in s.keys]
    mine, theirs = (", ".join(f"{alias}.{name}" for name in columns) for alias in ("c", "g"))
    return f"""
    DELETE FROM {s.table} AS c USING (SELECT DISTINCT {s.key_values("")} FROM old_rows) AS g({s.key_columns()})
    WHERE ({mine}) = ({theirs}) AND c.{s.count} = 0;"""


def _pg_changed(s: _Summary) -> str:
    """An UPDATE's net change, when it changed what this summary reads of a row it counts (before or
    after): an UPDATE of other columns only (a reminder sent, an SII state), or of rows it counts
    neither before nor after, costs one look at the statement's rows."""
    before, after = (", ".join(f"{alias}.{name}" for name in s.watched) for alias in ("o", "n"))
    counted = f"({s.where('o.')} OR {s.where('n.')})"
    return f"""
    IF EXISTS (SELECT 1 FROM old_rows AS o JOIN new_rows AS n ON n.id = o.id
               WHERE ({before}) IS DISTINCT FROM ({after}) AND {counted}) THEN
      {_pg_apply(s, _pg_rows(s, "new_rows", "") + " UNION ALL " + _pg_rows(s, "old_rows", "-"))}
      {_pg_emptied(s)}
    END IF;"""


def _pg_function(source: str, summaries: list[_Summary]) -> str:
    inserted = "".join(_pg_apply(s, _pg_rows(s, "new_rows", "")) for s in summaries)
    deleted = "".join(_pg_removal(s) + _pg_emptied(s) for s in summaries)
    updated = "".join(_pg_changed(s) for s in summaries)
    return f"""
CREATE FUNCTION dtehub_sum_{source}() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF TG_OP = 'INSERT' THEN {inserted}
  ELSIF TG_OP = 'DELETE' THEN {deleted}
  ELSE {updated}
  END IF;
  RETURN NULL;
END
$$
"""


def _pg_triggers(source: str) -> list[str]:
    function = f"dtehub_sum_{source}()"
    return [
        f"CREATE TRIGGER {source}_sums_insert AFTER INSERT ON {source} REFERENCING NEW TABLE AS new_rows "
        f"FOR EACH STATEMENT EXECUTE FUNCTION {function}",
        f"CREATE TRIGGER {source}_sums_delete AFTER DELETE ON {source} REFERENCING OLD TABLE AS old_rows "
        f"FOR EACH STATEMENT EXECUTE FUNCTION {function}",
        f"CREATE TRIGGER {source}_sums_update AFTER UPDATE ON {source} "
        "REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows "
        f"FOR EACH STATEMENT EXECUTE FUNCTION {function}",
    ]


def _create_table(name: str, keys: list[sa.Column[object]], count: str, amount: str) -> None:
    op.create_table(
        name,
        sa.Column("company_id", _ID, nullable=False),
        sa.Column("currency", sa.String(length=3), nullable=False),
        *keys,
        sa.Column(count, sa.BigInteger(), nullable=False),
        sa.Column(amount, sa.BigInteger(), nullable=False),
        sa.ForeignKeyConstraint(
            ["company_id"], ["companies.id"], name=op.f(f"fk_{name}_company_id_companies"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint(
            "company_id", "currency", *(column.name for column in keys), name=op.f(f"pk_{name}")
        ),
        sqlite_with_rowid=False,
    )


_SII_ISSUE_COMMENT = "Issue date of a document synced from SII (history before the start), else 9999-12-31"


def upgrade() -> None:
    postgres = op.get_bind().dialect.name == "postgresql"
    _create_table(
        "open_balances",
        [
            sa.Column("due_date", sa.Date(), nullable=False),
            sa.Column("sii_issue_date", sa.Date(), nullable=False, comment=_SII_ISSUE_COMMENT),
        ],
        "documents",
        "due_cents",
    )
    _create_table(
        "client_balances",
        [
            sa.Column("client_id", _ID, nullable=False),
            sa.Column("sii_issue_date", sa.Date(), nullable=False, comment=_SII_ISSUE_COMMENT),
        ],
        "documents",
        "due_cents",
    )
    _create_table(
        "issued_totals",
        [
            sa.Column("issue_date", sa.Date(), nullable=False),
            sa.Column("from_sii", sa.SmallInteger(), nullable=False, comment="1: synced from SII"),
        ],
        "documents",
        "total_cents",
    )
    _create_table(
        "collected_days", [sa.Column("paid_on", sa.Date(), nullable=False)], "payments", "amount_cents"
    )
    summaries = _summaries(postgres)
    if postgres:
        # Old processes may go on writing during the upgrade: none may commit between the backfill's
        # snapshot and the new triggers, or the summaries would miss it for good.
        op.execute("LOCK TABLE documents, payments IN SHARE ROW EXCLUSIVE MODE")
    for s in summaries:
        op.execute(
            f"INSERT INTO {s.table} ({s.key_columns()}, {s.count}, {s.amount[0]}) "
            f"SELECT {s.key_values('')}, count(*), sum({s.amount[1].format(r='')}) FROM {s.source} "
            f"WHERE {s.where('')} GROUP BY {s.key_values('')}"
        )
    if postgres:
        for source in ("documents", "payments"):
            op.execute(_pg_function(source, [s for s in summaries if s.source == source]))
            for statement in _pg_triggers(source):
                op.execute(statement)
    else:
        for s in summaries:
            for statement in _sqlite_triggers(s):
                op.execute(statement)


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        for source in ("documents", "payments"):
            for event in ("insert", "delete", "update"):
                op.execute(f"DROP TRIGGER IF EXISTS {source}_sums_{event} ON {source}")
            op.execute(f"DROP FUNCTION IF EXISTS dtehub_sum_{source}()")
    else:
        for s in _summaries(postgres=False):
            for event in ("insert", "delete", "update"):
                op.execute(f"DROP TRIGGER IF EXISTS {s.table}_{event}")
    for name in ("collected_days", "issued_totals", "client_balances", "open_balances"):
        op.drop_table(name)
