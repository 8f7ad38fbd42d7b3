"""Prebuilt statements, run on the database driver's own cursor.

An order runs about twenty statements. SQLAlchemy's execution layer costs 10 to 25 µs a statement (cache
key, parameter processing, result metadata, events) against 1 to 3 µs for SQLite itself, so on the hot
paths it was most of what the database cost. A statement registered with `prepare` (a module-level Core
statement) is compiled once per dialect into its SQL text, the order of its parameters and what converts
its values, and runs here on the DBAPI cursor of the session's connection: the same connection and the same
transaction as everything else the session does. Values go in and come out exactly as SQLAlchemy would
convert them (the column types' own bind and result processors: money as Decimal). A statement that was
not prepared runs through SQLAlchemy as usual.

Like an ORM statement, `run` first writes what the transaction has not written yet (ORM changes, records,
pending rows), so that it sees the transaction's own writes. A read of rows the transaction cannot have
changed unwritten passes `flush=False`: reference rows (keys, instruments, fee tiers, the recording), and
rows read once into a record before anything changes them (a balance, the symbol state, the id counter).
Writing in the middle of a match would write some rows twice.
"""

from __future__ import annotations

import operator
import weakref
from collections import namedtuple
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Any, TypeVar

from sqlalchemy import Connection, Dialect, Executable
from sqlalchemy.orm import Session

from simulator.storage import pending
from simulator.storage.transaction import transaction_cache

Processor = Callable[[Any], Any]
T = TypeVar("T")


@dataclass(frozen=True, slots=True)
class _Compiled:
    """A prepared statement for one dialect."""

    sql: str
    # (name, processor) per parameter, in the order a positional driver takes them (all of them, named)
    binds: tuple[tuple[str, Processor | None], ...]
    values: Callable[[dict[str, Any]], tuple[Any, ...]]  # the parameters' values, in that order
    converted: tuple[tuple[int, Processor], ...]  # the ones a processor converts, by position
    positional: bool
    # parameters the caller need not give: literals of the statement, and columns an INSERT or UPDATE does
    # not set that have a default (the caller's value wins)
    defaults: dict[str, Any]
    row: type | None  # a named tuple of the result's columns; None: no result rows
    results: tuple[tuple[int, Processor], ...]  # result columns that need converting, by position


_PREPARED: dict[int, tuple[Executable, tuple[str, ...] | None]] = {}
_COMPILED: dict[tuple[int, str], _Compiled] = {}


def prepare(statement: Executable, *, column_keys: Sequence[str] | None = None) -> Any:
    """Register `statement` (kept alive here: a module-level statement) to run on the driver's cursor.
    An INSERT or UPDATE names the columns its parameters set in `column_keys`. Returns the statement."""
    _PREPARED[id(statement)] = (statement, None if column_keys is None else tuple(column_keys))
    return statement


def run(
    session: Session, statement: Executable, params: dict[str, Any] | None = None, *, flush: bool = True
) -> Any:
    return connection(session, flush=flush).execute(statement, params)


def connection(session: Session, *, flush: bool) -> Driver:
    """The session's connection for statements; with `flush`, everything the transaction changed so far is
    written first."""
    if flush:
        session.flush()  # returns at once when nothing changed
        pending.write_rows(session)
    cache = transaction_cache(session)
    driver = cache.get(_DRIVER)
    if driver is None:
        driver = cache[_DRIVER] = Driver(session.connection())
    return driver


_DRIVER = "statements_driver"


def read_once(session: Session, kind: str, key: Any, read: Callable[[], T | None]) -> T | None:
    """The row of `kind` at `key`, kept for as long as the process has the session's database open: for
    rows that never change once written (instruments, API keys), read once (`read()`), not once a request.
    Only rows found are kept: one missing now may be written by another process later. A row of such a kind
    must never be updated or deleted; if one ever is, its cache must go."""
    engine = connection(session, flush=False).engine
    known = _WRITTEN_ONCE.setdefault(engine, {}).setdefault(kind, {})
    found = known.get(key)
    if found is None:
        found = read()
        if found is not None:
            known[key] = found
    return found


_WRITTEN_ONCE: weakref.WeakKeyDictionary[Any, dict[str, dict[Any, Any]]] = weakref.WeakKeyDictionary()


class Driver:
    """A connection that runs prepared statements on the DBAPI cursor and any other through SQLAlchemy.
    Listeners of the engine's before_cursor_execute event (statement counters in tests) see both."""

    __slots__ = ("_connection", "_dbapi", "_dialect", "_dialect_name", "_listeners")

    def __init__(self, connection: Connection) -> None:
        self._connection = connection
        self._dbapi = connection.connection.driver_connection
        self._dialect = connection.dialect
        self._dialect_name = connection.dialect.name
        self._listeners = connection.dispatch.before_cursor_execute

    @property
    def engine(self) -> Any:
        return self._connection.engine

    @property
    def takes_row_locks(self) -> bool:
        """Whether SELECT ... FOR UPDATE locks rows here. On SQLite the write transaction holds the whole
        database (BEGIN IMMEDIATE) and a lock-only statement is not worth running."""
        return self._dialect_name != "sqlite"

    def execute(
        self, statement: Executable, params: dict[str, Any] | list[dict[str, Any]] | None = None
    ) -> Any:
        compiled = _COMPILED.get((id(statement), self._dialect_name))
        if compiled is None:
            if id(statement) not in _PREPARED:
                return self._connection.execute(statement, params or {})
            compiled = _compile(statement, self._dialect)
        cursor = self._dbapi.cursor()
        try:
            if isinstance(params, list):
                values = [_parameters(compiled, one) for one in params]
                self._announce(cursor, compiled.sql, values, True)
                cursor.executemany(compiled.sql, values)
                return Rows(())
            one = _parameters(compiled, params or {})
            self._announce(cursor, compiled.sql, one, False)
            cursor.execute(compiled.sql, one)
            if compiled.row is None:
                return Rows(())
            return Rows(_rows(compiled, cursor.fetchall()))
        finally:
            cursor.close()

    def _announce(self, cursor: Any, sql: str, params: Any, many: bool) -> None:
        _announce(self._connection, self._listeners, cursor, sql, params, many)


def run_plain(connection: Connection, sql: str) -> None:
    """`sql`, without parameters or result rows, on the connection's driver cursor (listeners see it too).
    Every transaction begins with one: SQLAlchemy's exec_driver_sql took some 45 µs for a BEGIN that costs
    SQLite 7."""
    cursor = connection.connection.driver_connection.cursor()  # type: ignore[union-attr]
    try:
        _announce(connection, connection.dispatch.before_cursor_execute, cursor, sql, (), False)
        cursor.execute(sql)
    finally:
        cursor.close()


def _announce(connection: Connection, listeners: Any, cursor: Any, sql: str, params: Any, many: bool) -> None:
    if listeners:
        for listener in listeners:
            listener(connection, cursor, sql, params, None, many)


class Rows(list):  # type: ignore[type-arg]
    """A fetched result: the few Result methods the callers use."""

    def first(self) -> Any:
        return self[0] if self else None

    def scalar(self) -> Any:
        return self[0][0] if self else None

    def scalars(self) -> list[Any]:
        return [row[0] for row in self]


def _parameters(compiled: _Compiled, params: dict[str, Any]) -> Any:
    """The driver's parameters for one execution (per row: a market order walking 20 levels writes 30)."""
    if compiled.defaults:
        params = compiled.defaults | params
    values: Any = compiled.values(params)
    if compiled.converted:
        values = list(values)
        for index, process in compiled.converted:
            values[index] = process(values[index])
    if compiled.positional:
        return values
    return {name: value for (name, _), value in zip(compiled.binds, values, strict=True)}


def _getter(names: list[str]) -> Callable[[dict[str, Any]], tuple[Any, ...]]:
    if not names:
        return lambda params: ()
    if len(names) == 1:
        name = names[0]
        return lambda params: (params[name],)
    return operator.itemgetter(*names)


def _rows(compiled: _Compiled, fetched: Iterable[tuple[Any, ...]]) -> list[Any]:
    make = compiled.row._make  # type: ignore[union-attr]
    if not compiled.results:
        return [make(row) for row in fetched]
    converted = []
    for row in fetched:
        values = list(row)
        for index, process in compiled.results:
            if values[index] is not None:
                values[index] = process(values[index])
        converted.append(make(values))
    return converted


def _compile(statement: Executable, dialect: Dialect) -> _Compiled:
    _, column_keys = _PREPARED[id(statement)]
    compiled = statement.compile(dialect=dialect, column_keys=column_keys)  # type: ignore[attr-defined]
    if compiled.post_compile_params:
        raise TypeError(f"a prepared statement cannot expand parameters (IN lists): {compiled.string}")
    binds = {name: bind for bind, name in compiled.bind_names.items()}
    names = list(compiled.positiontup) if compiled.positional else list(binds)
    literals = {
        name: bind.value for name, bind in binds.items() if not bind.required and bind.value is not None
    }
    defaults = literals | _column_defaults(compiled)
    result = _result_shape(statement, dialect)
    processors = [binds[name].type.dialect_impl(dialect).bind_processor(dialect) for name in names]
    prepared = _Compiled(
        sql=compiled.string,
        binds=tuple(zip(names, processors, strict=True)),
        values=_getter(names),
        converted=tuple((index, process) for index, process in enumerate(processors) if process is not None),
        positional=compiled.positional,
        defaults=defaults,
        row=result[0],
        results=result[1],
    )
    _COMPILED[(id(statement), dialect.name)] = prepared
    return prepared


def _column_defaults(compiled: Any) -> dict[str, Any]:
    """The values SQLAlchemy would give the columns an INSERT (or UPDATE) leaves out, from their `default`
    (`onupdate`): a fixed value only; a computed one cannot be prepared."""
    found = {}
    for columns, which in ((compiled.insert_prefetch, "default"), (compiled.update_prefetch, "onupdate")):
        for column in columns:
            default = getattr(column, which)
            if not default.is_scalar:
                raise TypeError(f"a prepared statement cannot compute the default of {column}")
            found[column.key] = default.arg
    return found


def _result_shape(statement: Any, dialect: Dialect) -> tuple[type | None, tuple[tuple[int, Processor], ...]]:
    columns = getattr(statement, "selected_columns", None) if statement.is_select else None
    if columns is None:
        return None, ()
    row = namedtuple("Row", list(columns.keys()), rename=True)  # type: ignore[misc]  # noqa: PYI024
    row._mapping = property(row._asdict)  # type: ignore[attr-defined]  # as SQLAlchemy's Row has
    results = []
    for index, column in enumerate(columns):
        process = column.type.dialect_impl(dialect).result_processor(dialect, None)
        if process is not None:
            results.append((index, process))
    return row, tuple(results)
