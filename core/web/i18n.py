"""Languages: Korean first, English second.

Catalogues are gettext ``.po`` files (Babel): core's in ``core/web/locale`` and each plugin's in
``<plugin>/locale``, merged per language. The language of a request comes from the switch (a
``lang`` cookie), then ``Accept-Language``, then Korean. Amounts are shown as people in the
district write them (``1,900만 원``, ``19,000,000 won``) and times in Asia/Seoul."""

from __future__ import annotations

import contextvars
import io
from collections.abc import Iterable
from datetime import datetime
from pathlib import Path

from babel.core import Locale, negotiate_locale
from babel.dates import format_datetime
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from babel.support import Translations

from core.clock import SEOUL

LANGUAGES = ("ko", "en")
DEFAULT_LANGUAGE = "ko"
LANGUAGE_COOKIE = "lang"
LANGUAGE_NAMES = {"ko": "한국어", "en": "English"}

current_language: contextvars.ContextVar[str] = contextvars.ContextVar("civic_language", default=DEFAULT_LANGUAGE)
# the catalogue of the request being answered (set with the language, per request)
current_catalogue: contextvars.ContextVar[Translations | None] = contextvars.ContextVar("civic_catalogue", default=None)


def gettext(message: str) -> str:
    """``message`` in the language of the request being answered (unchanged outside a request)."""
    catalogue = current_catalogue.get()
    return message if catalogue is None else catalogue.gettext(message)


def ngettext(singular: str, plural: str, n: int) -> str:
    catalogue = current_catalogue.get()
    if catalogue is None:
        return singular if n == 1 else plural
    return catalogue.ngettext(singular, plural, n)


def load_translations(locale_dirs: Iterable[Path]) -> dict[str, Translations]:
    """Every language's catalogue, merged from ``<dir>/<lang>/LC_MESSAGES/messages.po``; the
    ``.po`` files are compiled in memory, so no build step is needed."""
    catalogues: dict[str, Translations] = {}
    for language in LANGUAGES:
        merged = Translations()
        for directory in locale_dirs:
            po = Path(directory) / language / "LC_MESSAGES" / "messages.po"
            if not po.exists():
                continue
            with po.open("rb") as fh:
                catalog = read_po(fh, locale=language)
            compiled = io.BytesIO()
            write_mo(compiled, catalog)
            compiled.seek(0)
            merged.merge(Translations(compiled))
        catalogues[language] = merged
    return catalogues


def choose_language(cookie: str | None, accept_language: str | None) -> str:
    if cookie in LANGUAGES:
        return cookie
    if accept_language:
        wanted = [part.split(";")[0].strip().replace("-", "_") for part in accept_language.split(",")]
        found = negotiate_locale([w for w in wanted if w], list(LANGUAGES), sep="_")
        if found is None:  # "en-GB" matches "en"
            found = next((w.split("_")[0].lower() for w in wanted if w.split("_")[0].lower() in LANGUAGES), None)
        if found in LANGUAGES:
            return found
    return DEFAULT_LANGUAGE


def won(amount: int, language: str | None = None) -> str:
    """``19000000`` → ``1,900만 원`` (Korean, in units of 10,000 where exact) or ``19,000,000 won``."""
    language = language or current_language.get()
    if language != "ko":
        return f"{amount:,} won"
    if amount and amount % 100_000_000 == 0:
        return f"{amount // 100_000_000:,}억 원"
    if amount and amount % 10_000 == 0:
        man = amount // 10_000
        eok, rest = divmod(man, 10_000)
        if eok and rest:
            return f"{eok:,}억 {rest:,}만 원"
        return f"{man:,}만 원"
    return f"{amount:,}원"


def seoul(when: datetime | str | None, language: str | None = None, *, with_time: bool = True) -> str:
    """A stored UTC time as people in the district read it."""
    if when is None or when == "":
        return ""
    if isinstance(when, str):
        when = datetime.fromisoformat(when)
    language = language or current_language.get()
    pattern = ("yyyy년 M월 d일 a h:mm" if with_time else "yyyy년 M월 d일") if language == "ko" else \
        ("d MMM yyyy, HH:mm" if with_time else "d MMM yyyy")
    return format_datetime(when, pattern, tzinfo=SEOUL, locale=Locale.parse(language))


def percent(value: float | None, language: str | None = None) -> str:
    return "—" if value is None else f"{value:.0%}"
