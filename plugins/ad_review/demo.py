"""Demo data: eight weeks of the small committee's weekly online sessions (2016-W10 … W17) in
Jung-gu, with the full committee's monthly meetings for the items routed to it.

Volumes follow the plan: the full committee's summary-review items (wall, projecting, pole,
window signs and banners up to 30 m²) go to the 5-member small committee every week; rooftop
signs, digital displays and large signs stay with the full committee. About 18 applications a
week arrive, mostly on working days. Members sign each decision with their own key."""

from __future__ import annotations

import hashlib
import random
import struct
import zlib
from collections.abc import Callable
from datetime import datetime, timedelta, timezone
from typing import Any
from uuid import UUID

from core import DONGS, SEOUL, Engine, ManualClock, use_clock
from plugins.ad_review import queries, service, signing

SECRETARY = "demo:secretary"
START = datetime(2016, 3, 6, 12, 0, tzinfo=SEOUL)  # Sunday before 2016-W10
END = datetime(2016, 4, 29, 20, 0, tzinfo=SEOUL)  # after the close of 2016-W17
FULL_COMMITTEE_MEETINGS = (datetime(2016, 3, 24, 14, 0, tzinfo=SEOUL), datetime(2016, 4, 21, 14, 0, tzinfo=SEOUL))

MEMBERS = {
    "kim-jiyoung": "김지영 (도시디자인 교수)",
    "lee-sungho": "이성호 (옥외광고 전문가)",
    "park-minjung": "박민정 (건축사)",
    "choi-daewoo": "최대우 (구의원)",
    "jung-hyejin": "정혜진 (도시디자인과장)",
}
STREETS = ("을지로", "명동길", "퇴계로", "충무로", "다산로", "동호로", "세종대로", "남대문로", "청계천로")
BUSINESSES = ("카페", "약국", "치과의원", "안경원", "편의점", "한식당", "부동산중개", "화장품", "인쇄소", "공인회계사")
SIGN_MIX = (("wall", 40), ("projecting", 25), ("pole", 6), ("window", 10), ("banner", 7),
            ("rooftop", 5), ("digital_display", 7))
ILLUMINATION_MIX = (("none", 30), ("external", 30), ("internal", 35), ("digital", 5))
# What a member votes when they agree with the room, and how often the room agrees.
OUTCOME_MIX = (("approve", 55), ("approve_with_conditions", 28), ("re_review", 9), ("reject", 8))
CONDITIONS = ("야간 23시 이후 소등", "돌출 폭 1.0m 이내로 축소", "건물 외벽 색채와 조화되는 바탕색 사용",
              "보행자 통행에 지장이 없도록 하단 높이 3m 이상 확보")
REASONS = {
    "approve": ("설치 기준에 적합함", "주변 경관과 조화됨", "규격·위치 적정"),
    "approve_with_conditions": ("조건 이행 시 적합", "조명 밝기 조정 필요"),
    "re_review": ("도면 보완 필요", "현장 사진 추가 제출 요망"),
    "reject": ("1업소 1간판 원칙 위반", "가로 경관 저해"),
}


def member_key(member: str) -> Any:
    """The demo members' keys are derived from their ids so the demo is reproducible; real
    members generate theirs with ``civic adreview keygen``."""
    return signing.from_seed(hashlib.sha256(f"civic demo ad_review member {member}".encode()).digest())


def tiny_png(seed: int) -> bytes:
    """A valid 2×2 PNG photo stand-in whose bytes differ per seed."""
    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    r, g, b = seed % 256, (seed * 7) % 256, (seed * 13) % 256
    raw = b"".join(b"\x00" + bytes([r, g, b]) * 2 for _ in range(2))
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", 2, 2, 8, 2, 0, 0, 0))
            + chunk(b"IDAT", zlib.compress(raw)) + chunk(b"IEND", b""))


def _pick(rng: random.Random, mix: tuple[tuple[str, int], ...]) -> str:
    return rng.choices([k for k, _ in mix], weights=[w for _, w in mix])[0]


def _application(engine: Engine, rng: random.Random, n: int) -> dict[str, Any]:
    sign_type = _pick(rng, SIGN_MIX)
    small_sign = sign_type in ("wall", "projecting", "window", "banner", "pole")
    width = round(rng.uniform(1.0, 8.0) if small_sign else rng.uniform(3.0, 12.0), 1)
    height = round(rng.uniform(0.5, 1.5) if small_sign else rng.uniform(2.0, 6.0), 1)
    if small_sign and rng.random() < 0.04:
        width, height = 9.0, 4.0  # an occasional large sign goes to the full committee
    illumination = _pick(rng, ILLUMINATION_MIX)
    if sign_type == "digital_display":
        illumination = "digital"
    photo = service.store_attachment(engine, tiny_png(n), "image/png")
    street = rng.choice(STREETS)
    return {
        "applicant": {"name": f"신청인{n:03d}", "phone": f"010-{rng.randint(2000, 9999)}-{rng.randint(1000, 9999)}",
                      "business": f"{street} {rng.choice(BUSINESSES)}"},
        "sign_type": sign_type,
        "location": {"address": f"서울특별시 중구 {street} {rng.randint(1, 300)}", "dong": rng.choice(DONGS)},
        "size": {"width_m": width, "height_m": height},
        "illumination": illumination,
        "attachments": [{"sha256": photo["sha256"]}],
    }


def _arrivals(rng: random.Random) -> list[datetime]:
    """Submission times: about 18 a week, on working days 09–18 (a few online at weekends)."""
    times = []
    day = START.replace(hour=0, minute=0)
    while day < END:
        working = day.weekday() < 5
        count = rng.choice((2, 3, 3, 4, 4, 5)) if working else rng.choice((0, 0, 1))
        for _ in range(count):
            hour = rng.uniform(9, 18) if working else rng.uniform(10, 22)
            times.append(day + timedelta(hours=hour))
        day += timedelta(days=1)
    return sorted(t for t in times if START <= t < END - timedelta(hours=30))


def load_demo(engine: Engine, progress: Callable[[str], None]) -> None:
    rng = random.Random(2016)
    manual = ManualClock(START.astimezone(timezone.utc))
    previous = use_clock(manual)
    try:
        _run(engine, rng, manual, progress)
    finally:
        use_clock(previous)


def _run(engine: Engine, rng: random.Random, manual: ManualClock, progress: Callable[[str], None]) -> None:
    progress("ad_review: committee of 5 members")
    service.ensure_committee(engine, SECRETARY)
    for member, name in MEMBERS.items():
        service.add_member(engine, SECRETARY, member, name, signing.public_key_b64(member_key(member)))
    arrivals = _arrivals(rng)
    plans: dict[tuple[str, str, str], tuple[datetime, str]] = {}
    room: dict[tuple[str, str], str] = {}
    meetings = list(FULL_COMMITTEE_MEETINGS)
    count = 0
    now = manual.now()
    while now < END:
        while arrivals and arrivals[0] <= now:
            arrivals.pop(0)
            count += 1
            service.submit(engine, "demo:clerk", _application(engine, rng, count))
        for line in engine.tick():
            if "opened" in line:
                progress(line)
        _members_act(engine, rng, now, plans, room)
        if meetings and meetings[0] <= now:
            _full_committee(engine, rng, meetings.pop(0))
        manual.advance(hours=1)
        now = manual.now()
    engine.tick()
    progress(f"ad_review: {count} applications over eight weeks")


def _members_act(engine: Engine, rng: random.Random, now: datetime,
                 plans: dict[tuple[str, str, str], tuple[datetime, str]], room: dict[tuple[str, str], str]) -> None:
    sessions = queries.sessions(engine)
    for sid, s in sessions.items():
        if s["status"] != "open":
            continue
        closes = datetime.fromisoformat(s["closes_at"])
        for application, item in s["items"].items():
            key = (sid, application)
            if key not in room:
                room[key] = _pick(rng, OUTCOME_MIX)
                # a member is away for this item 8% of the time; recuses 3% of the time
                for member in s["members"]:
                    roll = rng.random()
                    act = "absent" if roll < 0.08 else "recuse" if roll < 0.11 else "vote"
                    window = max(1.0, (closes - now).total_seconds() / 3600 - 2)
                    plans[(sid, application, member)] = (now + timedelta(hours=rng.uniform(1, min(window, 60))), act)
            for member in s["members"]:
                when, act = plans[(sid, application, member)]
                if when > now or act in ("absent", "done"):
                    continue
                plans[(sid, application, member)] = (when, "done")
                _act(engine, rng, UUID(sid), UUID(application), member, act, room[key])


def _act(engine: Engine, rng: random.Random, sid: UUID, application: UUID, member: str, act: str,
         agreed: str) -> None:
    key = member_key(member)
    if act == "recuse":
        reason = "신청 업소와 이해관계가 있음"
        service.recuse(engine, sid, application, member, reason,
                       signing.sign(key, signing.recusal_bytes(str(sid), str(application), member, reason)))
        return
    if rng.random() < 0.3:
        text = rng.choice(("현장 사진 확인했습니다.", "야간 조명 밝기 확인 필요합니다.", "규격 적정해 보입니다."))
        service.comment(engine, sid, application, member, text,
                        signing.sign(key, signing.comment_bytes(str(sid), str(application), member, text)))
    decision = agreed if rng.random() < 0.85 else _pick(rng, OUTCOME_MIX)
    reasons = rng.choice(REASONS[decision])
    conditions = [rng.choice(CONDITIONS)] if decision == "approve_with_conditions" else []
    signature = signing.sign(key, signing.decision_bytes(str(sid), str(application), member, decision, reasons,
                                                      conditions))
    service.decide(engine, sid, application, member, decision, reasons, conditions, signature)


def _full_committee(engine: Engine, rng: random.Random, meeting: datetime) -> None:
    """The full committee's monthly meeting decides what was referred at least a week before."""
    apps = queries.applications(engine)
    cutoff = meeting - timedelta(days=7)
    for application, a in sorted(apps.items()):
        if a["status"] != "referred" or datetime.fromisoformat(a["submitted_at"]) > cutoff:
            continue
        decision = rng.choices(("approve", "approve_with_conditions", "reject"), weights=(50, 35, 15))[0]
        conditions = [rng.choice(CONDITIONS)] if decision == "approve_with_conditions" else []
        service.record_full_committee_decision(engine, SECRETARY, UUID(application), decision,
                                               rng.choice(REASONS[decision]), conditions,
                                               f"대심의 {meeting.date().isoformat()}")
