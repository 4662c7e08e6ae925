"""webhook_events: the document a document.* event is about, indexed by company (a document's timeline)

Revision ID: 0021_webhook_events_document
Revises: 0020_held_documents
Create Date: 2026-12-07
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0021_webhook_events_document"
down_revision: str | None = "0020_held_documents"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column(
        "webhook_events",
        sa.Column(
            "document_id",
            sa.BigInteger(),
            nullable=True,
            comment="The document a document.* event is about (its page's timeline)",
        ),
    )
    # The events recorded so far: their data is the document as the API showed it, with its id.
    if op.get_bind().dialect.name == "postgresql":
        document_id = "CAST(CAST(data AS json) ->> 'id' AS BIGINT)"
    else:
        document_id = "CAST(json_extract(data, '$.id') AS INTEGER)"
    op.execute(f"UPDATE webhook_events SET document_id = {document_id} WHERE type LIKE 'document.%'")
    op.create_index(
        "ix_webhook_events_company_document",
        "webhook_events",
        ["company_id", "document_id", "id"],
        unique=False,
    )


def downgrade() -> None:
    op.drop_index("ix_webhook_events_company_document", table_name="webhook_events")
    with op.batch_alter_table("webhook_events") as batch:
        batch.drop_column("document_id")
