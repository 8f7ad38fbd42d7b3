"""The KuCoin importer: real cryptofeed / crypto-msg-parser / Tardis samples (expected counts worked out
here from the files themselves), the examples of the KuCoin futures API documents, book sync and gaps,
malformed input, re-import, and a user symbol map."""

from __future__ import annotations

import json
from collections import Counter, defaultdict
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import text

from simulator.marketdata import store
from simulator.marketdata.importer import ImportFileError
from simulator.marketdata.records import Bbo, Depth, Kline, Trade
from simulator.marketdata.venues import kucoin
from simulator.storage.db import open_database

from .conftest import import_files, real_file

D = Decimal
FAR = 2**62
T0 = 1_700_000_000_000  # a time in ms for the synthetic messages
SPOT_SYMBOLS = ("ANKR-BTC", "BCHSV-USDT", "CAPP-BTC", "FET-BTC", "NRG-BTC", "SNX-BTC")
WS_PART_A = "kucoin/cryptofeed_kucoin_spot_2021-04-25_ws_partA.jsonl"

# --- the KuCoin futures API document's examples (seeds/004), verbatim ---------------------------------

ALL_TICKERS = """{
    "code": "200000",
    "data": [
        {
            "sequence": 1707992727046,
            "symbol": "XBTUSDTM",
            "side": "sell",
            "size": 21,
            "tradeId": "1784299761369",
            "price": "67153",
            "bestBidPrice": "67153",
            "bestBidSize": 2767,
            "bestAskPrice": "67153.1",
            "bestAskSize": 5368,
            "ts": 1729163466659000000
        },
        {
            "sequence": 1697895166299,
            "symbol": "XBTUSDM",
            "side": "sell",
            "size": 1956,
            "tradeId": "1697901245065",
            "price": "67145.2",
            "bestBidPrice": "67135.3",
            "bestBidSize": 1,
            "bestAskPrice": "67135.8",
            "bestAskSize": 3,
            "ts": 1729163445340000000
        }
    ]
}
"""
DEPTH20 = """{"code": "200000", "data": {"sequence": 1697895963339, "symbol": "XBTUSDM",
 "bids": [[66968, 2], [66964.8, 25596]], "asks": [[66968.1, 13501], [66968.7, 2032]],
 "ts": 1729168101216000000}}"""
KLINES = """{"code": "200000", "data": [
 [1757659080000, 115328.4, 115328.4, 115284.2, 115284.2, 602, 69424.9528],
 [1757659140000, 115273.0, 115273.1, 115273.0, 115273.0, 114, 13141.1236]]}"""
TICKER_V2 = (
    '{"topic": "/contractMarket/tickerV2:XBTUSDTM", "type": "message", "subject": "tickerV2",'
    ' "sn": 1713516609293, "data": {"symbol": "XBTUSDTM", "sequence": 1713516609293, "bestBidSize": 5044,'
    ' "bestBidPrice": "86454.5", "bestAskPrice": "86454.6", "bestAskSize": 73, "ts": 1740641976241000000}}'
)
DEPTH50 = (
    '{"topic": "/contractMarket/level2Depth50:XBTUSDTM", "type": "message", "subject": "level2",'
    ' "sn": 1731680249700, "data": {"bids": [["89778.6", 1534], ["89778.2", 54]], "sequence": 1709294490099,'
    ' "timestamp": 1731680249700, "ts": 1731680249700, "asks": [["89778.7", 854], ["89779.2", 4]]}}'
)


def write(tmp_path: Path, name: str, *lines: str) -> Path:
    path = tmp_path / name
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def envelope(recv_ms: int, data: str, symbol: str | None = None) -> str:
    named = f', "symbol": "{symbol}"' if symbol else ""
    return f'{{"recv_ms": {recv_ms}, "venue": "kucoin"{named}, "data": {data}}}'


def read_jsonl(path: Path) -> list[dict[str, Any]]:
    return [json.loads(line, parse_float=Decimal) for line in path.read_text().splitlines() if line.strip()]


def rest_book_files() -> list[Path]:
    return [
        real_file(f"kucoin/cryptofeed_kucoin_2021-04-25_rest_level2_{name}.json") for name in SPOT_SYMBOLS
    ]


def ours(venue_symbol: str) -> str:
    return venue_symbol.replace("-", "")


def all_depth_rows(db) -> list[tuple[Any, ...]]:
    with db.engine.connect() as connection:
        return list(
            connection.execute(text("SELECT symbol, time, bids, asks FROM md_depth ORDER BY symbol, time"))
        )


def store_counts(db) -> dict[tuple[str, str, str | None], int]:
    with db.engine.connect() as connection:
        return {(c.symbol, c.kind, c.interval): c.count for c in store.coverage(connection)}


# --- expected results, worked out from the sample files independently of the importer ------------------


class SpotReplay:
    """Replays the cryptofeed REST snapshots and WS stream the documented way: the REST book is the seed,
    updates at or below its sequence are old, every other change with a newer sequence applies; an update
    without a time is dated by the latest exchange time seen for its symbol (snapshot, ticker, match,
    candle push), and a state is stored when it is depth_interval_ms past the last stored one."""

    def __init__(self, interval_ms: int):
        self.interval = interval_ms
        self.books: dict[str, dict[str, Any]] = {}
        self.latest: dict[str, int] = {}
        self.stored: Counter[str] = Counter()
        self.older = 0

    def snapshot(self, symbol: str, document: dict[str, Any]) -> None:
        data = document["data"]
        self.books[symbol] = {
            "seq": int(data["sequence"]),
            "time": data["time"],
            "last": data["time"],
            "bids": {D(p): D(q) for p, q in data["bids"]},
            "asks": {D(p): D(q) for p, q in data["asks"]},
        }
        self.latest[symbol] = data["time"]
        self.stored[symbol] += 1

    def message(self, message: dict[str, Any]) -> None:
        subject, data = message.get("subject"), message.get("data", {})
        if subject == "trade.ticker":
            self._saw(message["topic"].split(":")[1], data["time"])
        elif subject == "trade.l3match":
            self._saw(data["symbol"], int(data["time"]) // 10**6)
        elif subject == "trade.candles.add":
            self._saw(data["symbol"], int(data["time"]) // 10**6)
        elif subject == "trade.l2update":
            self._update(data)

    def _saw(self, symbol: str, time: int) -> None:
        self.latest[symbol] = max(self.latest.get(symbol, time), time)

    def _update(self, data: dict[str, Any]) -> None:
        book = self.books[data["symbol"]]
        if data["sequenceEnd"] <= book["seq"]:
            self.older += 1
            return
        assert data["sequenceStart"] <= book["seq"] + 1  # the sample has no gap
        for side in ("bids", "asks"):
            for price, qty, sequence in data["changes"][side]:
                if int(sequence) > book["seq"] and D(price):
                    if D(qty):
                        book[side][D(price)] = D(qty)
                    else:
                        book[side].pop(D(price), None)
        book["seq"] = data["sequenceEnd"]
        book["time"] = max(book["time"], self.latest[data["symbol"]])
        if book["time"] >= book["last"] + self.interval:
            book["last"] = book["time"]
            self.stored[data["symbol"]] += 1


def replay_part_a(interval_ms: int) -> SpotReplay:
    replay = SpotReplay(interval_ms)
    for path, symbol in zip(rest_book_files(), SPOT_SYMBOLS, strict=True):
        replay.snapshot(symbol, json.loads(path.read_text(), parse_float=Decimal))
    for message in read_jsonl(real_file(WS_PART_A)):
        replay.message(message)
    return replay


def part_a_messages(subject: str) -> list[dict[str, Any]]:
    return [m for m in read_jsonl(real_file(WS_PART_A)) if m.get("subject") == subject]


# --- real samples ----------------------------------------------------------------------------------------


def test_cryptofeed_rest_books_and_ws_stream_in_one_run(md_db):
    report = import_files(md_db, "kucoin", *rest_book_files(), real_file(WS_PART_A))
    replay = replay_part_a(1000)

    tickers = part_a_messages("trade.ticker")
    matches = part_a_messages("trade.l3match")
    assert len(tickers) == 717 and len(matches) == 6  # SOURCES.md
    ticker_times = {(ours(m["topic"].split(":")[1]), m["data"]["time"]) for m in tickers}
    assert len(ticker_times) == 717  # no two tickers of a symbol share a millisecond: nothing collapses
    for symbol in map(ours, SPOT_SYMBOLS):
        assert report.count("bbo", symbol) == sum(1 for s, _ in ticker_times if s == symbol)
        assert report.count("depth", symbol) == replay.stored[ours_to_venue(symbol)]
    assert report.count("bbo") == 717
    assert report.count("trade") == 6
    assert report.count("trade", "BCHSVUSDT") == sum(
        1 for m in matches if m["data"]["symbol"] == "BCHSV-USDT"
    )
    assert report.skipped == Counter(
        {"kucoin ack": 13, "kucoin welcome": 1, "kucoin level2 update older than its book": replay.older}
    )
    assert report.warnings == [] and report.unmapped == Counter()
    counts = store_counts(md_db)
    assert counts[("BCHSVUSDT", "depth", None)] == replay.stored["BCHSV-USDT"] > 1


def ours_to_venue(symbol: str) -> str:
    return next(name for name in SPOT_SYMBOLS if ours(name) == symbol)


def test_rest_snapshot_is_stored_at_its_time_with_the_file_name_symbol(md_db):
    """BCHSV-USDT: the framework's name rule alone would read "BCHSV"."""
    path = real_file("kucoin/cryptofeed_kucoin_2021-04-25_rest_level2_BCHSV-USDT.json")
    data = json.loads(path.read_text(), parse_float=Decimal)["data"]
    report = import_files(md_db, "kucoin", path, depth_levels=5)
    assert report.count("depth", "BCHSVUSDT") == 1
    with md_db.engine.connect() as connection:
        depth = store.depth_at(connection, "BCHSVUSDT", FAR)
    bids = sorted(((D(p), D(q)) for p, q in data["bids"]), reverse=True)[:5]
    asks = sorted((D(p), D(q)) for p, q in data["asks"])[:5]
    assert depth == Depth("BCHSVUSDT", data["time"], tuple(bids), tuple(asks))


def test_rebuilt_books_match_the_replay_and_the_tickers(md_db):
    import_files(
        md_db, "kucoin", *rest_book_files(), real_file(WS_PART_A), depth_interval_ms=0, depth_levels=5000
    )
    replay = replay_part_a(0)
    last_ticker = {m["topic"].split(":")[1]: m["data"] for m in part_a_messages("trade.ticker")}
    agreeing = 0
    with md_db.engine.connect() as connection:
        for venue_symbol in SPOT_SYMBOLS:
            final = store.depth_at(connection, ours(venue_symbol), FAR)
            book = replay.books[venue_symbol]
            assert final.bids == tuple(sorted(book["bids"].items(), reverse=True))
            assert final.asks == tuple(sorted(book["asks"].items()))
            ticker = last_ticker[venue_symbol]
            if int(ticker["sequence"]) == book["seq"]:  # KuCoin's ticker shares the level2 sequence
                agreeing += 1
                assert final.bids[0] == (D(ticker["bestBid"]), D(ticker["bestBidSize"]))
                assert final.asks[0] == (D(ticker["bestAsk"]), D(ticker["bestAskSize"]))
    assert agreeing == 4


def test_snapshots_in_later_files_give_the_same_books(md_db, tmp_path):
    """Updates wait for a snapshot that comes in a later file of the run."""
    import_files(md_db, "kucoin", *rest_book_files(), real_file(WS_PART_A))
    other = open_database(f"sqlite:///{tmp_path / 'reverse.db'}")
    try:
        report = import_files(other, "kucoin", real_file(WS_PART_A), *rest_book_files())
        assert report.warnings == []
        assert all_depth_rows(other) == all_depth_rows(md_db)
    finally:
        other.dispose()


def test_candles_become_final_when_the_next_bar_starts(md_db):
    report = import_files(md_db, "kucoin", real_file(WS_PART_A))
    candles = part_a_messages("trade.candles.add")
    opens: dict[str, list[int]] = defaultdict(list)
    for m in candles:
        opens[ours(m["data"]["symbol"])].append(int(m["data"]["candles"][0]) * 1000)
    for symbol, times in opens.items():
        assert times == sorted(set(times))  # each push starts a bar here
        assert (
            report.count("kline 1m", symbol) == 2 * len(times) - 1
        )  # every bar, then each earlier one final
    with md_db.engine.connect() as connection:
        bars = store.klines(connection, "BCHSVUSDT", "1m", 0, FAR)
    first = candles[0]["data"]["candles"]
    assert [bar.is_final for bar in bars] == [True, False]
    assert bars[0] == Kline(
        "BCHSVUSDT",
        "1m",
        1619378280000,
        1619378339999,
        D(first[1]),
        D(first[3]),
        D(first[4]),
        D(first[2]),
        D(first[5]),
        quote_volume=D(first[6]),
        is_final=True,
    )


def test_reimporting_the_same_files_adds_nothing(md_db):
    files = [*rest_book_files(), real_file(WS_PART_A)]
    first = import_files(md_db, "kucoin", *files)
    before = store_counts(md_db)
    second = import_files(md_db, "kucoin", *files)
    assert first.count("depth") > 0 and first.count("bbo") == 717
    assert sum(second.written.values()) == 0
    assert store_counts(md_db) == before


def test_crypto_msg_parser_file_names_no_symbol_for_its_rest_book(md_db):
    path = real_file("kucoin/cryptomsgparser_kucoin_messages_spot_linear.jsonl")
    line = next(i for i, m in enumerate(read_jsonl(path), 1) if "code" in m and "time" in m["data"])
    with pytest.raises(ImportFileError) as error:
        import_files(md_db, "kucoin", path)
    assert error.value.line == line == 17
    assert "cannot tell the symbol" in error.value.reason
    assert store_counts(md_db) == {}


def test_crypto_msg_parser_messages_with_a_forced_symbol(md_db):
    path = real_file("kucoin/cryptomsgparser_kucoin_messages_spot_linear.jsonl")
    messages = read_jsonl(path)
    assert len(messages) == 19  # SOURCES.md
    report = import_files(md_db, "kucoin", path, symbol="BTCUSDT")
    assert report.count("trade", "BTCUSDT") == 2
    assert report.count("bbo", "BTCUSDT") == 3  # spot ticker, ticker:all, futures tickerV2
    assert report.count("depth", "BTCUSDT") == 4  # two Depth5 pushes, two REST books
    assert report.count("kline 1w", "BTCUSDT") == 2  # the spot and the futures weekly bar
    assert report.skipped == Counter(
        {
            "kucoin /spotMarket/level3": 1,
            "kucoin /contractMarket/level3v2": 1,
            "kucoin /market/snapshot": 1,
            "kucoin /contractMarket/snapshot": 1,
            "kucoin contracts": 1,
            "kucoin level2 update older than its book": 3,  # two spot, one futures: both books are newer
        }
    )
    assert report.warnings == []
    with md_db.engine.connect() as connection:
        trades = store.trades_between(connection, "BTCUSDT", 0, FAR)
        futures_depth = store.depth_at(connection, "BTCUSDT", 1653992430005)
        bbo = store.bbo_at(connection, "BTCUSDT", FAR)
        weekly = store.klines(connection, "BTCUSDT", "1w", 0, FAR)
    assert trades == [
        Trade("BTCUSDT", 1616362370760, D("57659.6"), D("0.00013064"), False, "6057bb822e113d292396c272"),
        Trade("BTCUSDT", 1616362645429, D("57850"), D("0.016"), False, "6057bc953c7feb667195bac9"),
    ]
    assert futures_depth.time == 1653992430005
    assert futures_depth.bids[:2] == ((D("31607"), D("16.350")), (D("31606"), D("7.183")))
    assert bbo == Bbo("BTCUSDT", 1654032807465, D("31766.0"), D("20.074"), D("31767.0"), D("1.187"))
    spot_week, futures_week = weekly
    assert (spot_week.open, spot_week.close, spot_week.high, spot_week.low) == (
        D("29543.6"),
        D("31613.8"),
        D("32406.7"),
        D("28014.1"),
    )
    assert futures_week.open_time == 1653868800000 and futures_week.volume == D("113774.348")
    assert not spot_week.is_final and not futures_week.is_final


def test_tardis_futures_messages_with_the_default_map(md_db):
    path = real_file("kucoin/tardisnode_kucoin_futures.jsonl")
    messages = read_jsonl(path)
    by_symbol = Counter(
        m["topic"].split(":")[1] for m in messages if m["topic"].startswith("/contractMarket")
    )
    report = import_files(md_db, "kucoin", path)
    assert report.unmapped == Counter(
        {"kucoin:MYROUSDTM": by_symbol["MYROUSDTM"], "kucoin:AUCTIONUSDTM": by_symbol["AUCTIONUSDTM"]}
    )
    assert by_symbol["MYROUSDTM"] == 5
    assert report.skipped == Counter({"kucoin /contract/details": 1, "kucoin /contract/instrument": 6})
    assert report.warnings == []
    with md_db.engine.connect() as connection:
        sol = store.trades_between(connection, "SOLUSDT", 0, FAR)
        btc = store.trades_between(connection, "BTCUSDT", 0, FAR)
    assert sol == [Trade("SOLUSDT", 1705708799998, D("93.624"), D("1.0"), True, "1701197946092")]
    assert btc == [Trade("BTCUSDT", 1706068863101, D("39615"), D("0.001"), True, "1728107666597")]
    assert store_counts(md_db).keys() == {("SOLUSDT", "trade", None), ("BTCUSDT", "trade", None)}


def test_tardis_level2_waits_for_its_generated_snapshot(md_db, tmp_path):
    user_map = tmp_path / "map.json"
    user_map.write_text(
        json.dumps(
            {
                "kucoin": {
                    "MYROUSDTM": "MYROUSDT",
                    "AUCTIONUSDTM": {"symbol": "AUCTIONUSDT", "lot_size": "0.1"},
                }
            }
        )
    )
    path = real_file("kucoin/tardisnode_kucoin_futures.jsonl")
    report = import_files(md_db, "kucoin", path, symbol_map=user_map, depth_interval_ms=0)
    # 1705386314549 is older than the snapshot (…391); …392, …393 were waiting and apply; …394 follows
    assert report.skipped["kucoin level2 update older than its book"] == 1
    assert report.warnings == [] and report.unmapped == Counter()
    with md_db.engine.connect() as connection:
        depth = store.depth_at(connection, "MYROUSDT", FAR)
        bbo = store.bbo_at(connection, "AUCTIONUSDT", FAR)
    # the generated snapshot's ts is later than the updates' timestamps: the book keeps its latest time
    assert depth == Depth(
        "MYROUSDT", 1705881600412, ((D("0.3"), D("3")), (D("0.21557"), D("30")), (D("0.20645"), D("1"))), ()
    )
    assert bbo == Bbo("AUCTIONUSDT", 1705708800078, D("24.067"), D("26.0"), D("24.08"), D("25.0"))


# --- the API document's examples ---------------------------------------------------------------------


def test_all_tickers_give_bbo_and_last_trade_in_base_units(md_db, tmp_path):
    report = import_files(md_db, "kucoin", write(tmp_path, "allTickers.json", ALL_TICKERS))
    assert report.unmapped == Counter({"kucoin:XBTUSDM": 1})  # inverse, sized in USD: no map entry
    with md_db.engine.connect() as connection:
        bbo = store.bbo_at(connection, "BTCUSDT", FAR)
        trades = store.trades_between(connection, "BTCUSDT", 0, FAR)
    assert bbo == Bbo("BTCUSDT", 1729163466659, D("67153"), D("2.767"), D("67153.1"), D("5.368"))
    assert trades == [Trade("BTCUSDT", 1729163466659, D("67153"), D("0.021"), True, "1784299761369")]


def test_all_tickers_in_an_envelope_date_the_quotes_at_receive_time(md_db, tmp_path):
    compact = json.dumps(json.loads(ALL_TICKERS))
    report = import_files(md_db, "kucoin", write(tmp_path, "poll.jsonl", envelope(1729163467000, compact)))
    assert report.count("bbo", "BTCUSDT") == 1 and report.count("trade", "BTCUSDT") == 1
    with md_db.engine.connect() as connection:
        assert store.bbo_at(connection, "BTCUSDT", FAR).time == 1729163467000
        assert store.trades_between(connection, "BTCUSDT", 0, FAR)[0].time == 1729163466659


def test_depth20_of_an_inverse_contract_is_unmapped(md_db, tmp_path):
    report = import_files(md_db, "kucoin", write(tmp_path, "depth20.json", DEPTH20))
    assert report.unmapped == Counter({"kucoin:XBTUSDM": 1})
    assert store_counts(md_db) == {}


def test_depth20_of_a_mapped_contract_in_lots(md_db, tmp_path):
    report = import_files(
        md_db, "kucoin", write(tmp_path, "depth20.json", DEPTH20.replace("XBTUSDM", "XBTUSDTM"))
    )
    assert report.count("depth", "BTCUSDT") == 1
    with md_db.engine.connect() as connection:
        depth = store.depth_at(connection, "BTCUSDT", FAR)
    assert depth == Depth(
        "BTCUSDT",
        1729168101216,
        ((D("66968"), D("0.002")), (D("66964.8"), D("25.596"))),
        ((D("66968.1"), D("13.501")), (D("66968.7"), D("2.032"))),
    )


def test_kline_query_reads_symbol_from_file_name_and_interval_from_spacing(md_db, tmp_path):
    report = import_files(md_db, "kucoin", write(tmp_path, "XBTUSDTM_klines.json", KLINES))
    assert report.count("kline 1m", "BTCUSDT") == 2
    with md_db.engine.connect() as connection:
        first, last = store.klines(connection, "BTCUSDT", "1m", 0, FAR)
    assert first == Kline(
        "BTCUSDT",
        "1m",
        1757659080000,
        1757659139999,
        D("115328.4"),
        D("115328.4"),
        D("115284.2"),
        D("115284.2"),
        D("0.602"),
        quote_volume=D("69424.9528"),
        is_final=True,
    )
    assert last.volume == D("0.114") and not last.is_final  # no receive time: it may still be forming


def test_kline_query_in_an_envelope_is_final_by_receive_time(md_db, tmp_path):
    path = write(
        tmp_path, "klines.jsonl", envelope(1757659200000, KLINES.replace("\n", ""), symbol="XBTUSDTM")
    )
    import_files(md_db, "kucoin", path)
    with md_db.engine.connect() as connection:
        bars = store.klines(connection, "BTCUSDT", "1m", 0, FAR)
    assert [bar.is_final for bar in bars] == [True, True]


def test_kline_query_with_one_bar_is_skipped_with_a_warning(md_db, tmp_path):
    one = '{"code": "200000", "data": [[1757659080000, 1, 2, 1, 2, 5, 10]]}'
    report = import_files(md_db, "kucoin", write(tmp_path, "XBTUSDTM.json", one))
    assert report.skipped == Counter({"kucoin kline query with a single bar": 1})
    assert len(report.warnings) == 1 and "interval cannot be told" in report.warnings[0]
    assert store_counts(md_db) == {}


def test_interval_in_a_recorder_envelope_is_used_for_a_lone_bar(md_db, tmp_path):
    one = '{"code": "200000", "data": [[1757659080000, 1, 2, 1, 2, 5, 10]]}'
    line = envelope(1757659500000, one, symbol="XBTUSDTM").replace('"data":', '"interval": "5m", "data":', 1)
    report = import_files(md_db, "kucoin", write(tmp_path, "rec.jsonl", line))
    assert report.count("kline 5m", "BTCUSDT") == 1
    assert report.warnings == []


def test_single_bar_page_takes_the_spacing_of_earlier_pages_in_the_file(md_db, tmp_path):
    """The recorder pages a range 500 bars at a time; the last page may hold one bar."""
    last_page = '{"code": "200000", "data": [[1757659200000, 115273.0, 115280, 115270, 115275, 3, 345.8]]}'
    path = write(
        tmp_path,
        "record.jsonl",
        envelope(1757659150000, KLINES.replace("\n", ""), symbol="XBTUSDTM"),
        envelope(1757659300000, last_page, symbol="XBTUSDTM"),
    )
    report = import_files(md_db, "kucoin", path)
    assert report.warnings == [] and report.skipped == Counter()
    with md_db.engine.connect() as connection:
        bars = store.klines(connection, "BTCUSDT", "1m", 0, FAR)
    assert [(bar.open_time, bar.is_final) for bar in bars] == [
        (1757659080000, True),
        (1757659140000, False),  # received before it closed (it was final in no later page)
        (1757659200000, True),
    ]


def test_kline_query_with_no_known_spacing_is_refused(md_db, tmp_path):
    odd = (
        '{"code": "200000", "data": [[1757659080000, 1, 2, 1, 2, 5, 10], [1757659170000, 1, 2, 1, 2, 5, 10]]}'
    )
    with pytest.raises(ImportFileError) as error:
        import_files(md_db, "kucoin", write(tmp_path, "XBTUSDTM.json", odd))
    assert "90000 ms apart" in str(error.value)


def test_ticker_v2_and_level2_depth50(md_db, tmp_path):
    report = import_files(md_db, "kucoin", write(tmp_path, "ws.jsonl", TICKER_V2, DEPTH50))
    assert report.count("bbo", "BTCUSDT") == 1 and report.count("depth", "BTCUSDT") == 1
    with md_db.engine.connect() as connection:
        bbo = store.bbo_at(connection, "BTCUSDT", FAR)
        depth = store.depth_at(connection, "BTCUSDT", FAR)
    assert bbo == Bbo("BTCUSDT", 1740641976241, D("86454.5"), D("5.044"), D("86454.6"), D("0.073"))
    assert depth == Depth(
        "BTCUSDT",
        1731680249700,
        ((D("89778.6"), D("1.534")), (D("89778.2"), D("0.054"))),
        ((D("89778.7"), D("0.854")), (D("89779.2"), D("0.004"))),
    )


def test_user_symbol_map_sets_the_lot_size(md_db, tmp_path):
    user_map = tmp_path / "map.json"
    user_map.write_text(json.dumps({"kucoin": {"XBTUSDTM": {"symbol": "BTCUSDT", "lot_size": "0.01"}}}))
    import_files(md_db, "kucoin", write(tmp_path, "ws.jsonl", TICKER_V2), symbol_map=user_map)
    with md_db.engine.connect() as connection:
        bbo = store.bbo_at(connection, "BTCUSDT", FAR)
    assert (bbo.bid_qty, bbo.ask_qty) == (D("50.44"), D("0.73"))


# --- book sync: buffering, gaps ------------------------------------------------------------------------


def futures_update(sequence: int, change: str, after_t0: int) -> str:
    """A futures level2 update `after_t0` ms after T0."""
    return json.dumps(
        {
            "topic": "/contractMarket/level2:XBTUSDTM",
            "type": "message",
            "subject": "level2",
            "data": {"sequence": sequence, "change": change, "timestamp": T0 + after_t0},
        }
    )


def futures_book(
    sequence: int, after_t0: int, bids: str = '[["100", 10]]', asks: str = '[["101", 20]]'
) -> str:
    return (
        f'{{"code": "200000", "data": {{"sequence": {sequence}, "symbol": "XBTUSDTM", "bids": {bids},'
        f' "asks": {asks}, "ts": {(T0 + after_t0) * 1_000_000}}}}}'
    )


def test_futures_updates_before_the_snapshot_wait_and_then_apply(md_db, tmp_path):
    path = write(
        tmp_path,
        "l2.jsonl",
        futures_update(100, "100,buy,1", 1_000),  # older than the snapshot: dropped at sync
        futures_update(101, "99,buy,5", 1_100),
        futures_book(100, 1_050),
        futures_update(102, "101,sell,0", 2_100),
        futures_update(103, "102,sell,7", 2_200),
    )
    report = import_files(md_db, "kucoin", path)
    assert report.skipped == Counter({"kucoin level2 update older than its book": 1})
    assert report.count("depth", "BTCUSDT") == 2  # the snapshot at 1050; the book at 2100 (1 s later)
    with md_db.engine.connect() as connection:
        at_snapshot = store.depth_at(connection, "BTCUSDT", T0 + 1_050)
        later = store.depth_at(connection, "BTCUSDT", FAR)
    assert at_snapshot == Depth("BTCUSDT", T0 + 1_050, ((D("100"), D("0.010")),), ((D("101"), D("0.020")),))
    assert later == Depth("BTCUSDT", T0 + 2_100, ((D("100"), D("0.010")), (D("99"), D("0.005"))), ())


def test_futures_gap_drops_the_book_until_the_next_snapshot(md_db, tmp_path):
    lines = [
        futures_book(100, 1_000),
        futures_update(101, "99,buy,5", 2_000),
        futures_update(103, "98,buy,5", 3_000),  # 102 is missing
        futures_update(104, "97,buy,5", 5_000),
    ]
    report = import_files(md_db, "kucoin", write(tmp_path, "gap.jsonl", *lines))
    assert len(report.warnings) == 2
    assert (
        "gap.jsonl:3: kucoin XBTUSDTM: level2 sequence gap (book at 101, update starts at 103)"
        in report.warnings[0]
    )
    assert report.warnings[1] == "kucoin XBTUSDTM: 2 level2 updates never got a snapshot"
    assert report.skipped["kucoin level2 update without a snapshot"] == 2
    assert report.count("depth", "BTCUSDT") == 2  # the snapshot and the book at 2000, nothing after the gap

    resync = write(tmp_path, "resync.jsonl", *lines, futures_book(103, 3_500, bids='[["98", 5]]'))
    other = import_files(md_db, "kucoin", resync)
    assert len(other.warnings) == 1  # the gap; the waiting 104 applies after the new snapshot
    with md_db.engine.connect() as connection:
        final = store.depth_at(connection, "BTCUSDT", FAR)
    assert final == Depth(
        "BTCUSDT", T0 + 5_000, ((D("98"), D("0.005")), (D("97"), D("0.005"))), ((D("101"), D("0.020")),)
    )


def spot_update(start: int, end: int, bids: list[list[str]], time: int | None = None) -> str:
    data: dict[str, Any] = {
        "sequenceStart": start,
        "sequenceEnd": end,
        "symbol": "BTC-USDT",
        "changes": {"asks": [], "bids": bids},
    }
    if time is not None:
        data["time"] = time
    return json.dumps(
        {"topic": "/market/level2:BTC-USDT", "type": "message", "subject": "trade.l2update", "data": data}
    )


def test_spot_update_overlapping_the_snapshot_applies_only_newer_changes(md_db, tmp_path):
    book = json.dumps(
        {
            "code": "200000",
            "data": {"time": T0 + 5000, "sequence": "10", "bids": [["1", "1"]], "asks": [["3", "1"]]},
        }
    )
    path = write(
        tmp_path,
        "spot_BTC-USDT.jsonl",
        book,
        spot_update(
            9, 11, [["1", "0", "9"], ["2", "4", "11"]], time=T0 + 7000
        ),  # "1" at 9 is older than the book
        spot_update(13, 13, [["2", "0", "13"]], time=T0 + 8000),  # 12 is missing
    )
    report = import_files(md_db, "kucoin", path)
    assert len(report.warnings) == 2 and "book at 11, update starts at 13" in report.warnings[0]
    with md_db.engine.connect() as connection:
        final = store.depth_at(connection, "BTCUSDT", FAR)
    assert final == Depth("BTCUSDT", T0 + 7000, ((D("2"), D("4")), (D("1"), D("1"))), ((D("3"), D("1")),))


def test_waiting_updates_are_bounded(md_db, tmp_path, monkeypatch):
    monkeypatch.setattr(kucoin, "PENDING_LIMIT", 2)
    path = write(
        tmp_path,
        "l2.jsonl",
        futures_update(101, "99,buy,5", 1_100),
        futures_update(102, "98,buy,5", 1_200),
        futures_update(103, "97,buy,5", 1_300),
        futures_book(100, 1_000),
    )
    report = import_files(md_db, "kucoin", path)
    assert report.skipped["kucoin level2 update dropped: too many waiting for a snapshot"] == 1
    assert "book at 100, update starts at 102" in report.warnings[0]  # 101 was the one let go


# --- bad and irrelevant input ----------------------------------------------------------------------------


def test_malformed_message_fails_with_its_line_and_writes_nothing(md_db, tmp_path):
    bad = TICKER_V2.replace('"bestBidPrice": "86454.5"', '"bestBidPrice": "eighty"')
    path = write(tmp_path, "bad.jsonl", DEPTH50, bad)
    with pytest.raises(ImportFileError) as error:
        import_files(md_db, "kucoin", path)
    assert str(error.value) == f"{path}:2: bestBidPrice is not a number: 'eighty'"
    assert store_counts(md_db) == {}


def test_bad_level2_change_is_malformed(md_db, tmp_path):
    path = write(tmp_path, "bad.jsonl", futures_book(100, 1_000), futures_update(101, "99;buy;5", 1_100))
    with pytest.raises(ImportFileError) as error:
        import_files(md_db, "kucoin", path)
    assert error.value.line == 2 and "change is not 'price,buy|sell,size'" in error.value.reason
    assert store_counts(md_db) == {}


def test_error_envelopes_and_control_messages_are_skipped(md_db, tmp_path):
    path = write(
        tmp_path,
        "misc.jsonl",
        '{"id": "abc", "type": "welcome"}',
        '{"id": "1", "type": "pong"}',
        '{"code": "400100", "msg": "symbol not exists"}',
        json.dumps(
            {
                "topic": "/contract/instrument:XBTUSDTM",
                "type": "message",
                "subject": "funding.rate",
                "data": {},
            }
        ),
    )
    report = import_files(md_db, "kucoin", path)
    assert report.skipped == Counter(
        {"kucoin welcome": 1, "kucoin pong": 1, "kucoin error response": 1, "kucoin /contract/instrument": 1}
    )
    assert report.warnings == [f"{path}:3: kucoin error response 400100: symbol not exists"]
    assert store_counts(md_db) == {}
