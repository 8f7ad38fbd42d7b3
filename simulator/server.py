"""Serving: gunicorn, `settings.workers` processes, each serving its connections with gevent's greenlets
(`worker_class` gevent, the default) or with a pool of `settings.threads` threads (gthread).

Werkzeug's development server is not used: it closes the connection after every response (Connection:
close), so each request of a bot's keep-alive session paid for a new TCP connection and a new thread, on
both sides. gunicorn keeps connections alive.

gevent is the default because a worker then runs its requests on one thread and switches between them only
while one waits for the network. With a pool of threads, every SQLite call let another request's thread
take the GIL and then had to win it back, which cost a resting LIMIT order a third of its throughput under
concurrent clients (README, "Benchmark"). The price: a request that computes for long (a large klines
roll-up) holds up the worker's other connections until it is done, where gthread would share the CPU.

The base URL and the admin token are printed once the socket is bound (port 0 picks a free port, and the
URL shows the one picked); SIGTERM and Ctrl-C stop the server cleanly.
"""

from __future__ import annotations

import gc
from collections.abc import Callable
from typing import Any

from flask import Flask

from simulator.settings import Settings

Announce = Callable[[str, Settings], None]

KEEPALIVE_S = 75  # seconds a keep-alive connection may stay idle (nginx's default)

# The `worker_class` setting's values, and what gunicorn is told for each.
WORKER_CLASSES_FOR_GUNICORN = {"gevent": "simulator.gevent_worker.GeventWorker", "gthread": "gthread"}


def run_gunicorn(settings: Settings, announce: Announce) -> None:
    """Serve until stopped; each worker builds its own app (and database engine) after the fork."""
    from gunicorn.app.base import BaseApplication

    from simulator.app import create_app

    class SimulatorApplication(BaseApplication):  # type: ignore[misc]
        def load_config(self) -> None:
            for name, value in gunicorn_options(settings).items():
                if name in self.cfg.settings:  # control_socket_disable is new in gunicorn 23
                    self.cfg.set(name, value)
            self.cfg.set("when_ready", lambda server: announce(_base_url(server.LISTENERS[0]), settings))

        def load(self) -> Flask:
            app = create_app(settings, apply_clock=False)
            settle_long_lived_objects()
            return app

    SimulatorApplication().run()


def gunicorn_options(settings: Settings) -> dict[str, Any]:
    """What serve tells gunicorn (its setting names), but for the hook that announces the URL."""
    return {
        "bind": f"{_bind_host(settings.host)}:{settings.port}",
        "workers": settings.workers,
        "worker_class": WORKER_CLASSES_FOR_GUNICORN[settings.worker_class],
        "threads": settings.threads,
        "graceful_timeout": 5,
        # gunicorn closes a connection idle for 2 s by default: a bot polling every couple of seconds then
        # sends on a connection the server is closing, and ccxt and requests report a NetworkError (they do
        # not retry). Load balancers in front of exchanges keep idle connections for 60 s or more.
        "keepalive": KEEPALIVE_S,
        # No heartbeat limit. A request may compute for long: advancing a replay clock with orders resting
        # through a busy day of recorded trades takes seconds. A gevent worker busy with it
        # cannot tell gunicorn's arbiter that it is alive, and the arbiter would kill it, and the request,
        # after `timeout` seconds (30 by default). A gthread worker's main thread answers for it.
        "timeout": 0,
        # gunicorn 23+ opens a control socket at one fixed per-user path; two simulators would collide.
        "control_socket_disable": True,
    }


def settle_long_lived_objects() -> None:
    """Move what lives as long as the process (the app, SQLAlchemy's metadata and compiled statements,
    imported modules) out of the garbage collector's sight. A full collection walks every tracked object;
    with these frozen it walks only what requests made, and the pauses it put into one request in a hundred
    (tens of ms: the p99 of an order) are gone."""
    gc.collect()
    gc.freeze()


def _base_url(listener: Any) -> str:
    host, port = listener.getsockname()[:2]
    return f"http://{_url_host(host)}:{port}"


def _bind_host(host: str) -> str:
    return f"[{host}]" if ":" in host else host


def _url_host(host: str) -> str:
    if host in ("0.0.0.0", "::", ""):
        return "127.0.0.1"
    return f"[{host}]" if ":" in host else host
