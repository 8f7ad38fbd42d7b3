"""Engine and sessions. SQLite gets WAL, a busy timeout, foreign keys and BEGIN IMMEDIATE for writes;
every other database runs the same ORM code with its own locking (`locked()` below)."""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Iterator
from contextlib import AbstractContextManager, contextmanager, nullcontext
from dataclasses import dataclass, field
from decimal import localcontext
from typing import Any

from sqlalchemy import Column, Connection, Engine, Table, create_engine, event, exc, inspect, select, text
from sqlalchemy.orm import Session, sessionmaker
from sqlalchemy.schema import CreateColumn

from simulator.storage import pending, statements
from simulator.storage.tables import Base
from simulator.storage.transaction import forget_transaction

SQLITE_BUSY_TIMEOUT_S = 30
SQLITE_MMAP_BYTES = 1 << 30
BEGIN_MODE = "hashkey_sim_begin"  # execution option: "IMMEDIATE" for writers, "DEFERRED" for readers


class DatabaseBusy(Exception):
    """The transaction could not begin in time: another writer held SQLite's lock for longer than the
    busy timeout, or every pooled connection stayed in use. Nothing of it was written."""


# Money is computed inside transactions (balances, locks, fills, fees, ledger totals, what is shown).
# Python's default 28 significant digits would round a balance of 1e25 plus a fee of 0.000432, creating
# money the ledger does not show. Every number accepted has at most 40 significant digits within
# 10^-70..10^30, so this many keeps their sums and products exact (`domain.money.EXACT_DIGITS`, which the
# storage layer does not import).
EXACT_DIGITS = 200


@dataclass
class Database:
    """One per app or CLI command: the engine and the two session factories."""

    engine: Engine
    writer: sessionmaker[Session]
    reader: sessionmaker[Session]
    # SQLite has one writer at a time. Threads of this process queue for it here, in arrival order, rather
    # than in SQLite's busy handler, which polls with sleeps of up to 100 ms (seconds of p99 under load).
    # Other processes still meet the busy handler.
    write_queue: AbstractContextManager[Any] = field(default_factory=nullcontext)

    # Sessions between transactions, kept to be used again: making one and ending it cost more than the
    # SQLite transaction it serves (a third of an empty transaction's 60 µs).
    _idle_writers: list[Session] = field(default_factory=list, init=False, repr=False)
    _idle_readers: list[Session] = field(default_factory=list, init=False, repr=False)

    @contextmanager
    def write(self) -> Iterator[Session]:
        """One write transaction; on SQLite it starts with BEGIN IMMEDIATE so that read-then-write
        sequences (balance checks) are serialised instead of failing with SQLITE_BUSY at commit. Decimal
        arithmetic in it is exact (`EXACT_DIGITS`): the money it writes is never rounded.

        It begins on entry, not at its first statement: what the block reads first (the time a request is
        stamped with) is read after every earlier writer has committed, in other processes too. Begun at
        the first statement, a request of one worker could read the time, wait for another worker's
        order, and then match at a time older than that order's."""
        with (
            self.write_queue,
            localcontext(prec=EXACT_DIGITS),
            _transaction(self.writer, self._idle_writers) as session,
        ):
            statements.connection(session, flush=False)
            yield session

    @contextmanager
    def read(self) -> Iterator[Session]:
        """A read-only transaction: a consistent snapshot that never blocks writers (WAL). Decimal arithmetic
        in it is exact, as in `write`."""
        with localcontext(prec=EXACT_DIGITS), _transaction(self.reader, self._idle_readers) as session:
            yield session

    def dispose(self) -> None:
        self.engine.dispose()


@contextmanager
def _transaction(factory: sessionmaker[Session], idle: list[Session]) -> Iterator[Session]:
    """A transaction on an idle session of `factory` (a new one when none is idle), committed when the
    block ends, rolled back if it raises; the session, emptied, is idle again afterwards. Taking from and
    giving back to the list are single operations under the GIL: no two threads get the same session."""
    try:
        session = idle.pop()
    except IndexError:  # none idle (or another thread took the last one since)
        session = factory()
    try:
        with session.begin():
            yield session
    except (sqlite3.OperationalError, exc.OperationalError, exc.TimeoutError) as e:
        if isinstance(e, exc.TimeoutError) or "database is locked" in str(e):
            raise DatabaseBusy(str(e)) from e
        raise
    finally:
        session.close()
        forget_transaction(session)
        idle.append(session)


def open_database(url: str) -> Database:
    """Engine for `url`, schema created if missing. Seeding is `storage.seed.ensure_seeded`."""
    engine = _create_engine(url)
    reader_engine = engine.execution_options(**{BEGIN_MODE: "DEFERRED"})
    _bring_schema_up_to_date(engine, reader_engine)
    writer = sessionmaker(engine, expire_on_commit=False)
    pending.install(writer)
    return Database(
        engine=engine,
        writer=writer,
        reader=sessionmaker(reader_engine, expire_on_commit=False),
        write_queue=threading.RLock() if url.startswith("sqlite") else nullcontext(),
    )


# Tables of earlier versions that nothing reads any more. Their rows were short-lived: md_taken held the
# liquidity taken from the current snapshot per level, now one row a symbol in taken_liquidity.
RETIRED_TABLES = ("md_taken",)


def _bring_schema_up_to_date(engine: Engine, reader_engine: Engine) -> None:
    """Missing tables, columns and indexes (added since the database was made) created, retired tables
    dropped. The write lock is taken only when something must change: every serve worker opens the
    database as it starts, and one that waited for a long write of another process (an import) would fail
    to boot after the busy timeout, and gunicorn would stop the whole server."""
    with reader_engine.connect() as connection:
        if _schema_is_current(connection):
            return
    with engine.begin() as connection:
        Base.metadata.create_all(connection)
        _add_missing_columns(connection)
        for table in Base.metadata.sorted_tables:
            for index in table.indexes:
                index.create(connection, checkfirst=True)
        for name in RETIRED_TABLES:
            connection.execute(text(f"DROP TABLE IF EXISTS {name}"))


def _schema_is_current(connection: Connection) -> bool:
    found = inspect(connection)
    tables = set(found.get_table_names())
    if not tables.issuperset(Base.metadata.tables) or tables.intersection(RETIRED_TABLES):
        return False
    return all(
        {index.name for index in table.indexes} <= {index["name"] for index in found.get_indexes(table.name)}
        and not _missing_columns(found, table)
        for table in Base.metadata.sorted_tables
    )


def _add_missing_columns(connection: Connection) -> None:
    """Columns added to a table since the database was made (create_all leaves existing tables as they
    are). Every such column is nullable, so rows written before it read as NULL."""
    found = inspect(connection)
    for table in Base.metadata.sorted_tables:
        for column in _missing_columns(found, table):
            if not column.nullable:
                raise RuntimeError(f"cannot add the NOT NULL column {table.name}.{column.name} to old rows")
            definition = CreateColumn(column).compile(dialect=connection.dialect)
            connection.execute(text(f"ALTER TABLE {table.name} ADD COLUMN {definition}"))


def _missing_columns(found: Any, table: Table) -> list[Column[Any]]:
    present = {column["name"] for column in found.get_columns(table.name)}
    return [column for column in table.columns if column.name not in present]


def _create_engine(url: str) -> Engine:
    if not url.startswith("sqlite"):
        return create_engine(url, pool_pre_ping=True)
    # LIFO: the connection used last is used next, and its page cache is still good (a connection's cache
    # is dropped when another connection wrote since it last read).
    engine = create_engine(
        url,
        connect_args={"timeout": SQLITE_BUSY_TIMEOUT_S, "check_same_thread": False},
        pool_use_lifo=True,
    )
    event.listen(engine, "connect", _sqlite_on_connect)
    event.listen(engine, "begin", _sqlite_on_begin)
    return engine


def _sqlite_on_connect(dbapi_connection: Any, connection_record: Any) -> None:
    # Let SQLAlchemy, not the sqlite3 module, decide when transactions begin (see the "begin" hook).
    dbapi_connection.isolation_level = None
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    # Pages are read through a memory map, not a read() system call each: a connection re-reads every page
    # it needs after another connection wrote (its cache is dropped), which is most transactions.
    cursor.execute(f"PRAGMA mmap_size={SQLITE_MMAP_BYTES}")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_S * 1000}")
    cursor.close()


def _sqlite_on_begin(connection: Any) -> None:
    mode = connection.get_execution_options().get(BEGIN_MODE, "IMMEDIATE")
    statements.run_plain(connection, f"BEGIN {mode}")


def locked(statement: Any) -> Any:
    """A SELECT that takes row locks where the database has them (FOR UPDATE on PostgreSQL). On SQLite the
    whole write transaction already holds the write lock (BEGIN IMMEDIATE), and FOR UPDATE is ignored."""
    return statement.with_for_update()


def scalar_for_update(session: Session, model: type, key: Any) -> Any:
    return session.scalars(locked(select(model).where(model.__mapper__.primary_key[0] == key))).one_or_none()
