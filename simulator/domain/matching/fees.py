"""Trading fees. HashKey's rule, from the document's trade examples: a buy pays its fee in the base asset
(what it receives), a sell in the quote asset (what it receives). The rate is the maker or taker rate of
the symbol in the account's fee tier.

Rounding: the fee is rounded up (in the venue's favour) to the precision of the asset it is paid in,
the instrument's baseAssetPrecision or quotePrecision; a fee is never more than what the fill pays out.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import ROUND_CEILING, Decimal

from simulator.domain.matching.orders import Side


@dataclass(frozen=True)
class Fee:
    asset: str
    amount: Decimal


@dataclass(frozen=True)
class FeeRates:
    maker: Decimal
    taker: Decimal


def fill_fee(
    side: Side,
    qty: Decimal,
    quote: Decimal,
    rate: Decimal,
    base_asset: str,
    quote_asset: str,
    base_precision: Decimal,
    quote_precision: Decimal,
) -> Fee:
    """The fee one side of a fill pays: `qty` base for `quote` quote at `rate`."""
    if side is Side.BUY:
        return Fee(base_asset, _round_up(qty * rate, base_precision, qty))
    return Fee(quote_asset, _round_up(quote * rate, quote_precision, quote))


def _round_up(amount: Decimal, precision: Decimal, ceiling: Decimal) -> Decimal:
    if amount <= 0:
        return Decimal(0)
    rounded = amount.quantize(precision, rounding=ROUND_CEILING)
    return min(rounded, ceiling)
