"""gunicorn's gevent worker, adjusted for a server people start and stop by hand.

gunicorn loads the class by its dotted name when the `worker_class` setting is gevent (server.py), in the
worker process, after the fork: its `patch` never runs in the CLI or in gunicorn's master process.
"""

from __future__ import annotations

import logging
import warnings
from typing import Any

from gevent import monkey
from gevent.monkey import MonkeyPatchWarning
from gunicorn.workers import ggevent


class GeventWorker(ggevent.GeventWorker):  # type: ignore[misc]
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
        instead lets the worker finish its requests, close its connections and exit. (Cutting idle
        keep-alive connections at once would be quicker, but gevent logs each cut as an error.)"""
        self.alive = False
