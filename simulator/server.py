"""Serving: one process with threads (Werkzeug's threaded WSGI server), or gunicorn workers.

Both print the base URL and the admin token once bound, and stop cleanly on Ctrl-C and SIGTERM.
"""

from __future__ import annotations

import signal
import threading
from collections.abc import Callable
from typing import Any

from flask import Flask
from werkzeug.serving import make_server

from simulator.settings import Settings

Announce = Callable[[str, Settings], None]


def run_threaded(app: Flask, settings: Settings, announce: Announce) -> None:
    server = make_server(settings.host, settings.port, app, threaded=True)
    stop = threading.Event()

    def request_stop(signum: int, frame: Any) -> None:
        # shutdown() waits for serve_forever to return, so it must run outside the serving thread.
        if not stop.is_set():
            stop.set()
            threading.Thread(target=server.shutdown, daemon=True).start()

    signal.signal(signal.SIGTERM, request_stop)
    signal.signal(signal.SIGINT, request_stop)
    announce(f"http://{_url_host(settings.host)}:{server.server_port}", settings)
    try:
        server.serve_forever()
    finally:
        server.server_close()
        app.extensions["hashkey_sim"].database.dispose()


def run_gunicorn(settings: Settings, announce: Announce) -> None:
    """gunicorn with `settings.workers` processes of `settings.threads` threads; each worker builds its own
    app (and database engine) after the fork. Port 0 is not supported here: gunicorn needs a fixed port."""
    from gunicorn.app.base import BaseApplication

    from simulator.app import create_app

    class SimulatorApplication(BaseApplication):  # type: ignore[misc]
        def load_config(self) -> None:
            self.cfg.set("bind", f"{settings.host}:{settings.port}")
            self.cfg.set("workers", settings.workers)
            self.cfg.set("threads", settings.threads)
            self.cfg.set("worker_class", "gthread")
            self.cfg.set("graceful_timeout", 5)
            # gunicorn 23+ opens a control socket at one fixed per-user path; two simulators would collide.
            if "control_socket_disable" in self.cfg.settings:
                self.cfg.set("control_socket_disable", True)
            self.cfg.set("when_ready", lambda server: announce(_base_url(settings), settings))

        def load(self) -> Flask:
            return create_app(settings, apply_clock=False)

    SimulatorApplication().run()


def _base_url(settings: Settings) -> str:
    return f"http://{_url_host(settings.host)}:{settings.port}"


def _url_host(host: str) -> str:
    if host in ("0.0.0.0", "::", ""):
        return "127.0.0.1"
    return f"[{host}]" if ":" in host else host
