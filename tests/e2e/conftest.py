"""A real `hashkey-sim serve` on 127.0.0.1 for the client-compatibility tests: replay clock at speed 0,
parked at a known moment of the shipped demo recording, so every book, print and fill is the same on
every run.

The demo data is imported once per test session into a template database; each server gets its own copy,
so tests do not share taken liquidity, orders or ids (and no server spends time importing).

Fixture names here are distinct from test_serve.py's own helpers (start_server, one_worker_server, ...).
"""

from __future__ import annotations

import hashlib
import hmac
import os
import sqlite3
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import pytest
import requests

from simulator.app import prepare_database
from simulator.marketdata.demo import import_demo_data
from simulator.settings import Settings

REPLAY_ADMIN_TOKEN = "e2e-clients-token"
# 2025-01-06T00:30:00.500Z: 363 ms after a BTCUSDT depth20 snapshot of the demo recording (they come every
# 6 s and go stale after fill_depth_staleness_ms = 5 s), so the whole recorded book is liquidity.
REPLAY_START_MS = 1736123400500
SERVER_START_LIMIT_S = 20
SERVER_STOP_LIMIT_S = 10
CLIENT_TIMEOUT_S = 10
ANNOUNCE = "hashkey-sim serving "


class SortedQueryClient:
    """Signs the sorted query string (timestamp included) with HMAC-SHA256 and sends it so, any method."""

    def __init__(self, base_url: str, api_key: str, secret: str) -> None:
        self.base_url = base_url
        self.api_key = api_key
        self.secret = secret

    def query_string(self, **params: Any) -> str:
        params.setdefault("timestamp", int(time.time() * 1000))
        payload = urlencode(sorted(params.items()))
        signature = hmac.new(self.secret.encode(), payload.encode(), hashlib.sha256).hexdigest()
        return f"{payload}&signature={signature}"

    def send(self, method: str, path: str, **params: Any) -> requests.Response:
        return self.send_raw(method, path, self.query_string(**params))

    def send_raw(self, method: str, path: str, query: str) -> requests.Response:
        return requests.request(
            method,
            f"{self.base_url}{path}?{query}",
            headers={"X-HK-APIKEY": self.api_key},
            timeout=CLIENT_TIMEOUT_S,
        )


@pytest.fixture(scope="session")
def demo_database_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A seeded SQLite file with the demo recording imported (the import serve does on a first start)."""
    path = tmp_path_factory.mktemp("demo-template") / "template.db"
    settings = Settings(db=f"sqlite:///{path}")
    database = prepare_database(settings)
    try:
        import_demo_data(database, settings.fixtures)
    finally:
        database.dispose()
    return path


@dataclass
class ReplayServer:
    """A running `hashkey-sim serve` subprocess and the admin calls the tests need."""

    process: subprocess.Popen[bytes]
    base_url: str
    log_path: Path

    def create_account(self, balances: dict[str, str]) -> dict[str, Any]:
        """POST /sim/v1/accounts: a user whose main trading account holds `balances`."""
        response = requests.post(
            f"{self.base_url}/sim/v1/accounts",
            json={"balances": balances},
            headers={"X-SIM-ADMIN-TOKEN": REPLAY_ADMIN_TOKEN},
            timeout=CLIENT_TIMEOUT_S,
        )
        assert response.status_code == 201, response.text
        return response.json()

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")


@pytest.fixture
def replay_server(tmp_path: Path, demo_database_template: Path) -> Iterator[ReplayServer]:
    """`hashkey-sim serve` on a free loopback port, configured through HASHKEY_SIM_* variables: replay
    clock at REPLAY_START_MS, speed 0, on a private copy of the demo database."""
    yield from serve_replay(tmp_path, demo_database_template)


def serve_replay(
    folder: Path, template: Path | None, settings_env: dict[str, str] | None = None
) -> Iterator[ReplayServer]:
    """The replay server of `replay_server` in `folder` (its database, log and working directory), with
    any further HASHKEY_SIM_* settings; stopped when the generator is closed. `template` None: on the
    database already in `folder` (a restart)."""
    db_path = folder / "sim.db"
    if template is not None:
        _copy_sqlite(template, db_path)
    env = {k: v for k, v in os.environ.items() if not k.startswith("HASHKEY_SIM_")}
    env.update(
        PYTHONUNBUFFERED="1",
        HASHKEY_SIM_DB=f"sqlite:///{db_path}",
        HASHKEY_SIM_HOST="127.0.0.1",
        HASHKEY_SIM_PORT="0",
        HASHKEY_SIM_ADMIN_TOKEN=REPLAY_ADMIN_TOKEN,
        HASHKEY_SIM_CLOCK_MODE="replay",
        HASHKEY_SIM_CLOCK_START=str(REPLAY_START_MS),
        HASHKEY_SIM_CLOCK_SPEED="0",
        **(settings_env or {}),
    )
    log_path = folder / "serve.log"
    with log_path.open("wb") as log:  # a file, not a pipe: request logs can never fill it and stall serve
        process = subprocess.Popen(
            [str(Path(sys.executable).parent / "hashkey-sim"), "serve"],
            stdout=log,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            cwd=folder,
            env=env,
        )
    try:
        yield ReplayServer(process, _wait_for_announce(process, log_path), log_path)
    finally:
        _stop(process)


def _copy_sqlite(source: Path, target: Path) -> None:
    """SQLite's online backup: a consistent copy whatever the journal mode left beside the file."""
    src, dst = sqlite3.connect(source), sqlite3.connect(target)
    try:
        src.backup(dst)
    finally:
        src.close()
        dst.close()


def _wait_for_announce(process: subprocess.Popen[bytes], log_path: Path) -> str:
    """The base URL from serve's announce line; fails with the log after SERVER_START_LIMIT_S or on exit."""
    deadline = time.monotonic() + SERVER_START_LIMIT_S
    while time.monotonic() < deadline:
        for line in log_path.read_text(errors="replace").splitlines():
            if line.startswith(ANNOUNCE):
                base_url = line.removeprefix(ANNOUNCE).strip()
                assert base_url.startswith("http://127.0.0.1:"), base_url
                return base_url
        if process.poll() is not None:
            pytest.fail(f"serve exited ({process.returncode}) before announcing:\n{log_path.read_text()}")
        time.sleep(0.05)
    pytest.fail(f"no announce line within {SERVER_START_LIMIT_S} s:\n{log_path.read_text()}")


def _stop(process: subprocess.Popen[bytes]) -> None:
    """SIGTERM (serve stops cleanly on it), then SIGKILL if it lingers."""
    if process.poll() is None:
        process.terminate()
        try:
            process.wait(timeout=SERVER_STOP_LIMIT_S)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=SERVER_STOP_LIMIT_S)
