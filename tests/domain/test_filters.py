"""A new order against its symbol's filters: each violation gets the documented code and message, values
exactly at a limit pass and one tick or step beyond fail, and "0" in a definition is no limit."""

from __future__ import annotations

import copy
import json
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from simulator import errors
from simulator.domain.filters import SymbolFilters, TimeWindow, check_order
from simulator.domain.matching.orders import OrderType, Side
from simulator.error_catalogue import documented

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures" / "instruments.json"
MARK = Decimal("10000")
NOW = 1_700_000_000_000

DEFINITION = {
    "symbol": "BTCUSDT",
    "quotePrecision": "0.0001",
    "filters": [
        {"filterType": "PRICE_FILTER", "minPrice": "0.01", "maxPrice": "100000.00000000", "tickSize": "0.01"},
        {
            "filterType": "LOT_SIZE",
            "minQty": "0.005",
            "maxQty": "10",
            "stepSize": "0.001",
            "marketOrderMinQty": "0.002",
            "marketOrderMaxQty": "5",
        },
        {"filterType": "MIN_NOTIONAL", "minNotional": "1"},
        {
            "filterType": "TRADE_AMOUNT",
            "minAmount": "1",
            "maxAmount": "100000",
            "minBuyPrice": "0",
            "marketOrderMinAmount": "2",
            "marketOrderMaxAmount": "50000",
        },
        {
            "filterType": "LIMIT_TRADING",
            "maxSellPrice": "0",
            "buyPriceUpRate": "0.1",
            "sellPriceDownRate": "0.1",
            "maxEntrustNum": 3,
        },
        {"filterType": "MARKET_TRADING", "buyPriceUpRate": "0.1", "sellPriceDownRate": "0.1"},
        {
            "filterType": "OPEN_QUOTE",
            "noAllowMarketStartTime": "0",
            "noAllowMarketEndTime": "0",
            "limitOrderStartTime": "0",
            "limitOrderEndTime": "0",
            "limitMinPrice": "0",
            "limitMaxPrice": "0",
        },
    ],
}


@dataclass(frozen=True)
class Request:
    """A stand-in for services.trading.NewOrder: only what the filters read."""

    side: Side
    type: OrderType
    price: Decimal | None = None
    quantity: Decimal | None = None
    amount: Decimal | None = None


def limit(side: str, price: str, quantity: str, order_type: OrderType = OrderType.LIMIT) -> Request:
    return Request(Side(side), order_type, price=Decimal(price), quantity=Decimal(quantity))


def market(side: str, quantity: str | None = None, amount: str | None = None) -> Request:
    return Request(
        Side(side),
        OrderType.MARKET,
        quantity=None if quantity is None else Decimal(quantity),
        amount=None if amount is None else Decimal(amount),
    )


def filters_with(**fields: str | int) -> SymbolFilters:
    """The test definition with some filter fields replaced (by their exchangeInfo names)."""
    definition = copy.deepcopy(DEFINITION)
    for entry in definition["filters"]:
        for name, value in fields.items():
            if name in entry:
                entry[name] = value
    return SymbolFilters.of(definition)


FILTERS = filters_with()
QUOTE_WINDOW = filters_with(
    limitOrderStartTime=str(NOW),
    limitOrderEndTime=str(NOW + 60_000),
    limitMinPrice="9000",
    limitMaxPrice="11000",
)
MARKET_CLOSED = filters_with(noAllowMarketStartTime=str(NOW), noAllowMarketEndTime=str(NOW + 60_000))


def refusal(filters: SymbolFilters, order: Request, mark: Decimal | None = MARK, open_orders: int = 0):
    """The body the order is refused with, or None when it passes."""
    try:
        check_order(filters, order, mark, open_orders, NOW)
    except errors.ApiError as error:
        return error.body()
    return None


# The README's mapping table, row by row: (violation, filters, order, mark, open orders, code, message).
MAPPING = [
    ("price off tickSize", FILTERS, limit("BUY", "10000.001", "0.01"), MARK, 0, "0209",
     "Invalid price precision"),
    ("price below limitMinPrice in the OPEN_QUOTE window", QUOTE_WINDOW, limit("SELL", "8999.99", "0.01"),
     None, 0, "-1133", "Order price lower than the minimum"),
    ("price above limitMaxPrice in the OPEN_QUOTE window", QUOTE_WINDOW, limit("BUY", "11000.01", "0.01"),
     None, 0, "-1132", "Order price greater than the maximum"),
    ("BUY price above mark x (1 + buyPriceUpRate)", FILTERS, limit("BUY", "11000.01", "0.01"), MARK, 0,
     "0207", "Invalid price"),
    ("SELL price below mark x (1 - sellPriceDownRate)", FILTERS, limit("SELL", "8999.99", "0.01"), MARK, 0,
     "0207", "Invalid price"),
    ("LIMIT quantity off stepSize", FILTERS, limit("BUY", "10000", "0.0101"), MARK, 0, "-1137",
     "Order quantity precision too large"),
    ("MARKET quantity off stepSize", FILTERS, market("SELL", quantity="0.0101"), MARK, 0, "-1137",
     "Order quantity precision too large"),
    ("LIMIT BUY quantity below minQty", FILTERS, limit("BUY", "10000", "0.004"), MARK, 0, "-1200",
     "Order buy quantity too small"),
    ("LIMIT BUY quantity above maxQty", FILTERS, limit("BUY", "10000", "10.001"), MARK, 0, "-1201",
     "Order buy quantity too large"),
    ("LIMIT SELL quantity below minQty", FILTERS, limit("SELL", "10000", "0.004"), MARK, 0, "-1202",
     "Order sell quantity too small"),
    ("LIMIT SELL quantity above maxQty", FILTERS, limit("SELL", "10000", "10.001"), MARK, 0, "-1203",
     "Order sell quantity too large"),
    ("LIMIT price x quantity below minNotional", filters_with(minNotional="60"),
     limit("BUY", "10000", "0.005"), MARK, 0, "-1140", "Order amount lower than the minimum"),
    ("LIMIT price x quantity below minAmount", filters_with(minAmount="60"),
     limit("BUY", "10000", "0.005"), MARK, 0, "-1140", "Order amount lower than the minimum"),
    ("LIMIT price x quantity above maxAmount", FILTERS, limit("SELL", "10000.01", "10"), MARK, 0, "-1206",
     "Order amount greater than the maximum"),
    ("MARKET quantity below marketOrderMinQty", FILTERS, market("BUY", quantity="0.001"), MARK, 0, "-1136",
     "Order quantity lower than the minimum"),
    ("MARKET quantity above marketOrderMaxQty", FILTERS, market("SELL", quantity="5.001"), MARK, 0,
     "-1135", "Order quantity greater than the maximum"),
    ("MARKET amount finer than quotePrecision", FILTERS, market("BUY", amount="2.00001"), MARK, 0, "-1148",
     "Order amount precision too large"),
    ("MARKET amount below marketOrderMinAmount", FILTERS, market("BUY", amount="1.9999"), MARK, 0, "-1140",
     "Order amount lower than the minimum"),
    ("MARKET amount above marketOrderMaxAmount", FILTERS, market("SELL", amount="50000.0001"), MARK, 0,
     "-1206", "Order amount greater than the maximum"),
    ("MARKET order inside the noAllowMarket window", MARKET_CLOSED, market("BUY", amount="100"), MARK, 0,
     "-1194", "Market order creation forbidden"),
    ("open orders already at maxEntrustNum", FILTERS, limit("BUY", "10000", "0.01"), MARK, 3, "-2017",
     "Open orders exceeds the limit of the trading pair"),
]  # fmt: skip


@pytest.mark.parametrize(
    ("filters", "order", "mark", "open_orders", "code", "msg"),
    [row[1:] for row in MAPPING],
    ids=[row[0] for row in MAPPING],
)
def test_each_violation_has_its_code_and_message(filters, order, mark, open_orders, code, msg):
    body = refusal(filters, order, mark, open_orders)

    assert body == {"code": code, "msg": msg}


@pytest.mark.parametrize(("code", "msg"), sorted({row[-2:] for row in MAPPING}))
def test_each_code_and_message_is_a_row_of_the_document(code, msg):
    assert msg in [row.message for row in documented(code)]
    assert all(row.http_status == 400 for row in documented(code))


@pytest.mark.parametrize(
    "order",
    [
        limit("BUY", "10000", "0.01"),
        limit("SELL", "10000", "0.01", OrderType.LIMIT_MAKER),
        market("BUY", quantity="1"),
        market("SELL", amount="100"),
    ],
)
def test_an_order_within_every_filter_passes(order):
    assert refusal(FILTERS, order) is None


@pytest.mark.parametrize(
    ("order", "mark", "open_orders"),
    [
        (limit("BUY", "11000", "0.01"), MARK, 0),  # exactly mark x 1.1
        (limit("SELL", "9000", "0.01"), MARK, 0),  # exactly mark x 0.9
        (limit("BUY", "10000", "0.005"), MARK, 0),  # minQty
        (limit("SELL", "10000", "0.005"), MARK, 0),
        (limit("BUY", "10000", "10"), MARK, 0),  # maxQty, and price x quantity = maxAmount
        (limit("SELL", "10000", "10"), MARK, 0),
        (limit("BUY", "200", "0.005"), None, 0),  # price x quantity = minNotional = minAmount
        (market("BUY", quantity="0.002"), MARK, 0),  # marketOrderMinQty
        (market("SELL", quantity="5"), MARK, 0),  # marketOrderMaxQty
        (market("BUY", amount="2"), MARK, 0),  # marketOrderMinAmount
        (market("SELL", amount="50000"), MARK, 0),  # marketOrderMaxAmount
        (market("BUY", amount="2.0001"), MARK, 0),  # on the quotePrecision grid
        (limit("BUY", "10000", "0.01"), MARK, 2),  # one below maxEntrustNum
    ],
)
def test_exactly_at_a_limit_passes(order, mark, open_orders):
    assert refusal(FILTERS, order, mark, open_orders) is None


def test_limit_maker_is_checked_like_limit():
    order = limit("BUY", "11000.01", "0.01", OrderType.LIMIT_MAKER)

    assert refusal(FILTERS, order) == {"code": "0207", "msg": "Invalid price"}


def test_without_a_mark_price_no_band_applies():
    assert refusal(FILTERS, limit("BUY", "50000", "0.01"), mark=None) is None


@pytest.mark.parametrize(
    ("fields", "order", "open_orders"),
    [
        ({"buyPriceUpRate": "0"}, limit("BUY", "50000", "0.01"), 0),
        ({"sellPriceDownRate": "0"}, limit("SELL", "100", "0.01"), 0),
        ({"maxEntrustNum": 0}, limit("BUY", "10000", "0.01"), 1_000_000),
        ({"maxQty": "0", "maxAmount": "0"}, limit("BUY", "10000", "1000"), 0),
        ({"marketOrderMaxQty": "0"}, market("SELL", quantity="1000"), 0),
        ({"marketOrderMaxAmount": "0"}, market("BUY", amount="1000000"), 0),
        ({"tickSize": "0"}, limit("BUY", "10000.0000001", "0.01"), 0),
        ({"stepSize": "0"}, limit("BUY", "10000", "0.0100001"), 0),
    ],
)
def test_zero_in_the_definition_is_no_limit(fields, order, open_orders):
    assert refusal(filters_with(**fields), order, MARK, open_orders) is None


def test_market_orders_are_refused_only_inside_the_window():
    order = market("BUY", amount="100")

    def at(now_ms: int):
        try:
            check_order(MARKET_CLOSED, order, MARK, 0, now_ms)
        except errors.MarketOrderForbidden:
            return "refused"
        return "accepted"

    assert [at(NOW - 1), at(NOW), at(NOW + 59_999), at(NOW + 60_000)] == [
        "accepted",
        "refused",
        "refused",
        "accepted",
    ]


def test_the_market_window_does_not_touch_limit_orders():
    assert refusal(MARKET_CLOSED, limit("BUY", "10000", "0.01")) is None


def test_the_opening_price_range_applies_only_inside_its_window():
    order = limit("BUY", "11000.01", "0.01")

    assert refusal(QUOTE_WINDOW, order, mark=None) == {
        "code": "-1132",
        "msg": "Order price greater than the maximum",
    }
    assert check_order(QUOTE_WINDOW, order, None, 0, NOW + 60_000) is None
    assert check_order(QUOTE_WINDOW, order, None, 0, NOW - 1) is None


def test_the_opening_price_range_includes_its_ends():
    assert refusal(QUOTE_WINDOW, limit("SELL", "9000", "0.01"), mark=None) is None
    assert refusal(QUOTE_WINDOW, limit("BUY", "11000", "0.01"), mark=None) is None


@pytest.mark.parametrize(
    ("window", "now_ms", "inside"),
    [
        (TimeWindow(0, 0), NOW, False),
        (TimeWindow(NOW, 0), NOW - 1, False),
        (TimeWindow(NOW, 0), NOW + 10**9, True),
        (TimeWindow(0, NOW), NOW - 10**9, True),
        (TimeWindow(0, NOW), NOW, False),
    ],
)
def test_a_zero_window_end_is_open(window, now_ms, inside):
    assert window.contains(now_ms) is inside


def test_first_violation_wins_price_before_quantity_before_open_orders():
    order = limit("BUY", "10000.001", "0.0001")

    assert refusal(FILTERS, order, open_orders=3) == {"code": "0209", "msg": "Invalid price precision"}


def test_deprecated_min_and_max_price_are_not_enforced():
    order = limit("BUY", "150000", "0.005")

    assert refusal(filters_with(maxPrice="100000"), order, mark=None) is None


def test_fixture_definition_is_read_once_into_decimals():
    btcusdt = next(d for d in json.loads(FIXTURES.read_text()) if d["symbol"] == "BTCUSDT")

    filters = SymbolFilters.of(btcusdt)

    assert (filters.tick_size, filters.step_size) == (Decimal("0.01"), Decimal("0.00001"))
    assert (filters.min_qty, filters.max_qty) == (Decimal("0.00001"), Decimal("8"))
    assert (filters.market_min_qty, filters.market_max_qty) == (Decimal("0.00001"), Decimal("4"))
    assert (filters.min_notional, filters.min_amount, filters.max_amount) == (1, 1, 400000)
    assert (filters.market_min_amount, filters.market_max_amount) == (1, 200000)
    assert (filters.buy_up_rate, filters.sell_down_rate) == (Decimal("0.1"), Decimal("0.1"))
    assert filters.max_open_orders == 300
    assert filters.market_closed == TimeWindow(0, 0)
    assert filters.limit_window == TimeWindow(0, 0)


def test_a_definition_without_filters_limits_nothing():
    assert refusal(SymbolFilters.of({"symbol": "X"}), limit("BUY", "1.23456789", "0.000001")) is None


def test_huge_numbers_are_refused_not_crashed():
    assert refusal(FILTERS, limit("SELL", "1e30", "1e-40"), mark=None) == {
        "code": "-1132",
        "msg": "Order price greater than the maximum",  # 10^20 and above: whatever the filters say
    }
    assert refusal(FILTERS, limit("SELL", "1e19", "1e-40"), mark=None) == {
        "code": "-1137",
        "msg": "Order quantity precision too large",
    }


wire_decimals = st.decimals(
    min_value=Decimal("1e-40"),
    max_value=Decimal("1e30"),
    allow_nan=False,
    allow_infinity=False,
    places=None,
).filter(lambda d: len(d.as_tuple().digits) <= 40)


@given(
    side=st.sampled_from(list(Side)),
    order_type=st.sampled_from(list(OrderType)),
    price=wire_decimals,
    quantity=wire_decimals,
    amount=st.none() | wire_decimals,
    mark=st.none() | wire_decimals,
)
def test_any_wire_number_is_accepted_or_refused_with_a_venue_error(
    side,
    order_type,
    price,
    quantity,
    amount,
    mark,
):
    order = Request(side, order_type, price=price, quantity=quantity, amount=amount)

    body = refusal(FILTERS, order, mark)

    assert body is None or documented(body["code"])


@given(
    steps=st.integers(min_value=5, max_value=10_000),
    ticks=st.integers(min_value=900_000, max_value=1_000_000),
)
def test_on_grid_values_within_the_limits_pass(steps, ticks):
    """Quantities of 5..10000 steps (minQty..maxQty) at prices of 9000..10000 always pass a LIMIT SELL
    when price x quantity stays within minAmount..maxAmount."""
    price = Decimal("0.01") * ticks
    quantity = Decimal("0.001") * steps
    order = limit("SELL", format(price, "f"), format(quantity, "f"))

    assert refusal(FILTERS, order) is None
