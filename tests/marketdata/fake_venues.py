"""Fake venues for the recorder tests: a Flask app (REST routes, flask-sock WebSocket routes) served by
werkzeug on 127.0.0.1 in a thread, remembering every request it was sent."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from flask import Flask, request
from flask_sock import Sock
from simple_websocket import ConnectionClosed
from werkzeug.serving import make_server

WAIT_S = 10.0  # longest any test waits for something to happen


@dataclass
class SeenRequest:
    method: str
    path: str
    args: dict[str, str]
    headers: dict[str, str]


@dataclass
class FakeVenue:
    """Use as a context manager; add routes to .app / .sock before entering."""

    app: Flask = field(default_factory=lambda: Flask("fake_venue"))
    seen: list[SeenRequest] = field(default_factory=list)
    closing: threading.Event = field(default_factory=threading.Event)

    def __post_init__(self) -> None:
        self.sock = Sock(self.app)
        self.app.before_request(self._remember)
        self._server: Any = None
        self._thread: threading.Thread | None = None

    def _remember(self) -> None:
        self.seen.append(SeenRequest(request.method, request.path, dict(request.args), dict(request.headers)))

    def requests_to(self, path: str) -> list[SeenRequest]:
        return [r for r in self.seen if r.path == path]

    @property
    def port(self) -> int:
        return int(self._server.server_port)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def ws_url(self) -> str:
        return f"ws://127.0.0.1:{self.port}"

    def __enter__(self) -> FakeVenue:
        self._server = make_server("127.0.0.1", 0, self.app, threaded=True)
        # a short poll interval: shutdown() waits for the serving loop to notice it
        self._thread = threading.Thread(target=self._server.serve_forever, args=(0.02,), daemon=True)
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.closing.set()  # lets WebSocket handlers that hold a connection open return
        self._server.shutdown()
        self._server.server_close()
        assert self._thread is not None
        self._thread.join(WAIT_S)


def hold_open(ws: Any, venue: FakeVenue, received: list[str] | None = None) -> None:
    """Keep a WebSocket open until the client closes it or the venue shuts down, keeping what the client
    sends."""
    while not venue.closing.is_set():
        try:
            message = ws.receive(timeout=0.05)
        except ConnectionClosed:
            return
        if message is not None and received is not None:
            received.append(message)


def wait_for(condition: Callable[[], bool], what: str, timeout: float = WAIT_S) -> None:
    """Poll `condition` until it holds; fail the test (not hang it) if it does not within `timeout`."""
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.01)


class Background:
    """Runs a recorder in a thread; stop() asks it to stop and joins it, re-raising what it raised."""

    def __init__(self, run: Callable[[], None], stop: Callable[[], None]):
        self._stop = stop
        self.error: BaseException | None = None
        self._thread = threading.Thread(target=self._run, args=(run,), daemon=True)
        self._thread.start()

    def _run(self, run: Callable[[], None]) -> None:
        try:
            run()
        except BaseException as e:  # handed to the test thread by stop()
            self.error = e

    def stop(self) -> None:
        self._stop()
        self._thread.join(WAIT_S)
        assert not self._thread.is_alive(), "the recorder did not stop"
        if self.error is not None:
            raise self.error
