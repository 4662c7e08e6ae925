"""``/app/import``: upload DTE XML files or zip archives; the import runs in the background
(:mod:`dtehub.imports.runner`, the engine of ``dtehub import``) and its page shows the progress live,
then the report: created, already there, refused with the reason. Collectors and owners only. The
upload is in the audit log with the user (``app.startImport``: the files' names and sizes), and so is
each batch of documents it creates (``import``).

The progress page runs the app's one script, ``/app/static/progress.js``, served by dtehub (no other
origin), which polls ``/app/import/{id}/progress`` (a small JSON) every second and reloads the page when
the import ends (all said by the page's markup, see ``static/progress.js``). Without the script the page
still says where the import is, and a link reloads it.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, File, Query, Request, UploadFile
from fastapi.responses import JSONResponse, Response
from sqlalchemy.orm import Session

from dtehub.audit.actions import Action
from dtehub.config import Settings
from dtehub.dependencies import AfterCommit, SessionDep
from dtehub.dte.document_types import dte_type_name
from dtehub.imports import service as imports
from dtehub.imports.runner import ImportRunner, Upload
from dtehub.models import Role
from dtehub.users.service import Staff
from dtehub.webapp import forms, pages
from dtehub.webapp.layout import layout
from dtehub.webapp.web import NowDep, StaffDep, app_route, record

router = APIRouter()

STATES = {
    "queued": "En cola",
    "running": "Importando",
    "done": "Terminada",
    "failed": "Falló",
    imports.INTERRUPTED: "Interrumpida",
}
REASONS = {
    "not_xml": "No es un archivo .xml: no se leyó.",
    "file_unreadable": "No se pudo leer el archivo.",
    "zip_unreadable": "No es un archivo zip legible.",
    "xml_too_large": "El XML supera el tamaño máximo por archivo.",
    "xml_malformed": "El XML está mal formado.",
    "xml_forbidden_feature": "El XML usa construcciones no permitidas (DTD o entidades).",
    "xml_schema_invalid": "El XML no cumple el esquema del SII.",
    "signature_invalid": "La firma electrónica no es válida.",
    "ted_invalid": "El timbre electrónico (TED) no es válido.",
    "dte_unreadable": "No es un DTE legible.",
    "too_many_dtes": "El sobre trae más DTE de los permitidos.",
    "issuer_mismatch": "El DTE es de otro emisor: su RUT no es el de esta empresa.",
    "unsupported_document_type": "Tipo de documento no soportado.",
}
"""Why a file or DTE was refused, in the page's words (the importer's own message is shown beside)."""


def _megabytes(size: int) -> str:
    return f"{size / (1024 * 1024):.0f} MB" if size >= 1024 * 1024 else f"{size // 1024} KB"


def _upload_page(
    request: Request,
    session: Session,
    staff: Staff,
    now: datetime,
    *,
    error: str | None = None,
    status: int = 200,
) -> Response:
    settings: Settings = request.app.state.settings
    context = {
        "layout": layout(session, staff, "import"),
        "recent": imports.recent(session, staff.company_id),
        "state_of": lambda job: STATES[imports.state_of(job, now)],
        "limit_body": _megabytes(settings.max_body_bytes),
        "limit_xml": _megabytes(settings.max_xml_bytes),
        "error": error,
    }
    return pages.page("import.html", context, status_code=status)


@router.get("/import")
@app_route(role=Role.COLLECTOR)
def upload_page(request: Request, staff: StaffDep, session: SessionDep, now: NowDep) -> Response:
    """Collectors: the form to upload DTE files, and the company's last imports."""
    return _upload_page(request, session, staff, now)


UploadedFiles = Annotated[list[UploadFile] | None, File()]
"""The form's files; a browser sends one without a name (``filename=""``) when none was chosen."""


@router.post("/import")
@app_route(role=Role.COLLECTOR)
def upload(
    request: Request, staff: StaffDep, session: SessionDep, now: NowDep, files: UploadedFiles = None
) -> Response | AfterCommit:
    """Collectors: start an import of the uploaded XML files and zip archives (the body's size is
    bounded by ``DTEHUB_MAX_BODY_BYTES``, each XML by ``DTEHUB_MAX_XML_BYTES``); it runs once this is
    committed, and the answer goes to its progress page."""
    chosen = [f for f in files or [] if f.filename]
    if not chosen:
        message = "Elija al menos un archivo XML o zip."
        return _upload_page(request, session, staff, now, error=message, status=400)
    uploaded = [imports.UploadedFile(f.filename or "archivo", f.size or 0) for f in chosen]
    job = imports.start(session, staff.company_id, staff.user_id, uploaded, now)
    record(
        session,
        staff,
        Action.APP_START_IMPORT,
        object_type="import",
        object_id=job.id,
        summary={
            "files": len(uploaded),
            "bytes": sum(f.size for f in uploaded),
            "names": [f.name[:200] for f in uploaded[:20]],
        },
    )
    runner: ImportRunner = request.app.state.imports
    work = Upload(
        job.id, staff.company_id, staff.user_id, [(f.filename or "archivo", f.file) for f in chosen]
    )
    factory = request.app.state.sessionmaker
    settings: Settings = request.app.state.settings

    def queue() -> Response:
        runner.submit(factory, settings, work)
        return pages.redirect(f"/app/import/{job.id}?ok=import")

    return AfterCommit(queue)


def _type_name(code: int | None) -> str:
    return (dte_type_name(code) or "DTE").capitalize() if code else "—"


@router.get("/import/{import_id}")
@app_route(role=Role.COLLECTOR)
def import_page(
    staff: StaffDep,
    session: SessionDep,
    now: NowDep,
    import_id: str,
    ok: Annotated[str | None, Query()] = None,
) -> Response:
    """Collectors: an import's progress (live, while it runs) and its report."""
    job = imports.require(session, staff.company_id, forms.path_id(import_id))
    state = imports.state_of(job, now)
    running = state in ("queued", "running")
    context = {
        "layout": layout(session, staff, "import", ok),
        "job": job,
        "state": state,
        "state_name": STATES[state],
        "running": running,
        "progress": imports.progress(job, now),
        "report": None if running else imports.report(session, staff.company_id, job.id),
        "reasons": REASONS,
        "type_name": _type_name,
        "script_url": pages.static_url("progress.js") if running else None,
    }
    headers = {"Content-Security-Policy": pages.SCRIPT_POLICY} if running else None
    return pages.page("import_job.html", context, headers=headers)


@router.get("/import/{import_id}/progress")
@app_route(role=Role.COLLECTOR)
def import_progress(staff: StaffDep, session: SessionDep, now: NowDep, import_id: str) -> Response:
    """Collectors: what the progress page polls (JSON): the state and the counters."""
    job = imports.require(session, staff.company_id, forms.path_id(import_id))
    return JSONResponse(imports.progress(job, now), headers=dict(pages.PRIVATE_HEADERS))
