"""GET /api/v1/account/vipInfo — Get VIP Information: the user's VIP level, 30-day volume and assets in USD,
and per symbol the product type, the asset each side pays its fee in, and the tier's maker/taker rates."""

from __future__ import annotations

import json
from decimal import Decimal as D
from pathlib import Path
from typing import Any

import pytest
from flask import Flask

from simulator.domain.matching.orders import OrderType, Side
from simulator.marketdata.records import Trade
from simulator.services import clock
from simulator.storage import tables
from tests.conftest import Signer
from tests.http.test_account import credit
from tests.http.test_account_trades import DAY_MS, NOW, book, database_of, market_buy, place, record
from tests.http.test_orders import call
from tests.http.test_orders import place as place_order

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures"


@pytest.fixture
def app(make_app) -> Flask:
    """A stopped market clock at NOW, as in test_account_trades."""
    return make_app(clock_mode="replay", clock_start=NOW, clock_speed=D(0))


def vip_info(client, signer: Signer, **params: Any):
    return client.get("/api/v1/account/vipInfo", **signer.ccxt("GET", **params))


def set_vip_level(app: Flask, user_id: str, level: int) -> None:
    with database_of(app).write() as session:
        session.get(tables.User, user_id).vip_level = level


def fixture_symbols() -> list[str]:
    return [s["symbol"] for s in json.loads((FIXTURES / "instruments.json").read_text())]


def test_a_new_user_sees_vip_0_and_the_fees_of_every_symbol(client, create_account, account, signer):
    response = vip_info(client, signer)

    body = response.get_json()
    assert response.status_code == 200
    assert {name: body[name] for name in ("code", "vipLevel", "tradeVol30Day")} == {
        "code": 0,
        "vipLevel": "0",
        "tradeVol30Day": "0",
    }
    assert [entry["symbol"] for entry in body["data"]] == sorted(fixture_symbols())
    assert body["updateTimestamp"] == str(NOW)


def test_fields_come_in_the_order_of_the_documents_example(client, signer):
    body = vip_info(client, signer, symbols="BTCUSDT").get_json()

    assert list(body) == ["code", "vipLevel", "tradeVol30Day", "totalAssetBal", "data", "updateTimestamp"]
    assert list(body["data"][0]) == [
        "symbol",
        "productType",
        "buyMakerFeeCurrency",
        "buyTakerFeeCurrency",
        "sellMakerFeeCurrency",
        "sellTakerFeeCurrency",
        "actualMakerRate",
        "actualTakerRate",
    ]


def test_a_token_token_symbol_charges_buys_in_base_and_sells_in_quote(client, signer):
    body = vip_info(client, signer, symbols="ETHBTC").get_json()

    assert body["data"] == [
        {
            "symbol": "ETHBTC",
            "productType": "Token-Token",
            "buyMakerFeeCurrency": "ETH",
            "buyTakerFeeCurrency": "ETH",
            "sellMakerFeeCurrency": "BTC",
            "sellTakerFeeCurrency": "BTC",
            "actualMakerRate": "0.0012",
            "actualTakerRate": "0.0012",
        }
    ]


@pytest.mark.parametrize("token_type", ["REAL_MONEY", "FIAT"])  # FIAT: seeded before 2026-12-05
def test_a_symbol_quoted_in_fiat_is_token_fiat_paying_both_sides_fees_in_the_fiat(
    app, client, signer, token_type
):
    """As the document's example answer shows BTCHKD."""
    with database_of(app).write() as session:
        coin = session.get(tables.Coin, "HKD")
        coin.definition = coin.definition.replace('"REAL_MONEY"', json.dumps(token_type))
    body = vip_info(client, signer, symbols="BTCHKD").get_json()

    assert body["data"] == [
        {
            "symbol": "BTCHKD",
            "productType": "Token-Fiat",
            "buyMakerFeeCurrency": "HKD",
            "buyTakerFeeCurrency": "HKD",
            "sellMakerFeeCurrency": "HKD",
            "sellTakerFeeCurrency": "HKD",
            "actualMakerRate": "0.0015",
            "actualTakerRate": "0.0015",
        }
    ]


@pytest.mark.parametrize(
    ("symbol", "buy_fee", "sell_fee"), [("BTCUSDT", "BTC", "USDT"), ("BTCUSD", "USD", "USD")]
)
def test_the_fee_currencies_are_those_fills_are_charged_in(
    client, account, signer, symbol, buy_fee, sell_fee
):
    app = client.application
    credit(client, account["accountId"], "USD", "1000")
    record(app, book(symbol, NOW - 1000))
    market_buy(app, NOW - 900, account["accountId"], "0.1", symbol=symbol)
    place(app, NOW - 800, account["accountId"], Side.SELL, OrderType.MARKET, quantity=D("0.1"), symbol=symbol)
    fills = client.get("/api/v1/account/trades", **signer.ccxt("GET", symbol=symbol)).get_json()

    (entry,) = vip_info(client, signer, symbols=symbol).get_json()["data"]

    sell, buy = fills
    assert (buy["isBuyer"], buy["commissionAsset"], entry["buyTakerFeeCurrency"]) == (True, buy_fee, buy_fee)
    assert (sell["isBuyer"], sell["commissionAsset"], entry["sellTakerFeeCurrency"]) == (
        False,
        sell_fee,
        sell_fee,
    )


def test_a_higher_vip_level_shows_its_tiers_rates(client, account, signer):
    set_vip_level(client.application, account["userId"], 1)

    body = vip_info(client, signer, symbols="BTCUSDT,BTCUSD").get_json()

    assert body["vipLevel"] == "1"
    assert [(e["symbol"], e["actualMakerRate"], e["actualTakerRate"]) for e in body["data"]] == [
        ("BTCUSD", "0.0011", "0.0012"),
        ("BTCUSDT", "0.0008", "0.0009"),
    ]


def test_a_sub_account_key_sees_its_users_level(client, account, sub_signer):
    set_vip_level(client.application, account["userId"], 7)

    body = vip_info(client, sub_signer, symbols="BTCUSDT").get_json()

    assert (body["vipLevel"], body["data"][0]["actualMakerRate"]) == ("7", "0")


# ---------------------------------------------------------------------------- symbols filter


def test_symbols_lists_those_symbols_in_symbol_order_once_each(client, signer):
    body = vip_info(client, signer, symbols="USDTUSD, ETHUSDT,USDTUSD").get_json()

    assert [entry["symbol"] for entry in body["data"]] == ["ETHUSDT", "USDTUSD"]


def test_an_unknown_symbol_is_instrument_not_found_before_the_market_catches_up(client, account, signer):
    app = client.application
    record(app, book("BTCUSDT", NOW - 1000), Trade("BTCUSDT", NOW + 500, D("90"), D("1"), True, "1"))
    place(app, NOW, account["accountId"], Side.BUY, OrderType.LIMIT, price=D("95"), quantity=D("0.1"))
    with database_of(app).write() as session:  # the clock moves past the print; nothing applied yet
        clock.write_clock(session, clock.read_clock(session).advanced(1_000, 0))

    response = vip_info(client, signer, symbols="BTCUSDT,DOGEUSDT")

    assert (response.status_code, response.get_json()) == (
        400,
        {"code": "0201", "msg": "Instrument not found"},
    )
    with database_of(app).read() as session:
        assert session.query(tables.Fill).count() == 0  # the refusal wrote nothing


@pytest.mark.parametrize("symbols", ["BTCUSDT,", ",", "BTCUSDT,,ETHUSDT"])
def test_an_empty_symbol_name_is_illegal(client, signer, symbols):
    response = vip_info(client, signer, symbols=symbols)

    assert (response.status_code, response.get_json()) == (
        400,
        {"code": "-1130", "msg": "Illegal parameter 'symbols'"},
    )


# ---------------------------------------------------------------------------- volume and assets in USD


def test_total_assets_value_stablecoins_at_par_and_others_at_the_books_mid(client, account, signer):
    record(client.application, book("BTCUSDT", NOW - 1000))  # mid 100.5

    body = vip_info(client, signer, symbols="BTCUSDT").get_json()

    assert body["totalAssetBal"] == "1050.25"  # 1000 USDT + 0.5 BTC x 100.5


def test_an_asset_without_a_usd_price_counts_as_nothing(client, account, signer):
    body = vip_info(client, signer, symbols="BTCUSDT").get_json()

    assert body["totalAssetBal"] == "1000"  # no BTC price recorded near now


def test_without_a_book_an_asset_is_valued_at_the_last_trade_as_the_mark_price_takes_it(
    client, account, signer
):
    """No book and no order ever on BTCUSDT: its last trade is the recording's print of the last minute."""
    record(client.application, Trade("BTCUSDT", NOW - 1000, D("90"), D("1"), False, "print"))

    body = vip_info(client, signer, symbols="BTCUSDT").get_json()

    assert body["totalAssetBal"] == "1045"  # 1000 USDT + 0.5 BTC x 90


def test_total_assets_add_up_every_account_of_the_user(client, account, signer):
    sub = next(a for a in account["accounts"] if a.get("keyType") == "sub")
    credit(client, sub["accountId"], "USDC", "20.5")

    body = vip_info(client, signer, symbols="BTCUSDT").get_json()

    assert body["totalAssetBal"] == "1020.5"


def test_total_assets_are_cut_down_to_the_cent(client, create_account):
    user = create_account(balances={"USDT": "1000", "BTC": "0.333"})
    record(client.application, book("BTCUSDT", NOW - 1000))  # mid 100.5

    body = vip_info(client, Signer(user["apiKey"], user["secretKey"]), symbols="BTCUSDT").get_json()

    assert body["totalAssetBal"] == "1033.46"  # 1000 + 0.333 x 100.5 = 1033.4665


def test_total_assets_count_funds_an_open_order_locks(client, account, signer):
    record(client.application, book("BTCUSDT", NOW - 1000))  # mid 100.5
    placed = place_order(client, signer, side="BUY", type="LIMIT", price="90", quantity="1")
    assert placed["status"] == "NEW"

    body = vip_info(client, signer, symbols="BTCUSDT").get_json()

    assert body["totalAssetBal"] == "1050.25"  # 910 free and 90 locked USDT + 0.5 BTC x 100.5


def test_an_asset_priced_under_one_usd_is_valued_at_its_price(client, account, signer):
    record(client.application, book("BTCUSDT", NOW - 1000, (((D("0.4"), D("1")),), ((D("0.6"), D("1")),))))

    body = vip_info(client, signer, symbols="BTCUSDT").get_json()

    assert body["totalAssetBal"] == "1000.25"  # 1000 USDT + 0.5 BTC x 0.5


def test_a_balance_spent_to_nothing_counts_as_nothing(client, account, signer):
    sub = next(a for a in account["accounts"] if a.get("keyType") == "sub")["accountId"]
    status, moved = call(
        client,
        signer,
        "POST",
        "/api/v1/account/assetTransfer",
        fromAccountId=account["accountId"],
        toAccountId=sub,
        coin="USDT",
        quantity="1000",
    )
    assert status == 200, moved

    response = vip_info(client, signer, symbols="BTCUSDT")

    assert (response.status_code, response.get_json()["totalAssetBal"]) == (200, "1000")  # all on the sub


def test_trade_volume_is_the_quote_of_the_last_30_days_fills_in_usd(client, account, signer):
    app = client.application
    old = NOW - 30 * DAY_MS - 1
    record(app, book("BTCUSDT", old - 100), book("BTCUSDT", NOW - 1000))
    market_buy(app, old, account["accountId"], "0.1")  # a millisecond before the last 30 days
    market_buy(app, NOW - 900, account["accountId"], "2")  # 101 + 102 USDT

    body = vip_info(client, signer, symbols="BTCUSDT").get_json()

    assert body["tradeVol30Day"] == "203"


def test_trade_volume_in_a_non_usd_quote_is_valued_at_that_assets_usd_price(client, account, signer):
    app = client.application
    eth_btc = (((D("0.05"), D("10")),), ((D("0.06"), D("10")),))
    record(app, book("BTCUSDT", NOW - 1000), book("ETHBTC", NOW - 1000, eth_btc))
    market_buy(app, NOW - 900, account["accountId"], "1", symbol="ETHBTC")  # pays 0.06 BTC

    body = vip_info(client, signer, symbols="ETHBTC").get_json()

    assert body["tradeVol30Day"] == "6.03"  # 0.06 BTC x 100.5


def test_a_fiat_asset_is_valued_through_a_stablecoin_quoted_in_it(client, account, signer):
    usdt_aed = (((D("3.67"), D("1000")),), ((D("3.675"), D("1000")),))  # mid 3.6725
    record(client.application, book("USDTAED", NOW - 1000, usdt_aed))
    credit(client, account["accountId"], "AED", "36.725")

    body = vip_info(client, signer, symbols="USDTAED").get_json()

    assert body["totalAssetBal"] == "1010"  # 1000 USDT + 36.725 AED / 3.6725


def test_a_resting_order_filled_by_the_market_since_counts_in_the_volume(client, account, signer):
    app = client.application
    record(app, book("BTCUSDT", NOW - 5000), Trade("BTCUSDT", NOW - 100, D("100.00"), D("5"), True, "1"))
    place(
        app, NOW - 4000, account["accountId"], Side.BUY, OrderType.LIMIT, price=D("100.50"), quantity=D("1")
    )

    body = vip_info(client, signer, symbols="BTCUSDT").get_json()

    assert body["tradeVol30Day"] == "100.5"
