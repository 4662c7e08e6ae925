"""The ``dtehub`` command: serve, migrate, manage companies and tokens.

Machine-readable results (new companies, tokens) go to stdout as one JSON object and nothing else;
messages for people go to stderr.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Annotated, TypeVar

import typer
from rich.console import Console
from sqlalchemy.orm import Session

from dtehub import migrate
from dtehub.auth import service as auth_service
from dtehub.companies import repository as companies_repository
from dtehub.companies import service as companies_service
from dtehub.config import get_settings
from dtehub.db import create_engine, create_sessionmaker, unit_of_work
from dtehub.errors import DtehubError

# Plain tracebacks without local variables: locals may hold tokens, passwords or certificates.
app = typer.Typer(
    help="dtehub: Chilean electronic tax documents, and what is owed.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    pretty_exceptions_show_locals=False,
)
db_app = typer.Typer(help="Database schema.", no_args_is_help=True)
companies_app = typer.Typer(help="Companies (tenants).", no_args_is_help=True)
tokens_app = typer.Typer(help="API tokens.", no_args_is_help=True)
app.add_typer(db_app, name="db")
app.add_typer(companies_app, name="companies")
app.add_typer(tokens_app, name="tokens")

err = Console(stderr=True)
T = TypeVar("T")


def _emit(payload: dict[str, str]) -> None:
    sys.stdout.write(json.dumps(payload, ensure_ascii=False) + "\n")
    sys.stdout.flush()


def _run(work: Callable[[Session], T]) -> T:
    """Run one unit of work against the configured database; domain errors end the command cleanly."""
    engine = create_engine(get_settings().database_url, pool_size=1)
    try:
        with unit_of_work(create_sessionmaker(engine)) as session:
            return work(session)
    except DtehubError as exc:
        err.print(f"[red]error:[/red] {exc.message}")
        raise typer.Exit(code=1) from None
    finally:
        engine.dispose()


@app.command()
def serve(
    host: Annotated[str, typer.Option(help="Address to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port to listen on.")] = 8000,
    workers: Annotated[int, typer.Option(help="Worker processes.")] = 1,
) -> None:
    """Migrate the database, then serve the API and the portal."""
    import uvicorn

    settings = get_settings()
    migrate.upgrade(settings.database_url)
    err.print(f"dtehub serving on http://{host}:{port} (docs at /docs)")
    uvicorn.run(
        "dtehub.app:create_app",
        factory=True,
        host=host,
        port=port,
        workers=workers,
        log_level=settings.log_level,
        proxy_headers=True,
        timeout_graceful_shutdown=30,
    )


@db_app.command("upgrade")
def db_upgrade() -> None:
    """Apply every pending migration."""
    migrate.upgrade(get_settings().database_url)
    err.print("database is up to date")


@db_app.command("check")
def db_check() -> None:
    """Fail when the models need a migration that does not exist yet."""
    migrate.check(get_settings().database_url)


@companies_app.command("create")
def companies_create(
    rut: Annotated[str, typer.Option(help="The company's RUT, e.g. 76453707-6.")],
    name: Annotated[str, typer.Option(help="Legal name (razón social).")],
    payment_term: Annotated[int, typer.Option(help="Default days from issue to due date.")] = 30,
) -> None:
    """Create a company and its first API token (shown once)."""
    created = _run(
        lambda s: companies_service.create_company(s, rut=rut, name=name, payment_term_days=payment_term)
    )
    company = created.company
    _emit({"id": str(company.id), "rut": company.rut, "name": company.name, "token": created.token})


@tokens_app.command("create")
def tokens_create(company: Annotated[str, typer.Option(help="The company's RUT.")]) -> None:
    """Issue another API token for a company (shown once)."""

    def work(session: Session) -> str:
        found = companies_service.company_by_rut(session, company)
        return auth_service.issue_token(session, found.id)

    _emit({"token": _run(work)})


@tokens_app.command("revoke")
def tokens_revoke(token: Annotated[str, typer.Argument(help="The token to revoke.")]) -> None:
    """Revoke a token; requests with it answer 401 from now on."""
    _run(lambda s: auth_service.revoke_token(s, token))
    err.print("token revoked")


DEMO_RUT = "76453707-6"
DEMO_XML = Path(__file__).parent / "demo" / "factura-33-696.xml"


@app.command()
def demo() -> None:
    """On an empty database, create a demo company with one invoice and print its token and a curl line
    (for the server at DTEHUB_PUBLIC_URL)."""
    from dtehub.demo import create_demo

    migrate.upgrade(get_settings().database_url)  # like serve: a fresh database has no tables yet

    def work(session: Session) -> str | None:
        if companies_repository.count(session) > 0:
            return None
        return create_demo(session, rut=DEMO_RUT, xml=DEMO_XML.read_bytes())

    token = _run(work)
    settings = get_settings()
    if token is None:
        err.print("companies exist already; new tokens: dtehub tokens create --company <RUT>")
        return
    base = settings.public_base
    err.print(f"[bold]Demo company {DEMO_RUT} created.[/bold] Its API token (shown once):\n{token}\nTry:")
    err.print(
        f"curl -s '{base}/v1/getDocuments?expandClient=1' -H 'Authorization: Bearer {token}'",
        soft_wrap=True,
        highlight=False,
    )


def main() -> None:
    app()
