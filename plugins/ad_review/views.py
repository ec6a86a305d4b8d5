"""Read models of the committee: applications (status, route, notice time) and sessions (agenda
and who has acted). Each keeps one section of the plugin's fold (``fold.py``), fed the same log
records the auditor reads; ``civic rebuild`` refolds them identically."""

from __future__ import annotations

from typing import ClassVar

from core import LogRecord, ReadModel
from plugins.ad_review import fold


class _FoldedSection(ReadModel):
    """A read model whose state is one section of the plugin's fold."""

    section: ClassVar[str]
    from_records = True

    def apply(self, record: LogRecord, position: int) -> None:
        fold.fold_section(self.section, self.state, record)


class ApplicationsView(_FoldedSection):
    name = "ad_review.applications"
    section = "applications"
    event_types = fold.event_types("applications")


class SessionsView(_FoldedSection):
    name = "ad_review.sessions"
    version = 2
    section = "sessions"
    event_types = fold.event_types("sessions")

