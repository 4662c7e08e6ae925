"""The emulated RCV backend over real TLS: the facade methods, their codes and quirks, the CSV export
(read back with cl-sii), the asynchronous export, states that change with time, and the faults."""

from __future__ import annotations

import gzip
import json
import shutil
import time
from collections.abc import Iterator
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from cl_sii.rcv.parse_csv import parse_rcv_venta_csv_file
from cl_sii.rut import Rut

from dtehub.sii.emulator import Emulator
from dtehub.sii.emulator.register import BoletaTotal, Entry, write_register
from tests.sii.emulator.browser import Browser
from tests.sii.emulator.conftest import BATA, JUANA, MIPYME, PEDRO, Certificates

FACADE = "/consdcvinternetui/services/data/facadeService"
NAMESPACE = "cl.sii.sdi.lob.diii.consdcv.data.api.interfaces.FacadeService"
ACCEPT = "application/json, text/plain, */*"
NOW = datetime(2026, 9, 20, 12, 0)
CUSTOMER = "81675600-6"


def _entry(code: int, folio: int, day: int, total: int, **extra: Any) -> Entry:
    net = round(total / 1.19) if code != 34 else 0
    return Entry(
        type_code=code, folio=folio, issue_date=date(2026, 9, day), customer_rut=CUSTOMER,
        customer_name="CLIENTE ÑUÑOA SPA", exempt=total if code == 34 else 0, net=net,
        vat=total - net if code != 34 else 0, total=total,
        **{"received_at": datetime(2026, 9, day, 10, 30), **extra},
    )  # fmt: skip


ENTRIES = [
    _entry(33, 101, 1, 119_000, accepted_at=datetime(2026, 9, 3, 9, 0)),
    _entry(33, 102, 2, 238_000, claimed_at=datetime(2026, 9, 4, 16, 0), claim_event="RFT"),
    _entry(33, 103, 5, 11_900),  # more than 8 days ago, neither: tacitly accepted
    _entry(33, 104, 15, 59_500),  # received 5 days ago: nothing yet
    _entry(33, 105, 18, 1_190, accepted_at=datetime(2026, 9, 22, 9, 0)),  # accepted in two days
    _entry(34, 201, 3, 50_000),
    _entry(61, 301, 10, 11_900, ref_type=33, ref_folio=101),
    _entry(33, 106, 19, 2_380, received_at=datetime(2026, 9, 21, 8, 0)),  # SII receives it tomorrow
]


@pytest.fixture(scope="module")
def rcv_emulator(data_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Emulator]:
    directory = tmp_path_factory.mktemp("rcv-emulator")
    shutil.copytree(data_dir / "ca", directory / "ca")
    shutil.copy(data_dir / "emulator.json", directory / "emulator.json")
    write_register(directory / "rcv", MIPYME, ENTRIES, [BoletaTotal("202609", 39, 120, 0, 1000, 190, 1190)])
    with Emulator(directory) as emulator:
        yield emulator


@pytest.fixture
def rcv(rcv_emulator: Emulator) -> Iterator[Emulator]:
    rcv_emulator.register.set_clock(lambda: NOW)
    yield rcv_emulator
    rcv_emulator.faults.reset()


@pytest.fixture
def juana(rcv: Emulator, certificates: Certificates) -> Iterator[Browser]:
    with Browser(rcv, certificates.pem(JUANA)) as browser:
        browser.login()
        yield browser


def call(
    browser: Browser,
    method: str,
    data: dict[str, Any],
    *,
    conversation: str | None = None,
    accept: str = ACCEPT,
    namespace: str | None = None,
) -> httpx.Response:
    token = browser.client.cookies.get("TOKEN")
    envelope = {
        "metaData": {
            "namespace": namespace or f"{NAMESPACE}/{method}",
            "conversationId": token if conversation is None else conversation,
            "transactionId": "0",
            "page": None,
        },
        "data": data,
    }
    return browser.client.post(
        f"{FACADE}/{method}",
        content=json.dumps(envelope),
        headers={"Accept": accept, "Content-Type": "application/json"},
    )


def query(period: str = "202609", company: str = MIPYME, **extra: Any) -> dict[str, Any]:
    number, dv = company.split("-")
    return {"rutEmisor": number, "dvEmisor": dv, "ptributario": period, "estadoContab": "REGISTRO",
            "operacion": "VENTA", **extra}  # fmt: skip


def state(response: httpx.Response) -> tuple[int, str | None]:
    assert response.status_code == 200, response.text
    body = response.json()
    return body["respEstado"]["codRespuesta"], body["respEstado"]["msgeRespuesta"]


def test_the_summary_has_a_row_per_type_and_the_boletas_as_a_monthly_total(juana: Browser) -> None:
    response = call(juana, "getResumen", query(busquedaInicial=True))

    assert state(response) == (0, None)
    body = response.json()
    rows = {row["rsmnTipoDocInteger"]: row for row in body["data"]}
    assert sorted(rows) == [33, 34, 39, 61]
    assert rows[33]["rsmnTotDoc"] == 5  # 106 is not received yet
    assert rows[33]["rsmnMntTotal"] == 119_000 + 238_000 + 11_900 + 59_500 + 1_190
    assert (rows[33]["dcvTipoIngresoDoc"], rows[33]["rsmnLink"]) == ("DET_ELE", True)
    assert (rows[39]["dcvTipoIngresoDoc"], rows[39]["rsmnLink"], rows[39]["rsmnTotDoc"]) == (
        "RESUMEN",
        False,
        120,
    )
    assert body["totDocRes"] == 5 + 1 + 1 + 120
    assert body["metaData"]["conversationId"] == juana.client.cookies["TOKEN"]
    assert body["dataCabecera"]["dcvFecModificacion"] == "18/09/2026 10:30:00"  # 105 received


def test_an_empty_period_or_the_purchases_answer_code_3_without_data(juana: Browser) -> None:
    for data in (query("202608"), query(operacion="COMPRA")):
        response = call(juana, "getResumen", data)
        assert state(response) == (3, None)
        assert response.json()["data"] is None


def test_the_detail_carries_every_det_key_with_sii_s_types_and_the_receiver_s_events(juana: Browser) -> None:
    response = call(juana, "getDetalleVenta", query(codTipoDoc="33", accionRecaptcha="RCV_DETV",
                                                   tokenRecaptcha="t-o-k-e-n-web"))  # fmt: skip

    assert state(response) == (0, None)
    rows = {row["detNroDoc"]: row for row in response.json()["data"]}
    assert sorted(rows) == [101, 102, 103, 104, 105]
    accepted = rows[101]
    assert (accepted["detRutDoc"], accepted["detDvDoc"], accepted["detTipoDoc"]) == (81675600, "6", 33)
    assert (accepted["detFchDoc"], accepted["detFecRecepcion"]) == ("01/09/2026", "01/09/2026 10:30:00")
    assert (accepted["detFecAcuse"], accepted["detFecReclamado"]) == ("03/09/2026 09:00:00", None)
    assert (accepted["detMntNeto"], accepted["detMntIVA"], accepted["detMntTotal"]) == (
        100_000,
        19_000,
        119_000,
    )
    assert accepted["detRznSoc"] == "CLIENTE ÑUÑOA SPA"
    assert accepted["detEventoReceptor"] == "C"
    assert rows[102]["detFecReclamado"] == "04/09/2026 16:00:00"
    assert rows[102]["detEventoReceptor"] == "R"
    assert "falta total" in rows[102]["detEventoReceptorLeyenda"]
    assert rows[103]["detEventoReceptor"] == "A"  # 8 days after reception, not claimed
    assert rows[104]["detEventoReceptor"] is None
    assert rows[105]["detFecAcuse"] is None  # its acceptance is still to come
    assert {key for key in accepted if key.startswith("det")} >= {"detCodigo", "detPcarga", "detTipoDocRef"}


def test_a_note_refers_to_its_invoice_and_has_no_receiver_event(juana: Browser) -> None:
    (row,) = call(juana, "getDetalleVenta", query(codTipoDoc=61)).json()["data"]

    assert (row["detTipoDocRef"], row["detFolioDocRef"], row["detEventoReceptor"]) == (33, 101, None)


def test_a_detail_without_a_type_is_code_2_and_without_rows_code_99(juana: Browser) -> None:
    assert state(call(juana, "getDetalleVenta", query()))[0] == 2
    assert state(call(juana, "getDetalleVenta", query(codTipoDoc=None)))[0] == 2
    code, message = state(call(juana, "getDetalleVenta", query(codTipoDoc=56)))
    assert code == 99
    assert "token" not in (message or "").lower()
    assert state(call(juana, "getDetalleVenta", query(codTipoDoc=39)))[0] == 99  # boletas: no detail
    assert state(call(juana, "getDetalleCompra", query(codTipoDoc=33, operacion="COMPRA")))[0] == 99


def test_the_token_must_be_the_cookie_and_the_conversation(juana: Browser) -> None:
    for conversation in ("", "76399752", "OTHERTOKEN123"):
        assert state(call(juana, "getResumen", query(), conversation=conversation)) == (
            99,
            "El token no es valido: NO Existen Datos",
        )


def test_http_quirks_bare_accept_get_and_namespace(juana: Browser) -> None:
    bare = call(juana, "getResumen", query(), accept="application/json")
    assert bare.status_code == 500
    assert "RESTEASY001530" in bare.text

    assert juana.client.get(f"{FACADE}/getResumen").status_code == 405

    code, message = state(call(juana, "getResumen", query(), namespace=f"{NAMESPACE}/getDetalleVenta"))
    assert code == 1
    assert message is not None


def test_a_session_that_ended_gets_the_login_wall(rcv: Emulator, juana: Browser) -> None:
    rcv.expire_sessions()

    response = call(juana, "getResumen", query())

    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/html")
    assert "NO ESTA AUTENTICADO" in response.text


def test_a_company_the_person_cannot_represent(rcv: Emulator, certificates: Certificates) -> None:
    with Browser(rcv, certificates.pem(PEDRO)) as pedro:
        pedro.login()
        code, message = state(call(pedro, "getResumen", query(company=BATA)))

    assert code != 0
    assert "NO ESTA AUTORIZADO PARA REPRESENTAR" in (message or "")


def _export(browser: Browser, **extra: Any) -> httpx.Response:
    data = query(codTipoDoc=0, accionRecaptcha="RCV_DDETV", tokenRecaptcha="t-o-k-e-n-web", **extra)
    return call(browser, "getDetalleVentaExport", data)


def _parsed(lines: list[str], directory: Path) -> dict[int, Any]:
    path = directory / "export.csv"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    parsed = list(parse_rcv_venta_csv_file(Rut(MIPYME), str(path)))
    assert all(not errors for _, _, _, errors in parsed), parsed
    return {entry.folio: entry for entry, _, _, _ in parsed if entry is not None}


def test_the_export_is_json_of_csv_lines_that_cl_sii_reads(juana: Browser, tmp_path: Path) -> None:
    response = _export(juana)

    assert state(response) == (0, None)
    body = response.json()
    lines = body["data"]
    assert lines[0].startswith("Nro;Tipo Doc;Tipo Venta;Rut cliente;Razon Social;Folio;Fecha Docto;")
    assert lines[0].endswith(";Codigo Otro Imp.;Valor Otro Imp.;Tasa Otro Imp.")
    assert all(line.endswith(";") for line in lines[1:])
    assert body["nombreArchivo"] == f"RCV_VENTA_{MIPYME}_202609.csv"
    entries = _parsed(lines, tmp_path)
    assert sorted(entries) == [101, 102, 103, 104, 105, 201, 301]  # no boletas, not 106 yet
    assert entries[101].fecha_acuse_dt is not None
    assert entries[102].fecha_reclamo_dt is not None
    assert (entries[201].monto_exento, entries[201].monto_total) == (50_000, 50_000)


def test_a_period_too_large_for_the_direct_export_goes_through_the_async_one(
    rcv: Emulator, juana: Browser, tmp_path: Path
) -> None:
    rcv.faults.rcv_export_limit = 3
    assert _export(juana).json()["data"] == []

    create = {**query(codTipoDoc=0, generaCtrl=True, totDoc="0"), "accionRecaptcha": "RCV_DDETVA"}
    (job,) = [j for j in call(juana, "getCtrlAsync", create).json()["data"] if j["caPeriodo"] == 202609]
    poll = query(generaCtrl=False, estadoContab="", totDoc="")
    deadline = time.monotonic() + 10
    while job["caEstado"] != "TERMINADO":
        assert time.monotonic() < deadline, job
        time.sleep(0.05)
        job = next(j for j in call(juana, "getCtrlAsync", poll).json()["data"] if j["caId"] == job["caId"])
    number = MIPYME.split("-")[0]
    blob = juana.client.get(f"{FACADE}/obtenerArchivoBLOB/{job['caIdBLOB']}/{number}/{number}/{job['caId']}")

    assert blob.content[:2] == b"\x1f\x8b"
    lines = gzip.decompress(blob.content).decode("iso-8859-1").splitlines()
    assert len(lines) == job["caNumLineas"] == 8
    assert sorted(_parsed(lines, tmp_path)) == [101, 102, 103, 104, 105, 201, 301]


def test_states_change_with_time(rcv: Emulator, juana: Browser) -> None:
    def rows() -> dict[int, dict[str, Any]]:
        return {
            r["detNroDoc"]: r for r in call(juana, "getDetalleVenta", query(codTipoDoc=33)).json()["data"]
        }

    rcv.register.advance(timedelta(days=3))  # 23/09 12:00
    try:
        after = rows()
        assert after[104]["detEventoReceptor"] == "A"  # 8 days after 15/09 10:30
        assert after[105]["detFecAcuse"] == "22/09/2026 09:00:00"
        assert 106 in after  # received on 21/09
        rcv.register.claim(MIPYME, 33, 106, event="RCD")
        assert rows()[106]["detEventoReceptor"] == "R"
        header = call(juana, "getResumen", query()).json()["dataCabecera"]
        assert header["dcvFecModificacion"] == "23/09/2026 12:00:00"
    finally:
        rcv.register.set_clock(lambda: NOW)
        rcv.register.forget_events(MIPYME, 33, 106)


def test_faults_server_errors_and_sessions_that_expire_mid_run(rcv: Emulator, juana: Browser) -> None:
    rcv.faults.rcv_server_errors = 2
    assert [call(juana, "getResumen", query()).status_code for _ in range(3)] == [500, 500, 200]

    rcv.faults.rcv_session_expires_after = 2
    assert state(call(juana, "getResumen", query()))[0] == 0
    assert state(call(juana, "getResumen", query()))[0] == 0
    assert "NO ESTA AUTENTICADO" in call(juana, "getResumen", query()).text


def test_the_bootstrap_can_be_required(rcv: Emulator, juana: Browser) -> None:
    rcv.faults.rcv_requires_bootstrap = True
    refused = call(juana, "getResumen", query())
    assert refused.status_code == 401
    assert "JBWEB000065" in refused.text

    answer = juana.client.get("/cgi_AUT2000/AutTknData.cgi", params={"callback": "jQuery_1"})
    assert answer.text.startswith("jQuery_1(")
    assert json.loads(answer.text[len("jQuery_1(") : -1])["estado"] == 0
    assert state(call(juana, "getResumen", query()))[0] == 0


def test_the_rcv_counts_its_calls(rcv: Emulator, juana: Browser) -> None:
    before = rcv.rcv_requests["getResumen"]
    call(juana, "getResumen", query())
    assert rcv.rcv_requests["getResumen"] == before + 1
