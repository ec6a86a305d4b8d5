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
