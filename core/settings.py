"""Configurable settings of a process arrive as JSON objects; these helpers keep their checks alike."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import attrs

from core.errors import InvalidInput


def refuse_unknown_settings(cls: type, data: Mapping[str, Any], what: str) -> None:
    """Refuse keys that are not fields of the attrs class ``cls``: a misspelt setting must not
    silently fall back to its default."""
    known = {f.name for f in attrs.fields(cls)}
    unknown = sorted(set(data) - known)
    if unknown:
        raise InvalidInput(f"Unknown {what} setting(s): {', '.join(unknown)}; known: {', '.join(sorted(known))}.",
                           fields=unknown)
