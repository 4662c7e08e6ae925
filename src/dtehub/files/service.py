from __future__ import annotations

import hashlib
import mimetypes

from sqlalchemy.orm import Session

from dtehub.documents import repository as documents_repository
from dtehub.errors import BadRequest, NotFound, PayloadTooLarge
from dtehub.files import repository
from dtehub.files.schemas import FileCreate
from dtehub.kit import base64
from dtehub.kit.secrets import same_secret
from dtehub.models import File


def create_file(session: Session, company_id: int, data: FileCreate, *, max_bytes: int) -> File:
    if base64.decoded_size_bound(data.content) > max_bytes + 3:
        raise PayloadTooLarge(
            f"the file is larger than {max_bytes} bytes", code="file_too_large", field="content"
        )
    try:
        content = base64.decode(data.content)
    except base64.InvalidBase64:
        raise BadRequest("content is not valid base64", field="content") from None
    if len(content) > max_bytes:
        raise PayloadTooLarge(
            f"the file is larger than {max_bytes} bytes", code="file_too_large", field="content"
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
