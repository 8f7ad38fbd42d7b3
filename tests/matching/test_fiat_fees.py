"""Token-Fiat pairs (a fiat quote: BTCUSD, BTCHKD, ...): both sides pay their fee in the fiat, a buy's on
top of what it costs, from the funds it locked for it (the document's vipInfo example: BTCHKD pays HKD
on buys and sells). The fixtures' rate for BTCUSD is 0.0015, maker and taker."""

from __future__ import annotations

import json
from decimal import Decimal as D

import pytest
from sqlalchemy import update

from simulator import errors
from simulator.domain.matching.orders import OrderStatus, OrderType, Side, TimeInForce
from simulator.marketdata.records import Depth, Trade
from simulator.services import trading
from simulator.storage import tables
from tests.matching.test_engine_service import ENGINE, T0, account, balance, fills, ledger, record

RATE = D("0.0015")
BOOK = Depth(
    "BTCUSD",
    T0,
    bids=((D("100"), D("1")), (D("99"), D("2"))),
    asks=((D("101"), D("1")), (D("102"), D("2"))),
)
TRADE, FEE = 1, 2  # flow types


def place(database, at: int, account_id: str, side: Side, type_: OrderType, **fields):
    new = trading.NewOrder(account_id=account_id, symbol="BTCUSD", side=side, type=type_, **fields)
    with database.write() as session:
        return trading.place_order(session, new, at, ENGINE)


def advance(database, to: int) -> None:
    with database.write() as session:
        trading.advance_symbol(session, "BTCUSD", to, ENGINE)


def test_a_market_buy_pays_its_fee_in_the_fiat_on_top_of_what_it_costs(db):
    record(db, BOOK)
    buyer = account(db, USD="1000")
    order = place(db, T0 + 10, buyer, Side.BUY, OrderType.MARKET, quantity=D("2"))

    assert (order.status, order.executed_qty, order.executed_quote) == (OrderStatus.FILLED, D("2"), D("203"))
    assert [(f.fee_asset, f.fee_amount) for f in fills(db)] == [("USD", 101 * RATE), ("USD", 102 * RATE)]
    assert balance(db, buyer, "BTC") == (D("2"), D("0"))  # all of it: no fee out of what it bought
    assert balance(db, buyer, "USD") == (D("1000") - D("203") - 203 * RATE, D("0"))
    assert [e for e in ledger(db, buyer) if e[1] in (TRADE, FEE)] == [  # an entry per asset and flow
        ("USD", TRADE, D("-203")),
        ("BTC", TRADE, D("2")),
        ("USD", FEE, -203 * RATE),
    ]


def test_a_sell_pays_its_fee_in_the_fiat_out_of_what_it_receives(db):
    record(db, BOOK)
    seller = account(db, BTC="1")
    place(db, T0 + 10, seller, Side.SELL, OrderType.MARKET, quantity=D("1"))

    assert [(f.fee_asset, f.fee_amount) for f in fills(db)] == [("USD", 100 * RATE)]
    assert balance(db, seller, "USD") == (D("100") - 100 * RATE, D("0"))


def test_a_limit_buy_locks_its_fee_too_and_a_cancel_returns_all_of_it(db):
    record(db, BOOK)
    buyer = account(db, USD="1000")
    order = place(db, T0 + 10, buyer, Side.BUY, OrderType.LIMIT, price=D("95"), quantity=D("2"))

    assert balance(db, buyer, "USD") == (D("1000") - D("190") * (1 + RATE), D("190") * (1 + RATE))
    with db.write() as session:
        trading.cancel_order(session, buyer, order.order_id, T0 + 20, ENGINE)
    assert balance(db, buyer, "USD") == (D("1000"), D("0"))


@pytest.mark.parametrize(
    ("type_", "fields"),
    [
        (OrderType.LIMIT, {"price": D("100"), "quantity": D("10")}),
        (OrderType.MARKET, {"amount": D("1000")}),
    ],
)
def test_a_buy_whose_fee_the_balance_cannot_cover_is_refused(db, type_, fields):
    record(db, BOOK)
    buyer = account(db, USD="1000")  # exactly the cost, nothing for the fee
    with pytest.raises(errors.InsufficientAsset):
        place(db, T0 + 10, buyer, Side.BUY, type_, **fields)
    assert balance(db, buyer, "USD") == (D("1000"), D("0"))


def test_a_resting_buy_filled_as_maker_pays_its_fee_from_its_lock_and_gets_the_rest_back(db):
    record(db, BOOK, Trade("BTCUSD", T0 + 100, D("94"), D("5"), True, "1"))
    buyer = account(db, USD="1000")
    place(db, T0 + 10, buyer, Side.BUY, OrderType.LIMIT, price=D("95"), quantity=D("2"))
    advance(db, T0 + 200)

    assert [(f.price, f.qty, f.is_maker, f.fee_asset, f.fee_amount) for f in fills(db)] == [
        (D("95"), D("2"), 1, "USD", 190 * RATE)
    ]
    assert balance(db, buyer, "USD") == (D("1000") - D("190") - 190 * RATE, D("0"))
    assert balance(db, buyer, "BTC") == (D("2"), D("0"))


def test_a_buy_pays_its_fees_from_its_lock_while_it_works_and_nothing_from_free(db):
    """Funded with exactly cost and fee: every fill's fee comes out of the lock, the free balance stays 0."""
    prints = [Trade("BTCUSD", T0 + 100 * n, D("94"), D("1"), True, str(n)) for n in (1, 2)]
    record(db, BOOK, *prints)
    buyer = account(db, USD=str(D("190") * (1 + RATE)))
    order = place(db, T0 + 10, buyer, Side.BUY, OrderType.LIMIT, price=D("95"), quantity=D("2"))

    advance(db, T0 + 150)  # the first print: half filled
    assert balance(db, buyer, "USD") == (D("0"), D("190") * (1 + RATE) - D("95") * (1 + RATE))
    advance(db, T0 + 250)

    assert [f.fee_amount for f in fills(db, order.order_id)] == [95 * RATE, 95 * RATE]
    assert balance(db, buyer, "USD") == (D("0"), D("0"))
    assert balance(db, buyer, "BTC") == (D("2"), D("0"))


@pytest.mark.parametrize(
    ("type_", "fields"),
    [
        (OrderType.LIMIT, {"price": D("102"), "quantity": D("2")}),  # takes two levels, as the taker
        (OrderType.MARKET, {"amount": D("203")}),
    ],
)
def test_a_taker_buy_funded_exactly_pays_every_fee(db, type_, fields):
    record(db, BOOK)
    buyer = account(
        db, USD=str(D("203") * (1 + RATE)) if type_ is OrderType.MARKET else str(D("204") * (1 + RATE))
    )
    order = place(db, T0 + 10, buyer, Side.BUY, type_, **fields)

    assert [f.fee_amount for f in fills(db, order.order_id)] == [101 * RATE, 102 * RATE]
    assert sum(e[2] for e in ledger(db, buyer) if e[1] == FEE) == -203 * RATE


@pytest.mark.parametrize("free_usd", ["1000", "0.1"])
def test_an_order_resting_without_a_fee_lock_pays_its_fees_from_the_free_balance(db, free_usd):
    """An order placed by an earlier version, which locked only price x quantity: its lock pays what its
    fills cost, the free balance their fees (as much as it has; a fill never fails)."""
    prints = [Trade("BTCUSD", T0 + 100 * n, D("94"), D("1"), True, str(n)) for n in (1, 2)]
    record(db, BOOK, *prints)
    buyer = account(db, USD="1000")
    order = place(db, T0 + 10, buyer, Side.BUY, OrderType.LIMIT, price=D("95"), quantity=D("2"))
    with db.write() as session:  # as that version left it
        session.execute(update(tables.Order).values(locked_left=D("190")))
        balance_row = session.get(tables.Balance, (buyer, "USD"))
        balance_row.free, balance_row.locked = D(free_usd), D("190")

    advance(db, T0 + 300)

    fees = [f.fee_amount for f in fills(db, order.order_id)]
    if free_usd == "1000":
        assert fees == [95 * RATE, 95 * RATE]
    else:  # 0.1425 owed each time: the first takes what the free balance has left, the second nothing
        assert fees == [D("0.1"), D("0")]
    assert balance(db, buyer, "USD") == (D(free_usd) - sum(fees), D("0"))
    assert balance(db, buyer, "BTC") == (D("2"), D("0"))


def test_a_buy_locks_its_fee_at_the_dearest_rate_it_can_pay(db):
    """At VIP 7 BTCUSD costs a maker 0.0003 and a taker 0.00065: a LIMIT_MAKER only makes, an IOC only
    takes, a GTC order may do either."""
    record(db, BOOK)
    buyer = account(db, USD="1000")
    with db.write() as session:
        session.execute(update(tables.User).values(vip_level=7))
    locks = {}
    for type_, tif in ((OrderType.LIMIT_MAKER, TimeInForce.GTC), (OrderType.LIMIT, TimeInForce.GTC)):
        order = place(db, T0 + 10, buyer, Side.BUY, type_, time_in_force=tif, price=D("95"), quantity=D("1"))
        with db.read() as session:
            locks[type_, tif] = session.get(tables.Order, order.order_id).locked_left
    assert locks == {
        (OrderType.LIMIT_MAKER, TimeInForce.GTC): D("95") * (1 + D("0.0003")),
        (OrderType.LIMIT, TimeInForce.GTC): D("95") * (1 + D("0.00065")),
    }
    free_before = balance(db, buyer, "USD")[0]
    place(
        db,
        T0 + 20,
        buyer,
        Side.BUY,
        OrderType.LIMIT,
        time_in_force=TimeInForce.IOC,
        price=D("101"),
        quantity=D("1"),
    )
    assert balance(db, buyer, "USD")[0] == free_before - D("101") * (1 + D("0.00065"))


def test_a_gtc_buy_locks_its_fee_at_the_maker_rate_where_that_is_the_dearer(db):
    """A custom tier whose BTCUSD makers pay more than takers: a GTC LIMIT may make, and locks the maker's
    fee; an IOC only takes, and pays the taker's."""
    record(db, BOOK)
    buyer = account(db, USD="1000")
    with db.write() as session:
        tier = session.get(tables.FeeTier, 0)
        definition = json.loads(tier.definition)
        definition["symbols"]["BTCUSD"] = {"makerFeeRate": "0.002", "takerFeeRate": "0.001"}
        tier.definition = json.dumps(definition)

    order = place(db, T0 + 10, buyer, Side.BUY, OrderType.LIMIT, price=D("95"), quantity=D("1"))
    free_before = balance(db, buyer, "USD")[0]
    ioc = dict(time_in_force=TimeInForce.IOC, price=D("101"), quantity=D("1"))
    place(db, T0 + 20, buyer, Side.BUY, OrderType.LIMIT, **ioc)

    with db.read() as session:
        assert session.get(tables.Order, order.order_id).locked_left == D("95") * (1 + D("0.002"))
    assert balance(db, buyer, "USD")[0] == free_before - D("101") * (1 + D("0.001"))
