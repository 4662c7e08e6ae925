"""``/app/sii``: the company's SII certificate (owners upload and remove it; the password is never shown
or kept), the sync runs with a running one's progress, and "sincronizar ahora" under syncSii's rules."""

from __future__ import annotations

import json
import logging
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import select
from sqlalchemy.orm import Session

from dtehub.companies.sii_certificate import store_certificate
from dtehub.config import Settings
from dtehub.kit.dates import today_in_santiago, utcnow
from dtehub.models import AuditEvent, CompanySiiCertificate, Role, SiiSyncRun
from dtehub.sii.emulator import TestCertificateAuthority
from dtehub.sii_sync import runs
from dtehub.sii_sync.periods import Period
from dtehub.sii_sync.runs import PeriodOutcome
from tests.conftest import Tenant
from tests.webapp.helpers import WebBrowser, add_user, text_of

PFX_PASSWORD = "clave-del-pfx-Qw81-secreta"


@pytest.fixture(scope="module")
def authority(tmp_path_factory: pytest.TempPathFactory) -> TestCertificateAuthority:
    return TestCertificateAuthority.load_or_create(tmp_path_factory.mktemp("ca"))


def a_pfx(authority: TestCertificateAuthority, days: int = 400) -> bytes:
    return authority.issue_person_certificate(
        rut="12345678-5",
        name="Juana Pérez",
        password=PFX_PASSWORD.encode(),
        valid_until=datetime.now(UTC) + timedelta(days=days),
    )


async def upload(web: WebBrowser, pfx: bytes, password: str) -> httpx.Response:
    await web.get("/app/sii")
    return await web.http.post(
        "/app/sii/certificate",
        data={"csrf_token": web.csrf, "password": password},
        files={"certificate": ("persona.pfx", pfx, "application/x-pkcs12")},
    )


def actions_of(session: Session, company_id: int) -> list[tuple[str, int | None, int | None]]:
    session.expire_all()
    rows = session.execute(
        select(AuditEvent.action, AuditEvent.user_id, AuditEvent.object_id)
        .where(AuditEvent.company_id == company_id, AuditEvent.action != "app.signIn")
        .order_by(AuditEvent.id)
    ).all()
    return [(action, user_id, object_id) for action, user_id, object_id in rows]


async def test_an_owner_uploads_a_certificate_sees_its_holder_and_expiry_and_removes_it(
    web: WebBrowser, tenant: Tenant, session: Session, authority: TestCertificateAuthority
) -> None:
    owner = add_user(session, tenant.company_id, Role.OWNER, email="duena@example.cl")
    await web.signed_in("duena@example.cl")
    page = text_of(await web.get("/app/sii"))
    assert "La empresa no tiene certificado" in page
    assert "Aún no hay sincronizaciones con el SII." in page

    wrong = await upload(web, a_pfx(authority, days=10), "no-es-la-clave")
    assert wrong.status_code == 400
    assert "La contraseña no abre el certificado" in text_of(wrong)
    assert (
        session.scalar(
            select(CompanySiiCertificate).where(CompanySiiCertificate.company_id == tenant.company_id)
        )
        is None
    )

    answer = await upload(web, a_pfx(authority, days=10), PFX_PASSWORD)
    assert answer.status_code == 303, answer.text
    page_response = await web.get("/app/sii?ok=certificate")
    page = text_of(page_response)
    assert "Certificado guardado" in page
    assert "Titular Juana Pérez" in page
    assert "RUT del titular 12.345.678-5" in page
    assert "El certificado vence en 9 días" in page or "El certificado vence en 10 días" in page
    assert PFX_PASSWORD not in page_response.text
    events = actions_of(session, tenant.company_id)
    assert events == [("updateCompanySiiCertificate", owner.id, tenant.company_id)]
    summary = session.scalar(
        select(AuditEvent.summary).where(AuditEvent.action == "updateCompanySiiCertificate")
    )
    assert PFX_PASSWORD not in json.dumps(summary)
    assert summary["holderRut"] == "12345678-5"

    removed = await web.submit("/app/sii/certificate/delete")
    assert removed.status_code == 303
    assert "Certificado eliminado" in text_of(await web.get("/app/sii?ok=certificate-removed"))
    assert web.last is not None
    assert "La empresa no tiene certificado" in text_of(web.last)
    assert [e[0] for e in actions_of(session, tenant.company_id)][-1] == "deleteCompanySiiCertificate"


async def test_not_a_certificate_or_too_large_is_refused_with_nothing_stored(
    web: WebBrowser, tenant: Tenant, session: Session
) -> None:
    add_user(session, tenant.company_id, Role.OWNER, email="duena@example.cl")
    await web.signed_in("duena@example.cl")

    garbage = await upload(web, b"no soy un certificado", PFX_PASSWORD)
    assert garbage.status_code == 400
    assert "no es un certificado .pfx o .p12" in text_of(garbage)
    large = await upload(web, b"\x30" * (256 * 1024 + 1), PFX_PASSWORD)
    assert large.status_code == 413
    assert "256 KiB" in text_of(large)
    assert actions_of(session, tenant.company_id) == []


async def test_without_a_secret_key_the_page_says_so_and_nothing_is_stored(
    app: FastAPI, web: WebBrowser, tenant: Tenant, session: Session, authority: TestCertificateAuthority
) -> None:
    add_user(session, tenant.company_id, Role.OWNER, email="duena@example.cl")
    await web.signed_in("duena@example.cl")
    settings: Settings = app.state.settings
    app.state.settings = settings.model_copy(update={"secret_key": None})
    try:
        page = text_of(await web.get("/app/sii"))
        assert "no tiene DTEHUB_SECRET_KEY" in page
        answer = await upload(web, a_pfx(authority), PFX_PASSWORD)
    finally:
        app.state.settings = settings
    assert answer.status_code == 503
    assert "no tiene DTEHUB_SECRET_KEY" in text_of(answer)
    assert (
        session.scalar(
            select(CompanySiiCertificate).where(CompanySiiCertificate.company_id == tenant.company_id)
        )
        is None
    )


async def test_a_collector_starts_a_sync_follows_its_progress_and_cannot_start_a_second(
    app: FastAPI,
    web: WebBrowser,
    tenant: Tenant,
    session: Session,
    settings: Settings,
    authority: TestCertificateAuthority,
) -> None:
    store_certificate(session, tenant.company_id, a_pfx(authority), PFX_PASSWORD, settings)
    collector = add_user(session, tenant.company_id, Role.COLLECTOR, email="cobra@example.cl")
    await web.signed_in("cobra@example.cl")
    current = Period.of(today_in_santiago())

    await web.get("/app/sii")
    asked = await web.submit("/app/sii/sync", {"since": str(current.shifted(-2)), "until": ""})
    assert asked.status_code == 303, asked.text
    page = await web.get("/app/sii?ok=sync")
    assert "Sincronización iniciada" in text_of(page)
    run = session.scalars(select(SiiSyncRun).where(SiiSyncRun.company_id == tenant.company_id)).one()
    assert (run.trigger, run.since, run.until) == ("app", str(current.shifted(-2)), str(current))
    assert f"Sincronización N° {run.id}: En cola" in text_of(page)
    assert "script-src 'self'" in page.headers["content-security-policy"]
    assert '<script src="/app/static/progress.js?v=' in page.text
    assert ("syncSii", collector.id, run.id) in actions_of(session, tenant.company_id)

    again = await web.submit("/app/sii/sync", {"since": "", "until": ""})
    assert again.status_code == 409
    assert "Ya hay una sincronización de esta empresa en curso" in text_of(again)
    assert (
        len(session.scalars(select(SiiSyncRun).where(SiiSyncRun.company_id == tenant.company_id)).all()) == 1
    )

    # The executor's work, as it records it: started, one period of three stored.
    holder = app.state.sii_sync.holder
    runs.start(session, tenant.company_id, run.id, holder, utcnow())
    outcome = PeriodOutcome(created=4, updated=1, xmls=2)
    runs.record_period(session, tenant.company_id, run.id, holder, current.shifted(-2), outcome, utcnow())
    session.commit()
    progress = await web.get(f"/app/sii/runs/{run.id}/progress")
    assert progress.status_code == 200
    assert progress.json() == {
        "id": str(run.id), "state": "running", "stateName": "En curso", "active": True, "periodsDone": 1,
        "periodsTotal": 3, "documentsCreated": 4, "documentsUpdated": 1, "xmlsFetched": 2,
    }  # fmt: skip

    runs.note(
        session, tenant.company_id, run.id, holder, ["boletas are monthly totals in SII's register: skipped"]
    )
    runs.finish(session, tenant.company_id, run.id, holder, utcnow())
    session.commit()
    assert (await web.get(f"/app/sii/runs/{run.id}/progress")).json()["active"] is False
    for malformed in ("abc", "0", "1" * 19):
        assert (await web.get(f"/app/sii/runs/{malformed}/progress")).status_code == 404, malformed
    page = await web.get("/app/sii")
    shown = text_of(page)
    assert f"{run.id} Terminada {current.shifted(-2)} a {current} 1 de 3 4 1 2" in shown
    assert "por la aplicación" in shown
    assert "boletas are monthly totals in SII's register: skipped" in shown
    assert "<script" not in page.text
    assert "script-src" not in page.headers["content-security-policy"]


async def test_bad_months_or_no_certificate_are_refused_with_no_run(
    web: WebBrowser, tenant: Tenant, session: Session, settings: Settings, authority: TestCertificateAuthority
) -> None:
    add_user(session, tenant.company_id, Role.OWNER, email="duena@example.cl")
    await web.signed_in("duena@example.cl")
    await web.get("/app/sii")

    without = await web.submit("/app/sii/sync")
    assert without.status_code == 409
    assert "La empresa no tiene certificado del SII" in text_of(without)

    store_certificate(session, tenant.company_id, a_pfx(authority), PFX_PASSWORD, settings)
    session.commit()
    future = Period.of(today_in_santiago()).shifted(2)
    for since, until in (("2016-01", ""), ("2025/01", ""), ("", str(future)), ("2025-06", "2025-01")):
        answer = await web.submit("/app/sii/sync", {"since": since, "until": until})
        assert answer.status_code == 400, (since, until)
        assert "elija un mes (AAAA-MM) desde agosto de 2017" in text_of(answer)
        assert f'value="{since}"' in answer.text
    assert session.scalars(select(SiiSyncRun).where(SiiSyncRun.company_id == tenant.company_id)).all() == []


async def test_a_viewer_reads_the_page_without_forms_and_a_collector_cannot_touch_the_certificate(
    web_browser: Callable[[], WebBrowser],
    tenant: Tenant,
    session: Session,
    settings: Settings,
    authority: TestCertificateAuthority,
) -> None:
    store_certificate(session, tenant.company_id, a_pfx(authority), PFX_PASSWORD, settings)
    add_user(session, tenant.company_id, Role.VIEWER, email="vera@example.cl")
    add_user(session, tenant.company_id, Role.COLLECTOR, email="cobra@example.cl")
    viewer = await web_browser().signed_in("vera@example.cl")
    page = await viewer.get("/app/sii")
    assert "Titular Juana Pérez" in text_of(page)
    assert 'action="/app/sii/sync"' not in page.text
    assert 'action="/app/sii/certificate"' not in page.text
    assert (await viewer.submit("/app/sii/sync")).status_code == 403

    collector = await web_browser().signed_in("cobra@example.cl")
    page = await collector.get("/app/sii")
    assert 'action="/app/sii/sync"' in page.text
    assert 'action="/app/sii/certificate"' not in page.text
    refused = await collector.submit("/app/sii/certificate/delete")
    assert refused.status_code == 403
    assert (
        session.scalar(
            select(CompanySiiCertificate.holder_rut).where(
                CompanySiiCertificate.company_id == tenant.company_id
            )
        )
        == "12345678-5"
    )


async def test_the_progress_script_is_dtehubs_own_and_reads_only_dtehub(web: WebBrowser) -> None:
    answer = await web.get("/app/static/progress.js")
    assert answer.status_code == 200
    assert answer.headers["content-type"].startswith("text/javascript")
    assert "immutable" in answer.headers["cache-control"]
    assert "http:" not in answer.text
    assert "https:" not in answer.text
    assert 'getAttribute("data-progress")' in answer.text


def _run(company_id: int, state: str, **fields: object) -> SiiSyncRun:
    values: dict[str, object] = {
        "company_id": company_id, "state": state, "trigger": "schedule", "since": "2026-01",
        "until": "2026-02",
        "periods": ["2026-01", "2026-02"], "periods_done": ["2026-01"], "documents_created": 3,
        "documents_updated": 0, "xmls_fetched": 0, "messages": [], "resumed": 0, "queued_at": utcnow(),
    }  # fmt: skip
    values.update(fields)
    return SiiSyncRun(**values)


async def test_failed_and_interrupted_runs_say_what_happened_in_spanish_with_the_syncs_words(
    web: WebBrowser, tenant: Tenant, session: Session
) -> None:
    failed = _run(
        tenant.company_id, "failed", error_code="certificate_expired",
        error_message="the SII certificate expired on 2026-02-01", finished_at=utcnow(),
    )  # fmt: skip
    stopped = _run(tenant.company_id, "running", started_at=utcnow(), heartbeat_at=utcnow())  # no lease: gone
    session.add_all([failed, stopped])
    session.commit()
    add_user(session, tenant.company_id, Role.VIEWER, email="vera@example.cl")
    await web.signed_in("vera@example.cl")

    page = await web.get("/app/sii")
    shown = text_of(page)
    assert f"{failed.id} Falló 2026-01 a 2026-02 1 de 2 3 0 0" in shown
    assert (
        "El certificado venció: un administrador debe subir uno vigente. "
        "the SII certificate expired on 2026-02-01"
    ) in shown
    assert '<span lang="en">the SII certificate expired on 2026-02-01</span>' in page.text
    assert f"{stopped.id} Falló 2026-01 a 2026-02 1 de 2" in shown
    assert "Interrumpida: el proceso que la ejecutaba se detuvo." in shown
    assert "por la programación automática" in shown
    assert "<script" not in page.text  # nothing under way: no progress to follow


async def test_the_certificates_password_is_in_no_log_record(
    web: WebBrowser,
    tenant: Tenant,
    session: Session,
    authority: TestCertificateAuthority,
    caplog: pytest.LogCaptureFixture,
) -> None:
    add_user(session, tenant.company_id, Role.OWNER, email="duena@example.cl")
    await web.signed_in("duena@example.cl")
    caplog.set_level(logging.DEBUG)

    wrong = await upload(web, a_pfx(authority), PFX_PASSWORD + "-no")
    right = await upload(web, a_pfx(authority), PFX_PASSWORD)

    assert (wrong.status_code, right.status_code) == (400, 303)
    assert caplog.records  # the requests were logged, without the password
    assert PFX_PASSWORD not in caplog.text
    assert PFX_PASSWORD not in wrong.text
