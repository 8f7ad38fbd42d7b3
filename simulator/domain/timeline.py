"""Which recorded moment the market is replaying: market time mapped to recording time.

Replay mode plays the recording at its own times (the identity). Live mode plays a recording shifted to
line up with now and looped, so that a server runs for days on one recording: the recording's span, from
its first recorded time, repeats every `period_ms`. The period is the span rounded up to a whole minute,
so every shift is a whole number of minutes and a minute bar that opens on a minute in the recording opens
on a minute in the market too.

Loop boundaries: loop k covers market times [first + k * period, first + (k + 1) * period). A boundary
belongs to the loop it starts, so events recorded exactly at `first_ms` happen at the first millisecond of
every loop, and nothing recorded happens twice at one market time.
"""

from __future__ import annotations

from dataclasses import dataclass

MINUTE_MS = 60_000


@dataclass(frozen=True)
class Segment:
    """A stretch of the recording played at one shift: recorded events with r0 < time <= r1 happen at
    market time `time + shift`."""

    r0: int
    r1: int
    shift: int

    def contains(self, recording_ms: int) -> bool:
        return self.r0 < recording_ms <= self.r1

    def to_market(self, recording_ms: int) -> int:
        return recording_ms + self.shift


@dataclass(frozen=True)
class Timeline:
    """Maps market time to recording time."""

    first_ms: int | None  # first recorded time (None: no data; then identity)
    period_ms: int | None  # loop length; None: identity (replay mode)

    def __post_init__(self) -> None:
        if self.period_ms is not None and self.period_ms <= 0:
            raise ValueError("a loop period must be positive")

    @classmethod
    def identity(cls) -> Timeline:
        return cls(None, None)

    @classmethod
    def looped(cls, first_ms: int, last_ms: int) -> Timeline:
        """The recording [first_ms, last_ms] played over and over, each loop a whole number of minutes."""
        if last_ms < first_ms:
            raise ValueError("a recording cannot end before it starts")
        span = last_ms - first_ms + 1
        minutes = -(-span // MINUTE_MS)  # ceiling division, exact for any int
        return cls(first_ms, minutes * MINUTE_MS)

    @property
    def is_identity(self) -> bool:
        return self.first_ms is None or self.period_ms is None

    def to_recording(self, market_ms: int) -> int:
        """The recorded moment the market is at when market time is `market_ms`. Before `first_ms` the loop
        runs backwards too (Python's mod is never negative), so every market time has a recorded moment."""
        if self.first_ms is None or self.period_ms is None:
            return market_ms
        return self.first_ms + (market_ms - self.first_ms) % self.period_ms

    def shift_at(self, market_ms: int) -> int:
        """What is added to a recorded time to get the market time it happens at, for the loop `market_ms`
        is in: 0 for the identity, a multiple of the period when looped."""
        return market_ms - self.to_recording(market_ms)

    def segments(self, t0: int, t1: int) -> list[Segment]:
        """The market interval (t0, t1] as stretches of the recording, in market-time order: one for the
        identity; when looped, a new one at every loop boundary inside the interval (so one per loop it
        touches). Empty when t1 <= t0."""
        if t1 <= t0:
            return []
        if self.first_ms is None or self.period_ms is None:
            return [Segment(t0, t1, 0)]
        found: list[Segment] = []
        start = t0
        while start < t1:
            shift = self.shift_at(start + 1)  # the loop of the first millisecond after `start`
            loop_last_ms = self.first_ms + self.period_ms - 1 + shift
            end = min(t1, loop_last_ms)
            found.append(Segment(start - shift, end - shift, shift))
            start = end
        return found
