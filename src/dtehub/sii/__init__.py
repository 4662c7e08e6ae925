"""Retrieval of issued DTEs from SII's MIPYME portal with a person's certificate.

SII publishes no API for its free invoicing portal: :class:`~dtehub.sii.portal.PortalSession` drives its
pages (certificate login, company selection, listing, the "respaldo" XML download, the PDF, logout) as
``docs/sii.md`` and the protocol notes describe. :class:`~dtehub.sii.sessions.SessionPool` reuses
sessions and keeps within SII's limit of open sessions per person; :func:`~dtehub.sii.retrieval.retrieve`
is the one call the API and the CLI make. Every failure is a :class:`~dtehub.sii.errors.SiiError`.

Nothing here writes a certificate or password anywhere: they live in memory for the request only.
"""
