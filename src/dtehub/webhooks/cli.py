"""``dtehub webhooks``: deliver what is due, and the daily overdue sweep (both cron-friendly)."""

from __future__ import annotations

import json
import sys
from datetime import datetime
from typing import Annotated

import typer

from dtehub.commands import CommandGroup, fail, open_database, usage_error
from dtehub.config import get_settings
from dtehub.db import create_sessionmaker
from dtehub.portal.links import Links
from dtehub.webhooks import jobs
from dtehub.webhooks.delivery import deliver_due
from dtehub.webhooks.signing import MIN_KEY_CHARS, secret_box

webhooks_app = typer.Typer(help="Webhook deliveries.", no_args_is_help=True, cls=CommandGroup)


@webhooks_app.command("deliver")
def deliver() -> None:
    """Deliver every webhook delivery that is due now (the server does it every few seconds)."""
    settings = get_settings()
    if secret_box(settings) is None:
        fail(f"set DTEHUB_SECRET_KEY (at least {MIN_KEY_CHARS} characters) to deliver")
    engine = open_database(settings, pool_size=2)
    try:
        summary = deliver_due(create_sessionmaker(engine), settings)
    finally:
        engine.dispose()
    sys.stdout.write(json.dumps(summary.__dict__) + "\n")


@webhooks_app.command("sweep")
def sweep(
    date: Annotated[
        str | None, typer.Option("--date", help="The Santiago day to sweep, YYYY-MM-DD (default: today).")
    ] = None,
) -> None:
    """Record document.updated for each open document that became overdue (once per document and day)
    and each factura that became tacitly accepted at SII (once per document)."""
    try:
        day = datetime.strptime(date, "%Y-%m-%d").date() if date else None
    except ValueError:
        usage_error("--date must be YYYY-MM-DD")
    settings = get_settings()
    engine = open_database(settings)
    try:
        recorded = jobs.run_sweep(create_sessionmaker(engine), Links(settings.public_base), day)
    finally:
        engine.dispose()
    sys.stdout.write(json.dumps({"recorded": recorded}) + "\n")
