"""The document's spot order endpoints: create (v1.1 and the older v1 path), test, batch, cancel (one, all
of a symbol, all, by ids) and the order queries.

Each write is one transaction at the market clock's now: the symbol catches up with the recording, the
order is checked and matched, and a refused order writes nothing. Queries first bring the market up to
now (resting orders may have filled since the last call), then read.
"""

from __future__ import annotations

import contextlib
import dataclasses
from collections.abc import Callable, Iterator
from decimal import Decimal
from typing import Any

from flask import Blueprint, g, request
from sqlalchemy.orm import Session

from simulator import errors
from simulator.clock import transport_now_ms
from simulator.domain.accounts import Permission
from simulator.domain.matching.orders import OrderStatus, Side
from simulator.http import serializers
from simulator.http.auth import Tx, client_address, signed
from simulator.http.order_params import new_order, params_of
from simulator.http.params import Params, json_body
from simulator.http.state import caught_up, current_sim
from simulator.services import accounts, instruments, market, orders, trading
from simulator.services.clock import read_clock
from simulator.storage import tables
from simulator.storage.db import DatabaseBusy

bp = Blueprint("orders", __name__)

MAX_BATCH_ORDERS = 20
MAX_CANCEL_IDS = 100
MAX_CANCEL_ALL = 200
DEFAULT_CANCEL_ALL = 100
DEFAULT_LIST = 500
MAX_LIST = 1000
TRADE_ORDERS_DAYS = 90


# ---- placing ----------------------------------------------------------------------------------------


@bp.post("/api/v1.1/spot/order")
@signed(weight=1, permission=Permission.TRADE, new_order=True, tx=Tx.WRITE)
def create_order() -> dict[str, Any]:
    """POST /api/v1.1/spot/order — Create Order v1.1."""
    new = new_order(g.signed.params, g.signed.identity.account_id).order
    return serializers.order_ack(_place(_in_write(), new))


@bp.post("/api/v1/spot/order")
@signed(weight=1, permission=Permission.TRADE, new_order=True, tx=Tx.WRITE)
def create_order_v1() -> dict[str, Any]:
    """POST /api/v1/spot/order — the older path: a MARKET BUY's `quantity` is the quote to spend."""
    parsed = new_order(g.signed.params, g.signed.identity.account_id, legacy=True)
    return serializers.order_ack(_place(_in_write(), parsed.order))


@bp.post("/api/v1/spot/orderTest")
@signed(weight=1, permission=Permission.TRADE, tx=Tx.OWN)
def test_order() -> dict[str, Any]:
    """POST /api/v1/spot/orderTest — every check a real order gets (filters, balance); nothing placed."""
    new = new_order(g.signed.params, g.signed.identity.account_id).order
    with contextlib.suppress(_DryRun), _write() as (session, now_ms, engine):
        orders.place(session, new, now_ms, engine)
        raise _DryRun()  # the transaction rolls back: nothing placed, locked or recorded
    return {}


@bp.post("/api/v1.1/spot/batchOrders")
@bp.post("/api/v1/spot/batchOrders")
@signed(weight=1, permission=Permission.TRADE, tx=Tx.OWN)
def create_batch() -> dict[str, Any]:
    """POST .../spot/batchOrders — up to 20 orders of one symbol in a JSON array; each gets its own result,
    and one refused order does not stop the others. Each order counts against the new-order rate."""
    items = _json_array()
    if not items:
        raise errors.BadRequest()
    if len(items) > MAX_BATCH_ORDERS:
        raise errors.BatchTooLarge()
    limits = current_sim().limits
    limits.count_order(g.signed.identity.api_key, client_address(), g.signed.transport_ms, len(items))
    account_id = g.signed.identity.account_id
    parsed = [_batch_params(item) for item in items]
    symbol = _batch_symbol(parsed)
    results = [_batch_item(params, account_id, symbol) for params in parsed]
    return {"code": 0, "result": results, "concentration": ""}


def _batch_params(item: Any) -> Params | errors.ApiError:
    """An order of the batch as parameters, or why it has none (it answers for itself)."""
    try:
        return params_of(item)
    except errors.ApiError as refused:
        return refused


def _batch_symbol(parsed: list[Params | errors.ApiError]) -> str | None:
    """The batch's one symbol: the first an order names (an order naming none answers for itself)."""
    for params in parsed:
        if isinstance(params, errors.ApiError):
            continue
        try:
            symbol = params.optional_text("symbol")
        except errors.ApiError:
            continue
        if symbol is not None:
            return symbol
    return None


def _batch_item(
    params: Params | errors.ApiError, account_id: str, batch_symbol: str | None
) -> dict[str, Any]:
    if isinstance(params, errors.ApiError):
        return params.body()
    try:
        new = new_order(params, account_id, batch_item=True).order
        if new.symbol != batch_symbol:
            raise errors.IllegalParameter(name="symbol")  # one symbol per batch
        with _write() as market:
            placed = _place(market, new)
        return {"code": "0000", "order": serializers.order_ack(placed, with_concentration=False)}
    except errors.ApiError as refused:
        return refused.body()
    except DatabaseBusy:  # this order's transaction never began; the ones before it stand
        return errors.ServerTimeout().body()


def _place(market: _Market, new: trading.NewOrder) -> tables.Order:
    session, now_ms, engine = market
    return orders.place(session, new, now_ms, engine)


# ---- cancelling -------------------------------------------------------------------------------------


@bp.delete("/api/v1/spot/order")
@signed(weight=1, permission=Permission.TRADE, tx=Tx.WRITE)
def cancel_order() -> dict[str, Any]:
    """DELETE /api/v1/spot/order — by orderId or clientOrderId."""
    params = g.signed.params
    order_id, client_order_id = _order_reference(params, "clientOrderId")
    account_id = g.signed.identity.account_id
    session, now_ms, engine = _in_write()
    row = orders.find(session, account_id, order_id, client_order_id)
    if row is None:
        raise errors.OrderNotFound()
    # A cancel already pending stays so while the market catches up, or ends it and this one is refused.
    already_pending = row.status == OrderStatus.PENDING_CANCEL
    trading.cancel_order(session, account_id, row.order_id, now_ms, engine)
    return serializers.order_cancelled(row, _status_found(row, already_pending))


def _status_found(row: tables.Order, already_pending: bool) -> OrderStatus:
    """The status the cancel found the order in: the cancel ends it (or makes it PENDING_CANCEL) without
    filling anything, so its fills so far tell NEW from PARTIALLY_FILLED."""
    if already_pending:
        return OrderStatus.PENDING_CANCEL
    return OrderStatus.PARTIALLY_FILLED if row.executed_qty else OrderStatus.NEW


@bp.delete("/api/v1/spot/openOrders")
@signed(weight=1, permission=Permission.TRADE, tx=Tx.WRITE)
def cancel_symbol_orders() -> dict[str, Any]:
    """DELETE /api/v1/spot/openOrders — every open order of a symbol (and side)."""
    params = g.signed.params
    symbol = params.required_text("symbol")
    page = orders.Page(symbol=symbol, side=_side(params), limit=MAX_CANCEL_ALL)
    session, now_ms, engine = _in_write()
    instruments.instrument_rules(session, symbol)
    orders.cancel_open(session, g.signed.identity.account_id, page, now_ms, engine)
    return {"success": True}


@bp.delete("/api/v1/spot/cancelAllOpenOrders")
@signed(weight=1, permission=Permission.TRADE, tx=Tx.WRITE)
def cancel_all_orders() -> dict[str, Any]:
    """DELETE /api/v1/spot/cancelAllOpenOrders — up to `limit` (default 100, at most 200) open orders."""
    params = g.signed.params
    page = orders.Page(
        symbol=params.optional_text("symbol"),
        side=_side(params),
        from_order_id=params.filter_id("fromOrderId"),
        limit=_limit(params, DEFAULT_CANCEL_ALL, MAX_CANCEL_ALL, clamp=True),
    )
    session, now_ms, engine = _in_write()
    if page.symbol is not None:
        instruments.instrument_rules(session, page.symbol)
    cancelled = orders.cancel_open(session, g.signed.identity.account_id, page, now_ms, engine)
    last = int(cancelled[-1].order_id) if cancelled else 0
    return {"code": "0000", "message": "success", "timestamp": now_ms, "lastOrderId": last}


@bp.delete("/api/v1/spot/cancelOrderByIds")
@signed(weight=1, permission=Permission.TRADE, tx=Tx.WRITE)
def cancel_by_ids() -> dict[str, Any]:
    """DELETE /api/v1/spot/cancelOrderByIds — up to 100 comma-separated ids; the failures with their codes."""
    ids = [part.strip() for part in g.signed.params.required_text("ids").split(",")]
    if len(ids) > MAX_CANCEL_IDS or not all(ids):
        raise errors.IllegalParameter(name="ids")
    session, now_ms, engine = _in_write()
    failed = orders.cancel_by_ids(session, g.signed.identity.account_id, ids, now_ms, engine)
    return {"code": "0000", "result": [{"orderId": order_id, "code": code} for order_id, code in failed]}


# ---- queries ----------------------------------------------------------------------------------------


@bp.get("/api/v1/spot/order")
@signed(weight=1)
def query_order() -> dict[str, Any]:
    """GET /api/v1/spot/order — by orderId or origClientOrderId; a master key may name a sub account."""
    params = g.signed.params
    order_id, client_order_id = _order_reference(params, "origClientOrderId")
    account_id = _queried_account()
    # found before the market catches up: a refused request writes nothing (orders are never deleted)
    if orders.find(g.read_session, account_id, order_id, client_order_id) is None:
        raise errors.OrderNotFoundById()
    with caught_up() as session:
        row = orders.find(session, account_id, order_id, client_order_id)
        assert row is not None
        return serializers.order_detail(row, _average_prices(session, [row])[row.order_id])


@bp.get("/api/v1/spot/openOrders")
@signed(weight=1)
def open_orders() -> list[dict[str, Any]]:
    """GET /api/v1/spot/openOrders — newest first; a master key may name a sub account."""
    return list_open_orders(_queried_account(), g.signed.params, MAX_LIST)


@bp.get("/api/v1/spot/tradeOrders")
@signed(weight=5)
def trade_orders() -> list[dict[str, Any]]:
    """GET /api/v1/spot/tradeOrders — finished orders of the last 90 days, newest first; a master key may
    name a sub account."""
    return list_trade_orders(_queried_account(), g.signed.params, MAX_LIST)


def _queried_account() -> str:
    """The key's own account, or the one `accountId` names (a master key may read its user's other accounts:
    -3117 for a sub key naming another, 0104 for an account not its user's). The document lists `accountId`
    for GET order only; ccxt sends it to tradeOrders too, and a query that ignored it would answer with the
    master's orders as if they were the sub account's."""
    account_id = g.signed.params.optional_id("accountId")
    return accounts.readable_account_id(g.read_session, g.signed.identity, account_id)


# The list queries below are shared with the sub-account endpoints (http/subaccount.py), which read another
# account with their own maximum `limit` and their own entry shape.

OrderEntry = Callable[[tables.Order, Decimal], dict[str, Any]]


def list_open_orders(
    account_id: str, params: Params, maximum: int, entry: OrderEntry = serializers.order_listed
) -> list[dict[str, Any]]:
    """The account's working orders that `params` select (symbol, side, fromOrderId, limit), newest first."""
    page = order_page(params, maximum)
    _require_listed(page.symbol)
    with caught_up() as session:
        return listed_orders(session, orders.open_orders(session, account_id, page), entry)


def list_trade_orders(
    account_id: str, params: Params, maximum: int, entry: OrderEntry = serializers.order_listed
) -> list[dict[str, Any]]:
    """The account's finished orders of the last 90 days that `params` select, newest first."""
    # Checked before the market catches up, so that a refused request moves nothing: the parameters' form,
    # the symbol, then the 90 days, as account/trades checks its 30.
    start_ms, end_ms = params.filter_int("startTime"), params.filter_int("endTime")
    page = order_page(params, maximum)
    _require_listed(page.symbol)
    start_ms, end_ms = trade_orders_window(start_ms, end_ms, g.signed.market_ms)
    page = dataclasses.replace(page, start_ms=start_ms, end_ms=end_ms)
    with caught_up() as session:
        return listed_orders(session, orders.finished_orders(session, account_id, page), entry)


def _require_listed(symbol: str | None) -> None:
    """0201 for a symbol the venue does not list, as the cancels and account/trades answer."""
    if symbol is not None:
        instruments.instrument_row(g.read_session, symbol)


def listed_orders(
    session: Session, rows: list[tables.Order], entry: OrderEntry = serializers.order_listed
) -> list[dict[str, Any]]:
    prices = _average_prices(session, rows)
    return [entry(row, prices[row.order_id]) for row in rows]


def _average_prices(session: Session, rows: list[tables.Order]) -> dict[str, Decimal]:
    """Each order's average fill price, rounded to its symbol's quote precision."""
    precision: dict[str, Decimal] = {}
    for symbol in {row.symbol for row in rows}:
        precision[symbol] = instruments.instrument_rules(session, symbol).quote_precision
    return {row.order_id: orders.average_price(row, precision[row.symbol]) for row in rows}


# ---- parameters -------------------------------------------------------------------------------------


def _order_reference(params: Params, client_name: str) -> tuple[str | None, str | None]:
    order_id = params.optional_id("orderId")
    client_order_id = params.optional_text(client_name)
    if order_id is None and client_order_id is None:
        raise errors.RequiredFieldMissing(field="orderId")
    return order_id, client_order_id


def _side(params: Params) -> Side | None:
    text = params.optional_text("side")
    if text is None:
        return None
    try:
        return Side(text)
    except ValueError:
        raise errors.InvalidOrderSide() from None


def _limit(params: Params, default: int, maximum: int, clamp: bool = False) -> int:
    """limit: 1 to the maximum (0 is not sent), else -1130; with `clamp` more than the maximum counts as the
    maximum (cancelAllOpenOrders: "will only return 200 results even if limit being set greater than 200")."""
    value = params.filter_int("limit", maximum=None if clamp else maximum)
    return default if value is None else min(value, maximum)


def order_page(params: Params, maximum: int) -> orders.Page:
    """symbol, side, fromOrderId and limit (default 500, 1 to `maximum`, else -1130) of an order list."""
    return orders.Page(
        symbol=params.optional_text("symbol"),
        side=_side(params),
        from_order_id=params.filter_id("fromOrderId"),
        limit=_limit(params, DEFAULT_LIST, maximum),
    )


def trade_orders_window(start: int | None, end: int | None, now_ms: int) -> tuple[int, int | None]:
    """startTime/endTime within the last 90 days of market time (-2029 for one before them; -1130 naming
    endTime when it is before startTime); without startTime, the 90 days' start."""
    oldest = now_ms - TRADE_ORDERS_DAYS * orders.DAY_MS
    if (start is not None and start < oldest) or (end is not None and end < oldest):
        raise errors.SearchLimitedToLastThreeMonths()
    if end is not None and start is not None and end < start:
        raise errors.IllegalParameter(name="endTime")
    return (oldest if start is None else start), end


def _json_array() -> list[Any]:
    """The batch body; anything but a JSON array is -1004 with the document's message exactly (the admin
    API's answers say what was wrong, the venue's do not)."""
    try:
        value = json_body(request, as_parameters=True)
    except errors.BadRequest:
        raise errors.BadRequest() from None
    if not isinstance(value, list):
        raise errors.BadRequest()
    return value


# ---- transactions -----------------------------------------------------------------------------------


class _DryRun(Exception):
    """Raised inside a write transaction to roll it back after a successful check."""


_Market = tuple[Session, int, trading.Engine]  # a write transaction, the market's now, the engine


def _in_write() -> _Market:
    """A Tx.WRITE view's transaction at the clock its request was authenticated with."""
    session = g.write_session
    return session, g.signed.market_ms, market.engine(session, current_sim().settings, g.signed.clock)


@contextlib.contextmanager
def _write() -> Iterator[_Market]:
    """A write transaction of its own at the market clock's now, with the engine the settings and clock
    make."""
    sim = current_sim()
    with sim.database.write() as session:
        clock = read_clock(session)
        yield session, clock.now_ms(transport_now_ms()), market.engine(session, sim.settings, clock)
