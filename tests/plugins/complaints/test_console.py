"""The officers' console without a browser: the queue (filters, overdue first), a complaint's
page with personal data only for those allowed, each action through its form (refusals change
nothing and say why), the result text checked then sent once, and the reports with CSV for Excel."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest

from core.actors import Role
from core.clock import now as utc_now
from plugins.complaints import console, reports, rules, service
from plugins.complaints.domain import Inspection, inspection_id
from plugins.complaints.texts import result_text
from tests.support.staff import HTML, add_staff, cheap_passwords, console_client, post_form

PHONE = "010-2468-1357"


@pytest.fixture
def store(sqlite_engine, manual_clock):
    engine = sqlite_engine
    service.ensure_taxonomy(engine)
    with cheap_passwords():
        add_staff(engine, "choi.officer", [Role.FIELD_OFFICER], "최현장")
        add_staff(engine, "seo.agent", [Role.CALL_CENTRE_AGENT], "서상담")
        add_staff(engine, "kang.auditor", [Role.AUDITOR], "강감사")
        late = service.intake(engine, channel="call_centre", item="illegal_parking", dong="명동",
                              address="명동길 14", description="차가 인도를 막고 있습니다.", reporter_name="홍길동",
                              reporter_phone=PHONE, received_at=utc_now() - timedelta(days=2))
        manual_clock.advance(hours=1)
        fresh = service.intake(engine, channel="portal", item="street_tree", dong="신당동", address="신당동 골목",
                               description="가로수 가지가 부러졌습니다.")
        yield engine, {"late": str(late.id), "fresh": str(fresh.id)}


def outbox(engine) -> list[dict]:
    path = engine.outbox.path
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()] if path.exists() else []


def test_the_queue_puts_overdue_first_and_filters_by_department_and_dong(store):
    engine, ids = store
    with console_client(engine, "choi.officer") as client:
        page = client.get("/staff/complaints", headers=HTML)
        assert page.status_code == 200
        assert page.text.index(ids["late"]) < page.text.index(ids["fresh"])  # older, but overdue
        assert "2 complaints, 1 of them overdue" in page.text or "2건" in page.text
        parks = client.get("/staff/complaints?department=parks", headers=HTML).text
        assert ids["fresh"] in parks and ids["late"] not in parks
        myeong = client.get("/staff/complaints?dong=명동", headers=HTML).text
        assert ids["late"] in myeong and ids["fresh"] not in myeong
        bad = client.get("/staff/complaints?department=nope", headers=HTML)
        assert bad.status_code == 400 and "error-summary" in bad.text


def test_the_reporter_is_shown_only_to_roles_allowed_personal_data(store, monkeypatch):
    engine, ids = store
    with console_client(engine, "choi.officer") as client:
        page = client.get(f"/staff/complaints/{ids['late']}", headers=HTML).text
        assert "홍길동" in page and "010-2468-1357" in page
    # were the permission narrowed (a deployment's plugin may), the pages follow it
    monkeypatch.setattr(console, "may_see_personal_data", lambda engine, actor: False)
    with console_client(engine, "choi.officer") as client:
        page = client.get(f"/staff/complaints/{ids['late']}", headers=HTML).text
        assert "홍길동" not in page and "2468" not in page
        check = post_form(client, f"/staff/complaints/{ids['late']}/resolve", {"note": "견인했습니다.", "step": "check"})
        assert check.status_code == 200 and "2468" not in check.text


def test_the_result_text_is_checked_and_then_sent_once(store):
    engine, ids = store
    cid = ids["late"]
    note = "불법 주정차 차량을 견인했습니다."
    with console_client(engine, "choi.officer") as client:
        position_before_check = engine.position
        empty = post_form(client, f"/staff/complaints/{cid}/resolve", {"note": "", "step": "check"})
        assert empty.status_code == 400 and "error-summary" in empty.text
        check = post_form(client, f"/staff/complaints/{cid}/resolve", {"note": note, "step": "check"})
        assert check.status_code == 200
        complaint = service.get_complaint(engine, cid)
        expected = result_text("불법 주정차", "명동", complaint.received_at, note)
        assert expected in check.text.replace("&#39;", "'")
        assert complaint.status == rules.TRANSFERRED and outbox(engine) == []  # nothing yet
        change = post_form(client, f"/staff/complaints/{cid}/resolve", {"note": note, "step": "change"})
        assert change.status_code == 200 and f">{note}</textarea>" in change.text  # back to the form, kept
        assert engine.position == position_before_check
        sent = post_form(client, f"/staff/complaints/{cid}/resolve", {"note": note, "step": "send"})
        assert sent.status_code == 303 and sent.headers["location"] == f"/staff/complaints/{cid}?done=resolve"
        assert service.get_complaint(engine, cid).status == rules.RESOLVED
        texts = outbox(engine)
        assert [(t["to"], t["text"]) for t in texts] == [("01024681357", expected)]
        again = post_form(client, f"/staff/complaints/{cid}/resolve", {"note": note, "step": "send"})
        assert again.status_code == 400 and "error-summary" in again.text  # closed now: refused, said why
        assert len(outbox(engine)) == 1


def test_accept_start_transfer_reject_and_duplicate_through_the_forms(store):
    engine, ids = store
    fresh, late = ids["fresh"], ids["late"]
    with console_client(engine, "choi.officer") as client:
        assert post_form(client, f"/staff/complaints/{fresh}/accept").status_code == 303
        assert post_form(client, f"/staff/complaints/{fresh}/start").status_code == 303
        assert service.get_complaint(engine, fresh).status == rules.IN_PROGRESS
        before = engine.position
        refused = post_form(client, f"/staff/complaints/{fresh}/accept")  # in progress: cannot accept again
        assert refused.status_code == 400 and engine.position == before
        no_reason = post_form(client, f"/staff/complaints/{fresh}/transfer", {"department": "environment"})
        assert no_reason.status_code == 400 and engine.position == before
        moved = post_form(client, f"/staff/complaints/{fresh}/transfer",
                          {"department": "environment", "note": "가로수 민원은 환경과 소관"})
        assert moved.status_code == 303
        complaint = service.get_complaint(engine, fresh)
        assert (complaint.department, complaint.officer, complaint.status) == ("environment", "environment.east",
                                                                               rules.TRANSFERRED)
        before = engine.position
        unknown = post_form(client, f"/staff/complaints/{late}/duplicate", {"original": "no-such-number"})
        assert unknown.status_code == 400 and engine.position == before
        itself = post_form(client, f"/staff/complaints/{late}/duplicate", {"original": late})
        assert itself.status_code == 400 and engine.position == before
        assert post_form(client, f"/staff/complaints/{late}/duplicate", {"original": fresh}).status_code == 303
        assert service.get_complaint(engine, late).duplicate_of == fresh
        assert post_form(client, f"/staff/complaints/{fresh}/reject", {"note": "사유지입니다."}).status_code == 303
        assert service.get_complaint(engine, fresh).status == rules.REJECTED
        page = client.get(f"/staff/complaints/{fresh}", headers=HTML).text
        assert "사유지입니다." in page and "가로수 민원은 환경과 소관" in page
    assert outbox(engine) == []  # no resolution, no text


def test_a_call_centre_agent_cannot_act_and_nothing_moves(store):
    engine, ids = store
    with console_client(engine, "seo.agent") as client:
        before = engine.position
        answer = post_form(client, f"/staff/complaints/{ids['late']}/resolve", {"note": "x", "step": "send"})
        assert answer.status_code == 403 and engine.position == before
        assert client.get("/staff/complaints", headers=HTML).status_code == 403


def test_reports_with_charts_and_csv_for_excel(store, manual_clock):
    engine, ids = store
    manual_clock.advance(minutes=1)
    month = utc_now().strftime("%Y-%m")
    with console_client(engine, "kang.auditor") as client:
        page = client.get(f"/staff/complaints/reports?month={month}", headers=HTML)
        assert page.status_code == 200 and "주차관리과" in page.text and "공원녹지과" in page.text
        chart = client.get(f"/staff/complaints/reports/monthly.svg?month={month}")
        assert chart.headers["content-type"].startswith("image/svg+xml") and "<svg" in chart.text
        assert "<svg" in client.get("/staff/complaints/reports/yearly.svg").text
        monthly = client.get(f"/staff/complaints/reports/monthly.csv?month={month}")
        assert monthly.content.startswith(b"\xef\xbb\xbf")
        assert "attachment" in monthly.headers["content-disposition"]
        lines = monthly.content.decode("utf-8-sig").splitlines()
        assert lines[0].split(",")[:3] == ["부서", "부서 코드", "접수"]
        assert any(line.startswith("공원녹지과,parks,1,") for line in lines), lines
        yearly = client.get("/staff/complaints/reports/yearly.csv").content
        assert yearly.startswith(b"\xef\xbb\xbf")
        rows = yearly.decode("utf-8-sig").splitlines()
        assert rows[0].startswith("년도,전체,교통,도로,청소") and rows[1].startswith(f"{utc_now().year},2,1,")
        bad = client.get("/staff/complaints/reports?month=2016-13", headers=HTML)
        assert bad.status_code == 400 and "error-summary" in bad.text
    assert reports.excel_csv([], reports.MONTHLY_HEADERS_KO).startswith("\ufeff부서".encode())


def test_an_inspector_publishes_a_finished_month_once(store, manual_clock):
    engine, ids = store
    month = utc_now().strftime("%Y-%m")
    with console_client(engine, "kang.auditor") as client:
        before = engine.position
        early = post_form(client, "/staff/complaints/reports/publish", {"kind": "monthly", "period": month})
        assert early.status_code == 400 and "error-summary" in early.text and engine.position == before
    manual_clock.advance(days=40)
    with console_client(engine, "kang.auditor") as client:  # signed in again: a session lasts hours, not weeks
        done = post_form(client, "/staff/complaints/reports/publish", {"kind": "monthly", "period": month})
        assert done.status_code == 303 and done.headers["location"] == f"/staff/complaints/reports?month={month}&published=monthly"
        inspection = engine.get(inspection_id("monthly", month), Inspection)
        assert {r["department"] for r in inspection.rows} == {"parking", "parks"}
        page = client.get(done.headers["location"], headers=HTML).text
        assert 'class="panel panel--done" role="status"' in page and 'action="/staff/complaints/reports/publish"' \
            not in page.split('id="yearly"')[0]  # the month's button is gone
        before = engine.position
        twice = post_form(client, "/staff/complaints/reports/publish", {"kind": "monthly", "period": month})
        assert twice.status_code == 400 and engine.position == before


def test_an_officer_attaches_a_photo_and_a_bad_file_is_refused(store):
    from tests.web.test_complaints_pages import png

    engine, ids = store
    cid = ids["fresh"]
    with console_client(engine, "choi.officer") as client:
        before = engine.position
        bad = post_form(client, f"/staff/complaints/{cid}/photos", token_from=f"/staff/complaints/{cid}",
                        files={"photo": ("notes.txt", b"not a picture", "text/plain")})
        assert bad.status_code == 400 and "JPEG, PNG, GIF" in bad.text and engine.position == before
        picture = png(5, 5)
        added = post_form(client, f"/staff/complaints/{cid}/photos", token_from=f"/staff/complaints/{cid}",
                          files={"photo": ("after.png", picture, "image/png")})
        assert added.status_code == 303 and added.headers["location"] == f"/staff/complaints/{cid}?done=photo"
        assert service.get_complaint(engine, cid).photos[0]["bytes"] == len(picture)
        again = post_form(client, f"/staff/complaints/{cid}/photos", token_from=f"/staff/complaints/{cid}",
                          files={"photo": ("after.png", picture, "image/png")})
        assert again.status_code == 400 and len(service.get_complaint(engine, cid).photos) == 1
    with console_client(engine, "seo.agent") as client:  # may attach photos (intake), but not open the inbox
        assert client.get(f"/staff/complaints/{cid}", headers=HTML).status_code == 403
