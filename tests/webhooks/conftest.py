from __future__ import annotations

from collections.abc import Iterator

import pytest
from sqlalchemy.orm import Session, sessionmaker

from tests.webhooks.receiver import Receiver, receiver


@pytest.fixture
def rx() -> Iterator[Receiver]:
    with receiver() as running:
        yield running


@pytest.fixture
def worker_factory(session: Session) -> sessionmaker[Session]:
    """Sessions for the delivery worker inside the test's transaction (rolled back at its end)."""
    return sessionmaker(
        bind=session.connection(),
        join_transaction_mode="create_savepoint",
        expire_on_commit=False,
        autoflush=False,
    )
