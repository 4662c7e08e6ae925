"""Queued work survives an outage of the system it goes to, and resumes when it returns.

What the other suites already prove is not repeated here: webhook deliveries to a receiver down then
up (tests/webhooks/test_delivery.py::test_a_receiver_down_then_up_gets_the_event), SMTP answers 451
then accepts (tests/reminders/test_delivery.py::test_a_refused_send_is_retried_with_backoff_then_sent),
a run killed mid-send (tests/reminders/test_delivery.py). MIPYME retrieval from SII queues nothing: a
request while SII is down answers its error and the next one works (tests/mipyme).

Here: an SMTP server that is not running at all, then started, with the real ``dtehub reminders run``
processes: the message stays queued with its attempt and error recorded, then goes out once.
"""

from __future__ import annotations

import subprocess
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

from aiosmtpd.controller import Controller
from sqlalchemy.orm import Session, sessionmaker

from dtehub.config import Settings
from dtehub.models import Company
from tests.faults.helpers import DTEHUB, dtehub_environment
from tests.reminders.conftest import DAY, Recorder, World, factory, world
from tests.servers import free_port

__all__ = ["factory", "world"]  # the reminders' fixtures, used here too


def _run_reminders(settings: Settings, rut: str, smtp_port: int, tmp_path: Path) -> str:
    done = subprocess.run(
        [str(DTEHUB), "reminders", "run", "--date", DAY.isoformat(), "--company", rut],
        env=dtehub_environment(
            settings.database_url,
            smtp_url=f"smtp://127.0.0.1:{smtp_port}",
            smtp_timeout="2",
            reminders_retry_seconds="1",
            reminders_max_attempts="5",
        ),
        cwd=tmp_path,
        capture_output=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 0, done.stderr.decode()
    return done.stdout.decode()


def test_reminders_wait_for_an_smtp_server_that_is_down_then_go_out_once(
    world: World, factory: sessionmaker[Session], settings: Settings, tmp_path: Path
) -> None:
    client = world.client("Constructora Andes", "pagos@andes.cl")
    world.document(client, "1000", DAY - timedelta(days=1))
    with factory() as session:
        company = session.get(Company, world.company_id)
        assert company is not None
        rut = company.rut
    port = free_port()  # nothing listens there yet

    _run_reminders(settings, rut, port, tmp_path)
    [message] = world.messages()
    assert (message.status, message.attempts) == ("pending", 1)
    assert message.last_error
    assert "refused" in message.last_error.lower()

    recorder = Recorder()
    controller = Controller(recorder, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        time.sleep(max(0.0, (message.next_attempt_at - datetime.now(UTC)).total_seconds()))  # retry due
        _run_reminders(settings, rut, port, tmp_path)
        [message] = world.messages()
        assert (message.status, message.attempts) == ("sent", 2)
        assert len(recorder.received) == 1
        assert recorder.received[0].rcpt_tos == ["pagos@andes.cl"]
    finally:
        controller.stop()
