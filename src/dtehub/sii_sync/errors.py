"""The sync's errors (each one row of :data:`dtehub.errors_http.ERRORS`).

InvalidPeriod        invalid_period     since/until not a month dtehub can sync
SyncAlreadyRunning   sii_sync_running   the company's sync is running (here or on another server)
"""

from __future__ import annotations

from dtehub.errors import BadRequest, Conflict


class InvalidPeriod(BadRequest):
    code = "invalid_period"


class SyncAlreadyRunning(Conflict):
    """Another run of the company holds its lease: the answer names it, to follow instead."""

    code = "sii_sync_running"

    @classmethod
    def of_run(cls, run_id: int) -> SyncAlreadyRunning:
        return cls(
            f"a sync of this company is already running (run {run_id}); "
            f"follow it with getSiiSyncRun?id={run_id}"
        )


class LeaseLost(Exception):
    """The run's lease was taken over by another process (this one stopped renewing it in time): the run
    stops here, and whatever it had not committed is left to the new holder. Not an answer to anyone."""
