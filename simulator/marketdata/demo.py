"""The demo market data shipped in fixtures/demo (written by scripts/make_fixtures.py), imported into a
database once so that a fresh server has a market to fill against.

The files go through run_import like any `data import`: first the Binance public-data kline CSVs (symbol
from the file name), then the recorded Binance combined stream, with the default symbol map of the
fixtures folder. Once every file is in, sim_meta records it (DEMO_IMPORTED_KEY); later calls do nothing.
Two processes starting together may both import, which is harmless: importing is idempotent.
"""

from __future__ import annotations

from pathlib import Path

from sqlalchemy.exc import IntegrityError

from simulator.clock import transport_now_ms
from simulator.marketdata.importer import ImportOptions, ImportReport, run_import
from simulator.marketdata.symbols import SymbolMap
from simulator.storage.db import Database
from simulator.storage.tables import SimMeta

DEMO_FOLDER = "demo"
DEMO_IMPORTED_KEY = "demo_imported_ms"
SYMBOL_MAP_FILE = "symbol_map.json"
# (venue, file pattern) in import order: the kline history before the stream that continues it
DEMO_SOURCES = (("binance-csv", "*.csv"), ("binance", "*.jsonl.gz"))


def import_demo_data(
    database: Database, fixtures_dir: str | Path, now_ms: int | None = None
) -> ImportReport | None:
    """Import fixtures_dir/demo unless this database already has it; None when there was nothing to do
    (already imported, or no demo folder). An unreadable demo file raises ImportFileError and leaves the
    database unmarked, so the next start tries again."""
    fixtures = Path(fixtures_dir)
    folder = fixtures / DEMO_FOLDER
    if not folder.is_dir() or demo_imported(database):
        return None
    options = ImportOptions(symbol_map=SymbolMap.load(_default_symbol_map(fixtures)))
    report = ImportReport()
    for venue, pattern in DEMO_SOURCES:
        paths: list[str | Path] = sorted(folder.glob(pattern))
        if paths:
            _merge(report, run_import(database, venue, paths, options))
    _mark_imported(database, transport_now_ms() if now_ms is None else now_ms)
    return report


def demo_imported(database: Database) -> bool:
    with database.read() as session:
        return session.get(SimMeta, DEMO_IMPORTED_KEY) is not None


def _mark_imported(database: Database, now_ms: int) -> None:
    try:
        with database.write() as session:
            if session.get(SimMeta, DEMO_IMPORTED_KEY) is None:
                session.add(SimMeta(key=DEMO_IMPORTED_KEY, value=str(now_ms)))
    except IntegrityError:
        pass  # a server starting at the same time marked it first (PostgreSQL; SQLite serialises writers)


def _default_symbol_map(fixtures: Path) -> Path | None:
    path = fixtures / SYMBOL_MAP_FILE
    return path if path.is_file() else None


def _merge(total: ImportReport, part: ImportReport) -> None:
    total.written.update(part.written)
    total.skipped.update(part.skipped)
    total.unmapped.update(part.unmapped)
    total.warnings.extend(part.warnings)
    total.files.extend(part.files)
