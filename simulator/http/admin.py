"""The simulator's own control plane under /sim/v1/, guarded by X-SIM-ADMIN-TOKEN (never by a trading key).

It calls the same services as the CLI, so `accounts create --json` and POST /sim/v1/accounts answer alike.
"""

from __future__ import annotations

import contextlib
import hmac
from collections.abc import Iterator
from decimal import Decimal
from typing import Any

from flask import Blueprint, request
from sqlalchemy.orm import Session

from simulator import errors
from simulator.clock import transport_now_ms
from simulator.domain.clock import ClockError, ClockMode, MarketClock
from simulator.domain.money import parse_decimal
from simulator.domain.wallet import FIAT_CHANNELS, FiatType, WithdrawStatus
from simulator.http import serializers
from simulator.http.params import json_decimal, json_object
from simulator.http.state import current_sim
from simulator.services import accounts, market, wallet
from simulator.services.clock import read_clock

bp = Blueprint("admin", __name__, url_prefix="/sim/v1")
TOKEN_HEADER = "X-SIM-ADMIN-TOKEN"


@bp.before_request
def require_admin_token() -> None:
    """401 unless the header carries the admin token; compared in constant time."""
    sent = request.headers.get(TOKEN_HEADER, "")
    if not hmac.compare_digest(sent.encode(), current_sim().admin_token.encode()):
        raise errors.AdminUnauthorized()


@bp.post("/accounts")
def create_account() -> tuple[dict[str, Any], int]:
    """POST /sim/v1/accounts — a user with its accounts, keys and opening balances."""
    body = json_object(request)
    new = accounts.build_new_account(
        balances=body.get("balances"),
        sub_accounts=body.get("subAccounts", 0),
        api_key=body.get("apiKey"),
        secret_key=body.get("secretKey"),
        permissions=body.get("permissions"),
        ips=body.get("ips"),
    )
    with current_sim().database.write() as session:
        user = accounts.create_account(session, new, transport_now_ms())
        return serializers.created_user(user, accounts.balances_by_account(session, user)), 201


@bp.get("/accounts")
def list_accounts() -> dict[str, Any]:
    """GET /sim/v1/accounts — every user, as POST /sim/v1/accounts answered it."""
    with current_sim().database.read() as session:
        users = accounts.list_users(session)
        return {
            "users": [serializers.created_user(u, accounts.balances_by_account(session, u)) for u in users]
        }


@bp.post("/accounts/<account_id>/balances")
def adjust_balance(account_id: str) -> dict[str, Any]:
    """POST /sim/v1/accounts/<accountId>/balances — credit, or debit with a negative amount."""
    body = json_object(request)
    asset = body.get("asset")
    if not isinstance(asset, str) or not asset:
        raise errors.RequiredFieldMissing(field="asset")
    amount = json_decimal(body, "amount")
    with current_sim().database.write() as session:
        row = accounts.admin_adjust_balance(session, account_id, asset.upper(), amount, transport_now_ms())
        return serializers.balance(row)


@bp.post("/accounts/<account_id>/apiKeys")
def add_api_key(account_id: str) -> tuple[dict[str, Any], int]:
    """POST /sim/v1/accounts/<accountId>/apiKeys — another key for a main or sub trading account."""
    body = json_object(request)
    new = accounts.build_new_account(
        api_key=body.get("apiKey"),
        secret_key=body.get("secretKey"),
        permissions=body.get("permissions"),
        ips=body.get("ips"),
    )
    with current_sim().database.write() as session:
        key = accounts.add_api_key_to_account(
            session, account_id, new.permissions, new.ips, transport_now_ms(), new.api_key, new.secret_key
        )
        return serializers.api_key(key), 201


# ---- wallet: what happens outside the exchange (a deposit arrives, a bank transfer, a chain fails) ----


@bp.post("/accounts/<account_id>/deposits")
def create_deposit(account_id: str) -> tuple[dict[str, Any], int]:
    """POST /sim/v1/accounts/<accountId>/deposits — an on-chain deposit to the user's custody account:
    {"coin", "chainType", "quantity", "txId"?, "needsAddressAuthentication"?}."""
    body = json_object(request)
    quantity = json_decimal(body, "quantity")
    needs_authentication = body.get("needsAddressAuthentication", False)
    if not isinstance(needs_authentication, bool):
        raise errors.IllegalParameter(name="needsAddressAuthentication")
    with _wallet_write() as (session, now_ms):
        row = wallet.create_deposit(
            session,
            account_id,
            _text(body, "coin").upper(),
            _text(body, "chainType"),
            quantity,
            now_ms,
            tx_id=_optional_text(body, "txId"),
            needs_address_authentication=needs_authentication,
        )
        return serializers.admin_deposit(row, current_sim().coin_names), 201


@bp.post("/deposits/<deposit_id>/fail")
def fail_deposit(deposit_id: str) -> dict[str, Any]:
    """POST /sim/v1/deposits/<id>/fail — a deposit not yet credited fails (status 3)."""
    with _wallet_write() as (session, now_ms):
        return serializers.admin_deposit(
            wallet.fail_deposit(session, deposit_id, now_ms), current_sim().coin_names
        )


@bp.post("/withdrawals/<order_id>")
def end_withdrawal(order_id: str) -> dict[str, Any]:
    """POST /sim/v1/withdrawals/<orderId> — {"status": "failed"} or {"status": "canceled"}: a withdrawal
    still withdrawing ends and its quantity goes back to free."""
    status = json_object(request).get("status")
    if status not in (WithdrawStatus.FAILED, WithdrawStatus.CANCELED):
        raise errors.WithdrawStatusInvalid()
    with _wallet_write() as (session, now_ms):
        row = wallet.end_withdrawal(session, order_id, WithdrawStatus(status), now_ms)
        return serializers.withdraw_order(row, current_sim().coin_names)


@bp.post("/accounts/<account_id>/fiatOrders")
def create_fiat_order(account_id: str) -> tuple[dict[str, Any], int]:
    """POST /sim/v1/accounts/<accountId>/fiatOrders — {"type": "deposit"|"withdraw", "asset", "amount",
    "fee"?, "channel"?, "remark"?, "clientOrderId"?} on the user's fiat account."""
    body = json_object(request)
    if body.get("type") not in (FiatType.DEPOSIT, FiatType.WITHDRAW):
        raise errors.InvalidFiatOrderType()
    channel = body.get("channel", "auto")
    if channel not in FIAT_CHANNELS:
        raise errors.IllegalParameter(name="channel")
    new = wallet.NewFiatOrder(
        account_id=account_id,
        type=FiatType(body["type"]),
        asset=_text(body, "asset").upper(),
        gross_amount=json_decimal(body, "amount"),
        fee=json_decimal(body, "fee") if "fee" in body else Decimal(0),
        channel=channel,
        remark=_optional_text(body, "remark") or "",
        client_order_id=_optional_text(body, "clientOrderId") or "",
    )
    with _wallet_write() as (session, now_ms):
        row = wallet.create_fiat_order(session, new, now_ms, _delays())
        return serializers.fiat_order(row), 201


@bp.post("/fiatOrders/<order_id>/fail")
def fail_fiat_order(order_id: str) -> dict[str, Any]:
    """POST /sim/v1/fiatOrders/<orderId>/fail — a processing fiat order fails."""
    with _wallet_write() as (session, now_ms):
        return serializers.fiat_order(wallet.fail_fiat_order(session, order_id, now_ms))


@bp.put("/apiKeys/<api_key>/withdrawAddresses")
def set_withdraw_addresses(api_key: str) -> dict[str, Any]:
    """PUT /sim/v1/apiKeys/<apiKey>/withdrawAddresses — {"addresses": [...]}: the key's withdrawal
    whitelist (an empty list lifts it)."""
    chosen = json_object(request).get("addresses")
    if not isinstance(chosen, list) or not all(isinstance(a, str) and a for a in chosen):
        raise errors.IllegalParameter(name="addresses")
    with current_sim().database.write() as session:
        return {"apiKey": api_key, "addresses": wallet.set_withdraw_addresses(session, api_key, chosen)}


@contextlib.contextmanager
def _wallet_write() -> Iterator[tuple[Session, int]]:
    with current_sim().database.write() as session:
        yield session, wallet.now_with_steps_taken(session, transport_now_ms())


def _delays() -> wallet.WalletDelays:
    settings = current_sim().settings
    return wallet.WalletDelays(settings.withdraw_delay_ms, settings.fiat_delay_ms)


def _text(body: dict[str, Any], name: str) -> str:
    value = body.get(name)
    if not isinstance(value, str) or not value:
        raise errors.RequiredFieldMissing(field=name)
    return value


def _optional_text(body: dict[str, Any], name: str) -> str | None:
    value = body.get(name)
    if value is not None and not isinstance(value, str):
        raise errors.IllegalParameter(name=name)
    return value


@bp.get("/clock")
def get_clock() -> dict[str, Any]:
    """GET /sim/v1/clock — {"mode", "time", "speed"}."""
    now_ms = transport_now_ms()
    with current_sim().database.read() as session:
        return serializers.clock(read_clock(session), now_ms)


@bp.post("/clock")
def set_clock() -> dict[str, Any]:
    """POST /sim/v1/clock — {"mode": "replay", "time": ms, "speed": x}, {"mode": "live"}, {"advanceMs": n}
    or {"advanceTo": "nextEvent"}. An advance applies the market events on the way to resting orders."""
    body = json_object(request)
    now_ms = transport_now_ms()
    sim = current_sim()
    if "advanceMs" in body or "advanceTo" in body:
        try:
            clock = market.step_clock(sim.database, sim.settings, now_ms, _advance(body))
        except ClockError as e:
            raise errors.UnsupportedOperation(f"Unsupported operation: {e}") from e
        return serializers.clock(clock, now_ms)
    with sim.database.write() as session:
        try:
            clock = market.set_clock(session, changed_clock(body, now_ms, read_clock(session)), now_ms)
        except ClockError as e:
            raise errors.UnsupportedOperation(f"Unsupported operation: {e}") from e
    return serializers.clock(clock, now_ms)


def _advance(body: dict[str, Any]) -> int | None:
    """advanceMs: that many ms; advanceTo "nextEvent": None (to the next recorded event)."""
    (name,) = body if len(body) == 1 else (None,)
    if name == "advanceMs":
        return _whole_number(body, "advanceMs")
    if name == "advanceTo" and body["advanceTo"] == "nextEvent":
        return None
    raise errors.IllegalParameter(name="advanceTo" if "advanceTo" in body else "advanceMs")


def changed_clock(body: dict[str, Any], now_ms: int, clock: MarketClock) -> MarketClock:
    mode = body.get("mode")
    if mode == ClockMode.LIVE:
        return MarketClock.live(now_ms)
    if mode != ClockMode.REPLAY:
        raise errors.IllegalParameter(name="mode")
    start = _whole_number(body, "time") if "time" in body else clock.now_ms(now_ms)
    speed = parse_decimal(body.get("speed", 1))
    if speed is None or speed < 0:
        raise errors.IllegalParameter(name="speed")
    try:
        return MarketClock.replay(start, speed, now_ms)
    except ClockError as e:
        raise errors.IllegalParameter(name="time") from e


def _whole_number(body: dict[str, Any], name: str) -> int:
    value = body.get(name)
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise errors.IllegalParameter(name=name)
    return value
