"""A realistic company for the emulator: ``dtehub sii-emulator init --generate N --months M``.

N documents spread over the M months up to today, as a small Chilean company issues them: mostly facturas
(33), some exentas (34), credit notes (61) and a few debit notes (56) that refer to an earlier invoice of
the same customer, plus monthly boleta totals (39). Customers follow a long tail (a few buy a lot).
SII received each document within hours to two days of its issue (a few only the next month: the last
month's register keeps changing); about half the invoices are accepted by the customer within a week, 3 %
are claimed within the 8 days the law allows, and the rest are accepted tacitly 8 days after reception.
Acceptances and claims of the last week are dated in the future, so they appear while the emulator serves.

With ``xml`` the documents are also in the MIPYME portal (``dtes/``), one SetDTE file per month, plain or
stamped and signed with the project's test CAF and certificate (:mod:`dtehub.dte.stamping`,
:mod:`dtehub.dte.signing`). The same seed makes the same company.
"""

from __future__ import annotations

import json
import random
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from pathlib import Path

from cl_sii.rut import Rut

from dtehub.dte.factory import Reference, build_dte
from dtehub.dte.signing import make_test_certificate, sign_dte
from dtehub.dte.stamping import TestCaf, make_test_caf, stamp_ted
from dtehub.sii.emulator.data import CONFIG_FILE, DTES_DIR, write_example
from dtehub.sii.emulator.register import (
    ACCEPTABLE_TYPES,
    RCV_DIR,
    BoletaTotal,
    Entry,
    santiago_now,
    write_register,
)

DEFAULT_COMPANY = "76399752-9"
DEFAULT_COMPANY_NAME = "EMPRESA DE EJEMPLO SPA"
DEFAULT_PERSON = "12345678-5"
TYPE_SHARES = ((33, 0.80), (34, 0.07), (61, 0.10), (56, 0.03))
ACCEPTED_SHARE = 0.45
CLAIMED_SHARE = 0.03
LATE_SHARE = 0.02
"""Documents SII received only in the month after their issue."""
XML_KINDS = ("none", "plain", "signed")


@dataclass(frozen=True)
class Generated:
    company: str
    documents: int
    by_type: dict[int, int]
    accepted: int
    claimed: int
    xml_files: int


def _rut(number: int) -> str:
    return f"{number}-{Rut.calc_dv(str(number))}"


def _customers(rng: random.Random, count: int) -> list[tuple[str, str]]:
    words = (
        "COMERCIAL",
        "INVERSIONES",
        "DISTRIBUIDORA",
        "SERVICIOS",
        "CONSTRUCTORA",
        "AGRICOLA",
        "TRANSPORTES",
    )
    suffixes = ("SPA", "LIMITADA", "S.A.", "E.I.R.L.")
    numbers = rng.sample(range(60_000_000, 99_000_000), count)
    return [
        (_rut(number), f"{rng.choice(words)} {name} {rng.choice(suffixes)}")
        for number, name in zip(numbers, (f"CLIENTE {n:04d}" for n in range(1, count + 1)), strict=True)
    ]


def _months(today: date, months: int) -> list[date]:
    """The first day of each of the ``months`` months that end with today's."""
    firsts = []
    year, month = today.year, today.month
    for _ in range(months):
        firsts.append(date(year, month, 1))
        year, month = (year, month - 1) if month > 1 else (year - 1, 12)
    return firsts[::-1]


def _amounts(rng: random.Random, code: int, ceiling: int | None = None) -> tuple[int, int, int, int]:
    """(exempt, net, vat, total) in whole pesos; a note's total stays under ``ceiling``."""
    base = int(rng.lognormvariate(12.5, 1.1))  # median ~270,000 CLP
    base = max(1_000, min(base, 80_000_000))
    if ceiling is not None:
        base = max(100, min(base, int(ceiling / 1.19)))
    if code == 34:
        return base, 0, 0, base
    vat = round(base * 0.19)
    return 0, base, vat, base + vat


def generate_entries(
    company: str, count: int, months: int, *, now: datetime, seed: int = 18
) -> tuple[list[Entry], list[BoletaTotal]]:
    """The register of a company with ``count`` documents over ``months`` months up to ``now``."""
    rng = random.Random(seed)  # noqa: S311 - made-up data, reproducible on purpose
    customers = _customers(rng, max(10, min(2_000, count // 30)))
    weights = [1 / (rank + 1) ** 0.9 for rank in range(len(customers))]  # a long tail
    firsts = _months(now.date(), months)
    start = firsts[0]
    span = max(1, (now.date() - start).days)
    folios = {code: 1000 * (index + 1) for index, (code, _) in enumerate(TYPE_SHARES)}
    invoices: dict[str, list[Entry]] = defaultdict(list)
    days = sorted(start + timedelta(days=rng.randrange(span + 1)) for _ in range(count))
    codes = rng.choices([code for code, _ in TYPE_SHARES], [share for _, share in TYPE_SHARES], k=count)
    entries: list[Entry] = []
    for day, code in zip(days, codes, strict=True):
        customer_rut, customer_name = rng.choices(customers, weights)[0]
        referenced = None
        if code in (56, 61):
            earlier = invoices.get(customer_rut)
            if not earlier:
                code = 33  # a note needs an invoice of its customer to refer to
            else:
                referenced = rng.choice(earlier[-20:])
        exempt, net, vat, total = _amounts(rng, code, referenced.total if referenced else None)
        if referenced is not None and referenced.type_code == 34:
            exempt, net, vat = total, 0, 0
        received = datetime.combine(day, time(9)) + timedelta(minutes=rng.randrange(0, 60 * 36))
        if rng.random() < LATE_SHARE:
            received = datetime.combine(day.replace(day=1) + timedelta(days=32), time(8)).replace(
                day=rng.randrange(1, 5)
            )
        if received > now:
            received = now - timedelta(minutes=rng.randrange(1, 120))
            if received.date() < day:
                received = datetime.combine(day, time(0, 1))
        folios[code] += 1
        entry = Entry(
            type_code=code, folio=folios[code], issue_date=day, customer_rut=customer_rut,
            customer_name=customer_name, exempt=exempt, net=net, vat=vat, total=total, received_at=received,
            ref_type=referenced.type_code if referenced else None,
            ref_folio=referenced.folio if referenced else None,
        )  # fmt: skip
        if code in ACCEPTABLE_TYPES:
            chance = rng.random()
            if chance < CLAIMED_SHARE:
                entry.claimed_at = received + timedelta(hours=rng.randrange(2, 8 * 24 - 2))
                entry.claim_event = rng.choices(("RCD", "RFP", "RFT"), (0.7, 0.2, 0.1))[0]
            elif chance < CLAIMED_SHARE + ACCEPTED_SHARE:
                entry.accepted_at = received + timedelta(hours=rng.randrange(1, 7 * 24))
            invoices[customer_rut].append(entry)
        entries.append(entry)
    boletas = []
    for first in firsts:
        sold = rng.randrange(50, 400)
        net = sold * rng.randrange(3_000, 15_000)
        vat = round(net * 0.19)
        boletas.append(BoletaTotal(f"{first:%Y%m}", 39, sold, 0, net, vat, net + vat))
    return entries, boletas


def generate(
    directory: Path,
    count: int,
    months: int,
    *,
    company: str = DEFAULT_COMPANY,
    company_name: str = DEFAULT_COMPANY_NAME,
    xml: str = "none",
    seed: int = 18,
    now: datetime | None = None,
    progress: Callable[[int], None] | None = None,
) -> Generated:
    """Write the company's register (and, with ``xml``, its MIPYME DTEs) into the data ``directory``, and
    list the company and the example person (12345678-5, authorized for it) in ``emulator.json``."""
    if xml not in XML_KINDS:
        raise ValueError(f"xml must be one of {', '.join(XML_KINDS)}")
    if count < 1 or months < 1:
        raise ValueError("--generate and --months must be at least 1")
    moment = now or santiago_now()
    write_example(directory)
    entries, boletas = generate_entries(company, count, months, now=moment, seed=seed)
    write_register(directory / RCV_DIR, company, entries, boletas)
    _list_company(directory, company, company_name, mipyme=xml != "none")
    files = (
        0
        if xml == "none"
        else _write_xml(directory / DTES_DIR, company, company_name, entries, xml, progress)
    )
    by_type: dict[int, int] = defaultdict(int)
    for entry in entries:
        by_type[entry.type_code] += 1
    return Generated(
        company=company,
        documents=len(entries),
        by_type=dict(sorted(by_type.items())),
        accepted=sum(entry.accepted_at is not None for entry in entries),
        claimed=sum(entry.claimed_at is not None for entry in entries),
        xml_files=files,
    )


def _list_company(directory: Path, company: str, name: str, *, mipyme: bool) -> None:
    path = directory / CONFIG_FILE
    config = json.loads(path.read_text(encoding="utf-8"))
    companies = [c for c in config.setdefault("companies", []) if c.get("rut") != company]
    config["companies"] = [*companies, {"rut": company, "name": name, "mipyme": mipyme}]
    people = config.setdefault("people", [])
    person = next((p for p in people if p.get("rut") == DEFAULT_PERSON), None)
    if person is None:
        person = {"rut": DEFAULT_PERSON, "name": "Juana Pérez", "companies": [], "password_only": False}
        people.append(person)
    if company not in person.setdefault("companies", []):
        person["companies"].append(company)
    path.write_text(json.dumps(config, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")


def _write_xml(
    directory: Path,
    company: str,
    name: str,
    entries: list[Entry],
    kind: str,
    progress: Callable[[int], None] | None,
) -> int:
    directory.mkdir(parents=True, exist_ok=True)
    signer = None
    cafs: dict[int, TestCaf] = {}
    if kind == "signed":
        signer = make_test_certificate(
            DEFAULT_PERSON,
            "FIRMANTE DE PRUEBA",
            not_before=datetime(2000, 1, 1),
            not_after=datetime(2100, 1, 1),
        )
        first_day = min(entry.issue_date for entry in entries)
        for code in {entry.type_code for entry in entries}:
            folios = [entry.folio for entry in entries if entry.type_code == code]
            cafs[code] = make_test_caf(company, name, code, min(folios), max(folios), authorized_on=first_day)
    by_month: dict[str, list[bytes]] = defaultdict(list)
    for done, entry in enumerate(entries, 1):
        references: list[Reference] = []
        if entry.ref_type is not None and entry.ref_folio is not None:
            references.append((entry.ref_type, entry.ref_folio, 1, "Corrige monto"))
        content = build_dte(
            entry.type_code, entry.folio, company, entry.customer_rut, entry.total,
            issue_date=entry.issue_date, net=entry.net or None, exempt=entry.exempt or None,
            references=references, issuer_name=name, receiver_name=entry.customer_name,
        )  # fmt: skip
        if signer is not None:
            moment = datetime.combine(entry.issue_date, time(10))
            content = stamp_ted(content, cafs[entry.type_code], stamped_at=moment)
            content = sign_dte(content, *signer, signed_at=moment)
        by_month[entry.period].append(content[content.index(b"?>") + 2 :].lstrip())
        if progress is not None and done % 1000 == 0:
            progress(done)
    for period, pieces in by_month.items():
        body = b"\n".join(pieces)
        text = (
            b'<?xml version="1.0" encoding="ISO-8859-1"?>\n<SetDTE ID="SetDoc">\n' + body + b"\n</SetDTE>\n"
        )
        (directory / f"generated-{company}-{period}.xml").write_bytes(text)
    return len(by_month)
