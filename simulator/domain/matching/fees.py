"""Trading fees. HashKey's rule, from the document's trade examples: a buy pays its fee in the base asset
(what it receives), a sell in the quote asset (what it receives). The rate is the maker or taker rate of
the symbol in the account's fee tier.

No rounding: the fee is exactly what is received times the rate, as the document's example shows (a buy
of 0.01098 BTC at 0.0012 pays "0.000013176" BTC, finer than BTCUSDT's baseAssetPrecision of 0.00001), and
never more than what the fill pays out.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from simulator.domain.matching.orders import Side


@dataclass(frozen=True)
class Fee:
    asset: str
    amount: Decimal


@dataclass(frozen=True)
class FeeRates:
    maker: Decimal
    taker: Decimal


def fee_asset(side: Side, base_asset: str, quote_asset: str) -> str:
    """The asset a fill on `side` pays its fee in: the one it receives."""
    return base_asset if side is Side.BUY else quote_asset


def fill_fee(
    side: Side, qty: Decimal, quote: Decimal, rate: Decimal, base_asset: str, quote_asset: str
) -> Fee:
    """The fee one side of a fill pays: `qty` base for `quote` quote at `rate`."""
    received = qty if side is Side.BUY else quote
    amount = max(Decimal(0), min(received * rate, received)) if rate else Decimal(0)
    return Fee(fee_asset(side, base_asset, quote_asset), amount)
