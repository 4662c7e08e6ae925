"""The emulator's own certification authority: TEST-ONLY keys, never to be trusted outside tests.

:class:`TestCertificateAuthority` keeps a CA (``ca.pem``, ``ca-key.pem``, key unencrypted on purpose: it
guards nothing), issues person certificates shaped like the ones SII-accredited authorities sell (the
holder's RUT as the ``subjectAltName`` otherName ``1.3.6.1.4.1.8321.1``, the authority's RUT in the issuer
alternative name as ``1.3.6.1.4.1.8321.2``) as PKCS#12 files, keeps a revocation list (``revoked.json``, a
list of serial numbers in upper-case hexadecimal; ``revoked.crl`` is the same list as a CRL, for the
handshake) and the emulator's TLS server certificate.

Many real Chilean PKCS#12 files use the legacy ``pbeWithSHA1And40BitRC2-CBC`` encryption, which
``cryptography`` reads but cannot write: ``legacy_rc2=True`` has the system ``openssl`` (3.x, ``-legacy``)
write it, given the key and certificates through a pipe and the password through another, so that neither
lands in a file or on a command line.
"""

from __future__ import annotations

import ipaddress
import json
import os
import subprocess
import tempfile
import threading
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Literal

from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.hazmat.primitives.serialization import pkcs12
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from dtehub.kit.rut import InvalidRut, normalize_rut

RutPlacement = Literal["san", "serial", "none"]
"""Where a person certificate carries its holder's RUT: subjectAltName otherName, subject serialNumber,
or nowhere (a certificate SII cannot tie to a person)."""

HOLDER_RUT_OID = x509.ObjectIdentifier("1.3.6.1.4.1.8321.1")
AUTHORITY_RUT_OID = x509.ObjectIdentifier("1.3.6.1.4.1.8321.2")
AUTHORITY_RUT = "99500000-8"
"""The RUT the test CA writes as its own: a valid check digit, no real company behind it on purpose."""

CA_FILE = "ca.pem"
CA_KEY_FILE = "ca-key.pem"
REVOKED_FILE = "revoked.json"
REVOCATION_LIST_FILE = "revoked.crl"
SERVER_FILE = "server.pem"
SERVER_KEY_FILE = "server-key.pem"
SERVER_NAMES = ("localhost", "127.0.0.1", "::1")

_CA_YEARS = 10
_SERVER_DAYS = 825
_RENEW_BEFORE = timedelta(days=30)
_PERSON_DAYS = 365
# DER string types an authority may use for the RUT: IA5String (the norm), UTF8String, PrintableString.
_DER_STRING_TAGS = {0x16, 0x0C, 0x13}


class TestCertificateAuthority:
    """A test CA kept in a directory; create it with :meth:`load_or_create`."""

    __test__ = False  # a name starting with "Test" is not a pytest test class

    def __init__(self, directory: Path, key: rsa.RSAPrivateKey, certificate: x509.Certificate) -> None:
        self.directory = directory
        self.key = key
        self.certificate = certificate
        self._revocation_lock = threading.Lock()

    @property
    def ca_bundle(self) -> Path:
        """The CA certificate (PEM) a client must trust to reach the emulator."""
        return self.directory / CA_FILE

    @classmethod
    def load_or_create(cls, directory: Path) -> TestCertificateAuthority:
        """The CA in ``directory``, made (with a new RSA 2048 key) when the directory holds none."""
        directory.mkdir(parents=True, exist_ok=True)
        certificate_path, key_path = directory / CA_FILE, directory / CA_KEY_FILE
        if certificate_path.exists() and key_path.exists():
            key = serialization.load_pem_private_key(key_path.read_bytes(), password=None)
            if not isinstance(key, rsa.RSAPrivateKey):
                raise ValueError(f"{key_path} does not hold an RSA key")
            certificate = x509.load_pem_x509_certificate(certificate_path.read_bytes())
            return cls(directory, key, certificate)
        key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        name = x509.Name(
            [
                x509.NameAttribute(NameOID.COUNTRY_NAME, "CL"),
                x509.NameAttribute(NameOID.ORGANIZATION_NAME, "dtehub SII emulator"),
                x509.NameAttribute(NameOID.COMMON_NAME, "dtehub emulator TEST CA - not a real authority"),
            ]
        )
        now = datetime.now(UTC)
        certificate = (
            x509.CertificateBuilder()
            .subject_name(name)
            .issuer_name(name)
            .public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - timedelta(days=1))
            .not_valid_after(now + timedelta(days=365 * _CA_YEARS))
            .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
            .add_extension(_key_usage(cert_sign=True), critical=True)
            .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
            .sign(key, hashes.SHA256())
        )
        _write_private(key_path, key.private_bytes(*_PEM_PKCS8, serialization.NoEncryption()))
        certificate_path.write_bytes(certificate.public_bytes(serialization.Encoding.PEM))
        return cls(directory, key, certificate)

    # --- person certificates ------------------------------------------------------------------------

    def issue_person_certificate(
        self,
        *,
        rut: str,
        name: str,
        password: bytes,
        expired: bool = False,
        not_yet_valid: bool = False,
        revoked: bool = False,
        legacy_rc2: bool = False,
        rut_in: RutPlacement = "san",
        valid_until: datetime | None = None,
    ) -> bytes:
        """A PKCS#12 file holding a new RSA 2048 key, the person's certificate and this CA's certificate.

        ``expired``/``not_yet_valid`` date the certificate in the past or the future; ``revoked`` adds its
        serial number to ``revoked.json``; ``legacy_rc2`` encrypts it the old way (RC2-40, SHA-1 MAC);
        ``valid_until`` ends a valid certificate at that instant instead of the usual two years.
        """
        if not password:
            raise ValueError("a PKCS#12 file needs a password")
        holder = normalize_rut(rut)
        key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        certificate = self._person_certificate(
            key,
            holder,
            name,
            expired=expired,
            not_yet_valid=not_yet_valid,
            rut_in=rut_in,
            valid_until=valid_until,
        )
        if revoked:
            self.revoke(certificate.serial_number)
        if legacy_rc2:
            return self._legacy_pkcs12(key, certificate, holder, password)
        return pkcs12.serialize_key_and_certificates(
            holder.encode("ascii"),
            key,
            certificate,
            [self.certificate],
            serialization.BestAvailableEncryption(password),
        )

    def _person_certificate(
        self,
        key: rsa.RSAPrivateKey,
        holder: str,
        name: str,
        *,
        expired: bool,
        not_yet_valid: bool,
        rut_in: RutPlacement,
        valid_until: datetime | None = None,
    ) -> x509.Certificate:
        now = datetime.now(UTC)
        if expired:
            not_before, not_after = now - timedelta(days=2 * _PERSON_DAYS), now - timedelta(days=1)
        elif not_yet_valid:
            not_before, not_after = now + timedelta(days=1), now + timedelta(days=_PERSON_DAYS)
        else:
            not_before, not_after = (
                now - timedelta(hours=1),
                valid_until or now + timedelta(days=_PERSON_DAYS),
            )
        attributes = [
            x509.NameAttribute(NameOID.COUNTRY_NAME, "CL"),
            x509.NameAttribute(NameOID.COMMON_NAME, name),
        ]
        if rut_in == "serial":
            attributes.append(x509.NameAttribute(NameOID.SERIAL_NUMBER, holder))
        builder = (
            x509.CertificateBuilder()
            .subject_name(x509.Name(attributes))
            .issuer_name(self.certificate.subject)
            .public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(not_before)
            .not_valid_after(not_after)
            .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
            .add_extension(_key_usage(), critical=True)
            .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.CLIENT_AUTH]), critical=False)
            .add_extension(
                x509.IssuerAlternativeName([x509.OtherName(AUTHORITY_RUT_OID, ia5_string(AUTHORITY_RUT))]),
                critical=False,
            )
            .add_extension(
                x509.AuthorityKeyIdentifier.from_issuer_public_key(self.key.public_key()), critical=False
            )
        )
        if rut_in == "san":
            builder = builder.add_extension(
                x509.SubjectAlternativeName([x509.OtherName(HOLDER_RUT_OID, ia5_string(holder))]),
                critical=False,
            )
        return builder.sign(self.key, hashes.SHA256())

    def _legacy_pkcs12(
        self, key: rsa.RSAPrivateKey, certificate: x509.Certificate, holder: str, password: bytes
    ) -> bytes:
        # The key goes to openssl through its stdin (a pipe) and the password through a second pipe
        # (``-passout fd:N``): neither is ever in a file or in the process list.
        pem = (
            key.private_bytes(*_PEM_PKCS8, serialization.NoEncryption())
            + certificate.public_bytes(serialization.Encoding.PEM)
            + self.certificate.public_bytes(serialization.Encoding.PEM)
        )
        read_end, write_end = os.pipe()
        try:
            os.write(write_end, password + b"\n")  # far below a pipe's capacity: cannot block
            os.close(write_end)
            write_end = -1
            command = [
                "openssl", "pkcs12", "-export", "-legacy",
                "-keypbe", "PBE-SHA1-RC2-40", "-certpbe", "PBE-SHA1-RC2-40", "-macalg", "sha1",
                "-name", holder, "-passout", f"fd:{read_end}",
            ]  # fmt: skip
            result = subprocess.run(  # noqa: S603  # fixed arguments, no shell
                command, input=pem, capture_output=True, pass_fds=(read_end,), check=False, timeout=30
            )
        finally:
            os.close(read_end)
            if write_end >= 0:
                os.close(write_end)
        if result.returncode != 0 or not result.stdout:
            detail = result.stderr.decode("utf-8", "replace").strip()
            raise RuntimeError(f"openssl could not write the legacy PKCS#12 file: {detail}")
        return result.stdout

    # --- revocation ----------------------------------------------------------------------------------

    def revoke(self, serial_number: int) -> None:
        """Add a certificate's serial number to ``revoked.json``."""
        with self._revocation_lock:
            serials = self.revoked_serials() | {serial_number}
            path = self.directory / REVOKED_FILE
            partial = path.with_suffix(".json.partial")
            partial.write_text(json.dumps(sorted(f"{s:X}" for s in serials), indent=1) + "\n")
            partial.replace(path)  # readers never see half a file

    def revoked_serials(self) -> frozenset[int]:
        """The serial numbers in ``revoked.json`` (read each time: a test may revoke while serving)."""
        path = self.directory / REVOKED_FILE
        if not path.exists():
            return frozenset()
        entries = json.loads(path.read_text())
        if not isinstance(entries, list):
            raise ValueError(f"{path} must hold a list of serial numbers in hexadecimal")
        return frozenset(int(str(entry), 16) for entry in entries)

    def is_revoked(self, serial_number: int) -> bool:
        return serial_number in self.revoked_serials()

    def revocation_list(self, serials: frozenset[int]) -> Path:
        """``revoked.crl``: this CA's certificate revocation list (PEM) of ``serials``, written for a TLS
        server to load (``ssl`` reads a CRL only from a file). It is valid as long as the CA."""
        now = datetime.now(UTC)
        builder = (
            x509.CertificateRevocationListBuilder()
            .issuer_name(self.certificate.subject)
            .last_update(now - timedelta(minutes=5))
            .next_update(self.certificate.not_valid_after_utc)
        )
        for serial in sorted(serials):
            entry = x509.RevokedCertificateBuilder().serial_number(serial).revocation_date(now).build()
            builder = builder.add_revoked_certificate(entry)
        pem = builder.sign(self.key, hashes.SHA256()).public_bytes(serialization.Encoding.PEM)
        path = self.directory / REVOCATION_LIST_FILE
        descriptor, partial = tempfile.mkstemp(prefix=".revoked-", suffix=".crl", dir=self.directory)
        with os.fdopen(descriptor, "wb") as file:
            file.write(pem)
        os.replace(partial, path)  # another emulator on the same directory never reads half a file
        return path

    # --- the TLS server's certificate ----------------------------------------------------------------

    def server_credentials(self) -> tuple[Path, Path]:
        """Paths of the server certificate (PEM, with the CA after it) and its key, made or renewed
        when missing, near their end or issued by another CA."""
        certificate_path = self.directory / SERVER_FILE
        key_path = self.directory / SERVER_KEY_FILE
        if certificate_path.exists() and key_path.exists() and self._still_good(certificate_path):
            return certificate_path, key_path
        key = ec.generate_private_key(ec.SECP256R1())  # fast to make; SII's own key type does not matter
        now = datetime.now(UTC)
        names: list[x509.GeneralName] = [x509.DNSName("localhost")]
        names += [x509.IPAddress(ipaddress.ip_address(address)) for address in SERVER_NAMES[1:]]
        certificate = (
            x509.CertificateBuilder()
            .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "localhost")]))
            .issuer_name(self.certificate.subject)
            .public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - timedelta(days=1))
            .not_valid_after(now + timedelta(days=_SERVER_DAYS))
            .add_extension(x509.SubjectAlternativeName(names), critical=False)
            .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
            .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
            .add_extension(
                x509.AuthorityKeyIdentifier.from_issuer_public_key(self.key.public_key()), critical=False
            )
            .sign(self.key, hashes.SHA256())
        )
        _write_private(key_path, key.private_bytes(*_PEM_PKCS8, serialization.NoEncryption()))
        certificate_path.write_bytes(
            certificate.public_bytes(serialization.Encoding.PEM)
            + self.certificate.public_bytes(serialization.Encoding.PEM)
        )
        return certificate_path, key_path

    def _still_good(self, certificate_path: Path) -> bool:
        certificate = x509.load_pem_x509_certificate(certificate_path.read_bytes())
        if datetime.now(UTC) + _RENEW_BEFORE > certificate.not_valid_after_utc:
            return False
        try:
            certificate.verify_directly_issued_by(self.certificate)
        except (ValueError, TypeError, InvalidSignature):
            return False
        return True


# --- reading a presented certificate ---------------------------------------------------------------


def holder_rut(certificate: x509.Certificate) -> str | None:
    """The holder's canonical RUT: the ``1.3.6.1.4.1.8321.1`` otherName of the subjectAltName, else the
    subject's serialNumber (some authorities put it only there); None when neither holds a valid RUT."""
    try:
        names = certificate.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    except x509.ExtensionNotFound:
        names = x509.SubjectAlternativeName([])
    for other in names.get_values_for_type(x509.OtherName):
        if other.type_id == HOLDER_RUT_OID and (text := _der_string(other.value)) is not None:
            rut = _valid_rut(text)
            if rut is not None:
                return rut
    for attribute in certificate.subject.get_attributes_for_oid(NameOID.SERIAL_NUMBER):
        value = attribute.value
        rut = _valid_rut(value if isinstance(value, str) else value.decode("latin-1"))
        if rut is not None:
            return rut
    return None


def ia5_string(text: str) -> bytes:
    """The DER encoding of an IA5String (short form length: fine for a RUT)."""
    encoded = text.encode("ascii")
    if len(encoded) > 127:
        raise ValueError("only short IA5Strings are encoded here")
    return bytes([0x16, len(encoded)]) + encoded


def _der_string(der: bytes) -> str | None:
    if len(der) < 2 or der[0] not in _DER_STRING_TAGS or der[1] > 127 or len(der) != 2 + der[1]:
        return None
    return der[2:].decode("utf-8", "replace")


def _valid_rut(text: str) -> str | None:
    try:
        return normalize_rut(text)
    except InvalidRut:
        return None


# --- small helpers -----------------------------------------------------------------------------------

_PEM_PKCS8 = (serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8)


def _key_usage(*, cert_sign: bool = False) -> x509.KeyUsage:
    return x509.KeyUsage(
        digital_signature=not cert_sign,
        content_commitment=not cert_sign,
        key_encipherment=False,
        data_encipherment=False,
        key_agreement=False,
        key_cert_sign=cert_sign,
        crl_sign=cert_sign,
        encipher_only=False,
        decipher_only=False,
    )


def _write_private(path: Path, content: bytes) -> None:
    """Write a (test) key readable by its owner only."""
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(descriptor, "wb") as file:
        file.write(content)
