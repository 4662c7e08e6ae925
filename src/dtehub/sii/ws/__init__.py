"""SII's web services, for factoring: authentication by seed and token (:mod:`.auth`, tokens kept per
certificate), and the acceptance/claim service (:mod:`.reclamo`: reception time, events, cedibility code).

SOAP is spoken with httpx and lxml-built envelopes (:mod:`.soap`, ``docs/decisions.md`` says why). Hosts
are settings (``DTEHUB_SII_WS_URL``, ``DTEHUB_SII_RECLAMO_URL``, trusted through ``DTEHUB_SII_CA_BUNDLE``):
SII's, or ``dtehub sii-emulator``'s. Every failure is a :class:`~dtehub.sii.errors.SiiError`
(:mod:`.errors`), and no token, seed signature or certificate is ever logged.
"""
