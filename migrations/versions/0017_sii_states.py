"""documents and notes: what SII's Registro de Ventas says of each (reception, acuse, claim, receiver event)

Revision ID: 0017_sii_states
Revises: 0016_sii_sync_periods
Create Date: 2026-12-07
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0017_sii_states"
down_revision: str | None = "0016_sii_sync_periods"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_COLUMNS = (
    ("sii_received_at", sa.DateTime(timezone=True), "When SII received it (the register's detFecRecepcion)"),
    ("sii_accepted_at", sa.DateTime(timezone=True), "The customer's acuse de recibo (detFecAcuse)"),
    ("sii_claimed_at", sa.DateTime(timezone=True), "The customer's claim (detFecReclamado)"),
    ("sii_event_code", sa.String(length=3), "The receiver's event (detEventoReceptor): A, C, P, R"),
    ("sii_event_description", sa.String(length=120), "Its legend (detEventoReceptorLeyenda)"),
    ("sii_synced_at", sa.DateTime(timezone=True), "When a sync last read it in SII's register; null: never"),
)


def upgrade() -> None:
    for table in ("documents", "notes"):
        for name, kind, comment in _COLUMNS:
            op.add_column(table, sa.Column(name, kind, nullable=True, comment=comment))


def downgrade() -> None:
    for table in ("notes", "documents"):
        for name, _, _ in reversed(_COLUMNS):
            op.execute(f"ALTER TABLE {table} DROP COLUMN {name}")
