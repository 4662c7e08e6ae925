"""dtehub's one error hierarchy.

Every error a client can cause is a :class:`DtehubError` with an HTTP status, a stable machine code, a
message a person can act on and, when one input is to blame, the name of that field. They are mapped to
responses in exactly one place, :mod:`dtehub.errors_http`.

    DtehubError
    ├── BadRequest (400)            invalid_parameter, missing_parameter, invalid_json, xml_forbidden_feature…
    ├── Unauthorized (401)          unauthorized
    ├── NotFound (404)              not_found
    ├── Conflict (409)              already_exists, ambiguous_document
    ├── PayloadTooLarge (413)       payload_too_large, xml_too_large, file_too_large
    ├── Unprocessable (422)         a well-formed request that cannot be accepted (issuer mismatch…)
    ├── TooManyRequests (429)       too_many_requests, with Retry-After
    └── ServiceUnavailable (503)    database_unavailable
"""

from __future__ import annotations


class DtehubError(Exception):
    status_code = 500
    code = "internal_error"
    headers: dict[str, str] | None = None
    """Response headers the error needs (``Retry-After``), beside its body."""

    def __init__(self, message: str, *, code: str | None = None, field: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        if code is not None:
            self.code = code
        self.field = field

    def to_dict(self) -> dict[str, dict[str, str | None]]:
        return {"error": {"code": self.code, "message": self.message, "field": self.field}}


class BadRequest(DtehubError):
    status_code = 400
    code = "invalid_parameter"


class Unauthorized(DtehubError):
    status_code = 401
    code = "unauthorized"


class NotFound(DtehubError):
    status_code = 404
    code = "not_found"


class Conflict(DtehubError):
    status_code = 409
    code = "already_exists"


class PayloadTooLarge(DtehubError):
    status_code = 413
    code = "payload_too_large"


class Unprocessable(DtehubError):
    status_code = 422
    code = "unprocessable"


class TooManyRequests(DtehubError):
    """Over a rate limit: ``Retry-After`` says in how many whole seconds one request is allowed again."""

    status_code = 429
    code = "too_many_requests"

    def __init__(self, retry_after: int) -> None:
        super().__init__(f"too many requests; retry in {retry_after} s")
        self.retry_after = retry_after
        self.headers = {"Retry-After": str(retry_after)}


class ServiceUnavailable(DtehubError):
    status_code = 503
    code = "service_unavailable"
