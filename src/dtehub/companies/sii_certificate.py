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
"""

from __future__ import annotations

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
    if not repository.delete_sii_certificate(session, company_id):
        raise SiiCertificateMissing("the company has no SII certificate", field="certificate")


def certificate_of(session: Session, company_id: int) -> CompanySiiCertificate | None:
    """What is stored of the company's certificate (its sealed file is not opened)."""
    return repository.get_sii_certificate(session, company_id)


def load_company_certificate(session: Session, company_id: int, settings: Settings) -> PersonCertificate:
    """The company's certificate, opened: :class:`SiiCertificateMissing` when it has none,
    :class:`~dtehub.errors.SecretKeyMissing` without a key, :class:`SiiCertificateSealedElsewhere` when
    it was sealed under another key. Its dates are not judged here (``require_valid()``)."""
    sealer = _sealer(settings)
    row = repository.get_sii_certificate(session, company_id)
    if row is None:
        raise SiiCertificateMissing(
            "the company has no SII certificate: add one with updateCompanySiiCertificate "
            "(or dtehub companies certificate)",
            field="certificate",
        )
    plain = sealer.open(row.sealed_pkcs12, company_id)
    if plain is None:
        raise SiiCertificateSealedElsewhere(
            "the company's SII certificate was stored under another DTEHUB_SECRET_KEY: restore that key, "
            "or upload the certificate again with updateCompanySiiCertificate"
        )
    return load_pfx(plain, "")


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
