"""The document's "Account" endpoints that this version serves."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, g

from simulator.http import serializers
from simulator.http.auth import signed
from simulator.http.state import current_sim
from simulator.services import accounts

bp = Blueprint("account", __name__)


@bp.get("/api/v1/account")
@signed(weight=5)
def account_information() -> dict[str, Any]:
    """GET /api/v1/account — Get Account Information; `accountId` lets a master key read a sub account."""
    account_id = g.signed.params.optional_id("accountId")
    with current_sim().database.read() as session:
        account = accounts.readable_account(session, g.signed.identity, account_id)
        balances = accounts.balances(session, account.id)
        names = accounts.coin_names(session)
    return serializers.account_balances(account.user_id, balances, names)


@bp.get("/api/v1/account/checkApiKey")
@signed(weight=1)
def check_api_key() -> dict[str, Any]:
    """GET /api/v1/account/checkApiKey — Get API Key Type."""
    return serializers.api_key_type(g.signed.identity.key_type)


@bp.get("/api/v1/account/type")
@signed(weight=5)
def account_types() -> list[dict[str, Any]]:
    """GET /api/v1/account/type — Query Account Type."""
    with current_sim().database.read() as session:
        visible = accounts.visible_accounts(session, g.signed.identity)
    return [serializers.account_type(account) for account in visible]
