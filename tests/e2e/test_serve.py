"""The real `hashkey-sim serve` process on 127.0.0.1 (gunicorn, one worker or several), signed as the
document signs."""

from __future__ import annotations

import hashlib
import hmac
import http.client
import json
import os
import queue
import re
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
import requests

pytestmark = pytest.mark.e2e

ADMIN_TOKEN = "e2e-token"
WORKER_CLASS_NAMES = {"gevent": "simulator.gevent_worker.GeventWorker", "gthread": "gthread"}
# What must not appear in the log of a clean stop: tracebacks, ignored exceptions, warnings, errors.
UNCLEAN_STOP = re.compile(r"Traceback|Exception ignored|Warning|\[(ERROR|WARNING|CRITICAL)\]")
ANNOUNCE = "hashkey-sim serving "
STARTUP_LIMIT_S = 20
HTTP_TIMEOUT_S = 10
POLL_INTERVAL_S = 3  # longer than gunicorn's default keep-alive of 2 s
ORDER_STREAM = 500  # orders of about 20 WAL pages each: 40 MB of WAL if it never started over
WAL_BOUND_BYTES = 16 << 20  # SQLite checkpoints at 1,000 pages (4 MB)


class Server:
    """A `hashkey-sim serve` subprocess whose merged stdout/stderr is drained by a thread into a queue."""

    def __init__(self, args: list[str], tmp_path: Path, settings_env: dict[str, str] | None = None) -> None:
        env = {k: v for k, v in os.environ.items() if not k.startswith("HASHKEY_SIM_")}
        env.update(settings_env or {}, PYTHONUNBUFFERED="1")
        self.process = subprocess.Popen(
            [str(Path(sys.executable).parent / "hashkey-sim"), "serve", *args],
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            cwd=tmp_path,
            env=env,
            text=True,
        )
        self.output: list[str] = []  # every line read so far, in order
        self._lines: queue.Queue[str | None] = queue.Queue()
        self._drainer = threading.Thread(target=self._drain, daemon=True)
        self._drainer.start()

    def _drain(self) -> None:
        assert self.process.stdout is not None
        for line in self.process.stdout:
            self.output.append(line)
            self._lines.put(line)
        self._lines.put(None)

    def wait_for_announce(self) -> str:
        """The base URL from the announce line; fails clearly after STARTUP_LIMIT_S or if the process ends."""
        deadline = time.monotonic() + STARTUP_LIMIT_S
        while True:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                pytest.fail(
                    f"no {ANNOUNCE!r} line within {STARTUP_LIMIT_S} s; output so far:\n{self.transcript()}"
                )
            try:
                line = self._lines.get(timeout=remaining)
            except queue.Empty:
                continue
            if line is None:
                pytest.fail(f"serve exited ({self.process.wait()}) before announcing:\n{self.transcript()}")
            if line.startswith(ANNOUNCE):
                return line[len(ANNOUNCE) :].strip()

    def transcript(self) -> str:
        return "".join(self.output)

    def stop(self, within_s: float, signum: int = signal.SIGTERM) -> int:
        """SIGTERM (or `signum`), then the exit code; the whole output is in `output` afterwards."""
        self.process.send_signal(signum)
        try:
            return_code = self.process.wait(timeout=within_s)
        except subprocess.TimeoutExpired:
            pytest.fail(f"serve did not exit within {within_s} s of signal {signum}")
        self._drainer.join(timeout=HTTP_TIMEOUT_S)
        return return_code

    def kill(self) -> None:
        """Always safe: kills the process if it is still running and closes its pipe."""
        if self.process.poll() is None:
            self.process.kill()
        self.process.wait()
        self._drainer.join(timeout=HTTP_TIMEOUT_S)
        assert self.process.stdout is not None
        self.process.stdout.close()


@pytest.fixture
def start_server(tmp_path: Path) -> Iterator[Any]:
    servers: list[Server] = []

    def start(*args: str, settings_env: dict[str, str] | None = None) -> Server:
        server = Server(
            ["--db", f"sqlite:///{tmp_path}/e2e.db", "--admin-token", ADMIN_TOKEN, *args],
            tmp_path,
            settings_env,
        )
        servers.append(server)
        return server

    try:
        yield start
    finally:
        for server in servers:
            server.kill()


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def create_account(base_url: str) -> dict[str, Any]:
    response = requests.post(
        f"{base_url}/sim/v1/accounts",
        json={"balances": {"USDT": "1000", "BTC": "0.5"}},
        headers={"X-SIM-ADMIN-TOKEN": ADMIN_TOKEN},
        timeout=HTTP_TIMEOUT_S,
    )
    assert response.status_code == 201, response.text
    return response.json()


def create_hmac256_signature(secret_key: str, params: dict[str, Any], data: str = "") -> str:
    """The HashKey document's Python sample: k=v pairs joined with '&', HMAC-SHA256, hex."""
    for key, value in params.items():
        data = data + str(key) + "=" + str(value) + "&"
    return hmac.new(secret_key.encode(), data[:-1].encode(), hashlib.sha256).hexdigest()


def signed_post(
    session: requests.Session, base_url: str, path: str, account: dict[str, Any], **params: Any
) -> Any:
    params["timestamp"] = int(time.time() * 1000)
    body = "&".join(f"{key}={value}" for key, value in params.items())
    body += "&signature=" + create_hmac256_signature(account["secretKey"], params)
    headers = {"X-HK-APIKEY": account["apiKey"], "Content-Type": "application/x-www-form-urlencoded"}
    response = session.post(f"{base_url}{path}", data=body, headers=headers, timeout=HTTP_TIMEOUT_S)
    assert response.status_code == 200, response.text
    return response.json()


def signed_get(base_url: str, path: str, api_key: str, secret_key: str) -> requests.Response:
    params: dict[str, Any] = {"timestamp": int(time.time() * 1000)}
    params["signature"] = create_hmac256_signature(secret_key, params)
    headers = {"X-HK-APIKEY": api_key, "accept": "application/json"}
    return requests.get(f"{base_url}{path}", headers=headers, params=params, timeout=HTTP_TIMEOUT_S)


@pytest.fixture
def one_worker_server(start_server: Any) -> tuple[Server, str]:
    server = start_server("--port", "0")
    return server, server.wait_for_announce()


def test_server_announces_a_local_url(one_worker_server):
    _, base_url = one_worker_server

    assert base_url.startswith("http://127.0.0.1:")
    assert int(base_url.rsplit(":", 1)[1]) > 0


def test_server_keeps_a_connection_alive(one_worker_server):
    _, base_url = one_worker_server
    host, port = base_url.removeprefix("http://").split(":")
    connection = http.client.HTTPConnection(host, int(port), timeout=HTTP_TIMEOUT_S)
    try:
        answers = []
        for path in ("/api/v1/ping", "/api/v1/time"):
            connection.request("GET", path)
            response = connection.getresponse()
            response.read()
            answers.append((response.status, response.getheader("Connection", ""), connection.sock))
    finally:
        connection.close()

    (first_status, first_header, first_socket), (second_status, _, second_socket) = answers
    assert (first_status, second_status) == (200, 200)
    assert first_header.lower() != "close"
    assert first_socket is not None and second_socket is first_socket  # one TCP connection for both


@pytest.mark.parametrize("worker_class", ["gevent", "gthread"])
def test_a_connection_idle_between_polls_stays_open(start_server, worker_class):
    """gunicorn's own default closes a connection idle for 2 s: a bot polling about that often would send
    on a connection being closed, and ccxt reports a NetworkError. An idle connection is kept much longer."""
    server = start_server("--port", "0", settings_env={"HASHKEY_SIM_WORKER_CLASS": worker_class})
    host, port = server.wait_for_announce().removeprefix("http://").split(":")
    connection = http.client.HTTPConnection(host, int(port), timeout=HTTP_TIMEOUT_S)
    try:
        answers = []
        for _ in range(2):
            connection.request("GET", "/api/v1/ping")
            response = connection.getresponse()
            response.read()
            answers.append((response.status, connection.sock))
            time.sleep(POLL_INTERVAL_S)
    finally:
        connection.close()

    (first_status, first_socket), (second_status, second_socket) = answers
    assert (first_status, second_status) == (200, 200)
    assert first_socket is not None and second_socket is first_socket


def test_server_answers_ping(one_worker_server):
    _, base_url = one_worker_server

    response = requests.get(f"{base_url}/api/v1/ping", timeout=HTTP_TIMEOUT_S)

    assert (response.status_code, response.json()) == (200, {})


def test_server_answers_a_path_with_two_leading_slashes_404(one_worker_server):
    _, base_url = one_worker_server
    host, port = base_url.removeprefix("http://").split(":")
    connection = http.client.HTTPConnection(host, int(port), timeout=HTTP_TIMEOUT_S)
    try:
        connection.request("GET", "//api/v1/ping")
        response = connection.getresponse()
        answer = (response.status, json.loads(response.read()))
    finally:
        connection.close()

    assert answer == (404, {"code": "-1004", "msg": "Bad request: no endpoint at //api/v1/ping"})


def test_server_serves_a_signed_account_request(one_worker_server):
    _, base_url = one_worker_server
    account = create_account(base_url)

    response = signed_get(base_url, "/api/v1/account", account["apiKey"], account["secretKey"])

    assert response.status_code == 200, response.text
    body = response.json()
    assert body["userId"] == account["userId"]
    assert {b["asset"]: (b["free"], b["locked"], b["total"]) for b in body["balances"]} == {
        "BTC": ("0.5", "0", "0.5"),
        "USDT": ("1000", "0", "1000"),
    }


def test_the_write_ahead_log_stays_small_under_a_stream_of_orders(start_server, tmp_path):
    """SQLite starts the WAL over only when a writer begins with all of it checkpointed, as the checkpoint
    in the commit that fills it leaves it. A checkpoint thread beside the request path never did, and the
    WAL grew by megabytes a second until the disk was full (README, "Benchmark")."""
    server = start_server("--port", "0", settings_env={"HASHKEY_SIM_RATE_LIMITS": "false"})
    base_url = server.wait_for_announce()
    account = create_account(base_url)
    ticker = requests.get(f"{base_url}/quote/v1/ticker/price?symbol=BTCUSDT", timeout=HTTP_TIMEOUT_S).json()
    below = format((Decimal(ticker[0]["p"]) * Decimal("0.95")).quantize(Decimal("0.01")), "f")
    order = {"symbol": "BTCUSDT", "side": "BUY", "type": "LIMIT", "timeInForce": "IOC", "price": below}
    session = requests.Session()

    answers = [
        signed_post(session, base_url, "/api/v1.1/spot/order", account, **order, quantity="0.001")["status"]
        for _ in range(ORDER_STREAM)
    ]

    assert answers == ["CANCELED"] * ORDER_STREAM  # each wrote its order, lock, release and events
    assert (tmp_path / "e2e.db-wal").stat().st_size < WAL_BOUND_BYTES


def test_server_refuses_an_unsigned_request(one_worker_server):
    _, base_url = one_worker_server
    account = create_account(base_url)

    response = requests.get(
        f"{base_url}/api/v1/account",
        params={"timestamp": int(time.time() * 1000)},
        headers={"X-HK-APIKEY": account["apiKey"]},
        timeout=HTTP_TIMEOUT_S,
    )

    assert response.status_code == 400
    assert response.json()["code"] == "0001"


@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGINT], ids=["sigterm", "ctrl-c"])
@pytest.mark.parametrize("worker_class", ["gevent", "gthread"])
def test_server_stops_cleanly_with_a_client_connected(start_server, worker_class, signum):
    server = start_server("--port", "0", settings_env={"HASHKEY_SIM_WORKER_CLASS": worker_class})
    base_url = server.wait_for_announce()
    with requests.Session() as bot:  # keeps its connection open, idle, while the server stops
        assert bot.get(f"{base_url}/api/v1/ping", timeout=HTTP_TIMEOUT_S).status_code == 200

        return_code = server.stop(within_s=10, signum=signum)

    assert return_code == 0, server.transcript()
    assert f"Using worker: {WORKER_CLASS_NAMES[worker_class]}\n" in server.transcript()
    assert not [line for line in server.output if UNCLEAN_STOP.search(line)], server.transcript()


def test_clients_that_send_half_a_request_do_not_hold_up_the_others(one_worker_server):
    """More stalled clients than gthread's default 8 threads: each would hold a thread until the request
    completes. The default worker waits for all of them at once and answers everyone else."""
    _, base_url = one_worker_server
    host, port = base_url.removeprefix("http://").split(":")
    stalled = [socket.create_connection((host, int(port)), timeout=HTTP_TIMEOUT_S) for _ in range(20)]
    try:
        for connection in stalled:  # headers without the blank line that ends them: never complete
            connection.sendall(b"GET /api/v1/ping HTTP/1.1\r\nHost: localhost\r\n")
        answers = [requests.get(f"{base_url}/api/v1/time", timeout=HTTP_TIMEOUT_S) for _ in range(5)]
    finally:
        for connection in stalled:
            connection.close()

    assert [answer.status_code for answer in answers] == [200] * 5


def test_replay_clock_flags_set_the_market_clock(start_server):
    server = start_server("--port", "0", "--clock", "replay", "--start", "1600000000000", "--speed", "0")
    base_url = server.wait_for_announce()

    server_time = requests.get(f"{base_url}/api/v1/time", timeout=HTTP_TIMEOUT_S).json()
    clock = requests.get(
        f"{base_url}/sim/v1/clock", headers={"X-SIM-ADMIN-TOKEN": ADMIN_TOKEN}, timeout=HTTP_TIMEOUT_S
    ).json()

    assert server_time == {"serverTime": 1600000000000}
    assert clock == {"mode": "replay", "time": 1600000000000, "speed": 0}


def test_server_prints_the_admin_token(one_worker_server):
    server, _ = one_worker_server

    server.stop(within_s=10)

    assert f"admin token: {ADMIN_TOKEN}\n" in server.output


def test_first_start_imports_the_demo_market_data(one_worker_server):
    server, _ = one_worker_server

    server.stop(within_s=10)

    (line,) = [line for line in server.output if line.startswith("imported demo market data: ")]
    assert line.endswith(" rows for BTCUSDT, ETHUSDT, SOLUSDT (settings: demo_data)\n")
    assert server.output.index(line) < server.output.index(f"admin token: {ADMIN_TOKEN}\n")


def test_gunicorn_workers_serve_signed_requests_and_stop_cleanly(start_server):
    port = free_port()
    server = start_server("--port", str(port), "--workers", "2")
    base_url = server.wait_for_announce()
    assert base_url == f"http://127.0.0.1:{port}"
    account = create_account(base_url)

    statuses = [
        signed_get(base_url, "/api/v1/account", account["apiKey"], account["secretKey"]).status_code
        for _ in range(20)
    ]
    return_code = server.stop(within_s=15)

    assert statuses == [200] * 20
    assert return_code == 0, server.transcript()


def test_serve_without_a_token_generates_one_that_opens_the_admin_api(tmp_path):
    server = Server(["--db", f"sqlite:///{tmp_path}/e2e.db", "--port", "0"], tmp_path)
    try:
        base_url = server.wait_for_announce()
        token = printed_admin_token(server)

        with_token = requests.get(
            f"{base_url}/sim/v1/clock", headers={"X-SIM-ADMIN-TOKEN": token}, timeout=HTTP_TIMEOUT_S
        )
        without = requests.get(f"{base_url}/sim/v1/clock", timeout=HTTP_TIMEOUT_S)
    finally:
        server.kill()

    assert len(token) == 32
    assert with_token.status_code == 200
    assert without.status_code == 401


def printed_admin_token(server: Server) -> str:
    """The token from the "admin token: ..." line, printed just after the URL (waits up to 10 s for it)."""
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        for line in list(server.output):
            if line.startswith("admin token: "):
                return line.removeprefix("admin token: ").strip()
        time.sleep(0.05)
    pytest.fail(f"no admin token line; output so far:\n{server.transcript()}")
