"""Demo data: Jung-gu's 2016 district projects, the first cycle with mobile voting.

As in the plan: 11 district projects worth 345 million won on the ballot, 190 million won to
spend; a few thousand residents vote on their phones, paper ballots from the dong offices are
entered by an official; voting closes, the result is computed, validated and published.

A second, dong-level cycle stays open for voting, so that anyone trying civic can vote in it: its
voting codes go to the development message file beside the store (``<db>.outbox.jsonl``), as
text messages would; the closed cycle's residents take theirs on the way out, so only these 20
(to phone numbers that belong to nobody) are written there."""

from __future__ import annotations

import random
from collections.abc import Callable
from typing import Any

from core import Engine, hookimpl
from plugins.budget_vote import service

CYCLE_NAME = "2016 중구 주민참여예산 구 단위 사업"
BUDGET = 190_000_000
ADMIN = "demo:기획예산과"
COMMITTEE = "demo:주민참여예산위원회"

# (title, dong, category, proposer role, cost in won, popularity weight)
PROJECTS = [
    ("골목길 보안등 LED 교체", "소공동", "안전", "resident", 25_000_000, 9),
    ("외국인 관광객 안내 표지판 정비", "명동", "관광", "council_member", 30_000_000, 4),
    ("남산 산책로 쉼터 조성", "필동", "녹지", "resident", 40_000_000, 7),
    ("어린이 놀이터 안전시설 개선", "장충동", "복지", "resident", 35_000_000, 10),
    ("전통시장 공용 주차 안내 시스템", "신당동", "교통", "council_member", 45_000_000, 6),
    ("경로당 냉난방기 교체", "다산동", "복지", "resident", 20_000_000, 8),
    ("마을도서관 열람실 확충", "약수동", "교육", "resident", 30_000_000, 5),
    ("주방가구거리 보행환경 개선", "황학동", "교통", "council_member", 50_000_000, 5),
    ("청소년 공부방 운영 지원", "중림동", "교육", "resident", 15_000_000, 6),
    ("쌈지공원 녹지 조성", "을지로동", "녹지", "resident", 35_000_000, 4),
    ("다문화가정 한국어 교실", "광희동", "복지", "council_member", 20_000_000, 3),
]
INFEASIBLE = ("청계천 보행교 신설", "광희동", "교통", "resident", "구 예산 범위를 넘는 광역 시설로 서울시 사업 대상입니다.")
OPEN_CYCLE_NAME = "2017 필동 주민참여예산 동 단위 사업"
OPEN_PROJECTS = [
    ("필동 골목길 CCTV 설치", "필동", "안전", 12_000_000, "어두운 골목 6곳에 방범 CCTV를 설치합니다."),
    ("남산골 한옥마을 앞 횡단보도 개선", "필동", "교통", 8_000_000, "횡단보도 대기 공간에 그늘막과 의자를 놓습니다."),
    ("필동 경로당 프로그램 지원", "필동", "복지", 5_000_000, "어르신 건강 체조와 스마트폰 교실을 엽니다."),
    ("필동 작은도서관 어린이 책 구입", "필동", "교육", 4_000_000, "어린이 그림책과 학습 도서를 삽니다."),
    ("동국대 앞 자전거 거치대 설치", "필동", "교통", 6_000_000, "자전거 거치대 30대를 설치합니다."),
]
# the demo's open roll: phone numbers that belong to nobody (010-0000-0001 ...)
OPEN_VOTERS = 20
MOBILE_VOTERS = 2_800
PAPER_VOTERS = 240
CHANGED_MIND = 120


class CodeCatcher:
    """Takes the voting codes of one cycle before any notifier: the demo's residents 'read' them."""

    def __init__(self, prefix: str) -> None:
        self.prefix = prefix
        self.codes: dict[str, str] = {}

    @hookimpl(tryfirst=True)
    def civic_send_notification(self, notification: Any) -> str | None:
        if not notification.key.startswith(self.prefix):
            return None
        resident = notification.key[len(self.prefix):].split("/")[0]
        self.codes[resident] = notification.text.rsplit(" ", 1)[-1]  # the code is the text's last word
        return f"demo:{notification.key}"


def load_demo(engine: Engine, progress: Callable[[str], None], *, scale: float = 1.0) -> None:
    """``scale`` shrinks the number of voters (for tests); the cycle itself stays as planned."""
    progress("budget: 2016 district cycle")
    rnd = random.Random(2016)
    cycle = service.open_cycle(engine, name=CYCLE_NAME, budget=BUDGET, scope="중구 (district)",
                               ballot_style={"kind": "approval", "min_projects": 1, "max_projects": 5},
                               rule={"name": "greedy"}, last_vote_counts=True, by=ADMIN)
    cid = cycle.id
    for title, dong, category, role, _, _ in PROJECTS:
        service.submit_proposal(engine, cid, title=title, dong=dong, category=category,
                                proposer=f"{dong} 주민자치위원회" if role == "council_member" else f"{dong} 주민",
                                proposer_role=role, description=f"{dong} {title} 사업")
    late = service.submit_proposal(engine, cid, title=INFEASIBLE[0], dong=INFEASIBLE[1], category=INFEASIBLE[2],
                                   proposer=f"{INFEASIBLE[1]} 주민", proposer_role=INFEASIBLE[3])
    service.advance(engine, cid, "screening", by=ADMIN)
    for number, (_, _, _, _, cost, _) in enumerate(PROJECTS, start=1):
        service.screen(engine, cid, str(number), feasible=True, cost=cost,
                       reason="사업부서 검토 결과 실현 가능, 소요 예산 확정", by=COMMITTEE)
    service.screen(engine, cid, late, feasible=False, cost=None, reason=INFEASIBLE[4], by=COMMITTEE)

    progress("budget: voter roll and codes")
    mobile, changed, paper = (max(1, int(k * scale)) for k in (MOBILE_VOTERS, CHANGED_MIND, PAPER_VOTERS))
    dongs = sorted({p[1] for p in PROJECTS})
    residents = [f"R{n:05d}" for n in range(mobile + paper)]
    roll = ["entry_id,contact,group"] + [f"{r},010{rnd.randrange(10**8):08d},{rnd.choice(dongs)}" for r in residents]
    service.import_roll(engine, cid, "\n".join(roll) + "\n")
    service.advance(engine, cid, "voting", by=ADMIN)
    phones, booth = residents[:mobile], residents[mobile:]
    # the residents read their text messages: here, taken on the way out, so that the closed
    # cycle's thousands of phone numbers and codes are written nowhere in clear
    catcher = CodeCatcher(f"voting-code/{cid}/")
    engine.pm.register(catcher, name="budget_vote.demo-codes")
    try:
        service.issue_codes(engine, cid, phones)
    finally:
        engine.pm.unregister(name="budget_vote.demo-codes")
    codes = catcher.codes

    progress("budget: residents voting on their phones")
    ids = [str(n) for n in range(1, len(PROJECTS) + 1)]
    weights = [p[5] for p in PROJECTS]

    def choice() -> list[str]:
        k = rnd.choice([1, 2, 3, 3, 4, 5, 5])
        picked: set[str] = set()
        while len(picked) < k:
            picked.add(rnd.choices(ids, weights)[0])
        return sorted(picked, key=int)

    credentials = {}
    for n, resident in enumerate(phones):
        credentials[resident] = service.sign_in_voter(engine, cid, resident, codes[resident], f"demo-phone-{n}")
        service.cast_ballot(engine, cid, credential=credentials[resident], choice=choice())
    for _ in range(changed):  # some change their minds before the close: the last vote counts
        service.cast_ballot(engine, cid, credential=credentials[rnd.choice(phones)], choice=choice())
    progress("budget: paper ballots from the dong offices")
    for resident in booth:
        service.enter_paper_ballot(engine, cid, entry_id=resident, choice=choice(), by=ADMIN)

    progress("budget: tally and publish")
    service.advance(engine, cid, "tallying", by=ADMIN)
    service.tally(engine, cid, by=ADMIN)
    service.validate(engine, cid, by=ADMIN)
    progress("budget: a dong cycle open for voting")
    load_open_cycle(engine)


def load_open_cycle(engine: Engine) -> str:
    """A small dong-level cycle left open for voting, its codes sent to the outbox."""
    cycle = service.open_cycle(engine, name=OPEN_CYCLE_NAME, budget=20_000_000, scope="필동",
                               ballot_style={"kind": "approval", "min_projects": 1, "max_projects": 3},
                               rule={"name": "greedy"}, last_vote_counts=True, by=ADMIN)
    for title, dong, category, _, description in OPEN_PROJECTS:
        service.submit_proposal(engine, cycle.id, title=title, dong=dong, category=category,
                                proposer=f"{dong} 주민", description=description)
    service.advance(engine, cycle.id, "screening", by=ADMIN)
    for number, (_, _, _, cost, _) in enumerate(OPEN_PROJECTS, start=1):
        service.screen(engine, cycle.id, str(number), feasible=True, cost=cost,
                       reason="동 주민센터 검토 결과 실현 가능", by=COMMITTEE)
    rows = [f"P{n:03d},010-0000-{n:04d},필동,{'en' if n == OPEN_VOTERS else 'ko'}" for n in range(1, OPEN_VOTERS + 1)]
    service.import_roll(engine, cycle.id, "entry_id,contact,group,language\n" + "\n".join(rows) + "\n")
    service.advance(engine, cycle.id, "voting", by=ADMIN)
    service.issue_codes(engine, cycle.id)
    return str(cycle.id)
