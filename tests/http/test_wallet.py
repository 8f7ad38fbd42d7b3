"""The document's Wallet endpoints and fiat history: deposit addresses, deposits that move through their
statuses over market time (admin-created), address authentication, withdrawals with every rule and their
lifecycle, fiat orders; isolation between users and between master and sub keys."""

from __future__ import annotations

import datetime
import json
import re
from decimal import Decimal as D
from typing import Any

import pytest
from freezegun import freeze_time
from sqlalchemy import func, select

from simulator.http.state import EXTENSION
from simulator.services import clock
from simulator.storage import tables
from tests.conftest import Signer, admin_headers

T0 = 1_700_000_000_000  # 2023-11-14T22:13:20Z
EVM_ADDRESS = "0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAed"
TRON_ADDRESS = "TR7NHqjeKQxGTCi8q8ZY4pL8otSzgjLj6t"
USDT_ETH_CONFIRMATION_MS = 64 * 12_000
WITHDRAW_DELAY_MS = 120_000
FIAT_DELAY_MS = 300_000


@pytest.fixture
def app(make_app):
    return make_app(clock_mode="replay", clock_start=T0, clock_speed=D(0), rate_limits=False)


def account_id(account: dict[str, Any], account_type: int, index: int = 0) -> str:
    return next(
        a["accountId"]
        for a in account["accounts"]
        if a["accountType"] == account_type and a["accountIndex"] == index
    )


def call(client, signer: Signer, method: str, path: str, **params: Any) -> tuple[int, Any]:
    response = getattr(client, method.lower())(path, **signer.ccxt(method, **params))
    return response.status_code, response.get_json()


def admin(client, method: str, path: str, body: Any = None) -> tuple[int, Any]:
    response = getattr(client, method.lower())(f"/sim/v1{path}", json=body, headers=admin_headers())
    return response.status_code, response.get_json()


def step(client, ms: int) -> None:
    assert admin(client, "POST", "/clock", {"advanceMs": ms})[0] == 200


def custody_balance(client, signer: Signer, custody: str, asset: str) -> tuple[str, str]:
    status, body = call(client, signer, "GET", "/api/v1/account", accountId=custody)
    assert status == 200, body
    entry = next((b for b in body["balances"] if b["asset"] == asset), None)
    return (entry["free"], entry["locked"]) if entry else ("0", "0")


def fund_custody(client, account: dict[str, Any], asset: str, amount: str) -> str:
    custody = account_id(account, 5)
    status, body = admin(client, "POST", f"/accounts/{custody}/balances", {"asset": asset, "amount": amount})
    assert status == 200, body
    return custody


def deposit(client, account: dict[str, Any], **body: Any) -> dict[str, Any]:
    status, answer = admin(client, "POST", f"/accounts/{account['accounts'][0]['accountId']}/deposits", body)
    assert status == 201, answer
    return answer


def rows(app, table) -> int:
    with app.extensions[EXTENSION].database.read() as session:
        return session.scalar(select(func.count()).select_from(table))


# ---- deposit address ------------------------------------------------------------------------------


def test_the_deposit_address_is_the_custody_accounts_own_and_in_the_chains_format(client, account, signer):
    status, body = call(
        client, signer, "GET", "/api/v1/account/deposit/address", coin="USDT", chainType="ETH"
    )
    assert status == 200, body
    assert list(body) == [
        "canDeposit",
        "address",
        "addressExt",
        "minQuantity",
        "needAddressTag",
        "requiredConfirmTimes",
        "canWithdrawConfirmTimes",
        "coinType",
    ]
    assert re.fullmatch(r"0x[0-9a-fA-F]{40}", body["address"])
    assert (body["canDeposit"], body["minQuantity"], body["requiredConfirmTimes"], body["coinType"]) == (
        True,
        "1",
        64,
        "ERC20_TOKEN",
    )
    again = call(client, signer, "GET", "/api/v1/account/deposit/address", coin="USDT", chainType="ETH")[1]
    assert again["address"] == body["address"]
    tron = call(client, signer, "GET", "/api/v1/account/deposit/address", coin="USDT", chainType="Tron")[1]
    assert re.fullmatch(r"T[1-9A-HJ-NP-Za-km-z]{33}", tron["address"])
    btc = call(client, signer, "GET", "/api/v1/account/deposit/address", coin="BTC", chainType="Bitcoin")[1]
    assert btc["address"].startswith("bc1q")


def test_each_user_has_its_own_deposit_address(client, signer, create_account):
    other = create_account()
    mine = call(client, signer, "GET", "/api/v1/account/deposit/address", coin="ETH", chainType="ETH")[1]
    theirs = call(
        client,
        Signer(other["apiKey"], other["secretKey"]),
        "GET",
        "/api/v1/account/deposit/address",
        coin="ETH",
        chainType="ETH",
    )[1]
    assert mine["address"] != theirs["address"]


@pytest.mark.parametrize(
    ("params", "code", "msg"),
    [
        ({"coin": "NOPE", "chainType": "ETH"}, "-4001", "Invalid asset"),
        ({"coin": "BTC", "chainType": "ETH"}, "0001", "Required field chainType missing or invalid"),
        ({"chainType": "ETH"}, "0001", "Required field coin missing or invalid"),
    ],
)
def test_a_bad_deposit_address_request_gets_its_code(client, signer, params, code, msg):
    assert call(client, signer, "GET", "/api/v1/account/deposit/address", **params) == (
        400,
        {"code": code, "msg": msg},
    )


def test_a_sub_account_key_has_no_wallet(client, sub_signer):
    refused = (400, {"code": "-1205", "msg": "Account not authorized"})
    assert (
        call(client, sub_signer, "GET", "/api/v1/account/deposit/address", coin="USDT", chainType="ETH")
        == refused
    )
    assert call(client, sub_signer, "GET", "/api/v1/account/depositOrders") == refused
    assert call(client, sub_signer, "GET", "/api/v1/account/withdrawOrders") == refused


# ---- deposits ---------------------------------------------------------------------------------------


def test_a_deposit_is_in_the_account_then_credited_after_the_chains_confirmations(client, account, signer):
    custody = account_id(account, 5)
    made = deposit(client, account, coin="USDT", chainType="ETH", quantity="100")
    assert (made["accountId"], made["status"], made["quantity"]) == (custody, 8, "100.00000000000000000000")
    listed = call(client, signer, "GET", "/api/v1/account/depositOrders")[1]
    assert listed == [
        {
            "time": str(T0),
            "coin": "USDT",
            "coinName": "USDT",
            "address": call(
                client, signer, "GET", "/api/v1/account/deposit/address", coin="USDT", chainType="ETH"
            )[1]["address"],
            "quantity": "100.00000000000000000000",
            "status": 8,
            "statusCode": "8",
            "txId": made["txId"],
        }
    ]
    assert re.fullmatch(r"0x[0-9a-f]{64}", made["txId"])
    step(client, USDT_ETH_CONFIRMATION_MS - 1)
    assert call(client, signer, "GET", "/api/v1/account/depositOrders")[1][0]["status"] == 8
    assert custody_balance(client, signer, custody, "USDT") == ("0", "0")
    step(client, 1)
    assert call(client, signer, "GET", "/api/v1/account/depositOrders")[1][0]["status"] == 4
    assert custody_balance(client, signer, custody, "USDT") == ("100", "0")


def test_step_mode_next_event_stops_where_a_deposit_is_credited(client, account):
    deposit(client, account, coin="BTC", chainType="Bitcoin", quantity="0.5")
    status, clock = admin(client, "POST", "/clock", {"advanceTo": "nextEvent"})
    assert status == 200
    assert clock["time"] == T0 + 2 * 600_000  # two Bitcoin confirmations


def test_deposit_history_filters_by_coin_and_chain_coin_and_time(client, account, signer):
    deposit(client, account, coin="USDT", chainType="ETH", quantity="10")
    step(client, 1_000)
    deposit(client, account, coin="USDT", chainType="Tron", quantity="20")
    deposit(client, account, coin="ETH", chainType="ETH", quantity="1")

    def quantities(**params: Any) -> list[str]:
        return [
            d["quantity"][:5]
            for d in call(client, signer, "GET", "/api/v1/account/depositOrders", **params)[1]
        ]

    assert len(quantities()) == 3
    assert quantities(coin="USDT") == ["20.00", "10.00"]
    assert quantities(coin="Tron_USDT") == ["20.00"]
    assert quantities(coin="ETH_USDT") == ["10.00"]
    assert quantities(endTime=T0) == ["10.00"]
    assert quantities(limit=1) == ["1.000"]


def test_an_admin_deposit_below_the_minimum_or_on_a_closed_chain_is_refused(client, account, app):
    main = account["accounts"][0]["accountId"]
    small = {"coin": "USDT", "chainType": "ETH", "quantity": "0.5"}
    assert admin(client, "POST", f"/accounts/{main}/deposits", small) == (
        400,
        {
            "code": "-1210",
            "msg": "The deposit amount 0.5 must not be less than the minimum deposit amount 1 USDT.",
        },
    )
    with app.extensions[EXTENSION].database.write() as session:
        coin = session.get(tables.Coin, "ETH")
        definition = json.loads(coin.definition)
        definition["chainTypes"][0]["allowDeposit"] = False
        coin.definition = json.dumps(definition)
    closed = {"coin": "ETH", "chainType": "ETH", "quantity": "1"}
    assert admin(client, "POST", f"/accounts/{main}/deposits", closed) == (
        400,
        {"code": "-1170", "msg": "Deposit not allowed"},
    )
    assert rows(app, tables.Deposit) == 0


def test_an_admin_can_fail_a_deposit_before_it_is_credited(client, account, signer):
    made = deposit(client, account, coin="USDT", chainType="Tron", quantity="5")
    status, failed = admin(client, "POST", f"/deposits/{made['id']}/fail")
    assert (status, failed["status"]) == (200, 3)
    step(client, 3_600_000)
    assert call(client, signer, "GET", "/api/v1/account/depositOrders")[1][0]["status"] == 3
    assert custody_balance(client, signer, account_id(account, 5), "USDT") == ("0", "0")
    assert admin(client, "POST", f"/deposits/{made['id']}/fail") == (
        400,
        {"code": "-1207", "msg": "The status of deposit is invalid"},
    )


# ---- address authentication -------------------------------------------------------------------------


@pytest.mark.parametrize("path", ["/quote/v1/depth", "/quote/v1/trades", "/quote/v1/ticker/24hr"])
def test_a_quote_of_an_unknown_symbol_moves_nothing_on(client, app, account, signer, path):
    made = deposit(client, account, coin="USDT", chainType="ETH", quantity="100")
    with app.extensions[EXTENSION].database.write() as session:  # the deposit is due; nothing applied yet
        clock.write_clock(session, clock.read_clock(session).advanced(USDT_ETH_CONFIRMATION_MS, 0))

    response = client.get(path, query_string={"symbol": "DOGEUSDT"})

    assert (response.status_code, response.get_json()["code"]) == (400, "0201")
    with app.extensions[EXTENSION].database.read() as session:
        assert session.get(tables.Deposit, made["id"]).status == 8  # still waiting: the refusal wrote nothing


def test_a_deposit_waiting_for_address_authentication_moves_on_after_the_declaration(client, account, signer):
    made = deposit(
        client, account, coin="USDT", chainType="Tron", quantity="50", needsAddressAuthentication=True
    )
    assert made["status"] == 1
    step(client, 3_600_000)  # nothing happens while it waits
    assert call(client, signer, "GET", "/api/v1/account/depositOrders")[1][0]["status"] == 1
    declared = call(
        client,
        signer,
        "POST",
        "/api/v1/account/authAddress",
        txid=made["txId"],
        senderFirstName="SHEN",
        senderLastName="ZHANG",
        exchangeName="Binance",
        isAddressOwner="true",
    )
    assert declared == (200, {"success": True, "msg": "", "timestamp": str(T0 + 3_600_000)})
    assert call(client, signer, "GET", "/api/v1/account/depositOrders")[1][0]["status"] == 8
    step(client, 20 * 3_000)
    assert call(client, signer, "GET", "/api/v1/account/depositOrders")[1][0]["status"] == 4
    assert custody_balance(client, signer, account_id(account, 5), "USDT") == ("50", "0")


@pytest.mark.parametrize(
    ("change", "code", "msg"),
    [
        ({"txid": "0xunknown"}, "-1212", "The order of deposit does not exist"),
        ({"senderLastName": None}, "0001", "Required field senderLastName missing or invalid"),
        ({"senderFirstName": None}, "0001", "Required field senderFirstName missing or invalid"),
        (
            {"senderFirstName": None, "senderLastName": None},
            "0001",
            "Required field institutionalName missing or invalid",
        ),
        ({"exchangeName": None}, "0001", "Required field exchangeName missing or invalid"),
        ({"isAddressOwner": "yes"}, "0001", "Required field isAddressOwner missing or invalid"),
        ({"txid": None}, "0001", "Required field txid missing or invalid"),
    ],
)
def test_a_bad_declaration_gets_its_code_and_changes_nothing(client, account, signer, app, change, code, msg):
    made = deposit(
        client, account, coin="USDT", chainType="Tron", quantity="50", needsAddressAuthentication=True
    )
    params = {
        "txid": made["txId"],
        "senderFirstName": "SHEN",
        "senderLastName": "ZHANG",
        "exchangeName": "OKX",
        "isAddressOwner": "true",
    }
    params.update(change)
    sent = {k: v for k, v in params.items() if v is not None}
    assert call(client, signer, "POST", "/api/v1/account/authAddress", **sent) == (
        400,
        {"code": code, "msg": msg},
    )
    assert call(client, signer, "GET", "/api/v1/account/depositOrders")[1][0]["status"] == 1
    assert rows(app, tables.AddressDeclaration) == 0


def test_an_institution_declares_alone_and_a_deposit_is_declared_once(client, account, signer):
    made = deposit(
        client, account, coin="USDT", chainType="Tron", quantity="50", needsAddressAuthentication=True
    )
    params = {
        "txid": made["txId"],
        "institutionalName": "Acme Ltd",
        "exchangeName": "Kraken",
        "isAddressOwner": "false",
    }
    assert call(client, signer, "POST", "/api/v1/account/authAddress", **params)[0] == 200
    assert call(client, signer, "POST", "/api/v1/account/authAddress", **params) == (
        400,
        {"code": "-1207", "msg": "The status of deposit is invalid"},
    )


def test_another_users_deposit_cannot_be_declared_or_seen(client, account, create_account):
    made = deposit(
        client, account, coin="USDT", chainType="Tron", quantity="50", needsAddressAuthentication=True
    )
    other = create_account()
    stranger = Signer(other["apiKey"], other["secretKey"])
    params = {"txid": made["txId"], "institutionalName": "X", "exchangeName": "OKX", "isAddressOwner": "true"}
    assert call(client, stranger, "POST", "/api/v1/account/authAddress", **params)[1]["code"] == "-1212"
    assert call(client, stranger, "GET", "/api/v1/account/depositOrders") == (200, [])


# ---- withdrawals ------------------------------------------------------------------------------------


def withdraw(client, signer: Signer, **params: Any) -> tuple[int, Any]:
    sent = {
        "coin": "USDT",
        "chainType": "ETH",
        "address": EVM_ADDRESS,
        "quantity": "50",
        "clientOrderId": "w1",
    }
    sent.update(params)
    return call(
        client, signer, "POST", "/api/v1/account/withdraw", **{k: v for k, v in sent.items() if v is not None}
    )


def test_a_withdrawal_locks_its_quantity_then_succeeds_with_a_tx_id(client, account, signer):
    custody = fund_custody(client, account, "USDT", "80")
    status, body = withdraw(client, signer, remark="rent", memo="abc123", platform="binance")
    assert status == 200, body
    assert list(body) == ["success", "id", "orderId", "accountId"]
    assert (body["success"], body["id"], body["accountId"]) == (True, "0", custody)
    assert re.fullmatch(r"W\d{19}", body["orderId"])
    assert custody_balance(client, signer, custody, "USDT") == ("30", "50")
    (listed,) = call(client, signer, "GET", "/api/v1/account/withdrawOrders")[1]
    assert listed == {
        "time": str(T0),
        "id": body["orderId"],
        "coin": "USDT",
        "coinId": "USDT",
        "coinName": "USDT",
        "address": EVM_ADDRESS,
        "quantity": "50.00000000",
        "arriveQuantity": "",
        "status": "withdrawing",
        "txId": "",
        "addressUrl": EVM_ADDRESS,
        "feeCoinId": "USDT",
        "feeCoinName": "USDT",
        "fee": "3.00000000",
        "remark": "rent",
        "platform": "BINANCE",
        "memo": "abc123",
    }
    step(client, WITHDRAW_DELAY_MS)
    (done,) = call(client, signer, "GET", "/api/v1/account/withdrawOrders")[1]
    assert (done["status"], done["arriveQuantity"]) == ("successful", "47.00000000")
    assert re.fullmatch(r"0x[0-9a-f]{64}", done["txId"])
    assert custody_balance(client, signer, custody, "USDT") == ("30", "0")


def test_stepping_the_clock_moves_a_withdrawal_on_before_any_request_reads_it(client, app, account, signer):
    """The admin clock step applies the wallet's due changes itself, as it applies the recording's events."""
    fund_custody(client, account, "USDT", "80")
    assert withdraw(client, signer)[0] == 200

    step(client, WITHDRAW_DELAY_MS)

    with app.extensions[EXTENSION].database.read() as session:
        assert session.scalars(select(tables.Withdrawal.status)).all() == ["successful"]


def test_on_a_running_clock_a_request_after_the_delay_sees_the_withdrawal_done(client, account, signer):
    """No step: the market clock runs on by itself, and a request catches the wallet up to it."""
    fund_custody(client, account, "USDT", "80")
    with freeze_time("2026-01-01T00:00:00Z") as frozen:
        assert admin(client, "POST", "/clock", {"mode": "replay", "time": T0, "speed": 1})[0] == 200
        assert withdraw(client, signer)[0] == 200
        frozen.tick(datetime.timedelta(milliseconds=WITHDRAW_DELAY_MS - 1))
        (still,) = call(client, signer, "GET", "/api/v1/account/withdrawOrders")[1]
        frozen.tick(datetime.timedelta(milliseconds=1))
        (done,) = call(client, signer, "GET", "/api/v1/account/withdrawOrders")[1]

    assert (still["status"], done["status"]) == ("withdrawing", "successful")


def test_the_admin_fails_or_cancels_a_withdrawal_and_the_funds_come_back(client, account, signer):
    custody = fund_custody(client, account, "USDT", "100")
    first = withdraw(client, signer, clientOrderId="a")[1]["orderId"]
    second = withdraw(client, signer, clientOrderId="b")[1]["orderId"]
    assert admin(client, "POST", f"/withdrawals/{first}", {"status": "failed"})[1]["status"] == "failed"
    assert admin(client, "POST", f"/withdrawals/{second}", {"status": "canceled"})[1]["status"] == "canceled"
    assert custody_balance(client, signer, custody, "USDT") == ("100", "0")
    step(client, WITHDRAW_DELAY_MS)
    statuses = [w["status"] for w in call(client, signer, "GET", "/api/v1/account/withdrawOrders")[1]]
    assert statuses == ["canceled", "failed"]
    assert admin(client, "POST", f"/withdrawals/{first}", {"status": "canceled"}) == (
        400,
        {"code": "-1209", "msg": "The status of withdraw is invalid"},
    )


WITHDRAW_REFUSALS = [
    ({"quantity": None}, "-1165", "Withdrawal amount cannot be null"),
    ({"quantity": "0"}, "-1165", "Withdrawal amount cannot be null"),
    ({"quantity": "ten"}, "-1168", "Illegal withdrawal amount"),
    ({"quantity": "10.000000001"}, "-1168", "Illegal withdrawal amount"),
    ({"quantity": "9.99"}, "-1167", "Withdrawal amount less than the minimum"),
    ({"address": "0x12345"}, "-1163", "Illegal withdrawal address"),
    ({"address": TRON_ADDRESS}, "-1163", "Illegal withdrawal address"),
    ({"chainType": "Solana"}, "-4007", "Withdrawal channels are not supported"),
    ({"coin": "DOGE"}, "-4001", "Invalid asset"),
    ({"memo": "not-alnum!"}, "-4012", "Parameter error"),
    ({"memo": "a" * 21}, "-4012", "Parameter error"),
    ({"platform": "KRAKEN"}, "-4012", "Parameter error"),
    ({"quantity": "500"}, "-4003", "Insufficient Balance"),
    ({"clientOrderId": None}, "0001", "Required field clientOrderId missing or invalid"),
    ({"clientOrderId": "x" * 65}, "0001", "Required field clientOrderId missing or invalid"),
    ({"address": None}, "0001", "Required field address missing or invalid"),
    ({"chainType": None}, "0001", "Required field chainType missing or invalid"),
]


@pytest.mark.parametrize(("change", "code", "msg"), WITHDRAW_REFUSALS)
def test_a_refused_withdrawal_gets_its_code_and_writes_nothing(
    client, account, signer, app, change, code, msg
):
    custody = fund_custody(client, account, "USDT", "100")
    assert withdraw(client, signer, **change) == (400, {"code": code, "msg": msg})
    assert rows(app, tables.Withdrawal) == 0
    assert custody_balance(client, signer, custody, "USDT") == ("100", "0")


def test_a_client_order_id_withdraws_once(client, account, signer):
    fund_custody(client, account, "USDT", "100")
    assert withdraw(client, signer)[0] == 200
    assert withdraw(client, signer) == (400, {"code": "-4013", "msg": "Withdraw repeatedly"})


def test_the_daily_limit_counts_the_market_days_withdrawals(client, account, signer):
    fund_custody(client, account, "USDT", "1000000")
    tron = {"chainType": "Tron", "address": TRON_ADDRESS}
    assert withdraw(client, signer, quantity="200001", clientOrderId="big", **tron) == (
        400,
        {"code": "-1166", "msg": "Withdrawal amount exceeds the daily limit"},
    )
    assert withdraw(client, signer, quantity="150000", clientOrderId="a", **tron)[0] == 200
    assert withdraw(client, signer, quantity="60000", clientOrderId="b", **tron) == (
        400,
        {"code": "-4010", "msg": "Withdrawals on the same day exceed the maximum limit for a single day"},
    )
    step(client, 86_400_000)  # the next market day
    assert withdraw(client, signer, quantity="60000", clientOrderId="c", **tron)[0] == 200


def test_a_key_with_a_whitelist_withdraws_only_to_its_addresses(client, account, signer):
    fund_custody(client, account, "USDT", "100")
    other = "0xfB6916095ca1df60bB79Ce92cE3Ea74c37c5d359"
    status, body = admin(
        client, "PUT", f"/apiKeys/{account['apiKey']}/withdrawAddresses", {"addresses": [other]}
    )
    assert (status, body) == (200, {"apiKey": account["apiKey"], "addresses": [other]})
    assert withdraw(client, signer) == (400, {"code": "-1171", "msg": "Withdrawal address not in whitelist"})
    assert withdraw(client, signer, address=other)[0] == 200


def test_withdrawing_needs_the_withdraw_permission_and_a_master_key(client, create_account, sub_signer):
    reader = create_account(permissions=["read", "trade"])
    refused = withdraw(client, Signer(reader["apiKey"], reader["secretKey"]))
    assert refused == (400, {"code": "-4009", "msg": "No withdrawal permission"})
    assert withdraw(client, sub_signer) == (400, {"code": "-1205", "msg": "Account not authorized"})


def test_withdrawal_history_is_per_user_and_filtered(client, account, signer, create_account):
    fund_custody(client, account, "USDT", "100")
    fund_custody(client, account, "ETH", "1")
    withdraw(client, signer, clientOrderId="a", remark="one")
    step(client, 1_000)
    withdraw(client, signer, coin="ETH", quantity="0.5", clientOrderId="b")

    def ids(**params: Any) -> list[str]:
        listed = call(client, signer, "GET", "/api/v1/account/withdrawOrders", **params)[1]
        return [w["coin"] for w in listed]

    assert ids() == ["ETH", "USDT"]
    assert ids(coin="USDT") == ["USDT"]
    assert ids(remark="one") == ["USDT"]
    assert ids(startTime=T0 + 1) == ["ETH"]
    assert ids(limit=1) == ["ETH"]
    other = create_account()
    assert call(
        client, Signer(other["apiKey"], other["secretKey"]), "GET", "/api/v1/account/withdrawOrders"
    ) == (
        200,
        [],
    )


# ---- fiat -------------------------------------------------------------------------------------------


def fiat(client, account: dict[str, Any], **body: Any) -> dict[str, Any]:
    status, answer = admin(
        client, "POST", f"/accounts/{account['accounts'][0]['accountId']}/fiatOrders", body
    )
    assert status == 201, answer
    return answer


def history(client, signer: Signer, **params: Any) -> tuple[int, Any]:
    params = {"type": "deposit", "startTime": T0 - 1, "endTime": T0 + 10**9, **params}
    return call(client, signer, "GET", "/api/v1/account/fiat/history", **params)


def test_a_fiat_deposit_is_processing_then_credits_its_net_amount(client, account, signer):
    made = fiat(
        client, account, type="deposit", asset="USD", amount="100", fee="5", remark="/D1", clientOrderId="c1"
    )
    assert re.fullmatch(r"NFD\d{19}", made["orderId"])
    (listed,) = history(client, signer)[1]
    assert listed == {
        "orderId": made["orderId"],
        "type": "deposit",
        "remark": "/D1",
        "asset": "USD",
        "grossAmount": "100",
        "netAmount": "95",
        "fee": "5",
        "status": "processing",
        "createdTime": str(T0),
        "updatedTime": str(T0),
        "channel": "auto",
        "clientOrderId": "c1",
    }
    step(client, FIAT_DELAY_MS)
    (done,) = history(client, signer)[1]
    assert (done["status"], done["updatedTime"]) == ("successful", str(T0 + FIAT_DELAY_MS))
    assert custody_balance(client, signer, account_id(account, 6), "USD") == ("95", "0")


def test_a_fiat_withdrawal_holds_gross_plus_fee_and_a_failed_one_returns_it(client, account, signer):
    fiat(client, account, type="deposit", asset="HKD", amount="1000")
    step(client, FIAT_DELAY_MS)
    fiat_account = account_id(account, 6)
    paid = fiat(client, account, type="withdraw", asset="HKD", amount="100", fee="5")
    failed = fiat(client, account, type="withdraw", asset="HKD", amount="200")
    assert custody_balance(client, signer, fiat_account, "HKD") == ("695", "305")
    assert admin(client, "POST", f"/fiatOrders/{failed['orderId']}/fail")[1]["status"] == "failed"
    step(client, FIAT_DELAY_MS)
    assert custody_balance(client, signer, fiat_account, "HKD") == ("895", "0")
    statuses = {w["orderId"]: w["status"] for w in history(client, signer, type="withdraw")[1]}
    assert statuses == {paid["orderId"]: "successful", failed["orderId"]: "failed"}
    assert history(client, signer, type="withdraw", status="failed")[1][0]["netAmount"] == "200"


@pytest.mark.parametrize(
    ("params", "code", "msg"),
    [
        ({"type": "refund"}, "-1177", "Invalid fiat order type"),
        ({"status": "return"}, "-1175", "Invalid fiat deposit status"),
        ({"type": "withdraw", "status": "withdraw_return"}, "-1176", "Invalid fiat withdrawal status"),
        ({"type": None}, "0001", "Required field type missing or invalid"),
        ({"startTime": None}, "0001", "Required field startTime missing or invalid"),
        ({"endTime": None}, "0001", "Required field endTime missing or invalid"),
        ({"channel": "fax"}, "0001", "Required field channel missing or invalid"),
    ],
)
def test_a_bad_fiat_history_request_gets_its_code(client, account, signer, params, code, msg):
    sent = {"type": "deposit", "startTime": T0, "endTime": T0 + 1, **params}
    sent = {k: v for k, v in sent.items() if v is not None}
    assert call(client, signer, "GET", "/api/v1/account/fiat/history", **sent) == (
        400,
        {"code": code, "msg": msg},
    )


def test_fiat_history_channel_and_isolation(client, account, signer, create_account, sub_signer):
    fiat(client, account, type="deposit", asset="USD", amount="10", channel="manual")
    assert history(client, signer) == (200, [])  # channel defaults to auto
    assert len(history(client, signer, channel="manual")[1]) == 1
    other = create_account()
    assert history(client, Signer(other["apiKey"], other["secretKey"]), channel="manual") == (200, [])
    assert history(client, sub_signer)[1]["code"] == "-1205"


def test_a_fiat_withdrawal_beyond_the_fiat_balance_is_refused(client, account, app):
    main = account["accounts"][0]["accountId"]
    body = {"type": "withdraw", "asset": "USD", "amount": "1"}
    assert admin(client, "POST", f"/accounts/{main}/fiatOrders", body) == (
        400,
        {"code": "-4003", "msg": "Insufficient Balance"},
    )
    assert (
        admin(client, "POST", f"/accounts/{main}/fiatOrders", {**body, "asset": "USDT"})[1]["code"] == "-4001"
    )
    assert rows(app, tables.FiatOrder) == 0


def test_deposits_and_withdrawals_are_in_the_custody_accounts_balance_flow(client, account, signer):
    deposit(client, account, coin="USDT", chainType="Tron", quantity="100")
    step(client, 20 * 3_000)  # credited
    withdraw(client, signer, chainType="Tron", address=TRON_ADDRESS, quantity="40")
    step(client, WITHDRAW_DELAY_MS)  # sent
    fiat(client, account, type="deposit", asset="USD", amount="10", fee="1")
    step(client, FIAT_DELAY_MS)
    window = {"startTime": T0, "endTime": T0 + 3_600_000}

    def flow(account_type: int) -> list[tuple[int, str, str, str]]:
        status, body = call(
            client, signer, "GET", "/api/v1/account/balanceFlow", accountType=account_type, **window
        )
        assert status == 200, body
        return [(e["flowTypeValue"], e["coin"], e["change"], e["total"]) for e in body]

    assert flow(5) == [(904, "USDT", "-40", "60"), (900, "USDT", "100", "100")]
    assert flow(6) == [(906, "USD", "9", "9")]


def test_amounts_of_many_integer_digits_keep_their_documented_decimals(client, account, signer):
    made = deposit(client, account, coin="USDT", chainType="ETH", quantity="123456789012.5")
    assert made["quantity"] == "123456789012.50000000000000000000"  # 32 digits: beyond a 28-digit quantize
    step(client, USDT_ETH_CONFIRMATION_MS)
    (listed,) = call(client, signer, "GET", "/api/v1/account/depositOrders")[1]
    assert listed["quantity"] == "123456789012.50000000000000000000"
