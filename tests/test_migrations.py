"""Migrations that move data: an upgrade keeps every row and fills new columns as a new row would."""

from __future__ import annotations

from datetime import date
from pathlib import Path

from alembic import command
from sqlalchemy import create_engine, select, text
from sqlalchemy.orm import Session

from dtehub.migrate import alembic_config
from dtehub.models import Client, Company, Note, NoteSource


def test_existing_notes_get_a_link_key_each(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'migrated.db'}"
    config = alembic_config(url)
    command.upgrade(config, "head")
    engine = create_engine(url)
    with Session(engine) as session:
        company = Company(rut="76453707-6", name="DUEMINT SPA")
        session.add(company)
        session.flush()
        client = Client(company_id=company.id, tax_id="99999999-9", name="CLIENTE")
        session.add(client)
        session.flush()
        for folio in ("1", "2", "3"):
            session.add(
                Note(
                    company_id=company.id, client_id=client.id, code=61, number=folio,
                    issue_date=date(2024, 1, 10), net_cents=100, taxes_cents=19, total_cents=119,
                    created_on=date(2024, 1, 10),
                )
            )  # fmt: skip
        session.flush()
        first = session.scalars(select(Note).where(Note.number == "1")).one()
        session.add(NoteSource(note_id=first.id, sha256="0" * 64, content=b"<DTE/>"))
        session.commit()
    command.downgrade(config, "0003")  # notes as they were before they had keys

    command.upgrade(config, "head")

    with engine.connect() as connection:
        keys = connection.execute(text("SELECT number, portal_key FROM notes ORDER BY number")).all()
        sources = connection.execute(text("SELECT content FROM note_sources")).scalars().all()
        definitions = dict(
            connection.execute(
                text("SELECT name, sql FROM sqlite_master WHERE name IN ('notes', 'companies')")
            ).all()
        )
        company_columns = connection.execute(
            text("SELECT sii_resolution_number, sii_resolution_date, sii_office FROM companies")
        ).all()
    engine.dispose()
    assert [number for number, _ in keys] == ["1", "2", "3"]
    assert len({key for _, key in keys}) == 3
    assert all(len(key) == 22 for _, key in keys)  # 128 bits, URL-safe base64
    assert company_columns == [(None, None, "")]
    assert sources == [b"<DTE/>"]  # rebuilding the notes table cascaded nothing away
    assert all("AUTOINCREMENT" in sql for sql in definitions.values())  # ids are still never reused
