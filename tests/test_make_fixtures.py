"""scripts/make_fixtures.py writes the same demo files on every run, in Binance's formats, and the files
committed in fixtures/demo are its output; scripts/bench_import.py runs to the end on small sizes."""

from __future__ import annotations

import csv
import gzip
import importlib.util
import json
import os
import shutil
import subprocess
import sys
from collections import Counter
from decimal import Decimal
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

REPO_ROOT = Path(__file__).resolve().parent.parent
SCRIPT = REPO_ROOT / "scripts" / "make_fixtures.py"
BENCH = REPO_ROOT / "scripts" / "bench_import.py"
COMMITTED = REPO_ROOT / "fixtures" / "demo"
STREAM = "binance_stream_2025-01-06.jsonl.gz"
NAMES = [
    "BTCUSDT-1m-2025-01-05.csv",
    "ETHUSDT-1m-2025-01-05.csv",
    "SOLUSDT-1m-2025-01-05.csv",
    STREAM,
]
SUBPROCESS_TIMEOUT_S = 300


def load_script(monkeypatch: pytest.MonkeyPatch) -> ModuleType:
    spec = importlib.util.spec_from_file_location("make_fixtures", SCRIPT)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    monkeypatch.setitem(sys.modules, spec.name, module)  # its dataclasses look it up while being defined
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def two_runs(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """The script run twice, at once, in processes with different hash seeds (so set or dict order
    cannot leak into the output)."""
    folders = (tmp_path_factory.mktemp("run1"), tmp_path_factory.mktemp("run2"))
    runs = [
        subprocess.Popen(
            [sys.executable, str(SCRIPT), "--out", str(folder)],
            env={**os.environ, "PYTHONHASHSEED": seed},
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
        )
        for folder, seed in zip(folders, ("1", "2"), strict=True)
    ]
    for run in runs:
        _, err = run.communicate(timeout=SUBPROCESS_TIMEOUT_S)
        assert run.returncode == 0, err.decode()
    return folders


@pytest.fixture
def script_output(two_runs: tuple[Path, Path], monkeypatch: pytest.MonkeyPatch) -> tuple[ModuleType, Path]:
    """The script as a module whose build_files() answers with the first run's files (what the script
    writes; building them again would only cost time)."""
    module = load_script(monkeypatch)
    first = two_runs[0]
    monkeypatch.setattr(module, "build_files", lambda: {name: (first / name).read_bytes() for name in NAMES})
    return module, first


def stream_messages(folder: Path) -> list[dict[str, Any]]:
    with gzip.open(folder / STREAM, "rt", encoding="utf-8") as lines:
        return [json.loads(line, parse_float=Decimal) for line in lines]


def test_two_runs_write_the_same_bytes(two_runs):
    first, second = two_runs
    assert sorted(p.name for p in first.iterdir()) == sorted(p.name for p in second.iterdir()) == NAMES
    for name in NAMES:
        assert (first / name).read_bytes() == (second / name).read_bytes(), name
    header = (first / STREAM).read_bytes()[:10]
    assert header[4:8] == b"\0\0\0\0" and header[3] & 0x08 == 0  # mtime 0, no file name in the header


def test_the_committed_demo_files_are_the_script_output(script_output, capsys):
    module, _ = script_output
    assert module.main(["--check", "--out", str(COMMITTED)]) == 0
    assert "up to date" in capsys.readouterr().out


def test_check_fails_on_a_changed_or_missing_file(script_output, tmp_path, capsys):
    module, first = script_output
    shutil.copytree(first, tmp_path, dirs_exist_ok=True)
    assert module.main(["--check", "--out", str(tmp_path)]) == 0
    csv_file = tmp_path / NAMES[0]
    csv_file.write_text(csv_file.read_text().replace(",", ";", 1))
    assert module.main(["--check", "--out", str(tmp_path)]) == 1
    assert NAMES[0] in capsys.readouterr().err
    shutil.copy(first / NAMES[0], csv_file)
    (tmp_path / STREAM).unlink()
    assert module.main(["--check", "--out", str(tmp_path)]) == 1
    assert STREAM in capsys.readouterr().err


def test_check_compares_what_a_gzip_file_holds_not_how_it_was_compressed(script_output, tmp_path):
    module, first = script_output
    shutil.copytree(first, tmp_path, dirs_exist_ok=True)
    text = gzip.decompress((first / STREAM).read_bytes())
    (tmp_path / STREAM).write_bytes(gzip.compress(text, compresslevel=1))
    assert module.main(["--check", "--out", str(tmp_path)]) == 0
    (tmp_path / STREAM).write_bytes(gzip.compress(text.replace(b'"m":true', b'"m":false', 1), 1))
    assert module.main(["--check", "--out", str(tmp_path)]) == 1


def test_kline_files_are_a_day_of_binance_public_data_rows(two_runs):
    for name in NAMES[:3]:
        with (two_runs[0] / name).open(newline="") as handle:
            rows = list(csv.reader(handle))
        assert len(rows) == 1440 and {len(row) for row in rows} == {12}
        open_times = [int(row[0]) for row in rows]
        assert open_times == list(range(1_736_035_200_000, 1_736_121_600_000, 60_000))  # 2025-01-05, ms
        assert all(int(row[6]) == int(row[0]) + 59_999 and row[11] == "0" for row in rows)
        assert all(len(value.split(".")[1]) == 8 for row in rows for value in row[1:6])


def test_stream_is_binance_combined_stream_messages_in_time_order(two_runs):
    messages = stream_messages(two_runs[0])
    kinds = Counter(m["stream"].partition("@")[2] for m in messages)
    assert set(kinds) == {"trade", "bookTicker", "depth20@100ms", "kline_1m"}
    assert (kinds["bookTicker"], kinds["depth20@100ms"], kinds["kline_1m"]) == (3 * 3600, 3 * 3600, 3 * 3721)
    assert {m["stream"].partition("@")[0] for m in messages} == {"btcusdt", "ethusdt", "solusdt"}
    shapes = {m["stream"].partition("@")[2]: list(m["data"]) for m in messages}
    assert shapes == {
        "trade": ["e", "E", "s", "t", "p", "q", "T", "m", "M"],
        "bookTicker": ["u", "s", "b", "B", "a", "A"],
        "depth20@100ms": ["lastUpdateId", "bids", "asks"],
        "kline_1m": ["e", "E", "s", "k"],
    }
    times = [m["data"]["E"] for m in messages if "E" in m["data"]]
    assert times == sorted(times)
    assert 1_736_121_600_000 <= times[0] and times[-1] <= 1_736_121_600_000 + 2 * 3_600_000 + 10
    assert (two_runs[0] / STREAM).stat().st_size < 4_000_000


def test_every_undated_message_follows_a_dated_one_of_its_symbol(two_runs):
    """bookTicker and depth20 carry no time: the nearest timed message before each is its symbol's kline
    update of that moment, so a reader that dates them by the previous message gets the quote's time."""
    last_timed: dict[str, Any] | None = None
    undated = 0
    for message in stream_messages(two_runs[0]):
        symbol, _, kind = message["stream"].partition("@")
        if "E" in message["data"]:
            last_timed = message
            continue
        undated += 1
        assert last_timed is not None and last_timed["stream"] == f"{symbol}@kline_1m"
        assert last_timed["data"]["k"]["x"] is False
    assert undated == 3 * (3600 + 3600)


def test_bench_import_runs_to_the_end_on_small_sizes():
    run = subprocess.run(
        [sys.executable, str(BENCH), "--quick"],
        capture_output=True,
        text=True,
        timeout=SUBPROCESS_TIMEOUT_S,
    )
    assert run.returncode == 0, run.stderr
    out = run.stdout
    for label in (
        "machine: python",
        "binance-csv:",
        "binance stream:",
        "store.depth_at:",
        "store.trades_between",
    ):
        assert label in out
    assert "rows/s (goal 200,000" in out and "msgs/s (goal 50,000" in out
