"""Binance public-data CSV: the real samples, the layouts as downloaded (header, zip, microseconds), and
what a bad file does."""

from __future__ import annotations

import csv
import zipfile
from decimal import Decimal
from pathlib import Path

import pytest

from simulator.marketdata import store
from simulator.marketdata.importer import ImportFileError

from .conftest import import_files, real_file

KLINES = "binance/nautilus_binance_vision_klines_ADABTC-1m-2021-11-27.csv"
AGG_TRADES = "binance/derived_binance_vision_aggTrades_XRPETH_2019-10-11.csv"
TRADES = "binance/derived_binance_vision_trades_BTCUSDT_2024-08-08.csv"
KLINE_ROW = (
    "1735689600000,93576.00,93610.93,93537.50,93610.93,8.21827,1735689659999,768978.12,1564,3.21,300489.04,0"
)


def rows_of(path: Path) -> list[list[str]]:
    with path.open(newline="") as handle:
        return [row for row in csv.reader(handle) if row]


def test_real_klines_import_exactly(md_db):
    path = real_file(KLINES)
    report = import_files(md_db, "binance-csv", path)
    assert report.count("kline 1m", "ADABTC") == 10
    with md_db.read() as s:
        bars = store.klines(s, "ADABTC", "1m", 0, 10**13)
    assert len(bars) == 10
    first = bars[0]
    assert (first.open_time, first.close_time) == (1637971200000, 1637971259999)
    assert (first.open, first.high, first.low, first.close) == tuple(
        map(Decimal, ("0.00002853", "0.00002854", "0.00002851", "0.00002854"))
    )
    assert (first.volume, first.quote_volume, first.trade_count) == (
        Decimal("36304.2"),
        Decimal("1.03547608"),
        79,
    )
    assert (first.taker_buy_base, first.taker_buy_quote, first.is_final) == (
        Decimal("19523"),
        Decimal("0.55694227"),
        True,
    )


def test_real_agg_trades_import_every_row(md_db):
    path = real_file(AGG_TRADES)
    rows = rows_of(path)
    assert import_files(md_db, "binance-csv", path).count("trade", "XRPETH") == len(rows) == 5929
    with md_db.read() as s:
        trades = store.trades_between(s, "XRPETH", 0, 10**13)
    assert [t.trade_id for t in trades[:2]] == ["agg-13519807", "agg-13519808"]
    assert (trades[0].price, trades[0].qty, trades[0].buyer_is_maker) == (
        Decimal("0.00141342"),
        Decimal(23),
        True,
    )
    assert sum(t.qty for t in trades) == sum(Decimal(r[2]) for r in rows)


def test_real_trades_import_every_row_and_again_adds_nothing(md_db):
    path = real_file(TRADES)
    rows = rows_of(path)
    assert import_files(md_db, "binance-csv", path).count("trade", "BTCUSDT") == len(rows) == 9757
    assert import_files(md_db, "binance-csv", path).count("trade", "BTCUSDT") == 0
    with md_db.read() as s:
        (coverage,) = store.coverage(s)
    assert (coverage.count, coverage.first, coverage.last) == (9757, int(rows[0][4]), int(rows[-1][4]))


def test_zip_with_header_and_microseconds_as_downloaded(md_db, tmp_path: Path):
    header = "open_time,open,high,low,close,volume,close_time,quote_volume,count,taker_buy_volume,"
    header += "taker_buy_quote_volume,ignore"
    micro = KLINE_ROW.replace("1735689600000,", "1735689600000000,").replace(
        ",1735689659999,", ",1735689659999999,"
    )
    archive = tmp_path / "BTCUSDT-1m-2025-01-01.zip"
    with zipfile.ZipFile(archive, "w") as z:
        z.writestr("BTCUSDT-1m-2025-01-01.csv", f"{header}\n{micro}\n")
    report = import_files(md_db, "binance-csv", archive)
    assert report.count("kline 1m", "BTCUSDT") == 1
    with md_db.read() as s:
        bar = store.kline_at(s, "BTCUSDT", "1m", 1735689600000)
    assert (bar.open_time, bar.close_time, bar.close) == (1735689600000, 1735689659999, Decimal("93610.93"))


def test_interval_is_read_from_open_and_close_times(md_db, tmp_path: Path):
    path = tmp_path / "ETHUSDT-1h.csv"
    path.write_text("1735689600000,1,2,0.5,1.5,10,1735693199999,15,3,4,6,0\n")
    assert import_files(md_db, "binance-csv", path).count("kline 1h", "ETHUSDT") == 1


def test_symbol_option_names_a_file_without_one(md_db, tmp_path: Path):
    path = tmp_path / "trades.csv"
    path.write_text("1,100.5,0.25,25.125,1723161255342,False,True\n")
    with pytest.raises(ImportFileError, match="cannot tell the symbol"):
        import_files(md_db, "binance-csv", path)
    assert import_files(md_db, "binance-csv", path, symbol="SOLUSDT").count("trade", "SOLUSDT") == 1


def test_futures_layouts_without_best_match_column(md_db, tmp_path: Path):
    trades = tmp_path / "BTCUSDT-trades-2024-01-01.csv"
    trades.write_text(
        "id,price,qty,quote_qty,time,is_buyer_maker\n7,42000.1,0.002,84.0002,1704067200000,true\n"
    )
    aggs = tmp_path / "BTCUSDT-aggTrades-2024-01-01.csv"
    aggs.write_text("9,42000.1,0.002,7,7,1704067200000,true\n")
    report = import_files(md_db, "binance-csv", trades, aggs)
    assert report.count("trade", "BTCUSDT") == 2
    with md_db.read() as s:
        assert [t.trade_id for t in store.trades_between(s, "BTCUSDT", 0, 10**13)] == ["7", "agg-9"]


@pytest.mark.parametrize(
    ("bad_row", "reason"),
    [
        (KLINE_ROW.replace("93610.93,8.21827", "93610.93,abc"), "volume is not a number"),
        (KLINE_ROW.replace("93576.00", "-1"), "open is out of range"),
        (KLINE_ROW + ",extra", "a kline row has 12 columns"),
        (KLINE_ROW.replace(",1735689659999,", ",1735689600500,"), "span no known interval"),
    ],
)
def test_a_bad_row_refuses_the_whole_file_with_its_line(md_db, tmp_path: Path, bad_row, reason):
    path = tmp_path / "BTCUSDT-1m.csv"
    good = KLINE_ROW.replace("1735689600000", "1735689540000").replace("1735689659999", "1735689599999")
    path.write_text(f"{good}\n\n{bad_row}\n")
    with pytest.raises(ImportFileError, match=reason) as raised:
        import_files(md_db, "binance-csv", path)
    assert (raised.value.path, raised.value.line) == (str(path), 3)
    assert str(raised.value).startswith(f"{path}:3: ")
    with md_db.read() as s:
        assert store.coverage(s) == []


def test_an_unknown_header_is_refused(md_db, tmp_path: Path):
    path = tmp_path / "BTCUSDT-x.csv"
    path.write_text("when,what\n1,2\n")
    with pytest.raises(ImportFileError, match="unknown header"):
        import_files(md_db, "binance-csv", path)


def test_a_file_that_is_not_a_zip_or_text_is_refused(md_db, tmp_path: Path):
    path = tmp_path / "BTCUSDT-1m.csv"
    path.write_bytes(b"\xff\xfe\x00garbage\n")
    with pytest.raises(ImportFileError, match="not UTF-8"):
        import_files(md_db, "binance-csv", path)


def test_progress_bar_names_the_file_on_stderr_when_asked(md_db, tmp_path: Path, capsys):
    path = tmp_path / "BTCUSDT-1m.csv"
    path.write_text(KLINE_ROW + "\n")
    assert import_files(md_db, "binance-csv", path, progress=True).count("kline 1m", "BTCUSDT") == 1
    assert "BTCUSDT-1m.csv" in capsys.readouterr().err
    import_files(md_db, "binance-csv", path)
    assert capsys.readouterr().err == ""


def trade_lines(count: int, start_ms: int = 1723161600000) -> list[str]:
    return [
        f"{100 + n},6123{n % 10}.5,0.00{n % 7 + 1},1,{start_ms + n},{'true' if n % 2 else 'false'},true"
        for n in range(count)
    ]


def stored_trades(database, symbol):
    with database.read() as s:
        return [
            (t.time, t.trade_id, t.price, t.qty, t.buyer_is_maker)
            for t in store.trades_between(s, symbol, 0, 10**13)
        ]


@pytest.fixture
def small_blocks(monkeypatch):
    """Blocks of a few lines, so that a file of a hundred lines spans many of them."""
    monkeypatch.setattr("simulator.marketdata.importer.BLOCK_BYTES", 300)


def test_a_row_the_block_pattern_refuses_is_read_cell_by_cell_to_the_same_values(
    md_db, tmp_path, small_blocks
):
    plain = trade_lines(100)
    odd = list(plain)
    # The same values spelt in ways only the cell-by-cell reader takes: quoted, exponent, leading zero, µs.
    odd[10] = odd[10].replace("61230.5", '"61230.5"')
    odd[41] = odd[41].replace("61231.5", "6.12315E+4")
    odd[62] = odd[62].replace("61232.5", "061232.5")
    odd[83] = odd[83].replace(",1723161600083,", ",1723161600083000,")
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    (tmp_path / "a" / "BTCUSDT-trades.csv").write_text("\n".join(plain) + "\n")
    (tmp_path / "b" / "ETHUSDT-trades.csv").write_text("\n".join(odd))  # and no newline at the end
    report = import_files(
        md_db, "binance-csv", tmp_path / "a" / "BTCUSDT-trades.csv", tmp_path / "b" / "ETHUSDT-trades.csv"
    )
    assert report.count("trade", "BTCUSDT") == report.count("trade", "ETHUSDT") == 100
    assert stored_trades(md_db, "ETHUSDT") == stored_trades(md_db, "BTCUSDT")
    with md_db.read() as s:
        prices = (
            s.connection()
            .exec_driver_sql("SELECT DISTINCT price FROM md_trades ORDER BY price")
            .scalars()
            .all()
        )
    assert prices == [f"6123{n}.5" for n in range(10)]  # stored as plain text whatever the spelling


def test_a_bad_row_deep_in_a_file_names_its_line(md_db, tmp_path, small_blocks):
    lines = trade_lines(100)
    lines[76] = lines[76].rsplit(",", 2)[0] + ",maybe,true"
    path = tmp_path / "BTCUSDT-trades.csv"
    path.write_text("id,price,qty,quote_qty,time,is_buyer_maker,is_best_match\n\n" + "\n".join(lines) + "\n")
    with pytest.raises(ImportFileError, match="is_buyer_maker is not true/false") as raised:
        import_files(md_db, "binance-csv", path)
    assert raised.value.line == 2 + 77
    with md_db.read() as s:
        assert store.coverage(s) == []


def test_microsecond_trades_and_klines_read_whole(md_db, tmp_path, small_blocks):
    trades = tmp_path / "BTCUSDT-trades.csv"
    trades.write_text("".join(f"{n},1.5,2,3,{1735689600000000 + n * 1000},true,true\n" for n in range(30)))
    klines = tmp_path / "BTCUSDT-1m.csv"
    step = 60_000_000  # a minute in µs
    klines.write_text(
        "".join(
            f"{1735689600000000 + n * step},1,2,0.5,1.5,10,{1735689659999999 + n * step},15,3,4,6,0\n"
            for n in range(30)
        )
    )
    report = import_files(md_db, "binance-csv", trades, klines)
    assert (report.count("trade"), report.count("kline 1m")) == (30, 30)
    with md_db.read() as s:
        assert [t.time for t in store.trades_between(s, "BTCUSDT", 0, 10**13)][:2] == [
            1735689600000,
            1735689600001,
        ]
        assert store.kline_at(s, "BTCUSDT", "1m", 1735689660000).close_time == 1735689719999
