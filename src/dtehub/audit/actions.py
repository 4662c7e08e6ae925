"""The actions the audit log names, each one constant: what ``getAuditLog`` shows and filters by.

A ``/v1`` write names its action where it is declared (``@transactional(audit=Action.CREATE_DOCUMENT)``):
renaming a Python function never renames what the log has recorded. The API's writes are named as the
API names them; the CLI's commands as ``group.command``.
"""

from __future__ import annotations

import enum
from collections.abc import Mapping


class Action(enum.StrEnum):
    # /v1 writes (dtehub.dependencies.transactional records them)
    CREATE_DOCUMENT = "createDocument"
    CREATE_DOCUMENT_FROM_XML = "createDocumentFromXml"
    DELETE_DOCUMENT = "deleteDocument"
    RENEW_DOCUMENT_KEY = "renewDocumentKey"
    RENEW_NOTE_KEY = "renewNoteKey"
    CREATE_CLIENT = "createClient"
    UPDATE_CLIENT = "updateClient"
    RENEW_CLIENT_KEY = "renewClientKey"
    CREATE_CONTACT = "createContact"
    CREATE_TAG = "createTag"
    CREATE_FILE = "createFile"
    UPDATE_COMPANY = "updateCompany"
    UPDATE_COMPANY_LOGO = "updateCompanyLogo"
    DELETE_COMPANY_LOGO = "deleteCompanyLogo"
    UPDATE_COMPANY_SII_CERTIFICATE = "updateCompanySiiCertificate"
    DELETE_COMPANY_SII_CERTIFICATE = "deleteCompanySiiCertificate"
    CREATE_PAYMENT = "createPayment"
    UPDATE_PAYMENT = "updatePayment"
    CREATE_WEBHOOK = "createWebhook"
    DELETE_WEBHOOK = "deleteWebhook"
    SYNC_SII = "syncSii"
    CREATE_CESION_FROM_XML = "createCesionFromXml"
    CREATE_CESION = "createCesion"
    # POST /V1/mipyme_get_document with import: a DTE retrieved from SII and stored
    MIPYME_GET_DOCUMENT = "mipyme_get_document"
    # the dtehub command
    COMPANIES_CREATE = "companies.create"
    COMPANIES_UPDATE = "companies.update"
    COMPANIES_LOGO = "companies.logo"
    COMPANIES_CERTIFICATE = "companies.certificate"
    TOKENS_CREATE = "tokens.create"
    TOKENS_REVOKE = "tokens.revoke"
    USERS_CREATE = "users.create"
    USERS_ADD_COMPANY = "users.add-company"
    USERS_DISABLE = "users.disable"
    DEMO = "demo"
    # the web app (/app), by a signed-in user (names of actions, not secrets)
    APP_SIGN_IN = "app.signIn"
    APP_SIGN_OUT = "app.signOut"
    APP_SECOND_FACTOR = "app.secondFactor"  # the TOTP code given after the password (its sign-in done)
    APP_SWITCH_COMPANY = "app.switchCompany"
    APP_SET_PASSWORD = "app.setPassword"  # noqa: S105 (a link: first password, reset, invitation)
    APP_CHANGE_PASSWORD = "app.changePassword"  # noqa: S105
    APP_REQUEST_PASSWORD_RESET = "app.requestPasswordReset"  # noqa: S105
    APP_ENABLE_TOTP = "app.enableTotp"
    APP_REQUIRE_TOTP = "app.requireTotp"
    APP_INVITE_USER = "app.inviteUser"
    APP_CREATE_TOKEN = "app.createToken"  # noqa: S105
    APP_REVOKE_TOKEN = "app.revokeToken"  # noqa: S105
    APP_TAG_DOCUMENT = "app.tagDocument"
    APP_SEND_REMINDER = "app.sendReminder"
    APP_CHANGE_ROLE = "app.changeRole"
    APP_REMOVE_MEMBER = "app.removeMember"
    APP_EXPORT_DOCUMENTS = "app.exportDocuments"  # the documents list as CSV or XLSX (format, filter)
    APP_START_IMPORT = "app.startImport"  # files uploaded to /app/import (what they created: "import")
    IMPORT = "import"
    SII_SYNC = "sii.sync"


OBJECT_TYPES: Mapping[Action, str] = {
    Action.CREATE_DOCUMENT: "document",
    Action.CREATE_DOCUMENT_FROM_XML: "document",  # or "note": the endpoint annotates which
    Action.CREATE_CESION_FROM_XML: "document",
    Action.DELETE_DOCUMENT: "document",
    Action.RENEW_DOCUMENT_KEY: "document",
    Action.RENEW_NOTE_KEY: "note",
    Action.CREATE_CLIENT: "client",
    Action.UPDATE_CLIENT: "client",
    Action.RENEW_CLIENT_KEY: "client",
    Action.CREATE_CONTACT: "contact",
    Action.CREATE_TAG: "tag",
    Action.CREATE_FILE: "file",
    Action.UPDATE_COMPANY: "company",
    Action.UPDATE_COMPANY_LOGO: "company",
    Action.DELETE_COMPANY_LOGO: "company",
    Action.UPDATE_COMPANY_SII_CERTIFICATE: "company",
    Action.DELETE_COMPANY_SII_CERTIFICATE: "company",
    Action.CREATE_PAYMENT: "payment",
    Action.UPDATE_PAYMENT: "payment",
    Action.CREATE_WEBHOOK: "webhook",
    Action.DELETE_WEBHOOK: "webhook",
    Action.SYNC_SII: "siiSyncRun",
    Action.CREATE_CESION: "document",
}
"""The object each ``/v1`` write changes (a test checks every write is here)."""
