"""Certificate login: the success page and cookies, each refusal code, the TLS handshake, logout, expiry."""

from __future__ import annotations

import socket
import time

import httpx
import pytest

from dtehub.sii.emulator import Emulator, TestCertificateAuthority
from tests.sii.emulator.browser import (
    LANDING,
    LISTING,
    LOGIN,
    Browser,
    alert,
    login_code,
    quoted,
    title,
)
from tests.sii.emulator.conftest import (
    CLAVE,
    DESCONOCIDO,
    JUANA,
    MUCHAS,
    PASSWORD,
    PEDRO,
    SESIONES,
    Certificates,
    pem_from_pfx,
)

LIVEWIRE = ("rut", "rutm", "dv", "dvm", "clave", "mac", "exp", "sec", "lms")


def test_login_sets_sii_cookies_and_sends_the_browser_on(
    emulator: Emulator, certificates: Certificates
) -> None:
    with Browser(emulator, certificates.pem(JUANA)) as browser:
        response = browser.login()

        assert response.status_code == 200
        assert response.headers["content-type"] == "text/html; charset=ISO-8859-1"
        assert title(response) == "Autenticación"
        assert f"location.replace('{LANDING}')" in response.text
        assert "NETSCAPE_LIVEWIRE.locexp" in response.text  # set by the page's script, not by SII
        cookies = {c.split("=", 1)[0]: c for c in response.headers.get_list("set-cookie")}
        expected = {"TOKEN", "CSESSIONID", "RUT_NS", "DV_NS", *(f"NETSCAPE_LIVEWIRE.{p}" for p in LIVEWIRE)}
        assert set(cookies) == expected
        assert all("domain" not in cookie.lower() for cookie in cookies.values())  # host-only
        assert response.cookies["RUT_NS"] == "12345678"
        assert response.cookies["DV_NS"] == "5"
        assert response.cookies["CSESSIONID"] == response.cookies["TOKEN"]
        assert alert(response) is None


def test_login_by_get_with_the_referencia_in_the_query(
    emulator: Emulator, certificates: Certificates
) -> None:
    with Browser(emulator, certificates.pem(PEDRO)) as browser:
        query = f"rutcntr={PEDRO}&rut=11111111&dv=1&referencia={quoted(LANDING)}"
        response = browser.client.get(f"{LOGIN}?{query}")

        assert title(response) == "Autenticación"
        assert f"location.replace('{LANDING}')" in response.text
        assert "TOKEN" in response.cookies


def test_a_rut_only_in_the_subject_serial_number_is_enough(
    emulator: Emulator, certificates: Certificates
) -> None:
    with Browser(emulator, certificates.pem(PEDRO, rut_in="serial")) as browser:
        assert title(browser.login()) == "Autenticación"


@pytest.mark.parametrize(
    ("holder", "options", "code"),
    [
        (JUANA, {"revoked": True}, "35"),
        (JUANA, {"expired": True}, "36"),
        (JUANA, {"not_yet_valid": True}, "36"),
        (CLAVE, {}, "33"),
        (DESCONOCIDO, {}, "38"),
        (JUANA, {"rut_in": "none"}, "38"),
    ],
    ids=["revoked", "expired", "not-yet-valid", "password-only", "unknown-holder", "no-rut"],
)
def test_refused_logins_answer_sii_codes(
    emulator: Emulator, certificates: Certificates, holder: str, options: dict[str, object], code: str
) -> None:
    with Browser(emulator, certificates.pem(holder, **options)) as browser:
        response = browser.login()

        assert response.status_code == 200
        assert title(response) == "Redireccionando"
        assert login_code(response) == code
        assert "history.go(-1)" in response.text
        assert "set-cookie" not in response.headers


def test_login_without_a_certificate_is_refused(emulator: Emulator) -> None:
    with Browser(emulator) as browser:
        response = browser.login()

        assert login_code(response) == "34"
        assert "set-cookie" not in response.headers


def test_a_certificate_from_another_authority_fails_in_the_handshake(
    emulator: Emulator, tmp_path_factory: pytest.TempPathFactory
) -> None:
    foreign = TestCertificateAuthority.load_or_create(tmp_path_factory.mktemp("foreign-ca"))
    pfx = foreign.issue_person_certificate(rut=JUANA, name="Juana Pérez", password=PASSWORD)
    pem = tmp_path_factory.mktemp("foreign-client") / "client.pem"
    pem.write_bytes(pem_from_pfx(pfx, PASSWORD))
    logins = emulator.logins

    with Browser(emulator, pem) as browser, pytest.raises(httpx.ConnectError):
        browser.login()
    assert emulator.logins == logins


def test_a_silent_client_does_not_hold_up_the_others(emulator: Emulator, certificates: Certificates) -> None:
    with (
        socket.create_connection(("127.0.0.1", emulator.port)),  # connects, never says hello
        Browser(emulator, certificates.pem(PEDRO), timeout=3) as browser,
    ):
        assert title(browser.login()) == "Autenticación"


def test_more_open_sessions_than_allowed_get_code_27_until_one_logs_out(
    emulator: Emulator, certificates: Certificates
) -> None:
    pem = certificates.pem(MUCHAS)
    browsers = [Browser(emulator, pem) for _ in range(11)]
    try:
        for browser in browsers[:10]:
            assert title(browser.login()) == "Autenticación"
        assert emulator.open_sessions(MUCHAS) == 10

        refused = browsers[10].login()
        assert login_code(refused) == "27"
        assert emulator.open_sessions(MUCHAS) == 10

        logouts = emulator.logouts
        browsers[0].logout()
        assert emulator.logouts == logouts + 1
        assert emulator.open_sessions(MUCHAS) == 9
        assert title(browsers[10].login()) == "Autenticación"
        assert emulator.peak_sessions(MUCHAS) == 10
    finally:
        for browser in browsers:
            browser.close()
    assert emulator.open_sessions(MUCHAS) == 0


def test_portal_pages_need_the_token_and_locexp(emulator: Emulator, certificates: Certificates) -> None:
    with Browser(emulator, certificates.pem(SESIONES)) as browser:
        assert login_code(browser.client.get(LISTING)) == "28"  # no session at all

        browser.login()
        browser.client.cookies.delete("NETSCAPE_LIVEWIRE.locexp")
        without_locexp = browser.client.get(LISTING)
        assert login_code(without_locexp) == "28"
        assert title(without_locexp) == "Redireccionando"


def test_logout_ends_the_session(emulator: Emulator, certificates: Certificates) -> None:
    with Browser(emulator, certificates.pem(SESIONES)) as browser:
        browser.login()
        token = browser.client.cookies["TOKEN"]
        assert emulator.open_sessions(SESIONES) == 1
        assert title(browser.client.get(LISTING)) == "Documentos Emitidos"

        browser.logout()
        browser.client.cookies.set("TOKEN", token)
        browser.client.cookies.set("NETSCAPE_LIVEWIRE.locexp", "x")

        assert emulator.open_sessions(SESIONES) == 0
        assert login_code(browser.client.get(LISTING)) == "28"
        browser.client.cookies.clear()


def test_sessions_expire(emulator: Emulator, certificates: Certificates) -> None:
    with Browser(emulator, certificates.pem(SESIONES)) as browser:
        browser.login()
        emulator.faults.session_ttl_seconds = 0.2
        time.sleep(0.3)

        assert login_code(browser.client.get(LISTING)) == "29"
        assert emulator.open_sessions(SESIONES) == 0  # an expired session no longer counts


def test_sessions_can_be_expired_at_once(emulator: Emulator, certificates: Certificates) -> None:
    with Browser(emulator, certificates.pem(SESIONES)) as browser:
        browser.login()
        emulator.expire_sessions()

        assert login_code(browser.client.get(LISTING)) == "29"
        assert emulator.open_sessions(SESIONES) == 0
        browser.login()  # a new session is not expired
        assert emulator.open_sessions(SESIONES) == 1


def test_a_fewer_sessions_cap_can_be_set(emulator: Emulator, certificates: Certificates) -> None:
    emulator.faults.max_sessions_per_person = 1
    with (
        Browser(emulator, certificates.pem(SESIONES)) as first,
        Browser(emulator, certificates.pem(SESIONES)) as second,
    ):
        assert title(first.login()) == "Autenticación"
        assert login_code(second.login()) == "27"
