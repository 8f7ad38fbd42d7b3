"""The `hashkey-sim accounts ...` commands via CliRunner, on a temp SQLite file shared with an app."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner, Result

from simulator import create_app
from simulator.cli import main
from simulator.settings import Settings
from tests.conftest import Signer

# The HashKey document's example key pair.
DOC_KEY = "tAQfOrPIZAhym0qHISRt8EFvxPemdBm5j5WMlkm3Ke9aFp0EGWC2CGM8GHV4kCYW"
DOC_SECRET = "lH3ELTNiFxCQTmi9pPcWWikhsjO04Yoqw3euoHUuOLC3GYBW64ZqzQsiOEHXQS76"


@pytest.fixture(autouse=True)
def no_settings_from_the_environment(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """Only what a test passes reaches the CLI; a stray default database lands in tmp_path."""
    for name in list(os.environ):
        if name.startswith("HASHKEY_SIM_"):
            monkeypatch.delenv(name)
    monkeypatch.chdir(tmp_path)


@pytest.fixture
def db_url(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path / 'cli.db'}"


@pytest.fixture
def runner() -> CliRunner:
    return CliRunner()


@pytest.fixture
def cli(runner: CliRunner, db_url: str):
    """Runs `hashkey-sim accounts <args> --db <db_url>`."""

    def invoke(*args: str, **kwargs: Any) -> Result:
        return runner.invoke(main, ["accounts", *args, "--db", db_url], **kwargs)

    return invoke


def created(result: Result) -> dict[str, Any]:
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


def main_balances(report: dict[str, Any]) -> dict[str, str]:
    return next(a for a in report["accounts"] if a["accountType"] == 1 and a["accountIndex"] == 0)["balances"]


# ---------------------------------------------------------------------------- accounts create


def test_create_json_prints_one_object_with_keys_and_accounts(cli):
    result = cli("create", "--balance", "USDT=1000", "--balance", "btc=0.25", "--sub-accounts", "2", "--json")

    report = created(result)
    assert list(report) == ["userId", "accountId", "apiKey", "secretKey", "permissions", "ips", "accounts"]
    assert len(report["apiKey"]) == 64 and len(report["secretKey"]) == 64
    assert [(a["accountType"], a["accountIndex"]) for a in report["accounts"]] == [
        (1, 0),
        (5, 0),
        (6, 0),
        (1, 1),
        (1, 2),
    ]
    assert report["accounts"][0]["accountId"] == report["accountId"]
    assert all(a["userId"] == report["userId"] for a in report["accounts"])


def test_create_credits_opening_balances_to_the_main_account(cli):
    report = created(cli("create", "--balance", "USDT=1000", "--balance", "btc=0.25", "--json"))

    assert main_balances(report) == {"BTC": "0.25", "USDT": "1000"}
    assert all(a["balances"] == {} for a in report["accounts"][1:])


def test_create_gives_each_sub_account_its_own_key(cli):
    report = created(cli("create", "--sub-accounts", "2", "--json"))

    subs = report["accounts"][3:]
    assert [a["keyType"] for a in subs] == ["sub", "sub"]
    assert len({report["apiKey"], subs[0]["apiKey"], subs[1]["apiKey"]}) == 3


def test_create_imports_the_documents_key_and_the_server_accepts_it(cli, db_url):
    created(cli("create", "--api-key", DOC_KEY, "--secret", DOC_SECRET, "--balance", "USDT=1000", "--json"))
    app = create_app(Settings(db=db_url, admin_token="t"))
    try:
        response = app.test_client().get("/api/v1/account", **Signer(DOC_KEY, DOC_SECRET).ccxt("GET"))
    finally:
        app.extensions["hashkey_sim"].database.dispose()

    assert response.status_code == 200
    assert [(b["asset"], b["total"]) for b in response.get_json()["balances"]] == [("USDT", "1000")]


def test_create_reports_the_imported_key(cli):
    report = created(cli("create", "--api-key", DOC_KEY, "--secret", DOC_SECRET, "--json"))

    assert (report["apiKey"], report["secretKey"]) == (DOC_KEY, DOC_SECRET)


def test_create_with_permissions_and_ip(cli):
    report = created(
        cli("create", "--permissions", "read,trade", "--ip", "10.0.0.1", "--sub-accounts", "1", "--json")
    )

    assert report["permissions"] == ["read", "trade"]
    assert report["ips"] == ["10.0.0.1/32"]


def test_create_with_several_ips(cli):
    report = created(cli("create", "--ip", "10.0.0.1", "--ip", "192.168.0.0/24", "--json"))

    assert report["ips"] == ["10.0.0.1/32", "192.168.0.0/24"]


def test_create_without_json_prints_a_summary(cli):
    result = cli("create", "--balance", "USDT=1000", "--sub-accounts", "1")

    assert result.exit_code == 0, result.output
    first_line = result.stdout.splitlines()[0]
    assert first_line.startswith("user 19") and "apiKey " in first_line and "secretKey " in first_line
    assert "USDT=1000" in result.stdout
    assert "Sub Main Trading Account" in result.stdout


# ---------------------------------------------------------------------------- accounts list


def test_list_json_returns_the_created_users(cli):
    first = created(cli("create", "--balance", "USDT=1", "--json"))
    second = created(cli("create", "--sub-accounts", "1", "--json"))

    listed = created(cli("list", "--json"))

    assert listed == [first, second]


def test_list_json_of_an_empty_database(cli):
    assert created(cli("list", "--json")) == []


def test_list_text_mentions_each_account_id(cli):
    report = created(cli("create", "--sub-accounts", "2", "--json"))

    result = cli("list")

    assert result.exit_code == 0, result.output
    for account in report["accounts"]:
        assert account["accountId"] in result.stdout
    assert report["userId"] in result.stdout


def test_list_sees_accounts_the_server_created(cli, db_url):
    app = create_app(Settings(db=db_url, admin_token="t"))
    try:
        response = app.test_client().post(
            "/sim/v1/accounts", json={"balances": {"ETH": "3"}}, headers={"X-SIM-ADMIN-TOKEN": "t"}
        )
    finally:
        app.extensions["hashkey_sim"].database.dispose()

    assert created(cli("list", "--json")) == [response.get_json()]


# ---------------------------------------------------------------------------- accounts deposit


def test_deposit_credits_the_account(cli):
    report = created(cli("create", "--balance", "USDT=1000", "--json"))

    result = cli("deposit", report["accountId"], "USDT", "5")

    assert result.exit_code == 0, result.output
    assert result.stdout == f"{report['accountId']} USDT free=1005 locked=0\n"
    assert main_balances(created(cli("list", "--json"))[0]) == {"USDT": "1005"}


def test_deposit_asset_is_case_insensitive(cli):
    report = created(cli("create", "--json"))

    result = cli("deposit", report["accountId"], "eth", "0.5")

    assert result.exit_code == 0, result.output
    assert main_balances(created(cli("list", "--json"))[0]) == {"ETH": "0.5"}


def test_deposit_to_an_unknown_account_fails(cli):
    result = cli("deposit", "1900000000000009999", "USDT", "5")

    assert result.exit_code == 1
    assert "Account does not exist" in result.output


def test_deposit_of_an_unknown_asset_fails(cli):
    report = created(cli("create", "--json"))

    result = cli("deposit", report["accountId"], "DOGE", "5")

    assert result.exit_code == 1
    assert "Invalid asset" in result.output


@pytest.mark.parametrize("quantity", ["-5", "abc", "0", "NaN", ""])
def test_deposit_of_a_quantity_that_is_not_positive_is_a_usage_error(runner, db_url, quantity):
    report = created(
        runner.invoke(main, ["accounts", "create", "--db", db_url, "--balance", "USDT=1", "--json"])
    )

    result = runner.invoke(
        main, ["accounts", "deposit", "--db", db_url, "--", report["accountId"], "USDT", quantity]
    )

    assert result.exit_code == 2
    assert "QUANTITY" in result.output
    listed = created(runner.invoke(main, ["accounts", "list", "--db", db_url, "--json"]))
    assert main_balances(listed[0]) == {"USDT": "1"}


def test_deposit_of_a_negative_quantity_without_separator_is_a_usage_error(cli):
    report = created(cli("create", "--json"))

    result = cli("deposit", report["accountId"], "USDT", "-5")

    assert result.exit_code == 2


# ---------------------------------------------------------------------------- accounts add-key


def test_add_key_prints_a_json_master_key(cli):
    report = created(cli("create", "--json"))

    key = created(cli("add-key", report["accountId"]))

    assert key == {
        "apiKey": key["apiKey"],
        "secretKey": key["secretKey"],
        "accountId": report["accountId"],
        "userId": report["userId"],
        "keyType": "master",
        "permissions": ["read", "trade", "withdraw"],
        "ips": [],
    }
    assert len(key["apiKey"]) == 64 and key["apiKey"] != report["apiKey"]


def test_add_key_to_a_sub_account_is_a_sub_key(cli):
    report = created(cli("create", "--sub-accounts", "1", "--json"))
    sub = report["accounts"][3]

    key = created(cli("add-key", sub["accountId"], "--permissions", "read", "--ip", "127.0.0.1"))

    assert (key["keyType"], key["accountId"], key["permissions"], key["ips"]) == (
        "sub",
        sub["accountId"],
        ["read"],
        ["127.0.0.1/32"],
    )


def test_add_key_imports_a_key_the_server_accepts(cli, db_url):
    report = created(cli("create", "--balance", "BTC=2", "--json"))
    created(cli("add-key", report["accountId"], "--api-key", DOC_KEY, "--secret", DOC_SECRET))
    app = create_app(Settings(db=db_url, admin_token="t"))
    try:
        response = app.test_client().get("/api/v1/account", **Signer(DOC_KEY, DOC_SECRET).ccxt("GET"))
    finally:
        app.extensions["hashkey_sim"].database.dispose()

    assert response.get_json() == {
        "balances": [
            {"asset": "BTC", "assetId": "BTC", "assetName": "BTC", "total": "2", "free": "2", "locked": "0"}
        ],
        "userId": report["userId"],
    }


def test_add_key_to_a_custody_account_fails(cli):
    report = created(cli("create", "--json"))

    result = cli("add-key", report["accounts"][1]["accountId"])

    assert result.exit_code == 1
    assert "Account does not exist" in result.output


# ---------------------------------------------------------------------------- create errors


@pytest.mark.parametrize("option", ["USDT", "=5", "USDT=", "USDT=abc"])
def test_create_with_a_malformed_balance_is_a_usage_error(cli, option):
    result = cli("create", "--balance", option)

    assert result.exit_code == 2
    assert "--balance" in result.output
    assert created(cli("list", "--json")) == []


def test_create_with_an_unknown_asset_fails(cli):
    result = cli("create", "--balance", "DOGE=1")

    assert result.exit_code == 1
    assert "Invalid asset" in result.output
    assert created(cli("list", "--json")) == []


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--balance", "USDT=-1"], "Illegal parameter 'balances'"),
        (["--sub-accounts", "-1"], "Illegal parameter 'subAccounts'"),
        (["--api-key", DOC_KEY], "Required field secretKey missing or invalid"),
        (["--api-key", "short", "--secret", DOC_SECRET], "Illegal parameter 'apiKey'"),
        (["--permissions", "admin"], "Illegal parameter 'permissions'"),
        (["--ip", "not-an-ip"], "Illegal parameter 'ips'"),
    ],
    ids=[
        "negative balance",
        "negative sub accounts",
        "key without secret",
        "short key",
        "bad permission",
        "bad ip",
    ],
)
def test_create_with_a_bad_option_fails_with_the_venue_message(cli, args, message):
    result = cli("create", *args)

    assert result.exit_code == 1
    assert message in result.output
    assert created(cli("list", "--json")) == []


def test_create_with_a_key_already_in_use_fails(cli):
    created(cli("create", "--api-key", DOC_KEY, "--secret", DOC_SECRET, "--json"))

    result = cli("create", "--api-key", DOC_KEY, "--secret", DOC_SECRET)

    assert result.exit_code == 1
    assert "already in use" in result.output
    assert len(created(cli("list", "--json"))) == 1


# ---------------------------------------------------------------------------- where the database comes from


def test_database_from_the_environment_when_no_db_option(runner, tmp_path):
    url = f"sqlite:///{tmp_path / 'from-env.db'}"

    report = created(runner.invoke(main, ["accounts", "create", "--json"], env={"HASHKEY_SIM_DB": url}))

    assert (tmp_path / "from-env.db").exists()
    assert not (tmp_path / "hashkey-sim.db").exists()
    assert created(runner.invoke(main, ["accounts", "list", "--json", "--db", url])) == [report]


def test_db_option_wins_over_the_environment(runner, tmp_path, db_url):
    env_url = f"sqlite:///{tmp_path / 'from-env.db'}"

    report = created(
        runner.invoke(main, ["accounts", "create", "--json", "--db", db_url], env={"HASHKEY_SIM_DB": env_url})
    )

    assert created(runner.invoke(main, ["accounts", "list", "--json", "--db", db_url])) == [report]
    assert not (tmp_path / "from-env.db").exists()


def test_database_from_a_config_file(runner, tmp_path):
    url = f"sqlite:///{tmp_path / 'from-toml.db'}"
    config = tmp_path / "sim.toml"
    config.write_text(f'db = "{url}"\n', encoding="utf-8")

    report = created(runner.invoke(main, ["accounts", "create", "--json", "--config", str(config)]))

    assert created(runner.invoke(main, ["accounts", "list", "--json", "--db", url])) == [report]


def test_database_from_a_config_file_named_by_the_environment(runner, tmp_path):
    url = f"sqlite:///{tmp_path / 'from-toml.db'}"
    config = tmp_path / "sim.toml"
    config.write_text(f'[hashkey-sim]\ndb = "{url}"\n', encoding="utf-8")

    report = created(
        runner.invoke(main, ["accounts", "create", "--json"], env={"HASHKEY_SIM_CONFIG": str(config)})
    )

    assert created(runner.invoke(main, ["accounts", "list", "--json", "--db", url])) == [report]


def test_bad_config_file_is_a_usage_error(runner, tmp_path):
    config = tmp_path / "sim.toml"
    config.write_text('bogus = "x"\n', encoding="utf-8")

    result = runner.invoke(main, ["accounts", "list", "--config", str(config)])

    assert result.exit_code == 2
    assert "bogus" in result.output


def test_default_database_is_in_the_working_directory(runner, tmp_path):
    report = created(runner.invoke(main, ["accounts", "create", "--json"]))

    assert (tmp_path / "hashkey-sim.db").exists()
    assert created(runner.invoke(main, ["accounts", "list", "--json"])) == [report]


def test_an_unusable_database_url_is_a_one_line_error(runner):
    result = runner.invoke(main, ["accounts", "list", "--db", "nonsense://nowhere"])

    assert result.exit_code == 1
    assert "cannot open database nonsense://nowhere" in result.output
    assert "Traceback" not in result.output


def test_missing_fixtures_are_a_one_line_error(runner, db_url, tmp_path):
    result = runner.invoke(
        main,
        ["accounts", "list", "--db", db_url],
        env={"HASHKEY_SIM_FIXTURES": str(tmp_path / "no-fixtures")},
    )

    assert result.exit_code == 1
    assert "cannot read fixture" in result.output
    assert "coins.json" in result.output
