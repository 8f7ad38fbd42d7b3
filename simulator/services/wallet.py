"""Deposits, withdrawals and fiat orders, and their lifecycles over market time.

On-chain deposits arrive in, and withdrawals leave from, the user's custody account (accountType 5): the
document's withdraw example answers with the custody account's id, and the ledger calls these flows
CUSTODY_DEPOSIT and CUSTODY_WITHDRAW. Fiat moves through the fiat account (6). Every step that changes a
balance writes its ledger entry in the same transaction; `advance` moves what is due at market time now.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from sqlalchemy import exists, func, or_, select
from sqlalchemy.orm import Session

from simulator import errors
from simulator.domain import addresses
from simulator.domain import wallet as rules
from simulator.domain.accounts import AccountType, FlowType, KeyType
from simulator.domain.money import EXACT
from simulator.domain.wallet import Chain, DepositStatus, FiatStatus, FiatType, WithdrawStatus
from simulator.services import coins
from simulator.services.accounts import (
    KeyIdentity,
    add_ledger_entry,
    balance_for_update,
    change_balance,
    user_account,
)
from simulator.services.clock import read_clock
from simulator.storage import tables
from simulator.storage.ids import next_id


@dataclass(frozen=True)
class DepositAddress:
    chain: Chain
    coin_type: str
    address: str


@dataclass(frozen=True)
class NewWithdrawal:
    """POST /api/v1/account/withdraw, its parameters parsed (quantity a Decimal, the rest text)."""

    coin: str
    chain_type: str
    address: str
    quantity: Decimal
    client_order_id: str
    memo: str = ""
    platform: str | None = None
    remark: str = ""


@dataclass(frozen=True)
class NewFiatOrder:
    """A fiat deposit or withdrawal the admin API or CLI creates."""

    account_id: str
    type: FiatType
    asset: str
    gross_amount: Decimal
    fee: Decimal = Decimal(0)
    channel: str = "auto"
    remark: str = ""
    client_order_id: str = ""


@dataclass(frozen=True)
class WalletDelays:
    """Market-time ms a withdrawal and a fiat order take to complete (the settings)."""

    withdraw_ms: int
    fiat_ms: int


# ---- coins and addresses ----------------------------------------------------------------------------


def chain_of(session: Session, coin: str, chain_type: str, unknown: Callable[[], errors.ApiError]) -> Chain:
    chain = rules.find_chain(coins.coin_definition(session, coin), chain_type)
    if chain is None:
        raise unknown()
    return chain


def custody_account(session: Session, identity: KeyIdentity) -> tables.Account:
    """The wallet's account of the key's user; sub-account keys have none (-1205)."""
    if identity.key_type is not KeyType.MASTER:
        raise errors.AccountNotAuthorized()
    return user_account(session, identity.user_id, AccountType.CUSTODY)


def deposit_address(session: Session, identity: KeyIdentity, coin: str, chain_type: str) -> DepositAddress:
    """GET /api/v1/account/deposit/address: the same address every time for an account, coin and chain."""
    custody = custody_account(session, identity)
    chain = chain_of(session, coin, chain_type, lambda: errors.RequiredFieldMissing(field="chainType"))
    token_type = coins.coin_definition(session, coin).get("tokenType", "")
    return DepositAddress(chain, token_type, _address_of(custody.id, chain))


def _address_of(account_id: str, chain: Chain) -> str:
    seed = hashlib.sha256(f"{account_id}:{chain.coin}:{chain.chain_type}".encode()).digest()
    return addresses.deposit_address(chain.address_format, seed)


# ---- deposits ---------------------------------------------------------------------------------------


def create_deposit(
    session: Session,
    account_id: str,
    coin: str,
    chain_type: str,
    quantity: Decimal,
    now_ms: int,
    tx_id: str | None = None,
    needs_address_authentication: bool = False,
) -> tables.Deposit:
    """An on-chain deposit seen now, to the custody account of `account_id`'s user: in the account (8)
    and credited (4) after the chain's confirmations; or first waiting for address authentication (1)."""
    account = session.get(tables.Account, account_id)
    if account is None:
        raise errors.AccountNotFound()
    custody = user_account(session, account.user_id, AccountType.CUSTODY)
    chain = chain_of(session, coin, chain_type, lambda: errors.RequiredFieldMissing(field="chainType"))
    if not chain.allow_deposit:
        raise errors.DepositNotAllowed()
    if quantity < chain.min_deposit or quantity <= 0:
        raise errors.DepositBelowMinimum(
            amount=_plain(quantity), minimum=_plain(chain.min_deposit), coin=coin
        )
    deposit_id = next_id(session)
    waiting = needs_address_authentication
    row = tables.Deposit(
        id=deposit_id,
        account_id=custody.id,
        coin=coin,
        chain_type=chain.chain_type,
        address=_address_of(custody.id, chain),
        quantity=quantity,
        tx_id=tx_id or rules.transaction_id(chain.address_format, f"deposit:{deposit_id}"),
        status=int(DepositStatus.PENDING_ADDRESS_AUTHENTICATION if waiting else DepositStatus.IN_THE_ACCOUNT),
        created_ms=now_ms,
        updated_ms=now_ms,
        due_ms=None if waiting else now_ms + chain.confirmation_ms,
    )
    session.add(row)
    return row


@dataclass(frozen=True)
class AddressDeclaration:
    """POST /api/v1/account/authAddress, parsed."""

    tx_id: str
    exchange_name: str
    is_address_owner: bool
    sender_first_name: str = ""
    sender_last_name: str = ""
    institutional_name: str = ""


def authenticate_address(
    session: Session, identity: KeyIdentity, declaration: AddressDeclaration, now_ms: int
) -> None:
    """The declaration a deposit waiting for address authentication needs: it then goes on to be credited
    after its confirmations."""
    custody = custody_account(session, identity)
    deposit = session.scalars(
        select(tables.Deposit).where(
            tables.Deposit.account_id == custody.id, tables.Deposit.tx_id == declaration.tx_id
        )
    ).first()
    if deposit is None:
        raise errors.DepositNotFound()
    if deposit.status != DepositStatus.PENDING_ADDRESS_AUTHENTICATION:
        raise errors.DepositStatusInvalid()
    session.add(
        tables.AddressDeclaration(
            id=next_id(session),
            user_id=identity.user_id,
            tx_id=declaration.tx_id,
            sender_first_name=declaration.sender_first_name,
            sender_last_name=declaration.sender_last_name,
            institutional_name=declaration.institutional_name,
            exchange_name=declaration.exchange_name,
            is_address_owner=int(declaration.is_address_owner),
            created_ms=now_ms,
        )
    )
    chain = chain_of(session, deposit.coin, deposit.chain_type, errors.InvalidAsset)
    deposit.status = int(DepositStatus.IN_THE_ACCOUNT)
    deposit.updated_ms = now_ms
    deposit.due_ms = now_ms + chain.confirmation_ms


def fail_deposit(session: Session, deposit_id: str, now_ms: int) -> tables.Deposit:
    """Admin: a deposit not yet credited fails (3); nothing was credited, so nothing is taken back."""
    deposit = session.get(tables.Deposit, deposit_id)
    if deposit is None:
        raise errors.DepositNotFound()
    if deposit.status in rules.FINAL_DEPOSIT_STATUSES:
        raise errors.DepositStatusInvalid()
    deposit.status, deposit.updated_ms, deposit.due_ms = int(DepositStatus.FAILED), now_ms, None
    return deposit


def deposit_orders(
    session: Session,
    identity: KeyIdentity,
    coin: str | None,
    window: tuple[int | None, int | None],
    limit: int,
) -> list[tables.Deposit]:
    """GET /api/v1/account/depositOrders, newest first; `coin` is "USDT" or, as the document's example
    spells it, "ETH_USDT" (chain_coin)."""
    custody = custody_account(session, identity)
    deposit = tables.Deposit
    query = select(deposit).where(deposit.account_id == custody.id)
    if coin:
        chain_type, _, coin_id = coin.rpartition("_")
        query = query.where(deposit.coin == coin_id)
        if chain_type:
            query = query.where(func.upper(deposit.chain_type) == chain_type.upper())
    query = _in_window(query, deposit.created_ms, window)
    return list(session.scalars(query.order_by(deposit.created_ms.desc(), deposit.id.desc()).limit(limit)))


# ---- withdrawals ------------------------------------------------------------------------------------


def withdraw(
    session: Session, identity: KeyIdentity, new: NewWithdrawal, now_ms: int, delays: WalletDelays
) -> tables.Withdrawal:
    """POST /api/v1/account/withdraw: every rule, then the quantity moves from free to locked until the
    withdrawal ends. Checks in the order the README lists them; a refused one writes nothing."""
    custody = custody_account(session, identity)
    chain = chain_of(session, new.coin, new.chain_type, errors.WithdrawChannelNotSupported)
    if not chain.allow_withdraw:
        raise errors.WithdrawNotAllowed()
    if not addresses.is_valid_address(chain.address_format, new.address):
        raise errors.IllegalWithdrawAddress()
    rules.check_memo(new.memo)
    platform = rules.normalise_platform(new.platform)
    _check_whitelist(session, identity.api_key, new.address)
    rules.check_withdraw_quantity(chain, new.quantity)
    if _withdrawal_with_client_id(session, custody.id, new.client_order_id):
        raise errors.WithdrawRepeated()
    rules.check_daily_limit(chain, new.quantity, _withdrawn_today(session, custody.id, chain, now_ms))
    balance = balance_for_update(session, custody.id, new.coin)
    if balance is None or balance.free < new.quantity:
        raise errors.WithdrawInsufficientBalance()
    balance.free -= new.quantity
    balance.locked += new.quantity
    row = tables.Withdrawal(
        order_id="W" + next_id(session),
        account_id=custody.id,
        client_order_id=new.client_order_id,
        coin=new.coin,
        chain_type=chain.chain_type,
        address=new.address,
        memo=new.memo,
        platform=platform,
        remark=new.remark,
        quantity=new.quantity,
        fee=chain.withdraw_fee,
        status=WithdrawStatus.WITHDRAWING.value,
        tx_id="",
        created_ms=now_ms,
        updated_ms=now_ms,
        due_ms=now_ms + delays.withdraw_ms,
    )
    session.add(row)
    return row


def _check_whitelist(session: Session, api_key: str, address: str) -> None:
    allowed = set(
        session.scalars(
            select(tables.WithdrawAddress.address).where(tables.WithdrawAddress.api_key == api_key)
        )
    )
    if allowed and address not in allowed:
        raise errors.AddressNotWhitelisted()


def _withdrawal_with_client_id(session: Session, account_id: str, client_order_id: str) -> bool:
    w = tables.Withdrawal
    query = select(w.order_id).where(w.account_id == account_id, w.client_order_id == client_order_id)
    return session.scalars(query.limit(1)).first() is not None


def _withdrawn_today(session: Session, account_id: str, chain: Chain, now_ms: int) -> Decimal:
    """What the account asked to withdraw of the coin on the chain since midnight UTC (market time), except
    withdrawals that failed or were canceled."""
    w = tables.Withdrawal
    query = select(w.quantity).where(
        w.account_id == account_id,
        w.coin == chain.coin,
        w.chain_type == chain.chain_type,
        w.created_ms >= rules.day_start(now_ms),
        w.status.not_in([WithdrawStatus.FAILED.value, WithdrawStatus.CANCELED.value]),
    )
    return sum(session.scalars(query), Decimal(0))


def end_withdrawal(session: Session, order_id: str, status: WithdrawStatus, now_ms: int) -> tables.Withdrawal:
    """Admin: a withdrawal still withdrawing fails or is canceled; its quantity goes back to free."""
    row = session.get(tables.Withdrawal, order_id)
    if row is None or status not in (WithdrawStatus.FAILED, WithdrawStatus.CANCELED):
        raise errors.WithdrawStatusInvalid()
    if row.status != WithdrawStatus.WITHDRAWING.value:
        raise errors.WithdrawStatusInvalid()
    _unlock(session, row.account_id, row.coin, row.quantity)
    row.status, row.updated_ms, row.due_ms = status.value, now_ms, None
    return row


def withdraw_orders(
    session: Session,
    identity: KeyIdentity,
    coin: str | None,
    remark: str | None,
    window: tuple[int | None, int | None],
    limit: int,
) -> list[tables.Withdrawal]:
    custody = custody_account(session, identity)
    w = tables.Withdrawal
    query = select(w).where(w.account_id == custody.id)
    if coin:
        query = query.where(w.coin == coin)
    if remark:
        query = query.where(w.remark == remark)
    query = _in_window(query, w.created_ms, window)
    return list(session.scalars(query.order_by(w.created_ms.desc(), w.order_id.desc()).limit(limit)))


def arrive_quantity(row: tables.Withdrawal) -> Decimal | None:
    """What reached the address (quantity less the fee), once the withdrawal succeeded."""
    return row.quantity - row.fee if row.status == WithdrawStatus.SUCCESSFUL.value else None


# ---- fiat -------------------------------------------------------------------------------------------


def create_fiat_order(
    session: Session, new: NewFiatOrder, now_ms: int, delays: WalletDelays
) -> tables.FiatOrder:
    """Admin: a fiat deposit (credited gross - fee when it succeeds) or withdrawal (gross + fee locked now,
    debited when it succeeds), processing until then."""
    account = session.get(tables.Account, new.account_id)
    if account is None:
        raise errors.AccountNotFound()
    fiat_account = user_account(session, account.user_id, AccountType.FIAT)
    if not coins.is_fiat(coins.coin_definition(session, new.asset)):
        raise errors.InvalidAsset()
    if new.gross_amount <= 0 or new.fee < 0 or (new.type is FiatType.DEPOSIT and new.fee >= new.gross_amount):
        raise errors.IllegalParameter(name="amount")
    if new.type is FiatType.WITHDRAW:
        balance = balance_for_update(session, fiat_account.id, new.asset)
        total = new.gross_amount + new.fee
        if balance is None or balance.free < total:
            raise errors.WithdrawInsufficientBalance()
        balance.free -= total
        balance.locked += total
    prefix = "NFD" if new.type is FiatType.DEPOSIT else "NFW"
    row = tables.FiatOrder(
        order_id=prefix + next_id(session),
        account_id=fiat_account.id,
        type=new.type.value,
        asset=new.asset,
        gross_amount=new.gross_amount,
        fee=new.fee,
        status=FiatStatus.PROCESSING.value,
        channel=new.channel,
        remark=new.remark,
        client_order_id=new.client_order_id,
        created_ms=now_ms,
        updated_ms=now_ms,
        due_ms=now_ms + delays.fiat_ms,
    )
    session.add(row)
    return row


def fail_fiat_order(session: Session, order_id: str, now_ms: int) -> tables.FiatOrder:
    """Admin: a processing fiat order fails; a withdrawal's locked amount goes back to free."""
    row = session.get(tables.FiatOrder, order_id)
    if row is None:
        raise errors.IllegalParameter(name="orderId")
    if row.status != FiatStatus.PROCESSING.value:
        invalid = (
            errors.InvalidFiatDepositStatus
            if row.type == FiatType.DEPOSIT
            else errors.InvalidFiatWithdrawalStatus
        )
        raise invalid()
    if row.type == FiatType.WITHDRAW:
        _unlock(session, row.account_id, row.asset, row.gross_amount + row.fee)
    row.status, row.updated_ms, row.due_ms = FiatStatus.FAILED.value, now_ms, None
    return row


@dataclass(frozen=True)
class FiatQuery:
    """GET /api/v1/account/fiat/history, parsed."""

    type: FiatType
    start_ms: int
    end_ms: int
    status: FiatStatus | None = None
    channel: str = "auto"
    remark: str | None = None
    limit: int = 500


def fiat_history(session: Session, identity: KeyIdentity, wanted: FiatQuery) -> list[tables.FiatOrder]:
    if identity.key_type is not KeyType.MASTER:
        raise errors.AccountNotAuthorized()
    fiat_account = user_account(session, identity.user_id, AccountType.FIAT)
    f = tables.FiatOrder
    query = select(f).where(
        f.account_id == fiat_account.id, f.type == wanted.type.value, f.channel == wanted.channel
    )
    if wanted.status is not None:
        query = query.where(f.status == wanted.status.value)
    if wanted.remark:
        query = query.where(f.remark == wanted.remark)
    query = _in_window(query, f.created_ms, (wanted.start_ms, wanted.end_ms))
    return list(session.scalars(query.order_by(f.created_ms.desc(), f.order_id.desc()).limit(wanted.limit)))


def net_amount(row: tables.FiatOrder) -> Decimal:
    """The document: deposit gross - fee, withdrawal gross + fee."""
    return row.gross_amount - row.fee if row.type == FiatType.DEPOSIT else row.gross_amount + row.fee


# ---- whitelist --------------------------------------------------------------------------------------


def set_withdraw_addresses(session: Session, api_key: str, chosen: list[str]) -> list[str]:
    """Admin: the key may withdraw only to these addresses from now on (none: anywhere)."""
    if session.get(tables.ApiKey, api_key) is None:
        raise errors.InvalidApiKey()
    table = tables.WithdrawAddress
    for row in session.scalars(select(table).where(table.api_key == api_key)):
        session.delete(row)
    session.flush()
    unique = sorted(set(chosen))
    session.add_all(table(api_key=api_key, address=address) for address in unique)
    return unique


# ---- lifecycles -------------------------------------------------------------------------------------


def now_with_steps_taken(session: Session, transport_now_ms: int) -> int:
    """The market clock's now, every deposit, withdrawal and fiat step due by then taken: where a write of
    the wallet starts."""
    now_ms = read_clock(session).now_ms(transport_now_ms)
    advance(session, now_ms)
    return now_ms


def next_due_time(session: Session, after_ms: int) -> int | None:
    """The earliest market time after `after_ms` at which a deposit, withdrawal or fiat order moves."""
    times = [
        session.scalar(select(func.min(table.due_ms)).where(table.due_ms > after_ms))
        for table in (tables.Deposit, tables.Withdrawal, tables.FiatOrder)
    ]
    found = [t for t in times if t is not None]
    return min(found) if found else None


def anything_due(session: Session, now_ms: int) -> bool:
    """Whether a deposit, withdrawal or fiat order is due by `now_ms`: one statement (every catch-up asks)."""
    tables_with_steps = (tables.Deposit, tables.Withdrawal, tables.FiatOrder)
    return bool(session.scalar(select(or_(*(exists().where(t.due_ms <= now_ms) for t in tables_with_steps)))))


def advance(session: Session, now_ms: int) -> int:
    """Every step due by market time `now_ms`, in time order (ties by id); the number of steps taken."""
    due: list[tuple[int, str, Callable[[], None]]] = []
    for deposit in _due(session, tables.Deposit, now_ms):
        due.append((deposit.due_ms, deposit.id, lambda d=deposit: _credit_deposit(session, d)))
    for withdrawal in _due(session, tables.Withdrawal, now_ms):
        due.append(
            (withdrawal.due_ms, withdrawal.order_id, lambda w=withdrawal: _complete_withdrawal(session, w))
        )
    for order in _due(session, tables.FiatOrder, now_ms):
        due.append((order.due_ms, order.order_id, lambda o=order: _complete_fiat_order(session, o)))
    for _, _, step in sorted(due, key=lambda item: item[:2]):
        step()
    return len(due)


def _due(session: Session, table: Any, now_ms: int) -> list[Any]:
    return list(session.scalars(select(table).where(table.due_ms <= now_ms)))


def _credit_deposit(session: Session, deposit: tables.Deposit) -> None:
    at_ms = deposit.due_ms
    change_balance(
        session,
        deposit.account_id,
        deposit.coin,
        deposit.quantity,
        FlowType.CUSTODY_DEPOSIT,
        at_ms,
        deposit.id,
    )
    deposit.status, deposit.updated_ms, deposit.due_ms = int(DepositStatus.SUCCESSFUL), at_ms, None


def _complete_withdrawal(session: Session, row: tables.Withdrawal) -> None:
    at_ms = row.due_ms
    _pay_locked(
        session, row.account_id, row.coin, row.quantity, FlowType.CUSTODY_WITHDRAW, at_ms, row.order_id
    )
    chain = chain_of(session, row.coin, row.chain_type, errors.WithdrawChannelNotSupported)
    row.tx_id = rules.transaction_id(chain.address_format, f"withdraw:{row.order_id}")
    row.status, row.updated_ms, row.due_ms = WithdrawStatus.SUCCESSFUL.value, at_ms, None


def _complete_fiat_order(session: Session, row: tables.FiatOrder) -> None:
    at_ms = row.due_ms
    if row.type == FiatType.DEPOSIT:
        change_balance(
            session, row.account_id, row.asset, net_amount(row), FlowType.FIAT_DEPOSIT, at_ms, row.order_id
        )
    else:
        _pay_locked(
            session, row.account_id, row.asset, net_amount(row), FlowType.FIAT_WITHDRAW, at_ms, row.order_id
        )
    row.status, row.updated_ms, row.due_ms = FiatStatus.SUCCESSFUL.value, at_ms, None


def _pay_locked(
    session: Session, account_id: str, asset: str, amount: Decimal, flow: FlowType, at_ms: int, remark: str
) -> None:
    """Funds held since the request leave the account: out of locked, with the ledger entry."""
    balance = balance_for_update(session, account_id, asset)
    assert balance is not None and balance.locked >= amount, "a pending withdrawal holds its amount"
    balance.locked -= amount
    add_ledger_entry(session, account_id, asset, flow, -amount, balance.free + balance.locked, at_ms, remark)


def _unlock(session: Session, account_id: str, asset: str, amount: Decimal) -> None:
    balance = balance_for_update(session, account_id, asset)
    assert balance is not None and balance.locked >= amount, "a pending withdrawal holds its amount"
    balance.locked -= amount
    balance.free += amount


# ---- helpers ----------------------------------------------------------------------------------------


def _in_window(query: Any, column: Any, window: tuple[int | None, int | None]) -> Any:
    start_ms, end_ms = window
    if start_ms is not None:
        query = query.where(column >= start_ms)
    if end_ms is not None:
        query = query.where(column <= end_ms)
    return query


def _plain(value: Decimal) -> str:
    return format(value.normalize(EXACT), "f")
