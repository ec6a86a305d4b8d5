"""Result text messages (처리결과 문자 통보), exactly once per resolution.

A resolution's text is saved in core's message outbox in the resolution's own transaction
(``service.act``, ``service.bulk_intake``), under a key derived from the resolution event
(complaint id and event version): neither exists without the other, and the outbox delivers it
after the commit.

This follower is the catch-up for resolutions recorded before texts were saved that way: it reads
``Complaint.Resolved`` events in log order, keeps the position it has reached in a derived table
(``complaints_text_positions``), and hands over the text of a resolution whose key the outbox
does not hold yet. A crash between handing a message over and saving the position makes it hand
the message over again on restart, with the same key, which the outbox has already recorded and
does not send twice. So each resolution reaches the reporter exactly once.
"""

from __future__ import annotations

import threading
from typing import Any

from core import Message, seoul_time, topic_of
from plugins.complaints import rules
from plugins.complaints.domain import Complaint
from plugins.complaints.personal import open_reporter, reporter_subject

TABLE = "complaints_text_positions"
FOLLOWER = "resolution_texts"
RESOLVED_TOPIC = topic_of(Complaint.Resolved)


def text_key(complaint_id: str, version: int) -> str:
    return f"complaints:resolved:{complaint_id}:{version}"


def result_text(item_name: str, dong: str, received_at: str, note: str | None) -> str:
    day = seoul_time(rules.parse_time(received_at)).strftime("%m/%d")
    text = f"[중구 응답소] {day} 접수하신 {dong} '{item_name}' 민원이 처리되었습니다."
    if note:
        text += f" 처리내용: {note[:200]}"
    return text


class FollowerState:
    """What the follower keeps per engine: one drain at a time, and whether its table exists."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.table_ready = False


class ResolutionTexts:
    def __init__(self, engine: Any) -> None:
        self.engine = engine
        self._kept = engine.kept("complaints.resolution_texts", FollowerState)

    def _ensure_table(self) -> None:
        if self._kept.table_ready:
            return
        self.engine.side.create_tables(
            f"CREATE TABLE IF NOT EXISTS {TABLE} (name TEXT PRIMARY KEY, position BIGINT NOT NULL)")
        self._kept.table_ready = True

    def position(self) -> int:
        self._ensure_table()
        with self.engine.side.transaction(commit=False) as cur:
            row = cur.execute(f"SELECT position FROM {TABLE} WHERE name = ?", (FOLLOWER,)).fetchone()
        return 0 if row is None else int(row["position"])

    def save_position(self, position: int) -> None:
        sql = self.engine.side.upsert_sql(TABLE, "name", ["position"])
        with self.engine.side.transaction() as cur:
            cur.execute(sql, (FOLLOWER, position))

    def pending(self) -> int:
        return sum(1 for _ in self.engine.notifications(self.position() + 1, topics=(RESOLVED_TOPIC,)))

    def message_for(self, event: Any) -> Message | None:
        """The text for one resolution event (see ``resolution_message``)."""
        complaint = self.engine.get(event.originator_id, Complaint, what="complaint")
        return resolution_message(self.engine, complaint, event.originator_version, event.note)

    def drain(self) -> list[str]:
        """Send a text for every resolution whose text is not in the outbox yet; return the
        delivery references."""
        sent = []
        with self._kept.lock:
            start = self.position() + 1
            for position, event in self.engine.log_events(start, topics=(RESOLVED_TOPIC,)):
                key = text_key(str(event.originator_id), event.originator_version)
                if self.engine.messages.status(key) is None:  # saved with the resolution: nothing to do
                    message = self.message_for(event)
                    if message is not None:
                        sent.append(self.engine.send_notification(message))
                self.save_position(position)
        return sent


def resolution_message(engine: Any, complaint: Complaint, version: int, note: str | None) -> Message | None:
    """The text telling the reporter that ``complaint`` was resolved (its event ``version``), or
    None when there is nobody to text (anonymous report, no phone given, or the reporter's data
    was erased)."""
    reporter = open_reporter(engine, complaint.id, complaint.reporter)
    if reporter is None or reporter["erased"] or not reporter["phone"]:
        return None
    from plugins.complaints.service import taxonomy

    item = taxonomy(engine)["items"].get(complaint.item, {})
    return Message(
        key=text_key(str(complaint.id), version),
        channel="sms",
        to=reporter["phone"],
        text=result_text(item.get("name_ko", complaint.item), complaint.dong, complaint.received_at, note),
        plugin="complaints",
        subject=reporter_subject(complaint.reporter),
    )
