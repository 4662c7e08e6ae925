"""``dtehub audit prune``: the operator's way to drop old audit events (the API never deletes them)."""

from __future__ import annotations

import json
import sys
from datetime import datetime, time
from typing import Annotated

import typer

from dtehub.audit import service
from dtehub.commands import CommandGroup, open_database
from dtehub.companies import service as companies_service
from dtehub.config import get_settings
from dtehub.db import create_sessionmaker, unit_of_work
from dtehub.kit.dates import SANTIAGO

audit_app = typer.Typer(help="The audit log of changes.", no_args_is_help=True, cls=CommandGroup)


@audit_app.command("prune")
def prune(
    before: Annotated[
        datetime, typer.Option(formats=["%Y-%m-%d"], help="Delete the events before this Santiago day.")
    ],
    company: Annotated[str | None, typer.Option(help="Only this company's events (its RUT).")] = None,
) -> None:
    """Delete audit events older than a day, of every company or of one; prints {"deleted": N}.
    Events are kept forever otherwise."""
    engine = open_database(get_settings())
    try:
        with unit_of_work(create_sessionmaker(engine)) as session:
            company_id = companies_service.company_by_rut(session, company).id if company else None
            deleted = service.prune(session, datetime.combine(before.date(), time(), SANTIAGO), company_id)
    finally:
        engine.dispose()
    sys.stdout.write(json.dumps({"deleted": deleted}) + "\n")
