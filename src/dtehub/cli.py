"""The ``dtehub`` command: serve, migrate, manage companies and tokens.

Machine-readable results (new companies, tokens) go to stdout as one JSON object and nothing else;
messages for people go to stderr.
"""

from __future__ import annotations

import errno
import hashlib
import json
import math
import os
import signal
import socket
import sys
import threading
from collections.abc import Callable
from concurrent.futures.process import BrokenProcessPool
from datetime import datetime
from pathlib import Path
from types import FrameType
from typing import TYPE_CHECKING, Annotated, Any, TypeVar

import typer
from pydantic.alias_generators import to_camel
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
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session

from dtehub import __version__, migrate
from dtehub.audit import service as audit
from dtehub.audit.actions import Action
from dtehub.audit.cli import audit_app
from dtehub.auth import service as auth_service
from dtehub.commands import CommandGroup, err, fail, migrate_database, open_database, usage_error
from dtehub.companies import repository as companies_repository
from dtehub.companies import service as companies_service
from dtehub.companies import sii_certificate
from dtehub.companies.schemas import CompanyOut
from dtehub.config import get_settings
from dtehub.db import BULK_STATEMENT_CACHE, create_sessionmaker, unit_of_work
from dtehub.dte.pipeline import XmlPolicy
from dtehub.errors import DtehubError, Unauthorized
from dtehub.factoring.cli import factoring_app
from dtehub.mipyme.cli import PASSWORD_VARIABLE, mipyme_app
from dtehub.models import Actor, Company
from dtehub.portal.links import Links
from dtehub.reminders.cli import reminders_app
from dtehub.sii.emulator.cli import emulator_app
from dtehub.sii_sync.cli import sii_app
from dtehub.users.cli import users_app
from dtehub.webhooks.cli import webhooks_app

if TYPE_CHECKING:
    from dtehub.ingest.importer import ImportSummary

# A failure ends as one line (dtehub.errors_cli); a traceback, only asked for, shows no local variables:
# they may hold tokens, passwords or certificates.
app = typer.Typer(
    help="dtehub: Chilean electronic tax documents, and what is owed.",
    no_args_is_help=True,
    cls=CommandGroup,
    pretty_exceptions_enable=False,
    pretty_exceptions_show_locals=False,
)


def _show_version(asked: bool) -> None:
    if asked:
        sys.stdout.write(f"dtehub {__version__}\n")
        raise typer.Exit()


@app.callback()
def _options(
    version: Annotated[
        bool,
        typer.Option(
            "--version", callback=_show_version, is_eager=True, help="Print dtehub's version and exit."
        ),
    ] = False,
) -> None:
    pass


db_app = typer.Typer(help="Database schema.", no_args_is_help=True, cls=CommandGroup)
companies_app = typer.Typer(help="Companies (tenants).", no_args_is_help=True, cls=CommandGroup)
tokens_app = typer.Typer(help="API tokens.", no_args_is_help=True, cls=CommandGroup)
app.add_typer(db_app, name="db")
app.add_typer(companies_app, name="companies")
app.add_typer(tokens_app, name="tokens")
app.add_typer(mipyme_app, name="mipyme")
app.add_typer(emulator_app, name="sii-emulator")
app.add_typer(sii_app, name="sii")
app.add_typer(webhooks_app, name="webhooks")
app.add_typer(reminders_app, name="reminders")
app.add_typer(audit_app, name="audit")
app.add_typer(factoring_app, name="factoring")
app.add_typer(users_app, name="users")

T = TypeVar("T")


def _emit(payload: dict[str, Any]) -> None:
    sys.stdout.write(json.dumps(payload, ensure_ascii=False) + "\n")
    sys.stdout.flush()


def _run(work: Callable[[Session], T]) -> T:
    """Run one unit of work against the configured database, migrated first; what it raises ends the
    command as dtehub.errors_cli says."""
    engine = open_database(get_settings())
    try:
        with unit_of_work(create_sessionmaker(engine)) as session:
            return work(session)
    finally:
        engine.dispose()


def _stopped(_signum: int, _frame: FrameType | None) -> None:
    raise SystemExit(0)


def _check_can_listen(host: str, port: int) -> None:
    """Fail with one line, before anything starts, when the address cannot be listened on (a port in
    use, an address not of this machine): uvicorn would log its own error only once the application
    and its background jobs had started, and exit with a status of its own."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    with socket.socket(family, socket.SOCK_STREAM) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # as uvicorn binds
        try:
            probe.bind((host, port))
        except OSError as exc:
            reason = exc.strerror or str(exc)
            if exc.errno == errno.EADDRINUSE:
                fail(
                    f"cannot listen on {host}:{port}: {reason} (another dtehub serve?); "
                    "stop it or choose another --port"
                )
            fail(f"cannot listen on {host}:{port}: {reason}")


@app.command()
def serve(
    host: Annotated[str, typer.Option(help="Address to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(min=0, max=65535, help="Port to listen on.")] = 8000,
    workers: Annotated[int, typer.Option(min=1, help="Worker processes.")] = 1,
) -> None:
    """Migrate the database, then serve the API and the portal."""
    import uvicorn

    settings = get_settings()
    migrate_database(settings)
    _check_can_listen(host, port)
    err.print(f"dtehub serving on http://{host}:{port} (docs at /docs)")
    err.print(settings.sii_sync_schedule_words, markup=False, highlight=False, soft_wrap=True)
    # uvicorn drains the requests in flight on SIGTERM, then raises the signal again once its own handler
    # is gone: that second SIGTERM ends the process here, with status 0, the success of a stop asked for.
    signal.signal(signal.SIGTERM, _stopped)
    uvicorn.run(
        "dtehub.app:create_app",
        factory=True,
        host=host,
        port=port,
        workers=workers,
        log_level=settings.log_level,
        proxy_headers=True,
        timeout_graceful_shutdown=max(1, math.ceil(settings.shutdown_grace)),
        # uvicorn's default 5 s lets a worker still importing on a busy machine be killed as dead.
        timeout_worker_healthcheck=30,
    )


@db_app.command("upgrade")
def db_upgrade() -> None:
    """Apply every pending migration."""
    migrate_database(get_settings())
    err.print("database is up to date")


@db_app.command("check")
def db_check() -> None:
    """Fail when the models need a migration that does not exist yet (on the database migrated first)."""
    settings = get_settings()
    migrate_database(settings)
    migrate.check(settings.database_url)
    err.print("the models and the migrations agree")


@companies_app.command("create")
def companies_create(
    rut: Annotated[str, typer.Option(help="The company's RUT, e.g. 76453707-6.")],
    name: Annotated[str, typer.Option(help="Legal name (razón social).")],
    payment_term: Annotated[int, typer.Option(help="Default days from issue to due date.")] = 30,
) -> None:
    """Create a company and its first API token (shown once)."""

    def work(session: Session) -> companies_service.NewCompany:
        created = companies_service.create_company(
            session, rut=rut, name=name, payment_term_days=payment_term
        )
        _audit_company(session, created, Action.COMPANIES_CREATE, {"rut": created.company.rut, "name": name})
        return created

    created = _run(work)
    company = created.company
    _emit({"id": str(company.id), "rut": company.rut, "name": company.name, "token": created.token})


@companies_app.command("update")
def companies_update(
    rut: Annotated[str, typer.Option(help="The company's RUT.")],
    name: Annotated[str | None, typer.Option(help="Legal name (razón social).")] = None,
    payment_term: Annotated[int | None, typer.Option(help="Default days from issue to due date.")] = None,
    xml_policy: Annotated[
        XmlPolicy | None,
        typer.Option(help="lenient: store DTEs whatever their verdicts; strict: refuse any not valid."),
    ] = None,
    sii_resolution_number: Annotated[
        int | None, typer.Option(help="Number of SII's resolution authorizing the company (printed).")
    ] = None,
    sii_resolution_date: Annotated[
        datetime | None, typer.Option(formats=["%Y-%m-%d"], help="Date of that resolution, YYYY-MM-DD.")
    ] = None,
    sii_office: Annotated[
        str | None, typer.Option(help="SII office (unidad), printed as S.I.I. - <office>.")
    ] = None,
    reminder_days_before: Annotated[
        int | None, typer.Option(help="Days before the due date of the soon-to-expire reminder; 0: none.")
    ] = None,
    reminder_overdue_every: Annotated[
        int | None, typer.Option(help="Days between overdue reminders after the first; 0: only one.")
    ] = None,
    debt_summary_period: Annotated[
        str | None, typer.Option(help="Debt summary to each client: off, weekly or monthly.")
    ] = None,
    debt_summary_day: Annotated[
        int | None, typer.Option(help="Its weekday (1 Monday … 7) or day of the month (1 … 28).")
    ] = None,
    reply_to: Annotated[str | None, typer.Option(help="Reply-To address of the reminders.")] = None,
    sii_sync_from: Annotated[
        str | None, typer.Option(help="First tax period SII syncs read, YYYY-MM (default: 12 months).")
    ] = None,
    collections_start_date: Annotated[
        datetime | None,
        typer.Option(
            formats=["%Y-%m-%d"], help="Synced documents issued before it are history: never reminded."
        ),
    ] = None,
) -> None:
    """Change a company's settings; prints the company as JSON."""

    def work(session: Session) -> dict[str, Any]:
        company = companies_service.company_by_rut(session, rut)
        changes = companies_service.CompanySettings(
            name=name,
            payment_term_days=payment_term,
            xml_policy=xml_policy,
            sii_resolution_number=sii_resolution_number,
            sii_resolution_date=sii_resolution_date.date() if sii_resolution_date else None,
            sii_office=sii_office,
            reminder_days_before=reminder_days_before,
            reminder_overdue_every=reminder_overdue_every,
            debt_summary_period=debt_summary_period,
            debt_summary_day=debt_summary_day,
            reply_to=reply_to,
            sii_sync_from=sii_sync_from,
            collections_start_date=collections_start_date.date() if collections_start_date else None,
        )
        updated = companies_service.update_settings(session, company, changes)
        given = {to_camel(k): v for k, v in vars(changes).items() if v is not None}
        _audit(session, company.id, Action.COMPANIES_UPDATE, "company", company.id, given)
        return _company_json(session, updated)

    _emit(_run(work))


@companies_app.command("logo")
def companies_logo(
    rut: Annotated[str, typer.Option(help="The company's RUT.")],
    image: Annotated[
        Path | None, typer.Argument(help="A PNG or JPEG of at most 1 MiB.", exists=True, dir_okay=False)
    ] = None,
    remove: Annotated[bool, typer.Option("--remove", help="Remove the logo instead.")] = False,
) -> None:
    """Set (or --remove) the logo printed on the company's PDFs and shown on its portal pages."""
    if (image is None) == (not remove):
        usage_error("give either an image file or --remove")
    content = image.read_bytes() if image is not None else b""

    def work(session: Session) -> dict[str, Any]:
        company = companies_service.company_by_rut(session, rut)
        if remove:
            companies_service.remove_logo(session, company)
            _audit(session, company.id, Action.COMPANIES_LOGO, "company", company.id, {"removed": True})
        else:
            companies_service.set_logo(session, company, content)
            logo = {"sha256": hashlib.sha256(content).hexdigest(), "bytes": len(content)}
            _audit(session, company.id, Action.COMPANIES_LOGO, "company", company.id, {"logo": logo})
        return _company_json(session, company)

    _emit(_run(work))


@companies_app.command("certificate")
def companies_certificate(
    rut: Annotated[str, typer.Option(help="The company's RUT.")],
    pfx: Annotated[
        Path | None,
        typer.Option(
            help="The certificate (.pfx / .p12) of a person authorized for the company at SII.",
            dir_okay=False,
        ),
    ] = None,
    remove: Annotated[
        bool, typer.Option("--remove", help="Remove the company's certificate instead.")
    ] = False,
) -> None:
    """Set (or --remove) the SII certificate dtehub logs in with for the company; the password comes
    from DTEHUB_PFX_PASSWORD or a hidden prompt. It is stored encrypted (DTEHUB_SECRET_KEY)."""
    if (pfx is None) == (not remove):
        usage_error("give either --pfx FILE or --remove")
    content, password = b"", ""
    if pfx is not None:
        try:
            content = pfx.read_bytes()
        except OSError as error:
            usage_error(f"cannot read {pfx}: {error.strerror}")
        given = os.environ.get(PASSWORD_VARIABLE)
        password = (
            given if given is not None else typer.prompt("Certificate password", hide_input=True, err=True)
        )
    settings = get_settings()

    def work(session: Session) -> dict[str, Any]:
        company = companies_service.company_by_rut(session, rut)
        if remove:
            sii_certificate.remove_certificate(session, company.id)
            _audit(
                session, company.id, Action.COMPANIES_CERTIFICATE, "company", company.id, {"removed": True}
            )
        else:
            stored = sii_certificate.store_certificate(session, company.id, content, password, settings)
            summary = {
                "holderRut": stored.holder_rut,
                "validUntil": stored.valid_until,
                "fingerprint": stored.fingerprint,
            }
            _audit(session, company.id, Action.COMPANIES_CERTIFICATE, "company", company.id, summary)
        return _company_json(session, company)

    _emit(_run(work))


def _audit(
    session: Session,
    company_id: int,
    action: Action,
    object_type: str,
    object_id: int,
    summary: dict[str, Any],
) -> None:
    """The CLI's change in the audit log, in the command's own unit of work."""
    audit.record(
        session,
        company_id,
        actor=Actor.CLI,
        action=action,
        object_type=object_type,
        object_id=object_id,
        summary=summary,
    )


def _audit_company(
    session: Session, created: companies_service.NewCompany, action: Action, summary: dict[str, Any]
) -> None:
    company_id = created.company.id
    issued = auth_service.authenticate(session, created.token)
    _audit(session, company_id, action, "company", company_id, {**summary, "tokenId": issued.token_id})


def _company_json(session: Session, company: Company) -> dict[str, Any]:
    """The company as the CLI prints it: the API's fields, as text (objects as they are)."""
    shown = CompanyOut.of(
        company,
        has_logo=companies_service.has_logo(session, company.id),
        sii_certificate=sii_certificate.certificate_of(session, company.id),
    )
    return {
        key: (
            value
            if isinstance(value, dict)
            else ""
            if value is None
            else str(value).lower()
            if isinstance(value, bool)
            else str(value)
        )
        for key, value in shown.model_dump(mode="json", by_alias=True).items()
    }


@tokens_app.command("create")
def tokens_create(company: Annotated[str, typer.Option(help="The company's RUT.")]) -> None:
    """Issue another API token for a company (shown once)."""

    def work(session: Session) -> str:
        found = companies_service.company_by_rut(session, company)
        token = auth_service.issue_token(session, found.id)
        issued = auth_service.authenticate(session, token)  # its id, for the audit log (never the token)
        _audit(session, found.id, Action.TOKENS_CREATE, "token", issued.token_id, {})
        return token

    _emit({"token": _run(work)})


@tokens_app.command("revoke")
def tokens_revoke(token: Annotated[str, typer.Argument(help="The token to revoke.")]) -> None:
    """Revoke a token; requests with it answer 401 from now on."""

    def work(session: Session) -> None:
        try:
            revoked: auth_service.AuthContext | None = auth_service.authenticate(session, token.strip())
        except Unauthorized:
            revoked = None  # revoke_token says so
        auth_service.revoke_token(session, token)
        assert revoked is not None
        _audit(session, revoked.company_id, Action.TOKENS_REVOKE, "token", revoked.token_id, {})

    _run(work)
    err.print("token revoked")


DEMO_RUT = "76453707-6"
DEMO_XML = Path(__file__).parent / "demo" / "factura-33-696.xml"


@app.command()
def demo() -> None:
    """On an empty database, create a demo company with one invoice and print its token and a curl line
    (for the server at DTEHUB_PUBLIC_URL)."""
    from dtehub.demo import create_demo

    settings = get_settings()
    links = Links(settings.public_base)

    def work(session: Session) -> tuple[str, str, str, str] | None:
        if companies_repository.count(session) > 0:
            return None
        created = create_demo(session, rut=DEMO_RUT, xml=DEMO_XML.read_bytes(), links=links)
        invoice = created.invoice
        issued = auth_service.authenticate(session, created.token)
        summary = {
            "rut": DEMO_RUT,
            "tokenId": issued.token_id,
            "documentId": invoice.id,
            "userId": created.owner_id,
        }
        _audit(session, issued.company_id, Action.DEMO, "company", issued.company_id, summary)
        page = links.invoice_page(invoice.id, invoice.portal_key)
        return created.token, page, created.owner_email, created.owner_password

    made = _run(work)
    if made is None:
        err.print(
            "companies exist already; new tokens: dtehub tokens create --company <RUT>; a forgotten web app "
            f"password: {links.base}/app/password-reset (without DTEHUB_SMTP_URL its e-mail lands in "
            f"{settings.mail_folder})",
            markup=False,
            highlight=False,
        )
        return
    token, invoice_page, owner, password = made
    err.print(f"[bold]Demo company {DEMO_RUT} created.[/bold] Its API token (shown once):\n{token}\nTry:")
    err.print(
        f"curl -s '{links.base}/v1/getDocuments?expandClient=1' -H 'Authorization: Bearer {token}'",
        soft_wrap=True,
        highlight=False,
    )
    err.print("The demo invoice as its customer sees it:", invoice_page, soft_wrap=True, highlight=False)
    err.print(
        f"The web app: {links.base}/app/login, e-mail {owner}, password (shown once) {password}",
        soft_wrap=True,
        highlight=False,
        markup=False,
    )


class _RateColumn(ProgressColumn):
    def render(self, task: Task) -> Text:
        speed = task.finished_speed or task.speed
        return Text(f"{speed:,.0f} files/s" if speed else "- files/s", style="progress.data.speed")


def _default_jobs() -> int:
    try:
        return len(os.sched_getaffinity(0))  # the CPUs this process may use, not the machine's
    except AttributeError:
        return os.cpu_count() or 1


def _print_import_summary(summary: ImportSummary) -> None:
    lines = [
        f"imported: {summary.imported} ({summary.documents} documents, {summary.notes} notes)",
        f"already present: {summary.already_present}",
        *([f"attached to documents from SII's register: {summary.attached}"] if summary.attached else []),
        f"refused: {summary.refused_total}",
        *(f"  {code}: {n}" for code, n in sorted(summary.refused.items(), key=lambda kv: (-kv[1], kv[0]))),
    ]
    if summary.skipped:
        lines.append(f"skipped (not .xml): {summary.skipped}")
    err.print("\n".join(lines), markup=False, highlight=False)


@app.command("import")
def import_files(
    paths: Annotated[
        list[Path],
        typer.Argument(
            metavar="PATH", help="DTE XML files, folders (searched recursively) and .zip archives of XML."
        ),
    ],
    company: Annotated[str, typer.Option(help="RUT of the company that issued the DTEs.")],
    report: Annotated[
        Path | None, typer.Option(help="Write one JSON line per DTE (or unreadable file) to this file.")
    ] = None,
    jobs: Annotated[
        int | None,
        typer.Option(min=1, help="Worker processes that read and check the XML (default: one per CPU)."),
    ] = None,
) -> None:
    """Import the DTEs a company issued, from files, folders and zip archives; an envelope gives each
    of its DTEs. Running it again imports only what is missing. Exit 0 when every DTE was imported or
    was already there, 1 when some were refused (the rest are imported all the same)."""
    from dtehub.ingest import importer

    for path in paths:
        if not path.exists():
            usage_error(f"no such file or folder: {path}")
    settings = get_settings()
    # Every batch takes SQLite's write lock when it begins (unit_of_work writes), so that writers
    # beside it (the server) cannot make it fail; they get the lock between batches.
    engine = open_database(settings, mapped=False, statement_cache=BULK_STATEMENT_CACHE)
    factory = create_sessionmaker(engine)
    summary = importer.ImportSummary()
    workers = jobs or _default_jobs()
    # `kill` stops the import like Ctrl-C, at the importer's next safe point: an exception raised by the
    # handler wherever the main thread is (inside the driver's wait, the process pool's bookkeeping)
    # could leave the pool's shutdown waiting forever (seen on PostgreSQL under load).
    stop = threading.Event()
    previous_sigterm = signal.signal(signal.SIGTERM, lambda _signum, _frame: stop.set())
    try:
        try:
            with unit_of_work(factory) as session:
                company_id = companies_service.company_by_rut(session, company).id
        except DtehubError as exc:
            usage_error(exc.message)
        try:
            report_file = report.open("w", encoding="utf-8", errors="surrogateescape") if report else None
        except OSError as exc:
            fail(f"cannot write the report {report}: {exc.strerror or exc}")
        progress = (
            Progress(
                TextColumn("importing"),
                BarColumn(),
                MofNCompleteColumn(),
                _RateColumn(),
                TimeRemainingColumn(),
                console=err,
            )
            if err.is_terminal
            else None
        )
        try:
            with importer.process_pool(workers) as pool:
                if progress is None:
                    on_read = None
                else:
                    progress.start()
                    task = progress.add_task("importing", total=importer.count_sources(paths))

                    def on_read(files: int) -> None:
                        progress.advance(task, files)

                importer.import_paths(
                    factory,
                    company_id,
                    paths,
                    executor=pool,
                    max_bytes=settings.max_xml_bytes,
                    links=Links(settings.public_base),
                    report=report_file,
                    summary=summary,
                    on_read=on_read,
                    max_in_flight=4 * workers,
                    stop_requested=stop.is_set,
                )
        except KeyboardInterrupt:
            if progress is not None:
                progress.stop()
            _print_import_summary(summary)
            err.print(
                "interrupted: everything reported as imported is stored; "
                "run the same command again to continue"
            )
            raise typer.Exit(code=130) from None
        except SQLAlchemyError:
            if progress is not None:
                progress.stop()
            _print_import_summary(summary)
            raise  # the error's own line (dtehub.errors_cli): the driver's words, never the statement
        except BrokenProcessPool:
            if progress is not None:
                progress.stop()
            _print_import_summary(summary)
            fail("a worker process died (out of memory?); run the same command again")
        finally:
            if progress is not None:
                progress.stop()
            if report_file is not None:
                report_file.close()
    finally:
        signal.signal(signal.SIGTERM, previous_sigterm)
        engine.dispose()
    _print_import_summary(summary)
    sys.stdout.write(json.dumps(summary.as_json()) + "\n")
    sys.stdout.flush()
    raise typer.Exit(code=summary.exit_code)


def main() -> None:
    app()
