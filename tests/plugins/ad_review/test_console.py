"""The committee's console pages without a browser: a member asks to join with a public key, the
secretary confirms it, opens a session and closes it; the member's acts are signed over the bytes
the ``prepare`` answer gives (awkward text included) and refused, with nothing recorded, when the
signature is missing or wrong. The review-time report page and chart."""

from __future__ import annotations

import base64
import re
from datetime import date, datetime

import pytest

from core.actors import Role
from core.clock import SEOUL
from plugins.ad_review import queries, service, signing, sla
from plugins.ad_review.domain import session_id
from tests.plugins.ad_review.helpers import application
from tests.support.staff import HTML, add_staff, cheap_passwords, console_client, post_form

AWKWARD = '  적합함 — "따옴표" \\ 백슬래시 🙂\r\n둘째 줄\u2028셋째   \r\n\r\n  '
STORED = '적합함 — "따옴표" \\ 백슬래시 🙂\n둘째 줄\u2028셋째'


@pytest.fixture
def committee(sqlite_engine, sunday):
    with cheap_passwords():
        add_staff(sqlite_engine, "kim.secretary", [Role.PROCESS_ADMIN], name="김간사")
        add_staff(sqlite_engine, "lee.member", [Role.COMMITTEE_MEMBER], name="이위원")
        yield sqlite_engine


def ask_and_confirm(engine, key) -> str:
    public = signing.public_key_b64(key)
    with console_client(engine, "lee.member") as member:
        page = member.get("/staff/ad-review/key", headers=HTML).text
        assert 'value="lee-member"' in page  # the member id suggested from the username
        answer = post_form(member, "/staff/ad-review/key/request", {"member_id": "lee-member", "name": "이위원 (건축사)",
                                                            "public_key": public}, token_from="/staff/ad-review/key")
        assert answer.status_code == 303
        assert signing.fingerprint(public) in member.get("/staff/ad-review/key", headers=HTML).text
    account = str(engine.identity.find("lee.member").id)
    with console_client(engine, "kim.secretary") as secretary:
        page = secretary.get("/staff/ad-review/members", headers=HTML).text
        assert signing.fingerprint(public) in page and "lee.member" in page
        answer = post_form(secretary, f"/staff/ad-review/members/requests/{account}/confirm",
                           {"public_key": public})
        assert answer.status_code == 303
    assert service.describe_committee(engine)["members"] == [
        {"member_id": "lee-member", "name": "이위원 (건축사)", "public_key": public}]
    assert service.member_of(engine, account) == "lee-member"
    return account


def test_a_member_joins_decides_and_comments_with_signatures_over_the_prepared_bytes(committee):
    engine = committee
    key = signing.generate()
    ask_and_confirm(engine, key)
    app = service.submit(engine, "applicant", application(engine))
    with console_client(engine, "kim.secretary") as secretary:
        answer = post_form(secretary, "/staff/ad-review/sessions", {"week": "2016-W10"}, token_from="/staff/ad-review")
        assert answer.status_code == 303
    sid = session_id("2016-W10")
    assert answer.headers["location"] == f"/staff/ad-review/sessions/{sid}"
    base = f"/staff/ad-review/sessions/{sid}/applications/{app.id}"
    with console_client(engine, "lee.member") as member:
        assert str(app.id) in member.get("/staff/ad-review/queue", headers=HTML).text
        form = {"decision": "approve", "reasons": AWKWARD, "conditions": "ignored unless with conditions"}
        prepared = post_form(member, f"{base}/prepare/decision", form, token_from=base)
        assert prepared.status_code == 200
        message = base64.b64decode(prepared.json()["message"])
        assert message == signing.decision_bytes(str(sid), str(app.id), "lee-member", "approve", STORED, [])
        assert prepared.json()["document"] == message.decode("utf-8")

        # no signature, or a wrong one: refused on the form, nothing recorded
        before = engine.position
        unsigned = post_form(member, f"{base}/decision", form, token_from=base)
        assert unsigned.status_code == 400 and "자바스크립트" in unsigned.text
        assert unsigned.headers["content-type"].startswith("text/html")
        forged = post_form(member, f"{base}/decision", {**form, "signature": signing.sign(signing.generate(), message)},
                           token_from=base)
        assert forged.status_code == 400 and 'id="error-summary"' in forged.text
        assert engine.position == before

        signed = post_form(member, f"{base}/decision", {**form, "signature": signing.sign(key, message)},
                           token_from=base)
        assert signed.status_code == 303, signed.text[-800:]
        comment = post_form(member, f"{base}/prepare/comment", {"text": "현장 확인 바랍니다 \r\n"}, token_from=base)
        signature = signing.sign(key, base64.b64decode(comment.json()["message"]))
        assert post_form(member, f"{base}/comment", {"text": "현장 확인 바랍니다 \r\n", "signature": signature},
                         token_from=base).status_code == 303
        assert "현장 확인 바랍니다" in member.get(base, headers=HTML).text
    thread = queries.thread(engine, sid, app.id)
    assert thread["decided"] == ["lee-member"]
    assert thread["comments"] == [{"member": "lee-member", "text": "현장 확인 바랍니다"}]
    with console_client(engine, "kim.secretary") as secretary:
        assert post_form(secretary, f"/staff/ad-review/sessions/{sid}/close",
                         token_from=f"/staff/ad-review/sessions/{sid}").status_code == 303
    assert queries.application_view(engine, app.id)["outcome"] == "approve"
    assert queries.application_view(engine, app.id)["reasons"] == [STORED]


def test_bad_input_is_named_on_the_form_and_changes_nothing(committee):
    engine = committee
    key = signing.generate()
    with console_client(engine, "lee.member") as member:
        answer = post_form(member, "/staff/ad-review/key/request", {"member_id": "Lee Member", "name": "",
                                                            "public_key": signing.public_key_b64(key)},
                           token_from="/staff/ad-review/key")
        assert answer.status_code == 400
        assert 'href="#member_id"' in answer.text and 'href="#name"' in answer.text
    ask_and_confirm(engine, key)
    app = service.submit(engine, "applicant", application(engine))
    with console_client(engine, "kim.secretary") as secretary:
        before = engine.position
        answer = post_form(secretary, "/staff/ad-review/sessions", {"week": "next tuesday"}, token_from="/staff/ad-review")
        assert answer.status_code == 400 and 'href="#week"' in answer.text
        assert engine.position == before
        service.open_session(engine, "secretary", "2016-W10")
        sid = session_id("2016-W10")
        answer = post_form(secretary, f"/staff/ad-review/sessions/{sid}/agenda", {},
                           token_from=f"/staff/ad-review/sessions/{sid}")
        assert answer.status_code == 400 and 'href="#application"' in answer.text
    base = f"/staff/ad-review/sessions/{sid}/applications/{app.id}"
    with console_client(engine, "lee.member") as member:
        before = engine.position
        answer = post_form(member, f"{base}/prepare/decision", {"decision": "approve", "reasons": "  \r\n "},
                           token_from=base)
        assert answer.status_code == 400 and set(answer.json()["errors"]) == {"reasons"}
        answer = post_form(member, f"{base}/decision", {"reasons": "적합"}, token_from=base)
        assert answer.status_code == 400 and 'href="#decision"' in answer.text
        assert engine.position == before


def test_a_secretary_puts_a_late_application_on_the_agenda(committee, sunday):
    engine = committee
    ask_and_confirm(engine, signing.generate())
    service.open_session(engine, "secretary", "2016-W10")
    sid = session_id("2016-W10")
    sunday.set(datetime(2016, 3, 10, 12, 0, tzinfo=SEOUL))  # Thursday: the intake has ended
    late = service.submit(engine, "applicant", application(engine))
    assert queries.application_view(engine, late.id)["status"] == "queued"
    with console_client(engine, "kim.secretary") as secretary:
        page = secretary.get(f"/staff/ad-review/sessions/{sid}", headers=HTML).text
        assert f'value="{late.id}"' in page
        answer = post_form(secretary, f"/staff/ad-review/sessions/{sid}/agenda", {"application": [str(late.id)]},
                           token_from=f"/staff/ad-review/sessions/{sid}")
        assert answer.status_code == 303
    assert str(late.id) in queries.sessions(engine)[str(sid)]["items"]
    assert queries.application_view(engine, late.id)["status"] == "in_session"


def test_the_report_page_and_chart_show_a_dash_when_nothing_is_decided(committee):
    report = sla.sla_report([], date(2016, 1, 1), date(2016, 12, 31), SEOUL)
    svg = sla.weekly_chart_svg(report)
    assert "None" not in svg  # it read "median None d" before
    assert "median — · p90 —" in svg
    with console_client(committee, "lee.member") as member:
        page = member.get("/staff/ad-review/report?from=2016-01-01&to=2016-12-31", headers=HTML)
        assert page.status_code == 200 and "None" not in page.text
        bad = member.get("/staff/ad-review/report?from=2016-12-31&to=2016-01-01", headers=HTML)
        assert bad.status_code == 400 and 'href="#to"' in bad.text
        chart = member.get("/api/ad_review/report.svg")  # no dates given: this year so far, nothing decided
        assert chart.status_code == 200 and "None" not in chart.text and "median —" in chart.text


def test_the_report_page_shows_the_weekly_figures(committee, sunday):
    from tests.plugins.ad_review.helpers import decide, join

    engine = committee
    join(engine, "m1", "m2", "m3")
    app = service.submit(engine, "applicant", application(engine))
    service.open_session(engine, "secretary", "2016-W10")
    sid = session_id("2016-W10")
    for m in ("m1", "m2", "m3"):
        decide(engine, m, sid, app.id, "approve")
    sunday.set(datetime(2016, 3, 9, 12, 0, tzinfo=SEOUL))  # Wednesday: three days after submission
    service.close_session(engine, "secretary", sid)
    with console_client(engine, "kim.secretary") as secretary:
        page = secretary.get("/staff/ad-review/report?from=2016-01-01&to=2016-12-31", headers=HTML).text
    assert "2016-W10" in page and "<svg" in page
    row = re.search(r"<th scope=\"row\">2016-W10</th>(.*?)</tr>", page, re.S)
    assert row and "<td class=\"num\">1</td>" in row.group(1) and "3.0" in row.group(1)


def test_the_secretary_registers_a_member_who_signs_with_the_command_line(committee):
    engine = committee
    public = signing.public_key_b64(signing.generate())
    with console_client(engine, "kim.secretary") as secretary:
        before = engine.position
        bad = post_form(secretary, "/staff/ad-review/members/add", {"member_id": "choi", "name": "최위원",
                                                                    "public_key": "not a key"},
                        token_from="/staff/ad-review/members")
        assert bad.status_code == 400 and 'href="#public_key"' in bad.text and 'value="choi"' in bad.text
        assert engine.position == before
        answer = post_form(secretary, "/staff/ad-review/members/add", {"member_id": "choi", "name": "최위원",
                                                                       "public_key": f" {public}\n"},
                           token_from="/staff/ad-review/members")
        assert answer.status_code == 303
        page = secretary.get("/staff/ad-review/members", headers=HTML).text
        assert signing.fingerprint(public) in page and "최위원" in page
        again = post_form(secretary, "/staff/ad-review/members/add", {"member_id": "choi", "name": "최위원",
                                                                      "public_key": signing.public_key_b64(
                                                                          signing.generate())},
                          token_from="/staff/ad-review/members")
        assert again.status_code == 400 and "이미 사용 중인 위원 ID" in again.text
    assert service.describe_committee(engine)["members"] == [
        {"member_id": "choi", "name": "최위원", "public_key": public}]


def test_the_secretary_records_the_full_committees_decision(committee):
    engine = committee
    app = service.submit(engine, "applicant", application(engine, sign_type="rooftop",
                                                          size={"width_m": 10, "height_m": 3}))
    assert queries.application_view(engine, app.id)["status"] == "referred"
    path = f"/staff/ad-review/full-committee/{app.id}"
    with console_client(engine, "kim.secretary") as secretary:
        assert path in secretary.get("/staff/ad-review/full-committee", headers=HTML).text
        before = engine.position
        bad = post_form(secretary, f"{path}/decision", {"decision": "re_review", "reasons": "보완"}, token_from=path)
        assert bad.status_code == 400 and 'href="#meeting"' in bad.text and 'href="#decision"' in bad.text
        assert engine.position == before
        answer = post_form(secretary, f"{path}/decision", {
            "decision": "approve_with_conditions", "reasons": "경관 심의 결과 적합\r\n", "meeting": "2016-03-24 제3차 회의",
            "conditions": "야간 소등\r\n\r\n옥상 난간 높이 이내"}, token_from=path)
        assert answer.status_code == 303
        page = secretary.get("/staff/ad-review/full-committee", headers=HTML).text
        assert "2016-03-24 제3차 회의" in page and "조건부 가결" in page
    view = queries.application_view(engine, app.id)
    assert (view["status"], view["outcome"], view["reasons"], view["conditions"]) == (
        "decided", "approve_with_conditions", ["경관 심의 결과 적합"], ["야간 소등", "옥상 난간 높이 이내"])
    assert view["notice_sent"]


def test_a_key_replaced_after_the_secretary_saw_it_is_not_confirmed(committee):
    engine = committee
    first, second = (signing.public_key_b64(signing.generate()) for _ in range(2))
    account = str(engine.identity.find("lee.member").id)
    service.request_key(engine, account, "lee-member", "이위원", first)
    with console_client(engine, "kim.secretary") as secretary:
        page = secretary.get("/staff/ad-review/members", headers=HTML).text
        service.request_key(engine, account, "lee-member", "이위원", second)  # sent again meanwhile
        token = re.search(r'name="_csrf_token" value="([^"]+)"', page).group(1)
        answer = secretary.post(f"/staff/ad-review/members/requests/{account}/confirm", headers=HTML,
                                data={"_csrf_token": token, "public_key": first}, follow_redirects=False)
        assert answer.status_code == 400 and "새 키" in answer.text
        assert signing.fingerprint(second) in answer.text
    assert service.describe_committee(engine)["members"] == []
