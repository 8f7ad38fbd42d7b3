"""Property: whatever orders two bots send against a recorded book and tape, the books balance — every
balance equals its opening amount plus its ledger entries, locked funds are exactly what open orders hold,
nothing goes negative, and trades between the bots move value from one to the other without creating any."""

from __future__ import annotations

import tempfile
from collections import defaultdict
from decimal import Decimal as D
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import select

from simulator import errors
from simulator.domain.matching.model import FillModel
from simulator.domain.matching.orders import OrderType, Side, TimeInForce
from simulator.marketdata.records import Depth, Trade
from simulator.marketdata.writer import StoreWriter, source_id
from simulator.services import trading
from simulator.services.accounts import NewAccount, create_account
from simulator.storage import tables
from simulator.storage.db import open_database
from simulator.storage.seed import ensure_seeded

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures"
T0 = 1_700_000_000_000
OPENING = {"USDT": D("1000"), "BTC": D("5")}
BOOK = Depth("BTCUSDT", T0, ((D("100"), D("1")), (D("99"), D("3"))), ((D("101"), D("1")), (D("102"), D("3"))))

orders = st.lists(
    st.tuples(
        st.integers(0, 1),  # which bot
        st.sampled_from(Side),
        st.sampled_from([OrderType.LIMIT, OrderType.MARKET, OrderType.LIMIT_MAKER]),
        st.sampled_from(TimeInForce),
        st.integers(9_800, 10_300).map(lambda cents: D(cents) / 100),
        st.integers(1, 300).map(lambda hundredths: D(hundredths) / 100),
        st.sampled_from([None, 0, 30, 250]),  # cancel it this many ms later (None: never)
    ),
    min_size=1,
    max_size=8,
)
tape = st.lists(
    st.tuples(
        st.integers(9_800, 10_300).map(lambda c: D(c) / 100), st.integers(1, 200).map(lambda q: D(q) / 100)
    ),
    max_size=6,
)


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(orders=orders, tape=tape, latency=st.sampled_from([0, 40]))
def test_balances_ledger_and_locks_always_reconcile(orders, tape, latency):
    with tempfile.TemporaryDirectory() as folder:
        database = open_database(f"sqlite:///{Path(folder) / 'p.db'}")
        try:
            ensure_seeded(database, FIXTURES, 0)
            run(database, orders, tape, trading.Engine(FillModel(order_latency_ms=latency)))
            check(database)
        finally:
            database.dispose()


def run(database, orders, tape, engine) -> None:
    trades = [Trade("BTCUSDT", T0 + 1000 + 100 * n, p, q, True, str(n)) for n, (p, q) in enumerate(tape)]
    with database.engine.begin() as connection:
        writer = StoreWriter(connection, source_id(connection, "test", "p"), "test")
        for r in (BOOK, *trades):
            writer.add(r)
        writer.flush()
    with database.write() as session:
        bots = [create_account(session, NewAccount(balances=OPENING), T0).accounts[0].id for _ in range(2)]
    # (time, what, n): order n is placed at T0 + 10 + 100n, and cancelled `cancel_after` ms later
    place, cancel = 0, 1  # at one time, placing comes first
    steps = sorted(
        [(T0 + 10 + 100 * n, place, n) for n in range(len(orders))]
        + [(T0 + 10 + 100 * n + o[-1], cancel, n) for n, o in enumerate(orders) if o[-1] is not None]
    )
    placed: dict[int, tuple[str, str]] = {}
    for at, what, n in steps:
        bot, side, type_, tif, price, qty, _ = orders[n]
        try:
            with database.write() as session:
                if what == place:
                    new = trading.NewOrder(
                        bots[bot],
                        "BTCUSDT",
                        side,
                        type_,
                        tif if type_ is OrderType.LIMIT else TimeInForce.GTC,
                        price=None if type_ is OrderType.MARKET else price,
                        quantity=qty,
                    )
                    placed[n] = (bots[bot], trading.place_order(session, new, at, engine).order_id)
                elif n in placed:
                    trading.cancel_order(session, *placed[n], at, engine)
        except (errors.InsufficientAsset, errors.OrderFilled, errors.OrderCanceled):
            pass
    with database.write() as session:
        trading.advance_symbol(session, "BTCUSDT", T0 + 5000, engine)


def check(database) -> None:
    with database.read() as session:
        balances = list(session.scalars(select(tables.Balance)))
        ledger = defaultdict(D)
        entries = session.scalars(select(tables.LedgerEntry).order_by(tables.LedgerEntry.id))
        for entry in entries:  # each entry's total is the balance after it: the last total plus its change
            ledger[(entry.account_id, entry.asset)] += entry.change
            assert entry.total == ledger[(entry.account_id, entry.asset)], entry.id
        held = defaultdict(D)
        for order in session.scalars(select(tables.Order)):
            held[(order.account_id, order.locked_asset)] += order.locked_left
            assert order.match_ms is None and order.cancel_ms is None  # everything sent has arrived
            if order.status not in ("NEW", "PARTIALLY_FILLED"):
                assert order.locked_left == 0 and order.resting == 0
        internal = defaultdict(D)
        for fill in session.scalars(select(tables.Fill).where(tables.Fill.counter_order_id.is_not(None))):
            sign = 1 if fill.side == "BUY" else -1
            internal["BTC"] += sign * fill.qty
            internal["USDT"] -= sign * fill.quote
    for b in balances:
        assert b.free >= 0 and b.locked >= 0
        assert b.free + b.locked == ledger[(b.account_id, b.asset)]  # opening credits are ledger entries too
        assert b.locked == held[(b.account_id, b.asset)]
    assert all(value == 0 for value in internal.values())
