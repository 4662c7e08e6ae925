"""``dtehub mipyme get``: retrieve one issued document from SII's MIPYME portal, from the shell.

The certificate's password comes from ``DTEHUB_PFX_PASSWORD`` or a hidden prompt, never from an argument
(arguments are visible to every user of the machine). The document's summary is one JSON object on
stdout; the exit status is the ``mipyme_get_document`` status (0 success, 1–5 as the API's).
"""

from __future__ import annotations

import asyncio
import base64
import json
import os
import sys
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.markup import escape

from dtehub.commands import CommandGroup
from dtehub.config import get_settings
from dtehub.mipyme import service
from dtehub.mipyme.statuses import MipymeStatus
from dtehub.sii.errors import SiiError
from dtehub.sii.retrieval import RetrievedDocument
from dtehub.sii.sessions import SessionPool

mipyme_app = typer.Typer(help="SII's MIPYME portal.", no_args_is_help=True, cls=CommandGroup)
err = Console(stderr=True, soft_wrap=True)  # an error is one line, however narrow the terminal
PASSWORD_VARIABLE = "DTEHUB_PFX_PASSWORD"  # noqa: S105 (the name of the variable, not a password)


@mipyme_app.command("get")
def get(
    pfx: Annotated[Path, typer.Option(help="The person's certificate (.pfx / .p12).", dir_okay=False)],
    company: Annotated[str, typer.Option(help="RUT of the issuing company, e.g. 76399752-9.")],
    type_code: Annotated[int, typer.Option("--type", help="SII document type (33, 34, 56, 61…).")],
    folio: Annotated[int, typer.Option(help="The document's folio.")],
    out: Annotated[Path | None, typer.Option(help="Folder for the XML and PDF.", file_okay=False)] = None,
    pdf: Annotated[bool, typer.Option(help="Also fetch SII's PDF.")] = True,
) -> None:
    """Retrieve an issued document (XML, and PDF) from SII with a certificate authorized for the company."""
    try:
        content = pfx.read_bytes()
    except OSError as error:
        err.print(f"[red]error:[/red] cannot read {escape(str(pfx))}: {error.strerror}")
        raise typer.Exit(MipymeStatus.INVALID_PARAMETERS) from None
    password = os.environ.get(PASSWORD_VARIABLE)
    if password is None:
        password = typer.prompt("Certificate password", hide_input=True, err=True)
    body = {
        "certificate_pfx_base64": base64.b64encode(content).decode(),
        "certificate_password": password,
        "tax_id_code": company,
        "document_type_taxbureau": type_code,
        "document_number": folio,
        "include_pdf": pdf,
    }
    try:
        request = service.read_request(json.dumps(body).encode())
        retrieved = asyncio.run(_fetch(request))
    except SiiError as error:
        status, _, _ = service.failure(error)
        err.print(f"[red]error (status {status.value}):[/red] {escape(error.message)}")
        raise typer.Exit(status.value) from None
    summary = service.success(retrieved).model_dump(mode="json")
    document = summary["document"]
    document.pop("document_xml")
    document.pop("document_pdf")
    if out is not None:
        document.update(_write(out, retrieved))
    sys.stdout.write(json.dumps(summary, ensure_ascii=False) + "\n")


async def _fetch(request: service.DocumentRequest) -> RetrievedDocument:
    pool = SessionPool(get_settings().sii_config())
    try:
        return await service.fetch(pool, request)
    finally:
        await pool.aclose()  # logs out: SII counts open sessions per person


def _write(out: Path, retrieved: RetrievedDocument) -> dict[str, str]:
    out.mkdir(parents=True, exist_ok=True)
    stem = f"DTE--{retrieved.company_rut}--{retrieved.type_code}--{retrieved.folio}"
    written = {"xml_file": str(out / f"{stem}.xml")}
    (out / f"{stem}.xml").write_bytes(retrieved.xml)
    if retrieved.pdf is not None:
        (out / f"{stem}.pdf").write_bytes(retrieved.pdf)
        written["pdf_file"] = str(out / f"{stem}.pdf")
    return written
