"""Prebuilt Core statements run on a session's connection.

The hot paths (authenticating a request, placing an order) read a few columns by key several times a
request. An ORM entity load costs about four times the query, and building a statement per call about
twice, so those reads are module-level statements with bound parameters, run here. Like an ORM statement,
`run` first writes what the transaction has not written yet (ORM changes, pending rows), so it sees the
transaction's own writes.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import Connection, CursorResult, Executable
from sqlalchemy.orm import Session

from simulator.storage import pending


def run(session: Session, statement: Executable, params: dict[str, Any] | None = None) -> CursorResult[Any]:
    return connection(session).execute(statement, params or {})


def connection(session: Session) -> Connection:
    """The session's connection, with everything the transaction wrote so far written."""
    session.flush()  # returns at once when nothing changed
    pending.write_rows(session)
    return session.connection()
