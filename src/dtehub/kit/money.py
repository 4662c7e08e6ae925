"""Exact money. Amounts live in integer minor units (hundredths) and are shown with two decimals.

dtehub never lets a float touch an amount: JSON numbers are turned into :class:`~decimal.Decimal`
through their shortest decimal text, and anything with more than two decimals is refused.
"""

from __future__ import annotations

import math
import re
from decimal import ROUND_HALF_UP, Decimal, Inexact, InvalidOperation, localcontext
from typing import Annotated, Any

from pydantic import BeforeValidator, PlainSerializer, WithJsonSchema

_AMOUNT_TEXT = re.compile(r"^-?[0-9]+(\.[0-9]+)?$")
MAX_AMOUNT_CENTS = 10**17  # a quadrillion pesos: beyond any real document, well inside BIGINT


class InvalidAmount(ValueError):
    pass


def to_cents(value: Any, *, allow_negative: bool = False) -> int:
    """Parse ``96272``, ``"96272"``, ``"96272.5"``, ``96272.50`` or a Decimal into hundredths."""
    if isinstance(value, bool):
        raise InvalidAmount("an amount must be a number, not a boolean")
    if isinstance(value, float):
        value = repr(value)  # the shortest text that reads back as this float
    elif isinstance(value, str):
        value = value.strip()
        if not _AMOUNT_TEXT.match(value):
            raise InvalidAmount(f"{value!r} is not an amount (digits, at most two decimals, e.g. 96272.50)")
    try:
        amount = Decimal(value)
    except (InvalidOperation, TypeError, ValueError):
        raise InvalidAmount(f"{value!r} is not an amount") from None
    if not amount.is_finite():
        raise InvalidAmount(f"{value!r} is not an amount")
    # Bound the magnitude before any arithmetic: "1e999990" would otherwise cost a minute of CPU in
    # int() and "1e999999" overflow the decimal context.
    if amount and amount.adjusted() >= 15:
        raise InvalidAmount(f"{value} is too large")
    try:
        with localcontext() as exact:
            exact.traps[Inexact] = True  # rounding to 28 digits must not hide a third decimal
            cents = amount * 100
            integral = cents == cents.to_integral_value()
    except Inexact:
        integral = False
    if not integral:
        raise InvalidAmount(f"{value} has more than two decimals")
    if amount < 0 and not allow_negative:
        raise InvalidAmount(f"{value} is negative")
    result = int(cents)
    if abs(result) >= MAX_AMOUNT_CENTS:
        raise InvalidAmount(f"{value} is too large")
    return result


def format_cents(cents: int) -> str:
    """``9627200`` → ``"96272.00"``, Duemint's format for amounts."""
    # A listing formats six amounts per document: one %-format of divmod is half the cost of an f-string.
    if cents < 0:
        return "-%d.%02d" % divmod(-cents, 100)  # noqa: UP031 (faster than an f-string here)
    return "%d.%02d" % divmod(cents, 100)  # noqa: UP031


AMOUNT_LIMIT = 10**15
"""Request amounts are below this many pesos (:data:`MAX_AMOUNT_CENTS`)."""

_AMOUNT_IN_TEXT = r"[0-9]{1,15}(\.[0-9]{1,2})?[ \t\r\n]*"
_POSITIVE = r"(?![0.]*[ \t\r\n]*$)"  # not zero, however written


def _amount_in(*, positive: bool) -> Any:
    text = re.compile(f"^[ \\t\\r\\n]*{_POSITIVE if positive else ''}{_AMOUNT_IN_TEXT}$")
    bound = "exclusiveMinimum" if positive else "minimum"

    def read(value: Any) -> int:
        if isinstance(value, str) and not text.match(value):
            raise InvalidAmount(
                f"{value!r} is not an amount (digits, at most two decimals, e.g. 96272.50"
                f"{', above 0' if positive else ''})"
            )
        if isinstance(value, float) and math.isfinite(value):
            nearest = round(value, 2)  # a number such as 57 * 0.01 == 0.5700000000000001 means 0.57
            if math.isclose(nearest, value, rel_tol=1e-15, abs_tol=0.0):
                value = nearest
        cents = to_cents(value)
        if positive and cents <= 0:
            raise InvalidAmount(f"{value} is not above 0")
        return cents

    schema = {
        "anyOf": [
            {"type": "number", bound: 0, "exclusiveMaximum": AMOUNT_LIMIT, "multipleOf": 0.01},
            {"type": "string", "pattern": text.pattern},
        ],
        "description": "An amount: a number or its text, at most two decimals, below 10^15",
    }
    return Annotated[int, BeforeValidator(read), WithJsonSchema(schema)]


AmountIn = _amount_in(positive=False)
"""A request amount (number or numeric string, at most two decimals, from 0), held as hundredths."""

PositiveAmountIn = _amount_in(positive=True)
"""A request amount above 0."""

AmountOut = Annotated[
    int,
    PlainSerializer(format_cents, return_type=str),
    WithJsonSchema({"type": "string", "pattern": r"^-?\d+\.\d{2}$", "examples": ["96272.00"]}),
]
"""A response amount: hundredths shown as a string with two decimals."""


# --- amounts as people in Chile read them ------------------------------------------------------------

_CURRENCY_SIGNS = {"CLP": "$", "USD": "US$", "EUR": "€", "CLF": "UF"}


def _group_thousands(whole: str) -> str:
    groups = []
    while len(whole) > 3:
        groups.append(whole[-3:])
        whole = whole[:-3]
    groups.append(whole)
    return ".".join(reversed(groups))


def format_number(value: Decimal | int, *, decimals: int | None = None) -> str:
    """``Decimal("1234.50")`` → ``1.234,5``: dots between thousands, a comma before decimals, trailing
    zeros dropped; with ``decimals`` exactly that many places (rounded half up)."""
    number = Decimal(value)
    if decimals is not None:
        number = number.quantize(Decimal(1).scaleb(-decimals), rounding=ROUND_HALF_UP)
        text = f"{abs(number):f}"
    else:
        text = f"{abs(number):f}"
        if "." in text:
            text = text.rstrip("0").rstrip(".")
    whole, _, fraction = text.partition(".")
    sign = "-" if number < 0 and number != 0 else ""
    return f"{sign}{_group_thousands(whole)}{',' + fraction if fraction else ''}"


def format_money(cents: int, currency: str = "CLP") -> str:
    """``9627200`` CLP → ``$ 96.272``; other currencies keep two decimals (``US$ 1.234,56``).

    Pesos print without decimals unless the amount has some."""
    sign = _CURRENCY_SIGNS.get(currency.upper(), currency.upper())
    amount = Decimal(cents) / 100
    decimals = 0 if currency.upper() == "CLP" and cents % 100 == 0 else 2
    text = format_number(amount, decimals=decimals)
    if text.startswith("-"):
        return f"-{sign} {text[1:]}"
    return f"{sign} {text}"
