"""Permissions, IP whitelists, the free-balance arithmetic and account labels."""

from __future__ import annotations

from decimal import Decimal

import pytest

from simulator.domain.accounts import (
    AccountType,
    Balance,
    DomainError,
    InsufficientBalance,
    Permission,
    account_label,
    adjust_free,
    ip_allowed,
    parse_ip_whitelist,
    parse_permissions,
)

R, T, W = Permission.READ, Permission.TRADE, Permission.WITHDRAW


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("read", {R}),
        ("trade", {R, T}),
        ("withdraw", {R, W}),
        ("read,trade", {R, T}),
        ("trade,withdraw", {R, T, W}),
        (" Trade , WITHDRAW ", {R, T, W}),
        ("trade,,trade", {R, T}),
    ],
)
def test_parse_permissions_adds_read(text, expected):
    assert parse_permissions(text) == frozenset(expected)


@pytest.mark.parametrize("text", ["", " , ", "admin", "read,admin", "reads", "read;trade"])
def test_parse_permissions_rejects_unknown_or_empty(text):
    with pytest.raises(DomainError):
        parse_permissions(text)


@pytest.mark.parametrize(
    ("entries", "expected"),
    [
        (["10.0.0.1"], ("10.0.0.1/32",)),
        ([" 10.0.0.1 "], ("10.0.0.1/32",)),
        (["192.168.0.7/24"], ("192.168.0.0/24",)),
        (["::1"], ("::1/128",)),
        (["2001:DB8::/32"], ("2001:db8::/32",)),
        (["10.0.0.1", "10.0.0.1/32"], ("10.0.0.1/32",)),
        ([], ()),
    ],
)
def test_parse_ip_whitelist_normalises(entries, expected):
    assert parse_ip_whitelist(entries) == expected


@pytest.mark.parametrize(
    "entry", ["", "localhost", "10.0.0.256", "10.0.0.0/33", "1.2.3", "10.0.0.1/abc", "::g"]
)
def test_parse_ip_whitelist_rejects_junk(entry):
    with pytest.raises(DomainError):
        parse_ip_whitelist(["10.0.0.1", entry])


@pytest.mark.parametrize(
    ("whitelist", "address", "allowed"),
    [
        ((), "203.0.113.9", True),
        ((), None, True),
        (("10.0.0.1/32",), "10.0.0.1", True),
        (("10.0.0.1/32",), "10.0.0.2", False),
        (("192.168.0.0/24",), "192.168.0.255", True),
        (("192.168.0.0/24",), "192.168.1.0", False),
        (("10.0.0.1/32", "192.168.0.0/24"), "192.168.0.8", True),
        (("::1/128",), "::1", True),
        (("2001:db8::/32",), "2001:db8:1::5", True),
        (("2001:db8::/32",), "2001:db9::5", False),
        (("127.0.0.1/32",), "::1", False),
        (("10.0.0.1/32",), "not-an-ip", False),
        (("10.0.0.1/32",), "", False),
        (("10.0.0.1/32",), None, False),
    ],
)
def test_ip_allowed(whitelist, address, allowed):
    assert ip_allowed(whitelist, address) is allowed


@pytest.mark.parametrize(
    ("free", "change", "expected_free"),
    [
        ("10", "2.5", "12.5"),
        ("10", "-2.5", "7.5"),
        ("10", "-10", "0"),
        ("0", "0.000000000000000001", "0.000000000000000001"),
        ("0.3", "-0.1", "0.2"),
    ],
)
def test_adjust_free(free, change, expected_free):
    updated = adjust_free(Balance(Decimal(free), Decimal("4")), Decimal(change))

    assert updated == Balance(Decimal(expected_free), Decimal("4"))


def test_adjust_free_leaves_locked_out_of_the_total_check():
    # 3 free and 4 locked: a debit of 5 exceeds the free part even though the total would cover it.
    with pytest.raises(InsufficientBalance):
        adjust_free(Balance(Decimal("3"), Decimal("4")), Decimal("-5"))


@pytest.mark.parametrize(("free", "change"), [("10", "-10.000000000000000001"), ("0", "-1"), ("0.2", "-0.3")])
def test_adjust_free_never_below_zero(free, change):
    with pytest.raises(InsufficientBalance):
        adjust_free(Balance(Decimal(free), Decimal("0")), Decimal(change))


def test_balance_total_is_free_plus_locked():
    assert Balance(Decimal("1.25"), Decimal("0.75")).total == Decimal("2.00")


@pytest.mark.parametrize(
    ("account_type", "index", "label"),
    [
        (AccountType.TRADING, 0, "Main Trading Account"),
        (AccountType.TRADING, 1, "Sub Main Trading Account"),
        (AccountType.TRADING, 7, "Sub Main Trading Account"),
        (AccountType.CUSTODY, 0, "Custody Account"),
        (AccountType.FIAT, 0, "Fiat Account"),
    ],
)
def test_account_label(account_type, index, label):
    assert account_label(account_type, index) == label
