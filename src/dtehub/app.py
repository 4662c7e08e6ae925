"""The application factory."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import anyio.to_thread
from fastapi import FastAPI
from fastapi.responses import RedirectResponse

from dtehub import __version__, errors_http, openapi
from dtehub.audit.endpoints import router as audit_router
from dtehub.background import JobRunner, server_jobs
from dtehub.clients.endpoints import router as clients_router
from dtehub.companies.endpoints import router as companies_router
from dtehub.config import Settings, get_settings
from dtehub.contacts.endpoints import router as contacts_router
from dtehub.db import create_engine, create_sessionmaker
from dtehub.documents.endpoints import router as documents_router
from dtehub.factoring.endpoints import router as factoring_router
from dtehub.files.endpoints import router as files_router
from dtehub.health.endpoints import router as health_router
from dtehub.imports.runner import ImportRunner
from dtehub.kit import parameters
from dtehub.kit.dates import utcnow
from dtehub.logs import install_redaction
from dtehub.middleware import (
    ApiBodyMiddleware,
    ApiTrailingSlashMiddleware,
    ParameterMiddleware,
    PortalHeadersMiddleware,
)
from dtehub.mipyme.endpoints import router as mipyme_router
from dtehub.notes.endpoints import router as notes_router
from dtehub.payments.endpoints import router as payments_router
from dtehub.portal.endpoints import router as portal_router
from dtehub.portal.links import Links
from dtehub.portal.pages import PRIVATE_HEADERS
from dtehub.ratelimit import RateLimiter
from dtehub.reminders.endpoints import router as reminders_router
from dtehub.sii.sessions import SessionPool
from dtehub.sii_sync.endpoints import router as sii_sync_router
from dtehub.sii_sync.executor import SyncExecutor
from dtehub.sii_sync.source import rcv_sources, stored_certificates
from dtehub.tags.endpoints import router as tags_router
from dtehub.webapp import pages as webapp_pages
from dtehub.webapp.endpoints import router as webapp_router
from dtehub.webhooks.endpoints import router as webhooks_router

DESCRIPTION = """
dtehub keeps a company's Chilean electronic tax documents (DTE) and tells what is owed.

The `/v1` API is compatible with Duemint's: `Authorization: Bearer <token>` on every call, request
bodies are JSON whatever their Content-Type, ids are strings, amounts strings with two decimals,
dates `YYYY-MM-DD`. Every error answers `{"error": {"code", "message", "field"}}`.
"""


def create_app(settings: Settings | None = None) -> FastAPI:
    settings = settings or get_settings()
    install_redaction()  # here, so that every worker process has it
    engine = create_engine(
        settings.database_url,
        pool_size=settings.db_pool_size,
        connect_timeout=settings.db_connect_timeout,
        statement_timeout=settings.db_statement_timeout,
        busy_timeout=settings.db_busy_timeout,
    )
    sii_pool = SessionPool(settings.sii_config())
    factory = create_sessionmaker(engine)
    sources = rcv_sources(
        factory,
        sii_pool,
        settings.sii_config(),
        stored_certificates(factory, settings),
        Links(settings.public_base),
    )
    sii_sync = SyncExecutor(
        factory,
        sources,
        lease_seconds=settings.sii_sync_lease_seconds,
        concurrency=settings.sii_sync_concurrency,
    )

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        # Database work runs in the thread pool; a few threads keep the CPU busy, more only contend for
        # the interpreter lock (and for SQLite's single writer).
        anyio.to_thread.current_default_thread_limiter().total_tokens = settings.threads
        reaper = asyncio.get_running_loop().create_task(sii_pool.run_reaper())
        # Runs asked for by POST /v1/syncSii run here, whatever DTEHUB_RUN_BACKGROUND_JOBS says.
        syncs = asyncio.get_running_loop().create_task(app.state.sii_sync.serve())
        schedule = (
            asyncio.get_running_loop().create_task(
                app.state.sii_sync.schedule_forever(settings.sii_sync_interval)
            )
            if settings.sii_sync_scheduled
            else None
        )
        jobs = JobRunner(server_jobs(settings, factory) if settings.run_background_jobs else [])
        jobs.start()
        try:
            yield
        finally:
            await anyio.to_thread.run_sync(jobs.stop)
            reaper.cancel()
            if schedule is not None:
                schedule.cancel()
            syncs.cancel()  # runs under way give their leases back: the next sync resumes them
            await asyncio.gather(syncs, *([schedule] if schedule else []), return_exceptions=True)
            await sii_pool.aclose()  # logs out every SII session still open
            await anyio.to_thread.run_sync(app.state.imports.stop)  # the web import under way ends first
            engine.dispose()

    app = FastAPI(title="dtehub", version=__version__, description=DESCRIPTION, lifespan=lifespan)
    app.state.settings = settings
    app.state.engine = engine
    app.state.sessionmaker = factory
    app.state.sii_pool = sii_pool
    app.state.clock = utcnow  # the web app's sessions read the time here (tests set their own clock)
    app.state.sii_sync = sii_sync
    app.state.imports = ImportRunner()  # the web app's uploads of DTE files, imported in the background
    # Per process: checked on the event loop by get_bearer_token and the portal's router.
    app.state.api_limiter = RateLimiter(settings.rate_limit_per_minute, settings.rate_limit_burst)
    app.state.portal_limiter = RateLimiter(
        settings.portal_rate_limit_per_minute, settings.portal_rate_limit_burst
    )
    errors_http.install(app)
    openapi.install(app)
    query_rules: dict[str, parameters.QueryRules] = {}  # read from the routes, once declared (below)
    app.add_middleware(ParameterMiddleware, rules=query_rules)
    app.add_middleware(ApiBodyMiddleware, max_body_bytes=settings.max_body_bytes)
    app.add_middleware(ApiTrailingSlashMiddleware)  # before the body's and the parameters' rules
    app.add_middleware(PortalHeadersMiddleware, headers=webapp_pages.PRIVATE_HEADERS, prefix="/app/")
    app.add_middleware(PortalHeadersMiddleware, headers=PRIVATE_HEADERS)  # outermost: sees every answer
    for router in (
        documents_router,
        notes_router,
        payments_router,
        mipyme_router,
        clients_router,
        contacts_router,
        tags_router,
        webhooks_router,
        sii_sync_router,
        companies_router,
        files_router,
        reminders_router,
        audit_router,
        factoring_router,
        portal_router,
        webapp_router,
        health_router,
    ):
        app.include_router(router)
    # The server's own address, opened in a browser (make run prints it): the web app, not a 404.
    app.add_api_route("/", _to_the_web_app, methods=["GET"], include_in_schema=False)
    query_rules.update(parameters.rules_of(app.routes))
    return app


def _to_the_web_app() -> RedirectResponse:
    return RedirectResponse("/app/", status_code=307)
