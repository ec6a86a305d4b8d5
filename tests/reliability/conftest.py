"""A store with real data, an account per role, and the app's OpenAPI document loaded by
schemathesis: shared by the API fuzzing tests of this folder (one per module)."""

from __future__ import annotations

import pytest
import schemathesis
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from core.actors import Role
from core.engine import Engine
from core.http import create_app
from tests.plugins.budget_vote.support import voting_cycle
from tests.support.staff import PASSWORD, add_staff, cheap_passwords

CALLERS = ["anonymous", *(role.value for role in Role)]
# no server error; status, content type and body as documented
CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance, response_schema_conformance]


@pytest.fixture(scope="module")
def world(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("fuzz")
    patch = pytest.MonkeyPatch()
    patch.setenv("CIVIC_HOME", str(tmp / "home"))
    with cheap_passwords():
        engine = Engine(str(tmp / "civic.db"), outbox=tmp / "outbox.jsonl")
        try:
            engine.pm.get_plugin("apartment_vote").civic_load_demo(engine=engine, progress=lambda step: None)
            voting_cycle(engine)
            tokens: dict[str, str | None] = {"anonymous": None}
            for role in Role:
                add_staff(engine, f"fuzz.{role.value}", [role])
                tokens[role.value] = engine.identity.sign_in(f"fuzz.{role.value}", PASSWORD).token
            yield {"engine": engine, "tokens": tokens, "app": create_app(engine)}
        finally:
            engine.close()
            patch.undo()


@pytest.fixture(scope="module")
def api_schema(world):
    return schemathesis.openapi.from_asgi("/schema/openapi.json", world["app"])
