"""The fill model's settings: every choice the engine makes that a user may want to change, with
conservative defaults (an order fills later and less rather than sooner and more)."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal


@dataclass(frozen=True)
class FillModel:
    # Liquidity at time t: a depth snapshot no older than this, else a best bid/offer no older than this,
    # else a synthetic level around the last complete kline.
    depth_staleness_ms: int = 5_000
    bbo_staleness_ms: int = 5_000
    synthetic_half_spread: Decimal = Decimal("0.0005")  # of the bar's close, each side
    synthetic_volume_share: Decimal = Decimal("0.1")  # of the bar's volume, offered on each side
    kline_interval: str = "1m"  # the bars used for synthetic levels and for the kline path
    # Resting orders on a kline path: a path that only touches the limit fills it only when this is true.
    kline_touch_fills: bool = False
    kline_volume_share: Decimal = Decimal("0.1")  # at most this share of a bar's volume fills resting orders
    # Queue: an order resting at a price with recorded size waits for that size to trade first.
    queue_model: bool = True
    # Market time between an order's receipt and its matching (0: matched on arrival).
    order_latency_ms: int = 0
