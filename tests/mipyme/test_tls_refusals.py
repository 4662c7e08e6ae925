"""A certificate SII refuses in the TLS handshake is a login error (status 3) that names the alert and says
what to do, never "retry later"; only resets and timeouts without an alert are SII being unavailable
(status 4). Over real TLS against the emulator, with TLS 1.2 (the refusal comes in the client's handshake)
and TLS 1.3 (it comes after, on the first read), through the API and ``dtehub mipyme get``."""

from __future__ import annotations

import dataclasses
import subprocess
from pathlib import Path

import pytest

from dtehub.sii.emulator import Emulator, Handshake, TestCertificateAuthority
from dtehub.sii.emulator.handshake import TlsVersion
from dtehub.sii.sessions import SessionPool
from tests.conftest import Tenant
from tests.mipyme.conftest import COMPANY, HOLDER, PASSWORD, Certificates
from tests.mipyme.test_get_document import ask, request
from tests.mipyme.test_real_processes import DTEHUB, sii_environment

VERSIONS: list[TlsVersion] = ["1.2", "1.3"]
EMULATOR_CA = "dtehub emulator TEST CA - not a real authority"
UNKNOWN_CA = (
    f"SII (127.0.0.1) refused the certificate of {HOLDER} in the TLS handshake (alert unknown_ca): "
    f"SII does not accept certificates from this certification authority ({EMULATOR_CA}); "
    "use a certificate from a certification authority accredited by SII"
)


@pytest.fixture(scope="module")
def foreign_ca(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Another authority's CA certificate: not the one the emulator's server certificate comes from."""
    return TestCertificateAuthority.load_or_create(tmp_path_factory.mktemp("other-ca")).ca_bundle


@pytest.mark.parametrize("version", VERSIONS)
async def test_a_certificate_from_an_authority_sii_does_not_accept(
    company: Tenant, certificates: Certificates, sii: Emulator, version: TlsVersion
) -> None:
    sii.handshake = Handshake(tls_version=version)
    connections = sii.connections

    answer = await ask(company, request(certificates.foreign), 502, 3)

    assert answer["message"] == UNKNOWN_CA
    assert answer["error"]["code"] == "sii_tls_unknown_ca"
    assert sii.connections == connections + 1  # SII's verdict: asking again cannot change it


@pytest.mark.parametrize("version", VERSIONS)
async def test_a_certificate_sii_finds_revoked_in_the_handshake(
    company: Tenant, certificates: Certificates, sii: Emulator, version: TlsVersion
) -> None:
    sii.handshake = Handshake(tls_version=version, refuse_revoked=True)

    answer = await ask(company, request(certificates.revoked), 502, 3)

    assert answer["message"] == (
        f"SII (127.0.0.1) refused the certificate of {HOLDER} in the TLS handshake (alert "
        f"certificate_revoked): the certificate of {HOLDER} has been revoked by its certification "
        "authority; get a new certificate from the authority"
    )


@pytest.mark.parametrize(
    ("alert", "says", "tries"),
    [
        ("unknown_ca", "SII does not accept certificates from this certification authority", 1),
        ("certificate_expired", f"SII considers the certificate of {HOLDER} expired; renew it", 1),
        ("certificate_revoked", f"the certificate of {HOLDER} has been revoked", 1),
        ("bad_certificate", f"SII found the certificate of {HOLDER} bad", 1),
        ("unsupported_certificate", "SII does not support this kind of certificate", 1),
        ("certificate_unknown", f"SII could not accept the certificate of {HOLDER}", 1),
        ("certificate_required", "SII requires a client certificate and received none it could use", 1),
        ("access_denied", f"SII accepted the certificate of {HOLDER} but denied access with it", 1),
        ("handshake_failure", f"SII ended the TLS handshake: it found no certificate of {HOLDER}", 3),
    ],
)
async def test_each_certificate_alert_is_a_login_error_that_says_what_to_do(
    company: Tenant, certificates: Certificates, sii: Emulator, alert: str, says: str, tries: int
) -> None:
    sii.handshake = Handshake(tls_version="1.3", alert=alert)
    connections = sii.connections

    answer = await ask(company, request(certificates.holder), 502, 3)

    assert answer["message"].startswith(
        f"SII (127.0.0.1) refused the certificate of {HOLDER} in the TLS handshake (alert {alert}): {says}"
    )
    assert answer["error"]["code"] == f"sii_tls_{alert}"
    # handshake_failure may also end a flaky handshake: tried as often as a dropped connection.
    assert sii.connections == connections + tries


async def test_an_alert_that_says_nothing_of_the_certificate_is_sii_unavailable(
    company: Tenant, certificates: Certificates, sii: Emulator
) -> None:
    sii.handshake = Handshake(alert="internal_error")
    connections = sii.connections

    answer = await ask(company, request(certificates.holder), 503, 4)

    assert (
        answer["message"] == "SII (127.0.0.1) ended the TLS connection with alert internal_error; retry later"
    )
    assert sii.connections == connections + 3


@pytest.mark.parametrize("version", VERSIONS)
async def test_a_refusal_hidden_by_resets_is_still_found(
    company: Tenant, certificates: Certificates, sii: Emulator, version: TlsVersion
) -> None:
    # Every try of the login is reset, as a TLS 1.3 refusal can be when it races the request: before
    # answering "unavailable", dtehub asks SII's verdict on the certificate once more.
    sii.handshake = Handshake(tls_version=version)
    sii.faults.handshake_failures = 3
    connections = sii.connections

    answer = await ask(company, request(certificates.foreign), 502, 3)

    assert answer["message"] == UNKNOWN_CA
    assert sii.connections == connections + 4


async def test_resets_without_an_alert_stay_sii_unavailable(
    company: Tenant, certificates: Certificates, sii: Emulator
) -> None:
    sii.faults.handshake_failures = 4  # the three tries and the look for a verdict

    answer = await ask(company, request(certificates.holder), 503, 4)

    assert answer["message"] == "could not reach SII (127.0.0.1): ConnectError; retry later"


async def test_a_reset_login_with_an_accepted_certificate_stays_sii_unavailable(
    company: Tenant, certificates: Certificates, sii: Emulator
) -> None:
    # With TLS 1.3 the look for a verdict completes its handshake and hears nothing: no refusal.
    sii.handshake = Handshake(tls_version="1.3")
    sii.faults.handshake_failures = 3
    logins, connections = sii.logins, sii.connections

    answer = await ask(company, request(certificates.holder), 503, 4)

    assert answer["message"] == "could not reach SII (127.0.0.1): ConnectError; retry later"
    assert sii.connections == connections + 4
    assert sii.logins == logins  # the look for a verdict sends nothing: no session at SII


async def test_a_server_certificate_dtehub_does_not_trust_is_not_retried(
    company: Tenant, certificates: Certificates, sii: Emulator, sii_pool: SessionPool, foreign_ca: Path
) -> None:
    sii_pool.config = dataclasses.replace(sii_pool.config, ca_bundle=str(foreign_ca))
    connections = sii.connections

    answer = await ask(company, request(certificates.holder), 503, 4)

    assert answer["message"].startswith("SII's server certificate (127.0.0.1) is not trusted: ")
    assert answer["message"].endswith("(DTEHUB_SII_CA_BUNDLE names the trusted authorities)")
    assert sii.connections == connections + 1


@pytest.mark.slow
@pytest.mark.parametrize(
    ("which", "faults", "status", "says"),
    [
        ("foreign", 0, 3, UNKNOWN_CA),
        ("holder", 4, 4, "could not reach SII (127.0.0.1): ConnectError; retry later"),
    ],
)
def test_mipyme_get_says_the_same_and_exits_with_the_status(
    tmp_path: Path, certificates: Certificates, sii: Emulator, which: str, faults: int, status: int, says: str
) -> None:
    sii.handshake = Handshake(tls_version="1.3")
    sii.faults.handshake_failures = faults
    pfx = tmp_path / "persona.pfx"
    pfx.write_bytes(getattr(certificates, which))
    command = [str(DTEHUB), "mipyme", "get", "--pfx", str(pfx), "--company", COMPANY, "--type", "33"]

    done = subprocess.run(
        [*command, "--folio", "25568"], env=sii_environment(sii, DTEHUB_PFX_PASSWORD=PASSWORD),
        capture_output=True, text=True, timeout=60, check=False,
    )  # fmt: skip

    assert done.returncode == status, done.stderr
    assert done.stdout == ""
    assert " ".join(done.stderr.split()) == f"error (status {status}): {says}"  # as wrapped for a terminal
