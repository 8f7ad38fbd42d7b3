"""Spot orders as the API sees them: placing with the symbol's filters and the venue's refusals, cancelling
by id, client id or in bulk, and the order queries. Each function runs in the caller's transaction; the
matching itself is `services.trading`.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass, replace
from decimal import ROUND_HALF_EVEN, Decimal
from functools import lru_cache
from typing import Any

from sqlalchemy import ColumnElement, bindparam, func, or_, select
from sqlalchemy.orm import Session

from simulator import errors
from simulator.domain.filters import SymbolFilters, check_order
from simulator.domain.matching.orders import WORKING, OrderStatus, OrderType, Side
from simulator.services import instruments, trading
from simulator.storage import statements, tables
from simulator.storage.db import locked
from simulator.storage.ids import next_id
from simulator.storage.records import OrderRecord

WORKING_STATUSES = tuple(sorted(status.value for status in WORKING))
CANCELLABLE_STATUSES = tuple(s for s in WORKING_STATUSES if s != OrderStatus.PENDING_CANCEL.value)
SEQUENCE_MAX = 2**63 - 1
DAY_MS = 86_400_000


@dataclass(frozen=True)
class Page:
    """Which orders a list query wants: newest first, below `from_order_id` when given."""

    symbol: str | None = None
    side: Side | None = None
    from_order_id: str | None = None
    start_ms: int | None = None
    end_ms: int | None = None
    limit: int = 500


def place(session: Session, new: trading.NewOrder, now_ms: int, engine: trading.Engine) -> OrderRecord:
    """Check `new` as the venue would, then place it. Raises the venue's error (and the caller's
    transaction rolls back: nothing is written) for a refused order."""
    instrument = instruments.instrument_row(session, new.symbol)
    driver = statements.connection(session, flush=False)
    if driver.takes_row_locks:  # one order of an account at a time
        driver.execute(_LOCK_ACCOUNT, {"account_id": new.account_id})
    # What happened since the last call first: fills may have ended orders counted or matched below, and
    # the account's orders on other symbols may have filled, ended or arrived, changing its balances.
    behind = trading.symbols_behind(session, now_ms)
    trading.advance_symbols(session, _symbols_read(session, new, behind), now_ms, engine, behind)
    if new.client_order_id is not None and _open_with_client_id(session, new.account_id, new.client_order_id):
        raise errors.DuplicateOrder()
    filters = _filters(instrument.definition)
    mark = trading.mark_price_at(session, new.symbol, now_ms, engine)
    check_order(filters, new, mark, _open_count(session, new.account_id, new.symbol), now_ms)
    order_id = next_id(session)
    client_order_id = new.client_order_id or _generated_client_id(session, new.account_id, order_id)
    new = replace(new, order_id=order_id, client_order_id=client_order_id)
    order = trading.place_order(session, new, now_ms, engine)
    if order.type is OrderType.LIMIT_MAKER and order.status is OrderStatus.REJECTED:
        raise errors.LimitMakerRejected()
    row = trading.order_row(session, order.order_id)
    assert row is not None
    return row


@lru_cache(maxsize=1024)
def _filters(definition: str) -> SymbolFilters:
    return SymbolFilters.of(json.loads(definition))


def find(
    session: Session, account_id: str, order_id: str | None, client_order_id: str | None
) -> OrderRecord | None:
    """The account's order by id, else by client order id (the newest one that had it)."""
    if order_id is not None:
        row = trading.order_row(session, order_id)
        return row if row is not None and row.account_id == account_id else None
    params = {"account_id": account_id, "client_order_id": client_order_id}
    return next(iter(trading.order_rows(session, _NEWEST_WITH_CLIENT_ID, params)), None)


def cancel_open(
    session: Session, account_id: str, page: Page, now_ms: int, engine: trading.Engine
) -> list[OrderRecord]:
    """Cancel the account's working orders that `page` selects as the market left them at now (one filled
    since the last call is not cancelled, nor counted), passing over those already PENDING_CANCEL (asking
    again would change nothing); the rows cancelled."""
    for symbol in _symbols_with_open_orders(session, account_id, page):
        trading.advance_symbol(session, symbol, now_ms, engine)
    rows = _orders(session, account_id, page, _order.status.in_(CANCELLABLE_STATUSES), _FEW_NEWEST)
    for row in rows:
        trading.cancel_order(session, account_id, row.order_id, now_ms, engine)
    return rows


def cancel_by_ids(
    session: Session, account_id: str, order_ids: Sequence[str], now_ms: int, engine: trading.Engine
) -> list[tuple[str, str]]:
    """Cancel each order; (orderId, code) for every one that could not be cancelled. An id given twice is
    one order to cancel: its second mention would only be refused for the cancel its first one made."""
    failed = []
    for order_id in dict.fromkeys(order_ids):
        row = find(session, account_id, order_id, None)
        try:
            if row is None:
                raise errors.OrderNotFoundById()
            trading.cancel_order(session, account_id, order_id, now_ms, engine)
        except (errors.OrderNotFoundById, errors.OrderFilled, errors.OrderCanceled) as refused:
            failed.append((order_id, refused.code))
    return failed


def open_orders(session: Session, account_id: str, page: Page) -> list[OrderRecord]:
    """Newest first: the few working orders are found by status (ix_orders_account_status) and sorted."""
    return _orders(session, account_id, page, _order.status.in_(WORKING_STATUSES), _FEW_NEWEST)


def finished_orders(session: Session, account_id: str, page: Page) -> list[OrderRecord]:
    """Newest first, by id. Read so that a long history costs no more than a short one: a window of creation
    times holding few of the account's orders is read whole and sorted; a wider one is walked by id, newest
    first (ix_orders_account_sequence), until `limit` match."""
    finished = ~_order.status.in_(WORKING_STATUSES)
    few = _ids_in_window(session, account_id, page)
    if few is not None:  # the account's, of the symbol, in the window; a symbol term would offer the
        # planner an index of every account's orders of the symbol instead of these few
        others = _terms(replace(page, symbol=None), None)
        query = select(tables.Order.__table__).where(_order.order_id.in_(few), finished, *others)
        return trading.order_rows(session, query.order_by(*_NEWEST).limit(page.limit))
    # `+ 0`: the creation time is checked on each order walked by id, not used to pick the whole window
    return _orders(session, account_id, page, finished, _NEWEST, created=_order.created_ms + 0)


WINDOW_READ_WHOLE = 2_000  # orders: a window of creation times holding at most this many is read whole


def _ids_in_window(session: Session, account_id: str, page: Page) -> list[str] | None:
    """The ids of the account's orders (of the symbol) created in the page's window, if it is bounded and
    holds at most WINDOW_READ_WHOLE of them (ix_orders_account_time, ix_orders_account); else None."""
    if page.start_ms is None and page.end_ms is None:
        return None
    query = select(_order.order_id).where(_order.account_id == account_id, *_window(page, _order.created_ms))
    if page.symbol is not None:
        query = query.where(_order.symbol == page.symbol)
    ids = list(session.scalars(query.limit(WINDOW_READ_WHOLE + 1)))
    return ids if len(ids) <= WINDOW_READ_WHOLE else None


def _symbols_with_open_orders(session: Session, account_id: str, page: Page) -> list[str]:
    if page.symbol is not None:
        return [page.symbol]
    working = _order.status.in_(WORKING_STATUSES)
    query = select(_order.symbol).distinct().where(_order.account_id == account_id, working)
    return sorted(session.scalars(query.where(*_terms(page, _order.created_ms))))


def _orders(
    session: Session,
    account_id: str,
    page: Page,
    status: ColumnElement[bool],
    newest_first: tuple[Any, ...],
    created: ColumnElement[Any] | None = None,
) -> list[OrderRecord]:
    """The account's orders of `status` that `page` selects, `newest_first` (`created`: how the creation
    time is checked, by default the column itself)."""
    terms = _terms(page, _order.created_ms if created is None else created)
    query = select(tables.Order.__table__).where(_order.account_id == account_id, status, *terms)
    return trading.order_rows(session, query.order_by(*newest_first).limit(page.limit))


def _terms(page: Page, created: ColumnElement[Any] | None) -> list[ColumnElement[bool]]:
    """The terms selecting `page`'s orders: symbol, side, below fromOrderId, and (unless `created` is None)
    the window of creation times on `created`."""
    terms: list[ColumnElement[bool]] = []
    if page.symbol is not None:
        terms.append(_order.symbol == page.symbol)
    if page.side is not None:
        terms.append(_order.side == page.side.value)
    if page.from_order_id is not None:
        # an id is up to 20 digits: one past every order's sequence (a 64-bit integer) is below none
        terms.append(_order.sequence < min(int(page.from_order_id), SEQUENCE_MAX))
    return terms if created is None else terms + _window(page, created)


def _window(page: Page, created: ColumnElement[Any]) -> list[ColumnElement[bool]]:
    window = []
    if page.start_ms is not None:
        window.append(created >= page.start_ms)
    if page.end_ms is not None:
        window.append(created <= page.end_ms)
    return window


_order = tables.Order.__table__.c
_NEWEST = (_order.sequence.desc(),)  # walked off ix_orders_account_sequence
# The same order for the few working orders, found by status and then sorted: `+ 0` keeps SQLite from
# walking every order of the account by id instead.
_FEW_NEWEST = ((_order.sequence + 0).desc(),)

# Every order placed runs these (`storage.statements`).
_WORKING = or_(*(_order.status == status for status in WORKING_STATUSES))  # no IN list: prepared
_LOCK_ACCOUNT = statements.prepare(
    locked(
        select(tables.Account.__table__.c.id).where(tables.Account.__table__.c.id == bindparam("account_id"))
    )
)
_HAS_WORKING = statements.prepare(
    select(_order.order_id)
    .where(_order.account_id == bindparam("account_id"), _order.symbol == bindparam("symbol"), _WORKING)
    .limit(1)
)
_OPEN_WITH_CLIENT_ID = statements.prepare(
    select(_order.order_id)
    .where(
        _order.account_id == bindparam("account_id"),
        _order.client_order_id == bindparam("client_order_id"),
        _WORKING,
    )
    .limit(1)
)
_NEWEST_WITH_CLIENT_ID = statements.prepare(
    select(tables.Order.__table__)
    .where(
        _order.account_id == bindparam("account_id"), _order.client_order_id == bindparam("client_order_id")
    )
    .order_by(_order.order_id.desc())
    .limit(1)
)
_OPEN_COUNT = statements.prepare(
    select(func.count()).where(
        _order.account_id == bindparam("account_id"), _order.symbol == bindparam("symbol"), _WORKING
    )
)


def _symbols_read(session: Session, new: trading.NewOrder, behind: list[str]) -> list[str]:
    """The order's symbol, and those of the symbols `behind` now where the account has working orders: what
    its checks read (its balances, its client order ids) is up to now once these are."""
    others = [s for s in behind if s != new.symbol]
    return [new.symbol, *(s for s in others if _has_working(session, new.account_id, s))]


def _has_working(session: Session, account_id: str, symbol: str) -> bool:
    params = {"account_id": account_id, "symbol": symbol}
    return statements.run(session, _HAS_WORKING, params).first() is not None


def _generated_client_id(session: Session, account_id: str, order_id: str) -> str:
    """The client order id of an order sent without one: its order id, unless a working order of the
    account was sent that very id (one of ours it guessed), when two working orders would share it and a
    cancel by it would find the wrong one; then a fresh id from the same counter."""
    client_order_id = order_id
    while _open_with_client_id(session, account_id, client_order_id):
        client_order_id = next_id(session)
    return client_order_id


def _open_with_client_id(session: Session, account_id: str, client_order_id: str) -> bool:
    params = {"account_id": account_id, "client_order_id": client_order_id}
    return statements.run(session, _OPEN_WITH_CLIENT_ID, params).first() is not None


def _open_count(session: Session, account_id: str, symbol: str) -> int:
    return int(
        statements.run(session, _OPEN_COUNT, {"account_id": account_id, "symbol": symbol}).scalar() or 0
    )


def average_price(row: OrderRecord, precision: Decimal) -> Decimal:
    """What the order's fills paid on average, rounded half-even to `precision` (the quote precision)."""
    if not row.executed_qty:
        return Decimal(0)
    return (row.executed_quote / row.executed_qty).quantize(precision, rounding=ROUND_HALF_EVEN)
