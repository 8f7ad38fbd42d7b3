"""What every recorder shares: the envelope file, the stop flag and duration, backoff, a request-rate
limiter and a retrying HTTP client.

A recording is JSON Lines, one line per message the venue sent:

    {"recv_ms": 1723161255208, "venue": "binance", "data": <the message, byte for byte>}

REST responses that do not name their symbol or interval get "symbol" (the venue symbol asked for) and
"interval" (ours, e.g. "1m") before "data". The message text is spliced in, never re-serialized, so
numbers keep every digit the venue wrote; only line breaks (which JSON allows only as whitespace between
tokens) become spaces so that a pretty-printed response stays one line.
"""

from __future__ import annotations

import json
import logging
import time
from collections import deque
from collections.abc import Callable, Iterator
from decimal import Decimal
from pathlib import Path
from typing import Any
from urllib.parse import quote

import requests

logger = logging.getLogger("simulator.marketdata.recorders")

Log = Callable[[str], None]
Sleep = Callable[[float], None]
Clock = Callable[[], float]

SLEEP_SLICE_S = 0.2  # a stop request (signal) is noticed within this while sleeping
RETRYABLE_STATUS = frozenset({408, 425, 429, 500, 502, 503, 504})
BODY_IN_ERRORS = 300  # characters of a refused response quoted in the error


class RecorderError(Exception):
    """The recording cannot go on (a refused request, an answer we cannot use, bad arguments)."""


class OutputError(Exception):
    """The recording file cannot be written (a full disk): fatal, never taken for a venue's trouble."""


class InvalidRequest(RecorderError):
    """Arguments the venue cannot serve (an interval it does not have, a symbol it cannot spell)."""


class StopRequested(Exception):
    """Ctrl-C, SIGTERM or the end of --duration arrived while waiting."""


class NotJson(ValueError):
    """A message that is not one JSON value; it is not written."""


def now_ms() -> int:
    return time.time_ns() // 1_000_000


def parse_json(text: str) -> Any:
    """The message as Python values (decimals exact), to look inside; what is written is the text."""
    try:
        return json.loads(text, parse_float=Decimal)
    except ValueError as e:
        raise NotJson(f"not JSON ({e})") from None


def envelope_line(text: str, venue: str, recv_ms: int, extra: dict[str, str]) -> str:
    """The envelope around `text`, spliced in unchanged but for line breaks (JSON whitespace)."""
    head = json.dumps({"recv_ms": recv_ms, "venue": venue, **extra})
    body = text.strip().replace("\r", " ").replace("\n", " ")
    return f'{head[:-1]}, "data": {body}}}\n'


class EnvelopeWriter:
    """Appends envelopes to a JSON Lines file, flushed after every message so a crash loses nothing."""

    def __init__(self, path: str | Path, venue: str, clock_ms: Callable[[], int] = now_ms):
        self.path = Path(path)
        self.venue = venue
        self.clock_ms = clock_ms
        self.count = 0
        self._file = open(self.path, "a", encoding="utf-8", newline="\n")
        self._end_unfinished_line()

    def _end_unfinished_line(self) -> None:
        # A recording cut mid-line (killed process, full disk) must not swallow the first new message.
        if self._file.tell() == 0:
            return
        with open(self.path, "rb") as existing:
            existing.seek(-1, 2)
            if existing.read(1) != b"\n":
                self._file.write("\n")

    def write(self, text: str, **extra: str) -> Any:
        """Write one message (refused with NotJson unless it is JSON); returns it parsed."""
        data = parse_json(text)
        self.write_checked(text, **extra)
        return data

    def write_checked(self, text: str, **extra: str) -> None:
        """Write a message the caller has already parsed."""
        try:
            self._file.write(envelope_line(text, self.venue, self.clock_ms(), extra))
            self._file.flush()
        except OSError as e:
            raise OutputError(f"cannot write {self.path}: {e}") from e
        self.count += 1

    def close(self) -> None:
        try:
            self._file.close()
        except OSError:
            pass  # what could not be written was reported when it failed; the file is closed regardless

    def __enter__(self) -> EnvelopeWriter:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


class RunControl:
    """When a recorder stops: stop() (from a signal handler or another thread) or the end of the
    duration. A signal handler only sets a flag, so waits are sliced to notice it."""

    def __init__(self, duration_s: float | None = None, clock: Clock = time.monotonic):
        self.clock = clock
        self.deadline = None if duration_s is None else clock() + duration_s
        self._stop_requested = False

    def stop(self) -> None:
        self._stop_requested = True

    @property
    def stopped(self) -> bool:
        return self._stop_requested or (self.deadline is not None and self.clock() >= self.deadline)

    def check(self) -> None:
        if self.stopped:
            raise StopRequested()

    def wait(self, seconds: float) -> None:
        """Sleep `seconds`, cut short (StopRequested) by a stop or the end of the duration."""
        until = self.clock() + seconds
        while True:
            self.check()
            left = until - self.clock()
            if self.deadline is not None:
                left = min(left, self.deadline - self.clock())
            if left <= 0:
                self.check()
                return
            time.sleep(min(left, SLEEP_SLICE_S))


class Backoff:
    """Exponential delays between attempts: initial, initial*factor, ... capped; reset() after a success
    or a healthy connection. `sleep` is injectable so tests need not wait."""

    def __init__(
        self,
        sleep: Sleep,
        initial_s: float = 1.0,
        factor: float = 2.0,
        cap_s: float = 60.0,
    ):
        self.sleep = sleep
        self.initial_s = initial_s
        self.factor = factor
        self.cap_s = cap_s
        self._next = initial_s

    def next_delay(self) -> float:
        delay = self._next
        self._next = min(self._next * self.factor, self.cap_s)
        return delay

    def reset(self) -> None:
        self._next = self.initial_s


class RateLimiter:
    """At most `max_calls` calls in any `period_s` window (a sliding window of call times)."""

    def __init__(self, max_calls: int, period_s: float, clock: Clock, sleep: Sleep):
        self.max_calls = max_calls
        self.period_s = period_s
        self.clock = clock
        self.sleep = sleep
        self._calls: deque[float] = deque()

    def acquire(self) -> None:
        now = self.clock()
        self._forget_before(now - self.period_s)
        if len(self._calls) >= self.max_calls:
            self.sleep(self._calls[0] + self.period_s - now)
            now = self.clock()
            self._forget_before(now - self.period_s)
        self._calls.append(now)

    def _forget_before(self, horizon: float) -> None:
        while self._calls and self._calls[0] <= horizon:
            self._calls.popleft()


def contiguous_windows(start: int, end: int, width: int) -> Iterator[tuple[int, int]]:
    """[start, end] cut into consecutive inclusive windows of `width` units (the last may be shorter).
    A window `bars * step` wide holds at most `bars` bar openings, wherever it starts."""
    while start <= end:
        last = min(end, start + width - 1)
        yield start, last
        start = last + 1


def url_with_query(url: str, params: list[tuple[str, Any]]) -> str:
    """`url?k=v&...` with "/" and "," left literal (Mudrex documents assets=BTC/USDT,ETH/USDT so)."""
    query = "&".join(f"{quote(key)}={quote(str(value), safe='/,')}" for key, value in params)
    return f"{url}?{query}" if query else url


class RestClient:
    """GET/POST returning the response text. Network errors, 429 and 5xx are retried after a backoff
    (honouring Retry-After); other refusals, or too many failures in a row, raise RecorderError."""

    def __init__(
        self,
        control: RunControl,
        backoff: Backoff,
        headers: dict[str, str] | None = None,
        limiter: RateLimiter | None = None,
        timeout_s: float = 30.0,
        max_attempts: int = 8,
        log: Log = logger.info,
        session: requests.Session | None = None,
    ):
        self.control = control
        self.backoff = backoff
        self.headers = headers or {}
        self.limiter = limiter
        self.timeout_s = timeout_s
        self.max_attempts = max_attempts
        self.log = log
        self.session = session or requests.Session()
        self.requests_sent = 0

    def get(self, url: str) -> str:
        return self.request("GET", url)

    def post(self, url: str) -> str:
        return self.request("POST", url)

    def request(self, method: str, url: str) -> str:
        attempt = 0
        while True:
            attempt += 1
            self.control.check()
            if self.limiter is not None:
                self.limiter.acquire()
            try:
                body = self._attempt(method, url)
            except _Retryable as e:
                if attempt >= self.max_attempts:
                    raise RecorderError(f"{method} {url}: gave up after {attempt} attempts: {e}") from None
                delay = max(self.backoff.next_delay(), e.retry_after_s)
                self.log(f"{method} {url}: {e}; retrying in {delay:g} s")
                self.backoff.sleep(delay)
                continue
            self.backoff.reset()
            return body

    def _attempt(self, method: str, url: str) -> str:
        self.requests_sent += 1
        try:
            response = self.session.request(method, url, headers=self.headers, timeout=self.timeout_s)
        except requests.RequestException as e:
            raise _Retryable(f"{type(e).__name__}: {e}") from None
        if response.status_code in RETRYABLE_STATUS:
            retry_after = _seconds(response.headers.get("Retry-After", ""))
            raise _Retryable(f"HTTP {response.status_code}", retry_after)
        if response.status_code != 200:
            body = response.text[:BODY_IN_ERRORS]
            raise RecorderError(f"{method} {url}: HTTP {response.status_code}: {body}")
        try:
            return response.content.decode("utf-8")
        except UnicodeDecodeError:
            raise RecorderError(f"{method} {url}: the response is not UTF-8 text") from None

    def close(self) -> None:
        self.session.close()


class _Retryable(Exception):
    """A failure worth another attempt: the network, a rate limit, the venue's own trouble."""

    def __init__(self, problem: str, retry_after_s: float = 0.0):
        super().__init__(problem)
        self.retry_after_s = retry_after_s


def _seconds(header: str) -> float:
    try:
        return max(float(header), 0.0)
    except ValueError:
        return 0.0  # an HTTP date or nothing: our own backoff decides
