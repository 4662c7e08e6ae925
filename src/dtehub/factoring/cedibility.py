"""Can this invoice be financed? Every source at once: the DTE's XML verdicts, its type, what SII's
acceptance/claim service says (reception, cedibility code, claims, cancelling credit notes; read now and
stored beside the document), the credit notes and payments dtehub holds, the 8-day window, and the RTC.

Each check has a status:

- ``passed``; ``failed`` (it cannot be ceded: the reason says what to do); ``pending`` (not yet: the
  receiver may still claim, SII has not received it yet…); ``warning`` (it can be ceded, but read this);
  ``not_applicable`` (the check does not concern this type); ``not_checked`` (dtehub could not ask: SII
  unreachable, no certificate, or a query dtehub does not make yet).

The document is ``cedible`` when no check failed or is pending and every check that decides was made:
the XML, the type, the amounts, SII's four (reception, code, claims, window) and the cession registry
(dtehub's own cession of it, pending or registered, else SII's RTC asked with ``getEstCesion``).
``reasons`` lists every check that did not pass, each with its source and what to do.
``docs/factoring.md`` says what each check means.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any

from sqlalchemy.orm import Session

from dtehub.companies.sii_certificate import load_company_certificate
from dtehub.config import Settings
from dtehub.errors import NotFound, SecretKeyMissing, SiiCertificateMissing, SiiCertificateSealedElsewhere
from dtehub.factoring import repository
from dtehub.factoring.acceptance import SiiEvent, asks_sii, document_ref
from dtehub.factoring.acceptance import ask_sii as ask_acceptance
from dtehub.factoring.repository import ACCEPTED, UPLOADING
from dtehub.factoring.units import Units
from dtehub.kit.dates import SANTIAGO, format_datetime, utcnow
from dtehub.kit.money import format_cents
from dtehub.models import Company, Document, DocumentCession, DocumentSiiAcceptance, Note, NoteReason
from dtehub.sii.certificate import PersonCertificate
from dtehub.sii.errors import CertificateError, SiiError
from dtehub.sii.ws import rtc
from dtehub.sii.ws.auth import DEFAULT_TOKENS, TokenCache
from dtehub.sii.ws.client import WsClient
from dtehub.sii.ws.errors import WsNotAuthorized
from dtehub.sii.ws.reclamo import CEDIBLE_CODES, CLAIMS, NOT_YET_CODE, RECEIPTS

CEDIBLE_TYPES = frozenset({33, 34, 43, 46})
"""The types an electronic cession (AEC) may carry."""
WINDOW = timedelta(days=8)
CREDIT_NOTE_CODES = frozenset({61, 112})


class Status(StrEnum):
    PASSED = "passed"
    FAILED = "failed"
    PENDING = "pending"
    WARNING = "warning"
    NOT_APPLICABLE = "not_applicable"
    NOT_CHECKED = "not_checked"


class Source(StrEnum):
    XML = "xml"
    DTEHUB = "dtehub"
    SII = "sii"
    RTC = "rtc"


@dataclass
class Check:
    name: str
    source: Source
    status: Status
    message: str
    action: str = ""
    decides: bool = True
    details: dict[str, Any] = field(default_factory=dict)

    def as_json(self) -> dict[str, Any]:
        return {
            "status": self.status.value,
            "source": self.source.value,
            "message": self.message,
            **self.details,
        }

    def reason(self) -> dict[str, Any]:
        return {
            "check": self.name,
            "status": self.status.value,
            "source": self.source.value,
            "message": self.message,
            "action": self.action,
        }


@dataclass(frozen=True)
class Verdict:
    cedible: bool
    checked_at: datetime
    checks: list[Check]

    def as_json(self) -> dict[str, Any]:
        return {
            "cedible": self.cedible,
            "checkedAt": format_datetime(self.checked_at),
            "reasons": [
                c.reason() for c in self.checks if c.status not in (Status.PASSED, Status.NOT_APPLICABLE)
            ],
            "checks": {c.name: c.as_json() for c in self.checks},
        }


CertificateLoader = Callable[[Session, int, Settings], PersonCertificate]
"""How the company's stored SII certificate is opened (``dtehub.companies.sii_certificate``)."""


@dataclass(frozen=True)
class SiiAccess:
    settings: Settings
    load_certificate: CertificateLoader = load_company_certificate
    tokens: TokenCache = DEFAULT_TOKENS


@dataclass(frozen=True)
class _Read:
    """What the reading unit found (detached, fully loaded rows), for the steps after it."""

    company: Company
    document: Document
    notes: list[Note]
    certificate: PersonCertificate | None
    problem: Check | None
    """Why SII is not asked (no certificate, or one that cannot be opened)."""


def check_document(
    units: Units, company_id: int, document_id: int, sii: SiiAccess, *, now: datetime | None = None
) -> Verdict:
    """Every check of the document ``document_id`` of the company (another company's is a 404). No
    transaction is open while SII answers: the document is read in one unit of work, SII asked, and its
    answers stored (and the verdict made on what dtehub holds then) in another."""
    moment = now or utcnow()
    read = units(lambda session: _read(session, company_id, document_id, sii), writes=False)
    if read.problem is not None:
        answers = _settled(read.document, SiiAnswers(problem=read.problem))
    else:
        answers = ask_sii(read.company, read.document, sii, read.certificate, moment)
    stores = answers.acceptance is not None  # else the last unit only reads (the cession's state)
    return units(lambda session: _record(session, company_id, read, answers, moment), writes=stores)


def _read(session: Session, company_id: int, document_id: int, sii: SiiAccess) -> _Read:
    document = repository.document(session, company_id, document_id)
    company = repository.company(session, company_id)
    if document is None or company is None:
        raise NotFound(f"document {document_id} not found", field="id")
    notes = repository.notes_of(session, company_id, document.id)
    if document_ref(company, document) is None or document.code not in CEDIBLE_TYPES:
        return _Read(company, document, notes, None, None)
    try:
        certificate = sii.load_certificate(session, company.id, sii.settings)
    except SiiCertificateMissing:
        problem = _sii_not_checked(
            "the company has no SII certificate stored, so SII was not asked",
            "store the certificate of a person authorized for the company at SII "
            "(updateCompanySiiCertificate), then check again",
        )
    except (SecretKeyMissing, SiiCertificateSealedElsewhere) as error:
        problem = _sii_not_checked(
            f"the company's SII certificate cannot be opened: {error.message}", "see the message"
        )
    else:
        return _Read(company, document, notes, certificate, None)
    return _Read(company, document, notes, None, problem)


def _record(session: Session, company_id: int, read: _Read, answers: SiiAnswers, now: datetime) -> Verdict:
    """SII's answers stored beside the document; the verdict on them and on the document's cession now."""
    store_answers(session, answers)
    standing = repository.standing_cession(session, company_id, read.document.id)
    return judge(read.document, read.notes, standing, answers, now)


def judge(
    document: Document,
    notes: list[Note],
    standing: DocumentCession | None,
    answers: SiiAnswers,
    now: datetime,
) -> Verdict:
    """The verdict on what dtehub holds (the document, its notes, its standing cession) and SII's answers."""
    checks = [
        _xml(document),
        _type(document),
        _amounts(document, notes),
        *_sii_checks(document, answers.acceptance, answers.problem, now),
        _credit_notes(document, notes, answers.acceptance),
        _rtc(document, standing, answers),
    ]
    blocking = any(c.status in (Status.FAILED, Status.PENDING) for c in checks)
    unconfirmed = any(c.decides and c.status is Status.NOT_CHECKED for c in checks)
    return Verdict(not blocking and not unconfirmed, now, checks)


@dataclass
class SiiAnswers:
    acceptance: DocumentSiiAcceptance | None = None
    """What SII's acceptance/claim service said (a row to store: :func:`store_answers`)."""
    problem: Check | None = None
    """Why SII's acceptance/claim service was not asked (or could not answer)."""
    rtc_ceded: bool | None = None
    rtc_problem: str = ""
    """Why SII's RTC was not asked (or could not answer)."""
    refused: WsNotAuthorized | None = None
    """SII refused the certificate's holder: not authorized for the company (a cession is refused with it)."""


def store_answers(session: Session, answers: SiiAnswers) -> None:
    """Keep what SII's acceptance/claim service said beside the document: a copy of SII's answer is
    stored, so a unit of work tried again after a lost race stores the answer again, not a stale row."""
    said = answers.acceptance
    if said is not None:
        columns = ("document_id", "company_id", "received_at", "events", "events_listed", "cedibility_code",
                   "cedibility_description", "checked_at", "checked_by")  # fmt: skip
        repository.save_acceptance(
            session, DocumentSiiAcceptance(**{name: getattr(said, name) for name in columns})
        )


def ask_sii(
    company: Company,
    document: Document,
    sii: SiiAccess,
    certificate: PersonCertificate | None,
    now: datetime,
) -> SiiAnswers:
    """Ask SII's services with the company's opened ``certificate``: no database is touched, so the caller
    holds no transaction while SII answers. A document SII's RTC does not register is not asked about."""
    answers = SiiAnswers()
    ref = document_ref(company, document)
    if ref is None or document.code not in CEDIBLE_TYPES:
        answers.rtc_problem = "not a document SII's RTC registers cessions of"
        return answers
    assert certificate is not None  # only a cedible type is asked about, with a certificate
    try:
        with WsClient(sii.settings.sii_ws_config(), certificate, tokens=sii.tokens) as ws:
            if asks_sii(document):
                try:
                    answers.acceptance = ask_acceptance(company, document, ws, now=now)
                except WsNotAuthorized as error:  # the certificate's holder does not act for the company
                    answers.refused = _not_authorized(error, certificate, company)
                    answers.problem = _sii_not_checked(
                        answers.refused.message,
                        "store the certificate of a person SII lists as authorized for the company "
                        "(updateCompanySiiCertificate), then check again",
                    )
                except SiiError as error:
                    answers.problem = _sii_not_checked(
                        f"SII could not be asked: {error.message} ({error.code})", "retry later"
                    )
            try:
                answers.rtc_ceded = rtc.ceded(ws, ref.issuer_rut, ref.type_code, ref.folio)
            except SiiError as error:
                answers.rtc_problem = f"SII's RTC could not be asked: {error.message} ({error.code})"
    except CertificateError as error:
        answers.problem = _sii_not_checked(
            f"the company's SII certificate cannot be used: {error.message} ({error.code})",
            "store a valid certificate (updateCompanySiiCertificate), then check again",
        )
    return _settled(document, answers)


def _not_authorized(
    error: WsNotAuthorized, certificate: PersonCertificate, company: Company
) -> WsNotAuthorized:
    """SII's refusal, naming whose certificate it refused and for which company."""
    return WsNotAuthorized(
        f"the company's SII certificate belongs to {certificate.holder_name} ({certificate.holder_rut}), "
        f"whom SII does not list as authorized for {company.rut}: {error.message}"
    )


def _settled(document: Document, answers: SiiAnswers) -> SiiAnswers:
    if answers.problem is not None and not answers.rtc_problem:
        answers.rtc_problem = answers.problem.message
    if not asks_sii(document) and answers.problem is not None:
        answers.problem = None  # SII's acceptance/claim checks do not apply: only the RTC's says why
    return answers


def _sii_not_checked(message: str, action: str) -> Check:
    return Check("sii", Source.SII, Status.NOT_CHECKED, message, action)


# --- the checks -----------------------------------------------------------------------------------------


def _xml(document: Document) -> Check:
    details = {
        "signature": document.xml_signature,
        "ted": document.xml_ted,
        "schema": document.xml_schema,
    }
    if document.xml_signature is None:
        return Check(
            "xml", Source.XML, Status.FAILED,
            "dtehub holds no DTE XML for this document: a document without valid XML is never cedible",
            "upload the document's DTE XML (createDocumentFromXml)", details=details,
        )  # fmt: skip
    wrong = [name for name in ("signature", "ted") if details[name] != "valid"]
    if wrong:
        said = ", ".join(f"{name} {details[name]}" for name in wrong)
        return Check(
            "xml", Source.XML, Status.FAILED,
            f"the DTE XML does not hold ({said}): SII registers no cession of a DTE whose signature or "
            "timbre fails",
            "get the issuer's original XML, as it was sent to SII, and upload it", details=details,
        )  # fmt: skip
    return Check(
        "xml", Source.XML, Status.PASSED, "the DTE's signature and timbre are valid", details=details
    )


def _type(document: Document) -> Check:
    details = {"code": document.code}
    if document.code in CEDIBLE_TYPES:
        return Check(
            "type", Source.DTEHUB, Status.PASSED, f"type {document.code} can be ceded", details=details
        )
    return Check(
        "type", Source.DTEHUB, Status.FAILED,
        f"type {document.code or 'none'} cannot be ceded: only facturas (33, 34), liquidaciones-factura (43) "
        "and facturas de compra (46) are",
        "nothing to do: finance another document", details=details,
    )  # fmt: skip


def _amounts(document: Document, notes: list[Note]) -> Check:
    details = {
        "total": format_cents(document.total_cents),
        "credited": format_cents(document.credit_cents),
        "debited": format_cents(document.debit_cents),
        "paid": format_cents(document.paid_cents),
        "due": format_cents(document.due_cents),
    }
    if document.voided:
        return Check(
            "amounts", Source.DTEHUB, Status.FAILED, "dtehub holds a credit note that voids this document",
            "nothing to do: the document no longer stands", details=details,
        )  # fmt: skip
    if document.due_cents <= 0:
        return Check(
            "amounts", Source.DTEHUB, Status.FAILED,
            "nothing is left to collect: the document is fully credited or paid in dtehub",
            "nothing to do: there is nothing to finance", details=details,
        )  # fmt: skip
    if document.credit_cents or document.paid_cents:
        return Check(
            "amounts", Source.DTEHUB, Status.WARNING,
            f"part of it is already credited ({details['credited']}) or paid ({details['paid']}) in dtehub: "
            f"{details['due']} is left to collect",
            "cede no more than what is left, or agree on it with the assignee", details=details,
        )  # fmt: skip
    return Check(
        "amounts", Source.DTEHUB, Status.PASSED, "nothing of it is credited or paid", details=details
    )


def _sii_checks(
    document: Document, acceptance: DocumentSiiAcceptance | None, problem: Check | None, now: datetime
) -> list[Check]:
    names = ("siiReception", "siiCedibility", "claims", "window")
    if not asks_sii(document):
        why = (
            "SII's acceptance/claim service does not answer for type 46 (the buyer issues it)"
            if document.code == 46
            else "no SII reception, claims or window for a type that cannot be ceded"
        )
        return [Check(name, Source.SII, Status.NOT_APPLICABLE, why, decides=False) for name in names]
    if acceptance is None:
        assert problem is not None  # a type SII answers for was asked, or the problem says why not
        return [
            Check(name, Source.SII, Status.NOT_CHECKED, problem.message, problem.action) for name in names
        ]
    checked = {"checkedAt": format_datetime(acceptance.checked_at)}
    if acceptance.received_at is None:
        pending = Check(
            "siiReception", Source.SII, Status.FAILED,
            "SII has not received this document: it must be sent to SII before it can be ceded",
            "send the DTE to SII (or wait for its reception), then check again", details=checked,
        )  # fmt: skip
        rest = [
            Check(n, Source.SII, Status.NOT_CHECKED, "SII has not received it", decides=True)
            for n in names[1:]
        ]
        return [pending, *rest]
    received = acceptance.received_at
    events = [SiiEvent.from_json(e) for e in acceptance.events]
    reception = Check(
        "siiReception", Source.SII, Status.PASSED,
        f"SII received it on {format_datetime(received)}",
        details={"receivedAt": format_datetime(received), **checked},
    )  # fmt: skip
    return [reception, _code(acceptance, checked), _claims(events, checked), _window(received, events, now)]


def _code(acceptance: DocumentSiiAcceptance, checked: dict[str, Any]) -> Check:
    code = acceptance.cedibility_code
    details = {"code": code, "description": acceptance.cedibility_description, **checked}
    said = f"SII answers {code}, {acceptance.cedibility_description!r}"
    if code in CEDIBLE_CODES:
        return Check("siiCedibility", Source.SII, Status.PASSED, said, details=details)
    if code == NOT_YET_CODE:
        return Check(
            "siiCedibility", Source.SII, Status.PENDING,
            f"{said}: neither the receiver's acknowledgement nor 8 days since SII received it",
            "ask the receiver for the acknowledgement of receipt (acuse de recibo), or wait for the 8 days",
            details=details,
        )  # fmt: skip
    actions = {
        20: "nothing to do: SII does not let this type be ceded",
        21: "nothing to do: the issuer cancelled it with a credit note",
        24: "nothing to do while the claim stands: the receiver claimed it at SII",
    }
    return Check(
        "siiCedibility", Source.SII, Status.FAILED, f"{said}: SII will not register its cession",
        actions.get(code or 0, "ask SII"), details=details,
    )  # fmt: skip


def _claims(events: list[SiiEvent], checked: dict[str, Any]) -> Check:
    claims = [e for e in events if e.code in CLAIMS]
    details = {"sii": [e.as_json() for e in claims], **checked}
    if claims:
        first = claims[0]
        return Check(
            "claims", Source.SII, Status.FAILED,
            f"the receiver claimed it at SII ({first.code}, {first.description}, "
            f"{format_datetime(first.at)})",
            "nothing to do while the claim stands: agree with the receiver, who may be issued a credit note",
            details=details,
        )  # fmt: skip
    return Check(
        "claims", Source.SII, Status.PASSED, "the receiver has made no claim at SII", details=details
    )


def _window(received: datetime, events: list[SiiEvent], now: datetime) -> Check:
    ends = received + WINDOW
    receipt = next((e for e in events if e.code in RECEIPTS), None)
    details = {"receivedAt": format_datetime(received), "windowEndsAt": format_datetime(ends)}
    if receipt is not None:
        message = (
            f"the receiver acknowledged it ({receipt.code}, {format_datetime(receipt.at)}): no claim can come"
        )
        return Check("window", Source.SII, Status.PASSED, message, details=details)
    if now >= ends:
        return Check(
            "window", Source.SII, Status.PASSED,
            "8 days have passed since SII received it: the receipt is presumed (Ley 19.983)", details=details,
        )  # fmt: skip
    local = ends.astimezone(SANTIAGO)
    return Check(
        "window", Source.SII, Status.PENDING,
        f"the receiver may still claim until {local:%Y-%m-%d %H:%M} (8 days from SII's reception)",
        "wait until then, or ask the receiver for the acknowledgement of receipt", details=details,
    )  # fmt: skip


def _credit_notes(document: Document, notes: list[Note], acceptance: DocumentSiiAcceptance | None) -> Check:
    credit = [n for n in notes if n.code in CREDIT_NOTE_CODES]
    events = [SiiEvent.from_json(e) for e in acceptance.events] if acceptance is not None else []
    sii_notes = [e for e in events if e.code in ("NCA", "ENC")]
    details = {
        "dtehub": [
            {
                "code": n.code,
                "number": n.number,
                "total": format_cents(n.total_cents),
                "voids": n.reason == NoteReason.VOIDS,
            }
            for n in credit
        ],
        "sii": [e.as_json() for e in sii_notes],
    }
    voiding = [n for n in credit if n.reason == NoteReason.VOIDS]
    if voiding:
        return Check(
            "creditNotes", Source.DTEHUB, Status.FAILED,
            f"dtehub holds credit note {voiding[0].number}, which cancels this document",
            "nothing to do: the document no longer stands", details=details,
        )  # fmt: skip
    cancelling = [e for e in sii_notes if e.code == "NCA"]
    if cancelling:
        return Check(
            "creditNotes", Source.SII, Status.FAILED,
            f"SII received a credit note that cancels this document ({format_datetime(cancelling[0].at)})",
            "nothing to do: the document no longer stands; ask the issuer for that credit note",
            details=details,
        )  # fmt: skip
    if credit or sii_notes:
        return Check(
            "creditNotes", Source.DTEHUB, Status.WARNING,
            "credit notes refer to this document without cancelling it: they lower what is left to collect",
            "cede no more than what is left", details=details,
        )  # fmt: skip
    return Check("creditNotes", Source.DTEHUB, Status.PASSED, "no credit note refers to it", details=details)


def _rtc(document: Document, standing: DocumentCession | None, answers: SiiAnswers) -> Check:
    if document.code not in CEDIBLE_TYPES:
        return Check(
            "rtcCession", Source.RTC, Status.NOT_APPLICABLE, "no cession of a type that cannot be ceded",
            decides=False,
        )  # fmt: skip
    if standing is not None and standing.sii_state == UPLOADING:
        return Check(
            "rtcCession", Source.DTEHUB, Status.PENDING,
            f"a cession of it to {standing.assignee_name} ({standing.assignee_rut}) is being uploaded to "
            "SII's RTC",
            "wait for the upload's answer: the document's cession shows it",
            details={"assignee": standing.assignee_rut},
        )  # fmt: skip
    if standing is not None:
        details = {"trackId": str(standing.track_id), "assignee": standing.assignee_rut}
        to = f"{standing.assignee_name} ({standing.assignee_rut}), track id {standing.track_id}"
        if standing.sii_state == ACCEPTED:
            return Check(
                "rtcCession", Source.DTEHUB, Status.FAILED, f"dtehub ceded it to {to}, and SII registered it",
                "nothing to do: it belongs to the assignee now", details=details,
            )  # fmt: skip
        return Check(
            "rtcCession", Source.DTEHUB, Status.PENDING, f"a cession of it to {to} waits for SII's verdict",
            "wait for SII's verdict: the document's cession shows it", details=details,
        )  # fmt: skip
    if document.held and answers.rtc_ceded is not None:
        return _held_rtc(answers.rtc_ceded)
    if answers.rtc_ceded is True:
        return Check(
            "rtcCession", Source.RTC, Status.FAILED, "SII's RTC has a cession of it registered",
            "nothing to do: it was ceded already; its current holder may cede it onwards",
        )  # fmt: skip
    if answers.rtc_ceded is False:
        return Check("rtcCession", Source.RTC, Status.PASSED, "SII's RTC has no cession of it registered")
    return Check(
        "rtcCession", Source.RTC, Status.NOT_CHECKED, answers.rtc_problem or "SII's RTC was not asked",
        "retry later, or check the RTC at sii.cl (consulta de cesiones)",
    )  # fmt: skip


def _held_rtc(ceded: bool) -> Check:
    """A held document: SII's RTC must have the cession to the company registered, or SII refuses the
    company's re-cession (its first cessions are not the registered ones)."""
    if ceded:
        return Check(
            "rtcCession", Source.RTC, Status.PASSED,
            "SII's RTC has its cessions registered: as the holder by the last one, the company may cede it "
            "onwards",
        )  # fmt: skip
    return Check(
        "rtcCession", Source.RTC, Status.FAILED,
        "SII's RTC has no cession of it registered: the AEC that ceded it to the company is not SII's "
        "record, so SII would refuse a re-cession",
        "ask the assignor whether SII registered that cession (its track id at SII), or for the AEC SII "
        "registered, and give it to createCesionFromXml",
    )  # fmt: skip
