"""Where building and verifying an AEC spend their CPU time, step by step, beside the DTE alone.

The data of ``bench/aec_floor.py`` (the bench's invoices, its signer's certificate; no emulator, no
database). Each step is run alone on data prepared beforehand, the steps interleaved document by document
with the DTE's verification (the order reversed every other document), so that each is measured with the
caches as the others leave them, as inside a build or a verification; each as a multiple of the DTE
alone, the ratio taken within each round; medians (min-max) over the rounds.

Usage:
    .venv/bin/python bench/aec_steps.py                 # 20 documents, 4 rounds
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))
sys.path.insert(0, str(ROOT / "bench"))

from cryptography.hazmat.primitives import hashes  # noqa: E402
from cryptography.hazmat.primitives.asymmetric import padding, rsa  # noqa: E402
from lxml import etree  # noqa: E402

from dtehub.dte import aec as building  # noqa: E402
from dtehub.dte import aec_verify as verifying  # noqa: E402
from dtehub.dte.envelope import split_dtes  # noqa: E402
from dtehub.dte.pipeline import read_dte_file  # noqa: E402
from dtehub.dte.signature import DSIG_NS  # noqa: E402
from dtehub.dte.signed_forms import canonicalize  # noqa: E402
from dtehub.dte.xmldsig import read_certificate  # noqa: E402
from dtehub.kit.dates import SANTIAGO, today_in_santiago  # noqa: E402
from dtehub.kit.xml import parse_untrusted  # noqa: E402
from dtehub.sii.certificate import load_pfx  # noqa: E402
from factoring import FACTOR, MAX_BYTES, PASSWORD, SELLER, TOTAL, emulator_data, invoices  # noqa: E402

Step = Callable[[dict[str, Any]], object]


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--documents", type=int, default=20)
    parser.add_argument("--rounds", type=int, default=4)
    args = parser.parse_args()
    dtes = invoices(args.documents)
    with tempfile.TemporaryDirectory(prefix="dtehub-bench-aec-") as folder:
        certificate = load_pfx(emulator_data(Path(folder) / "sii", dtes), PASSWORD)
    key = certificate.key
    assert isinstance(key, rsa.RSAPrivateKey)
    signer = building.Signer(key, certificate.certificate, certificate.holder_rut, "VERA VENDEDORA")
    terms = building.Terms(
        assignor=building.Party(SELLER, "VENDEDORA SPA", "Calle Larga 123, Santiago", "cobranza@v.cl"),
        assignee=building.Party(FACTOR, "FACTORING CAPITAL SPA", "Av. Apoquindo 4000", "ops@fc.cl"),
        amount=TOTAL,
        last_due_date=today_in_santiago() + timedelta(days=20),
        signed_at=datetime.now(SANTIAGO).replace(tzinfo=None, microsecond=0),
    )
    documents = [prepared(dte, building.build_aec(building.ceded_dte(dte), terms, signer)) for dte in dtes]
    sha1, pkcs1 = hashes.SHA1, padding.PKCS1v15
    steps: dict[str, Step] = {
        "build (ceded_dte + build_aec)": lambda d: building.build_aec(
            building.ceded_dte(d["dte"]), terms, signer
        ),
        "verify_aec": lambda d: verifying.verify_aec(d["aec"], holder_rut=FACTOR),
        "b: ceded_dte": lambda d: building.ceded_dte(d["dte"]),
        "b: 3 RSA signatures": lambda d: [key.sign(c, pkcs1(), sha1()) for c in d["signed_infos"]],
        "b: 3 parts read alone + C14N": lambda d: [
            etree.tostring(building._parse(text), method="c14n", with_comments=False) for text in d["alone"]
        ],
        "b: 3 SignedInfo C14N": lambda d: [canonicalize(e) for e in d["infos"]],
        "b+v: reading the file": lambda d: parse_untrusted(d["aec"], max_bytes=1 << 24),
        "b+v: schema": lambda d: building.validate_aec(d["root"]),
        "v: 3 parts C14N (detached)": lambda d: [canonicalize(e) for e in d["parts"]],
        "v: 3 SignedInfo C14N": lambda d: [canonicalize(e) for e in d["infos"]],
        "v: 3 RSA verifications": lambda d: [
            d["key"].verify(v, c, pkcs1(), sha1())
            for v, c in zip(d["values"], d["signed_infos"], strict=True)
        ],
        "v: cutting the DTE out": lambda d: split_dtes(d["aec"], roots=(b"AEC",)),
        "v: the DTE inside through the pipeline": lambda d: read_dte_file(d["piece"], max_bytes=1 << 24),
        "v: the 3 signatures (_signatures)": lambda d: verifying._signatures(d["root"]),
        "v: cessions and chain": lambda d: verifying._chain(
            d["root"],
            None,
            tuple(verifying._cession(e) for e in d["root"].iter(f"{building._S}DocumentoCesion")),
            FACTOR,
        ),
    }
    clock = time.process_time
    rounds: list[dict[str, float]] = []
    for number in range(args.rounds + 1):  # the first warms up
        spent: dict[str, float] = {}
        for index, document in enumerate(documents):
            order: list[tuple[str, Step]] = [
                ("dte", lambda d: read_dte_file(d["dte"], max_bytes=MAX_BYTES)),
                *steps.items(),
            ]
            if (index + number) % 2:
                order.reverse()
            for name, step in order:
                started = clock()
                step(document)
                spent[name] = spent.get(name, 0.0) + clock() - started
        rounds.append({name: total / spent["dte"] for name, total in spent.items()})
        rounds[-1]["dte_ms"] = spent["dte"] / len(documents) * 1000
    rounds = rounds[1:]
    print(
        f"AEC steps, {args.documents} documents x {args.rounds} rounds, CPU time, medians (min-max), "
        f"x the DTE alone; cpus={os.cpu_count()}, load {os.getloadavg()[0]:.1f}"
    )
    for name in ("dte_ms", *steps):
        values = [r[name] for r in rounds]
        shown = f"{statistics.median(values):7.3f} ({min(values):.3f}-{max(values):.3f})"
        print(f"  {'verifying the DTE alone, ms' if name == 'dte_ms' else name:42} {shown}")


def prepared(dte: bytes, aec: bytes) -> dict[str, Any]:
    """What the steps take, read from the AEC built once: its signed parts, SignedInfo, values, key."""
    root = parse_untrusted(aec, max_bytes=1 << 24)
    parts, infos = [], []
    for signature in root.iter(f"{{{DSIG_NS}}}Signature"):
        container, signed = signature.getparent(), signature.getprevious()
        if container is None or signed is None or str(container.tag).endswith("}DTE"):
            continue
        parts.append(signed)
        infos.append(signature[0])
    signatures = [info.getparent() for info in infos]
    read = read_certificate(signatures[0])
    assert read is not None
    values = [verifying._base64(verifying._text(s, f"{{{DSIG_NS}}}SignatureValue")) for s in signatures]
    alone = []
    for part in parts:  # each signed element as its own document, with the part's declarations on it
        text = etree.tostring(part, encoding=building.ENCODING, xml_declaration=False, with_tail=False)
        alone.append(text)
    [piece] = split_dtes(aec, roots=(b"AEC",))
    return {
        "dte": dte,
        "aec": aec,
        "root": root,
        "parts": parts,
        "infos": infos,
        "signed_infos": [canonicalize(info) for info in infos],
        "values": values,
        "key": read.public_key,
        "alone": alone,
        "piece": verifying._inherit_default_namespace(piece),
    }


if __name__ == "__main__":
    main()
