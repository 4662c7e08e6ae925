"""The browser tests serve dtehub on a SQLite file of their own, whatever ``DTEHUB_TEST_DATABASE_URL``
says: the run on SQLite runs them, and a run on PostgreSQL skips them rather than repeat the very same
work (CI runs the suite once on each database within its time budget)."""

from __future__ import annotations

import os

import pytest


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    if not os.environ.get("DTEHUB_TEST_DATABASE_URL"):
        return
    same_work = pytest.mark.skip(
        reason="a browser test serves the app on its own SQLite file: the run on SQLite covers it"
    )
    for item in items:
        if item.path.name.endswith("_in_a_browser.py"):
            item.add_marker(same_work)
