"""Read what a DTE says, whatever envelope and namespace it arrives in.

Accepted roots: a bare ``DTE``, ``SetDTE``, ``EnvioDTE`` and ``EnvioBOLETA``, with or without the SII
namespace (``http://www.sii.cl/SiiDte``). :func:`dte_elements` finds the DTEs; :func:`read_fields` turns
one ``DTE`` element into :class:`~dtehub.dte.models.DteFields`: the fields dtehub stores for a document,
and the whole document as typed records (header, detail lines, global discounts and surcharges,
references, other currency, transport and customs).

**Unreadable.** A document without a usable type (TipoDTE), folio, issue date, issuer and receiver RUTs
and total is not a DTE and is refused with :class:`~dtehub.dte.errors.DteUnreadable`, as are the values
the stored document is made of (MntNeto, MntExe, FmaPago, FchVenc) when they are malformed, and the marks
of a draft: a bare ``Documento`` root, a RUT without its check digit, a detail line without a valid,
non-negative ``MontoItem`` (negative or misspelt ``MtoItem``). An export that gives no amount in pesos
is unreadable too: the store keeps pesos.

**Everything else is best effort**, because genuine files are messy. An optional value that is malformed
(a QtyItem of ``1,5``, a CodRef of ``7``, a FchRef that is not a date, an unreadable RUTOtr) becomes
``None`` and is reported in :attr:`~dtehub.dte.models.DteFields.warnings`; the raw text is not lost, the
detail notes keep it. A line, reference, tax or discount is never dropped because one of its parts is
malformed: a reference without a usable date still says which document it refers to.
"""

from __future__ import annotations

from decimal import Decimal

from lxml import etree

from dtehub.dte.constants import (
    BODY_NAMES,
    DISCOUNT_EXEMPT_INDICATORS,
    ENVELOPES,
    EXEMPT_INDICATORS,
    LINE_ELEMENTS,
    MOVEMENTS,
    PESO_CL,
    REFERENCE_CODES,
    VALUE_TYPES,
)
from dtehub.dte.detail_notes import detail_notes, line_note
from dtehub.dte.errors import DteUnreadable
from dtehub.dte.models import (
    DscRcgGlobal,
    DteCustoms,
    DteFields,
    DteIdDoc,
    DteIssuer,
    DteLine,
    DtePackage,
    DtePayment,
    DteReceiver,
    DteReference,
    DteTax,
    DteTotals,
    DteTransport,
    Exportaciones,
    ItemCode,
    OtraMoneda,
    OtraMonedaTax,
)
from dtehub.dte.values import (
    LenientValues,
    Node,
    as_decimal,
    pesos,
    required,
    strict_cents,
    strict_date,
    strict_rut,
    whole_number,
)
from dtehub.kit.xml import local_name


def dte_elements(root: etree._Element) -> list[etree._Element]:
    """The DTE elements in a bare DTE or in one of the SII envelopes."""
    name = local_name(root)
    if name == "DTE":
        return [root]
    if name in ENVELOPES:
        return [el for el in root.iter() if isinstance(el.tag, str) and local_name(el) == "DTE"]
    raise DteUnreadable(f"the root element is {name}; expected DTE, SetDTE, EnvioDTE or EnvioBOLETA")


def read_fields(dte: etree._Element) -> DteFields:
    """Read one ``DTE`` element (from :func:`dte_elements`); raise :class:`DteUnreadable` when it is not
    a DTE dtehub can read."""
    root = Node(dte)
    body_name = next((name for name in BODY_NAMES if root.has(name)), None)
    if body_name is None:
        raise DteUnreadable("the DTE has no Documento")
    body = root.node(body_name)
    assert body is not None
    header = body.node("Encabezado")
    id_doc = header.node("IdDoc") if header is not None else None
    issuer = header.node("Emisor") if header is not None else None
    receiver = header.node("Receptor") if header is not None else None
    totals = header.node("Totales") if header is not None else None
    if header is None or id_doc is None or issuer is None or receiver is None or totals is None:
        raise DteUnreadable("the DTE's Encabezado lacks IdDoc, Emisor, Receptor or Totales")

    # The values the stored document is made of: any of them missing or malformed, the DTE is unreadable.
    code = whole_number(required(id_doc, "IdDoc", "TipoDTE"), "TipoDTE")
    folio = whole_number(required(id_doc, "IdDoc", "Folio"), "Folio")
    issue_date = strict_date(required(id_doc, "IdDoc", "FchEmis"), "FchEmis")
    due_text = id_doc.text("FchVenc")
    due_date = strict_date(due_text, "FchVenc") if due_text else None
    payment_text = id_doc.text("FmaPago")
    payment_form = whole_number(payment_text, "FmaPago") if payment_text else None
    issuer_party = _issuer(issuer)
    receiver_party = _receiver(receiver)

    # Everything else in document order, so that the warnings come in that order too.
    values = LenientValues(negative=body_name == "Liquidacion")
    id_doc_fields = _id_doc(id_doc, values)
    principal_rut = values.opt_rut(header, "RUTMandante")
    requester_rut = values.opt_rut(header, "RUTSolicita")
    transport = _transport(header.node("Transporte"), values)
    # The body decides the shape of the totals (an export's are in its own currency), not TipoDTE.
    export: Exportaciones | None = None
    document_totals: DteTotals | None = None
    if body_name == "Exportaciones":
        export = _export_totals(totals, values)
    else:
        document_totals = _totals(totals, values)
    other_currency = _other_currency(header.node("OtraMoneda"), values)
    if export is not None:
        net_cents, exempt_cents, total_cents = _export_pesos(export, other_currency)
    else:
        assert document_totals is not None
        net_cents = document_totals.net_cents or 0
        exempt_cents = document_totals.exempt_cents or 0
        total_cents = document_totals.total_cents
    notes, detail = _detail(body, values, is_export=export is not None)
    discounts = tuple(_discount(n, i, values) for i, n in enumerate(body.nodes("DscRcgGlobal"), start=1))
    references = tuple(_reference(n, i, values) for i, n in enumerate(body.nodes("Referencia"), start=1))

    return DteFields(
        code=code,
        folio=folio,
        issue_date=issue_date,
        due_date=due_date,
        payment_form=payment_form,
        issuer=issuer_party,
        receiver=receiver_party,
        net_cents=net_cents,
        exempt_cents=exempt_cents,
        total_cents=total_cents,
        detail_notes=notes,
        currency=export.currency if export is not None else PESO_CL,
        id_doc=id_doc_fields,
        principal_rut=principal_rut,
        requester_rut=requester_rut,
        transport=transport,
        totals=document_totals,
        export=export,
        other_currency=other_currency,
        detail=detail,
        discounts=discounts,
        references=references,
        warnings=tuple(values.warnings),
    )


def _id_doc(node: Node, values: LenientValues) -> DteIdDoc:
    return DteIdDoc(
        no_rebate=values.flag(node, "IndNoRebaja"),
        dispatch_type=values.opt_int(node, "TipoDespacho"),
        transfer_type=values.opt_int(node, "IndTraslado"),
        print_format=values.opt_text(node, "TpoImpresion"),
        service_type=values.opt_int(node, "IndServicio"),
        gross_amounts=values.flag(node, "MntBruto"),
        purchase_transaction_type=values.opt_int(node, "TpoTranCompra"),
        sale_transaction_type=values.opt_int(node, "TpoTranVenta"),
        export_payment_form=values.opt_text(node, "FmaPagExp"),
        paid_date=values.opt_date(node, "FchCancel"),
        paid_amount=values.opt_decimal(node, "MntCancel"),
        unpaid_balance=values.opt_decimal(node, "SaldoInsol"),
        payments=tuple(
            DtePayment(
                date=values.opt_date(p, "FchPago", "MntPagos: "),
                amount=values.opt_decimal(p, "MntPago", "MntPagos: "),
                gloss=values.opt_text(p, "GlosaPagos"),
            )
            for p in node.nodes("MntPagos")
        ),
        period_from=values.opt_date(node, "PeriodoDesde"),
        period_to=values.opt_date(node, "PeriodoHasta"),
        payment_method=values.opt_text(node, "MedioPago"),
        account_type=values.opt_text(node, "TpoCtaPago"),
        account_number=values.opt_text(node, "NumCtaPago"),
        bank=values.opt_text(node, "BcoPago"),
        payment_terms_code=values.opt_text(node, "TermPagoCdg"),
        payment_terms_gloss=values.opt_text(node, "TermPagoGlosa"),
        payment_terms_days=values.opt_int(node, "TermPagoDias"),
    )


def _issuer(node: Node) -> DteIssuer:
    return DteIssuer(
        rut=strict_rut(required(node, "Emisor", "RUTEmisor"), "RUTEmisor"),
        name=node.text("RznSoc") or node.text("RznSocEmisor"),
        activity=node.text("GiroEmis") or node.text("GiroEmisor"),
        address=node.text("DirOrigen"),
        comuna=node.text("CmnaOrigen"),
        city=node.text("CiudadOrigen"),
        phones=node.texts("Telefono"),
        email=node.text("CorreoEmisor"),
        activity_codes=node.texts("Acteco"),
        branch=node.text("Sucursal"),
        branch_code=node.text("CdgSIISucur"),
        seller_code=node.text("CdgVendedor"),
        additional_id=node.text("IdAdicEmisor"),
    )


def _receiver(node: Node) -> DteReceiver:
    foreign = node.node("Extranjero")
    return DteReceiver(
        rut=strict_rut(required(node, "Receptor", "RUTRecep"), "RUTRecep"),
        name=node.text("RznSocRecep"),
        activity=node.text("GiroRecep"),
        address=node.text("DirRecep"),
        comuna=node.text("CmnaRecep"),
        city=node.text("CiudadRecep"),
        internal_code=node.text("CdgIntRecep"),
        foreign_id=foreign.text("NumId") if foreign is not None else "",
        nationality=foreign.text("Nacionalidad") if foreign is not None else "",
        contact=node.text("Contacto"),
        email=node.text("CorreoRecep"),
        postal_address=node.text("DirPostal"),
        postal_comuna=node.text("CmnaPostal"),
        postal_city=node.text("CiudadPostal"),
    )


def _totals(node: Node, values: LenientValues) -> DteTotals:
    negative = values.negative
    commissions = node.node("Comisiones")
    return DteTotals(
        total_cents=strict_cents(required(node, "Totales", "MntTotal"), "MntTotal", negative=negative),
        net_cents=strict_cents(node.text("MntNeto"), "MntNeto", negative=negative)
        if node.text("MntNeto")
        else None,
        exempt_cents=strict_cents(node.text("MntExe"), "MntExe", negative=negative)
        if node.text("MntExe")
        else None,
        meat_base_cents=values.opt_cents(node, "MntBase"),
        margin_base_cents=values.opt_cents(node, "MntMargenCom"),
        vat_rate=values.opt_decimal(node, "TasaIVA"),
        vat_cents=values.opt_cents(node, "IVA"),
        own_vat_cents=values.opt_cents(node, "IVAProp"),
        third_party_vat_cents=values.opt_cents(node, "IVATerc"),
        other_taxes=tuple(
            DteTax(
                code=t.text("TipoImp"),
                rate=values.opt_decimal(t, "TasaImp", "ImptoReten: "),
                amount_cents=values.opt_cents(t, "MontoImp", "ImptoReten: "),
            )
            for t in node.nodes("ImptoReten")
        ),
        vat_not_withheld_cents=values.opt_cents(node, "IVANoRet"),
        construction_credit_cents=values.opt_cents(node, "CredEC"),
        packaging_deposit_cents=values.opt_cents(node, "GrntDep"),
        commissions_net_cents=values.opt_cents(commissions, "ValComNeto", "Comisiones: "),
        commissions_exempt_cents=values.opt_cents(commissions, "ValComExe", "Comisiones: "),
        commissions_vat_cents=values.opt_cents(commissions, "ValComIVA", "Comisiones: "),
        # These four are SII's ValorType: negative values are legitimate (a balance in the payer's favour).
        non_billable_cents=values.opt_cents(node, "MontoNF", negative=True),
        period_total_cents=values.opt_cents(node, "MontoPeriodo", negative=True)
        if node.has("MontoPeriodo")
        else values.opt_cents(node, "TotalPeriodo", negative=True),
        previous_balance_cents=values.opt_cents(node, "SaldoAnterior", negative=True),
        amount_due_cents=values.opt_cents(node, "VlrPagar", negative=True),
    )


def _export_totals(node: Node, values: LenientValues) -> Exportaciones:
    total_text = required(node, "Totales", "MntTotal")
    total = as_decimal(total_text)
    if total is None or total < 0:
        raise DteUnreadable(f"MntTotal is {total_text!r}, not an amount")
    return Exportaciones(
        currency=node.text("TpoMoneda"), total=total, exempt=values.opt_decimal(node, "MntExe")
    )


def _same_currency(name: str, other: str) -> bool:
    return " ".join(name.split()).upper() == other


def _export_pesos(export: Exportaciones, other: OtraMoneda | None) -> tuple[int, int, int]:
    """(net, exempt, total) in hundredths of a peso for an export document."""
    if other is not None and _same_currency(other.currency, PESO_CL) and other.total is not None:
        total = pesos(other.total, "OtraMoneda/MntTotOtrMnda")
        net = pesos(other.net, "OtraMoneda/MntNetoOtrMnda") if other.net is not None else 0
        exempt = pesos(other.exempt, "OtraMoneda/MntExeOtrMnda") if other.exempt is not None else total - net
        return net, exempt, total
    if _same_currency(export.currency, PESO_CL):
        total = pesos(export.total, "MntTotal")
        return 0, pesos(export.exempt, "MntExe") if export.exempt is not None else total, total
    raise DteUnreadable(
        f"the export DTE gives its amounts in {export.currency or 'an unnamed currency'} and none in pesos "
        f"(OtraMoneda with TpoMoneda {PESO_CL})"
    )


def _other_currency(node: Node | None, values: LenientValues) -> OtraMoneda | None:
    if node is None:
        return None
    where = "OtraMoneda: "
    return OtraMoneda(
        currency=node.text("TpoMoneda"),
        exchange_rate=values.opt_decimal(node, "TpoCambio", where),
        net=values.opt_decimal(node, "MntNetoOtrMnda", where),
        exempt=values.opt_decimal(node, "MntExeOtrMnda", where),
        meat_base=values.opt_decimal(node, "MntFaeCarneOtrMnda", where),
        margin_base=values.opt_decimal(node, "MntMargComOtrMnda", where),
        vat=values.opt_decimal(node, "IVAOtrMnda", where),
        other_taxes=tuple(
            OtraMonedaTax(
                code=t.text("TipoImpOtrMnda"),
                rate=values.opt_decimal(t, "TasaImpOtrMnda", where),
                amount=values.opt_decimal(t, "VlrImpOtrMnda", where),
            )
            for t in node.nodes("ImpRetOtrMnda")
        ),
        vat_not_withheld=values.opt_decimal(node, "IVANoRetOtrMnda", where),
        total=values.opt_decimal(node, "MntTotOtrMnda", where),
    )


def _transport(node: Node | None, values: LenientValues) -> DteTransport | None:
    if node is None:
        return None
    driver = node.node("Chofer")
    customs = node.node("Aduana")
    return DteTransport(
        plate=values.opt_text(node, "Patente"),
        carrier_rut=values.opt_rut(node, "RUTTrans", "Transporte: "),
        driver_rut=values.opt_rut(driver, "RUTChofer", "Transporte: "),
        driver_name=values.opt_text(driver, "NombreChofer"),
        destination_address=values.opt_text(node, "DirDest"),
        destination_comuna=values.opt_text(node, "CmnaDest"),
        destination_city=values.opt_text(node, "CiudadDest"),
        customs=_customs(customs, values) if customs is not None else None,
    )


def _customs(node: Node, values: LenientValues) -> DteCustoms:
    where = "Aduana: "
    return DteCustoms(
        sale_mode=values.opt_text(node, "CodModVenta"),
        sale_clause=values.opt_text(node, "CodClauVenta"),
        sale_clause_total=values.opt_decimal(node, "TotClauVenta", where),
        transport_way=values.opt_text(node, "CodViaTransp"),
        vessel=values.opt_text(node, "NombreTransp"),
        carrier_rut=values.opt_rut(node, "RUTCiaTransp", where),
        carrier_name=values.opt_text(node, "NomCiaTransp"),
        carrier_additional_id=values.opt_text(node, "IdAdicTransp"),
        booking=values.opt_text(node, "Booking"),
        operator=values.opt_text(node, "Operador"),
        loading_port=values.opt_text(node, "CodPtoEmbarque"),
        loading_port_id=values.opt_text(node, "IdAdicPtoEmb"),
        unloading_port=values.opt_text(node, "CodPtoDesemb"),
        unloading_port_id=values.opt_text(node, "IdAdicPtoDesemb"),
        tare=values.opt_int(node, "Tara", where),
        tare_unit=values.opt_text(node, "CodUnidMedTara"),
        gross_weight=values.opt_decimal(node, "PesoBruto", where),
        gross_weight_unit=values.opt_text(node, "CodUnidPesoBruto"),
        net_weight=values.opt_decimal(node, "PesoNeto", where),
        net_weight_unit=values.opt_text(node, "CodUnidPesoNeto"),
        total_items=values.opt_int(node, "TotItems", where),
        total_packages=values.opt_int(node, "TotBultos", where),
        packages=tuple(
            DtePackage(
                kind=values.opt_text(p, "CodTpoBultos"),
                quantity=values.opt_int(p, "CantBultos", where),
                marks=values.opt_text(p, "Marcas"),
                container_id=values.opt_text(p, "IdContainer"),
                seal=values.opt_text(p, "Sello"),
                seal_issuer=values.opt_text(p, "EmisorSello"),
            )
            for p in node.nodes("TipoBultos")
        ),
        freight=values.opt_decimal(node, "MntFlete", where),
        insurance=values.opt_decimal(node, "MntSeguro", where),
        receiver_country=values.opt_text(node, "CodPaisRecep"),
        destination_country=values.opt_text(node, "CodPaisDestin"),
    )


def _detail(body: Node, values: LenientValues, *, is_export: bool) -> tuple[str, tuple[DteLine, ...]]:
    """Duemint's notes text of the lines and the typed lines, in one pass over them."""
    notes = []
    detail = []
    for position, element in enumerate(body.all("Detalle"), start=1):
        line = Node(element)
        amount = _line_amount(line, position, values, is_export=is_export)
        notes.append(line_note(element))
        detail.append(_line(line, position, amount, values))
    return detail_notes(notes), tuple(detail)


def _line_amount(line: Node, position: int, values: LenientValues, *, is_export: bool) -> Decimal:
    """MontoItem, which a line must have: a draft's missing, misspelt or negative amount is refused."""
    what = f"Detalle line {position} MontoItem"
    if not line.has("MontoItem"):
        strange = sorted(name for name in line.names() if name not in LINE_ELEMENTS)
        hint = f" (it has {', '.join(strange)}, which a DTE line does not)" if strange else ""
        raise DteUnreadable(f"Detalle line {position} has no MontoItem{hint}")
    text = line.text("MontoItem")
    if is_export:
        value = as_decimal(text)
        if value is None or (value < 0 and not values.negative):
            raise DteUnreadable(f"{what}: {text!r} is not an amount of 0 or more")
        return value
    # The same rule as the totals: whole, exact, not negative.
    strict_cents(text, what, negative=values.negative)
    return Decimal(text) if text else Decimal(0)


def _line(line: Node, position: int, amount: Decimal, values: LenientValues) -> DteLine:
    number_text = line.text("NroLinDet")
    if number_text.isascii() and number_text.isdigit() and len(number_text) <= 9:
        number = int(number_text)
    else:
        number = position
        if number_text:
            values.warn(f"Detalle line {position}: ", "NroLinDet", number_text, "a line number")
    where = f"Detalle line {number}: "
    return DteLine(
        number=number,
        name=line.text("NmbItem"),
        amount=amount,
        codes=tuple(
            ItemCode(type=c.text("TpoCodigo"), value=c.text("VlrCodigo")) for c in line.nodes("CdgItem")
        ),
        exempt_indicator=values.choice(line, "IndExe", EXEMPT_INDICATORS, where),
        description=values.opt_text(line, "DscItem"),
        reference_quantity=values.opt_decimal(line, "QtyRef", where),
        reference_unit=values.opt_text(line, "UnmdRef"),
        reference_price=values.opt_decimal(line, "PrcRef", where),
        quantity=values.opt_decimal(line, "QtyItem", where),
        unit=values.opt_text(line, "UnmdItem"),
        unit_price=values.opt_decimal(line, "PrcItem", where),
        discount_pct=values.opt_decimal(line, "DescuentoPct", where),
        discount_amount=values.opt_decimal(line, "DescuentoMonto", where),
        surcharge_pct=values.opt_decimal(line, "RecargoPct", where),
        surcharge_amount=values.opt_decimal(line, "RecargoMonto", where),
        tax_codes=line.texts("CodImpAdic"),
    )


def _discount(node: Node, position: int, values: LenientValues) -> DscRcgGlobal:
    where = f"DscRcgGlobal {position}: "
    movement = node.text("TpoMov").upper()
    if movement not in MOVEMENTS:
        values.warn(where, "TpoMov", movement, "D or R")
    value_type = node.text("TpoValor")
    if value_type not in VALUE_TYPES:
        values.warn(where, "TpoValor", value_type, "% or $")
    return DscRcgGlobal(
        number=values.opt_int(node, "NroLinDR", where),
        movement=movement if movement in MOVEMENTS else "",
        value_type=value_type if value_type in VALUE_TYPES else "",
        value=values.opt_decimal(node, "ValorDR", where),
        gloss=values.opt_text(node, "GlosaDR"),
        value_other_currency=values.opt_decimal(node, "ValorDROtrMnda", where),
        exempt_indicator=values.choice(node, "IndExeDR", DISCOUNT_EXEMPT_INDICATORS, where),
    )


def _reference(node: Node, position: int, values: LenientValues) -> DteReference:
    where = f"Referencia {position}: "
    document_type = node.text("TpoDocRef")
    folio = node.text("FolioRef")
    if not document_type:
        values.warn(where, "TpoDocRef", "", "a document type")
    if not folio:
        values.warn(where, "FolioRef", "", "a folio")
    return DteReference(
        number=values.opt_int(node, "NroLinRef", where),
        document_type=document_type,
        folio=folio,
        date=values.opt_date(node, "FchRef", where),
        global_reference=values.flag(node, "IndGlobal", where),
        other_rut=values.opt_rut(node, "RUTOtr", where),
        reason_code=values.choice(node, "CodRef", REFERENCE_CODES, where),
        reason=values.opt_text(node, "RazonRef"),
    )
