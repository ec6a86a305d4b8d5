"""Pure rules: what a valid petition is, and when it has enough support. No I/O."""

from __future__ import annotations

from core import InvalidInput

MAX_THRESHOLD = 1_000_000


def normalised_title(title: str) -> str:
    return " ".join(str(title or "").split())


def check_title(title: str) -> str:
    title = normalised_title(title)
    if not 5 <= len(title) <= 200:
        raise InvalidInput("A petition's title has 5 to 200 characters.", field="title")
    return title


def check_threshold(threshold: int) -> int:
    if isinstance(threshold, bool) or not isinstance(threshold, int) or not 1 <= threshold <= MAX_THRESHOLD:
        raise InvalidInput(f"The threshold is a whole number from 1 to {MAX_THRESHOLD:,}.", field="threshold")
    return threshold


def check_supporter(supporter: str) -> str:
    supporter = str(supporter or "").strip()
    if not 3 <= len(supporter) <= 128:
        raise InvalidInput("A supporter id has 3 to 128 characters.", field="supporter")
    return supporter


def must_answer(supporters: int, threshold: int) -> bool:
    """The district must answer a petition once its supporters reach the threshold."""
    return supporters >= threshold
