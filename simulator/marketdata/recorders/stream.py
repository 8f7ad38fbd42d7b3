"""The WebSocket side: one connection at a time, every text message written as it arrives, reconnection
with backoff, and a proactive renewal before the venue's own connection age limit.

A venue plugs in through StreamVenue: the URL to connect to (KuCoin fetches a token for it), what to do
once connected (KuCoin waits for the welcome and subscribes), after each message (Binance fetches a
depth snapshot) and while idle (KuCoin's application-level pings). websocket-client answers protocol
pings itself while we read.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any, Protocol

import websocket

from simulator.marketdata.recorders.base import (
    Backoff,
    Clock,
    EnvelopeWriter,
    Log,
    NotJson,
    RecorderError,
    RunControl,
    StopRequested,
    logger,
)

DEFAULT_MAX_AGE_S = 23 * 3600 + 50 * 60  # Binance cuts a connection at 24 h; KuCoin tokens last 24 h


class ConnectionTrouble(Exception):
    """The connection is no longer usable (closed, silent, refused a subscription); reconnect."""


class Connection(Protocol):
    def send(self, payload: str) -> Any: ...

    def recv_data(self, control_frame: bool = False) -> tuple[int, Any]: ...


class StreamVenue(Protocol):
    name: str

    def connect_url(self) -> str:
        """The URL for a new connection (may call the venue's REST API)."""

    def on_open(self, connection: Connection, writer: EnvelopeWriter) -> None:
        """Just connected: handshake and subscriptions."""

    def on_message(self, text: str, data: Any, now: float) -> None:
        """A message was written."""

    def on_idle(self, connection: Connection, now: float) -> None:
        """Called between messages (at least every poll interval): pings, liveness checks."""


@dataclass
class StreamOptions:
    max_age_s: float = DEFAULT_MAX_AGE_S  # reconnect proactively after this long
    poll_s: float = 1.0  # longest blocking read, so stops, renewals and pings are timely
    connect_timeout_s: float = 10.0
    healthy_s: float = 60.0  # a connection that lasted this long resets the backoff


class StreamRecorder:
    def __init__(
        self,
        venue: StreamVenue,
        writer: EnvelopeWriter,
        control: RunControl,
        backoff: Backoff,
        options: StreamOptions | None = None,
        clock: Clock = time.monotonic,
        log: Log = logger.info,
    ):
        self.venue = venue
        self.writer = writer
        self.control = control
        self.backoff = backoff
        self.options = options or StreamOptions()
        self.clock = clock
        self.log = log
        self.connections = 0  # connections opened
        self.renewals = 0  # of them, closed by us because of their age
        self.not_json = 0  # messages dropped because they were not JSON

    def run(self) -> None:
        try:
            while not self.control.stopped:
                if self._one_connection():
                    continue  # renewed on purpose: connect again at once
                self.control.check()
                delay = self.backoff.next_delay()
                self.log(f"{self.venue.name}: reconnecting in {delay:g} s")
                self.backoff.sleep(delay)
        except StopRequested:
            pass

    def _one_connection(self) -> bool:
        """Connect and record until the connection ends; True when it was renewed because of its age."""
        connection = None
        opened_at = self.clock()
        try:
            url = self.venue.connect_url()
            connection = websocket.create_connection(url, timeout=self.options.connect_timeout_s)
            self.connections += 1
            opened_at = self.clock()
            connection.settimeout(self.options.poll_s)
            self.venue.on_open(connection, self.writer)
            return self._pump(connection, opened_at)
        except (websocket.WebSocketException, OSError, ConnectionTrouble, RecorderError) as e:
            self.log(f"{self.venue.name}: connection lost: {type(e).__name__}: {e}")
            return False
        finally:
            if connection is not None:
                connection.close(timeout=1)
                # close() skips a connection whose close frame came from the venue: free its socket too
                connection.shutdown()
            if self.clock() - opened_at >= self.options.healthy_s:
                self.backoff.reset()

    def _pump(self, connection: websocket.WebSocket, opened_at: float) -> bool:
        while True:
            self.control.check()
            now = self.clock()
            if now - opened_at >= self.options.max_age_s:
                self.renewals += 1
                self.backoff.reset()
                self.log(f"{self.venue.name}: renewing a connection {now - opened_at:.0f} s old")
                return True
            self.venue.on_idle(connection, now)
            try:
                opcode, payload = connection.recv_data()
            except websocket.WebSocketTimeoutException:
                continue
            if opcode == websocket.ABNF.OPCODE_CLOSE:
                raise ConnectionTrouble("closed by the venue")
            self._record(payload, self.clock())

    def _record(self, payload: bytes | str, now: float) -> None:
        try:
            text = payload.decode("utf-8") if isinstance(payload, bytes) else payload
            data = self.writer.write(text)
        except (NotJson, UnicodeDecodeError) as e:
            self.not_json += 1
            self.log(f"{self.venue.name}: dropped a message that is not JSON text ({e}): {payload[:80]!r}")
            return
        self.venue.on_message(text, data, now)
