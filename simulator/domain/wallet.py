"""Wallet rules: the chains of a coin, deposit and withdrawal statuses, and what a withdrawal request must
satisfy. Pure: the coin definitions come in as the fixture objects (fixtures/coins.json)."""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from decimal import Decimal
from enum import IntEnum, StrEnum
from typing import Any

from simulator import errors
from simulator.domain.money import EXACT

WITHDRAW_DECIMALS = 8  # the venue's withdrawal records show 8 decimals ("10.00000000")
MEMO = re.compile(r"[A-Za-z0-9]{1,20}")  # "Only supports letters and numbers. Maximum of 20 characters."
PLATFORMS = frozenset({"BINANCE", "OKX", "BITGET", "BYBIT"})  # "Platform Supported", case-insensitive
DAY_MS = 86_400_000


class DepositStatus(IntEnum):
    """The document's "Deposit Status" table."""

    PENDING_ADDRESS_AUTHENTICATION = 1
    UNDER_REVIEW = 2
    FAILED = 3
    SUCCESSFUL = 4
    REFUND = 5
    REFUND_COMPLETED = 6
    REFUND_FAILED = 7
    IN_THE_ACCOUNT = 8
    FIRST_ADDRESS_VERIFICATION_FAILED = 9
    INTERNAL_FAILED = 10


FINAL_DEPOSIT_STATUSES = frozenset({DepositStatus.FAILED, DepositStatus.SUCCESSFUL})


class WithdrawStatus(StrEnum):
    WITHDRAWING = "withdrawing"
    SUCCESSFUL = "successful"
    FAILED = "failed"
    CANCELED = "canceled"
    UNDER_REVIEW = "under_review"
    CANCELING = "canceling"


class FiatType(StrEnum):
    DEPOSIT = "deposit"
    WITHDRAW = "withdraw"


class FiatStatus(StrEnum):
    UNDER_REVIEW = "under_review"
    PROCESSING = "processing"
    SUCCESSFUL = "successful"
    FAILED = "failed"
    WITHDRAW_RETURN = "withdraw_return"  # deposits only
    RETURN = "return"  # withdrawals only


FIAT_STATUSES = {
    FiatType.DEPOSIT: frozenset(FiatStatus) - {FiatStatus.RETURN},
    FiatType.WITHDRAW: frozenset(FiatStatus) - {FiatStatus.WITHDRAW_RETURN},
}
FIAT_CHANNELS = ("auto", "manual")


@dataclass(frozen=True)
class Chain:
    """One chainTypes entry of a coin, with the simulator-only fields read (defaults for databases seeded
    before they existed)."""

    coin: str
    chain_type: str
    withdraw_fee: Decimal
    min_withdraw: Decimal
    max_withdraw: Decimal  # 0: no maximum
    min_deposit: Decimal
    allow_deposit: bool
    allow_withdraw: bool
    address_format: str
    deposit_confirmations: int
    withdraw_confirmations: int
    block_time_ms: int
    daily_limit: Decimal  # 0: no limit

    @classmethod
    def of(cls, coin: dict[str, Any], chain: dict[str, Any]) -> Chain:
        return cls(
            coin=coin["coinId"],
            chain_type=chain["chainType"],
            withdraw_fee=Decimal(chain["withdrawFee"]),
            min_withdraw=Decimal(chain["minWithdrawQuantity"]),
            max_withdraw=Decimal(chain["maxWithdrawQuantity"]),
            min_deposit=Decimal(chain["minDepositQuantity"]),
            allow_deposit=bool(coin["allowDeposit"] and chain["allowDeposit"]),
            allow_withdraw=bool(coin["allowWithdraw"] and chain["allowWithdraw"]),
            address_format=chain.get("addressFormat", "evm"),
            deposit_confirmations=int(chain.get("depositConfirmations", 1)),
            withdraw_confirmations=int(chain.get("withdrawConfirmations", 1)),
            block_time_ms=int(chain.get("blockTimeMs", 1_000)),
            daily_limit=Decimal(chain.get("dailyWithdrawLimit", "0")),
        )

    @property
    def confirmation_ms(self) -> int:
        """How long after it is seen a deposit is credited: its confirmations' worth of blocks."""
        return self.deposit_confirmations * self.block_time_ms


def find_chain(coin: dict[str, Any], chain_type: str) -> Chain | None:
    """The coin's chain named `chain_type` (exact, as chainType lists it), or None."""
    for chain in coin.get("chainTypes", []):
        if chain["chainType"] == chain_type:
            return Chain.of(coin, chain)
    return None


def check_withdraw_quantity(chain: Chain, quantity: Decimal) -> None:
    """The coin info's rules for one withdrawal: precision, minimum, maximum."""
    if quantity <= 0:
        raise errors.WithdrawAmountMissing()
    if -quantity.normalize(EXACT).as_tuple().exponent > WITHDRAW_DECIMALS:  # type: ignore[operator]
        raise errors.IllegalWithdrawAmount()
    if quantity < chain.min_withdraw:
        raise errors.WithdrawBelowMinimum()
    if chain.max_withdraw > 0 and quantity > chain.max_withdraw:
        raise errors.IllegalWithdrawAmount()


def check_daily_limit(chain: Chain, quantity: Decimal, withdrawn_today: Decimal) -> None:
    """-1166 when this withdrawal alone is over the chain's daily limit; -4010 when the day's total is."""
    if chain.daily_limit <= 0:
        return
    if quantity > chain.daily_limit:
        raise errors.WithdrawOverDailyLimit()
    if withdrawn_today + quantity > chain.daily_limit:
        raise errors.WithdrawDayTotalOverLimit()


def check_memo(memo: str | None) -> None:
    if memo is not None and memo != "" and not MEMO.fullmatch(memo):
        raise errors.WalletParameterError()


def normalise_platform(platform: str | None) -> str:
    """The platform as the venue lists it ("BINANCE"), "" when absent; -4012 for one it does not support."""
    if platform is None or platform == "":
        return ""
    upper = platform.upper()
    if upper not in PLATFORMS:
        raise errors.WalletParameterError()
    return upper


def day_start(now_ms: int) -> int:
    """Midnight UTC of the market day `now_ms` falls in (the daily withdrawal limit's day)."""
    return now_ms - now_ms % DAY_MS


def transaction_id(address_format: str, seed: str) -> str:
    """A deterministic on-chain transaction id in the chain's usual spelling (0x-prefixed on EVM chains)."""
    digest = hashlib.sha256(seed.encode()).hexdigest()
    return "0x" + digest if address_format == "evm" else digest
