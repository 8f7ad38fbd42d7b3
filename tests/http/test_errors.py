"""Every failure leaves as {"code": "<string>", "msg": "<message>"}: routing, protocol, unexpected."""

from __future__ import annotations

import logging
import re

import pytest

from simulator.app import MAX_BODY_BYTES
from tests.conftest import admin_headers

UNKNOWN_ERROR = {"code": "-1000", "msg": "An unknown error occurred while processing the request"}
TOO_LARGE = {"code": "-1004", "msg": "Bad request: The data value transmitted exceeds the capacity limit."}


# ---------------------------------------------------------------------------- 404


@pytest.mark.parametrize(
    "path",
    [
        "/api/v1/nope",
        "/",
        "/api/v1/time/",
        "/sim/v1/nope",
        "/api/v2/ping",
        "/api/v1//ping",
        "/quote/v1//depth",
    ],
)
def test_unknown_path_is_404_naming_the_path(client, path):
    response = client.get(path)

    assert response.status_code == 404
    assert response.get_json() == {"code": "-1004", "msg": f"Bad request: no endpoint at {path}"}


@pytest.mark.parametrize(
    ("method", "path"), [("GET", "//api/v1/ping"), ("POST", "//api/v1/ping"), ("GET", "///quote/v1/depth")]
)
def test_a_path_starting_with_two_slashes_is_404_naming_the_path(client, method, path):
    """Werkzeug's router strips a path's leading slashes; the venue's paths start with one. (The test client
    reads `//host/...` in a URL as a host, so the path goes in as the server would pass it.)"""
    response = client.open("/", method=method, environ_overrides={"PATH_INFO": path})

    assert (response.status_code, response.get_json()) == (
        404,
        {"code": "-1004", "msg": f"Bad request: no endpoint at {path}"},
    )


def test_unknown_path_answer_is_json(client):
    response = client.get("/api/v1/nope")

    assert response.mimetype == "application/json"


# ---------------------------------------------------------------------------- 405


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("POST", "/api/v1/ping"),
        ("DELETE", "/api/v1/account"),
        ("POST", "/api/v1/account"),
        ("PUT", "/api/v1/time"),
        ("PUT", "/sim/v1/clock"),
        ("DELETE", "/sim/v1/accounts"),
        ("OPTIONS", "/api/v1.1/spot/order"),
        ("OPTIONS", "/api/v1/ping"),
    ],
)
def test_wrong_method_is_405_naming_method_and_path(client, method, path):
    response = client.open(path, method=method)

    assert response.status_code == 405
    assert response.get_json() == {
        "code": "-1004",
        "msg": f"Bad request: method {method} is not allowed on {path}",
    }


def test_wrong_method_answer_lists_the_allowed_methods(client):
    """RFC 9110 section 15.5.6: a 405 response MUST carry an Allow header."""
    response = client.post("/api/v1/ping")

    assert response.status_code == 405
    assert set(response.headers.get("Allow", "").replace(" ", "").split(",")) >= {"GET", "HEAD"}


# ---------------------------------------------------------------------------- 413


def test_admin_body_over_one_mebibyte_is_413(client):
    response = client.post(
        "/sim/v1/accounts",
        data=b"{" + b" " * MAX_BODY_BYTES + b"}",
        content_type="application/json",
        headers=admin_headers(),
    )

    assert response.status_code == 413
    assert response.get_json() == TOO_LARGE


def test_signed_request_body_over_one_mebibyte_is_413(client, signer):
    kwargs = signer.ccxt("GET")
    big = "pad=" + "x" * MAX_BODY_BYTES

    response = client.get(
        "/api/v1/account", data=big, content_type="application/x-www-form-urlencoded", **kwargs
    )

    assert response.status_code == 413
    assert response.get_json() == TOO_LARGE


def test_oversized_body_creates_nothing(client):
    body = b'{"balances": {"USDT": "1"}, "pad": "' + b"x" * MAX_BODY_BYTES + b'"}'

    client.post("/sim/v1/accounts", data=body, content_type="application/json", headers=admin_headers())

    assert client.get("/sim/v1/accounts", headers=admin_headers()).get_json() == {"users": []}


def test_body_of_exactly_one_mebibyte_is_read(client):
    body = b'{"balances": {"USDT": "1"}}'
    body += b" " * (MAX_BODY_BYTES - len(body))

    response = client.post(
        "/sim/v1/accounts", data=body, content_type="application/json", headers=admin_headers()
    )

    assert response.status_code == 201


# ---------------------------------------------------------------------------- 500


@pytest.fixture
def exploding_client(make_app):
    app = make_app()

    def explode():
        raise RuntimeError("secret detail")

    app.add_url_rule("/api/v1/explode", "explode", explode)
    return app.test_client()


def test_unexpected_exception_is_500_with_the_generic_error(exploding_client):
    response = exploding_client.get("/api/v1/explode")

    assert response.status_code == 500
    assert response.get_json() == UNKNOWN_ERROR


def test_unexpected_exception_does_not_leak_its_detail(exploding_client):
    response = exploding_client.get("/api/v1/explode")

    assert "secret detail" not in response.get_data(as_text=True)
    assert "RuntimeError" not in response.get_data(as_text=True)
    assert "Traceback" not in response.get_data(as_text=True)


def test_unexpected_exception_goes_to_the_server_log(exploding_client, caplog):
    with caplog.at_level(logging.ERROR, logger="simulator.http"):
        exploding_client.get("/api/v1/explode")

    (record,) = [r for r in caplog.records if r.name == "simulator.http"]
    assert "GET /api/v1/explode" in record.getMessage()
    assert record.exc_info is not None and "secret detail" in str(record.exc_info[1])


# ---------------------------------------------------------------------------- codes are strings


def _error_responses(client, account, signer, sub_signer):
    return {
        "404": client.get("/api/v1/nope"),
        "405": client.post("/api/v1/ping"),
        "401 admin": client.get("/sim/v1/accounts"),
        "-1002 no key": client.get("/api/v1/account"),
        "0102 unknown key": client.get("/api/v1/account", headers={"X-HK-APIKEY": "unknown"}),
        "0001 no signature": client.get(
            "/api/v1/account", query_string="timestamp=1", headers=signer.headers()
        ),
        "0104": client.get("/api/v1/account", **signer.ccxt("GET", accountId="1")),
        "-1130": client.get("/api/v1/account", **signer.ccxt("GET", accountId="abc")),
        "-3117": client.get("/api/v1/account", **sub_signer.ccxt("GET", accountId=account["accountId"])),
        "-4001": client.post(
            f"/sim/v1/accounts/{account['accountId']}/balances",
            json={"asset": "DOGE", "amount": "1"},
            headers=admin_headers(),
        ),
        "0401": client.post(
            f"/sim/v1/accounts/{account['accountId']}/balances",
            json={"asset": "USDT", "amount": "-5000"},
            headers=admin_headers(),
        ),
    }


def test_error_codes_are_json_strings_everywhere(client, account, signer, sub_signer):
    responses = _error_responses(client, account, signer, sub_signer)

    for name, response in responses.items():
        body = response.get_json()
        assert response.status_code >= 400, name
        assert set(body) == {"code", "msg"}, name
        assert isinstance(body["code"], str) and re.fullmatch(r"-?\d{4}", body["code"]), (name, body)
        assert isinstance(body["msg"], str) and body["msg"], name
        assert re.search(rb'"code":\s*"-?\d{4}"', response.get_data()), name


def test_leading_zero_codes_keep_their_zeros(client, signer):
    response = client.get("/api/v1/account", **signer.ccxt("GET", accountId="1"))

    assert response.get_json()["code"] == "0104"
