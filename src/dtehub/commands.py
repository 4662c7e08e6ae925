"""What every ``dtehub`` command shares: its database, brought to the current schema first exactly as
``dtehub serve`` does (:func:`open_database`), and its failures, ended as one line and an exit status
(:class:`CommandGroup`, by :mod:`dtehub.errors_cli`'s rules)."""

from __future__ import annotations

import traceback
from typing import Any, NoReturn

import typer
from rich.console import Console
from rich.markup import escape
from sqlalchemy import Engine
from typer import _click
from typer.core import TyperGroup

from dtehub import errors_cli, migrate
from dtehub.config import Settings
from dtehub.db import create_engine

err = Console(stderr=True, soft_wrap=True)  # a message, a path or a command stays on one line


def open_database(
    settings: Settings, *, pool_size: int = 1, mapped: bool = True, statement_cache: int | None = None
) -> Engine:
    """An engine on the configured database, migrated to the current schema first (under the migration
    lock: see :func:`dtehub.migrate.upgrade`); says so on stderr when it migrated."""
    migrate_database(settings)
    return create_engine(
        settings.database_url,
        pool_size=pool_size,
        mapped=mapped,
        busy_timeout=settings.db_busy_timeout,
        connect_timeout=settings.db_connect_timeout,
        **({"statement_cache": statement_cache} if statement_cache is not None else {}),
    )


def migrate_database(settings: Settings) -> migrate.Migration | None:
    migrated = migrate.upgrade(
        settings.database_url,
        busy_timeout=settings.db_busy_timeout,
        connect_timeout=settings.db_connect_timeout,
    )
    if migrated is not None:
        before = ", ".join(migrated.before) or "an empty database"
        err.print(f"database migrated from {before} to {migrated.after}", highlight=False, soft_wrap=True)
    return migrated


def fail(message: str, status: int = errors_cli.FAILURE) -> NoReturn:
    err.print(f"[red]error:[/red] {escape(message)}", highlight=False, soft_wrap=True)
    raise typer.Exit(code=status)


def usage_error(message: str) -> NoReturn:
    fail(message, errors_cli.USAGE)


class CommandGroup(TyperGroup):
    """The root of the commands: whatever a command raises ends as :func:`dtehub.errors_cli.describe`
    says (click's own usage errors and exits pass through as they are)."""

    def invoke(self, ctx: _click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except (typer.Exit, typer.Abort, typer.TyperException):  # click's own: usage errors, exits
            raise
        except Exception as error:
            failure = errors_cli.describe(error)
            if failure.is_bug and errors_cli.show_traceback():
                err.print(escape("".join(traceback.format_exception(error))), highlight=False)
            fail(failure.message, failure.status)
