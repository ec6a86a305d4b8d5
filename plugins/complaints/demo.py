"""Demo data: the last 30 days of field complaints in Jung-gu, across every field in the
proportions of the plan's 2015 figures; most resolved (their result texts are in the outbox),
some rejected or linked as duplicates, some still open and some of those overdue."""

from __future__ import annotations

import random
from collections.abc import Callable, Iterator
from datetime import timedelta
from typing import Any

from core import utc_now
from plugins.complaints import rules, service
from plugins.complaints.taxonomy_data import DONGS, ITEMS

# 2015 row of the plan's table, per field
SHARES = {"traffic": 18_612, "roads": 2_192, "cleaning": 1_774, "flood_control": 443, "street_order": 5_982,
          "health_env": 2_128, "other": 4_918}
DEMO_COMPLAINTS = 1_200
DAYS = 30
WITH_PHONE = 0.4
CHANNELS = [("call_centre", 0.7), ("sns", 0.15), ("portal", 0.05), ("officer", 0.05), ("open311", 0.05)]
DESCRIPTIONS = {
    "traffic": ["골목에 차량이 장시간 주차되어 있습니다", "신호등이 깜박이지 않습니다", "버스정류장 의자가 부서졌습니다"],
    "roads": ["도로에 구멍이 생겼습니다", "보도블록이 들떠 있습니다", "가로등이 꺼져 있습니다"],
    "cleaning": ["쓰레기가 무단으로 버려져 있습니다", "음식물쓰레기가 수거되지 않았습니다"],
    "flood_control": ["빗물받이가 막혔습니다", "하수구 냄새가 심합니다"],
    "street_order": ["불법 현수막이 걸려 있습니다", "보도에 물건이 쌓여 있습니다", "노점이 통행을 막습니다"],
    "health_env": ["야간 공사 소음이 심합니다", "금연구역에서 흡연합니다"],
    "other": ["가로수 가지가 전선에 닿습니다", "놀이터 그네가 부서졌습니다"],
}
SURNAMES = "김이박최정강조윤장임한오서신권황안송류홍"
GIVEN = ["민준", "서연", "지훈", "하은", "도윤", "수빈", "예준", "지우", "현우", "서현"]


def _choose(rng: random.Random, weighted: list[tuple[str, float]]) -> str:
    return rng.choices([w for w, _ in weighted], [p for _, p in weighted])[0]


def demo_specs(now: Any, rng: random.Random) -> Iterator[dict[str, Any]]:
    fields = list(SHARES.items())
    start = now - timedelta(days=DAYS)
    for _ in range(DEMO_COMPLAINTS):
        field = _choose(rng, fields)
        item = rng.choice([c for c, v in ITEMS.items() if v[0] == field])
        sla = ITEMS[item][4]
        received = start + timedelta(seconds=rng.uniform(0, DAYS * 86400))
        received = received.replace(microsecond=0)
        spec: dict[str, Any] = {
            "channel": _choose(rng, CHANNELS), "item": item, "dong": rng.choice(DONGS),
            "description": rng.choice(DESCRIPTIONS[field]), "received_at": received,
            "address": f"서울 중구 {rng.randint(1, 200)}번지",
        }
        if rng.random() < WITH_PHONE:
            spec["reporter_name"] = rng.choice(SURNAMES) + rng.choice(GIVEN)
            spec["reporter_phone"] = f"010-{rng.randint(2000, 9999)}-{rng.randint(1000, 9999)}"
        # handling: most within the deadline, some late, a few rejected; young ones still open
        handled_after = timedelta(hours=sla * rng.choice([0.2, 0.4, 0.6, 0.8, 0.9, 1.3, 2.0]))
        accepted_after = handled_after * 0.3
        then = []
        if received + accepted_after < now:
            then.append(("accept", {"note": "현장 확인 예정", "at": rules.iso(received + accepted_after),
                                    "by": "demo"}))
        if received + handled_after < now:
            roll = rng.random()
            at = rules.iso(received + handled_after)
            if roll < 0.04:
                then.append(("reject", {"note": "현장 확인 결과 민원 대상 아님", "at": at, "by": "demo"}))
            elif roll < 0.9:
                then.append(("resolve", {"note": "현장 조치 완료", "at": at, "by": "demo"}))
        spec["then"] = then
        yield spec


def load_demo(engine: Any, progress: Callable[[str], None]) -> None:
    progress("complaints: taxonomy")
    service.ensure_taxonomy(engine)
    progress(f"complaints: {DEMO_COMPLAINTS} complaints of the last {DAYS} days")
    rng = random.Random(2016)
    service.bulk_intake(engine, demo_specs(utc_now(), rng), batch=200)
    # a few repeated reports of the same problem, linked to the first one
    open_ones = [e for e in service.index(engine)["complaints"].values() if e["status"] == rules.TRANSFERRED]
    for first, second in zip(open_ones[::2][:10], open_ones[1::2][:10], strict=False):
        service.act(engine, second["id"], "duplicate", original=first["id"], note="같은 장소 중복 신고", by="demo")
    progress("complaints: result texts and overdue flags")
    service.send_pending_texts(engine)
    service.flag_overdue(engine)
