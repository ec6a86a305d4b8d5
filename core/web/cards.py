"""What a plugin puts on the home page."""

from __future__ import annotations

from typing import Literal

import attrs

Section = Literal["open", "results", "services"]


@attrs.frozen
class HomeCard:
    """One entry of the home page: a heading, a sentence, and where it leads. Texts are already
    in the reader's language (plugins translate with ``core.gettext``)."""

    section: Section
    title: str
    text: str
    href: str
    link_text: str
    tag: str = ""


@attrs.frozen
class StaffLink:
    """One place in the staff console, shown only to those whose roles hold ``permission`` (the
    same permission the page's guard requires, so the console never offers a 403)."""

    href: str
    text: str
    permission: str
    description: str = ""
