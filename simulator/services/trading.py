"""Placing, cancelling and filling orders: the engine's rules (domain/matching) applied to the database.

Every entry point runs in the caller's write transaction and first locks the symbol's SymbolState row, so
matching of one symbol is serialised across threads and processes. Before an order is matched or cancelled
the symbol is brought up to the market time (resting orders fill on the recording up to now first). Fills,
balance changes with their ledger entries, and outbox events of a match are written in that transaction.

An order's funds (what it locks, pays from the lock and gives back) are `services.funds`; the events for the
streams, `services.outbox`.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, replace
from decimal import Decimal
from operator import itemgetter
from typing import Any, NamedTuple, TypeVar

from sqlalchemy import and_, bindparam, exists, func, or_, select, update
from sqlalchemy.orm import Session

from simulator import errors
from simulator.domain.accounts import FlowType
from simulator.domain.clock import ClockError
from simulator.domain.matching.fees import fee_on_top, fill_fee
from simulator.domain.matching.liquidity import (
    RecordedBook,
    Source,
    Taken,
    depth_serves,
    less_crossed,
    less_taken,
    mark_price,
    recorded_book,
)
from simulator.domain.matching.model import FillModel
from simulator.domain.matching.orders import (
    ZERO,
    CancelReason,
    Event,
    Order,
    OrderStatus,
    OrderType,
    Side,
    StpMode,
    TimeInForce,
)
from simulator.domain.matching.resting import MakerFill, RestingBook, queue_on_rest, taken_by_depth_fills
from simulator.domain.matching.taking import Fill, TakeLimits, take
from simulator.domain.quotes import Print, last_traded_price, on_tick
from simulator.domain.timeline import Segment, Timeline
from simulator.marketdata import store
from simulator.marketdata.events import RANK_BAR, RANK_DEPTH, RANK_TRADE, MarketEvent, events_between
from simulator.marketdata.records import Kline
from simulator.services import funds, outbox
from simulator.services import taken as taken_liquidity
from simulator.services.accounts import change_balance
from simulator.services.instruments import InstrumentRules, instrument_rules
from simulator.storage import pending, statements, tables
from simulator.storage.db import locked
from simulator.storage.ids import next_id
from simulator.storage.records import OrderRecord, SymbolStateRecord
from simulator.storage.transaction import transaction_cache, transaction_cached
from simulator.storage.types import price_key

LAST_PRICE_LOOKBACK_MS = 60_000  # the mark price falls back to the last trade within this window
EVENT_WINDOW_MS = 60_000  # recorded events are read a market minute at a time
T = TypeVar("T")


@dataclass(frozen=True)
class Engine:
    """What the engine runs with: the fill model and how market time maps onto the recording."""

    model: FillModel = FillModel()
    timeline: Timeline = Timeline.identity()


@dataclass(frozen=True)
class NewOrder:
    account_id: str
    symbol: str
    side: Side
    type: OrderType
    time_in_force: TimeInForce = TimeInForce.GTC
    price: Decimal | None = None
    quantity: Decimal | None = None
    amount: Decimal | None = None  # quote, for a MARKET order by amount
    client_order_id: str | None = None
    stp_mode: StpMode = StpMode.EXPIRE_TAKER
    order_id: str | None = None  # drawn by a caller that needs it first (services.orders); else here


# ---- entry points -----------------------------------------------------------------------------------


def place_order(session: Session, new: NewOrder, now_ms: int, engine: Engine) -> Order:
    """Receive `new` at market time `now_ms` and persist it; raises InsufficientAsset (nothing written).

    Without an order latency the order is matched now. With one it is acknowledged as NEW with its
    up-front funds locked, and matched when the market reaches now + latency (see `advance_symbols`)."""
    rules = instrument_rules(session, new.symbol)
    advance_symbols(session, (new.symbol,), now_ms, engine)
    state = _lock_symbol(session, new.symbol, now_ms)
    resting = _RestingRows(session, new.symbol)
    order = _received(session, new, now_ms)
    latency = engine.model.order_latency_ms
    upfront = funds.upfront_lock(session, order, rules)
    if upfront is None and latency > 0:  # matched later against another book: lock what this one costs
        upfront = _estimated_lock(session, rules, state, order, resting, now_ms, engine)
    if upfront is not None:
        funds.require_free(session, order.account_id, *upfront)
    facing = resting.facing(order)  # before the order is written: the read need not wait for that write
    row = _insert_order(session, order, new.client_order_id, upfront)
    if upfront is not None:
        funds.move_to_locked(session, order.account_id, *upfront, now_ms)
    if latency > 0:
        order.apply(Event.ACCEPT, now_ms)
        _store_order(row, order)
        row.match_ms = now_ms + latency
        outbox.order_update(session, row)
        return order
    return _match(session, rules, state, row, order, facing, now_ms, engine, arriving=False)


def cancel_order(session: Session, account_id: str, order_id: str, now_ms: int, engine: Engine) -> Order:
    """Cancel a working order of `account_id` (after the market caught up to now: fills come first).

    With an order latency the cancel is a request: the order is PENDING_CANCEL, still fills, and ends when
    the market reaches now + latency. Asking again for a PENDING_CANCEL order changes nothing."""
    row = order_row(session, order_id)
    if row is None or row.account_id != account_id:
        raise errors.OrderNotFound()
    advance_symbols(session, (row.symbol,), now_ms, engine)
    order = _to_domain(row)
    if order.status is OrderStatus.FILLED:
        raise errors.OrderFilled()
    if order.is_final:
        raise errors.OrderCanceled()
    if order.status is OrderStatus.PENDING_CANCEL:
        return order
    latency = engine.model.order_latency_ms
    if latency > 0:
        order.apply(Event.REQUEST_CANCEL, now_ms)
        row.cancel_ms = now_ms + latency
        row.cancel_sequence = int(next_id(session))
        _store_order(row, order)
        outbox.order_update(session, row)
        return order
    order.apply(Event.CANCEL, now_ms, CancelReason.USER_CANCEL)
    _finish(session, row, order)
    return order


def advance_symbol(session: Session, symbol: str, to_ms: int, engine: Engine) -> None:
    """Apply the symbol's recorded events, and the orders and cancels that reach the matcher, up to market
    time `to_ms`."""
    advance_symbols(session, (symbol,), to_ms, engine)


def advance_symbols(
    session: Session, symbols: Iterable[str], to_ms: int, engine: Engine, behind: list[str] | None = None
) -> None:
    """`advance_symbol` for several symbols at once, in time order across them. When orders or cancels of
    any symbol reach the matcher on the way (an order latency), every symbol behind moves with them: an
    order arriving at t meets the balances every recorded event up to t left, on every symbol, as an order
    placed at t would (an account's balances are shared by all its symbols: brought up to now one after the
    other, an order arriving on one was funded, or refused, by what a later event or order on another had
    done). `behind`: `symbols_behind(session, to_ms)`, when the caller has just read it in this
    transaction."""
    states = _states_behind(session, symbols, to_ms)
    if not states:  # none of them moves, so none moves past what is due on another
        return
    behind = symbols_behind(session, to_ms) if behind is None else behind
    others = [symbol for symbol in behind if symbol not in states]
    due = _due(session, states, to_ms)
    if due or any(_scheduled(session, symbol, to_ms) for symbol in others):
        widened = _states_behind(session, others, to_ms)  # their orders read again, now they are locked
        due = sorted([*due, *_due(session, widened, to_ms)], key=_DUE_ORDER)
        states = dict(sorted({**states, **widened}.items()))
    resting = {symbol: _RestingRows(session, symbol) for symbol in states}
    for at_ms, _, kind, row in due:
        for symbol, state in states.items():  # at one ms the recording first, on every symbol
            _apply_events(session, state, at_ms, engine, resting[symbol])
        state = states[row.symbol]
        if kind == _ARRIVAL:
            _arrive(session, state, row, engine, resting[row.symbol])
        else:
            _cancel_takes_effect(session, row)
        resting[row.symbol].changed()
    for symbol, state in states.items():
        _apply_events(session, state, to_ms, engine, resting[symbol])


def _states_behind(session: Session, symbols: Iterable[str], to_ms: int) -> dict[str, SymbolStateRecord]:
    """The engine states of `symbols` that are behind `to_ms`, locked in name order."""
    states = {symbol: _lock_symbol(session, symbol, to_ms) for symbol in sorted(set(symbols))}
    return {symbol: state for symbol, state in states.items() if state.watermark_ms < to_ms}


def _due(
    session: Session, states: dict[str, SymbolStateRecord], to_ms: int
) -> list[tuple[int, int, int, OrderRecord]]:
    """The orders and cancels of the symbols that reach the matcher by `to_ms`, in the order they happen."""
    due = [item for symbol in states for item in _scheduled(session, symbol, to_ms)]
    return sorted(due, key=_DUE_ORDER)


def symbols_to_advance(session: Session) -> list[str]:
    """Symbols where moving the market changes something: resting orders, or orders and cancels on their
    way to the matcher, found by three index seeks a listed symbol (`_MOVING_SYMBOLS`), not a scan of every
    order ever placed (40 ms at 300,000 orders). A clock step asks; a request asks `symbols_behind`."""
    return list(session.scalars(_MOVING_SYMBOLS))


def _moving(symbol: Any) -> Any:
    """Whether `symbol` (a column) has orders the market moves: resting, or orders and cancels on their
    way to the matcher."""
    order = tables.Order
    return or_(
        exists().where(order.symbol == symbol, order.resting == 1),  # ix_orders_resting
        exists().where(order.symbol == symbol, order.match_ms.is_not(None)),  # ix_orders_arriving
        exists().where(order.symbol == symbol, order.cancel_ms.is_not(None)),  # ix_orders_cancelling
    )


_MOVING_SYMBOLS = (
    select(tables.Instrument.symbol)
    .where(_moving(tables.Instrument.symbol))
    .order_by(tables.Instrument.symbol)
)
_BEHIND = statements.prepare(
    select(tables.SymbolState.symbol)
    .where(tables.SymbolState.watermark_ms < bindparam("now_ms"), _moving(tables.SymbolState.symbol))
    .order_by(tables.SymbolState.symbol)
)


def symbols_behind(session: Session, now_ms: int) -> list[str]:
    """Symbols to advance (`symbols_to_advance`) whose watermark is before `now_ms`, by name. Every order
    asks, in its transaction: the engine's symbol states (one row a symbol it ever traded) behind now, and
    of those the ones with orders the market moves (three index seeks each)."""
    return statements.run(session, _BEHIND, {"now_ms": now_ms}, flush=False).scalars()


def rewind(session: Session, now_ms: int) -> list[str]:
    """The market clock is set back to `now_ms`: each symbol the engine had taken past it applies the
    recording again from there (its watermark moves back; the engine's last trade is the last simulated
    trade printed by then, a taker's or a resting order's filled by a snapshot or a bar, which the
    recording's later prints and bars supersede, `_last_price`). The symbols rewound.

    Not before the newest change of any order (ClockError): its order, fills and balances would be from a
    time still to come, and a resting one would stand in a book it is not yet part of; nor before the last
    event that moved a resting order's queue (its place in the queue would be used up twice). So what
    orders took from snapshots was taken at or before `now_ms`, and stays taken: the snapshot still in force
    shows it gone, and no second order takes it."""
    order = tables.Order
    changes = session.execute(select(func.max(order.updated_ms), func.max(order.queue_ms))).one()
    newest = max((time for time in changes if time is not None), default=None)
    if newest is not None and newest > now_ms:
        raise ClockError(
            f"orders changed up to {newest} ms, after {now_ms}: to replay that stretch with new orders, "
            "start from a fresh copy of the database"
        )
    state = tables.SymbolState.__table__
    rewound = sorted(session.scalars(select(state.c.symbol).where(state.c.watermark_ms > now_ms)))
    for symbol in rewound:
        last = session.execute(_LAST_SIMULATED_TRADE, {"symbol": symbol, "until": now_ms}).first()
        session.execute(
            update(state)
            .where(state.c.symbol == symbol)
            .values(
                watermark_ms=now_ms,
                last_price=None if last is None else last.price,
                last_price_ms=None if last is None else last.time,
            )
        )
    return rewound


_fill = tables.Fill.__table__
# The fills that are their trades' prints on the public tape (see `tables.Fill.printed`).
PRINTED_FILLS = or_(_fill.c.printed != 0, and_(_fill.c.printed.is_(None), _fill.c.is_maker == 0))
# The last simulated trade printed at or before a time: the engine's last trade once the clock is set back
# to that time (`_last_price` weighs the recording's prints and bars against it by time).
_LAST_SIMULATED_TRADE = (
    select(_fill.c.price, _fill.c.time)
    .where(_fill.c.symbol == bindparam("symbol"), PRINTED_FILLS, _fill.c.time <= bindparam("until"))
    .order_by(_fill.c.time.desc(), _fill.c.id.desc())
    .limit(1)
)


def book_at(session: Session, symbol: str, now_ms: int, engine: Engine) -> RecordedBook:
    """The recorded liquidity of `symbol` at market time `now_ms` (what simulated takers took from its
    snapshot already subtracted), as the engine matches against it. Raises InstrumentNotFound."""
    return _book(session, instrument_rules(session, symbol), now_ms, engine)


def order_rows(session: Session, statement: Any, params: dict[str, Any] | None = None) -> list[OrderRecord]:
    """The orders a Core statement selecting whole order rows finds, as this transaction's records: an order
    read twice is the same record, unwritten changes included (`storage.records`)."""
    known = transaction_cached(session, _ORDER_RECORDS, dict)
    found = []
    for row in statements.run(session, statement, params):
        record = known.get(row.order_id)
        if record is None:
            record = known[row.order_id] = OrderRecord(**row._mapping)
            pending.track(session, record)
        found.append(record)
    return found


def order_row(session: Session, order_id: str) -> OrderRecord | None:
    known = transaction_cached(session, _ORDER_RECORDS, dict)
    if order_id in known:
        return known[order_id]
    return next(iter(order_rows(session, _ORDER_BY_ID, {"order_id": order_id})), None)


_ORDER_RECORDS = "order_records"
_orders = tables.Order.__table__
_ORDER_BY_ID = statements.prepare(select(_orders).where(_orders.c.order_id == bindparam("order_id")))
_RESTING = (
    select(_orders)
    .where(_orders.c.symbol == bindparam("symbol"), _orders.c.resting == 1)
    .order_by(_orders.c.sequence)
)
_FACING = _RESTING.where(_orders.c.side == bindparam("side"))
_FACING_AT_OR_BELOW = statements.prepare(_FACING.where(_orders.c.price_key <= bindparam("price_key")))
_FACING_AT_OR_ABOVE = statements.prepare(_FACING.where(_orders.c.price_key >= bindparam("price_key")))
statements.prepare(_RESTING)
statements.prepare(_FACING)
_BEST = select(_orders.c.price).where(
    _orders.c.symbol == bindparam("symbol"), _orders.c.resting == 1, _orders.c.side == bindparam("side")
)
_BEST_BID = statements.prepare(_BEST.order_by(_orders.c.price_key.desc()).limit(1))
_BEST_ASK = statements.prepare(_BEST.order_by(_orders.c.price_key).limit(1))
_SCHEDULED = statements.prepare(
    select(_orders).where(
        _orders.c.symbol == bindparam("symbol"),
        or_(_orders.c.match_ms <= bindparam("to_ms"), _orders.c.cancel_ms <= bindparam("to_ms")),
    )
)


def resting_orders(session: Session, symbol: str) -> list[OrderRecord]:
    """The simulated orders resting in `symbol`'s book, in time priority."""
    return list(_RestingRows(session, symbol).get())


def next_scheduled_time(session: Session, after_ms: int) -> int | None:
    """The earliest market time after `after_ms` at which an order or a cancel reaches the matcher."""
    order = tables.Order
    times = [
        session.scalar(select(func.min(column)).where(column > after_ms))
        for column in (order.match_ms, order.cancel_ms)
    ]
    found = [t for t in times if t is not None]
    return min(found) if found else None


def _received(session: Session, new: NewOrder, now_ms: int) -> Order:
    order_id = new.order_id or next_id(session)
    return Order(
        order_id=order_id,
        account_id=new.account_id,
        symbol=new.symbol,
        side=new.side,
        type=new.type,
        time_in_force=new.time_in_force,
        price=new.price,
        quantity=new.quantity,
        amount=new.amount,
        stp_mode=new.stp_mode,
        created_ms=now_ms,
        updated_ms=now_ms,
        sequence=int(order_id),
    )


def _match(
    session: Session,
    rules: InstrumentRules,
    state: SymbolStateRecord,
    row: OrderRecord,
    order: Order,
    resting: list[OrderRecord],
    now_ms: int,
    engine: Engine,
    *,
    arriving: bool,
) -> Order:
    """Match `order` (not yet accepted; its row written, its up-front funds locked) at `now_ms` against the
    book and `resting`. `arriving`: it was received earlier and acknowledged then, so it cannot be refused
    any more — an order whose fills the free balance cannot pay is REJECTED rather than raising."""
    book = _book(session, rules, now_ms, engine)
    makers = {r.order_id: (r, _to_domain(r)) for r in resting if r.resting}  # still resting
    limits = _take_limits(session, rules, state, book, engine, now_ms)
    opposite = [domain for _, domain in makers.values() if domain.side is not order.side]
    result = take(order, book, opposite, limits, now_ms)
    if not funds.locks_upfront(order) and order.status is not OrderStatus.REJECTED:
        # what the fills cost is known only now: the lock (nothing, or the estimate) becomes exactly that
        if not _relock(session, row, *funds.lock_for_fills(session, order, result.fills, rules), now_ms):
            if not arriving:
                raise errors.InsufficientAsset()
            return _reject(session, row, now_ms)
    owed = _Owed(row, order.side, rules, now_ms)
    for fill in result.fills:
        _settle_match(session, rules, row, order, fill, makers, owed)
    _settle(session, owed)
    if book.time is not None:
        _remember_taken(session, order.symbol, book.source.value, book.time, result.taken)
    for maker in result.expired_makers:
        _finish(session, makers[maker.order_id][0], maker)
    if result.rests:
        order.queue_ahead = queue_on_rest(order, book, engine.model)
        row.resting = 1
    if arriving and row.cancel_ms is not None and order.is_working:
        order.apply(Event.REQUEST_CANCEL, now_ms)  # the cancel asked for meanwhile is still on its way
    _store_order(row, order)
    if order.is_final:
        funds.release(session, row, now_ms)
        row.cancel_ms = None
    if result.fills:
        state.last_price, state.last_price_ms = result.fills[-1].price, now_ms
    if not arriving or order.status is not OrderStatus.NEW:  # NEW was announced when it was received
        outbox.order_update(session, row)
    return order


def _take_limits(
    session: Session,
    rules: InstrumentRules,
    state: SymbolStateRecord,
    book: RecordedBook,
    engine: Engine,
    now_ms: int,
) -> TakeLimits:
    mark = _mark_price(session, state, book, engine, now_ms)
    return TakeLimits(mark, rules.buy_up_rate, rules.sell_down_rate, rules.step_size)


def _estimated_lock(
    session: Session,
    rules: InstrumentRules,
    state: SymbolStateRecord,
    order: Order,
    resting: _RestingRows,
    now_ms: int,
    engine: Engine,
) -> tuple[str, Decimal]:
    """What a MARKET buy by quantity or sell by amount would spend if it matched now: a dry walk of the
    book and resting orders of `now_ms`, within the price band."""
    book = _book(session, rules, now_ms, engine)
    opposite = [_to_domain(row) for row in resting.facing(order)]
    trial = replace(order, status=None, cancel_reason=None)
    result = take(trial, book, opposite, _take_limits(session, rules, state, book, engine, now_ms), now_ms)
    return funds.lock_for_fills(session, trial, result.fills, rules)


def _relock(session: Session, row: OrderRecord, asset: str, amount: Decimal, now_ms: int) -> bool:
    """Make the order's lock exactly `amount` of `asset` (more from the free balance, or the surplus
    back); False, changing nothing, when the free balance cannot cover the difference."""
    held = row.locked_left if row.locked_asset == asset else Decimal(0)
    extra = amount - held
    if extra > 0 and not funds.has_free(session, row.account_id, asset, extra):
        return False
    if extra > 0:
        funds.move_to_locked(session, row.account_id, asset, extra, now_ms)
    elif extra < 0:
        funds.unlock(session, row.account_id, asset, -extra, now_ms)
    row.locked_asset, row.locked_left = asset, amount
    return True


def _reject(session: Session, row: OrderRecord, now_ms: int) -> Order:
    order = replace(_to_domain(row), status=None, cancel_reason=None)
    order.apply(Event.REJECT, now_ms, CancelReason.RISKLIMIT_CANCEL)
    _finish(session, row, order)
    return order


# ---- the market moves -----------------------------------------------------------------------------------


class _RestingRows:
    """A symbol's resting order rows: loaded when first needed, and again after the book changed."""

    def __init__(self, session: Session, symbol: str) -> None:
        self._session, self._symbol = session, symbol
        self._rows: list[OrderRecord] | None = None

    def get(self) -> list[OrderRecord]:
        if self._rows is None:
            self._rows = order_rows(self._session, _RESTING, {"symbol": self._symbol})
        return self._rows

    def changed(self) -> None:
        self._rows = None
        _forget_books(self._session, self._symbol)  # a best bid/offer is judged against them (`less_crossed`)

    def facing(self, order: Order) -> list[OrderRecord]:
        """The resting rows `order` could meet: the other side, at its limit or better. Only these are
        loaded when nothing else needed the whole book, so a resting LIMIT does not read every order."""
        side = order.side.opposite.value
        if self._rows is not None:
            rows = [row for row in self._rows if row.resting and row.side == side]
        elif order.price is None:
            rows = order_rows(self._session, _FACING, {"symbol": self._symbol, "side": side})
        else:  # narrowed by the sortable key, then compared exactly below
            query = _FACING_AT_OR_BELOW if order.side is Side.BUY else _FACING_AT_OR_ABOVE
            params = {"symbol": self._symbol, "side": side, "price_key": price_key(order.price)}
            rows = order_rows(self._session, query, params)
        if order.price is None:
            return rows
        if order.side is Side.BUY:
            return [row for row in rows if row.price is not None and row.price <= order.price]
        return [row for row in rows if row.price is not None and row.price >= order.price]


_ARRIVAL, _CANCEL = 0, 1  # what reaches the matcher: an order, or a cancel of one
# A cancel received by an earlier version, which kept no place among the requests: after its millisecond's
# orders, as that version had it.
_RECEIVED_UNKNOWN = 2**63
_DUE_ORDER = itemgetter(0, 1, 2)  # of `_scheduled`'s items: time, then place among the requests received


def _scheduled(session: Session, symbol: str, to_ms: int) -> list[tuple[int, int, int, OrderRecord]]:
    """Orders and cancels of `symbol` that reach the matcher by `to_ms`: (time, place among the requests
    received, kind, row). At one millisecond they reach it in the order they were received, as they would
    be handled without a latency (a cancel received before another account's order takes effect first)."""
    rows = order_rows(session, _SCHEDULED, {"symbol": symbol, "to_ms": to_ms})
    due = []
    for row in rows:
        if row.match_ms is not None and row.match_ms <= to_ms:
            due.append((row.match_ms, row.sequence, _ARRIVAL, row))
        if row.cancel_ms is not None and row.cancel_ms <= to_ms:
            received = _RECEIVED_UNKNOWN if row.cancel_sequence is None else row.cancel_sequence
            due.append((row.cancel_ms, received, _CANCEL, row))
    return due


def _arrive(
    session: Session,
    state: SymbolStateRecord,
    row: OrderRecord,
    engine: Engine,
    resting: _RestingRows,
) -> None:
    """A received order reaches the matcher (unless a cancel that took effect first ended it)."""
    at_ms = row.match_ms
    if at_ms is None:
        return
    row.match_ms = None
    order = replace(_to_domain(row), status=None, cancel_reason=None)
    rules = instrument_rules(session, row.symbol)
    _match(session, rules, state, row, order, resting.facing(order), at_ms, engine, arriving=True)


def _cancel_takes_effect(session: Session, row: OrderRecord) -> None:
    """A requested cancel reaches the matcher: the order ends (it cannot have filled: that ends it and
    clears `cancel_ms`), also when it never reached the matcher itself."""
    at_ms = row.cancel_ms
    if at_ms is None:
        return
    order = _to_domain(row)
    order.apply(Event.CANCEL, at_ms, CancelReason.USER_CANCEL)
    _finish(session, row, order)


def _apply_events(
    session: Session, state: SymbolStateRecord, to_ms: int, engine: Engine, resting: _RestingRows
) -> None:
    """The symbol's recorded events after its watermark up to `to_ms`, applied to its resting orders."""
    if to_ms <= state.watermark_ms:
        return
    rows = {row.order_id: row for row in resting.get()}
    if rows:
        orders: list[Order] = []  # made at the first event: a stretch without one changes no order
        for segment, events in _windows_of_events(session, state.symbol, state.watermark_ms, to_ms, engine):
            if not orders:
                rules = instrument_rules(session, state.symbol)
                orders = [_to_domain(row) for row in rows.values()]
                book = RestingBook(orders)  # an event looks only at the orders it can reach
                queued = [(order, order.queue_ahead) for order in orders if order.queue_ahead > 0]
            for event in events:
                record = _shifted(event.record, segment.shift)
                fills = _resting_fills(book, event.rank, record, engine.model, rules)
                printed = _PRINTED_BY_RANK.get(event.rank, 0)  # a recorded print shows the trades it made
                for fill in fills:
                    _settle_resting_fill(session, rules, rows[fill.order.order_id], fill, printed)
                if printed and fills:
                    state.last_price, state.last_price_ms = fills[-1].price, fills[-1].time
                if event.rank == RANK_DEPTH and fills:
                    taken = taken_by_depth_fills(record, fills, rules.step_size, rules.tick_size)
                    _remember_taken(session, state.symbol, Source.DEPTH.value, record.time, taken)
                if event.rank == RANK_TRADE:
                    state.last_price, state.last_price_ms = record.price, record.time  # type: ignore[union-attr]
                if queued and event.rank in (RANK_TRADE, RANK_DEPTH):
                    queued = _stamp_queue_moves(queued, rows, record.time)  # type: ignore[union-attr]
        for order in orders:  # queue positions moved even where nothing filled
            _store_order(rows[order.order_id], order)
    state.watermark_ms = to_ms


def _stamp_queue_moves(
    queued: list[tuple[Order, Decimal]], rows: dict[str, OrderRecord], at_ms: int
) -> list[tuple[Order, Decimal]]:
    """After a print or a snapshot at market time `at_ms`: the orders it moved up their queue are stamped
    with it (`rewind` refuses to go back before it). `queued` is the orders with a queue still ahead and
    their queue before the event; the same for the next event is returned (a queue only ever shrinks, so
    one used up is not looked at again)."""
    still: list[tuple[Order, Decimal]] = []
    for order, before in queued:
        if order.queue_ahead != before:
            rows[order.order_id].queue_ms = at_ms
        if order.queue_ahead > 0:
            still.append((order, order.queue_ahead))
    return still


def _windows_of_events(
    session: Session, symbol: str, from_ms: int, to_ms: int, engine: Engine
) -> Iterator[tuple[Segment, list[MarketEvent]]]:
    """The symbol's recorded events in (from_ms, to_ms] of market time, a window of at most
    EVENT_WINDOW_MS of recording at a time, so a long catch-up (a day of trades) never holds more than a
    window's events in memory. After an empty window the next one starts at the symbol's next recorded
    event: months without a record of it (between two recordings) cost a few seeks, not a query a minute."""
    for segment in engine.timeline.segments(from_ms, to_ms):
        completed = _completing_as_the_loop_starts(session, symbol, segment, engine)
        if completed:
            yield segment, completed
        r0 = segment.r0
        while r0 < segment.r1:
            r1 = min(r0 + EVENT_WINDOW_MS, segment.r1)
            events = events_between(session, symbol, r0, r1, engine.model.kline_interval)
            if events:
                yield segment, events
            if events or r1 == segment.r1:  # (a window reaching the segment's end needs no next event)
                r0 = r1
                continue
            following = store.next_event_time(session, [symbol], r1)
            # windows hold the events after their start: one starting a millisecond before it holds it
            r0 = segment.r1 if following is None else max(r1, min(following - 1, segment.r1))


def _completing_as_the_loop_starts(
    session: Session, symbol: str, segment: Segment, engine: Engine
) -> list[MarketEvent]:
    """In live mode, the bars closing on a loop's last millisecond complete on the next loop's first
    (`Kline.completes_at`): a recording time no loop holds. They are the first events of the segment that
    begins the next loop (as klines show that bar from then on); none for any other segment."""
    first, period = engine.timeline.first_ms, engine.timeline.period_ms
    if first is None or period is None or segment.r0 != first - 1:
        return []
    after_the_loop = first + period
    events = events_between(session, symbol, after_the_loop - 1, after_the_loop, engine.model.kline_interval)
    return [
        replace(event, time=event.time - period, record=_shifted(event.record, -period)) for event in events
    ]


def _resting_fills(
    book: RestingBook, rank: int, record: Any, model: FillModel, rules: InstrumentRules
) -> list[MakerFill]:
    step = rules.step_size
    if rank == RANK_TRADE:
        return book.on_trade(record, model, step)
    if rank == RANK_DEPTH:
        return book.on_depth(record, model, step, rules.tick_size)
    if rank == RANK_BAR:
        return book.on_bar(record, model, step)
    return []  # a best bid/offer alone moves no resting order: it shows no size behind the top


# Where a resting order's fill shows on the tape, by the kind of recorded event that made it (`tables.Fill`)
_PRINTED_BY_RANK = {RANK_DEPTH: -1, RANK_BAR: 1}


def _settle_resting_fill(
    session: Session, rules: InstrumentRules, row: OrderRecord, fill: MakerFill, printed: int
) -> None:
    ticket = next_id(session)
    owed = _Owed(row, fill.order.side, rules, fill.time)
    _settle_side(
        session, rules, row, fill.order, fill.price, fill.qty, _Role(True, printed), ticket, None, owed
    )
    _settle(session, owed)
    _after_maker_fill(session, row, fill.order)


def _after_maker_fill(session: Session, row: OrderRecord, order: Order) -> None:
    """A resting order filled: it ends, or it goes on with an update for the streams."""
    if order.is_final:
        _finish(session, row, order)
    else:
        _store_order(row, order)
        outbox.order_update(session, row)


def _shifted(record: Any, shift: int) -> Any:
    """A recorded event moved to market time (live mode replays the recording shifted and looped)."""
    if shift == 0:
        return record
    if isinstance(record, Kline):
        return replace(record, open_time=record.open_time + shift, close_time=record.close_time + shift)
    return replace(record, time=record.time + shift)


# ---- liquidity --------------------------------------------------------------------------------------


def _book(session: Session, rules: InstrumentRules, now_ms: int, engine: Engine) -> RecordedBook:
    """Read once per transaction (the mark price and the match both need it) until a taker or the resting
    orders change it (`_forget_books`)."""
    key = ("book", rules.symbol, now_ms, engine)
    return transaction_cached(session, key, lambda: _read_book(session, rules, now_ms, engine))


def _read_book(session: Session, rules: InstrumentRules, now_ms: int, engine: Engine) -> RecordedBook:
    recording_now = engine.timeline.to_recording(now_ms)
    shift = now_ms - recording_now
    symbol = rules.symbol
    db = statements.connection(session, flush=False)  # the recording
    timeline, model = engine.timeline, engine.model
    depth = _latest(
        timeline, recording_now, lambda t: store.depth_at(db, symbol, t), model.depth_staleness_ms
    )
    bbo, bar = None, None
    if not depth_serves(recording_now, model, depth):  # the fallbacks, read only when needed
        bbo = _latest(timeline, recording_now, lambda t: store.bbo_at(db, symbol, t), model.bbo_staleness_ms)
        bar = _latest(
            timeline, recording_now, lambda t: store.last_complete_bar(db, symbol, model.kline_interval, t)
        )
    book = recorded_book(recording_now, model, depth, bbo, bar, rules.tick_size, rules.step_size)
    if book.time is None:
        return book
    # what simulated takers already took is kept per snapshot, by its market time
    snapshot_time = book.time + shift
    taken = taken_liquidity.taken_from(session, symbol, book.source.value, snapshot_time)
    book = less_taken(book, taken, rules.step_size)
    if book.source in (Source.BBO, Source.KLINE):  # levels no resting order fills from (`less_crossed`)
        best = {side: _best_resting(session, symbol, side) for side in Side}
        book = less_crossed(book, best[Side.BUY], best[Side.SELL])
    return replace(book, time=snapshot_time)


def _best_resting(session: Session, symbol: str, side: Side) -> Decimal | None:
    """The best price of the simulated orders resting on `side` (highest bid, lowest ask)."""
    query = _BEST_BID if side is Side.BUY else _BEST_ASK
    return statements.run(session, query, {"symbol": symbol, "side": side.value}).scalar()


def _remember_taken(session: Session, symbol: str, source: str, snapshot_time: int, taken: Taken) -> None:
    """What an order took from a snapshot (market time) stays taken (`services.taken`)."""
    if not taken:
        return
    _forget_books(session, symbol)
    taken_liquidity.remember(session, symbol, source, snapshot_time, taken)


def _forget_books(session: Session, symbol: str) -> None:
    """The transaction's books of `symbol` are read again: what takers took from the recording changed, or
    the resting orders that a best bid/offer or synthetic level is judged against."""
    cache = transaction_cache(session)
    for key in [k for k in cache if k[0] == "book" and k[1] == symbol]:
        del cache[key]


def _last_price(session: Session, state: SymbolStateRecord, engine: Engine, now_ms: int) -> Decimal | None:
    """The last trade at or before now, by the ticker's rule (`quotes.last_traded_price`): the later of the
    engine's last trade (a simulated taker's, a resting order's filled by a snapshot or a bar, or a recorded
    print applied to resting orders) and the recording's — its last print after the engine's (a print the
    engine did not apply, as nothing was resting, still counts; without a trade of the engine's, or of a
    time unknown (kept by an earlier version), its last print within LAST_PRICE_LOOKBACK_MS), or the close of
    its last complete bar of `fill_kline_interval` when that closed later (bars alone: the price the synthetic
    book stands around, still once the book has lapsed)."""
    since = state.last_price_ms if state.last_price is not None else None
    key = ("recorded_last_trade", state.symbol, now_ms, since, engine)
    recorded, bar = transaction_cached(
        session, key, lambda: _recorded_last_trade(session, state.symbol, now_ms, since, engine)
    )
    own = None
    if state.last_price is not None:  # of a time unknown: older than anything recorded
        own = Print(-1 if since is None else since, state.last_price, ZERO, False, order=1)
    return last_traded_price(recorded, own, bar)


def last_trade_price(session: Session, symbol: str, now_ms: int, engine: Engine) -> Decimal | None:
    """`_last_price` of `symbol` read without locking it (a symbol the engine never saw has made or applied
    no trade: the recording's last print counts)."""
    row = session.get(tables.SymbolState, symbol)
    if row is None:
        state = SymbolStateRecord(symbol, now_ms, None, None)
    else:
        state = SymbolStateRecord(symbol, row.watermark_ms, row.last_price, row.last_price_ms)
    return _last_price(session, state, engine, now_ms)


def _recorded_last_trade(
    session: Session, symbol: str, now_ms: int, since_ms: int | None, engine: Engine
) -> tuple[Print | None, Kline | None]:
    """The recording's last print after market time `since_ms` (None: within LAST_PRICE_LOOKBACK_MS) and at or
    before now, and its last bar of `fill_kline_interval` complete by now, in market time."""
    recording_now = engine.timeline.to_recording(now_ms)
    shift = now_ms - recording_now
    after_ms = now_ms - LAST_PRICE_LOOKBACK_MS if since_ms is None else since_ms
    db = statements.connection(session, flush=False)  # the recording
    printed = _last_print(db, symbol, engine.timeline, after_ms, now_ms)
    interval = engine.model.kline_interval
    bar = _latest(engine.timeline, recording_now, lambda t: store.last_complete_bar(db, symbol, interval, t))
    return printed, None if bar is None else _shifted(bar, shift)


def _last_print(db: Any, symbol: str, timeline: Timeline, after_ms: int, now_ms: int) -> Print | None:
    """The recording's last print in market time (after_ms, now_ms]. In live mode that may be in the loop
    before (the ticker shows it there too); never more than a loop back, since earlier loops only repeat
    the last one."""
    if timeline.period_ms is not None:
        after_ms = max(after_ms, now_ms - timeline.period_ms)
    for segment in reversed(timeline.segments(after_ms, now_ms)):
        found = store.last_trade(db, symbol, segment.r0, segment.r1)
        if found is not None:
            return Print(segment.to_market(found[0]), found[1], ZERO, False)
    return None


def _latest(
    timeline: Timeline, recording_now: int, read: Callable[[int], T | None], stale_after_ms: int | None = None
) -> T | None:
    """What `read` finds as of the recorded moment; in live mode, when this loop has none yet, what the
    previous loop ended with, moved a loop back (so a loop's first minute has the book the last one left,
    aged across the boundary). That is older than the time since the loop began, so once that time passes
    `stale_after_ms` it is not looked for: it could not serve."""
    found = read(recording_now)
    if found is not None or timeline.period_ms is None or timeline.first_ms is None:
        return found
    if stale_after_ms is not None and recording_now - timeline.first_ms >= stale_after_ms:
        return None
    previous = read(recording_now + timeline.period_ms)
    return None if previous is None else _shifted(previous, -timeline.period_ms)


def mark_price_at(session: Session, symbol: str, now_ms: int, engine: Engine) -> Decimal | None:
    """The mark price the price bands are measured from: the book's mid, else the last trade. In a write
    transaction: it locks the symbol, as placing the order then does (once)."""
    state = _lock_symbol(session, symbol, now_ms)
    return _mark_price(session, state, book_at(session, symbol, now_ms, engine), engine, now_ms)


def _mark_price(
    session: Session, state: SymbolStateRecord, book: RecordedBook, engine: Engine, now_ms: int
) -> Decimal | None:
    """`mark_price`, reading the recording's last trade only when the book has no mid to give it. The trade's
    price is put on the tick grid as the ticker shows it (a recording may be finer than the tick), so a
    client measuring the band from the price it is shown agrees with it; a book's levels are on it already."""
    if book.recorded_mid is not None:
        return mark_price(book, None)
    last = _last_price(session, state, engine, now_ms)
    return mark_price(
        book, None if last is None else on_tick(last, instrument_rules(session, state.symbol).tick_size)
    )


# ---- settlement -------------------------------------------------------------------------------------


def _settle_match(
    session: Session,
    rules: InstrumentRules,
    taker_row: OrderRecord,
    taker: Order,
    fill: Fill,
    makers: dict[str, tuple[OrderRecord, Order]],
    owed: _Owed,
) -> None:
    """Both sides of one fill: the taker's into what it owes (`owed`, settled after its last fill), and the
    simulated maker's, if it hit one (same ticket id), settled at once."""
    ticket = next_id(session)
    maker_id = fill.maker.order_id if fill.maker is not None else None
    _settle_side(session, rules, taker_row, taker, fill.price, fill.qty, _TAKER, ticket, maker_id, owed)
    if fill.maker is not None:
        maker_row, maker = makers[fill.maker.order_id]
        maker_owed = _Owed(maker_row, maker.side, rules, owed.time)
        _settle_side(
            session, rules, maker_row, maker, fill.price, fill.qty, _MAKER, ticket, taker.order_id, maker_owed
        )
        _settle(session, maker_owed)
        _after_maker_fill(session, maker_row, maker)


class _Role(NamedTuple):
    """An order's part in a fill: maker or taker, and whether and where its fill is the trade's print on the
    tape (`tables.Fill.printed`)."""

    is_maker: bool
    printed: int


_TAKER = _Role(is_maker=False, printed=1)
_MAKER = _Role(is_maker=True, printed=0)  # of a simulated taker's ticket: the taker's fill prints it


class _Owed:
    """What one order's fills of one match move, settled together (`_settle`): one balance change and
    ledger entry per asset and flow — paid out of its lock, received, the fee — rather than three per fill.
    A MARKET order walking 20 levels writes 3 ledger entries, not 60; each fill keeps its own row (fee
    included) for account/trades. The balances change only when settled: until then the lock still holds
    what the fills pay."""

    __slots__ = ("row", "time", "paid_asset", "received_asset", "paid", "received", "fee", "fee_from_lock")

    def __init__(self, row: OrderRecord, side: Side, rules: InstrumentRules, time: int) -> None:
        self.row, self.time = row, time
        buy = side is Side.BUY
        self.paid_asset = rules.quote_asset if buy else rules.base_asset
        self.received_asset = rules.base_asset if buy else rules.quote_asset
        self.paid = self.received = self.fee = self.fee_from_lock = Decimal(0)


def _settle_side(
    session: Session,
    rules: InstrumentRules,
    row: OrderRecord,
    order: Order,
    price: Decimal,
    qty: Decimal,
    role: _Role,
    ticket: str,
    counter_order_id: str | None,
    owed: _Owed,
) -> None:
    """One order's side of a fill: what it pays, receives and owes in fees added to `owed`; a fill row."""
    quote = price * qty
    rates = funds.fee_rates(session, row.account_id, row.symbol)
    fee = fill_fee(
        order.side,
        qty,
        quote,
        rates.maker if role.is_maker else rates.taker,
        rules.base_asset,
        rules.quote_asset,
        rules.fiat_quote,
    )
    if order.side is Side.BUY:
        owed.paid += quote
        owed.received += qty
    else:
        owed.paid += qty
        owed.received += quote
    on_top = bool(fee.amount) and fee_on_top(order.side, rules.fiat_quote)
    if not on_top:
        owed.fee += fee.amount  # in what the fills receive
    elif funds.holds_its_fees(session, rules, row, order):  # asked before the fill pays anything
        owed.fee_from_lock += fee.amount
    else:
        fee = replace(fee, amount=funds.pay_fee_from_free(session, row, fee.amount, owed.time))
    fill = {
        "id": next_id(session),
        "ticket_id": ticket,
        "order_id": row.order_id,
        "account_id": row.account_id,
        "symbol": row.symbol,
        "side": order.side.value,
        "price": price,
        "qty": qty,
        "quote": quote,
        "is_maker": int(role.is_maker),
        "fee_asset": fee.asset,
        "fee_amount": fee.amount,
        "counter_order_id": counter_order_id,
        "time": owed.time,
        "printed": role.printed,
    }
    pending.add_row(session, tables.Fill.__table__, fill)
    outbox.trade(session, row.account_id, fill)


def _settle(session: Session, owed: _Owed) -> None:
    """The balance changes of `owed`, each with its ledger entry: paid out of the lock, received, the fee
    (out of what was received, or a Token-Fiat buy's out of its lock). Nothing, for an order that did not
    fill: no balance is touched (nor made, for an asset the account never held)."""
    row, time = owed.row, owed.time
    if not owed.paid:  # every fill pays something
        return
    funds.pay_from_locked(session, row, owed.paid, time)
    if owed.received:
        change_balance(
            session, row.account_id, owed.received_asset, owed.received, FlowType.TRADE, time, row.order_id
        )
    if owed.fee_from_lock:
        funds.pay_from_locked(session, row, owed.fee_from_lock, time, FlowType.FEE)
    if owed.fee:
        change_balance(
            session, row.account_id, owed.received_asset, -owed.fee, FlowType.FEE, time, row.order_id
        )
    outbox.balances(session, row.account_id, (owed.paid_asset, owed.received_asset), time)


def _finish(session: Session, row: OrderRecord, order: Order) -> None:
    """The order ended: out of the book, its leftover funds back to free, an update for the streams."""
    _store_order(row, order)
    row.resting = 0
    row.match_ms = row.cancel_ms = None  # nothing is on its way to the matcher any more
    funds.release(session, row, row.updated_ms)
    outbox.order_update(session, row)


# ---- rows <-> domain --------------------------------------------------------------------------------


def _lock_symbol(session: Session, symbol: str, now_ms: int) -> SymbolStateRecord:
    """The symbol's engine state, locked once per transaction."""
    return transaction_cached(
        session, ("symbol", symbol), lambda: _read_symbol_for_update(session, symbol, now_ms)
    )


def _read_symbol_for_update(session: Session, symbol: str, now_ms: int) -> SymbolStateRecord:
    row = statements.run(session, _SYMBOL_STATE_FOR_UPDATE, {"symbol": symbol}, flush=False).first()
    if row is not None:
        state = SymbolStateRecord(symbol, row.watermark_ms, row.last_price, row.last_price_ms)
        pending.track(session, state)
        return state
    # First use: the engine starts at this moment (no order existed before it to fill).
    state = SymbolStateRecord(symbol, now_ms, None, None)
    pending.track(session, state, new=True)
    pending.write_rows(session)  # the lock row exists from now on
    return state


_state = tables.SymbolState.__table__.c
_SYMBOL_STATE_FOR_UPDATE = statements.prepare(
    locked(
        select(_state.watermark_ms, _state.last_price, _state.last_price_ms).where(
            _state.symbol == bindparam("symbol")
        )
    )
)


def _insert_order(
    session: Session, order: Order, client_order_id: str | None, lock: tuple[str, Decimal] | None
) -> OrderRecord:
    asset, amount = lock if lock is not None else ("", Decimal(0))
    row = OrderRecord(
        order_id=order.order_id,
        account_id=order.account_id,
        client_order_id=client_order_id or order.order_id,
        symbol=order.symbol,
        side=order.side.value,
        type=order.type.value,
        time_in_force=order.time_in_force.value,
        price=order.price,
        price_key=None if order.price is None else price_key(order.price),
        quantity=order.quantity,
        amount=order.amount,
        stp_mode=order.stp_mode.value,
        status="",
        cancel_reason="",
        executed_qty=Decimal(0),
        executed_quote=Decimal(0),
        queue_ahead=Decimal(0),
        resting=0,
        sequence=order.sequence,
        locked_asset=asset,
        locked_left=amount,
        created_ms=order.created_ms,
        updated_ms=order.updated_ms,
        match_ms=None,
        cancel_ms=None,
        cancel_sequence=None,
        queue_ms=None,
    )
    _store_order(row, order)
    pending.track(session, row, new=True)
    transaction_cached(session, _ORDER_RECORDS, dict)[row.order_id] = row
    return row


def _store_order(row: OrderRecord, order: Order) -> None:
    row.status = order.status.value if order.status else OrderStatus.NEW.value
    row.cancel_reason = order.cancel_reason.value if order.cancel_reason else ""
    row.executed_qty = order.executed_qty
    row.executed_quote = order.executed_quote
    row.queue_ahead = order.queue_ahead
    row.updated_ms = order.updated_ms


def _to_domain(row: OrderRecord) -> Order:
    return Order(
        order_id=row.order_id,
        account_id=row.account_id,
        symbol=row.symbol,
        side=Side(row.side),
        type=OrderType(row.type),
        time_in_force=TimeInForce(row.time_in_force),
        price=row.price,
        quantity=row.quantity,
        amount=row.amount,
        stp_mode=StpMode(row.stp_mode),
        created_ms=row.created_ms,
        updated_ms=row.updated_ms,
        sequence=row.sequence,
        executed_qty=row.executed_qty,
        executed_quote=row.executed_quote,
        status=OrderStatus(row.status),
        cancel_reason=CancelReason(row.cancel_reason) if row.cancel_reason else None,
        queue_ahead=row.queue_ahead,
    )
