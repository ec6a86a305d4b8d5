"""The residents' pages without a browser: the steps' checks, what the status page leaves out,
refusals that file nothing, and the catalogues."""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest
from babel.messages.pofile import read_po
from litestar.testing import TestClient

from core.engine import Engine
from core.guards import required_permissions
from core.http import create_app
from plugins.complaints import service, web
from plugins.complaints.media import MAX_BYTES

HTML = {"accept": "text/html"}
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64


@pytest.fixture
def engine(tmp_path) -> Iterator[Engine]:
    engine = Engine(str(tmp_path / "civic.db"), outbox=str(tmp_path / "outbox.jsonl"))
    service.ensure_taxonomy(engine)
    yield engine
    engine.close()


@pytest.fixture
def client(engine) -> Iterator[TestClient]:
    with TestClient(create_app(engine)) as client:
        yield client


def token(html: str) -> str:
    return re.search(r'name="_csrf_token" value="([^"]+)"', html).group(1)


def listed_errors(html: str) -> list[str]:
    return re.findall(r'<li><a href="#([\w-]+)">', html)


def through_three_steps(client: TestClient, phone: str = "") -> str:
    csrf = token(client.get("/complaints/new", headers=HTML).text)
    client.post("/complaints/new", data={"_csrf_token": csrf, "item": "pothole"}, headers=HTML)
    client.post("/complaints/new/where", data={"_csrf_token": csrf, "dong": "명동", "address": "명동길 14"}, headers=HTML)
    client.post("/complaints/new/phone", data={"_csrf_token": csrf, "phone": phone}, headers=HTML)
    return csrf


def count(engine: Engine) -> int:
    return len(service.index(engine)["complaints"])


def test_every_page_post_is_open_to_anyone_with_the_open311_permission():
    handlers = [getattr(web.ComplaintPages, name) for name in ("what", "where", "phone", "send")]
    assert all(required_permissions(h) == ["complaints.open311"] for h in handlers)
    assert web.CHANNEL == "portal"


def test_the_location_step_checks_dong_address_and_coordinates(engine):
    tax = service.taxonomy(engine)
    form, errors = web.check_where(tax, {"dong": "명동", "address": "명동길 14", "lat": " 37.5609", "long": "126,986"})
    assert errors == {} and (form["lat"], form["long"]) == ("37.5609", "126.986")
    assert set(web.check_where(tax, {"dong": "강남동", "address": ""})[1]) == {"dong", "address"}
    assert set(web.check_where(tax, {"dong": "명동", "address": "x", "lat": "37.56"})[1]) == {"long"}
    assert set(web.check_where(tax, {"dong": "명동", "address": "x", "lat": "north", "long": "126.98"})[1]) == {"lat"}
    assert set(web.check_where(tax, {"dong": "명동", "address": "x", "lat": "37.40", "long": "127.10"})[1]) == {"lat"}
    assert set(web.check_where(tax, {"dong": "명동", "address": "x" * 301})[1]) == {"address"}


def test_the_category_list_is_the_live_taxonomy_grouped_by_field(engine):
    groups = web.category_groups(service.taxonomy(engine), "ko")
    assert [g["label"] for g in groups] == ["교통", "도로", "청소", "치수방재", "가로정비", "보건환경", "기타"]
    assert sum(len(g["items"]) for g in groups) == 53
    service.change_taxonomy(engine, "ItemRetired", code="flyers")
    english = web.category_groups(service.taxonomy(engine), "en")
    assert sum(len(g["items"]) for g in english) == 52
    assert ("pothole", "Pothole · 도로 파임(포트홀)") in english[1]["items"]


def test_a_step_cannot_be_skipped(client):
    for path in ("/complaints/new/where", "/complaints/new/phone", "/complaints/new/describe", "/complaints/sent"):
        response = client.get(path, headers=HTML, follow_redirects=False)
        assert response.status_code == 303 and response.headers["location"] == "/complaints/new"


def test_the_status_page_shows_no_personal_data(client, engine):
    complaint = service.intake(engine, channel="open311", item="noise", dong="필동", address="필동로 3",
                               description="밤마다 소음이 있습니다.", reporter_name="홍길동",
                               reporter_phone="010-9876-5432")
    page = client.get(f"/complaints/{complaint.id}", headers=HTML)
    assert page.status_code == 200 and "환경과" in page.text and "밤마다 소음이 있습니다." in page.text
    # what a reader sees (tags, hashes and the request's own id aside, where four digits may turn up by chance)
    shown = re.sub(r"<[^>]*>", " ", page.text).replace(str(complaint.id), "")
    assert "홍길동" not in shown and "9876" not in shown and "5432" not in shown
    assert "홍길동" not in page.text and "010-9876-5432" not in page.text and "01098765432" not in page.text


def test_a_body_too_large_to_read_sends_the_resident_back_with_the_reason(client, engine):
    csrf = through_three_steps(client)
    response = client.post("/complaints/new/describe", data={"_csrf_token": csrf, "description": "구멍"},
                           files={"photo": ("huge.png", PNG + b"\x00" * web.MAX_BODY, "image/png")},
                           headers=HTML, follow_redirects=False)
    assert response.status_code == 303 and response.headers["location"] == "/complaints/new/describe?photo=too-large"
    page = client.get(response.headers["location"], headers=HTML)
    assert listed_errors(page.text) == ["photo"] and f"{MAX_BYTES // 2**20}MB보다 큽니다" in page.text
    assert count(engine) == 0


def test_an_item_retired_while_the_resident_writes_is_refused_and_files_nothing(client, engine):
    csrf = through_three_steps(client, phone="010-1234-5678")
    service.change_taxonomy(engine, "ItemRetired", code="pothole")
    response = client.post("/complaints/new/describe", data={"_csrf_token": csrf, "description": "구멍이 큽니다"},
                           files={"photo": ("a.png", PNG, "image/png")}, headers=HTML)
    assert response.status_code == 400 and listed_errors(response.text) == ["item"]
    assert count(engine) == 0


def test_a_report_is_filed_once_on_the_portal_channel_by_the_anonymous_resident(client, engine):
    csrf = through_three_steps(client, phone="010 1234 5678")
    response = client.post("/complaints/new/describe", data={"_csrf_token": csrf, "description": "구멍이 큽니다"},
                           files={"photo": ("", b"", "application/octet-stream")}, headers=HTML)
    assert response.status_code == 200 and "건설관리과" in response.text
    [entry] = service.index(engine)["complaints"].values()
    assert entry["channel"] == "portal" and entry["photos"] == [] and entry["address"] == "명동길 14"
    complaint = service.get_complaint(engine, entry["id"])
    assert service.describe(engine, complaint, reveal=True)["reporter"]["phone"] == "01012345678"
    assert complaint.history[0]["status"] == "received"
    # the draft is gone: the form starts afresh, and the confirmation stays
    assert client.get("/complaints/new/describe", headers=HTML, follow_redirects=False).status_code == 303
    assert entry["id"] in client.get("/complaints/sent", headers=HTML).text


def test_the_home_card_is_in_services():
    [card] = web.home_cards(None)
    assert card.section == "services" and card.href == "/complaints"


def test_every_message_has_a_korean_translation():
    from pathlib import Path

    locale = Path(web.__file__).parent / "locale"
    with (locale / "messages.pot").open("rb") as fh:
        wanted = {m.id for m in read_po(fh) if m.id}
    with (locale / "ko" / "LC_MESSAGES" / "messages.po").open("rb") as fh:
        korean = {m.id: m.string for m in read_po(fh) if m.id}
    assert wanted == set(korean) and all(korean.values())


def test_one_address_may_send_20_reports_a_minute(client, engine):
    csrf = through_three_steps(client)
    statuses = [client.post("/complaints/new/describe", data={"_csrf_token": csrf, "description": ""},
                            headers=HTML).status_code for _ in range(web.REPORTS_PER_MINUTE + 1)]
    assert statuses[:-1] == [400] * web.REPORTS_PER_MINUTE and statuses[-1] == 429
    assert client.post("/complaints/new/phone", data={"_csrf_token": csrf, "phone": ""}, headers=HTML,
                       follow_redirects=False).status_code == 303  # the steps before are not limited
    assert count(engine) == 0


def test_english_pages_mark_the_korean_names(client, engine):
    complaint = service.intake(engine, channel="portal", item="graffiti", dong="신당5동", description="벽 낙서")
    client.cookies.set("lang", "en")
    page = client.get(f"/complaints/{complaint.id}", headers=HTML)
    assert '<h1>Graffiti · <span lang="ko">낙서</span></h1>' in page.text
    assert 'Sindang 5-dong · <span lang="ko">신당5동</span>' in page.text
    assert "<title>Report: Graffiti · 낙서 – " in page.text
