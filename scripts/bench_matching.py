"""Matching speed: recorded market events replayed against resting orders, and a MARKET order's walk.

1. A deterministic tape of --events BTCUSDT events 100 ms apart: the price is a random walk around 60000
   (0.01 ticks, pulled back towards 60000), every 10th event a depth snapshot with 20 levels a side around
   it, trades at the touch in between, and every 600th event the 1m bar of the minute just ended.
2. Books of 100, 1,000 and 10,000 resting LIMIT orders spread over 0.05% to 2% either side of the price
   (BUYs below, SELLs above, each with the queue the first snapshot shows at its price) replayed through the
   tape with RestingBook: events/s against a goal of 300 k at 1,000, and how the figure changes from 100
   orders to 10,000 (the cost of an event must not grow in proportion to the orders resting). For
   comparison, the module's functions given all 1,000 orders on the first events of the same tape.
3. A MARKET BUY walking 20 recorded ask levels through taking.take: mean and p99 over --runs takes, with no
   simulated orders resting and with the 1,000-order book's orders passed in.

    python scripts/bench_matching.py [--events 200000] [--runs 5000] [--repeat 3] [--quick] [--profile]
"""

from __future__ import annotations

import argparse
import cProfile
import io
import pstats
import random
import statistics
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from decimal import Decimal
from functools import partial
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO_ROOT))

from bench_machine import machine_note  # noqa: E402  (scripts/ is on the path: this script's folder)

from simulator.domain.matching import resting  # noqa: E402
from simulator.domain.matching.liquidity import Level, RecordedBook, Source  # noqa: E402
from simulator.domain.matching.model import FillModel  # noqa: E402
from simulator.domain.matching.orders import (  # noqa: E402
    Order,
    OrderStatus,
    OrderType,
    Side,
    TimeInForce,
)
from simulator.domain.matching.resting import MakerFill, RestingBook, queue_on_rest  # noqa: E402
from simulator.domain.matching.taking import TakeLimits, take  # noqa: E402
from simulator.marketdata.records import Depth, Kline, Trade  # noqa: E402

EVENTS_GOAL_S = 300_000
BOOK_SIZES = (100, 1_000, 10_000)
GOAL_BOOK_SIZE = 1_000
SYMBOL = "BTCUSDT"
START_MS = 1_723_161_600_000  # 2024-08-09T00:00:00Z
EVENT_GAP_MS = 100
DEPTH_EVERY = 10
BAR_EVERY = 600  # events: one minute at 100 ms apart
LEVELS = 20
START_CENTS = 6_000_000
NEAREST, FARTHEST = Decimal("0.0005"), Decimal("0.02")  # resting orders' distance from the price
MODULE_EVENTS = 1_000  # the module's functions replay only the start: they look at every order every time
MODEL = FillModel()
STEP = Decimal("0.00001")  # BTCUSDT's quantity step
TICK = Decimal("0.01")  # BTCUSDT's price tick
QUICK = {"events": 5_000, "runs": 200, "repeat": 1}

MACHINE_CAVEAT = "other processes slow the wall-clock figures; the best of --repeat replays is reported"

Event = Trade | Depth | Kline


def main(argv: list[str] | None = None) -> int:
    options = parse_options(argv)
    print(machine_note(MACHINE_CAVEAT))
    started = time.perf_counter()
    tape = make_tape(options.events, random.Random(11))
    print(
        f"tape: {len(tape):,} events ({count(tape, Depth):,} depth snapshots of {LEVELS} levels a side, "
        f"{count(tape, Trade):,} trades, {count(tape, Kline):,} 1m bars), "
        f"built in {time.perf_counter() - started:.1f} s"
    )
    rates = {size: bench_book(tape, size, options) for size in BOOK_SIZES}
    growth = rates[BOOK_SIZES[-1]] / rates[BOOK_SIZES[0]]
    print(
        f"resting {BOOK_SIZES[-1]:,} vs {BOOK_SIZES[0]:,}: x{growth:.2f} the events/s with "
        f"{BOOK_SIZES[-1] // BOOK_SIZES[0]}x the orders (x1.00: cost does not depend on the orders resting; "
        f"x{BOOK_SIZES[0] / BOOK_SIZES[-1]:.2f}: cost in proportion to them)"
    )
    bench_module_functions(tape[: min(MODULE_EVENTS, max(1, len(tape) // 20))], GOAL_BOOK_SIZE)
    bench_market_walk(tape, options.runs)
    return 0


def parse_options(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=200_000, help="market events on the tape")
    parser.add_argument("--runs", type=int, default=5_000, help="timed MARKET takes")
    parser.add_argument(
        "--repeat", type=int, default=3, help="replay the tape this many times per book; the best is reported"
    )
    parser.add_argument("--quick", action="store_true", help="small sizes: a smoke run of a few seconds")
    parser.add_argument(
        "--profile", action="store_true", help="cProfile the 1,000-order replay; print the top"
    )
    options = parser.parse_args(argv)
    if options.quick:
        for name, value in QUICK.items():
            setattr(options, name, min(getattr(options, name), value))
    return options


# ---- the tape ----


class Prices:
    """Decimal prices and sizes from integer cents and satoshis, each made once."""

    def __init__(self) -> None:
        self._cents: dict[int, Decimal] = {}

    def cents(self, cents: int) -> Decimal:
        price = self._cents.get(cents)
        if price is None:
            price = self._cents[cents] = Decimal(cents).scaleb(-2)
        return price

    @staticmethod
    def sats(sats: int) -> Decimal:
        return Decimal(sats).scaleb(-8)


@dataclass
class Minute:
    """The bar being built from the trades of the current minute."""

    open_time: int
    open: int
    high: int
    low: int
    close: int
    volume: int = 0

    def add(self, cents: int, sats: int) -> None:
        self.high, self.low, self.close = max(self.high, cents), min(self.low, cents), cents
        self.volume += sats

    def kline(self, prices: Prices) -> Kline:
        return Kline(
            SYMBOL,
            "1m",
            self.open_time,
            self.open_time + 59_999,
            prices.cents(self.open),
            prices.cents(self.high),
            prices.cents(self.low),
            prices.cents(self.close),
            Prices.sats(self.volume),
        )


def make_tape(events: int, rng: random.Random) -> list[Event]:
    prices = Prices()
    tape: list[Event] = []
    cents = START_CENTS
    minute = Minute(START_MS, cents, cents, cents, cents)
    for n in range(events):
        now = START_MS + n * EVENT_GAP_MS
        cents = walk(cents, rng)
        if n % BAR_EVERY == BAR_EVERY - 1:
            tape.append(minute.kline(prices))  # the minute that just ended: known only now
            minute = Minute(now + EVENT_GAP_MS, cents, cents, cents, cents)
        elif n % DEPTH_EVERY == 0:
            tape.append(snapshot(now, cents, rng, prices))
        else:
            sats = rng.randint(10_000, 50_000_000)
            at = cents if rng.random() < 0.5 else cents + 1  # the bid or the ask
            tape.append(Trade(SYMBOL, now, prices.cents(at), Prices.sats(sats), None, str(n)))
            minute.add(at, sats)
    return tape


def walk(cents: int, rng: random.Random) -> int:
    """About a dollar a step, pulled gently back towards 60000."""
    return cents + rng.randint(-160, 160) + (START_CENTS - cents) // 2_000


def snapshot(now: int, bid_cents: int, rng: random.Random, prices: Prices) -> Depth:
    bids, asks = [], []
    bid, ask = bid_cents, bid_cents + 1
    for _ in range(LEVELS):
        bids.append((prices.cents(bid), Prices.sats(rng.randint(1_000, 200_000_000))))
        asks.append((prices.cents(ask), Prices.sats(rng.randint(1_000, 200_000_000))))
        bid -= rng.randint(1, 5)
        ask += rng.randint(1, 5)
    return Depth(SYMBOL, now, tuple(bids), tuple(asks))


def count(tape: list[Event], kind: type) -> int:
    return sum(1 for event in tape if type(event) is kind)


# ---- resting orders ----


def resting_orders(size: int, first: Depth, seed: int) -> list[Order]:
    """`size` GTC LIMIT orders, half each side, at random cents 0.05% to 2% from the first snapshot's
    touch, with the queue that snapshot shows at their prices."""
    rng = random.Random(seed)
    prices = Prices()
    book = RecordedBook(
        Source.DEPTH,
        first.time,
        tuple(Level(p, q) for p, q in first.bids),
        tuple(Level(p, q) for p, q in first.asks),
    )
    bid, ask = first.bids[0][0], first.asks[0][0]
    orders = []
    for n in range(size):
        side = Side.BUY if n % 2 == 0 else Side.SELL
        distance = NEAREST + (FARTHEST - NEAREST) * Decimal(rng.randint(0, 10_000)) / 10_000
        price = bid * (1 - distance) if side is Side.BUY else ask * (1 + distance)
        order = Order(
            order_id=f"r{n}",
            account_id="bench",
            symbol=SYMBOL,
            side=side,
            type=OrderType.LIMIT,
            time_in_force=TimeInForce.GTC,
            price=prices.cents(int(price * 100)),
            quantity=Prices.sats(rng.randint(100_000, 50_000_000)),
            created_ms=START_MS - 1_000,
            sequence=n + 1,
            status=OrderStatus.NEW,
        )
        order.queue_ahead = queue_on_rest(order, book, MODEL)
        orders.append(order)
    return orders


def first_snapshot(tape: list[Event]) -> Depth:
    return next(event for event in tape if isinstance(event, Depth))


# ---- 2. replays ----


@dataclass
class Replay:
    seconds: float
    fills: int
    left: int  # orders still resting at the end


def bench_book(tape: list[Event], size: int, options: argparse.Namespace) -> float:
    profile = options.profile and size == GOAL_BOOK_SIZE
    runs = [replay_book(tape, size, profile and n == 0) for n in range(max(1, options.repeat))]
    best = min(runs, key=lambda run: run.seconds)
    rate = len(tape) / best.seconds
    of_runs = (
        f" (best of {len(runs)}; median {statistics.median(run.seconds for run in runs):.2f} s)"
        if len(runs) > 1
        else ""
    )
    print(
        f"resting {size:,}: {len(tape):,} events in {best.seconds:.2f} s{of_runs} = {rate:,.0f} events/s "
        f"(goal {EVENTS_GOAL_S:,}: x{rate / EVENTS_GOAL_S:.2f}); {best.seconds / len(tape) * 1e6:.2f} us "
        f"an event; {best.fills:,} fills, {best.left:,} of {size:,} orders left resting"
    )
    return rate


def replay_book(tape: list[Event], size: int, profile: bool) -> Replay:
    book = RestingBook(resting_orders(size, first_snapshot(tape), seed=size))
    handlers: dict[type, Callable[[Event, FillModel], list[MakerFill]]] = {
        Trade: partial(book.on_trade, step=STEP),
        Depth: partial(book.on_depth, step=STEP, tick=TICK),
        Kline: partial(book.on_bar, step=STEP),
    }
    profiler = cProfile.Profile() if profile else None
    fills = 0
    if profiler:
        profiler.enable()
    started = time.perf_counter()
    for event in tape:
        fills += len(handlers[type(event)](event, MODEL))
    seconds = time.perf_counter() - started
    if profiler:
        profiler.disable()
        print_profile(profiler, f"the {size:,}-order replay")
    return Replay(seconds, fills, len(book))


def bench_module_functions(tape: list[Event], size: int) -> None:
    """The same replay through on_trade / on_depth / on_bar given every order on every event."""
    orders = resting_orders(size, first_snapshot(tape), seed=size)
    handlers: dict[type, Callable[[Sequence[Order], Event, FillModel], list[MakerFill]]] = {
        Trade: partial(resting.on_trade, step=STEP),
        Depth: partial(resting.on_depth, step=STEP, tick=TICK),
        Kline: partial(resting.on_bar, step=STEP),
    }
    started = time.perf_counter()
    for event in tape:
        handlers[type(event)](orders, event, MODEL)
    seconds = time.perf_counter() - started
    rate = len(tape) / seconds
    print(
        f"  for comparison, the module's functions given all {size:,} orders: {len(tape):,} events in "
        f"{seconds:.2f} s = {rate:,.0f} events/s (x{rate / EVENTS_GOAL_S:.2f} of the goal)"
    )


# ---- 3. a MARKET order walking 20 levels ----


def bench_market_walk(tape: list[Event], runs: int) -> None:
    depth = first_snapshot(tape)
    book = RecordedBook(
        Source.DEPTH,
        depth.time,
        tuple(Level(p, q) for p, q in depth.bids),
        tuple(Level(p, q) for p, q in depth.asks),
    )
    assert book.mid is not None
    limits = TakeLimits(book.mid, Decimal("0.05"), Decimal("0.05"), STEP)
    # everything on 19 levels and half the 20th: the walk meets all 20 and ends filled
    quantity = sum((level.qty for level in book.asks[: LEVELS - 1]), Decimal(0)) + book.asks[-1].qty / 2
    resting_book = RestingBook(resting_orders(GOAL_BOOK_SIZE, depth, seed=GOAL_BOOK_SIZE))
    for label, makers in (
        ("no simulated orders resting", []),
        (f"{GOAL_BOOK_SIZE:,} simulated orders resting", resting_book.orders),
    ):
        spent = [time_market_take(book, makers, limits, quantity, depth.time + 1) for _ in range(runs)]
        spent.sort()
        p99 = spent[min(len(spent) - 1, int(len(spent) * 0.99))]
        print(
            f"MARKET walking {LEVELS} levels, {label}: mean {statistics.fmean(spent):,.1f} us, "
            f"p99 {p99:,.1f} us over {runs:,} takes"
        )


def time_market_take(
    book: RecordedBook, makers: list[Order], limits: TakeLimits, quantity: Decimal, at_ms: int
) -> float:
    """Microseconds of one take of a fresh MARKET BUY (built outside the timing)."""
    order = Order(
        order_id="taker",
        account_id="taker",
        symbol=SYMBOL,
        side=Side.BUY,
        type=OrderType.MARKET,
        time_in_force=TimeInForce.IOC,
        price=None,
        quantity=quantity,
        created_ms=at_ms,
    )
    started = time.perf_counter_ns()
    result = take(order, book, makers, limits, at_ms)
    spent = (time.perf_counter_ns() - started) / 1000
    if len(result.fills) != LEVELS or order.status is not OrderStatus.FILLED:
        raise RuntimeError(f"the MARKET order should fill on {LEVELS} levels: {result}")
    return spent


def print_profile(profiler: cProfile.Profile, what: str) -> None:
    out = io.StringIO()
    pstats.Stats(profiler, stream=out).sort_stats("tottime").print_stats(18)
    print(f"--- profile of {what} (by own time; profiling slows it down) ---")
    print("\n".join(line for line in out.getvalue().splitlines() if line.strip())[:6000])


if __name__ == "__main__":
    sys.exit(main())
