"""``dtehub sii sync``: sync a company's documents with SII's Registro de Ventas now, from the shell.

A progress bar (periods done of total, documents, documents a second, time left) on a terminal; the run
as ``getSiiSyncRun`` shows it, one JSON object on stdout, at the end. The exit status is 0 when the run
is done, 1 when it failed, 3 when another run of the company is under way, 130 when interrupted (the
run gives its lease back: the same command resumes it). The certificate is the company's stored one, or
``--pfx`` (its password from ``DTEHUB_PFX_PASSWORD`` or a hidden prompt, never an argument).
"""

from __future__ import annotations

import asyncio
import os
import signal
import sys
from pathlib import Path
from types import FrameType
from typing import Annotated

import typer
from rich.console import Console
from rich.markup import escape
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    ProgressColumn,
    Task,
    TextColumn,
    TimeRemainingColumn,
)
from rich.text import Text
from sqlalchemy.orm import Session, sessionmaker

from dtehub.audit import service as audit
from dtehub.audit.actions import Action
from dtehub.commands import CommandGroup, fail, open_database, usage_error
from dtehub.companies import service as companies_service
from dtehub.config import Settings, get_settings
from dtehub.db import BULK_STATEMENT_CACHE, create_sessionmaker, unit_of_work
from dtehub.errors import DtehubError
from dtehub.errors_cli import FAILURE, USAGE
from dtehub.kit.dates import utcnow
from dtehub.models import Actor, SiiSyncRun
from dtehub.portal.links import Links
from dtehub.sii.certificate import PersonCertificate, load_pfx
from dtehub.sii.sessions import SessionPool
from dtehub.sii_sync.errors import SyncAlreadyRunning
from dtehub.sii_sync.executor import RunContext, SyncExecutor
from dtehub.sii_sync.runs import Trigger
from dtehub.sii_sync.schemas import SiiSyncRunOut
from dtehub.sii_sync.service import request_run
from dtehub.sii_sync.source import CertificateOf, rcv_sources, stored_certificates

sii_app = typer.Typer(
    help="SII: the company's documents kept current from SII.", no_args_is_help=True, cls=CommandGroup
)
err = Console(stderr=True, soft_wrap=True)  # an error is one line, however narrow the terminal
_ARGUMENTS = {"company", "since", "until"}
PASSWORD_VARIABLE = "DTEHUB_PFX_PASSWORD"  # noqa: S105 (the name of the variable, not a password)


class _Rate(ProgressColumn):
    def render(self, task: Task) -> Text:
        elapsed = task.elapsed or 0
        documents = int(task.fields.get("documents", 0))
        rate = f"{documents / elapsed:,.0f} documents/s" if elapsed > 0 and documents else "- documents/s"
        return Text(rate, style="progress.data.speed")


def _certificate_from(pfx: Path) -> CertificateOf:
    try:
        content = pfx.read_bytes()
    except OSError as error:
        usage_error(f"cannot read {pfx}: {error.strerror}")
    password = os.environ.get(PASSWORD_VARIABLE)
    if password is None:
        password = typer.prompt("Certificate password", hide_input=True, err=True)
    try:
        certificate = load_pfx(content, password)
    except DtehubError as error:  # a wrong password or a damaged file: refused, as companies certificate
        fail(error.message)

    async def certificate_of(_: RunContext) -> PersonCertificate:
        return certificate

    return certificate_of


def _interrupted(_signum: int, _frame: FrameType | None) -> None:
    raise KeyboardInterrupt


_SINCE = (
    "First tax period, YYYY-MM (default: the company's siiSyncFrom, else 12 months back, leaving out "
    "the settled months read less than a day ago; with --since or --until every month asked is read)."
)
_PFX = "A person's certificate (.pfx) to use instead of the company's stored one."


@sii_app.command("sync")
def sync(
    company: Annotated[str, typer.Option(help="RUT of the company, e.g. 76399752-9.")],
    since: Annotated[str | None, typer.Option(help=_SINCE)] = None,
    until: Annotated[str | None, typer.Option(help="Last tax period, YYYY-MM (default: this month).")] = None,
    pfx: Annotated[Path | None, typer.Option(help=_PFX, dir_okay=False)] = None,
) -> None:
    """Sync the company's documents with SII's Registro de Ventas now, and show the run."""
    settings = get_settings()
    # A bulk writer, as dtehub import; its one-off statements are not worth keeping prepared.
    engine = open_database(settings, pool_size=2, mapped=False, statement_cache=BULK_STATEMENT_CACHE)
    factory = create_sessionmaker(engine)
    certificate_of = _certificate_from(pfx) if pfx is not None else stored_certificates(factory, settings)
    previous = signal.signal(signal.SIGTERM, _interrupted)
    try:
        run = asyncio.run(_sync(settings, factory, certificate_of, pfx is None, company, since, until))
    except KeyboardInterrupt:
        err.print("interrupted: every period reported done is stored; run the same command again to continue")
        raise typer.Exit(130) from None
    except SyncAlreadyRunning as busy:
        err.print(f"[yellow]{escape(busy.message)}[/yellow]", soft_wrap=True)
        raise typer.Exit(3) from None
    except DtehubError as error:
        # What the command line named (the company, a period) is a usage error, as for dtehub import;
        # anything else (no certificate, SII refused) is a refusal.
        fail(error.message, USAGE if error.field in _ARGUMENTS else FAILURE)
    finally:
        signal.signal(signal.SIGTERM, previous)
        engine.dispose()
    shown = SiiSyncRunOut.of(run, None, utcnow())
    _print_summary(shown)
    sys.stdout.write(shown.model_dump_json(by_alias=True) + "\n")
    sys.stdout.flush()
    raise typer.Exit(0 if run.state == "done" else 1)


async def _sync(
    settings: Settings,
    sessions: sessionmaker[Session],
    certificate_of: CertificateOf,
    stored: bool,
    company: str,
    since: str | None,
    until: str | None,
) -> SiiSyncRun:
    pool = SessionPool(settings.sii_config())
    links = Links(settings.public_base)
    executor = SyncExecutor(
        sessions,
        rcv_sources(sessions, pool, settings.sii_config(), certificate_of, links),
        lease_seconds=settings.sii_sync_lease_seconds,
    )
    try:
        with unit_of_work(sessions) as session:
            company_id = companies_service.company_by_rut(session, company).id
            run, _ = request_run(
                session, executor, company_id, since=since, until=until, trigger=Trigger.CLI,
                stored_certificate=stored,
            )  # fmt: skip
            audit.record(
                session, company_id, actor=Actor.CLI, action=Action.SII_SYNC, object_type="siiSyncRun",
                object_id=run.id, summary={"since": run.since, "until": run.until},
            )  # fmt: skip
            run_id, total, done = run.id, len(run.periods), len(run.periods_done)
        progress = (
            Progress(
                TextColumn("syncing {task.fields[period]}"),
                BarColumn(),
                MofNCompleteColumn(),
                TextColumn("periods · {task.fields[documents]:,} documents"),
                _Rate(),
                TimeRemainingColumn(),
                console=err,
            )
            if err.is_terminal
            else None
        )
        task = None
        if progress is not None:
            progress.start()
            task = progress.add_task("sync", total=total, completed=done, period="", documents=0)
        start: dict[str, int] = {}

        def on_progress(current: SiiSyncRun) -> None:
            if progress is None or task is None:
                return
            documents = current.documents_created + current.documents_updated
            start.setdefault("documents", documents)
            remaining = [p for p in current.periods if p not in set(current.periods_done)]
            progress.update(
                task,
                completed=len(current.periods_done),
                period=remaining[0] if remaining else "",
                documents=documents - start["documents"],
            )

        try:
            return await executor.run(company_id, run_id, on_progress)
        finally:
            if progress is not None:
                progress.stop()
    finally:
        await pool.aclose()  # logs out: SII counts open sessions per person


def _print_summary(run: SiiSyncRunOut) -> None:
    lines = [
        f"run {run.id}: {run.state}, {run.periods_done} of {run.periods_total} periods "
        f"({run.since} to {run.until})",
        f"documents created: {run.documents_created}, updated: {run.documents_updated}, "
        f"XMLs fetched: {run.xmls_fetched}",
        *(f"  {message}" for message in run.messages),
    ]
    if run.error is not None:
        lines.append(f"error ({run.error.code}): {run.error.message}")
    err.print("\n".join(lines), markup=False, highlight=False)
