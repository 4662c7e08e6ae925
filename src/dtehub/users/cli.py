"""``dtehub users``: people of the web app, from the command line (the first owner of a company, a
user added to another company, a user disabled).

Results meant for programs are one JSON object on stdout; messages (and the one-time link) go to
stderr. A password comes only through ``--password-stdin``, never as an argument (it would sit in the
shell's history and the process list).
"""

from __future__ import annotations

import json
import sys
from collections.abc import Callable
from typing import Annotated, TypeVar

import typer
from sqlalchemy.orm import Session

from dtehub.audit import service as audit
from dtehub.audit.actions import Action
from dtehub.commands import CommandGroup, err, open_database
from dtehub.companies import service as companies_service
from dtehub.config import get_settings
from dtehub.db import create_sessionmaker, unit_of_work
from dtehub.kit.dates import utcnow
from dtehub.models import Actor
from dtehub.users import service

users_app = typer.Typer(
    help="People who sign in to the web app (/app).", no_args_is_help=True, cls=CommandGroup
)
T = TypeVar("T")

Email = Annotated[str, typer.Option(help="The person's e-mail (their sign-in name).")]
CompanyRut = Annotated[str, typer.Option("--company", help="The company's RUT.")]
RoleOption = Annotated[str, typer.Option(help="owner (everything), collector or viewer (reads only).")]


def _run(work: Callable[[Session], T]) -> T:
    """One unit of work on the database, migrated first; a failure ends as dtehub.errors_cli says."""
    engine = open_database(get_settings())
    try:
        with unit_of_work(create_sessionmaker(engine)) as session:
            return work(session)
    finally:
        engine.dispose()


def _emit(payload: dict[str, str]) -> None:
    sys.stdout.write(json.dumps(payload, ensure_ascii=False) + "\n")
    sys.stdout.flush()


def _audit(session: Session, company_id: int, action: Action, user_id: int, summary: dict[str, str]) -> None:
    audit.record(
        session,
        company_id,
        actor=Actor.CLI,
        action=action,
        user_id=user_id,
        object_type="user",
        object_id=user_id,
        summary=summary,
    )


def password_link(token: str) -> str:
    return f"{get_settings().public_base}/app/password/{token}"


@users_app.command("create")
def create(
    email: Email,
    company: CompanyRut,
    role: RoleOption = "owner",
    name: Annotated[str, typer.Option(help="The person's name.")] = "",
    password_stdin: Annotated[
        bool, typer.Option("--password-stdin", help="Read the password from standard input.")
    ] = False,
) -> None:
    """Create a user with a role in a company. Without --password-stdin, prints a one-time link
    (valid 24 h) where the person sets their password."""
    password = sys.stdin.readline().rstrip("\r\n") if password_stdin else None

    def work(session: Session) -> tuple[dict[str, str], str | None]:
        chosen = service.parse_role(role)
        found = companies_service.company_by_rut(session, company)
        now = utcnow()
        user = service.create_user(session, email, name=name)
        service.grant(session, user, found.id, chosen)
        link = None
        if password is not None:
            service.set_password(session, user, password, now)
        else:
            link = service.issue_link(session, user, service.LinkPurpose.PASSWORD, now)
        _audit(session, found.id, Action.USERS_CREATE, user.id, {"email": user.email, "role": chosen.value})
        shown = {"id": str(user.id), "email": user.email, "company": found.rut, "role": chosen.value}
        return shown, link

    shown, link = _run(work)
    _emit(shown)
    if link is not None:
        err.print(
            "One-time link to set the password (valid 24 h):",
            password_link(link),
            soft_wrap=True,
            highlight=False,
        )


@users_app.command("add-company")
def add_company(email: Email, company: CompanyRut, role: RoleOption = "viewer") -> None:
    """Give an existing user a role in another company (or change the role it has there)."""

    def work(session: Session) -> dict[str, str]:
        chosen = service.parse_role(role)
        found = companies_service.company_by_rut(session, company)
        user = service.find_user(session, email)
        service.grant(session, user, found.id, chosen)
        _audit(
            session, found.id, Action.USERS_ADD_COMPANY, user.id, {"email": user.email, "role": chosen.value}
        )
        return {"id": str(user.id), "email": user.email, "company": found.rut, "role": chosen.value}

    _emit(_run(work))


@users_app.command("disable")
def disable(email: Email) -> None:
    """Disable a user: every session ends at once and signing in stops working."""

    def work(session: Session) -> dict[str, str]:
        user = service.find_user(session, email)
        for company_id in service.disable(session, user, utcnow()):
            _audit(session, company_id, Action.USERS_DISABLE, user.id, {"email": user.email})
        return {"id": str(user.id), "email": user.email, "disabled": "true"}

    _emit(_run(work))
