"""Mudrex: historical klines over REST, in bulk.

GET /fapi/v1/price/kline?assets=BTC/USDT,ETH/USDT&aggregation=1m&start_time=<s>&end_time=<s> answers at
most 1440 candles per asset and takes at most 25 assets, with epoch seconds (both ends inclusive) and
300 requests a minute per IP. So the range is cut into windows of 1440 bars, the symbols into chunks of
25, requests go through a client-side limiter (300 in any 60 s), and a 429 is retried after a backoff.
The answer is keyed by the lowercase asset (btc/usdt) but does not say its interval: the envelope does.

--symbols take BTC/USDT or BTCUSDT; the latter is split at a known quote asset (USDT, USDC, BTC, ETH, USD).
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from simulator.marketdata.recorders.base import (
    EnvelopeWriter,
    InvalidRequest,
    NotJson,
    RecorderError,
    RestClient,
    RunControl,
    StopRequested,
    contiguous_windows,
    parse_json,
    url_with_query,
)
from simulator.marketdata.records import INTERVAL_MS, MONTH

DEFAULT_BASE_URL = "https://trade.mudrex.com"
KLINE_PATH = "/fapi/v1/price/kline"
KLINES_PER_CALL = 1440
SYMBOLS_PER_CALL = 25
REQUESTS_PER_MINUTE = 300
QUOTE_ASSETS = ("USDT", "USDC", "BTC", "ETH", "USD")  # longest first where one ends another
# our interval -> Mudrex aggregation
AGGREGATIONS = {
    "1m": "1m",
    "3m": "3t",
    "5m": "5t",
    "10m": "10t",
    "15m": "15t",
    "30m": "30t",
    "1h": "1h",
    "4h": "4h",
    "6h": "6h",
    "12h": "12h",
    "1d": "1d",
    "1w": "1w",
    MONTH: "1mth",
}
LONGEST_MONTH_S = 31 * 86_400


def mudrex_asset(symbol: str) -> str:
    """BTC/USDT for "BTCUSDT", "btc/usdt" or "BTC/USDT"."""
    name = symbol.strip().upper()
    if "/" in name:
        base, _, quote = name.partition("/")
        if base and quote:
            return f"{base}/{quote}"
    else:
        for quote in QUOTE_ASSETS:
            if name.endswith(quote) and len(name) > len(quote):
                return f"{name[: -len(quote)]}/{quote}"
    known = ", ".join(QUOTE_ASSETS)
    raise InvalidRequest(f"cannot tell the quote asset of {symbol!r}: write it BASE/QUOTE (known: {known})")


def aggregation(interval: str) -> str:
    try:
        return AGGREGATIONS[interval]
    except KeyError:
        raise InvalidRequest(f"Mudrex klines come in {', '.join(AGGREGATIONS)}; not {interval!r}") from None


def step_seconds(interval: str) -> int:
    return LONGEST_MONTH_S if interval == MONTH else INTERVAL_MS[interval] // 1000


def chunks(items: list[str], size: int) -> Iterator[list[str]]:
    for first in range(0, len(items), size):
        yield items[first : first + size]


def seconds_range(start_ms: int, end_ms: int) -> tuple[int, int]:
    """The whole seconds within [start_ms, end_ms]."""
    return -(-start_ms // 1000), end_ms // 1000


def kline_url(base_url: str, assets: list[str], aggregation_name: str, start_s: int, end_s: int) -> str:
    # Mudrex refuses end_time <= start_time; one second more adds no bar (none is shorter than 1 min).
    params = [
        ("assets", ",".join(assets)),
        ("aggregation", aggregation_name),
        ("start_time", start_s),
        ("end_time", max(end_s, start_s + 1)),
    ]
    return url_with_query(base_url.rstrip("/") + KLINE_PATH, params)


def requests_for(
    base_url: str, assets: list[str], interval: str, start_ms: int, end_ms: int
) -> Iterator[str]:
    """Every URL the range takes: windows of 1440 bars, in time order, each for chunks of 25 assets."""
    start_s, end_s = seconds_range(start_ms, end_ms)
    width = KLINES_PER_CALL * step_seconds(interval)
    for first, last in contiguous_windows(start_s, end_s, width):
        for chunk in chunks(assets, SYMBOLS_PER_CALL):
            yield kline_url(base_url, chunk, aggregation(interval), first, last)


def check_answer(response: Any) -> None:
    if not isinstance(response, dict) or response.get("success") is not True:
        raise RecorderError(f"Mudrex refused the kline query: {str(response)[:300]}")


class MudrexKlines:
    """Pages klines for all symbols over [start, end] (bar opening times, ms, both inclusive)."""

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
        self.assets = list(dict.fromkeys(mudrex_asset(s) for s in symbols))
        self.interval = interval
        aggregation(interval)  # refuse an interval Mudrex does not have before any request
        self.start_ms, self.end_ms = start_ms, end_ms
        self.writer = writer
        self.http = http
        self.control = control
        self.base_url = base_url

    def run(self) -> None:
        try:
            for url in requests_for(self.base_url, self.assets, self.interval, self.start_ms, self.end_ms):
                self.control.check()
                body = self.http.get(url)
                try:
                    check_answer(parse_json(body))
                except NotJson as e:
                    raise RecorderError(f"Mudrex kline answer is {e}") from None
                self.writer.write_checked(body, interval=self.interval)
        except StopRequested:
            pass
