"""The absolute links dtehub hands out. Each carries the object's unguessable key, which is the
only credential a customer needs (and the portal checks in constant time)."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Links:
    base: str

    def invoice_page(self, document_id: int, key: str) -> str:
        return f"{self.base}/portal/invoice/{document_id}/{key}"

    def invoice_xml(self, document_id: int, key: str) -> str:
        return f"{self.base}/portal/downloadInvoiceXml/{document_id}/{key}"

    def invoice_pdf(self, document_id: int, key: str) -> str:
        return f"{self.base}/portal/showPdf/{document_id}/{key}"

    def note_xml(self, note_id: int, key: str) -> str:
        return f"{self.base}/portal/downloadNoteXml/{note_id}/{key}"

    def note_pdf(self, note_id: int, key: str) -> str:
        return f"{self.base}/portal/showNotePdf/{note_id}/{key}"

    def client_page(self, client_id: int, key: str) -> str:
        return f"{self.base}/portal/client/{client_id}/{key}"

    def file_download(self, file_id: int, key: str) -> str:
        return f"{self.base}/portal/file/{file_id}/{key}"
