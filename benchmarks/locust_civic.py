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
import random
import time

import gevent
from locust import FastHttpUser, constant, events, task

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
    """Open loop: each user casts on a fixed schedule, every 1 / ``PER_USER_RATE`` seconds, from
    a start drawn at random within the first period; the rate offered is the number of users
    times ``PER_USER_RATE`` (as long as a response comes within one period), and the casts of all
    users arrive spread evenly over time.

    Locust starts the users of one second's spawning at the same instant, and its
    ``constant_throughput`` keeps each user's phase: every user then cast within the same few
    milliseconds, once a period (at 100 ballots/s offered, 200 casts at once every 2 s and
    nothing between), and the figures measured that burst's queue instead of the rate."""

    network_timeout = connection_timeout = 30.0
    period = 1 / PER_USER_RATE

    def on_start(self) -> None:
        self._next_at = time.monotonic() + random.uniform(0, self.period)  # noqa: S311 - a load's phase
        gevent.sleep(self._next_at - time.monotonic())

    def wait_time(self) -> float:
        # the schedule, not the end of the last cast, sets the next one: a slow answer does not
        # shift this user's phase (a cast later than its turn goes at once)
        self._next_at += self.period
        return max(0.0, self._next_at - time.monotonic())

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
