"""Residents' pages on the demo: server time to render each page and the weight of the voting
pages (HTML with the CSS and script they load, without the QR image).

Targets (issue: residents' web pages): every page < 300 ms server time; voting pages ≤ 100 KB."""

from __future__ import annotations

import re
import statistics
import logging
import tempfile
import time
from pathlib import Path

from litestar.testing import TestClient


from core.cli_helpers import plugin_manager
from core.engine import Engine
from core.http import create_app
from core.voting import VotingKit

ROUNDS = 20
VOTING_PAGES = ("sign-in", "ballot", "review", "done", "receipt", "apartment results", "apartment certificate")


def _csrf(html: str) -> str:
    return re.search(r'name="_csrf_token" value="([^"]+)"', html).group(1)


def run(table) -> None:
    logging.getLogger("httpx").setLevel(logging.WARNING)  # one line per request otherwise
    with tempfile.TemporaryDirectory() as tmp:
        db = str(Path(tmp) / "demo.db")
        engine = Engine(db, plugins=plugin_manager(), outbox=Path(tmp) / "outbox.jsonl")
        for name, plugin in sorted(engine.pm.list_name_plugin()):
            load = getattr(plugin, "civic_load_demo", None)
            if load is not None:
                load(engine=engine, progress=lambda _: None)
        engine.read_models.catch_up_all()
        from plugins.budget_vote.demo import CYCLE_NAME, OPEN_CYCLE_NAME
        from plugins.budget_vote.service import find_cycle

        published, open_cycle = find_cycle(engine, CYCLE_NAME).id, find_cycle(engine, OPEN_CYCLE_NAME).id
        text = next(m["text"] for m in engine.outbox.sent() if "/b/" in m["text"] and m["to"] == "01000000001")
        code = text.rsplit(" ", 1)[-1]
        timings: dict[str, list[float]] = {}
        weights: dict[str, int] = {}
        with TestClient(create_app(engine)) as client:
            assets = sum(len(client.get(path).content) for path in ("/static/civic.css", "/static/civic.js"))

            def page(name: str, method: str, path: str, **kw) -> str:
                started = time.perf_counter()
                response = client.request(method, path, **kw)
                timings.setdefault(name, []).append((time.perf_counter() - started) * 1000)
                assert response.status_code < 400, (name, response.status_code)
                weights[name] = len(response.content) + assets
                return response.text

            for _ in range(ROUNDS):
                page("home", "GET", "/")
                page("audit", "GET", "/audit")
                page("results", "GET", f"/budget/{published}/results")
                page("cycle", "GET", f"/budget/{open_cycle}")
            for _ in range(ROUNDS):
                html = page("sign-in", "GET", f"/budget/{open_cycle}/vote")
            client.post(f"/budget/{open_cycle}/vote", data={"phone": "010-0000-0001", "code": code,
                                                            "_csrf_token": _csrf(html)})
            for _ in range(ROUNDS):
                html = page("ballot", "GET", f"/budget/{open_cycle}/ballot")
            client.post(f"/budget/{open_cycle}/ballot", data={"project": ["1", "2"], "_csrf_token": _csrf(html)})
            for _ in range(ROUNDS):
                html = page("review", "GET", f"/budget/{open_cycle}/review")
            client.post(f"/budget/{open_cycle}/cast", data={"_csrf_token": _csrf(html)})
            for _ in range(ROUNDS):
                html = page("done", "GET", f"/budget/{open_cycle}/done")
            tracking = re.search(r'class="tracking-code">([^<]+)<', html).group(1)
            for _ in range(ROUNDS):
                page("receipt", "GET", f"/budget/{open_cycle}/receipt?code={tracking}")
            # the apartment demo's closed elections: results and one certificate per election
            from plugins.apartment_vote.views import election_list
            closed = [eid for eid, e in election_list(engine).items() if e["results_recorded"]]
            for eid in closed[:2]:
                for _ in range(ROUNDS // 2):
                    html = page("apartment results", "GET", f"/apartment/{eid}/results")
                    page("apartment election", "GET", f"/apartment/{eid}")
                contest = re.search(rf'/apartment/{eid}/contests/([^/"]+)/certificate', html)
                if contest:
                    for _ in range(ROUNDS // 2):
                        page("apartment certificate", "GET", f"/apartment/{eid}/contests/{contest.group(1)}/certificate")
            # complaints: the start of the form and a public status page
            from plugins.complaints.service import index
            some = next(iter(index(engine)["complaints"]))
            for _ in range(ROUNDS):
                page("complaints start", "GET", "/complaints")
                page("complaint status", "GET", f"/complaints/{some}")
            # a counted ballot of the published cycle: the receipt opens the closed box
            counted = VotingKit(engine).opened(published).counted[0].tracking_code
            for _ in range(5):
                page("receipt of a counted ballot", "GET", f"/budget/{published}/receipt?code={counted}")
        engine.close()
    for name, values in timings.items():
        table.add(f"web: {name} page, server time (median of {len(values)})", statistics.median(values), "ms",
                  f"max {max(values):.0f} ms; target < 300 ms")
    for name in VOTING_PAGES:
        table.add(f"web: {name} page weight (HTML + CSS + JS)", weights[name] / 1024, "KB", "target ≤ 100 KB")
