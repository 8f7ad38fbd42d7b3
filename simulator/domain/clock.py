"""The market clock: what /api/v1/time answers and what every later event is stamped with.

The state is a pair of anchors: at transport time `transport_anchor_ms` the market was at
`market_anchor_ms`, and since then it has moved `speed` market milliseconds per transport millisecond.
Live mode is the special case market == transport. Speed 0 is step mode: the market moves only when told.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import ROUND_FLOOR, Decimal
from enum import StrEnum


class ClockMode(StrEnum):
    LIVE = "live"
    REPLAY = "replay"


# The latest market time a clock may show: the last millisecond of 9999 (ISO 8601's last year). Later times
# are no moment of any recording, and a little further they no longer fit the database's 64-bit integers.
LAST_MARKET_MS = 253_402_300_799_999


class ClockError(ValueError):
    """A clock change that makes no sense (advancing a live clock, moving it backwards)."""


@dataclass(frozen=True)
class MarketClock:
    mode: ClockMode
    market_anchor_ms: int
    transport_anchor_ms: int
    speed: Decimal

    @classmethod
    def live(cls, transport_now_ms: int) -> MarketClock:
        return cls(ClockMode.LIVE, transport_now_ms, transport_now_ms, Decimal(1))

    @classmethod
    def replay(cls, start_ms: int, speed: Decimal, transport_now_ms: int) -> MarketClock:
        if start_ms < 0:
            raise ClockError("replay start time must not be negative")
        if start_ms > LAST_MARKET_MS:
            raise ClockError("replay start time must not be after the year 9999")
        if not speed.is_finite() or speed < 0:
            raise ClockError("speed must be a non-negative number")
        return cls(ClockMode.REPLAY, start_ms, transport_now_ms, speed)

    def now_ms(self, transport_now_ms: int) -> int:
        """Market time when the transport clock reads `transport_now_ms`; exact, no float on the way. A
        running replay clock stops at LAST_MARKET_MS: at a speed of 1e12 it would pass the year 9999 within
        seconds, and then no longer fit the database's integers."""
        if self.mode is ClockMode.LIVE:
            return transport_now_ms
        elapsed = Decimal(transport_now_ms - self.transport_anchor_ms) * self.speed
        return min(
            LAST_MARKET_MS, self.market_anchor_ms + int(elapsed.to_integral_value(rounding=ROUND_FLOOR))
        )

    def advanced(self, advance_ms: int, transport_now_ms: int) -> MarketClock:
        """The clock moved forward by `advance_ms` market milliseconds (step mode and fast-forward)."""
        if self.mode is ClockMode.LIVE:
            raise ClockError("a live clock follows the wall clock and cannot be advanced")
        if advance_ms < 0:
            raise ClockError("the market clock never moves backwards")
        moved_to = self.now_ms(transport_now_ms) + advance_ms
        if moved_to > LAST_MARKET_MS:
            raise ClockError("the market clock cannot move past the year 9999")
        return MarketClock(ClockMode.REPLAY, moved_to, transport_now_ms, self.speed)


def timestamp_in_window(timestamp_ms: int, server_time_ms: int, recv_window_ms: int) -> bool:
    """HashKey's rule, verbatim: timestamp < serverTime + 1000 and serverTime - timestamp <= recvWindow."""
    return timestamp_ms < server_time_ms + 1000 and server_time_ms - timestamp_ms <= recv_window_ms
