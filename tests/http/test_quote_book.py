"""GET /quote/v1/depth, /quote/v1/depth/merged and /quote/v1/ticker/bookTicker: the recorded book at the
market clock's now, less what simulated takers took from it, with simulated resting orders added."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal as D
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from freezegun import freeze_time

from simulator.domain.matching.orders import OrderType, Side, TimeInForce
from simulator.marketdata.records import Depth, Kline, Trade
from simulator.marketdata.writer import StoreWriter, source_id
from simulator.services import market, trading
from simulator.services.accounts import NewAccount, create_account
from simulator.services.clock import read_clock

T0 = 1_700_000_000_000
MINUTE = 60_000
SNAPSHOT = Depth(
    "BTCUSDT",
    T0 - 1000,
    bids=((D("100"), D("1")), (D("99"), D("2"))),
    asks=((D("101"), D("1")), (D("102"), D("2")), (D("103.50"), D("5.000"))),
)


@pytest.fixture
def app(make_app: Any) -> Flask:
    return make_app(clock_mode="replay", clock_start=T0, clock_speed=D(0), rate_limits=False)


def record(app: Flask, *records: Any) -> None:
    database = app.extensions["hashkey_sim"].database
    with database.engine.begin() as connection:
        writer = StoreWriter(connection, source_id(connection, "test", "quote-book"), "test")
        for item in records:
            writer.add(item)
        writer.flush()


def trader(app: Flask) -> str:
    with app.extensions["hashkey_sim"].database.write() as session:
        user = create_account(session, NewAccount(balances={"USDT": D("10000"), "BTC": D("10")}), T0)
        return user.accounts[0].id


def place(app: Flask, account_id: str, at_ms: int, side: Side, type_: OrderType, **fields: Any) -> str:
    sim = app.extensions["hashkey_sim"]
    with sim.database.write() as session:
        engine = market.engine(session, sim.settings, read_clock(session))
        new = trading.NewOrder(account_id=account_id, symbol="BTCUSDT", side=side, type=type_, **fields)
        return trading.place_order(session, new, at_ms, engine).order_id


def cancel(app: Flask, account_id: str, order_id: str, at_ms: int) -> None:
    sim = app.extensions["hashkey_sim"]
    with sim.database.write() as session:
        engine = market.engine(session, sim.settings, read_clock(session))
        trading.cancel_order(session, account_id, order_id, at_ms, engine)


@pytest.fixture
def busy_book(app: Flask) -> None:
    """The snapshot, a simulated taker that took 0.4 at 101, and simulated resting orders: two bids (one at
    a recorded price), a maker ask, an ask a recorded trade partly filled, and a bid that was cancelled."""
    record(app, SNAPSHOT)
    account_id = trader(app)
    place(app, account_id, T0 - 900, Side.BUY, OrderType.MARKET, quantity=D("0.4"))
    limit = {"type_": OrderType.LIMIT, "time_in_force": TimeInForce.GTC}
    place(app, account_id, T0 - 800, Side.BUY, price=D("99"), quantity=D("0.5"), **limit)
    place(app, account_id, T0 - 800, Side.BUY, price=D("99.5"), quantity=D("1"), **limit)
    place(app, account_id, T0 - 800, Side.SELL, OrderType.LIMIT_MAKER, price=D("105"), quantity=D("0.25"))
    place(app, account_id, T0 - 800, Side.SELL, price=D("104"), quantity=D("1"), **limit)
    gone = place(app, account_id, T0 - 800, Side.BUY, price=D("98"), quantity=D("3"), **limit)
    cancel(app, account_id, gone, T0 - 700)
    # A buyer takes 0.3 at 104 on the recording: the resting sell at 104 has 0.7 left.
    record(app, Trade("BTCUSDT", T0 - 200, D("104"), D("0.3"), False, "t1"))


@pytest.mark.usefixtures("busy_book")
def test_depth_is_the_recorded_book_less_taken_plus_resting_orders(client: FlaskClient) -> None:
    response = client.get("/quote/v1/depth", query_string={"symbol": "BTCUSDT"})

    assert response.status_code == 200
    assert response.get_json() == {
        "t": T0,
        "b": [["100", "1"], ["99.5", "1"], ["99", "2.5"]],
        "a": [["101", "0.6"], ["102", "2"], ["103.5", "5"], ["104", "0.7"], ["105", "0.25"]],
    }


def test_asks_a_resting_bid_filled_on_are_gone_from_the_book_and_from_takers(
    app: Flask, client: FlaskClient
) -> None:
    """A snapshot whose asks moved below a resting bid fills it from them: they are taken, as a taker's
    would be, so the book is not shown crossed and no taker buys them again."""
    record(app, SNAPSHOT)
    account_id = trader(app)
    limit = {"type_": OrderType.LIMIT, "time_in_force": TimeInForce.GTC}
    place(app, account_id, T0 - 900, Side.BUY, price=D("100.5"), quantity=D("5"), **limit)
    moved = ((D("100"), D("1")), (D("100.25"), D("2")), (D("101"), D("3")))
    record(app, Depth("BTCUSDT", T0 - 500, ((D("99.9"), D("1")),), moved))

    book = client.get("/quote/v1/depth", query_string={"symbol": "BTCUSDT"}).get_json()

    assert book == {"t": T0, "b": [["100.5", "2"], ["99.9", "1"]], "a": [["101", "3"]]}
    place(app, trader(app), T0, Side.BUY, OrderType.MARKET, quantity=D("1"))
    book = client.get("/quote/v1/depth", query_string={"symbol": "BTCUSDT"}).get_json()
    assert book["a"] == [["101", "2"]]


def test_a_loops_first_minute_has_the_book_the_last_loop_ended_with(make_app: Any) -> None:
    """Live mode, a recording of five 1m bars: in the first minute of a loop no bar of it has closed yet,
    so the synthetic levels are those of the previous loop's last bar, not an empty book."""
    start = 1_599_999_960_000  # on a minute
    flat = [D(close) for close in range(1, 6)]  # open = high = low = close, 10 traded each
    bars = [
        Kline("BTCUSDT", "1m", start + i * MINUTE, start + (i + 1) * MINUTE - 1, c, c, c, c, D("10"))
        for i, c in enumerate(flat)
    ]
    wall = start + 3 * 5 * MINUTE + 30_000  # 30 s into the fourth loop
    with freeze_time(datetime.fromtimestamp(wall / 1000, UTC)):
        app = make_app(clock_mode="live", rate_limits=False)
        record(app, *bars)

        book = app.test_client().get("/quote/v1/depth", query_string={"symbol": "BTCUSDT"}).get_json()

    # around the last bar's close of 5: 0.05 % each way on the 0.01 grid, a tenth of its volume
    assert book == {"t": wall, "b": [["4.99", "1"]], "a": [["5.01", "1"]]}


@pytest.mark.parametrize(("into_loop_ms", "asks"), [(500, [["102", "1"]]), (10_000, [])])
def test_a_loop_starts_with_the_last_snapshot_of_the_one_before_while_it_is_fresh(
    make_app: Any, into_loop_ms: int, asks: list[list[str]]
) -> None:
    """Live mode, a recording looped every minute that opens with a trade and has snapshots 30 s and 59 s
    in: half a second into a loop, the previous loop's last snapshot is 1.5 s old and is the book; ten
    seconds in, it is past the 5 s staleness and, with nothing else recorded, the book is empty."""
    start = 1_599_999_960_000  # on a minute
    wall = start + 3 * MINUTE + into_loop_ms

    def snapshot(at_ms: int, ask: str) -> Depth:
        return Depth("BTCUSDT", start + at_ms, ((D("99"), D("1")),), ((D(ask), D("1")),))

    with freeze_time(datetime.fromtimestamp(wall / 1000, UTC)):
        app = make_app(clock_mode="live", rate_limits=False)
        opening = Trade("BTCUSDT", start, D("100"), D("1"), False, "t0")
        record(app, opening, snapshot(30_000, "101"), snapshot(59_000, "102"))
        book = app.test_client().get("/quote/v1/depth", query_string={"symbol": "BTCUSDT"}).get_json()

    assert book["a"] == asks


def test_a_synthetic_ask_below_a_resting_bid_is_left_out_of_the_book_and_of_takers(
    app: Flask, client: FlaskClient
) -> None:
    """Bars only: a bid rests inside the synthetic spread, then a bar that opened before it closes lower.
    That bar fills nothing of it (it opened before the order existed), and its synthetic ask, below the bid,
    is not shown or sold until it no longer crosses: the book is never crossed."""
    forming = T0 - T0 % MINUTE  # the bar forming at T0

    def flat_bar(open_time: int, price: str) -> Kline:
        p = D(price)
        return Kline("BTCUSDT", "1m", open_time, open_time + MINUTE - 1, p, p, p, p, D("10"))

    record(app, flat_bar(forming - MINUTE, "100"))  # synthetic 99.95 / 100.05
    limit = {"type_": OrderType.LIMIT, "time_in_force": TimeInForce.GTC}
    place(app, trader(app), T0, Side.BUY, price=D("100.01"), quantity=D("0.5"), **limit)
    record(app, flat_bar(forming, "99"))  # synthetic 98.95 / 99.05
    sim = app.extensions["hashkey_sim"]
    market.step_clock(sim.database, sim.settings, 0, MINUTE)

    book = client.get("/quote/v1/depth", query_string={"symbol": "BTCUSDT"}).get_json()

    assert (book["b"], book["a"]) == ([["100.01", "0.5"], ["98.95", "1"]], [])
    taker = place(app, trader(app), T0 + MINUTE, Side.BUY, OrderType.MARKET, quantity=D("0.1"))
    with sim.database.read() as session:
        assert trading.order_row(session, taker).executed_qty == 0


def test_synthetic_levels_and_bar_fills_are_whole_steps(app: Flask, client: FlaskClient) -> None:
    """A share of a bar's volume is rarely a whole number of BTCUSDT's 0.00001 steps: the synthetic levels
    and what a bar fills of resting orders are rounded down to it, as every quantity the venue shows."""
    forming = T0 - T0 % MINUTE
    volume = D("0.3333337")  # a tenth of it: 0.03333337

    def bar(open_time: int, low: str) -> Kline:
        return Kline(
            "BTCUSDT", "1m", open_time, open_time + MINUTE - 1, D("100"), D("100"), D(low), D("100"), volume
        )

    record(app, bar(forming - MINUTE, "100"))
    book = client.get("/quote/v1/depth", query_string={"symbol": "BTCUSDT"}).get_json()
    assert (book["b"], book["a"]) == ([["99.95", "0.03333"]], [["100.05", "0.03333"]])

    limit = {"type_": OrderType.LIMIT, "time_in_force": TimeInForce.GTC}
    resting = place(app, trader(app), forming - 1, Side.BUY, price=D("99.9"), quantity=D("1"), **limit)
    record(app, bar(forming, "99"))  # passes through the bid: fills a tenth of its volume
    sim = app.extensions["hashkey_sim"]
    market.step_clock(sim.database, sim.settings, 0, MINUTE)
    with sim.database.read() as session:
        assert trading.order_row(session, resting).executed_qty == D("0.03333")


@pytest.mark.parametrize(("closed_ago", "shown"), [(MINUTE, True), (MINUTE + 1, False)])
def test_the_synthetic_book_lasts_one_bar_length_after_the_bar_closed(
    app: Flask, client: FlaskClient, closed_ago: int, shown: bool
) -> None:
    """After a recording's last bar the book empties, as it does once a snapshot is stale."""
    one = D("1")
    close_time = T0 - closed_ago
    record(app, Kline("BTCUSDT", "1m", close_time - MINUTE + 1, close_time, one, one, one, one, D("10")))

    book = client.get("/quote/v1/depth", query_string={"symbol": "BTCUSDT"}).get_json()
    ticker = client.get("/quote/v1/ticker/bookTicker", query_string={"symbol": "BTCUSDT"}).get_json()[0]

    assert bool(book["b"] and book["a"]) is shown
    assert (ticker["b"] != "0") is shown


@pytest.mark.usefixtures("busy_book")
@pytest.mark.parametrize(
    ("limit", "bids", "asks"),
    [
        ("1", [["100", "1"]], [["101", "0.6"]]),
        ("2", [["100", "1"], ["99.5", "1"]], [["101", "0.6"], ["102", "2"]]),
        (
            "201",
            [["100", "1"], ["99.5", "1"], ["99", "2.5"]],
            [["101", "0.6"], ["102", "2"], ["103.5", "5"], ["104", "0.7"], ["105", "0.25"]],
        ),
    ],
)
def test_depth_limit_counts_levels_per_side_and_is_capped_at_200(
    client: FlaskClient, limit: str, bids: list[list[str]], asks: list[list[str]]
) -> None:
    response = client.get("/quote/v1/depth", query_string={"symbol": "BTCUSDT", "limit": limit})

    assert response.status_code == 200
    assert response.get_json() == {"t": T0, "b": bids, "a": asks}


def test_depth_default_limit_is_100_levels(app: Flask, client: FlaskClient) -> None:
    levels = tuple((D(100 - i), D("1")) for i in range(150))
    record(app, Depth("BTCUSDT", T0 - 10, bids=levels, asks=((D("101"), D("1")),)))

    body = client.get("/quote/v1/depth", query_string={"symbol": "BTCUSDT"}).get_json()

    assert (len(body["b"]), body["b"][0], body["b"][-1]) == (100, ["100", "1"], ["1", "1"])


@pytest.mark.parametrize(
    ("path", "limit"),
    [("/quote/v1/depth", "201"), ("/quote/v1/depth", "500"), ("/quote/v1/depth/merged", "201")],
)
def test_a_limit_above_200_levels_shows_200_a_side(
    app: Flask, client: FlaskClient, path: str, limit: str
) -> None:
    bids = tuple((D(300 - i), D("1")) for i in range(250))
    asks = tuple((D(301 + i), D("1")) for i in range(250))
    record(app, Depth("BTCUSDT", T0 - 10, bids=bids, asks=asks))

    body = client.get(path, query_string={"symbol": "BTCUSDT", "limit": limit}).get_json()

    assert (len(body["b"]), body["b"][-1], len(body["a"]), body["a"][-1]) == (
        200,
        ["101", "1"],
        200,
        ["500", "1"],
    )


@pytest.mark.usefixtures("busy_book")
@pytest.mark.parametrize(
    ("scale", "bids", "asks"),
    [
        (
            "0",
            [["100", "1"], ["99.5", "1"], ["99", "2.5"]],
            [["101", "0.6"], ["102", "2"], ["103.5", "5"], ["104", "0.7"], ["105", "0.25"]],
        ),
        ("2", [["100", "1"], ["99", "3.5"]], [["101", "0.6"], ["102", "2"], ["104", "5.7"], ["105", "0.25"]]),
        ("3", [["100", "1"], ["90", "3.5"]], [["110", "8.55"]]),
        ("5", [["0", "4.5"]], [["1000", "8.55"]]),
    ],
)
def test_merged_depth_puts_levels_on_a_grid_of_tick_size_times_ten_to_the_scale(
    client: FlaskClient, scale: str, bids: list[list[str]], asks: list[list[str]]
) -> None:
    """BTCUSDT's tick is 0.01: scale 2 is a grid of 1, scale 3 of 10. Bids round down, asks round up."""
    response = client.get("/quote/v1/depth/merged", query_string={"symbol": "BTCUSDT", "scale": scale})

    assert response.status_code == 200
    assert response.get_json() == {"t": T0, "b": bids, "a": asks}


@pytest.mark.parametrize(
    ("scale", "bid", "ask"), [(None, "100.05", "101.05"), ("0", "100.05", "101.05"), ("1", "100", "101.1")]
)
def test_merged_depth_of_scale_0_or_none_is_the_tick_grid_not_a_tenth(
    app: Flask, client: FlaskClient, scale: str | None, bid: str, ask: str
) -> None:
    # recorded off the tick grid, as a venue with finer ticks records: scale 0 is the grid of one tick
    record(app, Depth("BTCUSDT", T0 - 10, bids=((D("100.055"), D("1")),), asks=((D("101.045"), D("1")),)))
    query = {"symbol": "BTCUSDT"} | ({} if scale is None else {"scale": scale})

    body = client.get("/quote/v1/depth/merged", query_string=query).get_json()

    assert (body["b"], body["a"]) == ([[bid, "1"]], [[ask, "1"]])


@pytest.mark.usefixtures("busy_book")
def test_merged_depth_without_scale_is_the_tick_grid_and_limit_counts_merged_levels(
    client: FlaskClient,
) -> None:
    response = client.get("/quote/v1/depth/merged", query_string={"symbol": "BTCUSDT", "limit": "2"})

    assert response.get_json() == {
        "t": T0,
        "b": [["100", "1"], ["99.5", "1"]],
        "a": [["101", "0.6"], ["102", "2"]],
    }


@pytest.mark.usefixtures("busy_book")
def test_book_ticker_is_the_top_of_the_same_book(client: FlaskClient) -> None:
    response = client.get("/quote/v1/ticker/bookTicker", query_string={"symbol": "BTCUSDT"})

    assert response.status_code == 200
    assert response.get_json() == [{"s": "BTCUSDT", "b": "100", "bq": "1", "a": "101", "aq": "0.6", "t": T0}]


def test_a_symbol_without_market_data_has_an_empty_book(client: FlaskClient) -> None:
    depth = client.get("/quote/v1/depth", query_string={"symbol": "ETHUSDT"}).get_json()
    top = client.get("/quote/v1/ticker/bookTicker", query_string={"symbol": "ETHUSDT"}).get_json()

    assert depth == {"t": T0, "b": [], "a": []}
    assert top == [{"s": "ETHUSDT", "b": "0", "bq": "0", "a": "0", "aq": "0", "t": T0}]


def test_a_stale_snapshot_is_not_shown(app: Flask, client: FlaskClient) -> None:
    """Older than the fill model's depth staleness (5 s by default), a snapshot is no liquidity any more."""
    record(app, SNAPSHOT.__class__("BTCUSDT", T0 - 6000, SNAPSHOT.bids, SNAPSHOT.asks))

    assert client.get("/quote/v1/depth", query_string={"symbol": "BTCUSDT"}).get_json() == {
        "t": T0,
        "b": [],
        "a": [],
    }


@pytest.mark.parametrize(
    ("path", "query", "code", "msg"),
    [
        ("/quote/v1/depth", {}, "0001", "Required field symbol missing or invalid"),
        ("/quote/v1/depth", {"symbol": ""}, "0001", "Required field symbol missing or invalid"),
        ("/quote/v1/depth", {"symbol": "DOGEUSDT"}, "0201", "Instrument not found"),
        ("/quote/v1/depth", {"symbol": "BTCUSDT", "limit": "-5"}, "-1130", "Illegal parameter 'limit'"),
        ("/quote/v1/depth", {"symbol": "BTCUSDT", "limit": "ten"}, "-1130", "Illegal parameter 'limit'"),
        ("/quote/v1/depth", {"symbol": "DOGEUSDT", "limit": "x"}, "-1130", "Illegal parameter 'limit'"),
        ("/quote/v1/depth/merged", {}, "0001", "Required field symbol missing or invalid"),
        ("/quote/v1/depth/merged", {"symbol": "DOGEUSDT"}, "0201", "Instrument not found"),
        ("/quote/v1/depth/merged", {"symbol": "BTCUSDT", "scale": "6"}, "-1130", "Illegal parameter 'scale'"),
        (
            "/quote/v1/depth/merged",
            {"symbol": "BTCUSDT", "scale": "-1"},
            "-1130",
            "Illegal parameter 'scale'",
        ),
        (
            "/quote/v1/depth/merged",
            {"symbol": "BTCUSDT", "limit": "-1"},
            "-1130",
            "Illegal parameter 'limit'",
        ),
        ("/quote/v1/ticker/bookTicker", {}, "0001", "Required field symbol missing or invalid"),
        ("/quote/v1/ticker/bookTicker", {"symbol": "DOGEUSDT"}, "0201", "Instrument not found"),
    ],
)
def test_bad_parameters(client: FlaskClient, path: str, query: dict[str, str], code: str, msg: str) -> None:
    response = client.get(path, query_string=query)

    assert response.status_code == 400
    assert response.get_json() == {"code": code, "msg": msg}
