"""Field readers shared by the venue parsers: exact decimals and timestamps, or a MalformedRecord that
names what is wrong (the importer adds the file and line)."""

from __future__ import annotations

import re
from decimal import Decimal, InvalidOperation
from typing import Any

ONE = Decimal(1)
MS_LOW, MS_HIGH = 10**11, 10**14  # the range of millisecond timestamps (1973..5138)
# Text that is already what format(Decimal(text), "f") gives back: digits, no sign, no exponent, no
# leading zero. Matching it is five times cheaper than a round trip through Decimal.
PLAIN_DECIMAL = re.compile(r"(?:0|[1-9][0-9]*)(?:\.[0-9]+)?").fullmatch


class MalformedRecord(ValueError):
    """A message or row of a known kind that cannot be read; the whole file is refused."""


def decimal_value(value: Any, name: str, allow_zero: bool = True) -> Decimal:
    """`value` (a string, an int, or a Decimal from JSON parsed with parse_float=Decimal) as an exact,
    finite, non-negative Decimal."""
    if type(value) is not str and (isinstance(value, bool) or not isinstance(value, int | Decimal)):
        raise MalformedRecord(f"{name} is not a number: {value!r}")
    try:
        number = Decimal(value)  # surrounding whitespace is allowed, as in CSV cells
    except InvalidOperation:
        raise MalformedRecord(f"{name} is not a number: {value!r}") from None
    if number.is_signed() or not number.is_finite() or (not allow_zero and not number):
        raise MalformedRecord(f"{name} is out of range: {value!r}")
    return number


def decimal_text(value: str, name: str) -> str:
    """A CSV cell as the exact, non-negative decimal text the store keeps (as `decimal_value` reads it)."""
    if PLAIN_DECIMAL(value):
        return value
    return format(decimal_value(value, name), "f")


def quantity_text(value: str, name: str, lot_size: Decimal) -> str:
    """`quantity` as the store's text."""
    if lot_size == ONE:
        return decimal_text(value, name)
    return format(decimal_value(value, name) * lot_size, "f")


def int_value(value: Any, name: str) -> int:
    if type(value) is int:  # not bool: type(True) is bool
        return value
    if type(value) is str:
        try:
            return int(value)
        except ValueError:
            pass  # "1e3" or "12.0" still count, below
    if isinstance(value, bool):
        raise MalformedRecord(f"{name} is not an integer: {value!r}")
    if isinstance(value, int):
        return value
    if isinstance(value, str | Decimal):
        try:
            number = Decimal(value)
        except InvalidOperation:
            raise MalformedRecord(f"{name} is not an integer: {value!r}") from None
        if number.is_finite() and number == number.to_integral_value():
            return int(number)
    raise MalformedRecord(f"{name} is not an integer: {value!r}")


def time_ms(value: Any, name: str) -> int:
    """A timestamp in seconds, milliseconds, microseconds or nanoseconds (told apart by magnitude, which
    is unambiguous for any date between 1973 and 5138), as milliseconds."""
    if type(value) is int and MS_LOW <= value < MS_HIGH:
        return value  # the common case, first
    if type(value) is str and value.isdecimal():
        number = int(value)
        if MS_LOW <= number < MS_HIGH:
            return number  # the common case of CSV cells
    else:
        number = int_value(value, name)
    if number <= 0:
        raise MalformedRecord(f"{name} is not a timestamp: {value!r}")
    if number >= 10**17:
        return number // 1_000_000
    if number >= MS_HIGH:
        return number // 1000
    if number >= MS_LOW:
        return number
    return number * 1000


def field(message: dict[str, Any], key: str, what: str) -> Any:
    try:
        return message[key]
    except (KeyError, TypeError):
        raise MalformedRecord(f"{what} has no {key!r} field") from None


def quantity(value: Any, name: str, lot_size: Decimal) -> Decimal:
    """A size in the venue's unit (lots, contracts) as a quantity in base units."""
    qty = decimal_value(value, name)
    return qty if lot_size == ONE else qty * lot_size


def levels(raw: Any, name: str, lot_size: Decimal) -> list[tuple[Decimal, Decimal]]:
    """[[price, size, ...], ...] as (price, quantity in base units) pairs; extra elements are ignored."""
    try:  # the common case, [[price, size], ...] of numbers, in one pass
        result = [(Decimal(price), Decimal(size)) for price, size in raw]
    except (ValueError, TypeError, InvalidOperation):
        return _levels_checked(raw, name, lot_size)  # names what is wrong, or reads [price, size, extra]
    for price, size in result:
        if not (price.is_finite() and size.is_finite()) or price.is_signed() or size.is_signed():
            return _levels_checked(raw, name, lot_size)
    if lot_size != ONE:
        result = [(price, size * lot_size) for price, size in result]
    return result


def _levels_checked(raw: Any, name: str, lot_size: Decimal) -> list[tuple[Decimal, Decimal]]:
    if not isinstance(raw, list):
        raise MalformedRecord(f"{name} is not a list of levels")
    result = []
    for level in raw:
        if not isinstance(level, list | tuple) or len(level) < 2:
            raise MalformedRecord(f"{name} has a level that is not [price, size]: {level!r}")
        result.append(
            (decimal_value(level[0], f"{name} price"), quantity(level[1], f"{name} size", lot_size))
        )
    return result
