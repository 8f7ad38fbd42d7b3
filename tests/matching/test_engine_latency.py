"""Order latency: an order or a cancel reaches the matcher `order_latency_ms` of market time after it was
received. Orders are acknowledged NEW with their funds locked, then matched against the book of their
arrival; a cancel leaves the order PENDING_CANCEL, still filling, until it takes effect."""

from __future__ import annotations

import json
from decimal import Decimal as D
from pathlib import Path

import pytest
from sqlalchemy import func, select, text

from simulator import errors
from simulator.domain.clock import MarketClock
from simulator.domain.matching.model import FillModel
from simulator.domain.matching.orders import OrderStatus, OrderType, Side, TimeInForce
from simulator.marketdata.records import Bbo, Depth, Kline, Trade
from simulator.marketdata.writer import StoreWriter, source_id
from simulator.services import market, trading
from simulator.services.accounts import NewAccount, create_account
from simulator.services.clock import write_clock
from simulator.settings import Settings
from simulator.storage import tables
from simulator.storage.db import Database

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures"
T0 = 1_700_000_000_000
LATENCY = 100
SLOW = trading.Engine(FillModel(order_latency_ms=LATENCY))
BOOK = Depth(
    "BTCUSDT",
    T0,
    bids=((D("100"), D("1")), (D("99"), D("2"))),
    asks=((D("101"), D("1")), (D("102"), D("2")), (D("103"), D("5"))),
)
# 50 ms later the offer at 101 is gone
MOVED = Depth("BTCUSDT", T0 + 50, bids=BOOK.bids, asks=((D("102"), D("2")), (D("103"), D("5"))))


def record(database: Database, *records) -> None:
    with database.engine.begin() as connection:
        writer = StoreWriter(connection, source_id(connection, "test", "latency"), "test")
        for r in records:
            writer.add(r)
        writer.flush()


def account(database: Database, **balances: str) -> str:
    with database.write() as session:
        user = create_account(session, NewAccount(balances={k: D(v) for k, v in balances.items()}), T0)
        return user.accounts[0].id


def place(database: Database, at: int, account_id: str, side: Side, type_: OrderType, engine=SLOW, **fields):
    new = trading.NewOrder(account_id=account_id, symbol="BTCUSDT", side=side, type=type_, **fields)
    with database.write() as session:
        return trading.place_order(session, new, at, engine)


def cancel(database: Database, at: int, account_id: str, order_id: str):
    with database.write() as session:
        return trading.cancel_order(session, account_id, order_id, at, SLOW)


def advance(database: Database, to: int) -> None:
    with database.write() as session:
        trading.advance_symbol(session, "BTCUSDT", to, SLOW)


def order_row(database: Database, order_id: str) -> tables.Order:
    with database.read() as session:
        row = session.get(tables.Order, order_id)
        session.expunge(row)
        return row


def balance(database: Database, account_id: str, asset: str) -> tuple[D, D]:
    with database.read() as session:
        row = session.get(tables.Balance, (account_id, asset))
        return (row.free, row.locked) if row else (D(0), D(0))


def fills(database: Database) -> list[tuple[D, D, int, int]]:
    with database.read() as session:
        rows = session.scalars(select(tables.Fill).order_by(tables.Fill.id))
        return [(f.price, f.qty, f.is_maker, f.time) for f in rows]


def order_updates(database: Database, order_id: str) -> list[str]:
    with database.read() as session:
        rows = session.scalars(select(tables.OutboxEvent).where(tables.OutboxEvent.kind == "order"))
        payloads = [json.loads(row.payload) for row in rows]
    return [p["status"] for p in payloads if p["orderId"] == order_id]


def test_an_order_is_acknowledged_new_with_its_funds_locked_and_matched_only_after_the_latency(db):
    record(db, BOOK)
    buyer = account(db, USDT="1000")
    order = place(db, T0 + 10, buyer, Side.BUY, OrderType.LIMIT, price=D("101"), quantity=D("1"))
    assert order.status is OrderStatus.NEW
    assert balance(db, buyer, "USDT") == (D("899"), D("101"))
    row = order_row(db, order.order_id)
    assert (row.status, row.resting, row.match_ms, row.executed_qty) == ("NEW", 0, T0 + 110, D("0"))
    advance(db, T0 + 109)
    assert fills(db) == []
    advance(db, T0 + 110)
    assert fills(db) == [(D("101"), D("1"), 0, T0 + 110)]  # the taker, at its arrival
    row = order_row(db, order.order_id)
    assert (row.status, row.match_ms, row.created_ms, row.updated_ms) == ("FILLED", None, T0 + 10, T0 + 110)
    assert order_updates(db, order.order_id) == ["NEW", "FILLED"]


def test_a_latency_of_one_millisecond_delays_orders_and_cancels_by_that_millisecond(db):
    engine = trading.Engine(FillModel(order_latency_ms=1))
    record(db, BOOK)
    buyer = account(db, USDT="1000")

    market = place(db, T0 + 10, buyer, Side.BUY, OrderType.MARKET, engine=engine, quantity=D("1"))
    assert market.status is OrderStatus.NEW
    assert balance(db, buyer, "USDT") == (D("899"), D("101"))  # the walk's estimate, locked at receipt
    resting = place(
        db, T0 + 10, buyer, Side.BUY, OrderType.LIMIT, engine=engine, price=D("99"), quantity=D("1")
    )
    with db.write() as session:
        cancelling = trading.cancel_order(session, buyer, resting.order_id, T0 + 20, engine)
    assert cancelling.status is OrderStatus.PENDING_CANCEL
    with db.write() as session:
        trading.advance_symbol(session, "BTCUSDT", T0 + 21, engine)
    assert (order_row(db, market.order_id).status, order_row(db, resting.order_id).status) == (
        "FILLED",
        "CANCELED",
    )


def test_an_order_meets_the_book_of_its_arrival_not_of_its_receipt(db):
    record(db, BOOK, MOVED)
    buyer = account(db, USDT="1000")
    instant = place(
        db,
        T0 + 10,
        buyer,
        Side.BUY,
        OrderType.LIMIT,
        engine=trading.Engine(),
        price=D("101"),
        quantity=D("0.5"),
    )
    assert instant.status is OrderStatus.FILLED  # without latency the 101 offer was there
    late = place(db, T0 + 20, buyer, Side.BUY, OrderType.LIMIT, price=D("101"), quantity=D("0.5"))
    advance(db, T0 + 200)
    row = order_row(db, late.order_id)
    assert (row.status, row.resting, row.executed_qty) == ("NEW", 1, D("0"))  # at T0+120 the offer was gone
    assert order_updates(db, late.order_id) == ["NEW"]  # arriving and resting announces nothing new


def test_an_order_arriving_in_the_same_millisecond_as_another_meets_the_book_that_one_left(db):
    """A best offer through a simulated resting bid is left out of the book (`less_crossed`) until that bid
    is gone. Here an IOC sell arriving first fills the bid; a MARKET buy arriving in the same millisecond
    must then meet the offer, as it would placed without a latency (it met the book read before the sell,
    found no offer and was cancelled)."""
    record(
        db,
        Bbo("BTCUSDT", T0 - 500, D("100"), D("1"), D("101"), D("1")),
        Bbo("BTCUSDT", T0 + 50, D("99"), D("1"), D("100.3"), D("1")),  # its ask is below the resting bid
    )
    resting = place(
        db,
        T0,
        account(db, USDT="1000"),
        Side.BUY,
        OrderType.LIMIT,
        engine=trading.Engine(),
        price=D("100.5"),
        quantity=D("0.01"),
    )
    seller, buyer = account(db, BTC="1"), account(db, USDT="1000")
    sell = place(
        db,
        T0 + 60,
        seller,
        Side.SELL,
        OrderType.LIMIT,
        price=D("100.5"),
        quantity=D("0.01"),
        time_in_force=TimeInForce.IOC,
    )
    buy = place(db, T0 + 60, buyer, Side.BUY, OrderType.MARKET, quantity=D("0.01"))
    advance(db, T0 + 60 + LATENCY)

    assert order_row(db, resting.order_id).status == "FILLED"
    assert order_row(db, sell.order_id).status == "FILLED"
    row = order_row(db, buy.order_id)
    assert (row.status, row.executed_qty, row.executed_quote) == ("FILLED", D("0.01"), D("1.003"))


def test_takers_arriving_in_one_millisecond_each_meet_what_the_one_before_took(db):
    """Two MARKET buys of 1 reach the matcher in one millisecond: the first takes the 1 offered at 101, the
    second meets 102."""
    record(db, BOOK)
    buyers = account(db, USDT="1000"), account(db, USDT="1000")
    orders = [place(db, T0 + 10, buyer, Side.BUY, OrderType.MARKET, quantity=D("1")) for buyer in buyers]

    advance(db, T0 + 10 + LATENCY)

    rows = [order_row(db, order.order_id) for order in orders]
    assert [(row.status, row.executed_quote) for row in rows] == [("FILLED", D("101")), ("FILLED", D("102"))]


def test_a_bar_fills_only_orders_that_reached_the_matcher_before_it_opened(db):
    """Received 10 ms before a bar opened, an order reaches the matcher 90 ms after: that bar does not fill
    it, though its low is through the limit (as for the same order placed at its arrival without a latency);
    the next bar does."""

    def bar(open_ms: int, low: str) -> Kline:
        return Kline(
            "BTCUSDT", "1m", open_ms, open_ms + 59_999, D("100"), D("100"), D(low), D("100"), D("10")
        )

    record(db, bar(T0 - 60_000, "100"), bar(T0, "99"), bar(T0 + 60_000, "99"))
    buyer = account(db, USDT="1000")
    order = place(db, T0 - 10, buyer, Side.BUY, OrderType.LIMIT, price=D("99.5"), quantity=D("0.01"))
    advance(db, T0 + 60_000)  # the first bar closed
    assert (order_row(db, order.order_id).status, fills(db)) == ("NEW", [])
    advance(db, T0 + 120_000)  # the second, complete from this millisecond
    assert fills(db) == [(D("99.5"), D("0.01"), 1, T0 + 120_000)]


def test_placing_an_order_brings_earlier_orders_to_the_matcher_first(db):
    record(db, BOOK)
    first, second = account(db, USDT="1000"), account(db, USDT="1000")
    a = place(db, T0 + 10, first, Side.BUY, OrderType.LIMIT, price=D("101"), quantity=D("1"))
    b = place(db, T0 + 20, second, Side.BUY, OrderType.LIMIT, price=D("101"), quantity=D("1"))
    place(db, T0 + 500, second, Side.BUY, OrderType.LIMIT, price=D("90"), quantity=D("1"))
    # a arrived first and took the one BTC offered at 101; b found nothing left there and rests
    assert order_row(db, a.order_id).status == "FILLED"
    assert (order_row(db, b.order_id).status, order_row(db, b.order_id).resting) == ("NEW", 1)


def test_a_market_buy_by_quantity_locks_its_cost_on_the_book_at_receipt(db):
    record(db, BOOK)
    buyer = account(db, USDT="1000")
    order = place(db, T0 + 10, buyer, Side.BUY, OrderType.MARKET, quantity=D("1.5"))
    assert order.status is OrderStatus.NEW
    assert balance(db, buyer, "USDT") == (D("848"), D("152"))  # 1 at 101 + 0.5 at 102, on the book now
    advance(db, T0 + 200)
    assert order_row(db, order.order_id).status == "FILLED"
    assert balance(db, buyer, "USDT") == (D("848"), D("0"))


def test_a_market_sell_by_amount_locks_the_base_its_walk_needs_at_receipt(db):
    record(db, BOOK)
    seller = account(db, BTC="5")
    order = place(db, T0 + 10, seller, Side.SELL, OrderType.MARKET, amount=D("199"))
    assert balance(db, seller, "BTC") == (D("3"), D("2"))  # 100 from 1 BTC at 100, 99 from 1 BTC at 99
    advance(db, T0 + 200)
    assert order_row(db, order.order_id).status == "FILLED"
    assert balance(db, seller, "BTC") == (D("3"), D("0"))


def test_an_estimate_the_free_balance_cannot_cover_is_refused_at_receipt(db):
    record(db, BOOK)
    buyer = account(db, USDT="100")
    with pytest.raises(errors.InsufficientAsset):
        place(db, T0 + 10, buyer, Side.BUY, OrderType.MARKET, quantity=D("1"))  # costs 101 now
    assert balance(db, buyer, "USDT") == (D("100"), D("0"))
    with db.read() as session:
        assert session.scalar(select(func.count()).select_from(tables.Order)) == 0


def test_a_walk_cheaper_at_arrival_than_the_estimate_returns_the_surplus(db):
    better = Depth("BTCUSDT", T0 + 50, bids=BOOK.bids, asks=((D("100.50"), D("1")),))
    record(db, BOOK, better)
    buyer = account(db, USDT="1000")
    order = place(db, T0 + 10, buyer, Side.BUY, OrderType.MARKET, quantity=D("1"))
    assert balance(db, buyer, "USDT") == (D("899"), D("101"))
    advance(db, T0 + 200)
    assert fills(db) == [(D("100.50"), D("1"), 0, T0 + 110)]
    assert order_row(db, order.order_id).status == "FILLED"
    assert balance(db, buyer, "USDT") == (D("899.50"), D("0"))


def test_an_order_whose_fills_the_balance_cannot_pay_at_arrival_is_rejected(db):
    record(db, BOOK, MOVED)
    buyer = account(db, USDT="150")
    by_quantity = place(db, T0 + 10, buyer, Side.BUY, OrderType.MARKET, quantity=D("1"))
    assert by_quantity.status is OrderStatus.NEW
    assert balance(db, buyer, "USDT") == (D("49"), D("101"))  # the estimate: 1 at 101
    place(db, T0 + 20, buyer, Side.BUY, OrderType.LIMIT, price=D("90"), quantity=D("0.54"))  # locks 48.6
    advance(db, T0 + 200)  # at T0+110 the offer at 101 is gone: 102 is 1 more than the estimate, 0.4 free
    row = order_row(db, by_quantity.order_id)
    assert (row.status, row.cancel_reason, row.executed_qty) == ("REJECTED", "RISKLIMIT_CANCEL", D("0"))
    assert fills(db) == []
    assert balance(db, buyer, "USDT") == (D("101.4"), D("48.6"))
    assert order_updates(db, by_quantity.order_id) == ["NEW", "REJECTED"]


def test_a_limit_maker_that_would_take_on_arrival_is_rejected_then_and_its_lock_released(db):
    """Acknowledged NEW with its funds locked; the post-only check is made when it reaches the matcher,
    where 102 is the best ask and it would take."""
    record(db, BOOK, MOVED)
    buyer = account(db, USDT="1000")
    maker = place(db, T0 + 10, buyer, Side.BUY, OrderType.LIMIT_MAKER, price=D("102"), quantity=D("1"))
    assert (maker.status, balance(db, buyer, "USDT")) == (OrderStatus.NEW, (D("898"), D("102")))

    advance(db, T0 + 200)

    row = order_row(db, maker.order_id)
    assert (row.status, row.cancel_reason, row.executed_qty) == ("REJECTED", "RISKLIMIT_CANCEL", D("0"))
    assert fills(db) == []
    assert balance(db, buyer, "USDT") == (D("1000"), D("0"))
    assert order_updates(db, maker.order_id) == ["NEW", "REJECTED"]


def test_a_cancel_is_pending_and_the_order_still_fills_until_the_cancel_takes_effect(db):
    record(
        db,
        BOOK,
        Trade("BTCUSDT", T0 + 250, D("99.50"), D("0.4"), True, "1"),
        Trade("BTCUSDT", T0 + 400, D("99.00"), D("5"), True, "2"),
    )
    buyer = account(db, USDT="1000")
    order = place(db, T0 + 10, buyer, Side.BUY, OrderType.LIMIT, price=D("99.80"), quantity=D("1"))
    advance(db, T0 + 200)  # arrived at T0+110 and rests
    pending = cancel(db, T0 + 200, buyer, order.order_id)
    assert pending.status is OrderStatus.PENDING_CANCEL
    assert cancel(db, T0 + 210, buyer, order.order_id).status is OrderStatus.PENDING_CANCEL  # asked again
    advance(db, T0 + 299)
    assert fills(db) == [(D("99.80"), D("0.4"), 1, T0 + 250)]  # the print through the limit still filled it
    assert order_row(db, order.order_id).status == "PENDING_CANCEL"
    advance(db, T0 + 300)
    row = order_row(db, order.order_id)
    assert (row.status, row.cancel_reason, row.resting, row.cancel_ms) == (
        "PARTIALLY_CANCELED",
        "USER_CANCEL",
        0,
        None,
    )
    assert balance(db, buyer, "USDT") == (D("1000") - D("99.80") * D("0.4"), D("0"))
    advance(db, T0 + 500)
    assert len(fills(db)) == 1  # the trade at T0+400 came after the cancel
    assert order_updates(db, order.order_id) == [
        "NEW",
        "PENDING_CANCEL",
        "PENDING_CANCEL",  # the fill: still pending, 0.4 executed
        "PARTIALLY_CANCELED",
    ]


def test_a_cancel_sent_before_the_order_arrived_ends_it_after_it_arrives(db):
    record(db, BOOK)
    buyer = account(db, USDT="1000")
    resting = place(db, T0 + 10, buyer, Side.BUY, OrderType.LIMIT, price=D("90"), quantity=D("1"))
    taking = place(db, T0 + 10, buyer, Side.BUY, OrderType.LIMIT, price=D("101"), quantity=D("1"))
    assert cancel(db, T0 + 20, buyer, resting.order_id).status is OrderStatus.PENDING_CANCEL
    assert cancel(db, T0 + 20, buyer, taking.order_id).status is OrderStatus.PENDING_CANCEL
    advance(db, T0 + 115)
    assert (order_row(db, resting.order_id).status, order_row(db, resting.order_id).resting) == (
        "PENDING_CANCEL",
        1,
    )
    assert order_row(db, taking.order_id).status == "FILLED"  # it filled on arrival, before its cancel
    advance(db, T0 + 120)
    assert (order_row(db, resting.order_id).status, order_row(db, resting.order_id).cancel_reason) == (
        "CANCELED",
        "USER_CANCEL",
    )
    assert order_row(db, taking.order_id).status == "FILLED"
    assert balance(db, buyer, "USDT") == (D("899"), D("0"))


def test_a_cancel_that_takes_effect_before_the_order_arrives_ends_it_unmatched(db):
    """The latency setting can change between two requests (a restart): a cancel may then overtake."""
    record(db, BOOK)
    buyer = account(db, USDT="1000")
    order = place(db, T0 + 10, buyer, Side.BUY, OrderType.LIMIT, price=D("101"), quantity=D("1"))
    with db.write() as session:
        faster = trading.Engine(FillModel(order_latency_ms=10))
        trading.cancel_order(session, buyer, order.order_id, T0 + 20, faster)
    advance(db, T0 + 200)
    row = order_row(db, order.order_id)
    assert (row.status, row.executed_qty, row.match_ms, row.cancel_ms) == ("CANCELED", D("0"), None, None)
    assert fills(db) == []
    assert balance(db, buyer, "USDT") == (D("1000"), D("0"))


def resting_sell_and_a_buyer(database: Database) -> tuple[str, str, str]:
    """A simulated sell resting at 100.5 inside the recorded spread (100 / 101): (its account, its order id,
    an account that buys)."""
    record(database, BOOK)
    seller, buyer = account(database, BTC="1"), account(database, USDT="1000")
    sell = place(database, T0, seller, Side.SELL, OrderType.LIMIT, price=D("100.5"), quantity=D("1"))
    advance(database, T0 + LATENCY)
    assert order_row(database, sell.order_id).resting == 1
    return seller, sell.order_id, buyer


def ioc_buy_at(database: Database, at: int, buyer: str) -> str:
    order = place(
        database,
        at,
        buyer,
        Side.BUY,
        OrderType.LIMIT,
        price=D("100.5"),
        quantity=D("1"),
        time_in_force=TimeInForce.IOC,
    )
    return order.order_id


def test_a_cancel_received_before_another_accounts_order_in_one_millisecond_takes_effect_first(db):
    """Both reach the matcher at the same millisecond; in the order received, as without a latency: the
    resting sell is gone when the buy arrives, which finds no offer at its limit."""
    seller, sell, buyer = resting_sell_and_a_buyer(db)
    at = T0 + 500
    cancel(db, at, seller, sell)
    buy = ioc_buy_at(db, at, buyer)
    advance(db, at + LATENCY)

    assert (order_row(db, sell).status, order_row(db, sell).executed_qty) == ("CANCELED", D("0"))
    assert (order_row(db, buy).status, order_row(db, buy).executed_qty) == ("CANCELED", D("0"))
    assert fills(db) == []
    assert balance(db, seller, "BTC") == (D("1"), D("0"))


def test_an_order_received_before_a_cancel_in_one_millisecond_meets_the_order_being_cancelled(db):
    seller, sell, buyer = resting_sell_and_a_buyer(db)
    at = T0 + 500
    buy = ioc_buy_at(db, at, buyer)
    cancel(db, at, seller, sell)
    advance(db, at + LATENCY)

    assert order_row(db, buy).status == "FILLED"
    assert order_row(db, sell).status == "FILLED"  # the cancel found it filled
    assert fills(db) == [(D("100.5"), D("1"), 0, at + LATENCY), (D("100.5"), D("1"), 1, at + LATENCY)]


def test_a_cancel_received_by_an_earlier_version_takes_effect_after_its_milliseconds_orders(db):
    """Such a version kept no receipt place for cancels (`cancel_sequence` NULL) and ran orders first."""
    seller, sell, buyer = resting_sell_and_a_buyer(db)
    at = T0 + 500
    cancel(db, at, seller, sell)
    buy = ioc_buy_at(db, at, buyer)
    with db.write() as session:
        session.execute(text("UPDATE orders SET cancel_sequence = NULL"))
    advance(db, at + LATENCY)

    assert (order_row(db, buy).status, order_row(db, sell).status) == ("FILLED", "FILLED")


def test_step_mode_stops_where_an_order_reaches_the_matcher(db):
    record(db, BOOK, Trade("BTCUSDT", T0 + 5_000, D("100"), D("1"), True, "1"))
    settings = Settings(order_latency_ms=LATENCY)
    with db.write() as session:
        write_clock(session, MarketClock.replay(T0 + 10, D(0), 0))
    buyer = account(db, USDT="1000")
    order = place(db, T0 + 10, buyer, Side.BUY, OrderType.LIMIT, price=D("101"), quantity=D("1"))
    with db.read() as session:
        assert trading.symbols_to_advance(session) == ["BTCUSDT"]  # nothing rests, but an order is on its way
    clock = market.step_clock(db, settings, 0)  # to the next event
    assert clock.now_ms(0) == T0 + 110
    assert order_row(db, order.order_id).status == "FILLED"
    assert market.step_clock(db, settings, 0).now_ms(0) == T0 + 5_000  # then the recording's next trade


def test_step_mode_stops_at_a_cancel_taking_effect_before_a_later_orders_arrival(db):
    """A cancel taking effect at T0+210 and an order arriving at T0+250 are both on their way: the next
    event is the cancel, then the arrival."""
    record(db, BOOK, Trade("BTCUSDT", T0 + 5_000, D("100"), D("1"), True, "1"))
    settings = Settings(order_latency_ms=LATENCY)
    with db.write() as session:
        write_clock(session, MarketClock.replay(T0 + 10, D(0), 0))
    buyer = account(db, USDT="1000")
    resting = place(db, T0 + 10, buyer, Side.BUY, OrderType.LIMIT, price=D("99"), quantity=D("1"))
    assert market.step_clock(db, settings, 0).now_ms(0) == T0 + 110  # it arrives and rests
    cancel(db, T0 + 110, buyer, resting.order_id)
    market.step_clock(db, settings, 0, advance_ms=40)
    arriving = place(db, T0 + 150, buyer, Side.BUY, OrderType.LIMIT, price=D("98"), quantity=D("1"))

    assert market.step_clock(db, settings, 0).now_ms(0) == T0 + 210
    assert (order_row(db, resting.order_id).status, order_row(db, arriving.order_id).status) == (
        "CANCELED",
        "NEW",
    )
    assert market.step_clock(db, settings, 0).now_ms(0) == T0 + 250


def test_the_setting_reaches_the_engine():
    settings = Settings.load(env={"HASHKEY_SIM_ORDER_LATENCY_MS": "250"})
    assert market.fill_model(settings).order_latency_ms == 250
    assert market.fill_model(Settings()).order_latency_ms == 0


def test_the_symbols_to_advance_are_those_with_orders_resting_arriving_or_being_cancelled(db):
    record(db, BOOK)
    buyer = account(db, USDT="1000", ETH="10")
    with db.read() as session:
        assert trading.symbols_to_advance(session) == []
    arriving = place(db, T0 + 10, buyer, Side.BUY, OrderType.LIMIT, price=D("99"), quantity=D("1"))
    sell_eth = trading.NewOrder(
        account_id=buyer,
        symbol="ETHUSDT",
        side=Side.SELL,
        type=OrderType.LIMIT,
        price=D("5000"),
        quantity=D("1"),
    )
    with db.write() as session:
        trading.place_order(session, sell_eth, T0 + 10, trading.Engine(FillModel()))  # rests at once
    with db.read() as session:
        assert trading.symbols_to_advance(session) == ["BTCUSDT", "ETHUSDT"]  # on its way; resting

    advance(db, T0 + 200)  # arrived: rests
    cancel(db, T0 + 300, buyer, arriving.order_id)  # the cancel is on its way
    with db.read() as session:
        assert trading.symbols_to_advance(session) == ["BTCUSDT", "ETHUSDT"]
    advance(db, T0 + 500)  # cancelled: nothing of BTCUSDT moves with the market any more
    with db.read() as session:
        assert trading.symbols_to_advance(session) == ["ETHUSDT"]
        # every request asks: index seeks per symbol, never a scan of every order placed
        plan = session.execute(text(f"EXPLAIN QUERY PLAN {compiled(session, trading._MOVING_SYMBOLS)}")).all()
    assert not [step for step in plan if "SCAN orders" in step[-1]]


def compiled(session, statement) -> str:
    return str(statement.compile(session.get_bind(), compile_kwargs={"literal_binds": True}))
