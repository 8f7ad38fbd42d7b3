"""The simulator's own control plane under /sim/v1/, guarded by X-SIM-ADMIN-TOKEN (never by a trading key).

It calls the same services as the CLI, so `accounts create --json` and POST /sim/v1/accounts answer alike.
"""

from __future__ import annotations

import hmac
from typing import Any

from flask import Blueprint, request

from simulator import errors
from simulator.clock import transport_now_ms
from simulator.domain.clock import ClockError, ClockMode, MarketClock
from simulator.domain.money import parse_decimal
from simulator.http import serializers
from simulator.http.params import json_decimal, json_object
from simulator.http.state import current_sim
from simulator.services import accounts, market
from simulator.services.clock import read_clock, write_clock

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
        clock = changed_clock(body, now_ms, read_clock(session))
        write_clock(session, clock)
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
