"""Text messages through an HTTP SMS gateway, for messages on the ``sms`` channel (core's
internal notifier; the standard library's ``urllib``).

Off until ``CIVIC_SMS_GATEWAY_URL`` is set. The gateway interface (docs/messages.md):
``POST <url>`` with the JSON body ``{"key": ..., "to": ..., "text": ...}``, the headers
``Content-Type: application/json``, ``Idempotency-Key: <key>`` and, when
``CIVIC_SMS_GATEWAY_TOKEN`` is set, ``Authorization: Bearer <token>``. A 2xx answer means
accepted (its JSON ``id``, if any, becomes the reference); 409 means this key was accepted
before, also delivered; any other 4xx but 408, 425 and 429 is a refusal the outbox does not try
again by itself (``DeliveryRefused``: the message waits, sealed, for staff); anything else, or no
answer within ``CIVIC_SMS_GATEWAY_TIMEOUT`` seconds (default 10), is a failure the outbox tries
again. An adapter for a vendor's own API is a small service in front of the vendor, or a plugin
implementing ``civic_send_notification``."""

from __future__ import annotations

import json
import os
from collections.abc import Mapping

import attrs

from core.hookspecs import hookimpl
from core.notify import DeliveryFailed, DeliveryRefused, Message

# client errors that may pass: a timeout on the gateway's side, too many requests
TRY_AGAIN_CODES = frozenset({408, 425, 429})


@attrs.frozen
class GatewaySettings:
    url: str
    token: str | None = attrs.field(default=None, repr=False)
    timeout: float = 10.0

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> GatewaySettings | None:
        env = os.environ if env is None else env
        url = (env.get("CIVIC_SMS_GATEWAY_URL") or "").strip()
        if not url:
            return None
        if not url.startswith(("https://", "http://")):
            raise DeliveryFailed("CIVIC_SMS_GATEWAY_URL must be an http(s) URL")
        return cls(url=url, token=env.get("CIVIC_SMS_GATEWAY_TOKEN") or None,
                   timeout=float(env.get("CIVIC_SMS_GATEWAY_TIMEOUT") or 10))


def post_text(settings: GatewaySettings, message: Message) -> str:
    """Hand one text to the gateway; return ``sms:<gateway id or key>``."""
    import urllib.error  # here, not above: every command would pay for it at start-up
    import urllib.request

    body = json.dumps({"key": message.key, "to": message.to, "text": message.text}, ensure_ascii=False).encode()
    headers = {"Content-Type": "application/json", "Idempotency-Key": message.key}
    if settings.token:
        headers["Authorization"] = f"Bearer {settings.token}"
    request = urllib.request.Request(settings.url, data=body, headers=headers, method="POST")
    try:
        with urllib.request.urlopen(request, timeout=settings.timeout) as answer:  # noqa: S310 - http(s) checked
            raw = answer.read()
    except urllib.error.HTTPError as exc:
        if exc.code == 409:  # accepted before under this key
            return f"sms:{message.key}"
        if 400 <= exc.code < 500 and exc.code not in TRY_AGAIN_CODES:
            raise DeliveryRefused(f"the SMS gateway refused the message ({exc.code})") from None
        raise DeliveryFailed(f"the SMS gateway answered {exc.code}") from None
    except (urllib.error.URLError, OSError) as exc:
        raise DeliveryFailed(f"the SMS gateway did not answer ({type(exc).__name__})") from None
    try:
        reference = json.loads(raw or b"{}").get("id")
    except (ValueError, AttributeError):
        reference = None
    return f"sms:{reference or message.key}"


@hookimpl(trylast=True)
def civic_send_notification(notification: Message) -> str | None:
    if notification.channel != "sms":
        return None
    settings = GatewaySettings.from_env()
    return None if settings is None else post_text(settings, notification)
