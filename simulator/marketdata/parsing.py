"""Field readers shared by the venue parsers: exact decimals and timestamps, or a MalformedRecord that
names what is wrong (the importer adds the file and line)."""

from __future__ import annotations

from decimal import Decimal, InvalidOperation
from typing import Any


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


def int_value(value: Any, name: str) -> int:
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
    number = int_value(value, name)
    if number <= 0:
        raise MalformedRecord(f"{name} is not a timestamp: {value!r}")
    if number >= 10**17:
        return number // 1_000_000
    if number >= 10**14:
        return number // 1000
    if number >= 10**11:
        return number
    return number * 1000


def field(message: dict[str, Any], key: str, what: str) -> Any:
    try:
        return message[key]
    except (KeyError, TypeError):
        raise MalformedRecord(f"{what} has no {key!r} field") from None


def levels(raw: Any, name: str, lot_size: Decimal) -> list[tuple[Decimal, Decimal]]:
    """[[price, size, ...], ...] as (price, quantity in base units) pairs; extra elements are ignored."""
    if not isinstance(raw, list):
        raise MalformedRecord(f"{name} is not a list of levels")
    result = []
    for level in raw:
        if not isinstance(level, list | tuple) or len(level) < 2:
            raise MalformedRecord(f"{name} has a level that is not [price, size]: {level!r}")
        result.append(
            (decimal_value(level[0], f"{name} price"), decimal_value(level[1], f"{name} size") * lot_size)
        )
    return result
