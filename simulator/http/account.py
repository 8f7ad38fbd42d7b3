"""The document's "Account" endpoints that this version serves, and the wallet's coin queries."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from flask import Blueprint, g, request

from simulator import errors
from simulator.clock import transport_now_ms
from simulator.domain.accounts import FlowType, Permission
from simulator.domain.money import parse_decimal
from simulator.http import serializers
from simulator.http.auth import Tx, public, signed
from simulator.http.params import DIGITS, Params, parse_params, raw_request
from simulator.http.state import caught_up, current_sim
from simulator.services import accounts, coins, ledger, transfers
from simulator.services.clock import read_clock

bp = Blueprint("account", __name__)


@bp.get("/api/v1/account")
@signed(weight=5)
def account_information() -> dict[str, Any]:
    """GET /api/v1/account — Get Account Information; `accountId` lets a master key read a sub account."""
    account_id = g.signed.params.optional_id("accountId")
    account_id = accounts.readable_account_id(g.read_session, g.signed.identity, account_id)
    with caught_up() as session:  # fills, deposits and withdrawals due by now change balances
        balances = accounts.balances(session, account_id)
    return serializers.account_balances(g.signed.identity.user_id, balances, current_sim().coin_names)


@bp.get("/api/v1/account/checkApiKey")
@signed(weight=1)
def check_api_key() -> dict[str, Any]:
    """GET /api/v1/account/checkApiKey — Get API Key Type."""
    return serializers.api_key_type(g.signed.identity.key_type)


@bp.get("/api/v1/account/type")
@signed(weight=5)
def account_types() -> list[dict[str, Any]]:
    """GET /api/v1/account/type — Query Account Type."""
    visible = accounts.visible_accounts(g.read_session, g.signed.identity)
    return [serializers.account_type(account) for account in visible]


# ---- wallet ---------------------------------------------------------------------------------------------

MAX_REMARK = 128
MAX_TRANSFER_CLIENT_ORDER_ID = 64
FLOW_DEFAULT_LIMIT = 500
FLOW_MAX_LIMIT = 500


@bp.post("/api/v1/account/assetTransfer")
# no transfer permission exists: moving funds needs TRADE; a write of its own (Tx.OWN: auth.signed says why)
@signed(weight=1, permission=Permission.TRADE, tx=Tx.OWN)
def asset_transfer() -> dict[str, Any]:
    """POST /api/v1/account/assetTransfer — Internal Account Transfer, stamped with the market time."""
    wanted = _transfer_request(g.signed.params)
    with current_sim().database.write() as session:
        transport_ms = transport_now_ms()  # after the write lock: the transfers before it are committed
        market_ms = read_clock(session).now_ms(transport_ms)
        row = transfers.transfer(session, g.signed.identity, wanted, market_ms, transport_ms)
        return serializers.transfer_ack(row)


@bp.get("/api/v1/account/balanceFlow")
@signed(weight=5)
def balance_flow() -> list[dict[str, Any]]:
    """GET /api/v1/account/balanceFlow — Get Account Transaction History List, newest first. The market is
    brought up to now first (fills of resting orders are in the ledger before it is read)."""
    params = g.signed.params
    wanted = ledger.FlowQuery(
        start_ms=params.required_int("startTime"),
        end_ms=params.required_int("endTime"),
        limit=params.filter_int("limit", maximum=FLOW_MAX_LIMIT) or FLOW_DEFAULT_LIMIT,
        flow_type=_flow_type(params),
    )
    account_type = _record_type(params)
    session = g.read_session
    now_ms = g.signed.market_ms
    ledger.check_window(wanted.start_ms, wanted.end_ms, now_ms)
    account_id = ledger.flow_account_id(session, g.signed.identity, account_type)
    if account_id is None:
        return []
    with caught_up() as fresh:
        entries = ledger.balance_flow(fresh, account_id, wanted, now_ms)
    return [serializers.balance_flow_entry(entry, current_sim().coin_names) for entry in entries]


@bp.get("/api/v1/account/chainType")
@signed(weight=1)
def chain_type() -> list[dict[str, Any]]:
    """GET /api/v1/account/chainType — Get ChainType: the chains deposits and withdrawals of a coin use."""
    definition = coins.coin_definition(g.read_session, g.signed.params.required_text("coinId"))
    return [serializers.chain_type_list(definition, coins.chain_types(definition))]


@bp.get("/api/v1/coinInfo")
@public(weight=1)
def coin_info() -> dict[str, Any]:
    """GET /api/v1/coinInfo — Get Coin Information. The document lists only coinId (no timestamp), so it is
    served unsigned like public market data; serverTime is the market clock."""
    coin_id = parse_params(raw_request(request)).required_text("coinId")
    with current_sim().database.read() as session:
        definition = coins.coin_definition(session, coin_id)
        now_ms = read_clock(session).now_ms(transport_now_ms())
    return serializers.coin_info(definition, now_ms)


def _transfer_request(params: Params) -> transfers.TransferRequest:
    """The parameters in the document's order; a missing or malformed one is 0001 naming it."""
    return transfers.TransferRequest(
        from_account_id=_required_account_id(params, "fromAccountId"),
        to_account_id=_required_account_id(params, "toAccountId"),
        coin=params.required_text("coin"),
        quantity=_positive_decimal(params, "quantity"),
        remark=_optional_text(params, "remark", MAX_REMARK),
        client_order_id=_optional_text(params, "clientOrderId", MAX_TRANSFER_CLIENT_ORDER_ID),
    )


def _required_account_id(params: Params, name: str) -> str:
    text = params.required_text(name)
    if not DIGITS.fullmatch(text):
        raise errors.RequiredFieldMissing(field=name)
    return text


def _positive_decimal(params: Params, name: str) -> Decimal:
    """Plain decimals, with trailing zeros, and exponent form (1e-05) are all accepted."""
    value = parse_decimal(params.required_text(name))
    if value is None or value <= 0:
        raise errors.RequiredFieldMissing(field=name)
    return value


def _optional_text(params: Params, name: str, max_length: int) -> str:
    """Empty when absent or sent empty; sent twice or longer than `max_length` is 0001 naming it."""
    found = params.values.get(name)
    if not found:
        return ""
    if len(found) > 1 or len(found[0]) > max_length:
        raise errors.RequiredFieldMissing(field=name)
    return found[0]


def _flow_type(params: Params) -> FlowType | None:
    """One of the document's flowType values, else 0001 flowType."""
    return _documented_value(params, "flowType", tuple(FlowType))


def _record_type(params: Params) -> int | None:
    """accountType 1 (spot trading), 3 (contract), 5 (custody) or 6 (fiat), else 0001 accountType."""
    return _documented_value(params, "accountType", ledger.RECORD_TYPES)


def _documented_value(params: Params, name: str, allowed: tuple[Any, ...]) -> Any:
    if name not in params.values:
        return None
    text = params.required_text(name)  # sent twice: 0001 too
    value = int(text) if DIGITS.fullmatch(text) else None
    for candidate in allowed:
        if candidate == value:
            return candidate
    raise errors.RequiredFieldMissing(field=name)
