"""``dtehub factoring check``: can this invoice be financed? The same checks as
``GET /v1/getDocumentCedibility``, from the shell. ``dtehub factoring sync-cessions``: the cessions made to
the company that SII's RTC registered, brought in as held documents (:mod:`dtehub.factoring.sync`).

The verdict is one JSON object on stdout (as the API answers it) and a summary for people on stderr. The exit
status is 0 when the document is cedible, 3 when it is not, 1 on an error (no such company or document).
SII is asked with the company's stored SII certificate, or the one of ``--pfx`` (its password from
``DTEHUB_PFX_PASSWORD`` or a hidden prompt, never an argument).
"""

from __future__ import annotations

import json
import os
import sys
from datetime import date
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.markup import escape
from sqlalchemy.orm import Session

from dtehub.commands import CommandGroup, open_database, usage_error
from dtehub.config import get_settings
from dtehub.db import create_sessionmaker, unit_of_work
from dtehub.errors import DtehubError, NotFound
from dtehub.factoring import cedibility, repository, sync
from dtehub.factoring.units import JobUnits
from dtehub.kit.dates import today_in_santiago
from dtehub.kit.rut import InvalidRut, normalize_rut
from dtehub.portal.links import Links
from dtehub.sii.certificate import PersonCertificate, load_pfx

factoring_app = typer.Typer(
    help="Factoring: can an invoice be financed.", no_args_is_help=True, cls=CommandGroup
)
err = Console(stderr=True, highlight=False, soft_wrap=True)  # a reason stays on one line
PASSWORD_VARIABLE = "DTEHUB_PFX_PASSWORD"  # noqa: S105 (the name of the variable, not a password)
NOT_CEDIBLE_EXIT = 3
_MARKS = {"failed": "[red]✗[/red]", "pending": "[yellow]…[/yellow]", "warning": "[yellow]![/yellow]",
          "not_checked": "[yellow]?[/yellow]"}  # fmt: skip


@factoring_app.command("check")
def check(
    company: Annotated[str, typer.Option(help="RUT of the company that issued the document.")],
    type_code: Annotated[int, typer.Option("--type", help="SII document type (33, 34, 43, 46).")],
    folio: Annotated[int, typer.Option(help="The document's folio.", min=1)],
    pfx: Annotated[
        Path | None,
        typer.Option(help="Ask SII with this certificate (.pfx / .p12), not the company's.", dir_okay=False),
    ] = None,
) -> None:
    """Run every cedibility check of one document and say whether it can be ceded, and why not."""
    try:
        rut = normalize_rut(company)
    except InvalidRut as exc:
        err.print(f"[red]error:[/red] --company: {escape(str(exc))}")
        raise typer.Exit(code=2) from None
    settings = get_settings()
    certificate = _certificate(pfx) if pfx is not None else None
    engine = open_database(settings)
    try:
        factory = create_sessionmaker(engine)
        with unit_of_work(factory, writes=False) as session:
            company_id, document_id = _find(session, rut, type_code, folio)
        access = cedibility.SiiAccess(settings)
        if certificate is not None:
            access = cedibility.SiiAccess(settings, lambda *_: certificate)
        # SII is asked between two units of work of its own, none open while it answers.
        verdict = cedibility.check_document(JobUnits(factory), company_id, document_id, access)
    finally:
        engine.dispose()
    answer = verdict.as_json()
    sys.stdout.write(json.dumps(answer, ensure_ascii=False) + "\n")
    err.print("[green]cedible[/green]" if verdict.cedible else "[red]not cedible[/red]")
    for reason in answer["reasons"]:
        mark = _MARKS.get(reason["status"], "-")
        err.print(f"{mark} {reason['check']} ({reason['source']}): {escape(reason['message'])}")
        err.print(f"    what to do: {escape(reason['action'])}")
    if not verdict.cedible:
        raise typer.Exit(code=NOT_CEDIBLE_EXIT)


@factoring_app.command("sync-cessions")
def sync_cessions(
    company: Annotated[str, typer.Option(help="RUT of the company the cessions were made to.")],
    since: Annotated[str, typer.Option(help="The first month to list, YYYY-MM (up to this month).")],
) -> None:
    """Bring in the cessions made to the company that SII's RTC registered (its listing of each month since
    --since) and dtehub holds no document for: held documents known from SII, no AEC yet."""
    try:
        rut = normalize_rut(company)
    except InvalidRut as exc:
        usage_error(f"--company: {exc}")
    try:
        first = date.fromisoformat(f"{since}-01")
    except ValueError:
        usage_error(f"--since: {since!r} is not a month as YYYY-MM")
    if first > today_in_santiago():
        usage_error(f"--since: {since} has not begun")
    settings = get_settings()
    engine = open_database(settings)
    try:
        units = JobUnits(create_sessionmaker(engine))
        access = cedibility.SiiAccess(settings)
        summary = sync.sync_cessions(units, rut, first, access, Links(settings.public_base))
    finally:
        engine.dispose()
    months = f"{summary.months[0]} to {summary.months[-1]}" if len(summary.months) > 1 else summary.months[0]
    out = Console(highlight=False, soft_wrap=True)
    out.print(
        f"{months}: SII's RTC lists {summary.listed} cession(s) to {rut}; {len(summary.added)} new held "
        f"document(s) (known from SII, no AEC yet), {summary.known} already held"
    )
    for why in summary.skipped:
        err.print(f"[yellow]![/yellow] not taken: {escape(why)}")


def _find(session: Session, rut: str, type_code: int, folio: int) -> tuple[int, int]:
    """The company's id and its document's."""
    found = repository.company_by_rut(session, rut)
    if found is None:
        raise NotFound(f"no company with RUT {rut} in dtehub", field="company")
    document = repository.document_by_key(session, found.id, type_code, str(folio))
    if document is None:
        raise NotFound(f"company {rut} has no document of type {type_code} and folio {folio}", field="folio")
    return found.id, document.id


def _certificate(path: Path) -> PersonCertificate:
    try:
        content = path.read_bytes()
    except OSError as error:
        usage_error(f"cannot read {path}: {error.strerror}")  # a file named that does not exist: 2
    password = os.environ.get(PASSWORD_VARIABLE)
    if password is None:
        password = typer.prompt("Certificate password", hide_input=True, err=True)
    try:
        return load_pfx(content, password)
    except DtehubError as exc:
        err.print(f"[red]error:[/red] {escape(exc.message)}")
        raise typer.Exit(code=1) from None
