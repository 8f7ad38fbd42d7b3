"""GET /quote/v1/trades, /quote/v1/ticker/price and /quote/v1/ticker/24hr: the recorded tape up to the
market clock's now with simulated takers' fills printed on it, and the figures derived from it."""

from __future__ import annotations

import csv
from dataclasses import replace
from datetime import UTC, datetime
from decimal import Decimal as D
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from freezegun import freeze_time
from sqlalchemy import text

from simulator.domain.matching.orders import OrderType, Side, TimeInForce
from simulator.marketdata.records import Depth, Kline, Trade
from simulator.marketdata.writer import StoreWriter, source_id
from simulator.services import market, trading
from simulator.services.accounts import NewAccount, create_account
from simulator.services.clock import read_clock
from tests.conftest import ADMIN_TOKEN

T0 = 1_700_000_000_000
MINUTE = 60_000
BAR_MINUTE = T0 - T0 % MINUTE  # the minute bar forming at T0 opens here
REAL_TRADES = Path("/work/shared/data/real/binance/derived_binance_vision_trades_BTCUSDT_2024-08-08.csv")
SNAPSHOT = Depth(
    "BTCUSDT",
    T0 - 1000,
    bids=((D("100"), D("1")), (D("99"), D("2"))),
    asks=((D("101"), D("1")), (D("102"), D("2"))),
)


@pytest.fixture
def app(make_app: Any) -> Flask:
    return make_app(clock_mode="replay", clock_start=T0, clock_speed=D(0), rate_limits=False)


def record(app: Flask, *records: Any) -> None:
    database = app.extensions["hashkey_sim"].database
    with database.engine.begin() as connection:
        writer = StoreWriter(connection, source_id(connection, "test", "quote-tape"), "test")
        for item in records:
            writer.add(item)
        writer.flush()


def trader(app: Flask) -> str:
    with app.extensions["hashkey_sim"].database.write() as session:
        user = create_account(session, NewAccount(balances={"USDT": D("10000"), "BTC": D("10")}), T0)
        return user.accounts[0].id


def place(app: Flask, account_id: str, at_ms: int, side: Side, type_: OrderType, **fields: Any) -> None:
    sim = app.extensions["hashkey_sim"]
    with sim.database.write() as session:
        engine = market.engine(session, sim.settings, read_clock(session))
        new = trading.NewOrder(account_id=account_id, symbol="BTCUSDT", side=side, type=type_, **fields)
        trading.place_order(session, new, at_ms, engine)


def bar(open_time: int, o: str, h: str, low: str, c: str, volume: str, quote: str) -> Kline:
    return Kline(
        "BTCUSDT", "1m", open_time, open_time + MINUTE - 1, D(o), D(h), D(low), D(c), D(volume), D(quote)
    )


@pytest.fixture
def tape(app: Flask) -> None:
    """Recorded trades (one after now), and simulated fills: a taker buying and one selling against the
    recorded book, a taker buying from a simulated maker (one ticket, two fills), and a simulated resting
    bid a recorded trade filled (its fill is that recorded print, not a second one)."""
    record(
        app,
        SNAPSHOT,
        Trade("BTCUSDT", T0 - 3000, D("100.50"), D("0.1"), True, "a"),
        Trade("BTCUSDT", T0 - 2000, D("101"), D("0.2"), False, "b"),
        Trade("BTCUSDT", T0 - 2000, D("101.5"), D("0.05"), None, "c"),
        Trade("BTCUSDT", T0 + 1000, D("120"), D("9"), False, "future"),
    )
    first, second = trader(app), trader(app)
    place(app, first, T0 - 500, Side.BUY, OrderType.MARKET, quantity=D("0.4"))
    place(app, first, T0 - 400, Side.SELL, OrderType.MARKET, quantity=D("0.3"))
    limit = {"type_": OrderType.LIMIT, "time_in_force": TimeInForce.GTC}
    place(app, first, T0 - 350, Side.SELL, price=D("100.8"), quantity=D("0.2"), **limit)
    place(app, second, T0 - 300, Side.BUY, OrderType.MARKET, quantity=D("0.1"))
    place(app, second, T0 - 250, Side.BUY, price=D("100.6"), quantity=D("0.05"), **limit)
    record(app, Trade("BTCUSDT", T0 - 100, D("100.5"), D("0.02"), True, "d"))


TAPE = [
    {"t": T0 - 3000, "p": "100.5", "q": "0.1", "ibm": True},
    {"t": T0 - 2000, "p": "101", "q": "0.2", "ibm": False},
    {"t": T0 - 2000, "p": "101.5", "q": "0.05", "ibm": False},  # the venue did not say: false
    {"t": T0 - 500, "p": "101", "q": "0.4", "ibm": False},  # simulated buyer took: the seller was maker
    {"t": T0 - 400, "p": "100", "q": "0.3", "ibm": True},  # simulated seller took
    {"t": T0 - 300, "p": "100.8", "q": "0.1", "ibm": False},  # simulated buyer from a simulated seller
    {"t": T0 - 100, "p": "100.5", "q": "0.02", "ibm": True},
]


@pytest.mark.usefixtures("tape")
def test_trades_are_recorded_and_simulated_prints_up_to_now_oldest_first(client: FlaskClient) -> None:
    response = client.get("/quote/v1/trades", query_string={"symbol": "BTCUSDT"})

    assert response.status_code == 200
    assert response.get_json() == TAPE


@pytest.mark.usefixtures("tape")
def test_fills_written_by_an_earlier_version_print_as_it_did_the_takers_only(
    app: Flask, client: FlaskClient
) -> None:
    with app.extensions["hashkey_sim"].database.engine.begin() as connection:
        connection.execute(text("UPDATE fills SET printed = NULL"))

    assert client.get("/quote/v1/trades", query_string={"symbol": "BTCUSDT"}).get_json() == TAPE


def test_a_resting_order_a_snapshot_fills_is_printed_on_the_tape(app: Flask, client: FlaskClient) -> None:
    """No recorded print shows that trade: its fill does, as the last price too."""
    down = Depth("BTCUSDT", T0 - 500, bids=((D("100"), D("1")),), asks=((D("100.4"), D("1")),))
    up = Depth("BTCUSDT", T0 - 400, bids=((D("101"), D("1")),), asks=((D("101.5"), D("1")),))
    record(app, SNAPSHOT, down, up, Trade("BTCUSDT", T0 - 2000, D("101"), D("0.2"), False, "b"))
    limit = {"type_": OrderType.LIMIT, "time_in_force": TimeInForce.GTC}
    place(app, trader(app), T0 - 900, Side.BUY, price=D("100.5"), quantity=D("0.3"), **limit)
    place(app, trader(app), T0 - 800, Side.SELL, price=D("100.9"), quantity=D("0.2"), **limit)

    assert client.get("/quote/v1/trades", query_string={"symbol": "BTCUSDT"}).get_json() == [
        {"t": T0 - 2000, "p": "101", "q": "0.2", "ibm": False},
        {"t": T0 - 500, "p": "100.5", "q": "0.3", "ibm": True},  # the resting buyer was the maker
        {"t": T0 - 400, "p": "100.9", "q": "0.2", "ibm": False},  # the resting seller was the maker
    ]
    assert client.get("/quote/v1/ticker/price", query_string={"symbol": "BTCUSDT"}).get_json() == [
        {"s": "BTCUSDT", "p": "100.9"}
    ]


def test_a_snapshots_fill_prints_before_the_recorded_prints_of_its_millisecond(
    app: Flask, client: FlaskClient
) -> None:
    """The engine applies a millisecond's snapshots before its prints: so does the tape, and the last price
    is the recorded print, as the engine's last trade is."""
    at = T0 - 500
    down = Depth("BTCUSDT", at, bids=((D("100"), D("1")),), asks=((D("100.4"), D("1")),))
    record(app, SNAPSHOT, down, Trade("BTCUSDT", at, D("100.45"), D("0.01"), False, "same-ms"))
    limit = {"type_": OrderType.LIMIT, "time_in_force": TimeInForce.GTC}
    place(app, trader(app), T0 - 900, Side.BUY, price=D("100.5"), quantity=D("0.3"), **limit)

    tape = client.get("/quote/v1/trades", query_string={"symbol": "BTCUSDT"}).get_json()

    assert tape[-2:] == [
        {"t": at, "p": "100.5", "q": "0.3", "ibm": True},
        {"t": at, "p": "100.45", "q": "0.01", "ibm": False},
    ]
    assert client.get("/quote/v1/ticker/price", query_string={"symbol": "BTCUSDT"}).get_json() == [
        {"s": "BTCUSDT", "p": "100.45"}
    ]


def test_a_resting_order_a_bar_fills_is_printed_on_the_tape(app: Flask, client: FlaskClient) -> None:
    record(app, bar(BAR_MINUTE - 4 * MINUTE, "100", "100", "100", "100", "10", "1000"))
    limit = {"type_": OrderType.LIMIT, "time_in_force": TimeInForce.GTC}
    place(app, trader(app), BAR_MINUTE - 3 * MINUTE + 1, Side.BUY, price=D("99"), quantity=D("0.1"), **limit)
    record(app, bar(BAR_MINUTE - 2 * MINUTE, "100", "100", "98", "100", "10", "990"))

    assert client.get("/quote/v1/trades", query_string={"symbol": "BTCUSDT"}).get_json() == [
        {"t": BAR_MINUTE - MINUTE, "p": "99", "q": "0.1", "ibm": True}  # as the bar completes
    ]


def test_a_bar_fills_a_resting_order_as_klines_and_the_book_show_it_complete(
    app: Flask, client: FlaskClient
) -> None:
    """Bars alone. Stepping to the next event stops as a bar completes, the millisecond after its close:
    its fill, the tape, the last price, klines and the book made from it all show it then, none before."""
    flat = bar(BAR_MINUTE + MINUTE, "100", "100", "100", "100", "10", "1000")
    dip = bar(BAR_MINUTE + 2 * MINUTE, "100", "101", "98", "99", "10", "990")
    record(app, flat, dip)
    limit = {"type_": OrderType.LIMIT, "time_in_force": TimeInForce.GTC}
    place(app, trader(app), T0, Side.BUY, price=D("99.5"), quantity=D("0.5"), **limit)
    admin = {"headers": {"X-SIM-ADMIN-TOKEN": ADMIN_TOKEN}}
    symbol = {"symbol": "BTCUSDT"}

    def market_seen() -> tuple[Any, ...]:
        klines = client.get("/quote/v1/klines", query_string={**symbol, "interval": "1m"}).get_json()
        depth = client.get("/quote/v1/depth", query_string=symbol).get_json()
        return (
            client.get("/quote/v1/trades", query_string=symbol).get_json(),
            client.get("/quote/v1/ticker/price", query_string=symbol).get_json()[0]["p"],
            [row[0] for row in klines],
            (depth["b"][:1], depth["a"][:1]),
        )

    client.post("/sim/v1/clock", json={"advanceTo": "nextEvent"}, **admin)  # the flat bar completes
    client.post("/sim/v1/clock", json={"advanceMs": MINUTE - 1}, **admin)  # the dip's close: forming
    before = market_seen()
    stop = client.post("/sim/v1/clock", json={"advanceTo": "nextEvent"}, **admin).get_json()

    assert stop["time"] == dip.close_time + 1
    assert before == ([], "100", [flat.open_time], ([["99.95", "1"]], [["100.05", "1"]]))
    assert market_seen() == (
        [{"t": dip.close_time + 1, "p": "99.5", "q": "0.5", "ibm": True}],
        "99.5",
        [flat.open_time, dip.open_time],
        ([["98.95", "1"]], [["99.05", "1"]]),
    )


@pytest.mark.usefixtures("tape")
@pytest.mark.parametrize(
    ("limit", "expected"), [("1", TAPE[-1:]), ("3", TAPE[-3:]), ("101", TAPE), ("100", TAPE)]
)
def test_trades_limit_keeps_the_newest_and_is_capped_at_100(
    client: FlaskClient, limit: str, expected: list[dict[str, Any]]
) -> None:
    response = client.get("/quote/v1/trades", query_string={"symbol": "BTCUSDT", "limit": limit})

    assert response.get_json() == expected


@pytest.mark.parametrize("limit", [None, "101", "500"])
def test_trades_default_and_largest_limit_is_100(app: Flask, client: FlaskClient, limit: str | None) -> None:
    record(app, *(Trade("BTCUSDT", T0 - 1000 + i, D("100"), D("1"), False, f"x{i}") for i in range(150)))
    query = {"symbol": "BTCUSDT"} if limit is None else {"symbol": "BTCUSDT", "limit": limit}

    body = client.get("/quote/v1/trades", query_string=query).get_json()

    assert (len(body), body[0]["t"], body[-1]["t"]) == (100, T0 - 950, T0 - 851)


def test_trades_of_a_real_recording(make_app: Any) -> None:
    """Binance's public BTCUSDT trades of 2024-08-08: the answer is the file's last 100 trades before now."""
    rows = list(csv.reader(REAL_TRADES.read_text().splitlines()))
    now = int(rows[len(rows) // 2][4]) + 1
    app = make_app(clock_mode="replay", clock_start=now, clock_speed=D(0), rate_limits=False)
    record(app, *(Trade("BTCUSDT", int(r[4]), D(r[1]), D(r[2]), r[5] == "True", r[0]) for r in rows))
    before = [r for r in rows if int(r[4]) < now]

    body = app.test_client().get("/quote/v1/trades", query_string={"symbol": "BTCUSDT"}).get_json()

    assert body == [
        {
            "t": int(r[4]),
            "p": f"{D(r[1]).normalize():f}",
            "q": f"{D(r[2]).normalize():f}",
            "ibm": r[5] == "True",
        }
        for r in before[-100:]
    ]


def test_trades_in_live_mode_are_the_looped_recording_in_market_time(make_app: Any) -> None:
    """A 30 s recording loops every minute: 10 loops and 20 s later the three newest prints are the last
    loop's final trade and this loop's first two, each stamped in market time."""
    start = 1_600_000_000_000
    wall = start + 10 * MINUTE + 20_000
    with freeze_time(datetime.fromtimestamp(wall // 1000, UTC)):
        app = make_app(clock_mode="live", rate_limits=False)
        record(
            app,
            Trade("BTCUSDT", start, D("1"), D("1"), False, "1"),
            Trade("BTCUSDT", start + 10_000, D("2"), D("1"), True, "2"),
            Trade("BTCUSDT", start + 30_000, D("3"), D("1"), False, "3"),
        )

        query = {"symbol": "BTCUSDT", "limit": "3"}  # earlier loops go on further back
        body = app.test_client().get("/quote/v1/trades", query_string=query).get_json()

    assert body == [
        {"t": start + 9 * MINUTE + 30_000, "p": "3", "q": "1", "ibm": False},
        {"t": start + 10 * MINUTE, "p": "1", "q": "1", "ibm": False},
        {"t": start + 10 * MINUTE + 10_000, "p": "2", "q": "1", "ibm": True},
    ]


LOOP_FIRST = 1_699_999_980_000  # a whole minute


def looped_bars(count: int) -> list[Kline]:
    """A live recording of `count` minute bars closing at 36001, 36002, ...: a loop of `count` minutes."""
    return [
        Kline(
            "BTCUSDT", "1m", LOOP_FIRST + n * MINUTE, LOOP_FIRST + (n + 1) * MINUTE - 1,
            D(36000 + n), D("36010"), D("35990"), D(36001 + n), D("1"),
        )
        for n in range(count)
    ]  # fmt: skip


@pytest.mark.parametrize(
    ("count", "into_the_loop", "expected"),
    [
        (5, 0, "36005"),  # the previous loop's last bar closed a millisecond ago
        (5, 59_999, "36005"),  # the new loop's first bar still forms
        (5, 60_000, "36001"),  # it closed
        (1, 1, "36001"),
        (1, 59_999, "36001"),  # the loop's one bar still forms: its copy of a loop ago closed
    ],
)
def test_in_live_mode_the_last_price_is_the_previous_loops_last_bar_until_this_loop_completes_one(
    make_app: Any, count: int, into_the_loop: int, expected: str
) -> None:
    """Across a loop boundary the last price is the bar the previous loop ended with, as the book is (the
    ticker showed the bar before it, or "0" for a recording of one or two bars)."""
    now = LOOP_FIRST + 100 * count * MINUTE + into_the_loop
    with freeze_time(datetime.fromtimestamp(now / 1000, UTC)):
        app = make_app(clock_mode="live", rate_limits=False)
        record(app, *looped_bars(count))
        client = app.test_client()
        price = client.get("/quote/v1/ticker/price", query_string={"symbol": "BTCUSDT"}).get_json()
        day = client.get("/quote/v1/ticker/24hr", query_string={"symbol": "BTCUSDT"}).get_json()

    assert (price, day[0]["c"]) == ([{"s": "BTCUSDT", "p": expected}], expected)


def test_in_live_mode_klines_from_a_start_show_a_recording_of_one_bar(make_app: Any) -> None:
    """A one-minute loop of one bar: every minute has its bar (it answered none with a startTime)."""
    seam = LOOP_FIRST + 100 * MINUTE
    with freeze_time(datetime.fromtimestamp((seam + 150_000) / 1000, UTC)):
        app = make_app(clock_mode="live", rate_limits=False)
        record(app, *looped_bars(1))
        query = {"symbol": "BTCUSDT", "interval": "1m", "startTime": str(seam), "limit": "2"}
        bars = app.test_client().get("/quote/v1/klines", query_string=query).get_json()

    assert [(bar[0], bar[4]) for bar in bars] == [(seam, "36001"), (seam + MINUTE, "36001")]


def test_in_live_mode_trades_reach_back_as_many_loops_as_the_limit_takes(make_app: Any) -> None:
    """A one-minute loop with two prints: five prints come from three loops (it gave one loop's two)."""
    now = LOOP_FIRST + 100 * MINUTE + 30_000
    with freeze_time(datetime.fromtimestamp(now / 1000, UTC)):
        app = make_app(clock_mode="live", rate_limits=False)
        record(
            app,
            Trade("BTCUSDT", LOOP_FIRST + 1_000, D("1"), D("1"), False, "1"),
            Trade("BTCUSDT", LOOP_FIRST + 50_000, D("2"), D("1"), True, "2"),
        )
        query = {"symbol": "BTCUSDT", "limit": "5"}
        body = app.test_client().get("/quote/v1/trades", query_string=query).get_json()

    assert [(trade["t"] - now, trade["p"]) for trade in body] == [
        (-149_000, "1"),
        (-100_000, "2"),
        (-89_000, "1"),
        (-40_000, "2"),
        (-29_000, "1"),
    ]


@pytest.mark.usefixtures("tape")
def test_ticker_price_is_the_last_print(client: FlaskClient) -> None:
    response = client.get("/quote/v1/ticker/price", query_string={"symbol": "BTCUSDT"})

    assert response.status_code == 200
    assert response.get_json() == [{"s": "BTCUSDT", "p": "100.5"}]


def test_ticker_price_without_trades_is_the_last_complete_bar_close(app: Flask, client: FlaskClient) -> None:
    record(
        app,
        bar(BAR_MINUTE - MINUTE, "1", "2", "1", "1.5", "1", "1"),
        bar(BAR_MINUTE, "9", "9", "9", "9", "1", "9"),  # still forming at now: not a price yet
    )

    assert client.get("/quote/v1/ticker/price", query_string={"symbol": "BTCUSDT"}).get_json() == [
        {"s": "BTCUSDT", "p": "1.5"}
    ]


def test_a_bar_its_source_did_not_mark_final_is_a_price_once_it_closed_as_klines_show_it(
    app: Flask, client: FlaskClient
) -> None:
    """A recording that ended before its last bar did (a kline query's newest bar, a stream cut short): once
    the bar's time is over, klines, the 24-hour ticker and the last price all count it (the last price
    ignored it while klines and the 24-hour high showed it)."""
    last = replace(bar(BAR_MINUTE - MINUTE, "2", "9", "2", "8", "1", "8"), is_final=False)
    record(app, bar(BAR_MINUTE - 2 * MINUTE, "1", "2", "1", "1.5", "1", "1"), last)
    query = {"symbol": "BTCUSDT"}

    shown = client.get("/quote/v1/klines", query_string={**query, "interval": "1m"}).get_json()
    day = client.get("/quote/v1/ticker/24hr", query_string=query).get_json()[0]
    price = client.get("/quote/v1/ticker/price", query_string=query).get_json()

    assert shown[-1][0] == BAR_MINUTE - MINUTE and shown[-1][4] == "8"
    assert (day["h"], day["c"], price) == ("9", "8", [{"s": "BTCUSDT", "p": "8"}])


@pytest.mark.parametrize(
    ("trade_ms", "expected"),
    [
        (BAR_MINUTE - 3 * MINUTE, "1.5"),  # printed before the bar: bars without trades since
        (BAR_MINUTE - 2 * MINUTE + 10_000, "1.5"),  # within the bar, whose close is as late or later
        (BAR_MINUTE - 30_000, "7"),  # printed after the last complete bar closed
    ],
)
def test_ticker_price_is_the_later_of_the_last_print_and_the_last_bar_close(
    app: Flask, client: FlaskClient, trade_ms: int, expected: str
) -> None:
    record(
        app,
        bar(BAR_MINUTE - 2 * MINUTE, "1", "2", "1", "1.5", "1", "1"),
        Trade("BTCUSDT", trade_ms, D("7"), D("1"), False, "t"),
    )

    assert client.get("/quote/v1/ticker/price", query_string={"symbol": "BTCUSDT"}).get_json() == [
        {"s": "BTCUSDT", "p": expected}
    ]


def test_a_simulated_trade_after_the_last_recorded_print_of_a_bar_stays_the_last_price_once_it_closes(
    app: Flask, client: FlaskClient
) -> None:
    """The bar's close is the recording's last print in it, older than the simulated trade: a bar that
    completed after the simulated print must not bring the price back to it."""
    record(
        app,
        bar(BAR_MINUTE - MINUTE, "1", "2", "1", "1.5", "1", "1.5"),
        Trade("BTCUSDT", BAR_MINUTE - 10_000, D("1.5"), D("1"), False, "last"),
        Depth("BTCUSDT", BAR_MINUTE - 9_000, bids=((D("1.4"), D("5")),), asks=((D("1.6"), D("5")),)),
    )
    place(app, trader(app), BAR_MINUTE - 5_000, Side.BUY, OrderType.MARKET, quantity=D("1"))

    symbol = {"symbol": "BTCUSDT"}
    assert client.get("/quote/v1/ticker/price", query_string=symbol).get_json() == [
        {"s": "BTCUSDT", "p": "1.6"}
    ]
    assert client.get("/quote/v1/ticker/24hr", query_string=symbol).get_json()[0]["c"] == "1.6"


@pytest.mark.usefixtures("tape")
def test_ticker_price_of_every_symbol_is_a_list_by_symbol(client: FlaskClient) -> None:
    body = client.get("/quote/v1/ticker/price").get_json()

    assert [entry["s"] for entry in body] == sorted(entry["s"] for entry in body)
    assert len(body) == 13
    assert {"s": "BTCUSDT", "p": "100.5"} in body
    assert {"s": "ETHUSDT", "p": "0"} in body  # no market data


@pytest.mark.usefixtures("tape")
def test_ticker_24hr_spans_the_day_bars_and_the_last_print(app: Flask, client: FlaskClient) -> None:
    record(
        app,
        bar(BAR_MINUTE - 25 * 60 * MINUTE, "1", "500", "1", "1", "100", "100"),  # more than a day ago
        bar(BAR_MINUTE - 120 * MINUTE, "90", "95", "89", "94", "2", "180"),
        bar(BAR_MINUTE - 60 * MINUTE, "94", "99", "93", "98", "3", "290"),
        bar(BAR_MINUTE, "98", "300", "1", "98", "50", "50"),  # forming at now
    )

    response = client.get("/quote/v1/ticker/24hr", query_string={"symbol": "BTCUSDT"})

    assert response.status_code == 200
    assert response.get_json() == [
        {
            "t": T0,
            "s": "BTCUSDT",
            "c": "100.5",
            "h": "100.5",
            "l": "89",
            "o": "90",
            "b": "100.6",  # the simulated bid above the recorded 100
            "a": "100.8",  # the simulated ask's remaining 0.1, below the recorded 101
            "v": "5",
            "qv": "470",
            "it": "SPOT",
        }
    ]


def test_a_recording_with_a_finer_tick_shows_its_prints_and_bars_at_the_nearest_tick(
    app: Flask, client: FlaskClient
) -> None:
    """KuCoin-like prices (3 decimals) against BTCUSDT's 0.01 tick: the venue shows no price off its grid,
    so a bot that places an order at a shown price places a valid one."""
    record(
        app,
        bar(BAR_MINUTE - 2 * MINUTE, "36000.004", "36000.019", "35999.991", "36000.015", "1", "36000"),
        Trade("BTCUSDT", T0 - 5000, D("35999.996"), D("0.1"), False, "a"),
        Trade("BTCUSDT", T0 - 4000, D("36000.005"), D("0.1"), False, "b"),  # half way: to the even tick
        Trade("BTCUSDT", T0 - 3000, D("36000.016"), D("0.1"), False, "c"),
    )
    trades = client.get("/quote/v1/trades", query_string={"symbol": "BTCUSDT"}).get_json()
    assert [t["p"] for t in trades] == ["36000", "36000", "36000.02"]
    price = client.get("/quote/v1/ticker/price", query_string={"symbol": "BTCUSDT"}).get_json()
    assert price == [{"s": "BTCUSDT", "p": "36000.02"}]
    day = client.get("/quote/v1/ticker/24hr", query_string={"symbol": "BTCUSDT"}).get_json()[0]
    assert (day["o"], day["h"], day["l"], day["c"]) == ("36000", "36000.02", "35999.99", "36000.02")
    query = {"symbol": "BTCUSDT", "interval": "1m", "startTime": str(BAR_MINUTE - 2 * MINUTE)}
    bars = client.get("/quote/v1/klines", query_string=query).get_json()
    assert [row[1:5] for row in bars] == [["36000", "36000.02", "35999.99", "36000.02"]]


def test_ticker_24hr_of_every_symbol_is_a_list(client: FlaskClient) -> None:
    body = client.get("/quote/v1/ticker/24hr").get_json()

    assert len(body) == 13
    assert body[0] == {
        "t": T0,
        "s": "ADAUSDT",
        "c": "0",
        "h": "0",
        "l": "0",
        "o": "0",
        "b": "0",
        "a": "0",
        "v": "0",
        "qv": "0",
        "it": "SPOT",
    }


@pytest.mark.parametrize(("inst_type", "count"), [("SPOT", 1), ("ANY", 1)])
def test_ticker_24hr_instrument_types(client: FlaskClient, inst_type: str, count: int) -> None:
    query = {"symbol": "BTCUSDT", "instType": inst_type}

    assert len(client.get("/quote/v1/ticker/24hr", query_string=query).get_json()) == count


def test_ticker_24hr_of_futures_lists_none_and_knows_no_futures_symbol(client: FlaskClient) -> None:
    """The simulator has spot instruments only; BTCUSDT is not a futures symbol."""
    assert client.get("/quote/v1/ticker/24hr", query_string={"instType": "FUTURES"}).get_json() == []
    answer = client.get("/quote/v1/ticker/24hr", query_string={"symbol": "BTCUSDT", "instType": "FUTURES"})
    assert (answer.status_code, answer.get_json()["code"]) == (400, "0201")


@pytest.mark.parametrize(
    ("path", "query", "code", "msg"),
    [
        ("/quote/v1/trades", {}, "0001", "Required field symbol missing or invalid"),
        ("/quote/v1/trades", {"symbol": "DOGEUSDT"}, "0201", "Instrument not found"),
        ("/quote/v1/trades", {"symbol": "BTCUSDT", "limit": "-3"}, "-1130", "Illegal parameter 'limit'"),
        ("/quote/v1/trades", {"symbol": "BTCUSDT", "limit": "1.5"}, "-1130", "Illegal parameter 'limit'"),
        ("/quote/v1/ticker/price", {"symbol": "DOGEUSDT"}, "0201", "Instrument not found"),
        ("/quote/v1/ticker/24hr", {"symbol": "DOGEUSDT"}, "0201", "Instrument not found"),
        ("/quote/v1/trades", {"symbol": ""}, "0001", "Required field symbol missing or invalid"),
        (
            "/quote/v1/ticker/24hr",
            {"symbol": "DOGEUSDT", "instType": "FUTURES"},
            "0201",
            "Instrument not found",
        ),
        ("/quote/v1/ticker/24hr", {"instType": "OPTION"}, "-1130", "Illegal parameter 'instType'"),
    ],
)
def test_bad_parameters(client: FlaskClient, path: str, query: dict[str, str], code: str, msg: str) -> None:
    response = client.get(path, query_string=query)

    assert response.status_code == 400
    assert response.get_json() == {"code": code, "msg": msg}


def test_the_24_hour_ticker_of_a_symbol_recorded_in_hourly_bars_reads_them(
    app: Flask, client: FlaskClient
) -> None:
    """No minute bars: the finest stored series answers (the hours), not a coarser one (a day)."""
    hour, day = 60 * MINUTE, 24 * 60 * MINUTE
    forming = T0 - T0 % hour
    hours = [
        Kline(
            "BTCUSDT", "1h", forming - n * hour, forming - (n - 1) * hour - 1, *map(D, prices), D("1"), D("5")
        )
        for n, prices in (
            (3, ("5", "6", "4", "5.5")),
            (2, ("5.5", "8", "5", "7")),
            (1, ("7", "7.5", "3", "6")),
        )
    ]
    yesterday = T0 - T0 % day - day
    record(
        app,
        *hours,
        Kline("BTCUSDT", "1d", yesterday, yesterday + day - 1, *map(D, ("1", "99", "1", "2", "50", "60"))),
    )

    (ticker,) = client.get("/quote/v1/ticker/24hr", query_string={"symbol": "BTCUSDT"}).get_json()

    assert [ticker[name] for name in ("o", "h", "l", "c", "v", "qv")] == ["5", "8", "3", "6", "3", "15"]


def test_a_simulated_trade_of_this_very_millisecond_is_on_the_tape(app: Flask, client: FlaskClient) -> None:
    record(app, SNAPSHOT)
    place(app, trader(app), T0, Side.BUY, OrderType.MARKET, quantity=D("0.1"))

    newest = client.get("/quote/v1/trades", query_string={"symbol": "BTCUSDT", "limit": "1"}).get_json()
    price = client.get("/quote/v1/ticker/price", query_string={"symbol": "BTCUSDT"}).get_json()

    assert newest == [{"t": T0, "p": "101", "q": "0.1", "ibm": False}]
    assert price == [{"s": "BTCUSDT", "p": "101"}]


def test_a_recorded_trade_of_this_very_millisecond_is_on_the_tape(app: Flask, client: FlaskClient) -> None:
    record(app, Trade("BTCUSDT", T0, D("99"), D("0.3"), True, "now"))

    newest = client.get("/quote/v1/trades", query_string={"symbol": "BTCUSDT", "limit": "1"}).get_json()
    price = client.get("/quote/v1/ticker/price", query_string={"symbol": "BTCUSDT"}).get_json()

    assert newest == [{"t": T0, "p": "99", "q": "0.3", "ibm": True}]
    assert price == [{"s": "BTCUSDT", "p": "99"}]
