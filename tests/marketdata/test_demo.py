"""The demo data in fixtures/demo: what import_demo_data puts in the store (symbols, kinds, counts, time
ranges), that the market it describes is coherent (final klines built from the trades, uncrossed books of
20 levels, trades at the touch), and that it is imported once per database."""

from __future__ import annotations

import bisect
import gzip
import itertools
import json
import shutil
from collections import Counter
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from simulator.marketdata import store
from simulator.marketdata.demo import DEMO_IMPORTED_KEY, demo_imported, import_demo_data
from simulator.marketdata.importer import ImportFileError
from simulator.settings import Settings
from simulator.storage.db import Database, open_database
from simulator.storage.tables import MarketBbo, MarketDepth, SimMeta

from .conftest import REPO_ROOT

FIXTURES = REPO_ROOT / "fixtures"
DEMO = FIXTURES / "demo"
STREAM = DEMO / "binance_stream_2025-01-06.jsonl.gz"
SYMBOLS = ("BTCUSDT", "ETHUSDT", "SOLUSDT")
HISTORY_START = 1_736_035_200_000  # 2025-01-05T00:00:00Z, the CSV day
STREAM_START = 1_736_121_600_000  # 2025-01-06T00:00:00Z
STREAM_END = STREAM_START + 2 * 3_600_000
MINUTE = 60_000
QUOTE_OFFSET = {"BTCUSDT": 137, "ETHUSDT": 811, "SOLUSDT": 1493}  # where in each 2 s a quote moves
IMPORTED_AT = 1_700_000_000_123
TICK = Decimal("0.01")


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Any:
    """A store with the demo imported once, and that first import's report."""
    database = open_database(f"sqlite:///{tmp_path_factory.mktemp('demo') / 'demo.db'}")
    report = import_demo_data(database, FIXTURES, now_ms=IMPORTED_AT)
    yield database, report
    database.dispose()


@pytest.fixture(scope="module")
def stream_messages() -> list[dict[str, Any]]:
    with gzip.open(STREAM, "rt", encoding="utf-8") as lines:
        return [json.loads(line, parse_float=Decimal) for line in lines]


def stream_kind(message: dict[str, Any]) -> tuple[str, str]:
    symbol, _, kind = message["stream"].partition("@")
    return symbol.upper(), kind


def rows(database: Database, table: Any, symbol: str) -> list[Any]:
    with database.read() as s:
        return list(s.execute(select(table).where(table.c.symbol == symbol).order_by(table.c.time)))


# ---- what the import wrote ----


def test_report_counts_every_message_of_the_files(demo, stream_messages):
    _, report = demo
    per_stream = Counter(stream_kind(m) for m in stream_messages)
    for symbol in SYMBOLS:
        assert report.count("trade", symbol) == per_stream[(symbol, "trade")] > 3000
        assert report.count("bbo", symbol) == per_stream[(symbol, "bookTicker")] == 3600
        assert report.count("depth", symbol) == per_stream[(symbol, "depth20@100ms")] == 3600
        assert report.count("kline 1m", symbol) == 1440 + 120  # the CSV day, then two hours of stream
    assert (dict(report.skipped), dict(report.unmapped), report.warnings) == ({}, {}, [])
    assert [Path(name).name for name in report.files] == [
        "BTCUSDT-1m-2025-01-05.csv",
        "ETHUSDT-1m-2025-01-05.csv",
        "SOLUSDT-1m-2025-01-05.csv",
        STREAM.name,
    ]


def test_coverage_lists_each_symbol_and_kind_over_its_range(demo, stream_messages):
    database, _ = demo
    trade_times: dict[str, list[int]] = {s: [] for s in SYMBOLS}
    for message in stream_messages:
        if stream_kind(message)[1] == "trade":
            trade_times[message["data"]["s"]].append(message["data"]["T"])
    with database.read() as s:
        found = {(c.symbol, c.kind, c.interval): (c.count, c.first, c.last) for c in store.coverage(s)}
    expected = {}
    for symbol in SYMBOLS:
        first_quote = STREAM_START + QUOTE_OFFSET[symbol]
        times = trade_times[symbol]
        expected[(symbol, "kline", "1m")] = (1560, HISTORY_START, STREAM_END - MINUTE)
        expected[(symbol, "bbo", None)] = (3600, first_quote, first_quote + 3599 * 2000)
        expected[(symbol, "depth", None)] = (3600, first_quote, first_quote + 3599 * 2000)
        expected[(symbol, "trade", None)] = (len(times), min(times), max(times))
        assert first_quote < min(times) and max(times) < STREAM_END
    assert found == expected


# ---- the market it describes ----


def test_klines_are_final_and_contiguous_from_the_csv_day_through_the_stream(demo):
    database, _ = demo
    for symbol in SYMBOLS:
        with database.read() as s:
            bars = store.klines(s, symbol, "1m", HISTORY_START - 1, STREAM_END)
        assert [bar.open_time for bar in bars] == list(range(HISTORY_START, STREAM_END, MINUTE))
        for bar in bars:
            assert bar.is_final and bar.close_time == bar.open_time + MINUTE - 1
            assert bar.low <= min(bar.open, bar.close) <= max(bar.open, bar.close) <= bar.high
            assert bar.taker_buy_base <= bar.volume and bar.trade_count > 0


def test_the_recording_ends_where_it_begins_so_a_live_loop_does_not_jump(demo):
    """A live clock plays the recording looped: the stream's last close leads into the CSV day's first
    open as one quote move leads into the next (under 0.1 % apart), not with a jump of percents."""
    database, _ = demo
    for symbol in SYMBOLS:
        with database.read() as s:
            bars = store.klines(s, symbol, "1m", HISTORY_START - 1, STREAM_END)
        assert abs(bars[0].open - bars[-1].close) <= bars[0].open * Decimal("0.001"), symbol


def test_stream_klines_are_built_from_the_stream_trades(demo):
    """From 00:01 on (the recording starts inside the first minute), each bar is its trades exactly."""
    database, _ = demo
    for symbol in SYMBOLS:
        with database.read() as s:
            bars = store.klines(s, symbol, "1m", STREAM_START + MINUTE - 1, STREAM_END)
            trades_per_bar = [store.trades_between(s, symbol, b.open_time - 1, b.close_time) for b in bars]
        assert len(bars) == 119
        for bar, trades in zip(bars, trades_per_bar, strict=True):
            prices = [t.price for t in trades]
            assert bar.trade_count == len(trades)
            assert (bar.open, bar.high, bar.low, bar.close) == (
                prices[0],
                max(prices),
                min(prices),
                prices[-1],
            )
            assert bar.volume == sum(t.qty for t in trades)
            assert bar.quote_volume == sum(t.qty * t.price for t in trades)
            assert bar.taker_buy_base == sum(t.qty for t in trades if not t.buyer_is_maker)


def test_the_stream_repeats_the_last_csv_bar_identically(stream_messages):
    """The files overlap by one bar (23:59 of the CSV day, pushed final just after midnight)."""
    for symbol in SYMBOLS:
        csv_last = (DEMO / f"{symbol}-1m-2025-01-05.csv").read_text().splitlines()[-1].split(",")
        pushed = next(m["data"]["k"] for m in stream_messages if m["stream"] == f"{symbol.lower()}@kline_1m")
        assert pushed["x"] is True and pushed["t"] == STREAM_START - MINUTE
        as_csv = [pushed[key] for key in ("t", "o", "h", "l", "c", "v", "T", "q", "n", "V", "Q", "B")]
        assert [str(value) for value in as_csv] == csv_last


def test_depth_has_20_uncrossed_levels_a_side_topped_by_the_bbo_of_its_time(demo):
    database, _ = demo
    for symbol in SYMBOLS:
        bbo_by_time = {row.time: row for row in rows(database, MarketBbo.__table__, symbol)}
        for row in rows(database, MarketDepth.__table__, symbol):
            bids = [(Decimal(p), Decimal(q)) for p, q in json.loads(row.bids)]
            asks = [(Decimal(p), Decimal(q)) for p, q in json.loads(row.asks)]
            assert len(bids) == len(asks) == 20
            assert [p for p, _ in bids] == sorted({p for p, _ in bids}, reverse=True)
            assert [p for p, _ in asks] == sorted({p for p, _ in asks})
            assert bids[0][0] < asks[0][0] and all(q > 0 for _, q in bids + asks)
            bbo = bbo_by_time[row.time]  # stored at the same millisecond
            as_bbo = (bbo.bid_price, bbo.bid_qty, bbo.ask_price, bbo.ask_qty)
            assert tuple(map(Decimal, as_bbo)) == (*bids[0], *asks[0])


def test_the_depth_is_never_older_than_the_default_staleness_while_the_stream_plays(demo):
    """Else the demo book would drop to the best bid/offer alone, one level a side, between snapshots."""
    database, _ = demo
    staleness_ms = Settings.__dataclass_fields__["fill_depth_staleness_ms"].default
    for symbol in SYMBOLS:
        times = [row.time for row in rows(database, MarketDepth.__table__, symbol)]
        assert max(later - earlier for earlier, later in itertools.pairwise(times)) <= staleness_ms


def test_best_bid_is_below_best_ask_by_a_few_ticks_at_realistic_prices(demo):
    database, _ = demo
    ranges = {"BTCUSDT": (85_000, 110_000), "ETHUSDT": (3_000, 4_200), "SOLUSDT": (170, 270)}
    for symbol in SYMBOLS:
        low, high = ranges[symbol]
        for row in rows(database, MarketBbo.__table__, symbol):
            bid, ask = Decimal(row.bid_price), Decimal(row.ask_price)
            assert TICK <= ask - bid <= 5 * TICK
            assert low < bid < high and bid % TICK == 0 and ask % TICK == 0
            assert Decimal(row.bid_qty) > 0 and Decimal(row.ask_qty) > 0


def test_every_trade_fills_at_the_touch_standing_at_its_time(demo):
    """A seller-taker (buyer is maker) at the best bid, a buyer-taker at the best ask."""
    database, _ = demo
    steps = {"BTCUSDT": Decimal("0.00001"), "ETHUSDT": Decimal("0.0001"), "SOLUSDT": Decimal("0.001")}
    for symbol in SYMBOLS:
        quotes = rows(database, MarketBbo.__table__, symbol)
        quote_times = [row.time for row in quotes]
        with database.read() as s:
            trades = store.trades_between(s, symbol, 0, STREAM_END)
        assert trades
        for trade in trades:
            quote = quotes[bisect.bisect_right(quote_times, trade.time) - 1]
            assert quote.time < trade.time
            bid, ask = Decimal(quote.bid_price), Decimal(quote.ask_price)
            assert bid <= trade.price <= ask
            assert trade.price == (bid if trade.buyer_is_maker else ask)
            assert trade.qty > 0 and trade.qty % steps[symbol] == 0


# ---- once per database ----


def test_a_second_call_imports_nothing_and_returns_none(demo):
    database, _ = demo
    with database.read() as s:
        before = store.coverage(s)
        assert s.get(SimMeta, DEMO_IMPORTED_KEY).value == str(IMPORTED_AT)
    assert import_demo_data(database, FIXTURES) is None
    with database.read() as s:
        assert store.coverage(s) == before
        assert s.get(SimMeta, DEMO_IMPORTED_KEY).value == str(IMPORTED_AT)


def test_no_demo_folder_means_nothing_to_import(md_db, tmp_path):
    shutil.copy(FIXTURES / "symbol_map.json", tmp_path)
    assert import_demo_data(md_db, tmp_path) is None
    assert not demo_imported(md_db)
    with md_db.read() as s:
        assert store.coverage(s) == []


def test_kline_history_alone_imports_with_symbols_from_the_file_names(md_db, tmp_path):
    (tmp_path / "demo").mkdir()
    for symbol in SYMBOLS:
        shutil.copy(DEMO / f"{symbol}-1m-2025-01-05.csv", tmp_path / "demo")
    report = import_demo_data(md_db, tmp_path, now_ms=5)
    assert sorted(report.written.items()) == [(("kline 1m", symbol), 1440) for symbol in SYMBOLS]
    with md_db.read() as s:
        assert {(c.symbol, c.kind, c.count, c.first, c.last) for c in store.coverage(s)} == {
            (symbol, "kline", 1440, HISTORY_START, STREAM_START - MINUTE) for symbol in SYMBOLS
        }
    assert demo_imported(md_db)


def test_a_bad_demo_file_raises_and_leaves_the_database_unmarked(md_db, tmp_path):
    (tmp_path / "demo").mkdir()
    good = DEMO / "BTCUSDT-1m-2025-01-05.csv"
    bad = tmp_path / "demo" / good.name
    lines = good.read_text().splitlines()
    bad.write_text("\n".join([*lines[:10], lines[10].replace(",", ";", 1), *lines[11:]]) + "\n")
    with pytest.raises(ImportFileError) as failure:
        import_demo_data(md_db, tmp_path)
    assert failure.value.line == 11
    assert not demo_imported(md_db)
    shutil.copy(good, bad)  # fixed: the next start imports it
    assert import_demo_data(md_db, tmp_path).count("kline 1m", "BTCUSDT") == 1440
    assert demo_imported(md_db)
