"""Outgoing e-mail: SMTP (``DTEHUB_SMTP_URL``), or ``.eml`` files in a folder when no server is set."""
