"""The document's "Wallet" endpoints (deposit address, deposit history, address authentication, withdraw,
withdrawal history) and the fiat history of its "Account" section.

Reads first bring the market and the wallet's lifecycles up to the clock (`market.catch_up`); writes run
in one transaction at the market clock's now, after what was due by then.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from typing import Any

from flask import Blueprint, g
from sqlalchemy.orm import Session

from simulator import errors
from simulator.clock import transport_now_ms
from simulator.domain.accounts import Permission
from simulator.domain.money import parse_decimal
from simulator.domain.wallet import FIAT_CHANNELS, FIAT_STATUSES, FiatStatus, FiatType
from simulator.http import serializers
from simulator.http.auth import Tx, signed
from simulator.http.params import Params
from simulator.http.state import caught_up, current_sim
from simulator.services import wallet

bp = Blueprint("wallet", __name__)

DEFAULT_LIST = 500
MAX_LIST = 1000
MAX_CLIENT_ORDER_ID = 64
MAX_REMARK = 128
MAX_NAME = 128


@bp.get("/api/v1/account/deposit/address")
@signed(weight=1)
def deposit_address() -> dict[str, Any]:
    """GET /api/v1/account/deposit/address — the custody account's address for a coin and chain."""
    params = g.signed.params
    coin, chain_type = params.required_text("coin"), params.required_text("chainType")
    found = wallet.deposit_address(g.read_session, g.signed.identity, coin, chain_type)
    return serializers.deposit_address(found)


@bp.get("/api/v1/account/depositOrders")
@signed(weight=5)
def deposit_orders() -> list[dict[str, Any]]:
    """GET /api/v1/account/depositOrders — newest first."""
    params = g.signed.params
    coin, window, limit = params.optional_text("coin"), _window(params), _limit(params)
    with caught_up() as session:
        rows = wallet.deposit_orders(session, g.signed.identity, coin, window, limit)
        return [serializers.deposit_order(row, current_sim().coin_names) for row in rows]


@bp.post("/api/v1/account/authAddress")
@signed(weight=1, tx=Tx.OWN)
def auth_address() -> dict[str, Any]:
    """POST /api/v1/account/authAddress — the declaration a deposit waiting for it needs."""
    declaration = _declaration(g.signed.params)
    with _write() as (session, now_ms):
        wallet.authenticate_address(session, g.signed.identity, declaration, now_ms)
    return {"success": True, "msg": "", "timestamp": str(now_ms)}


@bp.post("/api/v1/account/withdraw")
@signed(weight=1, permission=Permission.WITHDRAW, tx=Tx.OWN)
def withdraw() -> dict[str, Any]:
    """POST /api/v1/account/withdraw — Withdraw VA."""
    new = _new_withdrawal(g.signed.params)
    settings = current_sim().settings
    delays = wallet.WalletDelays(settings.withdraw_delay_ms, settings.fiat_delay_ms)
    with _write() as (session, now_ms):
        row = wallet.withdraw(session, g.signed.identity, new, now_ms, delays)
        return {"success": True, "id": "0", "orderId": row.order_id, "accountId": row.account_id}


@bp.get("/api/v1/account/withdrawOrders")
@signed(weight=5)
def withdraw_orders() -> list[dict[str, Any]]:
    """GET /api/v1/account/withdrawOrders — newest first."""
    params = g.signed.params
    coin, remark = params.optional_text("coin"), params.optional_text("remark")
    window, limit = _window(params), _limit(params)
    with caught_up() as session:
        rows = wallet.withdraw_orders(session, g.signed.identity, coin, remark, window, limit)
        return [serializers.withdraw_order(row, current_sim().coin_names) for row in rows]


@bp.get("/api/v1/account/fiat/history")
@signed(weight=5)
def fiat_history() -> list[dict[str, Any]]:
    """GET /api/v1/account/fiat/history — fiat deposits or withdrawals of the fiat account."""
    wanted = _fiat_query(g.signed.params)
    with caught_up() as session:
        return [
            serializers.fiat_order(row) for row in wallet.fiat_history(session, g.signed.identity, wanted)
        ]


# ---- parameters -------------------------------------------------------------------------------------


def _new_withdrawal(params: Params) -> wallet.NewWithdrawal:
    coin = params.required_text("coin")
    client_order_id = params.required_text("clientOrderId")
    if len(client_order_id) > MAX_CLIENT_ORDER_ID:
        raise errors.RequiredFieldMissing(field="clientOrderId")
    address = params.required_text("address")
    quantity_text = params.optional_text("quantity")
    if quantity_text is None:
        raise errors.WithdrawAmountMissing()
    quantity = parse_decimal(quantity_text)
    if quantity is None:
        raise errors.IllegalWithdrawAmount()
    return wallet.NewWithdrawal(
        coin=coin,
        chain_type=params.required_text("chainType"),
        address=address,
        quantity=quantity,
        client_order_id=client_order_id,
        memo=params.optional_text("memo") or "",
        platform=params.optional_text("platform"),
        remark=_bounded(params, "remark", MAX_REMARK),
    )


def _declaration(params: Params) -> wallet.AddressDeclaration:
    """Either institutionalName, or both senderFirstName and senderLastName (the document's rule); the
    missing one is named in the 0001 answer. Checked in the document's order: txid first."""
    tx_id = params.required_text("txid")
    institutional = _bounded(params, "institutionalName", MAX_NAME)
    first = _bounded(params, "senderFirstName", MAX_NAME)
    last = _bounded(params, "senderLastName", MAX_NAME)
    if not institutional and not (first and last):
        missing = (
            "institutionalName" if not (first or last) else ("senderLastName" if first else "senderFirstName")
        )
        raise errors.RequiredFieldMissing(field=missing)
    exchange_name = _bounded(params, "exchangeName", MAX_NAME)
    if not exchange_name:
        raise errors.RequiredFieldMissing(field="exchangeName")
    return wallet.AddressDeclaration(
        tx_id=tx_id,
        exchange_name=exchange_name,
        is_address_owner=_boolean(params, "isAddressOwner"),
        sender_first_name=first,
        sender_last_name=last,
        institutional_name=institutional,
    )


def _fiat_query(params: Params) -> wallet.FiatQuery:
    type_text = params.required_text("type")
    if type_text not in {t.value for t in FiatType}:
        raise errors.InvalidFiatOrderType()
    fiat_type = FiatType(type_text)
    status_text = params.optional_text("status")
    allowed = {status.value for status in FIAT_STATUSES[fiat_type]}
    if status_text is not None and status_text not in allowed:
        raise (
            errors.InvalidFiatDepositStatus()
            if fiat_type is FiatType.DEPOSIT
            else errors.InvalidFiatWithdrawalStatus()
        )
    channel = params.optional_text("channel") or "auto"
    if channel not in FIAT_CHANNELS:
        raise errors.RequiredFieldMissing(field="channel")
    return wallet.FiatQuery(
        type=fiat_type,
        start_ms=params.required_int("startTime"),
        end_ms=params.required_int("endTime"),
        status=FiatStatus(status_text) if status_text is not None else None,
        channel=channel,
        remark=params.optional_text("remark"),
        limit=_limit(params),
    )


def _window(params: Params) -> tuple[int | None, int | None]:
    return params.filter_int("startTime"), params.filter_int("endTime")


def _limit(params: Params) -> int:
    """limit: default 500, at most 1000 (more is -1130, as on the account's order lists)."""
    limit = params.filter_int("limit", maximum=MAX_LIST)
    return DEFAULT_LIST if limit is None else limit


def _bounded(params: Params, name: str, longest: int) -> str:
    text = params.optional_text(name) or ""
    if len(text) > longest:
        raise errors.RequiredFieldMissing(field=name)
    return text


def _boolean(params: Params, name: str) -> bool:
    text = params.required_text(name).lower()
    if text not in ("true", "false"):
        raise errors.RequiredFieldMissing(field=name)
    return text == "true"


# ---- transactions -----------------------------------------------------------------------------------


@contextlib.contextmanager
def _write() -> Iterator[tuple[Session, int]]:
    """One write transaction at the market clock's now, after the wallet steps due by then."""
    with current_sim().database.write() as session:
        yield session, wallet.now_with_steps_taken(session, transport_now_ms())
