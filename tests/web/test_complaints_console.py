"""The officers' complaints console in a real browser: an officer finds the overdue complaint at
the top of the queue, accepts it and resolves it by keyboard alone, checking the result text that
then goes out exactly once; a transfer to another department; an inspector reads the reports with
their charts and downloads the CSV files for Excel; the store then verifies. Every console page
passes axe-core in Korean and English, some also at phone width."""

from __future__ import annotations

import subprocess
import sys
from datetime import timedelta
from pathlib import Path

import httpx
import pytest

from core.actors import Role
from core.clock import now as utc_now
from core.clock import seoul_time
from core.engine import Engine
from plugins.complaints import rules, service
from plugins.complaints.texts import result_text
from tests.support.staff import PASSWORD, add_staff, cheap_passwords
from tests.web.conftest import DESKTOP, PHONE, check_page, start_site, tab_to
from tests.web.test_complaints_pages import png

REPORTER_PHONE = "010-2468-1357"


def prepared_store(db: Path, outbox: str) -> dict[str, str]:
    """Staff, and four complaints: one overdue (received two days ago, with a phone and a
    photo), one fresh with a phone, one fresh without contact details, and one of forty days ago,
    resolved (a finished month to inspect)."""
    engine = Engine(str(db), outbox=outbox)
    try:
        service.ensure_taxonomy(engine)
        with cheap_passwords():
            add_staff(engine, "choi.officer", [Role.FIELD_OFFICER], "최현장")
            add_staff(engine, "kang.inspector", [Role.AUDITOR], "강감사")
        late = service.intake(engine, channel="call_centre", item="illegal_parking", dong="명동", address="명동길 14",
                              description="승합차가 보도를 막고 있습니다.", reporter_name="홍길동",
                              reporter_phone=REPORTER_PHONE, photo_bytes=[png(6, 4)],
                              received_at=utc_now() - timedelta(days=2))
        light = service.intake(engine, channel="call_centre", item="street_light", dong="필동", address="필동로 12",
                               description="가로등이 꺼져 있습니다.", reporter_phone="010-1111-2222")
        tree = service.intake(engine, channel="portal", item="street_tree", dong="신당동", address="신당동 골목",
                              description="가로수 가지가 부러져 길을 막았습니다.")
        old = service.intake(engine, channel="sns", item="pothole", dong="회현동", address="회현동 골목",
                             description="도로에 구멍이 있습니다.", received_at=utc_now() - timedelta(days=40))
        service.act(engine, old.id, "resolve", note="보수했습니다.", by="test:construction.west")
        engine.ledger.checkpoint()
        return {"late": str(late.id), "light": str(light.id), "tree": str(tree.id), "old": str(old.id),
                "old_month": seoul_time(rules.parse_time(old.received_at)).strftime("%Y-%m")}
    finally:
        engine.close()


@pytest.fixture
def console(site_env):
    db, env = site_env
    known = prepared_store(db, env["CIVIC_OUTBOX"])
    site = start_site(db, env)
    yield site, known
    site.stop()


def sign_in(page, site, username: str, then: str, language: str = "ko") -> None:
    page.goto(f"{site.url}/lang/{language}?next={then}")
    assert "/staff/sign-in?next=" in page.url
    page.fill("#username", username)
    page.fill("#password", PASSWORD)
    page.click("main button[type=submit]")
    page.wait_for_url(f"{site.url}{then}")


def stored(site, complaint_id: str) -> dict:
    return httpx.get(f"{site.url}/api/complaints/{complaint_id}", timeout=10).json()


def verify_store(site) -> None:
    """The store, once the server stopped, verifies: ``civic audit verify --db`` exits 0 (the
    ledger, the signed checkpoints, and every plugin's re-tally, the inspections included)."""
    site.stop()
    verified = subprocess.run([sys.executable, "-m", "core", "audit", "verify", "--db", str(site.db)],
                              capture_output=True, text=True, env=site.env, cwd=site.env["PYTHONPATH"])
    assert verified.returncode == 0, verified.stdout + verified.stderr


def test_an_officer_resolves_the_overdue_complaint_by_keyboard_and_one_text_goes_out(console, browser):
    site, ids = console
    late = ids["late"]
    page = browser.new_page(viewport=DESKTOP, locale="ko-KR")
    sign_in(page, site, "choi.officer", "/staff/complaints")
    first = page.locator("table.complaint-queue tbody tr").first
    assert "기한 초과" in first.inner_text() and first.locator(f"a[href='/staff/complaints/{late}']").count() == 1
    assert "민원 3건, 그중 기한 초과 1건" in page.inner_text("main")

    tab_to(page, f"a[href='/staff/complaints/{late}']")
    page.keyboard.press("Enter")
    page.wait_for_url(f"**/staff/complaints/{late}")
    main = page.inner_text("main")
    assert "홍길동" in main and REPORTER_PHONE in main  # a field officer may see the reporter
    page.wait_for_function("() => document.querySelector('.photo-list img').complete")
    assert page.locator(".photo-list img").evaluate("img => img.naturalWidth") == 6
    tab_to(page, f"form[action='/staff/complaints/{late}/accept'] button")
    page.keyboard.press("Enter")
    page.wait_for_url(f"**/staff/complaints/{late}?done=accept")
    assert "민원을 접수 확인했습니다." in page.inner_text("[role=status]")

    tab_to(page, f"a[href='/staff/complaints/{late}/resolve']")
    page.keyboard.press("Enter")
    page.wait_for_url(f"**/staff/complaints/{late}/resolve")
    note = "불법 주정차 차량을 견인하고 과태료를 부과했습니다."
    tab_to(page, "#note")
    page.keyboard.type(note)
    tab_to(page, "main form button[type=submit]")
    page.keyboard.press("Enter")
    page.wait_for_selector("#sms-preview")
    preview = page.inner_text("#sms-preview").strip()
    expected = result_text("불법 주정차", "명동", stored(site, late)["received_at"], note)
    assert preview == expected
    assert site.texts() == [] and stored(site, late)["status"] == "accepted"  # nothing sent before the check

    tab_to(page, "button[value=send]")
    page.keyboard.press("Enter")
    page.wait_for_url(f"**/staff/complaints/{late}?done=resolve")
    assert "민원을 처리 완료했습니다." in page.inner_text("[role=status]")
    texts = site.texts()
    assert len(texts) == 1
    assert texts[0]["to"] == "01024681357" and texts[0]["text"] == preview == expected
    assert stored(site, late)["status"] == "resolved"
    page.reload()  # reloading the page after sending sends nothing again
    assert len(site.texts()) == 1
    assert "처리 결과 고치기" not in page.inner_text("main") and "종결된 민원" in page.inner_text("main")
    verify_store(site)


def test_an_officer_transfers_a_complaint_to_another_department(console, browser, tmp_path):
    site, ids = console
    tree = ids["tree"]
    page = browser.new_page(viewport=PHONE, locale="ko-KR")
    sign_in(page, site, "choi.officer", f"/staff/complaints/{tree}")
    page.click(f"a[href='/staff/complaints/{tree}/transfer']")
    page.wait_for_url(f"**/staff/complaints/{tree}/transfer")
    page.select_option("#department", "environment")
    page.click("main form button[type=submit]")  # no reason given
    page.wait_for_selector("#error-summary")
    assert "이송 사유를 써 주세요." in page.inner_text("#error-summary")
    assert stored(site, tree)["department"] == "parks"
    page.fill("#note", "부러진 가로수 처리는 환경과가 맡습니다.")
    page.click("main form button[type=submit]")
    page.wait_for_url(f"**/staff/complaints/{tree}?done=transfer")
    after = stored(site, tree)
    assert (after["department"], after["officer"], after["status"]) == ("environment", "environment.east",
                                                                        "transferred")
    assert "부러진 가로수 처리는 환경과가 맡습니다." in page.inner_text("main")
    photo = tmp_path / "tree.png"
    photo.write_bytes(png(7, 5))
    page.set_input_files("#photo", str(photo))
    page.click("form[action$='/photos'] button")
    page.wait_for_url(f"**/staff/complaints/{tree}?done=photo")
    assert stored(site, tree)["photos"][0]["bytes"] == photo.stat().st_size
    page.wait_for_function("() => document.querySelector('.photo-list img').complete")
    assert page.locator(".photo-list img").evaluate("img => img.naturalWidth") == 7
    assert site.texts() == []
    verify_store(site)


def test_an_inspector_reads_the_reports_and_downloads_csv_for_excel(console, browser, tmp_path):
    site, ids = console
    page = browser.new_page(viewport=DESKTOP, locale="ko-KR", accept_downloads=True)
    sign_in(page, site, "kang.inspector", "/staff/complaints/reports")
    main = page.inner_text("main")
    assert "주차관리과" in main and "월간 처리실태 점검" in main
    for img in page.locator("figure.chart img").all():
        img.evaluate("img => img.complete || new Promise(r => img.onload = r)")
        assert img.evaluate("img => img.naturalWidth") > 300
    this_year = seoul_time(utc_now()).year
    yearly_rows = [row.split() for row in page.locator("main table").nth(1).locator("tbody tr").all_inner_texts()]
    assert [str(this_year), "4" if ids["old_month"].startswith(str(this_year)) else "3"] in [r[:2] for r in yearly_rows]
    with page.expect_download() as monthly:
        page.click("a[href^='/staff/complaints/reports/monthly.csv']")
    with page.expect_download() as yearly:
        page.click("a[href='/staff/complaints/reports/yearly.csv']")
    month_bytes = Path(monthly.value.path()).read_bytes()
    year_bytes = Path(yearly.value.path()).read_bytes()
    assert month_bytes.startswith(b"\xef\xbb\xbf") and year_bytes.startswith(b"\xef\xbb\xbf")
    month_text, year_text = month_bytes.decode("utf-8-sig"), year_bytes.decode("utf-8-sig")
    assert month_text.startswith("부서,부서 코드,접수") and "주차관리과,parking," in month_text
    assert year_text.startswith("년도,전체,교통,도로,청소") and "\r\n" in year_text
    assert monthly.value.suggested_filename.endswith(".csv")
    # the finished month of the old complaint: its inspection published, once
    page.goto(f"{site.url}/staff/complaints/reports?month={ids['old_month']}")
    tab_to(page, "form[action='/staff/complaints/reports/publish'] button")
    page.keyboard.press("Enter")
    page.wait_for_url(f"**/staff/complaints/reports?month={ids['old_month']}&published=monthly")
    assert "확정했습니다" in page.inner_text("[role=status]")
    inspection = httpx.get(f"{site.url}/api/complaints/inspections/monthly/{ids['old_month']}", timeout=10).json()
    row = next(r for r in inspection["rows"] if r["department"] == "construction")
    assert (row["received"], row["open"], row["overdue"]) == (1, 1, 1)  # resolved only this month, late
    # the inbox is the field officers': an auditor inspects, and may not act on complaints
    assert page.goto(f"{site.url}/staff/complaints").status == 403
    verify_store(site)


@pytest.mark.parametrize("language", ["ko", "en"])
def test_complaints_console_pages_pass_axe(console, browser, language):
    site, ids = console
    late, light = ids["late"], ids["light"]
    context = browser.new_context(viewport=DESKTOP)
    page = context.new_page()
    sign_in(page, site, "choi.officer", "/staff/complaints", language)
    check_page(page, "complaints-console-queue", language=language)
    page.goto(f"{site.url}/staff/complaints?department=nope")
    check_page(page, "complaints-console-queue-errors", language=language)
    page.goto(f"{site.url}/staff/complaints/{late}")
    check_page(page, "complaints-console-complaint", language=language)
    for action in ("transfer", "reject", "duplicate", "resolve"):
        page.goto(f"{site.url}/staff/complaints/{late}/{action}")
        check_page(page, f"complaints-console-{action}", language=language)
    page.click("main form button[type=submit]")  # resolve without a result
    page.wait_for_selector("#error-summary")
    check_page(page, "complaints-console-resolve-errors", language=language)
    page.fill("#note", "Towed away." if language == "en" else "견인했습니다.")
    page.click("main form button[type=submit]")
    page.wait_for_selector("#sms-preview")
    check_page(page, "complaints-console-resolve-check", language=language)
    page.goto(f"{site.url}/staff/complaints/{light}")
    page.click(f"form[action='/staff/complaints/{light}/accept'] button")
    page.wait_for_url("**?done=accept")
    check_page(page, "complaints-console-done", language=language)
    page.set_viewport_size(PHONE)
    page.goto(f"{site.url}/staff/complaints")
    check_page(page, "complaints-console-queue", language=language)
    page.goto(f"{site.url}/staff/complaints/{late}")
    check_page(page, "complaints-console-complaint", language=language)
    context.close()

    context = browser.new_context(viewport=DESKTOP)
    page = context.new_page()
    sign_in(page, site, "kang.inspector", "/staff/complaints/reports", language)
    check_page(page, "complaints-console-reports", language=language)
    page.goto(f"{site.url}/staff/complaints/reports?month=2016-13")
    check_page(page, "complaints-console-reports-errors", language=language)
    page.goto(f"{site.url}/staff/complaints/reports?month={ids['old_month']}")
    assert page.locator("form[action='/staff/complaints/reports/publish']").count() >= 1
    check_page(page, "complaints-console-reports-publish", language=language)
    page.set_viewport_size(PHONE)
    page.goto(f"{site.url}/staff/complaints/reports")
    check_page(page, "complaints-console-reports", language=language)
    context.close()
    assert site.texts() == []  # looking and checking sends nothing
