"""Migrations that move data: an upgrade keeps every row and fills new columns as a new row would."""

from __future__ import annotations

from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any, TypeVar

import pytest
from alembic import command
from sqlalchemy import Engine, column, create_engine, func, inspect, select, table, text
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from dtehub.documents import ledger
from dtehub.migrate import alembic_config
from dtehub.models import (
    Client,
    Company,
    Document,
    DocumentCession,
    DocumentState,
    Note,
    NoteSource,
    Payment,
    WebhookEvent,
)

T = TypeVar("T")


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


def _summed(engine: Engine, name: str) -> dict[tuple[int, str, int], int]:
    summary = table(name, column("code"), column("currency"), column("state"), column("documents"))
    group = (summary.c.code, summary.c.currency, summary.c.state)
    with engine.connect() as connection:
        rows = connection.execute(select(*group, func.sum(summary.c.documents)).group_by(*group)).all()
    return {(code, currency, state): int(n) for code, currency, state, n in rows if n}


def _add_as_it_was(session: Session, instance: T) -> T:
    """Insert ``instance`` with only the columns its table has at the database's current revision (the
    models describe the newest one), its Python defaults applied; its ``id`` is set."""
    mapped = inspect(type(instance)).local_table
    present = {c["name"] for c in inspect(session.connection()).get_columns(mapped.name)}
    values: dict[str, Any] = {}
    for column_ in mapped.columns:
        if column_.name not in present or column_.primary_key:
            continue
        value = getattr(instance, column_.key)
        default = column_.default
        if value is None and default is not None and hasattr(default, "arg"):
            value = default.arg(None) if callable(default.arg) else default.arg
        if value is not None:
            values[column_.name] = value
    # A lightweight table of just those columns: the model's would add its later columns' defaults.
    as_it_was = table(mapped.name, column("id"), *(column(name, mapped.c[name].type) for name in values))
    new_id = session.execute(as_it_was.insert().values(values).returning(as_it_was.c.id)).scalar_one()
    instance.id = new_id  # type: ignore[attr-defined]
    return instance


def test_document_totals_are_filled_from_existing_documents_and_kept(scratch_url: str) -> None:
    config = alembic_config(scratch_url)
    command.upgrade(config, "0007")  # before document_totals
    engine = create_engine(scratch_url)
    with Session(engine) as session:
        company = _add_as_it_was(session, Company(rut="76453707-6", name="DUEMINT SPA"))
        client = _add_as_it_was(session, Client(company_id=company.id, tax_id="99999999-9", name="CLIENTE"))
        company_id = company.id
        for number, code in enumerate((33, 33, 34, 33, 61), start=1):
            document = Document(
                company_id=company_id, client_id=client.id, code=code, number=str(number),
                issue_date=date(2024, 1, number), due_date=date(2024, 2, number), net_cents=100,
                taxes_cents=19, total_cents=119, credit_cents=0, debit_cents=0, paid_cents=0,
            )  # fmt: skip
            ledger.rebalance(document)
            _add_as_it_was(session, document)
        session.commit()

    command.upgrade(config, "head")
    open_ = int(DocumentState.OPEN)
    assert _summed(engine, "document_totals") == {
        (33, "CLP", open_): 3,
        (34, "CLP", open_): 1,
        (61, "CLP", open_): 1,
    }

    # The triggers keep them: a state change moves a document, an UPDATE of amounts only moves nothing.
    with engine.begin() as connection:
        connection.execute(
            text("UPDATE documents SET state = :settled WHERE number = '1'"),
            {"settled": int(DocumentState.SETTLED)},
        )
        connection.execute(text("UPDATE documents SET notes = 'x'"))
        connection.execute(text("DELETE FROM documents WHERE number = '5'"))
    totals = _summed(engine, "document_totals")
    assert totals == {
        (33, "CLP", open_): 2,
        (33, "CLP", int(DocumentState.SETTLED)): 1,
        (34, "CLP", open_): 1,
    }
    assert _summed(engine, "document_counts") == totals

    # Back to 0007: the day summary is still kept, the totals are gone.
    command.downgrade(config, "0007")
    with engine.begin() as connection:
        connection.execute(text("DELETE FROM documents WHERE number = '2'"))
    assert _summed(engine, "document_counts") == {
        (33, "CLP", open_): 1, (33, "CLP", int(DocumentState.SETTLED)): 1, (34, "CLP", open_): 1
    }  # fmt: skip
    with engine.connect() as connection:
        assert "document_totals" not in inspect(connection).get_table_names()
    engine.dispose()


def test_documents_checked_before_signed_forms_were_recorded_show_none(scratch_url: str) -> None:
    config = alembic_config(scratch_url)
    command.upgrade(config, "0009")
    engine = create_engine(scratch_url)
    with Session(engine) as session:
        company = _add_as_it_was(session, Company(rut="76453707-6", name="DUEMINT SPA"))
        client = _add_as_it_was(session, Client(company_id=company.id, tax_id="99999999-9", name="CLIENTE"))
        company_id = company.id
        document = Document(
            company_id=company_id, client_id=client.id, code=33, number="1", issue_date=date(2024, 1, 1),
            due_date=date(2024, 2, 1), net_cents=100, taxes_cents=19, total_cents=119, credit_cents=0,
            debit_cents=0, paid_cents=0, xml_schema="valid", xml_signature="valid",
        )  # fmt: skip
        ledger.rebalance(document)
        _add_as_it_was(session, document)
        session.commit()

    command.upgrade(config, "head")

    with engine.connect() as connection:
        for name in ("documents", "notes"):
            assert "xml_signed_form" in {c["name"] for c in inspect(connection).get_columns(name)}
        rows = connection.execute(text("SELECT xml_signature, xml_signed_form FROM documents")).all()
    engine.dispose()
    assert rows == [("valid", None)]  # which form held was not recorded then; nothing is made up


def test_documents_before_held_ones_are_the_companys_own_and_keep_their_key(scratch_url: str) -> None:
    config = alembic_config(scratch_url)
    command.upgrade(config, "0019_document_cessions")  # before held documents
    engine = create_engine(scratch_url)
    with Session(engine) as session:
        company = _add_as_it_was(session, Company(rut="76453707-6", name="DUEMINT SPA"))
        client = _add_as_it_was(session, Client(company_id=company.id, tax_id="99999999-9", name="CLIENTE"))
        document = Document(
            company_id=company.id, client_id=client.id, code=33, number="170", issue_date=date(2024, 1, 1),
            due_date=date(2024, 2, 1), net_cents=100, taxes_cents=19, total_cents=119, credit_cents=0,
            debit_cents=0, paid_cents=0,
        )  # fmt: skip
        ledger.rebalance(document)
        _add_as_it_was(session, document)
        # A cession of it (0019): SQLite rebuilds documents for its new key, and the cession stays on it.
        _add_as_it_was(
            session,
            DocumentCession(
                company_id=company.id, document_id=document.id, seq=1, assignee_rut="77665544-9",
                assignee_name="FACTORING SPA", assignee_address="Av. Apoquindo 4000", assignee_email="f@f.cl",
                amount_cents=119, last_due_date=date(2024, 2, 1), ceded_at=datetime(2024, 1, 2, tzinfo=UTC),
                signed_by="12345678-5", aec=b"<AEC/>", track_id=1, sii_state="accepted",
            ),
        )  # fmt: skip
        session.commit()

    command.upgrade(config, "head")
    with engine.connect() as connection:
        cessions = connection.execute(text("SELECT d.number FROM document_cessions c JOIN documents d"
                                           " ON d.id = c.document_id")).scalars().all()  # fmt: skip
        assert cessions == ["170"]
    documents = table(
        "documents", column("company_id"), column("client_id"), column("code"), column("number"),
        column("held"), column("issuer_rut"), column("issuer_name"),
    )  # fmt: skip
    with engine.connect() as connection:
        rows = connection.execute(select(documents.c.held, documents.c.issuer_rut, documents.c.issuer_name))
        assert [tuple(row) for row in rows] == [(False, "", "")]
    # Another issuer's folio 170, held: beside the company's own; the own key stays unique.
    copy = (
        "INSERT INTO documents (company_id, client_id, code, number, number_sort, issue_date, due_date,"
        " currency, net_cents, taxes_cents, total_cents, credit_cents, debit_cents, paid_cents, due_cents,"
        " voided, state, purchase_order, gloss, notes, send_requested, portal_key, created_at, created_on,"
        " updated_at, held, issuer_rut, issuer_name)"
        " SELECT company_id, client_id, code, number, number_sort, issue_date, due_date, currency, net_cents,"
        " taxes_cents, total_cents, credit_cents, debit_cents, paid_cents, due_cents, voided, state,"
        " purchase_order, gloss, notes, send_requested, portal_key || :suffix, created_at, created_on,"
        " updated_at, :held, :issuer, 'OTRA SPA' FROM documents"
    )
    with engine.begin() as connection:
        connection.execute(text(copy), {"suffix": "x", "held": True, "issuer": "76111111-6"})
    assert _summed(engine, "document_totals") == {(33, "CLP", int(DocumentState.OPEN)): 2}
    with pytest.raises(IntegrityError), engine.begin() as connection:  # the company's own folio twice
        connection.execute(text(copy + " WHERE NOT held"), {"suffix": "y", "held": False, "issuer": ""})
    engine.dispose()


def test_webhook_events_recorded_before_get_their_document(scratch_url: str) -> None:
    config = alembic_config(scratch_url)
    command.upgrade(config, "0020_held_documents")
    engine = create_engine(scratch_url)
    with Session(engine) as session:
        company_id = _add_as_it_was(session, Company(rut="76453707-6", name="DUEMINT SPA")).id
        for number, (kind, data) in enumerate(
            [("document.updated", '{"id":"42","number":"7"}'), ("payment.created", '{"id":"9"}')]
        ):
            _add_as_it_was(
                session,
                WebhookEvent(
                    public_id=f"evt_{number}", company_id=company_id, type=kind, data=data, dedupe_key=None
                ),
            )
        session.commit()

    command.upgrade(config, "head")

    with engine.connect() as connection:
        rows = connection.execute(text("SELECT type, document_id FROM webhook_events ORDER BY id")).all()
    engine.dispose()
    assert rows == [("document.updated", 42), ("payment.created", None)]


def _rows(engine: Engine, sql: str) -> set[tuple[Any, ...]]:
    with engine.connect() as connection:
        return {tuple(str(value) for value in row) for row in connection.execute(text(sql))}


def test_the_dashboards_summaries_are_filled_from_existing_documents_and_kept(scratch_url: str) -> None:
    config = alembic_config(scratch_url)
    command.upgrade(config, "0026_open_documents_index")  # before the summaries
    engine = create_engine(scratch_url)
    with Session(engine) as session:
        company = _add_as_it_was(session, Company(rut="76453707-6", name="DUEMINT SPA"))
        client = _add_as_it_was(session, Client(company_id=company.id, tax_id="99999999-9", name="CLIENTE"))
        for number, (paid, source) in enumerate(((0, None), (40, "sii"), (119, "api"), (0, "api")), start=1):
            document = Document(
                company_id=company.id, client_id=client.id, code=33, number=str(number), source=source,
                issue_date=date(2024, 1, number), due_date=date(2024, 2, 1), net_cents=100, taxes_cents=19,
                total_cents=119, credit_cents=0, debit_cents=0, paid_cents=paid,
            )  # fmt: skip
            ledger.rebalance(document)
            _add_as_it_was(session, document)
        _add_as_it_was(
            session,
            Payment(
                company_id=company.id, client_id=client.id, paid_on=date(2024, 1, 9), amount_cents=159,
                created_on=date(2024, 1, 9),
            ),
        )  # fmt: skip
        session.commit()
        company_id, client_id = company.id, client.id

    command.upgrade(config, "head")
    c, k = str(company_id), str(client_id)
    open_ = "SELECT company_id, currency, due_date, sii_issue_date, documents, due_cents FROM open_balances"
    assert _rows(engine, open_) == {
        (c, "CLP", "2024-02-01", "9999-12-31", "2", "238"),
        (c, "CLP", "2024-02-01", "2024-01-02", "1", "79"),
    }
    clients = "SELECT client_id, sii_issue_date, documents, due_cents FROM client_balances"
    assert _rows(engine, clients) == {(k, "9999-12-31", "2", "238"), (k, "2024-01-02", "1", "79")}
    issued = "SELECT issue_date, from_sii, documents, total_cents FROM issued_totals"
    assert _rows(engine, issued) == {
        ("2024-01-01", "0", "1", "119"), ("2024-01-02", "1", "1", "119"), ("2024-01-03", "0", "1", "119"),
        ("2024-01-04", "0", "1", "119"),
    }  # fmt: skip
    collected = "SELECT currency, paid_on, payments, amount_cents FROM collected_days"
    assert _rows(engine, collected) == {("CLP", "2024-01-09", "1", "159")}

    # The triggers keep them: a document settled leaves the open sums, its group emptied goes away.
    with engine.begin() as connection:
        connection.execute(text("UPDATE documents SET state = 1, due_cents = 0 WHERE number = '2'"))
        connection.execute(text("UPDATE payments SET status = 2"))
    assert _rows(engine, open_) == {(c, "CLP", "2024-02-01", "9999-12-31", "2", "238")}
    assert _rows(engine, collected) == set()

    # Back to 0026: the summaries and their triggers are gone, documents are written as before.
    command.downgrade(config, "0026_open_documents_index")
    with engine.begin() as connection:
        connection.execute(text("UPDATE documents SET due_cents = 1"))
        connection.execute(text("DELETE FROM payments"))
    with engine.connect() as connection:
        assert "open_balances" not in inspect(connection).get_table_names()
    engine.dispose()
