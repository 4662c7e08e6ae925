"""/v1 file methods (attachments on documents)."""

from __future__ import annotations

from fastapi import APIRouter
from fastapi.responses import Response

from dtehub.audit.actions import Action
from dtehub.dependencies import AuthDep, SessionDep, SettingsDep, transactional
from dtehub.errors_http import error_responses
from dtehub.files import service
from dtehub.files.schemas import FileCreate, FileOut
from dtehub.kit.schema import respond
from dtehub.portal.links import Links

router = APIRouter(prefix="/v1", tags=["files"])


@router.post("/createFile", response_model=FileOut, responses=error_responses(404, 413))
@transactional(audit=Action.CREATE_FILE)
def create_file(auth: AuthDep, session: SessionDep, settings: SettingsDep, body: FileCreate) -> Response:
    """Attach a file (base64 content) to a document; it is listed by expandFile and downloadable by url."""
    file = service.create_file(session, auth.company_id, body, max_bytes=settings.max_file_bytes)
    return respond(FileOut.of(file, Links(settings.public_base)))
