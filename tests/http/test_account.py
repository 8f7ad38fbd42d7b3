"""The document's Account endpoints (Get Account Information, Query Account Type, Get API Key Type) and the
public Test Connectivity / Check Server Time."""

from __future__ import annotations

from typing import Any

import pytest
from freezegun import freeze_time

from tests.conftest import Signer, admin_headers

FROZEN_AT = "2024-05-01 12:00:00"
FROZEN_MS = 1_714_564_800_000


def account_of_type(account: dict[str, Any], account_type: int, index: int = 0) -> dict[str, Any]:
    return next(
        a for a in account["accounts"] if a["accountType"] == account_type and a["accountIndex"] == index
    )


def credit(client, account_id: str, asset: str, amount: str) -> None:
    response = client.post(
        f"/sim/v1/accounts/{account_id}/balances",
        json={"asset": asset, "amount": amount},
        headers=admin_headers(),
    )
    assert response.status_code == 200, response.get_json()


def entry(asset: str, total: str, free: str | None = None, locked: str = "0") -> dict[str, str]:
    return {
        "asset": asset,
        "assetId": asset,
        "assetName": asset,
        "total": total,
        "free": total if free is None else free,
        "locked": locked,
    }


# ---------------------------------------------------------------------------- GET /api/v1/account


def test_master_key_reads_its_balances(client, account, signer):
    response = client.get("/api/v1/account", **signer.ccxt("GET"))

    assert response.status_code == 200
    assert response.get_json() == {
        "balances": [
            {
                "asset": "BTC",
                "assetId": "BTC",
                "assetName": "BTC",
                "total": "0.5",
                "free": "0.5",
                "locked": "0",
            },
            {
                "asset": "USDT",
                "assetId": "USDT",
                "assetName": "USDT",
                "total": "1000",
                "free": "1000",
                "locked": "0",
            },
        ],
        "userId": account["userId"],
    }


def test_account_fields_come_in_the_documents_order(client, signer):
    response = client.get("/api/v1/account", **signer.ccxt("GET"))

    body = response.get_json()
    assert list(body) == ["balances", "userId"]
    assert [list(b) for b in body["balances"]] == [
        ["asset", "assetId", "assetName", "total", "free", "locked"]
    ] * 2


def test_balances_are_sorted_by_asset(client, create_account):
    created = create_account(balances={"XRP": "3", "ADA": "1", "USDC": "2", "BTC": "4"})

    response = client.get("/api/v1/account", **Signer(created["apiKey"], created["secretKey"]).ccxt("GET"))

    assert [b["asset"] for b in response.get_json()["balances"]] == ["ADA", "BTC", "USDC", "XRP"]


def test_balances_are_strings_with_every_digit(client, account, signer):
    credit(client, account["accountId"], "USDT", "0.000000000000000001")

    response = client.get("/api/v1/account", **signer.ccxt("GET"))

    usdt = response.get_json()["balances"][1]
    assert usdt == entry("USDT", "1000.000000000000000001")


def test_account_without_balances_lists_none(client, create_account):
    created = create_account()

    response = client.get("/api/v1/account", **Signer(created["apiKey"], created["secretKey"]).ccxt("GET"))

    assert response.status_code == 200
    assert response.get_json() == {"balances": [], "userId": created["userId"]}


def test_an_asset_debited_to_zero_is_still_listed(client, account, signer):
    credit(client, account["accountId"], "BTC", "-0.5")

    response = client.get("/api/v1/account", **signer.ccxt("GET"))

    assert [b["asset"] for b in response.get_json()["balances"]] == ["BTC", "USDT"]
    assert response.get_json()["balances"][0]["free"] == "0"


def test_sorted_query_signing_reads_the_same_balances(client, account, signer):
    response = client.get("/api/v1/account", **signer.sorted_query())

    assert response.status_code == 200
    assert [b["asset"] for b in response.get_json()["balances"]] == ["BTC", "USDT"]


def test_master_key_reads_its_sub_account_with_account_id(client, account, signer):
    sub = account_of_type(account, 1, 1)
    credit(client, sub["accountId"], "ETH", "2.5")

    response = client.get("/api/v1/account", **signer.ccxt("GET", accountId=sub["accountId"]))

    assert response.status_code == 200
    assert response.get_json() == {"balances": [entry("ETH", "2.5")], "userId": account["userId"]}


def test_master_key_reads_its_custody_account(client, account, signer):
    custody = account_of_type(account, 5)
    credit(client, custody["accountId"], "USDC", "7")

    response = client.get("/api/v1/account", **signer.ccxt("GET", accountId=custody["accountId"]))

    assert response.status_code == 200
    assert response.get_json() == {"balances": [entry("USDC", "7")], "userId": account["userId"]}


def test_master_key_reads_its_empty_fiat_account(client, account, signer):
    fiat = account_of_type(account, 6)

    response = client.get("/api/v1/account", **signer.ccxt("GET", accountId=fiat["accountId"]))

    assert response.status_code == 200
    assert response.get_json() == {"balances": [], "userId": account["userId"]}


def test_master_key_with_its_own_account_id(client, account, signer):
    response = client.get("/api/v1/account", **signer.ccxt("GET", accountId=account["accountId"]))

    assert response.status_code == 200
    assert [b["asset"] for b in response.get_json()["balances"]] == ["BTC", "USDT"]


def test_master_key_with_another_users_account_id_is_not_allowed(client, create_account, account, signer):
    other = create_account(balances={"USDT": "1"})

    response = client.get("/api/v1/account", **signer.ccxt("GET", accountId=other["accountId"]))

    assert response.status_code == 400
    assert response.get_json() == {"code": "0104", "msg": "accountId is not allowed"}


@pytest.mark.parametrize("account_id", ["1900000000000009999", "1", "0", "19000000000000000001"])
def test_master_key_with_a_nonexistent_account_id_is_not_allowed(client, signer, account_id):
    response = client.get("/api/v1/account", **signer.ccxt("GET", accountId=account_id))

    assert response.status_code == 400
    assert response.get_json() == {"code": "0104", "msg": "accountId is not allowed"}


@pytest.mark.parametrize("account_id", ["abc", "-1", "1.5", "190000000000000000001"])  # ids: up to 20 digits
def test_malformed_account_id_is_an_illegal_parameter(client, signer, account_id):
    response = client.get("/api/v1/account", **signer.ccxt("GET", accountId=account_id))

    assert response.status_code == 400
    assert response.get_json() == {"code": "-1130", "msg": "Illegal parameter 'accountId'"}


def test_sub_key_with_the_main_account_id_is_an_invalid_permission(client, account, sub_signer):
    response = client.get("/api/v1/account", **sub_signer.ccxt("GET", accountId=account["accountId"]))

    assert response.status_code == 400
    assert response.get_json() == {"code": "-3117", "msg": "Invalid permission"}


@pytest.mark.parametrize("target", ["custody", "other sub", "nonexistent"])
def test_sub_key_with_any_other_account_id_is_an_invalid_permission(client, create_account, target):
    created = create_account(subAccounts=2)

    first_sub = account_of_type(created, 1, 1)
    account_id = {
        "custody": account_of_type(created, 5)["accountId"],
        "other sub": account_of_type(created, 1, 2)["accountId"],
        "nonexistent": "1900000000000009999",
    }[target]

    response = client.get(
        "/api/v1/account",
        **Signer(first_sub["apiKey"], first_sub["secretKey"]).ccxt("GET", accountId=account_id),
    )

    assert response.status_code == 400
    assert response.get_json() == {"code": "-3117", "msg": "Invalid permission"}


def test_sub_key_with_its_own_account_id_reads_its_balances(client, account, sub_signer):
    sub = account_of_type(account, 1, 1)
    credit(client, sub["accountId"], "SOL", "12")

    response = client.get("/api/v1/account", **sub_signer.ccxt("GET", accountId=sub["accountId"]))

    assert response.status_code == 200
    assert response.get_json() == {"balances": [entry("SOL", "12")], "userId": account["userId"]}


def test_sub_key_without_account_id_reads_its_own_balances(client, account, sub_signer):
    sub = account_of_type(account, 1, 1)
    credit(client, sub["accountId"], "SOL", "12")

    response = client.get("/api/v1/account", **sub_signer.ccxt("GET"))

    assert response.status_code == 200
    assert response.get_json() == {"balances": [entry("SOL", "12")], "userId": account["userId"]}


# ---------------------------------------------------------------------------- checkApiKey


def test_check_api_key_of_a_master_key(client, signer):
    response = client.get("/api/v1/account/checkApiKey", **signer.ccxt("GET"))

    assert response.status_code == 200
    assert response.get_json() == {"accountType": "Master Account"}


def test_check_api_key_of_a_sub_key(client, sub_signer):
    response = client.get("/api/v1/account/checkApiKey", **sub_signer.ccxt("GET"))

    assert response.status_code == 200
    assert response.get_json() == {"accountType": "Sub Account"}


# ---------------------------------------------------------------------------- account/type

TYPE_KEYS = ["accountId", "accountLabel", "accountType", "accountIndex", "userId"]


def test_account_type_for_a_master_key_lists_every_account(client, account, signer):
    response = client.get("/api/v1/account/type", **signer.ccxt("GET"))

    assert response.status_code == 200
    user = account["userId"]
    assert response.get_json() == [
        {
            "accountId": account["accountId"],
            "accountLabel": "Main Trading Account",
            "accountType": 1,
            "accountIndex": 0,
            "userId": user,
        },
        {
            "accountId": account_of_type(account, 5)["accountId"],
            "accountLabel": "Custody Account",
            "accountType": 5,
            "accountIndex": 0,
            "userId": user,
        },
        {
            "accountId": account_of_type(account, 6)["accountId"],
            "accountLabel": "Fiat Account",
            "accountType": 6,
            "accountIndex": 0,
            "userId": user,
        },
        {
            "accountId": account_of_type(account, 1, 1)["accountId"],
            "accountLabel": "Sub Main Trading Account",
            "accountType": 1,
            "accountIndex": 1,
            "userId": user,
        },
    ]


def test_account_type_entries_have_exactly_the_documents_fields_and_types(client, signer):
    response = client.get("/api/v1/account/type", **signer.ccxt("GET"))

    for item in response.get_json():
        assert list(item) == TYPE_KEYS
        assert (
            isinstance(item["accountId"], str)
            and len(item["accountId"]) == 19
            and item["accountId"].isdigit()
        )
        assert isinstance(item["userId"], str) and len(item["userId"]) == 19 and item["userId"].isdigit()
        assert type(item["accountType"]) is int and type(item["accountIndex"]) is int


def test_account_type_for_a_sub_key_lists_only_its_account(client, account, sub_signer):
    response = client.get("/api/v1/account/type", **sub_signer.ccxt("GET"))

    assert response.status_code == 200
    assert response.get_json() == [
        {
            "accountId": account_of_type(account, 1, 1)["accountId"],
            "accountLabel": "Sub Main Trading Account",
            "accountType": 1,
            "accountIndex": 1,
            "userId": account["userId"],
        },
    ]


def test_account_type_does_not_list_other_users_accounts(client, create_account, account, signer):
    create_account(subAccounts=1)

    response = client.get("/api/v1/account/type", **signer.ccxt("GET"))

    assert {item["userId"] for item in response.get_json()} == {account["userId"]}
    assert len(response.get_json()) == 4


# ---------------------------------------------------------------------------- ping and time


def test_ping_answers_an_empty_object(client):
    response = client.get("/api/v1/ping")

    assert response.status_code == 200
    assert response.get_json() == {}


def test_server_time_is_the_wall_clock_in_live_mode(client):
    with freeze_time(FROZEN_AT):
        response = client.get("/api/v1/time")

    assert response.status_code == 200
    assert response.get_json() == {"serverTime": FROZEN_MS}
    assert type(response.get_json()["serverTime"]) is int


def test_ping_and_time_need_no_key(client):
    responses = [client.get("/api/v1/ping"), client.get("/api/v1/time")]

    assert [r.status_code for r in responses] == [200, 200]
