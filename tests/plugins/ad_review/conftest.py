from __future__ import annotations

from datetime import datetime

import pytest

from core.clock import SEOUL


@pytest.fixture(autouse=True)
def attachments_dir(tmp_path, monkeypatch):
    """Keep every test's attachment store in its own directory (PostgreSQL stores have no file)."""
    monkeypatch.setenv("CIVIC_ADREVIEW_ATTACHMENTS", str(tmp_path / "attachments"))
    return tmp_path / "attachments"


@pytest.fixture
def sunday(manual_clock):
    """The clock on Sunday 2016-03-06 12:00 in Seoul, the day before session 2016-W10 opens."""
    manual_clock.set(datetime(2016, 3, 6, 12, 0, tzinfo=SEOUL))
    return manual_clock
