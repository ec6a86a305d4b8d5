"""Every hook is documented in docs/plugins.md, with its full signature and an example."""

from __future__ import annotations

import inspect
import re
from pathlib import Path

import pytest

from core import hookspecs

DOC = Path(__file__).resolve().parents[2] / "docs" / "plugins.md"
HOOKS = sorted(name for name, fn in vars(hookspecs).items()
               if name.startswith("civic_") and inspect.isfunction(fn))


def section(text: str, hook: str) -> str:
    match = re.search(rf"^### `{hook}\(.*?(?=^### |\Z)", text, flags=re.M | re.S)
    return match.group(0) if match else ""


@pytest.mark.parametrize("hook", HOOKS)
def test_every_hook_is_documented_with_signature_and_example(hook):
    text = DOC.read_text(encoding="utf-8")
    body = section(text, hook)
    assert body, f"docs/plugins.md has no section '### `{hook}(...)`'"
    params = list(inspect.signature(getattr(hookspecs, hook)).parameters)
    heading = body.splitlines()[0]
    assert heading.startswith(f"### `{hook}({', '.join(params)})"), (
        f"the heading of {hook} must show its signature ({', '.join(params)})")
    assert "```python" in body and "@hookimpl" in body, f"{hook} needs an example"


def test_no_documented_hook_is_missing_from_the_specs():
    documented = set(re.findall(r"^### `(civic_\w+)\(", DOC.read_text(encoding="utf-8"), flags=re.M))
    assert documented == set(HOOKS)
