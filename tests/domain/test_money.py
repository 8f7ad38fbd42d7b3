"""Wire text to Decimal and back: exact, finite, never via float, never in exponent form."""

from __future__ import annotations

from decimal import Decimal

import pytest

from simulator.domain.money import parse_decimal, wire, wire_amount


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("10", "10"),
        ("0.10", "0.10"),
        ("1e-05", "0.00001"),
        ("1E+3", "1000"),
        (".5", "0.5"),
        ("5.", "5"),
        ("-3", "-3"),
        ("+2", "2"),
        ("0", "0"),
        ("12345678901.000000001", "12345678901.000000001"),
        ("0.000000000000000001", "0.000000000000000001"),
        ("1e30", "1E+30"),  # the first digit 30 places from the point, either way: the largest accepted
        ("9.99e-30", "9.99E-30"),
        ("1e-30", "1E-30"),
        (7, "7"),
        (0, "0"),
        (Decimal("206381.2785765348009"), "206381.2785765348009"),
        (Decimal("1e-05"), "0.00001"),
    ],
)
def test_parse_decimal_accepts(text, expected):
    value = parse_decimal(text)

    assert isinstance(value, Decimal)
    assert value == Decimal(expected)


def test_parse_decimal_keeps_trailing_zeros():
    assert str(parse_decimal("0.10")) == "0.10"


@pytest.mark.parametrize(
    "text",
    [
        "NaN",
        "nan",
        "Infinity",
        "-Infinity",
        "inf",
        "1e999",
        "1e31",
        "9.99e-31",  # 31 places after the point
        "1e-31",
        "1e1000000000000000000",  # an exponent no Decimal can hold
        "1e-9999999999999999999",
        "",
        " 1",
        "1 ",
        "1,000",
        "0x10",
        "1_000",
        "1e",
        ".",
        "-",
        "1.2.3",
        True,
        False,
        1.5,
        0.0,
        None,
        [],
        "1" * 41,
        "0." + "1" * 41,
        Decimal("NaN"),
        Decimal("Infinity"),
    ],
)
def test_parse_decimal_rejects(text):
    assert parse_decimal(text) is None


@pytest.mark.parametrize("text", ["\u0661", "\u0663.5", "\uff15", "\uff11\uff10"])
def test_parse_decimal_rejects_non_ascii_digits(text):
    # Arabic-Indic and full-width digits: Decimal() reads them, but they are not numbers on the wire.
    assert parse_decimal(text) is None


def test_parse_decimal_accepts_40_digits():
    assert parse_decimal("1" * 30 + "." + "1" * 10) == Decimal("1" * 30 + "." + "1" * 10)


@pytest.mark.parametrize(
    ("value", "text"),
    [
        (Decimal("1E+1"), "10"),
        (Decimal("1e-05"), "0.00001"),
        (Decimal("1E+10"), "10000000000"),
        (Decimal("0.000000000000000001"), "0.000000000000000001"),
        (Decimal("0.10"), "0.10"),
        (Decimal("12345678901.000000001"), "12345678901.000000001"),
        (Decimal("-2.5"), "-2.5"),
        (Decimal("0"), "0"),
        (Decimal("-0"), "0"),
        (Decimal("-0.0"), "0"),
        (Decimal("0E-8"), "0.00000000"),
    ],
)
def test_wire(value, text):
    assert wire(value) == text


@pytest.mark.parametrize("value", [Decimal("1E+1"), Decimal("1e-05"), Decimal("5E+20"), Decimal("3E-25")])
def test_wire_never_gives_exponent_form(value):
    text = wire(value)

    assert "e" not in text.lower()
    assert Decimal(text) == value


@pytest.mark.parametrize(
    ("value", "text"),
    [
        (Decimal("0.0"), "0"),
        (Decimal("0E-8"), "0"),
        (Decimal("-0"), "0"),
        (Decimal("4098.360"), "4098.36"),
        (Decimal("1000"), "1000"),
        (Decimal("1E+3"), "1000"),
        (Decimal("1.000"), "1"),
        (Decimal("206381.2785765348009"), "206381.2785765348009"),
        (Decimal("0.000000000000000001"), "0.000000000000000001"),
    ],
)
def test_wire_amount_has_no_trailing_zeros_and_no_exponent(value, text):
    assert wire_amount(value) == text
