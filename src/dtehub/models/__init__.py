"""SQLAlchemy tables, one module per table. Importing this package registers them all."""

from dtehub.models.api_token import ApiToken
from dtehub.models.app_import import AppImport, AppImportResult, ImportState
from dtehub.models.audit_event import Actor, AuditEvent
from dtehub.models.base import Base
from dtehub.models.claimed_balance import ClaimedBalance
from dtehub.models.client import Client
from dtehub.models.client_balance import ClientBalance
from dtehub.models.collected_day import CollectedDay
from dtehub.models.company import Company
from dtehub.models.company_logo import CompanyLogo
from dtehub.models.company_sii_certificate import CompanySiiCertificate
from dtehub.models.contact import Contact
from dtehub.models.document import Document, DocumentState, Origin
from dtehub.models.document_cession import DocumentCession
from dtehub.models.document_count import DocumentCount
from dtehub.models.document_holding import DocumentHolding
from dtehub.models.document_sii_acceptance import DocumentSiiAcceptance
from dtehub.models.document_source import DocumentSource
from dtehub.models.document_tag import DocumentTag
from dtehub.models.document_total import DocumentTotal
from dtehub.models.email_message import EmailMessage, MessageStatus, ReminderKind
from dtehub.models.file import File
from dtehub.models.issued_total import IssuedTotal
from dtehub.models.note import Note, NoteReason
from dtehub.models.note_source import NoteSource
from dtehub.models.open_balance import OpenBalance
from dtehub.models.payment import Payment, PaymentStatus
from dtehub.models.payment_allocation import PaymentAllocation
from dtehub.models.sii_sync_run import RunState, SiiSyncLease, SiiSyncPeriod, SiiSyncRun
from dtehub.models.tag import Tag
from dtehub.models.user import Membership, Role, SignInFailure, User, UserLink, UserSession
from dtehub.models.webhook import Webhook
from dtehub.models.webhook_delivery import DeliveryState, WebhookDelivery
from dtehub.models.webhook_event import WebhookEvent

__all__ = [
    "Actor",
    "ApiToken",
    "AppImport",
    "AppImportResult",
    "AuditEvent",
    "Base",
    "ClaimedBalance",
    "Client",
    "ClientBalance",
    "CollectedDay",
    "Company",
    "CompanyLogo",
    "CompanySiiCertificate",
    "Contact",
    "DeliveryState",
    "Document",
    "DocumentCession",
    "DocumentCount",
    "DocumentHolding",
    "DocumentSiiAcceptance",
    "DocumentSource",
    "DocumentState",
    "DocumentTag",
    "DocumentTotal",
    "EmailMessage",
    "File",
    "ImportState",
    "IssuedTotal",
    "Membership",
    "MessageStatus",
    "Note",
    "NoteReason",
    "NoteSource",
    "OpenBalance",
    "Origin",
    "Payment",
    "PaymentAllocation",
    "PaymentStatus",
    "ReminderKind",
    "Role",
    "RunState",
    "SignInFailure",
    "SiiSyncLease",
    "SiiSyncPeriod",
    "SiiSyncRun",
    "Tag",
    "User",
    "UserLink",
    "UserSession",
    "Webhook",
    "WebhookDelivery",
    "WebhookEvent",
]
