"""SII's authentication by seed and token, and the tokens kept per certificate.

``CrSeed.getSeed`` gives a seed (valid two minutes, single use); the seed goes in a small document,
``<getToken><item><Semilla>…</Semilla></item></getToken>``, signed whole with the person's certificate
(:func:`dtehub.dte.xmldsig.sign_document`); ``GetTokenFromSeed.getToken`` takes that document as a string and
answers a token, which every other service takes as the ``TOKEN`` cookie (or a ``Token`` parameter).

:class:`TokenCache` keeps one token per (service host, certificate) for
:attr:`~dtehub.sii.ws.config.WsConfig.token_lifetime` seconds, so a burst of calls logs in once; a token SII
refuses before then is replaced once (:meth:`TokenCache.token` with ``rejected``). Concurrent callers of the
same certificate wait for one login rather than each making their own.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

import httpx
from lxml import etree

from dtehub.dte.xmldsig import sign_document
from dtehub.sii.certificate import PersonCertificate
from dtehub.sii.ws import soap
from dtehub.sii.ws.config import WsConfig
from dtehub.sii.ws.errors import PersonNotRegistered, WsAuthRefused, WsUnavailable

SEED_PATH = "/DTEWS/CrSeed.jws"
TOKEN_PATH = "/DTEWS/GetTokenFromSeed.jws"  # noqa: S105 (a path, no secret)
SEED_TIMED_OUT = "08"
NOT_REGISTERED = "-07"

_SEED_ESTADOS = {
    "-1": "SII could not make a seed (ESTADO -1)",
    "-2": "SII could not return a seed (ESTADO -2)",
}
# What SII's token service means by each ESTADO, and whether it is SII's trouble (retry) or the signed seed's.
_TOKEN_ESTADOS: dict[str, tuple[str, bool]] = {
    "01": ("SII could not read the signed seed (ESTADO 01, IOException)", False),
    "02": ("SII could not read the signed seed (ESTADO 02, SAXException)", False),
    "03": ("SII could not read the signed seed (ESTADO 03, parser configuration)", False),
    "04": ("SII found no Signature in the signed seed (ESTADO 04)", False),
    "05": (
        "SII found the signature of the seed invalid (ESTADO 05): load the company's certificate again "
        "(its key may not be the certificate's)",
        False,
    ),
    "06": ("SII found no Semilla in the signed seed (ESTADO 06)", False),
    "07": ("SII had an internal error making the token (ESTADO 07)", True),
    "08": (
        "SII did not accept the seed (ESTADO 08: timed out, already used or unknown): check this "
        "server's clock and retry",
        False,
    ),
    "09": ("SII had an internal error making the token (ESTADO 09)", True),
    "10": ("SII could not make the token (ESTADO 10)", True),
    "11": ("SII found no certificate in the signed seed (ESTADO 11)", False),
    "12": ("SII had an internal error making the token (ESTADO 12)", True),
    "21": (
        "SII found that the signature's public key is not the certificate's (ESTADO 21): load the "
        "company's certificate again",
        False,
    ),
    "-3": ("SII refused the authentication (ESTADO -3): check that the certificate is valid at SII", False),
}


def seed_document(seed: str, certificate: PersonCertificate) -> str:
    """The signed seed, as the text ``getToken`` takes in ``pszXml``."""
    certificate.require_valid()
    root = etree.Element("getToken")
    item = etree.SubElement(root, "item")
    etree.SubElement(item, "Semilla").text = seed
    sign_document(root, certificate.key, certificate.certificate)
    return etree.tostring(root, encoding="unicode")


def get_seed(http: httpx.Client, config: WsConfig) -> str:
    operation = soap.Operation(config.ws_url + SEED_PATH, config.ws_url + SEED_PATH, "getSeed", encoded=True)
    answer = soap.respuesta(soap.call(http, operation, ()).text, "getSeed")
    estado, seed = soap.field(answer, "ESTADO"), soap.field(answer, "SEMILLA")
    if estado != "00" or not seed or not seed.isdigit():
        what = _SEED_ESTADOS.get(estado or "", f"SII answered getSeed with ESTADO {estado or 'none'}")
        raise WsUnavailable(f"{what}; retry later")
    return seed


def get_token(http: httpx.Client, config: WsConfig, certificate: PersonCertificate) -> str:
    """A new token for ``certificate``: a seed, signed, exchanged (a lapsed seed is asked again once)."""
    for attempt in range(2):
        seed = get_seed(http, config)
        url = config.ws_url + TOKEN_PATH
        operation = soap.Operation(url, url, "getToken", encoded=True)
        try:
            text = soap.call(http, operation, [("pszXml", seed_document(seed, certificate))]).text
        except soap.TokenRejected:
            raise WsUnavailable("SII's getToken refused the request outright; retry later") from None
        answer = soap.respuesta(text, "getToken")
        estado, token = soap.field(answer, "ESTADO"), soap.field(answer, "TOKEN")
        if estado == "00" and token:
            return token
        if estado == SEED_TIMED_OUT and attempt == 0:
            continue
        raise _token_refused(estado or "", soap.field(answer, "GLOSA"), certificate)
    raise AssertionError("unreachable: the second attempt returns or raises")


def _token_refused(estado: str, glosa: str | None, certificate: PersonCertificate) -> Exception:
    if estado in (NOT_REGISTERED, "-7"):
        return PersonNotRegistered(
            f"SII does not know {certificate.holder_rut} as a person who authenticates with a digital "
            "certificate (ESTADO -07): register the certificate at sii.cl (Mi SII, certificado digital) or "
            "store the certificate of a person SII knows",
            sii_code=estado,
        )
    known = _TOKEN_ESTADOS.get(estado)
    if known is not None and known[1]:
        return WsUnavailable(f"{known[0]}; retry later")
    if known is not None:
        return WsAuthRefused(known[0], sii_code=estado)
    said = f": {glosa[:120]}" if glosa else ""
    return WsAuthRefused(f"SII refused the token (ESTADO {estado or 'none'}{said})", sii_code=estado or None)


@dataclass
class _Token:
    value: str
    expires: float


class TokenCache:
    """Tokens per (service URL, certificate fingerprint), each used for the configured lifetime."""

    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self._clock = clock
        self._lock = threading.Lock()
        self._tokens: dict[tuple[str, str], _Token] = {}
        self._key_locks: dict[tuple[str, str], threading.Lock] = {}
        self.logins = 0
        """Tokens obtained from SII since this cache was made."""

    def token(
        self,
        http: httpx.Client,
        config: WsConfig,
        certificate: PersonCertificate,
        *,
        rejected: str | None = None,
    ) -> str:
        """A token for ``certificate``: the cached one while young and not ``rejected``, else a new one."""
        key = (config.ws_url, certificate.fingerprint)
        with self._lock:
            key_lock = self._key_locks.setdefault(key, threading.Lock())
        with key_lock:
            cached = self._tokens.get(key)
            if cached is not None and cached.value != rejected and self._clock() < cached.expires:
                return cached.value
            self._tokens.pop(key, None)
            value = get_token(http, config, certificate)
            self._tokens[key] = _Token(value, self._clock() + config.token_lifetime)
            with self._lock:
                self.logins += 1
            return value

    def clear(self) -> None:
        with self._lock:
            self._tokens.clear()


DEFAULT_TOKENS = TokenCache()
"""The process's tokens: the API's requests and a command's calls share them."""
