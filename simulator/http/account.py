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
    session = g.read_session
    account_id = accounts.readable_account_id(session, g.signed.identity, account_id)
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
