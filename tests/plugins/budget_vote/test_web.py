"""The budget pages without a browser: limits and refusals that a browser test would be slow to
reach. (The flows themselves are walked in real Chromium in tests/web.)"""

from __future__ import annotations

import re

from litestar.testing import TestClient

from core.http import create_app
from core.web.setup import SIGN_INS_PER_MINUTE
from plugins.budget_vote import pabulib_exchange, service
from tests.plugins.budget_vote.support import voting_cycle
from tests.plugins.budget_vote.test_pabulib_real import DATA, GRADED


def csrf(html: str) -> str:
    return re.search(r'name="_csrf_token" value="([^"]+)"', html).group(1)


def test_one_address_may_post_the_sign_in_form_60_times_a_minute(sqlite_engine):
    engine = sqlite_engine
    cycle = voting_cycle(engine)
    with TestClient(create_app(engine)) as client:
        token = csrf(client.get(f"/budget/{cycle.id}/vote").text)
        statuses = []
        for n in range(SIGN_INS_PER_MINUTE + 1):
            client.cookies.delete("civic_session")  # a new browser each time: the address still counts
            form = {"phone": f"010-1111-{n:04d}", "code": "WRONG1", "_csrf_token": token}
            statuses.append(client.post(f"/budget/{cycle.id}/vote", data=form,
                                        headers={"accept": "text/html"}).status_code)
        assert statuses[:-1] == [400] * SIGN_INS_PER_MINUTE and statuses[-1] == 429


def test_a_form_without_its_csrf_token_is_refused_and_changes_nothing(sqlite_engine):
    engine = sqlite_engine
    cycle = voting_cycle(engine)
    with TestClient(create_app(engine)) as client:
        client.get(f"/budget/{cycle.id}/vote")
        before = engine.position
        refused = client.post(f"/budget/{cycle.id}/vote", data={"phone": "010-1111-0000", "code": "ABCDEF"},
                              headers={"accept": "text/html"})
        assert refused.status_code == 403 and "text/html" in refused.headers["content-type"]
        assert engine.position == before


def test_pages_send_a_content_security_policy_without_unsafe_inline(sqlite_engine):
    engine = sqlite_engine
    cycle = voting_cycle(engine)
    with TestClient(create_app(engine)) as client:
        first = client.get(f"/budget/{cycle.id}/vote")
        assert re.search(r"civic_csrf=\w+; HttpOnly; Path=/; SameSite=lax", first.headers["set-cookie"])
        for path in ("/", f"/budget/{cycle.id}", f"/budget/{cycle.id}/vote", "/audit", "/schema"):
            policy = client.get(path).headers["content-security-policy"]
            assert "default-src 'self'" in policy and "unsafe-inline" not in policy, path
        posted = client.post(f"/budget/{cycle.id}/vote", data={"phone": "010-1111-0000", "code": "ABCDEF",
                                                               "_csrf_token": csrf(first.text)})
        session = posted.headers.get("set-cookie", "")
        assert "civic_session=" in session and "HttpOnly" in session and "SameSite=lax" in session


def test_results_of_imported_points_and_rankings_say_what_was_counted(sqlite_engine):
    engine = sqlite_engine
    shown = {}
    for vote_type, name in GRADED.items():
        cycle = pabulib_exchange.import_pb(engine, (DATA / name).read_text(encoding="utf-8"), by="test:operator")
        service.validate(engine, cycle.id, by="test:admin")
        shown[vote_type] = cycle.id
    with TestClient(create_app(engine)) as client:
        for vote_type, language, words in (
                ("cumulative", "en", ["Points", "Each voter shared out points between projects.",
                                      "Most points first, as long as the budget allows",
                                      "149,000 PLN"]),  # the file's amounts and currency, not won
                ("scoring", "en", ["Points", "Each voter gave projects a score."]),
                ("ordinal", "en", ["Borda score", "(Borda count)", "Highest Borda score first", "1,000,000 USD"]),
                ("ordinal", "ko", ["보르다 점수", "보르다 계산법"])):
            page = client.get(f"/budget/{shown[vote_type]}/results", headers={"accept-language": language})
            assert page.status_code == 200
            for text in words:
                assert text in page.text, (vote_type, language, text)
            assert ">Votes<" not in page.text
