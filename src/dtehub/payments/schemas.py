"""Payments on the wire: Duemint's names, amounts as strings with two decimals, ids as strings."""

from __future__ import annotations

from typing import Annotated

from pydantic import Field, WithJsonSchema, field_validator, model_validator

from dtehub.documents.schemas import Currency, Number
from dtehub.kit.dates import Day
from dtehub.kit.money import AmountOut, PositiveAmountIn
from dtehub.kit.rut import ClientTaxId
from dtehub.kit.schema import MAX_ID, ApiInput, ApiModel, IdRef
from dtehub.models import PaymentStatus
from dtehub.payments.methods import PAYMENT_METHODS

STATUS_NAMES = {
    PaymentStatus.PENDING: "Pendiente de conciliación",
    PaymentStatus.RECONCILED: "Conciliado",
    PaymentStatus.DISCARDED: "Descartado",
}

MAX_ALLOCATIONS = 500


def _known_method(method_id: int | None) -> int | None:
    if method_id is not None and method_id not in PAYMENT_METHODS:
        raise ValueError(f"{method_id} is not a payment method (see getPaymentMethods)")
    return method_id


PaymentMethodId = Annotated[
    Annotated[int, WithJsonSchema({"type": "integer", "enum": sorted(PAYMENT_METHODS)})] | None,
    Field(default=None, description="See getPaymentMethods"),
]
Text64 = Annotated[str, Field(max_length=64)]


class AllocationIn(ApiInput):
    """One document the payment goes to: by ``id``, or by ``number`` (and ``code`` when the number is
    ambiguous), with the amount it takes of the payment."""

    alternatives = ("id", "number")
    exactly_one = True

    id: int | None = Field(default=None, ge=1, le=MAX_ID, description="The document's id")
    number: Number | None = None
    code: int | None = Field(default=None, ge=1, le=999, description="SII code, with number")
    amount: PositiveAmountIn

    @model_validator(mode="after")
    def _one_way_to_name_it(self) -> AllocationIn:
        if (self.id is None) == (self.number is None):
            raise ValueError("give the document's id, or its number (and code)")
        return self


class PaymentCreate(ApiInput):
    alternatives = ("client_id", "client_tax_id")

    paid_on: Day = Field(alias="date", description="The day the money was received (YYYY-MM-DD)")
    amount: PositiveAmountIn
    currency: Currency = "CLP"
    client_id: int | None = Field(default=None, ge=1, le=MAX_ID)
    client_tax_id: ClientTaxId | None = None
    payment_method_id: PaymentMethodId = None
    description: str = Field(default="", max_length=255)
    bank_code: Text64 = ""
    account_number: Text64 = ""
    transaction_code: str = Field(default="", max_length=128)
    comments: str = Field(default="", max_length=100_000)
    status: int = Field(default=1, ge=0, le=1, description="0 pending reconciliation, 1 reconciled (default)")
    documents: list[AllocationIn] = Field(default_factory=list, max_length=MAX_ALLOCATIONS)

    @field_validator("currency")
    @classmethod
    def _upper(cls, currency: str) -> str:
        return currency.upper()

    @field_validator("amount")
    @classmethod
    def _positive(cls, amount: int) -> int:
        if amount <= 0:
            raise ValueError("must be more than 0")
        return amount

    @field_validator("payment_method_id")
    @classmethod
    def _method(cls, method_id: int | None) -> int | None:
        return _known_method(method_id)


class PaymentUpdate(ApiInput):
    """updatePayment: only the fields given change."""

    id: int = Field(ge=1, le=MAX_ID)
    status: int | None = Field(
        default=None, ge=0, le=2, description="0 back to pending, 1 reconcile, 2 discard"
    )
    payment_method_id: PaymentMethodId = None
    description: str | None = Field(default=None, max_length=255)
    bank_code: Text64 | None = None
    account_number: Text64 | None = None
    transaction_code: str | None = Field(default=None, max_length=128)
    comments: str | None = Field(default=None, max_length=100_000)

    @field_validator("payment_method_id")
    @classmethod
    def _method(cls, method_id: int | None) -> int | None:
        return _known_method(method_id)


class PaymentClient(ApiModel):
    id: str
    name: str
    tax_id: str


class AllocatedDocument(ApiModel):
    id: str
    number: str
    code: int | None = Field(description="SII code; null for a document created without one")


class AllocationOut(ApiModel):
    amount: AmountOut
    document: AllocatedDocument


class PaymentOut(ApiModel):
    id: str
    created_at: str = Field(description="YYYY-MM-DD HH:MM:SS, Santiago time")
    paid_on: str = Field(alias="date", description="The payment's date, YYYY-MM-DD")
    currency: str
    amount: AmountOut
    unallocated_amount: AmountOut = Field(description="What no document takes of the amount")
    description: str
    bank_code: str
    account_number: str
    payment_method: str | None = Field(description="The payment method's name")
    payment_method_id: str | None
    transaction_code: str
    document_number: str | None = Field(description="The number of its first document (by id), if any")
    comments: str
    status: int = Field(description="0 pending reconciliation, 1 reconciled, 2 discarded")
    status_name: str
    reconciled_at: str | None = Field(description="When it was reconciled (Santiago time), while it is")
    updated_at: str
    client: PaymentClient
    documents: list[AllocationOut]
    files: list[IdRef] = Field(description="Always empty: payments carry no files yet")


class PaymentMethodOut(ApiModel):
    id: str
    name: str
