"""MIPYME benchmark: `POST /V1/mipyme_get_document` on a real `dtehub serve` against the SII emulator.

1. First call: one request for each of 10 people, each the first with that certificate (TLS handshake
   with the person's certificate, login, company selection, listing, XML, PDF, checks).
2. Reused session: 20 requests in a row with one of those certificates (the session is reused).
   Target: the reused call >= 3x faster than the first (medians).
3. 50 concurrent requests of 10 other people (5 each, all at once): every one answered with status 0,
   and no person ever has more sessions open at SII than SII allows (10) or dtehub's setting.

The emulator runs in this process on loopback, with every page answered after ``--sii-latency-ms``
(default 0: the emulator's own speed; SII's real pages take far longer, which only widens the gap).

Usage:
    python bench/mipyme.py
    python bench/mipyme.py --sii-latency-ms 50
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import json
import os
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

import httpx
from cl_sii.rut import Rut

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))

from dtehub.sii.emulator import Emulator, TestCertificateAuthority  # noqa: E402

FACTURA = ROOT / "tests" / "fixtures" / "DTE--76399752-9--33--25568.xml"
COMPANY = "76399752-9"
PASSWORD = "bench-password"  # noqa: S105 (of the bench's own test certificates)
SII_SESSION_LIMIT = 10
MAX_SESSIONS = 3


def rut(number: int) -> str:
    return f"{number}-{Rut.calc_dv(str(number))}"


FIRST_PEOPLE = [rut(21000000 + n) for n in range(10)]
CROWD = [rut(22000000 + n) for n in range(10)]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def prepare(data: Path) -> dict[str, bytes]:
    (data / "dtes").mkdir(parents=True)
    shutil.copyfile(FACTURA, data / "dtes" / FACTURA.name)
    people = [{"rut": r, "name": f"Persona {r}", "companies": [COMPANY]} for r in FIRST_PEOPLE + CROWD]
    config = {"companies": [{"rut": COMPANY, "name": "COMERCIALIZADORA INNOVA MOBEL SPA"}], "people": people}
    (data / "emulator.json").write_text(json.dumps(config))
    ca = TestCertificateAuthority.load_or_create(data / "ca")
    return {
        r: ca.issue_person_certificate(rut=r, name="Persona", password=PASSWORD.encode())
        for r in FIRST_PEOPLE + CROWD
    }


def start_server(emulator: Emulator, database: Path, port: int) -> tuple[subprocess.Popen[bytes], str]:
    dtehub = str(Path(sys.executable).parent / "dtehub")
    env = {k: v for k, v in os.environ.items() if not k.startswith("DTEHUB_")} | {
        "DTEHUB_DATABASE_URL": f"sqlite:///{database}",
        "DTEHUB_SII_AUTH_URL": emulator.base_url,
        "DTEHUB_SII_PORTAL_URL": emulator.base_url,
        "DTEHUB_SII_LOGOUT_URL": emulator.base_url,
        "DTEHUB_SII_CA_BUNDLE": str(emulator.ca_bundle),
        "DTEHUB_SII_MAX_SESSIONS": str(MAX_SESSIONS),
        "DTEHUB_LOG_LEVEL": "warning",
    }
    subprocess.run([dtehub, "db", "upgrade"], env=env, check=True, capture_output=True)
    created = subprocess.run(
        [dtehub, "companies", "create", "--rut", COMPANY, "--name", "BENCH"],
        env=env,
        check=True,
        capture_output=True,
    )
    token = json.loads(created.stdout)["token"]
    server = subprocess.Popen(
        [dtehub, "serve", "--port", str(port)], env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"http://127.0.0.1:{port}/health", timeout=1).status_code == 200:
                return server, token
        except httpx.HTTPError:
            time.sleep(0.2)
    server.kill()
    raise SystemExit("the server did not start")


def body(pfx: bytes) -> dict[str, object]:
    return {
        "certificate_pfx_base64": base64.b64encode(pfx).decode(),
        "certificate_password": PASSWORD,
        "tax_id_code": COMPANY,
        "document_type_taxbureau": 33,
        "document_number": 25568,
    }


async def timed(http: httpx.AsyncClient, pfx: bytes) -> float:
    started = time.perf_counter()
    response = await http.post("/V1/mipyme_get_document", json=body(pfx))
    elapsed = (time.perf_counter() - started) * 1000
    if response.status_code != 200 or response.json()["status"] != 0:
        raise SystemExit(f"request failed: {response.status_code} {response.text[:300]}")
    return elapsed


async def measure(base: str, token: str, certificates: dict[str, bytes], emulator: Emulator) -> list[str]:
    failures: list[str] = []
    headers = {"Authorization": f"Bearer {token}"}
    async with httpx.AsyncClient(base_url=base, headers=headers, timeout=120) as http:
        first = [await timed(http, certificates[r]) for r in FIRST_PEOPLE]
        reused = [await timed(http, certificates[FIRST_PEOPLE[0]]) for _ in range(20)]
        first_p50, reused_p50 = statistics.median(first), statistics.median(reused)
        ratio = first_p50 / reused_p50
        print("\n## one request, first call and with the session reused (ms)")
        print(f"{'':<14} {'p50':>8} {'min':>8} {'max':>8}")
        print(f"{'first call':<14} {first_p50:>8.1f} {min(first):>8.1f} {max(first):>8.1f}")
        print(f"{'reused':<14} {reused_p50:>8.1f} {min(reused):>8.1f} {max(reused):>8.1f}")
        print(f"reuse is {ratio:.1f}x faster (target >= 3x)")
        if ratio < 3:
            failures.append(f"reuse only {ratio:.1f}x faster")

        started = time.perf_counter()
        crowd = [certificates[r] for r in CROWD for _ in range(5)]
        latencies = await asyncio.gather(*(timed(http, pfx) for pfx in crowd))
        wall = time.perf_counter() - started
        peaks = {r: emulator.peak_sessions(r) for r in CROWD}
        print(f"\n## {len(crowd)} concurrent requests of {len(CROWD)} people (5 each)")
        print(f"all answered status 0 in {wall:.2f} s; latency p50 {statistics.median(latencies):.0f} ms, "
              f"max {max(latencies):.0f} ms")  # fmt: skip
        print(f"peak open SII sessions per person: max {max(peaks.values())} "
              f"(dtehub's limit {MAX_SESSIONS}, SII's {SII_SESSION_LIMIT})")  # fmt: skip
        if max(peaks.values()) > min(MAX_SESSIONS, SII_SESSION_LIMIT):
            failures.append(f"a person had {max(peaks.values())} sessions open")
    return failures


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--sii-latency-ms", type=float, default=0.0)
    args = parser.parse_args()
    print(f"# dtehub MIPYME benchmark, {os.cpu_count()} CPUs, {datetime.now(UTC):%Y-%m-%d}, "
          f"SII latency {args.sii_latency_ms:g} ms per page")  # fmt: skip
    with tempfile.TemporaryDirectory(prefix="dtehub-bench-mipyme-") as scratch:
        data = Path(scratch) / "sii"
        certificates = prepare(data)
        with Emulator(data, host="127.0.0.1", port=0) as emulator:
            emulator.faults.delay_seconds = args.sii_latency_ms / 1000
            port = free_port()
            server, token = start_server(emulator, Path(scratch) / "dtehub.db", port)
            try:
                failures = asyncio.run(measure(f"http://127.0.0.1:{port}", token, certificates, emulator))
            finally:
                server.terminate()
                server.wait(timeout=30)
            still_open = sum(emulator.open_sessions(r) for r in FIRST_PEOPLE + CROWD)
            print(f"open SII sessions after the server stopped: {still_open}")
    print("\nall targets met" if not failures else "\ntargets missed:\n  " + "\n  ".join(failures))


if __name__ == "__main__":
    main()
