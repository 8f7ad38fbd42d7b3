"""GET /api/v1/account/chainType (signed) and GET /api/v1/coinInfo (unsigned): a coin's chains from the
fixtures, in the document's shapes, without the fixtures' simulator-only fields."""

from __future__ import annotations

import json
from decimal import Decimal as D

import pytest

from tests.http.test_orders import T0, call

DOCUMENTED_COIN_FIELDS = [
    "orgId",
    "coinId",
    "coinName",
    "coinFullName",
    "allowWithdraw",
    "allowDeposit",
    "chainTypes",
]
DOCUMENTED_CHAIN_FIELDS = [
    "chainType",
    "withdrawFee",
    "minWithdrawQuantity",
    "maxWithdrawQuantity",
    "minDepositQuantity",
    "allowDeposit",
    "allowWithdraw",
]


@pytest.fixture
def app(make_app):
    """Market clock stopped at T0: coinInfo's serverTime is the market's."""
    return make_app(clock_mode="replay", clock_start=T0, clock_speed=D(0))


def missing_coin_id() -> dict[str, str]:
    return {"code": "0001", "msg": "Required field coinId missing or invalid"}


INVALID_ASSET = {"code": "-4001", "msg": "Invalid asset"}


# ---- GET /api/v1/account/chainType ------------------------------------------------------------------


def test_chain_type_answers_the_documents_example(client, signer):
    assert call(client, signer, "GET", "/api/v1/account/chainType", coinId="USDT") == (
        200,
        [{"coinId": "USDT", "coinName": "USDT", "chainTypeList": ["ETH", "Tron"]}],
    )


@pytest.mark.parametrize(
    ("coin", "chains"), [("BTC", ["Bitcoin"]), ("ETH", ["ETH"]), ("USD", []), ("HKD", [])]
)
def test_chain_type_lists_the_fixtures_chains_and_none_for_fiat(client, signer, coin, chains):
    status, body = call(client, signer, "GET", "/api/v1/account/chainType", coinId=coin)

    assert status == 200
    assert body == [{"coinId": coin, "coinName": coin, "chainTypeList": chains}]


def test_chain_type_is_readable_with_a_sub_account_key(client, sub_signer):
    assert call(client, sub_signer, "GET", "/api/v1/account/chainType", coinId="ETH")[0] == 200


@pytest.mark.parametrize(
    ("params", "expected"), [({}, missing_coin_id()), ({"coinId": "DOGE"}, INVALID_ASSET)]
)
def test_chain_type_refusals(client, signer, params, expected):
    assert call(client, signer, "GET", "/api/v1/account/chainType", **params) == (400, expected)


def test_chain_type_needs_a_signature(client):
    response = client.get("/api/v1/account/chainType?coinId=USDT")

    assert (response.status_code, response.get_json()) == (
        400,
        {"code": "-1002", "msg": "Unauthorized operation"},
    )


# ---- GET /api/v1/coinInfo ---------------------------------------------------------------------------


def test_coin_info_is_served_without_a_key_in_the_documents_shape(client):
    response = client.get("/api/v1/coinInfo?coinId=USDT")

    assert response.status_code == 200
    assert response.get_json() == {
        "timezone": "UTC",
        "serverTime": T0,
        "coins": [
            {
                "orgId": "9001",
                "coinId": "USDT",
                "coinName": "USDT",
                "coinFullName": "Tether USD",
                "allowWithdraw": True,
                "allowDeposit": True,
                "chainTypes": [
                    {
                        "chainType": "ETH",
                        "withdrawFee": "3",
                        "minWithdrawQuantity": "10",
                        "maxWithdrawQuantity": "0",
                        "minDepositQuantity": "1",
                        "allowDeposit": True,
                        "allowWithdraw": True,
                    },
                    {
                        "chainType": "Tron",
                        "withdrawFee": "1",
                        "minWithdrawQuantity": "2",
                        "maxWithdrawQuantity": "0",
                        "minDepositQuantity": "1",
                        "allowDeposit": True,
                        "allowWithdraw": True,
                    },
                ],
            }
        ],
    }


@pytest.mark.parametrize("coin", ["BTC", "ETH", "USDC", "XRP", "SOL", "ADA", "HSK", "USD", "HKD", "AED"])
def test_coin_info_shows_only_documented_fields_and_agrees_with_exchange_info(client, coin):
    body = client.get(f"/api/v1/coinInfo?coinId={coin}").get_json()
    listed = {c["coinId"]: c for c in client.get("/api/v1/exchangeInfo").get_json()["coins"]}

    (found,) = body["coins"]
    assert list(found) == DOCUMENTED_COIN_FIELDS
    assert all(list(chain) == DOCUMENTED_CHAIN_FIELDS for chain in found["chainTypes"])
    assert "addressFormat" not in json.dumps(body) and "tokenType" not in json.dumps(body)
    assert found == {name: listed[coin][name] for name in DOCUMENTED_COIN_FIELDS}


def test_coin_info_of_a_fiat_coin_has_no_chains(client):
    (found,) = client.get("/api/v1/coinInfo?coinId=USD").get_json()["coins"]

    assert found["chainTypes"] == []


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("", missing_coin_id()),
        ("coinId=", missing_coin_id()),
        ("coinId=DOGE", INVALID_ASSET),
        ("coinId=usdt", INVALID_ASSET),
    ],
)
def test_coin_info_refusals(client, query, expected):
    response = client.get(f"/api/v1/coinInfo?{query}")

    assert (response.status_code, response.get_json()) == (400, expected)


def test_coin_info_ignores_a_signature_a_client_sends_anyway(client, signer):
    status, body = call(client, signer, "GET", "/api/v1/coinInfo", coinId="BTC")

    assert status == 200
    assert body["coins"][0]["chainTypes"][0]["chainType"] == "Bitcoin"
