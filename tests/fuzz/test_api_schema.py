"""Property-based fuzzing of the whole HTTP API from its own OpenAPI document (schemathesis).

Every operation of ``/openapi.json`` (``/v1``, ``/V1/mipyme_get_document``, the portal pages, ``/health``)
is called with valid and invalid requests generated from its schema, by a company's real token, with real
objects present (a client, a contact, a tag, a document with its file, a payment, a webhook) so that ids
and portal keys often hit. Each answer must be no 5xx, a documented status code, a documented content
type and a body that matches the documented schema.

The default run is bounded (a few examples per operation, derandomized: the same cases on every run);
``DTEHUB_FUZZ_EXAMPLES=2000`` runs longer by hand and ``DTEHUB_FUZZ_SEED`` picks other cases
(see docs/fuzzing.md).
"""

from __future__ import annotations

import base64
import contextlib
import os
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import hypothesis
import pytest
import schemathesis
from cl_sii.rut import Rut
from fastapi import FastAPI
from hypothesis import HealthCheck, Phase, given
from hypothesis import strategies as st
from schemathesis import GenerationMode
from schemathesis.config._checks import POSITIVE_DATA_ACCEPTANCE_EXPECTED_STATUSES
from schemathesis.core.parameters import ParameterLocation
from schemathesis.python import asgi
from sqlalchemy.orm import Session

from dtehub.app import create_app
from dtehub.companies.service import create_company
from dtehub.config import Settings
from tests.conftest import random_rut
from tests.dte_factory import build_dte

EXAMPLES = int(os.environ.get("DTEHUB_FUZZ_EXAMPLES", "6"))
SEED = os.environ.get("DTEHUB_FUZZ_SEED")
# Nothing listens here: a MIPYME request that passes validation gets SII's "unreachable" answer, and the
# fuzzer never leaves the machine.
CLOSED_PORT_URL = "http://127.0.0.1:9"


def _operations() -> list[tuple[str, str]]:
    """Every (method, path) of the published document, read without a database."""
    # The engine connects lazily: this file is never opened.
    unused = Path(tempfile.gettempdir()) / "dtehub-fuzz-listing-unused.db"
    app = create_app(Settings(database_url=f"sqlite:///{unused}", db_pool_size=1))
    try:
        document = app.openapi()
    finally:
        app.state.engine.dispose()
    return [(method.upper(), path) for path, methods in document["paths"].items() for method in methods]


OPERATIONS = _operations()


@dataclass
class World:
    """The real objects of the fuzzed company, by the names the API gives their ids."""

    headers: dict[str, str]
    ids: dict[str, list[str]] = field(default_factory=dict)
    keys: dict[str, list[tuple[str, str]]] = field(default_factory=dict)  # portal kind -> (id, key)


@pytest.fixture(scope="module")
def fuzz_app(settings: Settings) -> Iterator[FastAPI]:
    app = create_app(
        settings.model_copy(
            update={
                "sii_auth_url": CLOSED_PORT_URL,
                "sii_portal_url": CLOSED_PORT_URL,
                "sii_logout_url": CLOSED_PORT_URL,
                "sii_timeout": 5.0,
            }
        )
    )
    yield app
    asgi.shutdown_lifespans()  # schemathesis ran the app's lifespan on its own event loop
    app.state.engine.dispose()


# Every check schemathesis has; a schema-valid request may also be answered 422, the document's status for
# a request it describes but dtehub cannot accept (bytes that are not a DTE or an image, an unknown client…).
POSITIVE_STATUSES = [*POSITIVE_DATA_ACCEPTANCE_EXPECTED_STATUSES, "422"]


@st.composite
def _ruts(draw: st.DrawFn) -> str:
    """A valid RUT, in any of the spellings the document's ``format: rut`` admits."""
    digits = draw(st.integers(min_value=1, max_value=99_999_999))
    check = Rut.calc_dv(str(digits))
    spelling = draw(st.sampled_from(["{d}-{v}", "{d}{v}", "{dotted}-{v}", "{d}-{lower}"]))
    return spelling.format(d=digits, v=check, dotted=f"{digits:,}".replace(",", "."), lower=check.lower())


schemathesis.openapi.format("rut", _ruts())


@pytest.fixture(scope="module")
def api_schema(fuzz_app: FastAPI) -> schemathesis.BaseSchema:
    schema = schemathesis.openapi.from_asgi("/openapi.json", fuzz_app)
    schema.config.checks.update(included_check_names=["all"])
    schema.config.checks.positive_data_acceptance.expected_statuses = POSITIVE_STATUSES
    return schema


def _portal_key(url: str) -> tuple[str, str]:
    *_, object_id, key = urlsplit(url).path.split("/")
    return object_id, key


@pytest.fixture
def world(fuzz_app: FastAPI, session: Session) -> Iterator[World]:
    """A company with real objects, in the test's transaction (rolled back at the end)."""
    factory = fuzz_app.state.sessionmaker
    fuzz_app.state.sessionmaker = lambda: session
    try:
        rut = random_rut()
        created = create_company(session, rut=rut, name="Fuzz SpA", payment_term_days=30)
        session.commit()
        world = World(headers={"Authorization": f"Bearer {created.token}"})
        with asgi.get_client(fuzz_app) as http:

            def post(path: str, body: dict[str, Any]) -> dict[str, Any]:
                response = http.post(f"http://{asgi.HOST}{path}", json=body, headers=world.headers)
                assert response.status_code == 200, (path, response.text)
                answer: dict[str, Any] = response.json()
                return answer

            client = post("/v1/createClient", {"name": "Cliente Fuzz", "taxId": "99999999-9"})
            contact = post("/v1/createContact", {"clientId": client["id"], "email": "pago@example.com"})
            tag = post("/v1/createTag", {"name": "fuzz"})
            document = post(
                "/v1/createDocument",
                {
                    "clientId": client["id"],
                    "number": "77",
                    "issueDate": "2024-05-01",
                    "total": "1190",
                    "taxes": "190",
                    "code": 33,
                },
            )
            # A document from a DTE: its answers carry the dte object, every field read from the XML.
            dte = build_dte(
                33, 78, rut, "99999999-9", 1190, issue_date=date(2024, 5, 1), lines=[("Servicio", 1000)]
            )
            from_xml = post("/v1/createDocumentFromXml", {"xml": base64.b64encode(dte).decode()})
            file = post(
                "/v1/createFile",
                {
                    "documentId": document["id"],
                    "name": "orden.txt",
                    "content": base64.b64encode(b"orden de compra").decode(),
                },
            )
            payment = post(
                "/v1/createPayment",
                {
                    "date": "2024-05-02",
                    "amount": "1190",
                    "currency": "CLP",
                    "clientId": client["id"],
                    "documents": [{"id": document["id"], "amount": "1190"}],
                },
            )
            webhook = post(
                "/v1/createWebhook", {"url": "http://127.0.0.1:9/hook", "events": ["document.created"]}
            )
        world.ids = {
            "clientId": [str(client["id"])],
            "contactId": [str(contact["id"])],
            "tagId": [str(tag["id"])],
            "documentId": [str(document["id"]), str(from_xml["id"])],
            "fileId": [str(file["id"])],
            "paymentId": [str(payment["id"])],
            "webhookId": [str(webhook["id"])],
        }
        world.keys = {
            "document_id": [_portal_key(document["url"]), _portal_key(from_xml["url"])],
            "client_id": [_portal_key(client["url"])] if "url" in client else [],
            "file_id": [_portal_key(file["url"])] if "url" in file else [],
        }
        yield world
    finally:
        fuzz_app.state.sessionmaker = factory


_ID_FOR = {
    "/v1/getDocument": "documentId",
    "/v1/deleteDocument": "documentId",
    "/v1/renewDocumentKey": "documentId",
    "/v1/getClient": "clientId",
    "/v1/updateClient": "clientId",
    "/v1/renewClientKey": "clientId",
    "/v1/getContact": "contactId",
    "/v1/getPayment": "paymentId",
    "/v1/updatePayment": "paymentId",
    "/v1/deleteWebhook": "webhookId",
}


def _point_at_real_objects(case: schemathesis.Case, world: World, data: st.DataObject) -> None:
    """Often replace generated ids with ids that exist, so the operations' found paths run too (in valid
    requests only: an invalid one must stay invalid for negative_data_rejection to judge its answer)."""
    if case.meta is not None and case.meta.generation.mode.is_negative:
        return
    path = case.operation.path
    containers = [c for c in (case.query, case.body) if isinstance(c, dict)]
    for container in containers:
        for name in list(container):
            kind = _ID_FOR.get(path) if name == "id" else name
            if kind in world.ids and data.draw(st.booleans(), label=f"real {name}"):
                container[name] = data.draw(st.sampled_from(world.ids[kind]))
    if case.path_parameters:
        for name in list(case.path_parameters):
            pairs = world.keys.get(name)
            if pairs and data.draw(st.booleans(), label=f"real {name}"):
                object_id, key = data.draw(st.sampled_from(pairs))
                case.path_parameters[name] = object_id
                if "key" in case.path_parameters and data.draw(st.booleans(), label="real key"):
                    case.path_parameters["key"] = key


def _headers_negated(case: schemathesis.Case) -> bool:
    component = case.meta.components.get(ParameterLocation.HEADER) if case.meta is not None else None
    return component is not None and component.mode.is_negative


def _strategy(operation: schemathesis.APIOperation) -> st.SearchStrategy[schemathesis.Case]:
    strategies = [operation.as_strategy(generation_mode=GenerationMode.POSITIVE)]
    with contextlib.suppress(Exception):  # an operation without parameters has no invalid requests
        strategies.append(operation.as_strategy(generation_mode=GenerationMode.NEGATIVE))
    return st.one_of(strategies)


@pytest.mark.parametrize(("method", "path"), OPERATIONS, ids=[f"{m} {p}" for m, p in OPERATIONS])
def test_every_answer_is_documented_and_no_5xx(
    api_schema: schemathesis.BaseSchema, world: World, method: str, path: str
) -> None:
    operation = api_schema[path][method]

    @hypothesis.settings(
        max_examples=EXAMPLES,
        derandomize=SEED is None,
        deadline=None,
        database=None,
        phases=[Phase.explicit, Phase.generate, Phase.shrink],
        suppress_health_check=list(HealthCheck),
        print_blob=True,
    )
    @given(case=_strategy(operation), data=st.data())
    def call(case: schemathesis.Case, data: st.DataObject) -> None:
        # A case whose invalid part is the Authorization header cannot be sent here: every call carries
        # the real token, which makes it valid again. Missing and wrong tokens are tests/security's.
        hypothesis.assume(not _headers_negated(case))
        _point_at_real_objects(case, world, data)
        response = case.call(headers=world.headers)
        case.validate_response(response, headers=world.headers)

    if SEED is not None:
        call = hypothesis.seed(int(SEED))(call)
    call()


def test_the_fuzzer_sees_every_kind_of_operation() -> None:
    paths = {path for _, path in OPERATIONS}
    assert "/health" in paths
    assert any(p.startswith("/portal/") for p in paths)
    assert any(p.startswith("/V1/") for p in paths)
    assert sum(p.startswith("/v1/") for p in paths) >= 30
