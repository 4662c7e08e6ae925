"""/v1 payment methods, with Duemint's names, parameters and shapes."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query
from fastapi.responses import Response

from dtehub.audit.actions import Action
from dtehub.dependencies import AuthDep, SessionDep, SettingsDep, transactional
from dtehub.errors_http import error_responses
from dtehub.kit.dates import Day
from dtehub.kit.pagination import Page, PageDep, PageRequest
from dtehub.kit.parameters import OrderQuery, choice, flag
from dtehub.kit.rut import ClientTaxId
from dtehub.kit.schema import MAX_ID, respond
from dtehub.models import PaymentStatus
from dtehub.payments import service
from dtehub.payments.filters import PaymentDateBy, PaymentFilters, PaymentOrderBy
from dtehub.payments.schemas import (
    PaymentCreate,
    PaymentMethodOut,
    PaymentOut,
    PaymentUpdate,
)
from dtehub.portal.links import Links

router = APIRouter(prefix="/v1", tags=["payments"])

PaymentPage = Page[PaymentOut]
PaymentMethodPage = Page[PaymentMethodOut]


@router.get("/getPayments", response_model=PaymentPage, responses=error_responses())
@transactional
def get_payments(
    auth: AuthDep,
    session: SessionDep,
    page: PageDep,
    since: Annotated[Day | None, Query(description="From this date (YYYY-MM-DD), per dateBy")] = None,
    until: Annotated[Day | None, Query(description="Up to this date (YYYY-MM-DD), per dateBy")] = None,
    date_by: Annotated[
        PaymentDateBy,
        choice("dateBy", "1 payment date (default), 2 creation, 3 reconciliation", PaymentDateBy),
    ] = PaymentDateBy.PAYMENT,
    currency: Annotated[str | None, Query(pattern="^[A-Za-z]{3}$", description="ISO code, e.g. CLP")] = None,
    payment_method_id: Annotated[
        int | None, Query(alias="paymentMethodId", ge=1, le=32767, description="See getPaymentMethods")
    ] = None,
    document_id: Annotated[
        int | None, Query(alias="documentId", ge=1, le=MAX_ID, description="Payments that go to it")
    ] = None,
    client_id: Annotated[int | None, Query(alias="clientId", ge=1, le=MAX_ID)] = None,
    client_tax_id: Annotated[
        ClientTaxId | None, Query(alias="clientTaxId", description="e.g. 99999999-9")
    ] = None,
    order_by: Annotated[
        PaymentOrderBy,
        choice("orderBy", "1 payment date (default), 2 creation, 3 amount", PaymentOrderBy),
    ] = PaymentOrderBy.PAYMENT_DATE,
    order: OrderQuery = "DESC",
    expand_file: Annotated[
        bool, flag("expandFile", "Accepted for compatibility: payments carry no files")
    ] = False,
    status: Annotated[
        PaymentStatus,
        Query(description="0 pending reconciliation, 1 reconciled (default), 2 discarded"),
    ] = PaymentStatus.RECONCILED,
) -> Response:
    """List the company's payments (Duemint's getPayments)."""
    filters = PaymentFilters(
        status=status,
        date_by=date_by,
        since=since,
        until=until,
        currency=currency.upper() if currency else None,
        method_id=payment_method_id,
        document_id=document_id,
        client_id=client_id,
        client_tax_id=client_tax_id,
    )
    items, total = service.list_payments(
        session, auth.company_id, filters, order_by=order_by, descending=order == "DESC", page=page
    )
    return respond(PaymentPage.of(items, total, page))


@router.get("/getPayment", response_model=PaymentOut, responses=error_responses(404))
@transactional
def get_payment(
    auth: AuthDep,
    session: SessionDep,
    id: Annotated[int, Query(ge=1, le=MAX_ID, description="The payment's id")],
) -> Response:
    """One payment by id, with the documents it goes to."""
    payment = service.require(session, auth.company_id, id)
    return respond(service.present(session, auth.company_id, payment))


@router.post("/createPayment", response_model=PaymentOut, responses=error_responses(404, 409))
@transactional(audit=Action.CREATE_PAYMENT)
def create_payment(
    auth: AuthDep, session: SessionDep, settings: SettingsDep, body: PaymentCreate
) -> Response:
    """Record a payment from a client, split over its documents (reconciled unless ``status`` is 0)."""
    payment = service.create_payment(session, auth.company_id, body, Links(settings.public_base))
    return respond(service.present(session, auth.company_id, payment))


@router.post("/updatePayment", response_model=PaymentOut, responses=error_responses(404, 409))
@transactional(audit=Action.UPDATE_PAYMENT)
def update_payment(
    auth: AuthDep, session: SessionDep, settings: SettingsDep, body: PaymentUpdate
) -> Response:
    """Reconcile (status 1), discard (2) or set back to pending (0) a payment, or change its texts."""
    payment = service.update_payment(session, auth.company_id, body, Links(settings.public_base))
    return respond(service.present(session, auth.company_id, payment))


@router.get("/getPaymentMethods", response_model=PaymentMethodPage, responses=error_responses())
@transactional
def get_payment_methods(auth: AuthDep) -> Response:
    """The payment methods a payment can name (the same for every company)."""
    methods = service.payment_methods()
    return respond(PaymentMethodPage.of(methods, len(methods), PageRequest(page=1, per_page=100)))
