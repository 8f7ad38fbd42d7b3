"""19-digit numeric ids like the venue's, drawn from a counter in the database: deterministic (the same
requests give the same ids) and safe across worker processes (the counter row is locked)."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from simulator.storage import pending, statements
from simulator.storage.db import locked
from simulator.storage.records import SequenceRecord
from simulator.storage.tables import SimSequence
from simulator.storage.transaction import transaction_cache

# The first id has 19 digits, in the range of the document's examples (1471090223379184384 and so on).
ID_BASE = 1_900_000_000_000_000_000
SEQUENCE = "ids"


def next_id(session: Session) -> str:
    """The next id. The counter row is locked and read once per transaction and then counted in memory
    (its new value is written when the transaction flushes); a fill writes five ids."""
    cache = transaction_cache(session)
    record = cache.get(SEQUENCE)
    if record is None:
        record = cache[SEQUENCE] = _read_sequence(session)
    record.value += 1
    return str(ID_BASE + record.value)


_sequence = SimSequence.__table__.c
_SEQUENCE_FOR_UPDATE = statements.prepare(locked(select(_sequence.value).where(_sequence.name == SEQUENCE)))


def _read_sequence(session: Session) -> SequenceRecord:
    value = statements.run(session, _SEQUENCE_FOR_UPDATE, flush=False).scalar()
    record = SequenceRecord(SEQUENCE, value or 0)
    pending.track(session, record, new=value is None)
    return record
