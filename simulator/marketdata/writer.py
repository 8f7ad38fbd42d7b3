"""Writes normalized records into the md_* tables, in batches, inside the caller's transaction.

Every statement is an upsert on the table's natural key, so importing the same data twice adds nothing:
- klines: a bar replaces a stored bar of the same open time only while the stored one is not final;
- trades: a (symbol, time, venue, trade id) already stored is skipped;
- depth and best bid/offer: the last state within a millisecond wins (it is the state at that ms); the
  writer collapses a file's states per millisecond before writing, so re-importing it changes nothing.
The counts are rows that were added or changed, per table and symbol, from the driver's rowcount.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Callable, Sequence
from decimal import Decimal
from typing import Any

from sqlalchemy import Connection, select

from simulator.marketdata.records import Bbo, Depth, Kline, Record, Trade
from simulator.storage.tables import MarketDataSource

BATCH_ROWS = 5000

KLINE_COLUMNS = (
    "symbol",
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
    "source_id",
)
KLINE_CHANGED = ("open", "high", "low", "close", "volume", "is_final")
TRADE_COLUMNS = ("symbol", "time", "venue", "trade_id", "price", "qty", "buyer_is_maker", "source_id")
DEPTH_COLUMNS = ("symbol", "time", "bids", "asks", "source_id")
BBO_COLUMNS = ("symbol", "time", "bid_price", "bid_qty", "ask_price", "ask_qty", "source_id")
BBO_CHANGED = ("bid_price", "bid_qty", "ask_price", "ask_qty")


def text(value: Decimal) -> str:
    """Plain decimal text (never exponent form), exactly the value."""
    return format(value, "f")


def optional_text(value: Decimal | None) -> str | None:
    return None if value is None else format(value, "f")


def levels_json(levels: Sequence[tuple[Decimal, Decimal]]) -> str:
    return json.dumps([[format(p, "f"), format(q, "f")] for p, q in levels], separators=(",", ":"))


def _upsert(
    table: str, columns: Sequence[str], key: Sequence[str], changed: Sequence[str], guard: str
) -> str:
    names = ", ".join(f'"{c}"' for c in columns)
    marks = ", ".join("?" for _ in columns)
    updates = ", ".join(f'"{c}" = excluded."{c}"' for c in columns if c not in key)
    differs = " OR ".join(f'{table}."{c}" <> excluded."{c}"' for c in changed)  # never NULL
    where = f"({guard}) AND ({differs})" if guard else differs
    conflict = ", ".join(f'"{c}"' for c in key)
    return (
        f"INSERT INTO {table} ({names}) VALUES ({marks}) "
        f"ON CONFLICT ({conflict}) DO UPDATE SET {updates} WHERE {where}"
    )


KLINE_SQL = _upsert(
    "md_klines", KLINE_COLUMNS, ("symbol", "interval", "open_time"), KLINE_CHANGED, "md_klines.is_final = 0"
)
TRADE_SQL = (
    f"INSERT INTO md_trades ({', '.join(TRADE_COLUMNS)}) VALUES ({', '.join('?' for _ in TRADE_COLUMNS)}) "
    "ON CONFLICT DO NOTHING"
)
DEPTH_SQL = _upsert("md_depth", DEPTH_COLUMNS, ("symbol", "time"), ("bids", "asks"), "")
BBO_SQL = _upsert("md_bbo", BBO_COLUMNS, ("symbol", "time"), BBO_CHANGED, "")


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
        self._sql = {kind: _paramstyle(sql, connection) for kind, sql in SQL_BY_KIND.items()}
        self._row_builders: dict[type, Callable[[Any], tuple[Any, ...]]] = {
            Kline: self._kline_row,
            Trade: self._trade_row,
            Depth: self._depth_row,
            Bbo: self._bbo_row,
        }

    def add(self, record: Record) -> None:
        cls = record.__class__
        kind = KIND_BY_TYPE.get(cls) or f"kline {record.interval}"  # type: ignore[union-attr]
        key = (kind, record.symbol)
        if cls is Depth or cls is Bbo:
            self._add_state(key, record.time, self._row_builders[cls](record))
            return
        buffer = self._buffers.get(key)
        if buffer is None:
            buffer = self._buffers[key] = []
        buffer.append(self._row_builders[cls](record))
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
        for key, buffer in self._buffers.items():
            if buffer:
                self._write(key, buffer)
        for key, states in self._states.items():
            if states:
                self._write(key, list(states.values()))
        self._buffers.clear()
        self._states.clear()

    def _write(self, key: tuple[str, str], rows: list[tuple[Any, ...]]) -> None:
        sql = self._sql[key[0].split(" ")[0]]
        result = self.connection.exec_driver_sql(sql, rows)  # type: ignore[arg-type]
        self.written[key] += max(result.rowcount, 0)

    def _kline_row(self, k: Kline) -> tuple[Any, ...]:
        return (
            k.symbol,
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
            self.source_id,
        )

    def _trade_row(self, t: Trade) -> tuple[Any, ...]:
        maker = t.buyer_is_maker
        return (
            t.symbol,
            t.time,
            self.venue,
            t.trade_id,
            format(t.price, "f"),
            format(t.qty, "f"),
            None if maker is None else int(maker),
            self.source_id,
        )

    def _depth_row(self, d: Depth) -> tuple[Any, ...]:
        return (d.symbol, d.time, levels_json(d.bids), levels_json(d.asks), self.source_id)

    def _bbo_row(self, b: Bbo) -> tuple[Any, ...]:
        return (
            b.symbol,
            b.time,
            text(b.bid_price),
            text(b.bid_qty),
            text(b.ask_price),
            text(b.ask_qty),
            self.source_id,
        )


SQL_BY_KIND = {"kline": KLINE_SQL, "trade": TRADE_SQL, "depth": DEPTH_SQL, "bbo": BBO_SQL}


def kind_label(record: Record) -> str:
    """How summaries and `data list` name a record's series: "kline 1m", "trade", "depth", "bbo"."""
    if isinstance(record, Kline):
        return f"kline {record.interval}"
    return KIND_BY_TYPE[type(record)]


KIND_BY_TYPE: dict[type, str] = {Trade: "trade", Depth: "depth", Bbo: "bbo"}


def _paramstyle(sql: str, connection: Connection) -> str:
    """Our statements use qmark placeholders (SQLite's); other drivers (psycopg) take %s."""
    return sql if connection.dialect.paramstyle == "qmark" else sql.replace("?", "%s")


def source_id(connection: Connection, venue: str, name: str) -> int:
    """The md_sources row for (venue, name), created if new."""
    table = MarketDataSource.__table__
    found = connection.execute(
        select(table.c.id).where(table.c.venue == venue, table.c.name == name)
    ).scalar()
    if found is not None:
        return int(found)
    return int(connection.execute(table.insert().values(venue=venue, name=name)).inserted_primary_key[0])
