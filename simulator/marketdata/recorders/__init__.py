"""Live recorders behind `hashkey-sim data record`: what a venue sends, written untouched to JSON Lines
that `data import` reads back.

base.py holds the envelope file, stop flag, backoff, rate limiter and HTTP client every venue uses;
stream.py the WebSocket loop (reconnection, renewal before the venue's age limit); one module per venue
builds its URLs and pages with pure functions. make_recorder() turns a RecordRequest into a runnable
recorder and refuses (InvalidRequest) what a venue cannot serve.
"""

from __future__ import annotations

import signal
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from typing import Any, Protocol

from simulator.marketdata.parsing import MalformedRecord, time_ms
from simulator.marketdata.recorders import binance, kucoin, mudrex, tickdb
from simulator.marketdata.recorders.base import (
    Backoff,
    EnvelopeWriter,
    InvalidRequest,
    Log,
    OutputError,
    RateLimiter,
    RecorderError,
    RestClient,
    RunControl,
    Sleep,
    logger,
    now_ms,
)
from simulator.marketdata.recorders.stream import StreamOptions, StreamRecorder, StreamVenue
from simulator.marketdata.records import INTERVALS

__all__ = [
    "RECORD_VENUES",
    "EnvelopeWriter",
    "InvalidRequest",
    "OutputError",
    "RecordRequest",
    "RecorderError",
    "RunControl",
    "StreamOptions",
    "make_recorder",
    "parse_time",
    "stop_on_signals",
]

RECORD_VENUES = ("binance", "kucoin", "mudrex", "tickdb")
EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


@dataclass
class RecordRequest:
    """What `data record` was asked for, before any venue has looked at it."""

    venue: str
    symbols: list[str]
    streams: list[str] | None = None  # None: the venue's default streams
    interval: str = "1m"
    start_ms: int | None = None
    end_ms: int | None = None  # None with a start: now
    base_url: str | None = None  # None: the venue's own
    ws_url: str | None = None
    api_key: str | None = None
    poll_s: float | None = None  # TickDB latest-bar polling period; None: the interval
    stream: StreamOptions = field(default_factory=StreamOptions)


class Recorder(Protocol):
    def run(self) -> None:
        """Record until done (a REST range), stopped, or out of --duration; RecorderError when it cannot."""


class _Recording:
    """A venue's runner and the HTTP client it borrows, closed when the run ends."""

    def __init__(self, runner: Recorder, http: RestClient):
        self.runner = runner
        self.http = http

    def run(self) -> None:
        try:
            self.runner.run()
        finally:
            self.http.close()


@dataclass
class _Tools:
    """What every venue's recorder is built from."""

    writer: EnvelopeWriter
    control: RunControl
    log: Log
    wait: Sleep

    def rest(self, headers: dict[str, str] | None = None, limiter: RateLimiter | None = None) -> RestClient:
        return RestClient(self.control, Backoff(self.wait), headers=headers, limiter=limiter, log=self.log)

    def streaming(self, venue: StreamVenue, http: RestClient, options: StreamOptions) -> Recorder:
        recorder = StreamRecorder(venue, self.writer, self.control, Backoff(self.wait), options, log=self.log)
        return _Recording(recorder, http)


def make_recorder(
    request: RecordRequest,
    writer: EnvelopeWriter,
    control: RunControl,
    log: Log = logger.info,
    sleep: Sleep | None = None,
) -> Recorder:
    """The recorder for `request`, writing to `writer`; `sleep` (default: control.wait) paces backoffs."""
    builders: dict[str, Callable[[RecordRequest, _Tools], Recorder]] = {
        "binance": _binance,
        "kucoin": _kucoin,
        "mudrex": _mudrex,
        "tickdb": _tickdb,
    }
    if request.venue not in builders:
        raise InvalidRequest(f"cannot record {request.venue!r}: one of {', '.join(RECORD_VENUES)}")
    return builders[request.venue](_checked(request), _Tools(writer, control, log, sleep or control.wait))


def _checked(request: RecordRequest) -> RecordRequest:
    """`request` as every venue may take it (a range's end defaults to now), or InvalidRequest."""
    if not request.symbols:
        raise InvalidRequest("no symbols to record")
    if request.interval not in INTERVALS:
        raise InvalidRequest(f"unknown interval {request.interval!r}")
    _check_scheme("--base-url", request.base_url, ("http://", "https://"))
    _check_scheme("--ws-url", request.ws_url, ("ws://", "wss://"))
    if request.start_ms is None:
        if request.end_ms is not None:
            raise InvalidRequest("--end needs --start")
        return request
    end_ms = request.end_ms if request.end_ms is not None else now_ms()
    if request.start_ms > end_ms:
        raise InvalidRequest("--start is after --end")
    return replace(request, end_ms=end_ms)


def _check_scheme(option: str, url: str | None, schemes: tuple[str, ...]) -> None:
    if url is not None and not url.startswith(schemes):
        raise InvalidRequest(f"{option} must start with {' or '.join(schemes)}: {url!r}")


def _refuse(request: RecordRequest, **unused: Any) -> None:
    for option, value in unused.items():
        if value is not None:
            raise InvalidRequest(f"--{option.replace('_', '-')} does not apply to {request.venue} here")


def _range(request: RecordRequest) -> tuple[int, int]:
    if request.start_ms is None or request.end_ms is None:
        raise InvalidRequest(f"{request.venue} needs --start (and --end, default now) here")
    return request.start_ms, request.end_ms


def _binance(request: RecordRequest, tools: _Tools) -> Recorder:
    _refuse(request, start=request.start_ms, api_key=request.api_key, poll=request.poll_s)
    config = binance.BinanceConfig(
        symbols=request.symbols,
        streams=request.streams or list(binance.DEFAULT_STREAMS),
        ws_url=request.ws_url or binance.DEFAULT_WS_URL,
        base_url=request.base_url or binance.DEFAULT_BASE_URL,
    )
    http = tools.rest()
    return tools.streaming(
        binance.BinanceStreams(config, tools.writer, http, tools.log), http, request.stream
    )


def _kucoin(request: RecordRequest, tools: _Tools) -> Recorder:
    _refuse(request, api_key=request.api_key, poll=request.poll_s)
    base_url = request.base_url or kucoin.DEFAULT_BASE_URL
    if request.start_ms is not None:
        _refuse(request, streams=request.streams, ws_url=request.ws_url)
        start, end = _range(request)
        http = tools.rest()
        klines = kucoin.KucoinKlines(
            request.symbols, request.interval, start, end, tools.writer, http, tools.control, base_url
        )
        return _Recording(klines, http)
    config = kucoin.KucoinConfig(
        symbols=request.symbols,
        streams=request.streams or list(kucoin.DEFAULT_STREAMS),
        base_url=base_url,
        ws_url=request.ws_url,
    )
    http = tools.rest()
    return tools.streaming(
        kucoin.KucoinStreams(config, http, tools.control, log=tools.log), http, request.stream
    )


def _mudrex(request: RecordRequest, tools: _Tools) -> Recorder:
    _refuse(
        request, streams=request.streams, ws_url=request.ws_url, api_key=request.api_key, poll=request.poll_s
    )
    start, end = _range(request)
    klines = mudrex.MudrexKlines(
        request.symbols,
        request.interval,
        start,
        end,
        tools.writer,
        http := tools.rest(limiter=RateLimiter(mudrex.REQUESTS_PER_MINUTE, 60.0, time.monotonic, tools.wait)),
        tools.control,
        request.base_url or mudrex.DEFAULT_BASE_URL,
    )
    return _Recording(klines, http)


def _tickdb(request: RecordRequest, tools: _Tools) -> Recorder:
    _refuse(request, streams=request.streams, ws_url=request.ws_url)
    headers = tickdb.api_headers(request.api_key or "")
    base_url = request.base_url or tickdb.DEFAULT_BASE_URL
    http = tools.rest(headers=headers)
    runner: Recorder
    if request.start_ms is not None:
        _refuse(request, poll=request.poll_s)
        start, end = _range(request)
        runner = tickdb.TickdbKlines(
            request.symbols, request.interval, start, end, tools.writer, http, tools.control, base_url
        )
    else:
        runner = tickdb.TickdbLatest(
            request.symbols,
            request.interval,
            tools.writer,
            http,
            tools.control,
            base_url,
            request.poll_s,
            sleep=tools.wait,
        )
    return _Recording(runner, http)


def parse_time(text: str) -> int:
    """ms since the epoch from "1723161255208" (s, ms, µs or ns by magnitude) or an ISO date/time
    ("2024-08-08", "2024-08-08T23:54:15Z"; UTC when no offset is given)."""
    text = text.strip()
    if text.isdigit():
        try:
            return time_ms(int(text), "time")
        except MalformedRecord as e:
            raise ValueError(str(e)) from None
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        raise ValueError(f"{text!r} is neither ms since the epoch nor an ISO date/time") from None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return (moment - EPOCH) // timedelta(milliseconds=1)


@contextmanager
def stop_on_signals(control: RunControl) -> Iterator[None]:
    """SIGINT and SIGTERM ask `control` to stop (a second Ctrl-C interrupts at once). Only the main
    thread may set handlers; elsewhere this does nothing."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    previous = {sig: signal.getsignal(sig) for sig in (signal.SIGINT, signal.SIGTERM)}

    def ask_to_stop(signum: int, frame: Any) -> None:
        control.stop()  # only a flag: the recorder notices it within its poll interval
        signal.signal(signal.SIGINT, signal.default_int_handler)

    for sig in previous:
        signal.signal(sig, ask_to_stop)
    try:
        yield
    finally:
        for sig, handler in previous.items():
            # None: a handler set outside Python, which cannot be put back; the default is the closest
            signal.signal(sig, signal.SIG_DFL if handler is None else handler)
