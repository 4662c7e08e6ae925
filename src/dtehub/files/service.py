from __future__ import annotations

import hashlib
import mimetypes

from sqlalchemy.orm import Session

from dtehub.documents import repository as documents_repository
from dtehub.errors import BadRequest, FileTooLarge, NotFound
from dtehub.files import repository
from dtehub.files.schemas import FileCreate
from dtehub.kit import base64
from dtehub.kit.secrets import same_secret
from dtehub.models import File


def create_file(session: Session, company_id: int, data: FileCreate, *, max_bytes: int) -> File:
    content = base64.decode_field(
        data.content, field="content", max_bytes=max_bytes, what="the file", too_large=FileTooLarge
    )
    if not content:
        raise BadRequest("the file is empty", field="content")
    document = documents_repository.get(session, company_id, data.document_id)
    if document is None:
        raise NotFound(f"document {data.document_id} not found", field="documentId")
    name = data.name.replace("/", "_").replace("\\", "_")
    mime_type = data.mime_type or mimetypes.guess_type(name)[0] or "application/octet-stream"
    file = File(
        company_id=company_id,
        document_id=document.id,
        name=name,
        mime_type=mime_type,
        size=len(content),
        sha256=hashlib.sha256(content).hexdigest(),
        content=content,
    )
    session.add(file)
    session.flush()
    return file


def download(session: Session, file_id: int, key: str) -> File:
    file = repository.with_content(session, file_id)
    if file is None or not same_secret(key, file.download_key):
        raise NotFound("file not found")
    return file
