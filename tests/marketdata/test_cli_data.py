"""`hashkey-sim data import` and `data list` as a user runs them."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
from click.testing import CliRunner

from simulator.cli import main

from .conftest import real_file

KLINES = "binance/nautilus_binance_vision_klines_ADABTC-1m-2021-11-27.csv"


@pytest.fixture(autouse=True)
def no_settings_from_the_environment(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    for name in list(os.environ):
        if name.startswith("HASHKEY_SIM_"):
            monkeypatch.delenv(name)
    monkeypatch.chdir(tmp_path)


@pytest.fixture
def data(tmp_path: Path):
    runner = CliRunner()
    db_url = f"sqlite:///{tmp_path / 'cli.db'}"

    def invoke(*args: str):
        return runner.invoke(main, ["data", *args, "--db", db_url])

    return invoke


def test_import_prints_a_summary_and_list_shows_the_series(data):
    path = real_file(KLINES)
    result = data("import", "--venue", "binance-csv", str(path))
    assert result.exit_code == 0, result.output
    assert "imported 1 file(s)" in result.output
    assert "ADABTC       kline 1m           10 rows" in result.output
    listed = data("list", "--json")
    assert listed.exit_code == 0, listed.output
    assert json.loads(listed.output) == [
        {
            "symbol": "ADABTC",
            "kind": "kline",
            "interval": "1m",
            "count": 10,
            "first": 1637971200000,
            "last": 1637971740000,
        }
    ]
    text = data("list").output
    assert (
        "ADABTC       kline  1m               10  2021-11-27 00:00:00.000   2021-11-27 00:09:00.000" in text
    )


def test_import_json_summary_and_a_second_import_adds_nothing(data):
    path = str(real_file(KLINES))
    data("import", "--venue", "binance-csv", path)
    again = data("import", "--venue", "binance-csv", "--json", path)
    assert again.exit_code == 0, again.output
    summary = json.loads(again.output)
    assert summary["written"] == [{"kind": "kline 1m", "symbol": "ADABTC", "rows": 0}]
    assert summary["files"] == [path]


def test_symbol_option_renames_the_series(data):
    assert (
        data("import", "--venue", "binance-csv", "--symbol", "adausdt", str(real_file(KLINES))).exit_code == 0
    )
    assert [row["symbol"] for row in json.loads(data("list", "--json").output)] == ["ADAUSDT"]


def test_list_of_an_empty_store(data):
    assert data("list").output == "no market data\n"
    assert json.loads(data("list", "--json").output) == []


def test_a_malformed_file_exits_1_with_file_and_line_and_imports_nothing(data, tmp_path: Path):
    good = tmp_path / "BTCUSDT-1m.csv"
    good.write_text("1735689600000,1,2,0.5,1.5,10,1735689659999,15,3,4,6,0\n")
    bad = tmp_path / "ETHUSDT-1m.csv"
    bad.write_text("1735689600000,1,2,0.5,1.5,10,1735689659999,15,3,4,6,0\n1735689660000,x\n")
    result = data("import", "--venue", "binance-csv", str(good), str(bad))
    assert result.exit_code == 1
    assert f"Error: {bad}:2: " in result.output
    assert "BTCUSDT      kline 1m            1 rows" in result.output  # the good file before it stays
    assert [row["symbol"] for row in json.loads(data("list", "--json").output)] == ["BTCUSDT"]


def test_a_bad_symbol_map_is_a_usage_error(data, tmp_path: Path):
    bad_map = tmp_path / "map.json"
    bad_map.write_text("{")
    result = data("import", "--venue", "binance-csv", "--symbol-map", str(bad_map), str(real_file(KLINES)))
    assert result.exit_code == 2
    assert "cannot read symbol map" in result.output


def test_unknown_venue_is_refused(data, tmp_path: Path):
    path = tmp_path / "x.csv"
    path.write_text("")
    result = data("import", "--venue", "bitmex", str(path))
    assert result.exit_code == 2
    assert "'bitmex' is not one of" in result.output
