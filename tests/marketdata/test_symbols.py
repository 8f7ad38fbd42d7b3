"""The symbol map: explicit entries with lot sizes, name derivation, --symbol, and bad map files."""

from __future__ import annotations

import json
from decimal import Decimal
from pathlib import Path

import pytest

from simulator.marketdata.symbols import SymbolMap, SymbolMapError, SymbolTarget, derive_symbol

from .conftest import DEFAULT_SYMBOL_MAP


@pytest.fixture
def default_map() -> SymbolMap:
    return SymbolMap.load(DEFAULT_SYMBOL_MAP)


@pytest.mark.parametrize(
    ("venue", "venue_symbol"),
    [
        ("binance", "btcusdt"),
        ("kucoin", "BTC-USDT"),
        ("mudrex", "btc/usdt"),
        ("tickdb", "BTCUSDT"),
        ("binance", "BTC_USDT"),
        ("kucoin", "XBT-USDT"),
    ],
)
def test_spellings_of_one_pair_land_in_one_symbol(default_map, venue, venue_symbol):
    assert default_map.resolve(venue, venue_symbol) == SymbolTarget("BTCUSDT", Decimal(1))


def test_kucoin_contract_maps_with_its_lot_size(default_map):
    assert default_map.resolve("kucoin", "XBTUSDTM") == SymbolTarget("BTCUSDT", Decimal("0.001"))
    assert default_map.resolve("kucoin", "ETHUSDTM") == SymbolTarget("ETHUSDT", Decimal("0.01"))


def test_contract_without_an_entry_is_unmapped_not_guessed(default_map):
    assert default_map.resolve("kucoin", "MYROUSDTM") is None
    assert default_map.resolve("kucoin", "XBTUSDM") is None  # inverse contract, sized in USD


def test_trailing_m_is_only_a_contract_on_kucoin(default_map):
    assert default_map.resolve("binance", "BTCUSDM") == SymbolTarget("BTCUSDM")


@pytest.mark.parametrize("name", ["AAPL.US", "00700.HK", "", "BTC USDT !", "X"])
def test_names_that_are_not_symbols_do_not_derive(name):
    assert derive_symbol(name) is None


def test_user_map_overrides_the_default(tmp_path: Path):
    user = tmp_path / "map.json"
    user.write_text(
        json.dumps(
            {
                "kucoin": {"XBTUSDTM": {"symbol": "BTCUSDT", "lot_size": "0.01"}, "MYROUSDTM": "MYROUSDT"},
                "*": {"XAUUSD": "XAUUSDT"},
            }
        )
    )
    mapping = SymbolMap.load(DEFAULT_SYMBOL_MAP, user)
    assert mapping.resolve("kucoin", "XBTUSDTM") == SymbolTarget("BTCUSDT", Decimal("0.01"))
    assert mapping.resolve("kucoin", "MYROUSDTM") == SymbolTarget("MYROUSDT")
    assert mapping.resolve("tickdb", "xauusd") == SymbolTarget("XAUUSDT")
    assert mapping.resolve("kucoin", "ETHUSDTM") == SymbolTarget("ETHUSDT", Decimal("0.01"))


def test_forced_symbol_keeps_the_entry_lot_size(default_map):
    forced = SymbolMap.load(DEFAULT_SYMBOL_MAP, forced="btcusdt")
    assert forced.resolve("binance", "anything") == SymbolTarget("BTCUSDT")
    assert forced.resolve("kucoin", "XBTUSDTM") == SymbolTarget("BTCUSDT", Decimal("0.001"))
    assert forced.resolve("kucoin", "MYROUSDTM") is None


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("not json", "cannot read symbol map"),
        ("[]", "an object of venues"),
        ('{"kucoin": []}', "not an object of symbols"),
        ('{"kucoin": {"X": 5}}', "expected a symbol"),
        ('{"kucoin": {"X": "bad name!"}}', "is not a symbol name"),
        ('{"kucoin": {"X": {"symbol": "BTCUSDT", "lot_size": "-1"}}}', "not a positive number"),
        ('{"kucoin": {"X": {"symbol": "BTCUSDT", "lot_size": "abc"}}}', "not a positive number"),
    ],
)
def test_bad_map_files_are_refused_with_the_reason(tmp_path: Path, content, message):
    path = tmp_path / "map.json"
    path.write_text(content)
    with pytest.raises(SymbolMapError, match=message):
        SymbolMap.load(path)
