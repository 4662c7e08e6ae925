"""A local emulator of SII's MIPYME portal and of its RCV backend (the Registro de Ventas,
:mod:`.register` and :mod:`.rcv`), for tests and for integrators working offline.

It reproduces what dtehub's SII client relies on (``docs/sii-emulator.md``): certificate login over TLS
with client certificates checked against its own **test-only** CA, SII's error codes, the three shapes of
the company selector, the listing with its folio-prefix quirk, the "respaldo" XML download with its
20-document cap, the PDF, logout and expiring sessions, plus faults to switch on and certificates to refuse
in the TLS handshake (:class:`Handshake`)::

    ca = TestCertificateAuthority.load_or_create(data_dir / "ca")
    pfx = ca.issue_person_certificate(rut="12345678-5", name="Juana Pérez", password=b"secret")
    with Emulator(data_dir) as emulator:
        emulator.base_url, emulator.ca_bundle
        emulator.faults.delay_seconds = 2.0
        emulator.handshake = Handshake(tls_version="1.3", refuse_expired=True)
"""

from dtehub.sii.emulator.certificates import RutPlacement, TestCertificateAuthority, holder_rut
from dtehub.sii.emulator.data import Company, EmulatorData, EmulatorDataError, Person, StoredDte
from dtehub.sii.emulator.handshake import Handshake, HandshakeError
from dtehub.sii.emulator.register import BoletaTotal, Entry, Register, RegisterError
from dtehub.sii.emulator.server import Emulator
from dtehub.sii.emulator.sessions import Faults

__all__ = [
    "BoletaTotal",
    "Company",
    "Emulator",
    "EmulatorData",
    "EmulatorDataError",
    "Entry",
    "Faults",
    "Handshake",
    "HandshakeError",
    "Person",
    "Register",
    "RegisterError",
    "RutPlacement",
    "StoredDte",
    "TestCertificateAuthority",
    "holder_rut",
]
