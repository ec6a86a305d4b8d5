"""The member's HTTP client on its own (no server): what each kind of failure says, and when a
token would cross the network unencrypted."""

from __future__ import annotations

import json
from uuid import uuid4

import httpx
import pytest

from plugins.ad_review.remote import Remote, RemoteError, check_server_url, sends_token_in_clear


def client(handler, token: str | None = "secret-token") -> Remote:
    return Remote("https://civic.example.org/", token, transport=httpx.MockTransport(handler), timeout=3)


def failure(handler, token: str | None = "secret-token") -> RemoteError:
    with client(handler, token) as api, pytest.raises(RemoteError) as caught:
        api.queue("kim")
    assert "secret-token" not in str(caught.value) and "\n" not in str(caught.value)
    return caught.value


def test_requests_carry_the_token_and_the_signed_fields():
    seen = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(200, json={"comments": []})

    s, a = uuid4(), uuid4()
    with client(handler) as api:
        api.decide(s, a, "kim", "approve", "적합", [], "c2ln")
    request = seen[0]
    assert request.url == f"https://civic.example.org/api/ad_review/sessions/{s}/applications/{a}/decisions"
    assert request.headers["authorization"] == "Bearer secret-token"
    assert json.loads(request.content) == {"member": "kim", "decision": "approve", "reasons": "적합", "conditions": [],
                                           "signature": "c2ln"}


def test_each_failure_is_one_line():
    problem = {"title": "Not found", "detail": "No member\nkim."}
    assert str(failure(lambda r: httpx.Response(404, json=problem))) == "Not found (HTTP 404): No member kim."
    assert str(failure(lambda r: httpx.Response(502, text="<html>Bad gateway</html>"))) == \
        "HTTP 502 Bad Gateway from https://civic.example.org/api/ad_review/members/kim/queue"
    assert "is it a civic server?" in str(failure(lambda r: httpx.Response(200, text="<html></html>")))
    assert "redirects to https://elsewhere" in str(failure(
        lambda r: httpx.Response(301, headers={"location": "https://elsewhere/"})))

    def slow(request):
        raise httpx.ReadTimeout("timed out", request=request)

    assert str(failure(slow)).startswith("The server at https://civic.example.org did not answer within 3 s")
    unauthorised = {"title": "Sign-in required", "detail": "The sign-in token is invalid or has expired."}
    assert "New token:" in str(failure(lambda r: httpx.Response(401, json=unauthorised)))
    assert "New token:" not in str(failure(lambda r: httpx.Response(401, json=unauthorised), token=None))


def test_server_addresses():
    assert check_server_url(" https://civic.example.org/ ") == "https://civic.example.org"
    for bad in ("civic.example.org", "ftp://civic.example.org", "https://"):
        with pytest.raises(ValueError):
            check_server_url(bad)
    assert sends_token_in_clear("http://civic.example.org")
    assert not sends_token_in_clear("https://civic.example.org")
    assert not sends_token_in_clear("http://127.0.0.1:8000") and not sends_token_in_clear("http://localhost:8000")
