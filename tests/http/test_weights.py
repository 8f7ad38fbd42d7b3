"""The request weight of every endpoint, measured: one call, then how many weight-1 probes still fit under a
limit of 5. Weights are the document's "Weight:" lines; the public market-data section gives none, and
those are ccxt's (README, "Public market data"); tests/contract/test_weights.py checks the table against
the document. Rate limits per process: two apps on one database (two serve workers) count apart."""

from __future__ import annotations

import pytest

from simulator import create_app
from simulator.http.state import EXTENSION
from tests.http.test_auth import RATE_LIMITED, WALL_MS, frozen_at

LIMIT = 5

# (method, path): weight. The document's weights; for /quote/v1/* and exchangeInfo, ccxt's.
WEIGHTS = {
    ("GET", "/api/v1/ping"): 1,
    ("GET", "/api/v1/time"): 1,
    ("GET", "/api/v1/exchangeInfo"): 5,
    ("GET", "/quote/v1/depth"): 1,
    ("GET", "/quote/v1/depth/merged"): 1,
    ("GET", "/quote/v1/trades"): 1,
    ("GET", "/quote/v1/klines"): 1,
    ("GET", "/quote/v1/ticker/24hr"): 1,
    ("GET", "/quote/v1/ticker/price"): 1,
    ("GET", "/quote/v1/ticker/bookTicker"): 1,
    ("GET", "/api/v1/coinInfo"): 1,
    ("GET", "/api/v1/account"): 5,
    ("GET", "/api/v1/account/checkApiKey"): 1,
    ("GET", "/api/v1/account/type"): 5,
    ("POST", "/api/v1/account/assetTransfer"): 1,
    ("GET", "/api/v1/account/balanceFlow"): 5,
    ("GET", "/api/v1/account/chainType"): 1,
    ("POST", "/api/v1.1/spot/order"): 1,
    ("POST", "/api/v1/spot/order"): 1,
    ("POST", "/api/v1/spot/orderTest"): 1,
    ("POST", "/api/v1.1/spot/batchOrders"): 1,
    ("POST", "/api/v1/spot/batchOrders"): 1,
    ("DELETE", "/api/v1/spot/order"): 1,
    ("DELETE", "/api/v1/spot/openOrders"): 1,
    ("DELETE", "/api/v1/spot/cancelAllOpenOrders"): 1,
    ("DELETE", "/api/v1/spot/cancelOrderByIds"): 1,
    ("GET", "/api/v1/spot/order"): 1,
    ("GET", "/api/v1/spot/openOrders"): 1,
    ("GET", "/api/v1/spot/tradeOrders"): 5,
    ("GET", "/api/v1/account/trades"): 5,
    ("GET", "/api/v1/account/vipInfo"): 5,
    ("GET", "/api/v1/spot/subAccount/openOrders"): 1,
    ("GET", "/api/v1/spot/subAccount/tradeOrders"): 5,
    ("GET", "/api/v1/subAccount/trades"): 5,
    ("GET", "/api/v1/account/deposit/address"): 1,
    ("GET", "/api/v1/account/depositOrders"): 5,
    ("POST", "/api/v1/account/authAddress"): 1,
    ("POST", "/api/v1/account/withdraw"): 1,
    ("GET", "/api/v1/account/withdrawOrders"): 5,
    ("GET", "/api/v1/account/fiat/history"): 5,
}
PUBLIC = {"/api/v1/ping", "/api/v1/time", "/api/v1/exchangeInfo", "/api/v1/coinInfo"}


def is_public(path: str) -> bool:
    return path in PUBLIC or path.startswith("/quote/")


def test_every_venue_endpoint_has_its_weight_listed(app):
    routes = {
        (method, rule.rule)
        for rule in app.url_map.iter_rules()
        if not rule.rule.startswith("/sim/") and rule.endpoint != "static"
        for method in rule.methods - {"HEAD", "OPTIONS"}
    }
    assert routes == set(WEIGHTS)


@pytest.mark.parametrize(("method", "path"), list(WEIGHTS), ids=[f"{m} {p}" for m, p in WEIGHTS])
def test_an_endpoint_costs_its_documented_weight(make_app, signer, method, path):
    """Parameters are left out: the weight is charged before they are read, so the answer may be an error
    of the endpoint's own; only 0003 means the limit."""
    if is_public(path):
        client = make_app(ip_weight_limit=LIMIT).test_client()
        probe = lambda: client.get("/api/v1/ping")  # noqa: E731
        call = lambda: client.open(path, method=method)  # noqa: E731
    else:
        client = make_app(key_weight_limit=LIMIT, ip_weight_limit=1000).test_client()
        probe = lambda: client.get("/api/v1/account/checkApiKey", **signer.ccxt("GET"))  # noqa: E731
        call = lambda: client.open(path, method=method, **signer.ccxt(method))  # noqa: E731

    with frozen_at(WALL_MS):
        assert call().get_json() != RATE_LIMITED
        probes_left = 0
        while probe().get_json() != RATE_LIMITED:
            probes_left += 1
            assert probes_left <= LIMIT

    assert LIMIT - probes_left == WEIGHTS[(method, path)]


def test_rate_limits_are_counted_per_process(settings, make_app, signer):
    """Each serve worker builds its own app: its counters are its own (README, "Documented choices")."""
    first = make_app(key_weight_limit=1, ip_weight_limit=1000).test_client()
    second = create_app(settings.replace(key_weight_limit=1, ip_weight_limit=1000), apply_clock=False)
    try:
        with frozen_at(WALL_MS):
            check = "/api/v1/account/checkApiKey"
            assert first.get(check, **signer.ccxt("GET")).status_code == 200
            assert first.get(check, **signer.ccxt("GET")).get_json() == RATE_LIMITED
            assert second.test_client().get(check, **signer.ccxt("GET")).status_code == 200
    finally:
        second.extensions[EXTENSION].database.dispose()
