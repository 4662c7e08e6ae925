"""What building and verifying an AEC costs beside its DTE alone, and the part of it no implementation can
skip (issue 19's target: building and verifying <= 3x verifying the DTE alone).

No emulator and no database: the bench's invoices (``bench/factoring.py``'s ``invoices``) and its signer's
test certificate, in CPU time of this process (``time.process_time``). For each document, in turn: the DTE
alone (``read_dte_file``), its AEC built (``ceded_dte`` + ``build_aec``) and verified (``verify_aec``); then,
in a pass of their own (so that the DTE is measured in the company it has in ``bench/factoring.py``), the
floor's steps: three RSA-SHA1 signatures and three verifications with the
signer's key (SII's format signs three parts), reading the file received, validating the file against
``AEC_v10.xsd`` twice (the builder's check and the receiver's), cutting the DTE out of the file
(``split_dtes``) and reading the stored DTE's ``IdDTE`` (``ceded_dte``). Each as a multiple of the DTE
alone, the ratio taken within each round; medians over the rounds.

Beyond that floor, two steps every implementation of the format also pays, printed apart (the floor above
is kept as it was first defined, to compare runs): the canonical texts (inclusive C14N 1.0, libxml2) and
SHA-1 digests of the three signed parts and of their ``SignedInfo``, which the signer computes to sign and
the receiver again to verify (``c14n_2``: twice, detached as both sides compute them); and the builder
reading the finished file back for its check before upload (``read_back``: one more parse of the file).

Usage:
    .venv/bin/python bench/aec_floor.py                 # 40 documents, 6 rounds
    .venv/bin/python bench/aec_floor.py --documents 20 --rounds 4
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from datetime import datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))
sys.path.insert(0, str(ROOT / "bench"))

import hashlib  # noqa: E402

from cryptography.hazmat.primitives import hashes  # noqa: E402
from cryptography.hazmat.primitives.asymmetric import padding, rsa  # noqa: E402
from lxml import etree  # noqa: E402

from dtehub.dte.aec import Party, Signer, Terms, build_aec, ceded_dte, validate_aec  # noqa: E402
from dtehub.dte.aec_verify import verify_aec  # noqa: E402
from dtehub.dte.envelope import split_dtes  # noqa: E402
from dtehub.dte.pipeline import read_dte_file  # noqa: E402
from dtehub.dte.signature import DSIG_NS  # noqa: E402
from dtehub.dte.signed_forms import canonicalize  # noqa: E402
from dtehub.kit.dates import SANTIAGO, today_in_santiago  # noqa: E402
from dtehub.kit.xml import parse_untrusted  # noqa: E402
from dtehub.sii.certificate import load_pfx  # noqa: E402
from factoring import FACTOR, MAX_BYTES, PASSWORD, SELLER, TOTAL, emulator_data, invoices  # noqa: E402

FLOOR = ("rsa_sign_3", "rsa_verify_3", "parse_received", "schema_2", "cut_dte")
BEYOND = ("c14n_2", "read_back")


def signed_texts(root: etree._Element) -> list[etree._Element]:
    """The AEC's own signed parts and their SignedInfo (not the DTE's: the pipeline's)."""
    found: list[etree._Element] = []
    for signature in root.iter(f"{{{DSIG_NS}}}Signature"):
        container, signed = signature.getparent(), signature.getprevious()
        if container is None or signed is None or str(container.tag).endswith("}DTE"):
            continue
        found += [signed, signature[0]]
    return found


def canonical_digests(elements: list[etree._Element]) -> None:
    for element in elements:
        hashlib.sha1(canonicalize(element)).digest()  # noqa: S324 (SII's profile)


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--documents", type=int, default=40)
    parser.add_argument("--rounds", type=int, default=6)
    args = parser.parse_args()
    dtes = invoices(args.documents)
    with tempfile.TemporaryDirectory(prefix="dtehub-bench-aec-") as folder:
        certificate = load_pfx(emulator_data(Path(folder) / "sii", dtes), PASSWORD)
    key, public_key = certificate.key, certificate.certificate.public_key()
    assert isinstance(key, rsa.RSAPrivateKey)
    assert isinstance(public_key, rsa.RSAPublicKey)
    signer = Signer(key, certificate.certificate, certificate.holder_rut, "VERA VENDEDORA")
    terms = Terms(
        assignor=Party(SELLER, "VENDEDORA SPA", "Calle Larga 123, Santiago", "cobranza@vendedora.cl"),
        assignee=Party(FACTOR, "FACTORING CAPITAL SPA", "Av. Apoquindo 4000, Las Condes", "ops@fc.cl"),
        amount=TOTAL,
        last_due_date=today_in_santiago() + timedelta(days=20),
        signed_at=datetime.now(SANTIAGO).replace(tzinfo=None, microsecond=0),
    )
    signed_info = b"<SignedInfo>" + b"x" * 700  # about a SignedInfo's canonical size
    value = key.sign(signed_info, padding.PKCS1v15(), hashes.SHA1())  # noqa: S303 (SII's profile)
    clock = time.process_time
    sha1 = hashes.SHA1

    def timed(spent: dict[str, float], name: str, action: object, times: int = 1) -> object:
        started = clock()
        for _ in range(times):
            result = action()  # type: ignore[operator]
        spent[name] = spent.get(name, 0.0) + clock() - started
        return result

    rounds: list[dict[str, float]] = []
    for _ in range(args.rounds + 1):  # the first warms up
        spent: dict[str, float] = {}
        aecs: list[bytes] = []
        for dte in dtes:
            timed(spent, "dte", lambda dte=dte: read_dte_file(dte, max_bytes=MAX_BYTES))
            built = timed(spent, "build", lambda dte=dte: build_aec(ceded_dte(dte), terms, signer))
            assert isinstance(built, bytes)
            aecs.append(built)
            verification = timed(spent, "verify", lambda built=built: verify_aec(built, holder_rut=FACTOR))
            assert verification.valid  # type: ignore[attr-defined]
        for dte, built in zip(dtes, aecs, strict=True):  # apart, so as not to change the DTE's context
            timed(spent, "rsa_sign_3", lambda: key.sign(signed_info, padding.PKCS1v15(), sha1()), 3)
            timed(
                spent,
                "rsa_verify_3",
                lambda: public_key.verify(value, signed_info, padding.PKCS1v15(), sha1()),
                3,
            )
            received = timed(
                spent, "parse_received", lambda built=built: parse_untrusted(built, max_bytes=1 << 24)
            )
            timed(spent, "schema_2", lambda received=received: validate_aec(received), 2)  # type: ignore[arg-type]
            parts = signed_texts(received)
            assert len(parts) == 6
            timed(spent, "c14n_2", lambda parts=parts: canonical_digests(parts), 2)
            timed(spent, "read_back", lambda built=built: parse_untrusted(built, max_bytes=1 << 24))
            timed(spent, "cut_dte", lambda built=built: split_dtes(built, roots=(b"AEC",)))
            timed(spent, "id_dte", lambda dte=dte: ceded_dte(dte))
        rounds.append({name: total / spent["dte"] for name, total in spent.items()})
        rounds[-1]["dte_ms"] = spent["dte"] / len(dtes) * 1000
    rounds = rounds[1:]
    median = {name: statistics.median(r[name] for r in rounds) for name in rounds[0]}
    floor = 1 + sum(median[name] for name in FLOOR)
    print(
        f"AEC floor, {args.documents} documents x {args.rounds} rounds, CPU time, medians; "
        f"cpus={os.cpu_count()}, load {os.getloadavg()[0]:.1f}"
    )
    print(f"  verifying the DTE alone, ms/document              {median['dte_ms']:8.3f}")
    for name in ("build", "verify", *FLOOR, "id_dte", *BEYOND):
        print(f"  {name:48} {median[name]:8.3f} x the DTE")
    print(f"  building and verifying                           {median['build'] + median['verify']:8.3f} x")
    print(f"  floor: the DTE + {' + '.join(FLOOR)}  {floor:8.3f} x")
    print(f"  floor with id_dte                                {floor + median['id_dte']:8.3f} x")
    above = median["build"] + median["verify"] - floor - median["id_dte"]
    print(f"  above the floor (with id_dte)                    {above:8.3f} x")
    beyond = floor + median["id_dte"] + sum(median[name] for name in BEYOND)
    print(f"  floor with id_dte + {' + '.join(BEYOND)}             {beyond:8.3f} x")
    rest = median["build"] + median["verify"] - beyond
    print(f"  above that                                       {rest:8.3f} x")


if __name__ == "__main__":
    main()
