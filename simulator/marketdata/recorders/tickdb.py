"""TickDB: klines over REST with an API key (header X-API-Key).

With a time range: GET /v1/market/kline?symbol=BTCUSDT&interval=1m&start_time=<ms>&end_time=<ms>&limit=1000
per symbol, paged by time in windows of 1000 bars (the documented maximum of `limit`); both ends are
inclusive milliseconds. Its answer's `data` has been documented both with and without symbol and
interval, so the envelope carries both.

Without one: GET /v1/market/kline/latest?symbols=A,B&interval=1m, the bar being formed for each symbol,
polled every interval (or --poll seconds) until stopped. Its answer names symbol and interval itself.

Every answer is {"code": 0, "message": "success", "data": ...}; any other code stops the recording.
"""

from __future__ import annotations

import time
from typing import Any

from simulator.marketdata.recorders.base import (
    Clock,
    EnvelopeWriter,
    InvalidRequest,
    NotJson,
    RecorderError,
    RestClient,
    RunControl,
    Sleep,
    StopRequested,
    contiguous_windows,
    parse_json,
    url_with_query,
)
from simulator.marketdata.records import INTERVAL_MS, MONTH

DEFAULT_BASE_URL = "https://api.tickdb.ai"
KLINE_PATH = "/v1/market/kline"
LATEST_PATH = "/v1/market/kline/latest"
API_KEY_HEADER = "X-API-Key"
API_KEY_ENV = "TICKDB_API_KEY"
KLINES_PER_CALL = 1000
INTERVALS = ("1m", "3m", "5m", "15m", "30m", "1h", "2h", "4h", "12h", "1d", "1w", MONTH)
LONGEST_MONTH_MS = 31 * 86_400_000


def check_interval(interval: str) -> str:
    if interval not in INTERVALS:
        raise InvalidRequest(f"TickDB klines come in {', '.join(INTERVALS)}; not {interval!r}")
    return interval


def step_ms(interval: str) -> int:
    return LONGEST_MONTH_MS if interval == MONTH else INTERVAL_MS[interval]


def kline_url(base_url: str, symbol: str, interval: str, start_ms: int, end_ms: int, limit: int) -> str:
    params = [
        ("symbol", symbol),
        ("interval", interval),
        ("start_time", start_ms),
        ("end_time", end_ms),
        ("limit", limit),
    ]
    return url_with_query(base_url.rstrip("/") + KLINE_PATH, params)


def latest_url(base_url: str, symbols: list[str], interval: str) -> str:
    return url_with_query(
        base_url.rstrip("/") + LATEST_PATH, [("symbols", ",".join(symbols)), ("interval", interval)]
    )


def api_headers(api_key: str) -> dict[str, str]:
    if not api_key:
        raise InvalidRequest(f"TickDB needs an API key: --api-key or {API_KEY_ENV}")
    return {API_KEY_HEADER: api_key}


def checked(body: str) -> Any:
    """The parsed answer; RecorderError unless its code is 0."""
    try:
        response = parse_json(body)
    except NotJson as e:
        raise RecorderError(f"TickDB answer is {e}") from None
    if not isinstance(response, dict) or response.get("code") not in (0, "0"):
        raise RecorderError(f"TickDB refused the query: {body[:300]}")
    return response


class TickdbKlines:
    """Pages historical klines for each symbol over [start, end] (ms, both inclusive)."""

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
        limit: int = KLINES_PER_CALL,
    ):
        self.symbols = symbols
        self.interval = check_interval(interval)
        self.start_ms, self.end_ms = start_ms, end_ms
        self.writer = writer
        self.http = http
        self.control = control
        self.base_url = base_url
        self.limit = limit

    def urls(self, symbol: str) -> list[str]:
        """One request per window of `limit` bars."""
        width = self.limit * step_ms(self.interval)
        return [
            kline_url(self.base_url, symbol, self.interval, first, last, self.limit)
            for first, last in contiguous_windows(self.start_ms, self.end_ms, width)
        ]

    def run(self) -> None:
        try:
            for symbol in self.symbols:
                for url in self.urls(symbol):
                    self.control.check()
                    body = self.http.get(url)
                    checked(body)
                    self.writer.write_checked(body, symbol=symbol, interval=self.interval)
        except StopRequested:
            pass


class TickdbLatest:
    """Polls the bar being formed for every symbol, one request per period, until stopped."""

    def __init__(
        self,
        symbols: list[str],
        interval: str,
        writer: EnvelopeWriter,
        http: RestClient,
        control: RunControl,
        base_url: str = DEFAULT_BASE_URL,
        poll_s: float | None = None,
        clock: Clock = time.monotonic,
        sleep: Sleep | None = None,
    ):
        self.url = latest_url(base_url, symbols, check_interval(interval))
        self.poll_s = poll_s if poll_s is not None else step_ms(interval) / 1000
        self.writer = writer
        self.http = http
        self.control = control
        self.clock = clock
        self.sleep = sleep or control.wait
        self.polls = 0

    def run(self) -> None:
        try:
            next_poll = self.clock()
            while True:
                self.control.check()
                body = self.http.get(self.url)
                checked(body)
                self.writer.write_checked(body)
                self.polls += 1
                # A fixed rate, not a fixed gap: slow answers do not make the polls drift.
                next_poll += self.poll_s
                self.sleep(max(0.0, next_poll - self.clock()))
        except StopRequested:
            pass
