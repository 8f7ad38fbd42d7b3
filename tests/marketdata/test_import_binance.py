"""Binance WebSocket streams and REST bodies: every real sample (books checked against an independent
rebuild that follows Binance's procedure literally), and the rules on small synthetic files: kline
collapse, undated messages, sequence gaps, the snapshot clock, level cuts, bad lines, re-imports."""

from __future__ import annotations

import functools
import heapq
import json
from collections import Counter
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from simulator.marketdata import store
from simulator.marketdata.importer import ImportFileError
from simulator.marketdata.venues import binance
from simulator.storage.tables import MarketBbo, MarketDepth

from .conftest import import_files, real_file

CRYPTOFEED_SPOT = "binance/cryptofeed_spot_2021-10-12_combined_stream.jsonl"
CRYPTOFEED_REST = [
    f"binance/cryptofeed_spot_2021-10-12_rest_depth1000_{symbol}.json"
    for symbol in ("BLZETH", "LRCBTC", "NKNUSDT", "RUNEEUR")
]
CRYPTOFEED_FUTURES = "binance/cryptofeed_usdm_futures_2021-07-22_combined_stream.jsonl"
MESSAGES = "binance/cryptomsgparser_binance_messages_spot_linear.jsonl"
HFT_SPOT = [
    f"binance/hftbacktest_spot_BTCUSDT_2024-08-08_combined_stream_part{i}of3.jsonl" for i in (1, 2, 3)
]
HFT_FUTURES = "binance/hftbacktest_usdm_futures_BTCUSDT_2024-08-08_combined_stream_part1of6.jsonl"
TARDIS = "binance/tardisnode_binance.jsonl"
REST_AGG_TRADES = "binance/freqtrade_binance_rest_aggTrades_XRPETH_2019-10-11.json"
CSV_AGG_TRADES = "binance/derived_binance_vision_aggTrades_XRPETH_2019-10-11.csv"

T0 = 1_700_000_000_000
FOREVER = 10**13
LEVELS = 200  # the importer's default depth_levels
INTERVAL = 1000  # ... and depth_interval_ms


# -- reading the samples independently of the parser ---------------------------------------------------


@functools.lru_cache(maxsize=4)  # the hftbacktest parts are read by several checks of one test
def messages(path: Path) -> tuple[tuple[str | None, Any], ...]:
    """(stream name, payload) per line."""
    found = []
    for line in path.read_text().splitlines():
        if line.strip():
            message = json.loads(line)
            if isinstance(message, dict) and "stream" in message:
                found.append((message["stream"], message["data"]))
            else:
                found.append((None, message))
    return tuple(found)


def events(paths: list[Path], kind: str, symbol: str | None = None) -> list[dict[str, Any]]:
    return [
        data
        for path in paths
        for _, data in messages(path)
        if isinstance(data, dict) and data.get("e") == kind and symbol in (None, data["s"])
    ]


def pairs(raw: list[list[str]]) -> dict[Decimal, Decimal]:
    return {Decimal(price): Decimal(qty) for price, qty in raw}


def top(bids: dict[Decimal, Decimal], asks: dict[Decimal, Decimal], levels: int = LEVELS) -> tuple:
    return (tuple(heapq.nlargest(levels, bids.items())), tuple(heapq.nsmallest(levels, asks.items())))


def reference_states(
    snapshot: dict[str, Any], diffs: list[dict[str, Any]], futures: bool, interval: int = INTERVAL
) -> list[tuple[int, tuple]]:
    """The states a book rebuilt by Binance's procedure stores: the first after the snapshot, then one per
    interval of E. Asserts the sample has no gap (U == previous u + 1 on spot, pu == previous u on
    futures), so that a gap the importer did not report cannot hide here."""
    bids, asks = pairs(snapshot["bids"]), pairs(snapshot["asks"])
    last_update_id = snapshot["lastUpdateId"]
    states: list[tuple[int, tuple]] = []
    previous = None
    for diff in diffs:
        if previous is None:
            if diff["u"] <= last_update_id:
                continue
            if futures:
                assert diff["U"] <= last_update_id <= diff["u"]
            else:
                assert diff["U"] <= last_update_id + 1 <= diff["u"]
        elif futures:
            assert diff["pu"] == previous
        else:
            assert diff["U"] == previous + 1
        for side, changes in ((bids, diff["b"]), (asks, diff["a"])):
            for price, qty in pairs(changes).items():
                if qty:
                    side[price] = qty
                else:
                    side.pop(price, None)
        previous = diff["u"]
        if not states or diff["E"] >= states[-1][0] + interval:
            states.append((diff["E"], top(bids, asks)))
    return states


def dated_book_tickers(path: Path) -> dict[tuple[str, int], tuple[Decimal, ...]]:
    """(symbol, time) -> the last bookTicker values there, timed the documented way: E, else the previous
    timed message of the file, else the next one."""
    rows: dict[tuple[str, int], tuple[Decimal, ...]] = {}
    waiting: list[tuple[str, tuple[Decimal, ...]]] = []
    now = None
    for _, data in messages(path):
        if not isinstance(data, dict):
            continue
        if "E" in data:
            now = data["E"]
            for symbol, values in waiting:
                rows[(symbol, now)] = values
            waiting = []
        if "B" in data and "A" in data:
            values = tuple(Decimal(data[key]) for key in ("b", "B", "a", "A"))
            if "E" in data:
                rows[(data["s"], data["E"])] = values
            elif now is None:
                waiting.append((data["s"], values))
            else:
                rows[(data["s"], now)] = values
    return rows


def stored_depth(db, symbol: str, time: int) -> tuple:
    with db.read() as s:
        depth = store.depth_at(s, symbol, time)
    assert depth is not None and depth.time == time
    return (depth.bids, depth.asks)


def counts(db) -> dict[tuple[str, str, str | None], int]:
    with db.read() as s:
        return {(c.symbol, c.kind, c.interval): c.count for c in store.coverage(s)}


def assert_depth_series(db, symbol: str, expected: list[tuple[int, tuple]]) -> None:
    """Every stored book of `symbol`, exactly: one query for the whole series."""
    table = MarketDepth.__table__
    query = select(table.c.time, table.c.bids, table.c.asks).where(table.c.symbol == symbol)
    with db.read() as s:
        stored = {row.time: (json_levels(row.bids), json_levels(row.asks)) for row in s.execute(query)}
    assert stored == dict(expected)


def json_levels(text: str) -> tuple:
    return tuple((Decimal(price), Decimal(qty)) for price, qty in json.loads(text))


def assert_bbo_rows(db, expected: dict[tuple[str, int], tuple[Decimal, ...]]) -> None:
    """Every stored best bid/offer of the symbols in `expected`, exactly."""
    table = MarketBbo.__table__
    columns = (table.c.bid_price, table.c.bid_qty, table.c.ask_price, table.c.ask_qty)
    symbols = {symbol for symbol, _ in expected}
    query = select(table.c.symbol, table.c.time, *columns).where(table.c.symbol.in_(symbols))
    with db.read() as s:
        stored = {(row[0], row[1]): tuple(Decimal(value) for value in row[2:]) for row in s.execute(query)}
    assert stored == expected


# -- real samples -------------------------------------------------------------------------------------


@pytest.mark.parametrize("snapshots_first", [True, False])
def test_cryptofeed_spot_books_sync_on_rest_snapshots_of_the_same_run(md_db, snapshots_first):
    stream = real_file(CRYPTOFEED_SPOT)
    rest = [real_file(name) for name in CRYPTOFEED_REST]
    paths = [*rest, stream] if snapshots_first else [stream, *rest]
    report = import_files(md_db, "binance", *paths)

    assert report.warnings == []
    # The REST bodies carry no time and their files hold nothing else: they only seed the books.
    assert report.skipped == {"binance depth snapshot without a time": 4}
    for name in CRYPTOFEED_REST:
        snapshot = json.loads(real_file(name).read_text())
        symbol = name.rsplit("_", 1)[1].removesuffix(".json")
        expected = reference_states(snapshot, events([stream], "depthUpdate", symbol), futures=False)
        assert expected, symbol
        assert_depth_series(md_db, symbol, expected)
    assert {s for (s, kind, _) in counts(md_db) if kind == "depth"} == {
        "BLZETH",
        "LRCBTC",
        "NKNUSDT",
        "RUNEEUR",
    }

    # The first NKNUSDT book spelt out: the snapshot with the first update past it applied.
    snapshot = json.loads(real_file(CRYPTOFEED_REST[2]).read_text())
    first = next(d for d in events([stream], "depthUpdate", "NKNUSDT") if d["u"] > snapshot["lastUpdateId"])
    bids, asks = pairs(snapshot["bids"]), pairs(snapshot["asks"])
    for side, changes in ((bids, first["b"]), (asks, first["a"])):
        for price, qty in pairs(changes).items():
            side[price] = qty
            if not qty:
                del side[price]
    assert stored_depth(md_db, "NKNUSDT", first["E"]) == top(bids, asks)

    trades = events([stream], "aggTrade")
    assert report.count("trade") == len(trades) == 2
    with md_db.read() as s:
        stored = store.trades_between(s, trades[0]["s"], 0, FOREVER)
    assert [t.trade_id for t in stored] == [f"agg-{trades[0]['a']}"]
    assert report.count("kline 1m") == 2
    assert_bbo_rows(md_db, dated_book_tickers(stream))


def test_cryptofeed_futures_without_snapshot_reports_every_waiting_update(md_db):
    path = real_file(CRYPTOFEED_FUTURES)
    report = import_files(md_db, "binance", path)

    diffs = events([path], "depthUpdate")
    assert len(diffs) == 764
    per_symbol = Counter(d["s"] for d in diffs)
    assert report.skipped == {"binance depthUpdate without a snapshot": 764}
    assert sorted(report.warnings) == sorted(
        f"binance {symbol} (futures): {n} depth updates never got a snapshot to start from; "
        "import the REST depth snapshot in the same run"
        for symbol, n in per_symbol.items()
    )
    assert not any(kind == "depth" for (_, kind, _) in counts(md_db))

    trades = events([path], "aggTrade")
    assert report.count("trade") == len(trades) == 91
    for symbol, n in Counter(t["s"] for t in trades).items():
        assert report.count("trade", symbol) == n
    # Futures bookTickers carry E: one row per (symbol, E), the last message of a millisecond.
    assert_bbo_rows(md_db, dated_book_tickers(path))
    # 67 kline updates collapse to the last update of each bar.
    bars: dict[tuple[str, int], dict[str, Any]] = {}
    for kline in events([path], "kline"):
        bars[(kline["s"], kline["k"]["t"])] = kline["k"]
    assert report.count("kline 1m") == len(bars) == 8
    with md_db.read() as s:
        for (symbol, open_time), bar in bars.items():
            stored = store.kline_at(s, symbol, "1m", open_time)
            assert stored is not None
            assert (stored.close, stored.volume, stored.trade_count, stored.is_final) == (
                Decimal(bar["c"]),
                Decimal(bar["v"]),
                bar["n"],
                bar["x"],
            )


def test_cryptofeed_futures_book_follows_pu_from_a_snapshot_in_another_file(md_db, tmp_path):
    path = real_file(CRYPTOFEED_FUTURES)
    diffs = events([path], "depthUpdate", "SUSHIUSDT")
    tenth = diffs[9]
    # A futures snapshot (it carries E/T) whose id falls inside the tenth update: U <= lastUpdateId <= u.
    snapshot = {
        "lastUpdateId": tenth["U"],
        "E": tenth["E"] - 1,
        "T": tenth["E"] - 2,
        "bids": [["10.000", "5"], ["9.990", "7"]],
        "asks": [["10.010", "3"], ["10.020", "4"]],
    }
    snapshot_file = tmp_path / "SUSHIUSDT_depth_snapshot.json"
    snapshot_file.write_text(json.dumps(snapshot))
    report = import_files(md_db, "binance", path, snapshot_file)

    assert [w for w in report.warnings if "SUSHIUSDT" in w] == []
    assert report.skipped["binance depthUpdate without a snapshot"] == 764 - len(diffs)
    expected = reference_states(snapshot, diffs, futures=True)
    snapshot_state = (snapshot["E"], top(pairs(snapshot["bids"]), pairs(snapshot["asks"])))
    assert_depth_series(md_db, "SUSHIUSDT", [snapshot_state, *expected])
    assert expected[0][0] == tenth["E"]


def test_single_messages_need_a_symbol_for_their_rest_snapshots(md_db):
    path = real_file(MESSAGES)
    with pytest.raises(ImportFileError) as error:
        import_files(md_db, "binance", path)
    assert error.value.line == 17
    assert error.value.reason == "cannot tell which symbol this depth snapshot is for; pass --symbol"
    assert counts(md_db) == {}


def test_single_messages_of_every_kind(md_db, tmp_path):
    """The same messages with the two REST snapshots in recorder envelopes that name their symbol."""
    source = real_file(MESSAGES)
    lines = source.read_text().splitlines()
    recv = {17: 1654232600017, 18: 1654232600018}
    for number, when in recv.items():
        envelope = {
            "recv_ms": when,
            "venue": "binance",
            "symbol": "BTCUSDT",
            "data": json.loads(lines[number - 1]),
        }
        lines[number - 1] = json.dumps(envelope)
    path = tmp_path / "messages.jsonl"
    path.write_text("\n".join(lines) + "\n")
    report = import_files(md_db, "binance", path)

    payloads = [data for _, data in messages(source)]
    flat = [item for data in payloads for item in (data if isinstance(data, list) else [data])]
    kinds = Counter(item.get("e") for item in flat)
    assert report.skipped == {
        "binance markPriceUpdate": kinds["markPriceUpdate"],
        "binance 24hrTicker": kinds["24hrTicker"],
        "binance openInterest": 1,
    }
    assert kinds["markPriceUpdate"] == 3 and kinds["24hrTicker"] == 4
    assert report.warnings == [] and report.unmapped == {}

    with md_db.read() as s:
        trades = store.trades_between(s, "BTCUSDT", 0, FOREVER)
        assert [(t.trade_id, t.price, t.qty, t.buyer_is_maker) for t in trades] == [
            ("agg-640283266", Decimal("58942.01"), Decimal("0.000356"), False),
            ("agg-389551486", Decimal("58665.00"), Decimal("0.043"), False),
        ]
        # The spot !bookTicker has no time: the previous timed message (the futures depth20, line 8) dates it.
        bbo = store.bbo_at(s, "BTCUSDT", FOREVER)
        assert (bbo.time, bbo.bid_price, bbo.ask_qty) == (
            payloads[7]["E"],
            Decimal("29010.9"),
            Decimal("3.99953"),
        )
        assert store.bbo_at(s, "ETHUSDT", FOREVER).time == payloads[9]["E"]
        month = store.kline_at(s, "BTCUSDT", "1M", 1651363200000)
        assert (month.close_time, month.close, month.is_final) == (1654041599999, Decimal("29075.50"), False)
        assert store.kline_at(s, "BTCUSDT", "1m", 1653818760000).trade_count == 31
    # Partial books: the spot depth20 (no time: the previous message's E) and the futures one (its E).
    assert stored_depth(md_db, "ETHUSDT", payloads[5]["E"]) == top(
        pairs(payloads[6]["bids"]), pairs(payloads[6]["asks"])
    )
    assert stored_depth(md_db, "ETHUSDT", payloads[7]["E"]) == top(
        pairs(payloads[7]["b"]), pairs(payloads[7]["a"])
    )
    # REST snapshots: spot at the envelope's receive time, futures at its own E; each seeds its own book
    # (spot and futures books of one symbol are kept apart) and the lone diffs are older than both.
    assert stored_depth(md_db, "BTCUSDT", recv[17]) == top(
        pairs(payloads[16]["bids"]), pairs(payloads[16]["asks"])
    )
    assert stored_depth(md_db, "BTCUSDT", payloads[17]["E"]) == top(
        pairs(payloads[17]["bids"]), pairs(payloads[17]["asks"])
    )
    assert counts(md_db)[("BTCUSDT", "depth", None)] == 2


def test_hftbacktest_spot_parts_rebuild_one_book_and_reimport_adds_nothing(md_db):
    paths = [real_file(name) for name in HFT_SPOT]
    report = import_files(md_db, "binance", *paths)

    assert report.warnings == [] and report.skipped == {} and report.unmapped == {}
    trades = events(paths, "trade")
    assert len(trades) == 3508 + 5657 + 592 == len({t["t"] for t in trades})
    assert report.count("trade", "BTCUSDT") == 9757
    snapshots = [(n, data) for n, (_, data) in enumerate(messages(paths[0]), 1) if "lastUpdateId" in data]
    assert [n for n, _ in snapshots] == [8]
    expected = reference_states(snapshots[0][1], events(paths, "depthUpdate"), futures=False)
    # The snapshot itself is dated by the previous timed message (line 6, the update that bridges it),
    # so the first rebuilt state replaces it at that millisecond.
    assert expected[0][0] == messages(paths[0])[5][1]["E"]
    assert_depth_series(md_db, "BTCUSDT", expected)
    tickers: dict[tuple[str, int], tuple[Decimal, ...]] = {}
    for path in paths:
        tickers.update(dated_book_tickers(path))
    assert_bbo_rows(md_db, tickers)

    before = counts(md_db)
    again = import_files(md_db, "binance", *paths)
    assert sum(again.written.values()) == 0
    assert counts(md_db) == before


def test_hftbacktest_futures_book_starts_at_the_recorded_snapshot(md_db):
    path = real_file(HFT_FUTURES)
    report = import_files(md_db, "binance", path)

    assert report.warnings == [] and report.skipped == {}
    assert report.count("trade", "BTCUSDT") == len(events([path], "trade")) == 2628
    snapshot = next(data for _, data in messages(path) if "lastUpdateId" in data)
    expected = reference_states(snapshot, events([path], "depthUpdate"), futures=True)
    snapshot_state = (snapshot["E"], top(pairs(snapshot["bids"]), pairs(snapshot["asks"])))
    assert snapshot_state[0] < expected[0][0]
    assert_depth_series(md_db, "BTCUSDT", [snapshot_state, *expected])
    assert_bbo_rows(md_db, dated_book_tickers(path))


def test_tardis_depth_snapshot_wrappers_seed_books(md_db):
    path = real_file(TARDIS)
    report = import_files(md_db, "binance", path)
    payloads = [data for _, data in messages(path)]

    # GNTBTC: the update after the snapshot overlaps the one before (U=41603417 after u=41603418); its
    # quantities are absolute, so it is applied, as Binance's procedure allows, and is no gap.
    assert report.warnings == []
    assert report.skipped == {"binance 24hrTicker": 1}
    snapshot, before, after = payloads[8], payloads[7], payloads[9]
    bids, asks = pairs(snapshot["bids"]), pairs(snapshot["asks"])
    bids.update(pairs(before["b"]))  # 41603414..41603418 bridges lastUpdateId 41603417
    asks.update(pairs(before["a"]))
    assert stored_depth(md_db, "GNTBTC", before["E"]) == top(bids, asks)
    asks.update(pairs(after["a"]))
    del asks[Decimal("0.00002257")]
    assert stored_depth(md_db, "GNTBTC", after["E"]) == top(bids, asks)
    # BTCUSDC: the update right after its snapshot removes levels the snapshot does not hold.
    btcusdc = payloads[4]
    assert stored_depth(md_db, "BTCUSDC", payloads[5]["E"]) == top(
        pairs(btcusdc["bids"]), pairs(btcusdc["asks"])
    )
    with md_db.read() as s:
        assert [t.trade_id for t in store.trades_between(s, "BNBBTC", 0, FOREVER)] == ["40756030", "60276726"]


def test_rest_agg_trades_and_the_dump_of_the_same_trades_are_stored_once(md_db):
    rest, dump = real_file(REST_AGG_TRADES), real_file(CSV_AGG_TRADES)
    rows = json.loads(rest.read_text())
    assert import_files(md_db, "binance", rest).count("trade", "XRPETH") == len(rows) == 5929
    assert import_files(md_db, "binance-csv", dump).count("trade") == 0
    assert counts(md_db) == {("XRPETH", "trade", None): 5929}
    with md_db.read() as s:
        first = store.trades_between(s, "XRPETH", 0, FOREVER, limit=1)[0]
    assert (first.trade_id, first.time, first.price, first.qty, first.buyer_is_maker) == (
        "agg-13519807",
        1570752011620,
        Decimal("0.00141342"),
        Decimal("23"),
        True,
    )


# -- synthetic files ----------------------------------------------------------------------------------


def write(path: Path, *lines: Any) -> Path:
    path.write_text("".join((line if isinstance(line, str) else json.dumps(line)) + "\n" for line in lines))
    return path


def wrap(stream: str, data: dict[str, Any]) -> dict[str, Any]:
    return {"stream": stream, "data": data}


def diff(E: int, U: int, u: int, bids=(), asks=(), pu: int | None = None, symbol: str = "BTCUSDT") -> dict:
    data: dict[str, Any] = {"e": "depthUpdate", "E": E, "s": symbol, "U": U, "u": u}
    if pu is not None:
        data["pu"] = pu
    data["b"], data["a"] = [list(level) for level in bids], [list(level) for level in asks]
    return wrap(f"{symbol.lower()}@depth@100ms", data)


def snapshot(last_update_id: int, bids, asks, symbol: str = "BTCUSDT", **times: int) -> dict:
    body = {
        "lastUpdateId": last_update_id,
        **times,
        "bids": [list(x) for x in bids],
        "asks": [list(x) for x in asks],
    }
    return {"stream": f"{symbol.lower()}@depthSnapshot", "generated": True, "data": body}


def book_ticker(bid: str, symbol: str = "BTCUSDT", **times: int) -> dict:
    data = {"u": 1, "s": symbol, "b": bid, "B": "1.5", "a": "101", "A": "2", **times}
    return wrap(f"{symbol.lower()}@bookTicker", data)


def trade(E: int, trade_id: int = 1, price: str = "100", symbol: str = "BTCUSDT") -> dict:
    data = {"e": "trade", "E": E, "s": symbol, "t": trade_id, "p": price, "q": "0.5", "T": E - 1, "m": True}
    return wrap(f"{symbol.lower()}@trade", data)


def kline(close: str, final: bool, open_time: int = T0) -> dict:
    bar = {"t": open_time, "T": open_time + 59_999, "s": "BTCUSDT", "i": "1m", "o": "100", "c": close,
           "h": "110", "l": "90", "v": "3", "n": 7, "x": final, "q": "300", "V": "1", "Q": "100"}  # fmt: skip
    return wrap("btcusdt@kline_1m", {"e": "kline", "E": open_time + 1000, "s": "BTCUSDT", "k": bar})


def levels(*raw: tuple[str, str]) -> tuple:
    return tuple((Decimal(p), Decimal(q)) for p, q in raw)


def test_kline_updates_collapse_and_a_final_bar_is_never_replaced(md_db, tmp_path):
    updates = write(
        tmp_path / "klines.jsonl",
        kline("101", False),
        kline("102", False),
        kline("103", True),
        kline("999", False),  # a late in-progress update of the closed bar
        kline("104", False, open_time=T0 + 60_000),
    )
    report = import_files(md_db, "binance", updates)
    assert report.count("kline 1m") == 2
    earlier = write(tmp_path / "earlier.jsonl", kline("101", False))
    assert import_files(md_db, "binance", earlier).count("kline 1m") == 0
    with md_db.read() as s:
        bars = store.klines(s, "BTCUSDT", "1m", 0, FOREVER)
    assert [(b.open_time, b.close, b.is_final) for b in bars] == [
        (T0, Decimal("103"), True),
        (T0 + 60_000, Decimal("104"), False),
    ]
    first = bars[0]
    assert (first.close_time, first.quote_volume, first.trade_count) == (T0 + 59_999, Decimal("300"), 7)
    assert (first.taker_buy_base, first.taker_buy_quote) == (Decimal("1"), Decimal("100"))


def test_undated_book_tickers_take_the_time_of_their_neighbours(md_db, tmp_path):
    neighbours = write(
        tmp_path / "neighbours.jsonl",
        book_ticker("1"),  # nothing timed before it: the next timed message dates it
        trade(T0),
        trade(T0 + 2, trade_id=2),
        book_ticker("2"),  # the previous timed message
        book_ticker("3"),  # the same millisecond: the last state wins
    )
    envelopes = write(
        tmp_path / "recorded.jsonl",
        trade(T0 + 50, trade_id=3),
        {"recv_ms": T0 + 70, "venue": "binance", "data": book_ticker("4")},
    )
    undatable = write(tmp_path / "undatable.jsonl", book_ticker("5"), book_ticker("6"))
    report = import_files(md_db, "binance", neighbours, envelopes, undatable)

    assert report.count("bbo", "BTCUSDT") == 3
    assert report.skipped == {"binance bookTicker without a time": 2}
    with md_db.read() as s:
        rows = [store.bbo_at(s, "BTCUSDT", t) for t in (T0, T0 + 2, T0 + 50, T0 + 70)]
    assert [(b.time, b.bid_price) for b in rows] == [
        (T0, Decimal("1")),
        (T0 + 2, Decimal("3")),
        (T0 + 2, Decimal("3")),
        (T0 + 70, Decimal("4")),
    ]
    assert (rows[0].bid_qty, rows[0].ask_price, rows[0].ask_qty) == (
        Decimal("1.5"),
        Decimal("101"),
        Decimal("2"),
    )


def gap_stream(*tail: Any) -> list[Any]:
    return [
        diff(T0, 95, 100),  # already in the snapshot
        snapshot(100, [("100", "1"), ("99", "2")], [("101", "1"), ("102", "2")]),
        diff(T0 + 1000, 101, 102, bids=[("100", "3")]),
        diff(T0 + 2000, 103, 105, asks=[("101", "0")]),
        diff(T0 + 3000, 110, 112, bids=[("98", "1")]),  # 106..109 are missing
        diff(T0 + 4000, 113, 115, asks=[("104", "9")]),
        *tail,
    ]


def test_a_sequence_gap_is_reported_and_the_book_resumes_after_the_next_snapshot(md_db, tmp_path):
    path = write(
        tmp_path / "gap.jsonl",
        *gap_stream(
            snapshot(112, [("100", "5")], [("103", "1")]),
            diff(T0 + 5000, 116, 116, bids=[("99", "4")]),
        ),
    )
    report = import_files(md_db, "binance", path)

    assert report.warnings == [
        f"{path}:5: binance BTCUSDT depth: sequence gap: expected U <= 106, got U=110 u=112; "
        "book dropped until the next snapshot"
    ]
    assert report.skipped == {}
    assert_depth_series(
        md_db,
        "BTCUSDT",
        [
            # The first snapshot, dated by the update before it (already in it).
            (T0, (levels(("100", "1"), ("99", "2")), levels(("101", "1"), ("102", "2")))),
            (T0 + 1000, (levels(("100", "3"), ("99", "2")), levels(("101", "1"), ("102", "2")))),
            (T0 + 2000, (levels(("100", "3"), ("99", "2")), levels(("102", "2")))),
            # The second snapshot (dated by the previous update) with the waiting update 113..115 on it.
            (T0 + 4000, (levels(("100", "5")), levels(("103", "1"), ("104", "9")))),
            (T0 + 5000, (levels(("100", "5"), ("99", "4")), levels(("103", "1"), ("104", "9")))),
        ],
    )


def test_updates_after_a_gap_that_never_get_a_snapshot_are_reported(md_db, tmp_path):
    path = write(tmp_path / "gap.jsonl", *gap_stream())
    report = import_files(md_db, "binance", path)
    assert len(report.warnings) == 2
    assert "sequence gap" in report.warnings[0]
    assert report.warnings[1] == (
        "binance BTCUSDT (spot): 2 depth updates never got a snapshot to start from; "
        "import the REST depth snapshot in the same run"
    )
    assert report.skipped == {"binance depthUpdate without a snapshot": 2}
    assert counts(md_db)[("BTCUSDT", "depth", None)] == 3


def test_futures_updates_must_name_the_previous_one(md_db, tmp_path):
    path = write(
        tmp_path / "futures.jsonl",
        snapshot(100, [("100", "1")], [("101", "1")], E=T0, T=T0),
        diff(T0 + 1000, 95, 101, pu=94, bids=[("100", "2")]),  # straddles the snapshot: U <= 100 <= u
        diff(T0 + 2000, 102, 104, pu=101, bids=[("100", "3")]),
        diff(T0 + 3000, 106, 107, pu=103, bids=[("100", "4")]),
    )
    report = import_files(md_db, "binance", path)
    assert report.warnings[0] == (
        f"{path}:4: binance BTCUSDT depth: sequence gap: expected pu=104, got U=106 u=107 pu=103; "
        "book dropped until the next snapshot"
    )
    assert report.warnings[1].startswith("binance BTCUSDT (futures): 1 depth updates never got a snapshot")
    assert [stored_depth(md_db, "BTCUSDT", T0 + n)[0] for n in (0, 1000, 2000)] == [
        levels(("100", "1")),
        levels(("100", "2")),
        levels(("100", "3")),
    ]


def test_a_snapshot_older_than_the_waiting_updates_is_not_used(md_db, tmp_path):
    path = write(
        tmp_path / "old.jsonl",
        diff(T0, 120, 125),
        snapshot(100, [("100", "1")], [("101", "1")]),
        snapshot(122, [("100", "2")], [("101", "1")]),
    )
    report = import_files(md_db, "binance", path)
    assert report.warnings == [
        f"{path}:2: binance BTCUSDT depth: the snapshot (lastUpdateId 100) is older than the next update "
        "(U=120 u=125); book dropped until the next snapshot"
    ]
    assert stored_depth(md_db, "BTCUSDT", T0)[0] == levels(("100", "2"))


@pytest.mark.parametrize(
    ("interval", "stored"),
    [(1000, [0, 1000, 2100]), (500, [0, 900, 1500, 2100]), (0, [0, 200, 900, 1000, 1500, 2100])],
)
def test_the_rebuilt_book_is_stored_once_per_interval(md_db, tmp_path, interval, stored):
    offsets = [0, 200, 900, 1000, 1500, 2100]
    updates = [diff(T0 + o, 11 + i, 11 + i, bids=[(str(100 + i), "1")]) for i, o in enumerate(offsets)]
    path = write(tmp_path / "clock.jsonl", snapshot(10, [("99", "1")], [("200", "1")]), *updates)
    report = import_files(md_db, "binance", path, depth_interval_ms=interval)
    # The leading snapshot is dated by the first update, whose state then replaces it at that millisecond.
    assert report.skipped == {}
    assert counts(md_db)[("BTCUSDT", "depth", None)] == len(stored)
    for offset in stored:
        best_bid = stored_depth(md_db, "BTCUSDT", T0 + offset)[0][0]
        assert best_bid == (Decimal(100 + offsets.index(offset)), Decimal(1))


def test_books_are_cut_to_depth_levels(md_db, tmp_path):
    five = [(str(100 - i), str(i + 1)) for i in range(5)], [(str(101 + i), str(i + 1)) for i in range(5)]
    path = write(
        tmp_path / "cut.jsonl",
        {"recv_ms": T0, "venue": "binance", "symbol": "BTCUSDT", "data": snapshot(10, *five)["data"]},
        diff(T0 + 1, 11, 11, bids=[("100.5", "9")]),
        wrap("ethusdt@depth5@100ms", {"lastUpdateId": 7, "bids": five[0], "asks": five[1]}),
    )
    report = import_files(md_db, "binance", path, depth_levels=2)
    assert report.count("depth") == 3
    assert stored_depth(md_db, "BTCUSDT", T0) == (
        levels(("100", "1"), ("99", "2")),
        levels(("101", "1"), ("102", "2")),
    )
    assert stored_depth(md_db, "BTCUSDT", T0 + 1) == (
        levels(("100.5", "9"), ("100", "1")),
        levels(("101", "1"), ("102", "2")),
    )
    # The partial book has no time of its own: the previous update's E.
    assert stored_depth(md_db, "ETHUSDT", T0 + 1) == (
        levels(("100", "1"), ("99", "2")),
        levels(("101", "1"), ("102", "2")),
    )


def test_rest_snapshot_symbol_from_the_only_symbol_of_the_file(md_db, tmp_path):
    path = write(
        tmp_path / "one.jsonl",
        trade(T0, symbol="ETHBTC"),
        {"lastUpdateId": 5, "bids": [["0.05", "1"]], "asks": [["0.06", "2"]]},
    )
    import_files(md_db, "binance", path)
    assert stored_depth(md_db, "ETHBTC", T0) == (levels(("0.05", "1")), levels(("0.06", "2")))


def test_rest_trades_need_a_symbol(md_db, tmp_path):
    body = [{"id": 28457, "price": "4.00000100", "qty": "12.00000000", "quoteQty": "48.000012", "time": T0,
             "isBuyerMaker": True, "isBestMatch": True}]  # fmt: skip
    path = write(tmp_path / "trades.json", body)
    with pytest.raises(ImportFileError) as error:
        import_files(md_db, "binance", path)
    assert (error.value.line, error.value.reason) == (
        1,
        "cannot tell which symbol these trades are for; pass --symbol",
    )
    assert import_files(md_db, "binance", path, symbol="LTCBTC").count("trade", "LTCBTC") == 1
    with md_db.read() as s:
        [stored] = store.trades_between(s, "LTCBTC", 0, FOREVER)
    assert (stored.trade_id, stored.price, stored.qty, stored.buyer_is_maker) == (
        "28457",
        Decimal("4.00000100"),
        Decimal("12"),
        True,
    )


BAD_TRADE = trade(T0, trade_id=9, price="abc")
NO_QTY = wrap(
    "btcusdt@aggTrade", {"e": "aggTrade", "E": T0, "s": "BTCUSDT", "a": 9, "p": "1", "T": T0, "m": True}
)
BAD_LINES = [
    (BAD_TRADE, "p is not a number: 'abc'"),
    (NO_QTY, "binance aggTrade message has no 'q' field"),
    (diff(T0, 1, 2, bids=[("100",)]), "b has a level that is not [price, size]: ['100']"),
    (diff(T0, 1, 2, asks=[("1e", "2")]), "a price is not a number: '1e'"),
    (book_ticker("-1"), "b is out of range: '-1'"),
    ("{not json", "not JSON (Expecting property name enclosed in double quotes: line 1 column 2 (char 1))"),
]


@pytest.mark.parametrize(("line", "reason"), BAD_LINES)
def test_a_malformed_line_refuses_the_file(md_db, tmp_path, line, reason):
    path = write(tmp_path / "bad.jsonl", trade(T0), book_ticker("100"), line, trade(T0 + 1, trade_id=2))
    with pytest.raises(ImportFileError) as error:
        import_files(md_db, "binance", path)
    assert (error.value.line, error.value.reason) == (3, reason)
    assert counts(md_db) == {}


def test_reimport_adds_nothing(md_db, tmp_path):
    path = write(
        tmp_path / "mixed.jsonl",
        book_ticker("99"),
        *gap_stream(snapshot(112, [("100", "5")], [("103", "1")])),
        trade(T0 + 10),
        book_ticker("98"),
        kline("101", False),
        wrap("btcusdt@aggTrade", {**NO_QTY["data"], "q": "2"}),
    )
    first = import_files(md_db, "binance", path)
    before = counts(md_db)
    assert sum(first.written.values()) == sum(before.values()) == 9
    again = import_files(md_db, "binance", path)
    assert sum(again.written.values()) == 0
    assert counts(md_db) == before


def test_unmapped_symbols_are_reported_and_skipped(md_db, tmp_path):
    path = write(
        tmp_path / "unmapped.jsonl",
        trade(T0, symbol="BTC.USDT"),
        book_ticker("1", symbol="BTC.USDT", E=T0),
        diff(T0, 1, 2, symbol="BTC.USDT"),
        trade(T0, symbol="ETHUSDT"),
    )
    report = import_files(md_db, "binance", path)
    assert report.unmapped == {"binance:BTC.USDT": 3}
    assert counts(md_db) == {("ETHUSDT", "trade", None): 1}


def test_the_wait_for_a_snapshot_is_bounded(md_db, tmp_path, monkeypatch):
    monkeypatch.setattr(binance, "MAX_WAITING_EVENTS", 3)
    path = write(tmp_path / "waiting.jsonl", *(diff(T0 + i, i * 10, i * 10 + 9) for i in range(1, 6)))
    report = import_files(md_db, "binance", path)
    assert report.skipped == {
        "binance depthUpdate dropped while waiting for a snapshot (too many)": 2,
        "binance depthUpdate without a snapshot": 3,
    }


def test_non_market_futures_trades_and_other_streams_are_skipped(md_db, tmp_path):
    liquidation = trade(T0, trade_id=5)
    liquidation["data"]["X"] = "INSURANCE_FUND"
    path = write(
        tmp_path / "other.jsonl",
        liquidation,
        wrap("btcusdt@forceOrder", {"e": "forceOrder", "E": T0, "o": {}}),
        wrap("!miniTicker@arr", [{"e": "24hrMiniTicker", "E": T0, "s": "BTCUSDT"}] * 2),
        {"result": None, "id": 1},
    )
    report = import_files(md_db, "binance", path)
    assert report.skipped == {
        "binance trade INSURANCE_FUND": 1,
        "binance forceOrder": 1,
        "binance 24hrMiniTicker": 2,
        "binance response without market data": 1,
    }
    assert counts(md_db) == {}


def test_sizes_convert_with_the_lot_size_of_a_symbol_map_entry(md_db, tmp_path):
    mapping = tmp_path / "map.json"
    mapping.write_text(json.dumps({"binance": {"BTCUSDT": {"symbol": "BTCLOTS", "lot_size": "0.001"}}}))
    path = write(
        tmp_path / "lots.jsonl",
        trade(T0),
        book_ticker("100"),
        snapshot(10, [("100", "2")], [("101", "3")]),
        diff(T0 + 1, 11, 11, bids=[("99", "4")]),
        kline("101", True),
    )
    import_files(md_db, "binance", path, symbol_map=mapping)
    assert stored_depth(md_db, "BTCLOTS", T0 + 1) == (
        levels(("100", "0.002"), ("99", "0.004")),
        levels(("101", "0.003")),
    )
    with md_db.read() as s:
        assert store.trades_between(s, "BTCLOTS", 0, FOREVER)[0].qty == Decimal("0.0005")
        bbo = store.bbo_at(s, "BTCLOTS", T0)
        assert (bbo.bid_qty, bbo.ask_qty) == (Decimal("0.0015"), Decimal("0.002"))
        bar = store.kline_at(s, "BTCLOTS", "1m", T0)
        assert (bar.volume, bar.taker_buy_base, bar.quote_volume) == (
            Decimal("0.003"),
            Decimal("0.001"),
            Decimal("300"),
        )
