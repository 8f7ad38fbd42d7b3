from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from simulator.storage.db import Database, open_database
from simulator.storage.seed import ensure_seeded

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures"


@pytest.fixture
def db(tmp_path: Path) -> Iterator[Database]:
    """A seeded engine database (instruments, coins, fee tiers), no market data yet."""
    database = open_database(f"sqlite:///{tmp_path / 'engine.db'}")
    ensure_seeded(database, FIXTURES, 0)
    yield database
    database.dispose()
