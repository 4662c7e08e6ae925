"""Certificates refused in the TLS handshake, as SII's hosts can: each refusal is the alert a client reads,
with TLS 1.2 (in the client's handshake) and TLS 1.3 (after it, on the client's first read)."""

from __future__ import annotations

import socket
import ssl
from pathlib import Path

import httpx
import pytest
from cryptography.hazmat.primitives.serialization import pkcs12

from dtehub.sii.emulator import Emulator, Handshake, HandshakeError, TestCertificateAuthority
from dtehub.sii.emulator.handshake import TlsVersion
from tests.sii.emulator.browser import Browser, Reachable, title
from tests.sii.emulator.conftest import JUANA, PASSWORD, PEDRO, Certificates, pem_from_pfx

VERSIONS: list[TlsVersion] = ["1.2", "1.3"]


def refusal(emulator: Reachable, certificate: Path | None) -> str:
    """The alert the emulator refuses ``certificate`` with, as a client reads it.

    Nothing is sent after the handshake, so the only thing that can come is the server's verdict: with
    TLS 1.3 it arrives after the client's handshake is over."""
    context = ssl.create_default_context(cafile=str(emulator.ca_bundle))
    if certificate is not None:
        context.load_cert_chain(certificate)
    url = httpx.URL(emulator.base_url)
    with socket.create_connection((url.host, url.port or 443), timeout=10) as raw:
        try:
            with context.wrap_socket(raw, server_hostname="127.0.0.1") as connection:
                received = connection.recv(1)
        except ssl.SSLError as error:
            return str(error.reason)
    raise AssertionError(f"the handshake was not refused (received {received!r})")


def logs_in(emulator: Emulator, certificate: Path) -> bool:
    with Browser(emulator, certificate) as browser:
        return title(browser.login()) == "Autenticación"


@pytest.fixture(scope="module")
def foreign(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """Another authority's CA certificate, and Juana's certificate issued by it (PEM with its key)."""
    directory = tmp_path_factory.mktemp("foreign-ca")
    other = TestCertificateAuthority.load_or_create(directory / "ca")
    pem = directory / "juana.pem"
    pem.write_bytes(
        pem_from_pfx(other.issue_person_certificate(rut=JUANA, name="J", password=PASSWORD), PASSWORD)
    )
    return other.ca_bundle, pem


@pytest.mark.parametrize("version", VERSIONS)
def test_a_certificate_from_an_authority_not_trusted_gets_unknown_ca(
    emulator: Emulator, foreign: tuple[Path, Path], version: TlsVersion
) -> None:
    emulator.handshake = Handshake(tls_version=version)

    assert refusal(emulator, foreign[1]) == "TLSV1_ALERT_UNKNOWN_CA"


def test_trusted_authorities_can_be_added(emulator: Emulator, foreign: tuple[Path, Path]) -> None:
    emulator.handshake = Handshake(tls_version="1.3", trusted_cas=(foreign[0],))

    assert logs_in(emulator, foreign[1])


@pytest.mark.parametrize("version", VERSIONS)
def test_dates_can_be_checked_in_the_handshake(
    emulator: Emulator, certificates: Certificates, version: TlsVersion
) -> None:
    expired, not_yet_valid = (
        certificates.pem(PEDRO, expired=True),
        certificates.pem(PEDRO, not_yet_valid=True),
    )
    emulator.handshake = Handshake(tls_version=version, refuse_expired=True)

    assert refusal(emulator, expired) == "SSLV3_ALERT_CERTIFICATE_EXPIRED"
    assert refusal(emulator, not_yet_valid) == "SSLV3_ALERT_BAD_CERTIFICATE"
    assert logs_in(emulator, certificates.pem(PEDRO))


@pytest.mark.parametrize("version", VERSIONS)
def test_revocation_can_be_checked_in_the_handshake_as_it_changes(
    emulator: Emulator, certificates: Certificates, tmp_path: Path, version: TlsVersion
) -> None:
    emulator.handshake = Handshake(tls_version=version, refuse_revoked=True)
    assert refusal(emulator, certificates.pem(PEDRO, revoked=True)) == "SSLV3_ALERT_CERTIFICATE_REVOKED"

    pfx = emulator.authority.issue_person_certificate(rut=JUANA, name="J", password=PASSWORD)
    fresh = tmp_path / "juana.pem"
    fresh.write_bytes(pem_from_pfx(pfx, PASSWORD))
    assert logs_in(emulator, fresh)
    _, certificate, _ = pkcs12.load_key_and_certificates(pfx, PASSWORD)
    assert certificate is not None
    emulator.authority.revoke(certificate.serial_number)  # while serving: the next handshake knows
    assert refusal(emulator, fresh) == "SSLV3_ALERT_CERTIFICATE_REVOKED"


@pytest.mark.parametrize(
    ("version", "alert"),
    [("1.2", "SSLV3_ALERT_HANDSHAKE_FAILURE"), ("1.3", "TLSV13_ALERT_CERTIFICATE_REQUIRED")],
)
def test_a_certificate_can_be_required(emulator: Emulator, version: TlsVersion, alert: str) -> None:
    emulator.handshake = Handshake(tls_version=version, require_certificate=True)

    assert refusal(emulator, None) == alert


@pytest.mark.parametrize("version", VERSIONS)
def test_every_handshake_can_be_refused_with_an_alert(
    emulator: Emulator, certificates: Certificates, version: TlsVersion
) -> None:
    emulator.handshake = Handshake(tls_version=version, alert="access_denied")

    assert refusal(emulator, certificates.pem(PEDRO)) == "TLSV1_ALERT_ACCESS_DENIED"
    emulator.handshake = Handshake()
    assert logs_in(emulator, certificates.pem(PEDRO))


def test_by_default_dates_revocation_and_a_missing_certificate_are_left_to_the_login_page(
    emulator: Emulator, certificates: Certificates
) -> None:
    # The login page's codes 36, 35 and 34 (tests/sii/emulator/test_login.py): the handshake lets them by.
    for certificate in (certificates.pem(PEDRO, expired=True), certificates.pem(PEDRO, revoked=True), None):
        with Browser(emulator, certificate) as browser:
            assert title(browser.login()) == "Redireccionando"


def test_a_handshake_that_cannot_be_served_is_refused_and_the_last_one_stays(
    emulator: Emulator, tmp_path: Path, foreign: tuple[Path, Path]
) -> None:
    with pytest.raises(HandshakeError, match="no TLS alert"):
        Handshake(alert="not_an_alert")
    with pytest.raises(HandshakeError, match=r"1\.2 or 1\.3"):
        Handshake(tls_version="1.1")
    not_pem = tmp_path / "not.pem"
    not_pem.write_text("not a certificate")
    with pytest.raises(HandshakeError, match="cannot be read as PEM"):
        emulator.handshake = Handshake(trusted_cas=(not_pem,))

    assert emulator.handshake == Handshake()
    assert refusal(emulator, foreign[1]) == "TLSV1_ALERT_UNKNOWN_CA"
