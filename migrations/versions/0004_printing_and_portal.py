"""printing and the portal: the company's SII resolution and office, its logo, a link key per note

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-22
"""

import secrets
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
# A SQLite table that batch mode rebuilds keeps AUTOINCREMENT (ids never reused) only when told.
_KEEP_AUTOINCREMENT = {"sqlite_autoincrement": True}


def upgrade() -> None:
    with op.batch_alter_table("companies", table_kwargs=_KEEP_AUTOINCREMENT) as batch_op:
        batch_op.add_column(
            sa.Column(
                "sii_resolution_number",
                sa.Integer(),
                nullable=True,
                comment="Número de la resolución de SII that authorized the company to issue DTEs",
            )
        )
        batch_op.add_column(
            sa.Column(
                "sii_resolution_date",
                sa.Date(),
                nullable=True,
                comment="Fecha of that resolution (its year prints under the timbre)",
            )
        )
        batch_op.add_column(
            sa.Column(
                "sii_office",
                sa.String(length=64),
                server_default="",
                nullable=False,
                comment="SII office (unidad) of the company, printed as S.I.I. - <office> under the red box",
            )
        )
    op.create_table(
        "company_logos",
        sa.Column("company_id", _ID, nullable=False),
        sa.Column("content", sa.LargeBinary(), nullable=False, comment="PNG"),
        sa.Column("width", sa.Integer(), nullable=False),
        sa.Column("height", sa.Integer(), nullable=False),
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["company_id"],
            ["companies.id"],
            name=op.f("fk_company_logos_company_id_companies"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("company_id", name=op.f("pk_company_logos")),
    )
    # Each existing note gets its own random key, as a new one would.
    with op.batch_alter_table("notes", table_kwargs=_KEEP_AUTOINCREMENT) as batch_op:
        batch_op.add_column(sa.Column("portal_key", sa.String(length=43), nullable=True))
    connection = op.get_bind()
    notes = sa.table("notes", sa.column("id", _ID), sa.column("portal_key", sa.String(43)))
    ids = [row.id for row in connection.execute(sa.select(notes.c.id))]
    for start in range(0, len(ids), 1000):
        connection.execute(
            notes.update()
            .where(notes.c.id == sa.bindparam("note_id"))
            .values(portal_key=sa.bindparam("key")),
            [{"note_id": note_id, "key": secrets.token_urlsafe(16)} for note_id in ids[start : start + 1000]],
        )
    with op.batch_alter_table("notes", table_kwargs=_KEEP_AUTOINCREMENT) as batch_op:
        batch_op.alter_column("portal_key", existing_type=sa.String(length=43), nullable=False)


def downgrade() -> None:
    with op.batch_alter_table("notes", table_kwargs=_KEEP_AUTOINCREMENT) as batch_op:
        batch_op.drop_column("portal_key")
    op.drop_table("company_logos")
    with op.batch_alter_table("companies", table_kwargs=_KEEP_AUTOINCREMENT) as batch_op:
        batch_op.drop_column("sii_office")
        batch_op.drop_column("sii_resolution_date")
        batch_op.drop_column("sii_resolution_number")
