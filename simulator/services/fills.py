"""Reading fills and fee facts: a trading account's trade history (GET /api/v1/account/trades) and a user's
VIP summary with per-symbol fee rates (GET /api/v1/account/vipInfo).

Read-only. Callers bring the market up to now first (`services.market.catch_up`), so fills of resting
orders exist, and pass a read session begun after that.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from decimal import ROUND_DOWN, Decimal
from typing import Any

from sqlalchemy import false, select
from sqlalchemy.orm import Session

from simulator import errors
from simulator.domain.matching.fees import fee_asset
from simulator.domain.matching.orders import Side
from simulator.services import funds, instruments, trade_volume, trading
from simulator.storage import tables

THIRTY_DAYS_MS = 30 * 24 * 60 * 60 * 1000
ID_DIGITS = 19  # every id the simulator makes has 19 digits, so ids compare as text once padded
PAR_ASSETS = ("USD", "USDT", "USDC")  # valued at 1 USD each: the USD valuation's simplification
USD_CENT = Decimal("0.01")


# ---- GET /api/v1/account/trades --------------------------------------------------------------------


@dataclass(frozen=True)
class TradeFilter:
    """What a trade-history request asks for; `since_ms`/`until_ms` bound the fill time (inclusive)."""

    account_id: str
    since_ms: int
    until_ms: int | None = None
    symbol: str | None = None
    client_order_id: str | None = None
    from_id: str | None = None
    to_id: str | None = None
    limit: int = 500


@dataclass(frozen=True)
class AccountTrade:
    """One side of a trade as its account sees it: the fill and its order's client order id."""

    fill: tables.Fill
    client_order_id: str


def trade_window_start(start_ms: int | None, now_ms: int) -> int:
    """The earliest fill time a trade-history request reads. The document: startTime "only supports the last
    30 days timeframe" — an older startTime is -2028; without one, the window starts 30 days before now."""
    earliest = now_ms - THIRTY_DAYS_MS
    if start_ms is None:
        return earliest
    if start_ms < earliest:
        raise errors.SearchLimitedToLastMonth()
    return start_ms


def account_trades(session: Session, wanted: TradeFilter) -> list[AccountTrade]:
    """The account's fills matching `wanted`, newest first by id, at most `wanted.limit`. Ids are drawn as
    fills are worked out, mostly in time order; but a symbol's resting orders are filled by the recording
    when the market next catches up with that symbol, so such a fill can have a higher id than a later fill
    of another symbol. Listing by id keeps paging with `toId`/`fromId` (bounds on the id) from skipping it.

    Read so that a long history costs no more than a short one: a `clientOrderId`'s fills through its few
    orders; a time window holding few fills off the time index, sorted by id; a wider one walked by id,
    newest first, until `limit` match."""
    fill, order = tables.Fill, tables.Order
    query = (
        select(fill, order.client_order_id)
        .join(order, order.order_id == fill.order_id)
        .where(*_id_bounds(wanted))
        .order_by(fill.id.desc())
        .limit(wanted.limit)
    )
    symbol = [] if wanted.symbol is None else [fill.symbol == wanted.symbol]
    if wanted.client_order_id is not None:
        # The few orders of that name (ix_orders_client_id), then their fills (ix_fills_order_id), which are
        # the account's; `+ 0` keeps the time from picking an index of the account's whole window instead.
        named = select(order.order_id).where(
            order.account_id == wanted.account_id, order.client_order_id == wanted.client_order_id
        )
        orders_named = fill.order_id.in_(named)  # a subquery: a reused name may have named any number
        query = query.where(orders_named, *symbol, *_in_window(fill.time + 0, wanted))
    elif (few := _ids_in_window(session, wanted)) is not None:  # of the symbol, in the window
        query = query.where(fill.id.in_(few))
    else:  # the account's fills walked by id; `+ 0`: the time is checked on each, not used to pick the window
        query = query.where(fill.account_id == wanted.account_id, *symbol, *_in_window(fill.time + 0, wanted))
    return [AccountTrade(row, client_order_id) for row, client_order_id in session.execute(query)]


WINDOW_READ_WHOLE = 2_000  # fills: a window holding at most this many is read whole and sorted by id


def _ids_in_window(session: Session, wanted: TradeFilter) -> list[str] | None:
    """The ids of the account's fills (of the symbol) in the time window, if it holds at most
    WINDOW_READ_WHOLE of them (ix_fills_account_time, ix_fills_account); None when it holds more."""
    fill = tables.Fill
    query = select(fill.id).where(fill.account_id == wanted.account_id, *_in_window(fill.time, wanted))
    if wanted.symbol is not None:
        query = query.where(fill.symbol == wanted.symbol)
    ids = list(session.scalars(query.limit(WINDOW_READ_WHOLE + 1)))
    return ids if len(ids) <= WINDOW_READ_WHOLE else None


def _in_window(time: Any, wanted: TradeFilter) -> list[Any]:
    window = [time >= wanted.since_ms]
    if wanted.until_ms is not None:
        window.append(time <= wanted.until_ms)
    return window


def _id_bounds(wanted: TradeFilter) -> list[Any]:
    bounds: list[Any] = []
    if wanted.from_id is not None:
        low = _stored_id(wanted.from_id)
        bounds.append(tables.Fill.id >= low if low is not None else false())
    if wanted.to_id is not None:
        high = _stored_id(wanted.to_id)
        if high is not None:
            bounds.append(tables.Fill.id <= high)
    return bounds


def _stored_id(digits: str) -> str | None:
    """An id bound as stored ids compare (as text of 19 digits): the number, so that leading zeros and a
    20-digit value mean what they say; None for a number above every id."""
    number = int(digits)
    return None if number >= 10**ID_DIGITS else str(number).zfill(ID_DIGITS)


# ---- GET /api/v1/account/vipInfo -------------------------------------------------------------------


@dataclass(frozen=True)
class SymbolFees:
    """A symbol's fee facts for one user: product type, the asset each side pays its fee in, the rates."""

    symbol: str
    product_type: str
    buy_fee_asset: str
    sell_fee_asset: str
    maker_rate: Decimal
    taker_rate: Decimal


@dataclass(frozen=True)
class VipSummary:
    vip_level: int
    trade_volume_usd: Decimal  # the user's fills of the last 30 days, valued in USD
    total_assets_usd: Decimal  # every balance of every account of the user, valued in USD
    symbols: list[SymbolFees]
    as_of_ms: int


def vip_summary(
    session: Session,
    user_id: str,
    account_id: str,
    symbols: Iterable[str] | None,
    now_ms: int,
    engine: trading.Engine,
) -> VipSummary:
    """The user's VIP level, 30-day volume and assets in USD, and the fees of `symbols` (all when None),
    in symbol order. Raises InstrumentNotFound for an unknown symbol."""
    instruments = {row.symbol: row for row in session.scalars(select(tables.Instrument))}
    wanted = sorted(instruments) if symbols is None else sorted(set(symbols))
    for symbol in wanted:
        if symbol not in instruments:
            raise errors.InstrumentNotFound()
    user = session.get(tables.User, user_id)
    prices = _UsdPrices(session, instruments, now_ms, engine)
    return VipSummary(
        vip_level=user.vip_level if user is not None else 0,
        trade_volume_usd=_to_cents(_trade_volume(session, user_id, instruments, prices, now_ms)),
        total_assets_usd=_to_cents(_total_assets(session, user_id, prices)),
        symbols=[_symbol_fees(session, account_id, instruments[symbol]) for symbol in wanted],
        as_of_ms=now_ms,
    )


def _symbol_fees(session: Session, account_id: str, instrument: tables.Instrument) -> SymbolFees:
    # The engine's own fee rule and rates, so that what vipInfo says is what fills charge.
    rules = instruments.instrument_rules(session, instrument.symbol)
    rates = funds.fee_rates(session, account_id, instrument.symbol)
    return SymbolFees(
        symbol=instrument.symbol,
        # Token-Fiat when the quote asset is a fiat currency, else Token-Token (no security tokens here)
        product_type="Token-Fiat" if rules.fiat_quote else "Token-Token",
        buy_fee_asset=fee_asset(Side.BUY, rules.base_asset, rules.quote_asset, rules.fiat_quote),
        sell_fee_asset=fee_asset(Side.SELL, rules.base_asset, rules.quote_asset, rules.fiat_quote),
        maker_rate=rates.maker,
        taker_rate=rates.taker,
    )


def _trade_volume(
    session: Session,
    user_id: str,
    instruments: dict[str, tables.Instrument],
    prices: _UsdPrices,
    now_ms: int,
) -> Decimal:
    """The quote amounts of the user's fills of the last 30 days, valued in USD (each asset summed first)."""
    account_ids = session.scalars(select(tables.Account.id).where(tables.Account.user_id == user_id))
    quote_by_asset: dict[str, Decimal] = {}
    for symbol, quote in trade_volume.traded(session, account_ids, now_ms - THIRTY_DAYS_MS, now_ms).items():
        asset = instruments[symbol].quote_asset
        quote_by_asset[asset] = quote_by_asset.get(asset, Decimal(0)) + quote
    return sum((prices.value(asset, amount) for asset, amount in quote_by_asset.items()), Decimal(0))


def _total_assets(session: Session, user_id: str, prices: _UsdPrices) -> Decimal:
    balance = tables.Balance
    rows = session.execute(
        select(balance.asset, balance.free, balance.locked)
        .join(tables.Account, tables.Account.id == balance.account_id)
        .where(tables.Account.user_id == user_id)
    )
    return sum((prices.value(asset, free + locked) for asset, free, locked in rows), Decimal(0))


class _UsdPrices:
    """USD prices at market time: USD and the stablecoins at par; another asset at the book's mid (else
    the last traded price) of its symbol quoted in one of them, or the inverse of one quoted in it (AED
    through USDTAED). An asset with no such price is valued at 0."""

    def __init__(
        self,
        session: Session,
        instruments: dict[str, tables.Instrument],
        now_ms: int,
        engine: trading.Engine,
    ) -> None:
        self._session, self._instruments = session, instruments
        self._now_ms, self._engine = now_ms, engine
        self._prices: dict[str, Decimal | None] = {}

    def value(self, asset: str, amount: Decimal) -> Decimal:
        if not amount:
            return Decimal(0)
        if asset not in self._prices:
            self._prices[asset] = self._usd_price(asset)
        price = self._prices[asset]
        return amount * price if price is not None else Decimal(0)

    def _usd_price(self, asset: str) -> Decimal | None:
        if asset in PAR_ASSETS:
            return Decimal(1)
        for par in PAR_ASSETS:
            direct = self._market_price(asset + par)
            if direct is not None:
                return direct
        for par in PAR_ASSETS:
            inverse = self._market_price(par + asset)
            if inverse is not None:
                return 1 / inverse
        return None

    def _market_price(self, symbol: str) -> Decimal | None:
        if symbol not in self._instruments:
            return None
        price = trading.book_at(self._session, symbol, self._now_ms, self._engine).recorded_mid
        if price is None:
            price = trading.last_trade_price(self._session, symbol, self._now_ms, self._engine)
        return price if price is not None and price > 0 else None


def _to_cents(value: Decimal) -> Decimal:
    return value.quantize(USD_CENT, rounding=ROUND_DOWN)
