from __future__ import annotations

from fastapi import APIRouter
from fastapi.responses import Response
from pydantic import BaseModel
from sqlalchemy import text

from dtehub.dependencies import SessionDep, transactional
from dtehub.errors_http import error_responses
from dtehub.kit.schema import respond

router = APIRouter(tags=["health"])


class Health(BaseModel):
    status: str
    database: str


@router.get("/health", response_model=Health, responses=error_responses(api=False))
@transactional
def health(session: SessionDep) -> Response:
    """Ready when the database answers; 503 otherwise (for load balancers and orchestrators)."""
    session.execute(text("SELECT 1"))
    return respond(Health(status="ok", database="ok"))


# Monitors and load balancers often ask with HEAD: the same check, not in the API document.
router.add_api_route("/health", health, methods=["HEAD"], include_in_schema=False)
