"""users, memberships, user_sessions, user_links, sign_in_failures: the people of the web app;
companies.require_totp; audit_events.user_id

Revision ID: 0014_staff_users
Revises: 0013_sii_sync
Create Date: 2026-12-07
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0014_staff_users"
down_revision: str | None = "0013_sii_sync"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
_WHEN = sa.DateTime(timezone=True)


def _id() -> sa.Column[int]:
    return sa.Column("id", _ID, autoincrement=True, nullable=False)


def _fk(column: str, table: str, source: str) -> sa.ForeignKeyConstraint:
    return sa.ForeignKeyConstraint(
        [column], [f"{table}.id"], name=op.f(f"fk_{source}_{column}_{table}"), ondelete="CASCADE"
    )


def upgrade() -> None:
    op.create_table(
        "users",
        _id(),
        sa.Column("email", sa.String(length=254), nullable=False, comment="Lowercase"),
        sa.Column("name", sa.String(length=255), nullable=False),
        sa.Column("password_hash", sa.String(length=255), nullable=True, comment="argon2id"),
        sa.Column("password_changed_at", _WHEN, nullable=True),
        sa.Column(
            "totp_secret",
            sa.LargeBinary(),
            nullable=True,
            comment="Sealed with a key derived from DTEHUB_SECRET_KEY",
        ),
        sa.Column("totp_enabled_at", _WHEN, nullable=True),
        sa.Column("disabled_at", _WHEN, nullable=True),
        sa.Column("created_at", _WHEN, nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_users")),
        sa.UniqueConstraint("email", name=op.f("uq_users_email")),
        sqlite_autoincrement=True,
    )
    op.create_table(
        "memberships",
        sa.Column("user_id", _ID, nullable=False),
        sa.Column("company_id", _ID, nullable=False),
        sa.Column("role", sa.String(length=16), nullable=False, comment="owner, collector or viewer"),
        sa.Column("created_at", _WHEN, nullable=False),
        _fk("user_id", "users", "memberships"),
        _fk("company_id", "companies", "memberships"),
        sa.PrimaryKeyConstraint("user_id", "company_id", name=op.f("pk_memberships")),
    )
    op.create_index("ix_memberships_company_id", "memberships", ["company_id"], unique=False)
    op.create_table(
        "user_sessions",
        _id(),
        sa.Column("token_hash", sa.String(length=64), nullable=False),
        sa.Column("user_id", _ID, nullable=False),
        sa.Column("company_id", _ID, nullable=False, comment="The company being worked on"),
        sa.Column(
            "second_factor_at", _WHEN, nullable=True, comment="When the TOTP code was checked in this session"
        ),
        sa.Column("created_at", _WHEN, nullable=False),
        sa.Column("last_seen_at", _WHEN, nullable=False),
        _fk("user_id", "users", "user_sessions"),
        _fk("company_id", "companies", "user_sessions"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_user_sessions")),
        sa.UniqueConstraint("token_hash", name=op.f("uq_user_sessions_token_hash")),
        sqlite_autoincrement=True,
    )
    op.create_index("ix_user_sessions_user_id", "user_sessions", ["user_id"], unique=False)
    op.create_table(
        "user_links",
        _id(),
        sa.Column("token_hash", sa.String(length=64), nullable=False),
        sa.Column("user_id", _ID, nullable=False),
        sa.Column("purpose", sa.String(length=16), nullable=False, comment="password, reset or invite"),
        sa.Column("created_at", _WHEN, nullable=False),
        sa.Column("expires_at", _WHEN, nullable=False),
        sa.Column("used_at", _WHEN, nullable=True),
        _fk("user_id", "users", "user_links"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_user_links")),
        sa.UniqueConstraint("token_hash", name=op.f("uq_user_links_token_hash")),
        sqlite_autoincrement=True,
    )
    op.create_index("ix_user_links_user_id", "user_links", ["user_id"], unique=False)
    op.create_table(
        "sign_in_failures",
        _id(),
        sa.Column(
            "subject",
            sa.String(length=80),
            nullable=False,
            comment="account:<sha256 of the e-mail> or address:<ip>",
        ),
        sa.Column("failed_at", _WHEN, nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_sign_in_failures")),
        sqlite_autoincrement=True,
    )
    op.create_index("ix_sign_in_failures_subject", "sign_in_failures", ["subject", "failed_at"], unique=False)
    # Plain ADD COLUMNs: a batch copy of companies would cascade nothing, but keeps it simple and cheap.
    op.add_column(
        "companies",
        sa.Column(
            "require_totp",
            sa.Boolean(),
            server_default=sa.false(),
            nullable=False,
            comment="Members must sign in to the web app with a TOTP code as well",
        ),
    )
    op.add_column(
        "audit_events",
        sa.Column("user_id", sa.BigInteger(), nullable=True, comment="The signed-in user's id (web app)"),
    )


def downgrade() -> None:
    op.execute("ALTER TABLE audit_events DROP COLUMN user_id")
    op.execute("ALTER TABLE companies DROP COLUMN require_totp")
    for table in ("sign_in_failures", "user_links", "user_sessions", "memberships", "users"):
        op.drop_table(table)
