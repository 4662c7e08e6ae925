"""Duemint's list envelope: ``{"records": {totalRecords, items, page, pages}, "items": [...]}``.

A page's offset is bounded twice: :class:`PageRequest` holds no page beyond :data:`MAX_PAGE` (so no offset
beyond :data:`MAX_OFFSET`, far inside every database's integers), and every listing's repository counts
first and answers a page that starts at or past its total empty, without asking the database to skip
rows it does not have.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated, Any, Generic, TypeVar

from fastapi import Depends
from pydantic import BaseModel, Field

from dtehub.kit.parameters import Count, option

T = TypeVar("T")

DEFAULT_PER_PAGE = 50
MAX_PER_PAGE = 100
MAX_PAGE = 1_000_000
MAX_OFFSET = (MAX_PAGE - 1) * MAX_PER_PAGE
"""The most rows a page may skip: 99,999,900."""


@dataclass(frozen=True)
class PageRequest:
    page: int
    per_page: int

    def __post_init__(self) -> None:
        if not (1 <= self.page <= MAX_PAGE and 1 <= self.per_page <= MAX_PER_PAGE):
            raise ValueError(
                f"page {self.page} of {self.per_page}: pages run from 1 to {MAX_PAGE}, of 1 to {MAX_PER_PAGE}"
            )

    @property
    def offset(self) -> int:
        return (self.page - 1) * self.per_page


async def page_request(
    results_per_page: Annotated[
        int,
        option(
            "resultsPerPage",
            f"Results per page, {DEFAULT_PER_PAGE} by default, at most {MAX_PER_PAGE}",
            Count(MAX_PER_PAGE),
            ge=1,
            le=MAX_PER_PAGE,
        ),
    ] = DEFAULT_PER_PAGE,
    page: Annotated[
        int, option("page", "Page of results, from 1 (the default)", Count(MAX_PAGE), ge=1, le=MAX_PAGE)
    ] = 1,
) -> PageRequest:
    # Both are options (dtehub.kit.parameters): values they cannot use never reach here.
    return PageRequest(page=page, per_page=results_per_page)


PageDep = Annotated[PageRequest, Depends(page_request)]


class Records(BaseModel):
    total_records: int = Field(serialization_alias="totalRecords")
    items: int
    page: int
    pages: int


class Page(BaseModel, Generic[T]):
    records: Records
    items: list[T]

    @classmethod
    def of(cls, items: list[T], total: int, request: PageRequest) -> Page[T]:
        pages = -(-total // request.per_page)
        return cls(
            records=Records(total_records=total, items=len(items), page=request.page, pages=pages),
            items=items,
        )


def page_json(items: list[dict[str, Any]], total: int, request: PageRequest) -> dict[str, Any]:
    """``Page.of`` for items already built as JSON-ready data (document listings)."""
    pages = -(-total // request.per_page)
    records = {"totalRecords": total, "items": len(items), "page": request.page, "pages": pages}
    return {"records": records, "items": items}
