"""E-mail through an SMTP server, for messages on the ``email`` channel (core's internal
notifier; the standard library's ``smtplib``, so no new dependency).

Configured by the environment; off until ``CIVIC_SMTP_HOST`` is set:

- ``CIVIC_SMTP_HOST``, ``CIVIC_SMTP_PORT`` (default 587)
- ``CIVIC_SMTP_USER``, ``CIVIC_SMTP_PASSWORD`` (sign in when a user is given)
- ``CIVIC_SMTP_FROM`` (the sender address, default ``civic@<host>``)
- ``CIVIC_SMTP_STARTTLS`` (default ``1``: upgrade the connection, checking the server's
  certificate; ``0`` only for a relay on the same machine)
- ``CIVIC_SMTP_SUBJECT`` (default ``civic``)
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Mapping

import attrs

from core.hookspecs import hookimpl
from core.notify import DeliveryFailed, Message

TIMEOUT_SECONDS = 20.0


def _flag(value: str | None, default: bool) -> bool:
    if value is None or not value.strip():
        return default
    return value.strip().lower() not in ("0", "false", "no", "off")


@attrs.frozen
class SmtpSettings:
    host: str
    port: int = 587
    user: str | None = None
    password: str | None = attrs.field(default=None, repr=False)
    sender: str = ""
    starttls: bool = True
    subject: str = "civic"

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> SmtpSettings | None:
        env = os.environ if env is None else env
        host = (env.get("CIVIC_SMTP_HOST") or "").strip()
        if not host:
            return None
        return cls(host=host, port=int(env.get("CIVIC_SMTP_PORT") or 587), user=env.get("CIVIC_SMTP_USER") or None,
                   password=env.get("CIVIC_SMTP_PASSWORD") or None,
                   sender=env.get("CIVIC_SMTP_FROM") or f"civic@{host}",
                   starttls=_flag(env.get("CIVIC_SMTP_STARTTLS"), True),
                   subject=env.get("CIVIC_SMTP_SUBJECT") or "civic")


def message_id(key: str, sender: str) -> str:
    """The same Message-ID for every try of one message, so that a receiving system can tell a
    repeat (after a crash between the server's acceptance and its recording) from a new mail."""
    domain = sender.rpartition("@")[2] or "civic.invalid"
    return f"<{hashlib.sha256(key.encode()).hexdigest()[:32]}@{domain}>"


def send_mail(settings: SmtpSettings, message: Message) -> str:
    """Send one message; return ``smtp:<Message-ID>``. Failures raise ``DeliveryFailed`` with a
    reason that names neither the recipient nor the text."""
    import smtplib  # here, not above: every command would pay for it at start-up
    import ssl
    from email.message import EmailMessage

    mail = EmailMessage()
    mail["From"] = settings.sender
    mail["To"] = message.to
    mail["Subject"] = settings.subject
    mail["Message-ID"] = message_id(message.key, settings.sender)
    mail.set_content(message.text)
    try:
        with smtplib.SMTP(settings.host, settings.port, timeout=TIMEOUT_SECONDS) as smtp:
            if settings.starttls:
                smtp.starttls(context=ssl.create_default_context())
            if settings.user:
                smtp.login(settings.user, settings.password or "")
            smtp.send_message(mail)
    except smtplib.SMTPRecipientsRefused:
        raise DeliveryFailed("the mail server refused the recipient") from None
    except smtplib.SMTPAuthenticationError:
        raise DeliveryFailed("the mail server refused the sign-in") from None
    except (smtplib.SMTPException, OSError) as exc:
        raise DeliveryFailed(f"mail server: {type(exc).__name__}") from None
    return f"smtp:{mail['Message-ID']}"


@hookimpl(trylast=True)
def civic_send_notification(notification: Message) -> str | None:
    if notification.channel != "email":
        return None
    settings = SmtpSettings.from_env()
    return None if settings is None else send_mail(settings, notification)
