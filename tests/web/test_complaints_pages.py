"""A resident reports a street problem with a photo and follows it to its result; the same form
by keyboard alone on a phone; a bad upload and missing answers are explained and file nothing;
and every page passes axe-core in both languages at phone and desktop width."""

from __future__ import annotations

import re
import struct
import zlib
from pathlib import Path

import httpx
import pytest

from core.engine import Engine
from plugins.complaints import service
from plugins.complaints.media import MAX_BYTES
from tests.web.conftest import DESKTOP, PHONE, check_page, start_site, tab_to

PHONE_NUMBER = "010-2468-1357"
OFFICER = "test:construction.west"
UUID_PATTERN = r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}"


def png(width: int = 4, height: int = 3) -> bytes:
    """A small, valid PNG: red pixels."""
    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)

    rows = b"".join(b"\x00" + b"\xdd\x22\x22" * width for _ in range(height))
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0))
            + chunk(b"IDAT", zlib.compress(rows)) + chunk(b"IEND", b""))


def prepared_store(db: Path, outbox: str) -> dict[str, str]:
    """The taxonomy, and two reports already in the store: one dealt with (with a photo) and
    one still with its department."""
    engine = Engine(str(db), outbox=outbox)
    try:
        service.ensure_taxonomy(engine)
        done = service.intake(engine, channel="call_centre", item="street_light", dong="필동", address="필동로 12",
                              description="가로등이 사흘째 꺼져 있습니다.", reporter_phone="010-1111-2222",
                              photo_bytes=[png(6, 4)])
        service.act(engine, done.id, "resolve", note="가로등 전구를 교체했습니다.", by=OFFICER)
        waiting = service.intake(engine, channel="open311", item="illegal_dumping", dong="신당동",
                                 address="신당동 골목", description="쓰레기 봉투가 쌓여 있습니다.")
        return {"resolved": str(done.id), "open": str(waiting.id)}
    finally:
        engine.close()


def complaint_count(site) -> int:
    return len(httpx.get(f"{site.url}/api/complaints", timeout=10).json())


def errors_listed(page) -> list[str]:
    page.wait_for_load_state()  # a click returns once the answer starts loading, not when it is parsed
    return [a.get_attribute("href") for a in page.locator("#error-summary a").all()]


@pytest.fixture
def reports(site_env):
    db, env = site_env
    known = prepared_store(db, env["CIVIC_OUTBOX"])
    site = start_site(db, env)
    yield site, known
    site.stop()


def fill_first_three_steps(page, site, *, item: str = "pothole", phone: str = "") -> None:
    page.goto(f"{site.url}/complaints/new")
    page.select_option("#item", item)
    page.click("button[type=submit]")
    page.select_option("#dong", "명동")
    page.fill("#address", "명동길 14 앞 횡단보도")
    page.click("button[type=submit]")
    page.fill("#phone", phone)
    page.click("button[type=submit]")
    page.wait_for_url("**/complaints/new/describe")


def test_a_resident_reports_a_problem_with_a_photo_and_follows_it(reports, browser, tmp_path):
    site, _ = reports
    photo = tmp_path / "pothole.png"
    photo.write_bytes(png(8, 8))
    page = browser.new_page(viewport=PHONE, locale="ko-KR")
    page.goto(site.url)
    page.click("text=불편 신고하기")
    page.wait_for_url("**/complaints")
    page.click("text=신고 시작하기")
    page.select_option("#item", "pothole")
    page.click("button[type=submit]")
    page.wait_for_url("**/complaints/new/where")
    page.select_option("#dong", "명동")
    page.fill("#address", "명동길 14 앞 횡단보도")
    page.click("summary")
    page.fill("#lat", "37.5609")
    page.fill("#long", "126.9860")
    page.click("button[type=submit]")
    page.wait_for_url("**/complaints/new/phone")
    assert "결과를 보내는 데에만" in page.inner_text("main")
    page.fill("#phone", PHONE_NUMBER)
    page.click("button[type=submit]")
    page.wait_for_url("**/complaints/new/describe")
    summary = page.inner_text(".summary-list")
    assert "도로 파임(포트홀)" in summary and "명동, 명동길 14 앞 횡단보도" in summary and PHONE_NUMBER in summary
    page.fill("#description", "횡단보도 앞에 깊은 구멍이 생겨 자전거가 넘어질 뻔했습니다.")
    page.set_input_files("#photo", str(photo))
    page.click("button[type=submit]")
    page.wait_for_url("**/complaints/sent")

    number = page.inner_text(".tracking-code").strip()
    assert re.fullmatch(UUID_PATTERN, number)
    assert "건설관리과" in page.inner_text("main") and "문자를 보내 드립니다" in page.inner_text("main")
    # the number is the request id the Open311 face gives, and the report came in on the portal
    open311 = httpx.get(f"{site.url}/open311/v2/requests/{number}.json", timeout=10).json()[0]
    assert open311["service_request_id"] == number and open311["service_code"] == "pothole"
    stored = httpx.get(f"{site.url}/api/complaints/{number}", timeout=10).json()
    assert stored["channel"] == "portal" and stored["dong"] == "명동" and stored["lat"] == 37.5609
    assert stored["photos"][0]["bytes"] == photo.stat().st_size
    assert httpx.get(f"{site.url}/api/complaints/media/{stored['photos'][0]['sha256']}", timeout=10).content \
        == photo.read_bytes()

    page.click("text=신고 화면 보기")
    page.wait_for_url(f"**/complaints/{number}")
    main = page.inner_text("main")
    assert "담당 부서로 이관됨" in main and "건설관리과" in main and "처리 기한" in main
    page.wait_for_function("() => document.querySelector('main img').complete")
    assert page.locator("main img").evaluate("img => img.naturalWidth") == 8
    html = page.content()
    assert "2468" not in html and "1357" not in html  # never the phone number

    engine = Engine(str(site.db), outbox=str(site.outbox))
    try:
        service.act(engine, number, "accept", by=OFFICER)
        service.act(engine, number, "resolve", note="구멍을 아스팔트로 메웠습니다.", by=OFFICER)
    finally:
        engine.close()
    page.reload()
    main = page.inner_text("main")
    assert "처리 완료" in main and "구멍을 아스팔트로 메웠습니다." in main and "종결 일시" in main
    assert "2468" not in page.content()
    text = next(m for m in site.texts() if m["to"] == "01024681357")
    assert "처리되었습니다" in text["text"]


def test_the_form_by_keyboard_alone_on_a_phone(reports, browser):
    site, _ = reports
    page = browser.new_page(viewport=PHONE, locale="ko-KR")
    page.goto(f"{site.url}/complaints")
    tab_to(page, "a.button")
    page.keyboard.press("Enter")
    page.wait_for_url("**/complaints/new")

    # narrow the long list by typing, then pick from what is left with the arrow key
    tab_to(page, "#item-filter")
    page.keyboard.type("포트홀")
    assert page.locator("#item option:not([hidden])").count() == 2  # the prompt and 도로 파임(포트홀)
    tab_to(page, "#item")
    page.keyboard.press("ArrowDown")
    assert page.input_value("#item") == "pothole"
    tab_to(page, "button[type=submit]")
    page.keyboard.press("Enter")
    page.wait_for_url("**/complaints/new/where")

    tab_to(page, "#dong")
    for _ in range(3):  # 소공동, 회현동, 명동
        page.keyboard.press("ArrowDown")
    assert page.input_value("#dong") == "명동"
    tab_to(page, "#address")
    page.keyboard.type("명동길 14")
    tab_to(page, "summary")
    page.keyboard.press("Enter")  # opens the map coordinates
    tab_to(page, "#lat")
    page.keyboard.type("37.5609")
    tab_to(page, "#long")
    page.keyboard.type("126.9860")
    tab_to(page, "button[type=submit]")
    page.keyboard.press("Enter")
    page.wait_for_url("**/complaints/new/phone")

    tab_to(page, "#phone")
    page.keyboard.press("Enter")  # no text message wanted: sent empty
    page.wait_for_url("**/complaints/new/describe")
    assert "받지 않음" in page.inner_text(".summary-list")
    tab_to(page, "#description")
    page.keyboard.type("보도블록 사이에 큰 구멍이 있습니다.")
    tab_to(page, "#photo")  # reachable, and skipped: the photo is optional
    tab_to(page, "button[type=submit]")
    page.keyboard.press("Enter")
    page.wait_for_url("**/complaints/sent")
    number = page.inner_text(".tracking-code").strip()
    assert "문자는 보내 드리지 않습니다" in page.inner_text("main")
    tab_to(page, "a.button")
    page.keyboard.press("Enter")
    page.wait_for_url(f"**/complaints/{number}")
    assert "보도블록 사이에 큰 구멍이 있습니다." in page.inner_text("main")


def test_missing_answers_and_a_bad_upload_are_explained_and_file_nothing(reports, browser, tmp_path):
    site, _ = reports
    before = complaint_count(site)
    page = browser.new_page(viewport=PHONE, locale="ko-KR")

    page.goto(f"{site.url}/complaints/new")
    page.click("button[type=submit]")
    assert errors_listed(page) == ["#item"]
    assert "목록에서 불편의 종류를 골라 주세요" in page.inner_text("#error-summary")
    assert page.evaluate("document.activeElement.id") == "error-summary"  # announced first
    page.select_option("#item", "noise")
    page.click("button[type=submit]")

    page.fill("#address", "")
    page.click("summary")
    page.fill("#lat", "37.5609")
    page.click("button[type=submit]")
    assert errors_listed(page) == ["#dong", "#address", "#long"]
    assert page.get_attribute("#address", "aria-invalid") == "true"
    page.select_option("#dong", "필동")
    page.fill("#address", "필동 먹자골목")
    page.fill("#long", "127.2")  # well outside Jung-gu
    page.click("button[type=submit]")
    assert "중구 안이 아닙니다" in page.inner_text("#error-summary")
    page.fill("#lat", "")
    page.fill("#long", "")
    page.click("button[type=submit]")

    page.fill("#phone", "12345")
    page.click("button[type=submit]")
    assert errors_listed(page) == ["#phone"]
    page.fill("#phone", "")
    page.click("button[type=submit]")
    page.wait_for_url("**/complaints/new/describe")

    # a text file dressed as a photo, and no description
    fake = tmp_path / "photo.jpg"
    fake.write_text("not a picture", encoding="utf-8")
    page.set_input_files("#photo", str(fake))
    page.click("button[type=submit]")
    assert errors_listed(page) == ["#description", "#photo"]
    assert "받을 수 있는 사진이 아닙니다" in page.inner_text("#error-summary")

    # a real photo that is too large: refused, and what was written is kept
    big = tmp_path / "big.png"
    big.write_bytes(png() + b"\x00" * (MAX_BYTES + 1))
    page.fill("#description", "밤마다 음악 소리가 큽니다.")
    page.set_input_files("#photo", str(big))
    page.click("button[type=submit]")
    assert errors_listed(page) == ["#photo"]
    assert "10MB보다 큽니다" in page.inner_text("#error-summary")
    assert page.input_value("#description") == "밤마다 음악 소리가 큽니다."

    # a good photo with a description that is missing: the photo must be chosen again, and says so
    good = tmp_path / "good.png"
    good.write_bytes(png())
    page.fill("#description", "")
    page.set_input_files("#photo", str(good))
    page.click("button[type=submit]")
    assert errors_listed(page) == ["#description"]
    assert "사진을 다시 골라 주세요" in page.inner_text("main")

    assert complaint_count(site) == before
    media = Path(f"{site.db}.media")
    stored = sorted(p.name for p in media.rglob("*") if p.is_file()) if media.exists() else []
    assert len(stored) == 1  # only the prepared report's photo: nothing refused was kept

    # a step cannot be skipped, and the status of a report that does not exist is a clear 404
    fresh = browser.new_page(viewport=PHONE, locale="ko-KR")
    fresh.goto(f"{site.url}/complaints/new/describe")
    assert fresh.url.endswith("/complaints/new")
    response = fresh.goto(f"{site.url}/complaints/00000000-0000-4000-8000-000000000000")
    assert response.status == 404 and "이 번호의 신고가 없습니다" in fresh.inner_text("main")


def test_sending_the_same_report_twice_files_it_once(reports, browser):
    site, _ = reports
    before = complaint_count(site)
    page = browser.new_page(viewport=PHONE, locale="ko-KR")
    fill_first_three_steps(page, site)
    page.fill("#description", "같은 내용을 두 번 보냅니다.")
    form = page.locator("form").evaluate("""async (f) => {
        const send = () => fetch(f.action, {method: 'POST', body: new FormData(f), redirect: 'manual'});
        const [a, b] = await Promise.all([send(), send()]);
        return [a.type, b.type];
    }""")
    assert form == ["opaqueredirect", "opaqueredirect"]
    assert complaint_count(site) == before + 1


@pytest.mark.parametrize("language", ["ko", "en"])
def test_every_complaint_page_passes_axe(reports, browser, language, tmp_path):
    site, known = reports
    photo = tmp_path / "photo.png"
    photo.write_bytes(png())
    for viewport in (PHONE, DESKTOP):
        context = browser.new_context(viewport=viewport, locale="ko-KR" if language == "ko" else "en-GB")
        page = context.new_page()
        page.goto(f"{site.url}/lang/{language}?next=/")
        assert page.locator("a[href='/complaints']").count() == 1  # the home card
        check_page(page, "home", language=language)
        page.goto(f"{site.url}/complaints")
        check_page(page, "complaints-start", language=language)
        page.goto(f"{site.url}/complaints/new")
        check_page(page, "complaints-what", language=language)
        page.click("button[type=submit]")
        check_page(page, "complaints-what-errors", language=language)
        page.fill("#item-filter", "parking" if language == "en" else "주차")
        check_page(page, "complaints-what-filtered", language=language)
        page.select_option("#item", "illegal_parking")
        page.click("button[type=submit]")
        check_page(page, "complaints-where", language=language)
        page.click("summary")
        page.fill("#lat", "x")
        page.click("button[type=submit]")
        check_page(page, "complaints-where-errors", language=language)
        page.select_option("#dong", "을지로동")
        page.fill("#address", "을지로 100")
        page.fill("#lat", "")
        page.click("button[type=submit]")
        check_page(page, "complaints-phone", language=language)
        page.fill("#phone", "1")
        page.click("button[type=submit]")
        check_page(page, "complaints-phone-errors", language=language)
        page.fill("#phone", PHONE_NUMBER)
        page.click("button[type=submit]")
        check_page(page, "complaints-describe", language=language)
        page.set_input_files("#photo", str(photo))
        page.click("button[type=submit]")
        check_page(page, "complaints-describe-errors", language=language)
        page.fill("#description", "Car parked on the crossing." if language == "en" else "횡단보도에 차가 서 있습니다.")
        page.set_input_files("#photo", str(photo))
        page.click("button[type=submit]")
        check_page(page, "complaints-sent", language=language)
        page.click("a.button")
        check_page(page, "complaints-status", language=language)
        page.goto(f"{site.url}/complaints/{known['resolved']}")
        check_page(page, "complaints-status-resolved", language=language)
        page.goto(f"{site.url}/complaints/00000000-0000-4000-8000-000000000000")
        check_page(page, "complaints-not-found", language=language)
        context.close()
