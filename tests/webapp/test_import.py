"""``/app/import``: DTE files uploaded in the web app, imported in the background by the engine of
``dtehub import`` (the runner of ``app.state.imports``), with progress a page polls and a report per
file: created, already there, refused or skipped with the reason. Collectors and owners only."""

from __future__ import annotations

import io
import re
import threading
import zipfile
from datetime import date
from pathlib import Path

import httpx
from fastapi import FastAPI
from sqlalchemy import select
from sqlalchemy.orm import Session

from dtehub.dte.factory import build_dte
from dtehub.imports import service as imports
from dtehub.kit.dates import utcnow
from dtehub.models import AuditEvent, Document, Role
from tests.conftest import Tenant
from tests.webapp.helpers import Clock, WebBrowser, add_user, text_of

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures"
INVOICE = FIXTURES / "DTE--76399752-9--33--25568.xml"  # issued by 76399752-9: other_tenant
ISSUER = "76399752-9"


def invoice(folio: int) -> bytes:
    return build_dte(33, folio, ISSUER, "99999999-9", 11900, issue_date=date(2024, 3, 1))


def archive(entries: dict[str, bytes]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as zipped:
        for name, content in entries.items():
            zipped.writestr(name, content)
    return buffer.getvalue()


async def signed_in(web: WebBrowser, session: Session, t: Tenant, role: Role) -> WebBrowser:
    address = f"{role.value}-importa@example.cl"
    add_user(session, t.company_id, role, email=address)
    await web.signed_in(address)
    await web.get("/app/import") if role != Role.VIEWER else await web.get("/app/settings")
    return web


async def upload(app: FastAPI, web: WebBrowser, files: list[tuple[str, bytes]]) -> httpx.Response:
    """Post the files as the form does, then wait for the import to end (the runner's thread shares
    the test's session: nothing else may use it meanwhile)."""
    answer = await web.http.post(
        "/app/import",
        data={"csrf_token": web.csrf},
        files=[("files", (name, content, "application/octet-stream")) for name, content in files],
    )
    assert app.state.imports.wait(timeout=60)
    return answer


def import_id_of(answer: httpx.Response) -> str:
    assert answer.status_code == 303, answer.text
    found = re.fullmatch(r"/app/import/(\d+)\?ok=import", answer.headers["location"])
    assert found is not None, answer.headers["location"]
    return found.group(1)


async def test_a_zip_with_a_bad_file_imports_the_rest_and_reports_why(
    app: FastAPI, web: WebBrowser, other_tenant: Tenant, session: Session
) -> None:
    await signed_in(web, session, other_tenant, Role.COLLECTOR)
    zipped = archive(
        {
            "F33-25568.xml": INVOICE.read_bytes(),
            "roto.xml": b"<DTE><Documento>no cierra",
            "leeme.txt": b"no es un DTE",
            "F33-9001.xml": invoice(9001),
        }
    )

    answer = await upload(app, web, [("facturas.zip", zipped), ("F33-9002.xml", invoice(9002))])

    number = import_id_of(answer)
    page = await web.get(answer.headers["location"])
    text = text_of(page)
    assert page.status_code == 200
    assert "Importación iniciada" in text
    assert "Terminada" in text
    assert "Archivos leídos 5 de 5" in text
    assert "Documentos creados 3" in text
    assert "Rechazados 1" in text
    assert "Omitidos (no XML) 1" in text
    assert "Rechazados u omitidos (2)" in text
    assert re.search(r"facturas\.zip!roto\.xml — El XML está mal formado\.", text)
    assert re.search(r"facturas\.zip!leeme\.txt — No es un archivo \.xml: no se leyó\.", text)
    assert "Creados (3)" in text
    assert re.search(r"facturas\.zip!F33-25568\.xml Factura electrónica N° 25568", text)
    assert re.search(r"F33-9002\.xml Factura electrónica N° 9002", text)
    assert "dtehub-import-" not in page.text  # the server's temporary folder is never shown
    assert "<script" not in page.text  # ended: no more polling
    progress = await web.get(f"/app/import/{number}/progress")
    assert progress.json() == {
        "id": number, "state": "done", "total": 5, "read": 5, "documents": 3, "notes": 0,
        "alreadyPresent": 0, "attached": 0, "refused": 1, "skipped": 1,
    }  # fmt: skip
    session.expire_all()
    folios = session.scalars(
        select(Document.number)
        .where(Document.company_id == other_tenant.company_id)
        .order_by(Document.number)
    ).all()
    assert folios == ["25568", "9001", "9002"]
    event = session.scalars(
        select(AuditEvent).where(
            AuditEvent.company_id == other_tenant.company_id, AuditEvent.action == "import"
        )
    ).one()
    assert event.actor == "user"
    assert event.user_id is not None
    assert event.summary["documents"] == 3
    started = session.scalars(
        select(AuditEvent).where(
            AuditEvent.company_id == other_tenant.company_id, AuditEvent.action == "app.startImport"
        )
    ).one()  # the upload itself, by whom, even when it creates nothing
    assert (started.actor, started.user_id) == ("user", event.user_id)
    assert (started.object_type, started.object_id) == ("import", int(number))
    assert started.summary["files"] == 2
    assert started.summary["names"] == ["facturas.zip", "F33-9002.xml"]

    await web.get("/app/import")
    again = await upload(app, web, [("facturas.zip", zipped)])
    text = text_of(await web.get(again.headers["location"]))
    assert "Creados (0)" in text
    assert "Ya existían (2)" in text
    assert "Rechazados u omitidos (2)" in text
    listed = text_of(await web.get("/app/import"))
    assert f"Importación N° {number}" in listed
    assert "facturas.zip, F33-9002.xml" in listed


async def test_an_import_in_progress_polls_and_an_abandoned_one_shows_interrupted(
    web: WebBrowser, tenant: Tenant, session: Session, clock: Clock
) -> None:
    await signed_in(web, session, tenant, Role.OWNER)
    queued = imports.start(
        session,
        tenant.company_id,
        None,
        [imports.UploadedFile("a.xml", 10)],
        clock.now,
    )
    session.commit()

    page = await web.get(f"/app/import/{queued.id}")

    assert "En cola" in text_of(page)
    policy = page.headers["content-security-policy"]
    assert "script-src 'self'" in policy
    assert "connect-src 'self'" in policy
    found = re.search(r'<script src="(/app/static/progress\.js\?v=[0-9a-f]{12})" defer></script>', page.text)
    assert found is not None
    assert f'data-progress="/app/import/{queued.id}/progress"' in page.text
    script = await web.get(found.group(1))
    assert script.status_code == 200
    assert script.headers["content-type"].startswith("text/javascript")
    assert "/progress" not in script.text  # it reads the page's own data-progress
    assert "http" not in script.text.replace("https", "")  # no other origin
    assert (await web.get(f"/app/import/{queued.id}/progress")).json()["state"] == "queued"
    assert "script-src" not in (await web.get("/app/import")).headers["content-security-policy"]

    # No runner holds it (the process that took it stopped): once nobody beat for it, it is interrupted.
    clock.advance(minutes=11)
    page = await web.get(f"/app/import/{queued.id}")
    assert "Interrumpida" in text_of(page)
    assert "no llegó a empezar" in text_of(page)
    assert "Suba los mismos archivos otra vez" in text_of(page)
    assert "<script" not in page.text
    assert "Interrumpida" in text_of(await web.get("/app/import"))


async def test_an_import_queued_behind_a_long_one_waits_its_turn(
    app: FastAPI, web: WebBrowser, other_tenant: Tenant, session: Session, clock: Clock
) -> None:
    """The server's runner takes one import at a time: one queued behind a long one for more than ten
    minutes is still "En cola" while the server's runner beats for it, and its turn comes."""
    await signed_in(web, session, other_tenant, Role.COLLECTOR)
    runner = app.state.imports
    held = threading.Event()
    busy = runner._pool.submit(held.wait, 60)  # the runner's one thread, busy with a long import
    try:
        answer = await web.http.post(
            "/app/import",
            data={"csrf_token": web.csrf},
            files=[("files", ("F33-9101.xml", invoice(9101), "text/xml"))],
        )
        number = import_id_of(answer)
        for _ in range(3):  # half an hour in the queue, the runner beating as its thread does
            clock.advance(minutes=9)
            assert runner.beat(clock.now) == 1
            page = await web.get(f"/app/import/{number}")
            assert "En cola" in text_of(page)
            assert "Interrumpida" not in text_of(page)
            assert (await web.get(f"/app/import/{number}/progress")).json()["state"] == "queued"
        assert "En cola" in text_of(await web.get("/app/import"))
    finally:
        held.set()
        busy.result(timeout=60)
    assert runner.wait(timeout=60)

    page = await web.get(f"/app/import/{number}")
    assert "Terminada" in text_of(page)
    assert "Documentos creados 1" in text_of(page)


async def test_an_upload_without_files_says_so(
    app: FastAPI, web: WebBrowser, tenant: Tenant, session: Session
) -> None:
    await signed_in(web, session, tenant, Role.COLLECTOR)

    # What a browser sends when no file was chosen: a part with an empty file name.
    boundary = "limite"
    body = (
        f'--{boundary}\r\nContent-Disposition: form-data; name="csrf_token"\r\n\r\n{web.csrf}\r\n'
        f'--{boundary}\r\nContent-Disposition: form-data; name="files"; filename=""\r\n'
        f"Content-Type: application/octet-stream\r\n\r\n\r\n--{boundary}--\r\n"
    )
    headers = {"content-type": f"multipart/form-data; boundary={boundary}"}
    empty = await web.http.post("/app/import", content=body.encode(), headers=headers)
    nothing = await web.http.post("/app/import", data={"csrf_token": web.csrf})

    for answer in (empty, nothing):
        assert answer.status_code == 400
        assert "Elija al menos un archivo XML o zip." in text_of(answer)
    assert imports.recent(session, tenant.company_id) == []


async def test_an_upload_over_the_body_limit_is_refused(
    app: FastAPI, web: WebBrowser, tenant: Tenant, session: Session
) -> None:
    await signed_in(web, session, tenant, Role.COLLECTOR)
    too_big = b"x" * (app.state.settings.max_body_bytes + 1)

    answer = await web.http.post(
        "/app/import", data={"csrf_token": web.csrf}, files=[("files", ("grande.xml", too_big, "text/xml"))]
    )

    assert answer.status_code == 413
    assert "Archivo demasiado grande" in text_of(answer)
    assert imports.recent(session, tenant.company_id) == []


async def test_imports_are_for_collectors(web: WebBrowser, tenant: Tenant, session: Session) -> None:
    await signed_in(web, session, tenant, Role.VIEWER)
    job = imports.start(session, tenant.company_id, None, [], utcnow())
    session.commit()

    assert "Importar" not in text_of(await web.get("/app/"))  # not in a viewer's navigation
    for path in ("/app/import", f"/app/import/{job.id}", f"/app/import/{job.id}/progress"):
        assert (await web.get(path)).status_code == 403, path
    await web.get("/app/settings")
    refused = await web.http.post(
        "/app/import", data={"csrf_token": web.csrf}, files=[("files", ("a.xml", invoice(1), "text/xml"))]
    )
    assert refused.status_code == 403
    assert [j.id for j in imports.recent(session, tenant.company_id)] == [job.id]
