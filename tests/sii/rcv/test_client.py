"""dtehub's RCV client against the emulated SII over real TLS: a run on one session, typed rows, pacing,
retries, a new login when SII ends the session, "no documents" answers, and every refusal."""

from __future__ import annotations

import asyncio
import time
from dataclasses import replace
from datetime import timedelta

import pytest

from dtehub.config import Settings
from dtehub.kit.dates import SANTIAGO
from dtehub.sii.config import Deadline, SiiConfig
from dtehub.sii.emulator import Emulator
from dtehub.sii.emulator.register import state_at
from dtehub.sii.errors import (
    CertificateExpired,
    InvalidRequest,
    LoginError,
    NotRepresentative,
    RcvRefused,
    RcvUnreadable,
    SiiBusy,
    SiiUnavailable,
)
from dtehub.sii.rcv import Period, RcvClient, ReceiverEvent
from dtehub.sii.sessions import SessionPool
from tests.sii.rcv.conftest import COMPANY, HOLDER, NOW, OTHER, FakeClock, People, with_rate

SEPTEMBER, AUGUST, JULY = Period(2026, 9), Period(2026, 8), Period(2026, 7)


def client(pool: SessionPool, people: People, clock: FakeClock | None = None, **options: object) -> RcvClient:
    return RcvClient(pool, people.holder, company_rut=COMPANY, clock=clock, **options)  # type: ignore[arg-type]


async def test_a_run_reads_every_period_on_one_session_and_logs_it_out(
    sii: Emulator, pool: SessionPool, people: People
) -> None:
    logins, logouts, calls = sii.logins, sii.logouts, sum(sii.rcv_requests.values())

    async with client(pool, people) as rcv:
        periods = [await rcv.period(period) for period in (JULY, AUGUST, SEPTEMBER, AUGUST)]
        assert sii.open_sessions(HOLDER) == 1

    assert (sii.logins - logins, sii.logouts - logouts, sii.open_sessions(HOLDER)) == (1, 1, 0)
    assert rcv.requests_made == sum(sii.rcv_requests.values()) - calls
    assert rcv.requests_made == sum(1 + len(p.summary) - len(p.skipped) for p in periods)
    for period in periods:
        expected = sii.register.visible(COMPANY, period.period.code, NOW)
        assert sorted((d.type_code, d.folio) for d in period.documents) == [
            (e.type_code, e.folio) for e in expected
        ]
        assert set(period.skipped) == {39}  # boletas: monthly totals only
        assert period.problems == []
        assert period.modified_at is not None
    assert sum(len(p.documents) for p in periods[:3]) == sii.register.count(COMPANY)


async def test_rows_are_typed_with_amounts_dates_customers_and_sii_s_events(
    sii: Emulator, pool: SessionPool, people: People
) -> None:
    async with client(pool, people) as rcv:
        august = await rcv.period(AUGUST)

    entries = {(e.type_code, e.folio): e for e in sii.register.visible(COMPANY, AUGUST.code, NOW)}
    events = set()
    for document in august.documents:
        entry = entries[(document.type_code, document.folio)]
        state = state_at(entry, NOW)
        assert document.period == AUGUST
        assert (document.issue_date, document.customer_rut, document.customer_name) == (
            entry.issue_date, entry.customer_rut, entry.customer_name,
        )  # fmt: skip
        assert (document.exempt, document.net, document.vat, document.total) == (
            entry.exempt, entry.net, entry.vat, entry.total,
        )  # fmt: skip
        assert document.received_at == entry.received_at.replace(tzinfo=SANTIAGO)
        assert document.accepted_at == (
            state.accepted_at.replace(tzinfo=SANTIAGO) if state.accepted_at else None
        )
        assert document.claimed_at == (
            state.claimed_at.replace(tzinfo=SANTIAGO) if state.claimed_at else None
        )
        assert document.event == (ReceiverEvent(*state.event) if state.event else None)
        if entry.ref_type:
            assert document.reference == (entry.ref_type, entry.ref_folio)
        events.add(document.event.code if document.event else None)
    assert events == {"A", "C", "R", None}  # tacit, accepted, claimed; notes carry none


async def test_no_documents_is_an_empty_answer_not_an_error(
    sii: Emulator, pool: SessionPool, people: People
) -> None:
    async with client(pool, people) as rcv:
        assert await rcv.summary(Period(2025, 1)) == []  # SII's code 3
        assert await rcv.documents(AUGUST, 110) == []  # SII's code 99
        empty = await rcv.period(Period(2025, 1))

    assert (empty.summary, empty.documents, empty.skipped, empty.modified_at) == ([], [], {}, None)


async def test_the_summary_has_sii_s_totals_per_type(
    sii: Emulator, pool: SessionPool, people: People
) -> None:
    async with client(pool, people) as rcv:
        summary = {row.type_code: row for row in await rcv.summary(SEPTEMBER)}

    invoices = [e for e in sii.register.visible(COMPANY, SEPTEMBER.code, NOW) if e.type_code == 33]
    assert (summary[33].count, summary[33].total, summary[33].detailed) == (
        len(invoices), sum(e.total for e in invoices), True,
    )  # fmt: skip
    assert summary[39].detailed is False


async def test_the_csv_export_read_by_cl_sii_agrees_with_the_detail(
    sii: Emulator, pool: SessionPool, people: People
) -> None:
    async with client(pool, people) as rcv:
        detailed = await rcv.period(AUGUST)
        problems: list[str] = []
        exported = await rcv.export(AUGUST, problems)

    assert problems == []
    assert sii.rcv_requests["getCtrlAsync"] == 0
    key = lambda d: (d.type_code, d.folio)  # noqa: E731
    by_key = {key(d): d for d in detailed.documents}
    assert sorted(map(key, exported)) == sorted(by_key)
    for document in exported:
        assert replace(document, event=None, sii_id=None) == replace(
            by_key[key(document)], event=None, sii_id=None
        )


async def test_a_period_too_large_for_the_direct_export_comes_through_the_async_one(
    sii: Emulator, pool: SessionPool, people: People, clock: FakeClock
) -> None:
    sii.faults.rcv_export_limit = 10
    sii.faults.rcv_async_seconds = 0
    before = sii.rcv_requests

    async with client(pool, people, clock) as rcv:
        exported = await rcv.export(SEPTEMBER)

    assert len(exported) == len(sii.register.visible(COMPANY, SEPTEMBER.code, NOW))
    after = sii.rcv_requests
    assert after["getCtrlAsync"] - before["getCtrlAsync"] >= 2
    assert after["obtenerArchivoBLOB"] - before["obtenerArchivoBLOB"] == 1


async def test_requests_are_paced_at_the_configured_rate(
    sii: Emulator, config: SiiConfig, people: People, clock: FakeClock
) -> None:
    pool = SessionPool(with_rate(config, 2))
    try:
        async with client(pool, people, clock) as rcv:
            await rcv.period(SEPTEMBER)
    finally:
        await pool.aclose()

    assert rcv.requests_made >= 3
    assert clock.slept == [0.5] * (rcv.requests_made - 1)  # the first goes at once, then one every 0.5 s


async def test_the_real_limiter_spaces_requests_in_real_time(
    sii: Emulator, config: SiiConfig, people: People
) -> None:
    pool = SessionPool(with_rate(config, 20))
    try:
        async with client(pool, people) as rcv:
            started = time.monotonic()
            for _ in range(6):
                await rcv.summary(SEPTEMBER)
            elapsed = time.monotonic() - started
    finally:
        await pool.aclose()

    assert elapsed >= 5 * 0.05


def test_the_settings_name_the_rcv_host_and_rate() -> None:
    config = Settings(sii_rcv_url="https://rcv.example/", sii_requests_per_second=3).sii_config()
    assert (config.rcv_url, config.requests_per_second) == ("https://rcv.example", 3)
    assert Settings().sii_config().rcv_url == "https://www4.sii.cl"
    assert Settings().sii_config().requests_per_second == 2
    with pytest.raises(ValueError, match="greater than 0"):
        Settings(sii_requests_per_second=0)


async def test_transient_failures_are_retried_with_backoff(
    sii: Emulator, pool: SessionPool, people: People, clock: FakeClock
) -> None:
    async with client(pool, people, clock) as rcv:
        sii.faults.rcv_server_errors = 2
        assert await rcv.summary(SEPTEMBER) != []
        assert clock.slept[-2:] == [1.0, 2.0]
        sii.faults.rcv_too_many_requests = 1
        assert await rcv.summary(SEPTEMBER) != []
        assert clock.slept[-1:] == [1.0]


async def test_sii_failing_on_and_on_is_unavailable_and_the_session_is_still_logged_out(
    sii: Emulator, pool: SessionPool, people: People, clock: FakeClock
) -> None:
    logouts = sii.logouts
    sii.faults.rcv_server_errors = 50

    with pytest.raises(SiiUnavailable, match=r"did not answer getResumen after 5 attempts \(HTTP 500\)"):
        async with client(pool, people, clock) as rcv:
            await rcv.period(SEPTEMBER)

    assert [s for s in clock.slept if s >= 1] == [1.0, 2.0, 4.0, 8.0]
    assert (sii.logouts - logouts, sii.open_sessions(HOLDER)) == (1, 0)


async def test_sii_down_is_unavailable(
    sii: Emulator, pool: SessionPool, people: People, clock: FakeClock
) -> None:
    async with client(pool, people, clock) as rcv:
        sii.faults.unavailable = True
        with pytest.raises(SiiUnavailable, match="HTTP 503"):
            await rcv.summary(SEPTEMBER)
        sii.faults.unavailable = False


async def test_sii_unreachable_fails_at_login(config: SiiConfig, people: People) -> None:
    closed = "https://127.0.0.1:9"
    pool = SessionPool(replace(config, auth_url=closed, rcv_url=closed, logout_url=closed, portal_url=closed))
    try:
        with pytest.raises(SiiUnavailable, match="could not reach SII"):
            async with client(pool, people):
                pass
    finally:
        await pool.aclose()


async def test_slow_answers_time_out_and_are_retried(
    sii: Emulator, config: SiiConfig, people: People, clock: FakeClock
) -> None:
    # A second for each request: enough for the login on a loaded machine, and half of SII's delay.
    pool = SessionPool(replace(config, timeout=1.0))
    try:
        async with client(pool, people, clock) as rcv:
            sii.faults.delay_seconds = 2.0
            with pytest.raises(SiiUnavailable, match="after 5 attempts"):
                await rcv.summary(SEPTEMBER)
            sii.faults.delay_seconds = 0
    finally:
        await pool.aclose()


async def test_a_session_that_expires_mid_run_is_logged_in_again_once(
    sii: Emulator, pool: SessionPool, people: People
) -> None:
    logins, logouts = sii.logins, sii.logouts
    sii.faults.rcv_session_expires_after = 3

    async with client(pool, people) as rcv:
        periods = [await rcv.period(period) for period in (JULY, AUGUST)]

    assert rcv.logins == 2
    assert (sii.logins - logins, sii.logouts - logouts, sii.open_sessions(HOLDER)) == (2, 2, 0)
    assert sum(len(p.documents) for p in periods) == sum(
        len(sii.register.visible(COMPANY, p.code, NOW)) for p in (JULY, AUGUST)
    )


async def test_a_session_that_ends_again_right_after_a_new_login_is_a_login_error(
    sii: Emulator, pool: SessionPool, people: People
) -> None:
    async with client(pool, people) as rcv:
        sii.faults.session_ttl_seconds = 0  # every session has ended by its first request
        with pytest.raises(LoginError, match="again right after a new login"):
            await rcv.summary(SEPTEMBER)
        sii.faults.session_ttl_seconds = 3600
    assert rcv.logins == 2


async def test_the_bootstrap_is_made_when_sii_asks_for_it(
    sii: Emulator, pool: SessionPool, people: People
) -> None:
    sii.faults.rcv_requires_bootstrap = True

    async with client(pool, people) as rcv:
        assert await rcv.summary(SEPTEMBER) != []
        assert await rcv.summary(AUGUST) != []

    assert rcv.requests_made == 5  # refused, the page, AutTknData, then both summaries


async def test_a_company_the_holder_cannot_represent_fails_at_once(
    sii: Emulator, pool: SessionPool, people: People, clock: FakeClock
) -> None:
    calls = sum(sii.rcv_requests.values())

    with pytest.raises(NotRepresentative, match=f"may not represent {OTHER}") as refused:
        async with RcvClient(pool, people.holder, company_rut=OTHER, clock=clock) as rcv:
            await rcv.period(SEPTEMBER)

    assert refused.value.code == "sii_not_representative"
    assert "NO ESTA AUTORIZADO PARA REPRESENTAR" in refused.value.message
    assert sum(sii.rcv_requests.values()) - calls == 1
    assert clock.slept == []
    assert sii.open_sessions(HOLDER) == 0


async def test_bad_input_fails_before_any_connection(
    sii: Emulator, pool: SessionPool, people: People
) -> None:
    connections = sii.connections
    with pytest.raises(InvalidRequest, match="company's RUT"):
        RcvClient(pool, people.holder, company_rut="76399752-0")
    with pytest.raises(CertificateExpired):
        async with RcvClient(pool, people.expired, company_rut=COMPANY):
            pass
    with pytest.raises(ValueError, match="not a tax period"):
        Period.parse("2026-13")
    assert sii.connections == connections


async def test_the_run_shares_the_person_s_session_limit_with_mipyme(
    sii: Emulator, config: SiiConfig, people: People
) -> None:
    pool = SessionPool(replace(config, max_sessions_per_holder=1))
    try:
        async with pool.session(people.holder, Deadline(5)):  # a MIPYME retrieval holds the only slot
            with pytest.raises(SiiBusy):
                async with client(pool, people, config=replace(pool.config, timeout=0.5)):
                    pass
        # Once the slot is free, a run logs in within the usual time (a login on a loaded machine can
        # take longer than the half second the busy run was given to wait).
        async with client(pool, people) as rcv:
            assert await rcv.summary(SEPTEMBER) != []
    finally:
        await pool.aclose()


async def test_a_cancelled_run_still_logs_out(sii: Emulator, pool: SessionPool, people: People) -> None:
    started = asyncio.Event()

    async def run() -> None:
        async with client(pool, people) as rcv:
            started.set()
            sii.faults.delay_seconds = 1
            await rcv.period(SEPTEMBER)

    task = asyncio.create_task(run())
    await started.wait()
    await asyncio.sleep(0.1)  # the run is now waiting for SII's slow answer
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    sii.faults.delay_seconds = 0
    await pool.aclose()

    assert sii.open_sessions(HOLDER) == 0


async def test_states_that_change_between_runs_show_in_the_next(
    sii: Emulator, pool: SessionPool, people: People
) -> None:
    pending = next(
        e for e in sii.register.visible(COMPANY, SEPTEMBER.code, NOW)
        if e.type_code == 33 and state_at(e, NOW).event is None
    )  # fmt: skip
    sii.register.claim(COMPANY, 33, pending.folio, at=NOW, event="RFP")
    try:
        async with client(pool, people) as rcv:
            found = {d.folio: d for d in await rcv.documents(SEPTEMBER, 33)}
        claimed = found[pending.folio]
        assert claimed.claimed_at == NOW.replace(tzinfo=SANTIAGO)
        assert claimed.event is not None
        assert claimed.event.code == "R"
    finally:
        sii.register.forget_events(COMPANY, 33, pending.folio)
    sii.register.advance(timedelta(days=9))
    async with client(pool, people) as rcv:
        later = {d.folio: d for d in await rcv.documents(SEPTEMBER, 33)}
    assert later[pending.folio].event == ReceiverEvent("A", "No reclamado en plazo, recepción automática")


async def test_a_period_sii_has_not_changed_since_the_last_run_costs_the_summary_alone(
    sii: Emulator, pool: SessionPool, people: People
) -> None:
    async with client(pool, people) as rcv:
        first = await rcv.period(AUGUST)
        assert first.modified_at is not None
        before = rcv.requests_made
        again = await rcv.period(AUGUST, unchanged_since=first.modified_at)
        assert (again.unchanged, again.documents, rcv.requests_made - before) == (True, [], 1)
        assert again.summary == first.summary

        invoice = next(d for d in first.documents if d.type_code == 33 and d.event and d.event.code == "A")
        sii.register.accept(COMPANY, 33, invoice.folio, at=NOW)
        try:
            changed = await rcv.period(AUGUST, unchanged_since=first.modified_at)
        finally:
            sii.register.forget_events(COMPANY, 33, invoice.folio)
    assert changed.unchanged is False
    assert changed.modified_at == NOW.replace(tzinfo=SANTIAGO)
    accepted = next(d for d in changed.documents if (d.type_code, d.folio) == (33, invoice.folio))
    assert accepted.event == ReceiverEvent("C", "Recibo otorgado por el receptor")


async def test_any_other_refusal_says_sii_s_words_and_is_not_retried(
    sii: Emulator, pool: SessionPool, people: People, clock: FakeClock
) -> None:
    sii.faults.rcv_refusal = "Servicio en mantencion programada"
    calls = sum(sii.rcv_requests.values())

    async with client(pool, people, clock) as rcv:
        with pytest.raises(RcvRefused, match="Servicio en mantencion programada") as refused:
            await rcv.period(SEPTEMBER)

    assert (refused.value.code, refused.value.sii_code) == ("sii_rcv_refused", 1)
    assert sum(sii.rcv_requests.values()) - calls == 1
    assert clock.slept == []


async def test_an_answer_that_is_not_the_facade_s_is_unreadable(
    sii: Emulator, pool: SessionPool, people: People, clock: FakeClock
) -> None:
    sii.faults.rcv_garbled_answers = 1

    async with client(pool, people, clock) as rcv:
        with pytest.raises(RcvUnreadable, match="getResumen with something other than its JSON"):
            await rcv.summary(SEPTEMBER)
        assert await rcv.summary(SEPTEMBER) != []  # the session is still good
