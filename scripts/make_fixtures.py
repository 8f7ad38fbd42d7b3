"""Writes the demo market data in fixtures/demo/: made-up but Binance-shaped, the same bytes on every run.

One continuous simulation per symbol, from 2025-01-05T00:00:00Z to 2025-01-06T02:00:00Z:
- the quote (best bid/ask and their sizes) moves every 2 s (GRID_MS): a random walk of the bid in ticks, a
  spread of a few ticks; over the CSV day the walk is lifted, evenly less each move, so that it starts where
  the stream ends (`LoopBack`): a live clock plays the recording looped and meets no jump where it starts
  again (the stream itself is the free walk);
- between two quote moves, trades arrive at random times (Poisson) and fill at the touch: a buyer-taker at
  the ask, a seller-taker at the bid, never more than the size shown;
- 1m klines are built from those trades, exactly as the venue builds them.

Files (in --out, default fixtures/demo):
- <SYMBOL>-1m-2025-01-05.csv: the day before the stream, Binance public-data klines (12 columns, no
  header, ms times); the last bar closes at the stream's first price;
- binance_stream_2025-01-06.jsonl.gz: two hours of the combined stream ({"stream", "data"}): @trade,
  @bookTicker, @depth20@100ms and @kline_1m (an in-progress update every 2 s, the final x:true bar just after
  the minute closes; the 23:59 bar of the CSV day is its first message, so the two files overlap by one
  bar and must agree). A depth20 snapshot comes with every quote move, so the book is never older than
  the default `fill_depth_staleness_ms` (5 s); the levels behind the touch are drawn afresh every
  DEPTH_REDRAW_EVERY moves and in between keep their gaps and sizes, moved with the touch.

bookTicker and partial-depth messages carry no time: a reader takes it from the messages around them. So
every quote move is written as one group: the symbol's kline update (which has E = the move's time), then
its bookTicker, then its depth20. Trades never fall within 5 ms of a quote move,
so whether a reader dates a quote by the message before or after it, every trade lies inside the quote
that was standing at its time.

Determinism: one seeded random.Random per symbol, integer arithmetic (prices in ticks, sizes in steps),
gzip with mtime 0 and no file name. `--check` compares what it would write with the files in --out (the
uncompressed content of .gz files: another zlib may compress the same text to other bytes).

    python scripts/make_fixtures.py [--out fixtures/demo] [--check]
"""

from __future__ import annotations

import argparse
import gzip
import io
import json
import math
import random
import sys
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parent.parent
DEFAULT_OUT = REPO_ROOT / "fixtures" / "demo"

SEED = "hashkey-sim demo 2025-01-06"
STREAM_START_MS = 1_736_121_600_000  # 2025-01-06T00:00:00Z
STREAM_END_MS = STREAM_START_MS + 2 * 3_600_000
HISTORY_START_MS = STREAM_START_MS - 86_400_000  # 2025-01-05T00:00:00Z: the CSV day
STREAM_FILE = "binance_stream_2025-01-06.jsonl.gz"
KLINES_FILE = "{symbol}-1m-2025-01-05.csv"

MINUTE_MS = 60_000
GRID_MS = 2000  # the quote moves and the kline stream pushes (Binance: every 2 s for 1m bars)
DEPTH_REDRAW_EVERY = 3  # the levels behind the touch are drawn afresh every 3rd quote move: every 6 s
DEPTH_LEVELS = 20
QUIET_MS = 6  # no trade within this many ms of a quote move
FINAL_DELAY_MS = 2  # the final bar is pushed this long after its minute closes
PRICE_PLACES = 2  # tick 0.01 for every demo symbol
WIRE_PLACES = 8  # Binance spot writes prices and sizes with 8 decimals
SPREADS = (1, 1, 1, 2, 2, 3, 4, 5)  # in ticks, drawn uniformly
DEPTH_GAPS = (1, 1, 1, 2, 2, 3, 5, 8)  # ticks between neighbouring book levels


@dataclass(frozen=True)
class DepthShape:
    gaps: tuple[int, ...]  # ticks from each level to the next one out
    sizes: tuple[int, ...]  # the size of each level after the touch, in steps


@dataclass(frozen=True)
class LoopBack:
    """What is added to the free walk: all of `ticks` (where the free walk ends) before its first move,
    evenly less with each of the `history_moves` moves of the CSV day, nothing from the stream on."""

    ticks: int
    history_moves: int

    def lift(self, moves: int) -> int:
        return self.ticks * max(self.history_moves - moves, 0) // self.history_moves


@dataclass(frozen=True)
class Market:
    symbol: str
    open_price: int  # ticks: where the free walk starts (the CSV day is lifted to end the loop here)
    qty_places: int  # the size step is 10**-qty_places
    daily_volatility: float  # standard deviation of a day's return
    trades_per_second: float
    trade_median: int  # steps
    touch_median: int  # steps shown at the best bid/ask
    grid_offset_ms: int  # where in each 2 s the quote moves (the symbols do not move together)
    first_trade_id: int
    first_update_id: int


MARKETS = (
    Market("BTCUSDT", 9_700_000, 5, 0.025, 1.5, 200, 60_000, 137, 4_300_000_000, 60_100_000_000),
    Market("ETHUSDT", 360_000, 4, 0.032, 1.0, 500, 150_000, 811, 1_900_000_000, 40_200_000_000),
    Market("SOLUSDT", 21_500, 3, 0.045, 0.5, 2000, 400_000, 1493, 1_000_000_000, 23_300_000_000),
)


# ---- random draws: only Random.random(), so they cannot change with the stdlib's other helpers ----


def normal(rng: random.Random) -> float:
    """A standard normal draw (Box-Muller)."""
    u1 = 1.0 - rng.random()  # (0, 1]
    return math.sqrt(-2.0 * math.log(u1)) * math.cos(2.0 * math.pi * rng.random())


def lognormal_steps(rng: random.Random, median: int, sigma: float) -> int:
    return max(1, round(median * math.exp(sigma * normal(rng))))


def poisson(rng: random.Random, mean: float) -> int:
    """Knuth's method: fine for the small means used here."""
    limit, count, product = math.exp(-mean), 0, rng.random()
    while product > limit:
        count += 1
        product *= rng.random()
    return count


def pick(rng: random.Random, choices: tuple[int, ...]) -> int:
    return choices[int(rng.random() * len(choices))]


# ---- text in Binance's formats ----


def decimal_text(units: int, places: int) -> str:
    """`units` * 10**-places with WIRE_PLACES decimals, as Binance writes them: 97000.01000000."""
    whole, fraction = divmod(units, 10**places)
    return f"{whole}.{fraction:0{places}d}{'0' * (WIRE_PLACES - places)}"


def compact(value: object) -> str:
    return json.dumps(value, separators=(",", ":"))


# ---- the simulation ----


@dataclass
class Quote:
    time: int
    bid: int  # ticks
    ask: int
    bid_qty: int  # steps
    ask_qty: int
    update_id: int


@dataclass
class Fill:
    trade_id: int
    time: int  # T
    event_time: int  # E
    price: int
    qty: int
    buyer_is_maker: bool


@dataclass
class Bar:
    """A 1m kline being built from trades; prices in ticks, volumes in steps, quote volumes in
    ticks*steps (exact: 10**-(PRICE_PLACES + qty_places))."""

    open_time: int
    open: int
    high: int
    low: int
    close: int
    volume: int = 0
    quote_volume: int = 0
    trades: int = 0
    taker_buy_volume: int = 0
    taker_buy_quote: int = 0
    first_id: int = -1
    last_id: int = -1

    @property
    def close_time(self) -> int:
        return self.open_time + MINUTE_MS - 1

    def add(self, fill: Fill) -> None:
        if self.trades == 0:
            self.open = self.high = self.low = fill.price
            self.first_id = fill.trade_id
        self.high, self.low, self.close = max(self.high, fill.price), min(self.low, fill.price), fill.price
        self.volume += fill.qty
        self.quote_volume += fill.qty * fill.price
        if not fill.buyer_is_maker:
            self.taker_buy_volume += fill.qty
            self.taker_buy_quote += fill.qty * fill.price
        self.trades += 1
        self.last_id = fill.trade_id

    def next_bar(self) -> Bar:
        """The following minute, before any trade: flat at this bar's close, as the venue shows it."""
        return Bar(self.open_time + MINUTE_MS, self.close, self.close, self.close, self.close)


@dataclass
class Output:
    """What one symbol contributes: CSV rows of the history day and (time, order, text) stream units."""

    csv_rows: list[str] = field(default_factory=list)
    units: list[tuple[int, int, str]] = field(default_factory=list)


class SymbolSimulation:
    def __init__(self, market: Market, loop_back: LoopBack | None = None):
        self.market = market
        self.loop_back = loop_back
        self.rng = random.Random(f"{SEED} {market.symbol}")
        self.stream = market.symbol.lower()
        self.next_trade_id = market.first_trade_id
        self.update_id = market.first_update_id
        self.walk = 0  # ticks the free walk has moved from the open price
        self.moves = self.history_moves = 0
        self.bid = market.open_price + self.lift()
        self.bar = Bar(HISTORY_START_MS, self.bid, self.bid, self.bid, self.bid)
        self.output = Output()
        self.quotes_in_stream = 0
        self.last_quote_text: str | None = None
        self.depth_shape: tuple[DepthShape, DepthShape] | None = None  # (bids, asks) behind the touch

    def run(self) -> Output:
        step = self.market.daily_volatility * math.sqrt(GRID_MS / 86_400_000) * self.market.open_price
        grid = HISTORY_START_MS - GRID_MS + self.market.grid_offset_ms
        while grid < STREAM_END_MS:
            quote = self.move_quote(grid, step)
            if grid >= HISTORY_START_MS:
                self.roll_to(grid)
                if grid >= STREAM_START_MS:
                    self.emit_quote(quote)
            for fill in self.fills(quote):
                self.roll_to(fill.time)
                self.bar.add(fill)
                if fill.time > STREAM_START_MS + self.market.grid_offset_ms:  # after the first quote
                    self.emit_trade(fill)
            grid += GRID_MS
        self.roll_to(STREAM_END_MS)
        return self.output

    def lift(self) -> int:
        return 0 if self.loop_back is None else self.loop_back.lift(self.moves)

    def move_quote(self, time: int, step: float) -> Quote:
        self.walk += round(step * normal(self.rng))
        self.moves += 1
        self.history_moves += time < STREAM_START_MS
        self.bid = self.market.open_price + self.walk + self.lift()
        self.update_id += 1 + int(self.rng.random() * 80)
        return Quote(
            time,
            self.bid,
            self.bid + pick(self.rng, SPREADS),
            lognormal_steps(self.rng, self.market.touch_median, 1.0),
            lognormal_steps(self.rng, self.market.touch_median, 1.0),
            self.update_id,
        )

    def fills(self, quote: Quote) -> Iterator[Fill]:
        """Trades at the touch between this quote and the next, oldest first; they eat the size shown."""
        market, rng = self.market, self.rng
        count = poisson(rng, market.trades_per_second * GRID_MS / 1000)
        span = GRID_MS - 2 * QUIET_MS
        times = sorted(quote.time + QUIET_MS + int(rng.random() * span) for _ in range(count))
        for time in times:
            buyer_is_maker = rng.random() < 0.5  # a seller took the bid
            shown = quote.bid_qty if buyer_is_maker else quote.ask_qty
            qty = min(lognormal_steps(rng, market.trade_median, 1.2), shown - 1)
            event_time = time + int(rng.random() * 3)
            if qty < 1 or time < HISTORY_START_MS or time >= STREAM_END_MS:
                continue
            if buyer_is_maker:
                quote.bid_qty -= qty
            else:
                quote.ask_qty -= qty
            price = quote.bid if buyer_is_maker else quote.ask
            yield Fill(self.next_trade_id, time, event_time, price, qty, buyer_is_maker)
            self.next_trade_id += 1

    def roll_to(self, time: int) -> None:
        """Close every bar that ended before `time`."""
        while self.bar.close_time < time:
            self.close_bar(self.bar)
            self.bar = self.bar.next_bar()

    def close_bar(self, bar: Bar) -> None:
        if bar.open_time < STREAM_START_MS:
            self.output.csv_rows.append(self.csv_row(bar))
        pushed = bar.close_time + 1 + FINAL_DELAY_MS
        if STREAM_START_MS <= pushed:
            self.add_unit(pushed, self.kline_message(bar, pushed, final=True))

    # ---- messages ----

    def emit_quote(self, quote: Quote) -> None:
        """The kline update that dates the group, the bookTicker if the touch changed, then depth20."""
        lines = [self.kline_message(self.bar, quote.time, final=False)]
        ticker = self.book_ticker_message(quote)
        if ticker != self.last_quote_text:
            lines.append(ticker)
            self.last_quote_text = ticker
        if self.depth_shape is None or self.quotes_in_stream % DEPTH_REDRAW_EVERY == 0:
            self.depth_shape = (self.draw_depth_shape(), self.draw_depth_shape())
        lines.append(self.depth_message(quote, *self.depth_shape))
        self.quotes_in_stream += 1
        self.add_unit(quote.time, "\n".join(lines))

    def emit_trade(self, fill: Fill) -> None:
        data = {
            "e": "trade",
            "E": fill.event_time,
            "s": self.market.symbol,
            "t": fill.trade_id,
            "p": decimal_text(fill.price, PRICE_PLACES),
            "q": decimal_text(fill.qty, self.market.qty_places),
            "T": fill.time,
            "m": fill.buyer_is_maker,
            "M": True,
        }
        self.add_unit(fill.event_time, compact({"stream": f"{self.stream}@trade", "data": data}))

    def kline_message(self, bar: Bar, event_time: int, final: bool) -> str:
        places, quote_places = self.market.qty_places, PRICE_PLACES + self.market.qty_places
        kline = {
            "t": bar.open_time,
            "T": bar.close_time,
            "s": self.market.symbol,
            "i": "1m",
            "f": bar.first_id,
            "L": bar.last_id,
            "o": decimal_text(bar.open, PRICE_PLACES),
            "c": decimal_text(bar.close, PRICE_PLACES),
            "h": decimal_text(bar.high, PRICE_PLACES),
            "l": decimal_text(bar.low, PRICE_PLACES),
            "v": decimal_text(bar.volume, places),
            "n": bar.trades,
            "x": final,
            "q": decimal_text(bar.quote_volume, quote_places),
            "V": decimal_text(bar.taker_buy_volume, places),
            "Q": decimal_text(bar.taker_buy_quote, quote_places),
            "B": "0",
        }
        data = {"e": "kline", "E": event_time, "s": self.market.symbol, "k": kline}
        return compact({"stream": f"{self.stream}@kline_1m", "data": data})

    def book_ticker_message(self, quote: Quote) -> str:
        places = self.market.qty_places
        data = {
            "u": quote.update_id,
            "s": self.market.symbol,
            "b": decimal_text(quote.bid, PRICE_PLACES),
            "B": decimal_text(quote.bid_qty, places),
            "a": decimal_text(quote.ask, PRICE_PLACES),
            "A": decimal_text(quote.ask_qty, places),
        }
        return compact({"stream": f"{self.stream}@bookTicker", "data": data})

    def depth_message(self, quote: Quote, bids: DepthShape, asks: DepthShape) -> str:
        data = {
            "lastUpdateId": quote.update_id,
            "bids": self.book_side(quote.bid, quote.bid_qty, -1, bids),
            "asks": self.book_side(quote.ask, quote.ask_qty, 1, asks),
        }
        return compact({"stream": f"{self.stream}@depth20@100ms", "data": data})

    def draw_depth_shape(self) -> DepthShape:
        """One side's levels behind the touch: the gap to each next level, and its size (deeper levels hold
        more)."""
        gaps, sizes = [], []
        for level in range(DEPTH_LEVELS):
            gaps.append(pick(self.rng, DEPTH_GAPS))
            sizes.append(lognormal_steps(self.rng, self.market.touch_median * (2 + level) // 2, 1.0))
        return DepthShape(tuple(gaps), tuple(sizes))

    def book_side(self, best: int, best_qty: int, direction: int, shape: DepthShape) -> list[list[str]]:
        """DEPTH_LEVELS levels from the touch outwards, laid out as `shape` says."""
        places, levels, price, qty = self.market.qty_places, [], best, best_qty
        for gap, size in zip(shape.gaps, shape.sizes, strict=True):  # the last gap and size go unused
            levels.append([decimal_text(price, PRICE_PLACES), decimal_text(qty, places)])
            price, qty = price + direction * gap, size
        return levels

    def csv_row(self, bar: Bar) -> str:
        places, quote_places = self.market.qty_places, PRICE_PLACES + self.market.qty_places
        return ",".join(
            (
                str(bar.open_time),
                decimal_text(bar.open, PRICE_PLACES),
                decimal_text(bar.high, PRICE_PLACES),
                decimal_text(bar.low, PRICE_PLACES),
                decimal_text(bar.close, PRICE_PLACES),
                decimal_text(bar.volume, places),
                str(bar.close_time),
                decimal_text(bar.quote_volume, quote_places),
                str(bar.trades),
                decimal_text(bar.taker_buy_volume, places),
                decimal_text(bar.taker_buy_quote, quote_places),
                "0",
            )
        )

    def add_unit(self, time: int, text: str) -> None:
        self.output.units.append((time, len(self.output.units), text))


# ---- files ----


def looped_simulation(market: Market) -> SymbolSimulation:
    """The market's simulation with its CSV day lifted to start where the stream ends. The random draws
    never depend on prices, so a first run gives the free walk's end, and a second one, drawing the same
    numbers, the files."""
    free = SymbolSimulation(market)
    free.run()
    return SymbolSimulation(market, LoopBack(free.walk, free.history_moves))


def build_files() -> dict[str, bytes]:
    """File name -> exact bytes of every demo file."""
    files: dict[str, bytes] = {}
    units: list[tuple[int, int, int, str]] = []
    for index, market in enumerate(MARKETS):
        output = looped_simulation(market).run()
        files[KLINES_FILE.format(symbol=market.symbol)] = "".join(
            f"{row}\n" for row in output.csv_rows
        ).encode()
        units.extend((time, index, order, text) for time, order, text in output.units)
    units.sort()  # by time, then symbol, then the order each symbol produced them: groups stay whole
    files[STREAM_FILE] = gzip_bytes("".join(f"{text}\n" for *_, text in units).encode())
    return dict(sorted(files.items()))


def gzip_bytes(data: bytes) -> bytes:
    buffer = io.BytesIO()
    with gzip.GzipFile(filename="", mode="wb", fileobj=buffer, mtime=0, compresslevel=9) as archive:
        archive.write(data)
    return buffer.getvalue()


def write_files(out: Path) -> dict[str, bytes]:
    out.mkdir(parents=True, exist_ok=True)
    files = build_files()
    for name, data in files.items():
        (out / name).write_bytes(data)
    return files


def differing_files(out: Path) -> list[str]:
    """The demo files that are missing from `out` or hold something else than build_files() would write."""
    return [name for name, data in build_files().items() if content(out / name) != content_of(name, data)]


def content(path: Path) -> bytes | None:
    if not path.is_file():
        return None
    data = path.read_bytes()
    return content_of(path.name, data)


def content_of(name: str, data: bytes) -> bytes | None:
    if not name.endswith(".gz"):
        return data
    try:
        return gzip.decompress(data)
    except (OSError, EOFError):
        return None


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--out", type=Path, default=DEFAULT_OUT, help="folder to write (default fixtures/demo)"
    )
    parser.add_argument("--check", action="store_true", help="exit 1 if the files in --out differ")
    options = parser.parse_args(argv)
    if options.check:
        differing = differing_files(options.out)
        for name in differing:
            print(f"{options.out / name}: differs from what make_fixtures.py writes", file=sys.stderr)
        if differing:
            print("run: python scripts/make_fixtures.py", file=sys.stderr)
            return 1
        print(f"{options.out}: demo files up to date")
        return 0
    for name, data in write_files(options.out).items():
        print(f"{options.out / name}: {len(data):,} bytes")
    return 0


if __name__ == "__main__":
    sys.exit(main())
