"""Property: an order latency delays requests without reordering them. Against a book that stays as it is,
requests of several accounts received within a few milliseconds end, once they have all reached the
matcher, exactly as they end matched on receipt: same order outcomes, fills and balances. (What may differ
legitimately is left out: times, ids — a delayed cancel draws one — and checks made at receipt, which the
ample balances and the absence of LIMIT_MAKER orders keep from deciding anything.)"""

from __future__ import annotations

import shutil
import tempfile
from decimal import Decimal as D
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import select

from simulator import errors
from simulator.domain.matching.model import FillModel
from simulator.domain.matching.orders import OrderType, Side, StpMode, TimeInForce
from simulator.marketdata.records import Depth
from simulator.marketdata.writer import StoreWriter, source_id
from simulator.services import trading
from simulator.services.accounts import NewAccount, create_account
from simulator.storage import tables
from simulator.storage.db import open_database
from simulator.storage.seed import ensure_seeded

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures"
T0 = 1_700_000_000_000
RECEIVED = T0 + 1_000  # requests are received from here, a millisecond or two apart
BOOK = Depth(
    "BTCUSDT",
    T0,
    bids=((D("100.00"), D("0.5")), (D("99.90"), D("1")), (D("99.50"), D("2"))),
    asks=((D("100.50"), D("0.5")), (D("100.60"), D("1")), (D("101.00"), D("2"))),
)
STATIC = 10**9  # the snapshot never goes stale: the book is the same at receipt and at arrival
OPENING = {"USDT": D("1000000"), "BTC": D("1000")}
PRICES = [
    D(p) for p in ("99.50", "99.90", "100.00", "100.20", "100.25", "100.40", "100.50", "100.60", "101.00")
]

place = st.tuples(
    st.just("place"),
    st.integers(0, 2),  # which account
    st.sampled_from(Side),
    st.sampled_from(["GTC", "IOC", "FOK", "MARKET"]),
    st.sampled_from(PRICES),  # inside the spread too, so the accounts' orders meet each other
    st.sampled_from([D("0.1"), D("0.3"), D("0.5"), D("1")]),
    st.sampled_from(StpMode),
)
cancel = st.tuples(st.just("cancel"), st.integers(0, 20))  # the n-th order placed so far (modulo)
requests = st.lists(st.tuples(st.integers(0, 2), st.one_of(place, cancel)), min_size=2, max_size=10)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(requests=requests, latency=st.sampled_from([1, 3, 100]))
def test_requests_end_as_without_a_latency_once_they_reach_the_matcher(requests, latency):
    ordered = sorted(requests, key=lambda request: request[0])  # by receipt time, stable within one ms
    with tempfile.TemporaryDirectory() as folder:
        template = Path(folder) / "template.db"
        seeded(template)
        matched_on_receipt = outcome(template, Path(folder) / "now.db", ordered, 0)
        delayed = outcome(template, Path(folder) / "later.db", ordered, latency)
    assert delayed == matched_on_receipt


def seeded(path: Path) -> None:
    database = open_database(f"sqlite:///{path}")
    try:
        ensure_seeded(database, FIXTURES, 0)
        with database.engine.begin() as connection:
            writer = StoreWriter(connection, source_id(connection, "test", "latency"), "test")
            writer.add(BOOK)
            writer.flush()
    finally:
        database.dispose()


def outcome(template: Path, path: Path, requests, latency: int) -> dict:
    """The requests run on a copy of `template` with `latency`, the market then moved past them all:
    each order's end (in placing order), its fills, and every balance."""
    shutil.copy(template, path)
    database = open_database(f"sqlite:///{path}")
    engine = trading.Engine(
        FillModel(order_latency_ms=latency, depth_staleness_ms=STATIC, bbo_staleness_ms=STATIC)
    )
    try:
        with database.write() as session:
            accounts = [
                create_account(session, NewAccount(balances=OPENING), T0).accounts[0].id for _ in range(3)
            ]
        placed: list[tuple[str, str]] = []
        for offset, request in requests:
            with database.write() as session:
                receive(session, request, RECEIVED + offset, accounts, placed, engine)
        with database.write() as session:
            trading.advance_symbol(session, "BTCUSDT", RECEIVED + 2 + latency + 1, engine)
        return final_state(database, accounts, [order_id for _, order_id in placed])
    finally:
        database.dispose()


def receive(session, request, at: int, accounts: list[str], placed: list[tuple[str, str]], engine) -> None:
    if request[0] == "cancel":
        if placed:
            try:
                trading.cancel_order(session, *placed[request[1] % len(placed)], at, engine)
            except (errors.OrderFilled, errors.OrderCanceled):  # refused on receipt without a latency
                pass
        return
    _, account, side, kind, price, quantity, stp = request
    market = kind == "MARKET"
    new = trading.NewOrder(
        accounts[account],
        "BTCUSDT",
        side,
        OrderType.MARKET if market else OrderType.LIMIT,
        TimeInForce.IOC if market else TimeInForce[kind],
        price=None if market else price,
        quantity=quantity,
        stp_mode=stp,
    )
    placed.append((accounts[account], trading.place_order(session, new, at, engine).order_id))


def final_state(database, accounts: list[str], order_ids: list[str]) -> dict:
    with database.read() as session:
        orders = [session.get(tables.Order, order_id) for order_id in order_ids]
        placing = {order_id: n for n, order_id in enumerate(order_ids)}
        fills = session.scalars(select(tables.Fill).order_by(tables.Fill.id))
        balances = session.scalars(
            select(tables.Balance).order_by(tables.Balance.account_id, tables.Balance.asset)
        )
        return {
            "orders": [
                (o.status, o.cancel_reason, o.executed_qty, o.executed_quote, o.resting, o.locked_left)
                for o in orders
            ],
            "fills": sorted(
                (
                    placing[f.order_id],
                    f.price,
                    f.qty,
                    f.is_maker,
                    f.fee_amount,
                    placing.get(f.counter_order_id, -1),
                )
                for f in fills
            ),
            "balances": [(accounts.index(b.account_id), b.asset, b.free, b.locked) for b in balances],
        }
