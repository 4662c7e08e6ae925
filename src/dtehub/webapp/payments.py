"""``/app/payments``: the company's payments by state (reconciled, pending, discarded), one payment's
page, registering a payment of one client split over several of its documents, and reconciling or
discarding one. Every change goes through the payments' service (:mod:`dtehub.payments.service`), so
the rules are createPayment's and updatePayment's (docs/payments.md); collectors and owners act,
viewers read."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import Annotated, Any
from urllib.parse import urlencode

from fastapi import APIRouter, Form, Query, Request
from fastapi.responses import Response
from pydantic import ValidationError
from sqlalchemy.orm import Session

from dtehub.audit.actions import Action
from dtehub.clients import service as clients
from dtehub.config import Settings
from dtehub.dependencies import SessionDep
from dtehub.errors import BadRequest, Conflict, DtehubError, NotFound, Unprocessable
from dtehub.kit.dates import today_in_santiago
from dtehub.kit.pagination import PageRequest
from dtehub.kit.rut import InvalidRut, normalize_client_tax_id
from dtehub.models import Client, PaymentStatus, Role
from dtehub.payments import service as payments
from dtehub.payments.filters import PaymentFilters, PaymentOrderBy
from dtehub.payments.methods import PAYMENT_METHODS
from dtehub.payments.schemas import PaymentCreate, PaymentUpdate
from dtehub.portal.links import Links
from dtehub.reports import service as reports
from dtehub.reports.repository import OpenFilter
from dtehub.users.service import Staff
from dtehub.webapp import forms, pages
from dtehub.webapp.layout import layout
from dtehub.webapp.web import NowDep, StaffDep, app_route, record

router = APIRouter()

FormText = Annotated[str, Form()]
FormList = Annotated[list[str], Form()]
QueryText = Annotated[str | None, Query()]

PAGE_SIZE = 50
STATES = {
    "reconciled": PaymentStatus.RECONCILED,
    "pending": PaymentStatus.PENDING,
    "discarded": PaymentStatus.DISCARDED,
}
"""The list's tabs (``?status=``), in the order shown."""
STATE_TITLES = {
    PaymentStatus.RECONCILED: "Pagos conciliados",
    PaymentStatus.PENDING: "Pagos pendientes de conciliación",
    PaymentStatus.DISCARDED: "Pagos descartados",
}
BADGES = {
    PaymentStatus.RECONCILED: "paid",
    PaymentStatus.PENDING: "pending",
    PaymentStatus.DISCARDED: "voided",
}

IN_SPANISH = {
    "allocation_exceeds_due": "el monto es mayor que su saldo",
    "document_voided": "está anulado: no recibe pagos",
    "currency_mismatch": "está en otra moneda que el pago",
    "document_of_another_client": "es de otro cliente",
    "duplicate_document": "aparece dos veces",
}
"""What the page says of a refusal about one document (the service's message is for programs)."""


def _links(request: Request) -> Links:
    settings: Settings = request.app.state.settings
    return Links(settings.public_base)


def _day_text(text: str) -> str:
    """The API's ``YYYY-MM-DD`` as people read it (``dd-mm-aaaa``)."""
    return pages.day(date.fromisoformat(text))


def _moment_text(text: str | None) -> str:
    """The API's ``YYYY-MM-DD HH:MM:SS`` (Santiago) as people read it (``dd-mm-aaaa HH:MM``)."""
    if not text:
        return "—"
    day, _, time = text.partition(" ")
    return f"{_day_text(day)} {time[:5]}".strip()


# --- the list ------------------------------------------------------------------------------------


@router.get("/payments")
@app_route()
def payment_list(
    staff: StaffDep,
    session: SessionDep,
    status: QueryText = None,
    clientId: QueryText = None,
    page: QueryText = None,
    ok: QueryText = None,
) -> Response:
    """The company's payments of one state, newest payment date first, 50 a page."""
    wanted = (status or "reconciled").strip()
    if wanted not in STATES:
        raise BadRequest("status: reconciled, pending o discarded", field="status")
    client: Client | None = None
    if clientId is not None and clientId.strip():
        client = clients.require(session, staff.company_id, forms.path_id(clientId.strip(), "clientId"))
    state = STATES[wanted]
    items, total, number, pages_count = forms.paged(
        lambda offset, limit: payments.list_payments(
            session,
            staff.company_id,
            PaymentFilters(status=state, client_id=client.id if client else None),
            order_by=PaymentOrderBy.PAYMENT_DATE,
            descending=True,
            page=PageRequest(page=offset // limit + 1, per_page=limit),
        ),
        page,
        PAGE_SIZE,
    )

    def href(state_key: str, page_number: int = 1) -> str:
        query = {"status": state_key}
        if client is not None:
            query["clientId"] = str(client.id)
        if page_number > 1:
            query["page"] = str(page_number)
        return "/app/payments?" + urlencode(query)

    context = {
        "layout": layout(session, staff, "payments", ok),
        "title": STATE_TITLES[state],
        "state": wanted,
        "states": [(key, STATE_TITLES[value]) for key, value in STATES.items()],
        "client": client,
        "items": items,
        "total": total,
        "page": number,
        "pages": pages_count,
        "href": href,
        "badges": BADGES,
        "day_text": _day_text,
        "may_act": staff.may(Role.COLLECTOR),
    }
    return pages.page("payments.html", context)


# --- a new payment -------------------------------------------------------------------------------


@dataclass(frozen=True)
class NewPayment:
    """What the form of a new payment shows: the client, its open documents in the currency, and
    what was typed (when the page comes back with an error)."""

    client: Client | None
    currency: str
    currencies: list[str]
    open_documents: list[Any]
    more: int


def _client_of(session: Session, staff: Staff, client_id: str | None, rut: str | None) -> Client | None:
    if client_id is not None and client_id.strip():
        return clients.require(session, staff.company_id, forms.path_id(client_id.strip(), "clientId"))
    if rut is not None and rut.strip():
        try:
            tax_id = normalize_client_tax_id(rut)
        except InvalidRut:
            raise BadRequest(
                "RUT del cliente: no es un RUT válido (por ejemplo 76.453.707-6)", field="rut"
            ) from None
        return clients.require_by_tax_id(session, staff.company_id, tax_id, field="rut")
    return None


def _new_payment(
    session: Session, staff: Staff, now: datetime, client: Client | None, currency: str
) -> NewPayment:
    if client is None:
        return NewPayment(None, currency, [currency], [], 0)
    listed = reports.open_list(
        session, staff.company_id, OpenFilter(currency, client_id=client.id), today_in_santiago(now), 1
    )
    currencies = sorted(
        {currency, "CLP", *reports.currencies_of_client(session, staff.company_id, client.id)}
    )
    return NewPayment(client, currency, currencies, listed.rows, listed.documents - len(listed.rows))


def _new_page(
    session: Session,
    staff: Staff,
    now: datetime,
    new: NewPayment,
    *,
    form: dict[str, Any] | None = None,
    error: str | None = None,
    status_code: int = 200,
) -> Response:
    context = {
        "layout": layout(session, staff, "payments"),
        "new": new,
        "methods": sorted(PAYMENT_METHODS.items()),
        "today": today_in_santiago(now).isoformat(),
        "form": form or {},
        "error": error,
        "type_name": pages.type_name,
    }
    return pages.page("payment_new.html", context, status_code=status_code)


def _currency(text: str | None) -> str:
    value = (text or "CLP").strip().upper()
    if not (len(value) == 3 and value.isascii() and value.isalpha()):
        raise BadRequest("Moneda: un código de tres letras, por ejemplo CLP", field="currency")
    return value


@router.get("/payments/new")
@app_route(role=Role.COLLECTOR)
def new_payment(
    staff: StaffDep,
    session: SessionDep,
    now: NowDep,
    clientId: QueryText = None,
    rut: QueryText = None,
    currency: QueryText = None,
) -> Response:
    """Collectors: choose the client (by RUT), then split the payment over its open documents."""
    wanted = _currency(currency)
    try:
        client = _client_of(session, staff, clientId, rut)
    except NotFound:
        return _new_page(
            session,
            staff,
            now,
            NewPayment(None, wanted, [wanted], [], 0),
            form={"rut": rut or ""},
            error="No hay un cliente con ese RUT en esta empresa.",
            status_code=404,
        )
    except BadRequest as bad:
        new = NewPayment(None, wanted, [wanted], [], 0)
        return _new_page(
            session, staff, now, new, form={"rut": rut or ""}, error=bad.message, status_code=400
        )
    return _new_page(session, staff, now, _new_payment(session, staff, now, client, wanted))


def _refusal(refused: DtehubError, numbers: list[str]) -> str:
    """A refusal of the service in the page's words, naming the document when it is about one."""
    field = refused.field or ""
    if field.startswith("documents[") and refused.code in IN_SPANISH:
        index = int(field[len("documents[") : field.index("]")])
        number = numbers[index] if index < len(numbers) else "?"
        return f"Documento N° {number}: {IN_SPANISH[refused.code]}."
    if refused.code == "allocation_exceeds_payment":
        return "Lo asignado a los documentos suma más que el monto del pago."
    return refused.message


@router.post("/payments")
@app_route(role=Role.COLLECTOR)
def create_payment(
    request: Request,
    staff: StaffDep,
    session: SessionDep,
    now: NowDep,
    clientId: FormText = "",
    currency: FormText = "CLP",
    amount: FormText = "",
    paid_on: Annotated[str, Form(alias="date")] = "",
    method: FormText = "",
    description: FormText = "",
    status: FormText = "1",
    document: FormList = [],  # noqa: B006 (FastAPI copies a default)
    allocated: FormList = [],  # noqa: B006
) -> Response:
    """Collectors: a payment of one client, split over its documents (``document`` and ``allocated``:
    one pair per row of the form; a row left empty gives that document nothing)."""
    client = clients.require(session, staff.company_id, forms.path_id(clientId.strip() or "0", "clientId"))
    wanted = _currency(currency)
    typed = {
        "amount": amount, "date": paid_on, "method": method, "description": description, "status": status,
        "allocated": dict(zip(document, allocated, strict=False)),
    }  # fmt: skip
    rows: list[tuple[int, int]] = []
    try:
        if len(document) != len(allocated):
            raise BadRequest("El formulario llegó incompleto: recargue la página.", field="documents")
        for document_id, text in zip(document, allocated, strict=True):
            if text.strip():
                label = "Monto de un documento"
                rows.append((forms.path_id(document_id, "documents"), forms.amount(text, "documents", label)))
        total = forms.amount(amount) if amount.strip() else sum(cents for _, cents in rows)
        if total <= 0:
            raise BadRequest(
                "Monto: escriba el monto del pago o lo que recibe cada documento.", field="amount"
            )
        method_id = int(method) if method.strip().isdigit() and int(method) in PAYMENT_METHODS else None
        data = PaymentCreate.model_validate(
            {
                "date": forms.day(paid_on, today_in_santiago(now)).isoformat(),
                "amount": forms.cents_text(total),
                "currency": wanted,
                "clientId": client.id,
                "paymentMethodId": method_id,
                "description": description.strip()[:255],
                "status": 0 if status.strip() == "0" else 1,
                "documents": [{"id": i, "amount": forms.cents_text(cents)} for i, cents in rows],
            }
        )
        payment = payments.create_payment(session, staff.company_id, data, _links(request))
    except (ValidationError, BadRequest, Conflict, Unprocessable) as refused:
        if isinstance(refused, ValidationError):
            message = "Revise los datos del pago: " + "; ".join(
                str(e.get("msg", "")) for e in refused.errors()
            )
            code = 400
        else:
            new = _new_payment(session, staff, now, client, wanted)
            offered = {row.id: row.number for row in new.open_documents}
            message = _refusal(refused, [offered.get(i, "?") for i, _ in rows])
            code = 409 if isinstance(refused, Conflict) else 400
        new = _new_payment(session, staff, now, client, wanted)
        return _new_page(session, staff, now, new, form=typed, error=message, status_code=code)
    record(
        session,
        staff,
        Action.CREATE_PAYMENT,
        object_type="payment",
        object_id=payment.id,
        summary={
            "amount": forms.cents_text(payment.amount_cents),
            "currency": payment.currency,
            "documents": len(rows),
        },
    )
    return pages.redirect(f"/app/payments/{payment.id}?ok=payment")


# --- one payment ---------------------------------------------------------------------------------


def _payment_page(
    session: Session,
    staff: Staff,
    payment_id: int,
    ok: str | None = None,
    *,
    error: str | None = None,
    status_code: int = 200,
) -> Response:
    view = payments.present(
        session, staff.company_id, payments.require(session, staff.company_id, payment_id)
    )
    context = {
        "layout": layout(session, staff, "payments", ok),
        "payment": view,
        "state": PaymentStatus(view.status),
        "state_key": next(k for k, v in STATES.items() if v == view.status),
        "day_text": _day_text,
        "moment_text": _moment_text,
        "badges": BADGES,
        "type_name": pages.type_name,
        "may_act": staff.may(Role.COLLECTOR),
        "error": error,
        "PaymentStatus": PaymentStatus,
    }
    return pages.page("payment.html", context, status_code=status_code)


@router.get("/payments/{payment_id}")
@app_route()
def payment_page(staff: StaffDep, session: SessionDep, payment_id: str, ok: QueryText = None) -> Response:
    """One payment: its client, amount, what each document got, its state and (for collectors) the
    actions its state allows."""
    return _payment_page(session, staff, forms.path_id(payment_id), ok)


def _change_state(
    request: Request, staff: Staff, session: Session, payment_id: str, status: PaymentStatus, ok: str
) -> Response:
    target = forms.path_id(payment_id)
    current = payments.require(session, staff.company_id, target)
    if current.status == status:
        return pages.redirect(f"/app/payments/{target}?ok={ok}")
    try:
        payments.update_payment(
            session, staff.company_id, PaymentUpdate(id=target, status=int(status)), _links(request)
        )
    except (Conflict, Unprocessable) as refused:
        message = _refusal(refused, _numbers_of(session, staff, target))
        return _payment_page(session, staff, target, error=message, status_code=409)
    record(
        session,
        staff,
        Action.UPDATE_PAYMENT,
        object_type="payment",
        object_id=target,
        summary={"status": int(status)},
    )
    return pages.redirect(f"/app/payments/{target}?ok={ok}")


def _numbers_of(session: Session, staff: Staff, payment_id: int) -> list[str]:
    view = payments.present(
        session, staff.company_id, payments.require(session, staff.company_id, payment_id)
    )
    return [allocation.document.number for allocation in view.documents]


@router.post("/payments/{payment_id}/reconcile")
@app_route(role=Role.COLLECTOR)
def reconcile(request: Request, staff: StaffDep, session: SessionDep, payment_id: str) -> Response:
    """Collectors: the payment counts from now on (what each document owes is checked again)."""
    return _change_state(request, staff, session, payment_id, PaymentStatus.RECONCILED, "reconciled")


@router.post("/payments/{payment_id}/discard")
@app_route(role=Role.COLLECTOR)
def discard(request: Request, staff: StaffDep, session: SessionDep, payment_id: str) -> Response:
    """Collectors: the payment counts for nothing; its documents owe again what it gave them."""
    return _change_state(request, staff, session, payment_id, PaymentStatus.DISCARDED, "discarded")
