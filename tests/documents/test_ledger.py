"""The documents' ledger: the one place a document's amounts and state are recomputed, from its notes
and payments, and the one that says which documents changed (their ``document.updated`` events)."""

from __future__ import annotations

from sqlalchemy.orm import Session

from dtehub.documents import ledger
from dtehub.models import Document, DocumentState
from tests.conftest import Tenant
from tests.notes import credit_xml, invoice_xml, store
from tests.payments.common import new_client, new_document, paid

BOTH = ledger.Source.NOTES | ledger.Source.PAYMENTS


async def test_recomputing_from_sources_that_did_not_change_changes_nothing(
    tenant: Tenant, session: Session
) -> None:
    client = await new_client(tenant)
    untouched = await new_document(tenant, client["id"], "1", 1000)
    part_paid = await new_document(tenant, client["id"], "2", 1000)
    await paid(tenant, client["id"], 400, [{"id": part_paid["id"], "amount": 400}])
    invoice = await store(tenant, invoice_xml(tenant, 3, 1190))
    await store(tenant, credit_xml(tenant, 1, 190, 3))
    ids = [int(d["id"]) for d in (untouched, part_paid, invoice)]

    changed = ledger.lock_and_recompute(session, tenant.company_id, ids, BOTH)

    assert changed == []
    after = (await tenant.get("/v1/getDocument", id=part_paid["id"])).json()
    assert (after["paidAmount"], after["amountDue"], after["status"]) == ("400.00", "600.00", 2)


async def test_amounts_written_past_the_ledger_are_put_right_and_reported(
    tenant: Tenant, session: Session
) -> None:
    client = await new_client(tenant)
    settled = await new_document(tenant, client["id"], "1", 1000)
    other = await new_document(tenant, client["id"], "2", 1000)
    await paid(tenant, client["id"], 1000, [{"id": settled["id"], "amount": 1000}])
    document = session.get(Document, int(settled["id"]))
    assert document is not None
    document.paid_cents, document.paid_date = 0, None  # as if a payment had been lost
    ledger.rebalance(document)
    session.flush()

    changed = ledger.lock_and_recompute(
        session, tenant.company_id, [int(settled["id"]), int(other["id"])], ledger.Source.PAYMENTS
    )

    assert changed == [int(settled["id"])]
    after = (await tenant.get("/v1/getDocument", id=settled["id"])).json()
    assert (after["paidAmount"], after["paidDate"], after["amountDue"]) == ("1000.00", "2024-02-01", "0.00")
    assert after["statusName"] == "Pagada"


async def test_the_ledger_never_locks_or_recomputes_another_companys_document(
    tenant: Tenant, other_tenant: Tenant, session: Session
) -> None:
    theirs = await new_document(other_tenant, (await new_client(other_tenant))["id"], "1", 1000)
    document = session.get(Document, int(theirs["id"]))
    assert document is not None
    document.paid_cents = 500  # wrong, and not this company's to put right
    session.flush()

    assert ledger.lock(session, tenant.company_id, [int(theirs["id"])]) == []
    assert ledger.lock_and_recompute(session, tenant.company_id, [int(theirs["id"])], BOTH) == []
    session.refresh(document)
    assert document.paid_cents == 500


def test_a_new_document_owes_its_total_and_one_of_zero_is_settled() -> None:
    assert ledger.opening_balance(119_000) == (119_000, DocumentState.OPEN)
    assert ledger.opening_balance(0) == (0, DocumentState.SETTLED)
