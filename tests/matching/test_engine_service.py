"""The engine on a database: orders placed and filled against stored market data, with balances, ledger,
fills and outbox written together; resting orders filled as the market moves; determinism."""

from __future__ import annotations

import json
import threading
from decimal import Decimal as D
from pathlib import Path

import pytest
from sqlalchemy import func, select

from simulator import errors
from simulator.domain.matching.orders import CancelReason, OrderStatus, OrderType, Side, StpMode, TimeInForce
from simulator.marketdata.records import Depth, Kline, Trade
from simulator.marketdata.writer import StoreWriter, source_id
from simulator.services import outbox, trading
from simulator.services.accounts import NewAccount, create_account
from simulator.storage import tables
from simulator.storage.db import Database, open_database
from simulator.storage.seed import ensure_seeded

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures"
T0 = 1_700_000_000_000
ENGINE = trading.Engine()
BOOK = Depth(
    "BTCUSDT",
    T0,
    bids=((D("100"), D("1")), (D("99"), D("2"))),
    asks=((D("101"), D("1")), (D("102"), D("2")), (D("103"), D("5"))),
)


def record(database: Database, *records) -> None:
    with database.engine.begin() as connection:
        writer = StoreWriter(connection, source_id(connection, "test", "engine"), "test")
        for r in records:
            writer.add(r)
        writer.flush()


def account(database: Database, **balances: str) -> str:
    with database.write() as session:
        user = create_account(session, NewAccount(balances={k: D(v) for k, v in balances.items()}), T0)
        return user.accounts[0].id


def place(database: Database, at: int, account_id: str, side: Side, type_: OrderType, **fields):
    new = trading.NewOrder(account_id=account_id, symbol="BTCUSDT", side=side, type=type_, **fields)
    with database.write() as session:
        return trading.place_order(session, new, at, ENGINE)


def advance(database: Database, to: int) -> None:
    with database.write() as session:
        trading.advance_symbol(session, "BTCUSDT", to, ENGINE)


def balance(database: Database, account_id: str, asset: str) -> tuple[D, D]:
    with database.read() as session:
        row = session.get(tables.Balance, (account_id, asset))
        return (row.free, row.locked) if row else (D(0), D(0))


def fills(database: Database, order_id: str | None = None) -> list[tables.Fill]:
    with database.read() as session:
        query = select(tables.Fill).order_by(tables.Fill.id)
        if order_id is not None:
            query = query.where(tables.Fill.order_id == order_id)
        return list(session.scalars(query))


def ledger(database: Database, account_id: str) -> list[tuple[str, int, D]]:
    with database.read() as session:
        rows = session.scalars(
            select(tables.LedgerEntry)
            .where(tables.LedgerEntry.account_id == account_id)
            .order_by(tables.LedgerEntry.id)
        )
        return [(r.asset, r.flow_type, r.change) for r in rows]


def test_a_market_buy_walks_the_book_and_settles_balances_ledger_fills_and_outbox(db):
    record(db, BOOK)
    buyer = account(db, USDT="1000")
    order = place(
        db,
        T0 + 10,
        buyer,
        Side.BUY,
        OrderType.MARKET,
        time_in_force=TimeInForce.IOC,
        quantity=D("2"),
        client_order_id="bot-1",
    )
    assert (order.status, order.executed_qty, order.executed_quote) == (OrderStatus.FILLED, D("2"), D("203"))
    assert [(f.price, f.qty, f.fee_asset, f.fee_amount, f.is_maker) for f in fills(db)] == [
        (D("101"), D("1"), "BTC", D("0.0012"), 0),
        (D("102"), D("1"), "BTC", D("0.0012"), 0),
    ]
    assert balance(db, buyer, "USDT") == (D("797"), D("0"))
    assert balance(db, buyer, "BTC") == (D("1.9976"), D("0"))
    trade_entries = [e for e in ledger(db, buyer) if e[1] in (1, 2)]
    assert trade_entries == [  # the two fills settled together: one entry per asset and flow
        ("USDT", 1, D("-203")),
        ("BTC", 1, D("2")),
        ("BTC", 2, D("-0.0024")),
    ]
    with db.read() as session:
        kinds = list(session.scalars(select(tables.OutboxEvent.kind).order_by(tables.OutboxEvent.id)))
        payloads = [
            json.loads(p)
            for p in session.scalars(select(tables.OutboxEvent.payload).order_by(tables.OutboxEvent.id))
        ]
    trades, order_update, balances_after = payloads[0], payloads[1], payloads[2:]
    assert kinds == ["trade", "order", "balance", "balance"]  # the fills in one event; a balance per asset
    fill_ids = [(f.id, f.ticket_id) for f in fills(db)]
    assert trades == [
        {
            "id": fill_id,
            "ticketId": ticket_id,
            "orderId": order.order_id,
            "symbol": "BTCUSDT",
            "side": "BUY",
            "price": price,
            "qty": "1",
            "isMaker": False,
            "commission": "0.0012",
            "commissionAsset": "BTC",
            "time": T0 + 10,
        }
        for (fill_id, ticket_id), price in zip(fill_ids, ["101", "102"], strict=True)
    ]
    assert order_update == {
        "orderId": order.order_id,
        "clientOrderId": "bot-1",
        "symbol": "BTCUSDT",
        "side": "BUY",
        "type": "MARKET",
        "timeInForce": "IOC",
        "price": "0",
        "origQty": "2",
        "reqAmount": "0",
        "executedQty": "2",
        "cumulativeQuoteQty": "203",
        "status": "FILLED",
        "ordCxlReason": "",
        "time": T0 + 10,
        "updateTime": T0 + 10,
    }
    assert balances_after == [
        {"asset": "BTC", "free": "1.9976", "locked": "0"},
        {"asset": "USDT", "free": "797", "locked": "0"},
    ]


def test_a_zero_fee_writes_no_fee_entry(db):
    """VIP 7 makers pay 0 %: the maker's fill shows a commission of 0 and its ledger has no FEE entry, while
    the taker's has one."""
    record(db, BOOK)
    maker, taker = account(db, BTC="1"), account(db, USDT="1000")
    with db.write() as session:
        session.get(tables.Account, maker).user.vip_level = 7
    resting_sell = {"time_in_force": TimeInForce.GTC, "price": D("100.5"), "quantity": D("1")}
    place(db, T0 + 10, maker, Side.SELL, OrderType.LIMIT, **resting_sell)
    place(db, T0 + 20, taker, Side.BUY, OrderType.MARKET, quantity=D("1"))

    maker_fill = next(f for f in fills(db) if f.is_maker)
    assert (maker_fill.price, maker_fill.fee_amount) == (D("100.5"), D("0"))
    assert [e for e in ledger(db, maker) if e[1] == 2] == []  # no FEE entry
    assert [e[2] for e in ledger(db, taker) if e[1] == 2] == [D("-0.0012")]  # the taker's 0.12 %, in BTC


def test_an_order_that_fills_nothing_touches_no_balance_it_does_not_lock(db):
    """A LIMIT buy that rests and an IOC buy that expires unfilled: no BTC balance appears for an account
    that never held any, and the streams hear only of the USDT locked and released."""
    record(db, BOOK)
    buyer = account(db, USDT="1000")
    for at, time_in_force in ((T0 + 10, TimeInForce.GTC), (T0 + 20, TimeInForce.IOC)):
        limit = {"time_in_force": time_in_force, "price": D("99.5"), "quantity": D("1")}
        place(db, at, buyer, Side.BUY, OrderType.LIMIT, **limit)

    with db.read() as session:
        assert session.get(tables.Balance, (buyer, "BTC")) is None
        balance_events = session.scalars(
            select(tables.OutboxEvent.payload).where(tables.OutboxEvent.kind == "balance")
        )
        assert {json.loads(payload)["asset"] for payload in balance_events} <= {"USDT"}
    assert [e for e in ledger(db, buyer) if e[1] in (1, 2)] == []


def test_liquidity_taken_from_a_snapshot_stays_taken_until_the_next_snapshot(db):
    record(db, BOOK)
    buyer = account(db, USDT="10000")
    place(db, T0 + 10, buyer, Side.BUY, OrderType.MARKET, quantity=D("2"))
    second = place(db, T0 + 20, buyer, Side.BUY, OrderType.MARKET, quantity=D("1.5"))
    assert [(f.price, f.qty) for f in fills(db, second.order_id)] == [
        (D("102"), D("1")),
        (D("103"), D("0.5")),
    ]
    record(db, Depth("BTCUSDT", T0 + 1000, BOOK.bids, BOOK.asks))
    third = place(db, T0 + 1010, buyer, Side.BUY, OrderType.MARKET, quantity=D("1"))
    assert [(f.price, f.qty) for f in fills(db, third.order_id)] == [(D("101"), D("1"))]


def test_a_resting_bid_fills_only_when_trades_print_through_it_at_its_limit(db):
    record(
        db,
        BOOK,
        Trade("BTCUSDT", T0 + 100, D("101"), D("3"), False, "1"),
        Trade("BTCUSDT", T0 + 200, D("100.40"), D("0.3"), True, "2"),
        Trade("BTCUSDT", T0 + 300, D("100.00"), D("5"), True, "3"),
    )
    buyer = account(db, USDT="1000")
    order = place(db, T0 + 10, buyer, Side.BUY, OrderType.LIMIT, price=D("100.50"), quantity=D("1"))
    assert order.status is OrderStatus.NEW
    assert balance(db, buyer, "USDT") == (D("899.5"), D("100.5"))
    advance(db, T0 + 150)
    assert fills(db) == []
    advance(db, T0 + 250)
    assert [(f.price, f.qty, f.is_maker, f.time) for f in fills(db)] == [(D("100.50"), D("0.3"), 1, T0 + 200)]
    advance(db, T0 + 400)
    assert [(f.qty, f.time) for f in fills(db)][1:] == [(D("0.7"), T0 + 300)]
    with db.read() as session:
        row = session.get(tables.Order, order.order_id)
        assert (row.status, row.resting, row.locked_left) == ("FILLED", 0, D("0"))
        updates = session.scalars(
            select(tables.OutboxEvent.payload).where(tables.OutboxEvent.kind == "order")
        )
        assert [json.loads(u)["status"] for u in updates] == ["NEW", "PARTIALLY_FILLED", "FILLED"]
    assert balance(db, buyer, "USDT") == (D("899.5"), D("0"))
    assert balance(db, buyer, "BTC")[0] == D("1") - D("0.0012")  # maker rate of the fixture tier


def test_each_fill_of_a_resting_order_reaches_the_outbox_before_the_update_it_led_to(db):
    record(
        db,
        BOOK,
        Trade("BTCUSDT", T0 + 200, D("100.40"), D("0.3"), True, "2"),
        Trade("BTCUSDT", T0 + 300, D("100.00"), D("5"), True, "3"),
    )
    buyer = account(db, USDT="1000")
    place(db, T0 + 10, buyer, Side.BUY, OrderType.LIMIT, price=D("100.50"), quantity=D("1"))
    advance(db, T0 + 400)  # both prints in one transaction
    with db.read() as session:
        events = session.execute(
            select(tables.OutboxEvent.kind, tables.OutboxEvent.payload)
            .where(tables.OutboxEvent.account_id == buyer, tables.OutboxEvent.kind != "balance")
            .order_by(tables.OutboxEvent.id)
        ).all()
    shown = [
        (kind, [t["qty"] for t in json.loads(p)] if kind == "trade" else json.loads(p)["status"])
        for kind, p in events
    ]
    assert shown == [
        ("order", "NEW"),
        ("trade", ["0.3"]),
        ("order", "PARTIALLY_FILLED"),
        ("trade", ["0.7"]),
        ("order", "FILLED"),
    ]
    with db.read() as session:
        balance_times = session.scalars(
            select(tables.OutboxEvent.time).where(
                tables.OutboxEvent.account_id == buyer, tables.OutboxEvent.kind == "balance"
            )
        ).all()
    assert balance_times[-2:] == [T0 + 300, T0 + 300]  # the catch-up's BTC and USDT: its later fill's time
    updates = [json.loads(p) for kind, p in events if kind == "order"]
    assert [(u["time"], u["updateTime"], u["price"], u["origQty"]) for u in updates] == [
        (T0 + 10, T0 + 10, "100.50", "1"),
        (T0 + 10, T0 + 200, "100.50", "1"),
        (T0 + 10, T0 + 300, "100.50", "1"),
    ]


def test_bots_trade_with_each_other_under_one_ticket(db):
    record(db, BOOK)
    seller = account(db, BTC="1")
    buyer = account(db, USDT="1000")
    ask = place(db, T0 + 10, seller, Side.SELL, OrderType.LIMIT, price=D("100.80"), quantity=D("0.5"))
    bid = place(db, T0 + 20, buyer, Side.BUY, OrderType.LIMIT, price=D("101"), quantity=D("1"))
    assert bid.status is OrderStatus.FILLED
    taker_fills = fills(db, bid.order_id)
    (maker_fill,) = fills(db, ask.order_id)
    assert [(f.price, f.qty) for f in taker_fills] == [(D("100.80"), D("0.5")), (D("101"), D("0.5"))]
    assert maker_fill.ticket_id == taker_fills[0].ticket_id
    assert (maker_fill.counter_order_id, taker_fills[0].counter_order_id) == (bid.order_id, ask.order_id)
    assert (maker_fill.is_maker, maker_fill.fee_asset, maker_fill.fee_amount) == (1, "USDT", D("0.060480"))
    assert balance(db, seller, "USDT") == (D("50.40") - D("0.06048"), D("0"))
    assert balance(db, seller, "BTC") == (D("0.5"), D("0"))
    # the buy locked 101 x 1, paid 100.90, and got the rest back when it filled
    assert balance(db, buyer, "USDT") == (D("1000") - D("100.90"), D("0"))


@pytest.mark.parametrize(
    ("mode", "taker_status", "maker_status"),
    [
        (StpMode.EXPIRE_TAKER, OrderStatus.CANCELED, OrderStatus.NEW),
        (StpMode.EXPIRE_MAKER, OrderStatus.FILLED, OrderStatus.CANCELED),
    ],
)
def test_self_trade_prevention(db, mode, taker_status, maker_status):
    record(db, BOOK)
    bot = account(db, BTC="1", USDT="1000")
    ask = place(db, T0 + 10, bot, Side.SELL, OrderType.LIMIT, price=D("100.80"), quantity=D("0.5"))
    bid = place(db, T0 + 20, bot, Side.BUY, OrderType.LIMIT, price=D("101"), quantity=D("1"), stp_mode=mode)
    with db.read() as session:
        maker = session.get(tables.Order, ask.order_id)
    assert (bid.status, maker.status) == (taker_status, maker_status.value)
    expired = bid if mode is StpMode.EXPIRE_TAKER else maker
    assert str(expired.cancel_reason) == CancelReason.SELF_TRADE_CANCEL.value
    assert fills(db, ask.order_id) == []
    assert balance(db, bot, "BTC")[1] == (D("0.5") if mode is StpMode.EXPIRE_TAKER else D("0"))


def test_an_order_the_balance_cannot_cover_changes_nothing(db):
    record(db, BOOK)
    poor = account(db, USDT="50")
    with pytest.raises(errors.InsufficientAsset):
        place(db, T0 + 10, poor, Side.BUY, OrderType.LIMIT, price=D("100"), quantity=D("1"))
    with pytest.raises(errors.InsufficientAsset):
        place(db, T0 + 10, poor, Side.BUY, OrderType.MARKET, quantity=D("1"))
    with db.read() as session:
        assert session.scalar(select(func.count()).select_from(tables.Order)) == 0
    assert balance(db, poor, "USDT") == (D("50"), D("0"))
    assert fills(db) == []


def test_cancel_returns_the_funds_and_a_second_cancel_is_refused(db):
    record(db, BOOK)
    buyer = account(db, USDT="1000")
    order = place(db, T0 + 10, buyer, Side.BUY, OrderType.LIMIT, price=D("90"), quantity=D("1"))
    with db.write() as session:
        cancelled = trading.cancel_order(session, buyer, order.order_id, T0 + 20, ENGINE)
    assert (cancelled.status, cancelled.cancel_reason) == (OrderStatus.CANCELED, CancelReason.USER_CANCEL)
    assert balance(db, buyer, "USDT") == (D("1000"), D("0"))
    with pytest.raises(errors.OrderCanceled), db.write() as session:
        trading.cancel_order(session, buyer, order.order_id, T0 + 30, ENGINE)
    with pytest.raises(errors.OrderNotFound), db.write() as session:
        trading.cancel_order(session, buyer, "1", T0 + 30, ENGINE)


def outbox_events(database: Database, account_id: str) -> list[tuple[str, dict]]:
    with database.read() as session:
        rows = session.execute(
            select(tables.OutboxEvent.kind, tables.OutboxEvent.payload)
            .where(tables.OutboxEvent.account_id == account_id)
            .order_by(tables.OutboxEvent.id)
        ).all()
    return [(kind, json.loads(payload)) for kind, payload in rows]


def test_fills_no_order_update_follows_are_one_trade_event_written_at_the_commit(db):
    """An order's fills wait for its next update to be written before it; with none in the transaction they
    are still written, once, when it commits."""
    trader = account(db, USDT="1")

    def fill(n: int) -> dict:
        return {
            "id": f"f{n}",
            "ticket_id": f"t{n}",
            "order_id": "o1",
            "symbol": "BTCUSDT",
            "side": "SELL",
            "price": D("100"),
            "qty": D(n),
            "is_maker": 1,
            "fee_asset": "USDT",
            "fee_amount": D("0.1"),
            "time": T0 + n,
        }

    with db.write() as session:
        outbox.trade(session, trader, fill(1))
        outbox.trade(session, trader, fill(2))
    with db.write() as session:
        outbox.trade(session, trader, fill(3))

    assert [(kind, [t["id"] for t in payload]) for kind, payload in outbox_events(db, trader)] == [
        ("trade", ["f1", "f2"]),
        ("trade", ["f3"]),
    ]


def test_locking_and_releasing_funds_announce_the_balance_to_the_streams(db):
    """What an order locks, and a cancel gives back, moves the balance between free and locked: the streams
    hear of it as they hear of fills, the balance as the transaction left it."""
    record(db, BOOK)
    buyer = account(db, USDT="1000")
    order = place(db, T0 + 10, buyer, Side.BUY, OrderType.LIMIT, price=D("90"), quantity=D("1"))
    placed = outbox_events(db, buyer)
    with db.write() as session:
        trading.cancel_order(session, buyer, order.order_id, T0 + 20, ENGINE)

    assert [(kind, p.get("status")) for kind, p in placed] == [("order", "NEW"), ("balance", None)]
    assert placed[1][1] == {"asset": "USDT", "free": "910", "locked": "90"}
    cancelled = outbox_events(db, buyer)[len(placed) :]
    assert [(kind, p.get("status")) for kind, p in cancelled] == [("order", "CANCELED"), ("balance", None)]
    assert cancelled[1][1] == {"asset": "USDT", "free": "1000", "locked": "0"}


def test_an_order_that_locks_and_releases_the_same_funds_announces_no_balance(db):
    """An IOC that fills nothing locks its cost and gives it back in one transaction: the balance ends where
    it was, and the streams hear only of the order."""
    record(db, BOOK)
    buyer = account(db, USDT="1000")
    order = place(
        db, T0 + 10, buyer, Side.BUY, OrderType.LIMIT, price=D("90"), quantity=D("1"),
        time_in_force=TimeInForce.IOC,
    )  # fmt: skip

    assert order.status is OrderStatus.CANCELED
    assert [kind for kind, _ in outbox_events(db, buyer)] == ["order"]


def test_a_balance_a_fill_changed_while_catching_up_is_announced_though_an_ioc_gives_back_its_lock(db):
    """A print fills a resting sell while the market catches up for an IOC that then fills nothing: the
    transaction leaves USDT changed (the sale's proceeds) though the IOC locked and released the same
    amount, so USDT is announced (it was judged by the balance the IOC's lock found, after the sale)."""
    record(db, BOOK, Trade("BTCUSDT", T0 + 100, D("101.5"), D("1"), False, "1"))
    trader = account(db, USDT="1000", BTC="1")
    place(db, T0 + 10, trader, Side.SELL, OrderType.LIMIT, price=D("101"), quantity=D("1"))
    place(
        db, T0 + 200, trader, Side.BUY, OrderType.LIMIT, price=D("90"), quantity=D("1"),
        time_in_force=TimeInForce.IOC,
    )  # fmt: skip

    after = [(kind, payload) for kind, payload in outbox_events(db, trader) if kind == "balance"][-2:]
    free, _ = balance(db, trader, "USDT")
    assert free > D("1000")
    assert {p["asset"]: p["free"] for _, p in after} == {"BTC": "0", "USDT": format(free.normalize(), "f")}


def test_limit_maker_that_would_take_is_rejected_and_locks_nothing(db):
    record(db, BOOK)
    buyer = account(db, USDT="1000")
    order = place(db, T0 + 10, buyer, Side.BUY, OrderType.LIMIT_MAKER, price=D("101"), quantity=D("1"))
    assert order.status is OrderStatus.REJECTED
    assert balance(db, buyer, "USDT") == (D("1000"), D("0"))


def scenario(database: Database) -> list[tuple]:
    record(
        database,
        BOOK,
        Trade("BTCUSDT", T0 + 100, D("99.5"), D("0.4"), True, "1"),
        Depth("BTCUSDT", T0 + 500, ((D("98"), D("1")),), ((D("99"), D("1")),)),
    )
    a, b = account(database, USDT="5000", BTC="2"), account(database, USDT="5000", BTC="2")
    place(database, T0 + 10, a, Side.BUY, OrderType.LIMIT, price=D("100"), quantity=D("0.7"))
    place(database, T0 + 20, b, Side.SELL, OrderType.LIMIT, price=D("99.90"), quantity=D("0.2"))
    place(database, T0 + 30, b, Side.BUY, OrderType.MARKET, amount=D("250"))
    advance(database, T0 + 1000)
    return [(f.id, f.ticket_id, f.order_id, f.price, f.qty, f.fee_amount, f.time) for f in fills(database)]


def test_same_recording_and_requests_give_identical_fills_ids_and_times(tmp_path):
    runs = []
    for name in ("one", "two"):
        database = open_database(f"sqlite:///{tmp_path / name}.db")
        ensure_seeded(database, FIXTURES, 0)
        runs.append(scenario(database))
        database.dispose()
    assert runs[0] == runs[1]
    assert len(runs[0]) >= 4


def test_the_maker_pays_the_maker_rate_and_the_taker_the_taker_rate(db):
    with db.write() as session:
        tier = session.get(tables.FeeTier, 0)
        definition = json.loads(tier.definition)
        definition["symbols"]["BTCUSDT"] = {"makerFeeRate": "0.001", "takerFeeRate": "0.002"}
        tier.definition = json.dumps(definition)
    record(db, BOOK)
    seller, buyer = account(db, BTC="1"), account(db, USDT="1000")
    ask = place(db, T0 + 10, seller, Side.SELL, OrderType.LIMIT, price=D("100.80"), quantity=D("0.5"))
    bid = place(db, T0 + 20, buyer, Side.BUY, OrderType.LIMIT, price=D("100.80"), quantity=D("0.5"))
    ((maker,), (taker,)) = fills(db, ask.order_id), fills(db, bid.order_id)
    assert (maker.fee_asset, maker.fee_amount) == ("USDT", D("0.0504"))  # 50.40 x 0.001, in quote
    assert (taker.fee_asset, taker.fee_amount) == ("BTC", D("0.001"))  # 0.5 x 0.002, in base


def test_concurrent_advances_apply_each_event_once(db):
    record(db, BOOK, Trade("BTCUSDT", T0 + 200, D("99"), D("0.4"), True, "1"))  # fills 0.4 of 1, once
    buyer = account(db, USDT="1000")
    order = place(db, T0 + 10, buyer, Side.BUY, OrderType.LIMIT, price=D("99.50"), quantity=D("1"))
    start = threading.Barrier(4)

    def advance_after_the_barrier() -> None:
        start.wait()
        advance(db, T0 + 1000)

    workers = [threading.Thread(target=advance_after_the_barrier) for _ in range(4)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join(timeout=30)
    assert [(f.qty, f.time) for f in fills(db, order.order_id)] == [(D("0.4"), T0 + 200)]


def test_a_takers_last_fill_is_the_symbols_last_trade(db):
    """With no recorded print, the engine's own last trade is the symbol's: that of the walk's last level."""
    record(db, BOOK)
    buyer = account(db, USDT="1000")
    place(db, T0 + 10, buyer, Side.BUY, OrderType.MARKET, quantity=D("2"), time_in_force=TimeInForce.IOC)

    with db.read() as session:
        assert trading.last_trade_price(session, "BTCUSDT", T0 + 10, ENGINE) == D("102")


def test_a_recorded_print_after_the_takers_fill_is_the_last_trade_however_long_ago(db):
    """Nothing rests, so the print at T0+20 s fills nothing; it is still the symbol's last trade, two
    minutes later, though the recording's prints are otherwise looked for a minute back only."""
    record(db, BOOK, Trade("BTCUSDT", T0 + 20_000, D("99.5"), D("1"), True, "1"))
    buyer = account(db, USDT="1000")
    place(db, T0 + 10, buyer, Side.BUY, OrderType.MARKET, quantity=D("2"), time_in_force=TimeInForce.IOC)

    with db.read() as session:
        assert trading.last_trade_price(session, "BTCUSDT", T0 + 120_000, ENGINE) == D("99.5")


def test_the_recordings_print_at_now_is_the_last_trade_and_one_a_millisecond_later_is_not(db):
    record(
        db,
        Trade("BTCUSDT", T0 + 1000, D("99"), D("1"), True, "1"),
        Trade("BTCUSDT", T0 + 2000, D("98"), D("1"), True, "2"),
    )

    with db.read() as session:
        assert trading.last_trade_price(session, "BTCUSDT", T0 + 1999, ENGINE) == D("99")
        assert trading.last_trade_price(session, "BTCUSDT", T0 + 2000, ENGINE) == D("98")


def test_an_order_resting_at_a_recorded_price_queues_behind_the_size_shown_there(db):
    """The bid joins the 1 shown at 100: prints at 100 trade that size first, then fill the order."""
    record(
        db,
        BOOK,
        Trade("BTCUSDT", T0 + 100, D("100"), D("0.6"), True, "1"),
        Trade("BTCUSDT", T0 + 200, D("100"), D("0.6"), True, "2"),
    )
    buyer = account(db, USDT="1000")
    order = place(db, T0 + 10, buyer, Side.BUY, OrderType.LIMIT, price=D("100"), quantity=D("0.5"))

    advance(db, T0 + 150)
    assert fills(db, order.order_id) == []  # 0.4 of the 1 still ahead
    advance(db, T0 + 250)
    assert [(f.price, f.qty) for f in fills(db, order.order_id)] == [(D("100"), D("0.2"))]


def test_a_bar_moves_no_queue_and_catching_up_past_the_recordings_end_leaves_orders_resting(db):
    """The bid queues behind the 1 shown at 100; a bar over 100.5 to 101 reaches neither it nor its queue.
    Ten minutes past the last recorded event (empty minutes, and no event after them) it still rests,
    with its place in the queue."""
    bar = Kline(
        "BTCUSDT", "1m", T0 + 60_000, T0 + 119_999, D("101"), D("101"), D("100.5"), D("100.5"), D("3")
    )
    record(db, BOOK, bar)
    buyer = account(db, USDT="1000")
    order = place(db, T0 + 10, buyer, Side.BUY, OrderType.LIMIT, price=D("100"), quantity=D("0.5"))

    advance(db, T0 + 720_000)

    with db.read() as session:
        row = session.get(tables.Order, order.order_id)
        assert (row.status, row.queue_ahead, row.queue_ms) == ("NEW", D("1"), None)
    assert fills(db, order.order_id) == []


def test_a_cancel_first_applies_the_market_up_to_its_time(db):
    """A print through the bid before the cancel fills it: the cancel finds it filled."""
    record(db, BOOK, Trade("BTCUSDT", T0 + 100, D("100.20"), D("1"), True, "1"))
    buyer = account(db, USDT="1000")
    order = place(db, T0 + 10, buyer, Side.BUY, OrderType.LIMIT, price=D("100.50"), quantity=D("0.5"))

    with pytest.raises(errors.OrderFilled), db.write() as session:
        trading.cancel_order(session, buyer, order.order_id, T0 + 200, ENGINE)
    advance(db, T0 + 200)  # the refused cancel wrote nothing: the fill is the market's to apply again
    assert [(f.price, f.qty, f.time) for f in fills(db, order.order_id)] == [
        (D("100.50"), D("0.5"), T0 + 100)
    ]
