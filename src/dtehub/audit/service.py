"""Recording changes in the audit log, in the transaction of the change, and reading it back.

A ``/v1`` write is recorded by :func:`dtehub.dependencies.transactional` (:func:`record_request`): the
action it declares (:mod:`dtehub.audit.actions`), the caller's company and token, the object from the
answer's ``id`` and a summary of the request's fields. An endpoint whose object the answer cannot
tell calls :func:`annotate` first. The CLI, the import and SII retrieval call :func:`record` themselves.
"""

from __future__ import annotations

import binascii
import hashlib
import json
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from urllib.parse import urlsplit, urlunsplit

from fastapi.responses import Response
from sqlalchemy.orm import Session

from dtehub.audit import repository
from dtehub.audit.actions import OBJECT_TYPES, Action
from dtehub.audit.repository import AuditFilters
from dtehub.auth.service import AuthContext
from dtehub.kit.pagination import PageRequest
from dtehub.kit.schema import ApiInput
from dtehub.models import Actor, AuditEvent

WRITE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})

_NOTE_KEY = "dtehub.audit"
_SECRET_NAME = re.compile(r"secret|passw|token|pfx|cert|key|signature", re.IGNORECASE)
_CONTENT_NAMES = frozenset({"xml", "content"})  # base64 file contents: kept as a hash and a size
_MAX_TEXT = 200
_MAX_ITEMS = 20
_MAX_SUMMARY_CHARS = 4000


@dataclass
class _Annotation:
    object_type: str | None = None
    object_id: int | None = None
    summary: dict[str, Any] | None = None
    skip: bool = False


def begin(session: Session) -> None:
    """Forget any annotation of an earlier unit of work on this session (a retry, or a test's reuse)."""
    session.info.pop(_NOTE_KEY, None)


def annotate(
    session: Session,
    *,
    object_type: str | None = None,
    object_id: int | None = None,
    summary: Mapping[str, Any] | None = None,
    skip: bool = False,
) -> None:
    """Tell the request's audit event what the answer alone cannot: the object's type or id, more of
    what changed, or (``skip``) that nothing changed at all (the same DTE sent again)."""
    session.info[_NOTE_KEY] = _Annotation(object_type, object_id, dict(summary or {}), skip)


def record(
    session: Session,
    company_id: int,
    *,
    actor: Actor,
    action: Action,
    token_id: int | None = None,
    user_id: int | None = None,
    object_type: str | None = None,
    object_id: int | None = None,
    summary: Mapping[str, Any] | None = None,
) -> None:
    """Add one event to the session's unit of work: it commits, or rolls back, with the change."""
    repository.add(
        session,
        AuditEvent(
            company_id=company_id,
            actor=actor.value,
            token_id=token_id,
            user_id=user_id,
            action=action,
            object_type=object_type,
            object_id=object_id,
            summary=_bounded(_clean(dict(summary or {}))),
        ),
    )


def record_request(
    session: Session, caller: AuthContext, action: Action, arguments: Mapping[str, Any], response: Response
) -> None:
    """The event of a successful ``/v1`` write (called by ``transactional`` before the commit)."""
    note: _Annotation = session.info.pop(_NOTE_KEY, None) or _Annotation()
    if note.skip:
        return
    summary: dict[str, Any] = {}
    for value in arguments.values():
        # The request body only (never Settings, also a model, which holds the database URL).
        if isinstance(value, ApiInput):
            summary.update(value.model_dump(mode="json", by_alias=True, exclude_unset=True))
    summary.update(note.summary or {})
    record(
        session,
        caller.company_id,
        actor=Actor.API_TOKEN,
        token_id=caller.token_id,
        action=action,
        object_type=note.object_type or OBJECT_TYPES.get(action),
        object_id=note.object_id if note.object_id is not None else _answered_id(response),
        summary=summary,
    )


def record_stored(
    session: Session,
    company_id: int,
    *,
    actor: Actor,
    action: Action,
    token_id: int | None,
    kind: str,
    object_id: int,
    sha256: str,
) -> None:
    """The event of a DTE stored outside the generic hook (SII retrieval): the document or note and
    the SHA-256 of its XML."""
    record(
        session,
        company_id,
        actor=actor,
        action=action,
        token_id=token_id,
        object_type=kind,
        object_id=object_id,
        summary={"xmlSha256": sha256},
    )


def record_import_batch(
    session: Session, company_id: int, created: Sequence[tuple[str, int]], *, user_id: int | None = None
) -> None:
    """One event per committed batch of ``dtehub import`` (up to 200 DTEs): counts and the ids; the
    web app's user who uploaded the files when ``user_id`` is given, the CLI otherwise."""
    if not created:
        return
    documents = sorted(i for kind, i in created if kind == "document")
    notes = sorted(i for kind, i in created if kind == "note")
    record(
        session,
        company_id,
        actor=Actor.CLI if user_id is None else Actor.USER,
        user_id=user_id,
        action=Action.IMPORT,
        summary={
            "documents": len(documents),
            "notes": len(notes),
            "documentIds": documents,
            "noteIds": notes,
        },
    )


def list_events(
    session: Session, company_id: int, filters: AuditFilters, page: PageRequest
) -> tuple[Sequence[AuditEvent], int]:
    return repository.page(session, company_id, filters, page)


def prune(session: Session, before: datetime, company_id: int | None = None) -> int:
    return repository.prune(session, before, company_id)


def _answered_id(response: Response) -> int | None:
    """The ``id`` of the object the write answered with (every /v1 write answers its object)."""
    try:
        answered = json.loads(bytes(response.body))
    except ValueError:
        return None
    value = answered.get("id") if isinstance(answered, dict) else None
    return int(value) if isinstance(value, str | int) and str(value).isdigit() else None


def _content(value: str) -> dict[str, Any]:
    try:
        data = binascii.a2b_base64(value)
    except (binascii.Error, ValueError):
        data = value.encode("utf-8", "surrogatepass")
    return {"sha256": hashlib.sha256(data).hexdigest(), "bytes": len(data)}


def _url(value: str) -> str:
    """A URL's scheme and host only: credentials hide in a webhook URL's user, query and path alike
    (chat services put their secret in the path), and the log outlives the webhook."""
    try:
        parts = urlsplit(value)
    except ValueError:
        return "[unreadable URL]"
    host = parts.hostname or ""
    if parts.port is not None:
        host = f"{host}:{parts.port}"
    return urlunsplit((parts.scheme, host, "/…" if parts.path.strip("/") else "", "", ""))[:_MAX_TEXT]


def _clean(value: Any, name: str = "") -> Any:
    """The summary as recorded: secrets left out, file contents as a hash and size, texts and lists cut."""
    if isinstance(value, dict):
        return {
            key: _clean(item, key)
            for key, item in value.items()
            # Never copied, not even as a hash; an object's id (tokenId) is no secret.
            if key.endswith(("Id", "Ids")) or not _SECRET_NAME.search(key)
        }
    if isinstance(value, list | tuple):
        if name.endswith("Ids") and all(isinstance(item, int) for item in value):
            return list(value)  # every id, so that each object's event can be found (an import's 200)
        kept = [_clean(item, name) for item in value[:_MAX_ITEMS]]
        if len(value) > _MAX_ITEMS:
            kept.append(f"… {len(value) - _MAX_ITEMS} more")
        return kept
    if isinstance(value, str):
        lowered = name.lower()
        if lowered in _CONTENT_NAMES:
            return _content(value)
        if lowered.endswith("url"):
            return _url(value)
        if "dth_" in value:  # a token pasted into a free-text field
            return "[redacted]"
        return value if len(value) <= _MAX_TEXT else value[:_MAX_TEXT] + "…"
    if value is None or isinstance(value, bool | int | float):
        return value
    return str(value)  # dates, amounts: as text, the way the API shows them


def _bounded(summary: dict[str, Any]) -> dict[str, Any]:
    """At most a few kilobytes: past that only the names of the fields that were given."""
    if len(json.dumps(summary, ensure_ascii=False)) <= _MAX_SUMMARY_CHARS:
        return summary
    return {"fields": sorted(summary), "truncated": True}
