"""Trading fees. HashKey's rule: on a Token-Token pair a buy pays its fee in the base asset (what it
receives) and a sell in the quote asset (what it receives), as the document's trade examples show; on a
Token-Fiat pair (the quote a fiat currency: USD, HKD, AED) both sides pay in the fiat quote, as its vipInfo
example shows (BTCHKD: HKD for buys and sells). The rate is the maker or taker rate of the symbol in the
account's fee tier.

No rounding: the fee is exactly the fill's amount in the fee asset times the rate, as the document's
example shows (a buy of 0.01098 BTC at 0.0012 pays "0.000013176" BTC, finer than BTCUSDT's
baseAssetPrecision of 0.00001). A fee in what the fill pays out is never more than that; a Token-Fiat buy's
fee comes on top of what the fill costs (`fee_on_top`), from the funds the order locked for it.
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


def fee_asset(side: Side, base_asset: str, quote_asset: str, fiat_quote: bool = False) -> str:
    """The asset a fill on `side` pays its fee in: the one it receives, or the fiat quote of a Token-Fiat
    pair."""
    return base_asset if side is Side.BUY and not fiat_quote else quote_asset


def fee_on_top(side: Side, fiat_quote: bool) -> bool:
    """Whether the fee is paid on top of what the fill costs (a Token-Fiat buy) rather than out of what it
    receives."""
    return side is Side.BUY and fiat_quote


def fill_fee(
    side: Side,
    qty: Decimal,
    quote: Decimal,
    rate: Decimal,
    base_asset: str,
    quote_asset: str,
    fiat_quote: bool = False,
) -> Fee:
    """The fee one side of a fill pays: `qty` base for `quote` quote at `rate`, a rate from 0 up to 1 (the
    fee tiers are checked when they are loaded)."""
    asset = fee_asset(side, base_asset, quote_asset, fiat_quote)
    if not rate:
        return Fee(asset, Decimal(0))
    if fee_on_top(side, fiat_quote):
        return Fee(asset, quote * rate)
    received = qty if side is Side.BUY else quote
    return Fee(asset, received * rate)
