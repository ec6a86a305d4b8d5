"""Korean phone numbers, in the one form that is stored, hashed and compared."""

from __future__ import annotations

import re
import unicodedata

from core.errors import InvalidInput

KOREAN_PHONE = re.compile(r"^0\d{8,10}$")


def phone_digits(value: str) -> str:
    """The digits of a number as written (``+82 10-1234-5678`` → ``01012345678``), unchecked."""
    text = unicodedata.normalize("NFKC", str(value)).strip()
    digits = re.sub(r"\D", "", text)
    if text.startswith("+82"):
        digits = "0" + digits[2:]
    return digits


def is_korean_phone(value: str) -> bool:
    return bool(KOREAN_PHONE.match(phone_digits(value)))


def normalise_phone(value: str, *, field: str = "phone") -> str:
    """``010-1234-5678``, ``+82 10 1234 5678`` → ``01012345678``; anything else is refused."""
    digits = phone_digits(value)
    if not KOREAN_PHONE.match(digits):
        raise InvalidInput(f"{value!r} is not a Korean phone number (e.g. 010-1234-5678).", field=field)
    return digits
