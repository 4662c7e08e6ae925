"""What can go wrong with SII's web services, as branches of the SII client's tree (:mod:`dtehub.sii.errors`),
so that each keeps one HTTP status (and MIPYME status) with its family:

    LoginError
    └── WsAuthRefused            sii_ws_auth_refused        502  getToken refused the signed seed (ESTADO)
        └── PersonNotRegistered  sii_person_not_registered  502  -07: the holder is not registered at SII
                                                                 to authenticate with a certificate
    SiiUnavailable
    └── WsUnavailable            sii_ws_unavailable         503  getSeed failed, a SOAP fault, an answer
                                                                 that is not SII's, codResp -1
    InvalidRequest
    └── WsTypeNotHandled         sii_ws_type_not_handled    400  codResp 3: the service handles 33, 34, 43
    HolderNotAuthorized
    └── WsNotAuthorized          sii_ws_not_authorized      422  codResp 14/17: the holder acts for neither
                                                                 the issuer nor the receiver
    DocumentNotFound
    └── WsDocumentUnknown        sii_ws_document_unknown    404  codResp 1, 2, 10, 18: SII has no such
                                                                 document (not received, wrong RUT or folio)

Each message says what happened in SII's words (its code and text) and what to do; none holds a token,
a seed's signature or a certificate.
"""

from __future__ import annotations

from dtehub.sii.errors import (
    DocumentNotFound,
    HolderNotAuthorized,
    InvalidRequest,
    LoginError,
    SiiUnavailable,
)


class WsAuthRefused(LoginError):
    code = "sii_ws_auth_refused"


class PersonNotRegistered(WsAuthRefused):
    code = "sii_person_not_registered"


class WsUnavailable(SiiUnavailable):
    code = "sii_ws_unavailable"


class WsTypeNotHandled(InvalidRequest):
    code = "sii_ws_type_not_handled"


class WsNotAuthorized(HolderNotAuthorized):
    code = "sii_ws_not_authorized"


class WsDocumentUnknown(DocumentNotFound):
    code = "sii_ws_document_unknown"

    def __init__(self, message: str, *, sii_code: int | None = None, field: str | None = None) -> None:
        super().__init__(message, field=field)
        self.sii_code = sii_code
        """SII's codResp."""
