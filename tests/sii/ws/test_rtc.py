"""The RTC, client and emulator together over TLS: an AEC uploaded with a token, its track id followed to
acceptance (the cession registered) or to each of SII's rejections, in words."""

from __future__ import annotations

from datetime import date, datetime, timedelta

import pytest

from dtehub.dte.aec import Party, Signer, Terms, build_aec, build_recession, ceded_dte
from dtehub.sii.certificate import PersonCertificate
from dtehub.sii.emulator import Emulator
from dtehub.sii.errors import InvalidRequest
from dtehub.sii.ws.client import WsClient
from dtehub.sii.ws.errors import WsDocumentUnknown, WsNotAuthorized
from dtehub.sii.ws.reclamo import DocumentRef, register_event
from dtehub.sii.ws.rtc import PERIOD_PATH, Outcome, ceded, period_cessions, read_period, status, upload
from tests.dte_factory import build_dte
from tests.sii.ws.conftest import BUYER, SELLER, SELLER_PERSON, People, next_folio

ASSIGNEE = Party("77665544-9", "FACTORING CAPITAL SPA", "Av. Apoquindo 4000, Las Condes", "ops@factoring.cl")
ASSIGNOR = Party(SELLER, "VENDEDORA SPA", "Calle Larga 123, Santiago", "cobranza@vendedora.cl")
TOTAL = 1_190_000


def signer(person: PersonCertificate) -> Signer:
    return Signer(person.key, person.certificate, person.holder_rut, person.holder_name)


def aec_of(
    sii: Emulator,
    person: PersonCertificate,
    *,
    received: bool = True,
    folio: int | None = None,
    **changes: object,
) -> tuple[bytes, int]:
    """An AEC of a new invoice of the seller (SII received it 9 days ago: cedible), signed by ``person``."""
    folio = folio if folio is not None else next_folio()
    issued = sii.acceptances.now().date() - timedelta(days=10)
    dte = build_dte(33, folio, SELLER, BUYER, TOTAL, issue_date=issued, signed=True)
    if received:
        sii.acceptances.receive(SELLER, 33, folio, BUYER, at=sii.acceptances.now() - timedelta(days=9))
    values: dict[str, object] = {
        "assignor": ASSIGNOR,
        "assignee": ASSIGNEE,
        "amount": TOTAL,
        "last_due_date": issued + timedelta(days=30),
        "signed_at": sii.acceptances.now().replace(microsecond=0) - timedelta(minutes=1),
    }
    values.update(changes)
    return build_aec(ceded_dte(dte), Terms(**values), signer(person)), folio  # type: ignore[arg-type]


def test_an_accepted_cession_is_followed_through_sii_s_pipeline_and_registered(
    sii: Emulator, seller_ws: WsClient, people: People
) -> None:
    sii.rtc.processing_queries = 2
    data, folio = aec_of(sii, people.seller)

    sent = upload(seller_ws, SELLER, "cobranza@vendedora.cl", f"AEC_T33F{folio}.xml", data)

    first, second, final = (status(seller_ws, sent.track_id) for _ in range(3))
    assert (first.outcome, first.code) == (Outcome.PENDING, "RCP")
    assert (second.outcome, second.code) == (Outcome.PENDING, "SOK")
    assert (final.outcome, final.code) == (Outcome.ACCEPTED, "EOK")
    assert "registered" in final.meaning
    [registered] = sii.rtc.cessions((SELLER, 33, folio))
    assert (registered.assignor, registered.assignee, registered.amount) == (SELLER, ASSIGNEE.rut, TOTAL)
    assert registered.track_id == sent.track_id
    upload_seen = sii.rtc.upload(sent.track_id)
    assert upload_seen is not None
    assert upload_seen.person == SELLER_PERSON

    assert ceded(seller_ws, SELLER, 33, folio) is True
    assert ceded(seller_ws, SELLER, 33, next_folio()) is False

    sii.rtc.processing_queries = 0
    again = upload(seller_ws, SELLER, "cobranza@vendedora.cl", "again.xml", data)
    rejected = status(seller_ws, again.track_id)
    assert (rejected.outcome, rejected.code) == (Outcome.REJECTED, "RCS")
    assert "ya estan registradas" in rejected.description


def reject_code(seller_ws: WsClient, data: bytes) -> tuple[str, str]:
    sent = upload(seller_ws, SELLER, "cobranza@vendedora.cl", "aec.xml", data)
    state = status(seller_ws, sent.track_id)
    assert state.outcome is Outcome.REJECTED
    return state.code, state.meaning


def test_a_document_sii_has_not_received_is_rejected(
    sii: Emulator, seller_ws: WsClient, people: People
) -> None:
    data, _ = aec_of(sii, people.seller, received=False)
    code, meaning = reject_code(seller_ws, data)
    assert code == "RDC"
    assert "no ha sido recibido" in meaning


def test_a_claimed_invoice_is_rejected(
    sii: Emulator, seller_ws: WsClient, buyer_ws: WsClient, people: People
) -> None:
    folio = next_folio()
    sii.acceptances.receive(SELLER, 33, folio, BUYER, at=sii.acceptances.now() - timedelta(days=1))
    register_event(buyer_ws, DocumentRef(SELLER, 33, folio), "RFT")
    data, _ = aec_of(sii, people.seller, received=False, folio=folio)
    code, meaning = reject_code(seller_ws, data)
    assert code == "RDC"
    assert "no es cedible (codigo 24)" in meaning


def test_a_changed_file_fails_the_covers_signature(
    sii: Emulator, seller_ws: WsClient, people: People
) -> None:
    data, _ = aec_of(sii, people.seller, amount=1_000_000)
    tampered = data.replace(b"<MontoCesion>1000000<", b"<MontoCesion>1100000<")
    assert reject_code(seller_ws, tampered)[0] == "RFS"


def test_a_file_that_is_not_an_aec_fails_the_schema(seller_ws: WsClient) -> None:
    assert reject_code(seller_ws, b"<?xml version='1.0'?><AEC/>")[0] == "RSC"


def test_a_cover_whose_assignor_is_not_the_uploading_company_is_rejected(
    sii: Emulator, seller_ws: WsClient, people: People
) -> None:
    # Every signature holds; the seller uploads a file that says another company cedes the invoice.
    other = Party(BUYER, "COMPRADORA SA", "Av. Providencia 1234, Santiago", "pagos@compradora.cl")
    data, _ = aec_of(sii, people.seller, assignor=other)
    code, meaning = reject_code(seller_ws, data)
    assert code == "RCR"
    assert f"RutCedente {BUYER}" in meaning
    assert SELLER in meaning


def test_sii_s_cession_rules_reject_a_due_date_before_the_issue(
    sii: Emulator, seller_ws: WsClient, people: People
) -> None:
    data, _ = aec_of(sii, people.seller, last_due_date=date(2020, 1, 1))
    code, meaning = reject_code(seller_ws, data)
    assert code == "RCS"
    assert "ultimo vencimiento" in meaning


def test_a_cession_dated_in_the_future_is_rejected(
    sii: Emulator, seller_ws: WsClient, people: People
) -> None:
    data, _ = aec_of(sii, people.seller, signed_at=datetime.combine(date(2049, 1, 1), datetime.min.time()))
    assert reject_code(seller_ws, data)[0] == "RCS"


def test_a_cession_signed_by_someone_rutautorizado_does_not_name_is_rejected(
    sii: Emulator, seller_ws: WsClient, people: People
) -> None:
    outsider = people.outsider
    folio = next_folio()
    sii.acceptances.receive(SELLER, 33, folio, BUYER, at=sii.acceptances.now() - timedelta(days=9))
    issued = sii.acceptances.now().date() - timedelta(days=10)
    dte = build_dte(33, folio, SELLER, BUYER, TOTAL, issue_date=issued, signed=True)
    terms = Terms(
        ASSIGNOR, ASSIGNEE, TOTAL, issued + timedelta(days=30), sii.acceptances.now() - timedelta(hours=1)
    )
    # Every signature holds, but the list names the seller's person while the outsider signed.
    lying = Signer(outsider.key, outsider.certificate, SELLER_PERSON, "VERA VENDEDORA")
    code, meaning = reject_code(seller_ws, build_aec(ceded_dte(dte), terms, lying))
    assert code == "RCS"
    assert outsider.holder_rut in meaning
    assert "RUTAutorizado" in meaning


def test_the_upload_is_refused_for_a_company_the_person_does_not_act_for(
    sii: Emulator, buyer_ws: WsClient, people: People
) -> None:
    data, _ = aec_of(sii, people.seller)
    with pytest.raises(WsNotAuthorized, match="STATUS 1"):
        upload(buyer_ws, SELLER, "x@compradora.cl", "aec.xml", data)
    with pytest.raises(WsNotAuthorized, match="STATUS 6"):
        upload(buyer_ws, "96790240-3", "x@compradora.cl", "aec.xml", data)


def test_an_empty_file_and_an_unknown_track_id_are_said_in_words(seller_ws: WsClient) -> None:
    with pytest.raises(InvalidRequest, match="size"):
        upload(seller_ws, SELLER, "cobranza@vendedora.cl", "aec.xml", b"")
    with pytest.raises(WsDocumentUnknown, match="track id 1"):
        status(seller_ws, 1)


def test_a_token_sii_no_longer_takes_is_replaced_once(
    sii: Emulator, seller_ws: WsClient, people: People
) -> None:
    data, _ = aec_of(sii, people.seller)
    seller_ws.token()
    sii.ws.tokens.expire_all()
    sent = upload(seller_ws, SELLER, "cobranza@vendedora.cl", "aec.xml", data)
    sii.ws.tokens.expire_all()
    assert status(seller_ws, sent.track_id).outcome is Outcome.ACCEPTED


def test_the_holder_cedes_onwards_and_sii_registers_the_chain(
    sii: Emulator, seller_ws: WsClient, buyer_ws: WsClient, people: People
) -> None:
    holder = Party(BUYER, "COMPRADORA SA", "Av. Libertador 1000, Santiago", "finanzas@compradora.cl")
    first, folio = aec_of(sii, people.seller, assignee=holder)
    onwards = Terms(
        holder, ASSIGNEE, 1_000_000, sii.acceptances.now().date() + timedelta(days=20),
        sii.acceptances.now().replace(microsecond=0) - timedelta(seconds=30),
    )  # fmt: skip
    second = build_recession(first, onwards, signer(people.buyer))

    # Uploaded before the first one is registered: its first cession is not SII's.
    early = upload(buyer_ws, BUYER, "finanzas@compradora.cl", "aec2.xml", second)
    refused = status(buyer_ws, early.track_id)
    assert (refused.code, "no esta registrada" in refused.description) == ("RCS", True)

    assert status(seller_ws, upload(seller_ws, SELLER, "c@v.cl", "aec1.xml", first).track_id).code == "EOK"
    sent = upload(buyer_ws, BUYER, "finanzas@compradora.cl", "aec2.xml", second)
    assert status(buyer_ws, sent.track_id).code == "EOK"
    chain = sii.rtc.cessions((SELLER, 33, folio))
    assert [(c.seq, c.assignor, c.assignee) for c in chain] == [(1, SELLER, BUYER), (2, BUYER, ASSIGNEE.rut)]


def test_the_period_listing_is_sii_s_csv_and_is_read_back(
    sii: Emulator, seller_ws: WsClient, people: People
) -> None:
    holder = Party(BUYER, "COMPRADORA SA", "Av. Libertador 1000, Santiago", "finanzas@compradora.cl")
    data, folio = aec_of(sii, people.seller, assignee=holder)
    assert status(seller_ws, upload(seller_ws, SELLER, "c@v.cl", "aec.xml", data).track_id).code == "EOK"
    today = sii.acceptances.now().date()

    response = seller_ws.http.post(
        seller_ws.config.ws_url + PERIOD_PATH,
        data={"TIPOCONSULTA": "1", "TXTXML": "TXT", "DESDE": f"{today:%d%m%Y}", "HASTA": f"{today:%d%m%Y}",
              "rutCompany": SELLER.split("-")[0], "dvCompany": SELLER.split("-")[1]},
        headers={"Cookie": f"TOKEN={seller_ws.token()}"},
    )  # fmt: skip
    lines = response.content.decode("iso-8859-1").split("\r\n")
    assert lines[0] == (
        f"DATOS_CONSULTA; RUT={SELLER};TIPO_CONSULTA=CEDENTE;DESDE_DDMMAAAA={today:%d%m%Y};"
        f"HASTA_DDMMAAAA={today:%d%m%Y}"
    )
    assert lines[1].startswith("VENDEDOR;ESTADO_CESION;DEUDOR;MAIL_DEUDOR;TIPO_DOC;")
    [row] = [line for line in lines[2:] if f";33;Factura Electronica;{folio};" in line]
    assert row.startswith(f"{SELLER};Cesion Vigente;{BUYER};")

    # The buyer's listing of the cessions made to it reads the same cession back.
    with WsClient(seller_ws.config, people.buyer, tokens=seller_ws.tokens) as buyer_ws:
        listing = period_cessions(buyer_ws, BUYER, today, today)
    [read] = [c for c in listing.cessions if c.folio == folio]
    assert (read.issuer_rut, read.type_code, read.assignor_rut, read.assignee_rut) == (
        SELLER,
        33,
        SELLER,
        BUYER,
    )
    assert (read.amount, read.total, read.assignee_name) == (TOTAL, TOTAL, "COMPRADORA SA")
    with pytest.raises(WsNotAuthorized, match="may not list the cessions"):
        period_cessions(seller_ws, BUYER, today, today)


def test_several_e_mails_in_one_field_are_read_as_one() -> None:
    text = (
        "VENDEDOR;ESTADO_CESION;DEUDOR;MAIL_DEUDOR;TIPO_DOC;NOMBRE_DOC;FOLIO_DOC;FCH_EMIS_DTE;MNT_TOTAL;CEDENTE;"
        "RZ_CEDENTE;MAIL_CEDENTE;CESIONARIO;RZ_CESIONARIO;MAIL_CESIONARIO;FCH_CESION;MNT_CESION;FCH_VENCIMIENTO\n"
        "76399752-9;Cesion Vigente;81675600-6;a@b.cl;33;Factura Electronica;170;2026-11-02;119000;76399752-9;"
        "VENDEDORA SPA;c@v.cl;77665544-9;FACTORING SPA;x@f.cl;y@f.cl;2026-11-10 14:31;119000;2026-12-31\n"
        "no;es;una;fila\n"
    )
    listing = read_period(text)
    [cession] = listing.cessions
    assert (cession.folio, cession.ceded_at, cession.last_due_date) == (
        170,
        datetime(2026, 11, 10, 14, 31),
        date(2026, 12, 31),
    )
    assert listing.unreadable == ["line 3: 4 fields where the listing has 18"]
