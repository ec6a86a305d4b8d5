"""The requests the fuzzing found answered other than the OpenAPI document said, kept as explicit
cases: each is sent as the caller named and checked by the same schemathesis checks (no server
error; status, content type and body as documented; a refusal does not move the store)."""

from __future__ import annotations

import pytest

from tests.reliability.conftest import CHECKS

JSON = "application/json"
FOUND = [
    # (caller, method, path, path parameters, query, JSON body)
    # a success that is not JSON: the path's extension or the `format` parameter says what it is
    ("anonymous", "GET", "/ledger/checkpoint", None, {"format": "note"}, None),
    ("anonymous", "GET", "/api/complaints/reports/yearly", None, {"format": "csv"}, None),
    ("anonymous", "GET", "/api/complaints/reports/yearly.svg", None, None, None),
    ("system_admin", "GET", "/api/ad_review/report.svg", None, None, None),
    ("anonymous", "GET", "/open311/v2/discovery.xml", None, None, None),
    ("anonymous", "GET", "/open311/v2/services.xml", None, None, None),
    ("anonymous", "GET", "/open311/v2/requests.xml", None, None, None),
    # Open311 refusals are GeoReport error lists, in the request's format
    ("anonymous", "GET", "/open311/v2/services/{name}", {"name": "0"}, None, None),
    ("anonymous", "GET", "/open311/v2/requests/{name}", {"name": "0"}, None, None),
    ("anonymous", "GET", "/open311/v2/tokens/{name}", {"name": "0"}, None, None),
    ("call_centre_agent", "POST", "/open311/v2/requests.json", None, None, None),
    ("call_centre_agent", "POST", "/open311/v2/requests.xml", None, None, None),
    # a wrong password is 401; a malformed path parameter 422
    ("anonymous", "POST", "/api/auth/token", None, None, {"username": "", "password": "x"}),
    ("anonymous", "GET", "/api/complaints/media/{sha256}", {"sha256": "0"}, None, None),
    # something named in the body, or a committee not yet made, is not there: 404
    ("process_admin", "POST", "/api/apartment/elections", None, None,
     {"closes_at": "", "complex": "", "opens_at": "", "registration_deadline": "", "title": ""}),
    ("system_admin", "POST", "/api/ad_review/sessions", None, None, {}),
    ("system_admin", "GET", "/api/ad_review/committee", None, None, None),
    # a refusal naming the line of an uploaded file (an integer) in `errors`
    ("process_admin", "POST", "/api/apartment/complexes/{code}/roll", {"code": "x"}, None,
     {"replace": False, "csv": "b\u00112"}),
    # a refused first change of the committee left a new, empty committee behind (kept last: the
    # 404 cases above need the store without one)
    ("process_admin", "POST", "/api/ad_review/members", None, None,
     {"member_id": "m1", "name": "x", "public_key": "not a key"}),
]


@pytest.mark.parametrize(("caller", "method", "path", "path_parameters", "query", "body"), FOUND,
                         ids=[f"{m} {p} {q or ''}" for _, m, p, _, q, _ in FOUND])
def test_found_case(caller, method, path, path_parameters, query, body, world, api_schema):
    engine, token = world["engine"], world["tokens"][caller]
    operation = api_schema[path][method]
    kwargs = {"media_type": JSON, "body": body} if body is not None else {}
    case = operation.Case(path_parameters=path_parameters or {}, query=query or {}, **kwargs)
    before = engine.position
    response = case.call(headers={"Authorization": f"Bearer {token}"} if token else {})
    case.validate_response(response, checks=CHECKS)
    if not 200 <= response.status_code < 300:
        assert engine.position == before
