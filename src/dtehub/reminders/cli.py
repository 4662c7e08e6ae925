"""``dtehub reminders run``: send the reminders due on a Santiago day (for cron)."""

from __future__ import annotations

import sys
from datetime import datetime
from typing import Annotated

import typer

from dtehub.commands import CommandGroup, fail, open_database
from dtehub.companies import service as companies_service
from dtehub.config import get_settings
from dtehub.db import create_sessionmaker, unit_of_work
from dtehub.mail.transport import InvalidSmtpUrl
from dtehub.reminders import service

reminders_app = typer.Typer(help="Reminders by e-mail.", no_args_is_help=True, cls=CommandGroup)


@reminders_app.command("run")
def run(
    date: Annotated[
        datetime | None,
        typer.Option(formats=["%Y-%m-%d"], help="The Santiago day to send for, YYYY-MM-DD (default: today)."),
    ] = None,
    company: Annotated[str | None, typer.Option(help="Only this company (its RUT).")] = None,
) -> None:
    """Queue the reminders due on the day and send the outbox: SMTP (DTEHUB_SMTP_URL) or .eml files
    (DTEHUB_MAIL_FOLDER). Running it again the same day sends nothing twice; sends that failed are
    retried by later runs. Exit 0 even when some sends failed (they are retried); 1 when the command
    itself could not work (database, settings)."""
    settings = get_settings()
    engine = open_database(settings, pool_size=2)
    try:
        factory = create_sessionmaker(engine)
        company_id = None
        if company is not None:
            with unit_of_work(factory) as session:
                company_id = companies_service.company_by_rut(session, company).id
        transport = service.make_transport(settings)
        summary = service.run(factory, settings, day=date.date() if date else None, transport=transport,
                              company_id=company_id)  # fmt: skip
        transport.close()
    except InvalidSmtpUrl as exc:
        fail(str(exc))
    finally:
        engine.dispose()
    sys.stdout.write(summary.line() + "\n")
    sys.stdout.flush()
