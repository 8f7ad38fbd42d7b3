"""Recorded liquidity simulated takers used: it stays taken until a newer snapshot, so two orders never use
the same displayed size.

Kept per symbol for the snapshot takers last used (`tables.TakenLiquidity`), its levels as one text: an
order walking 20 levels changes one row, appending its levels to the text (a level taken twice is listed
twice and read as the sum). Texts are decoded once per process (`_DECODED`); a text is its own
cache key, so every worker process agrees on what it means."""

from __future__ import annotations

import threading
from decimal import Decimal

from sqlalchemy import bindparam, select
from sqlalchemy.orm import Session

from simulator.domain.matching.liquidity import Taken
from simulator.domain.matching.orders import Side
from simulator.storage import pending, statements, tables
from simulator.storage.records import TakenRecord
from simulator.storage.transaction import transaction_cache, transaction_cached

_KEY = "taken"  # the transaction cache's key of a symbol's record, with the symbol
_LEVELS = ";"
_FIELDS = " "


def taken_from(session: Session, symbol: str, source: str, snapshot_time: int) -> Taken:
    """What simulated takers took from this snapshot (nothing, if they last took from another)."""
    record = _record(session, symbol)
    if record is None or (record.source, record.snapshot_time) != (source, snapshot_time):
        return {}
    return decode(record.levels)


def remember(session: Session, symbol: str, source: str, snapshot_time: int, taken: Taken) -> None:
    """Add `taken` to what was taken from this snapshot; taking from another one forgets the last."""
    if not taken:
        return
    record = _record(session, symbol)
    if record is None:
        record = TakenRecord(symbol, source, snapshot_time, "")
        pending.track(session, record, new=True)
        transaction_cache(session)[_KEY, symbol] = record
    before = taken_from(session, symbol, source, snapshot_time)
    merged = dict(before)
    for level, qty in taken.items():
        merged[level] = merged.get(level, Decimal(0)) + qty
    # appended to the snapshot's text (a level taken again is listed again: `decode` adds them up), not
    # written out whole: a walk encodes its own levels, not every level taken from the snapshot so far
    levels = f"{record.levels}{_LEVELS}{encode(taken)}" if before else encode(taken)
    record.source, record.snapshot_time, record.levels = source, snapshot_time, levels
    _remember_decoded(record.levels, merged)


def encode(taken: Taken) -> str:
    return _LEVELS.join(
        f"{side.value}{_FIELDS}{price:f}{_FIELDS}{qty:f}" for (side, price), qty in taken.items()
    )


def decode(levels: str) -> Taken:
    """The levels of a text (shared: never change the mapping returned)."""
    known = _DECODED.get(levels)
    if known is not None:
        return known
    taken: dict[tuple[Side, Decimal], Decimal] = {}
    for level in levels.split(_LEVELS) if levels else ():
        side, price, qty = level.split(_FIELDS)
        key = (Side(side), Decimal(price))
        taken[key] = taken.get(key, Decimal(0)) + Decimal(qty)
    _remember_decoded(levels, taken)
    return taken


_DECODED: dict[str, Taken] = {}
_DECODED_LOCK = threading.Lock()
_DECODED_KEPT = 64  # texts; one per symbol being taken from is what is read again


def _remember_decoded(levels: str, taken: Taken) -> None:
    with _DECODED_LOCK:
        _DECODED[levels] = taken
        while len(_DECODED) > _DECODED_KEPT:
            del _DECODED[next(iter(_DECODED))]


def _record(session: Session, symbol: str) -> TakenRecord | None:
    """The symbol's row, read once per transaction."""
    return transaction_cached(session, (_KEY, symbol), lambda: _read(session, symbol))


def _read(session: Session, symbol: str) -> TakenRecord | None:
    row = statements.run(session, _TAKEN, {"symbol": symbol}, flush=False).first()
    if row is None:
        return None
    record = TakenRecord(symbol, row.source, row.snapshot_time, row.levels)
    pending.track(session, record)
    return record


_taken = tables.TakenLiquidity.__table__.c
_TAKEN = statements.prepare(
    select(_taken.source, _taken.snapshot_time, _taken.levels).where(_taken.symbol == bindparam("symbol"))
)
