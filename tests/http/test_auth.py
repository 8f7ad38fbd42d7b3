"""Authentication of signed endpoints, through the Flask test client: the document's worked examples,
the ways real clients sign, every failure with its whole body, the order of checks, the timestamp
window on both clocks, rate limits, and odd input that must never become a 500."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import urlencode

import pytest
from flask import Flask
from flask.testing import FlaskClient
from freezegun import freeze_time
from sqlalchemy import event

from simulator.domain.accounts import Permission
from simulator.http import auth
from simulator.http.state import EXTENSION
from tests.conftest import Signer, admin_headers, now_ms, sign

ACCOUNT = "/api/v1/account"
FORM = "application/x-www-form-urlencoded"
JSON = "application/json"

# The document's "Authentication" section, byte for byte.
DOC_API_KEY = "tAQfOrPIZAhym0qHISRt8EFvxPemdBm5j5WMlkm3Ke9aFp0EGWC2CGM8GHV4kCYW"
DOC_SECRET = "lH3ELTNiFxCQTmi9pPcWWikhsjO04Yoqw3euoHUuOLC3GYBW64ZqzQsiOEHXQS76"
DOC_TIMESTAMP = 1538323200000
DOC_PAYLOAD = (
    "symbol=ETHBTC&side=BUY&type=LIMIT&timeInForce=GTC&quantity=1&price=0.1&recvWindow=5000"
    "&timestamp=1538323200000"
)
DOC_SIGNATURE = "5f2750ad7589d1d40757a55342e621a44037dad23b5128cc70e18ec1d1c3f4c6"
DOC_MIXED_QUERY = "symbol=ETHBTC&side=BUY&type=LIMIT&timeInForce=GTC"
DOC_MIXED_BODY = "quantity=1&price=0.1&recvWindow=5000&timestamp=1538323200000"
DOC_MIXED_SIGNATURE = "885c9e3dd89ccd13408b25e6d54c2330703759d7494bea6dd5a3d1fd16ba3afa"

OPENING_BALANCES = {"USDT": "1000", "BTC": "0.5"}
BALANCES = [
    {"asset": "BTC", "assetId": "BTC", "assetName": "BTC", "total": "0.5", "free": "0.5", "locked": "0"},
    {"asset": "USDT", "assetId": "USDT", "assetName": "USDT", "total": "1000", "free": "1000", "locked": "0"},
]

UNAUTHORIZED = {"code": "-1002", "msg": "Unauthorized operation"}
INVALID_API_KEY = {"code": "0102", "msg": "Invalid APIKey"}
INVALID_IP = {"code": "0202", "msg": "Invalid IP"}
SIGNATURE_MISSING = {"code": "0001", "msg": "Required field signature missing or invalid"}
INCORRECT_SIGNATURE = {"code": "0001", "msg": "Incorrect signature"}
TIMESTAMP_INVALID = {"code": "0001", "msg": "Required field timestamp missing or invalid"}
RECV_WINDOW_ILLEGAL = {"code": "-1130", "msg": "Illegal parameter 'recvWindow'"}
OUTSIDE_WINDOW = {"code": "-1021", "msg": "Timestamp for this request is outside of the recvWindow"}
RATE_LIMITED = {"code": "0003", "msg": "Rate limit exceeded"}
NO_PERMISSION = {"code": "-1005", "msg": "No permission"}
NO_WITHDRAWAL_PERMISSION = {"code": "-4009", "msg": "No withdrawal permission"}

WALL_MS = 1_700_000_000_000  # a whole second: time.time() * 1000 is exact under freezegun
MARKET_MS = 1_600_000_000_000  # a replayed market far from the wall clock


def frozen_at(ms: int) -> Any:
    """freeze_time at exactly `ms` milliseconds since the epoch."""
    return freeze_time(datetime(1970, 1, 1, tzinfo=UTC) + timedelta(milliseconds=ms))


def signed_query(signer: Signer, payload: str) -> dict[str, Any]:
    """`payload` sent as the query string, exactly as written, signed over exactly those bytes."""
    signature = sign(signer.secret, payload)
    return {"query_string": f"{payload}&signature={signature}", "headers": signer.headers()}


def balances_of(account: dict[str, Any]) -> dict[str, Any]:
    return {"balances": BALANCES, "userId": account["userId"]}


def set_replay_clock(client: FlaskClient, market_ms: int) -> None:
    response = client.post(
        "/sim/v1/clock", json={"mode": "replay", "time": market_ms, "speed": 0}, headers=admin_headers()
    )
    assert response.status_code == 200, response.get_json()


def probe_view() -> dict[str, Any]:
    return {}


def with_probe_routes(app: Flask) -> Flask:
    """Throwaway endpoints needing trade / withdraw permission, and one counted as a new order. Registered
    before the app's first request, as Flask requires."""
    routes = {
        "/probe/trade": auth.signed(weight=1, permission=Permission.TRADE),
        "/probe/withdraw": auth.signed(weight=1, permission=Permission.WITHDRAW),
        "/probe/order": auth.signed(weight=1, permission=Permission.TRADE, new_order=True),
    }
    for rule, decorator in routes.items():
        app.add_url_rule(rule, endpoint=rule, view_func=decorator(probe_view))
    return app


@pytest.fixture
def make_probe_app(make_app: Callable[..., Flask]) -> Callable[..., Flask]:
    def build(**changes: Any) -> Flask:
        return with_probe_routes(make_app(**changes))

    return build


@pytest.fixture
def probe_client(make_probe_app: Callable[..., Flask]) -> FlaskClient:
    return make_probe_app().test_client()


@dataclass(frozen=True)
class Keys:
    full: Signer  # every permission, no IP whitelist
    other: Signer  # another user's key, every permission
    read_only: Signer
    fenced: Signer  # whitelisted for 10.1.2.3 only


@pytest.fixture
def keys(create_account: Callable[..., dict[str, Any]]) -> Keys:
    def signer_of(**body: Any) -> Signer:
        created = create_account(balances=OPENING_BALANCES, **body)
        return Signer(created["apiKey"], created["secretKey"])

    return Keys(
        full=signer_of(),
        other=signer_of(),
        read_only=signer_of(permissions=["read"]),
        fenced=signer_of(ips=["10.1.2.3"]),
    )


# --- 1. The document's worked examples -------------------------------------------------------------


@pytest.fixture
def doc_account(create_account: Callable[..., dict[str, Any]]) -> dict[str, Any]:
    return create_account(apiKey=DOC_API_KEY, secretKey=DOC_SECRET, balances=OPENING_BALANCES)


@pytest.mark.parametrize(
    ("payload", "digest"),
    [
        (DOC_PAYLOAD, DOC_SIGNATURE),
        (DOC_MIXED_QUERY + DOC_MIXED_BODY, DOC_MIXED_SIGNATURE),
    ],
    ids=["examples-1-and-2", "example-3"],
)
def test_sign_reproduces_the_documents_digests(payload, digest):
    assert auth.sign(DOC_SECRET, payload.encode()) == digest


@pytest.mark.parametrize(
    ("query", "body"),
    [
        (f"{DOC_PAYLOAD}&signature={DOC_SIGNATURE}", None),
        (None, f"{DOC_PAYLOAD}&signature={DOC_SIGNATURE}"),
        (DOC_MIXED_QUERY, f"{DOC_MIXED_BODY}&signature={DOC_MIXED_SIGNATURE}"),
    ],
    ids=["example-1-query-string", "example-2-request-body", "example-3-mixed"],
)
def test_document_example_is_accepted(client, doc_account, query, body):
    request: dict[str, Any] = {"headers": {"X-HK-APIKEY": DOC_API_KEY}}
    if query is not None:
        request["query_string"] = query
    if body is not None:
        request.update(data=body, content_type=FORM)

    with frozen_at(DOC_TIMESTAMP):
        response = client.get(ACCOUNT, **request)

    assert response.status_code == 200
    assert response.get_json() == balances_of(doc_account)


@pytest.mark.parametrize(
    ("query", "body"),
    [
        (None, f"{DOC_PAYLOAD.replace('quantity=1', 'quantity=2')}&signature={DOC_SIGNATURE}"),
        (
            DOC_MIXED_QUERY,
            f"{DOC_MIXED_BODY.replace('price=0.1', 'price=0.2')}&signature={DOC_MIXED_SIGNATURE}",
        ),
    ],
    ids=["example-2", "example-3"],
)
def test_document_example_with_one_byte_changed_is_rejected(client, doc_account, query, body):
    request: dict[str, Any] = {"headers": {"X-HK-APIKEY": DOC_API_KEY}, "data": body, "content_type": FORM}
    if query is not None:
        request["query_string"] = query

    with frozen_at(DOC_TIMESTAMP):
        response = client.get(ACCOUNT, **request)

    assert response.status_code == 400
    assert response.get_json() == INCORRECT_SIGNATURE


# --- 2. How real clients sign ----------------------------------------------------------------------


def ccxt_get(signer: Signer) -> dict[str, Any]:
    return signer.ccxt("GET", recvWindow=5000)


def sorted_all_in_query(signer: Signer) -> dict[str, Any]:
    return signer.sorted_query(recvWindow=5000)


def form_body(signer: Signer) -> dict[str, Any]:
    payload = urlencode({"timestamp": now_ms(), "recvWindow": 5000})
    return {
        "data": f"{payload}&signature={sign(signer.secret, payload)}",
        "content_type": FORM,
        "headers": signer.headers(),
    }


def signature_in_query_parameters_in_body(signer: Signer) -> dict[str, Any]:
    payload = urlencode({"timestamp": now_ms(), "recvWindow": 5000})
    return {
        "query_string": f"signature={sign(signer.secret, payload)}",
        "data": payload,
        "content_type": FORM,
        "headers": signer.headers(),
    }


def signature_in_body_parameters_in_query(signer: Signer) -> dict[str, Any]:
    payload = urlencode({"timestamp": now_ms(), "recvWindow": 5000})
    return {
        "query_string": payload,
        "data": f"signature={sign(signer.secret, payload)}",
        "content_type": FORM,
        "headers": signer.headers(),
    }


@pytest.mark.parametrize(
    "style",
    [
        ccxt_get,
        sorted_all_in_query,
        form_body,
        signature_in_query_parameters_in_body,
        signature_in_body_parameters_in_query,
    ],
)
def test_signing_style_is_accepted(client, account, signer, style):
    response = client.get(ACCOUNT, **style(signer))

    assert response.status_code == 200
    assert response.get_json() == balances_of(account)


# --- 3. JSON bodies --------------------------------------------------------------------------------

JSON_ARRAY = b'[{"symbol":"BTCUSDT","side":"BUY","type":"LIMIT","quantity":"1","price":"100"}]'


def test_json_body_with_signature_over_the_query_alone_is_accepted(client, account, signer):
    query = f"timestamp={now_ms()}"

    response = client.get(
        ACCOUNT,
        query_string=f"{query}&signature={sign(signer.secret, query)}",
        data=JSON_ARRAY,
        content_type=JSON,
        headers=signer.headers(),
    )

    assert response.status_code == 200
    assert response.get_json() == balances_of(account)


def test_json_body_with_signature_over_query_and_raw_body_is_accepted(client, account, signer):
    query = f"timestamp={now_ms()}"
    signature = auth.sign(signer.secret, query.encode() + JSON_ARRAY)

    response = client.get(
        ACCOUNT,
        query_string=f"{query}&signature={signature}",
        data=JSON_ARRAY,
        content_type=JSON,
        headers=signer.headers(),
    )

    assert response.status_code == 200
    assert response.get_json() == balances_of(account)


@pytest.mark.parametrize("content_type", [JSON, "application/vnd.api+json", "text/plain"])
def test_a_body_of_another_type_than_a_form_is_not_read_for_parameters(client, signer, content_type):
    payload = f"timestamp={now_ms()}"

    response = client.get(
        ACCOUNT,
        data=f"{payload}&signature={sign(signer.secret, payload)}",
        content_type=content_type,
        headers=signer.headers(),
    )

    assert response.status_code == 400
    assert response.get_json() == {"code": "0001", "msg": "Required field signature missing or invalid"}


def test_a_body_sent_without_a_content_type_is_read_as_a_form(client, account, signer):
    payload = f"timestamp={now_ms()}"

    response = client.get(
        ACCOUNT, data=f"{payload}&signature={sign(signer.secret, payload)}", headers=signer.headers()
    )

    assert "CONTENT_TYPE" not in response.request.environ
    assert response.status_code == 200
    assert response.get_json() == balances_of(account)


def test_form_body_does_not_accept_a_signature_over_the_query_alone(client, account, signer):
    query = f"timestamp={now_ms()}"

    response = client.get(
        ACCOUNT,
        query_string=f"{query}&signature={sign(signer.secret, query)}",
        data="recvWindow=5000",
        content_type=FORM,
        headers=signer.headers(),
    )

    assert response.status_code == 400
    assert response.get_json() == INCORRECT_SIGNATURE


# --- 4. Every failure, with its whole body ---------------------------------------------------------


@pytest.mark.parametrize(
    "headers",
    [
        [],
        [("X-HK-APIKEY", "")],
        [("X-HK-APIKEY", "   ")],
        [("X-APIKEY", "")],
        [("X-HK-APIKEY", "KEY"), ("X-APIKEY", "OTHER")],
        [("X-HK-APIKEY", "KEY"), ("X-HK-APIKEY", "OTHER")],
        [("X-APIKEY", "KEY"), ("X-APIKEY", "OTHER")],
        [("X-HK-APIKEY", "KEY"), ("X-HK-APIKEY", "KEY")],
    ],
    ids=[
        "missing",
        "empty",
        "blank",
        "empty-x-apikey",
        "different-keys-in-both-headers",
        "x-hk-apikey-sent-twice",
        "x-apikey-sent-twice",
        "same-key-sent-twice-in-one-header",  # a server joins it into "KEY, KEY": a doubled header
    ],
)
def test_missing_empty_or_doubled_key_header_is_unauthorized(client, signer, sub_signer, headers):
    values = {"KEY": signer.api_key, "OTHER": sub_signer.api_key}
    request = signer.ccxt("GET")
    request["headers"] = [(name, values.get(value, value)) for name, value in headers]

    response = client.get(ACCOUNT, **request)

    assert response.status_code == 400
    assert response.get_json() == UNAUTHORIZED


@pytest.mark.parametrize(
    "headers",
    [
        [("X-APIKEY", "KEY")],
        [("X-HK-APIKEY", "KEY"), ("X-APIKEY", "KEY")],
        [("X-HK-APIKEY", " KEY ")],
    ],
    ids=["x-apikey-alone", "same-key-in-both-headers", "surrounding-blanks"],
)
def test_key_header_variant_is_accepted(client, account, signer, headers):
    request = signer.ccxt("GET")
    request["headers"] = [(name, value.replace("KEY", signer.api_key)) for name, value in headers]

    response = client.get(ACCOUNT, **request)

    assert response.status_code == 200
    assert response.get_json() == balances_of(account)


def test_unknown_key_is_invalid(client, account):
    stranger = Signer("A" * 64, "B" * 64)

    response = client.get(ACCOUNT, **stranger.ccxt("GET"))

    assert response.status_code == 400
    assert response.get_json() == INVALID_API_KEY


def test_a_key_unknown_at_first_is_found_once_it_is_created(client, create_account):
    late = Signer("L" * 64, "S" * 64)
    assert client.get(ACCOUNT, **late.ccxt("GET")).get_json() == INVALID_API_KEY

    create_account(apiKey=late.api_key, secretKey=late.secret, balances={"USDT": "5"})

    response = client.get(ACCOUNT, **late.ccxt("GET"))
    assert response.status_code == 200, response.get_json()


def test_a_known_key_is_read_from_the_database_once(app, client, signer):
    selects: list[str] = []

    def record(conn, cursor, statement, *args) -> None:  # noqa: ANN001
        if statement.startswith("SELECT") and "FROM api_keys" in statement:
            selects.append(statement)

    event.listen(app.extensions[EXTENSION].database.engine, "before_cursor_execute", record)
    statuses = [client.get(ACCOUNT, **signer.ccxt("GET")).status_code for _ in range(3)]

    assert statuses == [200, 200, 200]
    assert len(selects) == 1  # keys are never changed once created: the first read is kept


@pytest.mark.parametrize(
    ("ips", "remote_addr", "status", "expected"),
    [
        (["10.1.2.3"], "127.0.0.1", 400, INVALID_IP),
        (["10.1.2.3"], "10.1.2.4", 400, INVALID_IP),
        (["10.1.2.3"], "10.1.2.3", 200, None),
        (["127.0.0.0/8"], "127.0.0.1", 200, None),
        (["127.0.0.0/8"], "127.255.0.9", 200, None),
        (["127.0.0.0/8"], "128.0.0.1", 400, INVALID_IP),
        (["::1"], "127.0.0.1", 400, INVALID_IP),
        ([], "203.0.113.7", 200, None),
    ],
)
def test_ip_whitelist(client, create_account, ips, remote_addr, status, expected):
    created = create_account(balances=OPENING_BALANCES, ips=ips)
    signer = Signer(created["apiKey"], created["secretKey"])

    response = client.get(ACCOUNT, environ_base={"REMOTE_ADDR": remote_addr}, **signer.ccxt("GET"))

    assert response.status_code == status
    assert response.get_json() == (expected or balances_of(created))


def test_missing_signature(client, signer):
    response = client.get(ACCOUNT, query_string=f"timestamp={now_ms()}", headers=signer.headers())

    assert response.status_code == 400
    assert response.get_json() == SIGNATURE_MISSING


@pytest.mark.parametrize("where", ["query", "query-and-body"])
def test_duplicated_signature(client, signer, where):
    payload = f"timestamp={now_ms()}"
    signature = sign(signer.secret, payload)
    request: dict[str, Any] = {"headers": signer.headers()}
    if where == "query":
        request["query_string"] = f"{payload}&signature={signature}&signature={signature}"
    else:
        request.update(
            query_string=f"{payload}&signature={signature}", data=f"signature={signature}", content_type=FORM
        )

    response = client.get(ACCOUNT, **request)

    assert response.status_code == 400
    assert response.get_json() == SIGNATURE_MISSING


@pytest.mark.parametrize(
    "make_signature",
    [
        lambda secret, payload: sign("x" + secret, payload),
        lambda secret, payload: sign(secret, payload)[:-1],
        lambda secret, payload: sign(secret, payload) + "0",
        lambda secret, payload: "z" * 64,
        lambda secret, payload: sign(secret, payload + "&recvWindow=5000"),
    ],
    ids=["other-secret", "truncated", "one-char-too-long", "not-hex", "over-other-params"],
)
def test_wrong_signature(client, signer, make_signature):
    payload = f"timestamp={now_ms()}"

    response = client.get(
        ACCOUNT,
        query_string=f"{payload}&signature={make_signature(signer.secret, payload)}",
        headers=signer.headers(),
    )

    assert response.status_code == 400
    assert response.get_json() == INCORRECT_SIGNATURE


def test_uppercase_hex_signature_is_accepted(client, account, signer):
    payload = f"timestamp={now_ms()}"

    response = client.get(
        ACCOUNT,
        query_string=f"{payload}&signature={sign(signer.secret, payload).upper()}",
        headers=signer.headers(),
    )

    assert response.status_code == 200
    assert response.get_json() == balances_of(account)


@pytest.mark.parametrize(
    "payload",
    [
        "recvWindow=5000",
        "timestamp=abc",
        "timestamp=-1",
        "timestamp=",
        "timestamp=NOW.0",
        "timestamp=+NOW",
        "timestamp=NOW&timestamp=NOW",
    ],
    ids=["missing", "non-numeric", "negative", "empty", "decimal", "plus-sign", "duplicated"],
)
def test_invalid_timestamp(client, signer, payload):
    response = client.get(ACCOUNT, **signed_query(signer, payload.replace("NOW", str(now_ms()))))

    assert response.status_code == 400
    assert response.get_json() == TIMESTAMP_INVALID


@pytest.mark.parametrize("recv_window", ["abc", "0", "60001", "-1", "5000.5", "1e4"])
def test_illegal_recv_window(client, signer, recv_window):
    payload = f"timestamp={now_ms()}&recvWindow={recv_window}"

    response = client.get(ACCOUNT, **signed_query(signer, payload))

    assert response.status_code == 400
    assert response.get_json() == RECV_WINDOW_ILLEGAL


def test_recv_window_at_the_maximum_is_accepted(client, account, signer):
    response = client.get(ACCOUNT, **signer.ccxt("GET", recvWindow=60000))

    assert response.status_code == 200
    assert response.get_json() == balances_of(account)


def test_recv_window_of_one_millisecond_is_accepted(client, account, signer):
    """The least recvWindow: a timestamp a little ahead of the server (under its 1 s allowance) is in it."""
    response = client.get(ACCOUNT, **signer.ccxt("GET", timestamp=now_ms() + 500, recvWindow=1))

    assert response.status_code == 200
    assert response.get_json() == balances_of(account)


def test_recv_window_maximum_follows_the_setting(make_app, signer):
    client = make_app(recv_window_max=90000).test_client()

    accepted = client.get(ACCOUNT, **signer.ccxt("GET", recvWindow=90000))
    rejected = client.get(ACCOUNT, **signer.ccxt("GET", recvWindow=90001))

    assert accepted.status_code == 200
    assert rejected.status_code == 400
    assert rejected.get_json() == RECV_WINDOW_ILLEGAL


@pytest.mark.parametrize("permissions", [["read"], "read"])
def test_read_only_key_reads_the_account(client, create_account, permissions):
    created = create_account(balances=OPENING_BALANCES, permissions=permissions)
    signer = Signer(created["apiKey"], created["secretKey"])

    response = client.get(ACCOUNT, **signer.ccxt("GET"))

    assert created["permissions"] == ["read"]
    assert response.status_code == 200
    assert response.get_json() == balances_of(created)


def test_read_only_key_from_a_string_passes_check_api_key(client, create_account):
    created = create_account(permissions="read")
    signer = Signer(created["apiKey"], created["secretKey"])

    response = client.get("/api/v1/account/checkApiKey", **signer.ccxt("GET"))

    assert response.status_code == 200
    assert response.get_json() == {"accountType": "Master Account"}


def test_read_is_always_granted(client, create_account):
    created = create_account(balances=OPENING_BALANCES, permissions=["trade"])
    signer = Signer(created["apiKey"], created["secretKey"])

    response = client.get(ACCOUNT, **signer.ccxt("GET"))

    assert created["permissions"] == ["read", "trade"]
    assert response.status_code == 200
    assert response.get_json() == balances_of(created)


@pytest.mark.parametrize(
    ("path", "expected"),
    [("/probe/trade", NO_PERMISSION), ("/probe/withdraw", NO_WITHDRAWAL_PERMISSION)],
)
def test_read_only_key_lacks_permission(probe_client, keys, path, expected):
    response = probe_client.get(path, **keys.read_only.ccxt("GET"))

    assert response.status_code == 400
    assert response.get_json() == expected


@pytest.mark.parametrize(
    ("permissions", "path", "status", "expected"),
    [
        (["trade"], "/probe/trade", 200, {}),
        (["trade"], "/probe/withdraw", 400, NO_WITHDRAWAL_PERMISSION),
        (["withdraw"], "/probe/withdraw", 200, {}),
        (["withdraw"], "/probe/trade", 400, NO_PERMISSION),
    ],
)
def test_permission_is_checked_per_endpoint(
    probe_client, create_account, permissions, path, status, expected
):
    created = create_account(permissions=permissions)
    signer = Signer(created["apiKey"], created["secretKey"])

    response = probe_client.get(path, **signer.ccxt("GET"))

    assert response.status_code == status
    assert response.get_json() == expected


# --- 5. Order of checks: the earlier failing check answers -----------------------------------------


def stale() -> int:
    return now_ms() - 60_000


def bad_signature(request: dict[str, Any]) -> dict[str, Any]:
    """The same request with its signature's last hex digit changed."""
    query = request["query_string"]
    flipped = "0" if query[-1] != "0" else "1"
    return {**request, "query_string": query[:-1] + flipped}


ORDER_CASES: list[tuple[str, Callable[[Keys], tuple[str, dict[str, Any]]], dict[str, str]]] = [
    (
        "doubled-header+unknown-key",
        lambda k: (
            ACCOUNT,
            {**k.full.ccxt("GET"), "headers": {"X-HK-APIKEY": "A" * 64, "X-APIKEY": "B" * 64}},
        ),
        UNAUTHORIZED,
    ),
    (
        "missing-header+bad-signature",
        lambda k: (ACCOUNT, {**bad_signature(k.full.ccxt("GET")), "headers": {}}),
        UNAUTHORIZED,
    ),
    (
        "unknown-key+bad-signature",
        lambda k: (ACCOUNT, bad_signature(Signer("A" * 64, "B" * 64).ccxt("GET"))),
        INVALID_API_KEY,
    ),
    (
        "bad-ip+bad-signature",
        lambda k: (ACCOUNT, bad_signature(k.fenced.ccxt("GET"))),
        INVALID_IP,
    ),
    (
        "bad-ip+stale-timestamp",
        lambda k: (ACCOUNT, k.fenced.ccxt("GET", timestamp=stale())),
        INVALID_IP,
    ),
    (
        "missing-signature+missing-timestamp",
        lambda k: (ACCOUNT, {"query_string": "recvWindow=5000", "headers": k.full.headers()}),
        SIGNATURE_MISSING,
    ),
    (
        "bad-signature+stale-timestamp",
        lambda k: (ACCOUNT, bad_signature(k.full.ccxt("GET", timestamp=stale()))),
        INCORRECT_SIGNATURE,
    ),
    (
        "bad-signature+illegal-recv-window",
        lambda k: (ACCOUNT, bad_signature(k.full.ccxt("GET", recvWindow=0))),
        INCORRECT_SIGNATURE,
    ),
    (
        "bad-signature+missing-permission",
        lambda k: ("/probe/trade", bad_signature(k.read_only.ccxt("GET"))),
        INCORRECT_SIGNATURE,
    ),
    (
        "invalid-timestamp+illegal-recv-window",
        lambda k: (ACCOUNT, signed_query(k.full, "timestamp=abc&recvWindow=0")),
        TIMESTAMP_INVALID,
    ),
    (
        "illegal-recv-window+stale-timestamp",
        lambda k: (ACCOUNT, k.full.ccxt("GET", timestamp=stale(), recvWindow=60001)),
        RECV_WINDOW_ILLEGAL,
    ),
    (
        "stale-timestamp+missing-permission",
        lambda k: ("/probe/trade", k.read_only.ccxt("GET", timestamp=stale())),
        OUTSIDE_WINDOW,
    ),
    (
        "stale-timestamp+missing-withdraw-permission",
        lambda k: ("/probe/withdraw", k.read_only.ccxt("GET", timestamp=stale())),
        OUTSIDE_WINDOW,
    ),
]


@pytest.mark.parametrize(
    ("build", "expected"),
    [(build, expected) for _, build, expected in ORDER_CASES],
    ids=[name for name, _, _ in ORDER_CASES],
)
def test_earlier_check_wins(probe_client, keys, build, expected):
    path, request = build(keys)

    response = probe_client.get(path, **request)

    assert response.status_code == 400
    assert response.get_json() == expected


def test_ip_weight_is_checked_before_the_key_header(make_app):
    client = make_app(ip_weight_limit=1).test_client()

    with frozen_at(WALL_MS):
        assert client.get("/api/v1/ping").status_code == 200
        response = client.get(ACCOUNT)

    assert response.status_code == 400
    assert response.get_json() == RATE_LIMITED


@pytest.mark.parametrize(
    ("signer_of", "expected"),
    [
        (lambda k: Signer("A" * 64, "B" * 64), INVALID_API_KEY),
        (lambda k: k.fenced, RATE_LIMITED),
    ],
    ids=["unknown-key-before-key-weight", "key-weight-before-ip-whitelist"],
)
def test_key_weight_sits_between_key_lookup_and_ip_whitelist(make_app, keys, signer_of, expected):
    client = make_app(key_weight_limit=5, ip_weight_limit=1000).test_client()
    signer = signer_of(keys)

    with frozen_at(WALL_MS):
        client.get(ACCOUNT, **signer.ccxt("GET"))  # weight 5: the key's whole allowance, if the key exists
        response = client.get(ACCOUNT, **signer.ccxt("GET"))

    assert response.status_code == 400
    assert response.get_json() == expected


def test_permission_is_checked_before_the_order_rate(make_probe_app, keys):
    client = make_probe_app(order_limit=1).test_client()

    with frozen_at(WALL_MS):
        responses = [client.get("/probe/order", **keys.read_only.ccxt("GET")) for _ in range(3)]

    assert [r.status_code for r in responses] == [400, 400, 400]
    assert [r.get_json() for r in responses] == [NO_PERMISSION] * 3


# --- 6. Timestamp window on the transport clock (live mode) ----------------------------------------


@pytest.mark.parametrize(
    ("offset_ms", "recv_window", "accepted"),
    [
        (1000, None, False),
        (999, None, True),
        (0, None, True),
        (-5000, None, True),
        (-5001, None, False),
        (-10000, 10000, True),
        (-10001, 10000, False),
        (999, 10000, True),
        (1000, 10000, False),
        (-60000, 60000, True),
        (-60001, 60000, False),
    ],
)
def test_timestamp_window_on_the_transport_clock(client, account, signer, offset_ms, recv_window, accepted):
    params: dict[str, Any] = {"timestamp": WALL_MS + offset_ms}
    if recv_window is not None:
        params["recvWindow"] = recv_window

    with frozen_at(WALL_MS):
        response = client.get(ACCOUNT, **signer.ccxt("GET", **params))

    if accepted:
        assert response.status_code == 200
        assert response.get_json() == balances_of(account)
    else:
        assert response.status_code == 400
        assert response.get_json() == OUTSIDE_WINDOW


# --- 7. Timestamp window in replay mode -----------------------------------------------------------

NEAR_MARKET = MARKET_MS - 100
NEAR_WALL = WALL_MS - 100
NEAR_NEITHER = (MARKET_MS + WALL_MS) // 2


@pytest.mark.parametrize(
    ("timestamp_clock", "timestamp", "accepted"),
    [
        ("either", NEAR_MARKET, True),
        ("either", NEAR_WALL, True),
        ("either", NEAR_NEITHER, False),
        ("either", MARKET_MS + 1000, False),
        ("either", MARKET_MS - 5001, False),
        ("transport", NEAR_MARKET, False),
        ("transport", NEAR_WALL, True),
        ("transport", NEAR_NEITHER, False),
        ("market", NEAR_MARKET, True),
        ("market", NEAR_WALL, False),
        ("market", NEAR_NEITHER, False),
    ],
)
def test_timestamp_window_in_replay(make_app, account, signer, timestamp_clock, timestamp, accepted):
    with frozen_at(WALL_MS):
        client = make_app(timestamp_clock=timestamp_clock).test_client()
        set_replay_clock(client, MARKET_MS)

        response = client.get(ACCOUNT, **signer.ccxt("GET", timestamp=timestamp))

    if accepted:
        assert response.status_code == 200
        assert response.get_json() == balances_of(account)
    else:
        assert response.status_code == 400
        assert response.get_json() == OUTSIDE_WINDOW


def test_replay_market_time_is_what_api_time_answers(make_app):
    with frozen_at(WALL_MS):
        client = make_app().test_client()
        set_replay_clock(client, MARKET_MS)

        response = client.get("/api/v1/time")

    assert response.status_code == 200
    assert response.get_json() == {"serverTime": MARKET_MS}


# --- 8. Rate limits --------------------------------------------------------------------------------


def test_ip_weight_limit(make_app):
    client = make_app(ip_weight_limit=10).test_client()

    with frozen_at(WALL_MS):
        allowed = [client.get("/api/v1/ping") for _ in range(10)]
        limited = client.get("/api/v1/ping")

    assert [r.status_code for r in allowed] == [200] * 10
    assert [r.get_json() for r in allowed] == [{}] * 10
    assert limited.status_code == 400
    assert limited.get_json() == RATE_LIMITED


def test_ip_weight_is_counted_per_address(make_app):
    client = make_app(ip_weight_limit=1).test_client()

    with frozen_at(WALL_MS):
        first = client.get("/api/v1/ping", environ_base={"REMOTE_ADDR": "10.0.0.1"})
        second = client.get("/api/v1/ping", environ_base={"REMOTE_ADDR": "10.0.0.2"})
        again = client.get("/api/v1/ping", environ_base={"REMOTE_ADDR": "10.0.0.1"})

    assert (first.status_code, second.status_code) == (200, 200)
    assert again.status_code == 400
    assert again.get_json() == RATE_LIMITED


def test_key_weight_limit_and_its_window(make_app, account, signer):
    client = make_app(key_weight_limit=10, ip_weight_limit=1000, weight_window_ms=60000).test_client()

    with frozen_at(WALL_MS) as frozen:
        allowed = [client.get(ACCOUNT, **signer.ccxt("GET")) for _ in range(2)]
        limited = client.get(ACCOUNT, **signer.ccxt("GET"))
        frozen.tick(timedelta(milliseconds=60000))
        next_window = client.get(ACCOUNT, **signer.ccxt("GET"))

    assert [r.status_code for r in allowed] == [200, 200]
    assert limited.status_code == 400
    assert limited.get_json() == RATE_LIMITED
    assert next_window.status_code == 200
    assert next_window.get_json() == balances_of(account)


def test_key_weight_is_counted_per_key(make_app, signer, sub_signer):
    client = make_app(key_weight_limit=5, ip_weight_limit=1000).test_client()

    with frozen_at(WALL_MS):
        first = client.get(ACCOUNT, **signer.ccxt("GET"))
        other_key = client.get(ACCOUNT, **sub_signer.ccxt("GET"))
        again = client.get(ACCOUNT, **signer.ccxt("GET"))

    assert (first.status_code, other_key.status_code) == (200, 200)
    assert again.status_code == 400
    assert again.get_json() == RATE_LIMITED


def test_rate_limits_off_never_limit(make_probe_app, keys):
    app = make_probe_app(rate_limits=False, ip_weight_limit=1, key_weight_limit=1, order_limit=1)
    client = app.test_client()

    with frozen_at(WALL_MS):
        responses = [client.get("/api/v1/ping") for _ in range(5)]
        responses += [client.get(ACCOUNT, **keys.full.ccxt("GET")) for _ in range(5)]
        responses += [client.get("/probe/order", **keys.full.ccxt("GET")) for _ in range(5)]

    assert [r.status_code for r in responses] == [200] * 15


def test_order_rate_limit(make_probe_app, keys):
    client = make_probe_app(order_limit=2, order_window_ms=10000).test_client()

    with frozen_at(WALL_MS):
        allowed = [client.get("/probe/order", **keys.full.ccxt("GET")) for _ in range(2)]
        limited = client.get("/probe/order", **keys.full.ccxt("GET"))

    assert [r.status_code for r in allowed] == [200, 200]
    assert limited.status_code == 400
    assert limited.get_json() == {
        "code": "-1015",
        "msg": "Too many new orders, current limit is 2 orders per 10 seconds",
    }


def test_order_rate_limit_resets_in_the_next_window(make_probe_app, keys):
    client = make_probe_app(order_limit=1, order_window_ms=10000).test_client()

    with frozen_at(WALL_MS) as frozen:
        first = client.get("/probe/order", **keys.full.ccxt("GET"))
        frozen.tick(timedelta(milliseconds=10000))
        next_window = client.get("/probe/order", **keys.full.ccxt("GET"))

    assert (first.status_code, next_window.status_code) == (200, 200)


def test_order_rate_is_also_counted_per_ip(make_probe_app, keys):
    client = make_probe_app(order_limit=2, order_window_ms=1000).test_client()

    with frozen_at(WALL_MS):
        allowed = [client.get("/probe/order", **signer.ccxt("GET")) for signer in (keys.full, keys.other)]
        limited = client.get("/probe/order", **keys.other.ccxt("GET"))  # its key's 2nd order, the IP's 3rd

    assert [r.status_code for r in allowed] == [200, 200]
    assert limited.status_code == 400
    assert limited.get_json() == {
        "code": "-1015",
        "msg": "Too many new orders, current limit is 2 orders per 1 second",
    }


def test_order_refused_by_the_ip_limit_does_not_use_the_keys_allowance(make_probe_app, keys):
    client = make_probe_app(order_limit=2, order_window_ms=1000).test_client()

    with frozen_at(WALL_MS):
        for signer in (keys.full, keys.other):
            assert client.get("/probe/order", **signer.ccxt("GET")).status_code == 200
        refused = client.get("/probe/order", **keys.other.ccxt("GET"))
        from_elsewhere = client.get(
            "/probe/order", environ_base={"REMOTE_ADDR": "10.9.9.9"}, **keys.other.ccxt("GET")
        )

    assert refused.status_code == 400
    assert from_elsewhere.status_code == 200  # the key has placed one order of its two
    assert from_elsewhere.get_json() == {}


def test_non_order_endpoints_do_not_count_as_orders(make_probe_app, keys):
    client = make_probe_app(order_limit=1).test_client()

    with frozen_at(WALL_MS):
        reads = [client.get("/probe/trade", **keys.full.ccxt("GET")) for _ in range(3)]
        order = client.get("/probe/order", **keys.full.ccxt("GET"))

    assert [r.status_code for r in reads] == [200, 200, 200]
    assert order.status_code == 200


# --- 9. Odd input never becomes a 500 --------------------------------------------------------------


def raw_query(signer: Signer, query: bytes) -> dict[str, Any]:
    """A query string of arbitrary bytes (the test client's query_string= takes text only): WSGI carries
    it as a latin-1 str, so every byte arrives unchanged."""
    return {"environ_overrides": {"QUERY_STRING": query.decode("latin-1")}, "headers": signer.headers()}


def raw_signed_query(signer: Signer, payload: bytes) -> dict[str, Any]:
    return raw_query(signer, payload + b"&signature=" + auth.sign(signer.secret, payload).encode())


def raw_signed_form(signer: Signer, payload: bytes) -> dict[str, Any]:
    return {
        "data": payload + b"&signature=" + auth.sign(signer.secret, payload).encode(),
        "content_type": FORM,
        "headers": signer.headers(),
    }


ODD_REQUESTS: list[tuple[str, Callable[[Signer, Signer], dict[str, Any]], dict[str, str]]] = [
    (
        "non-utf8-query-unsigned",
        lambda s, o: raw_query(s, b"timestamp=\xff\xfe&signature=00"),
        INCORRECT_SIGNATURE,
    ),
    (
        "non-utf8-timestamp-signed",
        lambda s, o: raw_signed_query(s, b"timestamp=\xff\xfe"),
        TIMESTAMP_INVALID,
    ),
    (
        "non-utf8-signature",
        lambda s, o: raw_query(s, f"timestamp={now_ms()}&signature=".encode() + b"\xff" * 64),
        INCORRECT_SIGNATURE,
    ),
    (
        "non-ascii-signature",
        lambda s, o: {"query_string": f"timestamp={now_ms()}&signature=%C3%A9", "headers": s.headers()},
        INCORRECT_SIGNATURE,
    ),
    (
        "timestamp-30-digits",
        lambda s, o: signed_query(s, "timestamp=" + "9" * 30),
        TIMESTAMP_INVALID,
    ),
    (
        "timestamp-exponent",
        lambda s, o: signed_query(s, "timestamp=1e12"),
        TIMESTAMP_INVALID,
    ),
    (
        "recv-window-30-digits",
        lambda s, o: signed_query(s, f"timestamp={now_ms()}&recvWindow=" + "9" * 30),
        RECV_WINDOW_ILLEGAL,
    ),
    (
        "empty-signature",
        lambda s, o: {"query_string": f"timestamp={now_ms()}&signature=", "headers": s.headers()},
        SIGNATURE_MISSING,
    ),
    (
        "signature-without-equals",
        lambda s, o: {"query_string": f"timestamp={now_ms()}&signature", "headers": s.headers()},
        SIGNATURE_MISSING,
    ),
    (
        "comma-joined-keys",
        lambda s, o: {**s.ccxt("GET"), "headers": {"X-HK-APIKEY": f"{s.api_key},{o.api_key}"}},
        UNAUTHORIZED,
    ),
    (
        "comma-joined-same-key",
        lambda s, o: {**s.ccxt("GET"), "headers": {"X-HK-APIKEY": f"{s.api_key}, {s.api_key}"}},
        UNAUTHORIZED,
    ),
    (
        "invalid-percent-escape-in-body",
        lambda s, o: raw_signed_form(s, f"timestamp={now_ms()}&recvWindow=%zz".encode()),
        RECV_WINDOW_ILLEGAL,
    ),
    (
        "truncated-percent-escape-in-body",
        lambda s, o: raw_signed_form(s, b"timestamp=%"),
        TIMESTAMP_INVALID,
    ),
    (
        "percent-encoded-non-utf8-in-body",
        lambda s, o: raw_signed_form(s, f"timestamp={now_ms()}&recvWindow=%ff%fe".encode()),
        RECV_WINDOW_ILLEGAL,
    ),
    (
        "raw-non-utf8-in-body",
        lambda s, o: raw_signed_form(s, f"timestamp={now_ms()}&recvWindow=".encode() + b"\xff"),
        RECV_WINDOW_ILLEGAL,
    ),
    (
        "invalid-percent-escape-in-query-unsigned",
        lambda s, o: {"query_string": "timestamp=%G1&signature=%zz", "headers": s.headers()},
        INCORRECT_SIGNATURE,
    ),
    (
        "invalid-json-body",
        lambda s, o: {**s.ccxt("GET", timestamp="x"), "data": b"{not json", "content_type": JSON},
        TIMESTAMP_INVALID,
    ),
]


@pytest.mark.parametrize(
    ("build", "expected"),
    [(build, expected) for _, build, expected in ODD_REQUESTS],
    ids=[name for name, _, _ in ODD_REQUESTS],
)
def test_odd_request_is_a_400_in_the_venue_shape(client, signer, sub_signer, build, expected):
    response = client.get(ACCOUNT, **build(signer, sub_signer))

    body = response.get_json()
    assert response.status_code == 400
    assert isinstance(body["code"], str)
    assert body == expected
