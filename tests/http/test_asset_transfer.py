"""POST /api/v1/account/assetTransfer — Internal Account Transfer: the document's examples, every refusal
with its code in the order of checks, the once-per-second rule on the wall clock, isolation between users,
and atomicity (a refused or failed transfer writes nothing)."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal as D
from typing import Any

import pytest
from sqlalchemy import func, select

from simulator import errors
from simulator.http.state import EXTENSION
from simulator.services import accounts, transfers
from simulator.storage import tables
from tests.conftest import Signer
from tests.http.test_account import account_of_type
from tests.http.test_auth import frozen_at
from tests.http.test_orders import BOOK, T0, call, place, record

PATH = "/api/v1/account/assetTransfer"
SECOND = timedelta(seconds=1)


@pytest.fixture(autouse=True)
def wall():
    """The wall (transport) clock, frozen: the once-per-second rule moves only when a test ticks it."""
    with frozen_at(T0) as frozen:
        yield frozen


@pytest.fixture
def app(make_app):
    """Market clock stopped at T0 (replay, speed 0) over a recorded BTCUSDT book."""
    app = make_app(clock_mode="replay", clock_start=T0, clock_speed=D(0))
    record(app, BOOK)
    return app


@pytest.fixture
def other(create_account) -> dict[str, Any]:
    """A second user, with funds and a sub account of its own."""
    return create_account(balances={"USDT": "500"}, subAccounts=1)


def ids(account: dict[str, Any]) -> dict[str, str]:
    """main, custody, fiat and sub (the first sub account, if any) -> account id."""
    found = {a["accountIndex"] if a["accountType"] == 1 else a["accountType"]: a for a in account["accounts"]}
    names = {"main": 0, "custody": 5, "fiat": 6, "sub": 1}
    return {name: found[key]["accountId"] for name, key in names.items() if key in found}


def send(client, signer: Signer, **params: Any) -> tuple[int, Any]:
    return call(client, signer, "POST", PATH, **params)


def transfer_ok(client, signer: Signer, wall, **params: Any) -> dict[str, Any]:
    """A transfer that must succeed; the wall clock then moves a second so the next one may follow."""
    status, body = send(client, signer, **{"coin": "USDT", **params})
    assert status == 200, body
    wall.tick(SECOND)
    return body


def holdings(client, signer: Signer, account_id: str) -> dict[str, str]:
    status, body = call(client, signer, "GET", "/api/v1/account", accountId=account_id)
    assert status == 200, body
    return {b["asset"]: b["total"] for b in body["balances"]}


def state(app) -> tuple[Any, ...]:
    """Every balance, ledger entry and transfer: what a refused request must leave as it was."""
    with app.extensions[EXTENSION].database.read() as session:
        balances = sorted(
            (b.account_id, b.asset, b.free, b.locked) for b in session.scalars(select(tables.Balance))
        )
        counts = [
            session.scalar(select(func.count()).select_from(t)) for t in (tables.LedgerEntry, tables.Transfer)
        ]
        return tuple(balances), tuple(counts)


def error(code: str, msg: str) -> dict[str, str]:
    return {"code": code, "msg": msg}


# ---- the document's examples ------------------------------------------------------------------------


def test_example_1_main_to_custody_answers_the_documents_shape_and_moves_the_funds(client, signer, account):
    accounts_ = ids(account)
    status, body = send(
        client,
        signer,
        fromAccountId=accounts_["main"],
        toAccountId=accounts_["custody"],
        coin="USDT",
        quantity="10",
    )

    assert status == 200
    assert body == {"success": True, "timestamp": T0, "clientOrderId": "", "orderId": body["orderId"]}
    assert list(body) == ["success", "timestamp", "clientOrderId", "orderId"]
    assert len(body["orderId"]) == 19 and body["orderId"].isdigit()
    assert holdings(client, signer, accounts_["main"]) == {"BTC": "0.5", "USDT": "990"}
    assert holdings(client, signer, accounts_["custody"]) == {"USDT": "10"}


def test_parameters_sent_in_the_query_as_in_the_documents_example_work_too(client, signer, account):
    accounts_ = ids(account)
    kwargs = signer.sorted_query(
        fromAccountId=accounts_["main"], toAccountId=accounts_["custody"], coin="USDT", quantity="10"
    )

    response = client.post(PATH, **kwargs)

    assert response.status_code == 200, response.get_json()
    assert holdings(client, signer, accounts_["custody"]) == {"USDT": "10"}


def test_example_2_main_to_sub_and_the_sub_key_sees_its_balance(client, signer, sub_signer, account):
    accounts_ = ids(account)
    status, body = send(
        client,
        signer,
        fromAccountId=accounts_["main"],
        toAccountId=accounts_["sub"],
        coin="USDT",
        quantity="15",
    )

    assert status == 200, body

    assert holdings(client, sub_signer, accounts_["sub"]) == {"USDT": "15"}
    assert holdings(client, signer, accounts_["main"])["USDT"] == "985"


def test_the_transfer_is_stored_with_both_ledger_entries_at_market_time(app, client, signer, account, wall):
    accounts_ = ids(account)
    wall.tick(timedelta(milliseconds=1234))  # the wall clock is not the market clock
    body = transfer_ok(
        client,
        signer,
        wall,
        fromAccountId=accounts_["main"],
        toAccountId=accounts_["fiat"],
        quantity="12.50",
        remark="rent",
        clientOrderId="t-1",
    )

    assert (body["clientOrderId"], body["timestamp"]) == ("t-1", T0)
    with app.extensions[EXTENSION].database.read() as session:
        row = session.get(tables.Transfer, body["orderId"])
        entries = session.scalars(
            select(tables.LedgerEntry)
            .where(tables.LedgerEntry.remark == body["orderId"])
            .order_by(tables.LedgerEntry.id)
        ).all()
    assert (row.user_id, row.from_account_id, row.to_account_id, row.coin, row.quantity, row.remark) == (
        account["userId"],
        accounts_["main"],
        accounts_["fiat"],
        "USDT",
        D("12.50"),
        "rent",
    )
    assert (row.client_order_id, row.created_ms, row.transport_ms) == ("t-1", T0, T0 + 1234)
    assert [(e.account_id, e.asset, e.flow_type, e.change, e.total, e.created_ms) for e in entries] == [
        (accounts_["main"], "USDT", 51, D("-12.50"), D("987.50"), T0),
        (accounts_["fiat"], "USDT", 51, D("12.50"), D("12.50"), T0),
    ]


@pytest.mark.parametrize(("quantity", "moved"), [("10.500", "10.5"), ("1e-05", "0.00001"), ("1E+1", "10")])
def test_quantity_accepts_trailing_zeros_and_exponent_form(client, signer, account, quantity, moved):
    accounts_ = ids(account)
    status, body = send(
        client,
        signer,
        fromAccountId=accounts_["main"],
        toAccountId=accounts_["custody"],
        coin="USDT",
        quantity=quantity,
    )

    assert status == 200, body
    assert holdings(client, signer, accounts_["custody"]) == {"USDT": moved}


def test_main_custody_and_fiat_move_freely_among_themselves(client, signer, account, wall):
    accounts_ = ids(account)
    route = [
        ("main", "custody"),
        ("custody", "fiat"),
        ("fiat", "main"),
        ("main", "fiat"),
        ("fiat", "custody"),
    ]
    for source, target in route:
        transfer_ok(
            client, signer, wall, fromAccountId=accounts_[source], toAccountId=accounts_[target], quantity="1"
        )

    assert holdings(client, signer, accounts_["main"])["USDT"] == "999"
    assert holdings(client, signer, accounts_["custody"]) == {"USDT": "1"}
    assert holdings(client, signer, accounts_["fiat"]) == {"USDT": "0"}


def test_a_master_key_may_move_a_sub_accounts_funds_back_to_main(client, signer, account, wall):
    accounts_ = ids(account)
    transfer_ok(
        client, signer, wall, fromAccountId=accounts_["main"], toAccountId=accounts_["sub"], quantity="15"
    )
    transfer_ok(
        client, signer, wall, fromAccountId=accounts_["sub"], toAccountId=accounts_["main"], quantity="5"
    )

    assert holdings(client, signer, accounts_["sub"]) == {"USDT": "10"}


def test_a_sub_key_moves_its_own_funds_to_main(client, signer, sub_signer, account, wall):
    accounts_ = ids(account)
    transfer_ok(
        client, signer, wall, fromAccountId=accounts_["main"], toAccountId=accounts_["sub"], quantity="15"
    )
    transfer_ok(
        client, sub_signer, wall, fromAccountId=accounts_["sub"], toAccountId=accounts_["main"], quantity="15"
    )

    assert holdings(client, signer, accounts_["main"])["USDT"] == "1000"


# ---- parameters -------------------------------------------------------------------------------------


@pytest.mark.parametrize("missing", ["fromAccountId", "toAccountId", "coin", "quantity"])
def test_a_missing_required_parameter_is_0001_naming_it(app, client, signer, account, missing):
    accounts_ = ids(account)
    params = {
        "fromAccountId": accounts_["main"],
        "toAccountId": accounts_["custody"],
        "coin": "USDT",
        "quantity": "1",
    }
    del params[missing]
    before = state(app)

    status, body = send(client, signer, **params)

    assert (status, body) == (400, error("0001", f"Required field {missing} missing or invalid"))
    assert state(app) == before


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("fromAccountId", "main"),
        ("fromAccountId", ""),
        ("toAccountId", "-1"),
        ("coin", ""),
        ("quantity", "0"),
        ("quantity", "-1"),
        ("quantity", "ten"),
        ("quantity", "NaN"),
        ("quantity", "1e"),
        ("quantity", ""),
        ("remark", "r" * 129),
        ("clientOrderId", "c" * 65),
    ],
)
def test_a_malformed_parameter_is_0001_naming_it(app, client, signer, account, name, value):
    accounts_ = ids(account)
    params = {
        "fromAccountId": accounts_["main"],
        "toAccountId": accounts_["custody"],
        "coin": "USDT",
        "quantity": "1",
    }
    before = state(app)

    status, body = send(client, signer, **{**params, name: value})

    assert (status, body) == (400, error("0001", f"Required field {name} missing or invalid"))
    assert state(app) == before


def test_remark_and_client_order_id_at_their_maximum_length_are_accepted(client, signer, account):
    accounts_ = ids(account)
    status, body = send(
        client,
        signer,
        fromAccountId=accounts_["main"],
        toAccountId=accounts_["custody"],
        coin="USDT",
        quantity="1",
        remark="r" * 128,
        clientOrderId="c" * 64,
    )

    assert status == 200, body
    assert body["clientOrderId"] == "c" * 64


def test_a_key_without_trade_permission_may_not_transfer(app, client, create_account):
    reader = create_account(balances={"USDT": "10"}, permissions="read")
    signer = Signer(reader["apiKey"], reader["secretKey"])
    accounts_ = ids(reader)

    status, body = send(
        client,
        signer,
        fromAccountId=accounts_["main"],
        toAccountId=accounts_["custody"],
        coin="USDT",
        quantity="1",
    )

    assert (status, body) == (400, error("-1005", "No permission"))


# ---- accounts ---------------------------------------------------------------------------------------


INVALID_FROM = error("-1172", "Invalid from account id")
INVALID_TO = error("-1173", "Invalid to account id")
SAME_ACCOUNT = error("-1174", "Transfer not allowed between the same account")
NOT_FROM_MAIN = error("-1204", "From account must be a main account")


@pytest.mark.parametrize(
    ("source", "target", "expected"),
    [
        ("unknown", "custody", INVALID_FROM),
        ("main", "unknown", INVALID_TO),
        ("main", "main", SAME_ACCOUNT),
        ("custody", "custody", SAME_ACCOUNT),
        ("custody", "sub", NOT_FROM_MAIN),
        ("fiat", "sub", NOT_FROM_MAIN),
        ("sub", "sub2", NOT_FROM_MAIN),
        ("sub", "custody", INVALID_TO),
        ("sub", "fiat", INVALID_TO),
    ],
)
def test_routes_the_venue_refuses(app, client, signer, create_account, source, target, expected):
    user = create_account(balances={"USDT": "100"}, subAccounts=2)
    master = Signer(user["apiKey"], user["secretKey"])
    accounts_ = {
        **ids(user),
        "sub2": account_of_type(user, 1, 2)["accountId"],
        "unknown": "1999999999999999999",
    }
    before = state(app)

    status, body = send(
        client,
        master,
        fromAccountId=accounts_[source],
        toAccountId=accounts_[target],
        coin="USDT",
        quantity="1",
    )

    assert (status, body) == (400, expected)
    assert state(app) == before


@pytest.mark.parametrize("source", ["main", "custody", "fiat"])
def test_a_sub_key_may_only_move_its_own_accounts_funds(app, client, sub_signer, account, source):
    accounts_ = ids(account)
    before = state(app)

    status, body = send(
        client,
        sub_signer,
        fromAccountId=accounts_[source],
        toAccountId=accounts_["sub"],
        coin="USDT",
        quantity="1",
    )

    assert (status, body) == (400, INVALID_FROM)
    assert state(app) == before


def test_a_sub_key_may_not_send_to_custody(client, signer, sub_signer, account, wall):
    accounts_ = ids(account)
    transfer_ok(
        client, signer, wall, fromAccountId=accounts_["main"], toAccountId=accounts_["sub"], quantity="15"
    )

    status, body = send(
        client,
        sub_signer,
        fromAccountId=accounts_["sub"],
        toAccountId=accounts_["custody"],
        coin="USDT",
        quantity="1",
    )

    assert (status, body) == (400, INVALID_TO)


def test_a_user_can_neither_take_from_nor_send_to_another_users_accounts(app, client, signer, account, other):
    mine, theirs = ids(account), ids(other)
    before = state(app)

    taken = send(
        client, signer, fromAccountId=theirs["main"], toAccountId=mine["main"], coin="USDT", quantity="1"
    )
    sent = send(
        client, signer, fromAccountId=mine["main"], toAccountId=theirs["main"], coin="USDT", quantity="1"
    )
    into_their_sub = send(
        client, signer, fromAccountId=mine["main"], toAccountId=theirs["sub"], coin="USDT", quantity="1"
    )

    assert taken == (400, INVALID_FROM)
    assert sent == (400, INVALID_TO)
    assert into_their_sub == (400, INVALID_TO)
    assert state(app) == before
    assert holdings(client, Signer(other["apiKey"], other["secretKey"]), theirs["main"]) == {"USDT": "500"}


def test_account_checks_come_before_the_coin_check(client, signer, account):
    accounts_ = ids(account)

    status, body = send(
        client,
        signer,
        fromAccountId=accounts_["main"],
        toAccountId=accounts_["main"],
        coin="DOGE",
        quantity="1",
    )

    assert (status, body) == (400, SAME_ACCOUNT)


# ---- coin, duplicates, frequency, balance -----------------------------------------------------------


@pytest.mark.parametrize("coin", ["DOGE", "usdt"])
def test_an_unknown_coin_is_4001(app, client, signer, account, coin):
    accounts_ = ids(account)
    before = state(app)

    status, body = send(
        client,
        signer,
        fromAccountId=accounts_["main"],
        toAccountId=accounts_["custody"],
        coin=coin,
        quantity="1",
    )

    assert (status, body) == (400, error("-4001", "Invalid asset"))
    assert state(app) == before


def test_a_client_order_id_used_before_by_the_user_is_a_duplicate_request(
    app, client, signer, sub_signer, account, other, wall
):
    accounts_ = ids(account)
    route = {
        "fromAccountId": accounts_["main"],
        "toAccountId": accounts_["custody"],
        "coin": "USDT",
        "quantity": "1",
    }
    transfer_ok(client, signer, wall, **route, clientOrderId="once")
    transfer_ok(
        client, signer, wall, fromAccountId=accounts_["main"], toAccountId=accounts_["sub"], quantity="5"
    )
    before = state(app)

    again = send(client, signer, **route, clientOrderId="once")
    from_the_sub_key = send(
        client,
        sub_signer,
        fromAccountId=accounts_["sub"],
        toAccountId=accounts_["main"],
        coin="USDT",
        quantity="1",
        clientOrderId="once",
    )

    assert again == (400, error("-1024", "Duplicate request"))
    assert from_the_sub_key == (400, error("-1024", "Duplicate request"))
    assert state(app) == before
    theirs = ids(other)
    other_signer = Signer(other["apiKey"], other["secretKey"])
    assert (
        send(
            client,
            other_signer,
            fromAccountId=theirs["main"],
            toAccountId=theirs["custody"],
            coin="USDT",
            quantity="1",
            clientOrderId="once",
        )[0]
        == 200
    )


def test_transfers_without_a_client_order_id_are_never_duplicates(client, signer, account, wall):
    accounts_ = ids(account)
    first = transfer_ok(
        client, signer, wall, fromAccountId=accounts_["main"], toAccountId=accounts_["custody"], quantity="1"
    )
    second = transfer_ok(
        client, signer, wall, fromAccountId=accounts_["main"], toAccountId=accounts_["custody"], quantity="1"
    )

    assert first["orderId"] != second["orderId"]
    assert first["clientOrderId"] == second["clientOrderId"] == ""


TOO_FREQUENT = error("-3145", "Please DO NOT submit request too frequently")


def test_a_second_transfer_within_a_second_of_wall_time_is_refused(app, client, signer, account, wall):
    accounts_ = ids(account)
    route = {
        "fromAccountId": accounts_["main"],
        "toAccountId": accounts_["custody"],
        "coin": "USDT",
        "quantity": "1",
    }
    assert send(client, signer, **route)[0] == 200
    wall.tick(timedelta(milliseconds=999))
    before = state(app)

    assert send(client, signer, **route) == (400, TOO_FREQUENT)
    assert state(app) == before
    wall.tick(timedelta(milliseconds=1))  # a refused request does not count: a second after the first one
    assert send(client, signer, **route)[0] == 200
    assert holdings(client, signer, accounts_["custody"]) == {"USDT": "2"}


def test_the_once_per_second_rule_is_per_user_across_keys(client, signer, sub_signer, account, other, wall):
    accounts_ = ids(account)
    assert (
        send(
            client,
            signer,
            fromAccountId=accounts_["main"],
            toAccountId=accounts_["sub"],
            coin="USDT",
            quantity="5",
        )[0]
        == 200
    )

    from_the_sub_key = send(
        client,
        sub_signer,
        fromAccountId=accounts_["sub"],
        toAccountId=accounts_["main"],
        coin="USDT",
        quantity="1",
    )
    theirs = ids(other)
    another_user = send(
        client,
        Signer(other["apiKey"], other["secretKey"]),
        fromAccountId=theirs["main"],
        toAccountId=theirs["custody"],
        coin="USDT",
        quantity="1",
    )

    assert from_the_sub_key == (400, TOO_FREQUENT)
    assert another_user[0] == 200


def test_a_refused_transfer_does_not_start_the_one_second_window(client, signer, account):
    accounts_ = ids(account)
    refused = send(
        client,
        signer,
        fromAccountId=accounts_["main"],
        toAccountId=accounts_["custody"],
        coin="USDT",
        quantity="5000",
    )
    accepted = send(
        client,
        signer,
        fromAccountId=accounts_["main"],
        toAccountId=accounts_["custody"],
        coin="USDT",
        quantity="5",
    )

    assert refused == (400, error("0401", "Insufficient asset"))
    assert accepted[0] == 200


def test_the_interval_is_a_parameter_of_the_service(app, account):
    """The window is injectable: a service caller (a replay harness) may choose another interval."""
    accounts_ = ids(account)
    database = app.extensions[EXTENSION].database
    wanted = transfers.TransferRequest(accounts_["main"], accounts_["custody"], "USDT", D("1"))
    with database.read() as session:
        identity = accounts.find_key(session, account["apiKey"])
    with database.write() as session:
        transfers.transfer(session, identity, wanted, T0, 10_000, min_interval_ms=5000)
    with pytest.raises(errors.TooFrequent), database.write() as session:
        transfers.transfer(session, identity, wanted, T0, 14_999, min_interval_ms=5000)
    with database.write() as session:
        transfers.transfer(session, identity, wanted, T0, 15_000, min_interval_ms=5000)


def test_more_than_the_free_balance_is_insufficient_asset(app, client, signer, account):
    accounts_ = ids(account)
    before = state(app)

    status, body = send(
        client,
        signer,
        fromAccountId=accounts_["main"],
        toAccountId=accounts_["custody"],
        coin="USDT",
        quantity="1000.01",
    )

    assert (status, body) == (400, error("0401", "Insufficient asset"))
    assert state(app) == before


def test_the_whole_free_balance_may_move(client, signer, account):
    accounts_ = ids(account)
    status, _ = send(
        client,
        signer,
        fromAccountId=accounts_["main"],
        toAccountId=accounts_["custody"],
        coin="BTC",
        quantity="0.5",
    )

    assert status == 200
    assert holdings(client, signer, accounts_["main"]) == {"BTC": "0", "USDT": "1000"}


def test_funds_locked_by_an_open_order_cannot_be_transferred(app, client, signer, account):
    accounts_ = ids(account)
    place(client, signer, side="BUY", type="LIMIT", price="35000", quantity="0.01")  # locks 350 USDT
    before = state(app)

    status, body = send(
        client,
        signer,
        fromAccountId=accounts_["main"],
        toAccountId=accounts_["custody"],
        coin="USDT",
        quantity="650.01",
    )

    assert (status, body) == (400, error("0401", "Insufficient asset"))
    assert state(app) == before
    assert (
        send(
            client,
            signer,
            fromAccountId=accounts_["main"],
            toAccountId=accounts_["custody"],
            coin="USDT",
            quantity="650",
        )[0]
        == 200
    )


def test_an_asset_the_account_never_held_is_insufficient(app, client, signer, account):
    accounts_ = ids(account)
    before = state(app)

    status, body = send(
        client,
        signer,
        fromAccountId=accounts_["custody"],
        toAccountId=accounts_["main"],
        coin="ETH",
        quantity="1",
    )

    assert (status, body) == (400, error("0401", "Insufficient asset"))
    assert state(app) == before


# ---- atomicity --------------------------------------------------------------------------------------


def test_a_failure_after_the_debit_rolls_the_whole_transfer_back(app, account, monkeypatch):
    accounts_ = ids(account)
    database = app.extensions[EXTENSION].database
    with database.read() as session:
        identity = accounts.find_key(session, account["apiKey"])
    before = state(app)
    calls = []

    def failing_credit(session, account_id, asset, change, flow, now_ms, remark=""):
        calls.append(change)
        if change > 0:
            raise RuntimeError("the credit failed")
        accounts.change_balance(session, account_id, asset, change, flow, now_ms, remark)

    monkeypatch.setattr(transfers, "change_balance", failing_credit)
    wanted = transfers.TransferRequest(accounts_["main"], accounts_["custody"], "USDT", D("10"))

    with pytest.raises(RuntimeError), database.write() as session:
        transfers.transfer(session, identity, wanted, T0, T0)

    assert calls == [D("-10"), D("10")]  # the debit was made, then undone with everything else
    assert state(app) == before
