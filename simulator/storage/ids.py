"""19-digit numeric ids like the venue's, drawn from a counter in the database: deterministic (the same
requests give the same ids) and safe across worker processes (the counter row is locked)."""

from __future__ import annotations

from sqlalchemy.orm import Session

from simulator.storage.db import scalar_for_update
from simulator.storage.tables import SimSequence
from simulator.storage.transaction import transaction_cache

# The first id has 19 digits, in the range of the document's examples (1471090223379184384 and so on).
ID_BASE = 1_900_000_000_000_000_000
SEQUENCE = "ids"


def next_id(session: Session) -> str:
    """The next id. The counter row is locked and read once per transaction and then counted in memory
    (its new value is written when the transaction flushes); a fill writes five ids."""
    cache = transaction_cache(session)
    row = cache.get(SEQUENCE)
    if row is None:
        row = scalar_for_update(session, SimSequence, SEQUENCE)
        if row is None:
            row = SimSequence(name=SEQUENCE, value=0)
            session.add(row)
        cache[SEQUENCE] = row
    row.value += 1
    return str(ID_BASE + row.value)
