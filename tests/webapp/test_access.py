"""Signing in to the web app: sessions, their cookie and their ends, CSRF, throttling, the second factor,
roles, and the audit log naming the person."""

from __future__ import annotations

from collections.abc import Callable

import pyotp
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from dtehub.kit.dates import utcnow
from dtehub.models import Role, User, UserSession
from dtehub.users import service as users
from tests.conftest import Tenant
from tests.webapp.helpers import PASSWORD, Clock, WebBrowser, add_user, text_of


async def test_signing_in_opens_the_dashboard_with_a_safe_cookie(
    web: WebBrowser, tenant: Tenant, session: Session
) -> None:
    add_user(session, tenant.company_id, Role.OWNER, email="ana@example.cl")

    answer = await web.sign_in("ANA@example.cl ")

    assert answer.status_code == 303
    assert answer.headers["location"] == "/app/"
    cookie = next(c for c in answer.headers.get_list("set-cookie") if c.startswith("dtehub_session="))
    flags = {part.strip().lower() for part in cookie.split(";")[1:]}
    assert {"httponly", "secure", "samesite=lax", "path=/app"} <= flags
    page = await web.get("/app/")
    assert page.status_code == 200
    assert "DUEMINT SPA" in text_of(page)
    assert "ana@example.cl" in text_of(page)
    assert page.headers["cache-control"] == "private, no-store"
    assert "default-src 'none'" in page.headers["content-security-policy"]


async def test_a_page_without_a_session_sends_to_the_sign_in_page(web: WebBrowser) -> None:
    answer = await web.get("/app/settings")

    assert answer.status_code == 303
    assert answer.headers["location"] == "/app/login?siguiente=%2Fapp%2Fsettings"


async def test_after_sign_in_the_page_asked_for_opens(
    web: WebBrowser, tenant: Tenant, session: Session
) -> None:
    add_user(session, tenant.company_id, email="ana@example.cl")
    await web.get("/app/login", siguiente="/app/settings")
    answer = await web.submit(
        "/app/login", {"email": "ana@example.cl", "password": PASSWORD, "siguiente": "/app/settings"}
    )
    assert answer.headers["location"] == "/app/settings"

    await web.get("/app/login", siguiente="https://evil.example/")
    answer = await web.submit(
        "/app/login", {"email": "ana@example.cl", "password": PASSWORD, "siguiente": "//evil.example/"}
    )
    assert answer.headers["location"] == "/app/"


async def test_a_wrong_password_and_an_unknown_email_answer_the_same(
    web_browser: Callable[[], WebBrowser], tenant: Tenant, session: Session
) -> None:
    add_user(session, tenant.company_id, email="ana@example.cl")
    one, other = web_browser(), web_browser()

    wrong = await one.sign_in("ana@example.cl", "not the password at all")
    unknown = await other.sign_in("nadie@example.cl", "not the password at all")

    assert wrong.status_code == unknown.status_code == 401
    assert "Correo o contraseña incorrectos." in text_of(wrong)

    def page(response: object, email: str, csrf: str) -> str:
        return text_of(response).replace(email, "E")  # type: ignore[arg-type]

    assert page(wrong, "ana@example.cl", one.csrf) == page(unknown, "nadie@example.cl", other.csrf)
    assert "dtehub_session" not in wrong.headers.get("set-cookie", "")


async def test_sign_in_is_throttled_per_account_known_or_not(
    web: WebBrowser, tenant: Tenant, session: Session, clock: Clock
) -> None:
    add_user(session, tenant.company_id, email="ana@example.cl")
    for email in ("ana@example.cl", "nadie@example.cl"):
        for _ in range(5):
            assert (await web.sign_in(email, "wrong password here")).status_code == 401

    right = await web.sign_in("ana@example.cl")  # even the right password waits
    unknown = await web.sign_in("nadie@example.cl", "anything at all")

    assert right.status_code == unknown.status_code == 429
    assert int(right.headers["retry-after"]) == 15 * 60
    assert "Demasiados intentos fallidos. Espere 15 minutos" in text_of(right)
    assert text_of(right).replace("ana@example.cl", "E") == text_of(unknown).replace("nadie@example.cl", "E")

    clock.advance(minutes=15, seconds=1)
    assert (await web.sign_in("ana@example.cl")).status_code == 303


async def test_sign_in_is_throttled_per_address(web: WebBrowser, tenant: Tenant, session: Session) -> None:
    add_user(session, tenant.company_id, email="ana@example.cl")
    for number in range(20):  # 20 accounts, one failure each, from one address
        assert (await web.sign_in(f"intento{number}@example.cl", "wrong password")).status_code == 401

    assert (await web.sign_in("ana@example.cl")).status_code == 429


async def test_forms_without_their_csrf_token_are_refused(
    web: WebBrowser, tenant: Tenant, session: Session
) -> None:
    add_user(session, tenant.company_id, email="ana@example.cl")
    await web.get("/app/login")
    no_token = await web.post("/app/login", {"email": "ana@example.cl", "password": PASSWORD})
    assert no_token.status_code == 403
    assert "Formulario vencido" in text_of(no_token)
    await web.signed_in("ana@example.cl")

    refused = [
        await web.post("/app/logout"),
        await web.post("/app/logout", {"csrf_token": "x" * 64}),
        await web.post("/app/settings/require-totp", {"required": "1"}),
    ]

    assert [r.status_code for r in refused] == [403, 403, 403]
    assert (await web.get("/app/")).status_code == 200  # still signed in: nothing happened
    assert (await web.get("/app/settings")).status_code == 200
    assert "El segundo factor es opcional" in text_of(web.last)  # type: ignore[arg-type]


async def test_a_form_token_of_another_session_is_refused(
    web_browser: Callable[[], WebBrowser], tenant: Tenant, session: Session
) -> None:
    add_user(session, tenant.company_id, email="ana@example.cl")
    mine, theirs = web_browser(), web_browser()
    await mine.signed_in("ana@example.cl")
    await theirs.signed_in("ana@example.cl")

    assert (await mine.post("/app/logout", {"csrf_token": theirs.csrf})).status_code == 403
    assert (await mine.get("/app/")).status_code == 200


async def test_a_session_ends_after_30_idle_minutes(
    web: WebBrowser, tenant: Tenant, session: Session, clock: Clock
) -> None:
    add_user(session, tenant.company_id, email="ana@example.cl")
    await web.signed_in("ana@example.cl")
    clock.advance(minutes=29)
    assert (await web.get("/app/")).status_code == 200  # a request: the idle time starts again
    clock.advance(minutes=29)
    assert (await web.get("/app/")).status_code == 200

    clock.advance(minutes=30, seconds=1)
    answer = await web.get("/app/")

    assert answer.status_code == 303
    assert answer.headers["location"] == "/app/login?siguiente=%2Fapp%2F&expirada=1"
    assert "Su sesión expiró" in text_of(await web.get(answer.headers["location"]))
    assert session.scalar(select(func.count()).select_from(UserSession)) == 0


async def test_a_busy_session_ends_after_12_hours(
    web: WebBrowser, tenant: Tenant, session: Session, clock: Clock
) -> None:
    add_user(session, tenant.company_id, email="ana@example.cl")
    await web.signed_in("ana@example.cl")
    for _ in range(11 * 3):
        clock.advance(minutes=20)
        assert (await web.get("/app/")).status_code == 200

    clock.advance(hours=1, seconds=1)
    assert (await web.get("/app/")).status_code == 303


async def test_signing_out_ends_the_session(web: WebBrowser, tenant: Tenant, session: Session) -> None:
    add_user(session, tenant.company_id, email="ana@example.cl")
    await web.signed_in("ana@example.cl")
    stolen = web.http.cookies.get("dtehub_session")

    answer = await web.submit("/app/logout")

    assert answer.status_code == 303
    assert answer.headers["location"] == "/app/login?salida=1"
    web.http.cookies.set("dtehub_session", stolen or "", domain="dtehub.test", path="/app")
    assert (await web.get("/app/")).status_code == 303


async def test_a_password_change_ends_every_session_of_the_user(
    web_browser: Callable[[], WebBrowser], tenant: Tenant, session: Session
) -> None:
    add_user(session, tenant.company_id, email="ana@example.cl")
    laptop, phone = web_browser(), web_browser()
    await laptop.signed_in("ana@example.cl")
    await phone.signed_in("ana@example.cl")
    await laptop.get("/app/settings")

    short = await laptop.submit(
        "/app/settings/password", {"current": PASSWORD, "password": "corta", "confirmation": "corta"}
    )
    assert short.status_code == 400
    assert "al menos 12 caracteres" in text_of(short)
    new = "otra frase larga para entrar"
    changed = await laptop.submit(
        "/app/settings/password", {"current": PASSWORD, "password": new, "confirmation": new}
    )

    assert changed.status_code == 303
    assert (await phone.get("/app/")).status_code == 303
    assert (await laptop.get("/app/")).status_code == 303
    assert (await laptop.sign_in("ana@example.cl")).status_code == 401
    assert (await laptop.sign_in("ana@example.cl", new)).status_code == 303


async def test_a_disabled_user_stops_mid_way(web: WebBrowser, tenant: Tenant, session: Session) -> None:
    user = add_user(session, tenant.company_id, email="ana@example.cl")
    await web.signed_in("ana@example.cl")
    form = web.csrf

    users.disable(session, user, utcnow())
    session.commit()

    assert (await web.get("/app/")).status_code == 303
    assert (await web.post("/app/logout", {"csrf_token": form})).status_code == 401
    assert (await web.sign_in("ana@example.cl")).status_code == 401


async def test_a_viewer_cannot_change_the_company_and_nothing_changes(
    web: WebBrowser, tenant: Tenant, session: Session
) -> None:
    add_user(session, tenant.company_id, Role.VIEWER, email="vera@example.cl")
    await web.signed_in("vera@example.cl")
    await web.get("/app/settings")
    assert "Seguridad de la empresa" not in text_of(web.last)  # type: ignore[arg-type]

    answer = await web.submit("/app/settings/require-totp", {"required": "1"})

    assert answer.status_code == 403
    assert "Acción no permitida" in text_of(answer)
    assert (await web.get("/app/")).status_code == 200  # no second factor asked: nothing changed


async def test_the_second_factor(web: WebBrowser, tenant: Tenant, session: Session, clock: Clock) -> None:
    add_user(session, tenant.company_id, email="ana@example.cl")
    await web.signed_in("ana@example.cl")
    await web.get("/app/settings/totp")
    assert (await web.submit("/app/settings/totp")).status_code == 303
    setup = await web.get("/app/settings/totp")
    secret = session.execute(select(User)).scalars().one()
    assert secret.totp_secret is not None
    assert b"JBSW" not in secret.totp_secret  # sealed, not the text
    shown = text_of(setup).split("agregue una cuenta con esta clave: ")[1].split(" ")[0]
    totp = pyotp.TOTP(shown)
    assert (await web.submit("/app/settings/totp/confirm", {"code": "000000"})).status_code == 400
    assert (await web.submit("/app/settings/totp/confirm", {"code": totp.at(clock.now)})).status_code == 303
    await web.submit("/app/logout")

    assert (await web.sign_in("ana@example.cl")).status_code == 303
    asked = await web.get("/app/")
    assert asked.headers["location"] == "/app/login/totp"
    await web.get("/app/login/totp")
    assert (await web.submit("/app/settings/totp")).status_code == 403  # no re-enrolling around it
    wrong = await web.submit("/app/login/totp", {"code": "123456"})
    assert wrong.status_code == 401
    assert "El código no es correcto" in text_of(wrong)
    right = await web.submit("/app/login/totp", {"code": totp.at(clock.now)})
    assert right.status_code == 303
    assert (await web.get("/app/")).status_code == 200


async def test_an_owner_can_require_the_second_factor(
    web_browser: Callable[[], WebBrowser], tenant: Tenant, session: Session
) -> None:
    add_user(session, tenant.company_id, Role.OWNER, email="ana@example.cl")
    add_user(session, tenant.company_id, Role.COLLECTOR, email="cobra@example.cl")
    owner, collector = web_browser(), web_browser()
    await owner.signed_in("ana@example.cl")
    await owner.get("/app/settings")

    assert (await owner.submit("/app/settings/require-totp", {"required": "1"})).status_code == 303

    assert (await collector.sign_in("cobra@example.cl")).status_code == 303
    sent = await collector.get("/app/")
    assert sent.headers["location"] == "/app/settings/totp"
    page = await collector.get("/app/settings/totp")
    assert "exige un segundo factor" in text_of(page)
    assert (await collector.submit("/app/company", {"company": str(tenant.company_id)})).status_code == 403


async def test_the_audit_log_names_the_person(web: WebBrowser, tenant: Tenant, session: Session) -> None:
    user = add_user(session, tenant.company_id, email="ana@example.cl")
    await web.signed_in("ana@example.cl")
    await web.submit("/app/logout")

    log = (await tenant.get("/v1/getAuditLog", actor="user")).json()["items"]

    assert [(e["action"], e["userId"], e["tokenId"]) for e in log] == [
        ("app.signOut", str(user.id), None),
        ("app.signIn", str(user.id), None),
    ]
