"""SOAP 1.1 as SII's web services speak it: envelopes built with lxml, posted with httpx, answers read by
name with the hardened parser.

Two styles meet here. The token services (Apache Axis, ``.jws``) are rpc/encoded: the operation element is
in the service's namespace and every parameter carries ``xsi:type="xsd:string"``; their answers are a string
that holds an escaped XML document (``SII:RESPUESTA``). The acceptance/claim service (JAX-WS) is
document/literal: a namespace-qualified wrapper named after the operation with unqualified parameters; its
answer is a ``return`` element. :func:`envelope` makes either, :func:`call` posts it and gives back the
answer element, :func:`respuesta` reads an escaped ``SII:RESPUESTA``.

Anything that is not a SOAP answer (an HTML maintenance page, a 5xx, a fault) is a
:class:`~dtehub.sii.ws.errors.WsUnavailable` saying what came back; HTTP 401/403 or a fault about the token
is a :class:`TokenRejected`, which the callers answer by asking for a new token once.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

import httpx
from lxml import etree

from dtehub.kit.xml import XmlError, local_name, parse_untrusted
from dtehub.kit.xmlbuild import element
from dtehub.sii.errors import SiiTimeout, SiiUnavailable
from dtehub.sii.ws.errors import WsUnavailable

SOAP_ENV = "http://schemas.xmlsoap.org/soap/envelope/"
SOAP_ENCODING = "http://schemas.xmlsoap.org/soap/encoding/"
XSI = "http://www.w3.org/2001/XMLSchema-instance"
XSD = "http://www.w3.org/2001/XMLSchema"
MAX_ANSWER_BYTES = 2 * 1024 * 1024
_DECLARATION = re.compile(r"\A\s*<\?xml[^>]*\?>")
_TOKEN_WORDS = re.compile(r"token", re.IGNORECASE)


class TokenRejected(Exception):
    """SII did not take the token (expired, unknown): ask for a new one and call again, once."""


@dataclass(frozen=True)
class Operation:
    url: str
    """The endpoint (the WSDL's URL without ``?WSDL``)."""
    namespace: str
    name: str
    encoded: bool
    """rpc/encoded (typed parameters, an encodingStyle) rather than document/literal."""


def envelope(operation: Operation, parameters: Sequence[tuple[str, str]]) -> bytes:
    """The request's bytes: ``Envelope/Body/<operation>`` with the parameters as unqualified children."""
    encoded = operation.encoded
    typed = {etree.QName(XSI, "type"): "xsd:string"} if encoded else None
    wrapper = element(
        etree.QName(operation.namespace, operation.name),
        *(element(name, value, attributes=typed) for name, value in parameters),
        nsmap={"m": operation.namespace},
        attributes={etree.QName(SOAP_ENV, "encodingStyle"): SOAP_ENCODING} if encoded else None,
    )
    nsmap = {"SOAP-ENV": SOAP_ENV, "xsi": XSI, "xsd": XSD} if encoded else {"SOAP-ENV": SOAP_ENV}
    document = element(
        etree.QName(SOAP_ENV, "Envelope"), element(etree.QName(SOAP_ENV, "Body"), wrapper), nsmap=nsmap
    )
    return bytes(etree.tostring(document, encoding="UTF-8", xml_declaration=True))


def call(
    http: httpx.Client,
    operation: Operation,
    parameters: Sequence[tuple[str, str]],
    *,
    token: str | None = None,
) -> etree._Element:
    """Post the operation and return the element its answer holds (``getSeedReturn``, ``return``…)."""
    headers = {"Content-Type": "text/xml; charset=utf-8", "SOAPAction": '""'}
    if token is not None:
        headers["Cookie"] = f"TOKEN={token}"
    try:
        response = http.post(operation.url, content=envelope(operation, parameters), headers=headers)
    except httpx.TimeoutException:
        raise SiiTimeout(f"SII's {operation.name} did not answer in time; retry later") from None
    except httpx.HTTPError as error:
        raise SiiUnavailable(
            f"SII's {operation.name} at {_host(operation.url)} could not be reached "
            f"({type(error).__name__}); retry later, or check DTEHUB_SII_WS_URL / DTEHUB_SII_RECLAMO_URL"
        ) from None
    if response.status_code in (401, 403):
        raise TokenRejected(operation.name)
    root = _parse_answer(response.content, operation)
    body = next((child for child in root if _is(child, SOAP_ENV, "Body")), None)
    if not _is(root, SOAP_ENV, "Envelope") or body is None:
        raise _unexpected(operation, response.status_code, "an answer that is not SOAP")
    fault = next((child for child in body if _is(child, SOAP_ENV, "Fault")), None)
    if fault is not None:
        message = _child_text(fault, "faultstring") or "no reason given"
        if _TOKEN_WORDS.search(message):
            raise TokenRejected(operation.name)
        raise WsUnavailable(f"SII's {operation.name} answered a SOAP fault: {message[:200]}; retry later")
    if response.status_code >= 400:
        raise _unexpected(operation, response.status_code, "an error")
    wrapper = next((child for child in body if isinstance(child.tag, str)), None)
    answer = (
        next((child for child in wrapper if isinstance(child.tag, str)), None)
        if wrapper is not None
        else None
    )
    if answer is None:
        raise _unexpected(operation, response.status_code, "an empty answer")
    return answer


def respuesta(text: str | None, operation: str) -> etree._Element:
    """The ``SII:RESPUESTA`` document a string answer holds (escaped XML, with or without a declaration)."""
    if not text or not text.strip():
        raise WsUnavailable(f"SII's {operation} answered nothing; retry later")
    try:
        root = parse_untrusted(_DECLARATION.sub("", text).encode("utf-8"), max_bytes=MAX_ANSWER_BYTES)
    except XmlError:
        raise WsUnavailable(f"SII's {operation} answered text that is not XML; retry later") from None
    if local_name(root) != "RESPUESTA":
        raise WsUnavailable(f"SII's {operation} answered {local_name(root)}, not RESPUESTA; retry later")
    return root


def field(root: etree._Element, name: str) -> str | None:
    """The text of the first element called ``name`` (prefixed or not: SII writes both), stripped."""
    for found in root.iter():
        if isinstance(found.tag, str) and local_name(found) == name:
            return (found.text or "").strip()
    return None


def _parse_answer(content: bytes, operation: Operation) -> etree._Element:
    try:
        return parse_untrusted(content, max_bytes=MAX_ANSWER_BYTES)
    except XmlError:
        pass
    # SII labels some answers UTF-8 while their accented text is ISO-8859-1.
    try:
        text = content.decode("iso-8859-1")
        return parse_untrusted(_DECLARATION.sub("", text).encode("utf-8"), max_bytes=MAX_ANSWER_BYTES)
    except XmlError:
        raise _unexpected(operation, None, "something that is not XML") from None


def _unexpected(operation: Operation, status: int | None, what: str) -> WsUnavailable:
    http = f" (HTTP {status})" if status is not None else ""
    return WsUnavailable(
        f"SII's {operation.name} at {_host(operation.url)} answered {what}{http}: SII may be in maintenance; "
        "retry later"
    )


def _host(url: str) -> str:
    return httpx.URL(url).host or url


def _is(element: etree._Element, namespace: str, name: str) -> bool:
    return (
        isinstance(element.tag, str)
        and etree.QName(element).namespace == namespace
        and local_name(element) == name
    )


def _child_text(element: etree._Element, name: str) -> str | None:
    for child in element:
        if isinstance(child.tag, str) and local_name(child) == name:
            return (child.text or "").strip()
    return None
