"""Open311 GeoReport v2, checked with a GeoReport client library from PyPI (``georeport``)
talking over HTTP to the app served by uvicorn on a loopback port."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from datetime import timedelta

import pytest
import requests
import uvicorn
from georeport import GeoReport

from core.http import create_app
from plugins.complaints import service
from plugins.complaints.taxonomy_data import ITEMS, JURISDICTION_ID


@pytest.fixture
def base_url(sqlite_engine) -> Iterator[str]:
    config = uvicorn.Config(create_app(sqlite_engine), host="127.0.0.1", port=0, log_level="warning")
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started:
        if time.monotonic() > deadline or not thread.is_alive():
            pytest.fail("uvicorn did not start")
        time.sleep(0.02)
    port = server.servers[0].sockets[0].getsockname()[1]
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=10)


def post_request(base_url, fmt="json", **params):
    form = {"jurisdiction_id": JURISDICTION_ID, "service_code": "illegal_parking", "lat": "37.5609",
            "long": "126.9860", "description": "소화전 앞 불법 주차", "first_name": "민수", "last_name": "박",
            "phone": "010-5555-6666"}
    form.update(params)
    return requests.post(f"{base_url}/open311/v2/requests.{fmt}", data=form, timeout=10)


def test_client_reads_services_and_definitions_in_json_and_xml(base_url):
    client = GeoReport(f"{base_url}/open311/v2", jurisdiction=JURISDICTION_ID)
    services = client.get_service_list()
    assert {s["service_code"] for s in services} == set(ITEMS)
    parking = next(s for s in services if s["service_code"] == "illegal_parking")
    assert parking["service_name"] == "불법 주정차" and parking["group"] == "교통" and parking["type"] == "realtime"
    definition = client.get_service_definition("pothole")
    assert definition["service_code"] == "pothole"
    dong = definition["attributes"][0]
    assert dong["code"] == "dong" and dong["datatype"] == "singlevaluelist" and len(dong["values"]) == 15
    answer = requests.get(f"{base_url}/open311/v2/services.xml", params={"jurisdiction_id": JURISDICTION_ID}, timeout=10)
    assert answer.headers["content-type"] == "text/xml; charset=utf-8"  # one charset, not two
    xml_client = GeoReport(f"{base_url}/open311/v2", jurisdiction=JURISDICTION_ID, output_format="xml")
    xml_services = xml_client.get_service_list()
    assert sorted(s["service_code"] for s in xml_services) == sorted(ITEMS)
    assert xml_client.get_service_definition("pothole")["attributes"]["attribute"]["code"] == "dong"
    discovery = requests.get(f"{base_url}/open311/v2/discovery.json", timeout=10).json()
    assert discovery["endpoints"][0]["url"] == f"{base_url}/open311/v2"
    assert "text/xml" in discovery["endpoints"][0]["formats"]


def test_post_then_read_back_with_the_client_and_close_it(base_url, sqlite_engine, manual_clock):
    created = post_request(base_url)
    assert created.status_code == 201
    [answer] = created.json()
    request_id, token = answer["service_request_id"], answer["token"]
    assert "주차관리과" in answer["service_notice"]
    # token → id
    tokens = requests.get(f"{base_url}/open311/v2/tokens/{token}.json", timeout=10).json()
    assert tokens == [{"service_request_id": request_id, "token": token}]
    client = GeoReport(f"{base_url}/open311/v2", jurisdiction=JURISDICTION_ID)
    one = client.get_service_request(request_id)
    assert one["status"] == "open" and one["service_code"] == "illegal_parking"
    assert one["agency_responsible"] == "주차관리과" and one["lat"] == 37.5609
    assert one["requested_datetime"] == "2016-03-02T09:00:00+09:00"  # Seoul time
    assert one["expected_datetime"] == "2016-03-02T13:00:00+09:00"  # 4-hour deadline
    assert "박" not in str(one) and "5555" not in str(one)  # personal data never leaves through Open311
    # the dong came from the coordinates: 명동 → the west zone's officer
    assert service.get_complaint(sqlite_engine, request_id).dong == "명동"
    manual_clock.advance(hours=1)
    service.act(sqlite_engine, request_id, "resolve", note="견인 완료")
    closed = client.get_service_request(request_id)
    assert closed["status"] == "closed" and closed["status_notes"] == "견인 완료"
    assert closed["updated_datetime"] == "2016-03-02T10:00:00+09:00"
    xml_client = GeoReport(f"{base_url}/open311/v2", jurisdiction=JURISDICTION_ID, output_format="xml")
    assert xml_client.get_service_request(request_id)["status"] == "closed"


def test_query_filters(base_url, sqlite_engine, manual_clock):
    first = post_request(base_url).json()[0]["service_request_id"]
    manual_clock.advance(days=10)
    second = post_request(base_url, service_code="pothole", address_string="신당5동 주민센터 앞").json()[0]["service_request_id"]
    third = post_request(base_url, service_code="pothole", **{"attribute[dong]": "황학동"}).json()[0]["service_request_id"]
    service.act(sqlite_engine, third, "resolve", note="보수")
    assert service.get_complaint(sqlite_engine, second).dong == "신당5동"
    assert service.get_complaint(sqlite_engine, third).dong == "황학동"
    client = GeoReport(f"{base_url}/open311/v2", jurisdiction=JURISDICTION_ID)

    def ids(**filters):
        return {r["service_request_id"] for r in client.get_service_requests(**filters)}

    assert ids() == {first, second, third}
    assert ids(service_code="pothole") == {second, third}
    assert ids(service_code="pothole,illegal_parking", status="open") == {first, second}
    assert ids(status="closed") == {third}
    assert ids(start_date="2016-03-05T00:00:00+09:00", end_date="2016-03-20T00:00:00+09:00") == {second, third}
    assert ids(end_date="2016-03-05T00:00:00Z") == {first}
    # ids override the other filters
    assert ids(service_request_id=f"{first},{third}", status="open") == {first, third}
    xml_client = GeoReport(f"{base_url}/open311/v2", jurisdiction=JURISDICTION_ID, output_format="xml")
    assert xml_client.get_service_requests(status="closed")["service_request_id"] == third


def test_errors_are_lists_of_code_and_description(base_url, sqlite_engine, manual_clock):
    service.ensure_taxonomy(sqlite_engine)
    position = sqlite_engine.position
    cases = [
        (post_request(base_url, service_code="nope"), 400, "service_code"),
        (post_request(base_url, lat="", long="", address_string=""), 400, "location"),
        # an address alone was given: the answer says what is missing, not "give a location"
        (post_request(base_url, lat="", long="", address_string="퇴계로 100"), 400,
         "'퇴계로 100' does not say which dong of Jung-gu it is in; add attribute[dong]"),
        (post_request(base_url, lat="35.1", long="129.0"), 400, "outside Jung-gu"),
        (post_request(base_url, phone="123"), 400, "phone"),
        (post_request(base_url, jurisdiction_id="seoul.go.kr"), 404, "jurisdiction_id"),
        (requests.get(f"{base_url}/open311/v2/requests/{'0' * 8}.json", timeout=10), 404, "not found"),
        (requests.get(f"{base_url}/open311/v2/tokens/nope.json", timeout=10), 404, "token"),
        (requests.get(f"{base_url}/open311/v2/services/nope.json", timeout=10), 404, "service_code"),
        (requests.get(f"{base_url}/open311/v2/requests.json?status=pending", timeout=10), 400, "status"),
        (requests.get(f"{base_url}/open311/v2/requests.json?start_date=2016-01-01T00:00:00Z"
                      "&end_date=2016-06-01T00:00:00Z", timeout=10), 400, "90 days"),
    ]
    for response, status, words in cases:
        assert response.status_code == status, response.text
        [error] = response.json()
        assert error["code"] == status and words in error["description"]
    assert sqlite_engine.position == position  # nothing was taken in
    xml_error = post_request(base_url, fmt="xml", service_code="nope")
    assert xml_error.status_code == 400 and "<errors><error><code>400</code>" in xml_error.text
    with pytest.raises(requests.HTTPError):
        GeoReport(f"{base_url}/open311/v2", jurisdiction="elsewhere").get_service_list()


def test_retired_items_are_not_offered(base_url, sqlite_engine):
    service.change_taxonomy(sqlite_engine, "ItemRetired", code="graffiti")
    codes = {s["service_code"] for s in GeoReport(f"{base_url}/open311/v2").get_service_list()}
    assert "graffiti" not in codes and len(codes) == 52
    assert post_request(base_url, service_code="graffiti").status_code == 400


def test_default_window_is_the_last_90_days(base_url, sqlite_engine, manual_clock):
    old = post_request(base_url).json()[0]["service_request_id"]
    manual_clock.advance(timedelta(days=100))
    new = post_request(base_url).json()[0]["service_request_id"]
    found = {r["service_request_id"] for r in GeoReport(f"{base_url}/open311/v2").get_service_requests()}
    assert found == {new} and old not in found
