"""The one place where errors become answers.

:data:`ERRORS` is the table: one row for each error class (:mod:`dtehub.errors` and its branch for the
SII client, :mod:`dtehub.sii.errors`) with the HTTP status it answers and, for the SII client's, the
``status`` of MIPYME's answer. The machine code is the class's own. Every way an error reaches a caller
is a rendering of that table:

- the API: ``{"error": {"code", "message", "field"}}`` with the row's status (:func:`error_response`);
- the portal: its HTML page for the row's status (:func:`dtehub.portal.pages.error_page`: one 404 page
  whatever the cause, so that a guessed link learns nothing); the web app (``/app``) its own
  (:func:`dtehub.webapp.pages.error_page`);
- ``POST /V1/mipyme_get_document``: ``status`` and the HTTP status of the row (:func:`mipyme_status`),
  with the same ``error`` object;
- ``/openapi.json``: the answers each status documents (:func:`error_responses`, :func:`mipyme_statuses`).

A new error is a class and one row here; ``tests/test_errors.py`` fails on a class without its row.

Nothing a client sends may surface as a 500: validation errors are 400, an unreachable database is
503, and anything unexpected is logged (without request bodies) and answered as a generic 500. Errors
the framework answers by itself (no such path, a method the path does not take) keep the status it
chose, with the same body.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from pydantic import BaseModel, Field
from sqlalchemy.exc import DataError, DBAPIError, OperationalError
from starlette.exceptions import HTTPException as StarletteHTTPException

from dtehub.dependencies import refuse_unknown_caller
from dtehub.errors import (
    AecRefused,
    AllocationExceedsDue,
    AllocationExceedsPayment,
    AmbiguousDocument,
    BadRequest,
    CessionAmountInvalid,
    CessionFileInvalid,
    Conflict,
    CsrfRefused,
    CurrencyMismatch,
    DatabaseError,
    DatabaseUnavailable,
    DocumentAlreadyCeded,
    DocumentHasPayments,
    DocumentNotCedible,
    DocumentNotOwing,
    DocumentOfAnotherClient,
    DocumentVoided,
    DtehubError,
    DteRefused,
    DteTooLarge,
    DuplicateAllocation,
    FileTooLarge,
    Forbidden,
    InvalidJson,
    IssuerMismatch,
    MissingAlternative,
    MissingParameter,
    NotCedible,
    NotFound,
    NotSignedIn,
    PasswordRefused,
    PayloadTooLarge,
    SchemaInvalid,
    SecretKeyMissing,
    ServiceUnavailable,
    SignatureInvalid,
    SiiCertificateMissing,
    SiiCertificateSealedElsewhere,
    TedInvalid,
    TooManyDtes,
    TooManyRequests,
    TooManyWebhooks,
    Unauthorized,
    Unprocessable,
    UnsupportedCountry,
    UnsupportedDocumentType,
    UrlRefused,
    ValueNotStorable,
    XmlMalformed,
    XmlUnsafe,
)
from dtehub.logs import redact_path
from dtehub.mipyme.statuses import MipymeStatus
from dtehub.portal import pages as portal_pages
from dtehub.sii.errors import (
    CertificateError,
    CertificateExpired,
    CertificateNotYetValid,
    CertificateRefused,
    CertificateUnreadable,
    CertificateUnusable,
    CertificateWithoutRut,
    DocumentNotFound,
    HolderNotAuthorized,
    InvalidRequest,
    LoginError,
    NotRepresentative,
    RcvRefused,
    RcvUnreadable,
    SessionLost,
    SiiBusy,
    SiiError,
    SiiTimeout,
    SiiTlsError,
    SiiUnavailable,
)
from dtehub.sii.ws.errors import (
    PersonNotRegistered,
    WsAuthRefused,
    WsDocumentUnknown,
    WsNotAuthorized,
    WsTypeNotHandled,
    WsUnavailable,
)
from dtehub.sii_sync.errors import InvalidPeriod, SyncAlreadyRunning
from dtehub.webapp import pages as app_pages

log = logging.getLogger("dtehub")


@dataclass(frozen=True)
class Row:
    error: type[DtehubError]
    status: int
    """The HTTP status of every answer of this error."""
    mipyme: MipymeStatus | None = None
    """The ``status`` of ``mipyme_get_document``'s answer (the SII client's errors)."""


_INVALID = MipymeStatus.INVALID_PARAMETERS
_CERTIFICATE = MipymeStatus.CERTIFICATE_ERROR
_LOGIN = MipymeStatus.SII_LOGIN_ERROR
_UNAVAILABLE = MipymeStatus.SII_UNAVAILABLE
_NOT_FOUND = MipymeStatus.DOCUMENT_NOT_FOUND

# fmt: off
ERRORS: tuple[Row, ...] = (
    #   the error                  HTTP  MIPYME
    Row(DtehubError,               500),
    Row(BadRequest,                400),
    Row(MissingParameter,          400),
    Row(InvalidJson,               400),
    Row(ValueNotStorable,          400),
    Row(UrlRefused,                400),
    Row(PasswordRefused,           400),
    Row(Unauthorized,              401),
    Row(NotSignedIn,               401),
    Row(Forbidden,                 403),
    Row(CsrfRefused,               403),
    Row(NotFound,                  404),
    Row(SiiCertificateMissing,     404),
    Row(NotCedible,                404),
    Row(Conflict,                  409),
    Row(AmbiguousDocument,         409),
    Row(DocumentHasPayments,       409),
    Row(DocumentVoided,            409),
    Row(AllocationExceedsDue,      409),
    Row(TooManyWebhooks,           409),
    Row(DocumentAlreadyCeded,      409),
    Row(DocumentNotOwing,          409),
    Row(PayloadTooLarge,           413),
    Row(FileTooLarge,              413),
    Row(Unprocessable,             422),
    Row(MissingAlternative,        422),
    Row(UnsupportedCountry,        422),
    Row(IssuerMismatch,            422),
    Row(UnsupportedDocumentType,   422),
    Row(DuplicateAllocation,       422),
    Row(AllocationExceedsPayment,  422),
    Row(DocumentOfAnotherClient,   422),
    Row(CurrencyMismatch,          422),
    Row(AecRefused,                422),
    Row(DocumentNotCedible,        422),
    Row(CessionAmountInvalid,      422),
    Row(CessionFileInvalid,        422),
    Row(DteRefused,                422),
    # Bytes that arrived as the document says (valid base64) but are no usable XML: refused like any DTE.
    Row(XmlMalformed,              422),
    Row(XmlUnsafe,                 422),
    Row(DteTooLarge,               413),
    Row(TooManyDtes,               413),
    Row(SchemaInvalid,             422),
    Row(SignatureInvalid,          422),
    Row(TedInvalid,                422),
    Row(TooManyRequests,           429),
    Row(ServiceUnavailable,        503),
    Row(DatabaseUnavailable,       503),
    Row(SecretKeyMissing,          503),
    Row(SiiCertificateSealedElsewhere, 503),
    Row(DatabaseError,             500),
    Row(InvalidPeriod,             400),
    Row(SyncAlreadyRunning,        409),
    # The SII client (dtehub.sii.errors): each also a status of mipyme_get_document.
    Row(SiiError,                  503,  _UNAVAILABLE),
    Row(InvalidRequest,            400,  _INVALID),
    Row(CertificateError,          422,  _CERTIFICATE),
    Row(CertificateUnreadable,     422,  _CERTIFICATE),
    Row(CertificateWithoutRut,     422,  _CERTIFICATE),
    Row(CertificateUnusable,       422,  _CERTIFICATE),
    Row(CertificateExpired,        422,  _CERTIFICATE),
    Row(CertificateNotYetValid,    422,  _CERTIFICATE),
    Row(HolderNotAuthorized,       422,  _CERTIFICATE),
    Row(LoginError,                502,  _LOGIN),
    Row(CertificateRefused,        502,  _LOGIN),
    Row(SessionLost,               502,  _LOGIN),
    Row(SiiUnavailable,            503,  _UNAVAILABLE),
    Row(SiiTimeout,                503,  _UNAVAILABLE),
    Row(SiiBusy,                   503,  _UNAVAILABLE),
    Row(SiiTlsError,               503,  _UNAVAILABLE),
    Row(DocumentNotFound,          404,  _NOT_FOUND),
    Row(NotRepresentative,         422,  _CERTIFICATE),
    Row(RcvUnreadable,             503,  _UNAVAILABLE),
    Row(RcvRefused,                503,  _UNAVAILABLE),
    # SII's web services (dtehub.sii.ws.errors), each with its family's statuses.
    Row(WsAuthRefused,             502,  _LOGIN),
    Row(PersonNotRegistered,       502,  _LOGIN),
    Row(WsUnavailable,             503,  _UNAVAILABLE),
    Row(WsTypeNotHandled,          400,  _INVALID),
    Row(WsNotAuthorized,           422,  _CERTIFICATE),
    Row(WsDocumentUnknown,         404,  _NOT_FOUND),
)
# fmt: on

_ROWS: Mapping[type[DtehubError], Row] = {row.error: row for row in ERRORS}


def row_of(error: DtehubError) -> Row:
    """The error's row: its class's, or (for a class made outside dtehub, as tests do) its nearest base's."""
    for kind in type(error).__mro__:
        row = _ROWS.get(kind)
        if row is not None:
            return row
    raise AssertionError("DtehubError has a row")


def http_status(error: DtehubError) -> int:
    return row_of(error).status


def mipyme_status(error: SiiError) -> tuple[MipymeStatus, int]:
    """``mipyme_get_document``'s ``status`` for ``error``, and the HTTP status of that answer."""
    row = row_of(error)
    return row.mipyme if row.mipyme is not None else MipymeStatus.SII_UNAVAILABLE, row.status


def mipyme_statuses() -> dict[MipymeStatus, int]:
    """Each of MIPYME's failure statuses with the HTTP status it answers (one each: a test checks it)."""
    return {row.mipyme: row.status for row in ERRORS if row.mipyme is not None}


def error_body(error: DtehubError) -> dict[str, dict[str, Any]]:
    body = _body(error.code, error.message, error.field)
    if error.details is not None:
        body["error"]["details"] = error.details
    return body


def _body(code: str, message: str, field: str | None) -> dict[str, dict[str, Any]]:
    return {"error": {"code": code, "message": message, "field": field}}


def _is_portal(request: Request) -> bool:
    return request.url.path.startswith("/portal/")


def _is_app(request: Request) -> bool:
    return request.url.path == "/app" or request.url.path.startswith("/app/")


def _answer(
    request: Request, status: int, body: dict[str, dict[str, Any]], headers: Mapping[str, str]
) -> Response:
    response: Response
    if _is_portal(request):
        error = body["error"]
        response = portal_pages.error_page(status, str(error["message"]), error["code"])
    elif _is_app(request):
        error = body["error"]
        response = app_pages.error_page(status, str(error["message"]), error["code"])
    else:
        challenge = {"WWW-Authenticate": "Bearer"} if status == 401 else None
        response = JSONResponse(body, status_code=status, headers=challenge)
    response.headers.update(headers)
    return response


def error_response(request: Request, error: DtehubError) -> Response:
    """The error as its row says: JSON on API paths, the portal's HTML page on portal paths."""
    headers = {"Retry-After": str(error.retry_after)} if isinstance(error, TooManyRequests) else {}
    return _answer(request, http_status(error), error_body(error), headers)


def _is_blank(problem: dict[str, Any]) -> bool:
    """Whether ``problem`` is a text too short because it was empty or all whitespace."""
    value = problem.get("input")
    too_short = problem.get("type") in ("string_too_short", "too_short")
    return too_short and isinstance(value, str) and not value.strip()


def _validation_error(exc: RequestValidationError) -> BadRequest:
    first: dict[str, Any] = exc.errors()[0] if exc.errors() else {}
    location = [str(part) for part in first.get("loc", ())]
    kind = first.get("type", "")
    field = location[-1] if len(location) > 1 else None
    if kind == "json_invalid":
        return InvalidJson("the request body is not valid JSON")
    message = str(first.get("msg", "invalid request"))
    if kind == "missing":
        return MissingParameter(
            f"{field} is required" if field else "the request body is required", field=field
        )
    if _is_blank(first) and field:
        # Surrounding whitespace is dropped before the length counts: pydantic would say "at least 1
        # character" (or "item") of a text that was sent with some.
        return BadRequest(f"{field} is blank: it takes a text with something besides spaces", field=field)
    # Pydantic prefixes messages of our own validators with "Value error, ".
    message = message.removeprefix("Value error, ")
    return BadRequest(f"{field}: {message}" if field else message, field=field)


_HTTP_CODES = {
    400: "bad_request",
    401: "unauthorized",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    413: "payload_too_large",
    415: "unsupported_media_type",
    429: "too_many_requests",
}
"""The codes of the statuses the framework answers by itself (routing, body limits)."""


def install(app: FastAPI) -> None:
    @app.exception_handler(DtehubError)
    async def _dtehub_error(request: Request, exc: DtehubError) -> Response:
        return error_response(request, exc)

    @app.exception_handler(RequestValidationError)
    async def _invalid(request: Request, exc: RequestValidationError) -> Response:
        try:
            await refuse_unknown_caller(request)  # an unknown token's 401 comes first
        except DtehubError as unauthorized:
            return error_response(request, unauthorized)
        except OperationalError as down:
            return await _db_down(request, down)
        return error_response(request, _validation_error(exc))

    @app.exception_handler(StarletteHTTPException)
    async def _http(request: Request, exc: StarletteHTTPException) -> Response:
        message = str(exc.detail) if exc.status_code != 404 else "no such resource"
        body = _body(_HTTP_CODES.get(exc.status_code, "http_error"), message, None)
        return _answer(request, exc.status_code, body, exc.headers or {})

    @app.exception_handler(OperationalError)
    async def _db_down(request: Request, exc: OperationalError) -> Response:
        log.warning("database unavailable: %s", type(exc.orig).__name__ if exc.orig else "unknown")
        return error_response(request, DatabaseUnavailable("the database is unavailable; retry later"))

    @app.exception_handler(DataError)
    async def _bad_value(request: Request, exc: DataError) -> Response:
        # PostgreSQL refuses a value the request carried (a NUL character, a number out of range):
        # the client's fault, a 400, never a 500. SQLite stores such values.
        log.info(
            "value refused by the database (%s) on %s", type(exc.orig).__name__, redact_path(request.url.path)
        )
        error = ValueNotStorable(
            "a value in the request cannot be stored (a NUL character, or out of range); nothing was changed"
        )
        return error_response(request, error)

    @app.exception_handler(DBAPIError)
    async def _db_error(request: Request, exc: DBAPIError) -> Response:
        path = redact_path(request.url.path)
        log.error("database error %s on %s %s", type(exc.orig).__name__, request.method, path)
        return error_response(request, DatabaseError("the request could not be stored; nothing was changed"))

    @app.exception_handler(Exception)
    async def _unexpected(request: Request, exc: Exception) -> Response:
        log.exception("unhandled error on %s %s", request.method, redact_path(request.url.path))
        return error_response(request, DtehubError("internal error; nothing was changed"))


class ErrorDetail(BaseModel):
    code: str = Field(description="Stable machine-readable code, e.g. invalid_parameter")
    message: str = Field(description="What went wrong, in words a person can act on")
    field: str | None = Field(description="The parameter or body field at fault, when there is one")
    details: list[dict[str, Any]] | None = Field(
        default=None, description="Each thing wrong, when there are several (an AEC's failed checks)"
    )


class ErrorBody(BaseModel):
    error: ErrorDetail


_DESCRIPTIONS = {
    400: "A filter or body field it cannot read (a bad date, RUT or status…), or a required one missing",
    401: "Missing, unknown or revoked bearer token",
    403: "The token's company may not do this (MIPYME's import of another company's document)",
    404: "No such object for this company",
    409: "Conflicts with an existing object (natural key taken, ambiguous number)",
    413: "Body, XML or file over its size limit",
    422: "Well-formed but cannot be accepted (issuer mismatch, not a DTE, unknown client…)",
    429: "Too many requests with this token; retry after the seconds in the Retry-After header",
    503: "Database unavailable; retry later",
}


def error_responses(*codes: int, api: bool = True) -> dict[int | str, dict[str, Any]]:
    """OpenAPI entries for the errors an endpoint can answer; every /v1 call (``api``) can also answer
    400 for a bad parameter, 401 without a valid token, 422 for a request it cannot accept and 429 over
    the token's rate limit."""
    wanted = sorted({503, *codes} | ({400, 401, 422, 429} if api else set()))
    return {code: {"model": ErrorBody, "description": _DESCRIPTIONS[code]} for code in wanted}
