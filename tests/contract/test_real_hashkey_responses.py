"""The shapes of the simulator's answers against real HashKey answers recorded by the ccxt project.

The samples are in ../shared/data/real/hashkey/ (provenance in ../shared/data/real/SOURCES.md): the ccxt
static-response fixture (raw REST bodies, spot and swap) and the response examples quoted in ccxt's
hashkey.py comments. Both were taken on HashKey Global; the contract is the HashKey document
(shared/seeds/003_*.txt). Each spot sample is one case: the simulator is brought into a comparable
situation (a resting LIMIT, a filled MARKET, a cancel, a list with an element in it, recorded trades and
bars under the market-data lists), asked the same endpoint, and the two bodies compared by shape: for
objects the set of keys, for every key both have its JSON type, for arrays the shape of the first element
(an array of rows, as klines and book levels, row by row: element count and each position's type; filters
matched by filterType). Values are not compared, except that an order scenario shows the sample's
status/type/side/timeInForce (so the situation is the same) and an enum-like field whose real value is a
documented name has a documented name in ours too.

Where a difference is the document's or a deliberate choice of the README, ALLOWED names it with the reason.
A case that shows a real difference of the simulator from both the venue and the document is marked xfail
(strict) in SUSPECTED_BUGS. Futures/swap samples and ccxt's parse-helper fragments are skipped; a test checks
that every sample is either a case here or skipped for a stated reason.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import Decimal as D
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient

from simulator.marketdata.records import Kline, Trade
from tests.conftest import Signer, admin_headers
from tests.http.test_orders import BOOK, T0, batch, record, step
from tests.http.test_quote_exchange_info import FILTER_TYPES

REPO_ROOT = Path(__file__).resolve().parents[2]
REAL_DATA = REPO_ROOT.parent / "shared" / "data" / "real"
STATIC = "hashkey/ccxt_static_response_hashkey_httpResponses.json"
COMMENTS = "hashkey/ccxt_hashkey_rest_comment_examples.jsonl"

MINUTE = 60_000
BAR_MINUTE = T0 - T0 % MINUTE
EVM_ADDRESS = "0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAed"
USDT_ETH_CONFIRMATION_MS = 64 * 12_000  # fixtures/coins.json: USDT on ETH, 64 blocks of 12 s
WITHDRAW_DELAY_MS = 120_000  # the default withdraw_delay_ms

# Enum-like fields: side, type and timeInForce as the document lists them (doc 449-454, 468-470), filter
# types as its table (doc 2802-2810), order statuses as the README's lifecycle (the document's "Order
# Status" table is empty in the text). Checked only where the real value is one of the names.
ENUMS: dict[str, frozenset[str]] = {
    "status": frozenset(
        {"NEW", "PARTIALLY_FILLED", "FILLED", "CANCELED", "PARTIALLY_CANCELED", "PENDING_CANCEL", "REJECTED"}
    ),
    "type": frozenset({"LIMIT", "MARKET", "LIMIT_MAKER"}),
    "side": frozenset({"BUY", "SELL"}),
    "timeInForce": frozenset({"GTC", "IOC", "FOK"}),
    "filterType": frozenset(FILTER_TYPES),
}
ORDER_KEYS = ("status", "type", "side", "timeInForce")


# ---- the real samples -------------------------------------------------------------------------------


def real_file(relative: str) -> Path:
    """A file of ../shared/data/real; the test is skipped where the shared samples are not checked out."""
    path = REAL_DATA / relative
    if not path.exists():
        pytest.skip(f"shared sample {relative} not present")
    return path


@pytest.fixture(scope="module")
def static_samples() -> list[dict[str, Any]]:
    return json.loads(real_file(STATIC).read_text(encoding="utf-8"))


@pytest.fixture(scope="module")
def comment_samples() -> dict[int, dict[str, Any]]:
    """By line number (1-based)."""
    lines = real_file(COMMENTS).read_text(encoding="utf-8").splitlines()
    return {number: json.loads(line) for number, line in enumerate(lines, 1) if line.strip()}


def static_sample(samples: list[dict[str, Any]], method: str, description: str) -> dict[str, Any]:
    found = [s for s in samples if (s["method"], s["description"]) == (method, description)]
    assert len(found) == 1, f"{len(found)} static samples for {method!r} / {description!r}"
    return found[0]


def find_static(samples: list[dict[str, Any]], method: str, description: str) -> Any:
    return static_sample(samples, method, description)["httpResponse"]


def find_comment(samples: dict[int, dict[str, Any]], line: int, method: str, endpoint: str) -> Any:
    sample = samples[line]
    assert (sample["ccxt_method"], sample["endpoint_call"]) == (method, endpoint), sample
    return sample["example"]


API_CALL = re.compile(r"^(public|private)(Get|Post|Put|Delete)")


def is_swap_symbol(value: Any) -> bool:
    return isinstance(value, str) and (value.endswith("-PERPETUAL") or value.endswith(":USDT"))


def first_object(body: Any) -> Any:
    return body[0] if isinstance(body, list) and body else body


def static_skip_reason(sample: dict[str, Any]) -> str | None:
    inputs = sample["input"]
    if any(is_swap_symbol(a) for a in inputs) or {"type": "swap"} in inputs:
        return "swap/futures (a ccxt :USDT symbol or type swap): the simulator has spot instruments only"
    return None


def comment_skip_reason(sample: dict[str, Any]) -> str | None:
    endpoint = sample["endpoint_call"]
    if endpoint is None:
        return "a parse_* helper's fragment, not an API answer"
    if not API_CALL.match(endpoint):
        return f"not an API call ({endpoint}): a fragment ccxt picks out of an answer"
    if "Futures" in endpoint:
        return "futures endpoint: the simulator has spot instruments only"
    shown = first_object(sample["example"])
    if isinstance(shown, dict) and (is_swap_symbol(shown.get("s")) or is_swap_symbol(shown.get("symbol"))):
        return "a futures symbol's answer (…-PERPETUAL) on a spot endpoint"
    return None


# ---- the simulator ----------------------------------------------------------------------------------


@dataclass
class Sim:
    """An app on the replay clock stopped at T0 over a recorded BTCUSDT book, trades and minute bars, and
    a user with funds on its main trading account and one sub account."""

    app: Flask
    client: FlaskClient
    account: dict[str, Any]
    signer: Signer = field(init=False)

    def __post_init__(self) -> None:
        self.signer = Signer(self.account["apiKey"], self.account["secretKey"])

    def account_id(self, account_type: int, index: int = 0) -> str:
        return next(
            a["accountId"]
            for a in self.account["accounts"]
            if a["accountType"] == account_type and a["accountIndex"] == index
        )

    def public(self, path: str, **query: Any) -> Any:
        response = self.client.get(path, query_string=query)
        assert response.status_code == 200, response.get_json()
        return response.get_json()

    def signed(self, method: str, path: str, **params: Any) -> Any:
        response = getattr(self.client, method.lower())(path, **self.signer.ccxt(method, **params))
        assert response.status_code == 200, response.get_json()
        return response.get_json()

    def admin(self, method: str, path: str, body: Any = None) -> Any:
        response = getattr(self.client, method.lower())(f"/sim/v1{path}", json=body, headers=admin_headers())
        assert response.status_code in (200, 201), response.get_json()
        return response.get_json()

    def order(self, path: str = "/api/v1.1/spot/order", **params: Any) -> dict[str, Any]:
        return self.signed("POST", path, **{"symbol": "BTCUSDT", **params})


def minute_bar(open_time: int, price: str) -> Kline:
    p = D(price)
    return Kline(
        "BTCUSDT", "1m", open_time, open_time + MINUTE - 1, p, p + 5, p - 5, p, D("2"), p * 2, 7, D("1"), p
    )


@pytest.fixture
def sim(make_app: Callable[..., Flask]) -> Sim:
    app = make_app(clock_mode="replay", clock_start=T0, clock_speed=D(0), rate_limits=False)
    bars = [minute_bar(BAR_MINUTE - k * MINUTE, str(36000 + k)) for k in range(10, 0, -1)]
    trades = [
        Trade("BTCUSDT", T0 - 3000, D("36005"), D("0.01"), True, "t-1"),
        Trade("BTCUSDT", T0 - 2000, D("36006"), D("0.02"), False, "t-2"),
    ]
    record(app, BOOK, *bars, *trades)
    client = app.test_client()
    response = client.post(
        "/sim/v1/accounts",
        json={"balances": {"USDT": "100000", "BTC": "10", "ETH": "10"}, "subAccounts": 1},
        headers=admin_headers(),
    )
    assert response.status_code == 201, response.get_json()
    return Sim(app, client, response.get_json())


# ---- scenarios: each brings the simulator into the sample's situation and answers what it answered -----

Scenario = Callable[[Sim], Any]

MARKET_BUY = {"side": "BUY", "type": "MARKET", "quantity": "0.01"}
MARKET_BUY_BY_AMOUNT = {"side": "BUY", "type": "MARKET", "amount": "20"}
MARKET_SELL = {"side": "SELL", "type": "MARKET", "quantity": "0.01"}
LIMIT_BUY_CROSSING = {"side": "BUY", "type": "LIMIT", "price": "36020", "quantity": "0.01"}
LIMIT_BUY_RESTING = {"side": "BUY", "type": "LIMIT", "price": "35000", "quantity": "0.01"}
LIMIT_SELL_RESTING = {"side": "SELL", "type": "LIMIT", "price": "37000", "quantity": "0.01"}
MAKER_BUY_RESTING = {"side": "BUY", "type": "LIMIT_MAKER", "price": "35000", "quantity": "0.01"}
MAKER_SELL_RESTING = {"side": "SELL", "type": "LIMIT_MAKER", "price": "37000", "quantity": "0.01"}


def public(path: str, pick: Callable[[Any], Any] = lambda body: body, **query: Any) -> Scenario:
    return lambda sim: pick(sim.public(path, **query))


def signed(method: str, path: str, **params: Any) -> Scenario:
    return lambda sim: sim.signed(method, path, **params)


def new_order(path: str = "/api/v1.1/spot/order", **params: Any) -> Scenario:
    return lambda sim: sim.order(path, **params)


def cost_buy_on_v1(sim: Sim) -> Any:
    """ccxt's createMarketBuyOrderWithCost: the older path, the cost sent as quantity."""
    return sim.order("/api/v1/spot/order", side="BUY", type="MARKET", quantity="20")


def batch_of_one(sim: Sim) -> Any:
    status, body = batch(
        sim.client, sim.signer, [{"symbol": "BTCUSDT", **LIMIT_BUY_RESTING}], "/api/v1/spot/batchOrders"
    )
    assert status == 200, body
    return body


def cancel_resting(sim: Sim) -> Any:
    placed = sim.order(**MAKER_SELL_RESTING)
    return sim.signed("DELETE", "/api/v1/spot/order", orderId=placed["orderId"])


def cancel_all_of_symbol(sim: Sim) -> Any:
    sim.order(**LIMIT_BUY_RESTING)
    return sim.signed("DELETE", "/api/v1/spot/openOrders", symbol="BTCUSDT")


def cancel_by_ids(sim: Sim) -> Any:
    placed = sim.order(**LIMIT_BUY_RESTING)
    return sim.signed("DELETE", "/api/v1/spot/cancelOrderByIds", ids=placed["orderId"])


def query_order(**params: Any) -> Scenario:
    def run(sim: Sim) -> Any:
        placed = sim.order(**params)
        return sim.signed("GET", "/api/v1/spot/order", orderId=placed["orderId"])

    return run


def query_filled_maker_sell(sim: Sim) -> Any:
    """A LIMIT_MAKER sell resting above the book, filled by a recorded trade through its price."""
    placed = sim.order(side="SELL", type="LIMIT_MAKER", price="36020", quantity="0.01")
    record(sim.app, Trade("BTCUSDT", T0 + 1000, D("36100"), D("1"), False, "t-after"))
    step(sim.app, 2000)
    return sim.signed("GET", "/api/v1/spot/order", orderId=placed["orderId"])


def open_orders(**params: Any) -> Scenario:
    def run(sim: Sim) -> Any:
        sim.order(**params)
        return sim.signed("GET", "/api/v1/spot/openOrders")

    return run


def trade_orders(sim: Sim) -> Any:
    sim.order(**MARKET_BUY)
    return sim.signed("GET", "/api/v1/spot/tradeOrders")


def my_trades(order: dict[str, str], **query: Any) -> Scenario:
    def run(sim: Sim) -> Any:
        placed = sim.order(**order, newClientOrderId="c-1")
        assert placed["status"] == "FILLED"
        return sim.signed("GET", "/api/v1/account/trades", symbol="BTCUSDT", **query)

    return run


def deposit_orders(sim: Sim) -> Any:
    """A USDT deposit on ETH, credited after its confirmations (the samples' status 4)."""
    sim.admin(
        "POST",
        f"/accounts/{sim.account_id(1)}/deposits",
        {"coin": "USDT", "chainType": "ETH", "quantity": "100"},
    )
    sim.admin("POST", "/clock", {"advanceMs": USDT_ETH_CONFIRMATION_MS})
    return sim.signed("GET", "/api/v1/account/depositOrders")


def withdraw(sim: Sim) -> Any:
    custody = sim.account_id(5)
    sim.admin("POST", f"/accounts/{custody}/balances", {"asset": "USDT", "amount": "100"})
    return sim.signed(
        "POST",
        "/api/v1/account/withdraw",
        coin="USDT",
        chainType="ETH",
        address=EVM_ADDRESS,
        quantity="50",
        clientOrderId="w-1",
    )


def withdraw_orders(sim: Sim) -> Any:
    """A withdrawal that completed (the samples show its txId and arriveQuantity)."""
    withdraw(sim)
    sim.admin("POST", "/clock", {"advanceMs": WITHDRAW_DELAY_MS})
    return sim.signed("GET", "/api/v1/account/withdrawOrders")


def transfer_to_sub(sim: Sim) -> Any:
    return sim.signed(
        "POST",
        "/api/v1/account/assetTransfer",
        fromAccountId=sim.account_id(1, 0),
        toAccountId=sim.account_id(1, 1),
        coin="USDT",
        quantity="1",
    )


def balance_flow(sim: Sim) -> Any:
    """The transfer entries of the main trading account (the samples' flowType 51)."""
    transfer_to_sub(sim)
    return sim.signed(
        "GET", "/api/v1/account/balanceFlow", startTime=T0 - MINUTE, endTime=T0 + MINUTE, flowType=51
    )


SCENARIOS: dict[str, Scenario] = {
    "server_time": public("/api/v1/time"),
    "exchange_info": public("/api/v1/exchangeInfo"),
    "exchange_info_symbol": public(
        "/api/v1/exchangeInfo", pick=lambda body: body["symbols"][0], symbol="ETHUSDT"
    ),
    "depth": public("/quote/v1/depth", symbol="BTCUSDT", limit=2),
    "trades": public("/quote/v1/trades", symbol="BTCUSDT", limit=1),
    "klines_1m": public("/quote/v1/klines", symbol="BTCUSDT", interval="1m", limit=1),
    "klines_5m": public("/quote/v1/klines", symbol="BTCUSDT", interval="5m", limit=1),
    "ticker_24hr": public("/quote/v1/ticker/24hr", symbol="BTCUSDT"),
    "account": signed("GET", "/api/v1/account"),
    "account_type": signed("GET", "/api/v1/account/type"),
    "deposit_address": signed("GET", "/api/v1/account/deposit/address", coin="USDT", chainType="ETH"),
    "deposit_orders": deposit_orders,
    "withdraw": withdraw,
    "withdraw_orders": withdraw_orders,
    "transfer_to_sub": transfer_to_sub,
    "balance_flow": balance_flow,
    "vip_info": signed("GET", "/api/v1/account/vipInfo", symbols="BTCUSDT"),
    "market_buy": new_order(**MARKET_BUY),
    "cost_buy_v1": cost_buy_on_v1,
    "market_sell": new_order(**MARKET_SELL),
    "market_sell_v1": new_order("/api/v1/spot/order", **MARKET_SELL),
    "market_sell_client_id": new_order(**MARKET_SELL, newClientOrderId="2345689"),
    "limit_buy_filled": new_order(**LIMIT_BUY_CROSSING),
    "limit_sell_resting": new_order(**LIMIT_SELL_RESTING),
    "maker_buy_resting": new_order(**MAKER_BUY_RESTING),
    "maker_sell_resting_v1": new_order("/api/v1/spot/order", **MAKER_SELL_RESTING),
    "batch_v1": batch_of_one,
    "cancel": cancel_resting,
    "cancel_open_orders": cancel_all_of_symbol,
    "cancel_by_ids": cancel_by_ids,
    "query_filled_maker_sell": query_filled_maker_sell,
    "query_market_buy_by_amount": query_order(**MARKET_BUY_BY_AMOUNT),
    "open_maker_buys": open_orders(**MAKER_BUY_RESTING),
    "open_limit_buy": open_orders(**LIMIT_BUY_RESTING),
    "trade_orders": trade_orders,
    "my_trades_buy": my_trades(MARKET_BUY, limit=2),
    "my_trades_sell": my_trades(MARKET_SELL, startTime=T0 - MINUTE, endTime=T0 + MINUTE, limit=1),
    "my_trades_by_client_id": my_trades(MARKET_SELL, clientOrderId="c-1"),
}


# ---- the cases --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Case:
    id: str
    scenario: str
    static: tuple[str, str] | None = None  # (method, description) in the static-response fixture
    comment: tuple[int, str, str] | None = None  # (line, ccxt_method, endpoint_call) in the comments file
    same: tuple[str, ...] = ()  # keys whose values must be the sample's (the same situation)


def static_case(method: str, description: str, scenario: str, same: tuple[str, ...] = ()) -> Case:
    slug = re.sub(r"[^a-z0-9]+", "-", description.lower()).strip("-")
    return Case(f"static-{method}-{slug}", scenario, static=(method, description), same=same)


def comment_case(line: int, method: str, endpoint: str, scenario: str, same: tuple[str, ...] = ()) -> Case:
    return Case(f"comment-L{line}-{method}-{endpoint}", scenario, comment=(line, method, endpoint), same=same)


CASES: list[Case] = [
    # ccxt's fixture keeps only the symbol's entry of the answer (so does the document's example, doc
    # 2829-2898): compared with our symbols[0].
    static_case("fetchMarkets", "Fetch markets for one symbol", "exchange_info_symbol"),
    static_case("fetchOrderBook", "Fetch order book with a limit argument", "depth"),
    static_case("fetchTrades", "Fetch trades for spot", "trades"),
    static_case("fetchMyTrades", "Fill this with a description of the method call", "my_trades_buy"),
    static_case("fetchMyTrades", "Fetch my trades with until parameter", "my_trades_sell"),
    static_case("fetchMyTrades", "Fetch my trades with client order ID parameter", "my_trades_by_client_id"),
    static_case("fetchOHLCV", "Fetch candles with until parameterl", "klines_5m"),
    static_case("fetchTicker", "Fetch ticker for spot", "ticker_24hr"),
    static_case("fetchBalance", "Fetch balance", "account"),
    static_case(
        "fetchDepositAddress", "Fetch deposit address for USDT with default network", "deposit_address"
    ),
    static_case(
        "fetchDepositAddress", "Fetch deposit address for USD with network arbitrum", "deposit_address"
    ),
    static_case("fetchDeposits", "Fetch deposits", "deposit_orders"),
    static_case("fetchWithdrawals", "Fetch withdrawals", "withdraw_orders"),
    static_case("transfer", "Transfet from main account to sub account", "transfer_to_sub"),
    static_case("fetchAccounts", "Fetch accounts", "account_type"),
    static_case("fetchLedger", "Fill this with a description of the method call", "balance_flow"),
    static_case("createOrder", "Create market order", "market_buy", ORDER_KEYS),
    static_case("createOrder", "Spot limit buy", "limit_buy_filled", ORDER_KEYS),
    static_case("createOrder", "Spot limit sell", "limit_sell_resting", ORDER_KEYS),
    static_case("createOrder", "Spot market sell", "market_sell", ORDER_KEYS),
    static_case("createOrder", "Spot market sell with client order id", "market_sell_client_id", ORDER_KEYS),
    static_case("createOrder", "Spot limit sell postOnly order", "maker_buy_resting", ORDER_KEYS),
    static_case("createMarketBuyOrderWithCost", "Spot market buy with cost", "cost_buy_v1", ORDER_KEYS),
    # The venue answered this cancel of a FILLED order with the order; the simulator answers -1139 (doc
    # 3451, "Order has been filled"), so the shape is compared on the cancel of a resting order.
    static_case("cancelOrder", "Cancel order", "cancel"),
    static_case("fetchOrder", "fetch order", "query_filled_maker_sell", ORDER_KEYS),
    static_case("fetchOpenOrders", "Fetch open orders", "open_maker_buys", ORDER_KEYS),
    comment_case(1, "fetch_time", "publicGetApiV1Time", "server_time"),
    comment_case(2, "fetch_markets", "publicGetApiV1ExchangeInfo", "exchange_info"),
    comment_case(6, "fetch_order_book", "publicGetQuoteV1Depth", "depth"),
    comment_case(7, "fetch_trades", "publicGetQuoteV1Trades", "trades"),
    comment_case(8, "fetch_my_trades", "privateGetApiV1AccountTrades", "my_trades_buy"),
    comment_case(13, "fetch_ohlcv", "publicGetQuoteV1Klines", "klines_1m"),
    comment_case(19, "fetch_balance", "privateGetApiV1Account", "account"),
    comment_case(22, "fetch_deposit_address", "privateGetApiV1AccountDepositAddress", "deposit_address"),
    comment_case(24, "fetch_deposits", "privateGetApiV1AccountDepositOrders", "deposit_orders"),
    comment_case(25, "fetch_withdrawals", "privateGetApiV1AccountWithdrawOrders", "withdraw_orders"),
    comment_case(26, "withdraw", "privatePostApiV1AccountWithdraw", "withdraw"),
    comment_case(29, "transfer", "privatePostApiV1AccountAssetTransfer", "transfer_to_sub"),
    comment_case(30, "fetch_accounts", "privateGetApiV1AccountType", "account_type"),
    comment_case(31, "fetch_ledger", "privateGetApiV1AccountBalanceFlow", "balance_flow"),
    comment_case(33, "create_spot_order", "privatePostApiV11SpotOrder", "market_buy", ORDER_KEYS),
    comment_case(34, "create_spot_order", "privatePostApiV1SpotOrder", "cost_buy_v1", ORDER_KEYS),
    comment_case(35, "create_spot_order", "privatePostApiV1SpotOrder", "market_sell_v1", ORDER_KEYS),
    comment_case(36, "create_spot_order", "privatePostApiV1SpotOrder", "maker_sell_resting_v1", ORDER_KEYS),
    comment_case(38, "create_orders", "privatePostApiV1SpotBatchOrders", "batch_v1"),
    comment_case(40, "cancel_order", "privateDeleteApiV1SpotOrder", "cancel"),
    comment_case(42, "cancel_all_orders", "privateDeleteApiV1SpotOpenOrders", "cancel_open_orders"),
    comment_case(44, "cancel_orders", "privateDeleteApiV1SpotCancelOrderByIds", "cancel_by_ids"),
    comment_case(45, "fetch_order", "privateGetApiV1SpotOrder", "query_market_buy_by_amount", ORDER_KEYS),
    comment_case(47, "fetch_open_spot_orders", "privateGetApiV1SpotOpenOrders", "open_limit_buy", ORDER_KEYS),
    comment_case(
        50, "fetch_canceled_and_closed_orders", "privateGetApiV1SpotTradeOrders", "trade_orders", ORDER_KEYS
    ),
    comment_case(67, "fetch_trading_fees", "privateGetApiV1AccountVipInfo", "vip_info"),
]

# Differences that are the document's or the README's choice, by case id: the paths allowed to be missing
# from ours, extra in ours, or of another type ("[]" is an array's element). "doc N" is a line of
# shared/seeds/003_*.txt; "comment LN" a line of the ccxt comment samples. The samples are HashKey Global's:
# fields the document has and they lack are the document's venue's, not ours to drop.

# Symbol fields of the document's exchangeInfo that Global's symbol entries lack.
SYMBOL_FIELDS = {
    "baseUcid",  # doc 2836, the document's exchangeInfo example
    "quoteUcid",  # doc 2840, the same example
    "tradeStatus",  # doc 2952: "symbols.tradeStatus STRING TRADABLE Trade Status"
    "site",  # doc 2897: the example symbol has "site"; README: "definitions without a site count as BMU"
    "filters[filterType=LIMIT_TRADING].maxEntrustNum",  # doc 2879: "maxEntrustNum": 300 (README enforces it)
}
# Account-trade fields of the document (HSK fee deduction) that Global's samples lack.
TRADE_FEE_FIELDS = {
    "$[].fee.originCoinId",  # doc 1782/1843; README: "no HSK deduction: fee.originFee = fee.fee"
    "$[].fee.originCoinName",  # doc 1783/1844
    "$[].fee.originFee",  # doc 1784/1842
    "$[].hskDeduct",  # doc 1789/1848; README: "hskDeduct false"
    "$[].hskDeductPrice",  # doc 1790/1849; README: "hskDeductPrice """
}
ALLOWED: dict[str, set[str]] = {
    "static-fetchMarkets-fetch-markets-for-one-symbol": {f"$.{name}" for name in SYMBOL_FIELDS},
    "comment-L2-fetch_markets-publicGetApiV1ExchangeInfo": {f"$.symbols[].{name}" for name in SYMBOL_FIELDS}
    | {
        "$.serverTime",  # doc 2901: "serverTime INTEGER"; Global's sample sends a string
        "$.site",  # doc 2973: "site STRING BMU Site"; README: "site" is "BMU" when not asked
        "$.coins[].status",  # doc 2961: "coins.status INTEGER 1 Coin status"
        "$.contracts[]",  # README: "brokerFilters/contracts/options ([])"; the sample's is a perpetual
    },
    "static-fetchOrderBook-fetch-order-book-with-a-limit-argument": {
        "$.t",  # doc 3013 "t LONG", example 2990 a number, as comment L6; this sample has a string
    },
    "static-fetchTrades-fetch-trades-for-spot": {
        "$[].t",  # doc 3059 "t LONG", example 3039 a number, as comment L7; this sample has a string
    },
    "static-fetchTicker-fetch-ticker-for-spot": {
        "$[].t",  # doc 3172 "t LONG", example 3157 a number; this sample has a string
        "$[].it",  # doc 3182 "it STRING SPOT", example 3167; README: "it = SPOT"
    },
    "static-fetchMyTrades-fill-this-with-a-description-of-the-method-call": TRADE_FEE_FIELDS,
    "static-fetchMyTrades-fetch-my-trades-with-until-parameter": TRADE_FEE_FIELDS,
    "static-fetchMyTrades-fetch-my-trades-with-client-order-id-parameter": TRADE_FEE_FIELDS,
    "comment-L8-fetch_my_trades-privateGetApiV1AccountTrades": TRADE_FEE_FIELDS,
    "static-fetchDepositAddress-fetch-deposit-address-for-usdt-with-default-network": {
        "$.requiredConfirmTimes",  # doc 2557 INTEGER, example 2547 a number, as comment L22; here a string
        "$.canWithdrawConfirmTimes",  # doc 2558 INTEGER, example 2548 a number, as comment L22
    },
    "static-fetchDepositAddress-fetch-deposit-address-for-usd-with-network-arbitrum": {
        "$.requiredConfirmTimes",  # doc 2557 INTEGER, example 2547 a number, as comment L22; here a string
        "$.canWithdrawConfirmTimes",  # doc 2558 INTEGER, example 2548 a number, as comment L22
    },
    "static-fetchDeposits-fetch-deposits": {
        "$[].status",  # doc 2600 a number (statusCode the string), as comment L24; README: "status (number)"
    },
    "static-fetchWithdrawals-fetch-withdrawals": {
        "$[].status",  # doc 2752/2773: "status STRING successful"
        "$[].memo",  # doc 2760/2787: "memo STRING"
    },
    "comment-L25-fetch_withdrawals-privateGetApiV1AccountWithdrawOrders": {
        "$[].status",  # doc 2752/2773: "status STRING successful"
        "$[].memo",  # doc 2760/2787: "memo STRING"
    },
    "static-transfer-transfet-from-main-account-to-sub-account": {
        "$.timestamp",  # doc 1934 "timestamp LONG", example 1928 a number, as comment L29; README: "a number"
    },
    "static-fetchAccounts-fetch-accounts": {
        "$[].accountType",  # doc 1900 "accountType INTEGER", example 1877 a number, as comment L30
        "$[].accountIndex",  # doc 1901 "accountIndex INTEGER", as comment L30
        "$[].userId",  # doc 1902 "userId STRING UserId of the account", example 1879
    },
    "comment-L30-fetch_accounts-privateGetApiV1AccountType": {
        "$[].userId",  # doc 1902 "userId STRING UserId of the account", example 1879
    },
    "static-fetchLedger-fill-this-with-a-description-of-the-method-call": {
        "$[].flowTypeValue",  # doc 2097 INTEGER, examples 2126 a number, as comment L31; README: "(number)"
    },
    "static-fetchOrder-fetch-order": {
        "$.ordCxlReason",  # doc 851/882, the document's query example and table
        "$.stpMode",  # doc 852/883
    },
    "comment-L45-fetch_order-privateGetApiV1SpotOrder": {
        "$.ordCxlReason",  # doc 851/882, the document's query example and table
        "$.stpMode",  # doc 852/883
    },
    "static-fetchOpenOrders-fetch-open-orders": {
        "$[].stpMode",  # doc 956, openOrders' table; README: "stpMode (the list endpoints' tables have it)"
    },
    "comment-L47-fetch_open_spot_orders-privateGetApiV1SpotOpenOrders": {
        "$[].stpMode",  # doc 956, openOrders' table; README: "stpMode (the list endpoints' tables have it)"
    },
    "comment-L50-fetch_canceled_and_closed_orders-privateGetApiV1SpotTradeOrders": {
        "$[].stpMode",  # doc 1055, tradeOrders' table; README: "stpMode (the list endpoints' tables have it)"
    },
}

# Differences from the venue that the document does not explain either: left failing (xfail, strict) so
# they stay visible until the simulator is fixed.
SUSPECTED_BUGS: dict[str, str] = {}


# ---- shape comparison -------------------------------------------------------------------------------


def json_type(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "bool"
    if isinstance(value, int | float):
        return "number"
    if isinstance(value, str):
        return "string"
    if isinstance(value, list):
        return "array"
    if isinstance(value, dict):
        return "object"
    raise TypeError(f"not a JSON value: {value!r}")


def shape_differences(real: Any, ours: Any, path: str = "$") -> dict[str, str]:
    """Path -> what differs: a key only one side has, another JSON type, an empty array against a full one,
    rows of another length, an enum-like value that is no documented name."""
    found: dict[str, str] = {}
    _compare(real, ours, path, found)
    return found


def _compare(real: Any, ours: Any, path: str, found: dict[str, str]) -> None:
    real_type, our_type = json_type(real), json_type(ours)
    if real_type != our_type:
        found[path] = f"real {real_type} {json.dumps(real)[:40]}, ours {our_type} {json.dumps(ours)[:40]}"
        return
    if real_type == "object":
        for key in real.keys() - ours.keys():
            found[f"{path}.{key}"] = f"missing from ours (real {json_type(real[key])})"
        for key in ours.keys() - real.keys():
            found[f"{path}.{key}"] = f"only in ours ({json_type(ours[key])})"
        for key in real.keys() & ours.keys():
            _compare(real[key], ours[key], f"{path}.{key}", found)
            names = ENUMS.get(key, frozenset())
            if isinstance(ours[key], str) and real[key] in names and ours[key] not in names:
                found[f"{path}.{key}"] = f"{ours[key]!r} is not one of the documented {sorted(names)}"
    elif real_type == "array":
        _compare_arrays(real, ours, path, found)


def _compare_arrays(real: list[Any], ours: list[Any], path: str, found: dict[str, str]) -> None:
    if not real or not ours:
        if bool(real) != bool(ours):
            found[f"{path}[]"] = f"real has {len(real)} elements, ours {len(ours)}"
        return
    if all(isinstance(e, dict) and "filterType" in e for e in real + ours):
        real_filters = {e["filterType"]: e for e in real}
        our_filters = {e["filterType"]: e for e in ours}
        for name in real_filters.keys() - our_filters.keys():
            found[f"{path}[filterType={name}]"] = "missing from ours"
        for name in our_filters.keys() - real_filters.keys():
            found[f"{path}[filterType={name}]"] = "only in ours"
        for name in real_filters.keys() & our_filters.keys():
            _compare(real_filters[name], our_filters[name], f"{path}[filterType={name}]", found)
        return
    first_real, first_ours = real[0], ours[0]
    if isinstance(first_real, list) and isinstance(first_ours, list):  # rows: klines, book levels
        if len(first_real) != len(first_ours):
            found[f"{path}[]"] = f"rows of {len(first_real)} elements real, {len(first_ours)} ours"
        for position, (a, b) in enumerate(zip(first_real, first_ours, strict=False)):
            _compare(a, b, f"{path}[][{position}]", found)
        return
    _compare(first_real, first_ours, f"{path}[]", found)


# ---- the tests --------------------------------------------------------------------------------------


def case_param(case: Case) -> Any:
    marks = []
    if case.id in SUSPECTED_BUGS:
        marks.append(pytest.mark.xfail(strict=True, reason=SUSPECTED_BUGS[case.id]))
    return pytest.param(case, id=case.id, marks=marks)


def real_sample(case: Case, static_samples: Any, comment_samples: Any) -> Any:
    if case.static is not None:
        return find_static(static_samples, *case.static)
    assert case.comment is not None
    return find_comment(comment_samples, *case.comment)


@pytest.mark.parametrize("case", [case_param(c) for c in CASES])
def test_the_simulators_answer_has_the_real_answers_shape(
    case: Case, sim: Sim, static_samples: Any, comment_samples: Any
) -> None:
    real = real_sample(case, static_samples, comment_samples)

    ours = SCENARIOS[case.scenario](sim)

    for key in case.same:
        assert first_object(ours)[key] == first_object(real)[key], f"not the sample's situation: {key}"
    differences = shape_differences(real, ours)
    allowed = ALLOWED.get(case.id, set())
    unexplained = {path: what for path, what in differences.items() if path not in allowed}
    assert unexplained == {}, "\n".join(f"{path}: {what}" for path, what in sorted(unexplained.items()))
    assert allowed <= differences.keys(), f"allowed but no longer different: {allowed - differences.keys()}"


def test_every_spot_sample_is_a_case_and_every_other_is_skipped_for_a_reason(
    static_samples: list[dict[str, Any]], comment_samples: dict[int, dict[str, Any]]
) -> None:
    static_cases = {c.static for c in CASES if c.static}
    comment_cases = {c.comment[0] for c in CASES if c.comment}
    unchecked = [
        f"static {s['method']} / {s['description']}"
        for s in static_samples
        if static_skip_reason(s) is None and (s["method"], s["description"]) not in static_cases
    ] + [
        f"comments line {line}: {s['ccxt_method']} {s['endpoint_call']}"
        for line, s in comment_samples.items()
        if comment_skip_reason(s) is None and line not in comment_cases
    ]
    skipped_but_cased = [
        c.id
        for c in CASES
        if (c.static and static_skip_reason(static_sample(static_samples, *c.static)) is not None)
        or (c.comment and comment_skip_reason(comment_samples[c.comment[0]]) is not None)
    ]

    assert unchecked == []
    assert skipped_but_cased == []
    assert len({c.id for c in CASES}) == len(CASES)


def test_the_shape_comparison_sees_keys_types_rows_and_enums() -> None:
    real = {"a": "1", "b": [[1, "x"]], "c": [{"d": True}], "side": "BUY", "e": []}
    ours = {"a": 1, "b": [[1, "x", 0]], "c": [{"d": True, "f": None}], "side": "HOLD", "e": [], "g": {}}

    assert shape_differences(real, ours) == {
        "$.a": 'real string "1", ours number 1',
        "$.b[]": "rows of 2 elements real, 3 ours",
        "$.c[].f": "only in ours (null)",
        "$.side": "'HOLD' is not one of the documented ['BUY', 'SELL']",
        "$.g": "only in ours (object)",
    }
    assert shape_differences([], [{}]) == {"$[]": "real has 0 elements, ours 1"}
