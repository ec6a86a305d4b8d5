"""``civic serve``: the app, its engine and its background jobs in one process, or in each of
several uvicorn worker processes on a PostgreSQL store (the workers elect one leader for the
once-only jobs; see ``core.leadership``)."""

from __future__ import annotations

import gc
import os
from typing import Any

import click

from core.cli_helpers import plugin_manager
from core.engine import Engine
from core.http import create_app
from core.leadership import Leadership
from core.service import BackgroundJobs
from core.store import is_postgres_url

# how the parent ``civic serve`` tells its workers what to serve
DB_ENV, TICK_ENV = "CIVIC_SERVE_DB", "CIVIC_SERVE_TICK_SECONDS"


def uvicorn_options(host: str, port: int, *, access_log: bool = True) -> dict[str, Any]:
    # X-Forwarded-For is believed only from the proxies named here (none by default), so a
    # client cannot pick the address its sign-in failures are counted against
    trusted = os.environ.get("CIVIC_TRUSTED_PROXIES", "").strip()
    return {"host": host, "port": port, "log_level": "info", "proxy_headers": bool(trusted),
            "forwarded_allow_ips": trusted or None, "server_header": False, "access_log": access_log}


def settle_heap() -> None:
    """On start-up, once the app is built: everything made so far (modules, routes, templates,
    the engine) lives as long as the process, so it is moved out of the cyclic garbage
    collector's sight. Every full collection walked all of it (about 130,000 objects, 70-120 ms
    holding the GIL), and every request in flight waited that long."""
    gc.collect()
    gc.freeze()


def worker_app() -> Any:
    """The app of one worker process (uvicorn calls this factory in each): its own engine, and
    background jobs that run the scheduler and the ledger only while this worker leads."""
    db = os.environ[DB_ENV]
    engine = Engine(db, plugins=plugin_manager())
    jobs = BackgroundJobs(engine, tick_seconds=float(os.environ.get(TICK_ENV, "30")), leadership=Leadership(db))
    app = create_app(engine)

    def stop() -> None:
        jobs.stop()
        engine.close()

    app.on_startup.append(jobs.start)
    app.on_startup.append(settle_heap)
    app.on_shutdown.append(stop)
    return app


def serve(db: str, host: str, port: int, tick_seconds: float, workers: int, *, access_log: bool = True) -> None:
    import uvicorn

    if workers > 1:
        if not is_postgres_url(db):
            raise click.UsageError("A SQLite store is served by one process; use --workers with a PostgreSQL store "
                                   "(--db postgresql://...).")
        os.environ[DB_ENV], os.environ[TICK_ENV] = db, str(tick_seconds)
        click.echo(f"civic: serving the PostgreSQL store with {workers} workers at http://{host}:{port} "
                   "(OpenAPI: /schema)")
        uvicorn.run("core.serving:worker_app", factory=True, workers=workers, **uvicorn_options(host, port, access_log=access_log))
        return
    engine = Engine(db, plugins=plugin_manager())
    # the app first: building it imports every plugin's modules, and the jobs' threads must not
    # import the same aggregate classes at the same time (eventsourcing defines them unlocked)
    app = create_app(engine)
    jobs = BackgroundJobs(engine, tick_seconds=tick_seconds)
    app.on_startup.append(settle_heap)
    jobs.start()
    click.echo(f"civic: serving {engine.kind} store at http://{host}:{port} (OpenAPI: /schema)")
    if engine.outbox_file_on:
        click.echo(f"civic: messages no notifier takes go to {engine.outbox.path} in plain text "
                   "(development stand-in; CIVIC_OUTBOX=off for a live instance)")
    try:
        uvicorn.run(app, **uvicorn_options(host, port, access_log=access_log))
    finally:
        jobs.stop()
        engine.close()
