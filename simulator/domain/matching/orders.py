"""Orders as the engine sees them, and the one table of status transitions every change goes through.

Only the HashKey statuses reach the wire: NEW, PARTIALLY_FILLED, FILLED, CANCELED, PARTIALLY_CANCELED,
PENDING_CANCEL, REJECTED. A cancel always carries a reason from the document's "Cancel Reject Reasons".
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from enum import StrEnum

ZERO = Decimal(0)


class Side(StrEnum):
    BUY = "BUY"
    SELL = "SELL"

    @property
    def opposite(self) -> Side:
        return Side.SELL if self is Side.BUY else Side.BUY


class OrderType(StrEnum):
    LIMIT = "LIMIT"
    MARKET = "MARKET"
    LIMIT_MAKER = "LIMIT_MAKER"


class TimeInForce(StrEnum):
    GTC = "GTC"
    IOC = "IOC"
    FOK = "FOK"


class StpMode(StrEnum):
    EXPIRE_TAKER = "EXPIRE_TAKER"
    EXPIRE_MAKER = "EXPIRE_MAKER"


class OrderStatus(StrEnum):
    NEW = "NEW"
    PARTIALLY_FILLED = "PARTIALLY_FILLED"
    FILLED = "FILLED"
    CANCELED = "CANCELED"
    PARTIALLY_CANCELED = "PARTIALLY_CANCELED"
    PENDING_CANCEL = "PENDING_CANCEL"
    REJECTED = "REJECTED"


class CancelReason(StrEnum):
    SYSTEM_CANCEL = "SYSTEM_CANCEL"
    USER_CANCEL = "USER_CANCEL"
    RISKLIMIT_CANCEL = "RISKLIMIT_CANCEL"  # IOC/FOK remainders, MARKET remainders beyond the price band
    BLOCKED_CANCEL = "BLOCKED_CANCEL"
    CLOSED_CANCEL = "CLOSED_CANCEL"
    OFFLINE_CANCEL = "OFFLINE_CANCEL"
    SELF_TRADE_CANCEL = "SELF_TRADE_CANCEL"


class Event(StrEnum):
    """What can happen to an order."""

    ACCEPT = "accept"  # placed: rests or starts taking
    FILL = "fill"  # part of the rest filled
    FILL_ALL = "fill_all"  # the rest filled
    CANCEL = "cancel"  # ended with nothing more to fill (by the user, the rules or STP)
    REQUEST_CANCEL = "request_cancel"  # a cancel that waits for an order latency to pass
    REJECT = "reject"  # refused before it was working


FINAL = frozenset(
    {OrderStatus.FILLED, OrderStatus.CANCELED, OrderStatus.PARTIALLY_CANCELED, OrderStatus.REJECTED}
)
WORKING = frozenset({OrderStatus.NEW, OrderStatus.PARTIALLY_FILLED, OrderStatus.PENDING_CANCEL})

# (status, event) -> next status. A cancel after a fill is PARTIALLY_CANCELED; before any fill, CANCELED.
# None as a status is an order not yet accepted.
TRANSITIONS: dict[tuple[OrderStatus | None, Event], OrderStatus] = {
    (None, Event.ACCEPT): OrderStatus.NEW,
    (None, Event.REJECT): OrderStatus.REJECTED,
    (OrderStatus.NEW, Event.FILL): OrderStatus.PARTIALLY_FILLED,
    (OrderStatus.NEW, Event.FILL_ALL): OrderStatus.FILLED,
    (OrderStatus.NEW, Event.CANCEL): OrderStatus.CANCELED,
    (OrderStatus.NEW, Event.REQUEST_CANCEL): OrderStatus.PENDING_CANCEL,
    (OrderStatus.PARTIALLY_FILLED, Event.FILL): OrderStatus.PARTIALLY_FILLED,
    (OrderStatus.PARTIALLY_FILLED, Event.FILL_ALL): OrderStatus.FILLED,
    (OrderStatus.PARTIALLY_FILLED, Event.CANCEL): OrderStatus.PARTIALLY_CANCELED,
    (OrderStatus.PARTIALLY_FILLED, Event.REQUEST_CANCEL): OrderStatus.PENDING_CANCEL,
    # A pending cancel still fills until it takes effect (the market does not wait for it).
    (OrderStatus.PENDING_CANCEL, Event.FILL): OrderStatus.PENDING_CANCEL,
    (OrderStatus.PENDING_CANCEL, Event.FILL_ALL): OrderStatus.FILLED,
}


class IllegalTransition(ValueError):
    """An event that the order's status does not allow (cancelling a filled order)."""


@dataclass
class Order:
    """One order. `quantity` is in base units; a MARKET order by quote amount has `amount` instead.

    `sequence` orders resting orders of the same price in time (arrival) priority; `queue_ahead` is the
    recorded quantity still ahead of this order at its price (the conservative queue model)."""

    order_id: str
    account_id: str
    symbol: str
    side: Side
    type: OrderType
    time_in_force: TimeInForce
    price: Decimal | None  # the limit; None for MARKET
    quantity: Decimal | None  # base; None for a MARKET order by amount
    amount: Decimal | None = None  # quote; a MARKET order by amount
    stp_mode: StpMode = StpMode.EXPIRE_TAKER
    created_ms: int = 0
    updated_ms: int = 0
    sequence: int = 0
    executed_qty: Decimal = ZERO
    executed_quote: Decimal = ZERO
    status: OrderStatus | None = None
    cancel_reason: CancelReason | None = None
    queue_ahead: Decimal = ZERO

    @property
    def by_amount(self) -> bool:
        return self.quantity is None

    @property
    def remaining_qty(self) -> Decimal:
        """Base quantity still to fill (for an order by quantity)."""
        return (self.quantity or ZERO) - self.executed_qty

    @property
    def remaining_amount(self) -> Decimal:
        """Quote amount still to spend (for a MARKET order by amount)."""
        return (self.amount or ZERO) - self.executed_quote

    @property
    def is_final(self) -> bool:
        return self.status in FINAL

    @property
    def is_working(self) -> bool:
        return self.status in WORKING

    def apply(self, event: Event, at_ms: int, reason: CancelReason | None = None) -> OrderStatus:
        """Move to the status the table gives for `event`; anything else is an IllegalTransition."""
        status = self.status
        if status is OrderStatus.PENDING_CANCEL and event is Event.CANCEL:
            # the cancel takes effect: what it is depends on whether anything filled
            nxt = OrderStatus.PARTIALLY_CANCELED if self.executed_qty else OrderStatus.CANCELED
        else:
            try:
                nxt = TRANSITIONS[(status, event)]
            except KeyError:
                raise IllegalTransition(
                    f"{event.value} is not possible for an order that is {status}"
                ) from None
        if event in (Event.CANCEL, Event.REJECT):
            self.cancel_reason = reason or CancelReason.SYSTEM_CANCEL
        self.status, self.updated_ms = nxt, at_ms
        return nxt

    def record_fill(self, qty: Decimal, price: Decimal, at_ms: int) -> OrderStatus:
        """Add a fill of `qty` at `price` and move to the status it leads to."""
        if qty <= 0:
            raise ValueError("a fill has a positive quantity")
        if not self.is_working:
            raise IllegalTransition(f"fill is not possible for an order that is {self.status}")
        if not self.by_amount and qty > self.remaining_qty:
            raise ValueError(f"a fill of {qty} is more than the {self.remaining_qty} left")
        self.executed_qty += qty
        self.executed_quote += qty * price
        done = self.remaining_qty <= 0 if not self.by_amount else self.remaining_amount <= 0
        return self.apply(Event.FILL_ALL if done else Event.FILL, at_ms)
