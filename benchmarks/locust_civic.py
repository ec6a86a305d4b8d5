"""The load of ``bench_http``: locust users that cast ballots through the residents' JSON API, or
read public endpoints. Run by ``bench_http`` as ``locust -f benchmarks/locust_civic.py --headless
CLASS``; settings come from the environment (``CIVIC_LOAD_*``), so that this file needs nothing
of civic (locust patches the process with gevent; civic's code stays out of it).

``CIVIC_LOAD_CONFIG`` is a JSON file: ``{"cycle_id": ..., "credentials": [...], "reads": [...]}``.
``CIVIC_LOAD_RESULT``: where the count of acknowledged ballots (2xx with a tracking code, over the
whole run, ramp-up included) is written at the end, for the check that each one is in the store."""

from __future__ import annotations

import itertools
import json
import os

from locust import FastHttpUser, constant, constant_throughput, events, task

CONFIG = json.loads(open(os.environ["CIVIC_LOAD_CONFIG"], encoding="utf-8").read())
CAST_PATH = f"/api/budget/cycles/{CONFIG['cycle_id']}/ballot"
# one resident's credential per cast, round robin: the cycle lets a later vote replace an earlier
_credentials = itertools.cycle(CONFIG["credentials"])
_choices = itertools.cycle([["1"], ["2", "3"], ["1", "4"], ["5"], ["2", "4", "5"]])
_reads = itertools.cycle(CONFIG.get("reads") or ["/healthz"])
# per user: the offered rate is users × this, whatever the responses' latency up to 1 / this
PER_USER_RATE = float(os.environ.get("CIVIC_LOAD_PER_USER_RATE", "0.5"))
acknowledged = 0


def _cast(user: FastHttpUser) -> None:
    global acknowledged
    body = {"credential": next(_credentials), "choice": next(_choices)}
    with user.client.post(CAST_PATH, json=body, name="cast", catch_response=True) as response:
        if 200 <= response.status_code < 300 and b"tracking_code" in (response.content or b""):
            acknowledged += 1
            response.success()
        else:
            response.failure(f"{response.status_code}: {(response.text or '')[:200]}")


class OfferedVoter(FastHttpUser):
    """Open loop: each user casts at ``PER_USER_RATE`` per second; the rate offered is the number
    of users times that (as long as a response comes within 1 / ``PER_USER_RATE`` seconds)."""

    wait_time = constant_throughput(PER_USER_RATE)
    network_timeout = connection_timeout = 30.0

    @task
    def cast(self) -> None:
        _cast(self)


class BusyVoter(FastHttpUser):
    """Closed loop: each user casts again as soon as its last ballot was acknowledged."""

    wait_time = constant(0)
    network_timeout = connection_timeout = 30.0

    @task
    def cast(self) -> None:
        _cast(self)


class Reader(FastHttpUser):
    """Closed loop over the paths in the config's ``reads``."""

    wait_time = constant(0)

    @task
    def read(self) -> None:
        path = next(_reads)
        with self.client.get(path, name=path, catch_response=True) as response:
            if response.status_code != 200:
                response.failure(f"{response.status_code}")


@events.quitting.add_listener
def _write_result(environment, **_kw) -> None:  # noqa: ANN001 - locust's event signature
    target = os.environ.get("CIVIC_LOAD_RESULT")
    if target:
        with open(target, "w", encoding="utf-8") as out:
            json.dump({"acknowledged": acknowledged}, out)
