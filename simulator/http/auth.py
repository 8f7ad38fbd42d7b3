"""Authentication exactly as the HashKey document describes it, in one fixed order of checks.

Order (the first failing check answers; README "Order of checks" documents it):
  1. request weight per IP                      0003 Rate limit exceeded
  2. API-key header missing, empty or doubled   -1002 Unauthorized operation
  3. API key unknown                            0102 Invalid APIKey
  4. request weight per key                     0003 Rate limit exceeded
  5. caller's IP not in the key's whitelist     0202 Invalid IP
  6. signature missing / wrong                  0001 Required field signature... / 0001 Incorrect signature
  7. timestamp missing or malformed             0001 Required field timestamp missing or invalid
     recvWindow malformed or out of range       -1130 Illegal parameter 'recvWindow'
     timestamp outside the window               -1021
  8. key lacks the endpoint's permission        -1005 No permission (-4009 for withdraw)
  9. order rate per key and per IP (orders)     -1015 Too many new orders...
Endpoint parameters are checked after all of these, by the endpoint.
"""

from __future__ import annotations

import enum
import functools
import hashlib
import hmac
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from flask import g, request
from sqlalchemy.orm import Session

from simulator import errors
from simulator.clock import transport_now_ms
from simulator.domain.accounts import Permission, ip_allowed
from simulator.domain.clock import ClockMode, MarketClock, timestamp_in_window
from simulator.http.params import Params, RawRequest, parse_params, raw_request
from simulator.http.state import current_sim
from simulator.services.accounts import KeyIdentity, find_key
from simulator.services.clock import read_clock
from simulator.settings import Settings

API_KEY_HEADERS = ("X-HK-APIKEY", "X-APIKEY")  # the document's stream sample sends X-APIKEY
_API_KEY_ENVIRON = tuple("HTTP_" + name.upper().replace("-", "_") for name in API_KEY_HEADERS)


@dataclass(frozen=True)
class SignedRequest:
    identity: KeyIdentity
    params: Params
    clock: MarketClock  # as the timestamp was checked against it
    transport_ms: int

    @property
    def market_ms(self) -> int:
        """The market clock's now for this request."""
        return self.clock.now_ms(self.transport_ms)


class Tx(enum.Enum):
    """The transaction a signed view runs in."""

    # authentication's read transaction, kept for the view's reads (g.read_session) until the view catches
    # the market up (`state.market_now` ends it)
    READ = "read"
    WRITE = "write"  # a write transaction begun before authentication, shared with it: g.write_session
    OWN = "own"  # none: authentication's ends first, and the view opens what it needs


def public(weight: int) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """A NONE-security endpoint: only the per-IP request weight applies."""

    def decorate(view: Callable[..., Any]) -> Callable[..., Any]:
        @functools.wraps(view)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            current_sim().limits.charge_ip(client_address(), weight, transport_now_ms())
            return view(*args, **kwargs)

        return wrapper

    return decorate


def signed(
    weight: int, permission: Permission = Permission.READ, new_order: bool = False, tx: Tx = Tx.READ
) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """A TRADE / USER_DATA endpoint: the full order of checks above. The view finds the result in `g.signed`
    and its transaction as `tx` says.

    A view that writes must not do it inside a read transaction of its own request: on SQLite a snapshot
    open across a commit keeps the WAL from being checkpointed, and every later commit tries again (which
    made each order's commit five times dearer). A view of one write transaction uses Tx.WRITE (one
    transaction a request); one of several (a batch: each order its own) uses Tx.OWN. So a request holds
    one pooled connection at a time: one holding a connection while it waits for another can wait for good."""

    def decorate(view: Callable[..., Any]) -> Callable[..., Any]:
        @functools.wraps(view)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            _receive_body()
            database = current_sim().database
            if tx is Tx.OWN:
                with database.read() as session:
                    g.signed = authenticate(session, weight, permission, new_order)
                return view(*args, **kwargs)
            with database.write() if tx is Tx.WRITE else database.read() as session:
                g.signed = authenticate(session, weight, permission, new_order)
                if tx is Tx.WRITE:
                    g.write_session = session
                else:
                    g.read_session = session
                return view(*args, **kwargs)

        return wrapper

    return decorate


def _receive_body() -> None:
    """Read the whole upload before any session exists. Read later, at the signature check, it was read
    inside the transaction: a client sending its body slowly held a pooled connection all the while, and
    on the order endpoints SQLite's write lock, stalling every other writer of the server. A body over
    the limit is refused here (413), before the checks."""
    request.get_data(cache=True, parse_form_data=False)


def authenticate(session: Session, weight: int, permission: Permission, new_order: bool) -> SignedRequest:
    sim = current_sim()
    now_ms = transport_now_ms()
    address = client_address()
    sim.limits.charge_ip(address, weight, now_ms)
    api_key = _api_key_header()
    identity = find_key(session, api_key)
    if identity is None:
        raise errors.InvalidApiKey()
    sim.limits.charge_key(identity.api_key, weight, now_ms)
    if not ip_allowed(identity.ip_whitelist, address):
        raise errors.InvalidIp()
    raw = raw_request(request)
    params = parse_params(raw)
    verify_signature(identity.secret, raw, params)
    clock = read_clock(session)
    check_timestamp(params, clock, now_ms, sim.settings)
    if permission not in identity.permissions:
        raise errors.NoWithdrawalPermission() if permission is Permission.WITHDRAW else errors.NoPermission()
    if new_order:
        sim.limits.count_order(identity.api_key, address, now_ms)
    return SignedRequest(identity=identity, params=params, clock=clock, transport_ms=now_ms)


def client_address() -> str:
    """The address the request came from, as the rate limits and IP lists see it ("" if the server was not
    told one)."""
    return request.remote_addr or ""


def _api_key_header() -> str:
    """Exactly one key across X-HK-APIKEY and X-APIKEY (the same value in both is fine)."""
    # Read from the WSGI environ: werkzeug's header lookups walk every header of the request.
    values = {request.environ.get(name, "").strip() for name in _API_KEY_ENVIRON}
    values.discard("")
    # Servers join a header sent twice into one comma-separated value: that is a doubled header too.
    if len(values) != 1 or "," in next(iter(values)):
        raise errors.UnauthorizedOperation()
    return values.pop()


def signature_payloads(raw: RawRequest) -> list[bytes]:
    """The byte strings a valid signature may be computed over: query + body as received, with the
    signature pair cut out (the document's Example 3). For a JSON body, also the query alone (ccxt signs
    only ?timestamp= when it posts a JSON array)."""
    query = _without_signature(raw.query)
    body = _without_signature(raw.body) if raw.body_is_form else raw.body
    payloads = [query + body]
    if raw.body_is_json and raw.body:
        payloads.append(query)
    return payloads


def sign(secret: str, payload: bytes) -> str:
    return hmac.new(secret.encode("utf-8"), payload, hashlib.sha256).hexdigest()


def verify_signature(secret: str, raw: RawRequest, params: Params) -> None:
    # As bytes: compare_digest refuses str with non-ASCII characters, and a client may send anything.
    provided = params.required_text("signature").lower().encode("utf-8")
    for payload in signature_payloads(raw):
        if hmac.compare_digest(sign(secret, payload).encode("ascii"), provided):
            return
    raise errors.IncorrectSignature()


def check_timestamp(params: Params, clock: MarketClock, transport_ms: int, settings: Settings) -> None:
    """Accept iff timestamp < serverTime + 1000 and serverTime - timestamp <= recvWindow. In replay mode
    serverTime may be either clock (bots sign with their own clock or with /api/v1/time) unless the
    `timestamp_clock` setting pins one."""
    timestamp = params.required_int("timestamp")
    recv_window = (
        params.optional_int("recvWindow", minimum=1, maximum=settings.recv_window_max)
        or settings.recv_window_default
    )
    server_times = [transport_ms]
    if clock.mode is ClockMode.REPLAY:
        market_ms = clock.now_ms(transport_ms)
        server_times = {
            "either": [transport_ms, market_ms],
            "transport": [transport_ms],
            "market": [market_ms],
        }[settings.timestamp_clock]
    if not any(timestamp_in_window(timestamp, server, recv_window) for server in server_times):
        raise errors.TimestampOutsideRecvWindow()


def _without_signature(data: bytes) -> bytes:
    if b"signature" not in data:
        return data
    return b"&".join(pair for pair in data.split(b"&") if pair.split(b"=", 1)[0] != b"signature")
