"""The market clock: live and replay, exact speed arithmetic, advancing; HashKey's timestamp window rule."""

from __future__ import annotations

from decimal import Decimal

import pytest

from simulator.domain.clock import LAST_MARKET_MS, ClockError, ClockMode, MarketClock, timestamp_in_window

T0 = 1_700_000_000_000
START = 1_600_000_000_000


@pytest.mark.parametrize("transport_ms", [T0, T0 + 1, T0 + 123_456, T0 - 5_000])
def test_live_clock_follows_transport_time(transport_ms):
    clock = MarketClock.live(T0)

    assert clock.now_ms(transport_ms) == transport_ms


def test_live_clock_is_in_live_mode_at_speed_one():
    clock = MarketClock.live(T0)

    assert (clock.mode, clock.speed) == (ClockMode.LIVE, Decimal(1))


@pytest.mark.parametrize("elapsed_ms", [0, 1, 60_000, 86_400_000])
def test_replay_at_speed_zero_stays_at_start(elapsed_ms):
    clock = MarketClock.replay(START, Decimal(0), T0)

    assert clock.now_ms(T0 + elapsed_ms) == START


@pytest.mark.parametrize("elapsed_ms", [0, 1, 500, 60_000])
def test_replay_at_speed_one_moves_with_transport(elapsed_ms):
    clock = MarketClock.replay(START, Decimal(1), T0)

    assert clock.now_ms(T0 + elapsed_ms) == START + elapsed_ms


@pytest.mark.parametrize("elapsed_ms", [0, 1, 500, 60_000])
def test_replay_at_speed_two_doubles(elapsed_ms):
    clock = MarketClock.replay(START, Decimal(2), T0)

    assert clock.now_ms(T0 + elapsed_ms) == START + 2 * elapsed_ms


@pytest.mark.parametrize(
    ("elapsed_ms", "market_elapsed_ms"),
    [(0, 0), (1, 0), (2, 1), (3, 1), (999, 499), (1_000, 500)],
)
def test_replay_at_half_speed_floors_exactly(elapsed_ms, market_elapsed_ms):
    clock = MarketClock.replay(START, Decimal("0.5"), T0)

    assert clock.now_ms(T0 + elapsed_ms) == START + market_elapsed_ms


def test_replay_with_fractional_speed_has_no_float_error():
    # 0.1 * 30 is 3.0000000000000004 in binary floating point, and 0.3 * 10 is 2.9999999999999996.
    tenth = MarketClock.replay(START, Decimal("0.1"), T0)
    three_tenths = MarketClock.replay(START, Decimal("0.3"), T0)

    assert tenth.now_ms(T0 + 30) == START + 3
    assert three_tenths.now_ms(T0 + 10) == START + 3


def test_replay_on_huge_elapsed_time_is_exact():
    clock = MarketClock.replay(0, Decimal("0.7"), 0)

    assert clock.now_ms(3 * 10**14 + 1) == 21 * 10**13  # below the year 9999's last millisecond


@pytest.mark.parametrize(
    ("start_ms", "speed"),
    [(-1, Decimal(1)), (START, Decimal(-1)), (START, Decimal("NaN")), (START, Decimal("Infinity"))],
)
def test_replay_refuses_bad_start_or_speed(start_ms, speed):
    with pytest.raises(ClockError):
        MarketClock.replay(start_ms, speed, T0)


def test_advanced_moves_forward_from_the_current_market_time():
    clock = MarketClock.replay(START, Decimal(2), T0)

    moved = clock.advanced(5_000, T0 + 100)

    assert moved.now_ms(T0 + 100) == START + 200 + 5_000


def test_advanced_keeps_speed_and_reanchors_on_transport_time():
    clock = MarketClock.replay(START, Decimal(2), T0)

    moved = clock.advanced(5_000, T0 + 100)

    assert moved == MarketClock(ClockMode.REPLAY, START + 5_200, T0 + 100, Decimal(2))


def test_advanced_step_mode_stays_put_afterwards():
    clock = MarketClock.replay(START, Decimal(0), T0)

    moved = clock.advanced(60_000, T0 + 10)

    assert moved.now_ms(T0 + 999_999) == START + 60_000


def test_advanced_by_zero_is_allowed():
    clock = MarketClock.replay(START, Decimal(0), T0)

    assert clock.advanced(0, T0).now_ms(T0) == START


def test_advanced_refuses_negative():
    clock = MarketClock.replay(START, Decimal(1), T0)

    with pytest.raises(ClockError):
        clock.advanced(-1, T0)


def test_advanced_refuses_live_clock():
    clock = MarketClock.live(T0)

    with pytest.raises(ClockError):
        clock.advanced(1_000, T0)


def test_the_last_millisecond_of_9999_is_the_latest_a_clock_shows():
    assert LAST_MARKET_MS == 253_402_300_799_999  # 9999-12-31T23:59:59.999Z
    assert MarketClock.replay(LAST_MARKET_MS, Decimal(0), T0).now_ms(T0) == LAST_MARKET_MS
    with pytest.raises(ClockError):
        MarketClock.replay(LAST_MARKET_MS + 1, Decimal(0), T0)

    almost = MarketClock.replay(LAST_MARKET_MS - 10, Decimal(0), T0)
    assert almost.advanced(10, T0).now_ms(T0) == LAST_MARKET_MS
    with pytest.raises(ClockError):
        almost.advanced(11, T0)


@pytest.mark.parametrize("speed", ["1", "1e12", "1e30"])
def test_a_running_replay_clock_stops_at_the_last_millisecond_of_9999(speed):
    clock = MarketClock.replay(LAST_MARKET_MS - 1_000, Decimal(speed), T0)

    assert clock.now_ms(T0 + 999) == min(LAST_MARKET_MS, LAST_MARKET_MS - 1_000 + 999 * int(Decimal(speed)))
    assert clock.now_ms(T0 + 1_000) == LAST_MARKET_MS
    assert clock.now_ms(T0 + 10**12) == LAST_MARKET_MS


SERVER = 1_700_000_000_000


@pytest.mark.parametrize(
    ("timestamp", "recv_window", "accepted"),
    [
        (SERVER, 5_000, True),
        (SERVER + 999, 5_000, True),  # ts < server + 1000
        (SERVER + 1_000, 5_000, False),  # ts == server + 1000 is refused
        (SERVER + 1_001, 5_000, False),
        (SERVER - 5_000, 5_000, True),  # server - ts == recvWindow is accepted
        (SERVER - 5_001, 5_000, False),
        (SERVER - 1, 1, True),
        (SERVER - 2, 1, False),
        (SERVER + 999, 1, True),  # the future allowance does not depend on recvWindow
        (SERVER - 60_000, 60_000, True),
        (SERVER - 60_001, 60_000, False),
    ],
)
def test_timestamp_in_window_edges(timestamp, recv_window, accepted):
    assert timestamp_in_window(timestamp, SERVER, recv_window) is accepted
