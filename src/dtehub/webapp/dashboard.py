"""``/app/``: the company's dashboard."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query
from fastapi.responses import Response

from dtehub.dependencies import SessionDep
from dtehub.webapp import pages
from dtehub.webapp.layout import layout
from dtehub.webapp.web import StaffDep, app_route

router = APIRouter()


@router.get("/")
@app_route()
def dashboard(staff: StaffDep, session: SessionDep, ok: Annotated[str | None, Query()] = None) -> Response:
    """What the company is owed, at a glance."""
    return pages.page("dashboard.html", {"layout": layout(session, staff, "dashboard", ok)})
