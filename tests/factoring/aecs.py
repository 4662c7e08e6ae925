"""AECs for the factoring company's tests: an invoice of a seller to a buyer, ceded to a given assignee by
dtehub's own builder (:mod:`dtehub.dte.aec`), signed with a test certificate."""

from __future__ import annotations

from datetime import date, datetime

from dtehub.dte.aec import Party, Signer, Terms, build_aec, ceded_dte
from tests.dte_factory import _certificate, build_dte

SELLER = Party("76399752-9", "VENDEDORA SPA", "Calle Larga 123, Santiago", "cobranza@vendedora.cl")
DEBTOR = "81675600-6"
SIGNER_RUT = "12345678-5"
TOTAL = 1_190_000


def aec_to(assignee_rut: str, folio: int, *, amount: int = TOTAL, seller: Party = SELLER) -> bytes:
    stored = build_dte(
        33,
        folio,
        seller.rut,
        DEBTOR,
        TOTAL,
        issue_date=date(2026, 11, 27),
        due_date=date(2026, 12, 27),
        receiver_name="COMPRADORA DEUDORA SA",
        signed=True,
    )
    key, certificate = _certificate(SIGNER_RUT)
    terms = Terms(
        assignor=seller,
        assignee=Party(assignee_rut, "FACTORING CAPITAL SPA", "Av. Apoquindo 4000, Las Condes", "ops@fc.cl"),
        amount=amount,
        last_due_date=date(2026, 12, 31),
        signed_at=datetime(2026, 12, 7, 10, 15, 0),
        debtor_email="pagos@compradora.cl",
    )
    return build_aec(ceded_dte(stored), terms, Signer(key, certificate, SIGNER_RUT, "VERA VENDEDORA"))
