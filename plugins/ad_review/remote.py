"""The committee seen from a member's machine: the JSON API under ``/api/ad_review`` of a civic
server, called with a bearer token instead of opening the store. The CLI uses it when given
``--server``; every failure (server unreachable, a refusal) becomes a ``RemoteError`` whose message
fits on one line and never shows the token."""

from __future__ import annotations

from typing import Any
from urllib.parse import quote, urlsplit
from uuid import UUID

import httpx

API = "/api/ad_review"
LOOPBACK = {"localhost", "127.0.0.1", "::1"}
SIGN_IN_AGAIN = "New token: civic adreview signin USERNAME --server URL --token-file FILE."


class RemoteError(Exception):
    """A call to the server failed; ``str(error)`` is the one-line message for the member."""

    def __init__(self, message: str, status: int | None = None) -> None:
        super().__init__(message)
        self.status = status


def check_server_url(server: str) -> str:
    """The server's base URL without a trailing slash; ValueError when it is not an http(s) URL."""
    parts = urlsplit(server.strip())
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ValueError(f"{server!r} is not a server URL such as https://civic.example.org")
    return server.strip().rstrip("/")


def sends_token_in_clear(server: str) -> bool:
    """True when a token sent to ``server`` would cross the network unencrypted."""
    parts = urlsplit(server)
    return parts.scheme == "http" and (parts.hostname or "") not in LOOPBACK


def _problem(response: httpx.Response, sent_token: bool) -> str:
    """The problem+json title and detail of a refusal, or what is known of a non-civic answer."""
    try:
        body = response.json()
    except ValueError:
        body = None
    if isinstance(body, dict) and (body.get("detail") or body.get("title")):
        title, detail = body.get("title") or response.reason_phrase, str(body.get("detail") or "")
        text = f"{title} (HTTP {response.status_code}): {detail}" if detail and detail != title else \
            f"{title} (HTTP {response.status_code})"
    else:
        text = f"HTTP {response.status_code} {response.reason_phrase} from {response.request.url}"
    text = " ".join(text.split())  # one line, whatever the server wrote
    if response.status_code == 401 and sent_token:
        text += " " + SIGN_IN_AGAIN
    return text


class Remote:
    """The committee's API on ``server``, acting with ``token`` (None: only public reads)."""

    def __init__(self, server: str, token: str | None, *, timeout: float = 20.0,
                 transport: httpx.BaseTransport | None = None) -> None:
        self.server = check_server_url(server)
        headers = {"accept": "application/json", "user-agent": "civic-adreview-cli"}
        if token:
            headers["authorization"] = f"Bearer {token}"
        self.timeout = timeout
        self.has_token = bool(token)
        self._client = httpx.Client(base_url=self.server + API, headers=headers, timeout=timeout,
                                    transport=transport, follow_redirects=False)

    def __enter__(self) -> Remote:
        return self

    def __exit__(self, *_: Any) -> None:
        self.close()

    def close(self) -> None:
        self._client.close()

    def _call(self, method: str, path: str, body: Any = None) -> Any:
        try:
            response = self._client.request(method, path, json=body)
        except httpx.TimeoutException:
            raise RemoteError(f"The server at {self.server} did not answer within {self.timeout:g} s; "
                              f"nothing is known to have changed. Try again.") from None
        except httpx.ConnectError as exc:
            raise RemoteError(f"Cannot reach the server at {self.server} ({_reason(exc)}). "
                              f"Check the address and your connection.") from None
        except httpx.HTTPError as exc:
            raise RemoteError(f"Talking to the server at {self.server} failed ({_reason(exc)}).") from None
        if response.status_code >= 400:
            raise RemoteError(_problem(response, self.has_token), response.status_code)
        if response.is_redirect:
            raise RemoteError(f"The server at {self.server} redirects to {response.headers.get('location')}; "
                              f"give that address as --server.", response.status_code)
        try:
            return response.json()
        except ValueError:
            raise RemoteError(f"The server at {self.server} did not answer with JSON; "
                              f"is it a civic server?", response.status_code) from None

    def sign_in(self, username: str, password: str) -> dict[str, Any]:
        """A bearer token for a staff account (core's ``POST /api/auth/token``): ``{token,
        token_type, expires_at, ...}``."""
        return self._call("POST", self.server + "/api/auth/token", {"username": username, "password": password})

    # -- reading ------------------------------------------------------------------------------
    def committee(self) -> dict[str, Any]:
        return self._call("GET", "/committee")

    def sessions(self) -> list[dict[str, Any]]:
        return self._call("GET", "/sessions")

    def queue(self, member: str) -> list[dict[str, Any]]:
        return self._call("GET", f"/members/{quote(member, safe='')}/queue")

    def thread(self, session: UUID, application: UUID) -> dict[str, Any]:
        return self._call("GET", f"/sessions/{session}/applications/{application}/thread")

    # -- a member's signed acts ---------------------------------------------------------------
    def comment(self, session: UUID, application: UUID, member: str, text: str, signature: str) -> dict[str, Any]:
        return self._call("POST", f"/sessions/{session}/applications/{application}/comments",
                          {"member": member, "text": text, "signature": signature})

    def recuse(self, session: UUID, application: UUID, member: str, reason: str, signature: str) -> dict[str, Any]:
        return self._call("POST", f"/sessions/{session}/applications/{application}/recusals",
                          {"member": member, "reason": reason, "signature": signature})

    def decide(self, session: UUID, application: UUID, member: str, decision: str, reasons: str,
               conditions: list[str], signature: str) -> dict[str, Any]:
        return self._call("POST", f"/sessions/{session}/applications/{application}/decisions",
                          {"member": member, "decision": decision, "reasons": reasons,
                           "conditions": list(conditions), "signature": signature})


def _reason(exc: Exception) -> str:
    text = " ".join(str(exc).split())
    return text or exc.__class__.__name__
