"""Ingest benchmark: the XML pipeline against cl-sii's, and `dtehub import` of 100,000 DTEs.

1. A corpus made from the real fixtures (an invoice and a credit note): new folios and amounts,
   re-issued by a bench company over three years, as a company's real history is: signed with the
   signing certificate of the year (renewed yearly, a new key each time) and stamped with one of many
   CAFs (a new CAF every ``--caf-size`` folios of each type), as zip archives of 1,000 DTEs
   (bench/results/ingest-corpus-N-.../, reused when it is complete).
2. The reference, measured first: per-document cost, one process, the same documents spread over the
   whole corpus (every certificate, every CAF): dtehub's whole pipeline (``read_dte_file``: safe parse,
   schema, XML signature, timbre, every field) against cl-sii's own parse + clean + schema validation +
   field parsing + signature verification (signxml). Rounds alternate; the median of each is quoted.
   Target: ours <= 1.5x theirs.
3. ``dtehub import`` of the whole corpus into a fresh database: documents/s against the ideal rate
   (CPUs / dtehub's per-document pipeline time of step 2), and the peak memory of the importer with its
   workers (summed RSS, sampled). Targets: >= 0.6 of the ideal rate, < 350 MB.

Usage:
    python bench/ingest.py                                   # SQLite under bench/results/
    python bench/ingest.py --database-url postgresql+psycopg://postgres@127.0.0.1:5432/bench
    python bench/ingest.py --documents 10000 --sample 500    # a quick look
    ... --output docs/bench/ingest-sqlite.txt                # also writes the report there
"""

from __future__ import annotations

import argparse
import contextlib
import io
import os
import random
import resource
import statistics
import subprocess
import sys
import threading
import time
import zipfile
from concurrent.futures import ProcessPoolExecutor
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import serialization
from lxml import etree
from sqlalchemy import create_engine, text

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))

from documents import reset_database  # noqa: E402  (bench/documents.py: empty and migrate a database)
from dtehub.db import database_url  # noqa: E402
from dtehub.dte.pipeline import CheckedDte, read_dte_file  # noqa: E402
from dtehub.dte.signing import make_test_certificate, sign_dte  # noqa: E402
from dtehub.dte.stamping import TestCaf, load_caf, make_test_caf, stamp_ted  # noqa: E402

FIXTURES = ROOT / "tests" / "fixtures"
INVOICE_TEMPLATE = FIXTURES / "DTE--76399752-9--33--25568.xml"
NOTE_TEMPLATE = FIXTURES / "DTE--96670340-7--61--110616.xml"
ISSUER_RUT = "76086428-5"
ISSUER_NAME = "DTEHUB BENCH SPA"
SIGNER_RUT = "13185095-6"
PER_ARCHIVE = 1_000
NOTE_EVERY = 10  # one credit note per ten DTEs, naming the invoice just before it
FIRST_YEAR, YEARS = 2023, 3  # the corpus spans three calendar years, one signing certificate each
IDEAL_FACTOR = 0.6
PEAK_MB = 350
LIMIT = 5 * 1024 * 1024

# --- the corpus ------------------------------------------------------------------------------------

_worker: dict[str, object] = {}


def _init_worker(
    certificates: dict[int, tuple[bytes, bytes]], cafs: dict[tuple[int, int], bytes], documents: int
) -> None:
    _worker["signers"] = {
        year: (serialization.load_pem_private_key(key, password=None), x509.load_pem_x509_certificate(cert))
        for year, (key, cert) in certificates.items()
    }
    _worker["cafs"] = {key: load_caf(xml) for key, xml in cafs.items()}
    _worker["documents"] = documents
    _worker["templates"] = {33: INVOICE_TEMPLATE.read_bytes(), 61: NOTE_TEMPLATE.read_bytes()}


def issued_on(folio: int, documents: int) -> date:
    """Folios in issue order over the corpus's three years."""
    first, last = date(FIRST_YEAR, 1, 2), date(FIRST_YEAR + YEARS - 1, 12, 30)
    return first + timedelta(days=((folio - 1) * (last - first).days) // max(1, documents - 1))


def caf_index(folio: int, caf_size: int) -> int:
    return (folio - 1) // caf_size


def _child(parent: etree._Element, name: str) -> etree._Element:
    found = parent.find(name)
    assert found is not None, name
    return found


def _reissue(
    template: bytes, code: int, folio: int, issued: date, amount: int, reference: int | None
) -> bytes:
    """The template as a new DTE of the bench company, in the SII namespace: no timbre or signature yet."""
    dte = etree.fromstring(template)
    for element in list(dte):
        if not isinstance(element.tag, str) or etree.QName(element).localname == "Signature":
            dte.remove(element)  # the old signature, and comments outside the signed body
    body = _child(dte, "Documento")
    body.set("ID", f"F{folio}T{code}")
    for element in list(body):
        if isinstance(element.tag, str) and etree.QName(element).localname in {"TED", "TmstFirma"}:
            body.remove(element)
    header = _child(body, "Encabezado")
    id_doc, issuer, totals = _child(header, "IdDoc"), _child(header, "Emisor"), _child(header, "Totales")
    _child(id_doc, "Folio").text = str(folio)
    _child(id_doc, "FchEmis").text = issued.isoformat()
    if id_doc.find("FchVenc") is not None:
        _child(id_doc, "FchVenc").text = (issued + timedelta(days=30)).isoformat()
    _child(issuer, "RUTEmisor").text = ISSUER_RUT
    _child(issuer, "RznSoc").text = ISSUER_NAME
    line, *others = body.findall("Detalle")
    for other in others:  # one line, whose amount is the document's
        body.remove(other)
    if line.find("QtyItem") is not None:
        _child(line, "QtyItem").text = "1"
    if line.find("PrcItem") is not None:
        _child(line, "PrcItem").text = str(amount)
    _child(line, "MontoItem").text = str(amount)
    tax = amount * 19 // 100
    _child(totals, "MntNeto").text = str(amount)
    _child(totals, "IVA").text = str(tax)
    _child(totals, "MntTotal").text = str(amount + tax)
    for ref in body.findall("Referencia"):
        if reference is not None and _child(ref, "TpoDocRef").text == "33":
            _child(ref, "FolioRef").text = str(reference)
            _child(ref, "FchRef").text = issued.isoformat()
    xml = etree.tostring(dte, encoding="ISO-8859-1", xml_declaration=True)
    # Issued in the SII namespace, as most issuers do (and as cl-sii's validator wants it).
    return xml.replace(b"<DTE ", b'<DTE xmlns="http://www.sii.cl/SiiDte" ', 1)


def _make_archive(task: tuple[Path, int, int, int, int]) -> int:
    path, first_folio, count, seed, caf_size = task
    rng = random.Random(seed)
    signers: dict[int, tuple[object, x509.Certificate]] = _worker["signers"]  # type: ignore[assignment]
    cafs: dict[tuple[int, int], TestCaf] = _worker["cafs"]  # type: ignore[assignment]
    documents: int = _worker["documents"]  # type: ignore[assignment]
    templates: dict[int, bytes] = _worker["templates"]  # type: ignore[assignment]
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for folio in range(first_folio, first_folio + count):
            code = 61 if folio % NOTE_EVERY == 0 else 33
            issued = issued_on(folio, documents)
            amount = rng.randrange(1_000, 5_000_000)
            reference = folio - 1 if code == 61 else None
            xml = _reissue(templates[code], code, folio, issued, amount, reference)
            moment = datetime.combine(issued, datetime.min.time(), tzinfo=UTC) + timedelta(hours=13)
            xml = stamp_ted(xml, cafs[(code, caf_index(folio, caf_size))], stamped_at=moment)
            key, certificate = signers[issued.year]
            xml = sign_dte(xml, key, certificate, signed_at=moment)  # type: ignore[arg-type]
            archive.writestr(f"DTE-{code}-{folio}.xml", xml)
    path.write_bytes(buffer.getvalue())
    return count


def corpus_directory(documents: int, caf_size: int) -> Path:
    return ROOT / "bench" / "results" / f"ingest-corpus-{documents}-{YEARS}certs-caf{caf_size}"


def make_corpus(directory: Path, documents: int, caf_size: int) -> tuple[int, int]:
    """The corpus (made unless complete); returns (signing certificates, CAFs) it uses."""
    certificates = YEARS
    cafs_count = 2 * (caf_index(documents, caf_size) + 1)
    marker = directory / "complete"
    if marker.exists():
        return certificates, cafs_count
    directory.mkdir(parents=True, exist_ok=True)
    for old in directory.iterdir():
        old.unlink()
    pem: dict[int, tuple[bytes, bytes]] = {}
    for year in range(FIRST_YEAR, FIRST_YEAR + YEARS):
        # Renewed yearly, a new key each time, the year's DTEs signed with it. Each stays valid until
        # after today: cl-sii (signxml) checks a certificate's validity at the present time, not at signing.
        key, certificate = make_test_certificate(
            SIGNER_RUT,
            "FIRMANTE DE PRUEBA",
            not_before=datetime(year, 1, 1, tzinfo=UTC),
            not_after=datetime.now(UTC) + timedelta(days=3650),
        )
        pem[year] = (
            key.private_bytes(
                serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
            ),
            certificate.public_bytes(serialization.Encoding.PEM),
        )
    cafs: dict[tuple[int, int], bytes] = {}
    for code in (33, 61):
        for index in range(caf_index(documents, caf_size) + 1):
            first = index * caf_size + 1
            cafs[(code, index)] = make_test_caf(
                ISSUER_RUT,
                ISSUER_NAME,
                code,
                first,
                first + caf_size - 1,
                authorized_on=issued_on(first, documents) - timedelta(days=5),
            ).to_xml()
    tasks = [
        (
            directory / f"corpus-{first:07d}.zip",
            first,
            min(PER_ARCHIVE, documents - first + 1),
            first,
            caf_size,
        )
        for first in range(1, documents + 1, PER_ARCHIVE)
    ]
    started = time.perf_counter()
    with ProcessPoolExecutor(initializer=_init_worker, initargs=(pem, cafs, documents)) as pool:
        made = sum(pool.map(_make_archive, tasks))
    print(
        f"made a corpus of {made:,} signed and stamped DTEs ({len(pem)} certificates, {len(cafs)} CAFs) "
        f"in {time.perf_counter() - started:.0f} s"
    )
    marker.touch()
    return certificates, cafs_count


def read_sample(directory: Path, size: int) -> list[bytes]:
    """``size`` DTEs spread evenly over every archive of the corpus (so over every certificate and CAF)."""
    archives = sorted(directory.glob("corpus-*.zip"))
    each = max(1, -(-size // len(archives)))
    sample: list[bytes] = []
    for path in archives:
        with zipfile.ZipFile(path) as archive:
            names = archive.namelist()
            step = max(1, len(names) // each)
            sample.extend(archive.read(name) for name in names[::step][:each])
    return sample[:size]


# --- per-document cost -----------------------------------------------------------------------------


def ours(documents: list[bytes]) -> None:
    for data in documents:
        [checked] = read_dte_file(data, max_bytes=LIMIT)
        assert isinstance(checked, CheckedDte), checked
        assert checked.checks.signature.value == "valid", checked.checks.problems


def theirs(documents: list[bytes]) -> None:
    import base64

    from cl_sii.dte import parse as dte_parse
    from cl_sii.libs import crypto_utils, xml_utils

    for data in documents:
        doc = xml_utils.parse_untrusted_xml(data)
        doc, _ = dte_parse.clean_dte_xml(doc, set_missing_xmlns=True)
        dte_parse.validate_dte_xml(doc)
        dte_parse.parse_dte_xml(doc)
        certificate_text = doc.find(".//{http://www.w3.org/2000/09/xmldsig#}X509Certificate").text
        certificate = crypto_utils.load_der_x509_cert(base64.b64decode(certificate_text))
        xml_utils.verify_xml_signature(doc, trusted_x509_cert=certificate)


def per_document(documents: list[bytes], rounds: int) -> tuple[float, float, float]:
    """Median seconds per document: ours, theirs (wall clock), and ours in CPU time (which a busy machine
    does not stretch)."""
    ours(documents[:20])  # schemas loaded, caches warm, on both sides
    theirs(documents[:20])
    timings: dict[str, list[float]] = {"ours": [], "theirs": [], "ours_cpu": []}
    for _ in range(rounds):
        for name, run in (("ours", ours), ("theirs", theirs)):
            started, cpu_started = time.perf_counter(), time.process_time()
            run(documents)
            timings[name].append((time.perf_counter() - started) / len(documents))
            if name == "ours":
                timings["ours_cpu"].append((time.process_time() - cpu_started) / len(documents))
    return (
        statistics.median(timings["ours"]),
        statistics.median(timings["theirs"]),
        statistics.median(timings["ours_cpu"]),
    )


# --- dtehub import ---------------------------------------------------------------------------------


def _tree_rss(pid: int) -> int:
    """Resident memory of a process and all its descendants, in bytes."""
    children: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            children.setdefault(int(fields[1]), []).append(int(entry.name))
    total, pending = 0, [pid]
    page = os.sysconf("SC_PAGE_SIZE")
    while pending:
        current = pending.pop()
        with contextlib.suppress(OSError):
            total += int((Path("/proc") / str(current) / "statm").read_text().split()[1]) * page
        pending.extend(children.get(current, []))
    return total


def run_import(url: str, corpus: Path) -> tuple[float, int, int, str, float]:
    """(seconds, peak bytes, documents + notes in the database, its summary, CPU seconds of the importer and
    its workers) of one ``dtehub import``."""
    dtehub = str(Path(sys.executable).parent / "dtehub")
    env = {**os.environ, "DTEHUB_DATABASE_URL": url}
    subprocess.run([dtehub, "db", "upgrade"], env=env, check=True, capture_output=True)
    subprocess.run(
        [dtehub, "companies", "create", "--rut", ISSUER_RUT, "--name", ISSUER_NAME],
        env=env,
        check=True,
        capture_output=True,
    )
    archives = [str(p) for p in sorted(corpus.glob("corpus-*.zip"))]
    peak = 0
    cpu_before = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.perf_counter()
    process = subprocess.Popen(
        [dtehub, "import", "--company", ISSUER_RUT, *archives],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    done = threading.Event()

    def sample() -> None:
        nonlocal peak
        while not done.is_set():
            peak = max(peak, _tree_rss(process.pid))
            time.sleep(0.25)

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    out, err = process.communicate()
    seconds = time.perf_counter() - started
    cpu_after = resource.getrusage(resource.RUSAGE_CHILDREN)  # the workers are reaped by the importer
    cpu = (cpu_after.ru_utime + cpu_after.ru_stime) - (cpu_before.ru_utime + cpu_before.ru_stime)
    done.set()
    sampler.join()
    if process.returncode != 0:
        raise SystemExit(
            f"dtehub import failed ({process.returncode}):\n{out.decode()}\n{err.decode()[-2000:]}"
        )
    engine = create_engine(database_url(url))
    with engine.connect() as conn:
        stored = conn.execute(
            text("SELECT (SELECT count(*) FROM documents) + (SELECT count(*) FROM notes)")
        ).scalar_one()
    engine.dispose()
    return seconds, peak, int(stored), out.decode().strip(), cpu


def load_average() -> str:
    try:
        return " ".join(Path("/proc/loadavg").read_text().split()[:3])
    except OSError:
        return "unknown"


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--database-url", default=f"sqlite:///{ROOT / 'bench' / 'results' / 'ingest.db'}")
    parser.add_argument("--documents", type=int, default=100_000)
    parser.add_argument("--caf-size", type=int, default=1_000, help="folios per CAF (a new CAF after each)")
    parser.add_argument("--sample", type=int, default=1_000, help="documents in the per-document comparison")
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--skip-import", action="store_true")
    parser.add_argument("--output", type=Path, help="also write the report to this file (docs/bench/...)")
    args = parser.parse_args()
    lines: list[str] = []

    def out(line: str = "") -> None:
        print(line, flush=True)
        lines.append(line)

    directory = corpus_directory(args.documents, args.caf_size)
    certificates, cafs = make_corpus(directory, args.documents, args.caf_size)
    backend = database_url(args.database_url).get_backend_name()
    cpus = os.cpu_count() or 1
    out(f"# dtehub ingest benchmark on {backend}, {cpus} CPUs, {datetime.now(UTC):%Y-%m-%d %H:%M} UTC")
    out(
        f"command: python bench/ingest.py --documents {args.documents} --caf-size {args.caf_size} "
        f"--sample {args.sample} --rounds {args.rounds} ({backend})"
    )
    out(
        f"corpus: {args.documents:,} DTEs issued {FIRST_YEAR}-{FIRST_YEAR + YEARS - 1}, {certificates} "
        f"signing certificates (renewed yearly), {cafs} CAFs ({args.caf_size:,} folios each, types 33 and 61)"
    )

    sample = read_sample(directory, args.sample)
    out(
        f"\n## reference: per document, {len(sample):,} DTEs spread over the corpus, median of "
        f"{args.rounds} alternating rounds, one process (load average {load_average()})"
    )
    mine, reference, mine_cpu = per_document(sample, args.rounds)
    ratio = mine / reference
    ideal = cpus / mine
    out(f"dtehub pipeline (parse, schema, signature, timbre, fields)   {mine * 1000:7.3f} ms")
    out(f"cl-sii (parse, clean, schema, fields, signature via signxml) {reference * 1000:7.3f} ms")
    out(f"dtehub pipeline in CPU time (what a busy machine does not stretch) {mine_cpu * 1000:7.3f} ms")
    out(f"ideal import rate: {cpus} CPUs / {mine * 1000:.3f} ms = {ideal:,.0f} documents/s")
    verdicts = [("pipeline <= 1.5x cl-sii's per document", f"{ratio:.2f}x", ratio <= 1.5)]

    if not args.skip_import:
        reset_database(args.database_url)
        out(f"\n## dtehub import of {args.documents:,} DTEs into {backend} (load average {load_average()})")
        seconds, peak, stored, summary, cpu = run_import(args.database_url, directory)
        out(summary)
        rate = stored / seconds
        peak_mb = peak / 2**20
        out(
            f"stored {stored:,} in {seconds:.1f} s: {rate:,.0f} documents/s = {rate / ideal:.2f} of the ideal"
        )
        out(f"peak memory of the importer and its workers: {peak_mb:.0f} MB")
        # Why the rate falls short of the ideal: the CPU each stored DTE cost the importer and its workers
        # (the pipeline, plus storing in the main process, the hop between processes, start-up), and the
        # share of the machine's CPUs the import got (others run on a shared machine).
        cpu_per_dte = cpu / max(1, stored)
        out(
            f"CPU of the importer and its workers: {cpu:.1f} s = {cpu_per_dte * 1000:.3f} ms per DTE "
            f"({cpu_per_dte / mine_cpu:.2f}x the pipeline's {mine_cpu * 1000:.3f} ms of CPU); it had "
            f"{cpu / seconds:.2f} of {cpus} CPUs on average"
        )
        out(
            f"rate if it had had all {cpus} CPUs: {cpus / cpu_per_dte:,.0f} documents/s = "
            f"{mine_cpu / cpu_per_dte:.2f} of the ideal in CPU time ({cpus} / {mine_cpu * 1000:.3f} ms)"
        )
        out(f"load average after: {load_average()}")
        verdicts.append((f"all {args.documents:,} stored", f"{stored:,}", stored == args.documents))
        verdicts.append(
            (
                f"import rate >= {IDEAL_FACTOR:g} of the ideal rate",
                f"{rate / ideal:.2f}",
                rate >= IDEAL_FACTOR * ideal,
            )
        )
        verdicts.append((f"peak memory < {PEAK_MB} MB", f"{peak_mb:.0f} MB", peak_mb < PEAK_MB))
    out("\n## targets (ratios to this run's reference)")
    for target, measured, met in verdicts:
        out(f"{'met   ' if met else 'MISSED'}  {target}: {measured}")
    out("\nall targets met" if all(met for *_, met in verdicts) else "\nsome targets missed")
    if args.output:
        args.output.parent.mkdir(parents=True, exist_ok=True)
        args.output.write_text("\n".join(lines) + "\n")


if __name__ == "__main__":
    main()
