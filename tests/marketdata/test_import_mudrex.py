"""Mudrex bulk klines: the documented examples verbatim (no real sample exists), synthetic recordings for
interval inference and finality, error responses and what a bad file does."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import pytest

from simulator.marketdata import store
from simulator.marketdata.importer import ImportFileError

from .conftest import import_files

# The examples of the Mudrex "Historical Kline" page (seeds/001), verbatim.
SEED_SINGLE = """{
"success": true,
"data": {
"asset_ticks": {
"btc/usdt": [
[1680312600, 28436.6, 28449.81, 28436.6, 28449.81, 0.742521]
]
}
}
}"""
SEED_BULK = """{
"success": true,
"data": {
"asset_ticks": {
"btc/usdt": [
[1680312600, 28436.6, 28449.81, 28436.6, 28449.81, 0.742521]
],
"eth/usdt": [
[1680312600, 1812.4, 1813.9, 1811.0, 1813.2, 15.20831]
]
}
}
}"""
SEED_ERRORS = """{ "success": false, "errors": [{ "code": 400, "text": "assets are required" }] }
{ "success": false, "errors": [{ "code": 404, "text": "asset not found" }] }
{ "success": false, "errors": [{ "code": 429, "text": "Rate limit exceeded" }] }
{ "success": false, "errors": [{ "code": 500, "text": "something went wrong" }] }
"""
T0 = 1680312600  # seconds, as Mudrex sends open times
MINUTE_MS = 60_000
EVERYTHING = (0, 10**13)


def write(tmp_path: Path, name: str, text: str) -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def candle(open_s: int, o: str, h: str, low: str, c: str, v: str) -> str:
    return f"[{open_s}, {o}, {h}, {low}, {c}, {v}]"


def response(series: dict[str, list[str]]) -> str:
    """A success body, numbers written exactly as given."""
    ticks = ", ".join(f'"{asset}": [{", ".join(candles)}]' for asset, candles in series.items())
    return f'{{"success": true, "data": {{"asset_ticks": {{{ticks}}}}}}}'


def envelope(recv_ms: int, body: str) -> str:
    return f'{{"recv_ms": {recv_ms}, "venue": "mudrex", "interval": "1m", "data": {body}}}'


def all_klines(db, symbol: str, interval: str):
    with db.read() as s:
        return store.klines(s, symbol, interval, *EVERYTHING)


def stored_count(db) -> int:
    with db.read() as s:
        return sum(c.count for c in store.coverage(s))


def test_seed_single_asset_response_imports_exact_values(md_db, tmp_path: Path):
    report = import_files(md_db, "mudrex", write(tmp_path, "btc.json", SEED_SINGLE))
    assert report.count("kline 1m", "BTCUSDT") == 1
    (bar,) = all_klines(md_db, "BTCUSDT", "1m")
    assert (bar.open_time, bar.close_time, bar.is_final) == (1680312600000, 1680312659999, True)
    assert (bar.open, bar.high, bar.low, bar.close, bar.volume) == (
        Decimal("28436.6"),
        Decimal("28449.81"),
        Decimal("28436.6"),
        Decimal("28449.81"),
        Decimal("0.742521"),
    )
    assert (bar.quote_volume, bar.trade_count) == (None, None)
    (warning,) = report.warnings  # one candle shows no spacing: read as 1m, and said so
    assert "one candle per asset" in warning and "read as 1m" in warning


def test_single_candle_responses_are_read_as_1m_with_one_warning_per_file(md_db, tmp_path: Path):
    lines = [response({"btc/usdt": [candle(T0 + 60 * i, "1", "1", "1", "1", "1")]}) for i in range(3)]
    path = write(tmp_path, "polled.jsonl", "\n".join(lines))
    report = import_files(md_db, "mudrex", path)
    assert report.count("kline 1m", "BTCUSDT") == 3
    (warning,) = report.warnings
    assert warning.startswith(f"{path}:1: ")
    other = write(tmp_path, "other.jsonl", lines[0])
    assert len(import_files(md_db, "mudrex", path, other).warnings) == 2  # once for each file of a run


def test_interval_in_a_recorder_envelope_is_used_without_guessing(md_db, tmp_path: Path):
    body = response({"btc/usdt": [candle(T0, "1", "2", "0.5", "1.5", "3")]})
    path = write(tmp_path, "rec.jsonl", envelope(10**13, body).replace('"1m"', '"5m"'))
    report = import_files(md_db, "mudrex", path)
    assert report.count("kline 5m", "BTCUSDT") == 1
    assert report.warnings == []


def test_seed_bulk_response_imports_every_asset(md_db, tmp_path: Path):
    report = import_files(md_db, "mudrex", write(tmp_path, "bulk.json", SEED_BULK))
    assert (report.count("kline 1m", "BTCUSDT"), report.count("kline 1m", "ETHUSDT")) == (1, 1)
    assert len(report.warnings) == 1  # once per file, not per asset
    (eth,) = all_klines(md_db, "ETHUSDT", "1m")
    assert (eth.open_time, eth.open, eth.high, eth.low, eth.close, eth.volume) == (
        1680312600000,
        Decimal("1812.4"),
        Decimal("1813.9"),
        Decimal("1811.0"),
        Decimal("1813.2"),
        Decimal("15.20831"),
    )
    assert all_klines(md_db, "BTCUSDT", "1m")[0].close == Decimal("28449.81")


def test_seed_error_responses_are_reported_not_imported(md_db, tmp_path: Path):
    report = import_files(md_db, "mudrex", write(tmp_path, "errors.jsonl", SEED_ERRORS))
    assert report.skipped["mudrex error response"] == 4
    assert [w.split(": ", 1)[1] for w in report.warnings] == [
        "mudrex error response: 400: assets are required",
        "mudrex error response: 404: asset not found",
        "mudrex error response: 429: Rate limit exceeded",
        "mudrex error response: 500: something went wrong",
    ]
    assert report.warnings[1].startswith(f"{tmp_path / 'errors.jsonl'}:2:")
    assert sum(report.written.values()) == 0 and stored_count(md_db) == 0


def test_interval_is_the_common_spacing_of_all_series_of_a_response(md_db, tmp_path: Path):
    five = 300
    body = response(
        {
            # 5-minute candles with three missing: the spacings are 10m and 15m, both aggregations
            "btc/usdt": [
                candle(T0, "1", "2", "1", "2", "3"),
                candle(T0 + 2 * five, "2", "3", "2", "3", "4"),
                candle(T0 + 5 * five, "3", "4", "3", "4", "5"),
            ],
            # a single candle takes the interval of the response's other series
            "eth/usdt": [candle(T0, "10", "11", "9", "10.5", "7.25")],
        }
    )
    report = import_files(md_db, "mudrex", write(tmp_path, "5m.json", body))
    assert report.warnings == []
    assert (report.count("kline 5m", "BTCUSDT"), report.count("kline 5m", "ETHUSDT")) == (3, 1)
    bars = all_klines(md_db, "BTCUSDT", "5m")
    assert [(b.open_time, b.close_time) for b in bars] == [
        (T0 * 1000, T0 * 1000 + 299_999),
        ((T0 + 2 * five) * 1000, (T0 + 2 * five) * 1000 + 299_999),
        ((T0 + 5 * five) * 1000, (T0 + 5 * five) * 1000 + 299_999),
    ]
    assert all_klines(md_db, "ETHUSDT", "5m")[0].close == Decimal("10.5")


def test_candles_on_month_starts_are_monthly(md_db, tmp_path: Path):
    jan, feb, mar = 1704067200, 1706745600, 1709251200  # 2024-01-01, 02-01, 03-01 UTC
    body = response({"btc/usdt": [candle(t, "1", "1", "1", "1", "1") for t in (jan, feb, mar)]})
    report = import_files(md_db, "mudrex", write(tmp_path, "1mth.json", body))
    assert report.count("kline 1M", "BTCUSDT") == 3
    bars = all_klines(md_db, "BTCUSDT", "1M")
    assert [(b.open_time, b.close_time) for b in bars] == [
        (jan * 1000, feb * 1000 - 1),
        (feb * 1000, mar * 1000 - 1),
        (mar * 1000, 1711929600000 - 1),  # 2024-04-01
    ]


def test_spacing_of_no_mudrex_aggregation_is_skipped_with_a_warning(md_db, tmp_path: Path):
    two_hours = 7200
    body = response({"btc/usdt": [candle(T0 + i * two_hours, "1", "1", "1", "1", "1") for i in range(3)]})
    report = import_files(md_db, "mudrex", write(tmp_path, "2h.json", body))
    assert report.skipped["mudrex klines of unknown aggregation"] == 3
    (warning,) = report.warnings
    assert "7200000 ms apart" in warning
    assert stored_count(md_db) == 0


def test_unmappable_asset_is_counted_and_the_others_imported(md_db, tmp_path: Path):
    body = response(
        {"btc.usdt": [candle(T0, "1", "1", "1", "1", "1")], "btc/usdt": [candle(T0, "2", "2", "2", "2", "2")]}
    )
    report = import_files(md_db, "mudrex", write(tmp_path, "mixed.json", body))
    assert dict(report.unmapped) == {"mudrex:btc.usdt": 1}
    assert report.count("kline 1m") == report.count("kline 1m", "BTCUSDT") == 1
    assert all_klines(md_db, "BTCUSDT", "1m")[0].open == Decimal(2)


def test_recording_with_envelopes_finality_from_recv_ms(md_db, tmp_path: Path):
    t1 = T0 + 60
    t1_ms = t1 * 1000
    first = envelope(
        t1_ms + 30_000,  # the t1 bar is still forming
        response({"btc/usdt": [candle(T0, "1", "2", "1", "2", "5"), candle(t1, "2", "3", "2", "2.5", "1")]}),
    )
    second = envelope(
        t1_ms + MINUTE_MS + 1_000,  # t1 has closed, t1 + 1m is forming
        response(
            {"btc/usdt": [candle(t1, "2", "3.5", "2", "3", "4"), candle(t1 + 60, "3", "3", "3", "3", "1")]}
        ),
    )
    path = write(tmp_path, "recording.jsonl", f"{first}\n{second}\n")
    report = import_files(md_db, "mudrex", path)
    assert report.warnings == []  # two candles per response: the interval is known
    bars = all_klines(md_db, "BTCUSDT", "1m")
    assert [(b.open_time, b.is_final) for b in bars] == [
        (T0 * 1000, True),
        (t1_ms, True),
        (t1_ms + MINUTE_MS, False),
    ]
    assert (bars[1].high, bars[1].close, bars[1].volume) == (Decimal("3.5"), Decimal("3"), Decimal("4"))

    again = import_files(md_db, "mudrex", path)
    assert sum(again.written.values()) == 0
    assert stored_count(md_db) == 3


def test_reimport_adds_nothing(md_db, tmp_path: Path):
    path = write(tmp_path, "bulk.json", SEED_BULK)
    assert sum(import_files(md_db, "mudrex", path).written.values()) == 2
    again = import_files(md_db, "mudrex", path)
    assert sum(again.written.values()) == 0
    assert stored_count(md_db) == 2
    assert all_klines(md_db, "BTCUSDT", "1m")[0].open == Decimal("28436.6")


@pytest.mark.parametrize(
    ("bad_candle", "reason"),
    [
        ("[1680312660, 1, 2, 3, 4]", "is not [open_time, open, high, low, close, volume]"),
        ("[1680312660, 1, 2, 3, 4, 5, 6]", "is not [open_time, open, high, low, close, volume]"),
        ('{"open": 1}', "is not [open_time, open, high, low, close, volume]"),
        ('[1680312660, "abc", 2, 3, 4, 5]', "btc/usdt open is not a number"),
        ("[1680312660, 1, null, 3, 4, 5]", "btc/usdt high is not a number"),
        ("[1680312660, 1, 2, 3, 4, true]", "btc/usdt volume is not a number"),
        ("[1680312660, 1, 2, -3, 4, 5]", "btc/usdt low is out of range"),
        ('["soon", 1, 2, 3, 4, 5]', "btc/usdt open_time is not an integer"),
        ("[1680312500, 1, 2, 3, 4, 5]", "candles are not ascending by open time"),
    ],
)
def test_malformed_candle_names_file_and_line_and_writes_nothing(md_db, tmp_path: Path, bad_candle, reason):
    good = response({"btc/usdt": [candle(T0, "1", "1", "1", "1", "1")]})
    bad = response({"btc/usdt": [candle(T0, "1", "1", "1", "1", "1"), bad_candle]})
    path = write(tmp_path, "bad.jsonl", f"{good}\n{bad}\n")
    with pytest.raises(ImportFileError) as caught:
        import_files(md_db, "mudrex", path)
    assert (caught.value.path, caught.value.line) == (str(path), 2)
    assert reason in caught.value.reason
    assert str(caught.value).startswith(f"{path}:2: ")
    assert stored_count(md_db) == 0


@pytest.mark.parametrize(
    "body",
    [
        '{"foo": 1}',
        "[1, 2]",
        '{"success": true}',
        '{"success": true, "data": {"klines": []}}',
        '{"success": true, "data": {"asset_ticks": []}}',
        '{"success": "yes", "data": {"asset_ticks": {}}}',
    ],
)
def test_unknown_shape_is_malformed(md_db, tmp_path: Path, body):
    path = write(tmp_path, "odd.json", body)
    with pytest.raises(ImportFileError) as caught:
        import_files(md_db, "mudrex", path)
    assert (caught.value.line, caught.value.reason) == (1, "not a mudrex kline response")


def test_series_that_is_not_a_list_is_malformed(md_db, tmp_path: Path):
    path = write(tmp_path, "odd.json", '{"success": true, "data": {"asset_ticks": {"btc/usdt": {}}}}')
    with pytest.raises(ImportFileError, match="asset_ticks 'btc/usdt' is not a list of candles"):
        import_files(md_db, "mudrex", path)
