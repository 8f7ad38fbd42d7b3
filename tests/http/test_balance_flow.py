"""GET /api/v1/account/balanceFlow — Get Account Transaction History List: the document's examples after
transfers, trades and fees of placed orders, which account each key reads, the 7-day and 30-day windows on
the market clock, and the venue's code for every bad request."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal as D
from typing import Any

import pytest
from sqlalchemy import select

from simulator.http.state import EXTENSION
from simulator.storage import tables
from tests.conftest import Signer
from tests.http.test_admin import set_clock
from tests.http.test_asset_transfer import ids
from tests.http.test_auth import frozen_at
from tests.http.test_orders import BOOK, T0, call, place, record

PATH = "/api/v1/account/balanceFlow"
DAY_MS = 86_400_000
FIELDS = [
    "id",
    "accountId",
    "coin",
    "coinId",
    "coinName",
    "flowTypeValue",
    "flowType",
    "flowName",
    "change",
    "total",
    "created",
]


@pytest.fixture(autouse=True)
def wall():
    """The wall clock, frozen at the market's T0 (so the opening balances are stamped T0 too)."""
    with frozen_at(T0) as frozen:
        yield frozen


@pytest.fixture
def app(make_app):
    """Market clock stopped at T0 (replay, speed 0) over a recorded BTCUSDT book."""
    app = make_app(clock_mode="replay", clock_start=T0, clock_speed=D(0))
    record(app, BOOK)
    return app


def transfer(
    client, signer: Signer, wall, source: str, target: str, quantity: str, coin: str = "USDT"
) -> str:
    """A transfer that must succeed (the wall clock then moves a second); its orderId."""
    status, body = call(
        client,
        signer,
        "POST",
        "/api/v1/account/assetTransfer",
        fromAccountId=source,
        toAccountId=target,
        coin=coin,
        quantity=quantity,
    )
    assert status == 200, body
    wall.tick(timedelta(seconds=1))
    return body["orderId"]


def flow(client, signer: Signer, start: int = T0 - DAY_MS, end: int = T0 + DAY_MS, **params: Any) -> list:
    status, body = call(client, signer, "GET", PATH, startTime=start, endTime=end, **params)
    assert status == 200, body
    return body


def refused(client, signer: Signer, **params: Any) -> tuple[int, Any]:
    return call(client, signer, "GET", PATH, **params)


def move_market(client, to_ms: int) -> None:
    response = set_clock(client, mode="replay", time=to_ms, speed=0)
    assert response.status_code == 200, response.get_json()


def summary(entries: list[dict[str, Any]]) -> list[tuple[str, str, str, str]]:
    return [(e["flowType"], e["coin"], e["change"], e["total"]) for e in entries]


# ---- the document's examples ------------------------------------------------------------------------


def test_example_1_main_to_custody_shows_on_both_accounts(client, signer, account, wall):
    accounts_ = ids(account)
    transfer(client, signer, wall, accounts_["main"], accounts_["custody"], "10")

    main = flow(client, signer, flowType=51, accountType=1)
    custody = flow(client, signer, flowType=51, accountType=5)

    assert main == [
        {
            "id": main[0]["id"],
            "accountId": accounts_["main"],
            "coin": "USDT",
            "coinId": "USDT",
            "coinName": "USDT",
            "flowTypeValue": 51,
            "flowType": "USER_ACCOUNT_TRANSFER",
            "flowName": "",
            "change": "-10",
            "total": "990",
            "created": str(T0),
        }
    ]
    assert custody == [
        {
            **main[0],
            "id": custody[0]["id"],
            "accountId": accounts_["custody"],
            "change": "10",
            "total": "10",
        }
    ]
    assert list(main[0]) == FIELDS
    assert len(main[0]["id"]) == 19 and int(custody[0]["id"]) > int(main[0]["id"])


def test_example_2_main_to_sub_as_the_master_and_the_sub_key_see_it(
    client, signer, sub_signer, account, wall
):
    accounts_ = ids(account)
    transfer(client, signer, wall, accounts_["main"], accounts_["sub"], "15")

    master_view = flow(client, signer, flowType=51, accountType=1)
    sub_view = flow(client, sub_signer, flowType=51, accountType=1)

    assert summary(master_view) == [("USER_ACCOUNT_TRANSFER", "USDT", "-15", "985")]
    assert master_view[0]["accountId"] == accounts_["main"]
    assert summary(sub_view) == [("USER_ACCOUNT_TRANSFER", "USDT", "15", "15")]
    assert sub_view[0]["accountId"] == accounts_["sub"]


def test_entries_are_the_ledgers_own_rows(app, client, signer, account, wall):
    accounts_ = ids(account)
    order_id = transfer(client, signer, wall, accounts_["main"], accounts_["fiat"], "2.50")

    listed = flow(client, signer, accountType=6)

    with app.extensions[EXTENSION].database.read() as session:
        rows = session.scalars(
            select(tables.LedgerEntry).where(tables.LedgerEntry.account_id == accounts_["fiat"])
        ).all()
    assert [(e["id"], e["change"], e["total"]) for e in listed] == [(r.id, "2.5", "2.5") for r in rows]
    assert [r.remark for r in rows] == [order_id]


# ---- which account ----------------------------------------------------------------------------------


def test_without_account_type_a_master_key_reads_the_main_trading_account(client, signer, account, wall):
    accounts_ = ids(account)
    transfer(client, signer, wall, accounts_["main"], accounts_["custody"], "10")

    listed = flow(client, signer)

    assert {e["accountId"] for e in listed} == {accounts_["main"]}
    # newest first: the transfer, then the opening balances (one per asset, at T0 like it)
    assert summary(listed[:1]) == [("USER_ACCOUNT_TRANSFER", "USDT", "-10", "990")]
    assert set(summary(listed[1:])) == {
        ("CUSTODY_DEPOSIT", "USDT", "1000", "1000"),
        ("CUSTODY_DEPOSIT", "BTC", "0.5", "0.5"),
    }
    assert [e["flowTypeValue"] for e in listed] == [51, 900, 900]


@pytest.mark.parametrize("account_type", [3, 5, 6])
def test_a_sub_key_reads_only_its_own_trading_account(
    client, signer, sub_signer, account, wall, account_type
):
    accounts_ = ids(account)
    transfer(client, signer, wall, accounts_["main"], accounts_["custody"], "10")
    transfer(client, signer, wall, accounts_["main"], accounts_["fiat"], "10")

    assert flow(client, sub_signer, accountType=account_type) == []
    assert flow(client, sub_signer) == []  # its own account has had no entries yet


def test_contract_records_are_always_empty(client, signer, account):
    assert flow(client, signer, accountType=3) == []


def test_a_user_reads_only_its_own_accounts(client, signer, account, create_account, wall):
    accounts_ = ids(account)
    transfer(client, signer, wall, accounts_["main"], accounts_["custody"], "10")
    stranger = create_account(balances={"ETH": "1"}, subAccounts=1)
    their_signer = Signer(stranger["apiKey"], stranger["secretKey"])

    assert flow(client, their_signer, accountType=5) == []
    assert summary(flow(client, their_signer)) == [("CUSTODY_DEPOSIT", "ETH", "1", "1")]
    assert {e["accountId"] for e in flow(client, their_signer)} == {ids(stranger)["main"]}


# ---- trades and fees --------------------------------------------------------------------------------


def test_a_market_orders_fills_are_one_trade_entry_per_asset_and_one_fee_entry(client, signer, account):
    place(client, signer, side="BUY", type="MARKET", quantity="0.02")  # 0.01 at 36010, 0.01 at 36020

    trades = flow(client, signer, flowType=1)
    fees = flow(client, signer, flowType=2)

    assert summary(trades) == [("TRADE", "BTC", "0.02", "0.52"), ("TRADE", "USDT", "-720.3", "279.7")]
    assert summary(fees) == [("FEE", "BTC", "-0.000024", "0.519976")]
    assert [e["flowTypeValue"] for e in trades + fees] == [1, 1, 2]
    everything = flow(client, signer)
    ids_in_order = [int(e["id"]) for e in everything]
    assert ids_in_order == sorted(ids_in_order, reverse=True)  # one millisecond: newest id first
    assert {e["created"] for e in everything} == {str(T0)}
    status, fills = call(client, signer, "GET", "/api/v1/account/trades", symbol="BTCUSDT")
    assert status == 200, fills
    assert sorted((f["price"], f["qty"], f["commission"]) for f in fills) == [  # every fill still listed
        ("36010", "0.01", "0.000012"),
        ("36020", "0.01", "0.000012"),
    ]


def test_each_entrys_total_is_the_last_total_plus_its_change(client, signer, account, wall):
    """Locked funds count in a total: a resting order's, here, while the market order pays from its lock."""
    accounts_ = ids(account)
    place(client, signer, side="BUY", type="LIMIT", price="35000", quantity="0.001")  # rests, locks 35 USDT
    place(client, signer, side="BUY", type="MARKET", quantity="0.02")
    place(client, signer, side="SELL", type="MARKET", quantity="0.015")
    transfer(client, signer, wall, accounts_["main"], accounts_["custody"], "10")

    oldest_first = flow(client, signer)[::-1]

    last_total: dict[str, D] = {}
    for entry in oldest_first:
        change, total = D(entry["change"]), D(entry["total"])
        assert total == last_total.get(entry["coin"], D(0)) + change, entry
        last_total[entry["coin"]] = total
    assert len(oldest_first) == 2 + 3 + 3 + 1  # opening balances, each order's 3, the transfer's debit


def test_limit_keeps_the_newest_entries(client, signer, account):
    place(client, signer, side="BUY", type="MARKET", quantity="0.02")

    everything = flow(client, signer)
    assert len(everything) == 5  # 2 opening balances, 2 trades, 1 fee
    assert flow(client, signer, limit=3) == everything[:3]
    assert flow(client, signer, limit=500) == everything


def test_trades_and_fees_are_kept_7_days_and_transfers_30(client, signer, account, wall):
    accounts_ = ids(account)
    place(client, signer, side="BUY", type="MARKET", quantity="0.02")
    transfer(client, signer, wall, accounts_["main"], accounts_["custody"], "10")

    move_market(client, T0 + 7 * DAY_MS)
    window = {"start": T0, "end": T0 + 7 * DAY_MS}
    assert len(flow(client, signer, flowType=1, **window)) == 2  # exactly 7 days old: still recent
    assert len(flow(client, signer, flowType=2, **window)) == 1

    move_market(client, T0 + 7 * DAY_MS + 1)
    assert flow(client, signer, flowType=1, **window) == []
    assert flow(client, signer, flowType=2, **window) == []
    assert [e["flowTypeValue"] for e in flow(client, signer, **window)] == [51, 900, 900]

    move_market(client, T0 + 30 * DAY_MS)
    window = {"start": T0, "end": T0 + 30 * DAY_MS}
    assert [e["flowTypeValue"] for e in flow(client, signer, **window)] == [51, 900, 900]
    assert summary(flow(client, signer, accountType=5, **window)) == [
        ("USER_ACCOUNT_TRANSFER", "USDT", "10", "10")
    ]


def test_start_and_end_bound_the_created_time_inclusively(client, signer, account, wall):
    accounts_ = ids(account)
    transfer(client, signer, wall, accounts_["main"], accounts_["custody"], "10")
    move_market(client, T0 + 5000)
    transfer(client, signer, wall, accounts_["main"], accounts_["custody"], "20")

    def changes(start: int, end: int) -> list[str]:
        return [e["change"] for e in flow(client, signer, start=start, end=end, accountType=5)]

    assert changes(T0, T0 + 5000) == ["20", "10"]
    assert changes(T0 + 1, T0 + 5000) == ["20"]
    assert changes(T0, T0 + 4999) == ["10"]
    assert changes(T0 + 5000, T0) == []  # an end before the start lists nothing


WINDOW_OVER_30_DAYS = {"code": "-2027", "msg": "Exceed maximum time range of 30 days"}
BEFORE_LAST_MONTH = {"code": "-2028", "msg": "The search is limited to data within the last one month"}


def test_a_range_over_30_days_is_2027(client, signer, account):
    start = T0 - 30 * DAY_MS

    assert flow(client, signer, start=start, end=T0) == flow(client, signer)  # exactly 30 days is allowed
    assert refused(client, signer, startTime=start, endTime=T0 + 1) == (400, WINDOW_OVER_30_DAYS)


def test_a_start_before_the_last_30_days_of_market_time_is_2028(client, signer, account):
    start = T0 - 30 * DAY_MS

    assert refused(client, signer, startTime=start - 1, endTime=T0 - DAY_MS) == (400, BEFORE_LAST_MONTH)
    assert flow(client, signer, start=start, end=T0)  # the opening balances at T0


def test_the_range_is_checked_before_its_age(client, signer, account):
    assert refused(client, signer, startTime=T0 - 40 * DAY_MS, endTime=T0) == (400, WINDOW_OVER_30_DAYS)


def test_the_windows_follow_the_market_clock(client, signer, account):
    move_market(client, T0 + 60 * DAY_MS)

    assert refused(client, signer, startTime=T0, endTime=T0 + DAY_MS) == (400, BEFORE_LAST_MONTH)
    assert flow(client, signer, start=T0 + 30 * DAY_MS, end=T0 + 60 * DAY_MS) == []


# ---- parameters -------------------------------------------------------------------------------------


def missing(name: str) -> dict[str, str]:
    return {"code": "0001", "msg": f"Required field {name} missing or invalid"}


@pytest.mark.parametrize(
    ("params", "expected"),
    [
        ({"endTime": T0}, missing("startTime")),
        ({"startTime": T0}, missing("endTime")),
        ({"startTime": "yesterday", "endTime": T0}, missing("startTime")),
        ({"startTime": T0, "endTime": "-1"}, missing("endTime")),
        ({"startTime": T0, "endTime": T0, "flowType": 3}, missing("flowType")),
        ({"startTime": T0, "endTime": T0, "flowType": "trade"}, missing("flowType")),
        ({"startTime": T0, "endTime": T0, "accountType": 2}, missing("accountType")),
        ({"startTime": T0, "endTime": T0, "accountType": "x"}, missing("accountType")),
        (
            {"startTime": T0, "endTime": T0, "limit": 501},
            {"code": "-1130", "msg": "Illegal parameter 'limit'"},
        ),
        (
            {"startTime": T0, "endTime": T0, "limit": -1},
            {"code": "-1130", "msg": "Illegal parameter 'limit'"},
        ),
        ({"startTime": T0, "endTime": "", "flowType": 1}, missing("endTime")),
        ({"startTime": T0 - 40 * DAY_MS, "endTime": T0, "flowType": 7}, missing("flowType")),
    ],
)
def test_bad_parameters_get_the_venues_code(client, signer, account, params, expected):
    assert refused(client, signer, **params) == (400, expected)


@pytest.mark.parametrize("flow_type", [1, 2, 32, 51, 900, 904, 906, 910])
def test_every_documented_flow_type_is_accepted(client, signer, account, flow_type):
    listed = flow(client, signer, flowType=flow_type)

    assert [e["flowTypeValue"] for e in listed] == ([900, 900] if flow_type == 900 else [])
