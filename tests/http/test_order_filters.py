"""Every row of the README's filter table ("Order filters and their codes") through a real order request:
the symbol's filters as seeded from fixtures (edited here where a row needs a tighter one), the mark price
and market time the service passes, the exact code and message, HTTP 400, and nothing written."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal as D
from typing import Any

import pytest
from freezegun import freeze_time

from simulator.marketdata.records import Bbo, Kline, Trade
from tests.conftest import fixtures_with
from tests.http.test_orders import BOOK, T0, call, counts, funded_signer, place, record, step

# BOOK: best bid 36000, best ask 36010, so the mark is 36005 and the LIMIT_TRADING band (rate 0.1 each
# side) runs from 32404.5 to 39605.5.
LIMIT_BUY = {"side": "BUY", "type": "LIMIT", "price": "35000", "quantity": "0.01"}
LIMIT_SELL = {"side": "SELL", "type": "LIMIT", "price": "37000", "quantity": "0.01"}
MARKET_BUY = {"side": "BUY", "type": "MARKET"}
WINDOW_AROUND_T0 = (str(T0 - 60_000), str(T0 + 60_000))

ROWS = [
    # (id, filter changes {filterType: {field: value}}, order, code, msg)
    ("tick", {}, {**LIMIT_BUY, "price": "35000.001"}, "0209", "Invalid price precision"),
    (
        "price-ceiling",
        {
            "TRADE_AMOUNT": {"maxAmount": "0"},
            "LIMIT_TRADING": {"buyPriceUpRate": "0", "sellPriceDownRate": "0"},
        },
        {**LIMIT_SELL, "price": "1e20", "quantity": "0.00001"},  # the ceiling itself is refused
        "-1132",
        "Order price greater than the maximum",
    ),
    (
        "below-opening-range",
        {
            "OPEN_QUOTE": {
                "limitOrderStartTime": WINDOW_AROUND_T0[0],
                "limitOrderEndTime": WINDOW_AROUND_T0[1],
                "limitMinPrice": "35500",
                "limitMaxPrice": "36500",
            }
        },
        LIMIT_BUY,
        "-1133",
        "Order price lower than the minimum",
    ),
    (
        "above-opening-range",
        {
            "OPEN_QUOTE": {
                "limitOrderStartTime": WINDOW_AROUND_T0[0],
                "limitOrderEndTime": WINDOW_AROUND_T0[1],
                "limitMinPrice": "35500",
                "limitMaxPrice": "36500",
            }
        },
        LIMIT_SELL,
        "-1132",
        "Order price greater than the maximum",
    ),
    ("buy-above-band", {}, {**LIMIT_BUY, "price": "39605.51"}, "0207", "Invalid price"),
    ("sell-below-band", {}, {**LIMIT_SELL, "price": "32404.49"}, "0207", "Invalid price"),
    ("step", {}, {**LIMIT_BUY, "quantity": "0.000011"}, "-1137", "Order quantity precision too large"),
    (
        "buy-below-min-qty",
        {"LOT_SIZE": {"minQty": "0.001"}},
        {**LIMIT_BUY, "quantity": "0.0009"},
        "-1200",
        "Order buy quantity too small",
    ),
    ("buy-above-max-qty", {}, {**LIMIT_BUY, "quantity": "8.00001"}, "-1201", "Order buy quantity too large"),
    (
        "sell-below-min-qty",
        {"LOT_SIZE": {"minQty": "0.001"}},
        {**LIMIT_SELL, "quantity": "0.0009"},
        "-1202",
        "Order sell quantity too small",
    ),
    (
        "sell-above-max-qty",
        {},
        {**LIMIT_SELL, "quantity": "8.00001"},
        "-1203",
        "Order sell quantity too large",
    ),
    (
        "below-min-notional",
        {"MIN_NOTIONAL": {"minNotional": "400"}},
        LIMIT_BUY,  # 350 USDT
        "-1140",
        "Order amount lower than the minimum",
    ),
    (
        "below-min-amount",
        {"TRADE_AMOUNT": {"minAmount": "400"}},
        LIMIT_BUY,
        "-1140",
        "Order amount lower than the minimum",
    ),
    (
        "above-max-amount",
        {"TRADE_AMOUNT": {"maxAmount": "300"}},
        LIMIT_BUY,
        "-1206",
        "Order amount greater than the maximum",
    ),
    (
        "market-below-min-qty",
        {"LOT_SIZE": {"marketOrderMinQty": "0.001"}},
        {**MARKET_BUY, "quantity": "0.0009"},
        "-1136",
        "Order quantity lower than the minimum",
    ),
    (
        "market-above-max-qty",
        {},
        {**MARKET_BUY, "quantity": "4.00001"},
        "-1135",
        "Order quantity greater than the maximum",
    ),
    (
        "market-amount-precision",
        {},
        {**MARKET_BUY, "amount": "10.00000001"},
        "-1148",
        "Order amount precision too large",
    ),
    (
        "market-below-min-amount",
        {},
        {**MARKET_BUY, "amount": "0.9"},
        "-1140",
        "Order amount lower than the minimum",
    ),
    (
        "market-above-max-amount",
        {},
        {**MARKET_BUY, "amount": "200000.0000001"},
        "-1206",
        "Order amount greater than the maximum",
    ),
    (
        "market-window",
        {
            "OPEN_QUOTE": {
                "noAllowMarketStartTime": WINDOW_AROUND_T0[0],
                "noAllowMarketEndTime": WINDOW_AROUND_T0[1],
            }
        },
        {**MARKET_BUY, "quantity": "0.001"},
        "-1194",
        "Market order creation forbidden",
    ),
]


@pytest.fixture
def filtered_client(make_app, tmp_path):
    def build(changes: dict[str, dict[str, str]]) -> Any:
        fixtures = fixtures_with(tmp_path / "fixtures", "BTCUSDT", changes)
        app = make_app(clock_mode="replay", clock_start=T0, clock_speed=D(0), fixtures=str(fixtures))
        record(app, BOOK)
        return app, app.test_client()

    return build


@pytest.mark.parametrize(
    ("changes", "order", "code", "msg"), [row[1:] for row in ROWS], ids=[r[0] for r in ROWS]
)
def test_each_filter_row_refuses_an_order_with_its_code_and_writes_nothing(
    filtered_client, changes, order, code, msg
):
    app, client = filtered_client(changes)
    signer = funded_signer(client, USDT="1000000", BTC="100")
    before = counts(app)

    status, body = call(client, signer, "POST", "/api/v1.1/spot/order", symbol="BTCUSDT", **order)

    assert (status, body) == (400, {"code": code, "msg": msg})
    assert counts(app) == before


@pytest.mark.parametrize("order", [LIMIT_BUY, {**MARKET_BUY, "quantity": "0.001"}], ids=["limit", "market"])
def test_an_order_beyond_the_open_order_maximum_is_refused_whatever_its_type(filtered_client, order):
    app, client = filtered_client({"LIMIT_TRADING": {"maxEntrustNum": 1}})
    signer = funded_signer(client, USDT="1000000", BTC="100")
    place(client, signer, **LIMIT_BUY)  # rests: the one open order allowed
    before = counts(app)

    status, body = call(client, signer, "POST", "/api/v1.1/spot/order", symbol="BTCUSDT", **order)

    assert (status, body) == (
        400,
        {"code": "-2017", "msg": "Open orders exceeds the limit of the trading pair"},
    )
    assert counts(app) == before


@pytest.mark.parametrize(
    ("changes", "order"),
    [
        ({}, {**LIMIT_BUY, "price": "39605.5"}),  # exactly on the band's edge
        ({"LOT_SIZE": {"minQty": "0.01"}}, LIMIT_BUY),  # exactly the minimum quantity
        ({"TRADE_AMOUNT": {"maxAmount": "350"}}, LIMIT_BUY),  # exactly the maximum amount
        ({}, {**MARKET_BUY, "amount": "1"}),  # exactly the minimum market amount
        (  # the highest price below the simulator's ceiling of 10^20, where nothing else bounds it
            {
                "TRADE_AMOUNT": {"maxAmount": "0"},
                "LIMIT_TRADING": {"buyPriceUpRate": "0", "sellPriceDownRate": "0"},
            },
            {**LIMIT_SELL, "price": "99999999999999999999.99", "quantity": "0.00001"},
        ),
        (
            {"OPEN_QUOTE": {"noAllowMarketStartTime": str(T0 - 60_000), "noAllowMarketEndTime": str(T0)}},
            {**MARKET_BUY, "quantity": "0.001"},
        ),  # the window's end is open: [start, end)
    ],
    ids=["band-edge", "min-qty", "max-amount", "min-market-amount", "below-price-ceiling", "window-end"],
)
def test_every_limit_is_inclusive(filtered_client, changes, order):
    app, client = filtered_client(changes)
    signer = funded_signer(client, USDT="1000000", BTC="100")

    status, body = call(client, signer, "POST", "/api/v1.1/spot/order", symbol="BTCUSDT", **order)

    assert status == 200, body


def test_a_resting_order_standing_through_the_recorded_best_offer_does_not_lift_the_band(make_app):
    """The band is measured from the recorded book's mid: a resting bid that a newer best offer is below
    hides that offer from takers and the book shown, but the mark price stays the recorded mid (it fell
    back to the last trade, and without one there was no band: a buy at 45000 was accepted)."""
    app = make_app(clock_mode="replay", clock_start=T0, clock_speed=D(0))
    record(
        app,
        Bbo("BTCUSDT", T0 - 500, D("36000"), D("1"), D("36010"), D("1")),
        Bbo("BTCUSDT", T0 + 500, D("35990"), D("1"), D("36003"), D("1")),  # its ask is below the bid below
    )
    client = app.test_client()
    resting = funded_signer(client, USDT="1000000")
    place(client, resting, side="BUY", type="LIMIT", price="36005", quantity="0.01")
    step(app, 600)
    assert client.get("/quote/v1/depth?symbol=BTCUSDT").get_json()["a"] == []
    other = funded_signer(client, USDT="1000000")
    before = counts(app)

    status, body = call(
        client, other, "POST", "/api/v1.1/spot/order", symbol="BTCUSDT", **{**LIMIT_BUY, "price": "45000"}
    )

    assert (status, body) == (400, {"code": "0207", "msg": "Invalid price"})  # mark 35996.5: band to 39596.15
    assert counts(app) == before
    assert place(client, other, **{**LIMIT_BUY, "price": "39596.15"})["status"] == "NEW"


# A live-mode recording of one minute: ETHUSDT prints open and close it, BTCUSDT prints once, 50 s in, so
# every loop's first 50 s find BTCUSDT's last print in the loop before.
LOOP_START = 1_700_000_040_000  # a whole minute
LOOPED = (
    Trade("ETHUSDT", LOOP_START, D("2000"), D("1"), False, "e1"),
    Trade("BTCUSDT", LOOP_START + 50_000, D("36000"), D("0.1"), False, "b1"),
    Trade("ETHUSDT", LOOP_START + 59_999, D("2000"), D("1"), False, "e2"),
)
TEN_LOOPS_ON = LOOP_START + 10 * 60_000


def at_wall_time(ms: int) -> Any:
    return freeze_time(datetime.fromtimestamp(ms / 1000, tz=UTC))


def band_answers(client, signer, prices: list[str]) -> list[tuple[int, Any]]:
    """orderTest's answer to a LIMIT buy at each price."""
    return [
        call(client, signer, "POST", "/api/v1/spot/orderTest", symbol="BTCUSDT", **{**LIMIT_BUY, "price": p})
        for p in prices
    ]


def test_in_live_mode_the_band_follows_the_last_print_of_the_loop_before(make_app):
    """Without a book the mark is the last trade; 5 s into a loop, BTCUSDT's last print (15 s old, shown by
    the ticker) is in the loop before. It was looked for in this loop only: no mark, so no band."""
    with at_wall_time(TEN_LOOPS_ON + 60_000 + 5_000):  # the next loop, 5 s in
        app = make_app(clock_mode="live")
        record(app, *LOOPED)
        client = app.test_client()
        signer = funded_signer(client, USDT="1000000")

        ticker = client.get("/quote/v1/ticker/price?symbol=BTCUSDT").get_json()
        answers = band_answers(client, signer, ["39600", "39600.01"])  # 36000 x 1.1 = 39600

    assert ticker == [{"s": "BTCUSDT", "p": "36000"}]
    assert answers == [(200, {}), (400, {"code": "0207", "msg": "Invalid price"})]


def test_in_live_mode_a_print_of_the_loop_before_is_later_than_the_engines_older_trade(make_app):
    """The mark is the later of the engine's last trade and the recording's last print after it: a taker's
    trade at 36010 early in a loop, then BTCUSDT's print at 36000 50 s in; 10 s into the next loop that
    print is still the later one (the engine's trade was used, and a buy at 39610 passed)."""
    with at_wall_time(TEN_LOOPS_ON + 2_000):
        app = make_app(clock_mode="live")
        record(app, *LOOPED, Bbo("BTCUSDT", LOOP_START + 1_000, D("36000"), D("1"), D("36010"), D("1")))
        client = app.test_client()
        signer = funded_signer(client, USDT="1000000")
        taker = place(client, signer, side="BUY", type="MARKET", quantity="0.01")
    with at_wall_time(TEN_LOOPS_ON + 60_000 + 10_000):  # this loop's bbo (1 s in) is stale: no book
        answers = band_answers(client, signer, ["39600", "39600.01"])

    assert (taker["status"], taker["executedQty"]) == ("FILLED", "0.01")
    assert answers == [(200, {}), (400, {"code": "0207", "msg": "Invalid price"})]


def test_in_live_mode_a_takers_trade_after_the_last_bar_is_the_mark_once_the_book_lapses(make_app):
    """Bars alone, a minute at each end of a 10-minute loop. A minute and a half into a loop a taker buys
    at the synthetic ask around the first bar's close (30015); five minutes in no book stands, and the band
    is measured from that trade, later than the bar (it was measured from the bar's 30000, its time read
    in the wrong loop)."""
    price = D("30000")
    bars = [
        Kline("BTCUSDT", "1m", open_ms, open_ms + 59_999, price, price, price, price, D("10"))
        for open_ms in (LOOP_START, LOOP_START + 9 * 60_000)
    ]
    ten_loops_on = LOOP_START + 10 * 10 * 60_000
    with at_wall_time(ten_loops_on + 90_000):
        app = make_app(clock_mode="live")
        record(app, *bars)
        client = app.test_client()
        signer = funded_signer(client, USDT="1000000")
        taker = place(client, signer, side="BUY", type="MARKET", quantity="0.01")
        _, taken = call(client, signer, "GET", "/api/v1/spot/order", orderId=taker["orderId"])
    with at_wall_time(ten_loops_on + 5 * 60_000):
        book = client.get("/quote/v1/depth?symbol=BTCUSDT").get_json()
        answers = band_answers(client, signer, ["33016.5", "33016.51"])  # 30015 x 1.1 = 33016.5

    assert (taken["status"], taken["cummulativeQuoteQty"]) == ("FILLED", "300.15")
    assert (book["b"], book["a"]) == ([], [])
    assert answers == [(200, {}), (400, {"code": "0207", "msg": "Invalid price"})]


@pytest.mark.parametrize(("print_ago", "banded"), [(60_000, False), (59_999, True)])
def test_without_a_book_or_a_trade_of_the_engines_the_mark_is_a_print_of_the_last_minute(
    make_app, print_ago, banded
):
    """The recording's print of 36000 is the mark within the minute before now (a buy at 40000 is beyond
    its 10 % band); a print a whole minute old is not, and without a mark there is no band."""
    now = T0 + 60_000
    app = make_app(clock_mode="replay", clock_start=now, clock_speed=D(0))
    record(app, Trade("BTCUSDT", now - print_ago, D("36000"), D("0.1"), False, "b1"))
    client = app.test_client()
    signer = funded_signer(client, USDT="1000000")

    answers = band_answers(client, signer, ["40000"])

    refused = (400, {"code": "0207", "msg": "Invalid price"})
    assert answers == [refused if banded else (200, {})]


def test_a_mark_from_a_print_off_the_tick_grid_is_the_price_the_ticker_shows(make_app):
    """A recording finer than the tick: the print of 36000.015 shows as 36000.02 (half to even), and the
    band is measured from that, so a client computing it from the price it is shown agrees: a buy at
    36000.02 x 1.1 = 39600.022 and below passes (not only up to 36000.015 x 1.1 = 39600.0165)."""
    now = T0 + 60_000
    app = make_app(clock_mode="replay", clock_start=now, clock_speed=D(0))
    record(app, Trade("BTCUSDT", now - 1_000, D("36000.015"), D("0.1"), False, "b1"))
    client = app.test_client()
    signer = funded_signer(client, USDT="1000000")

    shown = client.get("/quote/v1/ticker/price", query_string={"symbol": "BTCUSDT"}).get_json()
    answers = band_answers(client, signer, ["39600.02", "39600.03"])

    assert shown == [{"s": "BTCUSDT", "p": "36000.02"}]
    assert answers == [(200, {}), (400, {"code": "0207", "msg": "Invalid price"})]
