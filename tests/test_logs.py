"""A real server's access log never shows a link key (the only credential of a portal link)."""

from __future__ import annotations

import logging

from dtehub.logs import RedactLinkKeys, redact_path


def test_link_keys_are_masked_and_other_paths_kept() -> None:
    assert redact_path("/portal/invoice/12/s3cr3tKey?cedible=1") == "/portal/invoice/12/***?cedible=1"
    assert redact_path("/portal/file/7/s3cr3tKey") == "/portal/file/7/***"
    assert redact_path("/v1/getDocuments?page=2") == "/v1/getDocuments?page=2"


def test_uvicorns_access_record_is_redacted() -> None:
    record = logging.LogRecord(
        "uvicorn.access", logging.INFO, __file__, 1, '%s - "%s %s HTTP/%s" %d',
        ("127.0.0.1:5000", "GET", "/portal/downloadInvoiceXml/3/s3cr3tKey", "1.1", 200), None,
    )  # fmt: skip

    RedactLinkKeys().filter(record)

    assert "s3cr3tKey" not in record.getMessage()
    assert "/portal/downloadInvoiceXml/3/***" in record.getMessage()
