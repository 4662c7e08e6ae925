"""Authentication by seed and token against the emulator over TLS: tokens kept per certificate, renewed
before they lapse and when SII refuses them; each of SII's refusals in words a person can act on."""

from __future__ import annotations

import logging
import socket
from pathlib import Path

import httpx
import pytest
from lxml import etree

from dtehub.kit.xml import parse_untrusted
from dtehub.sii.certificate import load_pfx
from dtehub.sii.emulator import Emulator, TestCertificateAuthority
from dtehub.sii.errors import CertificateExpired, SiiUnavailable
from dtehub.sii.ws import auth, soap
from dtehub.sii.ws.auth import TokenCache, seed_document
from dtehub.sii.ws.client import WsClient, trust
from dtehub.sii.ws.config import WsConfig
from dtehub.sii.ws.errors import PersonNotRegistered, WsAuthRefused, WsUnavailable
from dtehub.sii.ws.reclamo import cedibility
from tests.sii.ws.conftest import PASSWORD, People, received_invoice


def test_a_token_is_asked_once_and_reused(sii: Emulator, seller_ws: WsClient, tokens: TokenCache) -> None:
    before = sii.ws.tokens.tokens
    first = seller_ws.token()
    assert seller_ws.token() == first
    assert sii.ws.tokens.tokens - before == 1
    assert tokens.logins == 1


def test_tokens_are_kept_per_certificate(ws_config: WsConfig, people: People, tokens: TokenCache) -> None:
    with (
        WsClient(ws_config, people.seller, tokens=tokens) as a,
        WsClient(ws_config, people.buyer, tokens=tokens) as b,
    ):
        assert a.token() != b.token()
        assert a.token() == a.token()
    assert tokens.logins == 2


def test_a_token_is_renewed_before_it_lapses(sii: Emulator, ws_config: WsConfig, people: People) -> None:
    now = [1000.0]
    tokens = TokenCache(clock=lambda: now[0])
    with WsClient(ws_config, people.seller, tokens=tokens) as client:
        first = client.token()
        now[0] += ws_config.token_lifetime - 1
        assert client.token() == first
        now[0] += 2
        second = client.token()
    assert second != first
    assert tokens.logins == 2


def test_a_token_sii_refuses_is_renewed_once_and_the_call_made_again(
    sii: Emulator, seller_ws: WsClient
) -> None:
    document = received_invoice(sii)
    first = seller_ws.token()
    sii.ws.tokens.expire_all()  # SII forgets every token before our lifetime is over

    assert cedibility(seller_ws, document).code == 22
    assert seller_ws.token() != first
    assert seller_ws.tokens.logins == 2


def test_a_token_refused_twice_is_an_error_that_says_what_to_check(
    sii: Emulator, seller_ws: WsClient
) -> None:
    document = received_invoice(sii)
    calls = []

    def refused(token: str) -> None:
        calls.append(token)
        raise soap.TokenRejected("listarEventosHistDoc")

    with pytest.raises(WsAuthRefused, match="same environment"):
        seller_ws.authorized(refused)
    assert len(calls) == 2
    assert calls[0] != calls[1]
    assert cedibility(seller_ws, document).code == 22  # the client still works


def test_a_person_sii_does_not_know_is_told_to_register_the_certificate(
    sii: Emulator, ws_config: WsConfig, people: People, tokens: TokenCache
) -> None:
    with (
        WsClient(ws_config, people.unregistered, tokens=tokens) as client,
        pytest.raises(PersonNotRegistered) as caught,
    ):
        client.token()
    assert "13131313-6" in caught.value.message
    assert "register the certificate" in caught.value.message
    assert caught.value.sii_code == "-07"


def test_a_seed_that_timed_out_is_asked_again_once_then_reported(sii: Emulator, seller_ws: WsClient) -> None:
    sii.ws.faults.seed_seconds = 0  # every seed has lapsed by the time its signed copy arrives
    seeds = sii.ws.tokens.seeds
    with pytest.raises(WsAuthRefused, match=r"ESTADO 08.*clock"):
        seller_ws.token()
    assert sii.ws.tokens.seeds - seeds == 2


@pytest.mark.parametrize(
    ("estado", "error", "words"),
    [
        ("05", WsAuthRefused, "signature of the seed invalid"),
        ("21", WsAuthRefused, "public key is not the certificate's"),
        ("-3", WsAuthRefused, "refused the authentication"),
        ("04", WsAuthRefused, "no Signature"),
        ("06", WsAuthRefused, "no Semilla"),
        ("11", WsAuthRefused, "no certificate"),
        ("07", WsUnavailable, "internal error.*retry later"),
        ("10", WsUnavailable, "could not make the token.*retry later"),
        ("99", WsAuthRefused, "ESTADO 99"),
    ],
)
def test_each_refusal_of_the_token_service_says_what_it_means(
    sii: Emulator, seller_ws: WsClient, estado: str, error: type[Exception], words: str
) -> None:
    sii.ws.faults.token_estado = estado
    with pytest.raises(error, match=words):
        seller_ws.token()


@pytest.mark.parametrize("estado", ["-1", "-2"])
def test_a_seed_sii_cannot_make_is_a_retry_later(sii: Emulator, seller_ws: WsClient, estado: str) -> None:
    sii.ws.faults.seed_estado = estado
    with pytest.raises(WsUnavailable, match=f"ESTADO {estado}.*retry later"):
        seller_ws.token()


def test_sii_in_maintenance_is_a_retry_later(sii: Emulator, seller_ws: WsClient) -> None:
    sii.faults.unavailable = True
    with pytest.raises(WsUnavailable, match=r"not XML.*retry later"):
        seller_ws.token()


def test_sii_out_of_reach_names_the_setting(people: People, tokens: TokenCache) -> None:
    with socket.socket() as probe:  # a port nobody listens on
        probe.bind(("127.0.0.1", 0))
        unused_port = probe.getsockname()[1]
    config = WsConfig(ws_url=f"https://127.0.0.1:{unused_port}", reclamo_url="https://127.0.0.1:1", timeout=2)
    with (
        WsClient(config, people.seller, tokens=tokens) as client,
        pytest.raises(SiiUnavailable, match="DTEHUB_SII_WS_URL"),
    ):
        client.token()


def test_an_expired_certificate_never_reaches_sii(
    sii: Emulator, ws_config: WsConfig, ws_data: Path, tokens: TokenCache
) -> None:
    authority = TestCertificateAuthority.load_or_create(ws_data / "ca")
    expired = load_pfx(
        authority.issue_person_certificate(
            rut="12345678-5", name="V", password=PASSWORD.encode(), expired=True
        ),
        PASSWORD,
    )
    seeds = sii.ws.tokens.seeds
    with WsClient(ws_config, expired, tokens=tokens) as client, pytest.raises(CertificateExpired):
        client.token()
    assert sii.ws.tokens.seeds - seeds <= 1  # at most the seed; no token asked with it


# --- the emulator judges the signed seed as SII does -----------------------------------------------------


def _get_token(config: WsConfig, pszxml: str) -> str:
    url = config.ws_url + auth.TOKEN_PATH
    with httpx.Client(verify=trust(config.ca_bundle)) as http:
        answer = soap.respuesta(
            soap.call(http, soap.Operation(url, url, "getToken", True), [("pszXml", pszxml)]).text, "t"
        )
    return soap.field(answer, "ESTADO") or ""


def _fresh_seed(config: WsConfig) -> str:
    with httpx.Client(verify=trust(config.ca_bundle)) as http:
        return auth.get_seed(http, config)


def test_the_emulator_refuses_a_tampered_seed_document(
    sii: Emulator, ws_config: WsConfig, people: People
) -> None:
    signed = seed_document(_fresh_seed(ws_config), people.seller)
    root = parse_untrusted(signed.encode(), max_bytes=100_000)
    semilla = root.find("item/Semilla")
    assert semilla is not None
    assert semilla.text is not None
    semilla.text = str(int(semilla.text) + 1)  # a seed it did not sign
    assert _get_token(ws_config, etree.tostring(root, encoding="unicode")) == "05"


def test_the_emulator_refuses_an_unsigned_seed_and_one_without_semilla(
    sii: Emulator, ws_config: WsConfig
) -> None:
    seed = _fresh_seed(ws_config)
    assert _get_token(ws_config, f"<getToken><item><Semilla>{seed}</Semilla></item></getToken>") == "04"
    assert _get_token(ws_config, "<getToken><item/></getToken>") == "06"
    assert _get_token(ws_config, "<getToken><item>") == "02"


def test_the_emulator_compares_seeds_as_numbers_and_uses_each_once(
    sii: Emulator, ws_config: WsConfig, people: People
) -> None:
    seed = _fresh_seed(ws_config)
    unpadded = str(int(seed))  # LibreDTE signs the seed without its zeros: SII takes it
    assert _get_token(ws_config, seed_document(unpadded, people.seller)) == "00"
    assert _get_token(ws_config, seed_document(seed, people.seller)) == "08"  # used already


def test_no_token_or_signature_reaches_the_logs(
    sii: Emulator, seller_ws: WsClient, caplog: pytest.LogCaptureFixture
) -> None:
    document = received_invoice(sii)
    with caplog.at_level(logging.DEBUG):
        token = seller_ws.token()
        cedibility(seller_ws, document)
        sii.ws.tokens.expire_all()
        cedibility(seller_ws, document)
        renewed = seller_ws.token()
    logged = "\n".join(record.getMessage() for record in caplog.records)
    assert token not in logged
    assert renewed not in logged
    assert "SignatureValue" not in logged
    assert "PRIVATE KEY" not in logged
    assert repr(seller_ws.certificate).startswith("PersonCertificate(holder_rut=")
