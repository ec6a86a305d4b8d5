"""The auditor's console runs ``civic audit verify`` on a thread of the server: closing the
engine stops it at its next progress report and waits for it, so it never reads a closed store."""

from __future__ import annotations

import threading
import time

from core.engine import Engine
from core.plugins import make_plugin_manager
from core.web.auditing import Verification
from tests.support import petition
from tests.support.petition import Petition


def test_closing_the_engine_stops_a_verification_under_way_and_starts_no_more(manual_clock, tmp_path, monkeypatch):
    monkeypatch.setattr("core.ledger.verify.PROGRESS_EVERY", 1)  # a progress report per record
    engine = Engine(str(tmp_path / "civic.db"), plugins=make_plugin_manager(extra=[petition]),
                    outbox=tmp_path / "o.jsonl")
    for title in ("benches", "lights", "trees"):
        p = Petition(title)
        p.sign(f"{title}-resident")
        engine.save(p)
    run = Verification(engine)
    report_progress = run._progress
    reported = threading.Event()

    def slow_progress(count: int) -> None:
        reported.set()
        time.sleep(0.05)  # the engine starts closing during the first report
        report_progress(count)

    monkeypatch.setattr(run, "_progress", slow_progress)
    assert run.start()
    assert reported.wait(10)
    engine.close()
    assert not run.thread.is_alive()  # close returned only once the run had ended
    assert run.report is None and run.running is False
    assert run.failure == "VerificationStopped: The server stopped before the verification ended."
    assert run.checked == 0
    assert not run.start()  # a closed engine starts no verification
