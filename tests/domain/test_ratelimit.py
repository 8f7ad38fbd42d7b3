"""Fixed-window counters and how the -1015 message names a window."""

from __future__ import annotations

import pytest

from simulator.domain.ratelimit import Limit, WindowCounter, describe_window

WINDOW = 10_000
T0 = 1_700_000_000_000  # a multiple of WINDOW: the start of a window


def counter(amount: int = 5) -> WindowCounter:
    return WindowCounter(Limit(amount=amount, window_ms=WINDOW))


def test_consumes_up_to_the_limit():
    limiter = counter(5)

    answers = [limiter.try_consume("key", 1, T0 + i) for i in range(5)]

    assert answers == [True] * 5


def test_refuses_past_the_limit():
    limiter = counter(5)
    for _ in range(5):
        limiter.try_consume("key", 1, T0)

    assert limiter.try_consume("key", 1, T0 + 1) is False


def test_refusal_consumes_nothing():
    limiter = counter(5)
    limiter.try_consume("key", 3, T0)

    refused = limiter.try_consume("key", 3, T0)  # 6 would pass the limit
    fits = limiter.try_consume("key", 2, T0)  # 5 still fits

    assert (refused, fits) == (False, True)


def test_amount_larger_than_the_limit_is_refused():
    assert counter(5).try_consume("key", 6, T0) is False


def test_weighted_amounts_reach_the_limit_exactly():
    limiter = counter(10)

    assert [limiter.try_consume("key", 5, T0), limiter.try_consume("key", 5, T0)] == [True, True]
    assert limiter.try_consume("key", 1, T0) is False


def test_resets_in_the_next_window():
    limiter = counter(2)
    limiter.try_consume("key", 2, T0)

    assert limiter.try_consume("key", 1, T0 + WINDOW - 1) is False
    assert limiter.try_consume("key", 2, T0 + WINDOW) is True


def test_windows_are_aligned_not_sliding():
    limiter = counter(1)
    limiter.try_consume("key", 1, T0 + WINDOW - 1)  # the last millisecond of a window

    assert limiter.try_consume("key", 1, T0 + WINDOW) is True


def test_subjects_are_independent():
    limiter = counter(1)
    limiter.try_consume("alice", 1, T0)

    assert limiter.try_consume("bob", 1, T0) is True
    assert limiter.try_consume("alice", 1, T0) is False


@pytest.mark.parametrize(
    ("window_ms", "text"),
    [
        (10_000, "10 seconds"),
        (1_000, "1 second"),
        (1_500, "1500 milliseconds"),
        (60_000, "60 seconds"),
        (500, "500 milliseconds"),
    ],
)
def test_describe_window(window_ms, text):
    assert describe_window(window_ms) == text
