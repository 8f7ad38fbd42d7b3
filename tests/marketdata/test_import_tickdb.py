"""TickDB klines: the documented example verbatim (no real sample exists), symbol-map entries for stocks,
synthetic crypto responses for the two endpoints' finality, error responses and what a bad file does."""

from __future__ import annotations

import json
from decimal import Decimal
from pathlib import Path

import pytest

from simulator.marketdata import store
from simulator.marketdata.importer import ImportFileError

from .conftest import import_files

# The latest-kline example of seeds/000 (code 0, message "success", then its data), data verbatim.
SEED_LATEST = """{
"code": 0,
"message": "success",
"data": [
{
"symbol": "AAPL.US",
"interval": "3m",
"klines": [
{
"time": 1773259020000,
"open": "260.86",
"high": "261.05",
"low": "260.7",
"close": "260.81",
"volume": "963419",
"quote_volume": "251311057.55"
}
]
},
{
"symbol": "00700.HK",
"interval": "3m",
"klines": [
{
"time": 1773293400000,
"open": "542.5",
"high": "544.5",
"low": "542",
"close": "544.5",
"volume": "80300",
"quote_volume": "43656433.33"
}
]
}
]
}"""
HOUR_MS = 3_600_000
T0 = 1773259200000  # an hour boundary
EVERYTHING = (0, 10**13)


def write(tmp_path: Path, name: str, text: str) -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def bar(time: int, o: str, h: str, low: str, c: str, v: str, qv: str | None = "1000") -> dict:
    fields = {"time": time, "open": o, "high": h, "low": low, "close": c, "volume": v}
    return fields if qv is None else {**fields, "quote_volume": qv}


def series(symbol: str, interval: str, *bars: dict) -> dict:
    return {"symbol": symbol, "interval": interval, "klines": list(bars)}


def response(data) -> str:
    return json.dumps({"code": 0, "message": "success", "data": data})


def envelope(recv_ms: int, body: str) -> str:
    return f'{{"recv_ms": {recv_ms}, "venue": "tickdb", "data": {body}}}'


def all_klines(db, symbol: str, interval: str):
    with db.read() as s:
        return store.klines(s, symbol, interval, *EVERYTHING)


def stored_count(db) -> int:
    with db.read() as s:
        return sum(c.count for c in store.coverage(s))


def test_seed_stock_symbols_are_unmapped_without_entries(md_db, tmp_path: Path):
    report = import_files(md_db, "tickdb", write(tmp_path, "latest.json", SEED_LATEST))
    assert dict(report.unmapped) == {"tickdb:AAPL.US": 1, "tickdb:00700.HK": 1}
    assert sum(report.written.values()) == 0 and stored_count(md_db) == 0


def test_seed_stock_symbols_import_through_symbol_map_entries(md_db, tmp_path: Path):
    mapping = write(tmp_path, "map.json", json.dumps({"tickdb": {"AAPL.US": "AAPL", "00700.HK": "HK00700"}}))
    report = import_files(md_db, "tickdb", write(tmp_path, "latest.json", SEED_LATEST), symbol_map=mapping)
    assert dict(report.unmapped) == {}
    assert (report.count("kline 3m", "AAPL"), report.count("kline 3m", "HK00700")) == (1, 1)
    (aapl,) = all_klines(md_db, "AAPL", "3m")
    assert (aapl.open_time, aapl.close_time) == (1773259020000, 1773259199999)
    assert (aapl.open, aapl.high, aapl.low, aapl.close, aapl.volume, aapl.quote_volume) == (
        Decimal("260.86"),
        Decimal("261.05"),
        Decimal("260.7"),
        Decimal("260.81"),
        Decimal("963419"),
        Decimal("251311057.55"),
    )
    assert aapl.is_final is False  # the latest endpoint's bar is still forming
    (tencent,) = all_klines(md_db, "HK00700", "3m")
    assert (tencent.open_time, tencent.low, tencent.close, tencent.quote_volume) == (
        1773293400000,
        Decimal("542"),
        Decimal("544.5"),
        Decimal("43656433.33"),
    )


def test_historical_object_is_final_and_crypto_maps_directly(md_db, tmp_path: Path):
    body = response(
        series(
            "BTCUSDT",
            "1h",
            bar(T0, "70000.5", "70100", "69950.25", "70050", "12.5", "875000.75"),
            bar(T0 + HOUR_MS, "70050", "70200", "70000", "70150.1", "8.125", None),
        )
    )
    report = import_files(md_db, "tickdb", write(tmp_path, "history.json", body))
    assert report.count("kline 1h", "BTCUSDT") == 2 and report.warnings == []
    bars = all_klines(md_db, "BTCUSDT", "1h")
    assert [(b.open_time, b.close_time, b.is_final) for b in bars] == [
        (T0, T0 + HOUR_MS - 1, True),
        (T0 + HOUR_MS, T0 + 2 * HOUR_MS - 1, True),
    ]
    assert (bars[0].low, bars[0].volume, bars[0].quote_volume) == (
        Decimal("69950.25"),
        Decimal("12.5"),
        Decimal("875000.75"),
    )
    assert (bars[1].close, bars[1].quote_volume) == (Decimal("70150.1"), None)


def test_monthly_bar_closes_at_the_end_of_its_month(md_db, tmp_path: Path):
    feb = 1706745600000  # 2024-02-01 UTC
    body = response(series("ETHUSDT", "1M", bar(feb, "1", "2", "1", "2", "3")))
    import_files(md_db, "tickdb", write(tmp_path, "month.json", body))
    (month,) = all_klines(md_db, "ETHUSDT", "1M")
    assert month.close_time == 1709251200000 - 1  # 2024-03-01, leap February


def test_latest_recording_finality_from_recv_ms(md_db, tmp_path: Path):
    forming = envelope(
        T0 + 30 * 60_000,
        response([series("BTCUSDT", "1h", bar(T0, "100", "101", "99", "100.5", "1"))]),
    )
    closed = envelope(
        T0 + HOUR_MS + 5_000,
        response(
            [
                series("BTCUSDT", "1h", bar(T0, "100", "102", "99", "101.75", "2.5")),
                series("ETHUSDT", "1h", bar(T0 + HOUR_MS, "5", "5", "5", "5", "0")),
            ]
        ),
    )
    path = write(tmp_path, "latest.jsonl", f"{forming}\n{closed}\n")
    report = import_files(md_db, "tickdb", path)
    assert report.count("kline 1h", "ETHUSDT") == 1
    (btc,) = all_klines(md_db, "BTCUSDT", "1h")
    assert (btc.is_final, btc.high, btc.close, btc.volume) == (
        True,
        Decimal("102"),
        Decimal("101.75"),
        Decimal("2.5"),
    )
    (eth,) = all_klines(md_db, "ETHUSDT", "1h")
    assert eth.is_final is False  # opened 5 s before recv_ms

    again = import_files(md_db, "tickdb", path)
    assert sum(again.written.values()) == 0
    assert stored_count(md_db) == 2


def test_forming_bar_does_not_replace_a_final_one(md_db, tmp_path: Path):
    history = response(series("BTCUSDT", "1h", bar(T0, "100", "102", "99", "101.75", "2.5")))
    stale = response([series("BTCUSDT", "1h", bar(T0, "100", "101", "99", "100.5", "1"))])
    import_files(md_db, "tickdb", write(tmp_path, "history.json", history))
    report = import_files(md_db, "tickdb", write(tmp_path, "latest.json", stale))
    assert sum(report.written.values()) == 0
    (btc,) = all_klines(md_db, "BTCUSDT", "1h")
    assert (btc.close, btc.is_final) == (Decimal("101.75"), True)


def test_error_responses_are_reported_not_imported(md_db, tmp_path: Path):
    lines = [
        json.dumps({"code": 1001, "message": "AMBIGUOUS_SYMBOL", "data": None}),
        envelope(T0, json.dumps({"code": "RATE_LIMITED", "message": "slow down"})),
    ]
    report = import_files(md_db, "tickdb", write(tmp_path, "errors.jsonl", "\n".join(lines)))
    assert report.skipped["tickdb error response"] == 2
    assert [w.split(": ", 1)[1] for w in report.warnings] == [
        "tickdb error response: 1001: AMBIGUOUS_SYMBOL",
        "tickdb error response: RATE_LIMITED: slow down",
    ]
    assert stored_count(md_db) == 0


def test_reimport_adds_nothing(md_db, tmp_path: Path):
    mapping = write(tmp_path, "map.json", json.dumps({"tickdb": {"AAPL.US": "AAPL", "00700.HK": "HK00700"}}))
    path = write(tmp_path, "latest.json", SEED_LATEST)
    assert sum(import_files(md_db, "tickdb", path, symbol_map=mapping).written.values()) == 2
    again = import_files(md_db, "tickdb", path, symbol_map=mapping)
    assert sum(again.written.values()) == 0
    assert stored_count(md_db) == 2


GOOD_BAR = bar(T0, "1", "2", "1", "2", "3")


def without(key: str) -> dict:
    return {k: v for k, v in GOOD_BAR.items() if k != key}


@pytest.mark.parametrize(
    ("bad_series", "reason"),
    [
        (series("BTCUSDT", "1h", without("close")), "has no 'close' field"),
        (series("BTCUSDT", "1h", without("time")), "has no 'time' field"),
        (series("BTCUSDT", "1h", {**GOOD_BAR, "close": "n/a"}), "BTCUSDT close is not a number"),
        (series("BTCUSDT", "1h", {**GOOD_BAR, "volume": None}), "BTCUSDT volume is not a number"),
        (series("BTCUSDT", "1h", {**GOOD_BAR, "quote_volume": "-1"}), "BTCUSDT quote_volume is out of range"),
        (series("BTCUSDT", "1h", {**GOOD_BAR, "time": "noon"}), "BTCUSDT time is not an integer"),
        (series("BTCUSDT", "1h", ["1", "2"]), "a BTCUSDT kline is not an object"),
        (series("BTCUSDT", "2m", GOOD_BAR), "unknown interval '2m'"),
        ({"symbol": "BTCUSDT", "interval": "1h", "klines": {}}, "klines is not a list"),
        ({"symbol": "BTCUSDT", "interval": "1h"}, "has no 'klines' field"),
        (series("AAPL.US", "1h", {**GOOD_BAR, "open": "x"}), "AAPL.US open is not a number"),  # unmapped too
    ],
)
def test_malformed_kline_names_file_and_line_and_writes_nothing(md_db, tmp_path: Path, bad_series, reason):
    good = response([series("BTCUSDT", "1h", GOOD_BAR)])
    bad = envelope(T0, response([series("ETHUSDT", "1h", GOOD_BAR), bad_series]))
    path = write(tmp_path, "bad.jsonl", f"{good}\n{bad}\n")
    with pytest.raises(ImportFileError) as caught:
        import_files(md_db, "tickdb", path)
    assert (caught.value.path, caught.value.line) == (str(path), 2)
    assert reason in caught.value.reason
    assert str(caught.value).startswith(f"{path}:2: ")
    assert stored_count(md_db) == 0


@pytest.mark.parametrize(
    "body",
    [
        '{"foo": 1}',
        "[1, 2]",
        '{"code": true, "data": []}',
        '{"code": 0, "message": "success"}',
        '{"code": 0, "data": "klines"}',
        '{"code": null, "data": []}',
    ],
)
def test_unknown_shape_is_malformed(md_db, tmp_path: Path, body):
    path = write(tmp_path, "odd.json", body)
    with pytest.raises(ImportFileError) as caught:
        import_files(md_db, "tickdb", path)
    assert (caught.value.line, caught.value.reason) == (1, "not a tickdb kline response")
