"""The sync's MIPYME step: the signed XML of the documents it created from SII's register, from SII's
MIPYME portal, on the run's one SII session.

**Which companies.** Detected, not configured: a company issues in MIPYME when SII's MIPYME backup
("respaldo de archivos") lists its documents. SII answers "No existe información en MIPYME para el rut
ingresado" for a company that never issued there, and the step then stops for the run: one request a run
for a company that does not use MIPYME, nothing to set for one that does, and a company that issues some
documents in MIPYME and others with its own software gets the XML of the former (the others stay
register-only until their XML comes by the API or an import).

**Which documents.** Those of the period that dtehub lacks (about to be created from the register) or
that the sync created from the register earlier and still have no XML. A document that has its XML is
never asked for again: a second sync of a company whose XMLs all came asks MIPYME nothing.

**How.** Per document type, the folios wanted in sorted order, cut into ranges of at most
:data:`~dtehub.sii.portal.MAX_DOWNLOAD_DOCUMENTS` folios; for each range the respaldo listing counts
what SII holds in it (none: skipped; more than the cap, because SII holds folios dtehub did not ask
for: the range is cut in two), then ``download.cgi`` brings its ``SetDTE``. Each DTE is read by the one
pipeline (:func:`dtehub.dte.pipeline.read_dte_file`); those of the company and folios asked for are
returned, to be stored through :func:`dtehub.ingest.service.store_many`, which attaches them.

**Failures.** SII unavailable, a session SII ends twice, a holder who may not use the company's MIPYME
portal: the step says so in the run's messages, in words, and stops for the rest of the run; the XMLs it
already has are kept, the documents are stored from the register all the same, and the next sync asks
again.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

from dtehub.dte.document_types import dte_type_name
from dtehub.dte.pipeline import CheckedDte, read_dte_file
from dtehub.errors import DteRefused
from dtehub.kit.threads import in_thread
from dtehub.sii.config import Deadline
from dtehub.sii.errors import SiiError
from dtehub.sii.portal import MAX_ANSWER_BYTES, MAX_DOWNLOAD_DOCUMENTS, PortalSession
from dtehub.sii.rcv import RcvClient
from dtehub.sii_sync.periods import Period


@dataclass
class MipymeXml:
    """The MIPYME step of one run (its state lasts the run: SII's answer that the company does not
    issue in MIPYME, or a failure, stops it until the next run)."""

    rcv: RcvClient
    company: str
    messages: list[str] = field(default_factory=list)
    stopped: bool = False
    issues_in_mipyme: bool | None = None
    """None until SII's first answer; False when SII holds nothing of the company in MIPYME."""

    async def fetch(self, period: Period, wanted: Iterable[tuple[int, str]]) -> list[CheckedDte]:
        """The checked DTEs of ``wanted`` (type, folio) that SII's MIPYME portal holds."""
        by_type: dict[int, list[int]] = {}
        for code, number in wanted:
            if number.isascii() and number.isdigit():
                by_type.setdefault(code, []).append(int(number))
        if self.stopped or not by_type:
            return []
        found: list[CheckedDte] = []
        try:
            for code, folios in sorted(by_type.items()):
                if not await self._fetch_type(period, code, sorted(set(folios)), found):
                    break
        except SiiError as failed:
            self.stopped = True
            self.messages.append(
                f"{period}: the signed XML of the documents created from SII's register could not be "
                f"fetched from SII's MIPYME portal ({failed.message}); they are kept without it, and the "
                "next sync asks again"
            )
        return found

    async def _fetch_type(
        self, period: Period, code: int, folios: list[int], found: list[CheckedDte]
    ) -> bool:
        """Fetch one type's folios into ``found``; False when SII says the company is not in MIPYME."""
        wanted = set(folios)
        ranges = [
            folios[i : i + MAX_DOWNLOAD_DOCUMENTS] for i in range(0, len(folios), MAX_DOWNLOAD_DOCUMENTS)
        ]
        while ranges:
            chunk = ranges.pop(0)
            low, high = chunk[0], chunk[-1]
            count = await self._count(code, low, high)
            if count is None:
                self.issues_in_mipyme = False
                self.stopped = True
                return False
            self.issues_in_mipyme = True
            if count == 0:
                continue
            if count > MAX_DOWNLOAD_DOCUMENTS:
                if len(chunk) > 1:  # SII holds folios dtehub did not ask for in between: cut the range
                    half = len(chunk) // 2
                    ranges[:0] = [chunk[:half], chunk[half:]]
                continue
            content = await self._download(code, low, high)
            found += await in_thread(self._pick, period, content, code, wanted, (low, high))
        return True

    async def _count(self, code: int, low: int, high: int) -> int | None:
        async def count(session: PortalSession, deadline: Deadline) -> int | None:
            await session.select_company(self.company, deadline)  # once a session: then it asks nothing
            return await session.count_range(self.company, code, low, high, deadline)

        return await self.rcv.on_portal(count)

    async def _download(self, code: int, low: int, high: int) -> bytes:
        async def download(session: PortalSession, deadline: Deadline) -> bytes:
            await session.select_company(self.company, deadline)
            return await session.download_range(self.company, code, low, high, deadline)

        return await self.rcv.on_portal(download)

    def _pick(
        self, period: Period, content: bytes, code: int, wanted: set[int], folios: tuple[int, int]
    ) -> list[CheckedDte]:
        """The DTEs asked for among those SII sent (it may add the documents they refer to)."""
        try:
            outcomes = read_dte_file(content, max_bytes=MAX_ANSWER_BYTES)
        except DteRefused as refused:
            self.messages.append(
                f"{period}: SII's MIPYME portal sent XML dtehub could not read for "
                f"{dte_type_name(code).lower()} folios {folios[0]} to {folios[1]} ({refused.message}); "
                "those documents are kept without it"
            )
            return []
        return [
            outcome
            for outcome in outcomes
            if isinstance(outcome, CheckedDte)
            and outcome.fields.issuer.rut == self.company
            and outcome.fields.code == code
            and outcome.fields.folio in wanted
        ]
