"""The one table of errors (:data:`dtehub.errors_http.ERRORS`): every error class of dtehub has exactly one
row, and each way an error reaches a caller (the API's JSON, the portal's page, MIPYME's status) answers
what its row says."""

from __future__ import annotations

import importlib
import pkgutil
import re
from collections import Counter
from types import ModuleType

import pytest
from starlette.requests import Request

import dtehub
from dtehub import errors
from dtehub.errors import DtehubError, TooManyRequests
from dtehub.errors_http import ERRORS, Row, error_response, http_status, mipyme_status, mipyme_statuses
from dtehub.mipyme.statuses import MipymeStatus
from dtehub.sii import errors as sii_errors
from dtehub.sii.errors import CertificateRefused, LoginError, SiiError


def _every_module() -> list[str]:
    names = [info.name for info in pkgutil.walk_packages(dtehub.__path__, "dtehub.")]
    return [name for name in names if name.rpartition(".")[2] != "__main__"]  # __main__ runs the CLI


def _subclasses(kind: type[DtehubError]) -> set[type[DtehubError]]:
    found = set()
    for sub in kind.__subclasses__():
        found |= {sub, *_subclasses(sub)}
    return found


def dtehub_errors() -> set[type[DtehubError]]:
    """Every error class defined in src/dtehub (all its modules imported first)."""
    for name in _every_module():
        importlib.import_module(name)
    return {
        kind for kind in {DtehubError, *_subclasses(DtehubError)} if kind.__module__.startswith("dtehub.")
    }


def test_every_error_class_of_dtehub_has_exactly_one_row() -> None:
    rows = Counter(row.error for row in ERRORS)
    classes = dtehub_errors()

    assert len(classes) > 40
    missing = sorted(kind.__qualname__ for kind in classes if rows[kind] == 0)
    assert missing == [], "add a row to dtehub.errors_http.ERRORS for each"
    assert [kind.__qualname__ for kind, count in rows.items() if count > 1] == []
    assert set(rows) == classes  # and no row for a class that is gone


def test_errors_carry_no_http_status() -> None:
    # The status is the table's: an error class only names its code.
    for kind in dtehub_errors():
        assert not hasattr(kind, "status_code"), kind


def test_a_code_answers_one_http_status() -> None:
    # Two classes may share a code (the API's and MIPYME's invalid_parameter) but never with two statuses.
    statuses: dict[str, set[int]] = {}
    for row in ERRORS:
        statuses.setdefault(row.error.code, set()).add(row.status)
    assert {code: found for code, found in statuses.items() if len(found) > 1} == {}


def test_the_sii_clients_errors_and_only_they_answer_a_mipyme_status() -> None:
    for row in ERRORS:
        assert (row.mipyme is not None) == issubclass(row.error, SiiError), row.error
    # Each of MIPYME's failure statuses has one HTTP status, as /openapi.json publishes it.
    pairs = {(row.mipyme, row.status) for row in ERRORS if row.mipyme is not None}
    assert len(pairs) == len({status for status, _ in pairs})
    assert mipyme_statuses() == {
        MipymeStatus.INVALID_PARAMETERS: 400,
        MipymeStatus.CERTIFICATE_ERROR: 422,
        MipymeStatus.SII_LOGIN_ERROR: 502,
        MipymeStatus.SII_UNAVAILABLE: 503,
        MipymeStatus.DOCUMENT_NOT_FOUND: 404,
    }


def _instance(kind: type[DtehubError]) -> DtehubError:
    if kind is TooManyRequests:
        return TooManyRequests(7)
    if kind is CertificateRefused:
        return CertificateRefused("SII refused the certificate", alert="unknown_ca")
    if issubclass(kind, LoginError):
        return kind("SII refused the login", sii_code="35")
    return kind("what went wrong", field="xml")


def _request(path: str) -> Request:
    return Request({"type": "http", "method": "GET", "path": path, "headers": [], "query_string": b""})


@pytest.mark.parametrize("row", ERRORS, ids=lambda row: row.error.__qualname__)
def test_the_api_and_the_portal_answer_what_the_row_says(row: Row) -> None:
    error = _instance(row.error)

    api = error_response(_request("/v1/anything"), error)
    portal = error_response(_request("/portal/invoice/1/key"), error)

    assert api.status_code == portal.status_code == row.status
    assert api.media_type == "application/json"
    assert bytes(api.body).startswith(b'{"error":{"code":"' + error.code.encode() + b'"')
    assert portal.media_type == "text/html"
    assert (api.headers.get("www-authenticate") == "Bearer") == (row.status == 401)
    if isinstance(error, TooManyRequests):
        assert api.headers["retry-after"] == portal.headers["retry-after"] == "7"
    if isinstance(error, SiiError):
        assert mipyme_status(error) == (row.mipyme, row.status)


def test_an_error_class_made_elsewhere_answers_as_its_nearest_base() -> None:
    class Refused(SiiError):
        code = "refused_here"

    assert http_status(Refused("no")) == 503
    assert mipyme_status(Refused("no")) == (MipymeStatus.SII_UNAVAILABLE, 503)


@pytest.mark.parametrize("module", [errors, sii_errors], ids=lambda module: module.__name__)
def test_the_drawn_tree_is_the_modules_tree(module: ModuleType) -> None:
    # Each line of the diagram: a class, its parent on the line above it at one level less, its code.
    drawn: dict[str, tuple[str | None, str]] = {}
    parents: list[str] = []
    for line in (module.__doc__ or "").splitlines():
        found = re.match(r"^    ((?:[│ ]   )*)(?:[├└]── )?([A-Z]\w+)\s+(\S+)", line)
        if found is None:
            continue
        depth = len(found.group(1)) // 4 + (1 if "──" in line else 0)
        name, code = found.group(2), found.group(3)
        del parents[depth:]
        drawn[name] = (parents[-1] if parents else None, code)
        parents.append(name)
    defined = {
        kind.__name__: (kind.__base__.__name__ if kind is not DtehubError else None, kind.code)
        for kind in vars(module).values()
        if isinstance(kind, type) and issubclass(kind, DtehubError) and kind.__module__ == module.__name__
    }
    if module is sii_errors:  # its root hangs from DtehubError, drawn in dtehub.errors
        defined["SiiError"] = (None, "sii_error")
        defined["CertificateRefused"] = ("LoginError", "sii_tls_<alert>")  # its code names the alert
    if module is errors:  # the SII client's branch, drawn in full in dtehub.sii.errors
        drawn.pop("SiiError")

    assert drawn == defined
