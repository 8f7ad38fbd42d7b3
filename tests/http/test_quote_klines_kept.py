"""Rolled-up klines are kept per process once closed (services/kline_rollups.py): what is kept answers as a
fresh roll-up would, as the clock moves, after the store is written and in live mode, and a request
reads only the stored bars it has not kept."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from decimal import Decimal as D
from typing import Any

import pytest
from flask import Flask
from freezegun import freeze_time

from simulator.marketdata.records import Kline
from simulator.services import kline_rollups
from tests.conftest import admin_headers
from tests.http.test_quote_klines import record, spans_read

MINUTE = 60_000
HOUR = 60 * MINUTE
DAY = 24 * HOUR
START = 1_704_067_200_000  # 2024-01-01 00:00 UTC, a Monday
DAYS = 40
ROLLED_UP = ["5m", "15m", "1h", "4h", "12h", "1d", "1w", "1M"]


def minute_bar(minute: int) -> Kline:
    """A bar every few minutes (gaps make quiet intervals), prices and sizes varying with the minute."""
    opened = START + minute * MINUTE
    low = D(100) + D(minute * 7919 % 1000) / 100
    high = low + D(minute % 7) / 10
    return Kline(
        "BTCUSDT",
        "1m",
        opened,
        opened + MINUTE - 1,
        low + D("0.01"),
        high,
        low,
        high - D("0.01"),
        D(minute % 5 + 1),
        D(minute % 11 + 2),
        minute % 9,
    )


BARS = [minute_bar(minute) for minute in range(0, DAYS * 24 * 60, 13)]


@pytest.fixture
def replay_app(make_app: Callable[..., Flask]) -> Callable[[int], Flask]:
    """An app on the one test database, its replay clock set to the given time (every app shares the
    clock: it is in the database)."""
    recorded = False

    def build(now_ms: int) -> Flask:
        nonlocal recorded
        app = make_app(clock_mode="replay", clock_start=now_ms, clock_speed=D(0), rate_limits=False)
        if not recorded:
            record(app, *BARS)
            recorded = True
        return app

    return build


def answers(app: Flask, **query: Any) -> dict[str, Any]:
    client = app.test_client()
    found = {}
    for interval in ROLLED_UP:
        response = client.get(
            "/quote/v1/klines", query_string={"symbol": "BTCUSDT", "interval": interval, **query}
        )
        assert response.status_code == 200, response.get_json()
        found[interval] = response.get_json()
    return found


def advance(app: Flask, ms: int) -> None:
    response = app.test_client().post("/sim/v1/clock", json={"advanceMs": ms}, headers=admin_headers())
    assert response.status_code == 200, response.get_json()


def test_kept_bars_answer_as_a_fresh_roll_up_as_the_clock_moves(replay_app: Callable[[int], Flask]) -> None:
    now = START + 20 * DAY + 7 * HOUR + 13 * MINUTE + 5_000
    warm = replay_app(now)
    answers(warm)
    # within an hour, across hours, days, a week and a month, and to the end of the data and past it
    for step in (50 * MINUTE, 3 * HOUR, 2 * DAY + 1, 9 * DAY, 13 * DAY, 30 * DAY):
        advance(warm, step)
        now += step
        kept = answers(warm)

        assert kept == answers(replay_app(now))  # a new app keeps nothing yet: a fresh roll-up
        assert kept["1M"] and kept["1w"]


def test_kept_bars_answer_windows_as_a_fresh_roll_up(replay_app: Callable[[int], Flask]) -> None:
    now = START + 33 * DAY + 5 * HOUR
    warm = replay_app(now)
    answers(warm, limit=1000)
    windows = [
        {"startTime": START + 3 * DAY + 1, "limit": 50},
        {"endTime": START + 25 * DAY - 1, "limit": 7},
        {"startTime": START - 9 * DAY, "endTime": START + 2 * HOUR},
        {"limit": 1},
    ]
    for window in windows:
        kept = answers(warm, **window)

        assert kept == answers(replay_app(now), **window), window


def test_a_write_to_the_store_renews_what_was_kept(replay_app: Callable[[int], Flask]) -> None:
    now = START + 10 * DAY
    app = replay_app(now)
    before = answers(app)["1d"]
    spike = Kline(
        "BTCUSDT", "1m", START + DAY + MINUTE, START + DAY + 2 * MINUTE - 1, *[D(500)] * 4, D(1), D(500), 1
    )

    record(app, spike)
    after = answers(app)["1d"]

    second_day = next(bar for bar in after if bar[0] == START + DAY)
    assert second_day[2] == "500" and before != after
    assert after == answers(replay_app(now))["1d"]


def test_a_second_request_reads_only_the_stored_bars_of_the_hour_still_forming(
    replay_app: Callable[[int], Flask], monkeypatch: pytest.MonkeyPatch
) -> None:
    app = replay_app(START + 35 * DAY + 5 * HOUR + 17 * MINUTE)
    first = answers(app)
    spans = spans_read(monkeypatch)
    second = answers(app)

    assert second == first
    assert spans and max(spans) <= HOUR  # a month of days, a day of hours kept: an hour of minutes read


def test_in_live_mode_kept_bars_answer_as_a_fresh_roll_up(make_app: Callable[..., Flask]) -> None:
    """The 40 days loop; a later request, on another loop, answers as a new app does."""
    wall = START + 500 * DAY + 11 * HOUR + 7 * MINUTE

    def at(wall_ms: int) -> Any:
        return freeze_time(datetime.fromtimestamp(wall_ms / 1000, UTC))

    with at(wall):
        warm = make_app(rate_limits=False)
        record(warm, *BARS)
        answers(warm)
    for later in (wall + 5 * HOUR, wall + 41 * DAY):
        with at(later):
            assert answers(warm) == answers(make_app(rate_limits=False))


def test_with_little_room_to_keep_answers_stay_whole(
    replay_app: Callable[[int], Flask], monkeypatch: pytest.MonkeyPatch
) -> None:
    """Past MAX_KEPT_BARS whole series are dropped, least recently used first, never bars a request is
    answering from."""
    now = START + 38 * DAY + 3 * HOUR
    fresh = answers(replay_app(now))
    monkeypatch.setattr(kline_rollups, "MAX_KEPT_BARS", 10)
    app = replay_app(now)

    assert answers(app) == answers(app) == fresh


@pytest.mark.parametrize(
    "now",
    [
        START + 20 * DAY + 7 * HOUR + 13 * MINUTE + 5_000,
        START + 21 * DAY,
        START + 39 * DAY + 23 * HOUR + 59 * MINUTE,
    ],
    ids=["inside-an-hour", "on-the-hour", "at-the-data-end"],
)
def test_the_24_hour_figures_are_those_of_the_minute_bars(
    replay_app: Callable[[int], Flask], now: int
) -> None:
    """The whole hours of the day come rolled up (and kept), the part hours at its ends from the minutes."""
    app = replay_app(now)
    day = [bar for bar in BARS if bar.open_time >= now - DAY and bar.close_time < now]

    for _ in range(2):  # as rolled up, then as kept
        (ticker,) = (
            app.test_client().get("/quote/v1/ticker/24hr", query_string={"symbol": "BTCUSDT"}).get_json()
        )
        close = D(ticker["c"])
        assert (D(ticker["o"]), D(ticker["h"]), D(ticker["l"])) == (
            day[0].open,
            max(close, *(bar.high for bar in day)),
            min(close, *(bar.low for bar in day)),
        )
        assert (D(ticker["v"]), D(ticker["qv"])) == (
            sum(bar.volume for bar in day),
            sum(bar.quote_volume for bar in day),
        )


def test_a_short_finer_series_beside_the_minutes_does_not_cut_the_history_short(
    replay_app: Callable[[int], Flask],
) -> None:
    """Seconds recorded for the data's last hour: longer intervals still come from the 40 days of minutes."""
    now = START + DAYS * DAY
    app = replay_app(now)
    before = answers(app)
    last_hour = now - HOUR
    seconds = [
        Kline("BTCUSDT", "1s", t, t + 999, D(100), D(100), D(100), D(100), D(1), D(100), 1)
        for t in range(last_hour, now, 60_000)
    ]

    record(app, *seconds)
    after = answers(app)

    assert after == before
    assert after["1d"][0][0] == START and len(after["1d"]) == DAYS


def set_clock(app: Flask, at_ms: int) -> None:
    body = {"mode": "replay", "time": at_ms, "speed": 0}
    response = app.test_client().post("/sim/v1/clock", json=body, headers=admin_headers())
    assert response.status_code == 200, response.get_json()


def odd_bar(interval: str, opened: int, length: int, close_time: int, high: int) -> Kline:
    return Kline("BTCUSDT", interval, opened, close_time, D(100), D(high), D(99), D(100), D(1), D(100), 1)


SUNDAY_NIGHT = START + 6 * DAY + 16 * HOUR  # a day of a venue eight hours ahead of UTC: 16:00 to 16:00


@pytest.mark.parametrize(
    ("bars", "interval", "first", "then"),
    [
        # minute bars closing at the next minute's first millisecond (a stream's close time kept as sent):
        # the hour has ended at 01:00:00.000, its last minute closes then
        (
            [
                odd_bar("1m", START + m * MINUTE, MINUTE, START + (m + 1) * MINUTE, 150 if m == 59 else 101)
                for m in range(60)
            ],
            "1h",
            START + HOUR,
            START + HOUR + 1,
        ),
        # daily bars from 16:00: the week ends on Monday 00:00, its last day closes Monday 15:59:59.999
        (
            [
                odd_bar("1d", SUNDAY_NIGHT - DAY, DAY, SUNDAY_NIGHT - 1, 101),
                odd_bar("1d", SUNDAY_NIGHT, DAY, SUNDAY_NIGHT + DAY - 1, 150),
            ],
            "1w",
            START + 7 * DAY + 8 * HOUR,
            START + 7 * DAY + 17 * HOUR,
        ),
        # minute bars from :30 s, the replay clock set back 30 s: the hour's last minute has not closed again
        (
            [
                odd_bar(
                    "1m",
                    START + m * MINUTE + 30_000,
                    MINUTE,
                    START + (m + 1) * MINUTE + 29_999,
                    150 if m == 59 else 101,
                )
                for m in range(60)
            ],
            "1h",
            START + HOUR + 40_000,
            START + HOUR + 10_000,
        ),
    ],
    ids=["closing-on-the-next-interval", "days-of-another-time-zone", "clock-set-back"],
)
def test_an_interval_is_kept_only_once_every_stored_bar_of_it_has_closed(
    make_app: Callable[..., Flask], bars: list[Kline], interval: str, first: int, then: int
) -> None:
    app = make_app(clock_mode="replay", clock_start=first, clock_speed=D(0), rate_limits=False)
    record(app, *bars)
    query = {"symbol": "BTCUSDT", "interval": interval}
    app.test_client().get("/quote/v1/klines", query_string=query)

    set_clock(app, then)
    kept = app.test_client().get("/quote/v1/klines", query_string=query).get_json()

    fresh = make_app(clock_mode="replay", clock_start=then, clock_speed=D(0), rate_limits=False)
    assert kept == fresh.test_client().get("/quote/v1/klines", query_string=query).get_json()


def test_a_rolled_up_stretch_of_too_many_intervals_is_rolled_up_as_stored(
    replay_app: Callable[[int], Flask],
) -> None:
    """A minute bar in 1970 and the 40 days of 2024: a month request from 1970 looks at the stored bars, not
    at each of the half a million hours between."""
    now = START + 35 * DAY
    app = replay_app(now)
    record(app, odd_bar("1m", 0, MINUTE, MINUTE - 1, 101))
    query = {"symbol": "BTCUSDT", "interval": "1M", "startTime": 0, "limit": 1000}

    months = app.test_client().get("/quote/v1/klines", query_string=query).get_json()

    assert months[0][0] == 0 and months[0][2] == "101" and len(months) == 650
    assert months == replay_app(now).test_client().get("/quote/v1/klines", query_string=query).get_json()
