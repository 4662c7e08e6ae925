"""``/app/sii``: the company's SII certificate (owners upload a new one or remove it) and the SII sync
runs: their state, periods done of total, documents created and updated, XMLs fetched and problems in
words, a running one's live progress, and "sincronizar ahora" (collectors and owners).

Everything goes through the services the API uses (``updateCompanySiiCertificate``, ``syncSii``), with
the same rules: the certificate is checked at once and stored sealed (never its password, never the file;
503 without ``DTEHUB_SECRET_KEY``), and a company has one run at a time.

The progress of a running run is the app's one script, ``/app/static/progress.js`` (dtehub's own, no
library, shared with the import's page), which asks ``/app/sii/runs/{id}/progress`` (a small JSON) every
two seconds and reloads the page when the run ends. Without the script the page says where the run was
and links to itself.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, File, Form, Query, Request, UploadFile
from fastapi.responses import JSONResponse, Response
from sqlalchemy.orm import Session

from dtehub.audit.actions import Action
from dtehub.companies import sii_certificate
from dtehub.config import Settings
from dtehub.dependencies import AfterCommit, SessionDep
from dtehub.errors import SecretKeyMissing, SiiCertificateMissing
from dtehub.kit.pagination import PageRequest
from dtehub.models import Role, SiiSyncLease, SiiSyncRun
from dtehub.sii.errors import (
    CertificateError,
    CertificateExpired,
    CertificateNotYetValid,
    CertificateUnreadable,
    CertificateWithoutRut,
)
from dtehub.sii_sync import service as sync
from dtehub.sii_sync.errors import InvalidPeriod, SyncAlreadyRunning
from dtehub.sii_sync.executor import SyncExecutor
from dtehub.sii_sync.runs import Trigger, presented_state
from dtehub.users.service import Staff
from dtehub.webapp import forms, pages
from dtehub.webapp.layout import layout
from dtehub.webapp.web import StaffDep, app_route, record

router = APIRouter()

FormText = Annotated[str, Form()]
RUNS_SHOWN = 20
"""The newest runs the page lists."""

STATES = {"queued": "En cola", "running": "En curso", "done": "Terminada", "failed": "Falló"}
TRIGGERS = {
    "api": "la API",
    "app": "la aplicación",
    "cli": "la línea de comandos",
    "schedule": "la programación automática",
}
FAILURES = {
    "certificate_expired": "El certificado venció: un administrador debe subir uno vigente.",
    "certificate_not_yet_valid": "El certificado aún no está vigente.",
    "certificate_unreadable": "El certificado guardado no se pudo abrir: súbalo de nuevo.",
    "holder_not_authorized": "El titular del certificado no está autorizado por la empresa en el SII.",
    "sii_not_representative": "El titular del certificado no puede representar a la empresa ante el SII.",
    "sii_login_error": "El SII rechazó el ingreso con el certificado.",
    "sii_unavailable": "El SII no respondió como se esperaba: intente más tarde.",
    "sii_timeout": "El SII no respondió a tiempo: intente más tarde.",
    "sii_busy": "Las sesiones del titular en el SII estaban ocupadas: intente más tarde.",
    "sii_rcv_refused": "El Registro de Compras y Ventas del SII rechazó la consulta.",
    "sii_rcv_unreadable": "dtehub no pudo leer una respuesta del Registro de Compras y Ventas.",
    "sii_certificate_missing": "La empresa no tiene certificado del SII.",
    "secret_key_missing": "El servidor no tiene DTEHUB_SECRET_KEY para abrir el certificado.",
    "sii_certificate_sealed_elsewhere": (
        "El certificado se guardó con otra DTEHUB_SECRET_KEY: súbalo de nuevo."
    ),
    "internal_error": "Falló por un error inesperado de dtehub (quedó registrado): intente más tarde.",
}
"""What a failed run's code means, in Spanish, above the sync's own words (in English, as the API's)."""
NO_KEY = (
    "Este servidor de dtehub no tiene DTEHUB_SECRET_KEY: sin esa clave no puede guardar el certificado "
    "cifrado. Pida a quien administra el servidor que la configure."
)


def _executor(request: Request) -> SyncExecutor:
    executor: SyncExecutor = request.app.state.sii_sync
    return executor


def shown_run(run: SiiSyncRun, lease: SiiSyncLease | None, now: datetime) -> dict[str, Any]:
    """What a person reads of a run (its problems as the sync words them)."""
    state = presented_state(run, lease, now)
    detail = None
    if state.error_code == "interrupted":
        error = (
            "Interrumpida: el proceso que la ejecutaba se detuvo. La próxima sincronización la retoma "
            "donde quedó."
        )
    elif state.error_code:
        error = FAILURES.get(state.error_code, "Falló.")
        detail = state.error_message or state.error_code
    else:
        error = None
    return {
        "id": run.id,
        "state": state.state,
        "state_name": STATES.get(state.state, state.state),
        "active": state.state in ("queued", "running"),
        "trigger": TRIGGERS.get(run.trigger, run.trigger),
        "since": run.since,
        "until": run.until,
        "periods_done": len(run.periods_done),
        "periods_total": len(run.periods),
        "documents_created": run.documents_created,
        "documents_updated": run.documents_updated,
        "xmls_fetched": run.xmls_fetched,
        "messages": list(run.messages),
        "error": error,
        "error_detail": detail,
        "queued_at": run.queued_at,
        "started_at": run.started_at,
        "finished_at": run.finished_at,
    }


def _certificate(session: Session, company_id: int, now: datetime) -> dict[str, Any] | None:
    row = sii_certificate.certificate_of(session, company_id)
    if row is None:
        return None
    warning = sii_certificate.expiry_warning(row.valid_until, now=now)
    text = None
    if warning is not None:
        until = pages.moment(row.valid_until)
        if warning.days_left == 0 and row.valid_until <= now:
            text = (
                f"El certificado venció el {until}: la sincronización con el SII está detenida hasta que "
                "se suba uno vigente."
            )
        else:
            left = {0: "hoy", 1: "mañana"}.get(warning.days_left, f"en {warning.days_left} días")
            text = f"El certificado vence {left} ({until}): suba uno nuevo para que la sincronización siga."
    return {
        "holder_name": row.holder_name,
        "holder_rut": row.holder_rut,
        "valid_until": row.valid_until,
        "added_at": row.added_at,
        "warning": text,
    }


def _page(
    request: Request,
    session: Session,
    staff: Staff,
    ok: str | None = None,
    *,
    error: str | None = None,
    status_code: int = 200,
    form: dict[str, str] | None = None,
) -> Response:
    settings: Settings = request.app.state.settings
    executor = _executor(request)
    now = sync.now_of(executor)
    found, total, lease = sync.list_runs(session, staff.company_id, PageRequest(1, RUNS_SHOWN))
    shown = [shown_run(run, lease, now) for run in found]
    active = next((run for run in shown if run["active"]), None)
    context = {
        "layout": layout(session, staff, "sii", ok),
        "certificate": _certificate(session, staff.company_id, now),
        "has_key": settings.secret_key is not None,
        "no_key": NO_KEY,
        "owner": staff.may(Role.OWNER),
        "collects": staff.may(Role.COLLECTOR),
        "runs": shown,
        "total": total,
        "active": active,
        "script_url": pages.static_url("progress.js") if active else None,
        "error": error,
        "form": form or {},
    }
    headers = {"Content-Security-Policy": pages.SCRIPT_POLICY} if active else None
    return pages.page("sii.html", context, status_code=status_code, headers=headers)


@router.get("/sii")
@app_route()
def sii_page(
    request: Request, staff: StaffDep, session: SessionDep, ok: Annotated[str | None, Query()] = None
) -> Response:
    """The certificate, the sync runs (a running one's progress live) and, for collectors, a new sync."""
    return _page(request, session, staff, ok)


@router.get("/sii/runs/{run_id}/progress")
@app_route()
def run_progress(request: Request, staff: StaffDep, session: SessionDep, run_id: str) -> Response:
    """One run's figures as JSON, for the page's script (another company's run: 404, as a missing one)."""
    run, lease = sync.get_run(session, staff.company_id, forms.path_id(run_id))
    shown = shown_run(run, lease, sync.now_of(_executor(request)))
    body = {
        "id": str(run.id),
        "state": shown["state"],
        "stateName": shown["state_name"],
        "active": shown["active"],
        "periodsDone": shown["periods_done"],
        "periodsTotal": shown["periods_total"],
        "documentsCreated": shown["documents_created"],
        "documentsUpdated": shown["documents_updated"],
        "xmlsFetched": shown["xmls_fetched"],
    }
    return JSONResponse(body, headers=dict(pages.PRIVATE_HEADERS))


def _certificate_refusal(refused: CertificateError) -> str:
    if isinstance(refused, CertificateUnreadable):
        if refused.field == sii_certificate.PASSWORD_FIELD:
            return "La contraseña no abre el certificado. Revísela e intente de nuevo."
        return "El archivo no es un certificado .pfx o .p12 que se pueda leer."
    if isinstance(refused, CertificateWithoutRut):
        return "El certificado no indica el RUT de su titular: no sirve para ingresar al SII."
    if isinstance(refused, CertificateExpired):
        return "El certificado está vencido. Suba uno vigente."
    if isinstance(refused, CertificateNotYetValid):
        return "El certificado aún no está vigente."
    return "La clave del certificado no sirve para ingresar al SII."


@router.post("/sii/certificate")
@app_route(role=Role.OWNER)
def upload_certificate(
    request: Request,
    staff: StaffDep,
    session: SessionDep,
    certificate: Annotated[UploadFile | None, File()] = None,
    password: FormText = "",
) -> Response:
    """Owners: a new certificate (a .pfx or .p12 and its password), checked and stored sealed as
    updateCompanySiiCertificate does; it replaces any other. The password is never shown again."""
    settings: Settings = request.app.state.settings
    pfx = certificate.file.read(sii_certificate.MAX_PFX_BYTES + 1) if certificate is not None else b""
    if len(pfx) > sii_certificate.MAX_PFX_BYTES:
        return _page(
            request, session, staff, error="El archivo pesa más de 256 KiB: no es un certificado.",
            status_code=413,
        )  # fmt: skip
    if not pfx:
        return _page(request, session, staff, error="Elija el archivo del certificado.", status_code=400)
    try:
        stored = sii_certificate.store_certificate(session, staff.company_id, pfx, password, settings)
    except SecretKeyMissing:
        return _page(request, session, staff, error=NO_KEY, status_code=503)
    except CertificateError as refused:
        return _page(request, session, staff, error=_certificate_refusal(refused), status_code=400)
    record(
        session,
        staff,
        Action.UPDATE_COMPANY_SII_CERTIFICATE,
        object_type="company",
        object_id=staff.company_id,
        summary={
            "holderRut": stored.holder_rut,
            "validUntil": pages.moment(stored.valid_until),
            "fingerprint": stored.fingerprint,
        },
    )
    return pages.redirect("/app/sii?ok=certificate")


@router.post("/sii/certificate/delete")
@app_route(role=Role.OWNER)
def remove_certificate(request: Request, staff: StaffDep, session: SessionDep) -> Response:
    """Owners: forget the certificate; dtehub no longer logs in to SII for the company."""
    try:
        sii_certificate.remove_certificate(session, staff.company_id)
    except SiiCertificateMissing:
        return _page(request, session, staff, error="La empresa no tiene certificado.", status_code=404)
    record(
        session,
        staff,
        Action.DELETE_COMPANY_SII_CERTIFICATE,
        object_type="company",
        object_id=staff.company_id,
    )
    return pages.redirect("/app/sii?ok=certificate-removed")


@router.post("/sii/sync")
@app_route(role=Role.COLLECTOR)
def start_sync(
    request: Request, staff: StaffDep, session: SessionDep, since: FormText = "", until: FormText = ""
) -> Response | AfterCommit:
    """Collectors: sync with SII's register now, as syncSii: optional first and last months (YYYY-MM),
    one run of the company at a time (an interrupted one is resumed)."""
    executor = _executor(request)
    form = {"since": since, "until": until}
    try:
        run, _ = sync.request_run(
            session, executor, staff.company_id, since=since.strip() or None, until=until.strip() or None,
            trigger=Trigger.APP,
        )  # fmt: skip
    except InvalidPeriod as refused:
        which = "Desde" if refused.field == "since" else "Hasta"
        said = (
            f"{which}: elija un mes (AAAA-MM) desde agosto de 2017, cuando empieza el Registro de Ventas "
            "del SII, y no posterior al mes actual; «desde» no puede ser posterior a «hasta»."
        )
        return _page(request, session, staff, error=said, status_code=400, form=form)
    except SiiCertificateMissing:
        said = (
            "La empresa no tiene certificado del SII: un administrador debe subir uno antes de sincronizar."
        )
        return _page(request, session, staff, error=said, status_code=409, form=form)
    except SyncAlreadyRunning:
        said = "Ya hay una sincronización de esta empresa en curso: su avance se muestra abajo."
        return _page(request, session, staff, error=said, status_code=409, form=form)
    record(
        session,
        staff,
        Action.SYNC_SII,
        object_type="siiSyncRun",
        object_id=run.id,
        summary={"since": run.since, "until": run.until},
    )

    def started() -> Response:  # committed: the executor may start it now
        executor.wake()
        return pages.redirect("/app/sii?ok=sync")

    return AfterCommit(started)
