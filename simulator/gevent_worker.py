"""gunicorn's gevent worker, adjusted for a server people start and stop by hand.

gunicorn loads the class by its dotted name when the `worker_class` setting is gevent (server.py), in the
worker process, after the fork: its `patch` never runs in the CLI or in gunicorn's master process.
"""

from __future__ import annotations

import logging
import warnings
from typing import Any

import gevent
from gevent import monkey
from gevent.monkey import MonkeyPatchWarning
from gunicorn.workers import ggevent


class GeventWorker(ggevent.GeventWorker):  # type: ignore[misc]
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._idle_waits: set[IdleWait] = set()

    def patch(self) -> None:
        """Patch as gunicorn does, without the warning that `ssl` was imported first.

        The CLI that starts serve also holds the recorders, which import requests and with it urllib3's TLS
        helpers before the worker can patch. A serve worker makes no outgoing connections, so those unpatched
        helpers are never used here, and the warning would only alarm the reader of the server's log."""
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", MonkeyPatchWarning)
            super().patch()

    def run(self) -> None:
        """Serve until stopped, then hand logging back its own lock before the interpreter exits.

        Patching gave logging's module lock to gevent. At exit, the interpreter clears gevent's modules
        before the last logging handlers are freed, and freeing a handler takes that lock: every stop would
        end with "Exception ignored in _removeHandlerRef". Once the serving loop is over, no other greenlet
        will take the lock, so the original kind is safe again."""
        super().run()
        logging._lock = monkey.get_original("_thread", "RLock")()  # type: ignore[attr-defined]

    def handle_quit(self, sig: int, frame: Any) -> None:
        """Ctrl-C (it reaches a worker as SIGQUIT) stops the worker as SIGTERM does.

        gunicorn's gevent handler calls sys.exit from a new greenlet. That ends only the greenlet, with a
        traceback in the log, and the worker lingers until the arbiter kills it. Ending the serving loop
        instead lets the worker finish its requests, close its connections and exit."""
        self._stop_serving()

    def handle_exit(self, sig: int, frame: Any) -> None:
        """SIGTERM: as gunicorn does, and the connections waiting for a next request close at once."""
        self._stop_serving()

    def timeout_ctx(self) -> IdleWait:
        """The wait for a connection's next request, up to the keep-alive time; none once stopping."""
        return IdleWait(self._idle_waits, self.cfg.keepalive if self.alive else 0)

    def _stop_serving(self) -> None:
        """Requests being served finish (their connections then close); connections waiting for a next one
        close now rather than after the keep-alive time, which would outlast the graceful stop."""
        self.alive = False
        for wait in list(self._idle_waits):
            wait.end()


class IdleWait:
    """gunicorn's keep-alive wait for a connection's next request (a silent gevent.Timeout: when it
    passes, the connection closes quietly), which a stopping worker can end early."""

    def __init__(self, waits: set[IdleWait], seconds: float) -> None:
        self._waits, self._timeout = waits, gevent.Timeout(seconds, False)
        self._greenlet: Any = None

    def __enter__(self) -> None:
        self._greenlet = gevent.getcurrent()
        self._waits.add(self)
        self._timeout.__enter__()

    def __exit__(self, *raised: Any) -> bool:
        self._waits.discard(self)
        return bool(self._timeout.__exit__(*raised))

    def end(self) -> None:
        """As if the keep-alive time had passed (gevent.Timeout swallows itself); scheduled on the hub, so
        safe from a signal handler."""
        if self in self._waits:
            gevent.kill(self._greenlet, self._timeout)
