"""GET /api/v1/account/balanceFlow: an account's ledger entries, read as they were written (never rebuilt
from orders or transfers).

Windows are in market time. The request's own range may span at most 30 days (-2027) and may not start
before now - 30 days (-2028). Within it the document keeps "recent 7-day data" of trades and fees and
"recent 30-day data" of every other flow type.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import and_, or_, select
from sqlalchemy.orm import Session

from simulator import errors
from simulator.domain.accounts import AccountType, FlowType, KeyType
from simulator.services.accounts import KeyIdentity, user_account
from simulator.storage import tables

DAY_MS = 86_400_000
MAX_RANGE_MS = 30 * DAY_MS
RETENTION_MS = 30 * DAY_MS
RECENT_ONLY = (FlowType.TRADE, FlowType.FEE)  # kept 7 days
RECENT_RETENTION_MS = 7 * DAY_MS
CONTRACT_RECORDS = 3  # the document's accountType 3, "Trading Account Record Contract": no futures here
RECORD_TYPES = (AccountType.TRADING, CONTRACT_RECORDS, AccountType.CUSTODY, AccountType.FIAT)


@dataclass(frozen=True)
class FlowQuery:
    start_ms: int
    end_ms: int
    limit: int
    flow_type: FlowType | None = None


def check_window(start_ms: int, end_ms: int, now_ms: int) -> None:
    """-2027 for a range over 30 days, then -2028 for a start before now - 30 days (both bounds inclusive)."""
    if end_ms - start_ms > MAX_RANGE_MS:
        raise errors.TimeRangeOver30Days()
    if start_ms < now_ms - RETENTION_MS:
        raise errors.SearchLimitedToLastMonth()


def flow_account_id(session: Session, identity: KeyIdentity, account_type: int | None) -> str | None:
    """Whose entries the key reads for `accountType` (default 1), or None when that lists nothing: a master
    key reads its user's account of that type (1: the main trading account); a sub-account key only its own
    account, and only as accountType 1."""
    wanted = AccountType.TRADING if account_type is None else account_type
    if wanted == CONTRACT_RECORDS:
        return None
    if identity.key_type is KeyType.SUB:
        return identity.account_id if wanted == AccountType.TRADING else None
    return user_account(session, identity.user_id, AccountType(wanted)).id


def balance_flow(
    session: Session, account_id: str, wanted: FlowQuery, now_ms: int
) -> list[tables.LedgerEntry]:
    """The account's entries with created time in [start, end] and within their flow type's retention,
    newest first (then by id, descending), at most `limit`."""
    entry = tables.LedgerEntry
    recent_since = max(wanted.start_ms, now_ms - RECENT_RETENTION_MS)
    since = max(wanted.start_ms, now_ms - RETENTION_MS)
    retained = or_(
        and_(entry.flow_type.in_([int(f) for f in RECENT_ONLY]), entry.created_ms >= recent_since),
        and_(entry.flow_type.not_in([int(f) for f in RECENT_ONLY]), entry.created_ms >= since),
    )
    query = (
        select(entry)
        .where(entry.account_id == account_id, entry.created_ms <= wanted.end_ms, retained)
        .order_by(entry.created_ms.desc(), entry.id.desc())
        .limit(wanted.limit)
    )
    if wanted.flow_type is not None:
        query = query.where(entry.flow_type == int(wanted.flow_type))
    return list(session.scalars(query))
