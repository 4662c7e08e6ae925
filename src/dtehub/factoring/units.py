"""Short units of work for the factoring steps that ask SII between them, none open while SII answers:
``dtehub.dependencies.UnitsOfWork`` for a request (each tried again after a lost race), :class:`JobUnits`
for a command or job."""

from __future__ import annotations

from collections.abc import Callable
from contextlib import AbstractContextManager
from typing import Protocol, TypeVar

from sqlalchemy.orm import Session, sessionmaker

from dtehub.db import unit_of_work

T = TypeVar("T")


class Units(Protocol):
    """Runs ``work`` in one unit of work of its own (committed when it returns, rolled back when it raises),
    as a writer unless ``writes`` is False: ``dtehub.dependencies.UnitsOfWork`` for a request (tried again
    after a lost race), :class:`JobUnits` for a command or job."""

    def __call__(self, work: Callable[[Session], T], *, writes: bool = True) -> T: ...


class JobUnits:
    """:class:`Units` over ``dtehub.db.unit_of_work`` (not tried again: jobs and commands)."""

    def __init__(self, factory: sessionmaker[Session]) -> None:
        self.factory = factory

    def __call__(self, work: Callable[[Session], T], *, writes: bool = True) -> T:
        context: AbstractContextManager[Session] = unit_of_work(self.factory, writes=writes)
        with context as session:
            return work(session)
