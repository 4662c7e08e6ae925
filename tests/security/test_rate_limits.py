"""Rate limits: per API token on /v1 and per key on portal links, 429 with Retry-After, then recovery."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy.orm import Session

from dtehub.app import create_app
from dtehub.auth.service import issue_token
from dtehub.config import Settings
from dtehub.errors import TooManyRequests
from dtehub.ratelimit import RateLimiter
from tests.auth.test_auth import assert_401, v1_routes
from tests.conftest import PUBLIC_URL, Tenant, make_tenant
from tests.portal.helpers import assert_portal_headers

BURST = 3


class Clock:
    """Time that moves only when a test says so."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture(scope="module")
def limited_app(settings: Settings) -> Iterator[FastAPI]:
    limits = {
        "rate_limit_per_minute": 60,  # one request a second
        "rate_limit_burst": BURST,
        "portal_rate_limit_per_minute": 30,  # one every two seconds
        "portal_rate_limit_burst": BURST,
    }
    app = create_app(settings.model_copy(update=limits))
    yield app
    app.state.engine.dispose()


@pytest.fixture
def clock(limited_app: FastAPI) -> Clock:
    """Fresh limiters (as built from the settings) on a clock of the test's own."""
    clock = Clock()
    settings: Settings = limited_app.state.settings
    limited_app.state.api_limiter = RateLimiter(
        settings.rate_limit_per_minute, settings.rate_limit_burst, clock=clock
    )
    limited_app.state.portal_limiter = RateLimiter(
        settings.portal_rate_limit_per_minute, settings.portal_rate_limit_burst, clock=clock
    )
    return clock


@pytest.fixture
async def http(limited_app: FastAPI, session: Session, clock: Clock) -> AsyncIterator[httpx.AsyncClient]:
    factory = limited_app.state.sessionmaker
    limited_app.state.sessionmaker = lambda: session
    transport = httpx.ASGITransport(app=limited_app)
    try:
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
            yield client
    finally:
        limited_app.state.sessionmaker = factory


@pytest.fixture
def company(session: Session, http: httpx.AsyncClient) -> Tenant:
    return make_tenant(session, http, "76453707-6", "LIMITADA SPA")


def assert_429(response: httpx.Response, *, html: bool = False) -> int:
    assert response.status_code == 429, response.text
    retry_after = int(response.headers["retry-after"])
    assert retry_after >= 1
    if html:
        assert response.headers["content-type"] == "text/html; charset=utf-8"
        assert "Demasiadas solicitudes" in response.text
    else:
        assert response.json() == {
            "error": {
                "code": "too_many_requests",
                "message": f"too many requests; retry in {retry_after} s",
                "field": None,
            }
        }
    return retry_after


def test_the_limits_are_on_by_default(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("RATE_LIMIT_PER_MINUTE", "RATE_LIMIT_BURST", "PORTAL_RATE_LIMIT_PER_MINUTE"):
        monkeypatch.delenv(f"DTEHUB_{name}", raising=False)
    defaults = Settings()
    assert defaults.rate_limit_per_minute > 0
    assert defaults.portal_rate_limit_per_minute > 0

    monkeypatch.setenv("DTEHUB_RATE_LIMIT_PER_MINUTE", "0")
    assert Settings().rate_limit_per_minute == 0


async def test_a_token_over_its_limit_gets_429_then_recovers(company: Tenant, clock: Clock) -> None:
    for _ in range(BURST):
        assert (await company.get("/v1/getTags")).status_code == 200

    retry_after = assert_429(await company.get("/v1/getTags"))
    assert retry_after == 1  # one request a second

    clock.now += retry_after - 0.01
    assert_429(await company.get("/v1/getTags"))
    clock.now += 0.01
    assert (await company.get("/v1/getTags")).status_code == 200
    assert_429(await company.get("/v1/getTags"))

    clock.now += 3600  # a long pause refills the burst, not more
    for _ in range(BURST):
        assert (await company.get("/v1/getTags")).status_code == 200
    assert_429(await company.get("/v1/getTags"))


async def test_a_refused_request_changes_nothing(company: Tenant, clock: Clock) -> None:
    for _ in range(BURST):
        await company.get("/v1/getTags")

    assert_429(await company.post("/v1/createTag", {"name": "VIP"}))

    clock.now += 1
    assert (await company.get("/v1/getTags")).json()["items"] == []


async def test_another_token_is_not_limited(company: Tenant, session: Session, clock: Clock) -> None:
    second = issue_token(session, company.company_id)  # even of the same company
    session.commit()
    for _ in range(BURST):
        await company.get("/v1/getTags")
    assert_429(await company.get("/v1/getTags"))

    headers = {"Authorization": f"Bearer {second}"}
    for _ in range(BURST):
        assert (await company.http.get("/v1/getTags", headers=headers)).status_code == 200


async def test_every_v1_method_is_limited(limited_app: FastAPI, company: Tenant, clock: Clock) -> None:
    for _ in range(BURST):
        await company.get("/v1/getTags")

    routes = {
        (method.upper(), path)
        for path, operations in limited_app.openapi()["paths"].items()
        if path.lower().startswith("/v1/")  # /V1/mipyme_get_document too
        for method in operations
    }
    assert routes > v1_routes(limited_app)
    for method, path in sorted(routes):
        response = await company.http.request(method, path, json={}, headers=company.headers)
        assert_429(response)


async def test_an_unknown_token_is_401_until_it_is_repeated_too_often(
    http: httpx.AsyncClient, clock: Clock
) -> None:
    # The limit comes first (a flood with one token never reaches the database), but a new
    # credential starts with a full bucket: an unknown token is a 401, as without limits.
    for n in range(50):
        assert_401(await http.get("/v1/getTags", headers={"Authorization": f"Bearer dth_bogus-{n}"}))

    bogus = {"Authorization": "Bearer dth_bogus-0"}
    for _ in range(BURST - 1):
        assert_401(await http.get("/v1/getTags", headers=bogus))
    assert_429(await http.get("/v1/getTags", headers=bogus))


async def test_no_token_is_401_not_limited(http: httpx.AsyncClient, clock: Clock) -> None:
    for _ in range(BURST * 3):
        assert_401(await http.get("/v1/getTags"))


async def test_a_portal_key_over_its_limit_gets_the_html_429(company: Tenant, clock: Clock) -> None:
    client = (await company.post("/v1/createClient", {"name": "Cliente", "taxId": "99999999-9"})).json()
    documents = []
    for number in ("1", "2"):
        body = {"clientId": client["id"], "number": number, "issueDate": "2024-05-01", "total": "1190"}
        response = await company.post("/v1/createDocument", {**body, "taxes": "190", "code": 33})
        assert response.status_code == 200, response.text
        documents.append(response.json()["url"].removeprefix(PUBLIC_URL))
    first, second = documents

    for _ in range(BURST):
        assert (await company.http.get(first)).status_code == 200
    response = await company.http.get(first)
    retry_after = assert_429(response, html=True)
    assert retry_after == 2  # one request every two seconds
    assert_portal_headers(response)

    assert (await company.http.get(second)).status_code == 200  # another link's key is not limited

    clock.now += retry_after
    assert (await company.http.get(first)).status_code == 200


async def test_a_wrong_portal_key_is_404_until_it_is_repeated_too_often(
    http: httpx.AsyncClient, clock: Clock
) -> None:
    for _ in range(BURST):
        assert (await http.get("/portal/invoice/1/not-a-key")).status_code == 404
    assert_429(await http.get("/portal/invoice/1/not-a-key"), html=True)
    assert (await http.get("/portal/invoice/1/another-key")).status_code == 404


def test_a_limit_of_zero_is_no_limit() -> None:
    limiter = RateLimiter(0, 1)
    for _ in range(1000):
        limiter.check("dth_token")
    assert len(limiter) == 0


def test_distinct_credentials_cannot_grow_memory() -> None:
    clock = Clock()
    limiter = RateLimiter(60, 5, max_keys=100, clock=clock)
    limiter.check("dth_real")

    for n in range(10_000):
        limiter.check(f"dth_bogus-{n}")
        assert len(limiter) <= 100

    # A forgotten credential starts again with a full bucket: pruning never refuses anyone wrongly.
    for _ in range(5):
        limiter.check("dth_real")


def test_a_flood_of_new_credentials_cannot_reset_a_busy_one() -> None:
    """Pruning forgets the least recently used buckets, never the one in use: its limit holds."""
    clock = Clock()
    limiter = RateLimiter(60, 5, max_keys=100, clock=clock)
    for _ in range(5):
        limiter.check("dth_busy")  # its burst is spent
    for n in range(1_000):
        clock.now += 0.0001  # every bogus credential is newer than the busy one's last request...
        limiter.check(f"dth_bogus-{n}")
        if n % 50 == 0:  # ...which keeps asking (and being refused) while the flood goes on
            with pytest.raises(TooManyRequests):
                limiter.check("dth_busy")
    with pytest.raises(TooManyRequests):
        limiter.check("dth_busy")
