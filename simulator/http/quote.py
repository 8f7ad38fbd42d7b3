"""Public market data: the document's "Public Market Data" section (exchangeInfo and /quote/v1/*).

Every answer is at the market clock's now. Parameters are checked in the order symbol, then the others
(limit, interval, scale, times), then whether the symbol exists, so a request with several problems gets
the first of these. The document gives no weights for this section; they are ccxt's: exchangeInfo 5,
the quote endpoints 1.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from flask import Blueprint, request

from simulator import errors
from simulator.clock import transport_now_ms
from simulator.domain import quotes as rules
from simulator.domain.money import wire_amount
from simulator.domain.quotes import Level, Print
from simulator.http.auth import public
from simulator.http.params import Params, parse_params, raw_request
from simulator.http.state import current_sim
from simulator.marketdata.records import Kline
from simulator.services import quotes

bp = Blueprint("quote", __name__)

DEPTH_LIMIT = (100, 200)  # (default, maximum) levels per side
TRADES_LIMIT = (100, 100)
KLINES_LIMIT = (1000, 1000)
MAX_SCALE = 5
SITES = ("BMU", "UAE")
INSTRUMENT_TYPES = ("SPOT", "FUTURES", "ANY")
COIN_FIELDS = (
    "orgId",
    "coinId",
    "coinName",
    "coinFullName",
    "allowWithdraw",
    "allowDeposit",
    "tokenType",
    "status",
    "chainTypes",
)
# The document's table spells one of these "maxWIthdrawQuantity"; the venue (ccxt's recorded answer) and
# our fixtures spell it maxWithdrawQuantity.
CHAIN_FIELDS = (
    "chainType",
    "withdrawFee",
    "minWithdrawQuantity",
    "maxWithdrawQuantity",
    "minDepositQuantity",
    "allowDeposit",
    "allowWithdraw",
)


@bp.get("/api/v1/exchangeInfo")
@public(weight=5)
def exchange_info() -> dict[str, Any]:
    """GET /api/v1/exchangeInfo — trading rules, symbols and coins; `symbols` and `coins` are always there."""
    params = _params()
    symbol = params.optional_text("symbol")
    site = _choice(params, "site", SITES)
    info = quotes.exchange_info(current_sim().database, transport_now_ms(), symbol, site)
    return {
        "timezone": "UTC",
        "serverTime": info.now_ms,
        "symbols": info.symbols,
        "coins": [_coin(coin) for coin in info.coins],
        "brokerFilters": [],
        "contracts": [],
        "options": [],
        "site": site or "BMU",
    }


@bp.get("/quote/v1/depth")
@public(weight=1)
def depth() -> dict[str, Any]:
    """GET /quote/v1/depth — the order book: recorded levels plus simulated resting orders."""
    params = _params()
    symbol = params.required_text("symbol")
    limit = _limit(params, *DEPTH_LIMIT)
    book = quotes.order_book(current_sim().database, current_sim().settings, transport_now_ms(), symbol)
    return _book(book.now_ms, book.bids[:limit], book.asks[:limit])


@bp.get("/quote/v1/depth/merged")
@public(weight=1)
def merged_depth() -> dict[str, Any]:
    """GET /quote/v1/depth/merged — the book on a price grid of tickSize x 10^scale."""
    params = _params()
    symbol = params.required_text("symbol")
    limit = _limit(params, *DEPTH_LIMIT)
    scale = params.optional_int("scale", minimum=0, maximum=MAX_SCALE) or 0
    book = quotes.order_book(current_sim().database, current_sim().settings, transport_now_ms(), symbol)
    step = rules.scale_step(book.tick_size, scale)
    bids = rules.merge_by_step(book.bids, step, bids=True)[:limit]
    asks = rules.merge_by_step(book.asks, step, bids=False)[:limit]
    return _book(book.now_ms, bids, asks)


@bp.get("/quote/v1/trades")
@public(weight=1)
def trades() -> list[dict[str, Any]]:
    """GET /quote/v1/trades — the newest prints, oldest first: recorded trades and simulated takers' fills."""
    params = _params()
    symbol = params.required_text("symbol")
    limit = _limit(params, *TRADES_LIMIT)
    sim = current_sim()
    prints = quotes.recent_trades(sim.database, sim.settings, transport_now_ms(), symbol, limit)
    return [_print(p) for p in prints]


@bp.get("/quote/v1/klines")
@public(weight=1)
def klines() -> list[list[Any]]:
    """GET /quote/v1/klines — candlesticks of any documented interval, rolled up from stored bars."""
    params = _params()
    symbol = params.required_text("symbol")
    interval = params.required_text("interval")
    if interval not in rules.KLINE_INTERVALS:
        raise errors.IllegalParameter(name="interval")
    limit = _limit(params, *KLINES_LIMIT)
    window = (params.optional_int("startTime"), params.optional_int("endTime"))
    sim = current_sim()
    bars = quotes.klines(sim.database, sim.settings, transport_now_ms(), symbol, interval, window, limit)
    return [_kline(bar) for bar in bars]


@bp.get("/quote/v1/ticker/24hr")
@public(weight=1)
def ticker_24hr() -> list[dict[str, Any]]:
    """GET /quote/v1/ticker/24hr — rolling 24-hour figures, always a list (every symbol when none given)."""
    params = _params()
    symbol = params.optional_text("symbol")
    instrument_type = _choice(params, "instType", INSTRUMENT_TYPES) or "SPOT"
    if instrument_type == "FUTURES":  # the simulator lists spot instruments only: no futures symbol exists
        if symbol is not None:
            raise errors.InstrumentNotFound()
        return []
    sim = current_sim()
    return [_ticker(t) for t in quotes.tickers_24h(sim.database, sim.settings, transport_now_ms(), symbol)]


@bp.get("/quote/v1/ticker/price")
@public(weight=1)
def ticker_price() -> list[dict[str, str]]:
    """GET /quote/v1/ticker/price — the last traded price, always a list (every symbol when none given)."""
    symbol = _params().optional_text("symbol")
    sim = current_sim()
    found = quotes.last_prices(sim.database, sim.settings, transport_now_ms(), symbol)
    return [{"s": name, "p": _number(price)} for name, price in found]


@bp.get("/quote/v1/ticker/bookTicker")
@public(weight=1)
def book_ticker() -> list[dict[str, Any]]:
    """GET /quote/v1/ticker/bookTicker — the best bid and ask (symbol required, as the document says)."""
    symbol = _params().required_text("symbol")
    sim = current_sim()
    return [
        {
            "s": top.symbol,
            "b": _number(top.bid[0] if top.bid else None),
            "bq": _number(top.bid[1] if top.bid else None),
            "a": _number(top.ask[0] if top.ask else None),
            "aq": _number(top.ask[1] if top.ask else None),
            "t": top.now_ms,
        }
        for top in quotes.book_tops(sim.database, sim.settings, transport_now_ms(), symbol)
    ]


# ---- parameters ------------------------------------------------------------------------------------------


def _params() -> Params:
    return parse_params(raw_request(request))


def _limit(params: Params, default: int, maximum: int) -> int:
    """A positive whole number; above the maximum it is cut to the maximum (as Binance-style venues do),
    0 is not sent (the default), anything else not a number from 1 is -1130."""
    limit = params.filter_int("limit")
    return default if limit is None else min(limit, maximum)


def _choice(params: Params, name: str, allowed: tuple[str, ...]) -> str | None:
    value = params.optional_text(name)
    if value is not None and value not in allowed:
        raise errors.IllegalParameter(name=name)
    return value


# ---- wire shapes -----------------------------------------------------------------------------------------


def _number(value: Decimal | None) -> str:
    """Market numbers as the venue prints them: plain, no trailing zeros ("87473.15", "0"); none is "0"."""
    return "0" if value is None else wire_amount(value)


def _levels(levels: list[Level]) -> list[list[str]]:
    return [[_number(price), _number(qty)] for price, qty in levels]


def _book(now_ms: int, bids: list[Level], asks: list[Level]) -> dict[str, Any]:
    return {"t": now_ms, "b": _levels(bids), "a": _levels(asks)}


def _print(trade: Print) -> dict[str, Any]:
    return {"t": trade.time, "p": _number(trade.price), "q": _number(trade.qty), "ibm": trade.buyer_is_maker}


def _kline(bar: Kline) -> list[Any]:
    """The document's 11 elements; the close time is always 0 there, and so it is here."""
    return [
        bar.open_time,
        _number(bar.open),
        _number(bar.high),
        _number(bar.low),
        _number(bar.close),
        _number(bar.volume),
        0,
        _number(bar.quote_volume),
        bar.trade_count or 0,
        _number(bar.taker_buy_base),
        _number(bar.taker_buy_quote),
    ]


def _ticker(ticker: quotes.Ticker) -> dict[str, Any]:
    stats = ticker.stats
    return {
        "t": ticker.now_ms,
        "s": ticker.symbol,
        "c": _number(stats.close),
        "h": _number(stats.high),
        "l": _number(stats.low),
        "o": _number(stats.open),
        "b": _number(ticker.best_bid),
        "a": _number(ticker.best_ask),
        "v": _number(stats.volume),
        "qv": _number(stats.quote_volume),
        "it": "SPOT",
    }


def _coin(definition: dict[str, Any]) -> dict[str, Any]:
    """A coin as the document lists it: its documented fields only (the fixtures hold simulator settings
    too, such as address formats and confirmations)."""
    coin = {name: definition[name] for name in COIN_FIELDS if name in definition}
    coin["chainTypes"] = [
        {name: chain[name] for name in CHAIN_FIELDS if name in chain}
        for chain in definition.get("chainTypes", [])
    ]
    return coin
