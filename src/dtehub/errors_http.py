"""The one place where errors become HTTP responses.

API paths answer ``{"error": {"code", "message", "field"}}``; portal paths answer the portal's HTML
error page (:func:`dtehub.portal.pages.error_page`: one 404 page whatever the cause).
Nothing a client sends may surface as a 500: validation errors are 400, an unreachable database is
503, and anything unexpected is logged (without request bodies) and answered as a generic 500.
"""

from __future__ import annotations

import logging
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from pydantic import BaseModel, Field
from sqlalchemy.exc import DataError, DBAPIError, OperationalError
from starlette.exceptions import HTTPException as StarletteHTTPException

from dtehub.dependencies import refuse_unknown_caller
from dtehub.errors import DtehubError, ServiceUnavailable
from dtehub.logs import redact_path
from dtehub.portal import pages as portal_pages

log = logging.getLogger("dtehub")

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


def _is_portal(request: Request) -> bool:
    return request.url.path.startswith("/portal/")


def error_response(request: Request, error: DtehubError) -> Response:
    response: Response
    if _is_portal(request):
        response = portal_pages.error_page(error.status_code, error.message)
    else:
        headers = {"WWW-Authenticate": "Bearer"} if error.status_code == 401 else None
        response = JSONResponse(error.to_dict(), status_code=error.status_code, headers=headers)
    if error.headers:
        response.headers.update(error.headers)
    return response


def _validation_error(exc: RequestValidationError) -> DtehubError:
    first: dict[str, Any] = exc.errors()[0] if exc.errors() else {}
    location = [str(part) for part in first.get("loc", ())]
    kind = first.get("type", "")
    field = location[-1] if len(location) > 1 else None
    if kind == "json_invalid":
        return DtehubError("the request body is not valid JSON", code="invalid_json", field=None)
    message = str(first.get("msg", "invalid request"))
    if kind == "missing":
        code = "missing_parameter"
        message = f"{field} is required" if field else "the request body is required"
    else:
        code = "invalid_parameter"
        # Pydantic prefixes messages of our own validators with "Value error, ".
        message = message.removeprefix("Value error, ")
        if field:
            message = f"{field}: {message}"
    return DtehubError(message, code=code, field=field)


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
        error = _validation_error(exc)
        error.status_code = 400
        return error_response(request, error)

    @app.exception_handler(StarletteHTTPException)
    async def _http(request: Request, exc: StarletteHTTPException) -> Response:
        error = DtehubError(
            str(exc.detail) if exc.status_code != 404 else "no such resource",
            code=_HTTP_CODES.get(exc.status_code, "http_error"),
        )
        error.status_code = exc.status_code
        response = error_response(request, error)
        if exc.headers:
            response.headers.update(exc.headers)
        return response

    @app.exception_handler(OperationalError)
    async def _db_down(request: Request, exc: OperationalError) -> Response:
        log.warning("database unavailable: %s", type(exc.orig).__name__ if exc.orig else "unknown")
        return error_response(
            request,
            ServiceUnavailable("the database is unavailable; retry later", code="database_unavailable"),
        )

    @app.exception_handler(DataError)
    async def _bad_value(request: Request, exc: DataError) -> Response:
        # PostgreSQL refuses a value the request carried (a NUL character, a number out of range):
        # the client's fault, a 400, never a 500. SQLite stores such values.
        log.info(
            "value refused by the database (%s) on %s", type(exc.orig).__name__, redact_path(request.url.path)
        )
        error = DtehubError(
            "a value in the request cannot be stored (a NUL character, or out of range); nothing was changed",
            code="invalid_value",
        )
        error.status_code = 400
        return error_response(request, error)

    @app.exception_handler(DBAPIError)
    async def _db_error(request: Request, exc: DBAPIError) -> Response:
        path = redact_path(request.url.path)
        log.error("database error %s on %s %s", type(exc.orig).__name__, request.method, path)
        error = DtehubError("the request could not be stored; nothing was changed", code="database_error")
        return error_response(request, error)

    @app.exception_handler(Exception)
    async def _unexpected(request: Request, exc: Exception) -> Response:
        log.exception("unhandled error on %s %s", request.method, redact_path(request.url.path))
        return error_response(request, DtehubError("internal error; nothing was changed"))


class ErrorDetail(BaseModel):
    code: str = Field(description="Stable machine-readable code, e.g. invalid_parameter")
    message: str = Field(description="What went wrong, in words a person can act on")
    field: str | None = Field(description="The parameter or body field at fault, when there is one")


class ErrorBody(BaseModel):
    error: ErrorDetail


_DESCRIPTIONS = {
    400: "A filter or body field it cannot read (a bad date, RUT or status…), or a required one missing",
    401: "Missing, unknown or revoked bearer token",
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
