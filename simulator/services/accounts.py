"""Accounts, API keys and balances: create, list, look up, credit and debit."""

from __future__ import annotations

import secrets
import string
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from decimal import Decimal

from sqlalchemy import bindparam, select
from sqlalchemy.orm import Session, selectinload

from simulator import errors
from simulator.domain import accounts as domain
from simulator.domain.accounts import AccountType, FlowType, KeyType, Permission
from simulator.domain.money import parse_decimal
from simulator.storage import pending, statements, tables
from simulator.storage.db import locked
from simulator.storage.ids import next_id
from simulator.storage.records import BalanceRecord
from simulator.storage.transaction import transaction_cache, transaction_cached

KEY_ALPHABET = string.ascii_letters + string.digits
KEY_LENGTH = 64
MIN_IMPORTED_KEY_LENGTH = 16
KEY_TEXT_RULE = f"{MIN_IMPORTED_KEY_LENGTH} to {KEY_LENGTH} ASCII letters and digits"
MAX_SUB_ACCOUNTS = 200


@dataclass(frozen=True)
class NewAccount:
    """What `accounts create` and POST /sim/v1/accounts ask for."""

    balances: Mapping[str, Decimal] = field(default_factory=dict)
    sub_accounts: int = 0
    api_key: str | None = None
    secret_key: str | None = None
    permissions: frozenset[Permission] = domain.ALL_PERMISSIONS
    ips: tuple[str, ...] = ()


def build_new_account(
    balances: Mapping[str, object] | None = None,
    sub_accounts: object = 0,
    api_key: object = None,
    secret_key: object = None,
    permissions: object = None,
    ips: object = None,
) -> NewAccount:
    """Validate the options of `accounts create` / POST /sim/v1/accounts (names as the admin API spells
    them) into a NewAccount; the first bad one raises the venue's error."""
    parsed_balances = {}
    if not isinstance(balances or {}, Mapping):
        raise errors.IllegalParameter(name="balances")
    for asset, amount in (balances or {}).items():
        value = parse_decimal(amount)
        if not isinstance(asset, str) or value is None or value < 0:
            raise errors.IllegalParameter(name="balances")
        parsed_balances[asset.upper()] = value
    if isinstance(sub_accounts, bool) or not isinstance(sub_accounts, int):
        raise errors.IllegalParameter(name="subAccounts")
    if not 0 <= sub_accounts <= MAX_SUB_ACCOUNTS:
        raise errors.IllegalParameter(name="subAccounts")
    for name, value in (("apiKey", api_key), ("secretKey", secret_key)):
        if value is not None and not isinstance(value, str):
            raise errors.IllegalParameter(name=name)
    return NewAccount(
        balances=parsed_balances,
        sub_accounts=sub_accounts,
        api_key=api_key,  # type: ignore[arg-type]
        secret_key=secret_key,  # type: ignore[arg-type]
        permissions=parse_permission_option(permissions),
        ips=parse_ip_option(ips),
    )


def parse_permission_option(value: object) -> frozenset[Permission]:
    """None -> all; "read,trade" or ["read", "trade"] -> that set (read always included)."""
    if value is None:
        return domain.ALL_PERMISSIONS
    text = ",".join(value) if isinstance(value, list) and all(isinstance(v, str) for v in value) else value
    if not isinstance(text, str):
        raise errors.IllegalParameter(name="permissions")
    try:
        return domain.parse_permissions(text)
    except domain.DomainError as e:
        raise errors.IllegalParameter(name="permissions") from e


def parse_ip_option(value: object) -> tuple[str, ...]:
    if value is None:
        return ()
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise errors.IllegalParameter(name="ips")
    try:
        return domain.parse_ip_whitelist(value)
    except domain.DomainError as e:
        raise errors.IllegalParameter(name="ips") from e


@dataclass(frozen=True)
class KeyIdentity:
    """Who a request is from, once its API key is found: everything auth and endpoints need."""

    api_key: str
    secret: str
    user_id: str
    account_id: str
    key_type: KeyType
    permissions: frozenset[Permission]
    ip_whitelist: tuple[str, ...]


def create_account(session: Session, request: NewAccount, now_ms: int) -> tables.User:
    """A user with main, custody, fiat and N sub trading accounts, a master key, one key per sub account,
    and the opening balances credited to the main trading account (each with its ledger entry). Any
    failure raises inside the caller's transaction, so nothing of the user is kept."""
    known_coins = set(session.scalars(select(tables.Coin.coin_id)))
    for asset, amount in request.balances.items():
        _check_credit(asset, amount, known_coins)
    user = tables.User(id=next_id(session), created_ms=now_ms, vip_level=0)
    session.add(user)
    main = _add_account(session, user, AccountType.TRADING, 0)
    _add_account(session, user, AccountType.CUSTODY, 0)
    _add_account(session, user, AccountType.FIAT, 0)
    subs = [
        _add_account(session, user, AccountType.TRADING, index)
        for index in range(1, request.sub_accounts + 1)
    ]
    session.flush()
    add_api_key(
        session,
        main,
        KeyType.MASTER,
        request.permissions,
        request.ips,
        now_ms,
        request.api_key,
        request.secret_key,
    )
    for sub in subs:
        add_api_key(session, sub, KeyType.SUB, request.permissions, request.ips, now_ms)
    for asset, amount in request.balances.items():
        if amount > 0:
            change_balance(
                session, main.id, asset, amount, FlowType.CUSTODY_DEPOSIT, now_ms, "opening balance"
            )
    session.flush()
    session.refresh(user)
    return user


def add_api_key(
    session: Session,
    account: tables.Account,
    key_type: KeyType,
    permissions: Iterable[Permission],
    ips: Iterable[str],
    now_ms: int,
    api_key: str | None = None,
    secret: str | None = None,
) -> tables.ApiKey:
    """A key acting on `account`; generated unless imported (the document's test vectors are imported)."""
    _check_new_key(session, api_key, secret)
    row = tables.ApiKey(
        api_key=api_key or _random_key(),
        secret=secret or _random_key(),
        user_id=account.user_id,
        account_id=account.id,
        key_type=key_type.value,
        permissions=",".join(sorted(p.value for p in permissions)),
        ip_whitelist=",".join(ips),
        created_ms=now_ms,
    )
    session.add(row)
    session.flush()
    return row


def add_api_key_to_account(
    session: Session,
    account_id: str,
    permissions: frozenset[Permission],
    ips: tuple[str, ...],
    now_ms: int,
    api_key: str | None = None,
    secret: str | None = None,
) -> tables.ApiKey:
    """Another key for an existing trading account: a master key for a main account, a sub key for a sub."""
    account = session.get(tables.Account, account_id)
    if account is None or account.account_type != AccountType.TRADING:
        raise errors.AccountNotFound()
    key_type = KeyType.MASTER if account.account_index == 0 else KeyType.SUB
    return add_api_key(session, account, key_type, permissions, ips, now_ms, api_key, secret)


def list_users(session: Session) -> list[tables.User]:
    statement = (
        select(tables.User)
        .order_by(tables.User.id)
        .options(selectinload(tables.User.accounts), selectinload(tables.User.api_keys))
    )
    return list(session.scalars(statement))


_keys = tables.ApiKey.__table__.c
_KEY_BY_ID = statements.prepare(
    select(
        _keys.api_key,
        _keys.secret,
        _keys.user_id,
        _keys.account_id,
        _keys.key_type,
        _keys.permissions,
        _keys.ip_whitelist,
    ).where(_keys.api_key == bindparam("api_key"))
)


def find_key(session: Session, api_key: str) -> KeyIdentity | None:
    """Every signed request asks. Keys are created and never changed, so one found is kept for the process
    (`statements.read_once`)."""
    return statements.read_once(session, "api_keys", api_key, lambda: _read_key(session, api_key))


def _read_key(session: Session, api_key: str) -> KeyIdentity | None:
    row = statements.run(session, _KEY_BY_ID, {"api_key": api_key}, flush=False).first()
    if row is None:
        return None
    return KeyIdentity(
        api_key=row.api_key,
        secret=row.secret,
        user_id=row.user_id,
        account_id=row.account_id,
        key_type=KeyType(row.key_type),
        permissions=frozenset(Permission(p) for p in row.permissions.split(",") if p),
        ip_whitelist=tuple(ip for ip in row.ip_whitelist.split(",") if ip),
    )


def user_accounts(session: Session, user_id: str) -> list[tables.Account]:
    statement = select(tables.Account).where(tables.Account.user_id == user_id).order_by(tables.Account.id)
    return list(session.scalars(statement))


def readable_account_id(session: Session, identity: KeyIdentity, account_id: str | None) -> str:
    """The account a balance query reads: the key's own, or (master keys only) another of the user's.

    A sub-account key naming any account but its own gets -3117; a master key naming an account that is
    not its user's gets 0104.
    """
    if account_id is None or account_id == identity.account_id:
        return identity.account_id
    if identity.key_type is not KeyType.MASTER:
        raise errors.InvalidPermission()
    account = session.get(tables.Account, account_id)
    if account is None or account.user_id != identity.user_id:
        raise errors.AccountIdNotAllowed()
    return account.id


def user_account(session: Session, user_id: str, account_type: AccountType) -> tables.Account:
    """The user's one account of a type that has one per user (main trading, custody, fiat)."""
    account = tables.Account
    query = select(account).where(
        account.user_id == user_id, account.account_type == int(account_type), account.account_index == 0
    )
    return session.scalars(query).one()


def sub_account_ids(session: Session, user_id: str) -> set[str]:
    """The ids of the user's sub trading accounts (accountType 1, index above 0)."""
    return {
        account.id
        for account in user_accounts(session, user_id)
        if account.account_type == AccountType.TRADING and account.account_index > 0
    }


def visible_accounts(session: Session, identity: KeyIdentity) -> list[tables.Account]:
    """GET /api/v1/account/type: a master key sees all its user's accounts, a sub key only its own."""
    if identity.key_type is KeyType.MASTER:
        return user_accounts(session, identity.user_id)
    account = session.get(tables.Account, identity.account_id)
    return [account] if account is not None else []


def coin_names(session: Session) -> dict[str, str]:
    rows = session.execute(select(tables.Coin.coin_id, tables.Coin.coin_name))
    return {coin_id: name for coin_id, name in rows}


def balances(session: Session, account_id: str) -> list[tables.Balance]:
    statement = (
        select(tables.Balance).where(tables.Balance.account_id == account_id).order_by(tables.Balance.asset)
    )
    return list(session.scalars(statement))


def balances_by_account(session: Session, user: tables.User) -> dict[str, list[tables.Balance]]:
    return {account.id: balances(session, account.id) for account in user.accounts}


def balance_for_update(session: Session, account_id: str, asset: str) -> BalanceRecord | None:
    """The balance, locked for the rest of the transaction: read once, then the same record to every
    caller; its changes are written with the transaction (`storage.records`)."""
    return transaction_cached(
        session, ("balance", account_id, asset), lambda: _read_balance_for_update(session, account_id, asset)
    )


_balance = tables.Balance.__table__.c
_BALANCE_FOR_UPDATE = statements.prepare(
    locked(
        select(_balance.free, _balance.locked).where(
            _balance.account_id == bindparam("account_id"), _balance.asset == bindparam("asset")
        )
    )
)


def _read_balance_for_update(session: Session, account_id: str, asset: str) -> BalanceRecord | None:
    row = statements.run(
        session, _BALANCE_FOR_UPDATE, {"account_id": account_id, "asset": asset}, flush=False
    ).first()
    if row is None:
        return None
    record = BalanceRecord(account_id, asset, row.free, row.locked)
    pending.track(session, record)
    transaction_cache(session)[(_AT_START, account_id, asset)] = (row.free, row.locked)
    return record


def balance_at_start(session: Session, account_id: str, asset: str) -> tuple[Decimal, Decimal] | None:
    """(free, locked) of the balance as the transaction first read it for update; None when it did not (or
    the balance is new in it)."""
    return transaction_cache(session).get((_AT_START, account_id, asset))


_AT_START = "balance_at_start"


def ensure_balance(session: Session, account_id: str, asset: str) -> BalanceRecord:
    """The balance, locked; a zero one is created for an asset the account never held."""
    record = balance_for_update(session, account_id, asset)
    if record is None:
        record = BalanceRecord(account_id, asset, Decimal(0), Decimal(0))
        pending.track(session, record, new=True)
        transaction_cache(session)[("balance", account_id, asset)] = record
    return record


def change_balance(
    session: Session,
    account_id: str,
    asset: str,
    change: Decimal,
    flow_type: FlowType,
    now_ms: int,
    remark: str = "",
) -> None:
    """Credit or debit the free balance and write its ledger entry, in the caller's transaction."""
    row = balance_for_update(session, account_id, asset)
    current = domain.Balance(row.free, row.locked) if row else domain.Balance(Decimal(0), Decimal(0))
    try:
        updated = domain.adjust_free(current, change)
    except domain.InsufficientBalance as e:
        raise errors.InsufficientAsset() from e
    row = row or ensure_balance(session, account_id, asset)
    row.free = updated.free
    add_ledger_entry(session, account_id, asset, flow_type, change, updated.total, now_ms, remark)


def add_ledger_entry(
    session: Session,
    account_id: str,
    asset: str,
    flow_type: FlowType,
    change: Decimal,
    total: Decimal,
    now_ms: int,
    remark: str,
) -> None:
    """The ledger entry of a balance change already made (`total`: free + locked after it). Written with the
    transaction's other pending rows, so a fill's entries cost one statement together."""
    values = {
        "id": next_id(session),
        "account_id": account_id,
        "asset": asset,
        "flow_type": int(flow_type),
        "change": change,
        "total": total,
        "created_ms": now_ms,
        "remark": remark,
    }
    pending.add_row(session, tables.LedgerEntry.__table__, values)


def admin_adjust_balance(
    session: Session, account_id: str, asset: str, amount: Decimal, now_ms: int
) -> BalanceRecord:
    """The admin credit/debit: a credit arrives as a custody deposit, a debit leaves as a withdrawal."""
    account = session.get(tables.Account, account_id)
    if account is None:
        raise errors.AccountNotFound()
    _check_credit(asset, abs(amount), set(session.scalars(select(tables.Coin.coin_id))), allow_zero=False)
    flow = FlowType.CUSTODY_DEPOSIT if amount > 0 else FlowType.CUSTODY_WITHDRAW
    change_balance(session, account_id, asset, amount, flow, now_ms, "sim admin balance change")
    return ensure_balance(session, account_id, asset)


def _add_account(
    session: Session, user: tables.User, account_type: AccountType, index: int
) -> tables.Account:
    account = tables.Account(
        id=next_id(session), user_id=user.id, account_type=int(account_type), account_index=index
    )
    session.add(account)
    return account


def _check_credit(asset: str, amount: Decimal, known_coins: set[str], allow_zero: bool = True) -> None:
    if asset not in known_coins:
        raise errors.InvalidAsset()
    if amount < 0 or (amount == 0 and not allow_zero):
        raise errors.IllegalParameter(name="amount")


def _check_new_key(session: Session, api_key: str | None, secret: str | None) -> None:
    """Imported keys come as a pair, of letters and digits, not already taken."""
    if (api_key is None) != (secret is None):
        raise errors.RequiredFieldMissing(field="secretKey" if secret is None else "apiKey")
    for name, value in (("apiKey", api_key), ("secretKey", secret)):
        if value is not None and not _is_key_text(value):
            raise errors.IllegalParameter(f"Illegal parameter '{name}': {KEY_TEXT_RULE}")
    if api_key is not None and session.get(tables.ApiKey, api_key) is not None:
        raise errors.IllegalParameter("Illegal parameter 'apiKey': that API key is already in use")


def _is_key_text(value: str) -> bool:
    return MIN_IMPORTED_KEY_LENGTH <= len(value) <= KEY_LENGTH and all(c in KEY_ALPHABET for c in value)


def _random_key() -> str:
    return "".join(secrets.choice(KEY_ALPHABET) for _ in range(KEY_LENGTH))
