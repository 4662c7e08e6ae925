"""/v1 tag methods."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query
from fastapi.responses import Response

from dtehub.audit.actions import Action
from dtehub.dependencies import AuthDep, SessionDep, transactional
from dtehub.errors_http import error_responses
from dtehub.kit.pagination import Page, PageDep
from dtehub.kit.parameters import OrderQuery, choice
from dtehub.kit.schema import NO_NUL, respond
from dtehub.tags import repository, service
from dtehub.tags.schemas import TagCreate, TagOut

router = APIRouter(prefix="/v1", tags=["tags"])


@router.get("/getTags", response_model=Page[TagOut], responses=error_responses())
@transactional
def get_tags(
    auth: AuthDep,
    session: SessionDep,
    page: PageDep,
    name: Annotated[str | None, Query(max_length=100, pattern=NO_NUL, description="Exact name")] = None,
    order_by: Annotated[int, choice("orderBy", "1 name (default), 2 creation", (1, 2), ge=1, le=2)] = 1,
    order: OrderQuery = "ASC",
) -> Response:
    """List the company's tags."""
    tags, total = repository.list_page(
        session,
        auth.company_id,
        name=name,
        order_by=order_by,
        descending=order == "DESC",
        offset=page.offset,
        limit=page.per_page,
    )
    return respond(Page[TagOut].of([TagOut.of(t) for t in tags], total, page))


@router.post("/createTag", response_model=TagOut, responses=error_responses(409))
@transactional(audit=Action.CREATE_TAG)
def create_tag(auth: AuthDep, session: SessionDep, body: TagCreate) -> Response:
    """Create a tag; names are unique within the company."""
    return respond(TagOut.of(service.create_tag(session, auth.company_id, body.name)))
