"""Append-only rows (ledger entries, fills, outbox events, taken liquidity) written in one multi-row INSERT
per table rather than one ORM object and statement each: a market order walking 20 levels writes about
150 of them. They stay in the transaction: they are written before its commit, and before any other ORM
statement of the transaction runs, so a query inside it still sees them (see `install`).

Callbacks registered with `before_write` run once, just before the commit: they turn what the transaction
left behind (the balances it touched) into rows."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from sqlalchemy import Table, event
from sqlalchemy.orm import ORMExecuteState, Session, sessionmaker

from simulator.storage.transaction import transaction_cache

_ROWS = "pending_rows"
_CALLBACKS = "pending_callbacks"


def add_row(session: Session, table: Table, values: dict[str, Any]) -> None:
    """Insert `values` into `table` within the session's transaction (in the order added, per table)."""
    cache = transaction_cache(session)
    rows = cache.get(_ROWS)
    if rows is None:
        rows = cache[_ROWS] = {}
    rows.setdefault(table, []).append(values)


def before_write(session: Session, key: Any, callback: Callable[[Session], None]) -> None:
    """Run `callback(session)` once, just before this transaction commits (it may add rows); registering
    the same `key` again in the transaction keeps the first."""
    cache = transaction_cache(session)
    callbacks = cache.get(_CALLBACKS)
    if callbacks is None:
        callbacks = cache[_CALLBACKS] = {}
    callbacks.setdefault(key, callback)


def write_pending(session: Session) -> None:
    """Before the commit: the callbacks' rows, then every pending row."""
    callbacks = transaction_cache(session).pop(_CALLBACKS, None)
    for callback in (callbacks or {}).values():
        callback(session)
    _write_rows(session)


def install(factory: sessionmaker[Session]) -> None:
    """Sessions of `factory` write pending rows before each commit, and before each ORM statement (without
    running the callbacks: they describe the transaction as it ends)."""
    event.listen(factory, "before_commit", write_pending)
    event.listen(factory, "do_orm_execute", _before_statement)


def _before_statement(state: ORMExecuteState) -> None:
    _write_rows(state.session)


def _write_rows(session: Session) -> None:
    rows = transaction_cache(session).pop(_ROWS, None)
    if not rows:
        return
    session.flush()  # the ORM's own rows first: pending rows refer to them
    connection = session.connection()
    for table, values in rows.items():
        connection.execute(table.insert(), values)
