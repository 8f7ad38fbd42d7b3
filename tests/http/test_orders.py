"""The spot order endpoints end to end through Flask: exact response shapes, balances, cancels, queries,
and the venue's code for every bad request (which writes nothing)."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from decimal import Decimal as D
from typing import Any

import click
import pytest
from freezegun import freeze_time
from sqlalchemy import event, func, select

from simulator.cli_common import open_database_or_exit
from simulator.domain.clock import ClockError
from simulator.http.state import EXTENSION
from simulator.marketdata.records import Bbo, Depth, Kline, Trade
from simulator.marketdata.writer import StoreWriter, source_id
from simulator.services import clock, market
from simulator.services import orders as orders_service
from simulator.storage import tables
from tests.conftest import fixtures_with

T0 = 1_700_000_000_000
MINUTE = 60_000
BOOK = Depth(
    "BTCUSDT",
    T0 - 500,
    bids=((D("36000"), D("0.5")), (D("35990"), D("1"))),
    asks=((D("36010"), D("0.01")), (D("36020"), D("0.02")), (D("36030"), D("1"))),
)


@pytest.fixture
def app(make_app):
    """Replay mode at T0, moving only when told, over a recorded BTCUSDT book."""
    app = make_app(clock_mode="replay", clock_start=T0, clock_speed=D(0))
    record(app, BOOK)
    return app


def record(app, *records) -> None:
    database = app.extensions[EXTENSION].database
    with database.engine.begin() as connection:
        writer = StoreWriter(connection, source_id(connection, "test", "orders"), "test")
        for r in records:
            writer.add(r)
        writer.flush()


def call(client, signer, method: str, path: str, **params: Any) -> tuple[int, Any]:
    kwargs = signer.ccxt(method, **params)
    response = getattr(client, method.lower())(path, **kwargs)
    return response.status_code, response.get_json()


def place(client, signer, path: str = "/api/v1.1/spot/order", **params: Any) -> dict[str, Any]:
    status, body = call(client, signer, "POST", path, **{"symbol": "BTCUSDT", **params})
    assert status == 200, body
    return body


def balances(client, signer) -> dict[str, tuple[str, str]]:
    _, body = call(client, signer, "GET", "/api/v1/account")
    return {b["asset"]: (b["free"], b["locked"]) for b in body["balances"]}


def funded_signer(client, **balances: str) -> Any:
    """A new user of `client`'s app with these balances, signing as its key."""
    from tests.conftest import Signer, admin_headers  # noqa: PLC0415

    response = client.post("/sim/v1/accounts", json={"balances": balances}, headers=admin_headers())
    assert response.status_code == 201, response.get_json()
    return Signer(response.get_json()["apiKey"], response.get_json()["secretKey"])


def counts(app) -> tuple[int, int, int]:
    """(orders, ledger entries, fills): what a refused request must leave unchanged."""
    with app.extensions[EXTENSION].database.read() as session:
        return tuple(
            session.scalar(select(func.count()).select_from(t))
            for t in (tables.Order, tables.LedgerEntry, tables.Fill)
        )


def step(app, ms: int) -> None:
    sim = app.extensions[EXTENSION]
    market.step_clock(sim.database, sim.settings, 0, ms)


# ---- placing ----------------------------------------------------------------------------------------


def test_a_resting_limit_buy_is_acknowledged_in_the_documents_shape_and_locks_its_quote(
    client, signer, account
):
    body = place(
        client, signer, side="BUY", type="LIMIT", price="35000.00", quantity="0.0100", newClientOrderId="c-1"
    )
    assert body == {
        "accountId": account["accountId"],
        "symbol": "BTCUSDT",
        "symbolName": "BTCUSDT",
        "clientOrderId": "c-1",
        "orderId": body["orderId"],
        "transactTime": str(T0),
        "price": "35000",
        "origQty": "0.01",
        "executedQty": "0",
        "status": "NEW",
        "timeInForce": "GTC",
        "type": "LIMIT",
        "side": "BUY",
        "reqAmount": "0",
        "concentration": "",
    }
    assert body["orderId"].isdigit()
    assert balances(client, signer)["USDT"] == ("650", "350")


def test_a_market_buy_by_quantity_walks_the_book_and_pays_its_fee_in_base(client, signer):
    body = place(client, signer, side="BUY", type="MARKET", quantity="0.02")
    assert (body["status"], body["executedQty"], body["price"], body["timeInForce"]) == (
        "FILLED",
        "0.02",
        "0",
        "IOC",
    )
    status, query = call(client, signer, "GET", "/api/v1/spot/order", orderId=body["orderId"])
    assert status == 200
    # 0.01 at 36010 and 0.01 at 36020
    assert (query["cummulativeQuoteQty"], query["cumulativeQuoteQty"], query["avgPrice"]) == (
        "720.3",
        "720.3",
        "36015",
    )
    usdt, btc = balances(client, signer)["USDT"], balances(client, signer)["BTC"]
    assert usdt == ("279.7", "0")
    assert btc == ("0.519976", "0")  # 0.5 + 0.02 bought - 0.02 x 0.0012 taker fee, paid in BTC


def test_market_buy_by_amount_on_v1_1_and_by_quantity_as_quote_on_the_older_path(client, signer):
    by_amount = place(client, signer, side="BUY", type="MARKET", amount="100")
    assert (by_amount["origQty"], by_amount["reqAmount"]) == ("0", "100")
    legacy = place(client, signer, path="/api/v1/spot/order", side="BUY", type="MARKET", quantity="100")
    assert (legacy["origQty"], legacy["reqAmount"], legacy["type"]) == ("0", "100", "MARKET")
    # each spends 100 USDT at 36010: 0.00277 BTC; the 0.2523 USDT left buys no step, so the order is done
    for order in (by_amount, legacy):
        assert (order["status"], order["executedQty"]) == ("FILLED", "0.00277")


def test_a_market_sell_by_amount_locks_and_pays_the_base_its_walk_sells(client, signer):
    """Without latency nothing is locked up front: the walk's 0.01 BTC is locked, then paid, in one go."""
    sold = place(client, signer, side="SELL", type="MARKET", amount="360")

    assert (sold["status"], sold["executedQty"], sold["reqAmount"]) == ("FILLED", "0.01", "360")
    assert balances(client, signer)["BTC"] == ("0.49", "0")
    assert balances(client, signer)["USDT"] == ("1359.568", "0")  # 360 at 36000 less the 0.12 % taker fee


def test_the_older_path_reads_a_market_sells_quantity_as_base_and_a_buys_amount_as_amount(client, signer):
    """Only a MARKET BUY's `quantity` is the quote to spend there; everything else is read as on v1.1."""
    path = "/api/v1/spot/order"
    sell = place(client, signer, path=path, side="SELL", type="MARKET", quantity="0.01")
    by_amount = place(client, signer, path=path, side="BUY", type="MARKET", amount="100")

    assert (sell["origQty"], sell["reqAmount"], sell["executedQty"]) == ("0.01", "0", "0.01")
    assert (by_amount["origQty"], by_amount["reqAmount"], by_amount["executedQty"]) == ("0", "100", "0.00277")


def test_a_recording_with_finer_sizes_than_the_step_fills_whole_steps(app, client, signer):
    """KuCoin-like sizes (10 decimals) against BTCUSDT's 0.00001 step: takers and resting orders fill whole
    steps, so executedQty and balances stay on the venue's grid."""
    asks = ((D("36010"), D("0.0123456789")), (D("36015"), D("0.000009")), (D("36020"), D("1")))
    record(app, Depth("BTCUSDT", T0 - 100, bids=((D("35990"), D("1")),), asks=asks))
    book = client.get("/quote/v1/depth", query_string={"symbol": "BTCUSDT"}).get_json()
    assert book["a"] == [["36010", "0.01234"], ["36020", "1"]]  # what can be taken: whole steps
    taker = place(client, signer, side="BUY", type="MARKET", quantity="0.02")
    _, fills = call(client, signer, "GET", "/api/v1/account/trades", symbol="BTCUSDT")
    assert sorted((f["price"], f["qty"]) for f in fills) == [("36010", "0.01234"), ("36020", "0.00766")]
    assert (taker["status"], taker["executedQty"]) == ("FILLED", "0.02")
    # what the taker left at 36010 (0.0000056789) is under a step: not shown, and no post-only order meets it
    maker = place(client, signer, side="BUY", type="LIMIT_MAKER", price="36015", quantity="0.001")
    assert maker["status"] == "NEW"
    call(client, signer, "DELETE", "/api/v1/spot/order", orderId=maker["orderId"])

    resting = place(client, signer, side="BUY", type="LIMIT", price="35980", quantity="0.005")
    record(app, Trade("BTCUSDT", T0 + 1_000, D("35970"), D("0.0033333333"), False, "fine-1"))
    step(app, 2_000)
    _, found = call(client, signer, "GET", "/api/v1/spot/order", orderId=resting["orderId"])
    assert (found["status"], found["executedQty"]) == ("PARTIALLY_FILLED", "0.00333")


def test_a_recording_with_a_finer_tick_is_shown_and_taken_on_the_tick_grid(app, client, signer):
    """KuCoin-like prices (3 decimals) against BTCUSDT's 0.01 tick: the book shows bids rounded down and asks
    up (merged where they meet), so a bot that copies a shown price places a valid order, and a taker pays the
    shown price; resting orders are crossed where the recorded prices cross them."""
    bids = ((D("35999.996"), D("0.3")), (D("35999.991"), D("0.2")), (D("35999.984"), D("1")))
    asks = ((D("36010.004"), D("0.01")), (D("36010.009"), D("0.02")), (D("36020.5"), D("1")))
    record(app, Depth("BTCUSDT", T0 - 100, bids=bids, asks=asks))
    book = client.get("/quote/v1/depth", query_string={"symbol": "BTCUSDT"}).get_json()
    assert book["b"] == [["35999.99", "0.5"], ["35999.98", "1"]]
    assert book["a"] == [["36010.01", "0.03"], ["36020.5", "1"]]
    top = client.get("/quote/v1/ticker/bookTicker", query_string={"symbol": "BTCUSDT"}).get_json()[0]
    assert (top["b"], top["bq"], top["a"], top["aq"]) == ("35999.99", "0.5", "36010.01", "0.03")

    maker = place(client, signer, side="BUY", type="LIMIT_MAKER", price=top["b"], quantity="0.001")
    assert maker["status"] == "NEW"  # at the shown best bid: valid, and takes nothing
    taker = place(client, signer, side="BUY", type="LIMIT", price=top["a"], quantity="0.02")
    assert (taker["status"], taker["executedQty"]) == ("FILLED", "0.02")
    _, fills = call(client, signer, "GET", "/api/v1/account/trades", symbol="BTCUSDT")
    assert [(f["price"], f["qty"]) for f in fills] == [("36010.01", "0.02")]
    book = client.get("/quote/v1/depth", query_string={"symbol": "BTCUSDT"}).get_json()
    assert book["a"][0] == ["36010.01", "0.01"]  # what the taker left of the merged level

    # A snapshot crosses a resting bid at 36010: two asks shown merged at 36009.99 (whole steps of their
    # sum: 0.00201, not 0.001 of each, whose fractions would stay shown below the bid), and one at 36009.995,
    # through the bid although shown at 36010.
    resting = place(client, signer, side="BUY", type="LIMIT", price="36010", quantity="0.005")
    assert resting["status"] == "NEW"
    crossing = (
        (D("36009.981"), D("0.001006")),
        (D("36009.985"), D("0.001006")),
        (D("36009.995"), D("0.0005")),
    )
    record(app, Depth("BTCUSDT", T0 + 1_000, bids=bids, asks=(*crossing, *asks)))
    step(app, 2_000)
    _, found = call(client, signer, "GET", "/api/v1/spot/order", orderId=resting["orderId"])
    assert (found["status"], found["executedQty"]) == ("PARTIALLY_FILLED", "0.00251")
    book = client.get("/quote/v1/depth", query_string={"symbol": "BTCUSDT"}).get_json()
    assert book["b"][0] == ["36010", "0.00249"]
    assert book["a"][0] == ["36010.01", "0.03"]  # the asks it met are taken: nothing shown through the bid
    maker = place(client, signer, side="SELL", type="LIMIT_MAKER", price="36010.01", quantity="0.001")
    assert maker["status"] == "NEW"


def test_a_best_bid_offer_of_a_finer_tick_through_a_resting_order_is_left_out(make_app):
    """A best bid/offer fills no resting order: an ask recorded at 35994.985 stands through a bid resting at
    35994.99 although it would show at it, so it is left out of the book until it no longer crosses, and a
    post-only order at the shown touch is accepted."""
    app = make_app(clock_mode="replay", clock_start=T0, clock_speed=D(0), rate_limits=False)
    record(app, Bbo("BTCUSDT", T0 - 100, D("35990"), D("1"), D("35995"), D("1")))
    client = app.test_client()
    signer = funded_signer(client, USDT="1000", BTC="1")
    resting = place(client, signer, side="BUY", type="LIMIT", price="35994.99", quantity="0.001")
    assert resting["status"] == "NEW"
    record(app, Bbo("BTCUSDT", T0 + 1_000, D("35990"), D("1"), D("35994.985"), D("1")))
    step(app, 2_000)

    book = client.get("/quote/v1/depth", query_string={"symbol": "BTCUSDT"}).get_json()

    assert (book["b"], book["a"]) == ([["35994.99", "0.001"], ["35990", "1"]], [])
    maker = place(client, signer, side="SELL", type="LIMIT_MAKER", price="35995", quantity="0.001")
    assert maker["status"] == "NEW"


@pytest.mark.parametrize(
    ("side", "prices", "moved", "left_out"),
    [
        ("BUY", ("36001", "36005"), (D("35990"), D("36003")), "a"),  # an ask below the higher bid only
        ("SELL", ("36008", "36004"), (D("36006"), D("36020")), "b"),  # a bid above the lower ask only
    ],
    ids=["bids-resting", "asks-resting"],
)
def test_a_best_bid_offer_is_judged_against_the_best_of_several_resting_orders(
    make_app, side, prices, moved, left_out
):
    """Two orders rest on one side; a newer best bid/offer stands through the better of them but not the
    other: its level on the other side is left out."""
    app = make_app(clock_mode="replay", clock_start=T0, clock_speed=D(0), rate_limits=False)
    record(app, Bbo("BTCUSDT", T0 - 100, D("35990"), D("1"), D("36010"), D("1")))
    client = app.test_client()
    signer = funded_signer(client, USDT="1000", BTC="1")
    for price in prices:
        assert (
            place(client, signer, side=side, type="LIMIT", price=price, quantity="0.001")["status"] == "NEW"
        )
    bid, ask = moved
    record(app, Bbo("BTCUSDT", T0 + 1_000, bid, D("1"), ask, D("1")))
    step(app, 2_000)

    book = client.get("/quote/v1/depth", query_string={"symbol": "BTCUSDT"}).get_json()

    assert book[left_out] == []


def test_a_balance_of_more_than_28_digits_is_kept_exact(client):
    """Python computes with 28 significant digits unless told otherwise: a balance of 1e25 plus 0.36 less a
    fee of 0.000432 would be rounded to ...0.36, the fee never charged though the ledger lists it."""
    signer = funded_signer(client, USDT="10000000000000000000000000", BTC="12345678901234567890123456.789")
    assert balances(client, signer)["BTC"] == ("12345678901234567890123456.789", "0")

    sell = place(client, signer, side="SELL", type="MARKET", quantity="0.00001")  # 0.36 at 36000
    buy = place(client, signer, side="BUY", type="LIMIT", price="35000.01", quantity="0.001")

    assert (sell["status"], buy["status"]) == ("FILLED", "NEW")
    usdt = balances(client, signer)["USDT"]
    assert usdt == ("9999999999999999999999965.359558", "35.00001")  # + 0.36 - 0.000432 fee - 35.00001 locked
    _, flow = call(
        client, signer, "GET", "/api/v1/account/balanceFlow", startTime=T0 - 60_000, endTime=T0 + 1
    )
    totals = [(entry["change"], entry["total"]) for entry in flow if entry["coin"] == "USDT"]
    assert totals[:2] == [
        ("-0.000432", "10000000000000000000000000.359568"),
        ("0.36", "10000000000000000000000000.36"),
    ]


def test_a_synthetic_ask_put_through_a_resting_bid_by_a_bar_is_left_out(make_app):
    """Bars alone: a bid rests at 36018.01 below the synthetic ask around a close of 36010; the next bar
    closes at 36000.005, whose ask 36018.005 rounds up to 36018.01, at the bid but through it: left out, so
    the book is not locked and a post-only order at the touch is accepted."""
    first = T0 - T0 % 60_000 - 120_000
    bars = [
        Kline("BTCUSDT", "1m", open_ms, open_ms + 59_999, close, close, close, close, D("10"))
        for open_ms, close in ((first, D("36010")), (first + 60_000, D("36000.005")))
    ]
    app = make_app(clock_mode="replay", clock_start=first + 90_000, clock_speed=D(0), rate_limits=False)
    record(app, *bars)
    client = app.test_client()
    signer = funded_signer(client, USDT="1000", BTC="1")
    resting = place(client, signer, side="BUY", type="LIMIT", price="36018.01", quantity="0.001")
    assert resting["status"] == "NEW"
    step(app, 60_000)

    book = client.get("/quote/v1/depth", query_string={"symbol": "BTCUSDT"}).get_json()

    assert (book["b"][0], book["a"]) == (["36018.01", "0.001"], [])
    maker = place(client, signer, side="SELL", type="LIMIT_MAKER", price="36018.02", quantity="0.001")
    assert maker["status"] == "NEW"


BAND_ASKS = ((D("36010"), D("0.01")), (D("39605.5"), D("0.005")), (D("39605.51"), D("1")))
BAND_BIDS = ((D("36000"), D("0.5")), (D("32404.5"), D("0.1")), (D("32404.49"), D("1")))


@pytest.mark.parametrize(("side", "quantity", "executed"), [("BUY", "0.02", "0.015"), ("SELL", "0.7", "0.6")])
def test_a_market_order_walks_no_further_than_the_instruments_market_trading_band(
    app, client, side, quantity, executed
):
    """MARKET_TRADING's rates (0.1 each way in the fixtures) around the mark, the recorded mid 36005: a buy
    pays at most 39605.5, a sell gets at least 32404.5, a level exactly there included; matching cancels
    the rest (RISKLIMIT_CANCEL)."""
    record(app, Depth("BTCUSDT", T0 - 400, bids=BAND_BIDS, asks=BAND_ASKS))
    signer = funded_signer(client, USDT="1000", BTC="1")

    order = place(client, signer, side=side, type="MARKET", quantity=quantity)

    assert (order["status"], order["executedQty"]) == ("PARTIALLY_CANCELED", executed)
    _, query = call(client, signer, "GET", "/api/v1/spot/order", orderId=order["orderId"])
    assert query["ordCxlReason"] == "RISKLIMIT_CANCEL"


@pytest.mark.parametrize(("side", "quantity"), [("BUY", "0.02"), ("SELL", "0.7")])
def test_a_market_trading_rate_of_zero_is_no_band(make_app, tmp_path, side, quantity):
    rates = {"MARKET_TRADING": {"buyPriceUpRate": "0", "sellPriceDownRate": "0"}}
    fixtures = fixtures_with(tmp_path / "fixtures", "BTCUSDT", rates)
    app = make_app(clock_mode="replay", clock_start=T0, clock_speed=D(0), fixtures=str(fixtures))
    record(app, Depth("BTCUSDT", T0 - 400, bids=BAND_BIDS, asks=BAND_ASKS))
    client = app.test_client()

    order = place(
        client, funded_signer(client, USDT="1000", BTC="1"), side=side, type="MARKET", quantity=quantity
    )

    assert (order["status"], order["executedQty"]) == ("FILLED", quantity)


def test_market_sell_and_limit_time_in_force(client, signer):
    sell = place(client, signer, side="SELL", type="MARKET", quantity="0.1")
    assert (sell["status"], sell["executedQty"]) == ("FILLED", "0.1")
    ioc = place(client, signer, side="BUY", type="LIMIT", timeInForce="IOC", price="36010", quantity="0.02")
    assert (ioc["status"], ioc["executedQty"]) == ("PARTIALLY_CANCELED", "0.01")
    fok = place(client, signer, side="BUY", type="LIMIT", timeInForce="FOK", price="36010", quantity="0.02")
    assert (fok["status"], fok["executedQty"]) == ("CANCELED", "0")


def test_limit_maker_that_would_take_is_refused_with_1156_and_nothing_is_written(client, signer, app):
    before = counts(app)
    status, body = call(
        client,
        signer,
        "POST",
        "/api/v1.1/spot/order",
        symbol="BTCUSDT",
        side="BUY",
        type="LIMIT_MAKER",
        price="36010",
        quantity="0.01",
    )
    assert (status, body) == (
        400,
        {"code": "-1156", "msg": "Limit maker order rejected: Improper price may cause immediate fill."},
    )
    assert counts(app) == before
    maker = place(client, signer, side="BUY", type="LIMIT_MAKER", price="35900", quantity="0.01")
    assert (maker["status"], maker["timeInForce"]) == ("NEW", "GTC")


def test_order_test_checks_like_a_real_order_and_places_nothing(client, signer, app):
    before, money = counts(app), balances(client, signer)
    status, body = call(
        client,
        signer,
        "POST",
        "/api/v1/spot/orderTest",
        symbol="BTCUSDT",
        side="BUY",
        type="LIMIT",
        price="35000",
        quantity="0.01",
    )
    assert (status, body) == (200, {})
    status, body = call(
        client,
        signer,
        "POST",
        "/api/v1/spot/orderTest",
        symbol="BTCUSDT",
        side="BUY",
        type="LIMIT",
        price="35000",
        quantity="1",
    )
    assert (status, body["code"]) == (400, "0401")
    assert (counts(app), balances(client, signer)) == (before, money)


def post_signed_form(client, signer, path: str, payload: str) -> tuple[int, Any]:
    """A form body as written (a key may repeat), signed as ccxt signs."""
    from tests.conftest import now_ms, sign  # noqa: PLC0415

    body = f"timestamp={now_ms()}&{payload}"
    response = client.post(
        path,
        data=f"{body}&signature={sign(signer.secret, body)}",
        content_type="application/x-www-form-urlencoded",
        headers=signer.headers(),
    )
    return response.status_code, response.get_json()


def test_a_parameter_the_order_reads_sent_twice_is_refused_one_it_does_not_read_is_ignored(
    client, signer, app
):
    market_buy = "symbol=BTCUSDT&side=BUY&type=MARKET&quantity=0.01"
    before = counts(app)

    doubled_quantity = post_signed_form(client, signer, "/api/v1.1/spot/order", f"{market_buy}&quantity=0.02")
    doubled_stp = post_signed_form(
        client, signer, "/api/v1.1/spot/order", f"{market_buy}&stpMode=EXPIRE_TAKER&stpMode=EXPIRE_MAKER"
    )
    doubled_time_in_force = post_signed_form(
        client, signer, "/api/v1.1/spot/order", f"{market_buy}&timeInForce=IOC&timeInForce=IOC"
    )
    doubled_client_id = post_signed_form(
        client, signer, "/api/v1.1/spot/order", f"{market_buy}&newClientOrderId=a&newClientOrderId=b"
    )
    refused = counts(app)
    ignored = post_signed_form(
        client, signer, "/api/v1.1/spot/order", f"{market_buy}&price=1&price=2&foo=1&foo=2"
    )

    assert doubled_quantity == (400, {"code": "0001", "msg": "Required field quantity missing or invalid"})
    assert doubled_stp == (400, {"code": "-1130", "msg": "Illegal parameter 'stpMode'"})
    # two with codes of their own for a bad value, as the README's order of checks says
    assert doubled_time_in_force == (400, {"code": "-1115", "msg": "Invalid timeInForce"})
    assert doubled_client_id == (400, {"code": "-1123", "msg": "Invalid client order id"})
    assert refused == before
    assert (ignored[0], ignored[1]["status"], ignored[1]["origQty"]) == (200, "FILLED", "0.01")


@pytest.mark.parametrize("path", ["/api/v1.1/spot/order", "/api/v1/spot/order"])
@pytest.mark.parametrize("value", ["mine", "x" * 256])
def test_a_single_order_ignores_clientorderid_as_a_parameter_the_document_does_not_list(
    client, signer, path, value
):
    """Only a batch item's `clientOrderId` names its client order id (ccxt's items carry it); a single
    order's is `newClientOrderId`, and the real venue would not read the other."""
    status, body = call(
        client,
        signer,
        "POST",
        path,
        symbol="BTCUSDT",
        side="BUY",
        type="LIMIT",
        price="35000",
        quantity="0.01",
        clientOrderId=value,
    )

    assert status == 200, body
    assert body.get("clientOrderId") != value


def test_order_test_ignores_a_clientorderid_too(client, signer):
    """orderTest answers `{}` either way; one it read would be refused as too long (-1123)."""
    order = {"symbol": "BTCUSDT", "side": "BUY", "type": "LIMIT", "price": "35000", "quantity": "0.01"}

    assert call(client, signer, "POST", "/api/v1/spot/orderTest", **order, clientOrderId="x" * 256) == (
        200,
        {},
    )


def test_a_duplicate_open_client_order_id_is_refused_and_a_finished_ones_may_be_reused(client, signer):
    first = place(
        client, signer, side="BUY", type="LIMIT", price="35000", quantity="0.01", newClientOrderId="dup"
    )
    status, body = call(
        client,
        signer,
        "POST",
        "/api/v1.1/spot/order",
        symbol="BTCUSDT",
        side="BUY",
        type="LIMIT",
        price="35000",
        quantity="0.01",
        newClientOrderId="dup",
    )
    assert (status, body) == (400, {"code": "-1141", "msg": "Duplicate order"})
    call(client, signer, "DELETE", "/api/v1/spot/order", orderId=first["orderId"])
    again = place(
        client, signer, side="BUY", type="LIMIT", price="35000", quantity="0.01", newClientOrderId="dup"
    )
    _, found = call(client, signer, "GET", "/api/v1/spot/order", origClientOrderId="dup")
    assert found["orderId"] == again["orderId"]  # the newest order that had the id


def test_an_order_sent_without_a_client_id_never_takes_one_a_working_order_was_sent(client, signer):
    """A generated client order id is the order id, unless the account sent that very id for an order
    still working: then two working orders would share it, and a cancel by it would find the wrong one."""
    resting = {"side": "BUY", "type": "LIMIT", "price": "35000", "quantity": "0.001"}
    first, second = place(client, signer, **resting), place(client, signer, **resting)
    step = int(second["orderId"]) - int(first["orderId"])  # the ids a resting order draws
    next_order_id = str(int(second["orderId"]) + 2 * step)
    guessed = place(client, signer, **resting, newClientOrderId=next_order_id)

    generated = place(client, signer, **resting)

    assert generated["orderId"] == next_order_id  # the id the first one was sent
    assert generated["clientOrderId"] not in (next_order_id, generated["orderId"])
    _, found = call(client, signer, "GET", "/api/v1/spot/order", origClientOrderId=generated["clientOrderId"])
    assert found["orderId"] == generated["orderId"]
    _, cancelled = call(client, signer, "DELETE", "/api/v1/spot/order", clientOrderId=next_order_id)
    assert cancelled["orderId"] == guessed["orderId"]
    _, still = call(client, signer, "GET", "/api/v1/spot/order", orderId=generated["orderId"])
    assert still["status"] == "NEW"


def test_insufficient_balance_is_0401_and_writes_nothing(client, signer, app):
    before = counts(app)
    status, body = call(
        client,
        signer,
        "POST",
        "/api/v1.1/spot/order",
        symbol="BTCUSDT",
        side="BUY",
        type="LIMIT",
        price="35000",
        quantity="1",
    )
    assert (status, body) == (400, {"code": "0401", "msg": "Insufficient asset"})
    assert counts(app) == before


@pytest.mark.parametrize(
    ("usd", "answer"), [("100", {"code": "0401", "msg": "Insufficient asset"}), ("100.15", {})]
)
def test_a_token_fiat_buy_needs_its_fee_on_top_of_its_cost(client, app, create_account, usd, answer):
    """BTCUSD's fee (0.0015) is paid in USD, on top of price x quantity."""
    from tests.conftest import Signer  # noqa: PLC0415

    record(app, Depth("BTCUSD", T0, bids=((D("99.9"), D("5")),), asks=((D("100.1"), D("5")),)))
    buyer = create_account(balances={"USD": usd})
    order = {"symbol": "BTCUSD", "side": "BUY", "type": "LIMIT", "price": "100", "quantity": "1"}
    status, body = call(
        client, Signer(buyer["apiKey"], buyer["secretKey"]), "POST", "/api/v1/spot/orderTest", **order
    )
    assert (status, body) == (200 if answer == {} else 400, answer)


# ---- bad requests -----------------------------------------------------------------------------------

VALID = {"symbol": "BTCUSDT", "side": "BUY", "type": "LIMIT", "price": "35000", "quantity": "0.01"}


@pytest.mark.parametrize(
    ("change", "code", "msg"),
    [
        ({"symbol": None}, "0001", "Required field symbol missing or invalid"),
        ({"symbol": "NOPEUSDT"}, "0201", "Instrument not found"),
        ({"side": None}, "0001", "Required field side missing or invalid"),
        ({"side": "HOLD"}, "-1117", "Invalid order side"),
        ({"type": None}, "0001", "Required field type missing or invalid"),
        ({"type": "STOP"}, "0206", "Unsupported order type"),
        ({"timeInForce": "GTD"}, "-1115", "Invalid timeInForce"),
        ({"type": "LIMIT_MAKER", "timeInForce": "IOC"}, "-1115", "Invalid timeInForce"),
        ({"stpMode": "NONE"}, "-1130", "Illegal parameter 'stpMode'"),
        ({"quantity": None}, "0001", "Required field quantity missing or invalid"),
        ({"quantity": "abc"}, "0001", "Required field quantity missing or invalid"),
        ({"quantity": "-1"}, "-1126", "Invalid quantity"),
        ({"quantity": "0"}, "-1126", "Invalid quantity"),
        ({"quantity": "-0.5"}, "-1126", "Invalid quantity"),
        ({"price": None}, "0001", "Required field price missing or invalid"),
        ({"price": "1,5"}, "0001", "Required field price missing or invalid"),
        ({"price": "1e1000000000000000000"}, "0001", "Required field price missing or invalid"),
        ({"quantity": "1e-1000000000000000000"}, "0001", "Required field quantity missing or invalid"),
        ({"price": "0"}, "-1124", "Invalid price"),
        ({"amount": "10"}, "-1130", "Illegal parameter 'amount'"),
        (
            {"type": "MARKET", "amount": "10"},
            "-1129",
            "Invalid parameters, quantity and amount are not allowed to be sent at the same time.",
        ),
        ({"type": "MARKET", "quantity": None}, "0001", "Required field quantity missing or invalid"),
        ({"type": "MARKET", "quantity": None, "amount": "0"}, "-1130", "Illegal parameter 'amount'"),
        ({"type": "MARKET", "quantity": None, "amount": "-10"}, "-1130", "Illegal parameter 'amount'"),
        # a malformed size is refused even where the other size alone would make a whole order
        (
            {"type": "MARKET", "quantity": "abc", "amount": "10"},
            "0001",
            "Required field quantity missing or invalid",
        ),
        (
            {"type": "MARKET", "quantity": "0.01", "amount": "ten"},
            "0001",
            "Required field amount missing or invalid",
        ),
        ({"newClientOrderId": "x" * 256}, "-1123", "Invalid client order id"),
        ({"newClientOrderId": "a\x01b"}, "-1123", "Invalid client order id"),
        ({"newClientOrderId": b"id\xff\xfe"}, "-1123", "Invalid client order id"),  # not UTF-8
        # sizes are checked before the client order id and the symbol
        (
            {"quantity": None, "newClientOrderId": "x" * 256},
            "0001",
            "Required field quantity missing or invalid",
        ),
        ({"price": None, "symbol": "NOPEUSDT"}, "0001", "Required field price missing or invalid"),
        # the symbol's filters (simulator/domain/filters.py has a test for every row of the README's table)
        ({"price": "35000.001"}, "0209", "Invalid price precision"),
        ({"quantity": "0.000011"}, "-1137", "Order quantity precision too large"),
        ({"price": "40000"}, "0207", "Invalid price"),  # beyond mark x (1 + buyPriceUpRate)
        ({"price": "1"}, "-1140", "Order amount lower than the minimum"),  # positive: the filters judge it
        (
            {"type": "MARKET", "price": None, "quantity": "5"},
            "-1135",
            "Order quantity greater than the maximum",
        ),
    ],
)
def test_a_bad_order_gets_the_documents_code_and_writes_nothing(client, signer, app, change, code, msg):
    params = {**VALID, **change}
    params = {k: v for k, v in params.items() if v is not None}
    before = counts(app)
    status, body = call(client, signer, "POST", "/api/v1.1/spot/order", **params)
    assert (status, body) == (400, {"code": code, "msg": msg})
    assert counts(app) == before


@pytest.mark.parametrize("price", ["abc", "", "-1", "35000"])
def test_a_price_sent_with_a_market_order_is_ignored_whatever_it_is(client, signer, price):
    status, body = call(
        client, signer, "POST", "/api/v1.1/spot/order", **{**VALID, "type": "MARKET", "price": price}
    )
    assert (status, body["status"], body["price"]) == (200, "FILLED", "0")


@pytest.mark.parametrize(
    ("method", "path", "params"),
    [
        (
            "POST",
            "/api/v1.1/spot/order",
            {"side": "BUY", "type": "LIMIT", "price": "35000", "quantity": "0.01"},
        ),
        ("DELETE", "/api/v1/spot/openOrders", {}),
    ],
)
def test_an_order_or_cancel_request_is_one_write_transaction_and_no_read_snapshot(
    client, signer, app, method, path, params
):
    """No read snapshot stays open across the write's commit: on SQLite it would keep the WAL from being
    checkpointed, and every later commit would try again."""
    begun: list[str] = []

    def record(conn, cursor, statement, *args) -> None:  # noqa: ANN001
        if statement.startswith("BEGIN"):
            begun.append(statement)

    event.listen(app.extensions[EXTENSION].database.engine, "before_cursor_execute", record)
    status, body = call(client, signer, method, path, symbol="BTCUSDT", **params)

    assert status == 200, body
    assert begun == ["BEGIN IMMEDIATE"]


def test_quantities_in_exponent_form_and_with_trailing_zeros_are_accepted(client, signer):
    body = place(client, signer, side="BUY", type="LIMIT", price="3.5e4", quantity="1e-02")
    assert (body["price"], body["origQty"]) == ("35000", "0.01")


# ---- batches ----------------------------------------------------------------------------------------


def batch(client, signer, orders: Any, path: str = "/api/v1.1/spot/batchOrders") -> tuple[int, Any]:
    """As ccxt posts a batch: a JSON array body, only the timestamp signed in the query."""
    response = post_batch_text(client, signer, json.dumps(orders), path)
    return response.status_code, response.get_json()


def post_batch_text(client, signer, body: str, path: str = "/api/v1.1/spot/batchOrders") -> Any:
    """A batch body written by hand (JSON `json.dumps` would not write), posted as `batch` posts it."""
    kwargs = signer.ccxt("GET")
    return client.post(
        f"{path}?{kwargs['query_string']}",
        data=body,
        content_type="application/json",
        headers=kwargs["headers"],
    )


def test_a_batch_answers_each_order_and_one_refusal_does_not_stop_the_others(client, signer):
    orders = [
        {
            "symbol": "BTCUSDT",
            "side": "BUY",
            "type": "LIMIT",
            "price": "35000",
            "quantity": "0.01",
            "clientOrderId": "b-1",
        },
        {
            "symbol": "BTCUSDT",
            "side": "BUY",
            "type": "LIMIT",
            "price": "35000",
            "quantity": "5",
            "newClientOrderId": "b-2",
        },
        {"symbol": "ETHUSDT", "side": "BUY", "type": "LIMIT", "price": "2000", "quantity": "0.01"},
        {"symbol": "BTCUSDT", "side": "SELL", "type": "LIMIT", "price": 37000, "quantity": 0.01},
    ]
    status, body = batch(client, signer, orders, "/api/v1/spot/batchOrders")
    assert status == 200
    assert (body["code"], body["concentration"]) == (0, "")
    first, second, third, fourth = body["result"]
    assert (first["code"], first["order"]["clientOrderId"], first["order"]["status"]) == (
        "0000",
        "b-1",
        "NEW",
    )
    assert list(first["order"]) == [  # the single order's answer without its concentration, no stpMode
        "accountId",
        "symbol",
        "symbolName",
        "clientOrderId",
        "orderId",
        "transactTime",
        "price",
        "origQty",
        "executedQty",
        "status",
        "timeInForce",
        "type",
        "side",
        "reqAmount",
    ]
    assert second == {"code": "0401", "msg": "Insufficient asset"}
    assert third == {"code": "-1130", "msg": "Illegal parameter 'symbol'"}
    assert (fourth["code"], fourth["order"]["price"], fourth["order"]["origQty"]) == ("0000", "37000", "0.01")


@pytest.mark.parametrize("path", ["/api/v1/spot/batchOrders", "/api/v1.1/spot/batchOrders"])
def test_a_batch_market_buy_by_quantity_buys_base_on_both_paths(client, signer, path):
    """Unlike the single-order v1 path, a batch reads a MARKET BUY's quantity as base (ccxt's
    create_orders sends it so)."""
    order = {"symbol": "BTCUSDT", "side": "BUY", "type": "MARKET", "quantity": "0.02"}

    status, body = batch(client, signer, [order], path)

    assert status == 200
    placed = body["result"][0]["order"]
    assert (placed["origQty"], placed["executedQty"], placed["status"]) == ("0.02", "0.02", "FILLED")


def test_the_orders_of_a_batch_meet_the_book_the_ones_before_them_left(client, signer):
    """Two MARKET buys of 0.01 in one batch: the first takes the 0.01 offered at 36010, the second the next
    level."""
    order = {"symbol": "BTCUSDT", "side": "BUY", "type": "MARKET", "quantity": "0.01"}

    status, body = batch(client, signer, [order, order])

    assert status == 200
    ids = [item["order"]["orderId"] for item in body["result"]]
    prices = [call(client, signer, "GET", "/api/v1/spot/order", orderId=i)[1]["avgPrice"] for i in ids]
    assert prices == ["36010", "36020"]


@pytest.mark.parametrize(
    "quantity",
    ["1e1000000000000000000", "1" * 5000],
    ids=["exponent-no-decimal-holds", "integer-of-more-digits-than-python-reads"],
)
def test_a_batch_number_beyond_reading_is_that_items_malformed_field(client, signer, quantity):
    """JSON allows any exponent and any number of digits; a number no Decimal or int can hold is a
    malformed quantity, not a crash nor a refused body, and the other items go on."""
    body = (
        f'[{{"symbol":"BTCUSDT","side":"BUY","type":"LIMIT","price":35000,"quantity":{quantity}}},'
        ' {"symbol":"BTCUSDT","side":"BUY","type":"LIMIT","price":35000,"quantity":0.01}]'
    )
    response = post_batch_text(client, signer, body)

    assert response.status_code == 200
    first, second = response.get_json()["result"]
    assert first == {"code": "0001", "msg": "Required field quantity missing or invalid"}
    assert (second["code"], second["order"]["origQty"]) == ("0000", "0.01")


@pytest.mark.parametrize("number", ["1e5", "1E2", "0.0000001", "-0", "10.50"])
def test_a_batch_client_order_id_sent_as_a_json_number_is_its_text(client, signer, number):
    """A number in a batch item counts as its text: the id as sent, found and checked for duplicates by it,
    as a form's `newClientOrderId=1e5` is."""
    item = '"symbol":"BTCUSDT","side":"BUY","type":"LIMIT","price":35000,"quantity":0.01'
    response = post_batch_text(client, signer, f'[{{{item},"newClientOrderId":{number}}}]')

    assert response.get_json()["result"][0]["order"]["clientOrderId"] == number
    assert (
        call(client, signer, "GET", "/api/v1/spot/order", origClientOrderId=number)[1]["clientOrderId"]
        == number
    )
    duplicate = {
        "side": "BUY",
        "type": "LIMIT",
        "price": "35000",
        "quantity": "0.01",
        "newClientOrderId": number,
    }
    assert call(client, signer, "POST", "/api/v1.1/spot/order", symbol="BTCUSDT", **duplicate) == (
        400,
        {"code": "-1141", "msg": "Duplicate order"},
    )


@pytest.mark.parametrize("half", ["\ud800", "\udc00"], ids=["high half", "low half"])
def test_a_batch_item_whose_symbol_is_half_a_surrogate_pair_answers_for_itself(client, signer, app, half):
    """JSON may escape a lone surrogate ("\\ud800"), which SQLite cannot store: it reads as U+FFFD, as a
    byte that is not UTF-8 does in a form body, and the symbol's own check refuses it."""
    order = {"symbol": half, "side": "BUY", "type": "LIMIT", "price": "35000", "quantity": "0.01"}
    before = counts(app)

    status, body = batch(client, signer, [order])

    assert (status, body["result"]) == (200, [{"code": "0201", "msg": "Instrument not found"}])
    assert counts(app) == before


def test_a_batch_items_client_id_of_half_a_surrogate_pair_is_refused_not_changed(client, signer, app):
    """Read as U+FFFD, the id would not be the one the client sent, and it could not cancel by it."""
    order = {"symbol": "BTCUSDT", "side": "BUY", "type": "LIMIT", "price": "35000", "quantity": "0.001"}
    before = counts(app)

    status, body = batch(client, signer, [{**order, "newClientOrderId": "id\ud800"}, order])

    assert status == 200
    assert body["result"][0] == {"code": "-1123", "msg": "Invalid client order id"}
    assert body["result"][1]["code"] == "0000"
    assert counts(app) != before  # the second order stands


def test_a_batch_of_more_than_twenty_is_refused_whole(client, signer, app):
    before = counts(app)
    order = {"symbol": "BTCUSDT", "side": "BUY", "type": "LIMIT", "price": "35000", "quantity": "0.001"}
    status, body = batch(client, signer, [order] * 21)
    assert (status, body) == (400, {"code": "-2022", "msg": "Order batch size exceeds the limit"})
    assert counts(app) == before
    for not_a_batch in ({"orders": [order]}, []):
        assert batch(client, signer, not_a_batch) == (400, {"code": "-1004", "msg": "Bad request"})


def test_a_batch_order_without_a_symbol_answers_for_itself_and_the_next_one_names_the_batch_symbol(
    client, signer
):
    order = {"side": "BUY", "type": "LIMIT", "price": "35000", "quantity": "0.001"}
    status, body = batch(client, signer, [order, "not an order", {**order, "symbol": "BTCUSDT"}])
    assert status == 200
    nameless, not_an_object, placed = body["result"]
    assert nameless == {"code": "0001", "msg": "Required field symbol missing or invalid"}
    assert not_an_object == {"code": "-1004", "msg": "Bad request"}
    assert (placed["code"], placed["order"]["status"]) == ("0000", "NEW")


def test_each_order_of_a_batch_counts_against_the_new_order_rate(make_app):
    from tests.http.test_auth import WALL_MS, frozen_at  # noqa: PLC0415

    app = make_app(clock_mode="replay", clock_start=T0, clock_speed=D(0), rate_limits=True, order_limit=5)
    record(app, BOOK)
    client = app.test_client()
    signer = funded_signer(client, USDT="10000")
    order = {"symbol": "BTCUSDT", "side": "BUY", "type": "LIMIT", "price": "35000", "quantity": "0.001"}
    with frozen_at(WALL_MS):
        first = batch(client, signer, [order] * 4)
        refused = batch(client, signer, [order] * 2)  # 6 of 5: refused whole
        tested = call(client, signer, "POST", "/api/v1/spot/orderTest", **order)  # counts nothing
        last = batch(client, signer, [order])
        single = call(client, signer, "POST", "/api/v1.1/spot/order", **order)
        tested_when_full = call(client, signer, "POST", "/api/v1/spot/orderTest", **order)
    assert [item["code"] for item in first[1]["result"]] == ["0000"] * 4
    assert tested == tested_when_full == (200, {})
    assert refused == (
        400,
        {"code": "-1015", "msg": "Too many new orders, current limit is 5 orders per 10 seconds"},
    )
    assert [item["code"] for item in last[1]["result"]] == ["0000"]
    assert single[1]["code"] == "-1015"


def test_a_batchs_orders_count_against_the_address_it_came_from(make_app):
    """As a single order does: another key from the same address finds the allowance used."""
    from tests.http.test_auth import WALL_MS, frozen_at  # noqa: PLC0415

    app = make_app(clock_mode="replay", clock_start=T0, clock_speed=D(0), rate_limits=True, order_limit=2)
    record(app, BOOK)
    client = app.test_client()
    first, second = funded_signer(client, USDT="10000"), funded_signer(client, USDT="10000")
    order = {"symbol": "BTCUSDT", "side": "BUY", "type": "LIMIT", "price": "35000", "quantity": "0.001"}
    with frozen_at(WALL_MS):
        batched = batch(client, first, [order] * 2)
        same_address = call(client, second, "POST", "/api/v1.1/spot/order", **order)
        other = client.post(
            "/api/v1.1/spot/order", environ_base={"REMOTE_ADDR": "10.9.9.9"}, **second.ccxt("POST", **order)
        )
    assert [item["code"] for item in batched[1]["result"]] == ["0000", "0000"]
    assert same_address == (
        400,
        {"code": "-1015", "msg": "Too many new orders, current limit is 2 orders per 10 seconds"},
    )
    assert (other.status_code, other.get_json()["status"]) == (200, "NEW")


@pytest.mark.parametrize("nothing", [None, ""])
def test_a_batch_order_key_that_is_null_or_empty_counts_as_not_sent(client, signer, nothing):
    order = {"symbol": "BTCUSDT", "side": "BUY", "type": "LIMIT", "price": "35000", "quantity": "0.001"}
    status, body = batch(client, signer, [{**order, "newClientOrderId": nothing, "timeInForce": nothing}])
    (placed,) = body["result"]
    assert (status, placed["code"], placed["order"]["timeInForce"]) == (200, "0000", "GTC")
    assert placed["order"]["clientOrderId"]  # generated


@pytest.mark.parametrize(
    ("key", "value", "code", "msg"),
    [
        ("side", True, "0001", "Required field side missing or invalid"),
        ("quantity", {"value": "0.001"}, "0001", "Required field quantity missing or invalid"),
        ("timeInForce", ["GTC"], "-1115", "Invalid timeInForce"),
        ("newClientOrderId", False, "-1123", "Invalid client order id"),
    ],
)
def test_a_batch_order_value_neither_text_nor_a_number_is_that_fields_error(
    client, signer, app, key, value, code, msg
):
    order = {"symbol": "BTCUSDT", "side": "BUY", "type": "LIMIT", "price": "35000", "quantity": "0.001"}
    before = counts(app)

    status, body = batch(client, signer, [{**order, key: value}])

    assert (status, body["result"]) == (200, [{"code": code, "msg": msg}])
    assert counts(app) == before


@pytest.mark.parametrize(
    ("twice", "code", "msg"),
    [
        ('"side": "BUY", "side": "SELL"', "0001", "Required field side missing or invalid"),
        # optional keys: named twice is not "not sent" (which would take the default)
        ('"side": "BUY", "timeInForce": "IOC", "timeInForce": "IOC"', "-1115", "Invalid timeInForce"),
        (
            '"side": "BUY", "newClientOrderId": "a", "newClientOrderId": null',
            "-1123",
            "Invalid client order id",
        ),
    ],
)
def test_a_batch_order_naming_a_key_twice_is_refused_like_a_parameter_sent_twice(
    client, signer, app, twice, code, msg
):
    before = counts(app)
    item = f'[{{"symbol": "BTCUSDT", {twice}, "type": "MARKET", "quantity": "0.01"}}]'
    response = post_batch_text(client, signer, item)
    assert response.get_json()["result"] == [{"code": code, "msg": msg}]
    assert counts(app) == before


def test_a_batch_nested_too_deep_to_parse_is_a_bad_request_not_a_crash(client, signer, app):
    before = counts(app)
    response = post_batch_text(client, signer, "[" * 100_000 + "]" * 100_000)
    assert (response.status_code, response.get_json()) == (400, {"code": "-1004", "msg": "Bad request"})
    assert counts(app) == before


# ---- cancelling -------------------------------------------------------------------------------------


def test_a_cancel_answers_the_order_as_it_found_it_with_its_creation_time(client, signer, app):
    """As the venue answers (the document's example, ccxt's recorded answers): `NEW` and the time the
    order was made; GET shows what the cancel did."""
    placed = place(client, signer, side="BUY", type="LIMIT", price="35000", quantity="0.01")
    step(app, 5_000)
    _, body = call(client, signer, "DELETE", "/api/v1/spot/order", orderId=placed["orderId"])
    _, after = call(client, signer, "GET", "/api/v1/spot/order", orderId=placed["orderId"])
    assert (body["transactTime"], body["status"], body["executedQty"]) == (str(T0), "NEW", "0")
    assert (after["status"], after["updateTime"]) == ("CANCELED", str(T0 + 5_000))


def test_a_cancel_of_a_partly_filled_order_answers_partially_filled(client):
    signer = funded_signer(client, USDT="10000")
    placed = place(client, signer, side="BUY", type="LIMIT", price="36020", quantity="0.05")  # 0.03 offered
    _, body = call(client, signer, "DELETE", "/api/v1/spot/order", orderId=placed["orderId"])
    _, after = call(client, signer, "GET", "/api/v1/spot/order", orderId=placed["orderId"])
    assert (placed["status"], body["status"], body["executedQty"]) == (
        "PARTIALLY_FILLED",
        "PARTIALLY_FILLED",
        "0.03",
    )
    assert after["status"] == "PARTIALLY_CANCELED"


def resting_order_with_latency(make_app) -> tuple[Any, Any, Any, dict[str, Any]]:
    """(app, client, signer, order): an order resting at 35000, where orders and cancels take 50 ms to reach
    the matcher."""
    app = make_app(clock_mode="replay", clock_start=T0, clock_speed=D(0), order_latency_ms=50)
    record(app, BOOK)
    client = app.test_client()
    signer = funded_signer(client, USDT="1000")
    order = place(client, signer, side="BUY", type="LIMIT", price="35000", quantity="0.001")
    step(app, 50)  # the order reaches the matcher and rests
    return app, client, signer, order


ETH_BOOK = Depth("ETHUSDT", T0 - 500, bids=((D("2000"), D("5")),), asks=((D("2001"), D("5")),))


def set_clock(client, market_ms: int) -> None:
    """The clock moved without applying anything on the way, as time passes at a speed above 0."""
    from tests.conftest import admin_headers  # noqa: PLC0415

    body = {"mode": "replay", "time": market_ms, "speed": 0}
    assert client.post("/sim/v1/clock", json=body, headers=admin_headers()).status_code == 200


def test_an_order_is_checked_against_balances_the_accounts_other_symbols_brought_up_to_now(make_app):
    """A resting ETHUSDT sell a recorded print filled at T0+100 paid 1,025 USDT. A BTCUSDT buy at T0+200
    needing it is placed: the account's other symbols catch up first (it was refused 0401 for funds that
    GET /api/v1/account showed as free, unless some read had caught ETHUSDT up before)."""
    app = make_app(clock_mode="replay", clock_start=T0, clock_speed=D(0))
    record(app, BOOK, ETH_BOOK, Trade("ETHUSDT", T0 + 100, D("2100"), D("1"), False, "e1"))
    client = app.test_client()
    signer = funded_signer(client, ETH="0.5")
    sell = place(client, signer, symbol="ETHUSDT", side="SELL", type="LIMIT", price="2050", quantity="0.5")
    set_clock(client, T0 + 200)

    buy = place(client, signer, side="BUY", type="LIMIT", price="35000", quantity="0.02")  # 700 USDT

    assert buy["status"] == "NEW"
    _, sold = call(client, signer, "GET", "/api/v1/spot/order", orderId=sell["orderId"])
    assert (sold["status"], sold["updateTime"]) == ("FILLED", str(T0 + 100))


def test_with_an_order_latency_arrivals_on_two_symbols_are_funded_in_time_order(make_app):
    """A MARKET buy of BTCUSDT received at T0 reaches the matcher at T0+50 and costs 723.1 USDT there; an
    ETHUSDT order received at T0+60 would lock 900 of what is left (897.2). The buy came first, so the ETH
    order is refused and the buy fills (ETHUSDT was brought to T0+60 first and locked the 900, and the
    buy's arrival, applied later, found too little and was rejected)."""
    app = make_app(clock_mode="replay", clock_start=T0, clock_speed=D(0), order_latency_ms=50)
    moved = Depth(
        "BTCUSDT",
        T0 + 20,
        bids=((D("36100"), D("0.5")),),
        asks=((D("36110"), D("0.01")), (D("36200"), D("1"))),
    )
    record(app, BOOK, ETH_BOOK, moved)
    client = app.test_client()
    signer = funded_signer(client, USDT="1620.3")
    buy = place(client, signer, side="BUY", type="MARKET", quantity="0.02")  # estimated 720.3 at T0
    set_clock(client, T0 + 60)

    refused = call(
        client,
        signer,
        "POST",
        "/api/v1.1/spot/order",
        symbol="ETHUSDT",
        side="BUY",
        type="LIMIT",
        price="1800",
        quantity="0.5",
    )

    assert refused == (400, {"code": "0401", "msg": "Insufficient asset"})
    _, bought = call(client, signer, "GET", "/api/v1/spot/order", orderId=buy["orderId"])
    assert (bought["status"], bought["executedQty"], bought["cummulativeQuoteQty"]) == (
        "FILLED",
        "0.02",
        "723.1",
    )


def test_a_clock_step_brings_symbols_up_to_now_together_in_time_order(make_app):
    """A cancel of an ETHUSDT buy takes effect at T0+110 and frees 900 USDT; a BTCUSDT MARKET buy reaches
    the matcher at T0+120 and needs 2.8 more than it locked. One clock step over both applies them in that
    order (BTCUSDT was taken to the step's end first, and the buy, short of funds, was rejected)."""
    app = make_app(clock_mode="replay", clock_start=T0, clock_speed=D(0), order_latency_ms=50)
    asks = ((D("36110"), D("0.01")), (D("36200"), D("1")))
    record(app, BOOK, ETH_BOOK, Depth("BTCUSDT", T0 + 100, bids=((D("36100"), D("0.5")),), asks=asks))
    client = app.test_client()
    signer = funded_signer(client, USDT="1620.3")
    eth = place(client, signer, symbol="ETHUSDT", side="BUY", type="LIMIT", price="1800", quantity="0.5")
    step(app, 60)
    call(client, signer, "DELETE", "/api/v1/spot/order", orderId=eth["orderId"])  # takes effect at T0+110
    step(app, 10)
    buy = place(client, signer, side="BUY", type="MARKET", quantity="0.02")  # locks 720.3, arrives at T0+120

    step(app, 200)

    _, bought = call(client, signer, "GET", "/api/v1/spot/order", orderId=buy["orderId"])
    assert (bought["status"], bought["cummulativeQuoteQty"]) == ("FILLED", "723.1")
    assert balances(client, signer)["USDT"] == ("897.2", "0")


def test_an_arrival_meets_the_fills_another_symbol_made_before_it_whatever_the_names(make_app):
    """A print at T0+30 fills a resting ETHUSDT sell, whose proceeds a BTCUSDT MARKET buy arriving at T0+50
    needs (it locked 720.3 at receipt and costs 723.1 then). One step over both applies the print first,
    though BTCUSDT comes first by name (each time's arrivals were applied in name order, the print after)."""
    app = make_app(clock_mode="replay", clock_start=T0 - 1000, clock_speed=D(0), order_latency_ms=50)
    asks = ((D("36110"), D("0.01")), (D("36200"), D("1")))
    moved = Depth("BTCUSDT", T0 + 20, bids=((D("36100"), D("0.5")),), asks=asks)
    record(app, BOOK, moved, ETH_BOOK, Trade("ETHUSDT", T0 + 30, D("2100"), D("1"), False, "e1"))
    client = app.test_client()
    signer = funded_signer(client, USDT="720.3", ETH="0.5")
    place(client, signer, symbol="ETHUSDT", side="SELL", type="LIMIT", price="2050", quantity="0.5")
    set_clock(client, T0)
    buy = place(client, signer, side="BUY", type="MARKET", quantity="0.02")

    step(app, 100)

    _, bought = call(client, signer, "GET", "/api/v1/spot/order", orderId=buy["orderId"])
    assert (bought["status"], bought["cummulativeQuoteQty"]) == ("FILLED", "723.1")


@pytest.mark.parametrize(
    ("print_at", "expected"),
    [(30, ("FILLED", "403.1")), (50, ("FILLED", "403.1")), (70, ("REJECTED", "0"))],
    ids=["print-before", "print-same-ms", "print-after"],
)
@pytest.mark.parametrize("read", [None, "ETHUSDT", "BTCUSDT"])
def test_an_arrival_meets_what_other_symbols_did_up_to_its_time_whatever_is_read(
    make_app, print_at, expected, read
):
    """An ETHUSDT MARKET buy arriving at T0+50 needs 2.8 USDT more than it locked: what a BTCUSDT sell of the
    account, filled by a print, pays. A print up to T0+50 pays in time (at T0+50 too: the recording comes
    first in a millisecond, as for an order placed then); a later one does not, and the buy is rejected. A
    read of either symbol in between changes nothing (a read of one symbol moved it alone: past the arrival,
    which then got the proceeds of a later print, or not up to it, which lost those of an earlier one; and
    a print at the arrival's millisecond on the other symbol came after it)."""
    app = make_app(clock_mode="replay", clock_start=T0 - 1000, clock_speed=D(0), order_latency_ms=50)
    bids = ((D("2000"), D("5")),)
    eth = Depth("ETHUSDT", T0 - 500, bids=bids, asks=((D("2001"), D("0.1")), (D("2002"), D("5"))))
    eth_moved = Depth("ETHUSDT", T0 + 20, bids=bids, asks=((D("2011"), D("0.1")), (D("2020"), D("5"))))
    record(app, BOOK, eth, eth_moved, Trade("BTCUSDT", T0 + print_at, D("37000"), D("1"), False, "b1"))
    client = app.test_client()
    signer = funded_signer(client, USDT="400.3", BTC="0.03")
    place(client, signer, side="SELL", type="LIMIT", price="36500", quantity="0.03")
    set_clock(client, T0)
    buy = place(client, signer, symbol="ETHUSDT", side="BUY", type="MARKET", quantity="0.2")  # locks 400.3
    set_clock(client, T0 + 100)

    if read is not None:
        assert client.get("/quote/v1/depth", query_string={"symbol": read}).status_code == 200

    _, bought = call(client, signer, "GET", "/api/v1/spot/order", orderId=buy["orderId"])
    assert (bought["status"], bought["cummulativeQuoteQty"]) == expected


def test_with_an_order_latency_a_second_cancel_answers_pending_cancel(make_app):
    app, client, signer, order = resting_order_with_latency(make_app)

    first = call(client, signer, "DELETE", "/api/v1/spot/order", orderId=order["orderId"])[1]
    second = call(client, signer, "DELETE", "/api/v1/spot/order", orderId=order["orderId"])[1]
    step(app, 50)  # the cancel reaches the matcher
    _, after = call(client, signer, "GET", "/api/v1/spot/order", orderId=order["orderId"])

    assert (first["status"], second["status"], after["status"]) == ("NEW", "PENDING_CANCEL", "CANCELED")


def test_an_order_id_decides_when_a_client_order_id_is_sent_with_it(client, signer):
    x = place(client, signer, side="BUY", type="LIMIT", price="35000", quantity="0.01", newClientOrderId="x")
    y = place(client, signer, side="BUY", type="LIMIT", price="34000", quantity="0.01", newClientOrderId="y")

    _, found = call(client, signer, "GET", "/api/v1/spot/order", orderId=y["orderId"], origClientOrderId="x")
    _, cancelled = call(
        client, signer, "DELETE", "/api/v1/spot/order", orderId=x["orderId"], clientOrderId="y"
    )
    _, open_orders = call(client, signer, "GET", "/api/v1/spot/openOrders")

    assert (found["orderId"], cancelled["orderId"]) == (y["orderId"], x["orderId"])
    assert [o["orderId"] for o in open_orders] == [y["orderId"]]


def test_cancel_by_id_and_by_client_id_return_the_funds(client, signer):
    a = place(client, signer, side="BUY", type="LIMIT", price="35000", quantity="0.01")
    b = place(
        client, signer, side="BUY", type="LIMIT", price="34000", quantity="0.01", newClientOrderId="mine"
    )
    status, body = call(client, signer, "DELETE", "/api/v1/spot/order", orderId=a["orderId"])
    assert status == 200
    assert set(body) == {
        "accountId",
        "symbol",
        "clientOrderId",
        "orderId",
        "transactTime",
        "price",
        "origQty",
        "executedQty",
        "status",
        "timeInForce",
        "type",
        "side",
    }
    assert (body["orderId"], body["status"]) == (a["orderId"], "NEW")
    status, body = call(client, signer, "DELETE", "/api/v1/spot/order", clientOrderId="mine")
    assert (status, body["orderId"], body["status"]) == (200, b["orderId"], "NEW")
    assert balances(client, signer)["USDT"] == ("1000", "0")
    assert call(client, signer, "DELETE", "/api/v1/spot/order", orderId=a["orderId"]) == (
        400,
        {"code": "-1142", "msg": "Order has been cancelled"},
    )
    assert call(client, signer, "DELETE", "/api/v1/spot/order", orderId="123") == (
        400,
        {"code": "-1143", "msg": "Order not found on order book"},
    )
    assert call(client, signer, "DELETE", "/api/v1/spot/order")[1]["code"] == "0001"


def test_a_filled_order_cannot_be_cancelled(client, signer):
    filled = place(client, signer, side="BUY", type="MARKET", quantity="0.01")
    assert call(client, signer, "DELETE", "/api/v1/spot/order", orderId=filled["orderId"]) == (
        400,
        {"code": "-1139", "msg": "Order has been filled"},
    )


def test_cancel_open_orders_of_a_symbol_and_side(client, signer):
    buy = place(client, signer, side="BUY", type="LIMIT", price="35000", quantity="0.01")
    sell = place(client, signer, side="SELL", type="LIMIT", price="37000", quantity="0.01")
    assert call(client, signer, "DELETE", "/api/v1/spot/openOrders", symbol="BTCUSDT", side="BUY") == (
        200,
        {"success": True},
    )
    _, open_now = call(client, signer, "GET", "/api/v1/spot/openOrders")
    assert [o["orderId"] for o in open_now] == [sell["orderId"]]
    assert call(client, signer, "DELETE", "/api/v1/spot/openOrders")[1]["code"] == "0001"
    assert call(client, signer, "DELETE", "/api/v1/spot/openOrders", symbol="NOPE")[1]["code"] == "0201"
    assert buy["orderId"] not in [o["orderId"] for o in open_now]


def test_cancel_all_open_orders_reports_the_last_cancelled(client, signer):
    ids = [
        place(client, signer, side="BUY", type="LIMIT", price="35000", quantity="0.001")["orderId"]
        for _ in range(3)
    ]
    status, body = call(client, signer, "DELETE", "/api/v1/spot/cancelAllOpenOrders", limit=2)
    assert status == 200
    assert body == {"code": "0000", "message": "success", "timestamp": T0, "lastOrderId": int(ids[1])}
    _, left = call(client, signer, "GET", "/api/v1/spot/openOrders")
    assert [o["orderId"] for o in left] == [ids[0]]  # newest first were cancelled
    status, body = call(
        client, signer, "DELETE", "/api/v1/spot/cancelAllOpenOrders", limit=500
    )  # counts as 200
    assert (status, body["lastOrderId"]) == (200, int(ids[0]))


@pytest.mark.parametrize(
    ("path", "params", "cancelled"),
    [
        ("/api/v1/spot/cancelAllOpenOrders", {}, 100),  # its default limit
        ("/api/v1/spot/cancelAllOpenOrders", {"limit": "1000"}, 200),
        ("/api/v1/spot/openOrders", {"symbol": "BTCUSDT"}, 200),  # "Upper Limit: 200 orders/batch"
    ],
)
def test_a_bulk_cancel_takes_at_most_200_orders_newest_first(make_app, path, params, cancelled):
    client = make_app(rate_limits=False).test_client()
    signer = funded_signer(client, USDT="20000")
    ids = [
        place(client, signer, side="BUY", type="LIMIT", price="35000", quantity="0.001")["orderId"]
        for _ in range(201)
    ]

    assert call(client, signer, "DELETE", path, **params)[0] == 200

    _, left = call(client, signer, "GET", "/api/v1/spot/openOrders", limit=1000)
    assert [o["orderId"] for o in left] == ids[: 201 - cancelled][::-1]


@pytest.mark.parametrize(
    ("path", "params"),
    [
        ("/api/v1/spot/cancelAllOpenOrders", {}),
        ("/api/v1/spot/openOrders", {"symbol": "BTCUSDT"}),
    ],
)
def test_cancelling_open_orders_leaves_those_the_market_filled_meanwhile_filled(
    app, client, signer, path, params
):
    """The orders to cancel are those still working once the market caught up: one a recorded trade
    filled since the last call is not a failure of the request, nor reported as cancelled."""
    far = place(client, signer, side="BUY", type="LIMIT", price="35000", quantity="0.001")
    near = place(client, signer, side="BUY", type="LIMIT", price="35995", quantity="0.001")
    record(app, Trade("BTCUSDT", T0 + 1_000, D("35990"), D("1"), True, "1"))  # fills `near` only
    with app.extensions[EXTENSION].database.write() as session:  # the clock moves on; nothing applied yet
        clock.write_clock(session, clock.read_clock(session).advanced(2_000, 0))

    status, body = call(client, signer, "DELETE", path, **params)

    assert status == 200, body
    if "lastOrderId" in body:
        assert body["lastOrderId"] == int(far["orderId"])
    statuses = {
        order_id: call(client, signer, "GET", "/api/v1/spot/order", orderId=order_id)[1]["status"]
        for order_id in (far["orderId"], near["orderId"])
    }
    assert statuses == {far["orderId"]: "CANCELED", near["orderId"]: "FILLED"}


def test_cancelling_all_open_orders_skips_those_already_pending_cancel(make_app):
    """With an order latency a cancelled order is PENDING_CANCEL until the matcher gets the cancel: asking
    again cancels nothing, so it is not the last order cancelled."""
    app, client, signer, order = resting_order_with_latency(make_app)

    first = call(client, signer, "DELETE", "/api/v1/spot/cancelAllOpenOrders")[1]
    second = call(client, signer, "DELETE", "/api/v1/spot/cancelAllOpenOrders")[1]

    assert (first["lastOrderId"], second["lastOrderId"]) == (int(order["orderId"]), 0)


def test_cancel_by_ids_lists_each_failure_with_its_code(client, signer):
    open_order = place(client, signer, side="BUY", type="LIMIT", price="35000", quantity="0.001")
    filled = place(client, signer, side="BUY", type="MARKET", quantity="0.001")
    ids = ",".join([open_order["orderId"], filled["orderId"], "42", "x"])
    status, body = call(client, signer, "DELETE", "/api/v1/spot/cancelOrderByIds", ids=ids)
    assert (status, body) == (
        200,
        {
            "code": "0000",
            "result": [
                {"orderId": filled["orderId"], "code": "-1139"},
                {"orderId": "42", "code": "0211"},
                {"orderId": "x", "code": "0211"},
            ],
        },
    )
    too_many = ",".join(str(n) for n in range(101))
    assert call(client, signer, "DELETE", "/api/v1/spot/cancelOrderByIds", ids=too_many)[1] == {
        "code": "-1130",
        "msg": "Illegal parameter 'ids'",
    }


def test_cancel_by_ids_cancels_an_id_listed_twice_once_and_reports_it_once(client, signer):
    open_order = place(client, signer, side="BUY", type="LIMIT", price="35000", quantity="0.001")
    ids = ",".join([open_order["orderId"], "42", open_order["orderId"], "42"])

    status, body = call(client, signer, "DELETE", "/api/v1/spot/cancelOrderByIds", ids=ids)

    assert (status, body) == (200, {"code": "0000", "result": [{"orderId": "42", "code": "0211"}]})
    _, found = call(client, signer, "GET", "/api/v1/spot/order", orderId=open_order["orderId"])
    assert found["status"] == "CANCELED"


# ---- queries ----------------------------------------------------------------------------------------


def test_query_order_in_the_documents_shape(client, signer, account):
    placed = place(
        client, signer, side="BUY", type="LIMIT", price="35000", quantity="0.01", stpMode="EXPIRE_MAKER"
    )
    status, body = call(client, signer, "GET", "/api/v1/spot/order", orderId=placed["orderId"])
    assert status == 200
    assert body == {
        "accountId": account["accountId"],
        "exchangeId": "301",
        "symbol": "BTCUSDT",
        "symbolName": "BTCUSDT",
        "clientOrderId": placed["clientOrderId"],
        "orderId": placed["orderId"],
        "price": "35000",
        "origQty": "0.01",
        "executedQty": "0",
        "cummulativeQuoteQty": "0",
        "cumulativeQuoteQty": "0",
        "avgPrice": "0",
        "status": "NEW",
        "timeInForce": "GTC",
        "type": "LIMIT",
        "side": "BUY",
        "stopPrice": "0.0",
        "icebergQty": "0.0",
        "time": str(T0),
        "updateTime": str(T0),
        "isWorking": True,
        "reqAmount": "0",
        "feeCoin": "",
        "feeAmount": "0",
        "sumFeeAmount": "0",
        "ordCxlReason": "",
        "stpMode": "EXPIRE_MAKER",
    }
    assert call(client, signer, "GET", "/api/v1/spot/order", orderId="42") == (
        400,
        {"code": "0211", "msg": "Order not found"},
    )
    assert call(client, signer, "GET", "/api/v1/spot/order")[1]["code"] == "0001"


def test_an_order_not_found_is_answered_before_the_market_catches_up(client, signer, app):
    placed = place(client, signer, side="BUY", type="LIMIT", price="35995", quantity="0.01")
    record(app, Trade("BTCUSDT", T0 + 1_000, D("35990"), D("0.5"), True, "1"))
    with app.extensions[EXTENSION].database.write() as session:  # the clock moves on; nothing applied yet
        clock.write_clock(session, clock.read_clock(session).advanced(2_000, 0))
    before = counts(app)

    assert call(client, signer, "GET", "/api/v1/spot/order", orderId="42")[1]["code"] == "0211"
    assert counts(app) == before  # the fill waiting for the next request that is answered
    _, found = call(client, signer, "GET", "/api/v1/spot/order", orderId=placed["orderId"])
    assert (found["status"], counts(app)[2]) == ("FILLED", before[2] + 1)


def test_an_order_is_checked_after_the_market_caught_up(make_app):
    """Fills since the last call end the orders first: they no longer count as open (maxEntrustNum 300)
    nor hold their client order id."""
    app = make_app(clock_mode="replay", clock_start=T0, clock_speed=D(0), rate_limits=False)
    record(app, BOOK)
    client = app.test_client()
    signer = funded_signer(client, USDT="20000")
    order = {"side": "BUY", "type": "LIMIT", "price": "35995", "quantity": "0.001"}
    for n in range(300):
        place(client, signer, **order, newClientOrderId=f"c{n}")
    assert (
        call(client, signer, "POST", "/api/v1.1/spot/order", symbol="BTCUSDT", **order)[1]["code"] == "-2017"
    )
    record(app, Trade("BTCUSDT", T0 + 1_000, D("35990"), D("1"), True, "1"))  # fills all 300
    with app.extensions[EXTENSION].database.write() as session:  # the clock moves on; nothing applied yet
        clock.write_clock(session, clock.read_clock(session).advanced(2_000, 0))

    placed = place(client, signer, **order, newClientOrderId="c0")

    assert placed["status"] == "NEW"


@pytest.mark.parametrize("how", ["admin", "restart"])
def test_a_replay_clock_set_back_plays_the_recording_again_for_resting_orders(make_app, how):
    """After the market got to T0 + 2 s, the clock goes back to T0 (the admin API, or serve --start on the
    same database): an order placed then fills on the recorded trade at T0 + 1 s, as on a fresh database."""
    from tests.conftest import admin_headers  # noqa: PLC0415

    app = make_app(clock_mode="replay", clock_start=T0, clock_speed=D(0), rate_limits=False)
    record(app, BOOK, Trade("BTCUSDT", T0 + 1_000, D("35990"), D("1"), True, "1"))
    client = app.test_client()
    signer = funded_signer(client, USDT="1000")
    place(client, signer, side="BUY", type="LIMIT", price="35000", quantity="0.001")  # far from the trade
    step(app, 2_000)  # the market got past the trade
    if how == "admin":
        answer = client.post(
            "/sim/v1/clock", json={"mode": "replay", "time": T0, "speed": 0}, headers=admin_headers()
        )
        assert answer.status_code == 200
    else:
        app = make_app(clock_mode="replay", clock_start=T0, clock_speed=D(0), rate_limits=False)
        client = app.test_client()

    near = place(client, signer, side="BUY", type="LIMIT", price="35995", quantity="0.001")
    step(app, 2_000)

    _, body = call(client, signer, "GET", "/api/v1/spot/order", orderId=near["orderId"])
    assert (body["status"], body["executedQty"], body["price"]) == ("FILLED", "0.001", "35995")


def test_what_orders_took_from_a_snapshot_stays_taken_when_the_clock_is_set_back_after_them(make_app):
    """A taker takes the best ask at T0; the clock goes on, then back to T0 + 50 ms, after the take (it may
    not go back before it). The snapshot still in force still shows the ask gone, and no order takes it
    again: the book is never shown crossed, and two orders never use one displayed size."""
    from tests.conftest import admin_headers  # noqa: PLC0415

    app = make_app(clock_mode="replay", clock_start=T0, clock_speed=D(0), rate_limits=False)
    record(app, BOOK)
    client = app.test_client()
    signer = funded_signer(client, USDT="1000")
    taker = place(client, signer, side="BUY", type="MARKET", quantity="0.01")
    assert (taker["status"], taker["executedQty"]) == ("FILLED", "0.01")
    place(client, signer, side="BUY", type="LIMIT", price="35000", quantity="0.001")  # the market moves on
    step(app, 100)

    answer = client.post(
        "/sim/v1/clock", json={"mode": "replay", "time": T0 + 50, "speed": 0}, headers=admin_headers()
    )

    assert answer.status_code == 200
    book = client.get("/quote/v1/depth", query_string={"symbol": "BTCUSDT"}).get_json()
    assert book["a"][0] == ["36020", "0.02"]  # 36010's 0.01 is still taken
    again = place(client, signer, side="BUY", type="MARKET", quantity="0.01")
    _, fills = call(client, signer, "GET", "/api/v1/account/trades", symbol="BTCUSDT")
    assert [(f["price"], f["qty"]) for f in fills if f["orderId"] == again["orderId"]] == [("36020", "0.01")]


def test_a_clock_set_back_keeps_the_last_simulated_trade_as_the_mark_without_a_book(make_app):
    """No market data: the mark price is the last trade, here one bot's sell met by another's buy at
    36000, so a buy above 39600 (10 % over it) is refused. Set back to a time after that trade, the clock
    keeps it: the band stands."""
    from tests.conftest import admin_headers  # noqa: PLC0415

    app = make_app(clock_mode="replay", clock_start=T0, clock_speed=D(0), rate_limits=False)
    client = app.test_client()
    seller, buyer = funded_signer(client, BTC="1"), funded_signer(client, USDT="1000")
    place(client, seller, side="SELL", type="LIMIT", price="36000", quantity="0.001")
    assert (
        place(client, buyer, side="BUY", type="LIMIT", price="36000", quantity="0.001")["status"] == "FILLED"
    )
    place(client, buyer, side="BUY", type="LIMIT", price="35000", quantity="0.001")  # the market moves on
    too_high = {"symbol": "BTCUSDT", "side": "BUY", "type": "LIMIT", "price": "40000", "quantity": "0.001"}
    assert call(client, buyer, "POST", "/api/v1.1/spot/order", **too_high)[1]["code"] == "0207"
    step(app, 5_000)

    answer = client.post(
        "/sim/v1/clock", json={"mode": "replay", "time": T0 + 2_000, "speed": 0}, headers=admin_headers()
    )

    assert answer.status_code == 200
    assert call(client, buyer, "POST", "/api/v1.1/spot/order", **too_high)[1]["code"] == "0207"


@pytest.mark.parametrize("bid", ["36000", "36000.5"], ids=["at-the-sells-limit", "above-it"])
def test_a_sell_limit_takes_another_bots_resting_bid_at_or_above_its_price(make_app, bid):
    """No market data: a bot's bid rests; another bot's LIMIT sell at 36000 takes it at the bid's price."""
    app = make_app(clock_mode="replay", clock_start=T0, clock_speed=D(0), rate_limits=False)
    client = app.test_client()
    buyer, seller = funded_signer(client, USDT="1000"), funded_signer(client, BTC="1")
    resting = place(client, buyer, side="BUY", type="LIMIT", price=bid, quantity="0.001")

    sell = place(client, seller, side="SELL", type="LIMIT", price="36000", quantity="0.001")

    _, sold = call(client, seller, "GET", "/api/v1/spot/order", orderId=sell["orderId"])
    _, bought = call(client, buyer, "GET", "/api/v1/spot/order", orderId=resting["orderId"])
    assert (sold["status"], sold["avgPrice"], bought["status"]) == ("FILLED", bid, "FILLED")


def test_a_clock_set_back_weighs_the_recordings_print_not_the_resting_fill_it_made(make_app):
    """Two bots trade at 36000 at T0; at T0 + 1 s the recording prints 34000 through a bid resting at 35000,
    which fills at its limit. The print shows that trade, not the fill: the mark is 34000 before the clock
    is set back to T0 + 2 s and after (a buy of 37500 is beyond 10 % of it; it was measured from the
    fill's 35000 once set back)."""
    from tests.conftest import admin_headers  # noqa: PLC0415

    app = make_app(clock_mode="replay", clock_start=T0, clock_speed=D(0), rate_limits=False)
    record(app, Trade("BTCUSDT", T0 + 1_000, D("34000"), D("1"), True, "through"))
    client = app.test_client()
    seller, buyer = funded_signer(client, BTC="1"), funded_signer(client, USDT="1000")
    place(client, seller, side="SELL", type="LIMIT", price="36000", quantity="0.001")
    assert (
        place(client, buyer, side="BUY", type="LIMIT", price="36000", quantity="0.001")["status"] == "FILLED"
    )
    bid = place(client, buyer, side="BUY", type="LIMIT", price="35000", quantity="0.001")
    step(app, 5_000)
    assert call(client, buyer, "GET", "/api/v1/spot/order", orderId=bid["orderId"])[1]["status"] == "FILLED"
    high = {"symbol": "BTCUSDT", "side": "BUY", "type": "LIMIT", "price": "37500", "quantity": "0.001"}
    assert call(client, buyer, "POST", "/api/v1/spot/orderTest", **high)[1]["code"] == "0207"

    answer = client.post(
        "/sim/v1/clock", json={"mode": "replay", "time": T0 + 2_000, "speed": 0}, headers=admin_headers()
    )

    assert answer.status_code == 200
    assert call(client, buyer, "POST", "/api/v1/spot/orderTest", **high)[1]["code"] == "0207"


def test_a_clock_set_back_keeps_the_time_of_the_last_simulated_trade_against_an_older_print(make_app):
    """The recording prints 34000 at T0 + 1 s; two bots trade at 36000 at T0 + 2 s. Set back to that very
    millisecond, the bots' trade is still the later, and the mark (a buy of 39000 is within 10 % of 36000,
    not of 34000: the trade's time was forgotten, and the print of the last minute taken as later)."""
    from tests.conftest import admin_headers  # noqa: PLC0415

    app = make_app(clock_mode="replay", clock_start=T0, clock_speed=D(0), rate_limits=False)
    record(app, Trade("BTCUSDT", T0 + 1_000, D("34000"), D("0.1"), False, "older"))
    client = app.test_client()
    seller, buyer = funded_signer(client, BTC="1"), funded_signer(client, USDT="1000")
    step(app, 2_000)
    place(client, seller, side="SELL", type="LIMIT", price="36000", quantity="0.001")
    assert (
        place(client, buyer, side="BUY", type="LIMIT", price="36000", quantity="0.001")["status"] == "FILLED"
    )
    place(client, buyer, side="BUY", type="LIMIT", price="35000", quantity="0.001")  # the market moves on
    step(app, 3_000)
    within = {"symbol": "BTCUSDT", "side": "BUY", "type": "LIMIT", "price": "39000", "quantity": "0.001"}
    assert call(client, buyer, "POST", "/api/v1/spot/orderTest", **within)[0] == 200

    answer = client.post(
        "/sim/v1/clock", json={"mode": "replay", "time": T0 + 2_000, "speed": 0}, headers=admin_headers()
    )

    assert answer.status_code == 200
    assert call(client, buyer, "POST", "/api/v1/spot/orderTest", **within)[0] == 200


def test_without_a_book_the_mark_is_the_later_of_the_last_simulated_trade_and_the_recordings_print(make_app):
    """Trades alone, nothing resting: two bots trade at 36000 at T0, then the recording prints 38000 at
    T0 + 2 s. The mark is that print from then on (a buy of 41000 is within 10 % of it, not of 36000), also
    once it is older than the minute the recording's prints are otherwise looked back over."""
    app = make_app(clock_mode="replay", clock_start=T0, clock_speed=D(0), rate_limits=False)
    record(app, Trade("BTCUSDT", T0 + 2_000, D("38000"), D("0.1"), False, "print"))
    client = app.test_client()
    seller, buyer = funded_signer(client, BTC="1"), funded_signer(client, USDT="1000")
    place(client, seller, side="SELL", type="LIMIT", price="36000", quantity="0.001")
    assert (
        place(client, buyer, side="BUY", type="LIMIT", price="36000", quantity="0.001")["status"] == "FILLED"
    )
    high = {"symbol": "BTCUSDT", "side": "BUY", "type": "LIMIT", "price": "41000", "quantity": "0.001"}
    assert call(client, buyer, "POST", "/api/v1/spot/orderTest", **high)[1]["code"] == "0207"  # 36000 + 10 %

    step(app, 5_000)
    assert call(client, buyer, "POST", "/api/v1/spot/orderTest", **high)[0] == 200
    step(app, 65_000)
    assert call(client, buyer, "POST", "/api/v1/spot/orderTest", **high)[0] == 200


def test_a_resting_fill_made_by_a_snapshot_is_the_last_trade_the_mark_falls_back_on(make_app):
    """A snapshot moves through a resting bid at 36000 and fills it; no print is recorded. Once that book is
    stale the mark is that trade (a buy of 40000 is beyond 10 % of it)."""
    app = make_app(clock_mode="replay", clock_start=T0, clock_speed=D(0), rate_limits=False)
    record(
        app,
        Depth("BTCUSDT", T0, bids=((D("35990"), D("1")),), asks=((D("36010"), D("1")),)),
        Depth("BTCUSDT", T0 + 1_000, bids=((D("35980"), D("1")),), asks=((D("35995"), D("1")),)),
    )
    client = app.test_client()
    buyer = funded_signer(client, USDT="1000")
    place(client, buyer, side="BUY", type="LIMIT", price="36000", quantity="0.001")

    step(app, 10_000)  # the snapshot of T0 + 1 s filled the bid; it is stale 5 s later
    assert call(client, buyer, "GET", "/api/v1/spot/openOrders")[1] == []
    high = {"symbol": "BTCUSDT", "side": "BUY", "type": "LIMIT", "price": "40000", "quantity": "0.001"}
    assert call(client, buyer, "POST", "/api/v1/spot/orderTest", **high)[1]["code"] == "0207"


def test_of_the_resting_fills_one_snapshot_made_the_last_is_the_last_trade(make_app):
    """A snapshot moves through bids resting at 36000 and 35995 and fills both, the better first, as the
    tape shows them. Once that book is stale the mark is the later fill's 35995 (a buy of 39597 is beyond
    10 % of it, not of 36000)."""
    app = make_app(clock_mode="replay", clock_start=T0, clock_speed=D(0), rate_limits=False)
    record(
        app,
        Depth("BTCUSDT", T0, bids=((D("35980"), D("1")),), asks=((D("36010"), D("1")),)),
        Depth("BTCUSDT", T0 + 1_000, bids=((D("35970"), D("1")),), asks=((D("35990"), D("1")),)),
    )
    client = app.test_client()
    buyer = funded_signer(client, USDT="1000")
    for price in ("36000", "35995"):
        place(client, buyer, side="BUY", type="LIMIT", price=price, quantity="0.001")

    step(app, 10_000)  # the snapshot of T0 + 1 s filled both bids; it is stale 5 s later
    tape = client.get("/quote/v1/trades", query_string={"symbol": "BTCUSDT"}).get_json()
    high = {"symbol": "BTCUSDT", "side": "BUY", "type": "LIMIT", "price": "39597", "quantity": "0.001"}

    assert [trade["p"] for trade in tape] == ["36000", "35995"]
    assert call(client, buyer, "POST", "/api/v1/spot/orderTest", **high)[1]["code"] == "0207"


def test_once_the_synthetic_book_lapses_the_mark_is_the_last_bars_close(make_app):
    """Bars alone: three minutes after the last bar no book stands, and the band is still measured against
    that bar's close, the last traded price the ticker shows (a buy of 40000 is beyond 10 % of 30000)."""
    app = make_app(clock_mode="replay", clock_start=T0 + 3 * MINUTE, clock_speed=D(0), rate_limits=False)
    price = D("30000")
    record(app, Kline("BTCUSDT", "1m", T0 - MINUTE, T0 - 1, price, price, price, price, D("10")))
    client = app.test_client()
    buyer = funded_signer(client, USDT="1000", BTC="1")

    assert client.get("/quote/v1/depth", query_string={"symbol": "BTCUSDT"}).get_json()["b"] == []
    high = {"symbol": "BTCUSDT", "side": "BUY", "type": "LIMIT", "price": "40000", "quantity": "0.001"}
    assert call(client, buyer, "POST", "/api/v1/spot/orderTest", **high)[1]["code"] == "0207"
    assert call(client, buyer, "GET", "/api/v1/account/vipInfo")[1]["totalAssetBal"] == "31000"


def test_a_synthetic_level_taken_is_not_offered_again_once_a_snapshot_came_between(make_app):
    """A bar's synthetic ask is taken whole; a snapshot recorded after the bar closed serves a taker and goes
    stale; the bar still stands for the market (a minute after its close), but its ask, taken, is no book
    again: the book does not go back to a source it has moved past."""
    app = make_app(clock_mode="replay", clock_start=T0, clock_speed=D(0), rate_limits=False)
    price = D("30000")
    newer = Depth("BTCUSDT", T0 + 1_000, bids=((D("29990"), D("1")),), asks=((D("30010"), D("1")),))
    record(app, Kline("BTCUSDT", "1m", T0 - MINUTE, T0 - 1, price, price, price, price, D("10")), newer)
    client = app.test_client()
    buyer = funded_signer(client, USDT="100000")
    synthetic_ask = client.get("/quote/v1/depth", query_string={"symbol": "BTCUSDT"}).get_json()["a"]
    assert synthetic_ask == [["30015", "1"]]  # the close + 0.05 %, a tenth of the bar's volume
    assert place(client, buyer, side="BUY", type="MARKET", quantity="1")["executedQty"] == "1"
    step(app, 1_000)
    assert place(client, buyer, side="BUY", type="MARKET", quantity="0.1")["executedQty"] == "0.1"
    step(app, 10_000)  # the snapshot is stale; the bar stands for the market until T0 + 59_999

    assert client.get("/quote/v1/depth", query_string={"symbol": "BTCUSDT"}).get_json()["a"] == []
    assert place(client, buyer, side="BUY", type="MARKET", quantity="1")["executedQty"] == "0"


def test_a_replay_clock_cannot_go_back_before_the_newest_order_change(make_app):
    """An order placed at T0 + 2 s would rest in a book it is not yet part of at T0: the clock is refused
    (the admin API with -1020, nothing changed; serve --start with a message) rather than set."""
    from tests.conftest import admin_headers  # noqa: PLC0415

    app = make_app(clock_mode="replay", clock_start=T0, clock_speed=D(0), rate_limits=False)
    record(app, BOOK)
    client = app.test_client()
    signer = funded_signer(client, USDT="1000")
    step(app, 2_000)
    place(client, signer, side="BUY", type="LIMIT", price="35000", quantity="0.001")  # at T0 + 2 s

    answer = client.post(
        "/sim/v1/clock", json={"mode": "replay", "time": T0, "speed": 0}, headers=admin_headers()
    )

    assert answer.status_code == 400
    assert answer.get_json()["code"] == "-1020"
    assert "orders changed up to" in answer.get_json()["msg"]
    assert client.get("/api/v1/time").get_json() == {"serverTime": T0 + 2_000}
    with pytest.raises(ClockError, match="fresh copy of the database"):
        make_app(clock_mode="replay", clock_start=T0, clock_speed=D(0))
    settings = app.extensions[EXTENSION].settings.replace(clock_start=T0)
    with pytest.raises(click.ClickException, match="cannot set the clock of .*: orders changed up to"):
        open_database_or_exit(settings, apply_clock=True)  # what serve --start does first


def test_a_replay_clock_cannot_go_back_before_a_print_that_moved_a_resting_orders_queue(make_app):
    """A bid at the best bid queues behind the 0.5 shown there; a print of 0.3 at its price moves it up
    without filling it. Set back before that print, the clock would play it again on a queue it already
    used: refused, as for any order change; back to the print itself is fine, however far the clock had
    gone past it in one step (a later print that does not reach the bid moves nothing)."""
    from tests.conftest import admin_headers  # noqa: PLC0415

    app = make_app(clock_mode="replay", clock_start=T0, clock_speed=D(0), rate_limits=False)
    at_bid = Trade("BTCUSDT", T0 + 1_000, D("36000"), D("0.3"), True, "at-bid")
    record(app, BOOK, at_bid, Trade("BTCUSDT", T0 + 5_000, D("36010"), D("0.3"), False, "above"))
    client = app.test_client()
    signer = funded_signer(client, USDT="1000")
    bid = place(client, signer, side="BUY", type="LIMIT", price="36000", quantity="0.001")
    step(app, 6_000)
    assert call(client, signer, "GET", "/api/v1/spot/order", orderId=bid["orderId"])[1]["executedQty"] == "0"

    def set_back(to_ms: int) -> Any:
        body = {"mode": "replay", "time": to_ms, "speed": 0}
        return client.post("/sim/v1/clock", json=body, headers=admin_headers())

    refused = set_back(T0 + 999)
    assert (refused.status_code, refused.get_json()["code"]) == (400, "-1020")
    assert f"orders changed up to {T0 + 1_000}" in refused.get_json()["msg"]
    assert set_back(T0 + 1_000).status_code == 200


def test_a_replay_clock_cannot_go_back_before_the_last_of_several_prints_that_moved_a_queue_in_one_step(
    make_app,
):
    """Prints of 0.1 at the bid at T0 + 1 s and T0 + 3 s each move the bid up the 0.5 queued ahead of it,
    applied in one step: the later one is the newest change of the order, and the clock cannot go back
    between them."""
    from tests.conftest import admin_headers  # noqa: PLC0415

    app = make_app(clock_mode="replay", clock_start=T0, clock_speed=D(0), rate_limits=False)
    first = Trade("BTCUSDT", T0 + 1_000, D("36000"), D("0.1"), True, "first")
    record(app, BOOK, first, Trade("BTCUSDT", T0 + 3_000, D("36000"), D("0.1"), True, "second"))
    client = app.test_client()
    signer = funded_signer(client, USDT="1000")
    place(client, signer, side="BUY", type="LIMIT", price="36000", quantity="0.001")
    step(app, 6_000)

    body = {"mode": "replay", "time": T0 + 2_000, "speed": 0}
    refused = client.post("/sim/v1/clock", json=body, headers=admin_headers())

    assert (refused.status_code, refused.get_json()["code"]) == (400, "-1020")
    assert f"orders changed up to {T0 + 3_000}" in refused.get_json()["msg"]


def test_a_replay_clock_cannot_go_back_before_a_cancel_that_followed_a_queue_move(make_app):
    """The queue moved at T0 + 1 s, the order was cancelled at T0 + 3 s: the cancel is the newest change
    of the order, whatever its queue did before."""
    from tests.conftest import admin_headers  # noqa: PLC0415

    app = make_app(clock_mode="replay", clock_start=T0, clock_speed=D(0), rate_limits=False)
    record(app, BOOK, Trade("BTCUSDT", T0 + 1_000, D("36000"), D("0.3"), True, "at-bid"))
    client = app.test_client()
    signer = funded_signer(client, USDT="1000")
    bid = place(client, signer, side="BUY", type="LIMIT", price="36000", quantity="0.001")
    step(app, 2_000)
    call(client, signer, "GET", "/api/v1/spot/openOrders")  # the market catches up: the queue moves
    step(app, 1_000)
    assert call(client, signer, "DELETE", "/api/v1/spot/order", orderId=bid["orderId"])[0] == 200

    body = {"mode": "replay", "time": T0 + 2_000, "speed": 0}
    refused = client.post("/sim/v1/clock", json=body, headers=admin_headers())

    assert (refused.status_code, refused.get_json()["code"]) == (400, "-1020")
    assert f"orders changed up to {T0 + 3_000}" in refused.get_json()["msg"]


def test_another_users_order_is_not_found(client, signer, create_account):
    from tests.conftest import Signer  # noqa: PLC0415

    other = create_account(balances={"USDT": "1000"})
    theirs = place(
        client,
        Signer(other["apiKey"], other["secretKey"]),
        side="BUY",
        type="LIMIT",
        price="35000",
        quantity="0.01",
    )
    assert call(client, signer, "GET", "/api/v1/spot/order", orderId=theirs["orderId"])[1]["code"] == "0211"
    assert (
        call(client, signer, "DELETE", "/api/v1/spot/order", orderId=theirs["orderId"])[1]["code"] == "-1143"
    )


def test_open_and_trade_orders_lists_newest_first_with_filters(client, signer):
    resting = [
        place(client, signer, side="BUY", type="LIMIT", price="35000", quantity="0.001")["orderId"]
        for _ in range(3)
    ]
    filled = place(client, signer, side="BUY", type="MARKET", quantity="0.001")
    _, open_orders = call(client, signer, "GET", "/api/v1/spot/openOrders", symbol="BTCUSDT")
    assert [o["orderId"] for o in open_orders] == resting[::-1]
    assert open_orders[0]["stpMode"] == "EXPIRE_TAKER"
    _, page = call(client, signer, "GET", "/api/v1/spot/openOrders", fromOrderId=resting[2], limit=1)
    assert [o["orderId"] for o in page] == [resting[1]]
    _, sells = call(client, signer, "GET", "/api/v1/spot/openOrders", side="SELL")
    assert sells == []
    _, finished = call(client, signer, "GET", "/api/v1/spot/tradeOrders")
    assert [(o["orderId"], o["status"], o["stpMode"]) for o in finished] == [
        (filled["orderId"], "FILLED", "EXPIRE_TAKER")
    ]
    assert call(client, signer, "GET", "/api/v1/spot/openOrders", limit=1001)[1]["code"] == "-1130"
    assert call(client, signer, "GET", "/api/v1/spot/openOrders", limit=-1)[1] == {
        "code": "-1130",
        "msg": "Illegal parameter 'limit'",
    }


BEYOND_A_LONG = "9999999999999999999"  # 19 digits, above 2**63 - 1


@pytest.mark.parametrize(
    ("method", "path", "params", "name"),
    [
        ("GET", "/api/v1/spot/tradeOrders", {"startTime": BEYOND_A_LONG}, "startTime"),
        ("GET", "/api/v1/spot/tradeOrders", {"endTime": BEYOND_A_LONG}, "endTime"),
        ("GET", "/api/v1/account/trades", {"startTime": BEYOND_A_LONG}, "startTime"),
        ("GET", "/api/v1/account/trades", {"endTime": BEYOND_A_LONG}, "endTime"),
        ("GET", "/api/v1/spot/openOrders", {"limit": BEYOND_A_LONG}, "limit"),
        ("DELETE", "/api/v1/spot/cancelAllOpenOrders", {"limit": BEYOND_A_LONG}, "limit"),
    ],
)
def test_a_number_beyond_a_long_is_an_illegal_parameter(client, signer, app, method, path, params, name):
    before = counts(app)
    assert call(client, signer, method, path, **params) == (
        400,
        {"code": "-1130", "msg": f"Illegal parameter '{name}'"},
    )
    assert counts(app) == before


def test_order_ids_of_twenty_digits_are_well_formed_and_name_no_order(client, signer):
    resting = place(client, signer, side="BUY", type="LIMIT", price="35000", quantity="0.01")
    twenty = "9" * 20

    assert call(client, signer, "DELETE", "/api/v1/spot/order", orderId=twenty)[1]["code"] == "-1143"
    assert call(client, signer, "GET", "/api/v1/spot/order", orderId=twenty)[1]["code"] == "0211"
    listed = call(client, signer, "GET", "/api/v1/spot/openOrders", fromOrderId=twenty)[1]
    assert [o["orderId"] for o in listed] == [resting["orderId"]]  # every order is below it
    assert call(client, signer, "GET", "/api/v1/spot/order", orderId="9" * 21)[1] == {
        "code": "-1130",
        "msg": "Illegal parameter 'orderId'",
    }


@pytest.mark.parametrize("path", ["/api/v1/spot/openOrders", "/api/v1/spot/tradeOrders"])
def test_order_lists_of_a_symbol_the_venue_does_not_list_are_0201(client, signer, path):
    assert call(client, signer, "GET", path, symbol="NOPEUSDT") == (
        400,
        {"code": "0201", "msg": "Instrument not found"},
    )


def test_trade_orders_accepts_only_the_last_90_days(client, signer):
    day = 86_400_000
    three_months = {"code": "-2029", "msg": "The search is limited to data within the last three months"}
    assert call(client, signer, "GET", "/api/v1/spot/tradeOrders", startTime=T0 - 91 * day)[1] == three_months
    assert call(client, signer, "GET", "/api/v1/spot/tradeOrders", endTime=T0 - 91 * day)[1] == three_months
    assert call(client, signer, "GET", "/api/v1/spot/tradeOrders", startTime=T0 - day, endTime=T0 - 2 * day)[
        1
    ] == {"code": "-1130", "msg": "Illegal parameter 'endTime'"}
    assert call(client, signer, "GET", "/api/v1/spot/tradeOrders", startTime=T0 - 89 * day)[0] == 200


def test_trade_orders_checks_the_symbol_before_the_90_days_as_account_trades_its_30(client, signer):
    too_old = T0 - 91 * 86_400_000
    orders_answer = call(
        client, signer, "GET", "/api/v1/spot/tradeOrders", symbol="NOPEUSDT", startTime=too_old
    )
    trades_answer = call(
        client, signer, "GET", "/api/v1/account/trades", symbol="NOPEUSDT", startTime=too_old
    )
    malformed = call(client, signer, "GET", "/api/v1/spot/tradeOrders", symbol="NOPEUSDT", startTime="x")

    assert orders_answer == trades_answer == (400, {"code": "0201", "msg": "Instrument not found"})
    assert malformed == (400, {"code": "-1130", "msg": "Illegal parameter 'startTime'"})


def test_a_resting_order_fills_as_the_clock_moves_and_queries_show_it(client, signer, app):
    placed = place(client, signer, side="BUY", type="LIMIT", price="35995", quantity="0.01")
    record(app, Trade("BTCUSDT", T0 + 1_000, D("35990"), D("0.5"), True, "1"))
    step(app, 2_000)
    _, body = call(client, signer, "GET", "/api/v1/spot/order", orderId=placed["orderId"])
    assert (body["status"], body["executedQty"], body["avgPrice"]) == ("FILLED", "0.01", "35995")
    _, finished = call(client, signer, "GET", "/api/v1/spot/tradeOrders")
    assert [o["orderId"] for o in finished] == [placed["orderId"]]


def funded_sub_account(client, account) -> dict[str, Any]:
    from tests.conftest import admin_headers  # noqa: PLC0415

    sub = next(a for a in account["accounts"] if a.get("keyType") == "sub")
    funded = client.post(
        f"/sim/v1/accounts/{sub['accountId']}/balances",
        json={"asset": "USDT", "amount": "500"},
        headers=admin_headers(),
    )
    assert funded.status_code == 200, funded.get_json()
    return sub


def test_a_sub_account_order_is_readable_by_the_master_key_with_account_id(
    client, signer, sub_signer, account
):
    sub = funded_sub_account(client, account)
    placed = place(client, sub_signer, side="BUY", type="LIMIT", price="35000", quantity="0.01")
    status, body = call(
        client, signer, "GET", "/api/v1/spot/order", orderId=placed["orderId"], accountId=sub["accountId"]
    )
    assert (status, body["orderId"], body["accountId"]) == (200, placed["orderId"], sub["accountId"])
    assert call(client, signer, "GET", "/api/v1/spot/order", orderId=placed["orderId"])[1]["code"] == "0211"
    assert (
        call(
            client,
            sub_signer,
            "GET",
            "/api/v1/spot/order",
            orderId=placed["orderId"],
            accountId=account["accountId"],
        )[1]["code"]
        == "-3117"
    )


@pytest.mark.parametrize("path", ["/api/v1/spot/openOrders", "/api/v1/spot/tradeOrders"])
def test_the_order_lists_read_the_account_account_id_names_as_get_order_does(
    client, signer, sub_signer, account, path
):
    """ccxt sends accountId to tradeOrders (fetch_canceled_and_closed_orders): ignored, the master's own
    orders would come back as the sub account's."""
    sub = funded_sub_account(client, account)
    placed = place(client, sub_signer, side="BUY", type="LIMIT", price="35000", quantity="0.01")
    place(client, signer, side="BUY", type="LIMIT", price="35000", quantity="0.001")
    if path.endswith("tradeOrders"):
        for owner in (sub_signer, signer):
            for order in call(client, owner, "GET", "/api/v1/spot/openOrders")[1]:
                call(client, owner, "DELETE", "/api/v1/spot/order", orderId=order["orderId"])

    status, listed = call(client, signer, "GET", path, accountId=sub["accountId"])

    assert (status, [o["orderId"] for o in listed]) == (200, [placed["orderId"]])
    assert {o["accountId"] for o in call(client, signer, "GET", path)[1]} == {account["accountId"]}
    assert call(client, sub_signer, "GET", path, accountId=account["accountId"])[1]["code"] == "-3117"
    assert call(client, signer, "GET", path, accountId="1999999999999999999")[1]["code"] == "0104"


@pytest.mark.parametrize("read_whole", [-1, 2_000])  # every window walked by id; read whole
def test_the_order_lists_read_their_page_off_an_index_not_the_whole_history_sorted(
    app, client, signer, account, monkeypatch, read_whole
):
    """openOrders finds the working orders by status; tradeOrders walks the account's orders by id, newest
    first, or reads a narrow window of creation times whole: a bot's long history of finished orders is
    never read and sorted whole."""
    monkeypatch.setattr(orders_service, "WINDOW_READ_WHOLE", read_whole)
    database = app.extensions[EXTENSION].database
    plans: dict[str, list[str]] = {}
    current = ""

    def explain(connection, cursor, statement, parameters, context, executemany):
        if statement.lstrip().startswith("SELECT") and "FROM orders" in statement and "LIMIT" in statement:
            plan = connection.exec_driver_sql(f"EXPLAIN QUERY PLAN {statement}", parameters).all()
            plans.setdefault(current, []).append(" | ".join(step[-1] for step in plan))

    event.listen(database.engine, "before_cursor_execute", explain)
    try:
        for current in ("/api/v1/spot/openOrders", "/api/v1/spot/tradeOrders"):
            assert call(client, signer, "GET", current)[0] == 200
        current = "symbol"
        assert call(client, signer, "GET", "/api/v1/spot/tradeOrders", symbol="BTCUSDT")[0] == 200
    finally:
        event.remove(database.engine, "before_cursor_execute", explain)

    assert any("ix_orders_account_status" in plan for plan in plans["/api/v1/spot/openOrders"])
    # never every account's orders of the symbol (the indexes that begin with the symbol)
    assert not [plan for plan in plans["symbol"] if "(symbol=?)" in plan]
    trade_orders = " || ".join(plans["/api/v1/spot/tradeOrders"])
    if read_whole < 0:
        assert "ix_orders_account_sequence" in trade_orders and "TEMP B-TREE" not in trade_orders
    else:
        assert "ix_orders_account_time" in trade_orders  # the window's orders, then sorted


def test_trade_orders_list_and_page_by_id_even_when_a_later_order_was_stamped_earlier(app, client, signer):
    """The wall clock stepped back 3 s between two orders (live mode): the later one, stamped earlier,
    is still listed first, and paging back with fromOrderId reaches the other."""
    record(app, Depth("BTCUSDT", T0 - 60_000, bids=((D("36000"), D("1")),), asks=((D("36010"), D("1")),)))
    placed = []
    for at in (T0, T0 - 3_000):
        with freeze_time(datetime.fromtimestamp(at / 1000, UTC)):
            body = place(client, signer, side="BUY", type="LIMIT", price="35000", quantity="0.001")
            call(client, signer, "DELETE", "/api/v1/spot/order", orderId=body["orderId"])
            placed.append(body["orderId"])
    with freeze_time(datetime.fromtimestamp(T0 / 1000, UTC)):
        listed = call(client, signer, "GET", "/api/v1/spot/tradeOrders")[1]
        first = call(client, signer, "GET", "/api/v1/spot/tradeOrders", limit=1)[1]
        rest = call(client, signer, "GET", "/api/v1/spot/tradeOrders", fromOrderId=first[-1]["orderId"])[1]

    assert [order["orderId"] for order in listed] == placed[::-1]
    assert [order["orderId"] for order in first + rest] == placed[::-1]


@pytest.mark.parametrize("read_whole", [-1, 1, 2_000])  # every window walked by id ... every one read whole
def test_trade_orders_read_whole_or_walked_by_id_list_the_same_orders(
    client, signer, monkeypatch, read_whole
):
    monkeypatch.setattr(orders_service, "WINDOW_READ_WHOLE", read_whole)
    placed = []
    for symbol, side in [("BTCUSDT", "BUY"), ("ETHUSDT", "BUY"), ("BTCUSDT", "SELL")] * 2:
        price = "35000" if symbol == "BTCUSDT" else "5000"
        price = price if side == "BUY" else str(int(price) * 2)
        body = place(client, signer, symbol=symbol, side=side, type="LIMIT", price=price, quantity="0.01")
        call(client, signer, "DELETE", "/api/v1/spot/order", orderId=body["orderId"])
        placed.append(
            {"orderId": body["orderId"], "symbol": symbol, "side": side, "time": int(body["transactTime"])}
        )
    newest_first = placed[::-1]
    middle = newest_first[2]
    cases = [
        ({}, newest_first),
        ({"symbol": "BTCUSDT"}, [o for o in newest_first if o["symbol"] == "BTCUSDT"]),
        ({"side": "SELL", "limit": 2}, [o for o in newest_first if o["side"] == "SELL"][:2]),
        ({"fromOrderId": middle["orderId"]}, newest_first[3:]),
        (
            {"startTime": middle["time"], "symbol": "BTCUSDT"},
            [o for o in newest_first if o["symbol"] == "BTCUSDT" and o["time"] >= middle["time"]],
        ),
    ]
    for query, expected in cases:
        listed = call(client, signer, "GET", "/api/v1/spot/tradeOrders", **query)[1]
        assert [o["orderId"] for o in listed] == [o["orderId"] for o in expected], query
