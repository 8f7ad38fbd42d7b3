"""KuCoin Futures: public WebSocket topics, or klines paged over REST for a time range.

Live: POST /api/v1/bullet-public gives a token, the WebSocket endpoint and the ping interval; connect to
endpoint?token=..&connectId=.., wait for the welcome, subscribe one topic per symbol and stream
(/contractMarket/tickerV2:XBTUSDTM, ...), and send {"id", "type": "ping"} every pingInterval ms. A
connection silent for longer than pingInterval + pingTimeout is taken for dead. Every reconnection asks
for a new token. Everything the venue sends (welcome, acks, pongs, data) is written.

Range: GET /api/v1/kline/query?symbol=..&granularity=<minutes>&from=<ms>&to=<ms>, at most 500 bars per
call, so each call asks for a window of 500 bars and the next starts after the last bar received. The
responses carry neither symbol nor interval: both go in the envelope.
"""

from __future__ import annotations

import itertools
import json
import time
import uuid
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

import websocket

from simulator.marketdata.recorders.base import (
    Clock,
    EnvelopeWriter,
    InvalidRequest,
    Log,
    NotJson,
    RecorderError,
    RestClient,
    RunControl,
    StopRequested,
    logger,
    now_ms,
    parse_json,
    url_with_query,
)
from simulator.marketdata.recorders.stream import Connection, ConnectionTrouble

DEFAULT_BASE_URL = "https://api-futures.kucoin.com"
BULLET_PATH = "/api/v1/bullet-public"
KLINE_PATH = "/api/v1/kline/query"
DEFAULT_STREAMS = ("tickerV2", "level2Depth50", "execution")
OK = "200000"
KLINES_PER_CALL = 500
GRANULARITY_MINUTES = {
    "1m": 1,
    "5m": 5,
    "15m": 15,
    "30m": 30,
    "1h": 60,
    "2h": 120,
    "4h": 240,
    "8h": 480,
    "12h": 720,
    "1d": 1440,
    "1w": 10080,
}
WELCOME_TIMEOUT_S = 10.0


# --- live topics -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Bullet:
    """What bullet-public grants: a token for one connection, where to connect, how often to ping."""

    token: str
    endpoint: str
    ping_interval_s: float
    ping_timeout_s: float


def parse_bullet(response: Any) -> Bullet:
    try:
        if response["code"] != OK:
            raise ConnectionTrouble(f"bullet-public refused: {response}")
        data = response["data"]
        server = data["instanceServers"][0]
        return Bullet(
            token=str(data["token"]),
            endpoint=str(server["endpoint"]),
            ping_interval_s=int(server["pingInterval"]) / 1000,
            ping_timeout_s=int(server.get("pingTimeout", server["pingInterval"])) / 1000,
        )
    except (KeyError, IndexError, TypeError, ValueError) as e:
        raise ConnectionTrouble(f"bullet-public answer without {e}: {str(response)[:200]}") from None


def topics(symbols: Iterable[str], streams: Iterable[str]) -> list[str]:
    streams = list(streams)
    return [f"/contractMarket/{stream}:{symbol.upper()}" for symbol in symbols for stream in streams]


def connect_url(endpoint: str, token: str, connect_id: str) -> str:
    return url_with_query(endpoint, [("token", token), ("connectId", connect_id)])


def subscribe_frame(frame_id: int, topic: str) -> str:
    return json.dumps({"id": str(frame_id), "type": "subscribe", "topic": topic, "response": True})


def ping_frame(frame_id: int) -> str:
    return json.dumps({"id": str(frame_id), "type": "ping"})


def message_type(data: Any) -> str | None:
    kind = data.get("type") if isinstance(data, dict) else None
    return kind if isinstance(kind, str) else None


@dataclass
class KucoinConfig:
    symbols: list[str]
    streams: list[str] = field(default_factory=lambda: list(DEFAULT_STREAMS))
    base_url: str = DEFAULT_BASE_URL
    ws_url: str | None = None  # instead of the endpoint bullet-public names (the token still comes from it)
    welcome_timeout_s: float = WELCOME_TIMEOUT_S


class KucoinStreams:
    """The StreamVenue for KuCoin Futures' public topics."""

    name = "kucoin"

    def __init__(
        self,
        config: KucoinConfig,
        http: RestClient,
        control: RunControl,
        clock: Clock = time.monotonic,
        log: Log = logger.info,
    ):
        self.config = config
        self.http = http
        self.control = control
        self.clock = clock
        self.log = log
        self.bullet: Bullet | None = None
        self.frame_ids = itertools.count(now_ms())
        self.next_ping_at = 0.0
        self.last_heard_at = 0.0
        self.pings_sent = 0

    def connect_url(self) -> str:
        body = self.http.post(self.config.base_url.rstrip("/") + BULLET_PATH)
        try:
            self.bullet = parse_bullet(parse_json(body))
        except NotJson as e:
            raise ConnectionTrouble(f"bullet-public answer is {e}") from None
        return connect_url(self.config.ws_url or self.bullet.endpoint, self.bullet.token, uuid.uuid4().hex)

    def on_open(self, connection: Connection, writer: EnvelopeWriter) -> None:
        self._await_welcome(connection, writer)
        for topic in topics(self.config.symbols, self.config.streams):
            connection.send(subscribe_frame(next(self.frame_ids), topic))
        now = self.clock()
        self.last_heard_at = now
        self.next_ping_at = now + self._bullet.ping_interval_s

    def _await_welcome(self, connection: Connection, writer: EnvelopeWriter) -> None:
        deadline = self.clock() + self.config.welcome_timeout_s
        while self.clock() < deadline:
            self.control.check()
            try:
                opcode, payload = connection.recv_data()
            except websocket.WebSocketTimeoutException:
                continue
            if opcode == websocket.ABNF.OPCODE_CLOSE:
                raise ConnectionTrouble("closed before the welcome")
            try:
                data = writer.write(payload.decode("utf-8") if isinstance(payload, bytes) else payload)
            except (NotJson, UnicodeDecodeError):
                continue
            if message_type(data) == "welcome":
                return
            if message_type(data) == "error":
                raise ConnectionTrouble(f"refused: {data}")
        raise ConnectionTrouble(f"no welcome within {self.config.welcome_timeout_s:g} s")

    def on_message(self, text: str, data: Any, now: float) -> None:
        self.last_heard_at = now
        if message_type(data) == "error":
            self.log(f"kucoin: error from the venue: {text[:200]}")

    def on_idle(self, connection: Connection, now: float) -> None:
        bullet = self._bullet
        if now - self.last_heard_at > bullet.ping_interval_s + bullet.ping_timeout_s:
            raise ConnectionTrouble(f"nothing heard for {now - self.last_heard_at:.0f} s")
        if now >= self.next_ping_at:
            connection.send(ping_frame(next(self.frame_ids)))
            self.pings_sent += 1
            self.next_ping_at = now + bullet.ping_interval_s

    @property
    def _bullet(self) -> Bullet:
        if self.bullet is None:
            raise ConnectionTrouble("connected without a bullet-public token")
        return self.bullet


# --- klines over a time range ------------------------------------------------------------------------


def granularity(interval: str) -> int:
    try:
        return GRANULARITY_MINUTES[interval]
    except KeyError:
        raise InvalidRequest(
            f"KuCoin klines come in {', '.join(GRANULARITY_MINUTES)}; not {interval!r}"
        ) from None


def kline_url(base_url: str, symbol: str, minutes: int, from_ms: int, to_ms: int) -> str:
    params = [("symbol", symbol), ("granularity", minutes), ("from", from_ms), ("to", to_ms)]
    return url_with_query(base_url.rstrip("/") + KLINE_PATH, params)


def window_end(cursor: int, end_ms: int, step_ms: int) -> int:
    """The last ms of a window from `cursor` holding at most KLINES_PER_CALL bar openings (one call's
    worth: asked for more, KuCoin would silently return only 500 of them)."""
    return min(end_ms, cursor + KLINES_PER_CALL * step_ms - 1)


def next_cursor(bar_times: list[int], cursor: int, to_ms: int, step_ms: int) -> int:
    """After the last bar received within the window; past the window when it had none."""
    inside = [t for t in bar_times if cursor <= t <= to_ms]
    return max(inside) + step_ms if inside else to_ms + 1


def bar_times(response: Any) -> list[int]:
    """Opening times of the bars in a kline response; RecorderError when it is a refusal."""
    if not isinstance(response, dict) or response.get("code") != OK:
        raise RecorderError(f"KuCoin refused the kline query: {str(response)[:300]}")
    bars = response.get("data")
    if not isinstance(bars, list):
        raise RecorderError(f"KuCoin kline answer without a data list: {str(response)[:300]}")
    try:
        return [int(bar[0]) for bar in bars]
    except (TypeError, ValueError, IndexError, KeyError):
        raise RecorderError(f"KuCoin kline answer with a bar that has no time: {str(bars)[:300]}") from None


class KucoinKlines:
    """Pages klines for each symbol over [start, end] (bar opening times, ms, both inclusive)."""

    def __init__(
        self,
        symbols: list[str],
        interval: str,
        start_ms: int,
        end_ms: int,
        writer: EnvelopeWriter,
        http: RestClient,
        control: RunControl,
        base_url: str = DEFAULT_BASE_URL,
    ):
        self.symbols = [s.upper() for s in symbols]
        self.interval = interval
        self.minutes = granularity(interval)
        self.start_ms, self.end_ms = start_ms, end_ms
        self.writer = writer
        self.http = http
        self.control = control
        self.base_url = base_url

    def run(self) -> None:
        try:
            for symbol in self.symbols:
                self._page(symbol)
        except StopRequested:
            pass

    def _page(self, symbol: str) -> None:
        step = self.minutes * 60_000
        cursor = self.start_ms
        while cursor <= self.end_ms:
            self.control.check()
            to = window_end(cursor, self.end_ms, step)
            body = self.http.get(kline_url(self.base_url, symbol, self.minutes, cursor, to))
            times = bar_times(_parsed(body))
            self.writer.write_checked(body, symbol=symbol, interval=self.interval)
            cursor = next_cursor(times, cursor, to, step)


def _parsed(body: str) -> Any:
    try:
        return parse_json(body)
    except NotJson as e:
        raise RecorderError(f"KuCoin kline answer is {e}") from None
