"""Property: whatever parameters a market-data request (or vipInfo) carries, the answer is 200 or a
documented 400 (never a 500), and a refused request writes nothing."""

from __future__ import annotations

from decimal import Decimal as D

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from simulator.error_catalogue import DOCUMENTED_ERRORS
from simulator.http.state import EXTENSION
from simulator.marketdata.records import Depth, Kline, Trade
from simulator.marketdata.writer import StoreWriter, source_id
from tests.http.test_orders_fuzz import INTEGERS, TEXT, counts

T0 = 1_700_000_000_000
DOCUMENTED = {row.code for row in DOCUMENTED_ERRORS}
SYMBOLS = st.one_of(
    st.sampled_from(["BTCUSDT", "ETHUSDT", "BTCUSD", "btcusdt", "NOPE", "BTCUSDT,ETHUSDT"]), TEXT
)
FIELDS = {
    "symbol": SYMBOLS,
    "symbols": SYMBOLS,
    "limit": INTEGERS,
    "scale": st.one_of(st.sampled_from(["0", "5", "6", "-1", "1.0"]), INTEGERS),
    "interval": st.one_of(st.sampled_from(["1m", "3m", "1h", "1d", "1w", "1M", "2m", "1s", "1H"]), TEXT),
    "startTime": INTEGERS,
    "endTime": INTEGERS,
    "instType": st.one_of(st.sampled_from(["SPOT", "FUTURES", "spot"]), TEXT),
    "site": st.one_of(st.sampled_from(["BMU", "HK", "hk"]), TEXT),
}
PUBLIC = [
    "/api/v1/exchangeInfo",
    "/quote/v1/depth",
    "/quote/v1/depth/merged",
    "/quote/v1/trades",
    "/quote/v1/klines",
    "/quote/v1/ticker/24hr",
    "/quote/v1/ticker/price",
    "/quote/v1/ticker/bookTicker",
]
SIGNED = "/api/v1/account/vipInfo"
requests = st.tuples(st.sampled_from([*PUBLIC, SIGNED]), st.fixed_dictionaries({}, optional=FIELDS))


@pytest.fixture
def app(make_app):
    app = make_app(clock_mode="replay", clock_start=T0, clock_speed=D(0), rate_limits=False)
    database = app.extensions[EXTENSION].database
    recorded = (
        Depth("BTCUSDT", T0 - 100, ((D("36000"), D("1")),), ((D("36010"), D("1")),)),
        Trade("BTCUSDT", T0 - 50, D("36005"), D("0.5"), True, "1"),
        Kline(
            "BTCUSDT", "1m", T0 - 120_000, T0 - 60_001, D("36000"), D("36020"), D("35990"), D("36005"), D("3")
        ),
    )
    with database.engine.begin() as connection:
        writer = StoreWriter(connection, source_id(connection, "test", "fuzz"), "test")
        for record in recorded:
            writer.add(record)
        writer.flush()
    return app


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(request=requests)
def test_any_market_data_request_is_answered_200_or_a_documented_400_and_a_refusal_writes_nothing(
    client, signer, app, request
):
    path, params = request
    before = counts(app)
    if path == SIGNED:
        response = client.get(path, **signer.ccxt("GET", **params))
    else:
        response = client.get(path, query_string=params)
    body = response.get_json()
    assert response.status_code in (200, 400), body
    if response.status_code == 400:
        assert body["code"] in DOCUMENTED, body
        assert counts(app) == before
