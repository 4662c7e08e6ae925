"""Exact money: hundredths in, two-decimal strings out, never a float in between."""

from __future__ import annotations

import time
from decimal import Decimal

import pytest
from pydantic import BaseModel, ValidationError

from dtehub.kit.money import (
    MAX_AMOUNT_CENTS,
    AmountIn,
    AmountOut,
    InvalidAmount,
    format_cents,
    to_cents,
)


@pytest.mark.parametrize(
    ("value", "cents"),
    [
        (96272, 9627200),
        ("96272", 9627200),
        ("96272.5", 9627250),
        ("96272.50", 9627250),
        (96272.5, 9627250),
        (0.1, 10),
        (0.29, 29),  # 0.29 * 100 is 28.999999999999996 in floats
        (1.15, 115),  # 1.15 * 100 is 114.99999999999999 in floats
        (8091.0, 809100),
        (Decimal("8091.00"), 809100),
        (" 12.30 ", 1230),
        (0, 0),
        ("0.00", 0),
        ("-0", 0),
        ("1.10", 110),
        ("1." + "0" * 40, 100),  # trailing zeros are not decimals
        ("999999999999999.99", MAX_AMOUNT_CENTS - 1),
    ],
)
def test_to_cents(value: object, cents: int) -> None:
    assert to_cents(value) == cents


@pytest.mark.parametrize(
    "value",
    [
        "0.001",
        "12.345",
        0.001,
        0.1 + 0.2,  # 0.30000000000000004
        "1." + "0" * 40 + "1",  # a third decimal beyond the default 28-digit precision
        "1e-999999",
    ],
)
def test_more_than_two_decimals_is_refused(value: object) -> None:
    with pytest.raises(InvalidAmount, match="two decimals"):
        to_cents(value)


@pytest.mark.parametrize(
    "value",
    [
        "",
        "abc",
        "12,50",
        "1.2.3",
        "NaN",
        "nan",
        "Infinity",
        "-inf",
        float("nan"),
        float("inf"),
        None,
        [1],
        {},
    ],
)
def test_what_is_not_an_amount_is_refused(value: object) -> None:
    with pytest.raises(InvalidAmount):
        to_cents(value)


@pytest.mark.parametrize("value", [True, False])
def test_booleans_are_not_amounts(value: bool) -> None:
    with pytest.raises(InvalidAmount, match="boolean"):
        to_cents(value)


def test_negative_amounts_only_when_allowed() -> None:
    with pytest.raises(InvalidAmount, match="negative"):
        to_cents("-5")
    assert to_cents("-5.25", allow_negative=True) == -525


@pytest.mark.parametrize(
    "value",
    [
        "1000000000000000",
        "1" + "0" * 100_000,
        10**15,
        1e15,
        1e300,
    ],
)
def test_too_large_is_refused(value: object) -> None:
    with pytest.raises(InvalidAmount, match="too large"):
        to_cents(value)


@pytest.mark.parametrize("value", ["1e15", "1e999990", "1e99999999999", "+5", "1_000", "٣", "0x10", "1,5"])
def test_amount_text_is_plain_digits(value: str) -> None:
    # Exponents would let "1e999990" cost a minute of CPU before any size check.
    with pytest.raises(InvalidAmount, match="not an amount"):
        to_cents(value)


def test_too_large_negative_is_refused() -> None:
    with pytest.raises(InvalidAmount, match="too large"):
        to_cents("-10000000000000000", allow_negative=True)


def test_invalid_amount_is_a_value_error() -> None:
    # Pydantic turns ValueErrors from validators into 400s; anything else would be a 500.
    assert issubclass(InvalidAmount, ValueError)


@pytest.mark.parametrize(
    ("cents", "text"),
    [
        (0, "0.00"),
        (1, "0.01"),
        (10, "0.10"),
        (9627200, "96272.00"),
        (809100, "8091.00"),
        (-525, "-5.25"),
        (-5, "-0.05"),
        (MAX_AMOUNT_CENTS - 1, "999999999999999.99"),
    ],
)
def test_format_cents(cents: int, text: str) -> None:
    assert format_cents(cents) == text


def test_round_trip() -> None:
    for cents in [*range(-250, 250), 123456789, 9627200, MAX_AMOUNT_CENTS - 1]:
        assert to_cents(format_cents(cents), allow_negative=True) == cents


class Amounts(BaseModel):
    amount_in: AmountIn
    amount_out: AmountOut = 0


def test_amount_fields() -> None:
    model = Amounts(amount_in="8091.5", amount_out=809150)

    assert model.amount_in == 809150
    assert model.model_dump(mode="json") == {"amount_in": 809150, "amount_out": "8091.50"}


def test_json_numbers_keep_their_decimal_text() -> None:
    assert Amounts.model_validate_json('{"amount_in": 96272.5}').amount_in == 9627250
    assert Amounts.model_validate_json('{"amount_in": 1.15}').amount_in == 115
    assert Amounts.model_validate_json('{"amount_in": 96272}').amount_in == 9627200


@pytest.mark.parametrize(
    "raw", ['"1e999999"', '"1e1000000"', "1e999999", '"12.345"', "true", '"NaN"', "null"]
)
def test_amount_field_refuses_with_a_validation_error(raw: str) -> None:
    started = time.perf_counter()

    with pytest.raises(ValidationError):
        Amounts.model_validate_json('{"amount_in": ' + raw + "}")

    assert time.perf_counter() - started < 0.5
