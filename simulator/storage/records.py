"""Rows the order path reads and changes on every order — orders, balances, a symbol's engine state, the
id counter — as plain records rather than ORM objects.

A record is read with a prebuilt statement (`storage.statements`) and registered with its transaction
(`pending.track`). What changed in it is written back like the ORM's own flush: before the transaction's
next statement and before its commit, as one UPDATE per table (a new record as an INSERT). An ORM object
costs several times its query to load and to flush, and an order touches a handful of these rows.

A row must be changed through one record per transaction: the transaction cache hands out the same record
to every caller (`balance_for_update`, `_lock_symbol`, `next_id`, `trading.order_rows`).
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any, ClassVar

from sqlalchemy import Table, bindparam

from simulator.storage import tables


class Record:
    """A row of `table`: `key` columns say which, `columns` are written back when changed."""

    __slots__ = ("_written",)
    table: ClassVar[Table]
    key: ClassVar[tuple[str, ...]]
    columns: ClassVar[tuple[str, ...]]

    def values(self) -> tuple[Any, ...]:
        return tuple(getattr(self, name) for name in self.columns)

    def key_values(self) -> dict[str, Any]:
        return {f"key_{name}": getattr(self, name) for name in self.key}

    def as_row(self) -> dict[str, Any]:
        """Every column, for the INSERT of a new record."""
        return {name: getattr(self, name) for name in type(self).__slots__}

    @classmethod
    def update_statement(cls) -> Any:
        condition = [cls.table.c[name] == bindparam(f"key_{name}") for name in cls.key]
        return cls.table.update().where(*condition)


class BalanceRecord(Record):
    __slots__ = ("account_id", "asset", "free", "locked")
    table = tables.Balance.__table__
    key = ("account_id", "asset")
    columns = ("free", "locked")

    def __init__(self, account_id: str, asset: str, free: Decimal, locked: Decimal) -> None:
        self.account_id, self.asset, self.free, self.locked = account_id, asset, free, locked


class SymbolStateRecord(Record):
    """How far the engine has applied the recording for a symbol, and the symbol's lock row."""

    __slots__ = ("symbol", "watermark_ms", "last_price", "last_price_ms")
    table = tables.SymbolState.__table__
    key = ("symbol",)
    columns = ("watermark_ms", "last_price", "last_price_ms")

    def __init__(
        self, symbol: str, watermark_ms: int, last_price: Decimal | None, last_price_ms: int | None
    ) -> None:
        self.symbol, self.watermark_ms = symbol, watermark_ms
        self.last_price, self.last_price_ms = last_price, last_price_ms


class TakenRecord(Record):
    """A symbol's taken liquidity (`tables.TakenLiquidity`): of which snapshot, and its levels as text."""

    __slots__ = ("symbol", "source", "snapshot_time", "levels")
    table = tables.TakenLiquidity.__table__
    key = ("symbol",)
    columns = ("source", "snapshot_time", "levels")

    def __init__(self, symbol: str, source: str, snapshot_time: int, levels: str) -> None:
        self.symbol, self.source, self.snapshot_time, self.levels = symbol, source, snapshot_time, levels


class SequenceRecord(Record):
    __slots__ = ("name", "value")
    table = tables.SimSequence.__table__
    key = ("name",)
    columns = ("value",)

    def __init__(self, name: str, value: int) -> None:
        self.name, self.value = name, value


_ORDER_FIXED = (
    "order_id",
    "account_id",
    "client_order_id",
    "symbol",
    "side",
    "type",
    "time_in_force",
    "price",
    "price_key",
    "quantity",
    "amount",
    "stp_mode",
    "sequence",
    "created_ms",
)
_ORDER_CHANGING = (
    "status",
    "cancel_reason",
    "executed_qty",
    "executed_quote",
    "queue_ahead",
    "resting",
    "locked_asset",
    "locked_left",
    "updated_ms",
    "match_ms",
    "cancel_ms",
    "cancel_sequence",
    "queue_ms",
)


class OrderRecord(Record):
    """An order row (`tables.Order`, the same attribute names)."""

    __slots__ = (*_ORDER_FIXED, *_ORDER_CHANGING)
    table = tables.Order.__table__
    key = ("order_id",)
    columns = _ORDER_CHANGING

    def __init__(self, **values: Any) -> None:
        for name in self.__slots__:
            setattr(self, name, values[name])
