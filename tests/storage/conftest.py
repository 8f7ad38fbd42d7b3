"""Seeded temp-file databases for the storage tests, and a helper that opens an account in one."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from simulator.services import accounts
from simulator.settings import DEFAULT_FIXTURES
from simulator.storage.db import Database, open_database
from simulator.storage.seed import ensure_seeded

NOW_MS = 1_700_000_000_000


@pytest.fixture
def make_database(tmp_path: Path) -> Iterator[Callable[[str], Database]]:
    """Opens (and seeds) a database file under tmp_path; disposes every engine afterwards."""
    opened: list[Database] = []

    def make(name: str = "storage.db") -> Database:
        database = open_database(f"sqlite:///{tmp_path / name}")
        opened.append(database)
        ensure_seeded(database, DEFAULT_FIXTURES, NOW_MS)
        return database

    yield make
    for database in opened:
        database.dispose()


@pytest.fixture
def database(make_database: Callable[[str], Database]) -> Database:
    return make_database("storage.db")


def new_account(database: Database, **balances: str) -> str:
    """A user with no opening balances unless given; answers its main trading account id."""
    request = accounts.build_new_account(balances=balances)
    with database.write() as session:
        user = accounts.create_account(session, request, NOW_MS)
        return next(a.id for a in user.accounts if a.account_type == 1 and a.account_index == 0)
