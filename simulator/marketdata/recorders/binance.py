"""Binance: combined WebSocket streams, plus a REST depth snapshot for every diff-depth stream.

One connection carries every stream (wss://stream.binance.com:9443/stream?streams=btcusdt@trade/...);
each message arrives wrapped as {"stream", "data"} and is written as it came. A diff-depth stream
(<symbol>@depth or @depth@100ms) only makes sense on top of a snapshot, so after every (re)connection,
once the first diff event of a symbol has arrived, GET /api/v3/depth?symbol=..&limit=1000 is written
with "symbol" in its envelope. Fetching after the first event (not before) is Binance's own recipe:
the snapshot's lastUpdateId is then not older than the buffered events, and the importer drops the
events it already covers.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from simulator.marketdata.recorders.base import (
    EnvelopeWriter,
    Log,
    NotJson,
    RestClient,
    logger,
    url_with_query,
)
from simulator.marketdata.recorders.stream import Connection, ConnectionTrouble

DEFAULT_WS_URL = "wss://stream.binance.com:9443/stream"
DEFAULT_BASE_URL = "https://api.binance.com"
DEFAULT_STREAMS = ("trade", "bookTicker", "depth@100ms")
DEPTH_SNAPSHOT_PATH = "/api/v3/depth"
DEPTH_SNAPSHOT_LIMIT = 1000
DIFF_DEPTH = re.compile(r"depth(@\d+ms)?")  # not depth5/10/20: partial books need no snapshot


def stream_names(symbols: Iterable[str], streams: Iterable[str]) -> list[str]:
    """btcusdt@trade, btcusdt@depth@100ms, ...: symbols lowercased, as Binance requires."""
    streams = list(streams)
    return [f"{symbol.lower()}@{stream}" for symbol in symbols for stream in streams]


def combined_stream_url(ws_url: str, names: Iterable[str]) -> str:
    separator = "&" if "?" in ws_url else "?"
    return f"{ws_url}{separator}streams={'/'.join(names)}"


def diff_depth_symbol(stream: str) -> str | None:
    """BTCUSDT for "btcusdt@depth@100ms"; None for any other stream."""
    symbol, _, kind = stream.partition("@")
    return symbol.upper() if symbol and DIFF_DEPTH.fullmatch(kind) else None


def depth_snapshot_url(base_url: str, symbol: str, limit: int = DEPTH_SNAPSHOT_LIMIT) -> str:
    return url_with_query(base_url.rstrip("/") + DEPTH_SNAPSHOT_PATH, [("symbol", symbol), ("limit", limit)])


@dataclass
class BinanceConfig:
    symbols: list[str]
    streams: list[str] = field(default_factory=lambda: list(DEFAULT_STREAMS))
    ws_url: str = DEFAULT_WS_URL
    base_url: str = DEFAULT_BASE_URL
    snapshot_limit: int = DEPTH_SNAPSHOT_LIMIT

    @property
    def names(self) -> list[str]:
        return stream_names(self.symbols, self.streams)


class BinanceStreams:
    """The StreamVenue for Binance's combined streams."""

    name = "binance"

    def __init__(
        self, config: BinanceConfig, writer: EnvelopeWriter, http: RestClient, log: Log = logger.info
    ):
        self.config = config
        self.writer = writer
        self.http = http
        self.log = log
        self.depth_symbols = {s for s in map(diff_depth_symbol, config.names) if s}
        self.awaiting_snapshot: set[str] = set()
        self.snapshots = 0

    def connect_url(self) -> str:
        # Every new connection starts new diff sequences: each needs a new snapshot.
        self.awaiting_snapshot = set(self.depth_symbols)
        return combined_stream_url(self.config.ws_url, self.config.names)

    def on_open(self, connection: Connection, writer: EnvelopeWriter) -> None:
        pass

    def on_message(self, text: str, data: Any, now: float) -> None:
        stream = data.get("stream") if isinstance(data, dict) else None
        symbol = diff_depth_symbol(stream) if isinstance(stream, str) else None
        if symbol in self.awaiting_snapshot:
            self.awaiting_snapshot.discard(symbol)
            self.write_snapshot(symbol)

    def write_snapshot(self, symbol: str) -> None:
        body = self.http.get(depth_snapshot_url(self.config.base_url, symbol, self.config.snapshot_limit))
        try:
            self.writer.write(body, symbol=symbol)
        except NotJson as e:
            raise ConnectionTrouble(f"the depth snapshot of {symbol} is {e}") from None
        self.snapshots += 1

    def on_idle(self, connection: Connection, now: float) -> None:
        pass
