"""Events for the streams, written in the same transaction as the change that caused them (the `outbox`
table; WebSocket pushes read it in order, so nothing committed is lost and nothing uncommitted is sent):
order updates, an order's fills, and balances as the transaction left them."""

from __future__ import annotations

import json
from collections.abc import Iterable
from decimal import Decimal
from typing import Any

from sqlalchemy.orm import Session

from simulator.domain.money import wire_amount
from simulator.services.accounts import balance_at_start, ensure_balance
from simulator.storage import pending, tables
from simulator.storage.records import OrderRecord
from simulator.storage.transaction import transaction_cache, transaction_cached


def order_update(session: Session, row: OrderRecord) -> None:
    _trades_of(session, row.order_id)  # the fills first, then the update they led to
    _event(session, row.account_id, "order", row.updated_ms, order_json(row))


def trade(session: Session, account_id: str, fill: dict[str, Any]) -> None:
    """A fill for the streams. An order's fills up to its next update in the transaction are one `trade`
    event listing them in order: a 20-fill order writes one event, not twenty."""
    waiting = transaction_cached(session, _TRADES_WAITING, dict)
    if not waiting:  # the first since the last event: write the rest before the commit if none follows
        pending.before_write(session, _TRADES_WAITING, _trades_waiting)
    waiting.setdefault(fill["order_id"], (account_id, fill["time"], []))[2].append(_fill_json(fill))


def _trades_of(session: Session, order_id: str) -> None:
    waiting = transaction_cache(session).get(_TRADES_WAITING)
    if waiting and order_id in waiting:
        account_id, time, fills = waiting.pop(order_id)
        _event(session, account_id, "trade", time, fills)


def _trades_waiting(session: Session) -> None:
    for order_id in list(transaction_cache(session).get(_TRADES_WAITING, ())):
        _trades_of(session, order_id)


_TRADES_WAITING = "trades_waiting"


def order_json(row: OrderRecord) -> dict[str, Any]:
    return {
        "orderId": row.order_id,
        "clientOrderId": row.client_order_id,
        "symbol": row.symbol,
        "side": row.side,
        "type": row.type,
        "timeInForce": row.time_in_force,
        "price": _text(row.price),
        "origQty": _text(row.quantity),
        "reqAmount": _text(row.amount),
        "executedQty": _text(row.executed_qty),
        "cumulativeQuoteQty": _text(row.executed_quote),
        "status": row.status,
        "ordCxlReason": row.cancel_reason,
        "time": row.created_ms,
        "updateTime": row.updated_ms,
    }


def _fill_json(fill: dict[str, Any]) -> dict[str, Any]:
    return {
        "id": fill["id"],
        "ticketId": fill["ticket_id"],
        "orderId": fill["order_id"],
        "symbol": fill["symbol"],
        "side": fill["side"],
        "price": _text(fill["price"]),
        "qty": _text(fill["qty"]),
        "isMaker": bool(fill["is_maker"]),
        "commission": _text(fill["fee_amount"]),
        "commissionAsset": fill["fee_asset"],
        "time": fill["time"],
    }


def balances(session: Session, account_id: str, assets: Iterable[str], time: int) -> None:
    """Balances changed: one event per account and asset is written with the transaction's other rows,
    showing the balance as the transaction left it (not one per balance change)."""
    touched = transaction_cached(session, _BALANCES_TOUCHED, dict)
    if not touched:
        pending.before_write(session, _BALANCES_TOUCHED, _balances_touched)
    for asset in assets:
        touched[(account_id, asset)] = max(time, touched.get((account_id, asset), time))


def _balances_touched(session: Session) -> None:
    for (account_id, asset), time in sorted(transaction_cache(session).pop(_BALANCES_TOUCHED, {}).items()):
        balance = ensure_balance(session, account_id, asset)
        if balance_at_start(session, account_id, asset) == (balance.free, balance.locked):
            continue  # where the transaction found it (an IOC that filled nothing locked and released it)
        payload = {"asset": asset, "free": wire_amount(balance.free), "locked": wire_amount(balance.locked)}
        _event(session, account_id, "balance", time, payload)


_BALANCES_TOUCHED = "balances_touched"


def _event(session: Session, account_id: str, kind: str, time: int, payload: Any) -> None:
    values = {
        "account_id": account_id,
        "kind": kind,
        "time": time,
        "payload": json.dumps(payload, separators=(",", ":")),
    }
    pending.add_row(session, tables.OutboxEvent.__table__, values)


def _text(value: Decimal | None) -> str:
    return "0" if value is None else format(value, "f")
