"""Fixed-window counters for request weight and order rate, keyed by (scope, subject).

Pure: the caller passes the transport time. Thread-safe, because one process serves many threads.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass


@dataclass(frozen=True)
class Limit:
    amount: int
    window_ms: int


class WindowCounter:
    """Counts per subject within aligned windows of `limit.window_ms`; old windows are dropped lazily."""

    def __init__(self, limit: Limit) -> None:
        self.limit = limit
        self._lock = threading.Lock()
        self._window: dict[str, int] = {}
        self._used: dict[str, int] = {}

    def try_consume(self, subject: str, amount: int, now_ms: int) -> bool:
        """Adds `amount` and answers True, or answers False and adds nothing when it would pass the limit."""
        return self.try_consume_each((subject,), amount, now_ms)

    def try_consume_each(self, subjects: tuple[str, ...], amount: int, now_ms: int) -> bool:
        """All or nothing: adds `amount` to every subject if none would pass the limit, else nothing."""
        window = now_ms // self.limit.window_ms
        with self._lock:
            for subject in subjects:
                if self._window.get(subject) != window:
                    self._window[subject] = window
                    self._used[subject] = 0
            if any(self._used[subject] + amount > self.limit.amount for subject in subjects):
                return False
            for subject in subjects:
                self._used[subject] += amount
            return True


def describe_window(window_ms: int) -> str:
    """How the -1015 message names a window: '10 seconds', '1 second', '1500 milliseconds'."""
    if window_ms % 1000:
        return f"{window_ms} milliseconds"
    seconds = window_ms // 1000
    return "1 second" if seconds == 1 else f"{seconds} seconds"
