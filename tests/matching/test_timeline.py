"""The timeline: which recorded moment each market time plays, and the windows the engine reads."""

from __future__ import annotations

from itertools import pairwise

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from simulator.domain.timeline import MINUTE_MS, Segment, Timeline

HOUR_MS = 60 * MINUTE_MS
FIRST = 1_700_000_000_000  # a recording that starts on a minute


def played_at(timeline: Timeline, t0: int, t1: int, recorded: list[int]) -> list[int]:
    """Market times at which `recorded` events happen in the market window (t0, t1], in order."""
    return [
        segment.to_market(time)
        for segment in timeline.segments(t0, t1)
        for time in sorted(recorded)
        if segment.contains(time)
    ]


# --- construction -------------------------------------------------------------------------------------


def test_identity_maps_every_time_to_itself():
    timeline = Timeline.identity()
    assert timeline.is_identity
    for market in (-5, 0, FIRST, 10**13):
        assert timeline.to_recording(market) == market
        assert timeline.shift_at(market) == 0


def test_no_data_is_the_identity_even_with_a_period():
    timeline = Timeline(None, MINUTE_MS)
    assert timeline.is_identity
    assert timeline.to_recording(123) == 123
    assert timeline.segments(0, 10) == [Segment(0, 10, 0)]


@pytest.mark.parametrize(
    ("first", "last", "period"),
    [
        (FIRST, FIRST, MINUTE_MS),  # one event: the shortest loop is a minute
        (FIRST, FIRST + MINUTE_MS - 1, MINUTE_MS),  # exactly a minute
        (FIRST, FIRST + MINUTE_MS, 2 * MINUTE_MS),  # one millisecond more rounds up
        (FIRST + 345, FIRST + 345 + HOUR_MS - 1, HOUR_MS),  # a start off the minute keeps the span
        (FIRST, FIRST + 90 * MINUTE_MS + 7, 91 * MINUTE_MS),
    ],
)
def test_looped_period_is_the_span_rounded_up_to_a_whole_minute(first, last, period):
    timeline = Timeline.looped(first, last)
    assert (timeline.first_ms, timeline.period_ms) == (first, period)
    assert not timeline.is_identity


def test_looped_rejects_a_recording_that_ends_before_it_starts():
    with pytest.raises(ValueError):
        Timeline.looped(FIRST, FIRST - 1)


@pytest.mark.parametrize("period", [0, -MINUTE_MS])
def test_a_period_must_be_positive(period):
    with pytest.raises(ValueError):
        Timeline(FIRST, period)


# --- market time to recording time --------------------------------------------------------------------


def test_looped_recording_repeats_and_a_boundary_starts_the_new_loop():
    timeline = Timeline.looped(FIRST, FIRST + 2 * MINUTE_MS - 1)  # a two-minute loop
    period = 2 * MINUTE_MS
    assert timeline.to_recording(FIRST) == FIRST
    assert timeline.to_recording(FIRST + period - 1) == FIRST + period - 1  # last ms of loop 0
    assert timeline.to_recording(FIRST + period) == FIRST  # the boundary belongs to loop 1
    assert timeline.shift_at(FIRST + period) == period
    assert timeline.to_recording(FIRST + 5 * period + 17) == FIRST + 17
    assert timeline.shift_at(FIRST + 5 * period + 17) == 5 * period


def test_times_before_the_recording_loop_backwards():
    timeline = Timeline.looped(FIRST, FIRST + MINUTE_MS - 1)
    assert timeline.to_recording(FIRST - 1) == FIRST + MINUTE_MS - 1
    assert timeline.shift_at(FIRST - 1) == -MINUTE_MS
    assert timeline.to_recording(FIRST - MINUTE_MS) == FIRST
    assert timeline.to_recording(0) == FIRST + (0 - FIRST) % MINUTE_MS
    assert timeline.to_recording(-1) == FIRST + (-1 - FIRST) % MINUTE_MS


def test_a_live_server_today_plays_an_old_recording_on_minute_boundaries():
    recording = Timeline.looped(FIRST + 250, FIRST + 3 * HOUR_MS)  # first event off the minute
    now = 1_760_000_123_456
    assert FIRST + 250 <= recording.to_recording(now) < FIRST + 250 + recording.period_ms
    assert recording.shift_at(now) % MINUTE_MS == 0
    assert recording.to_recording(now) % MINUTE_MS == now % MINUTE_MS  # same second within the minute


@settings(max_examples=300, deadline=None)
@given(
    first=st.integers(-(10**13), 10**13),
    span=st.integers(0, 10 * 24 * HOUR_MS),
    market=st.integers(-(10**14), 10**14),
)
def test_looped_times_always_land_inside_the_loop_on_a_whole_minute_shift(first, span, market):
    timeline = Timeline.looped(first, first + span)
    recorded = timeline.to_recording(market)
    assert first <= recorded < first + timeline.period_ms
    assert recorded <= first + span or recorded - first - span < MINUTE_MS  # only the rounding is empty
    assert timeline.shift_at(market) % timeline.period_ms == 0
    assert timeline.shift_at(market) % MINUTE_MS == 0
    assert recorded + timeline.shift_at(market) == market


# --- windows as segments ------------------------------------------------------------------------------


@pytest.mark.parametrize("t1", [99, 100])
def test_an_empty_or_backwards_window_has_no_segments(t1):
    assert Timeline.identity().segments(100, t1) == []
    assert Timeline.looped(0, 10).segments(100, t1) == []


def test_identity_window_is_one_unshifted_segment():
    assert Timeline.identity().segments(-50, 10**13) == [Segment(-50, 10**13, 0)]


def test_a_window_inside_one_loop_is_one_segment():
    timeline = Timeline.looped(0, MINUTE_MS - 1)
    assert timeline.segments(MINUTE_MS + 10, MINUTE_MS + 20) == [Segment(10, 20, MINUTE_MS)]


def test_a_window_across_the_wrap_splits_at_the_boundary():
    timeline = Timeline.looped(0, MINUTE_MS - 1)
    assert timeline.segments(50_000, 70_000) == [
        Segment(50_000, 59_999, 0),
        Segment(-1, 10_000, MINUTE_MS),  # r0 = first - 1, so the event at first_ms is included
    ]


def test_a_window_that_ends_on_the_boundary_plays_the_loop_start_once():
    timeline = Timeline.looped(0, MINUTE_MS - 1)
    assert timeline.segments(50_000, 60_000) == [Segment(50_000, 59_999, 0), Segment(-1, 0, MINUTE_MS)]
    # the next window starts after the boundary: the loop start is not played again
    assert timeline.segments(60_000, 61_000) == [Segment(0, 1_000, MINUTE_MS)]
    # a window ending just before the boundary does not reach the new loop
    assert timeline.segments(50_000, 59_999) == [Segment(50_000, 59_999, 0)]


def test_a_window_over_several_periods_has_one_segment_per_loop():
    timeline = Timeline.looped(0, MINUTE_MS - 1)
    assert timeline.segments(0, 3 * MINUTE_MS) == [
        Segment(0, 59_999, 0),
        Segment(-1, 59_999, MINUTE_MS),
        Segment(-1, 59_999, 2 * MINUTE_MS),
        Segment(-1, 0, 3 * MINUTE_MS),
    ]


def test_a_window_before_the_recording_uses_negative_shifts():
    timeline = Timeline.looped(FIRST, FIRST + MINUTE_MS - 1)
    assert timeline.segments(FIRST - 10, FIRST + 10) == [
        Segment(FIRST + MINUTE_MS - 10, FIRST + MINUTE_MS - 1, -MINUTE_MS),
        Segment(FIRST - 1, FIRST + 10, 0),
    ]


def test_every_recorded_event_plays_once_per_loop():
    timeline = Timeline.looped(FIRST, FIRST + 2 * MINUTE_MS - 1)
    recorded = [FIRST, FIRST + 1, FIRST + MINUTE_MS, FIRST + 2 * MINUTE_MS - 1]
    period = timeline.period_ms
    expected = [time + loop * period for loop in range(3) for time in recorded]
    assert played_at(timeline, FIRST - 1, FIRST + 3 * period - 1, recorded) == expected


def test_segments_are_in_market_time_order_and_touch():
    timeline = Timeline.looped(FIRST, FIRST + 7 * MINUTE_MS + 3)
    segments = timeline.segments(FIRST - 3 * HOUR_MS + 11, FIRST + 5 * HOUR_MS - 11)
    for before, after in pairwise(segments):
        assert before.to_market(before.r1) == after.to_market(after.r0)
        assert before.shift < after.shift


@settings(max_examples=200, deadline=None)
@given(
    first=st.integers(-500, 500),
    period=st.integers(1, 40),
    t0=st.integers(-600, 600),
    length=st.integers(-5, 200),
)
def test_segments_cover_the_window_exactly_once(first, period, t0, length):
    """Brute force on small loops: each market ms in (t0, t1] is in exactly one segment, at its shift."""
    timeline = Timeline(first, period)
    t1 = t0 + length
    segments = timeline.segments(t0, t1)
    if t1 <= t0:
        assert segments == []
        return
    assert sum(s.r1 - s.r0 for s in segments) == t1 - t0
    assert segments[0].to_market(segments[0].r0) == t0
    assert segments[-1].to_market(segments[-1].r1) == t1
    for segment in segments:
        assert first - 1 <= segment.r0 < segment.r1 <= first + period - 1
    for market in range(t0 + 1, t1 + 1):
        recorded = timeline.to_recording(market)
        holding = [s for s in segments if s.contains(recorded) and s.to_market(recorded) == market]
        assert len(holding) == 1


@settings(max_examples=100, deadline=None)
@given(
    period=st.integers(1, 30),
    cuts=st.lists(st.integers(-100, 200), min_size=2, max_size=8),
    recorded=st.sets(st.integers(0, 29), max_size=10),
)
def test_consecutive_windows_neither_miss_nor_repeat_an_event(period, cuts, recorded):
    """The engine reads (t0, t1], then (t1, t2]...: together they play what one window (t0, tn] plays."""
    timeline = Timeline(0, period)
    events = [time for time in recorded if time < period]
    cuts = sorted(cuts)
    pieces = [time for a, b in pairwise(cuts) for time in played_at(timeline, a, b, events)]
    assert pieces == played_at(timeline, cuts[0], cuts[-1], events)
    expected = sorted(m for m in range(cuts[0] + 1, cuts[-1] + 1) if timeline.to_recording(m) in events)
    assert pieces == expected
