"""Append-only rows (ledger entries, fills, outbox events, taken liquidity) written in one multi-row INSERT
per table rather than one ORM object and statement each: a market order walking 20 levels writes some 30
of them (its fills, three ledger entries, its outbox events). They stay in the transaction: they are
written before its commit, and before any other ORM statement of the transaction runs, so a query inside
it still sees them (see `install`).

Records (`storage.records`) registered with `track` are written back at the same moments, when changed.

Callbacks registered with `before_write` run once, just before the commit: they turn what the transaction
left behind (the balances it touched) into rows."""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

from sqlalchemy import Table, event
from sqlalchemy.orm import ORMExecuteState, Session, sessionmaker

from simulator.storage import statements
from simulator.storage.records import Record
from simulator.storage.transaction import transaction_cache

_ROWS = "pending_rows"
_CALLBACKS = "pending_callbacks"
_RECORDS = "pending_records"


def add_row(session: Session, table: Table, values: dict[str, Any]) -> None:
    """Insert `values` into `table` within the session's transaction (in the order added, per table)."""
    cache = transaction_cache(session)
    rows = cache.get(_ROWS)
    if rows is None:
        rows = cache[_ROWS] = {}
    rows.setdefault(table, []).append(values)


def track(session: Session, record: Record, *, new: bool = False) -> None:
    """Write `record`'s changes with the transaction's pending rows (`new`: insert it first)."""
    record._written = None if new else record.values()
    transaction_cache(session).setdefault(_RECORDS, []).append(record)


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
    write_rows(session)


def install(factory: sessionmaker[Session]) -> None:
    """Sessions of `factory` write pending rows before each commit, and before each ORM statement (without
    running the callbacks: they describe the transaction as it ends)."""
    event.listen(factory, "before_commit", write_pending)
    event.listen(factory, "do_orm_execute", _before_statement)


def _before_statement(state: ORMExecuteState) -> None:
    write_rows(state.session)


def write_rows(session: Session) -> None:
    """The records' changes and the pending rows, after the ORM's changes (they refer to its rows); the
    callbacks wait."""
    cache = transaction_cache(session)
    rows = cache.pop(_ROWS, None)
    changed = _changed_records(cache.get(_RECORDS, ()))
    if not rows and not changed:
        return
    session.flush()
    driver = statements.connection(session, flush=False)
    for statement, values in changed:
        driver.execute(statement, values)
    for table, values in (rows or {}).items():
        for keys, same in _by_columns(values).items():
            driver.execute(_insert_statement(table, keys), same)


def _by_columns(rows: list[dict[str, Any]]) -> dict[tuple[str, ...], list[dict[str, Any]]]:
    """Rows grouped by the columns they set (one INSERT statement each), in order within a group."""
    first = tuple(rows[0])
    if all(len(row) == len(first) and tuple(row) == first for row in rows):
        return {first: rows}
    groups: dict[tuple[str, ...], list[dict[str, Any]]] = {}
    for row in rows:
        groups.setdefault(tuple(row), []).append(row)
    return groups


def _changed_records(records: list[Record]) -> list[tuple[Any, list[dict[str, Any]]]]:
    """(statement, parameter sets) for the records changed since last written, marked written."""
    inserts: dict[Table, list[dict[str, Any]]] = {}
    updates: dict[type[Record], list[dict[str, Any]]] = {}
    for record in records:
        values = record.values()
        if values == record._written:
            continue
        if record._written is None:
            inserts.setdefault(record.table, []).append(record.as_row())
        else:
            updates.setdefault(type(record), []).append(
                dict(zip(record.columns, values, strict=True)) | record.key_values()
            )
        record._written = values
    return [
        (_insert_statement(table, keys), same)
        for table, rows in inserts.items()
        for keys, same in _by_columns(rows).items()
    ] + [(_update_statement(kind), rows) for kind, rows in updates.items()]


@functools.cache
def _insert_statement(table: Table, columns: tuple[str, ...]) -> Any:
    return statements.prepare(table.insert(), column_keys=columns)


@functools.cache
def _update_statement(kind: type[Record]) -> Any:
    return statements.prepare(kind.update_statement(), column_keys=kind.columns)
