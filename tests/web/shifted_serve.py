"""``civic serve`` on a clock a browser test moves forward: the real time plus the seconds written
in the file named by ``CIVIC_TEST_CLOCK_FILE`` (read at every tick of the clock), so that a flow
which spans a voting window runs in seconds; the deadline watch is slowed down so that nothing
opens or closes behind the test's back. Tests only; never part of the product.

    python -m tests.web.shifted_serve serve --db civic.db --port 8000
"""

from __future__ import annotations

import os
from datetime import datetime, timedelta, timezone
from pathlib import Path

from core.clock import use_clock


class FileOffsetClock:
    def __init__(self, path: str) -> None:
        self.path = Path(path)

    def now(self) -> datetime:
        try:
            offset = float(self.path.read_text(encoding="utf-8").strip() or 0)
        except FileNotFoundError:
            offset = 0.0
        return datetime.now(timezone.utc) + timedelta(seconds=offset)


if __name__ == "__main__":
    import core.service

    use_clock(FileOffsetClock(os.environ["CIVIC_TEST_CLOCK_FILE"]))
    # the deadline watch would open and close voting itself the second the clock is moved past a
    # deadline; slowed down here so that the official's own clicks do it, as the test walks them
    core.service.DEADLINE_WATCH_SECONDS = 3600.0
    from core.cli import main

    main()
