"""`data import`: run one venue's parser over files and write what it yields, one transaction per file.

A parser (simulator.marketdata.venues.<module>.Parser) turns a file into records; it may keep state from
one file to the next within a run (a diff-depth book waiting for its snapshot in another file). This module
owns everything around it: opening plain, .gz and .zip files, line numbers for errors, the progress bar,
the symbol map, counting what was skipped, and the transaction that makes a file all-or-nothing.
"""

from __future__ import annotations

import gzip
import importlib
import io
import json
import re
import sys
import zipfile
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Any, Protocol

from tqdm import tqdm

from simulator.marketdata.parsing import MalformedRecord, time_ms
from simulator.marketdata.records import Record, is_interval
from simulator.marketdata.symbols import SymbolMap, SymbolTarget
from simulator.marketdata.writer import StoreWriter, source_id
from simulator.storage.db import Database

# venue name on the command line -> (parser module, venue recorded with trades)
VENUES: dict[str, tuple[str, str]] = {
    "binance": ("binance", "binance"),
    "binance-csv": ("binance_csv", "binance"),
    "kucoin": ("kucoin", "kucoin"),
    "mudrex": ("mudrex", "mudrex"),
    "tickdb": ("tickdb", "tickdb"),
}
DEFAULT_DEPTH_LEVELS = 200
DEFAULT_DEPTH_INTERVAL_MS = 1000
# An upper-case word, or a BASE-QUOTE pair, between non-alphanumerics: BTCUSDT, ANKR-BTC.
SYMBOL_IN_NAME = re.compile(r"(?<![A-Za-z0-9])[A-Z][A-Z0-9]{1,15}(?:-[A-Z][A-Z0-9]{1,15})?(?![A-Za-z0-9])")
PROGRESS_EVERY_LINES = 2000
BLOCK_BYTES = 1 << 20


class ImportFileError(Exception):
    """A file that cannot be imported; nothing from it was written."""

    def __init__(self, path: str, line: int | None, reason: str):
        self.path, self.line, self.reason = path, line, reason
        self.report: ImportReport | None = None  # what the run imported before this file
        super().__init__(f"{path}:{line}: {reason}" if line else f"{path}: {reason}")


@dataclass
class ImportOptions:
    symbol_map: SymbolMap = field(default_factory=SymbolMap)
    depth_levels: int = DEFAULT_DEPTH_LEVELS  # levels per side kept in a depth snapshot
    depth_interval_ms: int = DEFAULT_DEPTH_INTERVAL_MS  # snapshot period of a book rebuilt from diffs
    progress: bool = False  # a progress bar on stderr


@dataclass
class ImportReport:
    """What a run did: rows written per (kind, symbol), what was skipped and why, what could not be
    mapped, and warnings such as sequence gaps."""

    written: Counter[tuple[str, str]] = field(default_factory=Counter)
    skipped: Counter[str] = field(default_factory=Counter)
    unmapped: Counter[str] = field(default_factory=Counter)
    warnings: list[str] = field(default_factory=list)
    files: list[str] = field(default_factory=list)

    def count(self, kind: str, symbol: str | None = None) -> int:
        return sum(n for (k, s), n in self.written.items() if k == kind and symbol in (None, s))

    def as_json(self) -> dict[str, Any]:
        return {
            "files": self.files,
            "written": [
                {"kind": kind, "symbol": symbol, "rows": rows}
                for (kind, symbol), rows in sorted(self.written.items())
            ],
            "skipped": dict(sorted(self.skipped.items())),
            "unmapped": dict(sorted(self.unmapped.items())),
            "warnings": self.warnings,
        }


class InputFile:
    """One file to import: plain, gzip (.gz) or a zip archive (every member, in order), read line by line
    in constant memory. `line` is the number of the line being read, for error messages."""

    def __init__(self, path: Path, progress: bool = False):
        self.path = path
        self.progress = progress
        self.line = 0
        self.member: str | None = None

    @property
    def where(self) -> str:
        return f"{self.path}!{self.member}" if self.member else str(self.path)

    def lines(self) -> Iterator[str]:
        """Each line's text without its line ending; blank lines included (so numbers stay true)."""
        for member, stream, size in self._streams():
            self.member, self.line = member, 0
            with stream, _progress_bar(self.progress, size, self.path.name) as bar:
                pending = 0
                for raw in stream:
                    self.line += 1
                    pending += len(raw)
                    if self.line % PROGRESS_EVERY_LINES == 0:
                        bar.update(pending)
                        pending = 0
                    try:
                        yield raw.decode("utf-8").rstrip("\r\n")
                    except UnicodeDecodeError:
                        raise MalformedRecord("not UTF-8 text") from None
                bar.update(pending)

    def blocks(self) -> Iterator[str]:
        """The text in blocks of whole lines, each line ending in "\n", for parsers that read many lines
        at once (CSV). While a block is out, `line` is the number of its first line."""
        for member, stream, size in self._streams():
            self.member, first = member, 1
            with stream, _progress_bar(self.progress, size, self.path.name) as bar:
                while lines := stream.readlines(BLOCK_BYTES):
                    self.line = first
                    data = b"".join(lines)
                    try:
                        text = data.decode("utf-8")
                    except UnicodeDecodeError as e:
                        self.line += data.count(b"\n", 0, e.start)
                        raise MalformedRecord("not UTF-8 text") from None
                    yield text if text.endswith("\n") else text + "\n"
                    first += len(lines)
                    bar.update(len(data))

    def _streams(self) -> Iterator[tuple[str | None, Any, int]]:
        if zipfile.is_zipfile(self.path):
            with zipfile.ZipFile(self.path) as archive:
                for info in archive.infolist():
                    if not info.is_dir():
                        yield info.filename, archive.open(info), info.file_size
            return
        if self.path.suffix == ".gz":
            yield None, gzip.open(self.path, "rb"), self.path.stat().st_size * 8  # a guess: gzip hides it
            return
        yield None, open(self.path, "rb"), self.path.stat().st_size

    def symbol_from_name(self) -> str | None:
        """A symbol spelt in the file name, as in BTCUSDT-trades-2024-08-08.csv or level2_ANKR-BTC.json: the
        first upper-case word or BASE-QUOTE pair of five or more letters and digits (a venue symbol, which
        the symbol map then reads)."""
        for name in (self.member, self.path.name):
            for found in SYMBOL_IN_NAME.finditer(Path(name or "").stem):
                if len(found.group(0).replace("-", "")) >= 5:
                    return found.group(0)
        return None


@dataclass
class Message:
    """One JSON message with what its recording envelope said about it."""

    data: Any
    line: int
    recv_ms: int | None = None  # local receive time from a recorder's envelope
    symbol: str | None = None  # the symbol a recorder noted for a response that does not carry one
    interval: str | None = None  # likewise the kline interval (ours: "1m", "1h", ...)


class FileContext:
    """What a parser sees of the run while it reads one file."""

    def __init__(self, input_file: InputFile, venue: str, options: ImportOptions, report: ImportReport):
        self.input = input_file
        self.venue = venue
        self.options = options
        self.report = report

    def target(self, venue_symbol: str) -> SymbolTarget | None:
        """Our symbol for `venue_symbol`; an unmappable one is counted and None returned."""
        target = self.options.symbol_map.resolve(self.venue, str(venue_symbol))
        if target is None:
            self.report.unmapped[f"{self.venue}:{venue_symbol}"] += 1
        return target

    def skip(self, reason: str, count: int = 1) -> None:
        self.report.skipped[reason] += count

    def warn(self, message: str) -> None:
        self.report.warnings.append(f"{self.input.where}:{self.input.line}: {message}")

    def json_messages(self) -> Iterator[Message]:
        """The file's JSON messages: one per line (JSON Lines), or the whole file as one document (a saved
        REST response, pretty-printed or not). Recorder envelopes {"recv_ms", "venue", "data"} are opened."""
        lines = self.input.lines()
        for text in lines:
            if not text.strip():
                continue
            try:
                first = _loads(text)
            except ValueError:
                if text.lstrip()[:1] in "{[":  # a document spread over several lines
                    yield from self._whole_document(text, lines)
                    return
                raise MalformedRecord("not JSON") from None
            yield _message(first, self.input.line)
            break
        for text in lines:
            if text.strip():
                try:
                    data = _loads(text)
                except ValueError as e:
                    raise MalformedRecord(f"not JSON ({e})") from None
                yield _message(data, self.input.line)

    def _whole_document(self, first: str, rest: Iterator[str]) -> Iterator[Message]:
        buffer = io.StringIO()
        buffer.write(first + "\n")
        for text in rest:
            buffer.write(text + "\n")
        try:
            data = _loads(buffer.getvalue())
        except json.JSONDecodeError as e:
            self.input.line = e.lineno
            raise MalformedRecord(f"not JSON ({e.msg})") from None
        self.input.line = 1
        yield _message(data, 1)


_DECODER = json.JSONDecoder(parse_float=Decimal)  # json.loads would build one per call: a tenth of the time


def _loads(text: str) -> Any:
    return _DECODER.decode(text)


def _message(data: Any, line: int) -> Message:
    if isinstance(data, dict) and "recv_ms" in data and "data" in data:
        recv, symbol, interval = data["recv_ms"], data.get("symbol"), data.get("interval")
        if isinstance(recv, bool) or not isinstance(recv, int | Decimal | str):
            raise MalformedRecord(f"recv_ms is not a time in ms: {recv!r}")
        return Message(
            data["data"],
            line,
            time_ms(recv, "recv_ms"),
            symbol if isinstance(symbol, str) else None,
            interval if isinstance(interval, str) and is_interval(interval) else None,
        )
    return Message(data, line)


class Parser(Protocol):
    def parse(self, ctx: FileContext) -> Iterator[Record]: ...

    def finish(self, report: ImportReport) -> None:
        """The run is over: report what is still pending (a book that never got its snapshot)."""


def make_parser(venue: str, options: ImportOptions) -> Parser:
    module_name, _ = VENUES[venue]
    module = importlib.import_module(f"simulator.marketdata.venues.{module_name}")
    return module.Parser(options)  # type: ignore[no-any-return]


def run_import(
    database: Database, venue: str, paths: list[str | Path], options: ImportOptions
) -> ImportReport:
    """Import `paths` in order. Each file is one transaction; the first bad file stops the run with an
    ImportFileError (files before it stay imported)."""
    report = ImportReport()
    parser = make_parser(venue, options)
    trade_venue = VENUES[venue][1]
    for path in map(Path, paths):
        try:
            _import_file(database, venue, trade_venue, parser, path, options, report)
        except ImportFileError as e:
            e.report = report
            raise
        report.files.append(str(path))
    parser.finish(report)
    return report


def _import_file(
    database: Database,
    venue: str,
    trade_venue: str,
    parser: Parser,
    path: Path,
    options: ImportOptions,
    report: ImportReport,
) -> None:
    input_file = InputFile(path, options.progress)
    file_report = ImportReport()  # merged into the run's report only once the file is in
    ctx = FileContext(input_file, trade_venue, options, file_report)
    try:
        with database.engine.begin() as connection:
            writer = StoreWriter(connection, source_id(connection, venue, str(path.resolve())), trade_venue)
            for record in parser.parse(ctx):
                writer.add(record)
            writer.flush()
    except MalformedRecord as e:
        raise ImportFileError(input_file.where, input_file.line or None, str(e)) from e
    except (OSError, zipfile.BadZipFile, EOFError, gzip.BadGzipFile) as e:
        raise ImportFileError(str(path), input_file.line or None, f"cannot read: {e}") from e
    report.written.update(writer.written)
    report.skipped.update(file_report.skipped)
    report.unmapped.update(file_report.unmapped)
    report.warnings.extend(file_report.warnings)


def _progress_bar(enabled: bool, total: int, name: str) -> tqdm:
    return tqdm(
        total=total, unit="B", unit_scale=True, desc=name, file=sys.stderr, leave=False, disable=not enabled
    )
