"""Ingest benchmark: the XML pipeline against cl-sii's, and `dtehub import` of 100,000 DTEs.

1. A corpus made from the real fixtures (an invoice and a credit note): new folios and amounts,
   re-issued by a bench company, timbre made with a test CAF and signed with a test certificate,
   as zip archives of 1,000 DTEs (bench/results/ingest-corpus-N/, reused when it is complete).
2. Per-document cost, one process, the same documents: dtehub's whole pipeline
   (``read_dte_file``: safe parse, schema, XML signature, timbre, every field) against cl-sii's own
   parse + clean + schema validation + field parsing + signature verification (signxml).
   Target: ours <= 1.5x theirs. Rounds alternate; the median per-document time of each is quoted.
3. ``dtehub import`` of the whole corpus into a fresh database, both cores: documents/s and the peak
   memory of the importer with its workers (summed RSS, sampled). Targets: >= 1,000 documents/s,
   < 500 MB.

Usage:
    python bench/ingest.py                                   # SQLite under bench/results/
    python bench/ingest.py --database-url postgresql+psycopg://postgres@127.0.0.1:5432/bench
    python bench/ingest.py --documents 10000 --sample 500    # a quick look
"""

from __future__ import annotations

import argparse
import contextlib
import io
import os
import random
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
LIMIT = 5 * 1024 * 1024

# --- the corpus ------------------------------------------------------------------------------------

_worker: dict[str, object] = {}


def _init_worker(key_pem: bytes, cert_pem: bytes, cafs: dict[int, bytes]) -> None:
    _worker["key"] = serialization.load_pem_private_key(key_pem, password=None)
    _worker["certificate"] = x509.load_pem_x509_certificate(cert_pem)
    _worker["cafs"] = {code: load_caf(xml) for code, xml in cafs.items()}
    _worker["templates"] = {33: INVOICE_TEMPLATE.read_bytes(), 61: NOTE_TEMPLATE.read_bytes()}


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


def _make_archive(task: tuple[Path, int, int, int]) -> int:
    path, first_folio, count, seed = task
    rng = random.Random(seed)
    key, certificate = _worker["key"], _worker["certificate"]
    cafs: dict[int, TestCaf] = _worker["cafs"]  # type: ignore[assignment]
    templates: dict[int, bytes] = _worker["templates"]  # type: ignore[assignment]
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for folio in range(first_folio, first_folio + count):
            code = 61 if folio % NOTE_EVERY == 0 else 33
            issued = date(2025, 1, 1) + timedelta(days=folio % 600)
            amount = rng.randrange(1_000, 5_000_000)
            reference = folio - 1 if code == 61 else None
            xml = _reissue(templates[code], code, folio, issued, amount, reference)
            moment = datetime.combine(issued, datetime.min.time(), tzinfo=UTC) + timedelta(hours=13)
            xml = stamp_ted(xml, cafs[code], stamped_at=moment)
            xml = sign_dte(xml, key, certificate, signed_at=moment)  # type: ignore[arg-type]
            archive.writestr(f"DTE-{code}-{folio}.xml", xml)
    path.write_bytes(buffer.getvalue())
    return count


def make_corpus(directory: Path, documents: int) -> Path:
    marker = directory / f"complete-{documents}"
    if marker.exists():
        return directory
    directory.mkdir(parents=True, exist_ok=True)
    for old in directory.iterdir():
        old.unlink()
    now = datetime.now(UTC)
    key, certificate = make_test_certificate(
        SIGNER_RUT,
        "FIRMANTE DE PRUEBA",
        not_before=datetime(2020, 1, 1, tzinfo=UTC),
        not_after=now + timedelta(days=3650),
    )
    cafs = {
        code: make_test_caf(
            ISSUER_RUT, ISSUER_NAME, code, 1, documents, authorized_on=date(2024, 12, 1)
        ).to_xml()
        for code in (33, 61)
    }
    key_pem = key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    cert_pem = certificate.public_bytes(serialization.Encoding.PEM)
    tasks = [
        (directory / f"corpus-{first:07d}.zip", first, min(PER_ARCHIVE, documents - first + 1), first)
        for first in range(1, documents + 1, PER_ARCHIVE)
    ]
    started = time.perf_counter()
    with ProcessPoolExecutor(initializer=_init_worker, initargs=(key_pem, cert_pem, cafs)) as pool:
        made = sum(pool.map(_make_archive, tasks))
    print(f"made a corpus of {made:,} signed and stamped DTEs in {time.perf_counter() - started:.0f} s")
    marker.touch()
    return directory


def read_sample(directory: Path, size: int) -> list[bytes]:
    sample: list[bytes] = []
    for path in sorted(directory.glob("corpus-*.zip")):
        with zipfile.ZipFile(path) as archive:
            for name in archive.namelist():
                sample.append(archive.read(name))
                if len(sample) == size:
                    return sample
    return sample


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


def per_document(documents: list[bytes], rounds: int) -> tuple[float, float]:
    ours(documents[:20])  # schemas loaded, caches warm, on both sides
    theirs(documents[:20])
    timings: dict[str, list[float]] = {"ours": [], "theirs": []}
    for _ in range(rounds):
        for name, run in (("ours", ours), ("theirs", theirs)):
            started = time.perf_counter()
            run(documents)
            timings[name].append((time.perf_counter() - started) / len(documents))
    return statistics.median(timings["ours"]), statistics.median(timings["theirs"])


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


def run_import(url: str, corpus: Path) -> tuple[float, int, int]:
    """(seconds, peak bytes, documents + notes in the database) of one ``dtehub import``."""
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
    done.set()
    sampler.join()
    if process.returncode != 0:
        raise SystemExit(
            f"dtehub import failed ({process.returncode}):\n{out.decode()}\n{err.decode()[-2000:]}"
        )
    print(out.decode().strip())
    engine = create_engine(database_url(url))
    with engine.connect() as conn:
        stored = conn.execute(
            text("SELECT (SELECT count(*) FROM documents) + (SELECT count(*) FROM notes)")
        ).scalar_one()
    engine.dispose()
    return seconds, peak, int(stored)


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--database-url", default=f"sqlite:///{ROOT / 'bench' / 'results' / 'ingest.db'}")
    parser.add_argument("--documents", type=int, default=100_000)
    parser.add_argument("--sample", type=int, default=1_000, help="documents in the per-document comparison")
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--skip-import", action="store_true")
    args = parser.parse_args()

    corpus = make_corpus(ROOT / "bench" / "results" / f"ingest-corpus-{args.documents}", args.documents)
    backend = database_url(args.database_url).get_backend_name()
    print(f"# dtehub ingest benchmark, {os.cpu_count()} CPUs, {datetime.now(UTC):%Y-%m-%d}")

    sample = read_sample(corpus, args.sample)
    mine, reference = per_document(sample, args.rounds)
    ratio = mine / reference
    print(f"\n## per document, {len(sample):,} DTEs, median of {args.rounds} alternating rounds, one process")
    print(f"dtehub pipeline (parse, schema, signature, timbre, fields)   {mine * 1000:7.3f} ms")
    print(f"cl-sii (parse, clean, schema, fields, signature via signxml) {reference * 1000:7.3f} ms")
    print(f"ratio ours/theirs {ratio:.2f} (target <= 1.50)")
    failures = [f"pipeline ratio {ratio:.2f}"] if ratio > 1.5 else []

    if not args.skip_import:
        reset_database(args.database_url)
        seconds, peak, stored = run_import(args.database_url, corpus)
        rate = stored / seconds
        print(f"\n## dtehub import of {args.documents:,} DTEs into {backend}")
        print(f"stored {stored:,} in {seconds:.1f} s: {rate:,.0f} documents/s (target >= 1,000)")
        print(f"peak memory of the importer and its workers: {peak / 2**20:.0f} MB (target < 500)")
        if stored != args.documents:
            failures.append(f"stored {stored} of {args.documents}")
        if rate < 1_000:
            failures.append(f"import rate {rate:.0f}/s")
        if peak >= 500 * 2**20:
            failures.append(f"peak memory {peak / 2**20:.0f} MB")
    print("\nall targets met" if not failures else "\ntargets missed:\n  " + "\n  ".join(failures))


if __name__ == "__main__":
    main()
