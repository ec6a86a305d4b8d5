"""The advertisement review committee: signed decisions recorded per second in one weekly session
(each verified on receipt), closing a session, the eight-week demo, and the auditor's re-tally."""

from __future__ import annotations

import os
import time
from datetime import datetime

from benchmarks.common import rate, temp_dir
from core import clock
from core.clock import SEOUL, ManualClock
from core.engine import Engine
from core.plugins import make_plugin_manager
from plugins.ad_review import demo, service, signing
from plugins.ad_review.audit import retally
from plugins.ad_review.domain import session_id

MEMBERS = [f"m{i}" for i in range(5)]
ITEMS = 30


def _engine(path) -> Engine:
    os.environ["CIVIC_ADREVIEW_ATTACHMENTS"] = str(path.with_suffix(".attachments"))
    return Engine(str(path), plugins=make_plugin_manager(allow={"ad_review"}), outbox=path.with_suffix(".outbox"))


def run(table) -> None:
    previous = clock.use_clock(ManualClock(datetime(2016, 3, 6, 12, 0, tzinfo=SEOUL)))
    attachments = os.environ.get("CIVIC_ADREVIEW_ATTACHMENTS")
    try:
        with temp_dir() as tmp:
            engine = _engine(tmp / "session.db")
            keys = {m: signing.from_seed(bytes([i + 1]) * 32) for i, m in enumerate(MEMBERS)}
            for m, key in keys.items():
                service.add_member(engine, "bench", m, m, signing.public_key_b64(key))
            apps = []
            for n in range(ITEMS):
                photo = service.store_attachment(engine, b"\x89PNG\r\n\x1a\n" + n.to_bytes(4, "big"))
                apps.append(service.submit(engine, "bench", {
                    "applicant": {"name": "신청인", "phone": "010-1111-2222"}, "sign_type": "wall",
                    "location": {"address": "중구 을지로 1", "dong": "을지로동"},
                    "size": {"width_m": 3, "height_m": 1}, "illumination": "none",
                    "attachments": [{"sha256": photo["sha256"]}]}).id)
            clock.current().advance(hours=21)
            engine.tick()
            sid = session_id("2016-W10")

            def decide_all() -> None:
                for app in apps:
                    for m in MEMBERS:
                        message = signing.decision_bytes(str(sid), str(app), m, "approve", "적합", [])
                        service.decide(engine, sid, app, m, "approve", "적합", [], signing.sign(keys[m], message))

            table.add("ad_review signed decisions recorded", rate(ITEMS * len(MEMBERS), decide_all), "/s",
                      f"one session of {ITEMS} applications x {len(MEMBERS)} members, verified on receipt")
            started = time.perf_counter()
            service.close_session(engine, "bench", sid)
            table.add("ad_review session close", (time.perf_counter() - started) * 1000, "ms",
                      f"{ITEMS} results, notices sent")
            engine.close()

            engine = _engine(tmp / "demo.db")
            started = time.perf_counter()
            demo.load_demo(engine, lambda _: None)
            table.add("ad_review eight-week demo load", time.perf_counter() - started, "s",
                      f"{engine.position} events")
            records = list(engine.records())
            started = time.perf_counter()
            report = retally(records)
            count = len(records) / (time.perf_counter() - started)
            table.add("ad_review audit re-tally", count, "records/s",
                      f"{report.checked} checks incl. every signature, {len(report.discrepancies)} discrepancies")
            engine.close()
    finally:
        clock.use_clock(previous)
        if attachments is None:
            os.environ.pop("CIVIC_ADREVIEW_ATTACHMENTS", None)
        else:
            os.environ["CIVIC_ADREVIEW_ATTACHMENTS"] = attachments
