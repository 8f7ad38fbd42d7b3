"""Decimal from wire text: exact, finite, no float ever involved."""

from __future__ import annotations

import re
from decimal import ROUND_FLOOR, Context, Decimal, InvalidOperation

# Plain or exponent form with optional sign and trailing zeros: "10", "0.10", "1e-05", ".5", "-3".
DECIMAL_TEXT = re.compile(r"[+-]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)(?:[eE][+-]?[0-9]+)?")
MAX_DIGITS = 40  # more significant digits than any venue quantity has: refuse rather than store junk
MAX_EXPONENT = 30
# Enough significant digits that sums, products and grid remainders of any accepted numbers are exact (at most
# 40 significant digits each, within 10^-70..10^30): Python's default 28 would round a balance of 1e25 plus
# a fee of 0.000432.
EXACT_DIGITS = 200
EXACT = Context(prec=EXACT_DIGITS)


def parse_decimal(text: object) -> Decimal | None:
    """The Decimal that `text` spells, or None when it is not a plain finite number of sane size.
    Accepts ints and Decimals too (JSON bodies parsed with parse_float=Decimal)."""
    if isinstance(text, bool):
        return None
    if isinstance(text, int | Decimal):
        text = str(text)
    if not isinstance(text, str) or not DECIMAL_TEXT.fullmatch(text):
        return None
    try:
        value = Decimal(text)
    except InvalidOperation:  # an exponent of 10**18 or more: beyond what a Decimal can hold
        return None
    sign, digits, exponent = value.as_tuple()
    if len(digits) > MAX_DIGITS or abs(int(exponent)) > MAX_EXPONENT + MAX_DIGITS:
        return None
    if value != 0 and abs(value.adjusted()) > MAX_EXPONENT:
        return None
    return value


def wire(value: Decimal) -> str:
    """Decimal -> wire string, never in exponent form ('1E+1' would break clients)."""
    text = format(value, "f")
    return "0" if text in ("-0", "-0.0") or value == 0 and text.startswith("-") else text


def wire_amount(value: Decimal) -> str:
    """A computed amount (balance, total) as the venue shows one: plain, without trailing zeros
    ("0", "4098.36"), whatever scale the arithmetic left behind (0.5 - 0.5 is Decimal("0.0"))."""
    return wire(value.normalize(EXACT)) if value else "0"


def floor_to_step(quantity: Decimal, step: Decimal) -> Decimal:
    """`quantity` rounded down to a whole number of `step`s (the LOT_SIZE stepSize): what may trade of it."""
    return (quantity / step).to_integral_value(rounding=ROUND_FLOOR) * step
