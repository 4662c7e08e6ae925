"""The one place where errors become what a person sees when a ``dtehub`` command fails: one line on
stderr that says what to do, and an exit status; never a traceback. (:mod:`dtehub.errors_http` is the
same for the API.)

Exit statuses, as the README's CLI section documents them:

- **2, usage**: the command line is wrong (an unknown option, a missing or malformed argument, a file
  named that does not exist). Click reports these itself; a command says so with
  :func:`dtehub.commands.usage_error`.
- **1, failure**: the command could not do what was asked: dtehub refused it (a wrong RUT, a duplicate,
  an unknown token), or what it runs on failed (the database unreachable, locked beyond
  ``DTEHUB_DB_BUSY_TIMEOUT``, read-only or written by a newer dtehub; a file or folder not writable;
  a setting it cannot use).

:func:`describe` maps an exception to that line and status; :class:`dtehub.commands.CommandGroup` applies
it to every command, so commands raise what went wrong and catch nothing only to print it.
"""

from __future__ import annotations

import os
from dataclasses import dataclass

from alembic.util import CommandError
from pydantic import ValidationError
from sqlalchemy.engine import URL
from sqlalchemy.exc import ArgumentError, DBAPIError, OperationalError

from dtehub.config import get_settings
from dtehub.db import UnsupportedDatabase, database_url, is_sqlite
from dtehub.errors import DtehubError
from dtehub.migrate import DatabaseTooNew

USAGE = 2
FAILURE = 1


@dataclass(frozen=True)
class Failure:
    status: int
    message: str
    is_bug: bool = False
    """Nothing dtehub expects: only such a failure shows its traceback, and only at debug level (a
    refusal's traceback would add nothing, and may carry what was typed, such as a password)."""


def describe(error: Exception) -> Failure:
    """What the person sees when ``error`` ends a command."""
    if isinstance(error, DtehubError):
        return Failure(FAILURE, error.message)
    if isinstance(error, DatabaseTooNew):
        return Failure(FAILURE, str(error))
    if isinstance(error, ValidationError) and error.title == "Settings":
        return Failure(FAILURE, _settings_message(error))
    if isinstance(error, UnsupportedDatabase):
        return Failure(FAILURE, f"DTEHUB_DATABASE_URL: {error}")
    if isinstance(error, ArgumentError) and "URL" in str(error):
        return Failure(
            FAILURE, "DTEHUB_DATABASE_URL is not a database URL: use sqlite:///path or postgresql://…"
        )
    if isinstance(error, DBAPIError):
        return Failure(FAILURE, _database_message(error))
    if isinstance(error, CommandError):
        return Failure(FAILURE, f"migrations: {error}")
    if isinstance(error, OSError):
        return Failure(FAILURE, _file_message(error))
    return Failure(
        FAILURE,
        f"internal error ({type(error).__name__}: {_first_line(str(error))}); this is a bug in dtehub, "
        "DTEHUB_LOG_LEVEL=debug shows where",
        is_bug=True,
    )


def _settings_message(error: ValidationError) -> str:
    problems = [
        f"DTEHUB_{'_'.join(str(part) for part in problem['loc']).upper()}: {problem['msg']}"
        for problem in error.errors(include_url=False, include_input=False)
    ]
    return "a setting cannot be used: " + "; ".join(problems)


def _database_message(error: DBAPIError) -> str:
    """The driver's own words (never the statement: it may carry a document or a token's hash)."""
    said = _first_line(str(error.orig)) if error.orig is not None else type(error).__name__
    where = _configured_database()
    if where is not None and is_sqlite(where):
        path = where.database or ""
        if "unable to open database file" in said:
            return f"cannot open the database file {path}: its folder must exist and be writable"
        if "readonly database" in said:
            return f"the database file {path} is read-only: dtehub needs to write it (and its folder)"
        if "locked" in said or "busy" in said:
            return (
                f"the database {path} stayed locked by another process for DTEHUB_DB_BUSY_TIMEOUT; "
                "try again when it is done"
            )
    if isinstance(error, OperationalError) and _unreachable(said):
        return f"cannot reach the database: {said}"
    return f"the database failed: {said}"


def _unreachable(said: str) -> bool:
    return any(
        words in said
        for words in ("connection failed", "could not connect", "Connection refused", "timeout expired")
    )


def _configured_database() -> URL | None:
    try:
        return database_url(get_settings().database_url)
    except Exception:  # the settings themselves may be what failed
        return None


def _file_message(error: OSError) -> str:
    reason = error.strerror or type(error).__name__
    if error.filename is None:
        return reason
    return f"{error.filename}: {reason}"


def _first_line(text: str) -> str:
    return text.strip().splitlines()[0] if text.strip() else ""


def show_traceback() -> bool:
    """Whether a bug also prints its traceback (DTEHUB_LOG_LEVEL=debug, for developers)."""
    return os.environ.get("DTEHUB_LOG_LEVEL", "").lower() == "debug"
