"""The document's "Get Account Trade List" and "Get VIP Information" endpoints: the caller's fills and its
fee tier, after the market has been brought up to now (fills of resting orders exist before they are read).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from flask import Blueprint, g
from sqlalchemy.orm import Session

from simulator import errors
from simulator.domain.money import wire_amount
from simulator.http.auth import signed
from simulator.http.params import Params
from simulator.http.state import current_sim, market_now
from simulator.services import accounts, fills
from simulator.services.instruments import instrument_rules

bp = Blueprint("trades", __name__)

TRADES_DEFAULT_LIMIT = 500
TRADES_MAX_LIMIT = 1000


@bp.get("/api/v1/account/trades")
@signed(weight=5)
def account_trades() -> list[dict[str, Any]]:
    """GET /api/v1/account/trades — Get Account Trade List: the key's account (or `accountId`), newest
    first."""
    params = g.signed.params

    def requested_account(session: Session) -> str:
        return accounts.readable_account_id(session, g.signed.identity, params.optional_id("accountId"))

    return listed_trades(trade_filter(params, requested_account))


# Shared with GET /api/v1/subAccount/trades (http/subaccount.py), which names its account differently.


def listed_trades(wanted: fills.TradeFilter) -> list[dict[str, Any]]:
    """The fills `wanted` selects, newest first, after the market (of its symbol) was brought up to now."""
    sim = current_sim()
    market_now([wanted.symbol] if wanted.symbol else None)
    with sim.database.read() as session:
        found = fills.account_trades(session, wanted)
    return [_trade(trade, sim.coin_names) for trade in found]


def trade_filter(params: Params, account_of: Callable[[Session], str]) -> fills.TradeFilter:
    """The request's filters, checked in this order: each parameter's form (in the document's order), then
    the account `account_of` names (account/trades: accountId, -3117 / 0104), symbol (0201), and startTime's
    30 days (-2028). Nothing is written before."""
    symbol = params.optional_text("symbol")
    start_ms = params.filter_int("startTime")
    end_ms = params.filter_int("endTime")
    client_order_id = params.optional_text("clientOrderId")
    from_id = params.filter_id("fromId")
    to_id = params.filter_id("toId")
    limit = params.filter_int("limit", maximum=TRADES_MAX_LIMIT) or TRADES_DEFAULT_LIMIT
    session = g.read_session
    account_id = account_of(session)
    if symbol is not None:
        instrument_rules(session, symbol)  # 0201 for a symbol the venue does not list
    now_ms = g.signed.market_ms
    return fills.TradeFilter(
        account_id=account_id,
        since_ms=fills.trade_window_start(start_ms, now_ms),
        until_ms=end_ms,
        symbol=symbol,
        client_order_id=client_order_id,
        from_id=from_id,
        to_id=to_id,
        limit=limit,
    )


def _trade(trade: fills.AccountTrade, coin_names: dict[str, str]) -> dict[str, Any]:
    """One entry of GET /api/v1/account/trades, fields in the document's order. No HSK fee deduction here:
    the fee before and after it are the same."""
    fill = trade.fill
    fee_asset, fee = fill.fee_asset, wire_amount(fill.fee_amount)
    fee_name = coin_names.get(fee_asset, fee_asset)
    return {
        "id": fill.id,
        "clientOrderId": trade.client_order_id,
        "ticketId": fill.ticket_id,
        "symbol": fill.symbol,
        "symbolName": fill.symbol,
        "orderId": fill.order_id,
        "matchOrderId": "0",  # "//Ignore" in the document, "0" in its examples: the counterparty stays hidden
        "price": wire_amount(fill.price),
        "qty": wire_amount(fill.qty),
        "commission": fee,
        "commissionAsset": fee_asset,
        "time": str(fill.time),
        "isBuyer": fill.side == "BUY",
        "isMaker": bool(fill.is_maker),
        "fee": {
            "feeCoinId": fee_asset,
            "feeCoinName": fee_name,
            "fee": fee,
            "originCoinId": fee_asset,
            "originCoinName": fee_name,
            "originFee": fee,
        },
        "feeCoinId": fee_asset,
        "feeAmount": fee,
        "makerRebate": "0",
        "hskDeduct": False,
        "hskDeductPrice": "",
    }


@bp.get("/api/v1/account/vipInfo")
@signed(weight=5)
def vip_info() -> dict[str, Any]:
    """GET /api/v1/account/vipInfo — Get VIP Information: the user's level, 30-day volume, assets, and the
    fee rates of every symbol (or of `symbols`, a comma-separated list)."""
    symbols = _symbol_list(g.signed.params)
    identity = g.signed.identity
    sim = current_sim()
    market = market_now()
    with sim.database.read() as session:
        summary = fills.vip_summary(
            session,
            identity.user_id,
            identity.account_id,
            symbols,
            market.now_ms,
            market.engine,
        )
    return _vip_info(summary)


def _symbol_list(params: Params) -> list[str] | None:
    """`symbols=BTCUSDT,ETHUSDT`: names around commas trimmed; an empty name is -1130."""
    text = params.optional_text("symbols")
    if text is None:
        return None
    names = [name.strip() for name in text.split(",")]
    if not all(names):
        raise errors.IllegalParameter(name="symbols")
    for name in names:  # 0201 before the market catches up: a refused request writes nothing
        instrument_rules(g.read_session, name)
    return names


def _vip_info(summary: fills.VipSummary) -> dict[str, Any]:
    """GET /api/v1/account/vipInfo, fields in the order of the document's example (`code` is a number)."""
    return {
        "code": 0,
        "vipLevel": str(summary.vip_level),
        "tradeVol30Day": wire_amount(summary.trade_volume_usd),
        "totalAssetBal": wire_amount(summary.total_assets_usd),
        "data": [
            {
                "symbol": fees.symbol,
                "productType": fees.product_type,
                "buyMakerFeeCurrency": fees.buy_fee_asset,
                "buyTakerFeeCurrency": fees.buy_fee_asset,
                "sellMakerFeeCurrency": fees.sell_fee_asset,
                "sellTakerFeeCurrency": fees.sell_fee_asset,
                "actualMakerRate": wire_amount(fees.maker_rate),
                "actualTakerRate": wire_amount(fees.taker_rate),
            }
            for fees in summary.symbols
        ],
        "updateTimestamp": str(summary.as_of_ms),
    }
