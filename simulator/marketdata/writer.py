"""Writes normalized records into the md_* tables, in batches, inside the caller's transaction.

Every statement is an upsert on the table's natural key, so importing the same data twice adds nothing:
- klines: a bar replaces a stored bar of the same open time only while the stored one is not final;
- trades: a (symbol, time, venue, trade id) already stored is skipped;
- depth and best bid/offer: the last state within a millisecond wins (it is the state at that ms); the
  writer collapses a file's states per millisecond before writing, so re-importing it changes nothing.
The counts are rows that were added or changed, per table and symbol, from the driver's rowcount.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from decimal import Decimal
from functools import cache
from itertools import chain
from typing import Any

from sqlalchemy import Connection, select

from simulator.marketdata import store
from simulator.marketdata.records import Bbo, Depth, Kline, Record, Rows, Trade
from simulator.storage.tables import MarketDataSource

BATCH_ROWS = 5000

# Each row of a batch is written with the same symbol and source (and venue, for trades): those "fixed"
# columns are bound once per statement; the rest come from the rows (records.Rows has the same layout).
KLINE_COLUMNS = (
    "interval",
    "open_time",
    "close_time",
    "open",
    "high",
    "low",
    "close",
    "volume",
    "quote_volume",
    "trade_count",
    "taker_buy_base",
    "taker_buy_quote",
    "is_final",
)
KLINE_CHANGED = ("open", "high", "low", "close", "volume", "is_final")
TRADE_COLUMNS = ("time", "trade_id", "price", "qty", "buyer_is_maker")
DEPTH_COLUMNS = ("time", "bids", "asks")
BBO_COLUMNS = ("time", "bid_price", "bid_qty", "ask_price", "ask_qty")
BBO_CHANGED = ("bid_price", "bid_qty", "ask_price", "ask_qty")
FIXED = ("symbol", "source_id")
TRADE_FIXED = ("symbol", "venue", "source_id")


def text(value: Decimal) -> str:
    """Plain decimal text (never exponent form), exactly the value."""
    return format(value, "f")


def optional_text(value: Decimal | None) -> str | None:
    return None if value is None else format(value, "f")


def levels_json(levels: Sequence[tuple[Decimal, Decimal]]) -> str:
    """[["price","qty"],...] compact, as json.dumps would write it (decimal text needs no escaping)."""
    return "[" + ",".join([f'["{p:f}","{q:f}"]' for p, q in levels]) + "]"


@dataclass(frozen=True)
class Statement:
    """An INSERT of one table, spelt for one row or for many rows at once."""

    table: str
    fixed: tuple[str, ...]  # the same for every row of a batch
    columns: tuple[str, ...]  # from each row
    on_conflict: str

    @property
    def names(self) -> str:
        return ", ".join(f'"{c}"' for c in (*self.fixed, *self.columns))

    @cache  # noqa: B019 - four module-level statements, each spelt for two row counts
    def many(self, rows: int) -> str:
        """SQLite: `rows` rows per statement, the fixed values bound once. This binds and steps at a
        third of the cost per row of one-row statements (WHERE true: SQLite needs it before ON CONFLICT
        in an INSERT ... SELECT)."""
        fixed = ", ".join("?" for _ in self.fixed)
        values = ", ".join([f"({', '.join('?' for _ in self.columns)})"] * rows)
        return (
            f"INSERT INTO {self.table} ({self.names}) SELECT {fixed}, * FROM (VALUES {values}) WHERE true "
            f"{self.on_conflict}"
        )

    @cache  # noqa: B019
    def one(self, mark: str) -> str:
        """Any database: one row per statement, every value bound (`mark` is the driver's placeholder)."""
        marks = ", ".join(mark for _ in (*self.fixed, *self.columns))
        return f"INSERT INTO {self.table} ({self.names}) VALUES ({marks}) {self.on_conflict}"


def _upsert(
    table: str,
    fixed: tuple[str, ...],
    columns: tuple[str, ...],
    key: Sequence[str],
    changed: Sequence[str],
    guard: str = "",
) -> Statement:
    """Insert, or update the stored row of the same key if its `changed` columns differ (and `guard`)."""
    updates = ", ".join(f'"{c}" = excluded."{c}"' for c in (*fixed, *columns) if c not in key)
    differs = " OR ".join(f'{table}."{c}" <> excluded."{c}"' for c in changed)  # never NULL
    where = f"({guard}) AND ({differs})" if guard else differs
    conflict = ", ".join(f'"{c}"' for c in key)
    return Statement(table, fixed, columns, f"ON CONFLICT ({conflict}) DO UPDATE SET {updates} WHERE {where}")


STATEMENTS = {
    "kline": _upsert(
        "md_klines",
        FIXED,
        KLINE_COLUMNS,
        ("symbol", "interval", "open_time"),
        KLINE_CHANGED,
        guard="md_klines.is_final = 0",  # a final bar is never replaced
    ),
    "trade": Statement("md_trades", TRADE_FIXED, TRADE_COLUMNS, "ON CONFLICT DO NOTHING"),
    "depth": _upsert("md_depth", FIXED, DEPTH_COLUMNS, ("symbol", "time"), ("bids", "asks")),
    "bbo": _upsert("md_bbo", FIXED, BBO_COLUMNS, ("symbol", "time"), BBO_CHANGED),
}
# PostgreSQL refuses an upsert that meets the same key twice in one statement: it gets one row each.
SQLITE_ROWS_PER_STATEMENT = 64


class StoreWriter:
    """Buffers rows per (table, symbol) and writes them with executemany; call flush() before commit."""

    def __init__(self, connection: Connection, source_id: int, venue: str):
        self.connection = connection
        self.source_id = source_id
        self.venue = venue
        # (kind, symbol) -> rows added or changed; kind is "kline 1m", "trade", "depth" or "bbo"
        self.written: Counter[tuple[str, str]] = Counter()
        self._buffers: dict[tuple[str, str], list[tuple[Any, ...]]] = {}
        # Book states (depth, bbo) per (kind, symbol) -> time -> row: the last state within a millisecond
        # replaces earlier ones before anything is written, so a file's rows are written once each and a
        # second import of it changes nothing.
        self._states: dict[tuple[str, str], dict[int, tuple[Any, ...]]] = {}
        self._unversioned = False  # rows written since the store's version last moved
        self._sqlite = connection.dialect.name == "sqlite"
        self._mark = "?" if connection.dialect.paramstyle == "qmark" else "%s"

    def add(self, record: Record | Rows) -> None:
        cls = record.__class__
        if cls is Rows:
            self._write((record.kind, record.symbol), record.rows)  # type: ignore[union-attr]
            return
        kind = KIND_BY_TYPE.get(cls) or f"kline {record.interval}"  # type: ignore[union-attr]
        key = (kind, record.symbol)
        if cls is Depth or cls is Bbo:
            self._add_state(key, record.time, ROW_BUILDERS[cls](record))
            return
        buffer = self._buffers.get(key)
        if buffer is None:
            buffer = self._buffers[key] = []
        buffer.append(ROW_BUILDERS[cls](record))
        if len(buffer) >= BATCH_ROWS:
            self._write(key, buffer)
            self._buffers[key] = []

    def _add_state(self, key: tuple[str, str], time: int, row: tuple[Any, ...]) -> None:
        states = self._states.get(key)
        if states is None:
            states = self._states[key] = {}
        states[time] = row
        if len(states) >= BATCH_ROWS:
            # Keep the newest state back: a later state of the same millisecond may still come.
            newest = max(states)
            self._write(key, [row for time, row in states.items() if time != newest])
            self._states[key] = {newest: states[newest]}

    def flush(self) -> None:
        """Write what is buffered, and move the store's version if any row was written since it last moved
        (rows written as they came, a full batch, or the rest now): what is derived from the store (the
        live loop's span, kept kline roll-ups) is found again."""
        for key, buffer in self._buffers.items():
            if buffer:
                self._write(key, buffer)
        for key, states in self._states.items():
            if states:
                self._write(key, list(states.values()))
        self._buffers.clear()
        self._states.clear()
        if self._unversioned:
            store.bump_version(self.connection)
            self._unversioned = False

    def _write(self, key: tuple[str, str], rows: list[tuple[Any, ...]]) -> None:
        self._unversioned = True
        kind, symbol = key
        statement = STATEMENTS[kind.split(" ")[0]]
        fixed = (symbol, self.venue, self.source_id) if kind == "trade" else (symbol, self.source_id)
        if not self._sqlite:
            self._execute(key, statement.one(self._mark), [fixed + row for row in rows])
            return
        size = SQLITE_ROWS_PER_STATEMENT
        whole = len(rows) - len(rows) % size
        if whole:
            params = [fixed + tuple(chain.from_iterable(rows[i : i + size])) for i in range(0, whole, size)]
            self._execute(key, statement.many(size), params)
        if whole < len(rows):
            self._execute(key, statement.many(1), [fixed + row for row in rows[whole:]])

    def _execute(self, key: tuple[str, str], sql: str, params: list[Any]) -> None:
        result = self.connection.exec_driver_sql(sql, params)
        self.written[key] += max(result.rowcount, 0)


def _kline_row(k: Kline) -> tuple[Any, ...]:
    return (
        k.interval,
        k.open_time,
        k.close_time,
        text(k.open),
        text(k.high),
        text(k.low),
        text(k.close),
        text(k.volume),
        optional_text(k.quote_volume),
        k.trade_count,
        optional_text(k.taker_buy_base),
        optional_text(k.taker_buy_quote),
        1 if k.is_final else 0,
    )


def _trade_row(t: Trade) -> tuple[Any, ...]:
    maker = t.buyer_is_maker
    return (t.time, t.trade_id, text(t.price), text(t.qty), None if maker is None else int(maker))


def _depth_row(d: Depth) -> tuple[Any, ...]:
    return (d.time, levels_json(d.bids), levels_json(d.asks))


def _bbo_row(b: Bbo) -> tuple[Any, ...]:
    return (b.time, text(b.bid_price), text(b.bid_qty), text(b.ask_price), text(b.ask_qty))


ROW_BUILDERS: dict[type, Callable[[Any], tuple[Any, ...]]] = {
    Kline: _kline_row,
    Trade: _trade_row,
    Depth: _depth_row,
    Bbo: _bbo_row,
}


KIND_BY_TYPE: dict[type, str] = {Trade: "trade", Depth: "depth", Bbo: "bbo"}


def source_id(connection: Connection, venue: str, name: str) -> int:
    """The md_sources row for (venue, name), created if new."""
    table = MarketDataSource.__table__
    found = connection.execute(
        select(table.c.id).where(table.c.venue == venue, table.c.name == name)
    ).scalar()
    if found is not None:
        return int(found)
    return int(connection.execute(table.insert().values(venue=venue, name=name)).inserted_primary_key[0])
