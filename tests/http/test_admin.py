"""The simulator's control plane under /sim/v1/: the admin token, accounts, balances, keys and the clock."""

from __future__ import annotations

import datetime
import time
from decimal import Decimal
from typing import Any

import pytest
from freezegun import freeze_time
from sqlalchemy import select

from simulator.domain.accounts import FlowType
from simulator.domain.clock import LAST_MARKET_MS
from simulator.marketdata.records import Trade
from simulator.marketdata.writer import StoreWriter, source_id
from simulator.storage.tables import LedgerEntry
from tests.conftest import ADMIN_TOKEN, Signer, admin_headers, now_ms
from tests.http.test_auth import frozen_at

UNAUTHORIZED = {"code": "-1002", "msg": "Unauthorized operation: missing or wrong X-SIM-ADMIN-TOKEN"}
FROZEN_AT = "2024-05-01 12:00:00"
FROZEN_MS = 1_714_564_800_000
REPLAY_START_MS = 1_700_000_000_000

KEY_64 = "A" * 32 + "b" * 16 + "0123456789abcdef"
SECRET_64 = "Z" * 32 + "y" * 16 + "fedcba9876543210"


# ---------------------------------------------------------------------------- helpers


def users(client) -> list[dict[str, Any]]:
    response = client.get("/sim/v1/accounts", headers=admin_headers())
    assert response.status_code == 200
    return response.get_json()["users"]


def main_of(account: dict[str, Any]) -> dict[str, Any]:
    return next(a for a in account["accounts"] if a["accountType"] == 1 and a["accountIndex"] == 0)


def account_of_type(account: dict[str, Any], account_type: int, index: int = 0) -> dict[str, Any]:
    return next(
        a for a in account["accounts"] if a["accountType"] == account_type and a["accountIndex"] == index
    )


def post_balance(client, account_id: str, **body: Any):
    return client.post(f"/sim/v1/accounts/{account_id}/balances", json=body, headers=admin_headers())


def ledger(app, account_id: str, asset: str) -> list[LedgerEntry]:
    with app.extensions["hashkey_sim"].database.read() as session:
        statement = (
            select(LedgerEntry)
            .where(LedgerEntry.account_id == account_id, LedgerEntry.asset == asset)
            .order_by(LedgerEntry.id)
        )
        return list(session.scalars(statement))


def set_clock(client, **body: Any):
    return client.post("/sim/v1/clock", json=body, headers=admin_headers())


def get_clock(client) -> dict[str, Any]:
    response = client.get("/sim/v1/clock", headers=admin_headers())
    assert response.status_code == 200
    return response.get_json()


def server_time(client) -> int:
    response = client.get("/api/v1/time")
    assert response.status_code == 200
    return response.get_json()["serverTime"]


# ---------------------------------------------------------------------------- the admin token

ADMIN_ROUTES = [
    ("GET", "/sim/v1/clock", None),
    ("POST", "/sim/v1/clock", {"mode": "replay", "time": REPLAY_START_MS, "speed": 0}),
    ("POST", "/sim/v1/accounts", {"balances": {"USDT": "1"}}),
    ("GET", "/sim/v1/accounts", None),
    ("POST", "/sim/v1/accounts/{main}/balances", {"asset": "USDT", "amount": "1"}),
    ("POST", "/sim/v1/accounts/{main}/apiKeys", {}),
]
ROUTE_IDS = [f"{method} {path}" for method, path, _ in ADMIN_ROUTES]


def _bad_headers(kind: str, account: dict[str, Any]) -> dict[str, str]:
    return {
        "missing": {},
        "wrong": {"X-SIM-ADMIN-TOKEN": ADMIN_TOKEN + "x"},
        "empty": {"X-SIM-ADMIN-TOKEN": ""},
        "trading key": {"X-HK-APIKEY": account["apiKey"]},
        "trading key as token": {"X-SIM-ADMIN-TOKEN": account["apiKey"]},
    }[kind]


@pytest.mark.parametrize("kind", ["missing", "wrong", "empty", "trading key", "trading key as token"])
@pytest.mark.parametrize(("method", "path", "body"), ADMIN_ROUTES, ids=ROUTE_IDS)
def test_admin_route_without_the_token_is_unauthorized(client, account, kind, method, path, body):
    url = path.format(main=account["accountId"])

    response = client.open(url, method=method, json=body, headers=_bad_headers(kind, account))

    assert response.status_code == 401
    assert response.get_json() == UNAUTHORIZED


@pytest.mark.parametrize(
    ("method", "path", "body"),
    [r for r in ADMIN_ROUTES if r[0] == "POST"],
    ids=[i for i, r in zip(ROUTE_IDS, ADMIN_ROUTES, strict=True) if r[0] == "POST"],
)
def test_unauthorized_admin_post_writes_nothing(client, account, method, path, body):
    before_users, before_clock = users(client), get_clock(client)
    url = path.format(main=account["accountId"])

    response = client.open(url, method=method, json=body, headers={"X-SIM-ADMIN-TOKEN": "wrong"})

    assert response.status_code == 401
    assert users(client) == before_users
    assert get_clock(client)["mode"] == before_clock["mode"] == "live"


def test_unauthorized_account_creation_on_an_empty_simulator_creates_no_user(client):
    response = client.post("/sim/v1/accounts", json={"balances": {"USDT": "1"}})

    assert response.status_code == 401
    assert users(client) == []


# ---------------------------------------------------------------------------- POST /sim/v1/accounts


def test_create_account_answers_201_with_user_keys_and_accounts(client):
    response = client.post(
        "/sim/v1/accounts",
        json={"balances": {"USDT": "1000", "BTC": "0.5"}, "subAccounts": 1},
        headers=admin_headers(),
    )

    assert response.status_code == 201
    body = response.get_json()
    assert list(body) == ["userId", "accountId", "apiKey", "secretKey", "permissions", "ips", "accounts"]
    assert len(body["apiKey"]) == 64 and body["apiKey"].isalnum()
    assert len(body["secretKey"]) == 64 and body["secretKey"].isalnum()
    assert body["apiKey"] != body["secretKey"]
    assert body["permissions"] == ["read", "trade", "withdraw"]
    assert body["ips"] == []


def test_create_account_lists_main_custody_fiat_and_sub_accounts(create_account):
    created = create_account(balances={"USDT": "1000", "BTC": "0.5"}, subAccounts=1)

    main, custody, fiat, sub = created["accounts"]
    user_id = created["userId"]
    assert main == {
        "accountId": created["accountId"],
        "accountLabel": "Main Trading Account",
        "accountType": 1,
        "accountIndex": 0,
        "userId": user_id,
        "apiKey": created["apiKey"],
        "secretKey": created["secretKey"],
        "keyType": "master",
        "balances": {"BTC": "0.5", "USDT": "1000"},
    }
    assert custody == {
        "accountId": custody["accountId"],
        "accountLabel": "Custody Account",
        "accountType": 5,
        "accountIndex": 0,
        "userId": user_id,
        "balances": {},
    }
    assert fiat == {
        "accountId": fiat["accountId"],
        "accountLabel": "Fiat Account",
        "accountType": 6,
        "accountIndex": 0,
        "userId": user_id,
        "balances": {},
    }
    assert sub == {
        "accountId": sub["accountId"],
        "accountLabel": "Sub Main Trading Account",
        "accountType": 1,
        "accountIndex": 1,
        "userId": user_id,
        "apiKey": sub["apiKey"],
        "secretKey": sub["secretKey"],
        "keyType": "sub",
        "balances": {},
    }
    assert len(sub["apiKey"]) == 64 and len(sub["secretKey"]) == 64
    assert sub["apiKey"] != created["apiKey"]


def test_create_account_ids_are_distinct_19_digit_numeric_strings(create_account):
    created = create_account(subAccounts=2)

    ids = [created["userId"]] + [a["accountId"] for a in created["accounts"]]
    assert all(isinstance(i, str) and len(i) == 19 and i.isdigit() for i in ids)
    assert len(set(ids)) == len(ids)


@pytest.mark.parametrize("count", [0, 1, 3, 200])  # 200: the most (`subAccounts 201` is refused)
def test_create_account_adds_the_requested_number_of_sub_accounts(create_account, count):
    created = create_account(subAccounts=count)

    subs = [a for a in created["accounts"] if a["accountType"] == 1 and a["accountIndex"] > 0]
    assert [a["accountIndex"] for a in subs] == list(range(1, count + 1))
    assert all(a["keyType"] == "sub" for a in subs)
    assert len(created["accounts"]) == 3 + count


@pytest.mark.parametrize(
    ("api_key", "secret"), [(KEY_64, SECRET_64), ("k" * 16, "s" * 16)], ids=["64 characters", "16, the least"]
)
def test_create_account_imports_the_given_key_and_secret(create_account, api_key, secret):
    created = create_account(apiKey=api_key, secretKey=secret)

    assert (created["apiKey"], created["secretKey"]) == (api_key, secret)
    assert (main_of(created)["apiKey"], main_of(created)["secretKey"]) == (api_key, secret)


def test_imported_key_authenticates_requests(client, create_account):
    create_account(apiKey=KEY_64, secretKey=SECRET_64, balances={"ETH": "2"})

    response = client.get("/api/v1/account", **Signer(KEY_64, SECRET_64).ccxt("GET"))

    assert response.status_code == 200
    assert [b["asset"] for b in response.get_json()["balances"]] == ["ETH"]


def test_create_account_with_permissions_and_ips(create_account):
    created = create_account(permissions="read,trade", ips=["10.0.0.1", "192.168.0.0/24"], subAccounts=1)

    assert created["permissions"] == ["read", "trade"]
    assert created["ips"] == ["10.0.0.1/32", "192.168.0.0/24"]


def test_create_account_permissions_always_include_read(create_account):
    created = create_account(permissions=["trade"])

    assert created["permissions"] == ["read", "trade"]


def test_create_account_with_empty_body_gives_a_bare_user(client):
    response = client.post("/sim/v1/accounts", headers=admin_headers())

    assert response.status_code == 201
    body = response.get_json()
    assert [(a["accountType"], a["accountIndex"]) for a in body["accounts"]] == [(1, 0), (5, 0), (6, 0)]
    assert all(a["balances"] == {} for a in body["accounts"])


def test_create_account_zero_opening_balance_creates_no_balance(create_account):
    created = create_account(balances={"USDT": "0", "BTC": "1"})

    assert main_of(created)["balances"] == {"BTC": "1"}


def test_create_account_balance_assets_are_case_insensitive(create_account):
    created = create_account(balances={"usdt": "12.5"})

    assert main_of(created)["balances"] == {"USDT": "12.5"}


def test_created_accounts_are_listed(client, create_account):
    first = create_account(balances={"USDT": "1"})
    second = create_account(subAccounts=1)

    assert users(client) == [first, second]


def _illegal(name: str) -> dict[str, str]:
    return {"code": "-1130", "msg": f"Illegal parameter '{name}'"}


def _illegal_key(name: str) -> dict[str, str]:
    """An imported key's text: the admin API says what it must be."""
    return {"code": "-1130", "msg": f"Illegal parameter '{name}': 16 to 64 ASCII letters and digits"}


BAD_CREATE_BODIES = [
    ("balances unknown asset", {"balances": {"DOGE": "1"}}, {"code": "-4001", "msg": "Invalid asset"}),
    ("balances negative", {"balances": {"USDT": "-1"}}, _illegal("balances")),
    ("balances non-numeric", {"balances": {"USDT": "abc"}}, _illegal("balances")),
    ("balances two dots", {"balances": {"USDT": "1.2.3"}}, _illegal("balances")),
    ("balances NaN", {"balances": {"USDT": "NaN"}}, _illegal("balances")),
    ("balances Infinity", {"balances": {"USDT": "Infinity"}}, _illegal("balances")),
    ("balances huge exponent", {"balances": {"USDT": "1e999"}}, _illegal("balances")),
    ("balances trailing garbage", {"balances": {"USDT": "1.5x"}}, _illegal("balances")),
    ("balances bool", {"balances": {"USDT": True}}, _illegal("balances")),
    ("balances as a list", {"balances": ["USDT"]}, _illegal("balances")),
    ("subAccounts -1", {"subAccounts": -1}, _illegal("subAccounts")),
    ("subAccounts string", {"subAccounts": "2"}, _illegal("subAccounts")),
    ("subAccounts true", {"subAccounts": True}, _illegal("subAccounts")),
    ("subAccounts 201", {"subAccounts": 201}, _illegal("subAccounts")),
    ("subAccounts float", {"subAccounts": 1.5}, _illegal("subAccounts")),
    (
        "apiKey without secretKey",
        {"apiKey": KEY_64},
        {"code": "0001", "msg": "Required field secretKey missing or invalid"},
    ),
    (
        "secretKey without apiKey",
        {"secretKey": SECRET_64},
        {"code": "0001", "msg": "Required field apiKey missing or invalid"},
    ),
    ("apiKey too short", {"apiKey": "a" * 15, "secretKey": SECRET_64}, _illegal_key("apiKey")),
    ("apiKey too long", {"apiKey": "a" * 65, "secretKey": SECRET_64}, _illegal_key("apiKey")),
    (
        "apiKey with symbols",
        {"apiKey": "abc-def_ghi!jklmnop", "secretKey": SECRET_64},
        _illegal_key("apiKey"),
    ),
    ("secretKey with symbols", {"apiKey": KEY_64, "secretKey": "s" * 20 + "+/="}, _illegal_key("secretKey")),
    ("apiKey not a string", {"apiKey": 1234567890123456789, "secretKey": SECRET_64}, _illegal("apiKey")),
    ("permissions admin", {"permissions": "admin"}, _illegal("permissions")),
    ("permissions empty", {"permissions": ""}, _illegal("permissions")),
    ("permissions number", {"permissions": 7}, _illegal("permissions")),
    ("permissions a number in the list", {"permissions": ["read", 1]}, _illegal("permissions")),
    ("ips not an ip", {"ips": ["not-an-ip"]}, _illegal("ips")),
    ("ips a string", {"ips": "10.0.0.1"}, _illegal("ips")),
    ("ips a number in the list", {"ips": ["10.0.0.1", 1]}, _illegal("ips")),
]


@pytest.mark.parametrize(
    ("body", "error"),
    [(b, e) for _, b, e in BAD_CREATE_BODIES],
    ids=[name for name, _, _ in BAD_CREATE_BODIES],
)
def test_create_account_rejects_a_bad_body_and_creates_nothing(client, body, error):
    response = client.post("/sim/v1/accounts", json=body, headers=admin_headers())

    assert response.status_code == 400
    assert response.get_json() == error
    assert users(client) == []


@pytest.mark.parametrize(
    ("data", "error"),
    [
        ("{not json", {"code": "-1004", "msg": "Bad request: the body is not valid JSON"}),
        ('{"balances": NaN}', {"code": "-1004", "msg": "Bad request: the body is not valid JSON"}),
        ("[1, 2]", {"code": "-1004", "msg": "Bad request: the body must be a JSON object"}),
        ('"text"', {"code": "-1004", "msg": "Bad request: the body must be a JSON object"}),
    ],
    ids=["not json", "NaN constant", "array", "string"],
)
def test_create_account_rejects_a_body_that_is_not_a_json_object(client, data, error):
    response = client.post(
        "/sim/v1/accounts", data=data, content_type="application/json", headers=admin_headers()
    )

    assert response.status_code == 400
    assert response.get_json() == error
    assert users(client) == []


def test_create_account_rejects_an_api_key_already_in_use(client, create_account):
    first = create_account(apiKey=KEY_64, secretKey=SECRET_64)

    response = client.post(
        "/sim/v1/accounts", json={"apiKey": KEY_64, "secretKey": SECRET_64}, headers=admin_headers()
    )

    assert response.status_code == 400
    assert response.get_json() == {
        "code": "-1130",
        "msg": "Illegal parameter 'apiKey': that API key is already in use",
    }
    assert users(client) == [first]


def test_same_creations_on_two_fresh_apps_give_the_same_ids(make_app, tmp_path):
    def ids_after_creations(app) -> list[str]:
        client = app.test_client()
        seen = []
        for body in ({"balances": {"USDT": "1"}, "subAccounts": 2}, {}, {"subAccounts": 1}):
            created = client.post("/sim/v1/accounts", json=body, headers=admin_headers()).get_json()
            seen += [created["userId"]] + [a["accountId"] for a in created["accounts"]]
        return seen

    first = ids_after_creations(make_app(db=f"sqlite:///{tmp_path / 'first.db'}"))
    second = ids_after_creations(make_app(db=f"sqlite:///{tmp_path / 'second.db'}"))

    assert first == second
    assert len(set(first)) == len(first) == 3 + 5 + 3 + 4


# ---------------------------------------------------------------------------- POST .../balances


def test_credit_adds_to_the_balance(client, account):
    response = post_balance(client, account["accountId"], asset="USDT", amount="5")

    assert response.status_code == 200
    assert response.get_json() == {
        "accountId": account["accountId"],
        "asset": "USDT",
        "free": "1005",
        "locked": "0",
        "total": "1005",
    }


def test_credit_of_a_new_asset_creates_the_balance(client, account):
    response = post_balance(client, account["accountId"], asset="ETH", amount="3")

    assert response.status_code == 200
    assert response.get_json()["total"] == "3"
    assert main_of(users(client)[0])["balances"] == {"BTC": "0.5", "ETH": "3", "USDT": "1000"}


def test_asset_is_case_insensitive(client, account):
    response = post_balance(client, account["accountId"], asset="usdt", amount="1")

    assert response.status_code == 200
    assert response.get_json()["asset"] == "USDT"
    assert response.get_json()["total"] == "1001"


def test_debit_with_a_negative_amount(client, account):
    response = post_balance(client, account["accountId"], asset="USDT", amount="-250.25")

    assert response.status_code == 200
    assert response.get_json()["free"] == "749.75"
    assert response.get_json()["total"] == "749.75"


def test_debit_to_exactly_zero(client, account):
    response = post_balance(client, account["accountId"], asset="BTC", amount="-0.5")

    assert response.status_code == 200
    assert response.get_json()["total"] == "0"  # not "0.0": amounts leave without trailing zeros


def test_debit_below_zero_is_insufficient_and_leaves_the_balance(client, app, account):
    response = post_balance(client, account["accountId"], asset="USDT", amount="-1000.000001")

    assert response.status_code == 400
    assert response.get_json() == {"code": "0401", "msg": "Insufficient asset"}
    assert main_of(users(client)[0])["balances"] == {"BTC": "0.5", "USDT": "1000"}
    assert len(ledger(app, account["accountId"], "USDT")) == 1


def test_debit_of_an_asset_never_held_is_insufficient(client, account):
    response = post_balance(client, account["accountId"], asset="ETH", amount="-1")

    assert response.status_code == 400
    assert response.get_json() == {"code": "0401", "msg": "Insufficient asset"}
    assert "ETH" not in main_of(users(client)[0])["balances"]


def test_credit_to_a_sub_account(client, account):
    sub = account_of_type(account, 1, 1)

    response = post_balance(client, sub["accountId"], asset="USDC", amount="42")

    assert response.status_code == 200
    assert account_of_type(users(client)[0], 1, 1)["balances"] == {"USDC": "42"}


def test_credit_to_a_custody_account(client, account):
    custody = account_of_type(account, 5)

    response = post_balance(client, custody["accountId"], asset="USD", amount="7")

    assert response.status_code == 200
    assert account_of_type(users(client)[0], 5)["balances"] == {"USD": "7"}


@pytest.mark.parametrize(
    ("account_id", "body", "error"),
    [
        (
            "1900000000000009999",
            {"asset": "USDT", "amount": "1"},
            {"code": "-1160", "msg": "Account does not exist"},
        ),
        ("nope", {"asset": "USDT", "amount": "1"}, {"code": "-1160", "msg": "Account does not exist"}),
        ("{main}", {"asset": "DOGE", "amount": "1"}, {"code": "-4001", "msg": "Invalid asset"}),
        ("{main}", {"asset": "USDT", "amount": "0"}, {"code": "-1130", "msg": "Illegal parameter 'amount'"}),
        ("{main}", {"asset": "USDT", "amount": "-0"}, {"code": "-1130", "msg": "Illegal parameter 'amount'"}),
        ("{main}", {"asset": "USDT", "amount": 0}, {"code": "-1130", "msg": "Illegal parameter 'amount'"}),
        (
            "{main}",
            {"asset": "USDT", "amount": "abc"},
            {"code": "-1130", "msg": "Illegal parameter 'amount'"},
        ),
        ("{main}", {"asset": "USDT", "amount": True}, {"code": "-1130", "msg": "Illegal parameter 'amount'"}),
        ("{main}", {"asset": "USDT"}, {"code": "0001", "msg": "Required field amount missing or invalid"}),
        ("{main}", {"amount": "1"}, {"code": "0001", "msg": "Required field asset missing or invalid"}),
        (
            "{main}",
            {"asset": "", "amount": "1"},
            {"code": "0001", "msg": "Required field asset missing or invalid"},
        ),
        (
            "{main}",
            {"asset": 5, "amount": "1"},
            {"code": "0001", "msg": "Required field asset missing or invalid"},
        ),
    ],
    ids=[
        "unknown account",
        "non-numeric account",
        "unknown asset",
        "amount 0",
        "amount -0",
        "amount number 0",
        "amount not a number",
        "amount bool",
        "amount missing",
        "asset missing",
        "asset empty",
        "asset number",
    ],
)
def test_bad_balance_change_is_rejected_and_changes_nothing(client, app, account, account_id, body, error):
    before = users(client)

    response = post_balance(client, account_id.format(main=account["accountId"]), **body)

    assert response.status_code == 400
    assert response.get_json() == error
    assert users(client) == before
    assert len(ledger(app, account["accountId"], "USDT")) == 1


@pytest.mark.parametrize(
    "amount", ["9" * 5000, "1e1000000000000000000"], ids=["5000 digits", "exponent 10^18"]
)
def test_a_json_number_no_decimal_takes_is_refused_as_the_amount_not_as_the_body(client, account, amount):
    """Python converts no more than 4,300 digits to an int, and no Decimal holds an exponent of 10^18: such
    a number still reaches the amount's own check."""
    response = client.post(
        f"/sim/v1/accounts/{account['accountId']}/balances",
        data=f'{{"asset": "USDT", "amount": {amount}}}',
        content_type="application/json",
        headers=admin_headers(),
    )

    assert (response.status_code, response.get_json()) == (
        400,
        {"code": "-1130", "msg": "Illegal parameter 'amount'"},
    )


def test_amount_as_a_json_number_is_exact(client, account):
    response = post_balance(client, account["accountId"], asset="USDC", amount=10.5)

    assert response.status_code == 200
    assert response.get_json()["total"] == "10.5"


def test_amount_as_a_json_integer(client, account):
    response = post_balance(client, account["accountId"], asset="USDT", amount=-1000)

    assert response.status_code == 200
    assert response.get_json()["total"] == "0"


def test_very_precise_amount_is_kept_exactly(client, account):
    post_balance(client, account["accountId"], asset="USDC", amount="0.000000000000000001")

    response = post_balance(client, account["accountId"], asset="USDT", amount="0.000000000000000001")

    assert response.get_json()["total"] == "1000.000000000000000001"
    assert main_of(users(client)[0])["balances"]["USDC"] == "0.000000000000000001"


def test_each_balance_change_writes_one_ledger_entry(client, app, account):
    main_id = account["accountId"]

    post_balance(client, main_id, asset="USDT", amount="5")
    post_balance(client, main_id, asset="USDT", amount="-3.5")
    post_balance(client, main_id, asset="USDT", amount="-5000")  # refused: no entry

    entries = ledger(app, main_id, "USDT")
    assert [(e.flow_type, e.change, e.total) for e in entries] == [
        (900, Decimal("1000"), Decimal("1000")),  # the opening balance
        (900, Decimal("5"), Decimal("1005")),
        (904, Decimal("-3.5"), Decimal("1001.5")),
    ]


def test_ledger_total_equals_the_balance_after_each_change(client, app, account):
    main_id = account["accountId"]
    totals = []

    for amount in ("0.1", "-0.2", "10.5", "-0.000000000000000001"):
        totals.append(post_balance(client, main_id, asset="BTC", amount=amount).get_json()["total"])

    entries = ledger(app, main_id, "BTC")
    assert [str(e.total) for e in entries[1:]] == totals


def test_ledger_changes_sum_to_the_balance(client, app, account):
    main_id = account["accountId"]
    for amount in ("7", "-2.25", "0.000000000000000001", "-100"):
        post_balance(client, main_id, asset="USDT", amount=amount)

    entries = ledger(app, main_id, "USDT")

    assert sum((e.change for e in entries), Decimal(0)) == Decimal("904.750000000000000001")
    assert main_of(users(client)[0])["balances"]["USDT"] == "904.750000000000000001"


def test_an_admin_credit_is_a_deposit_and_a_debit_a_withdrawal_in_the_ledger(client, app, account):
    for amount in ("0.5", "-0.5", "7", "-2"):
        post_balance(client, account["accountId"], asset="ETH", amount=amount)

    entries = ledger(app, account["accountId"], "ETH")

    assert [(str(e.change), e.flow_type) for e in entries] == [
        ("0.5", FlowType.CUSTODY_DEPOSIT),
        ("-0.5", FlowType.CUSTODY_WITHDRAW),
        ("7", FlowType.CUSTODY_DEPOSIT),
        ("-2", FlowType.CUSTODY_WITHDRAW),
    ]


def test_ledger_entries_of_admin_changes_are_remarked_and_time_stamped(client, app, account):
    with freeze_time(FROZEN_AT):
        post_balance(client, account["accountId"], asset="ETH", amount="1")

    (entry,) = ledger(app, account["accountId"], "ETH")
    assert entry.created_ms == FROZEN_MS
    assert entry.remark == "sim admin balance change"
    assert len(entry.id) == 19 and entry.id.isdigit()


# ---------------------------------------------------------------------------- POST .../apiKeys


def test_new_master_key_for_the_main_account_reads_it(client, account):
    response = client.post(
        f"/sim/v1/accounts/{account['accountId']}/apiKeys", json={}, headers=admin_headers()
    )

    assert response.status_code == 201
    key = response.get_json()
    assert key == {
        "apiKey": key["apiKey"],
        "secretKey": key["secretKey"],
        "accountId": account["accountId"],
        "userId": account["userId"],
        "keyType": "master",
        "permissions": ["read", "trade", "withdraw"],
        "ips": [],
    }
    assert key["apiKey"] != account["apiKey"] and len(key["apiKey"]) == 64
    read = client.get("/api/v1/account", **Signer(key["apiKey"], key["secretKey"]).ccxt("GET"))
    assert read.status_code == 200
    assert [(b["asset"], b["total"]) for b in read.get_json()["balances"]] == [
        ("BTC", "0.5"),
        ("USDT", "1000"),
    ]


def test_the_account_list_still_shows_the_keys_the_accounts_were_made_with(client, account):
    """A key added later answers for itself (above); the list, as POST /sim/v1/accounts answered it."""
    with frozen_at(now_ms() + 60_000):  # made after the account's own keys
        added = client.post(
            f"/sim/v1/accounts/{account['accountId']}/apiKeys",
            json={"permissions": "read"},
            headers=admin_headers(),
        )
    assert added.status_code == 201

    (listed,) = client.get("/sim/v1/accounts", headers=admin_headers()).get_json()["users"]

    assert (listed["apiKey"], listed["permissions"]) == (account["apiKey"], account["permissions"])
    assert listed["accounts"] == account["accounts"]


def test_new_key_for_a_sub_account_is_a_sub_key(client, account):
    sub = account_of_type(account, 1, 1)

    response = client.post(f"/sim/v1/accounts/{sub['accountId']}/apiKeys", json={}, headers=admin_headers())

    assert response.status_code == 201
    key = response.get_json()
    assert (key["keyType"], key["accountId"]) == ("sub", sub["accountId"])
    check = client.get("/api/v1/account/checkApiKey", **Signer(key["apiKey"], key["secretKey"]).ccxt("GET"))
    assert check.get_json() == {"accountType": "Sub Account"}


def test_new_key_can_be_imported_with_permissions_and_ips(client, account):
    body = {"apiKey": KEY_64, "secretKey": SECRET_64, "permissions": "read", "ips": ["127.0.0.1"]}

    response = client.post(
        f"/sim/v1/accounts/{account['accountId']}/apiKeys", json=body, headers=admin_headers()
    )

    assert response.status_code == 201
    key = response.get_json()
    assert (key["apiKey"], key["secretKey"], key["permissions"], key["ips"]) == (
        KEY_64,
        SECRET_64,
        ["read"],
        ["127.0.0.1/32"],
    )


@pytest.mark.parametrize("target", ["unknown", "custody", "fiat"])
def test_new_key_for_an_unknown_or_non_trading_account_is_refused(client, account, target):
    account_id = {
        "unknown": "1900000000000009999",
        "custody": account_of_type(account, 5)["accountId"],
        "fiat": account_of_type(account, 6)["accountId"],
    }[target]

    response = client.post(f"/sim/v1/accounts/{account_id}/apiKeys", json={}, headers=admin_headers())

    assert response.status_code == 400
    assert response.get_json() == {"code": "-1160", "msg": "Account does not exist"}


def test_new_key_rejects_a_key_already_in_use(client, account):
    body = {"apiKey": account["apiKey"], "secretKey": SECRET_64}

    response = client.post(
        f"/sim/v1/accounts/{account['accountId']}/apiKeys", json=body, headers=admin_headers()
    )

    assert response.status_code == 400
    assert response.get_json() == {
        "code": "-1130",
        "msg": "Illegal parameter 'apiKey': that API key is already in use",
    }


# ---------------------------------------------------------------------------- the clock


def test_clock_is_live_by_default(client):
    body = get_clock(client)

    assert body["mode"] == "live"
    assert body["speed"] == 1 and isinstance(body["speed"], int)
    assert abs(body["time"] - int(time.time() * 1000)) < 5000


def test_live_clock_reads_the_wall_clock(client):
    with freeze_time(FROZEN_AT):
        body = get_clock(client)

    assert body == {"mode": "live", "time": FROZEN_MS, "speed": 1}


def test_replay_at_speed_zero_stops_the_market_clock(client):
    with freeze_time(FROZEN_AT) as frozen:
        response = set_clock(client, mode="replay", time=REPLAY_START_MS, speed=0)
        frozen.tick(datetime.timedelta(seconds=10))
        later = server_time(client)

    assert response.status_code == 200
    assert response.get_json() == {"mode": "replay", "time": REPLAY_START_MS, "speed": 0}
    assert later == REPLAY_START_MS


def test_replay_time_is_what_api_time_answers(client):
    set_clock(client, mode="replay", time=REPLAY_START_MS, speed=0)

    assert server_time(client) == REPLAY_START_MS
    assert get_clock(client) == {"mode": "replay", "time": REPLAY_START_MS, "speed": 0}


def test_advance_moves_a_replay_clock_by_exactly_that_much(client):
    set_clock(client, mode="replay", time=REPLAY_START_MS, speed=0)

    response = set_clock(client, advanceMs=1500)

    assert response.status_code == 200
    assert response.get_json() == {"mode": "replay", "time": REPLAY_START_MS + 1500, "speed": 0}
    assert server_time(client) == REPLAY_START_MS + 1500


def test_advance_zero_leaves_the_clock(client):
    set_clock(client, mode="replay", time=REPLAY_START_MS, speed=0)

    response = set_clock(client, advanceMs=0)

    assert response.get_json()["time"] == REPLAY_START_MS


@pytest.mark.parametrize("advance", [{"advanceMs": 1500}, {"advanceTo": "nextEvent"}])
def test_advance_on_a_live_clock_is_unsupported(client, advance):
    response = set_clock(client, **advance)

    assert response.status_code == 400
    assert response.get_json() == {
        "code": "-1020",
        "msg": "Unsupported operation: a live clock follows the wall clock and cannot be advanced",
    }
    assert get_clock(client)["mode"] == "live"


@pytest.mark.parametrize("advance", [2**63, 10**30, 253_402_300_800_000])
def test_an_advance_past_the_year_9999_is_unsupported_and_changes_nothing(client, advance):
    set_clock(client, mode="replay", time=REPLAY_START_MS, speed=0)

    response = set_clock(client, advanceMs=advance)

    assert (response.status_code, response.get_json()) == (
        400,
        {"code": "-1020", "msg": "Unsupported operation: the market clock cannot move past the year 9999"},
    )
    assert get_clock(client) == {"mode": "replay", "time": REPLAY_START_MS, "speed": 0}


@pytest.mark.parametrize(
    ("body", "name"),
    [
        ({"advanceMs": -1}, "advanceMs"),
        ({"advanceMs": "1500"}, "advanceMs"),
        ({"advanceMs": 1.5}, "advanceMs"),
        ({"advanceMs": True}, "advanceMs"),
        ({"advanceMs": 1500, "mode": "replay"}, "advanceMs"),
        ({"mode": "bogus"}, "mode"),
        ({}, "mode"),
        ({"mode": "replay", "time": REPLAY_START_MS, "speed": "-1"}, "speed"),
        ({"mode": "replay", "time": REPLAY_START_MS, "speed": -1}, "speed"),
        ({"mode": "replay", "time": REPLAY_START_MS, "speed": "fast"}, "speed"),
        ({"mode": "replay", "time": "abc", "speed": 0}, "time"),
        ({"mode": "replay", "time": -1, "speed": 0}, "time"),
        ({"mode": "replay", "time": str(REPLAY_START_MS), "speed": 0}, "time"),
        ({"mode": "replay", "time": 253_402_300_800_000, "speed": 0}, "time"),
        ({"mode": "replay", "time": 2**63 + 5, "speed": 0}, "time"),
    ],
    ids=[
        "advance negative",
        "advance string",
        "advance float",
        "advance bool",
        "advance with mode",
        "mode bogus",
        "empty body",
        "speed string -1",
        "speed -1",
        "speed word",
        "time abc",
        "time negative",
        "time string",
        "time after 9999",
        "time beyond 64 bits",
    ],
)
def test_bad_clock_change_is_an_illegal_parameter_and_changes_nothing(client, body, name):
    set_clock(client, mode="replay", time=REPLAY_START_MS, speed=0)

    response = set_clock(client, **body)

    assert response.status_code == 400
    assert response.get_json() == {"code": "-1130", "msg": f"Illegal parameter '{name}'"}
    assert get_clock(client) == {"mode": "replay", "time": REPLAY_START_MS, "speed": 0}


def test_live_mode_returns_to_the_wall_clock(client):
    set_clock(client, mode="replay", time=REPLAY_START_MS, speed=0)

    with freeze_time(FROZEN_AT):
        response = set_clock(client, mode="live")
        now = server_time(client)

    assert response.status_code == 200
    assert response.get_json() == {"mode": "live", "time": FROZEN_MS, "speed": 1}
    assert now == FROZEN_MS


def test_replay_at_speed_two_moves_twice_as_fast(client):
    with freeze_time(FROZEN_AT) as frozen:
        set_clock(client, mode="replay", time=REPLAY_START_MS, speed=2)
        frozen.tick(datetime.timedelta(seconds=1))
        now = server_time(client)
        clock = get_clock(client)

    assert now == REPLAY_START_MS + 2000
    assert clock == {"mode": "replay", "time": REPLAY_START_MS + 2000, "speed": 2}


def test_replay_at_a_fractional_speed(client):
    with freeze_time(FROZEN_AT) as frozen:
        response = set_clock(client, mode="replay", time=REPLAY_START_MS, speed="0.5")
        frozen.tick(datetime.timedelta(seconds=3))
        now = server_time(client)

    assert response.get_json()["speed"] == 0.5
    assert now == REPLAY_START_MS + 1500


@pytest.mark.parametrize("speed", ["1e12", "1e30"])
def test_a_fast_replay_clock_stops_at_the_year_9999_and_every_endpoint_still_answers(client, signer, speed):
    """Three hours at 1e12 would be past 2**63 ms, which no database integer holds: every request that read
    the market answered 500, and orders placed meanwhile kept the clock from being set back."""
    with freeze_time(FROZEN_AT) as frozen:
        set_clock(client, mode="replay", time=REPLAY_START_MS, speed=speed)
        frozen.tick(datetime.timedelta(hours=3))
        answers = [
            client.get("/quote/v1/depth", query_string={"symbol": "BTCUSDT"}).status_code,
            client.get("/quote/v1/klines", query_string={"symbol": "BTCUSDT", "interval": "1m"}).status_code,
            client.get("/api/v1/spot/openOrders", **signer.ccxt("GET")).status_code,
        ]
        now, clock = server_time(client), get_clock(client)

    assert answers == [200, 200, 200]
    assert now == clock["time"] == LAST_MARKET_MS


def test_replay_without_time_starts_from_the_current_market_time(client):
    with freeze_time(FROZEN_AT):
        response = set_clock(client, mode="replay", speed=0)

    assert response.get_json() == {"mode": "replay", "time": FROZEN_MS, "speed": 0}


def test_advance_on_a_running_replay_clock_adds_to_the_elapsed_time(client):
    with freeze_time(FROZEN_AT) as frozen:
        set_clock(client, mode="replay", time=REPLAY_START_MS, speed=1)
        frozen.tick(datetime.timedelta(seconds=2))
        set_clock(client, advanceMs=500)
        frozen.tick(datetime.timedelta(seconds=1))
        now = server_time(client)

    assert now == REPLAY_START_MS + 2000 + 500 + 1000


def test_advance_to_the_next_market_event(app, client):
    with app.extensions["hashkey_sim"].database.engine.begin() as connection:
        writer = StoreWriter(connection, source_id(connection, "test", "admin"), "test")
        for offset in (2_500, 4_000):
            writer.add(
                Trade("BTCUSDT", REPLAY_START_MS + offset, Decimal("100"), Decimal("1"), True, str(offset))
            )
        writer.flush()
    set_clock(client, mode="replay", time=REPLAY_START_MS, speed=0)

    first = set_clock(client, advanceTo="nextEvent")
    second = set_clock(client, advanceTo="nextEvent")
    after_the_last = set_clock(client, advanceTo="nextEvent")

    assert first.get_json() == {"mode": "replay", "time": REPLAY_START_MS + 2_500, "speed": 0}
    assert second.get_json()["time"] == REPLAY_START_MS + 4_000
    assert after_the_last.get_json()["time"] == REPLAY_START_MS + 4_000  # nothing more: it stays


@pytest.mark.parametrize("body", [{"advanceTo": "tomorrow"}, {"advanceTo": "nextEvent", "advanceMs": 1}])
def test_a_bad_advance_to_is_an_illegal_parameter(client, body):
    set_clock(client, mode="replay", time=REPLAY_START_MS, speed=0)

    response = set_clock(client, **body)

    assert response.status_code == 400
    assert response.get_json()["code"] == "-1130"
    assert get_clock(client)["time"] == REPLAY_START_MS
