"""Users, their accounts and API keys as HashKey has them, and the balance arithmetic.

A user has one main trading account (type 1), one custody account (5), one fiat account (6) and any
number of sub trading accounts (type 1 as well, index 1, 2, ...). An API key belongs to one trading
account: the main one for a master key, a sub account for a sub-account key.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable
from dataclasses import dataclass
from decimal import Decimal
from enum import IntEnum, StrEnum


class AccountType(IntEnum):
    TRADING = 1
    CUSTODY = 5
    FIAT = 6


class KeyType(StrEnum):
    MASTER = "master"
    SUB = "sub"


class Permission(StrEnum):
    READ = "read"
    TRADE = "trade"
    WITHDRAW = "withdraw"


class FlowType(IntEnum):
    """Ledger entry types, with the values the document's balanceFlow endpoint uses."""

    TRADE = 1
    FEE = 2
    FUNDING_SETTLEMENT = 32
    USER_ACCOUNT_TRANSFER = 51
    CUSTODY_DEPOSIT = 900
    CUSTODY_WITHDRAW = 904
    FIAT_DEPOSIT = 906
    FIAT_WITHDRAW = 910


# The `flowType` name balanceFlow shows next to each value (the document's table and examples; 32 is "Funding
# FEE" in the table but FUNDING_SETTLEMENT in the example answer, which is what a client sees).
FLOW_TYPE_NAMES: dict[FlowType, str] = {
    FlowType.TRADE: "TRADE",
    FlowType.FEE: "FEE",
    FlowType.FUNDING_SETTLEMENT: "FUNDING_SETTLEMENT",
    FlowType.USER_ACCOUNT_TRANSFER: "USER_ACCOUNT_TRANSFER",
    FlowType.CUSTODY_DEPOSIT: "CUSTODY_DEPOSIT",
    FlowType.CUSTODY_WITHDRAW: "CUSTODY_WITHDRAW",
    FlowType.FIAT_DEPOSIT: "FIAT_DEPOSIT",
    FlowType.FIAT_WITHDRAW: "FIAT_WITHDRAW",
}

ALL_PERMISSIONS = frozenset(Permission)


class DomainError(ValueError):
    """Raised by domain rules; services translate it to the venue's code."""


class InsufficientBalance(DomainError):
    pass


def account_label(account_type: AccountType, index: int) -> str:
    """The accountLabel HashKey shows for an account (GET /api/v1/account/type)."""
    if account_type is AccountType.CUSTODY:
        return "Custody Account"
    if account_type is AccountType.FIAT:
        return "Fiat Account"
    return "Main Trading Account" if index == 0 else "Sub Main Trading Account"


def parse_permissions(text: str) -> frozenset[Permission]:
    """'read,trade' -> {READ, TRADE}; read is implied by any other permission, as on the venue's console."""
    names = [name.strip().lower() for name in text.split(",") if name.strip()]
    if not names:
        raise DomainError("at least one permission is needed (read, trade, withdraw)")
    try:
        permissions = {Permission(name) for name in names}
    except ValueError as e:
        raise DomainError(f"unknown permission in {text!r}; use read, trade, withdraw") from e
    return frozenset(permissions | {Permission.READ})


def parse_ip_whitelist(entries: Iterable[str]) -> tuple[str, ...]:
    """Normalise addresses and networks ('10.0.0.1', '192.168.0.0/24', '::1'); reject anything else."""
    normalised = []
    for entry in entries:
        try:
            normalised.append(str(ipaddress.ip_network(entry.strip(), strict=False)))
        except ValueError as e:
            raise DomainError(f"{entry!r} is not an IP address or network") from e
    return tuple(dict.fromkeys(normalised))


def ip_allowed(whitelist: Iterable[str], address: str | None) -> bool:
    """An empty whitelist allows every address; otherwise the address must fall in one of its networks."""
    networks = [ipaddress.ip_network(entry) for entry in whitelist]
    if not networks:
        return True
    try:
        ip = ipaddress.ip_address(address or "")
    except ValueError:
        return False
    return any(ip in network for network in networks)


@dataclass(frozen=True)
class Balance:
    free: Decimal
    locked: Decimal

    @property
    def total(self) -> Decimal:
        return self.free + self.locked


def adjust_free(balance: Balance, change: Decimal) -> Balance:
    """Credit (change > 0) or debit (change < 0) the free part; free never goes below zero."""
    free = balance.free + change
    if free < 0:
        raise InsufficientBalance(f"free balance {balance.free} cannot cover {-change}")
    return Balance(free, balance.locked)
