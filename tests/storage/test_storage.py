"""Storage: exact money through SQLite, the connection pragmas, write locking, seeding, ids and atomicity."""

from __future__ import annotations

import json
import shutil
import sqlite3
import threading
from collections.abc import Callable, Iterator
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import event, func, select
from sqlalchemy.exc import StatementError
from sqlalchemy.orm import Session

from simulator import errors
from simulator.domain.accounts import FlowType
from simulator.domain.clock import ClockMode, MarketClock
from simulator.services import accounts
from simulator.services.clock import read_clock, write_clock
from simulator.settings import DEFAULT_FIXTURES
from simulator.storage import tables
from simulator.storage.db import Database, open_database
from simulator.storage.ids import ID_BASE, next_id
from simulator.storage.seed import FIXTURE_FILES, FixturesError, ensure_seeded
from simulator.storage.transaction import transaction_cache
from tests.storage.conftest import NOW_MS, new_account

THREADS = 8


@pytest.fixture
def db_path(tmp_path: Path, database: Database) -> Path:
    return tmp_path / "storage.db"


def read_balance(database: Database, account_id: str, asset: str) -> tables.Balance | None:
    with database.read() as session:
        return session.get(tables.Balance, (account_id, asset))


def ledger(database: Database, account_id: str, asset: str) -> list[tables.LedgerEntry]:
    with database.read() as session:
        statement = (
            select(tables.LedgerEntry)
            .where(tables.LedgerEntry.account_id == account_id, tables.LedgerEntry.asset == asset)
            .order_by(tables.LedgerEntry.id)
        )
        return list(session.scalars(statement))


def run_threads(count: int, target: Callable[[int], None]) -> None:
    """Runs `target(index)` in `count` threads started together; re-raises the first failure."""
    barrier = threading.Barrier(count)
    failures: list[BaseException] = []

    def run(index: int) -> None:
        try:
            barrier.wait()
            target(index)
        except BaseException as e:  # noqa: BLE001 - reported to the test below
            failures.append(e)

    threads = [threading.Thread(target=run, args=(i,)) for i in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    if failures:
        raise failures[0]


# --- DecimalText ------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "amount",
    [
        Decimal("12345678901.000000001"),
        Decimal("0.000000000000000001"),
        Decimal("206381.2785765348009"),
        Decimal("0.10"),
        Decimal("1000"),
    ],
)
def test_decimal_text_round_trips_exactly(database, amount):
    account_id = new_account(database)
    with database.write() as session:
        session.add(tables.Balance(account_id=account_id, asset="USDT", free=amount, locked=Decimal("0")))

    stored = read_balance(database, account_id, "USDT")

    assert stored is not None
    assert stored.free == amount
    assert str(stored.free) == str(amount)


def test_decimal_text_is_stored_as_plain_text(database, db_path):
    account_id = new_account(database)
    with database.write() as session:
        session.add(
            tables.Balance(account_id=account_id, asset="USDT", free=Decimal("1E-18"), locked=Decimal("0"))
        )

    with sqlite3.connect(db_path) as raw:
        (text,) = raw.execute("SELECT free FROM balances WHERE account_id = ?", (account_id,)).fetchone()

    assert text == "0.000000000000000001"


def test_binding_a_float_to_a_money_column_raises_type_error(database):
    account_id = new_account(database)

    with pytest.raises(StatementError) as caught:
        with database.write() as session:
            session.add(tables.Balance(account_id=account_id, asset="USDT", free=1.5, locked=Decimal("0")))
            session.flush()

    assert isinstance(caught.value.orig, TypeError)
    assert "Decimal" in str(caught.value.orig)
    assert read_balance(database, account_id, "USDT") is None


# --- connection settings ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("pragma", "check"),
    [
        ("journal_mode", lambda value: value == "wal"),
        ("foreign_keys", lambda value: value == 1),
        ("busy_timeout", lambda value: value > 0),
    ],
)
def test_fresh_connection_pragmas(database, pragma, check):
    database.dispose()  # the next connection is a brand new one
    raw = database.engine.raw_connection()
    try:
        cursor = raw.cursor()
        cursor.execute(f"PRAGMA {pragma}")
        (value,) = cursor.fetchone()
        cursor.close()
    finally:
        raw.close()

    assert check(value), f"PRAGMA {pragma} = {value!r}"


@pytest.fixture
def executed_sql(database: Database) -> Iterator[list[str]]:
    statements: list[str] = []

    def record(conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        statements.append(statement)

    event.listen(database.engine, "before_cursor_execute", record)
    yield statements
    event.remove(database.engine, "before_cursor_execute", record)


@pytest.mark.parametrize(
    ("session_kind", "begin"), [("write", "BEGIN IMMEDIATE"), ("read", "BEGIN DEFERRED")]
)
def test_transaction_begins_in_its_mode(database, executed_sql, session_kind, begin):
    with getattr(database, session_kind)() as session:
        session.execute(select(tables.Coin.coin_id)).all()

    assert executed_sql[0] == begin


def test_open_write_transaction_holds_the_write_lock(database, db_path):
    other = sqlite3.connect(db_path, timeout=0, isolation_level=None)
    try:
        with database.write() as session:
            session.execute(select(tables.Coin.coin_id)).all()  # a read only: the lock must already be held

            with pytest.raises(sqlite3.OperationalError, match="database is locked"):
                other.execute("BEGIN IMMEDIATE")
    finally:
        other.close()


def test_a_write_transaction_holds_the_write_lock_before_its_first_statement(database, db_path):
    other = sqlite3.connect(db_path, timeout=0, isolation_level=None)
    try:
        with database.write():
            with pytest.raises(sqlite3.OperationalError, match="database is locked"):
                other.execute("BEGIN IMMEDIATE")
    finally:
        other.close()


def test_write_lock_is_released_after_the_transaction(database, db_path):
    with database.write() as session:
        session.execute(select(tables.Coin.coin_id)).all()
    other = sqlite3.connect(db_path, timeout=0, isolation_level=None)
    try:
        other.execute("BEGIN IMMEDIATE")
        other.execute("ROLLBACK")
    finally:
        other.close()


def test_reader_is_not_blocked_by_an_open_writer(database):
    account_id = new_account(database, USDT="5")
    with database.write() as session:
        accounts.change_balance(session, account_id, "USDT", Decimal("1"), FlowType.CUSTODY_DEPOSIT, NOW_MS)
        session.flush()

        with database.read() as reader:
            seen = reader.get(tables.Balance, (account_id, "USDT"))
            coins = reader.scalar(select(func.count()).select_from(tables.Coin))

        assert seen is not None
        assert seen.free == Decimal("5")  # the writer's uncommitted change is invisible
        assert coins > 0


# --- sessions kept between transactions ------------------------------------------------------------------


@pytest.mark.parametrize("session_kind", ["write", "read"])
def test_a_session_is_used_again_and_keeps_nothing_of_its_last_transaction(database, session_kind):
    account_id = new_account(database, USDT="5")
    with getattr(database, session_kind)() as first:
        balance = first.get(tables.Balance, (account_id, "USDT"))
        transaction_cache(first)["mark"] = True
    assert not first.info  # what the transaction kept went with it

    with getattr(database, session_kind)() as second:
        assert second is first
        assert balance not in second  # the row read before is detached, not carried over
        assert "mark" not in transaction_cache(second)
        assert second.get(tables.Balance, (account_id, "USDT")).free == Decimal("5")


def test_a_transaction_inside_another_gets_a_session_of_its_own(database):
    with database.read() as outer, database.read() as inner, database.write() as writer:
        assert len({id(outer), id(inner), id(writer)}) == 3
        assert inner.scalar(select(func.count()).select_from(tables.Coin)) > 0
    with database.read() as again:
        assert again in (outer, inner)


def test_a_session_whose_transaction_failed_serves_the_next_one(database):
    account_id = new_account(database, USDT="5")
    failed = fail_a_deposit(database, account_id)

    with database.write() as session:
        assert session is failed
        accounts.change_balance(session, account_id, "USDT", Decimal("1"), FlowType.CUSTODY_DEPOSIT, NOW_MS)
    assert read_balance(database, account_id, "USDT").free == Decimal("6")
    assert [entry.change for entry in ledger(database, account_id, "USDT")] == [Decimal("5"), Decimal("1")]


def test_concurrent_transactions_never_share_a_session(database):
    in_use: set[int] = set()
    shared: list[int] = []
    guard = threading.Lock()

    def transact(index: int) -> None:
        for _ in range(50):
            with database.read() as session:
                with guard:
                    if id(session) in in_use:
                        shared.append(id(session))
                    in_use.add(id(session))
                session.scalar(select(func.count()).select_from(tables.Coin))
                with guard:
                    in_use.discard(id(session))

    run_threads(THREADS, transact)
    assert shared == []


# --- seeding ----------------------------------------------------------------------------------------------


def fixture_json(name: str) -> Any:
    return json.loads((Path(DEFAULT_FIXTURES) / name).read_text(encoding="utf-8"))


def seeded_counts(database: Database) -> tuple[int, int, int]:
    with database.read() as session:
        return (
            session.scalar(select(func.count()).select_from(tables.Instrument)),
            session.scalar(select(func.count()).select_from(tables.Coin)),
            session.scalar(select(func.count()).select_from(tables.FeeTier)),
        )


def test_seeding_happens_once(tmp_path):
    url = f"sqlite:///{tmp_path / 'seed.db'}"
    first = open_database(url)
    second = open_database(url)
    try:
        seeded_first = ensure_seeded(first, DEFAULT_FIXTURES, NOW_MS)
        counts_after_first = seeded_counts(first)
        seeded_second = ensure_seeded(second, DEFAULT_FIXTURES, NOW_MS + 1)
        counts_after_second = seeded_counts(second)
    finally:
        first.dispose()
        second.dispose()

    assert (seeded_first, seeded_second) == (True, False)
    assert counts_after_second == counts_after_first


def test_an_unseeded_database_reads_a_live_clock_until_one_is_written(tmp_path):
    database = open_database(f"sqlite:///{tmp_path / 'bare.db'}")
    replay = MarketClock.replay(NOW_MS, Decimal(0), 0)
    try:
        with database.read() as session:
            unseeded = read_clock(session)
        with database.write() as session:
            write_clock(session, replay)
        with database.read() as session:
            written = read_clock(session)
    finally:
        database.dispose()

    assert (unseeded.mode, unseeded.now_ms(NOW_MS)) == (ClockMode.LIVE, NOW_MS)
    assert written == replay


def fixtures_with_fee_tiers(folder: Path, fee_tiers: Any) -> Path:
    folder.mkdir()
    for name in FIXTURE_FILES:
        shutil.copy(Path(DEFAULT_FIXTURES) / name, folder / name)
    (folder / "fee_tiers.json").write_text(json.dumps(fee_tiers), encoding="utf-8")
    return folder


@pytest.mark.parametrize("rate", ["-0.0002", "1", "1.5", "", "0.1%", None, 0.001])
@pytest.mark.parametrize("where", ["tier", "symbol"])
def test_a_fee_rate_that_is_not_a_decimal_from_0_up_to_1_is_refused_at_seeding(tmp_path, rate, where):
    """A negative maker rate (a rebate) would be shown by vipInfo and charged as nothing; a rate of 1 or
    more would take a fill's whole proceeds. The simulator pays no rebates: `makerRebate` is "0"."""
    fee_tiers = fixture_json("fee_tiers.json")
    tier = fee_tiers["tiers"][1]
    (tier if where == "tier" else tier["symbols"]["ETHUSDT"])["makerFeeRate"] = rate
    folder = fixtures_with_fee_tiers(tmp_path / "fixtures", fee_tiers)
    database = open_database(f"sqlite:///{tmp_path / 'seed.db'}")
    try:
        with pytest.raises(FixturesError) as refused:
            ensure_seeded(database, folder, NOW_MS)
        counts = seeded_counts(database)
    finally:
        database.dispose()

    place = "tier 1" if where == "tier" else "tier 1 symbol ETHUSDT"
    assert str(refused.value) == (
        f"fixture fee_tiers.json: {place}: makerFeeRate {rate!r} is not a rate from 0 up to 1"
    )
    assert counts == (0, 0, 0)


@pytest.mark.parametrize(
    ("fee_tiers", "message"),
    [
        ([], "no list of tiers"),
        ({}, "no list of tiers"),
        ({"tiers": {}}, "no list of tiers"),
        ({"tiers": [1]}, "no list of tiers"),
        (
            {"tiers": [{"vipLevel": 0, "makerFeeRate": "0", "takerFeeRate": "0", "symbols": []}]},
            "tier 0: symbols is not an object",
        ),
        (
            {"tiers": [{"makerFeeRate": "0", "takerFeeRate": "0"}]},
            "a tier's vipLevel None is not a whole number",
        ),
        (
            {"tiers": [{"vipLevel": "1", "makerFeeRate": "0", "takerFeeRate": "0"}]},
            "a tier's vipLevel '1' is not a whole number",
        ),
        (
            {"tiers": [{"vipLevel": True, "makerFeeRate": "0", "takerFeeRate": "0"}]},
            "a tier's vipLevel True is not a whole number",
        ),
    ],
)
def test_fee_tiers_of_another_shape_are_refused_at_seeding(tmp_path, fee_tiers, message):
    folder = fixtures_with_fee_tiers(tmp_path / "fixtures", fee_tiers)
    database = open_database(f"sqlite:///{tmp_path / 'seed.db'}")
    try:
        with pytest.raises(FixturesError, match=f"^fixture fee_tiers.json: {message}$"):
            ensure_seeded(database, folder, NOW_MS)
    finally:
        database.dispose()


def test_a_database_seeded_with_a_rate_now_refused_is_refused_when_opened(tmp_path):
    """Fills and vipInfo read the stored tiers, not the files: a database seeded before the rates were
    checked, from a copy with a rebate in it, would pay that rebate on every maker fill."""
    database = open_database(f"sqlite:///{tmp_path / 'seed.db'}")
    try:
        assert ensure_seeded(database, DEFAULT_FIXTURES, NOW_MS)
        with database.write() as session:
            tier = session.get(tables.FeeTier, 0)
            tier.definition = json.dumps({**json.loads(tier.definition), "makerFeeRate": "-0.0002"})
        with pytest.raises(FixturesError) as refused:
            ensure_seeded(database, DEFAULT_FIXTURES, NOW_MS + 1)
    finally:
        database.dispose()

    assert str(refused.value) == (
        "the database's fee tiers: tier 0: makerFeeRate '-0.0002' is not a rate from 0 up to 1"
    )


def test_zero_rates_are_fee_rates(tmp_path):
    fee_tiers = fixture_json("fee_tiers.json")
    fee_tiers["tiers"][0].update(makerFeeRate="0", takerFeeRate="0E-8")
    folder = fixtures_with_fee_tiers(tmp_path / "fixtures", fee_tiers)
    database = open_database(f"sqlite:///{tmp_path / 'seed.db'}")
    try:
        assert ensure_seeded(database, folder, NOW_MS)
    finally:
        database.dispose()


def test_opening_a_database_adds_the_indexes_it_lacks(tmp_path):
    path = tmp_path / "older.db"
    open_database(f"sqlite:///{path}").dispose()
    older = sqlite3.connect(path)  # as a database made before the index existed
    older.execute("DROP INDEX ix_orders_working")
    older.close()

    open_database(f"sqlite:///{path}").dispose()

    with sqlite3.connect(path) as reopened:
        indexes = {
            name for (name,) in reopened.execute("SELECT name FROM sqlite_master WHERE type = 'index'")
        }
    assert "ix_orders_working" in indexes


def test_opening_a_database_adds_the_columns_it_lacks_and_keeps_its_rows(tmp_path):
    path = tmp_path / "older.db"
    database = open_database(f"sqlite:///{path}")
    ensure_seeded(database, DEFAULT_FIXTURES, NOW_MS)
    database.dispose()
    older = sqlite3.connect(path)  # as a database made before orders had a queue_ms column
    older.execute("ALTER TABLE orders DROP COLUMN queue_ms")
    older.close()

    reopened = open_database(f"sqlite:///{path}")
    try:
        with reopened.read() as session:
            instruments = session.scalar(select(func.count()).select_from(tables.Instrument))
    finally:
        reopened.dispose()

    with sqlite3.connect(path) as after:
        columns = {row[1] for row in after.execute("PRAGMA table_info(orders)")}
    assert "queue_ms" in columns
    assert instruments == len(fixture_json("instruments.json"))


def test_seeded_instruments_match_fixtures(database):
    expected = {symbol["symbol"] for symbol in fixture_json("instruments.json")}

    with database.read() as session:
        stored = set(session.scalars(select(tables.Instrument.symbol)))

    assert stored == expected


def test_seeded_coins_match_fixtures(database):
    expected = {coin["coinId"] for coin in fixture_json("coins.json")}

    with database.read() as session:
        stored = set(session.scalars(select(tables.Coin.coin_id)))

    assert stored == expected


def test_seeded_fee_tiers_match_fixtures(database):
    expected = {int(tier["vipLevel"]) for tier in fixture_json("fee_tiers.json")["tiers"]}

    with database.read() as session:
        stored = set(session.scalars(select(tables.FeeTier.vip_level)))

    assert stored == expected


# --- concurrency ------------------------------------------------------------------------------------------


def test_concurrent_credits_lose_no_update(database):
    account_id = new_account(database)

    def credit(_: int) -> None:
        for _ in range(25):
            with database.write() as session:
                accounts.change_balance(
                    session, account_id, "USDT", Decimal("0.1"), FlowType.CUSTODY_DEPOSIT, NOW_MS
                )

    run_threads(THREADS, credit)

    balance = read_balance(database, account_id, "USDT")
    assert balance is not None
    assert balance.free == Decimal("20.0")
    assert str(balance.free) == "20.0"


def test_concurrent_credits_write_one_ledger_entry_each_with_distinct_totals(database):
    account_id = new_account(database)

    def credit(_: int) -> None:
        for _ in range(25):
            with database.write() as session:
                accounts.change_balance(
                    session, account_id, "USDT", Decimal("0.1"), FlowType.CUSTODY_DEPOSIT, NOW_MS
                )

    run_threads(THREADS, credit)

    entries = ledger(database, account_id, "USDT")
    balance = read_balance(database, account_id, "USDT")
    assert len(entries) == 200
    assert len({entry.total for entry in entries}) == 200
    assert [entry.total for entry in entries] == [Decimal("0.1") * k for k in range(1, 201)]
    assert balance is not None
    assert entries[-1].total == balance.free + balance.locked


def test_concurrent_debits_never_go_below_zero(database):
    account_id = new_account(database, USDT="10")
    succeeded: list[int] = []
    refused: list[int] = []
    record = threading.Lock()

    def debit(index: int) -> None:
        for _ in range(5):
            try:
                with database.write() as session:
                    accounts.change_balance(
                        session, account_id, "USDT", Decimal("-1"), FlowType.CUSTODY_WITHDRAW, NOW_MS
                    )
            except errors.InsufficientAsset:
                with record:
                    refused.append(index)
            else:
                with record:
                    succeeded.append(index)

    run_threads(THREADS, debit)

    balance = read_balance(database, account_id, "USDT")
    assert balance is not None
    assert balance.free == Decimal("0")
    assert (len(succeeded), len(refused)) == (10, 30)
    assert [entry.change for entry in ledger(database, account_id, "USDT")] == [Decimal("10")] + [
        Decimal("-1")
    ] * 10


# --- ids --------------------------------------------------------------------------------------------------


def draw_ids(database: Database, count: int) -> list[str]:
    drawn = []
    for _ in range(count):
        with database.write() as session:
            drawn.append(next_id(session))
    return drawn


def test_ids_are_19_digit_numeric_strings(database):
    drawn = draw_ids(database, 5)

    assert all(isinstance(i, str) and len(i) == 19 and i.isdigit() for i in drawn)


def test_ids_increase(database):
    drawn = draw_ids(database, 5)

    assert [int(i) for i in drawn] == sorted({int(i) for i in drawn})


def test_first_id_follows_the_base(database):
    assert draw_ids(database, 1) == [str(ID_BASE + 1)]


def test_same_sequence_gives_same_ids_on_fresh_databases(make_database):
    first = make_database("first.db")
    second = make_database("second.db")

    assert draw_ids(first, 5) == draw_ids(second, 5)


def test_same_account_creation_gives_same_ids_on_fresh_databases(make_database):
    first = make_database("first.db")
    second = make_database("second.db")

    assert new_account(first, USDT="1") == new_account(second, USDT="1")


def test_ids_in_one_transaction_are_distinct(database):
    with database.write() as session:
        drawn = [next_id(session) for _ in range(3)]

    assert len(set(drawn)) == 3


# --- atomicity --------------------------------------------------------------------------------------------


class Boom(Exception):
    pass


def fail_a_deposit(database: Database, account_id: str) -> Session:
    """A write transaction that credits 3 USDT, writes it, then raises; the session it ran on."""
    with pytest.raises(Boom):
        with database.write() as session:
            accounts.change_balance(
                session, account_id, "USDT", Decimal("3"), FlowType.CUSTODY_DEPOSIT, NOW_MS
            )
            session.flush()
            raise Boom
    return session


def test_failed_write_transaction_leaves_no_balance_change(database):
    account_id = new_account(database, USDT="5")

    fail_a_deposit(database, account_id)

    balance = read_balance(database, account_id, "USDT")
    assert balance is not None
    assert balance.free == Decimal("5")


def test_failed_write_transaction_leaves_no_ledger_entry(database):
    account_id = new_account(database, USDT="5")

    with pytest.raises(Boom):
        with database.write() as session:
            accounts.change_balance(
                session, account_id, "USDT", Decimal("3"), FlowType.CUSTODY_DEPOSIT, NOW_MS
            )
            session.flush()
            raise Boom

    assert [entry.change for entry in ledger(database, account_id, "USDT")] == [Decimal("5")]


def test_failed_write_transaction_creates_no_balance_row(database):
    account_id = new_account(database)

    with pytest.raises(Boom):
        with database.write() as session:
            accounts.change_balance(
                session, account_id, "BTC", Decimal("1"), FlowType.CUSTODY_DEPOSIT, NOW_MS
            )
            session.flush()
            raise Boom

    assert read_balance(database, account_id, "BTC") is None
    assert ledger(database, account_id, "BTC") == []
