"""dtehub's one error hierarchy.

Every error a caller can cause is a :class:`DtehubError`: a message a person can act on, the name of
the field at fault when one input is to blame, and its class's stable machine ``code``. Errors know
nothing of HTTP: which status each one answers (and MIPYME's ``status``) is one row of the table in
:mod:`dtehub.errors_http`, which renders them all: the JSON body, the portal's HTML page, MIPYME's
answer. A new error is a class here (or in its domain's errors module) and one row there.

    DtehubError                       internal_error         anything unexpected; nothing was changed
    ├── BadRequest                    invalid_parameter      a parameter or body field dtehub cannot read
    │   ├── PasswordRefused           password_refused       a new password too short, or too long
    │   ├── MissingParameter          missing_parameter      a required one is absent
    │   ├── InvalidJson               invalid_json           the body is not JSON
    │   ├── ValueNotStorable          invalid_value          the database refuses a value (NUL, out of range)
    │   └── UrlRefused                url_refused            a webhook URL dtehub will not call
    ├── Unauthorized                  unauthorized           no valid bearer token
    │   └── NotSignedIn               not_signed_in          the web app without a live session
    ├── Forbidden                     forbidden              the user's role does not allow it
    │   └── CsrfRefused               csrf_refused           a web app form without its CSRF token
    ├── NotFound                      not_found              no such object for this company
    │   ├── SiiCertificateMissing     sii_certificate_missing  the company has no SII certificate
    │   └── NotCedible                not_cedible            a CEDIBLE copy of what cannot be ceded
    ├── Conflict                      already_exists         a natural key is taken
    │   ├── AmbiguousDocument         ambiguous_document     a number names several documents
    │   ├── DocumentHasPayments       document_has_payments  a paid document cannot be deleted
    │   ├── DocumentVoided            document_voided        a voided document takes no payments
    │   ├── AllocationExceedsDue      allocation_exceeds_due more than the document owes
    │   ├── TooManyWebhooks           too_many               the company's webhooks are at their limit
    │   ├── DocumentAlreadyCeded      document_already_ceded  a cession of it is pending or registered
    │   └── DocumentNotOwing          document_not_owing     a reminder for a document that owes nothing
    ├── PayloadTooLarge               payload_too_large      the body is over its limit
    │   └── FileTooLarge              file_too_large         a file or logo is over its limit
    ├── Unprocessable                 unprocessable          well-formed, but it cannot be accepted
    │   ├── MissingAlternative        missing_alternative    none of the parameters of which one is needed
    │   ├── UnsupportedCountry        unsupported_country    a DTE of another country than Chile
    │   ├── IssuerMismatch            issuer_mismatch        a DTE issued by another company
    │   ├── UnsupportedDocumentType   unsupported_document_type  neither a receivable nor a note
    │   ├── DuplicateAllocation       duplicate_document     a payment names a document twice
    │   ├── AllocationExceedsPayment  allocation_exceeds_payment  allocations over the payment's amount
    │   ├── DocumentOfAnotherClient   document_of_another_client  a payment's document of another client
    │   ├── CurrencyMismatch          currency_mismatch      a payment and its document in two currencies
    │   ├── DocumentNotCedible        document_not_cedible   the cedibility check says it cannot be ceded
    │   ├── CessionAmountInvalid      cession_amount_invalid  over the total, not whole pesos, or not above 0
    │   ├── CessionFileInvalid        cession_file_invalid   its cession file (AEC) cannot be built as SII
    │   │                                                      requires (the stored DTE, a value SII refuses)
    │   └── AecRefused                aec_invalid            an AEC that does not hold (details: each check)
    ├── DteRefused                    dte_unreadable         a DTE (or its file) dtehub cannot take
    │   ├── XmlMalformed              xml_malformed          not well-formed XML
    │   ├── XmlUnsafe                 xml_forbidden_feature  a DOCTYPE, an entity… (never expanded)
    │   ├── DteTooLarge               xml_too_large          the XML is over its limit
    │   ├── TooManyDtes               too_many_dtes          an envelope with more DTEs than allowed
    │   ├── SchemaInvalid             xml_schema_invalid     refused by a strict xmlPolicy: the schema
    │   ├── SignatureInvalid          signature_invalid      … the signature
    │   └── TedInvalid                ted_invalid            … the timbre (TED)
    ├── TooManyRequests               too_many_requests      over a rate limit, with Retry-After
    ├── ServiceUnavailable            service_unavailable    dtehub cannot serve it now; retry later
    │   ├── DatabaseUnavailable       database_unavailable   the database does not answer
    │   ├── SecretKeyMissing          secret_key_missing     DTEHUB_SECRET_KEY is not set
    │   └── SiiCertificateSealedElsewhere  sii_certificate_sealed_elsewhere  the stored certificate was
    │                                                          sealed under another DTEHUB_SECRET_KEY
    ├── DatabaseError                 database_error         the database refused the change
    └── SiiError                      sii_error              the SII client's own tree: dtehub.sii.errors

A class's code is the one its answers carry (:class:`~dtehub.sii.errors.CertificateRefused` alone adds
the TLS alert to its own). The base classes are raised too (``NotFound`` for any missing object).
"""

from __future__ import annotations

from typing import Any


class DtehubError(Exception):
    code = "internal_error"
    """The stable machine code every answer of this error carries."""

    def __init__(
        self, message: str, *, field: str | None = None, details: list[dict[str, Any]] | None = None
    ) -> None:
        super().__init__(message)
        self.message = message
        self.field = field
        """The parameter or body field at fault, when one input is to blame."""
        self.details = details
        """What in the input is wrong, one entry each, when there is more than one thing (an AEC's failed
        checks); shown as the error's ``details``."""


# --- a parameter or body field that cannot be read ------------------------------------------------


class BadRequest(DtehubError):
    code = "invalid_parameter"


class MissingParameter(BadRequest):
    code = "missing_parameter"


class InvalidJson(BadRequest):
    code = "invalid_json"


class ValueNotStorable(BadRequest):
    """A value the database refuses (PostgreSQL: a NUL character, a number out of range)."""

    code = "invalid_value"


class PasswordRefused(BadRequest):
    code = "password_refused"


class UrlRefused(BadRequest):
    """A webhook URL dtehub will not call (not http(s), credentials in it, a private address…)."""

    code = "url_refused"


# --- who is asking, and what exists --------------------------------------------------------------------


class Unauthorized(DtehubError):
    code = "unauthorized"


class NotSignedIn(Unauthorized):
    """A web app page without a live session (never signed in, signed out, expired, disabled)."""

    code = "not_signed_in"


class Forbidden(DtehubError):
    """Signed in, but the user's role in the company does not allow it."""

    code = "forbidden"


class CsrfRefused(Forbidden):
    """A state-changing web app request without the token of its session (or of its sign-in form)."""

    code = "csrf_refused"


class NotFound(DtehubError):
    code = "not_found"


class SiiCertificateMissing(NotFound):
    """The company has no SII certificate (updateCompanySiiCertificate adds one)."""

    code = "sii_certificate_missing"


class NotCedible(NotFound):
    """A CEDIBLE copy asked of what cannot be ceded (a note, a type other than 33, 34, 43, 46, 52, or a
    document without its DTE): that copy does not exist. A 404, not a 400: ``?cedible=1`` is a value the
    link takes, and whether the object has the copy is known only once the link has opened it."""

    code = "not_cedible"


# --- the request conflicts with what is stored ------------------------------------------------------


class Conflict(DtehubError):
    code = "already_exists"


class AmbiguousDocument(Conflict):
    code = "ambiguous_document"


class DocumentHasPayments(Conflict):
    code = "document_has_payments"


class DocumentVoided(Conflict):
    code = "document_voided"


class AllocationExceedsDue(Conflict):
    code = "allocation_exceeds_due"


class TooManyWebhooks(Conflict):
    code = "too_many"


class DocumentAlreadyCeded(Conflict):
    code = "document_already_ceded"


class DocumentNotOwing(Conflict):
    """A reminder asked for a document that owes nothing (paid, voided)."""

    code = "document_not_owing"


# --- too large ---------------------------------------------------------------------------------------


class PayloadTooLarge(DtehubError):
    code = "payload_too_large"


class FileTooLarge(PayloadTooLarge):
    code = "file_too_large"


# --- well-formed, but it cannot be accepted ---------------------------------------------------------------


class Unprocessable(DtehubError):
    code = "unprocessable"


class MissingAlternative(Unprocessable):
    """None of the query parameters of which a method needs one (getClient's ``id`` or ``taxId``): a
    rule between parameters that an OpenAPI document cannot state, so a 422 as the other such rules."""

    code = "missing_alternative"


class UnsupportedCountry(Unprocessable):
    code = "unsupported_country"


class IssuerMismatch(Unprocessable):
    code = "issuer_mismatch"


class UnsupportedDocumentType(Unprocessable):
    code = "unsupported_document_type"


class DuplicateAllocation(Unprocessable):
    code = "duplicate_document"


class AllocationExceedsPayment(Unprocessable):
    code = "allocation_exceeds_payment"


class DocumentOfAnotherClient(Unprocessable):
    code = "document_of_another_client"


class CurrencyMismatch(Unprocessable):
    code = "currency_mismatch"


class AecRefused(Unprocessable):
    """An electronic cession file (AEC) that fails a check: its schema, a signature, the DTE inside, the
    chain of cessions or its last assignee; ``details`` lists every failed check."""

    code = "aec_invalid"


class DocumentNotCedible(Unprocessable):
    code = "document_not_cedible"


class CessionAmountInvalid(Unprocessable):
    code = "cession_amount_invalid"


class CessionFileInvalid(Unprocessable):
    code = "cession_file_invalid"


# --- DTEs dtehub cannot take ---------------------------------------------------------------------------


class DteRefused(DtehubError):
    """A file, or one DTE in it, that cannot be taken: unsafe, malformed, too large, not a readable DTE,
    or refused by the company's strict ``xmlPolicy``. The DTE pipeline returns (or raises) them."""

    code = "dte_unreadable"
    too_large = False
    """Over the size limit: nothing of it was read."""


class XmlMalformed(DteRefused):
    code = "xml_malformed"


class XmlUnsafe(DteRefused):
    """A DOCTYPE, an entity, a processing instruction or an external reference: never expanded."""

    code = "xml_forbidden_feature"


class DteTooLarge(DteRefused):
    code = "xml_too_large"
    too_large = True


class TooManyDtes(DteRefused):
    code = "too_many_dtes"


class SchemaInvalid(DteRefused):
    code = "xml_schema_invalid"


class SignatureInvalid(DteRefused):
    code = "signature_invalid"


class TedInvalid(DteRefused):
    code = "ted_invalid"


# --- dtehub cannot serve it now ---------------------------------------------------------------------------


class TooManyRequests(DtehubError):
    """Over a rate limit: :attr:`retry_after` says in how many whole seconds one request is allowed again."""

    code = "too_many_requests"

    def __init__(self, retry_after: int) -> None:
        super().__init__(f"too many requests; retry in {retry_after} s")
        self.retry_after = retry_after


class ServiceUnavailable(DtehubError):
    code = "service_unavailable"


class DatabaseUnavailable(ServiceUnavailable):
    code = "database_unavailable"


class SecretKeyMissing(ServiceUnavailable):
    code = "secret_key_missing"


class SiiCertificateSealedElsewhere(ServiceUnavailable):
    """The company's stored certificate does not open under the configured ``DTEHUB_SECRET_KEY`` (the
    key changed since it was stored): restore the key, or upload the certificate again."""

    code = "sii_certificate_sealed_elsewhere"


class DatabaseError(DtehubError):
    """The database refused a change for a reason that is not the caller's (logged, never shown)."""

    code = "database_error"
