"""The payment methods a payment can name (``paymentMethodId``): a fixed catalogue, the same for every
company, so it lives in code rather than in a table."""

from __future__ import annotations

PAYMENT_METHODS: dict[int, str] = {
    1: "Transferencia",
    2: "Depósito",
    3: "Cheque",
    4: "Efectivo",
    5: "Tarjeta de crédito",
    6: "Tarjeta de débito",
    7: "Vale vista",
    8: "Webpay",
    9: "Compensación",
    10: "Otro",
}


def method_name(method_id: int | None) -> str | None:
    return PAYMENT_METHODS.get(method_id) if method_id is not None else None
