"""The auditor's console page: download the public log, and the store verified while they watch:
``civic audit verify`` run in a background thread of the server, its progress and its result
(leaves, roots, checkpoints, every plugin's re-tally) shown on the page."""

from __future__ import annotations

import threading
import time
from typing import Any

from litestar import Request, get, post
from litestar.response import Redirect, Template

from core.clock import now as utc_now
from core.ledger.checkpoint import b64
from core.ledger.verify import VerifyReport, plugin_retally, verify_database
from core.web.console import staff_page, staff_template
from core.web.i18n import gettext as _
from core.web_deps import EngineDep


class VerificationStopped(Exception):
    """The engine is closing: a run under way ends without a result."""


class Verification:
    """One verification at a time per engine; the last result is kept until the next run ends."""

    def __init__(self, engine: Any) -> None:
        self.engine = engine
        self.lock = threading.Lock()
        self.running = False
        self.started: Any = None
        self.checked = 0
        self.total = 0
        self.report: VerifyReport | None = None
        self.finished: Any = None
        self.seconds = 0.0
        self.failure: str | None = None
        self.closed = False
        self.thread: threading.Thread | None = None
        engine.on_close(self.close)

    def start(self) -> bool:
        """Start a run unless one is under way (or the engine is closing); True when this call
        started it."""
        with self.lock:
            if self.running or self.closed:
                return False
            self.running, self.started, self.checked = True, utc_now(), 0
            self.total = self.engine.position
            self.thread = threading.Thread(target=self._run, name="civic-console-verify", daemon=True)
            self.thread.start()
        return True

    def close(self) -> None:
        """(``engine.close``) A run under way stops at its next progress report, and the engine
        closes its store only after: the run reads the store until then."""
        with self.lock:
            self.closed = True
            thread = self.thread
        if thread is not None:
            thread.join()

    def _progress(self, count: int) -> None:
        if self.closed:
            raise VerificationStopped("The server stopped before the verification ended.")
        self.checked += count

    def _run(self) -> None:
        began = time.perf_counter()
        report, failure = None, None
        try:
            report = verify_database(self.engine, retally=plugin_retally(self.engine.pm), progress=self._progress)
        except Exception as exc:  # noqa: BLE001 - shown to the auditor; the server keeps running
            failure = f"{type(exc).__name__}: {exc}"
        with self.lock:
            self.report, self.failure = report, failure
            self.finished, self.seconds = utc_now(), time.perf_counter() - began
            self.running = False


def verification(engine: Any) -> Verification:
    return engine.kept("console-verification", lambda: Verification(engine))


@get("/staff/audit", guards=[staff_page("audit.verify")], sync_to_thread=True, name="staff-audit",
     include_in_schema=False)  # a console page, as the others: not part of the JSON API
def audit_console(request: Request, engine: EngineDep) -> Template:
    run = verification(engine)
    if run.report is None and run.failure is None and not run.running:
        run.start()  # the first visit verifies at once; later ones show the last result
    latest = engine.ledger.latest_checkpoint()
    report = run.report
    return staff_template(request, "staff/audit.html", _("Audit: export and verification"), run=run,
                          report=report, first=report.first if report else None,
                          root=b64(report.root_hash) if report else None, position=engine.position,
                          checkpoint=latest, key=engine.ledger.existing_verifier_key())


@post("/staff/audit/verify", guards=[staff_page("audit.verify")], sync_to_thread=True, name="staff-audit-verify",
      include_in_schema=False)
def verify_now(engine: EngineDep) -> Redirect:
    verification(engine).start()
    return Redirect(path="/staff/audit", status_code=303)
