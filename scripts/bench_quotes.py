"""Public market data over a long history: klines of every rolled-up interval and every symbol's 24-hour
ticker, the first request and once their closed bars are kept, next to a stored series read as stored.

1. A store of --days of 1m bars for --symbols listed symbols (a random walk each, written straight into
   md_klines: the point is reading them), in a temp SQLite database.
2. Apps on it (in-process, Flask's test client), replay clock at speed 0 two hours and 17 minutes before
   the last bar closes, so that every longer interval has one still forming; a new app (which has kept
   nothing) for each figure below.
3. Baseline: GET /quote/v1/klines of the stored 1m series, limit 1000 (1,000 stored bars read as stored).
   Then for each rolled-up interval (5m, 1h, 4h, 1d, 1w, 1M), limit 1000: the first request (it reads every
   stored bar it covers) and the median of --repeat more (the closed bars kept: only the interval still
   forming is read), with their ratios to the baseline. Then GET /quote/v1/ticker/24hr for every symbol,
   first and kept. Times are of the whole request, in milliseconds.
4. A symbol recorded as trades alone (no bars): a second store of one day of BTCUSDT trades,
   --trades-per-second of them, the market 2h17m before their end. Klines 1m, 1h and 1d (limit 1000) and
   the symbol's 24-hour ticker, first (every trade of the stretch read and made into minutes) and kept (the
   trades of the minute still forming), with their ratios to the same baseline.

    python scripts/bench_quotes.py [--days 90] [--symbols 8] [--repeat 5] [--trades-per-second 10] [--quick]
"""

from __future__ import annotations

import argparse
import random
import sqlite3
import statistics
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from decimal import Decimal
from pathlib import Path

from flask import Flask
from flask.testing import FlaskClient

REPO_ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO_ROOT))

from bench_machine import machine_note  # noqa: E402  (scripts/ is on the path: this script's folder)

from simulator import create_app  # noqa: E402
from simulator.settings import Settings  # noqa: E402
from simulator.storage.db import open_database  # noqa: E402

SYMBOLS = ("BTCUSDT", "ETHUSDT", "XRPUSDT", "SOLUSDT", "ADAUSDT", "ETHBTC", "BTCUSD", "ETHUSD")
ROLLED_UP = ("5m", "1h", "4h", "1d", "1w", "1M")
MINUTE_MS = 60_000
DAY_MS = 24 * 60 * MINUTE_MS
START_MS = 1_727_740_800_000  # 2024-10-01 00:00 UTC
BEFORE_THE_END_MS = (2 * 60 + 17) * MINUTE_MS
QUICK = {"days": 3, "symbols": 2, "repeat": 2, "trades_per_second": 1}
OF_TRADES = ("1m", "1h", "1d")


def main(argv: list[str] | None = None) -> int:
    options = parse_options(argv)
    print(machine_note())
    symbols = SYMBOLS[: options.symbols]
    apps: list[Flask] = []
    with tempfile.TemporaryDirectory(prefix="bench_quotes_") as folder:
        path = Path(folder) / "quotes.db"
        bars = write_store(path, symbols, options.days)
        print(
            f"store: {bars:,} 1m bars, {options.days} days of {len(symbols)} symbols; "
            "market 2h17m before their end"
        )
        trades_path = Path(folder) / "trades.db"
        try:
            new_client = clients(path, START_MS + options.days * DAY_MS - BEFORE_THE_END_MS, apps)
            baseline_ms = run(new_client, options.repeat)
            trades = write_trades(trades_path, options.trades_per_second)
            print(f"store of trades alone: {trades:,} BTCUSDT trades, one day; market 2h17m before their end")
            new_client = clients(trades_path, START_MS + DAY_MS - BEFORE_THE_END_MS, apps)
            run_of_trades(new_client, options.repeat, baseline_ms)
        finally:
            for app in apps:
                app.extensions["hashkey_sim"].database.dispose()
    return 0


def clients(path: Path, now_ms: int, apps: list[Flask]) -> Callable[[], FlaskClient]:
    """Makes a client of a new app (which has kept nothing) on the store at `path`, replaying at `now_ms`."""
    settings = Settings(
        db=f"sqlite:///{path}",
        demo_data=False,
        rate_limits=False,
        clock_mode="replay",
        clock_start=now_ms,
        clock_speed=Decimal(0),
    )

    def new_client() -> FlaskClient:
        apps.append(create_app(settings))
        return apps[-1].test_client()

    return new_client


def parse_options(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--days", type=int, default=90, help="days of 1m bars per symbol")
    parser.add_argument("--symbols", type=int, default=8, help=f"symbols (at most {len(SYMBOLS)})")
    parser.add_argument("--repeat", type=int, default=5, help="requests timed once the bars are kept")
    parser.add_argument(
        "--trades-per-second", type=int, default=10, help="trades of the symbol recorded without bars"
    )
    parser.add_argument("--quick", action="store_true", help="small sizes: a smoke run of a few seconds")
    options = parser.parse_args(argv)
    if options.quick:
        for name, value in QUICK.items():
            setattr(options, name, min(getattr(options, name), value))
    options.days = max(1, options.days)
    options.symbols = min(max(1, options.symbols), len(SYMBOLS))
    options.repeat = max(1, options.repeat)
    options.trades_per_second = max(1, options.trades_per_second)
    return options


def write_store(path: Path, symbols: tuple[str, ...], days: int) -> int:
    """The schema through the product's own opening, then the bars straight in; their count."""
    connection = new_store(path)
    count = 0
    for symbol in symbols:
        rows = list(minute_bars(symbol, days, random.Random(symbol)))
        connection.executemany(
            "INSERT INTO md_klines (symbol, interval, open_time, close_time, open, high, low, close, volume, "
            "quote_volume, trade_count, taker_buy_base, taker_buy_quote, is_final, source_id) "
            "VALUES (?, '1m', ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 1, 1)",
            rows,
        )
        count += len(rows)
    connection.execute("COMMIT")
    connection.close()
    return count


def new_store(path: Path) -> sqlite3.Connection:
    """The schema through the product's own opening; a connection to it in a transaction, with a source."""
    open_database(f"sqlite:///{path}").dispose()
    connection = sqlite3.connect(path, isolation_level=None)
    connection.execute("BEGIN")
    connection.execute("INSERT INTO md_sources (id, venue, name) VALUES (1, 'binance', 'bench')")
    return connection


def write_trades(path: Path, per_second: int) -> int:
    """A day of BTCUSDT trades straight into a new store, `per_second` a second (a random walk in cents
    around 600.00, each buyer or seller the taker at random); their count."""
    connection = new_store(path)
    rng = random.Random("trades")
    price, count = 60_000, DAY_MS // 1000 * per_second
    rows = []
    for number in range(count):
        price = max(100, price + rng.randint(-5, 5))
        at = START_MS + number * 1000 // per_second
        rows.append((at, str(number), cents(price), f"0.{rng.randint(1, 99_999):05d}", rng.randint(0, 1)))
    connection.executemany(
        "INSERT INTO md_trades (symbol, time, venue, trade_id, price, qty, buyer_is_maker, source_id) "
        "VALUES ('BTCUSDT', ?, 'binance', ?, ?, ?, ?, 1)",
        rows,
    )
    connection.execute("COMMIT")
    connection.close()
    return count


def minute_bars(symbol: str, days: int, rng: random.Random) -> Iterator[tuple[object, ...]]:
    """A random walk in cents around 600.00, one bar a minute."""
    price = 60_000
    for minute in range(days * 24 * 60):
        opened = START_MS + minute * MINUTE_MS
        close = max(100, price + rng.randint(-50, 50))
        high, low = max(price, close) + rng.randint(0, 20), min(price, close) - rng.randint(0, 20)
        volume = rng.randint(1, 10_000)
        yield (
            symbol,
            opened,
            opened + MINUTE_MS - 1,
            *(cents(p) for p in (price, high, low, close)),
            f"{volume / 100:.2f}",
            cents(volume * close // 100),
            rng.randint(1, 500),
            f"{volume / 200:.2f}",
            cents(volume * close // 200),
        )
        price = close


def cents(units: int) -> str:
    return f"{units // 100}.{units % 100:02d}"


def run(new_client: Callable[[], FlaskClient], repeat: int) -> float:
    """Prints the figures of the store of bars; returns the baseline's time."""
    stored = {"symbol": "BTCUSDT", "interval": "1m", "limit": 1000}
    first_ms, kept_ms, count = first_and_kept(new_client(), "/quote/v1/klines", stored, repeat)
    print(
        f"baseline: klines 1m (stored), limit 1000: {kept_ms:.1f} ms ({count} bars; first {first_ms:.1f} ms)"
    )
    for interval in ROLLED_UP:
        query = {"symbol": "BTCUSDT", "interval": interval, "limit": 1000}
        report(f"klines {interval}, limit 1000", new_client(), "/quote/v1/klines", query, repeat, kept_ms)
    report("ticker/24hr, every symbol", new_client(), "/quote/v1/ticker/24hr", {}, repeat, kept_ms)
    return kept_ms


def run_of_trades(new_client: Callable[[], FlaskClient], repeat: int, baseline_ms: float) -> None:
    for interval in OF_TRADES:
        query = {"symbol": "BTCUSDT", "interval": interval, "limit": 1000}
        name = f"trades alone: klines {interval}, limit 1000"
        report(name, new_client(), "/quote/v1/klines", query, repeat, baseline_ms)
    query = {"symbol": "BTCUSDT"}
    report("trades alone: ticker/24hr", new_client(), "/quote/v1/ticker/24hr", query, repeat, baseline_ms)


def report(
    name: str, client: FlaskClient, path: str, query: dict[str, object], repeat: int, baseline_ms: float
) -> None:
    first_ms, kept_ms, count = first_and_kept(client, path, query, repeat)
    print(
        f"{name}: first {first_ms:.1f} ms (x{first_ms / baseline_ms:.1f} of the baseline), "
        f"kept {kept_ms:.1f} ms (x{kept_ms / baseline_ms:.2f}); {count} entries"
    )


def first_and_kept(
    client: FlaskClient, path: str, query: dict[str, object], repeat: int
) -> tuple[float, float, int]:
    """The first request's time, the median of `repeat` more, and the entries answered."""
    first_ms, count = timed(client, path, **query)
    kept_ms = statistics.median(timed(client, path, **query)[0] for _ in range(repeat))
    return first_ms, kept_ms, count


def timed(client: FlaskClient, path: str, **query: object) -> tuple[float, int]:
    started = time.perf_counter()
    response = client.get(path, query_string=query)
    elapsed_ms = (time.perf_counter() - started) * 1000
    if response.status_code != 200:
        raise SystemExit(
            f"bench_quotes: {path} {query} answered {response.status_code}: {response.get_json()}"
        )
    return elapsed_ms, len(response.get_json())


if __name__ == "__main__":
    raise SystemExit(main())
