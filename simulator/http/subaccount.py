"""The document's "Sub Account" endpoints: a master key reads one of its user's sub accounts' open orders,
finished orders and trades.

Each is the account's own list (GET /api/v1/spot/openOrders, /api/v1/spot/tradeOrders,
/api/v1/account/trades) pointed at the sub account: the same parameter parsing, market catch-up and
serialization, shared through http/orders.py and http/trades.py. Checked first, in this order: the key is a
master key (-1205), `subAccountId` is present (0001), and it is one of the key user's sub trading accounts
(-1205 for anything else: another user's account, the user's main, custody or fiat account, an unknown or
malformed id). Then the parameters, as the account's own list checks them.
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, g
from sqlalchemy.orm import Session

from simulator import errors
from simulator.domain.accounts import KeyType
from simulator.http import orders as order_lists
from simulator.http import serializers
from simulator.http import trades as trade_lists
from simulator.http.auth import signed
from simulator.services import accounts

bp = Blueprint("subaccount", __name__)

MAX_SUB_ACCOUNT_ORDERS = 500  # the document: "Default 500, Maximum 500" (the account's own lists allow 1000)


@bp.get("/api/v1/spot/subAccount/openOrders")
@signed(weight=1)
def sub_account_open_orders() -> list[dict[str, Any]]:
    """GET /api/v1/spot/subAccount/openOrders — Get Sub Account Open Orders, newest first."""
    account_id = _sub_account_id()
    return order_lists.list_open_orders(
        account_id, g.signed.params, MAX_SUB_ACCOUNT_ORDERS, serializers.sub_account_order
    )


@bp.get("/api/v1/spot/subAccount/tradeOrders")
@signed(weight=5)
def sub_account_trade_orders() -> list[dict[str, Any]]:
    """GET /api/v1/spot/subAccount/tradeOrders — Get Sub Account Trade Orders: finished orders of the last 90
    days, newest first."""
    account_id = _sub_account_id()
    return order_lists.list_trade_orders(
        account_id, g.signed.params, MAX_SUB_ACCOUNT_ORDERS, serializers.sub_account_order
    )


@bp.get("/api/v1/subAccount/trades")
@signed(weight=5)
def sub_account_trades() -> list[dict[str, Any]]:
    """GET /api/v1/subAccount/trades — Get Sub Account Trades: fills of the last 30 days, newest first.

    The document marks subAccountId optional; without it there is no one account to read, so it is required
    here (0001) like on the two order lists."""
    account_id = _sub_account_id()

    def the_sub_account(_: Session) -> str:
        return account_id

    return trade_lists.listed_trades(trade_lists.trade_filter(g.signed.params, the_sub_account))


def _sub_account_id() -> str:
    """The sub account the request names, if the key may read it: master keys only, and only the sub trading
    accounts of the key's own user."""
    identity = g.signed.identity
    if identity.key_type is not KeyType.MASTER:
        raise errors.AccountNotAuthorized()
    requested = g.signed.params.required_text("subAccountId")
    if requested not in accounts.sub_account_ids(g.read_session, identity.user_id):
        raise errors.AccountNotAuthorized()
    return requested
