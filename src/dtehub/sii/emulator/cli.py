"""``dtehub sii-emulator``: run the SII emulator, make its test certificates, start a data directory.

What a program would read (the environment lines of ``serve``) goes to stdout; messages for people go
to stderr. A certificate's password is read from stdin, never taken as an argument, and never printed.
"""

from __future__ import annotations

import enum
import os
import signal
import sys
import threading
from pathlib import Path
from types import FrameType
from typing import Annotated

import typer
from cryptography.hazmat.primitives.serialization import pkcs12
from rich.console import Console

from dtehub.commands import CommandGroup, fail, usage_error
from dtehub.kit.rut import InvalidRut, normalize_rut
from dtehub.sii.emulator.certificates import TestCertificateAuthority
from dtehub.sii.emulator.data import (
    CA_DIR,
    CONFIG_FILE,
    DTES_DIR,
    EmulatorDataError,
    read_people,
    write_example,
)
from dtehub.sii.emulator.generate import DEFAULT_COMPANY
from dtehub.sii.emulator.generate import generate as generate_company
from dtehub.sii.emulator.handshake import ALERT_NAMES, Handshake, HandshakeError
from dtehub.sii.emulator.register import RCV_DIR
from dtehub.sii.emulator.server import Emulator

emulator_app = typer.Typer(
    help="A local emulator of SII's MIPYME portal (test CA only), for tests and offline integration.",
    no_args_is_help=True,
    cls=CommandGroup,
    pretty_exceptions_enable=False,
    pretty_exceptions_show_locals=False,
)
err = Console(stderr=True, highlight=False, soft_wrap=True)  # a path or a command stays on one line

DataDir = Annotated[
    Path, typer.Option("--data", help=f"The data directory ({CONFIG_FILE}, {DTES_DIR}/, {CA_DIR}/).")
]


class TlsVersion(enum.StrEnum):
    TLS12 = "1.2"
    TLS13 = "1.3"


class RutIn(enum.StrEnum):
    SAN = "san"
    SERIAL = "serial"
    NONE = "none"


class XmlKind(enum.StrEnum):
    NONE = "none"
    PLAIN = "plain"
    SIGNED = "signed"


@emulator_app.command()
def init(
    data: DataDir,
    generate: Annotated[
        int | None,
        typer.Option(
            help="Also make a company with this many issued documents in SII's register (rcv/).", min=1
        ),
    ] = None,
    months: Annotated[
        int, typer.Option(help="The months the generated documents span, up to today.", min=1)
    ] = 12,
    company: Annotated[str, typer.Option(help="The generated company's RUT.")] = DEFAULT_COMPANY,
    xml: Annotated[
        XmlKind,
        typer.Option(
            help="The generated documents' XML in the MIPYME portal (dtes/): none, plain or signed."
        ),
    ] = XmlKind.NONE,
    seed: Annotated[int, typer.Option(help="The same seed makes the same company.")] = 18,
) -> None:
    """Start a data directory: an example emulator.json, an empty dtes/ and the test CA; with --generate, a
    realistic company in SII's Registro de Ventas (and its XML in MIPYME with --xml)."""
    existed = (data / CONFIG_FILE).exists()
    config = write_example(data)
    authority = TestCertificateAuthority.load_or_create(data / CA_DIR)
    authority.server_credentials()
    err.print(
        f"{config} {'kept as it was' if existed else 'written'}; put DTE files (*.xml) in {data / DTES_DIR}"
    )
    if generate is not None:
        try:
            holder = normalize_rut(company)
        except InvalidRut as exc:
            usage_error(f"--company: {exc}")
        made = generate_company(
            data,
            generate,
            months,
            company=holder,
            xml=xml.value,
            seed=seed,
            progress=lambda done: err.print(f"  {done} XML documents…"),
        )
        types = ", ".join(f"{count} of type {code}" for code, count in made.by_type.items())
        err.print(
            f"Generated {made.documents} documents of {made.company} over {months} months in "
            f"{data / RCV_DIR} ({types}; {made.accepted} accepted, {made.claimed} claimed)"
            + (f", their XML in {made.xml_files} files in {data / DTES_DIR}" if made.xml_files else "")
            + "; 12345678-5 may represent it."
        )
    err.print(f"Test CA (for tests only, never trust it elsewhere): {authority.ca_bundle}")
    err.print(
        f"Next: dtehub sii-emulator make-cert --data {data} --rut 12345678-5 --name '...' --out cert.pfx"
    )


@emulator_app.command()
def serve(
    data: DataDir,
    host: Annotated[str, typer.Option(help="The address to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="The port (0: any free one).")] = 8443,
    tls_version: Annotated[
        TlsVersion,
        typer.Option(help="The highest TLS version: with 1.3 a refused certificate shows on the first read."),
    ] = TlsVersion.TLS12,
    trust_ca: Annotated[
        list[Path] | None,
        typer.Option(help="Also accept certificates of this CA (PEM); repeatable.", dir_okay=False),
    ] = None,
    require_certificate: Annotated[
        bool, typer.Option(help="Refuse a handshake without a certificate (not code 34).")
    ] = False,
    refuse_expired: Annotated[
        bool, typer.Option(help="Refuse certificates out of their dates in the handshake (not code 36).")
    ] = False,
    refuse_revoked: Annotated[
        bool, typer.Option(help="Refuse certificates in ca/revoked.json in the handshake (not code 35).")
    ] = False,
    refuse_all_with: Annotated[
        str | None,
        typer.Option(help="Refuse every handshake with this TLS alert, e.g. access_denied.", metavar="ALERT"),
    ] = None,
) -> None:
    """Serve the emulated SII over HTTPS until Ctrl-C."""
    if refuse_all_with is not None and refuse_all_with not in ALERT_NAMES:
        alerts = ", ".join(ALERT_NAMES)
        usage_error(f"--refuse-all-with: {refuse_all_with!r} is no TLS alert; one of: {alerts}")
    handshake = Handshake(
        tls_version="1.3" if tls_version is TlsVersion.TLS13 else "1.2",
        trusted_cas=tuple(trust_ca or ()),
        require_certificate=require_certificate,
        refuse_expired=refuse_expired,
        refuse_revoked=refuse_revoked,
        alert=refuse_all_with,
    )
    try:
        emulator = Emulator(data, host=host, port=port, handshake=handshake)
    except (EmulatorDataError, HandshakeError) as exc:
        fail(str(exc))
    for name, why in emulator.data.skipped:
        err.print(f"[yellow]skipped[/yellow] {name}: {why}")
    stop = threading.Event()

    def on_signal(number: int, frame: FrameType | None) -> None:
        stop.set()

    try:
        emulator.start()
    except OSError as exc:
        fail(f"cannot listen on {host}:{port}: {exc.strerror or exc}")
    with emulator:
        # Ctrl-C stops it even when started from a script's background job, which starts with SIGINT
        # ignored (Python then leaves it ignored). Installed before the settings are announced: whoever
        # reads them may stop the emulator at once.
        previous = {number: signal.signal(number, on_signal) for number in (signal.SIGTERM, signal.SIGINT)}
        err.print(
            f"SII emulator on {emulator.base_url}: {len(emulator.data.documents)} DTEs, "
            f"{emulator.register.count()} documents in the RCV, "
            f"{len(emulator.data.people)} people. Ctrl-C stops it."
        )
        sys.stdout.write(
            f"DTEHUB_SII_AUTH_URL={emulator.base_url}\n"
            f"DTEHUB_SII_PORTAL_URL={emulator.base_url}\n"
            f"DTEHUB_SII_LOGOUT_URL={emulator.base_url}\n"
            f"DTEHUB_SII_RCV_URL={emulator.base_url}\n"
            f"DTEHUB_SII_CA_BUNDLE={Path(emulator.ca_bundle).resolve()}\n"  # to paste anywhere
            f"DTEHUB_SII_WS_URL={emulator.base_url}\n"
            f"DTEHUB_SII_RECLAMO_URL={emulator.base_url}\n"
        )
        sys.stdout.flush()
        try:
            while not stop.wait(0.5):  # short waits keep Ctrl-C prompt on every platform
                pass
        finally:
            for number, handler in previous.items():
                signal.signal(number, handler)
    err.print("SII emulator stopped.")


@emulator_app.command("make-cert")
def make_cert(
    data: DataDir,
    rut: Annotated[str, typer.Option(help="The holder's RUT, e.g. 12345678-5.")],
    name: Annotated[str, typer.Option(help="The holder's name (the certificate's CN).")],
    out: Annotated[Path, typer.Option(help="Where to write the PKCS#12 file; an existing one is kept.")],
    expired: Annotated[bool, typer.Option(help="Dated in the past: the login answers code 36.")] = False,
    not_yet_valid: Annotated[bool, typer.Option(help="Valid from tomorrow: code 36 too.")] = False,
    revoked: Annotated[bool, typer.Option(help="Added to ca/revoked.json: code 35.")] = False,
    legacy_rc2: Annotated[
        bool, typer.Option(help="Legacy RC2-40 encryption, as many real certificates (needs openssl 3).")
    ] = False,
    rut_in: Annotated[
        RutIn, typer.Option(help="Where the RUT goes: subjectAltName, serialNumber, nowhere.")
    ] = (RutIn.SAN),
) -> None:
    """Issue a person certificate from the emulator's test CA; the password is read from stdin.

    The person logs in only when emulator.json lists it under "people": edit that file yourself.
    """
    try:
        holder = normalize_rut(rut)
    except InvalidRut as exc:
        usage_error(str(exc))
    if out.exists():
        fail(f"{out} exists; remove it first or choose another --out")
    password = _read_password()
    authority = TestCertificateAuthority.load_or_create(data / CA_DIR)
    pfx = authority.issue_person_certificate(
        rut=holder,
        name=name,
        password=password,
        expired=expired,
        not_yet_valid=not_yet_valid,
        revoked=revoked,
        legacy_rc2=legacy_rc2,
        rut_in=rut_in.value,
    )
    descriptor = os.open(out, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(descriptor, "wb") as file:
        file.write(pfx)
    _, certificate, _ = pkcs12.load_key_and_certificates(pfx, password)
    assert certificate is not None
    err.print(
        f"Wrote {out}: test certificate of {holder} ({name}), serial {certificate.serial_number:X}, "
        f"valid {certificate.not_valid_before_utc:%Y-%m-%d} to {certificate.not_valid_after_utc:%Y-%m-%d}"
        + (", revoked" if revoked else "")
        + (", legacy RC2-40" if legacy_rc2 else "")
        + "."
    )
    if not _is_listed(data, holder):
        err.print(f"Note: {holder} is not among the people in {data / CONFIG_FILE}; add it there to log in.")


def _read_password() -> bytes:
    """A prompt on a terminal; otherwise the first line of stdin (for scripts and tests)."""
    if sys.stdin.isatty():
        text = typer.prompt("Password for the PKCS#12 file", hide_input=True, confirmation_prompt=True)
    else:
        text = sys.stdin.readline().rstrip("\r\n")
    if not text:
        usage_error("no password given (stdin was empty)")
    return str(text).encode("utf-8")


def _is_listed(data: Path, rut: str) -> bool:
    try:
        return rut in read_people(data)
    except EmulatorDataError:
        return False
