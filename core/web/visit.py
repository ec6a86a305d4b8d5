"""What a resident's browser keeps between pages of a process (in the encrypted session cookie):
a random id for the browser, and per process its state (a ballot credential, answers so far, a
receipt); and reading the values of a posted form."""

from __future__ import annotations

import secrets
from typing import Any

from litestar import Request


def browser_id(request: Request) -> str:
    """A random id for this browser, so that wrong codes typed on one phone do not lock out every
    household behind the same address (an apartment block's shared connection)."""
    session = dict(request.session or {})
    if "device" not in session:
        session["device"] = secrets.token_hex(8)
        request.set_session(session)
    return session["device"]


def visit_state(request: Request, section: str, key: Any) -> dict[str, Any]:
    """This browser's state for one process (``section``: the plugin's name; ``key``: the process)."""
    return dict((request.session or {}).get(section, {}).get(str(key), {}))


def save_visit_state(request: Request, section: str, key: Any, state: dict[str, Any]) -> None:
    session = dict(request.session or {})
    processes = dict(session.get(section, {}))
    processes[str(key)] = state
    session[section] = processes
    request.set_session(session)


def form_values(value: Any) -> list[str]:
    """A posted field as a list: none, one, or several (checkboxes with one name)."""
    if value is None or value == "":
        return []
    return [str(v) for v in value] if isinstance(value, list) else [str(value)]
