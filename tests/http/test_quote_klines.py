"""GET /quote/v1/klines: the document's 11-element bars of every documented interval, rolled up from the
stored bars in market time, showing only what completed before the market clock's now."""

from __future__ import annotations

import csv
from collections.abc import Callable
from datetime import UTC, datetime
from decimal import Decimal as D
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from freezegun import freeze_time

from simulator.marketdata import store
from simulator.marketdata.records import Kline
from simulator.marketdata.writer import StoreWriter, source_id
from tests.conftest import fixtures_with

MINUTE = 60_000
# Binance's public ADABTC minute bars of 2021-11-27 00:00-00:09 UTC, stored here as ETHBTC (a BTC-quoted
# instrument of the fixtures, given ADABTC's tick so that its prices show as recorded): the figures are the
# file's, only the name is ours.
REAL_BARS = Path("/work/shared/data/real/binance/nautilus_binance_vision_klines_ADABTC-1m-2021-11-27.csv")
MIDNIGHT = 1_637_971_200_000  # 2021-11-27 00:00 UTC, a Saturday
AFTER_TEN_BARS = MIDNIGHT + 10 * MINUTE
ADABTC_PRICE_FILTER = {"minPrice": "0.00000001", "tickSize": "0.00000001"}

FIRST_FIVE = [
    MIDNIGHT,
    "0.00002853",
    "0.00002862",
    "0.00002849",
    "0.00002855",
    "318567.7",
    0,
    "9.09627723",
    413,
    "115159.2",
    "3.28950153",
]
SECOND_FIVE = [
    MIDNIGHT + 5 * MINUTE,
    "0.00002854",
    "0.00002865",
    "0.00002854",
    "0.00002865",
    "66400.3",
    0,
    "1.89865311",
    153,
    "51877.9",
    "1.48339608",
]
ALL_TEN = [
    "0.00002853",
    "0.00002865",
    "0.00002849",
    "0.00002865",
    "384968",
    0,
    "10.99493034",
    566,
    "167037.1",
    "4.77289761",
]


def record(app: Flask, *records: Any) -> None:
    database = app.extensions["hashkey_sim"].database
    with database.engine.begin() as connection:
        writer = StoreWriter(connection, source_id(connection, "test", "quote-klines"), "test")
        for item in records:
            writer.add(item)
        writer.flush()


def real_bars() -> list[Kline]:
    return [
        Kline(
            "ETHBTC",
            "1m",
            int(r[0]),
            int(r[6]),
            D(r[1]),
            D(r[2]),
            D(r[3]),
            D(r[4]),
            D(r[5]),
            D(r[7]),
            int(r[8]),
            D(r[9]),
            D(r[10]),
        )
        for r in csv.reader(REAL_BARS.read_text().splitlines())
    ]


@pytest.fixture
def bars_app(make_app: Any, tmp_path: Path) -> Callable[..., Flask]:
    """Builds an app over the ten real bars, with the settings changed as given."""
    fixtures = fixtures_with(tmp_path / "fixtures", "ETHBTC", {"PRICE_FILTER": ADABTC_PRICE_FILTER})

    def build(**changes: Any) -> Flask:
        app = make_app(rate_limits=False, fixtures=str(fixtures), **changes)
        record(app, *real_bars())
        return app

    return build


def replay_at(bars_app: Callable[..., Flask], now_ms: int) -> FlaskClient:
    return bars_app(clock_mode="replay", clock_start=now_ms, clock_speed=D(0)).test_client()


@pytest.fixture
def client(bars_app: Callable[..., Flask]) -> FlaskClient:
    """The ten real bars, the market at 00:10:00 (every one of them complete)."""
    return replay_at(bars_app, AFTER_TEN_BARS)


def klines(client: FlaskClient, **query: Any) -> Any:
    response = client.get("/quote/v1/klines", query_string={"symbol": "ETHBTC", **query})
    assert response.status_code == 200, response.get_json()
    return response.get_json()


def test_five_minute_bars_are_rolled_up_from_the_minute_bars(client: FlaskClient) -> None:
    assert klines(client, interval="5m") == [FIRST_FIVE, SECOND_FIVE]


def test_a_stored_interval_is_served_as_stored(client: FlaskClient) -> None:
    """The document's element types: open time and trade count are numbers, the close time is always 0."""
    assert klines(client, interval="1m", limit=1) == [
        [
            MIDNIGHT + 9 * MINUTE,
            "0.00002863",
            "0.00002865",
            "0.00002863",
            "0.00002865",
            "8160.5",
            0,
            "0.2336648",
            38,
            "4978",
            "0.14254743",
        ]
    ]


@pytest.mark.parametrize(
    ("interval", "open_times"),
    [
        ("1m", [MIDNIGHT + i * MINUTE for i in range(10)]),
        ("3m", [MIDNIGHT, MIDNIGHT + 3 * MINUTE, MIDNIGHT + 6 * MINUTE, MIDNIGHT + 9 * MINUTE]),
        ("5m", [MIDNIGHT, MIDNIGHT + 5 * MINUTE]),
        ("15m", [MIDNIGHT]),
        ("30m", [MIDNIGHT]),
        ("1h", [MIDNIGHT]),
        ("2h", [MIDNIGHT]),
        ("4h", [MIDNIGHT]),
        ("6h", [MIDNIGHT]),
        ("8h", [MIDNIGHT]),
        ("12h", [MIDNIGHT]),
        ("1d", [MIDNIGHT]),
        ("1w", [1_637_539_200_000]),  # Monday 2021-11-22
        ("1M", [1_635_724_800_000]),  # 2021-11-01
    ],
)
def test_every_documented_interval(client: FlaskClient, interval: str, open_times: list[int]) -> None:
    bars = klines(client, interval=interval)

    assert [bar[0] for bar in bars] == open_times
    if len(open_times) == 1:
        assert bars[0][1:] == ALL_TEN


def test_the_bar_forming_at_now_shows_the_minutes_that_completed(bars_app: Callable[..., Flask]) -> None:
    """At 00:07:30 the minute bars up to 00:06 are complete; the 5m bar of 00:05 holds 00:05 and 00:06."""
    client = replay_at(bars_app, MIDNIGHT + 7 * MINUTE + 30_000)

    minutes = klines(client, interval="1m", limit=2)
    fives = klines(client, interval="5m")

    assert [bar[0] for bar in minutes] == [MIDNIGHT + 5 * MINUTE, MIDNIGHT + 6 * MINUTE]
    assert fives == [
        FIRST_FIVE,
        [
            MIDNIGHT + 5 * MINUTE,
            "0.00002854",
            "0.00002859",
            "0.00002854",
            "0.00002858",
            "11294.2",
            0,
            "0.32266812",
            39,
            "8446.5",
            "0.24131228",
        ],
    ]


@pytest.mark.parametrize(
    ("now_ms", "last_minute"), [(MIDNIGHT + 7 * MINUTE - 1, 5), (MIDNIGHT + 7 * MINUTE, 6)]
)
def test_a_bar_shows_from_the_millisecond_after_its_close_time(
    bars_app: Callable[..., Flask], now_ms: int, last_minute: int
) -> None:
    """The bar of 00:06 closes at 00:06:59.999: at that millisecond it is still forming, in the forming 5m
    bar too."""
    client = replay_at(bars_app, now_ms)

    minutes = klines(client, interval="1m", limit=1)
    ending_at_it = klines(client, interval="1m", endTime=MIDNIGHT + last_minute * MINUTE, limit=1)
    (five,) = klines(client, interval="5m", startTime=MIDNIGHT + 5 * MINUTE)

    assert minutes[0][0] == ending_at_it[0][0] == MIDNIGHT + last_minute * MINUTE
    assert five[5] == ("11294.2" if last_minute == 6 else "7530.2")  # 00:05 and 00:06, or 00:05 alone


def test_a_longer_bar_forming_with_no_minute_complete_yet_takes_no_slot_of_the_limit(
    bars_app: Callable[..., Flask],
) -> None:
    """At 00:05:30 the 5m bar of 00:05 has no complete minute: the last bar is the one of 00:00."""
    client = replay_at(bars_app, MIDNIGHT + 5 * MINUTE + 30_000)

    assert klines(client, interval="5m", limit=1) == [FIRST_FIVE]


@pytest.mark.parametrize(
    ("query", "open_minutes"),
    [
        ({"limit": "3"}, [7, 8, 9]),
        ({"startTime": str(MIDNIGHT + MINUTE), "limit": "2"}, [1, 2]),
        (
            {"startTime": str(MIDNIGHT + MINUTE - 1), "limit": "2"},
            [1, 2],
        ),  # a bar opening before start is out
        ({"startTime": str(MIDNIGHT + 30_000)}, [1, 2, 3, 4, 5, 6, 7, 8, 9]),
        ({"endTime": str(MIDNIGHT + 3 * MINUTE - 1), "limit": "2"}, [1, 2]),
        ({"endTime": str(MIDNIGHT + 3 * MINUTE), "limit": "2"}, [2, 3]),  # a bar is in when its open time is
        ({"startTime": str(MIDNIGHT + 2 * MINUTE), "endTime": str(MIDNIGHT + 4 * MINUTE)}, [2, 3, 4]),
        (
            {"startTime": str(MIDNIGHT + 2 * MINUTE), "endTime": str(MIDNIGHT + 2 * MINUTE)},
            [2],
        ),  # both ends in
        ({"startTime": str(MIDNIGHT + 4 * MINUTE), "endTime": str(MIDNIGHT + 2 * MINUTE)}, []),
        ({"startTime": str(AFTER_TEN_BARS + MINUTE)}, []),  # after now
        ({"endTime": str(AFTER_TEN_BARS + 60 * MINUTE), "limit": "1"}, [9]),  # nothing after now
        ({"endTime": str(2**63 - 1), "limit": "1"}, [9]),  # the largest LONG: a time like any other
        ({"limit": "1001"}, list(range(10))),
    ],
)
def test_time_window_and_limit(client: FlaskClient, query: dict[str, str], open_minutes: list[int]) -> None:
    bars = klines(client, interval="1m", **query)

    assert [bar[0] for bar in bars] == [MIDNIGHT + m * MINUTE for m in open_minutes]


@pytest.mark.parametrize("limit", [None, "1001", "5000"])
def test_default_and_largest_limit_is_1000_bars(make_app: Any, limit: str | None) -> None:
    start = MIDNIGHT - 1100 * MINUTE
    app = make_app(clock_mode="replay", clock_start=MIDNIGHT, clock_speed=D(0), rate_limits=False)
    one = D("1")
    record(
        app,
        *(
            Kline("BTCUSDT", "1m", start + i * MINUTE, start + (i + 1) * MINUTE - 1, one, one, one, one, one)
            for i in range(1100)
        ),
    )

    query = {"symbol": "BTCUSDT", "interval": "1m"} | ({} if limit is None else {"limit": limit})
    response = app.test_client().get("/quote/v1/klines", query_string=query)

    bars = response.get_json()
    assert (len(bars), bars[0][0], bars[-1][0]) == (1000, MIDNIGHT - 1000 * MINUTE, MIDNIGHT - MINUTE)
    assert bars[0][5:] == ["1", 0, "0", 0, "0", "0"]  # what the venue did not report is 0


@pytest.fixture
def gap_client(make_app: Any) -> FlaskClient:
    """BTCUSDT minute bars at 00:00, 00:01 and 00:05 (none recorded in between), the market at 00:10."""
    app = make_app(clock_mode="replay", clock_start=AFTER_TEN_BARS, clock_speed=D(0), rate_limits=False)
    record(app, *(minute_bar(m, close) for m, close in ((0, "10"), (1, "11"), (5, "15"))))
    return app.test_client()


def minute_bar(minute: int, close: str) -> Kline:
    opened = MIDNIGHT + minute * MINUTE
    price = D(close)
    return Kline("BTCUSDT", "1m", opened, opened + MINUTE - 1, price, price, price, price, D("2"), D("20"), 3)


def quiet(minute: int, close: str) -> list[Any]:
    """A bar of an interval without trades, as the document's klines example shows one."""
    return [MIDNIGHT + minute * MINUTE, close, close, close, close, "0", 0, "0", 0, "0", "0"]


def test_intervals_without_a_bar_between_two_that_have_one_show_at_the_close_before_them(
    gap_client: FlaskClient,
) -> None:
    bars = gap_client.get("/quote/v1/klines", query_string={"symbol": "BTCUSDT", "interval": "1m"}).get_json()

    assert [bar[0] for bar in bars] == [MIDNIGHT + m * MINUTE for m in range(6)]  # none after the last bar
    assert bars[2:5] == [quiet(2, "11"), quiet(3, "11"), quiet(4, "11")]
    assert bars[5][4:6] == ["15", "2"]


@pytest.mark.parametrize(
    ("query", "open_minutes"),
    [
        ({"limit": "6"}, [4, 5]),  # the last six intervals up to now: none after the last bar
        ({"endTime": str(MIDNIGHT + 3 * MINUTE), "limit": "2"}, [2, 3]),  # paging back through the gap
        ({"endTime": str(MIDNIGHT + 4 * MINUTE), "limit": "10"}, [0, 1, 2, 3, 4]),  # nothing before the first
        ({"startTime": str(MIDNIGHT + 2 * MINUTE), "limit": "2"}, [2, 3]),
        ({"startTime": str(MIDNIGHT - 60 * MINUTE), "limit": "3"}, [0, 1, 2]),
        ({"startTime": str(MIDNIGHT + 6 * MINUTE)}, []),  # after the last bar: no data, not quiet trading
    ],
)
def test_the_window_and_limit_count_the_quiet_intervals(
    gap_client: FlaskClient, query: dict[str, str], open_minutes: list[int]
) -> None:
    query = {"symbol": "BTCUSDT", "interval": "1m", **query}
    bars = gap_client.get("/quote/v1/klines", query_string=query).get_json()

    assert [bar[0] for bar in bars] == [MIDNIGHT + m * MINUTE for m in open_minutes]


def test_a_rolled_up_interval_without_a_bar_shows_at_the_close_before_it(make_app: Any) -> None:
    app = make_app(
        clock_mode="replay", clock_start=MIDNIGHT + 30 * MINUTE, clock_speed=D(0), rate_limits=False
    )
    record(app, minute_bar(0, "10"), minute_bar(4, "14"), minute_bar(17, "17"))
    query = {"symbol": "BTCUSDT", "interval": "5m"}

    bars = app.test_client().get("/quote/v1/klines", query_string=query).get_json()

    assert [bar[0] for bar in bars] == [MIDNIGHT + m * MINUTE for m in (0, 5, 10, 15)]
    assert bars[1:3] == [quiet(5, "14"), quiet(10, "14")]
    assert bars[0][1:6] == ["10", "14", "10", "14", "4"]


def spans_read(monkeypatch: Any) -> list[int]:
    """From now on, the span (t1 - t0) of every read of the stored bars of a span (not of the first bar after
    a time)."""
    spans: list[int] = []
    real_klines = store.klines

    def counting(db: Any, symbol: str, interval: str, t0: int, t1: int) -> Any:
        spans.append(t1 - t0)
        return real_klines(db, symbol, interval, t0, t1)

    monkeypatch.setattr(store, "klines", counting)
    return spans


def test_a_start_reads_only_the_intervals_its_limit_covers(make_app: Any, monkeypatch: Any) -> None:
    """Paging forward from a start long before now (ccxt's `since`) reads `limit` intervals of bars, not
    every bar up to now."""
    app = make_app(
        clock_mode="replay", clock_start=MIDNIGHT + 600 * MINUTE, clock_speed=D(0), rate_limits=False
    )
    record(app, *(minute_bar(m, str(m + 1)) for m in range(0, 600, 7)))  # a bar every 7 minutes
    read = spans_read(monkeypatch)
    query = {"symbol": "BTCUSDT", "interval": "1m", "startTime": str(MIDNIGHT - 60 * MINUTE), "limit": "9"}

    bars = app.test_client().get("/quote/v1/klines", query_string=query).get_json()

    assert [bar[0] for bar in bars] == [MIDNIGHT + m * MINUTE for m in range(9)]  # from the first bar on
    assert [bar[4] for bar in bars] == ["1"] * 7 + ["8", "8"]
    assert read and max(read) <= 9 * MINUTE  # the window, not 600 minutes


@pytest.mark.parametrize("end_minute", [7, 8, 9])
def test_a_rolled_up_bar_opening_in_the_window_shows_though_its_first_bar_opens_after_the_end(
    make_app: Any, end_minute: int
) -> None:
    """Bars are selected by open time: the 5m bar of 00:05 is in a window ending at 00:07, though the first
    minute bar it is made of opens at 00:08 (with a start before the series it was left out until the end
    reached that minute; without one it was there)."""
    app = make_app(
        clock_mode="replay", clock_start=MIDNIGHT + 30 * MINUTE, clock_speed=D(0), rate_limits=False
    )
    record(app, *(minute_bar(m, "10") for m in range(8, 20)))
    end = str(MIDNIGHT + end_minute * MINUTE)

    def opens(**window: str) -> list[int]:
        query = {"symbol": "BTCUSDT", "interval": "5m", "endTime": end, **window}
        return [bar[0] for bar in app.test_client().get("/quote/v1/klines", query_string=query).get_json()]

    assert opens(startTime=str(MIDNIGHT - 60 * MINUTE)) == opens() == [MIDNIGHT + 5 * MINUTE]


def test_a_symbol_without_bars_has_none(client: FlaskClient) -> None:
    assert (
        client.get("/quote/v1/klines", query_string={"symbol": "BTCUSDT", "interval": "1h"}).get_json() == []
    )


def test_in_live_mode_bars_reach_back_30_days(bars_app: Callable[..., Flask]) -> None:
    """The recording loops back without end; what is served starts with the first bar of the last 30 days
    and ends with the one forming at now (its completed minutes)."""
    day = 24 * 60 * MINUTE
    wall = MIDNIGHT + 40 * day + 30 * MINUTE
    with freeze_time(datetime.fromtimestamp(wall // 1000, UTC)):
        client = bars_app(clock_mode="live").test_client()

        hours = klines(client, interval="1h", limit=1000)

    first, forming = MIDNIGHT + 10 * day + 60 * MINUTE, MIDNIGHT + 40 * day  # now - 30 days is 00:30
    assert (hours[0][0], hours[-1][0], len(hours)) == (first, forming, 720)


def test_in_live_mode_bars_are_the_looped_recording_in_market_time(bars_app: Callable[..., Flask]) -> None:
    """The ten minutes loop every ten minutes: three loops later, at 7.5 minutes into the loop, the last
    minute bars are this loop's 00:04-00:06 moved by three loops."""
    loops = 3 * 10 * MINUTE
    wall = AFTER_TEN_BARS + loops + 7 * MINUTE + 30_000
    with freeze_time(datetime.fromtimestamp(wall // 1000, UTC)):
        client = bars_app(clock_mode="live").test_client()

        minutes = klines(client, interval="1m", limit=3)
        fives = klines(client, interval="5m", limit=1)

    shift = loops + 10 * MINUTE
    assert [bar[0] for bar in minutes] == [MIDNIGHT + shift + m * MINUTE for m in (4, 5, 6)]
    assert minutes[-1][1:] == [
        "0.00002858",
        "0.00002859",
        "0.00002857",
        "0.00002858",
        "3764",
        0,
        "0.10756007",
        17,
        "1536.4",
        "0.04391146",
    ]
    assert fives == [
        [
            MIDNIGHT + shift + 5 * MINUTE,
            "0.00002854",
            "0.00002859",
            "0.00002854",
            "0.00002858",
            "11294.2",
            0,
            "0.32266812",
            39,
            "8446.5",
            "0.24131228",
        ]
    ]


@pytest.mark.parametrize(
    ("query", "code", "msg"),
    [
        ({"interval": "1m"}, "0001", "Required field symbol missing or invalid"),
        ({"symbol": "ETHBTC"}, "0001", "Required field interval missing or invalid"),
        ({"symbol": "ETHBTC", "interval": "2m"}, "-1130", "Illegal parameter 'interval'"),
        ({"symbol": "ETHBTC", "interval": "1s"}, "-1130", "Illegal parameter 'interval'"),
        ({"symbol": "ETHBTC", "interval": "1H"}, "-1130", "Illegal parameter 'interval'"),
        ({"symbol": "ETHBTC", "interval": "1m", "limit": "-1"}, "-1130", "Illegal parameter 'limit'"),
        (
            {"symbol": "ETHBTC", "interval": "1m", "startTime": "yesterday"},
            "-1130",
            "Illegal parameter 'startTime'",
        ),
        ({"symbol": "ETHBTC", "interval": "1m", "endTime": "-1"}, "-1130", "Illegal parameter 'endTime'"),
        (  # beyond the document's LONG
            {"symbol": "ETHBTC", "interval": "1m", "endTime": str(2**63)},
            "-1130",
            "Illegal parameter 'endTime'",
        ),
        ({"symbol": "DOGEUSDT", "interval": "1m"}, "0201", "Instrument not found"),
    ],
)
def test_bad_parameters(client: FlaskClient, query: dict[str, str], code: str, msg: str) -> None:
    response = client.get("/quote/v1/klines", query_string=query)

    assert response.status_code == 400
    assert response.get_json() == {"code": code, "msg": msg}
