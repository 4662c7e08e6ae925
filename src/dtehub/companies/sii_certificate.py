"""The company's SII certificate: checked when it arrives, kept sealed, opened only to log in to SII.

A certificate (PKCS#12 and its password) is opened at once: it must be readable, name its holder's
RUT and be valid now. What is stored is not the upload: the key, the certificate and its chain are
written again as a PKCS#12 without a password, and that is sealed (:mod:`dtehub.kit.sealing`, purpose
``SII_CERTIFICATE``, the company id bound as associated data) before it reaches the session. The
password is never stored, logged or echoed; nor is the file. The holder, validity and fingerprint are
stored in clear: they are what the API shows, and no secret.

:func:`load_company_certificate` is the one way back to a usable certificate (the SII sync calls it).
It does not judge the validity dates: callers that log in call ``require_valid()`` (an expired
certificate is a problem a run reports, not a missing one).

Reading a PKCS#12 makes OpenSSL check its RSA key (tens of milliseconds of CPU), which every SII call
paid (a cedibility check opened the certificate for each document). So an opened certificate is kept
**in this process's memory only** (never written anywhere) for at most :data:`OPENED_SECONDS`, at most
:data:`OPENED_ENTRIES` of them, keyed by the company id and the SHA-256 of the sealed file as stored.
The row is read and the sealed file opened with the current key on every call, so: a certificate
replaced (a new upload seals a new file, with a new nonce, even for the same certificate) is used from
the next call on; one deleted is never used again (no row, no certificate); one sealed under another
``DTEHUB_SECRET_KEY`` does not open. Storing or removing a certificate also drops its company's entries
at once in the process that does it.
"""

from __future__ import annotations

import hashlib
import threading
import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from cryptography.hazmat.primitives.serialization import NoEncryption, pkcs12
from sqlalchemy.orm import Session

from dtehub.companies import repository
from dtehub.config import Settings
from dtehub.errors import FileTooLarge, SiiCertificateMissing, SiiCertificateSealedElsewhere
from dtehub.kit import base64
from dtehub.kit.dates import today_in_santiago, utcnow
from dtehub.kit.sealing import Purpose, Sealer, require_sealer
from dtehub.models import CompanySiiCertificate
from dtehub.sii.certificate import PersonCertificate, load_pfx
from dtehub.sii.errors import CertificateError, CertificateUnreadable, CertificateUnusable

MAX_PFX_BYTES = 256 * 1024
"""A personal certificate's PKCS#12 is a few kilobytes; anything much larger is not one."""
EXPIRY_WARNING_DAYS = 30
"""A certificate that ends within this many days is shown with a warning."""
PFX_FIELD = "certificate_pfx_base64"
PASSWORD_FIELD = "certificate_password"  # noqa: S105 (a field's name, not a password)
_NEEDED_BY = "SII certificates"
OPENED_ENTRIES = 32
"""Opened certificates kept in memory at most (the least recently used goes first)."""
OPENED_SECONDS = 300.0
"""How long an opened certificate (its private key) stays in memory, from when it was opened."""


class OpenedCertificates:
    """Opened certificates by (company id, SHA-256 of the sealed file), bounded in number and in age.

    In memory only; thread-safe (the web server and the background jobs share a process).
    """

    def __init__(
        self,
        entries: int = OPENED_ENTRIES,
        seconds: float = OPENED_SECONDS,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._entries, self._seconds, self._clock = entries, seconds, clock
        self._lock = threading.Lock()
        self._opened: OrderedDict[tuple[int, bytes], tuple[float, PersonCertificate]] = OrderedDict()

    def __repr__(self) -> str:
        return f"OpenedCertificates({len(self._opened)} held)"

    def get(self, company_id: int, sealed: bytes) -> PersonCertificate | None:
        key = (company_id, hashlib.sha256(sealed).digest())
        with self._lock:
            found = self._opened.get(key)
            if found is None:
                return None
            if self._clock() - found[0] >= self._seconds:
                del self._opened[key]
                return None
            self._opened.move_to_end(key)
            return found[1]

    def put(self, company_id: int, sealed: bytes, certificate: PersonCertificate) -> None:
        key = (company_id, hashlib.sha256(sealed).digest())
        with self._lock:
            self._forget_locked(company_id)  # a company's older file is never wanted again
            self._opened[key] = (self._clock(), certificate)
            while len(self._opened) > self._entries:
                self._opened.popitem(last=False)

    def forget(self, company_id: int) -> None:
        with self._lock:
            self._forget_locked(company_id)

    def _forget_locked(self, company_id: int) -> None:
        for key in [key for key in self._opened if key[0] == company_id]:
            del self._opened[key]

    def clear(self) -> None:
        with self._lock:
            self._opened.clear()


OPENED = OpenedCertificates()
"""This process's opened certificates (:func:`load_company_certificate`)."""


def _sealer(settings: Settings) -> Sealer:
    return require_sealer(settings.secret_key, Purpose.SII_CERTIFICATE, needed_by=_NEEDED_BY)


def decode_pfx(encoded: str) -> bytes:
    """The ``certificate_pfx_base64`` field, decoded (at most 256 KiB)."""
    return base64.decode_field(
        encoded, field=PFX_FIELD, max_bytes=MAX_PFX_BYTES, what="the certificate", too_large=FileTooLarge
    )


def store_certificate(
    session: Session,
    company_id: int,
    pfx: bytes,
    password: str,
    settings: Settings,
    *,
    now: datetime | None = None,
) -> CompanySiiCertificate:
    """Check ``pfx`` and keep it sealed as the company's certificate (replacing any other).

    Raises :class:`~dtehub.errors.SecretKeyMissing` without a key (before reading anything), and a
    :class:`~dtehub.sii.errors.CertificateError` naming the field at fault when the file cannot be
    opened, names no RUT, has expired or is not valid yet; nothing is changed then.
    """
    sealer = _sealer(settings)
    if not pfx:
        raise CertificateUnreadable(f"{PFX_FIELD} is empty", field=PFX_FIELD)
    try:
        certificate = load_pfx(pfx, password)
        certificate.require_valid(now)
    except CertificateError as refused:
        wrong_password = isinstance(refused, CertificateUnreadable) and "password" in refused.message
        refused.field = PASSWORD_FIELD if wrong_password and pfx.startswith(b"\x30") else PFX_FIELD
        raise
    try:
        plain = pkcs12.serialize_key_and_certificates(
            None,
            certificate.key,  # type: ignore[arg-type]  # checked here: TypeError for a kind it cannot hold
            certificate.certificate,
            list(certificate.chain) or None,
            NoEncryption(),
        )
    except (TypeError, ValueError):
        raise CertificateUnusable(
            "the certificate's key is of a kind SII's login does not take", field=PFX_FIELD
        ) from None
    row = repository.get_sii_certificate(session, company_id)
    if row is None:
        row = CompanySiiCertificate(company_id=company_id)
        session.add(row)
    company = repository.get(session, company_id)
    if company is not None and company.collections_start_date is None:
        # From the day SII first syncs on: what it brings from before is history, never reminded.
        company.collections_start_date = today_in_santiago(now)
    OPENED.forget(company_id)
    row.sealed_pkcs12 = sealer.seal(plain, company_id)
    row.holder_rut = certificate.holder_rut
    row.holder_name = certificate.holder_name[:255]
    row.valid_until = certificate.not_after
    row.fingerprint = certificate.fingerprint
    row.added_at = now or utcnow()
    session.flush()
    return row


def remove_certificate(session: Session, company_id: int) -> None:
    """Forget the company's certificate (:class:`SiiCertificateMissing` when it has none)."""
    OPENED.forget(company_id)
    if not repository.delete_sii_certificate(session, company_id):
        raise SiiCertificateMissing("the company has no SII certificate", field="certificate")


def certificate_of(session: Session, company_id: int) -> CompanySiiCertificate | None:
    """What is stored of the company's certificate (its sealed file is not opened)."""
    return repository.get_sii_certificate(session, company_id)


def load_company_certificate(session: Session, company_id: int, settings: Settings) -> PersonCertificate:
    """The company's certificate, opened: :class:`SiiCertificateMissing` when it has none,
    :class:`~dtehub.errors.SecretKeyMissing` without a key, :class:`SiiCertificateSealedElsewhere` when
    it was sealed under another key. Its dates are not judged here (``require_valid()``).

    The row is read and its sealed file opened on every call; the PKCS#12 inside is read only when this
    process has not read that very file in the last :data:`OPENED_SECONDS` (:class:`OpenedCertificates`).
    """
    row = repository.get_sii_certificate(session, company_id)
    if row is None:  # said first: without one, setting DTEHUB_SECRET_KEY would change nothing
        OPENED.forget(company_id)
        raise SiiCertificateMissing(
            "the company has no SII certificate: add one with updateCompanySiiCertificate "
            "(or dtehub companies certificate)",
            field="certificate",
        )
    plain = _sealer(settings).open(row.sealed_pkcs12, company_id)
    if plain is None:
        raise SiiCertificateSealedElsewhere(
            "the company's SII certificate was stored under another DTEHUB_SECRET_KEY: restore that key, "
            "or upload the certificate again with updateCompanySiiCertificate"
        )
    opened = OPENED.get(company_id, row.sealed_pkcs12)
    if opened is None:
        opened = load_pfx(plain, "")
        OPENED.put(company_id, row.sealed_pkcs12, opened)
    return opened


@dataclass(frozen=True)
class ExpiryWarning:
    days_left: int
    message: str


def expiry_warning(valid_until: datetime, *, now: datetime | None = None) -> ExpiryWarning | None:
    """A warning when the certificate ends within :data:`EXPIRY_WARNING_DAYS` days (or has ended);
    None otherwise. The sync run's messages use the same words."""
    now = now or utcnow()
    left = valid_until - now
    if left > timedelta(days=EXPIRY_WARNING_DAYS):
        return None
    day = f"{valid_until:%Y-%m-%d}"
    if left <= timedelta(0):
        return ExpiryWarning(
            0, f"the SII certificate expired on {day}: SII syncs stop until a valid one is uploaded"
        )
    days = left.days
    when = "today" if days == 0 else "tomorrow" if days == 1 else f"in {days} days"
    return ExpiryWarning(
        days,
        f"the SII certificate expires {when} ({day}): upload a new one with updateCompanySiiCertificate "
        "so that SII syncs go on",
    )
