"""Prebuilt Core statements run on a session's connection.

The hot paths (authenticating a request, placing an order) read a few columns by key several times a
request. An ORM entity load costs about four times the query, and building a statement per call about
twice, so those reads are module-level statements with bound parameters, run here. Like an ORM statement,
`run` first writes what the transaction has not written yet (ORM changes, records, pending rows), so it
sees the transaction's own writes. A read of rows the transaction cannot have changed unwritten passes
`flush=False`: reference rows (keys, instruments, fee tiers, the recording), and rows read once into a
record before anything changes them (a balance, the symbol state, the id counter). Writing in the middle
of a match would write some rows twice.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import Connection, CursorResult, Executable
from sqlalchemy.orm import Session

from simulator.storage import pending


def run(
    session: Session, statement: Executable, params: dict[str, Any] | None = None, *, flush: bool = True
) -> CursorResult[Any]:
    return connection(session, flush=flush).execute(statement, params or {})


def connection(session: Session, *, flush: bool = True) -> Connection:
    """The session's connection; with `flush`, everything the transaction changed so far is written."""
    if flush:
        session.flush()  # returns at once when nothing changed
        pending.write_rows(session)
    return session.connection()
