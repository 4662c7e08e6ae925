"""SQLAlchemy tables, one module per table. Importing this package registers them all."""

from dtehub.models.api_token import ApiToken
from dtehub.models.base import Base
from dtehub.models.client import Client
from dtehub.models.company import Company
from dtehub.models.company_logo import CompanyLogo
from dtehub.models.contact import Contact
from dtehub.models.document import Document, DocumentState
from dtehub.models.document_count import DocumentCount
from dtehub.models.document_source import DocumentSource
from dtehub.models.document_tag import DocumentTag
from dtehub.models.file import File
from dtehub.models.note import Note, NoteReason
from dtehub.models.note_source import NoteSource
from dtehub.models.tag import Tag

__all__ = [
    "ApiToken",
    "Base",
    "Client",
    "Company",
    "CompanyLogo",
    "Contact",
    "Document",
    "DocumentCount",
    "DocumentSource",
    "DocumentState",
    "DocumentTag",
    "File",
    "Note",
    "NoteReason",
    "NoteSource",
    "Tag",
]
