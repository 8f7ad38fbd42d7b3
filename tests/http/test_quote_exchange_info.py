"""GET /api/v1/exchangeInfo: the instrument definitions as stored (every filter), the coins with their
chains as the document lists them, the market clock's time, and the document's other top-level keys."""

from __future__ import annotations

import json
from decimal import Decimal as D
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient

from tests.http.test_auth import WALL_MS, frozen_at

T0 = 1_700_000_000_000
FIXTURES = Path(__file__).resolve().parents[2] / "fixtures"
INSTRUMENTS = {i["symbol"]: i for i in json.loads((FIXTURES / "instruments.json").read_text())}
COINS = sorted(json.loads((FIXTURES / "coins.json").read_text()), key=lambda coin: coin["coinId"])
FILTER_TYPES = [
    "PRICE_FILTER",
    "LOT_SIZE",
    "MIN_NOTIONAL",
    "TRADE_AMOUNT",
    "LIMIT_TRADING",
    "MARKET_TRADING",
    "OPEN_QUOTE",
]
CHAIN_KEYS = [
    "chainType",
    "withdrawFee",
    "minWithdrawQuantity",
    "maxWithdrawQuantity",
    "minDepositQuantity",
    "allowDeposit",
    "allowWithdraw",
]


@pytest.fixture
def app(make_app: Any) -> Flask:
    return make_app(clock_mode="replay", clock_start=T0, clock_speed=D(0), rate_limits=False)


def documented_coin(coin: dict[str, Any]) -> dict[str, Any]:
    return {
        "orgId": coin["orgId"],
        "coinId": coin["coinId"],
        "coinName": coin["coinName"],
        "coinFullName": coin["coinFullName"],
        "allowWithdraw": coin["allowWithdraw"],
        "allowDeposit": coin["allowDeposit"],
        "tokenType": coin["tokenType"],
        "status": coin["status"],
        "chainTypes": [{key: chain[key] for key in CHAIN_KEYS} for chain in coin["chainTypes"]],
    }


def test_everything(client: FlaskClient) -> None:
    response = client.get("/api/v1/exchangeInfo")

    assert response.status_code == 200
    assert response.get_json() == {
        "timezone": "UTC",
        "serverTime": T0,
        "symbols": [INSTRUMENTS[symbol] for symbol in sorted(INSTRUMENTS)],
        "coins": [documented_coin(coin) for coin in COINS],
        "brokerFilters": [],
        "contracts": [],
        "options": [],
        "site": "BMU",
    }


def test_keys_in_the_documents_order(client: FlaskClient) -> None:
    body = json.loads(client.get("/api/v1/exchangeInfo").get_data())

    assert list(body) == [
        "timezone",
        "serverTime",
        "symbols",
        "coins",
        "brokerFilters",
        "contracts",
        "options",
        "site",
    ]


def test_every_symbol_carries_the_seven_filters_with_their_wire_types(client: FlaskClient) -> None:
    symbols = client.get("/api/v1/exchangeInfo").get_json()["symbols"]

    for symbol in symbols:
        filters = {f["filterType"]: f for f in symbol["filters"]}
        assert [f["filterType"] for f in symbol["filters"]] == FILTER_TYPES
        assert isinstance(filters["PRICE_FILTER"]["tickSize"], str)
        assert isinstance(filters["LIMIT_TRADING"]["maxEntrustNum"], int)
        assert isinstance(symbol["retailAllowed"], bool)


def test_one_symbol_keeps_symbols_and_coins(client: FlaskClient) -> None:
    body = client.get("/api/v1/exchangeInfo", query_string={"symbol": "BTCUSDT"}).get_json()

    assert body["symbols"] == [INSTRUMENTS["BTCUSDT"]]
    assert body["coins"] == [documented_coin(coin) for coin in COINS]


@pytest.mark.parametrize(
    ("site", "symbols"), [("UAE", ["USDTAED"]), ("BMU", sorted(set(INSTRUMENTS) - {"USDTAED"}))]
)
def test_site_selects_its_symbols(client: FlaskClient, site: str, symbols: list[str]) -> None:
    body = client.get("/api/v1/exchangeInfo", query_string={"site": site}).get_json()

    assert ([s["symbol"] for s in body["symbols"]], body["site"]) == (symbols, site)


def test_coins_leave_out_the_simulators_own_chain_settings(client: FlaskClient) -> None:
    coins = client.get("/api/v1/exchangeInfo").get_json()["coins"]

    assert all(list(chain) == CHAIN_KEYS for coin in coins for chain in coin["chainTypes"])


@pytest.mark.parametrize(
    ("query", "code", "msg"),
    [
        ({"symbol": "DOGEUSDT"}, "0201", "Instrument not found"),
        ({"site": "HK"}, "-1130", "Illegal parameter 'site'"),
    ],
)
def test_bad_parameters(client: FlaskClient, query: dict[str, str], code: str, msg: str) -> None:
    response = client.get("/api/v1/exchangeInfo", query_string=query)

    assert response.status_code == 400
    assert response.get_json() == {"code": code, "msg": msg}


@pytest.mark.parametrize(
    ("path", "weight"),
    [
        ("/api/v1/exchangeInfo", 5),
        ("/quote/v1/depth?symbol=BTCUSDT", 1),
        ("/quote/v1/depth/merged?symbol=BTCUSDT", 1),
        ("/quote/v1/trades?symbol=BTCUSDT", 1),
        ("/quote/v1/klines?symbol=BTCUSDT&interval=1m", 1),
        ("/quote/v1/ticker/24hr", 1),
        ("/quote/v1/ticker/price", 1),
        ("/quote/v1/ticker/bookTicker?symbol=BTCUSDT", 1),
    ],
)
def test_request_weights(make_app: Any, path: str, weight: int) -> None:
    """With 10 weight a window, an endpoint of weight w answers 10 // w times, then 0003."""
    client = make_app(clock_mode="replay", clock_start=T0, clock_speed=D(0), ip_weight_limit=10).test_client()

    with frozen_at(WALL_MS):  # the weight window cannot roll over between the requests
        statuses = [client.get(path).status_code for _ in range(10 // weight)]
        refused = client.get(path)

    assert statuses == [200] * (10 // weight)
    assert (refused.status_code, refused.get_json()) == (400, {"code": "0003", "msg": "Rate limit exceeded"})
