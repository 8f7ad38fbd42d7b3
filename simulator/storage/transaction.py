"""Per-transaction memory: rows locked once and reused, and rows waiting to be written (`pending`)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

from sqlalchemy.orm import Session

T = TypeVar("T")
_KEY = "hashkey_sim_transaction_cache"


def transaction_cache(session: Session) -> dict[Any, Any]:
    """A dict that lives as long as the session's current transaction: for rows locked once and reused
    (the id counter, balance rows), so a fill does not re-read them statement by statement."""
    transaction = session.get_transaction()
    held = session.info.get(_KEY)
    if held is None or held[0] is not transaction:
        held = (transaction, {})
        session.info[_KEY] = held
    return held[1]


def transaction_cached(session: Session, key: Any, compute: Callable[[], T]) -> T:
    """`compute()` once per transaction for `key` (see `transaction_cache`)."""
    cache = transaction_cache(session)
    if key not in cache:
        cache[key] = compute()
    return cache[key]


def forget_transaction(session: Session) -> None:
    """Drop what the session's last transaction kept (`transaction_cache`): the session is kept for the
    next one, and its records and statements driver are of no use to it."""
    session.info.pop(_KEY, None)
