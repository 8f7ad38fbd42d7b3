"""A new-order request -> `trading.NewOrder`, or the venue's error for the first thing wrong with it.

Checked in this order (the first failure answers): symbol present, side, type, timeInForce, stpMode,
quantity/amount/price presence and form, newClientOrderId. Filters (tick, step, bands...) and the symbol's
existence are checked later, by the order service, against the stored instrument.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from simulator import errors
from simulator.domain.matching.orders import OrderType, Side, StpMode, TimeInForce
from simulator.domain.money import parse_decimal
from simulator.http.params import Params, Repeated
from simulator.services.trading import NewOrder

MAX_CLIENT_ORDER_ID = 255
# Which timeInForce each type accepts (the document's table), and its default.
TIME_IN_FORCE = {
    OrderType.LIMIT: (TimeInForce.GTC, TimeInForce.IOC, TimeInForce.FOK),
    OrderType.MARKET: (TimeInForce.IOC,),
    OrderType.LIMIT_MAKER: (TimeInForce.GTC,),
}


@dataclass(frozen=True)
class OrderRequest:
    order: NewOrder
    legacy_market_buy: bool  # POST /api/v1/spot/order MARKET BUY: `quantity` was the quote to spend


def new_order(
    params: Params, account_id: str, legacy: bool = False, batch_item: bool = False
) -> OrderRequest:
    """`legacy`: the v1 path, where a MARKET BUY's `quantity` is the quote amount to spend. `batch_item`:
    an order of batchOrders, whose client order id may also be named `clientOrderId` (ccxt's batch items
    carry that name; a single order's parameters do not include it, and it is ignored there as any other
    parameter the document does not list)."""
    symbol = params.required_text("symbol")
    side = _enum(params.required_text("side"), Side, errors.InvalidOrderSide)
    type_ = _enum(params.required_text("type"), OrderType, errors.UnsupportedOrderType)
    time_in_force = _time_in_force(_time_in_force_text(params), type_)
    stp_mode = StpMode.EXPIRE_TAKER
    stp_text = params.optional_text("stpMode")
    if stp_text is not None:
        stp_mode = _enum(stp_text, StpMode, lambda: errors.IllegalParameter(name="stpMode"))
    price, quantity, amount = _sizes(params, type_)
    legacy_market_buy = legacy and type_ is OrderType.MARKET and side is Side.BUY and quantity is not None
    if legacy_market_buy:
        quantity, amount = None, quantity
    order = NewOrder(
        account_id=account_id,
        symbol=symbol,
        side=side,
        type=type_,
        time_in_force=time_in_force,
        price=price,
        quantity=quantity,
        amount=amount,
        client_order_id=_client_order_id(params, _BATCH_CLIENT_ORDER_ID if batch_item else _CLIENT_ORDER_ID),
        stp_mode=stp_mode,
    )
    return OrderRequest(order, legacy_market_buy)


def params_of(item: Any) -> Params:
    """One order of a JSON batch (`json_body(as_parameters=True)`: numbers are the text sent) as Params: null
    and "" are a key not sent (as a parameter sent empty is), anything that is not a string or a number an
    invalid (empty) value; a key named twice has both values, and is invalid as a parameter sent twice is."""
    if not isinstance(item, dict):
        raise errors.BadRequest()
    values: dict[str, list[str]] = {}
    for name, value in item.items():
        if value is None or value == "":
            continue
        repeated = value if isinstance(value, Repeated) else [value]
        values[str(name)] = [_json_text(one) for one in repeated]
    return Params(values)


def _json_text(value: Any) -> str:
    return value if isinstance(value, str) else ""


def _enum(text: str, enum: Any, error: Any) -> Any:
    try:
        return enum(text)
    except ValueError:
        raise error() from None


def _time_in_force_text(params: Params) -> str | None:
    """A repeated timeInForce (or, in a batch, one of a type no parameter takes) is a bad timeInForce like
    any other."""
    try:
        return params.optional_text("timeInForce")
    except errors.IllegalParameter:
        raise errors.InvalidTimeInForce() from None


def _time_in_force(text: str | None, type_: OrderType) -> TimeInForce:
    allowed = TIME_IN_FORCE[type_]
    if text is None:
        return allowed[0]
    value = _enum(text, TimeInForce, errors.InvalidTimeInForce)
    if value not in allowed:
        raise errors.InvalidTimeInForce()
    return value


def _sizes(params: Params, type_: OrderType) -> tuple[Decimal | None, Decimal | None, Decimal | None]:
    """price, quantity, amount as the type needs them."""
    quantity = _decimal(params, "quantity")
    amount = price = None
    if type_ is OrderType.MARKET:
        # a MARKET order has no limit: a price sent with one is ignored, not even read, as the venue does
        amount = _decimal(params, "amount")
        if quantity is not None and amount is not None:
            raise errors.QuantityAndAmount()
        if quantity is None and amount is None:
            raise errors.RequiredFieldMissing(field="quantity")
    else:
        if "amount" in params.values:
            raise errors.IllegalParameter(name="amount")  # amount is for MARKET orders only
        price = _decimal(params, "price")
        if quantity is None:
            raise errors.RequiredFieldMissing(field="quantity")
        if price is None:
            raise errors.RequiredFieldMissing(field="price")
    if quantity is not None and quantity <= 0:
        raise errors.InvalidQuantity()
    if amount is not None and amount <= 0:
        raise errors.IllegalParameter(name="amount")
    if price is not None and price <= 0:
        raise errors.InvalidOrderPrice()
    return price, quantity, amount


def _decimal(params: Params, name: str) -> Decimal | None:
    """Plain decimals, with trailing zeros, and exponent form (1e-05) are all accepted."""
    if name not in params.values:
        return None
    value = parse_decimal(params.required_text(name))
    if value is None:
        raise errors.RequiredFieldMissing(field=name)
    return value


_CLIENT_ORDER_ID = ("newClientOrderId",)
_BATCH_CLIENT_ORDER_ID = ("newClientOrderId", "clientOrderId")
# Bytes that are not UTF-8 are read as U+FFFD (`parse_params`; a batch's JSON as well, for a lone surrogate):
# an id so changed is not the one the client will look for or cancel by.
_UNREADABLE = "\ufffd"


def _client_order_id(params: Params, names: tuple[str, ...]) -> str | None:
    """The first of `names` sent; None: generated."""
    for name in names:
        if name not in params.values:
            continue
        found = params.values[name]
        text = found[0] if len(found) == 1 else ""
        if not text or len(text) > MAX_CLIENT_ORDER_ID or not text.isprintable() or _UNREADABLE in text:
            raise errors.InvalidClientOrderId()
        return text
    return None
