"""Throughput of signed GET /api/v1/account against GET /api/v1/ping, measured in the same run.

The ratio says what authentication costs (key lookup, HMAC, timestamp check, balance read) next to the
cheapest endpoint. Two transports: in-process WSGI (Flask test client: the app's own cost) and HTTP over
loopback to a real threaded server (what a bot sees). Bounded in count and time; loopback only.

    python scripts/bench_auth.py [--requests 2000] [--seconds 10] [--transport both|wsgi|http]
"""

from __future__ import annotations

import argparse
import hashlib
import hmac
import logging
import tempfile
import threading
import time
from collections.abc import Callable
from pathlib import Path

import requests
from bench_machine import machine_note  # scripts/ is on the path: this script's folder
from werkzeug.serving import make_server

from simulator import create_app
from simulator.settings import Settings

ADMIN_TOKEN = "bench-admin-token"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=2000, help="requests per endpoint (upper bound)")
    parser.add_argument("--seconds", type=float, default=10.0, help="time per endpoint (upper bound)")
    parser.add_argument("--transport", choices=("both", "wsgi", "http"), default="both")
    options = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        settings = Settings(
            db=f"sqlite:///{Path(folder) / 'bench.db'}", admin_token=ADMIN_TOKEN, rate_limits=False
        )
        app = create_app(settings)
        key, secret = _create_account(app)
        print(machine_note("other processes on the machine slow the figures; the ratios move less"))
        print(f"bench_auth: up to {options.requests} requests or {options.seconds:g} s per endpoint")
        if options.transport in ("both", "wsgi"):
            client = app.test_client()
            _report(
                "wsgi",
                options,
                lambda: client.get("/api/v1/ping").status_code,
                lambda: client.get("/api/v1/account", **_signed_kwargs(key, secret)).status_code,
            )
        if options.transport in ("both", "http"):
            _bench_http(app, options, key, secret)
        app.extensions["hashkey_sim"].database.dispose()


def _bench_http(app: object, options: argparse.Namespace, key: str, secret: str) -> None:
    logging.getLogger("werkzeug").setLevel(logging.WARNING)  # one access-log line per request would dominate
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    base = f"http://127.0.0.1:{server.server_port}"
    session = requests.Session()
    try:
        _report(
            "http",
            options,
            lambda: session.get(f"{base}/api/v1/ping").status_code,
            lambda: session.get(f"{base}/api/v1/account", **_signed_http(key, secret)).status_code,
        )
    finally:
        server.shutdown()
        server.server_close()


def _create_account(app: object) -> tuple[str, str]:
    response = app.test_client().post(  # type: ignore[attr-defined]
        "/sim/v1/accounts",
        json={"balances": {"USDT": "100000", "BTC": "1.5", "ETH": "20"}},
        headers={"X-SIM-ADMIN-TOKEN": ADMIN_TOKEN},
    )
    body = response.get_json()
    return body["apiKey"], body["secretKey"]


def _query(secret: str) -> str:
    payload = f"timestamp={int(time.time() * 1000)}"
    return f"{payload}&signature={hmac.new(secret.encode(), payload.encode(), hashlib.sha256).hexdigest()}"


def _signed_kwargs(key: str, secret: str) -> dict[str, object]:
    return {"query_string": _query(secret), "headers": {"X-HK-APIKEY": key}}


def _signed_http(key: str, secret: str) -> dict[str, object]:
    return {"params": _query(secret), "headers": {"X-HK-APIKEY": key}}


def _rate(call: Callable[[], int], options: argparse.Namespace) -> float:
    for _ in range(20):  # warm up connections and caches
        _check(call())
    count, started = 0, time.perf_counter()
    deadline = started + options.seconds
    while count < options.requests and time.perf_counter() < deadline:
        _check(call())
        count += 1
    return count / (time.perf_counter() - started)


def _check(status: int) -> None:
    if status != 200:
        raise SystemExit(f"bench_auth: a request answered HTTP {status}; the figures would be meaningless")


def _report(
    transport: str, options: argparse.Namespace, ping: Callable[[], int], account: Callable[[], int]
) -> None:
    ping_rate = _rate(ping, options)
    account_rate = _rate(account, options)
    print(f"{transport:>5}  GET /api/v1/ping            {ping_rate:10.1f} req/s")
    print(f"{transport:>5}  GET /api/v1/account signed  {account_rate:10.1f} req/s")
    print(f"{transport:>5}  ratio account/ping          {account_rate / ping_rate:10.3f}")


if __name__ == "__main__":
    main()
