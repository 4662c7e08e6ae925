"""Periodic work that ``dtehub serve`` runs next to the API: sending due reminders, delivering webhooks.

Each job runs in a thread of its own, one run at a time, every ``interval`` seconds, until the server
stops. The jobs keep no state of their own: what is due, claimed or done lives in the database, so
any number of processes (``--workers``, several machines) may run the same jobs at once.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from sqlalchemy.orm import Session, sessionmaker

from dtehub.config import Settings
from dtehub.factoring.cedibility import SiiAccess
from dtehub.factoring.cession import follow_pending
from dtehub.portal.links import Links
from dtehub.reminders.service import run as run_reminders
from dtehub.webhooks.delivery import deliver_due
from dtehub.webhooks.jobs import SWEEP_INTERVAL, run_sweep
from dtehub.webhooks.signing import secret_box

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class PeriodicJob:
    name: str
    interval: float
    """Seconds between the end of one run and the start of the next."""
    run: Callable[[], object]


def server_jobs(settings: Settings, factory: sessionmaker[Session]) -> list[PeriodicJob]:
    """The jobs ``dtehub serve`` runs, as the settings ask: the overdue sweep; webhook deliveries every
    ``webhook_interval`` seconds when ``DTEHUB_SECRET_KEY`` is set (without it nothing can be signed);
    reminders every ``reminders_interval`` seconds unless it is 0."""
    links = Links(settings.public_base)
    jobs = [PeriodicJob("webhooks-overdue-sweep", SWEEP_INTERVAL, lambda: run_sweep(factory, links))]
    if secret_box(settings) is not None:
        jobs.append(
            PeriodicJob(
                "webhooks-delivery", settings.webhook_interval, lambda: deliver_due(factory, settings)
            )
        )
    else:
        log.warning("DTEHUB_SECRET_KEY is not set: webhooks are not delivered")
    if settings.cession_follow_interval > 0:
        access = SiiAccess(settings)
        jobs.append(
            PeriodicJob(
                "cessions-follow",
                settings.cession_follow_interval,
                lambda: follow_pending(factory, access, links),
            )
        )
    if settings.reminders_interval > 0:
        jobs.append(
            PeriodicJob("reminders", settings.reminders_interval, lambda: run_reminders(factory, settings))
        )
    return jobs


class JobRunner:
    """Runs :class:`PeriodicJob` s in daemon threads; :meth:`stop` lets a run in progress finish."""

    def __init__(self, jobs: Sequence[PeriodicJob]) -> None:
        self._jobs = list(jobs)
        self._stopping = threading.Event()
        self._threads: list[threading.Thread] = []

    def start(self) -> None:
        for job in self._jobs:
            thread = threading.Thread(target=self._loop, args=(job,), name=f"dtehub-{job.name}", daemon=True)
            thread.start()
            self._threads.append(thread)

    def _loop(self, job: PeriodicJob) -> None:
        while not self._stopping.is_set():
            try:
                job.run()
            except Exception:  # a failed run is logged and tried again at the next tick
                log.exception("background job %s failed", job.name)
            self._stopping.wait(job.interval)

    def stop(self, timeout: float = 30.0) -> None:
        self._stopping.set()
        for thread in self._threads:
            thread.join(timeout)
