"""Fixtures for market-data tests: an empty store, an import helper, and the shared real samples."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from simulator.marketdata.importer import ImportOptions, ImportReport, run_import
from simulator.marketdata.symbols import SymbolMap
from simulator.storage.db import Database, open_database

REPO_ROOT = Path(__file__).resolve().parents[2]
DEFAULT_SYMBOL_MAP = REPO_ROOT / "fixtures" / "symbol_map.json"
REAL_DATA = REPO_ROOT.parent / "shared" / "data" / "real"


@pytest.fixture
def md_db(tmp_path: Path) -> Database:
    database = open_database(f"sqlite:///{tmp_path / 'md.db'}")
    yield database
    database.dispose()


def import_files(
    database: Database,
    venue: str,
    *paths: str | Path,
    symbol: str | None = None,
    symbol_map: str | Path | None = None,
    **options: Any,
) -> ImportReport:
    """Run an import the way `data import` does, with the default symbol map from fixtures/."""
    mapping = SymbolMap.load(DEFAULT_SYMBOL_MAP, symbol_map, forced=symbol)
    return run_import(database, venue, list(paths), ImportOptions(symbol_map=mapping, **options))


def real_file(relative: str) -> Path:
    """A file of ../shared/data/real; the test is skipped where the shared samples are not checked out."""
    path = REAL_DATA / relative
    if not path.exists():
        pytest.skip(f"shared sample {relative} not present")
    return path
