"""POST /api/v1/account/assetTransfer: move a coin between two accounts of one user, in one transaction.

Checks, in this order (the first failure answers, nothing is written before the last):
  1. the from account is the user's (a sub-account key: its own account)   -1172
  2. the to account is the user's                                           -1173
  3. not the same account                                                   -1174
  4. into a sub account only from the main trading account                  -1204
     out of a sub account only to the main trading account                  -1173
  5. the coin exists                                                        -4001
  6. a non-empty clientOrderId not used before by this user                 -1024
  7. the user's last transfer at least a second ago (wall clock)            -3145
  8. enough free balance in the from account                                0401
Main trading, custody and fiat accounts move freely among themselves.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from simulator import errors
from simulator.domain.accounts import AccountType, FlowType, KeyType
from simulator.services.accounts import KeyIdentity, change_balance
from simulator.services.coins import coin_row
from simulator.storage import tables
from simulator.storage.ids import next_id

# The document: "This endpoint should be called no more than once per second." Per user, on the transport
# (wall) clock, so a replay clock at any speed does not change it; callers may pass another interval.
MIN_INTERVAL_MS = 1000


@dataclass(frozen=True)
class TransferRequest:
    from_account_id: str
    to_account_id: str
    coin: str
    quantity: Decimal  # positive
    remark: str = ""
    client_order_id: str = ""


def transfer(
    session: Session,
    identity: KeyIdentity,
    wanted: TransferRequest,
    market_ms: int,
    transport_ms: int,
    min_interval_ms: int = MIN_INTERVAL_MS,
) -> tables.Transfer:
    """Debit, credit (each with its USER_ACCOUNT_TRANSFER ledger entry, remark = the transfer's id) and the
    transfer row, in the caller's write transaction; any refusal raises before anything is written."""
    source, target = _route(session, identity, wanted)
    coin_row(session, wanted.coin)
    _check_client_order_id(session, identity.user_id, wanted.client_order_id)
    _check_frequency(session, identity.user_id, transport_ms, min_interval_ms)
    order_id = next_id(session)
    flow = FlowType.USER_ACCOUNT_TRANSFER
    # the debit first: it raises 0401 when the free balance cannot cover the quantity
    change_balance(session, source.id, wanted.coin, -wanted.quantity, flow, market_ms, order_id)
    change_balance(session, target.id, wanted.coin, wanted.quantity, flow, market_ms, order_id)
    row = tables.Transfer(
        order_id=order_id,
        user_id=identity.user_id,
        client_order_id=wanted.client_order_id,
        from_account_id=source.id,
        to_account_id=target.id,
        coin=wanted.coin,
        quantity=wanted.quantity,
        remark=wanted.remark,
        created_ms=market_ms,
        transport_ms=transport_ms,
    )
    session.add(row)
    return row


def _route(
    session: Session, identity: KeyIdentity, wanted: TransferRequest
) -> tuple[tables.Account, tables.Account]:
    source = session.get(tables.Account, wanted.from_account_id)
    if source is None or source.user_id != identity.user_id:
        raise errors.InvalidFromAccount()
    if identity.key_type is KeyType.SUB and source.id != identity.account_id:
        raise errors.InvalidFromAccount()  # a sub-account key moves only its own account's funds
    target = session.get(tables.Account, wanted.to_account_id)
    if target is None or target.user_id != identity.user_id:
        raise errors.InvalidToAccount()
    if target.id == source.id:
        raise errors.SameAccountTransfer()
    if _is_sub(target) and not _is_main(source):
        raise errors.FromAccountNotMain()
    if _is_sub(source) and not _is_main(target):
        raise errors.InvalidToAccount()
    return source, target


def _is_main(account: tables.Account) -> bool:
    return account.account_type == AccountType.TRADING and account.account_index == 0


def _is_sub(account: tables.Account) -> bool:
    return account.account_type == AccountType.TRADING and account.account_index > 0


def _check_client_order_id(session: Session, user_id: str, client_order_id: str) -> None:
    if not client_order_id:
        return
    transfer = tables.Transfer
    used = select(transfer.order_id).where(
        transfer.user_id == user_id, transfer.client_order_id == client_order_id
    )
    if session.scalars(used.limit(1)).first() is not None:
        raise errors.DuplicateRequest()


def _check_frequency(session: Session, user_id: str, transport_ms: int, min_interval_ms: int) -> None:
    """Refused transfers are never stored, so they do not count. A wall clock that stepped back behind the
    last transfer does not lock the user out."""
    last = session.scalar(
        select(func.max(tables.Transfer.transport_ms)).where(tables.Transfer.user_id == user_id)
    )
    if last is not None and last <= transport_ms < last + min_interval_ms:
        raise errors.TooFrequent()
