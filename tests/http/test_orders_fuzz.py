"""Property: whatever parameters an order or cancel request carries, the answer is 200 or a documented
400 (never a 500), and a refused request writes nothing."""

from __future__ import annotations

from decimal import Decimal as D

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import func, select

from simulator.error_catalogue import DOCUMENTED_ERRORS
from simulator.http.state import EXTENSION
from simulator.marketdata.records import Depth
from simulator.marketdata.writer import StoreWriter, source_id
from simulator.storage import tables

T0 = 1_700_000_000_000
DOCUMENTED = {(row.code) for row in DOCUMENTED_ERRORS}
NUMBERS = st.sampled_from(
    [
        "0.01",
        "35000",
        "1e-02",
        "3.5E4",
        "-1",
        "0",
        "",
        " 1",
        "1,5",
        "NaN",
        "Infinity",
        "1e999",
        "0x10",
        "١",
        "9" * 60,
    ]
)
TEXT = st.text(alphabet=st.characters(blacklist_categories=("Cs",)), max_size=20)
INTEGERS = st.one_of(  # the edges of a LONG and of our 19-digit ids, often
    st.sampled_from(["9" * 19, "9" * 20, "9" * 21, str(2**63 - 1), str(2**63), "1900000000000000001", ""]),
    st.integers(min_value=-(2**70), max_value=2**70).map(str),
    TEXT,
)
ORDER_FIELDS = {
    "symbol": st.one_of(st.sampled_from(["BTCUSDT", "ETHUSDT", "btcusdt", "NOPE"]), TEXT),
    "side": st.one_of(st.sampled_from(["BUY", "SELL", "buy"]), TEXT),
    "type": st.one_of(st.sampled_from(["LIMIT", "MARKET", "LIMIT_MAKER", "STOP"]), TEXT),
    "timeInForce": st.one_of(st.sampled_from(["GTC", "IOC", "FOK", "GTX"]), TEXT),
    "price": st.one_of(NUMBERS, TEXT),
    "quantity": st.one_of(NUMBERS, TEXT),
    "amount": st.one_of(NUMBERS, TEXT),
    "newClientOrderId": st.one_of(TEXT, st.just("x" * 300)),
    "stpMode": st.one_of(st.sampled_from(["EXPIRE_TAKER", "EXPIRE_MAKER"]), TEXT),
}
QUERY_FIELDS = {  # the order queries' and cancels' own parameters, mostly well formed but for one
    "symbol": st.one_of(st.sampled_from(["BTCUSDT", "BTCUSDT", "NOPE"]), TEXT),
    "side": st.sampled_from(["BUY", "SELL", "SELL", "buy"]),
    "orderId": INTEGERS,
    "origClientOrderId": TEXT,
    "clientOrderId": TEXT,
    "fromOrderId": INTEGERS,
    "startTime": INTEGERS,
    "endTime": INTEGERS,
    "limit": INTEGERS,
    "ids": st.one_of(INTEGERS, st.lists(INTEGERS, max_size=3).map(",".join)),
}
PLACING = [
    ("POST", "/api/v1.1/spot/order"),
    ("POST", "/api/v1/spot/order"),
    ("POST", "/api/v1/spot/orderTest"),
]
QUERYING = [
    ("DELETE", "/api/v1/spot/order"),
    ("DELETE", "/api/v1/spot/openOrders"),
    ("DELETE", "/api/v1/spot/cancelAllOpenOrders"),
    ("DELETE", "/api/v1/spot/cancelOrderByIds"),
    ("GET", "/api/v1/spot/openOrders"),
    ("GET", "/api/v1/spot/tradeOrders"),
    ("GET", "/api/v1/spot/order"),
    ("GET", "/api/v1/account/trades"),
]
requests = st.one_of(
    st.tuples(st.sampled_from(PLACING), st.fixed_dictionaries({}, optional=ORDER_FIELDS)),
    st.tuples(st.sampled_from(QUERYING), st.fixed_dictionaries({}, optional=QUERY_FIELDS)),
)


@pytest.fixture
def app(make_app):
    app = make_app(clock_mode="replay", clock_start=T0, clock_speed=D(0), rate_limits=False)
    database = app.extensions[EXTENSION].database
    book = Depth("BTCUSDT", T0 - 100, ((D("36000"), D("1")),), ((D("36010"), D("1")),))
    with database.engine.begin() as connection:
        writer = StoreWriter(connection, source_id(connection, "test", "fuzz"), "test")
        writer.add(book)
        writer.flush()
    return app


def counts(app) -> tuple[int, ...]:
    with app.extensions[EXTENSION].database.read() as session:
        return tuple(
            session.scalar(select(func.count()).select_from(t))
            for t in (tables.Order, tables.LedgerEntry, tables.Fill, tables.OutboxEvent)
        )


@settings(max_examples=500, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(request=requests)
def test_any_order_request_is_answered_200_or_a_documented_400_and_a_refusal_writes_nothing(
    client, signer, app, request
):
    (method, path), params = request
    before = counts(app)
    response = getattr(client, method.lower())(path, **signer.ccxt(method, **params))
    body = response.get_json()
    assert response.status_code in (200, 400), body
    if response.status_code == 400:
        assert body["code"] in DOCUMENTED, body
        assert counts(app) == before
