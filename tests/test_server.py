"""What `serve` tells gunicorn (the process itself is driven in tests/e2e/test_serve.py)."""

from __future__ import annotations

import pytest
from gunicorn.util import load_class
from gunicorn.workers.ggevent import GeventWorker as GunicornGeventWorker
from gunicorn.workers.gthread import ThreadWorker

from simulator.server import gunicorn_options
from simulator.settings import Settings


@pytest.mark.parametrize(
    ("worker_class", "loaded"), [("gevent", GunicornGeventWorker), ("gthread", ThreadWorker)]
)
def test_each_worker_class_setting_names_a_gunicorn_worker(worker_class, loaded):
    options = gunicorn_options(Settings(worker_class=worker_class, threads=3))

    assert issubclass(load_class(options["worker_class"]), loaded)
    assert options["threads"] == 3


def test_the_default_worker_is_gevent_and_one_process():
    options = gunicorn_options(Settings())

    assert issubclass(load_class(options["worker_class"]), GunicornGeventWorker)
    assert options["workers"] == 1


def test_a_worker_busy_with_a_long_request_is_not_killed_for_silence():
    """gunicorn kills a worker whose heartbeat stops for `timeout` seconds; a gevent worker's stops while
    one request computes (a long clock advance), so the limit is off (0)."""
    assert gunicorn_options(Settings())["timeout"] == 0


@pytest.mark.parametrize(
    ("host", "bind"), [("127.0.0.1", "127.0.0.1:8000"), ("::1", "[::1]:8000"), ("0.0.0.0", "0.0.0.0:8000")]
)
def test_bind_address_brackets_ipv6_hosts(host, bind):
    assert gunicorn_options(Settings(host=host))["bind"] == bind
