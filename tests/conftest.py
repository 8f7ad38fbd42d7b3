"""Shared fixtures: an app on a temp-file database, a test client, accounts, and request signers that sign
the way real clients do."""

from __future__ import annotations

import decimal
import hashlib
import hmac
import json
import shutil
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import pytest
from flask import Flask
from flask.testing import FlaskClient

from simulator import create_app
from simulator.settings import DEFAULT_FIXTURES, Settings
from simulator.storage.seed import FIXTURE_FILES

ADMIN_TOKEN = "test-admin-token"
REPO_ROOT = Path(__file__).resolve().parent.parent
BENCH_TIMEOUT_S = 300


@pytest.fixture(autouse=True)
def trap_float_money() -> Iterator[None]:
    """A float leaking into Decimal arithmetic raises instead of rounding silently."""
    context = decimal.getcontext()
    saved = context.traps[decimal.FloatOperation]
    context.traps[decimal.FloatOperation] = True
    yield
    context.traps[decimal.FloatOperation] = saved


def fixtures_with(folder: Path, symbol: str, changes: dict[str, dict[str, Any]]) -> Path:
    """A copy of the default fixtures in `folder` with `symbol`'s filters changed (by filterType); for a
    `fixtures=` setting."""
    folder.mkdir()
    for name in FIXTURE_FILES:
        shutil.copy(Path(DEFAULT_FIXTURES) / name, folder / name)
    instruments = json.loads((folder / "instruments.json").read_text())
    instrument = next(i for i in instruments if i["symbol"] == symbol)
    for entry in instrument["filters"]:
        entry.update(changes.get(entry["filterType"], {}))
    (folder / "instruments.json").write_text(json.dumps(instruments))
    return folder


@pytest.fixture
def settings(tmp_path: Any) -> Settings:
    return Settings(db=f"sqlite:///{tmp_path / 'sim.db'}", admin_token=ADMIN_TOKEN)


@pytest.fixture
def make_app(settings: Settings) -> Iterator[Callable[..., Flask]]:
    """Builds an app on the test database, with any settings changed; disposes every engine afterwards."""
    apps: list[Flask] = []

    def build(**changes: Any) -> Flask:
        app = create_app(settings.replace(**changes))
        app.config["TESTING"] = True
        apps.append(app)
        return app

    yield build
    for app in apps:
        app.extensions["hashkey_sim"].database.dispose()


@pytest.fixture
def app(make_app: Callable[..., Flask]) -> Flask:
    return make_app()


@pytest.fixture
def client(app: Flask) -> FlaskClient:
    return app.test_client()


def admin_headers() -> dict[str, str]:
    return {"X-SIM-ADMIN-TOKEN": ADMIN_TOKEN}


@pytest.fixture
def create_account(client: FlaskClient) -> Callable[..., dict[str, Any]]:
    """POST /sim/v1/accounts with the given body; returns what it answered."""

    def create(**body: Any) -> dict[str, Any]:
        response = client.post("/sim/v1/accounts", json=body, headers=admin_headers())
        assert response.status_code == 201, response.get_json()
        return response.get_json()

    return create


@pytest.fixture
def account(create_account: Callable[..., dict[str, Any]]) -> dict[str, Any]:
    """A user with USDT and BTC on its main trading account and one sub account."""
    return create_account(balances={"USDT": "1000", "BTC": "0.5"}, subAccounts=1)


def sign(secret: str, payload: str) -> str:
    return hmac.new(secret.encode(), payload.encode(), hashlib.sha256).hexdigest()


def now_ms() -> int:
    return int(time.time() * 1000)


class Signer:
    """Builds Flask test-client kwargs for a signed request, in the styles real clients use."""

    def __init__(self, api_key: str, secret: str) -> None:
        self.api_key = api_key
        self.secret = secret

    def ccxt(self, method: str, **params: Any) -> dict[str, Any]:
        """ccxt: timestamp first, then the parameters; GET in the query, other methods as a form body."""
        ordered = {"timestamp": params.pop("timestamp", now_ms()), **params}
        payload = urlencode(ordered)
        signed = f"{payload}&signature={sign(self.secret, payload)}"
        if method == "GET":
            return {"query_string": signed, "headers": self.headers()}
        return {
            "data": signed,
            "content_type": "application/x-www-form-urlencoded",
            "headers": self.headers(),
        }

    def sorted_query(self, **params: Any) -> dict[str, Any]:
        """The other widely used connector: keys sorted, everything in the query, for every method."""
        params.setdefault("timestamp", now_ms())
        payload = urlencode(sorted(params.items()))
        return {
            "query_string": f"{payload}&signature={sign(self.secret, payload)}",
            "headers": self.headers(),
        }

    def headers(self) -> dict[str, str]:
        return {"X-HK-APIKEY": self.api_key}


@pytest.fixture
def signer(account: dict[str, Any]) -> Signer:
    """Signs as the account's master key."""
    return Signer(account["apiKey"], account["secretKey"])


@pytest.fixture
def sub_signer(account: dict[str, Any]) -> Signer:
    """Signs as the account's first sub-account key."""
    sub = next(a for a in account["accounts"] if a.get("keyType") == "sub")
    return Signer(sub["apiKey"], sub["secretKey"])


def run_bench(script: str, *args: str) -> list[str]:
    """The lines `scripts/<script>` prints, run as a user runs it (it must succeed). Benchmarks are run,
    not timed, by the suite: a loaded machine must not fail it."""
    run = subprocess.run(
        [sys.executable, str(REPO_ROOT / "scripts" / script), *args],
        capture_output=True,
        text=True,
        timeout=BENCH_TIMEOUT_S,
        cwd=REPO_ROOT,
    )
    assert run.returncode == 0, run.stdout + run.stderr
    return run.stdout.splitlines()
