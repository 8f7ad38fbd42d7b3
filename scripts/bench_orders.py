"""Order-path speed over HTTP: signed LIMIT orders that rest and MARKET orders that walk 20 recorded levels,
each next to GET /api/v1/ping measured in the same run, against the same `hashkey-sim serve` process.

The server is started as a user starts it: `hashkey-sim serve` (`python -m simulator serve` without the
console script) on a free loopback port, a temp SQLite database, `--workers`, `--worker-class` and
`--threads` (the same for every phase; --worker-class and --threads unset leave the server's defaults),
an admin token, rate limits off (`HASHKEY_SIM_RATE_LIMITS=false`: the limits would refuse a benchmark),
no demo data, and a replay clock at speed 0 started inside the recording written beforehand. --clients
threads each own a keep-alive `requests` session and one account per 300 LIMIT orders they place in a
phase (the instrument's maxEntrustNum of open orders), funded through POST /sim/v1/accounts, and sign as
ccxt does (timestamp first, HMAC-SHA256 of the form body). Every run, best of --repeat:

1. ping: --orders GET /api/v1/ping, the clients running freely.
2. LIMIT: --orders GTC BTCUSDT orders through POST /api/v1.1/spot/order, BUYs 5 % below the touch and
   SELLs 5 % above (inside the 10 % LIMIT_TRADING band), so every one rests (answered NEW). They pile up
   during the phase, as a bot's do; afterwards (untimed) they are cancelled.
3. MARKET: --orders MARKET orders by quantity, BUYs and SELLs taking turns, each answered FILLED.

How every MARKET order walks exactly 20 recorded levels: liquidity a taker used stays taken until the
next snapshot, so one snapshot cannot serve the run unless it holds 20 levels for every order of it (tens
of thousands of levels, which each order would read: not what is being measured). Instead the recording
has one BTCUSDT snapshot every 1,000 ms, each of 20 x ceil(clients / 2) levels a side, one tick apart,
whose sizes repeat a block of 20 sizes; an order's quantity is the block's sum. The MARKET phase runs in
batches of one order per client: the clients meet at a barrier, the clock moves to the next snapshot
(POST /sim/v1/clock {"advanceMs": 1000}, not timed), and each sends one order, which takes the next 20
untouched levels of its side. An order that found fewer than 20 levels would not fill, and the script
stops at any answer that is not FILLED for the whole quantity. MARKET time is the sum of the batches'
times; the barrier keeps the server below its full load for the last few orders of each batch, which
slightly understates MARKET throughput. The LIMIT phase of a later run first moves to a fresh snapshot.

Latency is per request, measured by the client around the HTTP call; throughput counts the client's own
work too (client threads and server share the machine's CPUs). A default run takes about 25 seconds on the
2-CPU development machine, most of it the MARKET phases; --quick is a smoke run of a few seconds.

    python scripts/bench_orders.py [--orders 1000] [--clients 8] [--workers 1] [--worker-class gevent|gthread]
                                   [--threads N] [--repeat 3] [--quick]
"""

from __future__ import annotations

import argparse
import collections
import hashlib
import hmac
import math
import os
import queue
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import requests

REPO_ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO_ROOT))

from bench_machine import machine_note  # noqa: E402  (scripts/ is on the path: this script's folder)

from simulator.marketdata.records import Depth  # noqa: E402
from simulator.marketdata.writer import StoreWriter, source_id  # noqa: E402
from simulator.settings import WORKER_CLASSES  # noqa: E402
from simulator.storage.db import open_database  # noqa: E402

LIMIT_GOAL = 0.6  # of ping's throughput
MARKET_GOAL = 0.5
P99_GOAL = 2  # at most this many times ping's p99
SYMBOL = "BTCUSDT"
START_MS = 1_723_161_600_000  # 2024-08-09T00:00:00Z: the first snapshot, where the replay clock starts
SNAPSHOT_GAP_MS = 1_000  # well inside fill_depth_staleness_ms (5,000)
LEVELS_WALKED = 20
TICK = Decimal("0.01")
BEST_BID, BEST_ASK = Decimal("59999.99"), Decimal("60000.00")
BLOCK = tuple(Decimal("0.001") + Decimal("0.0001") * n for n in range(LEVELS_WALKED))  # BTC, on the step
MARKET_QUANTITY = sum(BLOCK, Decimal(0))  # one block: exactly 20 levels
LIMIT_QUANTITY = Decimal("0.001")
LIMIT_BUY_PRICE, LIMIT_SELL_PRICE = Decimal("57000.00"), Decimal("63000.00")  # 5 % from the touch
MAX_OPEN_ORDERS = 300  # BTCUSDT's maxEntrustNum: open orders per account and symbol
BALANCES = {"USDT": "1000000000", "BTC": "100000"}
ADMIN_TOKEN = "bench-orders-token"
ANNOUNCE = "hashkey-sim serving "
STARTUP_LIMIT_S = 60
HTTP_TIMEOUT_S = 60
QUICK = {"orders": 48, "clients": 4, "repeat": 1}

MACHINE_CAVEAT = (
    "clients and server share the cpus; other processes slow the figures; "
    "the best of --repeat runs is reported"
)


def main(argv: list[str] | None = None) -> int:
    options = parse_options(argv)
    print(machine_note(MACHINE_CAVEAT))
    batches = math.ceil(options.orders / options.clients)
    orders = batches * options.clients  # whole MARKET batches; every phase sends this many
    with tempfile.TemporaryDirectory(prefix="bench_orders_") as folder:
        work = Path(folder)
        snapshots = options.repeat * (1 + batches)
        levels = write_recording(work / "bench.db", snapshots, options.clients)
        server = Server(work, options.workers, options.worker_class, options.threads)
        try:
            base_url = server.start()
            print(
                f"server: hashkey-sim serve --workers {options.workers} ({server.kind}), rate limits off, "
                f"replay clock at speed 0; {options.clients} clients with keep-alive sessions; "
                f"{orders:,} requests a phase; {snapshots:,} {SYMBOL} snapshots of {levels} levels a side, "
                f"{SNAPSHOT_GAP_MS:,} ms apart, one per batch of {options.clients} MARKET orders"
            )
            results = run_all(Bench(base_url, options, orders, batches))
        finally:
            server.stop()
    report(results)
    return 0


def parse_options(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--orders", type=int, default=1000, help="requests per phase (ping, LIMIT, MARKET)")
    parser.add_argument("--clients", type=int, default=8, help="concurrent client threads")
    parser.add_argument("--workers", type=int, default=1, help="serve --workers: gunicorn processes")
    parser.add_argument(
        "--worker-class",
        choices=WORKER_CLASSES,
        help="the worker_class setting of serve (default: its default)",
    )
    parser.add_argument("--threads", type=int, help="the threads setting of serve (default: its default)")
    parser.add_argument(
        "--repeat", type=int, default=3, help="run the three phases this many times; the best is reported"
    )
    parser.add_argument("--quick", action="store_true", help="small sizes: a smoke run of a few seconds")
    options = parser.parse_args(argv)
    if options.quick:
        for name, value in QUICK.items():
            setattr(options, name, min(getattr(options, name), value))
    options.clients = max(1, options.clients)
    options.orders = max(options.clients, options.orders)
    options.repeat = max(1, options.repeat)
    return options


# ---- the recording ----


def write_recording(path: Path, snapshots: int, clients: int) -> int:
    """`snapshots` identical depth snapshots SNAPSHOT_GAP_MS apart from START_MS, deep enough for one batch
    of MARKET orders (at most ceil(clients / 2) a side); the number of levels a side."""
    levels = LEVELS_WALKED * math.ceil(clients / 2)
    sizes = [BLOCK[n % LEVELS_WALKED] for n in range(levels)]
    bids = tuple((BEST_BID - TICK * n, size) for n, size in enumerate(sizes))
    asks = tuple((BEST_ASK + TICK * n, size) for n, size in enumerate(sizes))
    database = open_database(f"sqlite:///{path}")
    try:
        with database.engine.begin() as connection:
            writer = StoreWriter(connection, source_id(connection, "bench", "bench_orders"), "bench")
            for n in range(snapshots):
                writer.add(Depth(SYMBOL, START_MS + n * SNAPSHOT_GAP_MS, bids, asks))
            writer.flush()
    finally:
        database.dispose()
    return levels


# ---- the server ----


class Server:
    """`hashkey-sim serve` in a subprocess; its output is drained by a thread (the last lines are kept for
    an error message), the base URL read from its announce line."""

    def __init__(
        self, work: Path, workers: int, worker_class: str | None = None, threads: int | None = None
    ) -> None:
        self.work = work
        self.workers = workers
        self.settings_env: dict[str, str] = {}  # settings without a serve flag
        self.kind = f"gunicorn, {workers} process{'' if workers == 1 else 'es'}"
        if worker_class is not None:
            self.settings_env["HASHKEY_SIM_WORKER_CLASS"] = worker_class
            self.kind += f", {worker_class}"
        if threads is not None:
            self.settings_env["HASHKEY_SIM_THREADS"] = str(threads)
            self.kind += f", threads {threads}"
        self.process: subprocess.Popen[str] | None = None
        self.tail: collections.deque[str] = collections.deque(maxlen=40)
        self._lines: queue.Queue[str | None] = queue.Queue()

    def start(self) -> str:
        env = {k: v for k, v in os.environ.items() if not k.startswith("HASHKEY_SIM_")}
        env.update(PYTHONUNBUFFERED="1", HASHKEY_SIM_RATE_LIMITS="false", HASHKEY_SIM_DEMO_DATA="false")
        env.update(self.settings_env)
        args = [
            "serve",
            *("--db", f"sqlite:///{self.work / 'bench.db'}", "--admin-token", ADMIN_TOKEN),
            *("--port", str(free_port()), "--workers", str(self.workers)),
            *("--clock", "replay", "--start", str(START_MS), "--speed", "0"),
        ]
        self.process = subprocess.Popen(
            [*serve_command(), *args],
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            cwd=self.work,
            env=env,
            text=True,
        )
        threading.Thread(target=self._drain, daemon=True).start()
        return self._wait_for_announce()

    def _drain(self) -> None:
        assert self.process is not None and self.process.stdout is not None
        announced = False
        for line in self.process.stdout:
            self.tail.append(line)
            if not announced:
                self._lines.put(line)
                announced = line.startswith(ANNOUNCE)
        self._lines.put(None)

    def _wait_for_announce(self) -> str:
        deadline = time.monotonic() + STARTUP_LIMIT_S
        while time.monotonic() < deadline:
            try:
                line = self._lines.get(timeout=max(0.0, deadline - time.monotonic()))
            except queue.Empty:
                break
            if line is None:
                raise SystemExit(f"bench_orders: serve exited before announcing:\n{''.join(self.tail)}")
            if line.startswith(ANNOUNCE):
                return line[len(ANNOUNCE) :].strip()
        raise SystemExit(
            f"bench_orders: serve did not announce in {STARTUP_LIMIT_S} s:\n{''.join(self.tail)}"
        )

    def stop(self) -> None:
        if self.process is None or self.process.poll() is not None:
            return
        self.process.send_signal(signal.SIGTERM)
        try:
            self.process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()


def serve_command() -> list[str]:
    script = Path(sys.executable).parent / "hashkey-sim"
    return [str(script)] if script.exists() else [sys.executable, "-m", "simulator"]


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


# ---- clients ----


@dataclass
class Client:
    """One bot: its own keep-alive session and accounts (api key, secret)."""

    index: int
    session: requests.Session
    keys: list[tuple[str, str]]

    def key(self, n: int) -> tuple[str, str]:
        """The account for the client's n-th LIMIT order of a phase: MAX_OPEN_ORDERS orders each."""
        return self.keys[n // MAX_OPEN_ORDERS % len(self.keys)]


def signed(secret: str, params: dict[str, str]) -> str:
    """As ccxt signs: timestamp first, then the parameters; the signature is appended."""
    payload = urlencode({"timestamp": str(int(time.time() * 1000)), **params})
    return f"{payload}&signature={hmac.new(secret.encode(), payload.encode(), hashlib.sha256).hexdigest()}"


def post_order(client: Client, base_url: str, key: tuple[str, str], params: dict[str, str]) -> dict[str, Any]:
    response = client.session.post(
        f"{base_url}/api/v1.1/spot/order",
        data=signed(key[1], params),
        headers={"X-HK-APIKEY": key[0], "Content-Type": "application/x-www-form-urlencoded"},
        timeout=HTTP_TIMEOUT_S,
    )
    return checked(response)


def checked(response: requests.Response) -> Any:
    if response.status_code not in (200, 201):
        raise SystemExit(
            f"bench_orders: {response.request.method} {response.request.path_url} answered HTTP "
            f"{response.status_code} {response.text[:300]}; the figures would be meaningless"
        )
    return response.json(parse_float=Decimal)


# ---- phases ----


@dataclass
class Run:
    """One phase of one run: requests, seconds they took, and each request's latency in seconds."""

    count: int
    seconds: float
    latencies: list[float] = field(default_factory=list)

    @property
    def rate(self) -> float:
        return self.count / self.seconds

    def percentile(self, share: float) -> float:
        ordered = sorted(self.latencies)
        return ordered[min(len(ordered) - 1, int(len(ordered) * share))]


class Bench:
    def __init__(self, base_url: str, options: argparse.Namespace, orders: int, batches: int) -> None:
        self.base_url = base_url
        self.options = options
        self.orders = orders
        self.batches = batches
        self.per_client = orders // options.clients
        self.admin = requests.Session()
        self.admin.headers["X-SIM-ADMIN-TOKEN"] = ADMIN_TOKEN
        self.clock_ms = START_MS
        accounts = math.ceil(self.per_client / MAX_OPEN_ORDERS)
        self.clients = [
            Client(n, requests.Session(), [self.create_account() for _ in range(accounts)])
            for n in range(options.clients)
        ]

    def create_account(self) -> tuple[str, str]:
        body = checked(
            self.admin.post(
                f"{self.base_url}/sim/v1/accounts", json={"balances": BALANCES}, timeout=HTTP_TIMEOUT_S
            )
        )
        return body["apiKey"], body["secretKey"]

    def advance_clock(self) -> None:
        """To the next snapshot; the events on the way are applied before the answer (none rest here)."""
        body = checked(
            self.admin.post(
                f"{self.base_url}/sim/v1/clock", json={"advanceMs": SNAPSHOT_GAP_MS}, timeout=HTTP_TIMEOUT_S
            )
        )
        self.clock_ms += SNAPSHOT_GAP_MS
        if body.get("time") != self.clock_ms:
            raise SystemExit(f"bench_orders: the clock answered {body}, expected time {self.clock_ms}")

    # -- the three phases --

    def ping(self) -> Run:
        def one(client: Client, n: int) -> None:
            checked(client.session.get(f"{self.base_url}/api/v1/ping", timeout=HTTP_TIMEOUT_S))

        return self.free_running(one)

    def limit(self) -> Run:
        def one(client: Client, n: int) -> None:
            buy = (client.index + n) % 2 == 0
            offset = TICK * (client.index * self.per_client + n)  # a price of its own: a new level each
            params = {
                "symbol": SYMBOL,
                "side": "BUY" if buy else "SELL",
                "type": "LIMIT",
                "timeInForce": "GTC",
                "quantity": format(LIMIT_QUANTITY, "f"),
                "price": format(LIMIT_BUY_PRICE - offset if buy else LIMIT_SELL_PRICE + offset, "f"),
            }
            body = post_order(client, self.base_url, client.key(n), params)
            if body.get("status") != "NEW":
                raise SystemExit(f"bench_orders: a LIMIT order that should rest answered {body}")

        return self.free_running(one)

    def market(self) -> Run:
        def one(client: Client, n: int) -> None:
            side = "BUY" if (client.index + n) % 2 == 0 else "SELL"
            params = {
                "symbol": SYMBOL,
                "side": side,
                "type": "MARKET",
                "quantity": format(MARKET_QUANTITY, "f"),
            }
            body = post_order(client, self.base_url, client.keys[0], params)
            if body.get("status") != "FILLED" or Decimal(body.get("executedQty", "0")) != MARKET_QUANTITY:
                raise SystemExit(
                    f"bench_orders: a MARKET order walking {LEVELS_WALKED} levels answered {body}"
                )

        return self.batched(one)

    def cancel_limits(self) -> None:
        """Untimed: every account's open BTCUSDT orders cancelled (at most 200 a call), checked empty."""
        client = self.clients[0]  # one session, used by this thread only while no phase runs
        for api_key, secret in (key for c in self.clients for key in c.keys):
            headers = {"X-HK-APIKEY": api_key}
            for _ in range(MAX_OPEN_ORDERS // 200 + 2):
                url = f"{self.base_url}/api/v1/spot/openOrders?"
                query = {"headers": headers, "timeout": HTTP_TIMEOUT_S}
                if not checked(client.session.get(url + signed(secret, {"symbol": SYMBOL}), **query)):
                    break
                checked(client.session.delete(url + signed(secret, {"symbol": SYMBOL}), **query))
            else:
                raise SystemExit("bench_orders: LIMIT orders still open after cancelling them")

    # -- how clients run --

    def free_running(self, one: Callable[[Client, int], None]) -> Run:
        """Each client sends its share as fast as it is answered; timed from a common start to the last."""
        start = threading.Barrier(len(self.clients) + 1)
        latencies: list[list[float]] = [[] for _ in self.clients]

        def work(client: Client) -> None:
            start.wait()
            for n in range(self.per_client):
                began = time.perf_counter()
                one(client, n)
                latencies[client.index].append(time.perf_counter() - began)

        threads = Threads(self.clients, work)
        start.wait()
        began = time.perf_counter()
        threads.join()
        return Run(self.orders, time.perf_counter() - began, [t for own in latencies for t in own])

    def batched(self, one: Callable[[Client, int], None]) -> Run:
        """One request per client per batch; between batches (untimed) the clock moves to a new snapshot."""
        batches = Batches(self.batches, self.advance_clock)
        barrier = threading.Barrier(len(self.clients), action=batches.boundary)
        latencies: list[list[float]] = [[] for _ in self.clients]

        def work(client: Client) -> None:
            for n in range(self.batches):
                barrier.wait(timeout=HTTP_TIMEOUT_S)
                began = time.perf_counter()
                one(client, n)
                latencies[client.index].append(time.perf_counter() - began)
            barrier.wait(timeout=HTTP_TIMEOUT_S)  # closes the last batch

        Threads(self.clients, work, barrier).join()
        return Run(self.orders, batches.spent, [t for own in latencies for t in own])


class Batches:
    """The barrier's action between batches: ends the timing of one, moves the clock, starts the next."""

    def __init__(self, count: int, before_each: Callable[[], None]) -> None:
        self.count = count
        self.before_each = before_each
        self.started: float | None = None
        self.begun = 0
        self.spent = 0.0

    def boundary(self) -> None:
        if self.started is not None:
            self.spent += time.perf_counter() - self.started
            self.started = None
        if self.begun < self.count:
            self.before_each()
            self.begun += 1
            self.started = time.perf_counter()


class Threads:
    """A thread per client; the first failure is raised by join() (and breaks `barrier`, if any)."""

    def __init__(
        self, clients: list[Client], work: Callable[[Client], None], barrier: threading.Barrier | None = None
    ) -> None:
        self.errors: list[BaseException] = []
        self.barrier = barrier
        self.threads = [threading.Thread(target=self._run, args=(work, c), daemon=True) for c in clients]
        for thread in self.threads:
            thread.start()

    def _run(self, work: Callable[[Client], None], client: Client) -> None:
        try:
            work(client)
        except BaseException as e:  # noqa: BLE001 - handed to the main thread
            self.errors.append(e)
            if self.barrier is not None:
                self.barrier.abort()

    def join(self) -> None:
        for thread in self.threads:
            thread.join()
        real = [e for e in self.errors if not isinstance(e, threading.BrokenBarrierError)]
        if real or self.errors:
            raise (real or self.errors)[0]


def run_all(bench: Bench) -> dict[str, list[Run]]:
    """--repeat runs of ping, LIMIT (then cancelled) and MARKET, after a warm-up of a few pings a client."""
    for client in bench.clients:
        for _ in range(5):
            checked(client.session.get(f"{bench.base_url}/api/v1/ping", timeout=HTTP_TIMEOUT_S))
    results: dict[str, list[Run]] = {"ping": [], "limit": [], "market": []}
    for n in range(bench.options.repeat):
        if n > 0:
            bench.advance_clock()  # a fresh snapshot: the last one's liquidity was taken
        results["ping"].append(bench.ping())
        results["limit"].append(bench.limit())
        bench.cancel_limits()
        results["market"].append(bench.market())
    return results


# ---- the figures ----

LABELS = {
    "ping": ("GET /api/v1/ping", "requests", "req/s"),
    "limit": ("LIMIT resting", "orders", "orders/s"),
    "market": (f"MARKET {LEVELS_WALKED} levels", "orders", "orders/s"),
}


def report(results: dict[str, list[Run]]) -> None:
    best = {name: max(runs, key=lambda run: run.rate) for name, runs in results.items()}
    for name, runs in results.items():
        label, unit, per_s = LABELS[name]
        run = best[name]
        of_runs = (
            f" (best of {len(runs)}; median {statistics.median(r.rate for r in runs):,.0f} {per_s})"
            if len(runs) > 1
            else ""
        )
        print(
            f"{label}: {run.count:,} {unit} in {run.seconds:.2f} s = {run.rate:,.0f} {per_s}{of_runs}; "
            f"latency p50 {run.percentile(0.5) * 1000:.2f} ms, p99 {run.percentile(0.99) * 1000:.2f} ms"
        )
    ping = best["ping"]
    for name, goal in (("limit", LIMIT_GOAL), ("market", MARKET_GOAL)):
        run = best[name]
        rate_ratio = run.rate / ping.rate
        p99_ratio = run.percentile(0.99) / ping.percentile(0.99)
        print(
            f"{LABELS[name][0]} vs ping: throughput x{rate_ratio:.3f} (goal >= {goal}: "
            f"{verdict(rate_ratio >= goal)}, x{rate_ratio / goal:.3f} of it); p99 x{p99_ratio:.2f} "
            f"(goal <= {P99_GOAL}: {verdict(p99_ratio <= P99_GOAL)}, x{p99_ratio / P99_GOAL:.2f} of it)"
        )


def verdict(met: bool) -> str:
    return "met" if met else "missed"


if __name__ == "__main__":
    sys.exit(main())
