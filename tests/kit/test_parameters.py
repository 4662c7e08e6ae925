"""dtehub.kit.parameters: how a query is read (filters, options, empty values) and how it is reported."""

from __future__ import annotations

from urllib.parse import parse_qsl

import pytest
from hypothesis import given
from hypothesis import strategies as st

from dtehub.kit.parameters import Adjustment, Choice, Count, Flag, QueryRules, adjust_query, with_warnings

RULES = QueryRules(
    defaults={"clientId": None, "status": None, "orderBy": 1, "order": "DESC", "expandClient": 0,
              "resultsPerPage": 50, "page": 1},
    options={"orderBy": Choice((1, 2, 3)), "order": Choice(("ASC", "DESC")), "expandClient": Flag(),
             "resultsPerPage": Count(100), "page": Count(1_000_000)},
)  # fmt: skip


def adjusted(query: str) -> tuple[str | None, list[Adjustment]]:
    adjustments: list[Adjustment] = []
    result = adjust_query(query.encode("latin-1"), RULES, adjustments)
    return (result.decode("latin-1") if result is not None else None), adjustments


@pytest.mark.parametrize(
    ("query", "read", "adjustments"),
    [
        ("clientId&page=1", "page=1", [Adjustment("clientId", "", None)]),
        ("status=", "", [Adjustment("status", "", None)]),
        ("status=%20+%09&x=", "x=", [Adjustment("status", "  \t", None)]),
        ("resultsPerPage=1000", "resultsPerPage=100", [Adjustment("resultsPerPage", "1000", 100)]),
        ("resultsPerPage=0", "", [Adjustment("resultsPerPage", "0", 50)]),
        ("resultsPerPage=1e3", "", [Adjustment("resultsPerPage", "1e3", 50)]),
        ("resultsPerPage=" + "9" * 40, "resultsPerPage=100", [Adjustment("resultsPerPage", "9" * 40, 100)]),
        ("page=-1&orderBy=99", "", [Adjustment("page", "-1", 1), Adjustment("orderBy", "99", 1)]),
        ("page=%2B0", "", [Adjustment("page", "+0", 1)]),
        ("order=sideways", "", [Adjustment("order", "sideways", "DESC")]),
        ("expandClient=maybe", "", [Adjustment("expandClient", "maybe", 0)]),
        # Values it can use, spelled otherwise: read in their plain form, without a warning.
        ("order=asc&orderBy=02&expandClient=TRUE&page=007", "order=ASC&orderBy=2&expandClient=1&page=7", []),
        ("resultsPerPage=+5", "resultsPerPage=5", []),
        # A name's last value counts; others' bytes are kept as they are.
        ("clientId=4&status=2&clientId=", "status=2", [Adjustment("clientId", "", None)]),
        ("other=&number=a%20b+c", None, []),
        ("clientId=7&order=DESC&other", None, []),
        ("", None, []),
    ],
)
def test_a_query_is_read_by_the_rules(query: str, read: str | None, adjustments: list[Adjustment]) -> None:
    assert adjusted(query) == (read, adjustments)


NAMES = st.sampled_from([*RULES.defaults, "other", "number", ""])
VALUES = st.sampled_from(["", " ", "1", "2", "99", "-1", "asc", "DESC", "yes", "x", "%20", "a+b", "%C3%B1"])
SEGMENTS = st.lists(st.tuples(NAMES, st.one_of(st.none(), VALUES)), max_size=8)


@given(SEGMENTS)
def test_whatever_is_sent_the_endpoint_reads_only_what_it_can_use(
    segments: list[tuple[str, str | None]],
) -> None:
    query = "&".join(name if value is None else f"{name}={value}" for name, value in segments)
    result, adjustments = adjusted(query)
    read = parse_qsl(result if result is not None else query, keep_blank_values=True)
    sent = parse_qsl(query, keep_blank_values=True)

    # Parameters it does not declare reach the endpoint as sent, in order.
    assert [pair for pair in read if pair[0] not in RULES.defaults] == [
        pair for pair in sent if pair[0] not in RULES.defaults
    ]
    declared = [pair for pair in read if pair[0] in RULES.defaults]
    assert len({name for name, _ in declared}) == len(declared)  # each once
    # Each declared parameter's last value reaches the endpoint in a form it can use, or is reported.
    reaching = dict(declared)
    reported = [adjustment.parameter for adjustment in adjustments]
    for name, value in dict(pair for pair in sent if pair[0] in RULES.defaults).items():
        option = RULES.options.get(name)
        reading = option.read(value) if option is not None else None
        if not value.strip(" \t") or (option is not None and reading is None):
            assert name not in reaching
            assert reported.count(name) == 1
        elif reading is not None:
            assert reaching[name] == reading.text
            assert reported.count(name) == int(reading.adjusted)
        else:
            assert reaching[name] == value
            assert name not in reported


def test_an_adjustment_as_a_warning_header() -> None:
    assert (
        Adjustment("resultsPerPage", "500", 100).header_value()
        == '299 dtehub "resultsPerPage=500 served as 100"'
    )
    assert Adjustment("clientId", "", None).header_value() == '299 dtehub "clientId= ignored"'
    assert Adjustment("send", True, 0).header_value() == '299 dtehub "send=1 served as 0"'
    hostile = Adjustment("order", 'a"\\\r\nb ñ', "DESC").header_value()
    assert hostile == '299 dtehub "order=a%22%5C%0D%0Ab%20%C3%B1 served as DESC"'
    assert hostile.isascii()


def test_an_adjustment_as_json_cuts_long_values() -> None:
    assert Adjustment("order", "x" * 300, "DESC").as_json() == {
        "parameter": "order",
        "value": "x" * 200 + "…",
        "used": "DESC",
    }
    assert Adjustment("tags", {"a": [1]}, []).as_json()["value"] == '{"a": [1]}'


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        (
            b'{"records":{},"items":[]}',
            b'{"records":{},"items":[],"warnings":[{"parameter":"page","value":"0","used":1}]}',
        ),
        (b"{}", b'{"warnings":[{"parameter":"page","value":"0","used":1}]}'),
        (b"[1]", None),
    ],
)
def test_warnings_join_a_json_object_last(body: bytes, expected: bytes | None) -> None:
    assert with_warnings(body, [Adjustment("page", "0", 1)]) == expected
