"""Column types: Decimal stored as TEXT so that no value ever passes through a float."""

from __future__ import annotations

from decimal import Decimal, localcontext
from typing import Any

from sqlalchemy import String
from sqlalchemy.types import TypeDecorator


class DecimalText(TypeDecorator[Decimal]):
    """SQLite's NUMERIC binds through float (12345678901.000000001 comes back rounded); TEXT keeps
    every digit."""

    impl = String
    cache_ok = True

    def process_bind_param(self, value: Any, dialect: Any) -> str | None:
        if value is None:
            return None
        if not isinstance(value, Decimal):
            raise TypeError(f"money columns take Decimal, not {type(value).__name__}")
        return format(value, "f")

    def process_result_value(self, value: Any, dialect: Any) -> Decimal | None:
        return None if value is None else Decimal(value)


PRICE_KEY_INTEGER_DIGITS = 20
PRICE_KEY_FRACTION_DIGITS = 24
PRICE_KEY_LIMIT = Decimal(10) ** PRICE_KEY_INTEGER_DIGITS


def price_key(price: Decimal) -> str:
    """A non-negative price as text whose string order is its numeric order: 20 integer digits, a point,
    24 fraction digits (exact for every price a venue quotes; comparisons stay Decimal-exact). Order prices
    are below 10^20 (`domain.filters.PRICE_CEILING`); a larger one has no key (ValueError)."""
    if price >= PRICE_KEY_LIMIT:
        raise ValueError(f"price {price} has more than {PRICE_KEY_INTEGER_DIGITS} integer digits")
    with localcontext() as context:
        context.prec = PRICE_KEY_INTEGER_DIGITS + PRICE_KEY_FRACTION_DIGITS + 4
        text = format(price.quantize(Decimal(1).scaleb(-PRICE_KEY_FRACTION_DIGITS)), "f")
    whole, _, fraction = text.partition(".")
    return f"{whole.zfill(PRICE_KEY_INTEGER_DIGITS)}.{fraction.ljust(PRICE_KEY_FRACTION_DIGITS, '0')}"
