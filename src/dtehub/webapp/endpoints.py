"""The web app for a company's staff, under ``/app``: server-rendered pages (Spanish, Chilean formats),
signed in with a session cookie (see :mod:`dtehub.webapp.web`). Not part of the API: its routes are
left out of ``/openapi.json``."""

from __future__ import annotations

from fastapi import APIRouter
from fastapi.responses import Response

from dtehub.webapp import (
    access,
    clients,
    company_settings,
    dashboard,
    document,
    export,
    pages,
    payments,
    reminders,
    settings,
    sii,
    uploads,
)

router = APIRouter(prefix="/app", include_in_schema=False)
router.include_router(access.router)
router.include_router(dashboard.router)
router.include_router(document.router)
router.include_router(settings.router)
router.include_router(payments.router)
router.include_router(uploads.router)
router.include_router(sii.router)
router.include_router(company_settings.router)
router.include_router(clients.router)
router.include_router(reminders.router)
router.include_router(export.router)


@router.get("", response_class=Response)
async def root() -> Response:
    return pages.redirect("/app/")


@router.get("/static/app.css", response_class=Response)
async def stylesheet() -> Response:
    """The app's only stylesheet; pages name it with its content's hash, so it may be kept long."""
    return pages.static_response("app.css")


@router.get("/static/progress.js", response_class=Response)
async def progress_script() -> Response:
    """The app's only script: a job's live progress (an import's page, ``/app/sii`` while a sync runs),
    configured by the page's markup (``data-progress``, ``data-every``…); named with its content's hash,
    so it may be kept long."""
    return pages.static_response("progress.js")
