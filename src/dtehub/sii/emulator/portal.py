"""What the emulated SII answers to each request: login, company selection, listing, respaldo, PDF,
logout. No HTTP here (see :mod:`dtehub.sii.emulator.server`): a :class:`Request` in, a :class:`Response`
out, so the rules read in one place.
"""

from __future__ import annotations

import secrets
import threading
import time
from collections import Counter
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from urllib.parse import unquote, urlencode

from cryptography import x509

from dtehub.kit.rut import InvalidRut, normalize_rut
from dtehub.sii.emulator import pages
from dtehub.sii.emulator.certificates import TestCertificateAuthority, holder_rut
from dtehub.sii.emulator.data import Company, EmulatorData, Person, StoredDte
from dtehub.sii.emulator.rcv import RcvFacade, RcvRequest
from dtehub.sii.emulator.sessions import Faults, Lookup, Session, SessionStore

AUTH = "/cgi_AUT2000"
PORTAL = pages.PORTAL
DEFAULT_REFERENCIA = "https://misiir.sii.cl/cgi_misii/siihome.cgi"
LOCEXP_COOKIE = "NETSCAPE_LIVEWIRE.locexp"
PAGE_SIZE = 10
MAX_DOWNLOAD_DOCUMENTS = 20
SESSION_COOKIES = (
    "TOKEN",
    "CSESSIONID",
    "RUT_NS",
    "DV_NS",
    *(
        f"NETSCAPE_LIVEWIRE.{part}"
        for part in ("rut", "rutm", "dv", "dvm", "clave", "mac", "exp", "sec", "lms")
    ),
)
# The "Error al contribuyente" codes; SII documents none of them, 02.35.209 is the one integrators report.
NOT_FOUND_CODE = "02.35.209"
TOO_MANY_CODE = "02.35.209"
WRONG_COMPANY_CODE = "02.35.201"
NOT_BY_GET_CODE = "02.35.200"
BAD_PARAMETER_CODE = "02.35.205"
NO_COMPANY_MESSAGE = "Usted no ha seleccionado una Empresa."
NO_MIPYME_MESSAGE = "No existe información en MIPYME para el rut ingresado"


@dataclass(frozen=True)
class Request:
    method: str
    path: str
    raw_query: str
    query: Mapping[str, str]
    form: Mapping[str, str]
    cookies: Mapping[str, str]
    peer_certificate: bytes | None
    """The client's certificate (DER) when it presented one in the TLS handshake."""
    headers: Mapping[str, str] = field(default_factory=dict)
    """Lower-case names."""
    body: bytes = b""


@dataclass(frozen=True)
class Response:
    status: int
    body: bytes
    content_type: str = pages.HTML_CONTENT_TYPE
    headers: tuple[tuple[str, str], ...] = ()


def _html(body: bytes, headers: tuple[tuple[str, str], ...] = ()) -> Response:
    return Response(200, body, headers=headers)  # SII answers 200 even when it refuses


def _file(body: bytes, content_type: str, disposition: str, filename: str) -> Response:
    """A download: ``disposition`` is ``inline`` (shown) or ``attachment`` (saved)."""
    headers = (("Content-Disposition", f'{disposition}; filename="{filename}"'),)
    return Response(200, body, content_type=content_type, headers=headers)


def _login_error(last_two: int, message: str) -> Response:
    return _html(pages.alert_page(message, pages.login_code(last_two)))


def _contribuyente_error(message: str, code: str) -> Response:
    return _html(pages.contribuyente_error_page(message, code))


class Portal:
    """The emulated hosts' pages, routed by path."""

    def __init__(
        self, data: EmulatorData, authority: TestCertificateAuthority, sessions: SessionStore, faults: Faults
    ) -> None:
        self.data = data
        self.authority = authority
        self.sessions = sessions
        self.faults = faults
        self.rcv = RcvFacade(data, data.register, sessions, faults)
        self._public: dict[str, Callable[[Request], Response]] = {
            f"{AUTH}/CAutInicio.cgi": self._login,
            f"{AUTH}/autTermino.cgi": self._logout,
        }
        self._private: dict[str, Callable[[Request, Session], Response]] = {
            f"{PORTAL}/mipeSelEmpresa.cgi": self._select_company,
            f"{PORTAL}/mipeAdminDocsEmi.cgi": self._listing,
            f"{PORTAL}/mipeGesDocEmi.cgi": self._detail,
            f"{PORTAL}/mipeDisplayPDF.cgi": self._pdf,
            f"{PORTAL}/auth.cgi": self._respaldo_form,
            f"{PORTAL}/lista_documentos.cgi": self._respaldo_list,
            f"{PORTAL}/download.cgi": self._download,
        }
        self.requests: Counter[str] = Counter()
        """Requests of the portal's pages so far, by page (``download.cgi``…), whatever they answered."""
        self.requests_lock = threading.Lock()

    def answer(self, request: Request) -> Response:
        if self.rcv.handles(request.path):
            answer = self.rcv.answer(
                RcvRequest(
                    request.method,
                    request.path,
                    request.query,
                    request.headers,
                    request.cookies,
                    request.body,
                )
            )
            return Response(answer.status, answer.body, answer.content_type, answer.headers)
        public = self._public.get(request.path)
        if public is not None:
            return public(request)
        private = self._private.get(request.path)
        if private is None:
            return Response(404, pages.not_found_page(request.path))
        with self.requests_lock:
            self.requests[request.path.rsplit("/", 1)[-1]] += 1
        if request.path.endswith("/lista_documentos.cgi") and request.method != "POST":
            return _contribuyente_error("Acceso no permitido.", NOT_BY_GET_CODE)
        session = self._session(request)
        if isinstance(session, Response):
            return session
        return private(request, session)

    # --- login and logout ----------------------------------------------------------------------------

    def _login(self, request: Request) -> Response:
        if request.peer_certificate is None:
            return _login_error(34, "No se recibió su Certificado Digital. Intente ingresarlo nuevamente.")
        certificate = x509.load_der_x509_certificate(request.peer_certificate)
        if self.authority.is_revoked(certificate.serial_number):
            return _login_error(
                35,
                "El Certificado Digital que usted ha seleccionado para identificarse fue revocado por la "
                "entidad que lo emitió. Debe solicitar otro.",
            )
        now = datetime.now(UTC)
        if not certificate.not_valid_before_utc <= now <= certificate.not_valid_after_utc:
            return _login_error(
                36,
                "Debe solicitar un nuevo Certificado Digital a la entidad emisora. "
                "El que ingresó no está vigente.",
            )
        rut = holder_rut(certificate)
        person = self.data.people.get(rut) if rut else None
        if person is None:
            why = "no corresponde a un contribuyente registrado" if rut else "no indica el RUT de su titular"
            return _login_error(
                38, f"El Certificado Digital {why}. Verifique que sea el suyo e intente de nuevo."
            )
        if person.password_only:
            return _login_error(33, "Debe autenticarse con Clave Tributaria, NO con Certificado Digital.")
        preset = person.companies[0] if len(person.companies) == 1 else None
        session = self.sessions.open(person.rut, preset)
        if session is None:
            limit = self.faults.max_sessions_per_person
            return _login_error(
                27,
                f'Debe cerrar sesiones en el link "cerrar sesión", ya que se permite un máximo de {limit} '
                "sesiones abiertas al mismo tiempo.",
            )
        return _html(pages.login_success_page(_referencia(request)), _session_cookies(session))

    def _logout(self, request: Request) -> Response:
        token = request.cookies.get("TOKEN", "")
        if token:
            self.sessions.close(token)
        gone = "=; expires=Thu, 01 Jan 1970 00:00:00 GMT; path=/"
        headers = tuple(("Set-Cookie", f"{name}{gone}") for name in SESSION_COOKIES)
        return _html(pages.logout_page(), headers)

    def _session(self, request: Request) -> Session | Response:
        """The request's open session, or SII's answer to a request without one (codes 28 and 29)."""
        token = request.cookies.get("TOKEN", "")
        lookup, session = (
            self.sessions.find(token)
            if token and LOCEXP_COOKIE in request.cookies
            else (Lookup.UNKNOWN, None)
        )
        if lookup is Lookup.EXPIRED:
            return _login_error(
                29,
                "Transcurrió el tiempo máximo que puede durar la sesión. Debe identificarse nuevamente.",
            )
        if session is None:
            return _login_error(
                28,
                "Usted no se ha autenticado en el sitio Web del SII o puede que su sesión haya caducado. "
                "Debe identificarse nuevamente.",
            )
        return session

    # --- company selection ---------------------------------------------------------------------------

    def _select_company(self, request: Request, session: Session) -> Response:
        person = self.data.people.get(session.person_rut) or Person(session.person_rut, "")
        if request.method == "POST":
            wanted = _rut_or_none(request.form.get("RUT_EMP", ""))
            if wanted is not None and wanted in person.companies:
                self.sessions.select_company(session.token, wanted)
                return self._launcher(wanted)
        elif len(person.companies) == 1:
            self.sessions.select_company(session.token, person.companies[0])
            return self._launcher(person.companies[0])
        offered = [(rut, self.data.companies[rut].name) for rut in person.companies]
        return _html(pages.company_selector_page(offered))

    def _launcher(self, company_rut: str) -> Response:
        return _html(pages.launcher_page(company_rut, self.data.companies[company_rut].name))

    def _company(self, session: Session) -> Company | Response:
        """The session's selected company, or the alert for a query made before selecting one."""
        company = self.data.companies.get(session.company_rut or "")
        if company is None:
            return _html(pages.alert_page(NO_COMPANY_MESSAGE))
        return company

    # --- the listing and a document's pages -------------------------------------------------------

    def _listing(self, request: Request, session: Session) -> Response:
        company = self._company(session)
        if isinstance(company, Response):
            return company
        query = request.query
        documents = [
            document
            for document in (self.data.issued_by(company.rut) if company.mipyme else ())
            if _listing_match(document, query)
        ]
        documents.sort(key=lambda d: (-d.issue_date.toordinal(), d.code, -d.folio))
        pages_count = max(1, -(-len(documents) // PAGE_SIZE))
        number = query.get("NUM_PAG", "")
        page = min(max(int(number), 1), pages_count) if number.isdigit() else 1
        paging = pages.Paging(
            page=page,
            pages=pages_count,
            total=len(documents),
            previous_query=_with_page(query, page - 1) if page > 1 else None,
            next_query=_with_page(query, page + 1) if page < pages_count else None,
        )
        shown = documents[(page - 1) * PAGE_SIZE : page * PAGE_SIZE]
        return _html(pages.listing_page(shown, paging))

    def _own_document(self, session: Session, codigo: str) -> StoredDte | Response:
        company = self._company(session)
        if isinstance(company, Response):
            return company
        document = self.data.by_codigo(int(codigo)) if codigo.isdigit() else None
        if document is None or document.issuer_rut != company.rut or not company.mipyme:
            return _contribuyente_error("El documento solicitado no existe.", NOT_FOUND_CODE)
        return document

    def _detail(self, request: Request, session: Session) -> Response:
        document = self._own_document(session, request.query.get("CODIGO", ""))
        if isinstance(document, Response):
            return document
        return _html(pages.detail_page(document))

    def _pdf(self, request: Request, session: Session) -> Response:
        document = self._own_document(session, request.query.get("DHDR_CODIGO", ""))
        if isinstance(document, Response):
            return document
        filename = f"DTE_{document.issuer_rut}_{document.code}_{document.folio}.pdf"
        return _file(pages.pdf_document(document), "application/pdf", "inline", filename)

    # --- the respaldo route --------------------------------------------------------------------------

    def _respaldo_form(self, request: Request, session: Session) -> Response:
        number, _, dv = (session.company_rut or "").partition("-")
        return _html(pages.respaldo_form_page(number, dv))

    def _respaldo_company(self, session: Session, parameters: Mapping[str, str]) -> Company | Response:
        """The company the respaldo request names, which must be the session's selected one."""
        selected = self._company(session)
        if isinstance(selected, Response):
            return selected
        named = _rut_or_none(f"{parameters.get('RUT_EMP', '')}-{parameters.get('DV_EMP', '')}")
        if named != selected.rut:
            return _contribuyente_error(
                "El RUT ingresado no corresponde a la empresa seleccionada.", WRONG_COMPANY_CODE
            )
        if not selected.mipyme:
            return _html(pages.alert_page(NO_MIPYME_MESSAGE))
        return selected

    def _respaldo_list(self, request: Request, session: Session) -> Response:
        company = self._respaldo_company(session, request.form)
        if isinstance(company, Response):
            return company
        documents = self._respaldo_matches(company, request.form, ignore_folio=False)
        if isinstance(documents, Response):
            return documents
        return _html(pages.respaldo_list_page(documents, _download_query(request.form)))

    def _download(self, request: Request, session: Session) -> Response:
        parameters = request.form if request.method == "POST" else request.query
        company = self._respaldo_company(session, parameters)
        if isinstance(company, Response):
            return company
        ignore_folio = self.faults.download_ignores_folio
        documents = self._respaldo_matches(company, parameters, ignore_folio=ignore_folio)
        if isinstance(documents, Response):
            return documents
        if not documents:
            return _contribuyente_error(
                "No existen documentos para los criterios ingresados.", NOT_FOUND_CODE
            )
        if len(documents) > MAX_DOWNLOAD_DOCUMENTS:
            return _contribuyente_error(
                f"La consulta tiene {len(documents)} documentos y el máximo por descarga es "
                f"{MAX_DOWNLOAD_DOCUMENTS}. Acote el rango de folios.",
                TOO_MANY_CODE,
            )
        served = self._with_references(documents)
        filename = f"DTE_{company.rut}_{documents[0].code}_{documents[0].folio}.xml"
        return _file(pages.set_dte(served), "text/xml; charset=ISO-8859-1", "attachment", filename)

    def _respaldo_matches(
        self, company: Company, parameters: Mapping[str, str], *, ignore_folio: bool
    ) -> list[StoredDte] | Response:
        code_text = parameters.get("TPO_DOC", "").strip()
        low_text = "" if ignore_folio else parameters.get("FOLIO", "").strip()
        high_text = "" if ignore_folio else parameters.get("FOLIOHASTA", "").strip()
        receiver_text = parameters.get("RUT_RECP", "").strip()
        if any(text and not text.isdigit() for text in (code_text, low_text, high_text)):
            return _contribuyente_error("Los parámetros de la consulta no son válidos.", BAD_PARAMETER_CODE)
        if parameters.get("ORIGEN", "ENV") not in ("ENV", ""):
            return []  # received documents: the emulator holds issued ones only
        receiver = _rut_or_none(receiver_text) if receiver_text else None
        return [
            document
            for document in self.data.issued_by(company.rut)
            if (not code_text or document.code == int(code_text))
            and (not low_text or document.folio >= int(low_text))
            and (not high_text or document.folio <= int(high_text))
            and (not receiver_text or document.receiver_rut == receiver)
        ]

    def _with_references(self, documents: Sequence[StoredDte]) -> list[StoredDte]:
        """The documents asked for, then the stored ones they refer to, as SII's sets sometimes hold."""
        served = list(documents)
        keys = {document.key for document in served}
        for document in documents:
            for key in document.references:
                referenced = self.data.documents.get(key)
                if referenced is not None and key not in keys:
                    served.append(referenced)
                    keys.add(key)
        return served


# --- small helpers -----------------------------------------------------------------------------------


def _referencia(request: Request) -> str:
    """Where the login page sends the browser: the ``referencia`` field, or the bare query string
    (``CAutInicio.cgi?https://…``)."""
    given = request.form.get("referencia") or request.query.get("referencia")
    if given:
        return given
    raw = unquote(request.raw_query)
    return raw if raw.startswith(("http://", "https://")) else DEFAULT_REFERENCIA


def _session_cookies(session: Session) -> tuple[tuple[str, str], ...]:
    number, _, dv = session.person_rut.partition("-")
    livewire = {
        "rut": number,
        "rutm": number,
        "dv": dv,
        "dvm": dv,
        "clave": "SI",
        "mac": secrets.token_hex(16).upper(),
        "exp": str(int(time.time()) + 2 * 3600),
        "sec": "0000",
        "lms": "120",
    }
    values = {
        "TOKEN": session.token,
        "CSESSIONID": session.token,
        "RUT_NS": number,
        "DV_NS": dv,
        **{f"NETSCAPE_LIVEWIRE.{part}": value for part, value in livewire.items()},
    }
    # Host-only cookies, as SII sets them: no Domain attribute.
    return tuple(("Set-Cookie", f"{name}={value}; path=/") for name, value in values.items())


def _rut_or_none(text: str) -> str | None:
    try:
        return normalize_rut(text)
    except InvalidRut:
        return None


def _listing_match(document: StoredDte, query: Mapping[str, str]) -> bool:
    """The listing's filters as SII applies them: the type exactly, the folio as a *prefix* of its
    digits (FOLIO=5 also lists 55 and 501), the receiver exactly; dates and state are ignored."""
    code = query.get("TPO_DOC", "").strip()
    folio = query.get("FOLIO", "").strip()
    receiver = query.get("RUT_RECP", "").strip()
    if code and (not code.isdigit() or document.code != int(code)):
        return False
    if folio and not str(document.folio).startswith(folio.lstrip("0") or "0"):
        return False
    return not receiver or document.receiver_rut == _rut_or_none(receiver)


def _with_page(query: Mapping[str, str], page: int) -> str:
    return urlencode({**query, "NUM_PAG": str(page)}, encoding=pages.ENCODING)


_DOWNLOAD_FIELDS = (
    "RUT_EMP", "DV_EMP", "ORIGEN", "RUT_RECP", "FOLIO", "FOLIOHASTA", "RZN_SOC",
    "FEC_DESDE", "FEC_HASTA", "TPO_DOC", "ESTADO", "ORDEN",
)  # fmt: skip


def _download_query(form: Mapping[str, str]) -> str:
    """The ``download.cgi`` query for the same search, in the order SII writes it."""
    fields = {name: form.get(name, "") for name in _DOWNLOAD_FIELDS}
    return urlencode({**fields, "DOWNLOAD": "XML"}, encoding=pages.ENCODING)
