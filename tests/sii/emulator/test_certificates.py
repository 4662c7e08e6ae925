"""The test CA's person certificates: what they hold, the legacy RC2 encryption, revocation."""

from __future__ import annotations

from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives.serialization import pkcs12

from dtehub.sii.emulator import Emulator, TestCertificateAuthority, holder_rut
from tests.sii.emulator.browser import Browser, title
from tests.sii.emulator.conftest import PASSWORD, PEDRO, pem_from_pfx

# pbeWithSHA1And40BitRC2-CBC (1.2.840.113549.1.12.1.6), DER-encoded.
RC2_40_OID = bytes.fromhex("060a2a864886f70d010c0106")
HOLDER_OID = x509.ObjectIdentifier("1.3.6.1.4.1.8321.1")
AUTHORITY_OID = x509.ObjectIdentifier("1.3.6.1.4.1.8321.2")


def test_a_person_certificate_holds_what_sii_reads(authority: TestCertificateAuthority) -> None:
    pfx = authority.issue_person_certificate(rut="7762388-4", name="Juana Pérez", password=PASSWORD)

    key, certificate, chain = pkcs12.load_key_and_certificates(pfx, PASSWORD)

    assert key is not None
    assert certificate is not None
    assert chain == [authority.certificate]
    assert key.key_size == 2048
    assert certificate.subject.rfc4514_string() == "CN=Juana Pérez,C=CL"
    names = certificate.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    [other] = names.get_values_for_type(x509.OtherName)
    assert (other.type_id, other.value) == (HOLDER_OID, b"\x16\x097762388-4")  # IA5String
    issuer_names = certificate.extensions.get_extension_for_class(x509.IssuerAlternativeName).value
    assert [name.type_id for name in issuer_names.get_values_for_type(x509.OtherName)] == [AUTHORITY_OID]
    usage = certificate.extensions.get_extension_for_class(x509.KeyUsage).value
    assert usage.digital_signature
    assert usage.content_commitment
    assert holder_rut(certificate) == "7762388-4"
    assert not authority.is_revoked(certificate.serial_number)


def test_a_wrong_password_does_not_open_it(authority: TestCertificateAuthority) -> None:
    pfx = authority.issue_person_certificate(rut=PEDRO, name="Pedro", password=PASSWORD, legacy_rc2=True)

    with pytest.raises(ValueError, match="Invalid password"):
        pkcs12.load_key_and_certificates(pfx, b"otra")


def test_a_legacy_rc2_certificate_loads_and_logs_in(
    emulator: Emulator, authority: TestCertificateAuthority, tmp_path: Path
) -> None:
    pfx = authority.issue_person_certificate(rut=PEDRO, name="Pedro Soto", password=PASSWORD, legacy_rc2=True)

    assert RC2_40_OID in pfx
    pem = tmp_path / "legacy.pem"
    pem.write_bytes(pem_from_pfx(pfx, PASSWORD))  # cryptography reads what openssl -legacy wrote
    with Browser(emulator, pem) as browser:
        assert title(browser.login()) == "Autenticación"


def test_revoking_writes_the_serial_to_revoked_json(authority: TestCertificateAuthority) -> None:
    pfx = authority.issue_person_certificate(rut=PEDRO, name="Pedro", password=PASSWORD, revoked=True)

    _, certificate, _ = pkcs12.load_key_and_certificates(pfx, PASSWORD)

    assert certificate is not None
    assert authority.is_revoked(certificate.serial_number)
    assert f"{certificate.serial_number:X}" in (authority.directory / "revoked.json").read_text()


def test_the_ca_is_kept_between_runs(authority: TestCertificateAuthority) -> None:
    again = TestCertificateAuthority.load_or_create(authority.directory)

    assert again.certificate == authority.certificate
    assert again.server_credentials() == authority.server_credentials()
