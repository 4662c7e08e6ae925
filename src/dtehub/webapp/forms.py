"""What the web app's forms and lists share: amounts as people in Chile write them, ids in paths, numbers
in queries, days, a list's page."""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import date
from typing import TypeVar

from dtehub.errors import BadRequest, NotFound
from dtehub.kit.money import InvalidAmount, to_cents
from dtehub.kit.pagination import MAX_PAGE

T = TypeVar("T")


def amount(text: str, field: str = "amount", label: str = "Monto") -> int:
    """``$1.234.567``, ``1234567`` or ``1.234,50`` (Chilean writing) → hundredths."""
    cleaned = re.sub(r"[\s$]", "", text)
    if "," in cleaned or re.fullmatch(r"\d{1,3}(\.\d{3})+", cleaned):
        cleaned = cleaned.replace(".", "").replace(",", ".")
    try:
        return to_cents(cleaned)
    except InvalidAmount:
        raise BadRequest(f"{label}: escriba un número, por ejemplo 1.190.000", field=field) from None


def cents_text(cents: int) -> str:
    """Hundredths as the API's amount text (``119000000`` → ``1190000.00``)."""
    whole, hundredths = divmod(cents, 100)
    return f"{whole}.{hundredths:02d}"


def path_id(text: str, field: str = "id") -> int:
    """A path's id: anything but a number of ours is an object that does not exist (404)."""
    if not (text.isascii() and text.isdigit()) or len(text) > 18 or int(text) == 0:
        raise NotFound("not found", field=field)
    return int(text)


def day(text: str, default: date, field: str = "date") -> date:
    """A form's ``AAAA-MM-DD`` day (an ``<input type="date">``), ``default`` when left empty."""
    if not text.strip():
        return default
    try:
        return date.fromisoformat(text.strip())
    except ValueError:
        raise BadRequest("Fecha: elija un día (AAAA-MM-DD)", field=field) from None


def number(text: str | None, field: str) -> int | None:
    """A query's number (``clientId``, ``page``): None when absent, a 400 when not a number."""
    if text is None or not text.strip():
        return None
    value = text.strip()
    if not (value.isascii() and value.isdigit()) or len(value) > 18:
        raise BadRequest(f"{field}: debe ser un número", field=field)
    return int(value)


def page_number(text: str | None) -> int:
    """A list's ``page``: 1 when absent, a 400 when not a number (a page past the end shows the last)."""
    return max(1, min(number(text, "page") or 1, MAX_PAGE))


def paged(
    fetch: Callable[[int, int], tuple[list[T], int]], page: str | None, size: int
) -> tuple[list[T], int, int, int]:
    """A list's page: ``fetch(offset, limit)`` gives its rows and total; a page past the end is the
    last. Answers (rows, total, page, pages)."""
    wanted = page_number(page)
    rows, total = fetch((wanted - 1) * size, size)
    pages = max(1, -(-total // size))
    if wanted > pages:
        wanted = pages
        rows, total = fetch((wanted - 1) * size, size)
    return rows, total, wanted, pages
