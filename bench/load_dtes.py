"""bench/load.py's DTEs: invoices and credit notes signed and stamped before the clock starts."""

from __future__ import annotations

import random
from datetime import date, datetime, timedelta

from tests.dte_factory import _certificate, build_dte

from dtehub.dte.signing import sign_dte
from dtehub.dte.stamping import TestCaf, make_test_caf, stamp_ted
from load_seed import Company

SIGNER_RUT = "13185095-6"


class Dtes:
    """Signed and stamped DTEs of one company, made before the clock starts: invoices to its clients,
    and credit notes for part of an invoice sent before."""

    def __init__(self, company: Company, first_folio: int, count: int) -> None:
        self.company = company
        self.first_folio = first_folio
        issued = date.today() - timedelta(days=20)
        self.issued = issued
        cafs: dict[int, TestCaf] = {
            code: make_test_caf(
                company.rut, company.name, code, first_folio, first_folio + count, authorized_on=issued
            )
            for code in (33, 61)
        }
        moment = datetime.combine(issued, datetime.min.time()) + timedelta(hours=10)
        rng = random.Random(first_folio)
        self.invoices: list[tuple[int, str, int, bytes]] = []  # (folio, receiver RUT, total, XML)
        for folio in range(first_folio, first_folio + count):
            _, tax_id, _ = rng.choice(company.clients)
            total = rng.randrange(100, 5_000) * 119
            self.invoices.append((folio, tax_id, total, self._sign(33, folio, tax_id, total, cafs, moment)))
        self.notes: list[bytes] = []
        for n, (folio, tax_id, total, _) in enumerate(self.invoices[::NOTE_EVERY]):
            credit = total // 10 // 119 * 119
            self.notes.append(
                self._sign(
                    61, first_folio + n, tax_id, credit, cafs, moment, references=[(33, folio, 3, "Corrige")]
                )
            )

    def _sign(
        self,
        code: int,
        folio: int,
        receiver: str,
        total: int,
        cafs: dict[int, TestCaf],
        moment: datetime,
        references: list[tuple[str | int, str | int, int | None, str | None]] | None = None,
    ) -> bytes:
        key, certificate = _certificate(SIGNER_RUT)
        xml = build_dte(
            code,
            folio,
            self.company.rut,
            receiver,
            total,
            issue_date=self.issued,
            issuer_name=self.company.name,
            due_date=self.issued + timedelta(days=30),
            references=references or (),
        )
        xml = stamp_ted(xml, cafs[code], stamped_at=moment)
        return sign_dte(xml, key, certificate, signed_at=moment)


NOTE_EVERY = 4
"""One credit note per four uploaded invoices, naming one of them."""
