"""`hashkey-sim accounts deposit --onchain | fiat | end-withdrawal | fail-deposit | fail-fiat | whitelist`:
the CLI side of the admin wallet API, on a temp SQLite file that an app then reads."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner, Result

from simulator import create_app
from simulator.cli import main
from simulator.settings import Settings
from tests.conftest import Signer
from tests.test_cli import no_settings_from_the_environment  # noqa: F401  (autouse fixture)

EVM_ADDRESS = "0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAed"


@pytest.fixture
def db_url(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path / 'wallet.db'}"


@pytest.fixture
def cli(db_url: str):
    runner = CliRunner()

    def invoke(*args: str) -> Result:
        return runner.invoke(main, ["accounts", *args, "--db", db_url])

    return invoke


def answered(result: Result) -> Any:
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


@pytest.fixture
def user(cli) -> dict[str, Any]:
    return answered(cli("create", "--json", "--balance", "USDT=100"))


def account_of_type(user: dict[str, Any], account_type: int) -> str:
    return next(a["accountId"] for a in user["accounts"] if a["accountType"] == account_type)


def test_an_onchain_deposit_lands_in_the_custody_account_waiting_for_its_confirmations(cli, user):
    made = answered(cli("deposit", user["accountId"], "usdt", "25", "--onchain", "--chain", "Tron"))
    assert (made["accountId"], made["chainType"], made["status"]) == (account_of_type(user, 5), "Tron", 8)
    waiting = answered(
        cli("deposit", user["accountId"], "USDT", "5", "--onchain", "--chain", "ETH", "--needs-auth")
    )
    assert waiting["status"] == 1
    assert answered(cli("fail-deposit", waiting["id"]))["status"] == 3


def test_onchain_needs_a_chain_and_venue_refusals_exit_with_the_code(cli, user):
    missing = cli("deposit", user["accountId"], "USDT", "25", "--onchain")
    assert missing.exit_code == 2 and "--chain" in missing.output
    small = cli("deposit", user["accountId"], "USDT", "0.5", "--onchain", "--chain", "ETH")
    assert small.exit_code == 1
    assert (
        "-1210 The deposit amount 0.5 must not be less than the minimum deposit amount 1 USDT."
        in small.output
    )
    assert "-1209" in cli("end-withdrawal", "W1", "failed").output


def test_fiat_orders_and_a_whitelist_reach_the_api(cli, user, db_url):
    made = answered(cli("fiat", user["accountId"], "deposit", "usd", "100", "--fee", "5", "--remark", "/D7"))
    assert (made["type"], made["asset"], made["netAmount"], made["status"]) == (
        "deposit",
        "USD",
        "95",
        "processing",
    )
    assert answered(cli("fail-fiat", made["orderId"]))["status"] == "failed"
    assert answered(cli("whitelist", user["apiKey"], EVM_ADDRESS)) == {
        "apiKey": user["apiKey"],
        "addresses": [EVM_ADDRESS],
    }
    app = create_app(Settings(db=db_url, rate_limits=False))
    try:
        signer = Signer(user["apiKey"], user["secretKey"])
        response = app.test_client().get(
            "/api/v1/account/fiat/history",
            **signer.ccxt("GET", type="deposit", startTime=0, endTime=2**41, status="failed"),
        )
        assert [o["remark"] for o in response.get_json()] == ["/D7"]
    finally:
        app.extensions["hashkey_sim"].database.dispose()
