"""Klines and 24-hour figures of a symbol recorded without bars (trades and books alone, as
`data record --venue binance` records by default): minute bars made of its recorded trades."""

from __future__ import annotations

import csv
import random
from collections.abc import Iterable
from dataclasses import replace
from datetime import UTC, datetime
from decimal import Decimal as D
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from freezegun import freeze_time

from simulator.domain import quotes
from simulator.marketdata import store
from simulator.marketdata.records import Kline, Trade
from simulator.services import kline_rollups
from tests.conftest import admin_headers
from tests.http.test_quote_klines import record
from tests.marketdata.conftest import real_file

MINUTE = 60_000
HOUR = 60 * MINUTE
DAY = 24 * HOUR
T0 = 1_699_999_800_000  # five minutes' open
REAL_TRADES = "binance/derived_binance_vision_trades_BTCUSDT_2024-08-08.csv"


def trade(at_ms: int, price: str, qty: str, buyer_is_maker: bool = False) -> Trade:
    return Trade("BTCUSDT", at_ms, D(price), D(qty), buyer_is_maker, str(at_ms))


def replay(make_app: Any, now_ms: int, *records: Any) -> FlaskClient:
    app = make_app(clock_mode="replay", clock_start=now_ms, clock_speed=D(0), rate_limits=False)
    record(app, *records)
    return app.test_client()


def klines(client: FlaskClient, **query: Any) -> Any:
    response = client.get("/quote/v1/klines", query_string={"symbol": "BTCUSDT", **query})
    assert response.status_code == 200, response.get_json()
    return response.get_json()


TAPE = [
    trade(T0 + 1_000, "37000", "0.5"),
    trade(T0 + 30_000, "37010.5", "0.2", buyer_is_maker=True),
    trade(T0 + 59_999, "36990", "1"),
    # no trade in the second minute
    trade(T0 + 2 * MINUTE + 5_000, "37020", "0.1", buyer_is_maker=True),
    trade(T0 + 3 * MINUTE + 10_000, "37030", "0.3"),  # in the minute forming at now
]
NOW = T0 + 3 * MINUTE + 20_000


def test_minute_bars_are_made_of_the_trades_up_to_now(make_app: Any) -> None:
    client = replay(make_app, NOW, *TAPE)

    quiet = ["36990"] * 4 + ["0", 0, "0", 0, "0", "0"]  # at the close before it
    assert klines(client, interval="1m") == [
        [T0, "37000", "37010.5", "36990", "36990", "1.7", 0, "62892.1", 3, "1.5", "55490"],
        [T0 + MINUTE, *quiet],
        [T0 + 2 * MINUTE, "37020", "37020", "37020", "37020", "0.1", 0, "3702", 1, "0", "0"],
    ]  # the minute forming at now shows once it has closed, as a stored minute bar does


@pytest.mark.parametrize(("now_ms", "last_open"), [(4 * MINUTE - 1, 2 * MINUTE), (4 * MINUTE, 3 * MINUTE)])
def test_a_minute_of_trades_shows_once_it_has_closed(make_app: Any, now_ms: int, last_open: int) -> None:
    client = replay(make_app, T0 + now_ms, *TAPE)

    assert klines(client, interval="1m")[-1][0] == T0 + last_open


def test_a_start_before_the_first_trade_begins_at_its_minute(make_app: Any) -> None:
    client = replay(make_app, NOW, *TAPE)

    body = klines(client, interval="1m", startTime=T0 - 10 * MINUTE, limit=2)

    assert [bar[0] for bar in body] == [T0, T0 + MINUTE]
    assert body[1][1:5] == ["36990"] * 4  # quiet


def test_longer_bars_are_rolled_up_from_the_minutes_of_trades(make_app: Any) -> None:
    client = replay(make_app, NOW, *TAPE)

    assert klines(client, interval="5m") == [
        [T0, "37000", "37020", "36990", "37020", "1.8", 0, "66594.1", 4, "1.5", "55490"]
    ]


def test_the_24_hour_ticker_spans_the_trades(make_app: Any) -> None:
    client = replay(make_app, NOW, *TAPE)

    (ticker,) = client.get("/quote/v1/ticker/24hr", query_string={"symbol": "BTCUSDT"}).get_json()

    # the three complete minutes, and the last print (in the minute still forming)
    assert {name: ticker[name] for name in ("o", "h", "l", "c", "v", "qv")} == {
        "o": "37000",
        "h": "37030",
        "l": "36990",
        "c": "37030",
        "v": "1.8",
        "qv": "66594.1",
    }


def minute_bar(opened: int, price: str) -> Kline:
    return Kline("BTCUSDT", "1m", opened, opened + MINUTE - 1, *[D(price)] * 4, D("9"))


def test_stored_bars_spanning_as_much_as_the_trades_answer(make_app: Any) -> None:
    """The minutes the trades are in, stored: the stored bars answer (a venue's own bars hold trades the
    recording may lack)."""
    bars = [minute_bar(T0 + m * MINUTE, "1") for m in range(4)]
    client = replay(make_app, NOW, *TAPE, *bars)

    assert klines(client, interval="1m") == [
        [T0 + m * MINUTE, *["1"] * 4, "9", 0, "0", 0, "0", "0"] for m in range(3)
    ]


def test_trades_show_beside_stored_minutes_of_another_time(make_app: Any) -> None:
    """Stored minutes of the day before (the demo recording's, say): the trades' minutes stand in the minutes
    without a stored bar, so one request shows both, quiet minutes between them at the close before."""
    bars = [minute_bar(T0 - DAY + m * MINUTE, "1") for m in range(4)]
    client = replay(make_app, NOW, *TAPE, *bars)

    assert [bar[0] for bar in klines(client, interval="1m", startTime=T0 - DAY, limit=4)] == [
        T0 - DAY + m * MINUTE for m in range(4)
    ]
    latest = klines(client, interval="1m")
    assert {(bar[1], bar[5]) for bar in latest[:-3]} == {("1", "0")}  # quiet, at the stored close
    assert [bar[:2] for bar in latest[-3:]] == [
        [T0, "37000"],
        [T0 + MINUTE, "36990"],
        [T0 + 2 * MINUTE, "37020"],
    ]
    (ticker,) = client.get("/quote/v1/ticker/24hr", query_string={"symbol": "BTCUSDT"}).get_json()
    assert (ticker["v"], ticker["qv"]) == ("1.8", "66594.1")  # the stored minutes are more than 24 h old


def test_trades_stand_in_the_minutes_between_two_stored_ones(make_app: Any) -> None:
    """Stored minutes before and after two minutes without one: the trades' minute shows in the first of
    those (from its first minute on), the second is quiet at its close, and the stored bar answers where
    both have one."""
    bars = [minute_bar(T0 - MINUTE, "1"), minute_bar(T0 + 2 * MINUTE, "1")]
    client = replay(make_app, NOW, *TAPE, *bars)

    assert [bar[:5] for bar in klines(client, interval="1m", limit=4)] == [
        [T0 - MINUTE, "1", "1", "1", "1"],
        [T0, "37000", "37010.5", "36990", "36990"],
        [T0 + MINUTE, "36990", "36990", "36990", "36990"],
        [T0 + 2 * MINUTE, "1", "1", "1", "1"],
    ]


def test_a_quiet_minute_after_one_both_have_is_at_the_stored_close(make_app: Any) -> None:
    """The first minute of the trades is stored too; the next has neither: from there, it is quiet at the
    stored bar's close, not the trades'."""
    client = replay(make_app, NOW, *TAPE, minute_bar(T0, "1"))

    assert klines(client, interval="1m", startTime=T0 + MINUTE, limit=1) == [
        [T0 + MINUTE, *["1"] * 4, "0", 0, "0", 0, "0", "0"]
    ]


def test_trades_after_the_last_stored_minute_follow_it_in_one_request(make_app: Any) -> None:
    """Stored minutes up to the trades' first minute: the minutes of the trades go on after them, to the
    last that closed."""
    bars = [minute_bar(T0 + m * MINUTE, "1") for m in range(-3, 0)]
    client = replay(make_app, NOW, *TAPE, *bars)

    assert [bar[:2] for bar in klines(client, interval="1m", limit=6)] == [
        [T0 - 3 * MINUTE, "1"],
        [T0 - 2 * MINUTE, "1"],
        [T0 - MINUTE, "1"],
        [T0, "37000"],
        [T0 + MINUTE, "36990"],
        [T0 + 2 * MINUTE, "37020"],
    ]


@pytest.mark.parametrize("limit", [1, 2])
def test_trades_of_the_minute_still_forming_do_not_outweigh_the_stored_bars(
    make_app: Any, limit: int
) -> None:
    """Stored bars up to the minute forming at now, and trades in it alone: asked about the last minutes,
    the stored bars answer (the forming minute shows nothing either way)."""
    bars = [minute_bar(T0 + m * MINUTE, "1") for m in range(3)]
    client = replay(make_app, NOW, *bars, TAPE[-1])  # the trade at 3m10s, now at 3m20s

    assert [bar[0] for bar in klines(client, interval="1m", limit=limit)] == [
        T0 + m * MINUTE for m in range(3 - limit, 3)
    ]


@pytest.mark.parametrize("beside", [[], [minute_bar(T0 - DAY + m * MINUTE, "1") for m in range(4)]])
@pytest.mark.parametrize(
    ("now_ms", "query", "shown"),
    [
        # a stretch in the gap: the quiet minute at the close before it
        (
            NOW,
            {"endTime": T0 + MINUTE + 5_000, "limit": 1},
            [[T0 + MINUTE, *["36990"] * 4, "0", 0, "0", 0, "0", "0"]],
        ),
        # the minute forming at now alone (ccxt's fetch_ohlcv, limit 1): the last minute that closed
        (
            T0 + 4 * MINUTE,
            {"limit": 1},
            [[T0 + 3 * MINUTE, *["37030"] * 4, "0.3", 0, "11109", 1, "0.3", "11109"]],
        ),
    ],
    ids=["gap", "forming-minute"],
)
def test_a_stretch_without_trades_shows_what_a_stored_series_would(
    make_app: Any, beside: list[Kline], now_ms: int, query: dict[str, Any], shown: list[Any]
) -> None:
    """With stored bars of another day beside them or not: neither spans the stretch, and the trades have
    the later minute before it."""
    client = replay(make_app, now_ms, *TAPE, *beside)

    assert klines(client, interval="1m", **query) == shown


@pytest.mark.parametrize(
    ("end", "quiet_at"),
    [(T0 - 15 * HOUR, "70"), (T0 + 5 * HOUR, "37030")],
    ids=["in-a-gap-of-the-stored-hours", "in-a-gap-of-the-trades"],
)
def test_beside_stored_hours_a_stretch_neither_spans_goes_to_the_one_that_closed_later(
    make_app: Any, end: int, quiet_at: str
) -> None:
    """Stored hours before T0 (with a gap of hours), trades at T0 and ten hours later: an hour in the stored
    hours' gap is theirs (they span it); one in the trades' gap neither spans (a span is counted from a
    series' bars within the stretch, or from its first to its last bar for stored series), and the trades,
    whose last bar before it closed later, show it quiet at their close."""
    hours = [
        Kline("BTCUSDT", "1h", t, t + HOUR - 1, *[D(70)] * 4, D(1))
        for t in [*range(T0 - DAY, T0 - 20 * HOUR, HOUR), T0 - 10 * HOUR, T0 - 9 * HOUR]
    ]
    client = replay(make_app, T0 + 12 * HOUR, *TAPE, trade(T0 + 10 * HOUR, "38000", "1"), *hours)

    (bar,) = klines(client, interval="1h", endTime=end, limit=1)

    assert (bar[0], bar[1:5], bar[5]) == (end - end % HOUR, [quiet_at] * 4, "0")


def hours_of(*opens: int, price: str = "70") -> list[Kline]:
    return [Kline("BTCUSDT", "1h", t, t + HOUR - 1, *[D(price)] * 4, D(1)) for t in opens]


def test_beside_stored_hours_spanning_as_much_as_the_trades_the_stored_hours_answer(make_app: Any) -> None:
    """Stored hours and minutes of trades both span the two hours asked for, whole: a tie, which the
    stored bars win."""
    h0 = T0 - T0 % HOUR
    trades = [trade(h0 - 2 * HOUR + 1_000, "37000", "1"), trade(h0 - MINUTE + 1_000, "37100", "1")]
    client = replay(make_app, h0 + 10 * MINUTE, *trades, *hours_of(h0 - 2 * HOUR, h0 - HOUR))

    shown = klines(client, interval="1h", endTime=h0 - 1, limit=2)

    assert [(bar[0], bar[4]) for bar in shown] == [(h0 - 2 * HOUR, "70"), (h0 - HOUR, "70")]


def test_a_symbol_without_trades_or_bars_has_no_klines(make_app: Any) -> None:
    client = replay(make_app, NOW, *TAPE)

    body = client.get("/quote/v1/klines", query_string={"symbol": "ETHUSDT", "interval": "1m"}).get_json()

    assert body == []


def test_in_live_mode_a_minute_holds_the_trades_of_two_loops(make_app: Any) -> None:
    """A 30 s recording from 40 s into a minute loops every minute: every market minute holds the last
    trade of one loop (at 10 s) and the first two of the next (at 40 s and 50 s), made into one bar."""
    start = 1_600_000_000_000  # 40 s into a minute
    minute = start - 40_000
    wall = minute + 11 * MINUTE
    with freeze_time(datetime.fromtimestamp(wall // 1000, UTC)):
        app = make_app(clock_mode="live", rate_limits=False)
        record(
            app,
            trade(start, "1", "1"),
            trade(start + 10_000, "2", "1", buyer_is_maker=True),
            trade(start + 30_000, "3", "1"),
        )

        body = klines(app.test_client(), interval="1m", limit=2)

    looped = ["3", "3", "1", "2", "3", 0, "6", 3, "2", "4"]
    assert body == [[minute + 9 * MINUTE, *looped], [minute + 10 * MINUTE, *looped]]


def real_trades() -> list[list[str]]:
    return list(csv.reader(real_file(REAL_TRADES).read_text().splitlines()))


def minute_bars_of(rows: Iterable[list[str]]) -> list[list[Any]]:
    """The rows (id, price, qty, quote qty, time, buyer is maker, best match) as the venue's minute klines,
    added up here cell by cell; Binance's own quote quantity is the price x quantity of each trade."""
    minutes: dict[int, list[list[str]]] = {}
    for row in rows:
        minutes.setdefault(int(row[4]) - int(row[4]) % MINUTE, []).append(row)
    bars = []
    for opened, of in minutes.items():
        prices = [D(row[1]) for row in of]
        bought = [row for row in of if row[5] == "False"]
        figures = [
            prices[0],
            max(prices),
            min(prices),
            prices[-1],
            sum(D(row[2]) for row in of),
            0,
            sum(D(row[3]) for row in of),
            len(of),
            sum((D(row[2]) for row in bought), D(0)),
            sum((D(row[3]) for row in bought), D(0)),
        ]
        bars.append(
            [opened, *(f"{value.normalize():f}" if isinstance(value, D) else value for value in figures)]
        )
    return bars


def test_minute_bars_of_a_real_recording(make_app: Any) -> None:
    """Binance's public BTCUSDT trades of 2024-08-08 (about six minutes): every minute that ended before now
    is the minute its trades make, Binance's own quote quantities adding up to its quote volume."""
    rows = real_trades()
    now = int(rows[-1][4]) + 1
    client = replay(
        make_app, now, *(Trade("BTCUSDT", int(r[4]), D(r[1]), D(r[2]), r[5] == "True", r[0]) for r in rows)
    )
    ended = [row for row in rows if int(row[4]) - int(row[4]) % MINUTE + MINUTE <= now]

    answered = klines(client, interval="1m")

    assert len(answered) >= 5
    assert answered == minute_bars_of(ended)


# ---- kept as rolled-up bars are ---------------------------------------------------------------------------

START = 1_704_067_200_000  # 2024-01-01 00:00 UTC, a Monday
DAYS = 10
INTERVALS = ["1m", "5m", "1h", "4h", "1d", "1w", "1M"]


def long_tape() -> list[Trade]:
    """A trade every 37 s or so over ten days, with quiet stretches, prices and sides varying."""
    trades = []
    for number, at in enumerate(range(START, START + DAYS * DAY, 37_001)):
        if number % 97 < 9:
            continue  # a few quiet minutes
        price = D(30_000) + D(number * 7919 % 5000) / 10
        trades.append(trade(at, str(price), f"0.{number % 89 + 1:03d}", buyer_is_maker=number % 3 == 0))
    return trades


TRADES = long_tape()


def answers(app: Flask, **query: Any) -> dict[str, Any]:
    client = app.test_client()
    return {interval: klines(client, interval=interval, **query) for interval in INTERVALS}


def advance(app: Flask, ms: int) -> None:
    response = app.test_client().post("/sim/v1/clock", json={"advanceMs": ms}, headers=admin_headers())
    assert response.status_code == 200, response.get_json()


def replay_app(make_app: Any, now_ms: int, recorded: bool) -> Flask:
    """An app on the one test database at `now_ms` (the clock is in the database: every app shares it)."""
    app = make_app(clock_mode="replay", clock_start=now_ms, clock_speed=D(0), rate_limits=False)
    if not recorded:
        record(app, *TRADES)
    return app


def test_kept_bars_of_trades_answer_as_a_fresh_roll_up_as_the_clock_moves(make_app: Any) -> None:
    now = START + 2 * DAY + 7 * HOUR + 13 * MINUTE + 5_000
    warm = replay_app(make_app, now, recorded=False)
    answers(warm)
    for step in (50 * MINUTE, 3 * HOUR, 2 * DAY + 1, 9 * DAY):  # within an hour, ..., past the data's end
        advance(warm, step)
        now += step
        kept = answers(warm)

        assert kept == answers(replay_app(make_app, now, recorded=True))  # a new app: a fresh roll-up
        assert kept["1h"] and kept["1d"]


def test_in_live_mode_kept_bars_of_trades_answer_as_a_fresh_roll_up(make_app: Any) -> None:
    """The ten days loop; later requests, in this loop and the next, answer as a new app does."""
    wall = START + 300 * DAY + 11 * HOUR + 7 * MINUTE

    def at(wall_ms: int) -> Any:
        return freeze_time(datetime.fromtimestamp(wall_ms / 1000, UTC))

    with at(wall):
        warm = make_app(rate_limits=False)
        record(warm, *TRADES)
        answers(warm)
    for later in (wall + 5 * HOUR, wall + 11 * DAY):
        with at(later):
            kept = answers(warm)
            assert kept == answers(make_app(rate_limits=False))
            assert len(kept["1d"]) == 30  # a month of looped days is served


@pytest.mark.parametrize(
    "now",
    [START + 5 * DAY + 7 * HOUR + 13 * MINUTE + 5_000, START + 6 * DAY, START + DAYS * DAY - 1],
    ids=["inside-an-hour", "on-the-hour", "at-the-data-end"],
)
def test_the_24_hour_figures_are_those_of_the_trades(make_app: Any, now: int) -> None:
    """The trades of the minutes that closed within the last 24 hours: the whole hours rolled up and kept,
    the whole minutes of the part hours too, the part minutes read."""
    app = replay_app(make_app, now, recorded=False)
    day = [t for t in TRADES if now - DAY <= t.time - t.time % MINUTE <= now - MINUTE]  # their minutes

    for _ in range(2):  # as rolled up, then as kept
        (ticker,) = (
            app.test_client().get("/quote/v1/ticker/24hr", query_string={"symbol": "BTCUSDT"}).get_json()
        )
        close = D(ticker["c"])
        assert (D(ticker["o"]), D(ticker["h"]), D(ticker["l"])) == (
            day[0].price,
            max(close, *(t.price for t in day)),
            min(close, *(t.price for t in day)),
        )
        assert (D(ticker["v"]), D(ticker["qv"])) == (
            sum(t.qty for t in day),
            sum(t.price * t.qty for t in day),
        )


def trade_spans_read(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """From now on, the span (t1 - t0) of every read of the recorded trades of a stretch."""
    spans: list[int] = []
    real = store.iter_trades_between

    def counting(db: Any, symbol: str, t0: int, t1: int) -> Any:
        spans.append(t1 - t0)
        return real(db, symbol, t0, t1)

    monkeypatch.setattr(store, "iter_trades_between", counting)
    return spans


def test_a_second_request_reads_only_the_trades_of_the_minute_still_forming(
    make_app: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    app = replay_app(make_app, START + 8 * DAY + 5 * HOUR + 17 * MINUTE + 20_000, recorded=False)
    first = answers(app)
    spans = trade_spans_read(monkeypatch)
    second = answers(app)

    assert second == first
    assert spans and max(spans) <= MINUTE


def test_three_symbols_of_trades_stay_kept_within_little_room(
    make_app: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """An hour over minutes of trades keeps its hours, and the minutes of the hour still forming: not every
    minute it was made of, which would crowd the other symbols out (each request reading every trade)."""
    monkeypatch.setattr(kline_rollups, "MAX_KEPT_BARS", 500)
    symbols = ("BTCUSDT", "ETHUSDT", "SOLUSDT")
    app = make_app(clock_mode="replay", clock_start=START + 3 * DAY + 20 * MINUTE, clock_speed=D(0))
    record(app, *(replace(trade, symbol=symbol) for symbol in symbols for trade in TRADES))
    client = app.test_client()

    def hours() -> list[Any]:
        return [klines(client, symbol=symbol, interval="1h", limit=48) for symbol in symbols]

    first = hours()
    spans = trade_spans_read(monkeypatch)

    assert hours() == first
    assert spans and max(spans) <= MINUTE


# ---- against the same minutes stored -----------------------------------------------------------------------


def random_tape(rng: random.Random) -> list[Trade]:
    """Some hundreds of trades over six hours: bursts, quiet stretches of minutes to an hour, several in one
    millisecond, on minute edges, every side (None: a venue that does not say)."""
    trades: list[Trade] = []
    at, price = START + rng.randrange(MINUTE), D(500)
    while at < START + 6 * HOUR:
        at += rng.choice([0, 1, 999, 13_000, 59_999, 60_000, 5 * MINUTE, 47 * MINUTE])
        at += -at % MINUTE if rng.random() < 0.1 else 0  # on to the next minute's edge
        price = max(D("0.5"), price + D(rng.randrange(-300, 301)) / 100)
        side = rng.choice([True, False, None])
        trades.append(trade(at, str(price), str(D(rng.randrange(1, 5000)) / 1000), side))
    return [replace(t, trade_id=f"{number:06d}") for number, t in enumerate(trades)]


def stored_minutes(trades: list[Trade]) -> list[Kline]:
    """The minute bars of the trades as a venue would store them, added up here by plain code."""
    minutes: dict[int, list[Trade]] = {}
    for t in trades:
        minutes.setdefault(t.time - t.time % MINUTE, []).append(t)
    bars = []
    for opened, of in minutes.items():
        said = [t for t in of if t.buyer_is_maker is not None]
        bought = [t for t in said if not t.buyer_is_maker]
        prices = [t.price for t in of]
        bars.append(
            Kline(
                "BTCUSDT",
                "1m",
                opened,
                opened + MINUTE - 1,
                prices[0],
                max(prices),
                min(prices),
                prices[-1],
                sum(t.qty for t in of),
                sum(t.price * t.qty for t in of),
                len(of),
                sum((t.qty for t in bought), D(0)) if said else None,
                sum((t.price * t.qty for t in bought), D(0)) if said else None,
            )
        )
    return bars


def trades_and_their_minutes(
    make_app: Any, tmp_path: Any, now_ms: int, tape: list[Trade]
) -> tuple[Flask, Flask]:
    """Two apps replaying at `now_ms`: one on the trades, one (its own database) on their minutes stored."""
    apps = (
        make_app(clock_mode="replay", clock_start=now_ms, clock_speed=D(0), rate_limits=False),
        make_app(
            db=f"sqlite:///{tmp_path}/bars.db",
            clock_mode="replay",
            clock_start=now_ms,
            clock_speed=D(0),
            rate_limits=False,
        ),
    )
    record(apps[0], *tape)
    record(apps[1], *stored_minutes(tape))
    return apps


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_klines_of_trades_are_those_of_the_same_minutes_stored(
    make_app: Any, tmp_path: Any, seed: int
) -> None:
    """Every interval and window, as the clock moves forward and back: the trades answer as their minute
    bars stored would (kept bars included)."""
    rng = random.Random(seed)
    now = START + rng.randrange(6 * HOUR)
    of_trades, of_bars = trades_and_their_minutes(make_app, tmp_path, now, random_tape(rng))
    for _ in range(6):
        for _ in range(15):
            query: dict[str, Any] = {
                "interval": rng.choice(quotes.KLINE_INTERVALS),
                "limit": rng.choice([1, 2, 7, 1000]),
            }
            if rng.random() < 0.5:
                query["startTime"] = START + rng.randrange(-HOUR, 7 * HOUR)
            if rng.random() < 0.5:
                query["endTime"] = START + rng.randrange(-HOUR, 7 * HOUR)
            assert klines(of_trades.test_client(), **query) == klines(of_bars.test_client(), **query), query
        now += rng.choice([-2 * HOUR, -MINUTE, 1, 59_999, 17 * MINUTE, 3 * HOUR])
        for app in (of_trades, of_bars):
            clock = {"mode": "replay", "time": now, "speed": "0"}
            response = app.test_client().post("/sim/v1/clock", json=clock, headers=admin_headers())
            assert response.status_code == 200, response.get_json()


@pytest.mark.parametrize("interval", ["1m", "1M"])
def test_times_at_the_ends_of_the_integers_answer_as_the_stored_minutes_do(
    make_app: Any, tmp_path: Any, interval: str
) -> None:
    of_trades, of_bars = trades_and_their_minutes(make_app, tmp_path, NOW, TAPE)
    ends = [None, 0, -1, 2**62, 2**63 - 1, 2**63, -(2**63)]
    for start in ends:
        for end in ends:
            query = {
                "symbol": "BTCUSDT",
                "interval": interval,
                "limit": 3,
                "startTime": start,
                "endTime": end,
            }
            query = {name: value for name, value in query.items() if value is not None}
            answers = [
                app.test_client().get("/quote/v1/klines", query_string=query) for app in (of_trades, of_bars)
            ]

            assert answers[0].status_code in (200, 400), (query, answers[0].get_json())
            assert answers[0].get_json() == answers[1].get_json(), query


def test_what_is_kept_of_trades_is_not_taken_for_stored_bars_of_the_same_interval(
    make_app: Any, tmp_path: Any
) -> None:
    """A month the trades' minutes answer for (they span more of it than the stored hours), then a day of it
    the stored minutes answer for: each from its own source, as a new app answers (both are minutes,
    kept apart)."""
    day = 1_736_035_200_000  # 2025-01-05 00:00 UTC
    hours = [
        Kline("BTCUSDT", "1h", t, t + HOUR - 1, *[D(70)] * 4, D(1))
        for t in range(day - 4 * DAY, day - 2 * DAY, HOUR)
    ]
    minutes = [minute_bar(day + m * MINUTE, str(100 + m % 7)) for m in range(180)]
    tape = [trade(day + HOUR, "90", "1")] + [
        trade(day + 15 * DAY + s * 1000, "80", "2") for s in range(0, 7200, 30)
    ]
    now = day + 15 * DAY + 3 * HOUR

    def app_of(name: str) -> Flask:
        app = make_app(
            db=f"sqlite:///{tmp_path}/{name}.db", clock_mode="replay", clock_start=now, clock_speed=D(0)
        )
        record(app, *hours, *minutes, *tape)
        return app

    warm, fresh = app_of("warm"), app_of("fresh")
    month = klines(warm.test_client(), interval="1M", limit=1)
    the_day = {"interval": "1d", "startTime": day, "limit": 1}

    assert month[0][1] == "90" and month[0][4] == "80"  # the trades' month: their first and last price
    assert klines(warm.test_client(), **the_day) == klines(fresh.test_client(), **the_day)
    assert klines(fresh.test_client(), **the_day)[0][5] == "1620"  # 180 stored minutes of 9


def test_in_live_mode_stored_hours_a_loop_would_move_off_the_hour_grid_are_not_shown(make_app: Any) -> None:
    """Stored hours and a trade 29 minutes past them make a loop of 2 h 30 min: a loop later the stored hours
    would open at half past, so hourly klines are the trades' (quiet at the loop before's print), on the
    hour grid."""
    h0 = T0 - T0 % HOUR
    loop = 150 * MINUTE
    wall = h0 + 10 * loop + 2 * HOUR + 40 * MINUTE  # 11 minutes after this loop's trade
    with freeze_time(datetime.fromtimestamp(wall / 1000, UTC)):
        app = make_app(clock_mode="live", rate_limits=False)
        record(app, *hours_of(h0, h0 + HOUR), trade(h0 + 2 * HOUR + 29 * MINUTE, "80", "1"))
        shown = klines(app.test_client(), interval="1h", limit=3)

    trade_hour = h0 + 10 * loop + 2 * HOUR
    assert [(bar[0], bar[4]) for bar in shown] == [(trade_hour - n * HOUR, "80") for n in (2, 1, 0)]


def test_in_live_mode_stored_hours_on_the_hour_grid_answer_beside_a_few_trades(make_app: Any) -> None:
    """Stored hours and a trade half an hour into the second make a loop of two hours, which moves the
    hours by whole hours: they span more of the recording than the trade's minute, and answer."""
    h0 = T0 - T0 % HOUR
    loop = 2 * HOUR
    wall = h0 + 10 * loop + HOUR + 40 * MINUTE
    with freeze_time(datetime.fromtimestamp(wall / 1000, UTC)):
        app = make_app(clock_mode="live", rate_limits=False)
        record(app, *hours_of(h0, h0 + HOUR), trade(h0 + HOUR + 30 * MINUTE, "80", "1"))
        shown = klines(app.test_client(), interval="1h", limit=2)

    assert [(bar[0], bar[4]) for bar in shown] == [(h0 + 9 * loop + HOUR, "70"), (h0 + 10 * loop, "70")]


def test_a_stretch_before_the_stored_hours_begin_goes_to_the_trades_that_closed_before_it(
    make_app: Any,
) -> None:
    """Stored hours only from five hours after the trades began, trades at the start and ten hours on: an
    hour in the trades' gap, before the stored hours, is the trades' (no stored bar closed before it),
    quiet at their close."""
    h0 = T0 - T0 % HOUR
    later = trade(h0 + 10 * HOUR, "38000", "1")
    first = trade(h0 + 1_000, "37000", "1")
    hours = hours_of(*range(h0 + 5 * HOUR, h0 + 8 * HOUR, HOUR))
    client = replay(make_app, h0 + 12 * HOUR, first, later, *hours)

    (bar,) = klines(client, interval="1h", endTime=h0 + 2 * HOUR, limit=1)

    assert (bar[0], bar[1:5], bar[5]) == (h0 + 2 * HOUR, ["37000"] * 4, "0")
