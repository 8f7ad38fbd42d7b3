"""Domain and storage objects -> the venue's JSON: field names and types as the document shows them,
decimals as strings, ids as strings."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from simulator.domain.accounts import AccountType, KeyType, account_label
from simulator.domain.clock import MarketClock
from simulator.domain.money import wire_amount
from simulator.storage import tables


def account_balances(
    user_id: str, balances: list[tables.Balance], coin_names: dict[str, str]
) -> dict[str, Any]:
    """GET /api/v1/account."""
    return {
        "balances": [
            {
                "asset": balance.asset,
                "assetId": balance.asset,
                "assetName": coin_names.get(balance.asset, balance.asset),
                "total": wire_amount(balance.free + balance.locked),
                "free": wire_amount(balance.free),
                "locked": wire_amount(balance.locked),
            }
            for balance in balances
        ],
        "userId": user_id,
    }


def account_type(account: tables.Account) -> dict[str, Any]:
    """One entry of GET /api/v1/account/type."""
    return {
        "accountId": account.id,
        "accountLabel": account_label(AccountType(account.account_type), account.account_index),
        "accountType": account.account_type,
        "accountIndex": account.account_index,
        "userId": account.user_id,
    }


def api_key_type(key_type: KeyType) -> dict[str, str]:
    """GET /api/v1/account/checkApiKey."""
    return {"accountType": "Master Account" if key_type is KeyType.MASTER else "Sub Account"}


def created_user(user: tables.User, balances: dict[str, list[tables.Balance]]) -> dict[str, Any]:
    """What `accounts create --json` prints and POST /sim/v1/accounts answers (simulator-only shape)."""
    keys_by_account = {key.account_id: key for key in user.api_keys}
    main = next(a for a in user.accounts if a.account_type == AccountType.TRADING and a.account_index == 0)
    master = keys_by_account[main.id]
    return {
        "userId": user.id,
        "accountId": main.id,
        "apiKey": master.api_key,
        "secretKey": master.secret,
        "permissions": master.permissions.split(","),
        "ips": [ip for ip in master.ip_whitelist.split(",") if ip],
        "accounts": [_account_entry(account, keys_by_account, balances) for account in user.accounts],
    }


def _account_entry(
    account: tables.Account,
    keys_by_account: dict[str, tables.ApiKey],
    balances: dict[str, list[tables.Balance]],
) -> dict[str, Any]:
    entry = account_type(account)
    key = keys_by_account.get(account.id)
    if key is not None:
        entry["apiKey"] = key.api_key
        entry["secretKey"] = key.secret
        entry["keyType"] = key.key_type
    entry["balances"] = {b.asset: wire_amount(b.free + b.locked) for b in balances.get(account.id, [])}
    return entry


def api_key(key: tables.ApiKey) -> dict[str, Any]:
    return {
        "apiKey": key.api_key,
        "secretKey": key.secret,
        "accountId": key.account_id,
        "userId": key.user_id,
        "keyType": key.key_type,
        "permissions": key.permissions.split(","),
        "ips": [ip for ip in key.ip_whitelist.split(",") if ip],
    }


def balance(row: tables.Balance) -> dict[str, str]:
    return {
        "accountId": row.account_id,
        "asset": row.asset,
        "free": wire_amount(row.free),
        "locked": wire_amount(row.locked),
        "total": wire_amount(row.free + row.locked),
    }


def clock(market_clock: MarketClock, transport_ms: int) -> dict[str, Any]:
    """GET/POST /sim/v1/clock: speed is a JSON number (an int when whole)."""
    speed: Decimal = market_clock.speed
    return {
        "mode": market_clock.mode.value,
        "time": market_clock.now_ms(transport_ms),
        "speed": int(speed) if speed == speed.to_integral_value() else float(speed),
    }
