"""claimed_balances: the open documents the customer claimed at SII, kept for the dashboard

The web app's dashboard and portfolio show what is open and claimed at SII (a claim date, or SII's
receiver event ``R``: ``dtehub.documents.sii_states``) from this summary instead of scanning documents.
Only the recorded claim is kept: it does not depend on the day (a tacit acceptance after 8 days does, and
is not kept). Database triggers on ``documents`` keep it exact whatever writes them (the SII sync that
records a claim, a payment that settles a claimed document, a delete, a void), with 0027's machinery:
SQLite row triggers that skip an UPDATE of other columns, PostgreSQL statement triggers with transition
tables. ``sii_issue_date`` as in ``open_balances``: history is left out when read.

Revision ID: 0028_claimed_balances
Revises: 0027_receivable_summaries
Create Date: 2026-12-07
"""

import importlib.util
from collections.abc import Sequence
from pathlib import Path
from types import ModuleType
from typing import Any

import sqlalchemy as sa
from alembic import op

revision: str = "0028_claimed_balances"
down_revision: str | None = "0027_receivable_summaries"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
_FUNCTION = "dtehub_sum_claimed_documents"
_PG_TRIGGER = "documents_claims"
_SII_ISSUE_COMMENT = "Issue date of a document synced from SII (history before the start), else 9999-12-31"


def _summaries_0027() -> ModuleType:
    """0027's summary machinery (its triggers' SQL), one file away: both migrations write the same way."""
    path = Path(__file__).with_name("0027_receivable_summaries.py")
    spec = importlib.util.spec_from_file_location("dtehub_migration_0027", path)
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _summary(m: ModuleType, postgres: bool) -> Any:
    not_synced = f"DATE '{m.NOT_SYNCED}'" if postgres else f"'{m.NOT_SYNCED}'"
    return m._Summary(
        "claimed_balances",
        "documents",
        (
            ("company_id", "{r}company_id"),
            ("currency", "{r}currency"),
            ("sii_issue_date", m._sii_issue_date(not_synced)),
        ),
        "documents",
        ("due_cents", "{r}due_cents"),
        # Open (DocumentState.OPEN), found at SII by a sync, and claimed: sii_states.state_of's CLAIMED
        # without the day it is read.
        "({r}state = 0 AND {r}sii_synced_at IS NOT NULL"
        " AND ({r}sii_claimed_at IS NOT NULL OR COALESCE({r}sii_event_code, '') = 'R'))",
        (
            "company_id",
            "currency",
            "source",
            "issue_date",
            "state",
            "due_cents",
            "sii_synced_at",
            "sii_claimed_at",
            "sii_event_code",
        ),
    )


def _pg_function(m: ModuleType, s: Any) -> str:
    return f"""
CREATE FUNCTION {_FUNCTION}() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF TG_OP = 'INSERT' THEN {m._pg_apply(s, m._pg_rows(s, "new_rows", ""))}
  ELSIF TG_OP = 'DELETE' THEN {m._pg_removal(s)}{m._pg_emptied(s)}
  ELSE {m._pg_changed(s)}
  END IF;
  RETURN NULL;
END
$$
"""


def _pg_triggers() -> list[str]:
    function = f"{_FUNCTION}()"
    return [
        f"CREATE TRIGGER {_PG_TRIGGER}_insert AFTER INSERT ON documents REFERENCING NEW TABLE AS new_rows "
        f"FOR EACH STATEMENT EXECUTE FUNCTION {function}",
        f"CREATE TRIGGER {_PG_TRIGGER}_delete AFTER DELETE ON documents REFERENCING OLD TABLE AS old_rows "
        f"FOR EACH STATEMENT EXECUTE FUNCTION {function}",
        f"CREATE TRIGGER {_PG_TRIGGER}_update AFTER UPDATE ON documents "
        "REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows "
        f"FOR EACH STATEMENT EXECUTE FUNCTION {function}",
    ]


def upgrade() -> None:
    postgres = op.get_bind().dialect.name == "postgresql"
    m = _summaries_0027()
    op.create_table(
        "claimed_balances",
        sa.Column("company_id", _ID, nullable=False),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("sii_issue_date", sa.Date(), nullable=False, comment=_SII_ISSUE_COMMENT),
        sa.Column("documents", sa.BigInteger(), nullable=False),
        sa.Column("due_cents", sa.BigInteger(), nullable=False),
        sa.ForeignKeyConstraint(
            ["company_id"],
            ["companies.id"],
            name=op.f("fk_claimed_balances_company_id_companies"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("company_id", "currency", "sii_issue_date", name=op.f("pk_claimed_balances")),
        sqlite_with_rowid=False,
    )
    s = _summary(m, postgres)
    if postgres:
        # No write may commit between the backfill's snapshot and the new triggers (as in 0027).
        op.execute("LOCK TABLE documents IN SHARE ROW EXCLUSIVE MODE")
    op.execute(
        f"INSERT INTO claimed_balances (company_id, currency, sii_issue_date, documents, due_cents) "
        f"SELECT {s.key_values('')}, count(*), sum(due_cents) FROM documents "
        f"WHERE {s.where('')} GROUP BY {s.key_values('')}"
    )
    if postgres:
        op.execute(_pg_function(m, s))
        for statement in _pg_triggers():
            op.execute(statement)
    else:
        for statement in m._sqlite_triggers(s):
            op.execute(statement)


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        for event in ("insert", "delete", "update"):
            op.execute(f"DROP TRIGGER IF EXISTS {_PG_TRIGGER}_{event} ON documents")
        op.execute(f"DROP FUNCTION IF EXISTS {_FUNCTION}()")
    else:
        for event in ("insert", "delete", "update"):
            op.execute(f"DROP TRIGGER IF EXISTS claimed_balances_{event}")
    op.drop_table("claimed_balances")
