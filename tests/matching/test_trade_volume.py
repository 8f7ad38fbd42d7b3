"""vipInfo's traded volume (`services.trade_volume`): the hourly amounts a process keeps give the same sums
as adding up every fill of the window, whatever the order of fills and requests — the clock moving forward
and back, fills landing in hours already kept or before them, windows shorter than an hour."""

from __future__ import annotations

from decimal import Decimal as D

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import select
from sqlalchemy.exc import OperationalError

from simulator.domain.matching.orders import OrderType, Side, TimeInForce
from simulator.services import trade_volume
from simulator.storage import tables
from simulator.storage.db import Database
from simulator.storage.ids import next_id
from tests.matching.test_engine_service import T0, account, place

HOUR_MS = 60 * 60 * 1000
SYMBOLS = ("BTCUSDT", "ETHBTC")

# Times as an hour near T0 and a place in it, the edges likely: fills share hours (the kept amounts add up
# several) and windows begin and end on, just before and just after hour boundaries.
T0_HOUR = T0 // HOUR_MS * HOUR_MS
in_the_hour = st.one_of(st.sampled_from([0, 1, HOUR_MS // 2, HOUR_MS - 1]), st.integers(0, HOUR_MS - 1))
hours = st.one_of(st.integers(-3, 3), st.integers(-50, 50))
fill_times = st.builds(lambda hour, ms: T0_HOUR + hour * HOUR_MS + ms, hours, in_the_hour)
window_lengths = st.one_of(
    st.builds(lambda hours, ms: hours * HOUR_MS + ms, st.integers(0, 30), st.sampled_from([-1, 0, 1])),
    st.integers(0, 30 * HOUR_MS),
).filter(lambda length: length >= 0)
steps = st.lists(
    st.one_of(
        st.tuples(st.just("fills"), st.integers(0, 1), st.lists(fill_times, min_size=1, max_size=8)),
        st.tuples(st.just("ask"), fill_times, window_lengths),
    ),
    min_size=1,
    max_size=12,
)


def accounts_with_an_order(db: Database) -> list[tuple[str, str]]:
    """Two accounts, each with an order its fills can belong to."""
    found = []
    resting = {"time_in_force": TimeInForce.GTC, "price": D("1"), "quantity": D("1")}
    for _ in range(2):
        account_id = account(db, USDT="10")
        order = place(db, T0, account_id, Side.BUY, OrderType.LIMIT, **resting)
        found.append((account_id, order.order_id))
    return found


def add_fills(db: Database, account_id: str, order_id: str, times: list[int]) -> None:
    with db.write() as session:
        for n, time in enumerate(times):
            quote = D(time % 997) + D(n) / 1000
            fill = tables.Fill(
                id=next_id(session),
                ticket_id=next_id(session),
                order_id=order_id,
                account_id=account_id,
                symbol=SYMBOLS[time % 2],
                side="BUY",
                price=quote,
                qty=D(1),
                quote=quote,
                is_maker=0,
                fee_asset="BTC",
                fee_amount=D(0),
                counter_order_id=None,
                time=time,
                printed=1,
            )
            session.add(fill)


def every_fill_added_up(db: Database, account_ids: list[str], start_ms: int, end_ms: int) -> dict[str, D]:
    with db.read() as session:
        rows = session.execute(
            select(tables.Fill.symbol, tables.Fill.quote).where(
                tables.Fill.account_id.in_(account_ids), tables.Fill.time.between(start_ms, end_ms)
            )
        )
        total: dict[str, D] = {}
        for symbol, quote in rows:
            total[symbol] = total.get(symbol, D(0)) + quote
        return total


def traded(db: Database, account_ids: list[str], start_ms: int, end_ms: int) -> dict[str, D]:
    with db.read() as session:
        return {s: q for s, q in trade_volume.traded(session, account_ids, start_ms, end_ms).items() if q}


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(steps=steps)
def test_the_kept_hours_add_up_to_every_fill_of_the_window(db, steps) -> None:
    accounts = accounts_with_an_order(db)
    account_ids = [account_id for account_id, _ in accounts]
    for step in steps:
        if step[0] == "fills":
            _, which, times = step
            add_fills(db, *accounts[which], times)
        else:
            _, end_ms, length = step
            expected = {
                s: q for s, q in every_fill_added_up(db, account_ids, end_ms - length, end_ms).items() if q
            }
            assert traded(db, account_ids, end_ms - length, end_ms) == expected
            assert traded(db, account_ids[:1], end_ms - length, end_ms) == {
                s: q
                for s, q in every_fill_added_up(db, account_ids[:1], end_ms - length, end_ms).items()
                if q
            }


def test_fills_of_an_hour_already_kept_and_of_the_hours_before_are_counted_once(db) -> None:
    (account_id, order_id), _ = accounts_with_an_order(db)
    add_fills(db, account_id, order_id, [T0 + 10])
    window = (T0 - 3 * HOUR_MS, T0 + 2 * HOUR_MS)
    assert traded(db, [account_id], *window) == every_fill_added_up(db, [account_id], *window)

    # a kept hour; the hour just before the kept ones (the window's partial first hour, before its start);
    # and before them all
    before_the_window = window[0] - 1
    add_fills(db, account_id, order_id, [T0 + 20, before_the_window, T0 - 5 * HOUR_MS])
    assert traded(db, [account_id], *window) == every_fill_added_up(db, [account_id], *window)
    earlier = (T0 - 6 * HOUR_MS, T0 + 2 * HOUR_MS)  # the window reaches back over the second and third
    assert traded(db, [account_id], *earlier) == every_fill_added_up(db, [account_id], *earlier)
    added = [(0, T0 + 10), (0, T0 + 20), (1, before_the_window), (2, T0 - 5 * HOUR_MS)]
    assert sum(traded(db, [account_id], *earlier).values()) == sum(D(t % 997) + D(n) / 1000 for n, t in added)


def test_a_request_begun_before_fills_that_another_kept_cannot_lose_them(db) -> None:
    """One request's snapshot is taken; a fill commits; a later request (the clock 31 days on) keeps the
    account past that fill without folding it (it is before its window); the first request then reaches
    back over the fill's hour. It must not fold that hour from its snapshot, which lacks the fill: the
    fill would be lost to every later request."""
    (account_id, order_id), _ = accounts_with_an_order(db)
    days = 24 * HOUR_MS
    add_fills(db, account_id, order_id, [T0 - 5 * HOUR_MS])  # seen by every request
    seen_by_all = every_fill_added_up(db, [account_id], T0 - 30 * days, T0)
    with db.read() as early:
        early.execute(select(tables.Fill.id)).all()  # the snapshot is taken
        add_fills(db, account_id, order_id, [T0])
        traded(db, [account_id], T0 + days, T0 + 31 * days)
        # it began before the fill at T0, and its answer still has the hours before what is kept
        assert trade_volume.traded(early, [account_id], T0 - 30 * days, T0) == seen_by_all

    window = (T0 - 30 * days, T0 + 2 * HOUR_MS)  # the fill's hour whole inside
    assert traded(db, [account_id], *window) == every_fill_added_up(db, [account_id], *window) != {}


def test_a_first_read_that_fails_keeps_nothing(db, monkeypatch) -> None:
    (account_id, order_id), _ = accounts_with_an_order(db)
    add_fills(db, account_id, order_id, [T0 - 5 * HOUR_MS, T0 - 10])
    window = (T0 - 30 * 24 * HOUR_MS, T0)
    read_fills = trade_volume._between
    failures = iter([OperationalError("SELECT", {}, Exception("disk I/O error"))])

    def failing_once(*args):
        for failure in failures:
            raise failure
        return read_fills(*args)

    monkeypatch.setattr(trade_volume, "_between", failing_once)
    with pytest.raises(OperationalError):
        traded(db, [account_id], *window)
    assert traded(db, [account_id], *window) == every_fill_added_up(db, [account_id], *window) != {}


def test_a_window_reaching_back_with_no_fill_since_counts_the_hours_it_newly_reaches(db) -> None:
    (account_id, order_id), _ = accounts_with_an_order(db)
    add_fills(db, account_id, order_id, [T0 - 5 * HOUR_MS, T0])
    near = (T0 - 2 * HOUR_MS, T0 + 2 * HOUR_MS)
    assert traded(db, [account_id], *near) == every_fill_added_up(db, [account_id], *near)

    wider = (T0 - 10 * HOUR_MS, T0 + 2 * HOUR_MS)  # no fill committed since the last request
    assert traded(db, [account_id], *wider) == every_fill_added_up(db, [account_id], *wider)
    assert every_fill_added_up(db, [account_id], *wider) != every_fill_added_up(db, [account_id], *near)


def test_fills_on_the_milliseconds_around_hour_boundaries_count_once_in_every_window(db) -> None:
    """The kept whole hours and the exact reads of a window's partial ends meet at hour boundaries: a fill
    on the first or last millisecond of an hour, or next to it, must be counted once whichever side of
    the boundary a window begins or ends; so also when a window reaches back over kept hours, or moves on
    and back again (the windows begin ever earlier, then ever later, then ever earlier again)."""
    (account_id, order_id), _ = accounts_with_an_order(db)
    first, middle, last = (T0_HOUR + hours * HOUR_MS for hours in (1, 3, 4))
    add_fills(
        db,
        account_id,
        order_id,
        [edge + offset for edge in (first, middle, last) for offset in (-2, -1, 0, 1)],
    )
    starts = sorted({edge + offset for edge in (first, middle) for offset in (-1, 0, 1, 2)}, reverse=True)
    for start in starts + starts[::-1] + starts:
        for end in (last - 2, last - 1, last, last + 1):
            window = (start, end)
            assert traded(db, [account_id], *window) == every_fill_added_up(db, [account_id], *window), window
