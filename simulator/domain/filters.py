"""A new spot order against its symbol's filters (the exchangeInfo `filters`), with HashKey's error codes.

`SymbolFilters.of(definition)` reads an instrument definition once; `check_order` raises the first
violation. A "0" in the definition means "no limit". The mapping of violations to codes, and the reading
of the fields the document leaves open, are in the README ("Order filters").

Order of checks (which error wins): the MARKET window of OPEN_QUOTE, then the price (tick, the simulator's
ceiling, OPEN_QUOTE price range, LIMIT_TRADING band), the quantity (step, then min/max), the MARKET amount
(precision, then min/max), the LIMIT notional (min, then max), and last the open-order count (maxEntrustNum).

Not checked here: minPrice/maxPrice, minBuyPrice and maxSellPrice, which the document marks "Depreciated,
no longer in-use"; and MARKET_TRADING, whose band limits how far a MARKET order walks the book (matching
cancels the rest) rather than refusing it.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal, localcontext
from typing import Any, Protocol

from simulator import errors
from simulator.domain.matching.orders import OrderType, Side
from simulator.domain.money import EXACT_DIGITS

ZERO = Decimal(0)
ONE = Decimal(1)
# Every limit price is below this, whatever the filters allow (maxPrice is not in use, a maxAmount of "0" is
# no limit): the simulator keeps resting orders sorted by a price key of 20 integer digits
# (storage.types.PRICE_KEY_INTEGER_DIGITS). Far above any traded price.
PRICE_CEILING = Decimal(10) ** 20


class OrderRequest(Protocol):
    """What the filters read of a new order (services.trading.NewOrder has these fields)."""

    @property
    def side(self) -> Side: ...

    @property
    def type(self) -> OrderType: ...

    @property
    def price(self) -> Decimal | None: ...

    @property
    def quantity(self) -> Decimal | None: ...

    @property
    def amount(self) -> Decimal | None: ...


@dataclass(frozen=True)
class TimeWindow:
    """[start_ms, end_ms) in market time; 0 leaves that end open, both 0 is no window at all."""

    start_ms: int = 0
    end_ms: int = 0

    def contains(self, now_ms: int) -> bool:
        if not self.start_ms and not self.end_ms:
            return False
        after_start = not self.start_ms or now_ms >= self.start_ms
        before_end = not self.end_ms or now_ms < self.end_ms
        return after_start and before_end


@dataclass(frozen=True)
class SymbolFilters:
    """The order rules of one symbol, as Decimals. ZERO (or 0) means "no limit"."""

    tick_size: Decimal = ZERO
    step_size: Decimal = ZERO
    min_qty: Decimal = ZERO
    max_qty: Decimal = ZERO
    market_min_qty: Decimal = ZERO
    market_max_qty: Decimal = ZERO
    min_notional: Decimal = ZERO
    min_amount: Decimal = ZERO
    max_amount: Decimal = ZERO
    market_min_amount: Decimal = ZERO
    market_max_amount: Decimal = ZERO
    amount_precision: Decimal = ZERO  # quotePrecision: the grid of a MARKET order's cash amount
    buy_up_rate: Decimal = ZERO
    sell_down_rate: Decimal = ZERO
    max_open_orders: int = 0
    market_closed: TimeWindow = TimeWindow()
    limit_window: TimeWindow = TimeWindow()
    limit_min_price: Decimal = ZERO
    limit_max_price: Decimal = ZERO

    @classmethod
    def of(cls, definition: Mapping[str, Any]) -> SymbolFilters:
        """Read an exchangeInfo symbol object; a filter or field that is absent is no limit."""
        by_type = {f["filterType"]: f for f in definition.get("filters", [])}
        price = by_type.get("PRICE_FILTER", {})
        lot = by_type.get("LOT_SIZE", {})
        trade = by_type.get("TRADE_AMOUNT", {})
        limit = by_type.get("LIMIT_TRADING", {})
        quote = by_type.get("OPEN_QUOTE", {})
        return cls(
            tick_size=_decimal(price.get("tickSize")),
            step_size=_decimal(lot.get("stepSize")),
            min_qty=_decimal(lot.get("minQty")),
            max_qty=_decimal(lot.get("maxQty")),
            market_min_qty=_decimal(lot.get("marketOrderMinQty")),
            market_max_qty=_decimal(lot.get("marketOrderMaxQty")),
            min_notional=_decimal(by_type.get("MIN_NOTIONAL", {}).get("minNotional")),
            min_amount=_decimal(trade.get("minAmount")),
            max_amount=_decimal(trade.get("maxAmount")),
            market_min_amount=_decimal(trade.get("marketOrderMinAmount")),
            market_max_amount=_decimal(trade.get("marketOrderMaxAmount")),
            amount_precision=_decimal(definition.get("quotePrecision")),
            buy_up_rate=_decimal(limit.get("buyPriceUpRate")),
            sell_down_rate=_decimal(limit.get("sellPriceDownRate")),
            max_open_orders=int(_decimal(limit.get("maxEntrustNum"))),
            market_closed=TimeWindow(
                int(_decimal(quote.get("noAllowMarketStartTime"))),
                int(_decimal(quote.get("noAllowMarketEndTime"))),
            ),
            limit_window=TimeWindow(
                int(_decimal(quote.get("limitOrderStartTime"))),
                int(_decimal(quote.get("limitOrderEndTime"))),
            ),
            limit_min_price=_decimal(quote.get("limitMinPrice")),
            limit_max_price=_decimal(quote.get("limitMaxPrice")),
        )


def check_order(
    filters: SymbolFilters,
    order: OrderRequest,
    mark_price: Decimal | None,
    open_orders: int,
    now_ms: int,
) -> None:
    """Raise the ApiError of the first filter `order` breaks; return None when it passes them all.

    `mark_price` is what the LIMIT_TRADING band is measured against (None: no band), `open_orders` the
    caller's orders working on the symbol, `now_ms` the market time the OPEN_QUOTE windows are read in."""
    with localcontext(prec=EXACT_DIGITS):  # so a boundary never rounds either way
        if order.type == OrderType.MARKET:
            _check_market(filters, order, now_ms)
        else:
            _check_limit(filters, order, mark_price, now_ms)
    if filters.max_open_orders and open_orders >= filters.max_open_orders:
        raise errors.OpenOrdersLimitExceeded()


def _check_market(filters: SymbolFilters, order: OrderRequest, now_ms: int) -> None:
    if filters.market_closed.contains(now_ms):
        raise errors.MarketOrderForbidden()
    if order.quantity is not None:
        _check_step(filters, order.quantity)
        if order.quantity < filters.market_min_qty:
            raise errors.OrderQuantityTooSmall()
        if _above(order.quantity, filters.market_max_qty):
            raise errors.OrderQuantityTooLarge()
    if order.amount is not None:
        if not _on_grid(order.amount, filters.amount_precision):
            raise errors.OrderAmountPrecisionTooLarge()
        if order.amount < filters.market_min_amount:
            raise errors.OrderAmountTooSmall()
        if _above(order.amount, filters.market_max_amount):
            raise errors.OrderAmountTooLarge()


def _check_limit(
    filters: SymbolFilters,
    order: OrderRequest,
    mark_price: Decimal | None,
    now_ms: int,
) -> None:
    """LIMIT and LIMIT_MAKER: both carry a price and a base quantity."""
    price, quantity = order.price, order.quantity
    if price is None:
        raise errors.RequiredFieldMissing(field="price")
    if quantity is None:
        raise errors.RequiredFieldMissing(field="quantity")
    _check_price(filters, order.side, price, mark_price, now_ms)
    _check_step(filters, quantity)
    _check_limit_quantity(filters, order.side, quantity)
    notional = price * quantity
    # minNotional and minAmount both bound price x quantity from below, with the same answer
    if notional < filters.min_notional or notional < filters.min_amount:
        raise errors.OrderAmountTooSmall()
    if _above(notional, filters.max_amount):
        raise errors.OrderAmountTooLarge()


def _check_price(
    filters: SymbolFilters,
    side: Side,
    price: Decimal,
    mark_price: Decimal | None,
    now_ms: int,
) -> None:
    if not _on_grid(price, filters.tick_size):
        raise errors.InvalidPricePrecision()
    if price >= PRICE_CEILING:
        raise errors.OrderPriceTooHigh()
    if filters.limit_window.contains(now_ms):
        if price < filters.limit_min_price:
            raise errors.OrderPriceTooLow()
        if _above(price, filters.limit_max_price):
            raise errors.OrderPriceTooHigh()
    if mark_price is None:
        return
    if side == Side.BUY and filters.buy_up_rate:
        if price > mark_price * (ONE + filters.buy_up_rate):
            raise errors.PriceBeyondMarkBand()
    if side == Side.SELL and filters.sell_down_rate:
        if price < mark_price * (ONE - filters.sell_down_rate):
            raise errors.PriceBeyondMarkBand()


def _check_step(filters: SymbolFilters, quantity: Decimal) -> None:
    if not _on_grid(quantity, filters.step_size):
        raise errors.OrderQuantityPrecisionTooLarge()


def _check_limit_quantity(filters: SymbolFilters, side: Side, quantity: Decimal) -> None:
    """The document has side-specific codes for a limit quantity outside minQty/maxQty (-1200..-1203)."""
    if quantity < filters.min_qty:
        raise errors.BuyQuantityTooSmall() if side == Side.BUY else errors.SellQuantityTooSmall()
    if _above(quantity, filters.max_qty):
        raise errors.BuyQuantityTooLarge() if side == Side.BUY else errors.SellQuantityTooLarge()


def _above(value: Decimal, limit: Decimal) -> bool:
    """Whether `value` exceeds a maximum, a zero maximum being no maximum."""
    return bool(limit) and value > limit


def _on_grid(value: Decimal, step: Decimal) -> bool:
    """Whether `value` is a whole number of `step`s (a zero step is no grid)."""
    return not step or value % step == 0


def _decimal(raw: object) -> Decimal:
    """A definition field (string, int or Decimal) as a Decimal; absent is ZERO (no limit)."""
    if raw is None or raw == "":
        return ZERO
    if isinstance(raw, float):
        raise TypeError("instrument definitions carry numbers as strings, never floats")
    return Decimal(str(raw))
