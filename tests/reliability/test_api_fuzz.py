"""Every operation of the OpenAPI document, fuzzed by schemathesis from the document itself, once
anonymously and once with the token of an account holding each role, over a store with real data
(the apartment demo and a budget cycle open for voting).

For every generated request: no server error; the status, content type and body are the ones the
document declares; and a request that is not answered 2xx did not move the store's position (a
refusal changes nothing).

The number of examples per operation and caller is small by default so the run stays within CI's
budget; ``make soak`` raises it (``CIVIC_FUZZ_EXAMPLES``).
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings

from tests.reliability.conftest import CALLERS, CHECKS
from tests.support.figures import record

EXAMPLES = int(os.environ.get("CIVIC_FUZZ_EXAMPLES", "4"))
SOAK = "CIVIC_FUZZ_EXAMPLES" in os.environ  # the soak explores new inputs each run; CI repeats the same
SNAPSHOT = Path(__file__).parent.parent / "snapshots" / "interface.json"
METHODS = {"get", "put", "post", "delete", "patch"}


def documented_operations() -> list[tuple[str, str]]:
    """(method, path) of every operation, read from the interface snapshot (kept current by
    tests/test_interface.py) so the tests are known before any store exists."""
    document = json.loads(SNAPSHOT.read_text(encoding="utf-8"))["openapi"]
    return sorted((method.upper(), path) for path, item in document["paths"].items()
                  for method in item if method in METHODS)


def test_the_fuzzed_operations_are_the_served_document(api_schema):
    served = {(op.method.upper(), op.path) for op in (result.ok() for result in api_schema.get_all_operations())}
    assert served == set(documented_operations())


@pytest.mark.parametrize(("method", "path"), documented_operations(), ids=lambda v: v)
def test_operation_for_every_caller(method, path, world, api_schema):
    """Each generated request is sent once per caller: anonymous, then as each role."""
    engine = world["engine"]

    @given(case=api_schema[path][method].as_strategy())
    @settings(max_examples=EXAMPLES, deadline=None, derandomize=not SOAK, database=None,
              suppress_health_check=list(HealthCheck))
    def each_caller(case):
        for caller in CALLERS:
            token = world["tokens"][caller]
            headers = {"Authorization": f"Bearer {token}"} if token else {}
            before = engine.position
            response = case.call(headers=headers)
            record("API fuzzing (schemathesis)", requests=1, server_errors=int(response.status_code >= 500),
                   refused=int(not 200 <= response.status_code < 300))
            case.validate_response(response, checks=CHECKS)
            if not 200 <= response.status_code < 300:
                assert engine.position == before, (caller, case.method, case.formatted_path, response.status_code)

    each_caller()
