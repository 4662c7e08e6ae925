"""The SII client below the API, where a quirk cannot be reached through a whole retrieval."""

from __future__ import annotations

import pytest

from dtehub.sii.certificate import load_pfx
from dtehub.sii.config import Deadline
from dtehub.sii.emulator import Emulator
from dtehub.sii.errors import DocumentNotFound
from dtehub.sii.sessions import SessionPool
from tests.mipyme.conftest import COMPANY, NEVER_MIPYME, PASSWORD, Certificates


async def test_an_empty_respaldo_listing_and_a_company_without_mipyme_data_are_not_found(
    sii_pool: SessionPool, certificates: Certificates, sii: Emulator
) -> None:
    certificate = load_pfx(certificates.holder, PASSWORD)
    deadline = Deadline(10)
    async with sii_pool.session(certificate, deadline) as session:
        await session.select_company(COMPANY, deadline)
        with pytest.raises(DocumentNotFound, match="holds no document of type 33 folio 999"):
            await session.download_xml(COMPANY, 33, 999, deadline)  # cant_reg 0
        await session.select_company(NEVER_MIPYME, deadline)
        with pytest.raises(DocumentNotFound, match="No existe información en MIPYME"):
            await session.download_xml(NEVER_MIPYME, 33, 1, deadline)
        await session.select_company(COMPANY, deadline)  # the same session goes on working
        assert (await session.download_xml(COMPANY, 33, 25568, deadline)).startswith(b"<?xml")
