"""Records (`storage.records`): rows the order path changes, read once per transaction and written back with
its pending rows, as one UPDATE per table, only when changed, and seen by the transaction's later reads."""

from __future__ import annotations

from decimal import Decimal

import pytest
from sqlalchemy import event, select

from simulator.domain.accounts import FlowType
from simulator.services import accounts
from simulator.storage import statements, tables
from simulator.storage.db import Database
from tests.storage.conftest import NOW_MS, new_account


@pytest.fixture
def account_id(database: Database) -> str:
    return new_account(database, USDT="100")


@pytest.fixture
def sent_sql(database: Database) -> list[str]:
    """Every SQL statement sent from here on."""
    sent: list[str] = []

    def record(conn, cursor, statement, parameters, context, executemany) -> None:  # noqa: ANN001
        sent.append(statement)

    event.listen(database.engine, "before_cursor_execute", record)
    return sent


def stored_balance(database: Database, account_id: str, asset: str) -> tuple[Decimal, Decimal] | None:
    with database.read() as session:
        row = session.get(tables.Balance, (account_id, asset))
        return None if row is None else (row.free, row.locked)


def test_every_caller_of_a_transaction_gets_the_same_record(database, account_id):
    with database.write() as session:
        first = accounts.balance_for_update(session, account_id, "USDT")
        first.free -= Decimal("30")
        again = accounts.balance_for_update(session, account_id, "USDT")

        assert again is first
        assert again.free == Decimal("70")


def test_a_changed_record_is_written_at_commit(database, account_id):
    with database.write() as session:
        balance = accounts.balance_for_update(session, account_id, "USDT")
        balance.free -= Decimal("30")
        balance.locked += Decimal("30")

    assert stored_balance(database, account_id, "USDT") == (Decimal("70"), Decimal("30"))


def test_an_unchanged_record_writes_nothing(database, account_id, sent_sql):
    with database.write() as session:
        accounts.balance_for_update(session, account_id, "USDT")

    assert not [sql for sql in sent_sql if sql.startswith(("UPDATE", "INSERT"))]


def test_a_rolled_back_transaction_writes_no_record(database, account_id):
    with pytest.raises(RuntimeError), database.write() as session:
        accounts.balance_for_update(session, account_id, "USDT").free = Decimal("1")
        raise RuntimeError("refused")

    assert stored_balance(database, account_id, "USDT") == (Decimal("100"), Decimal("0"))


def test_a_later_read_of_the_transaction_sees_the_change(database, account_id):
    balance = tables.Balance.__table__.c
    query = select(balance.free).where(balance.account_id == account_id, balance.asset == "USDT")
    with database.write() as session:
        accounts.balance_for_update(session, account_id, "USDT").free = Decimal("12")

        assert statements.run(session, query).scalar() == Decimal("12")
        assert session.scalar(select(tables.Balance.free).where(tables.Balance.account_id == account_id)) == (
            Decimal("12")
        )


def test_changes_of_several_rows_are_one_update_per_table(database, account_id, sent_sql):
    with database.write() as session:
        accounts.change_balance(session, account_id, "USDT", Decimal("-5"), FlowType.TRADE, NOW_MS)
        accounts.change_balance(session, account_id, "BTC", Decimal("1"), FlowType.TRADE, NOW_MS)
        accounts.balance_for_update(session, account_id, "ETH")  # none held: nothing to write

    writes = [sql.split(" (")[0] for sql in sent_sql if sql.startswith(("UPDATE", "INSERT"))]
    assert writes == [
        "INSERT INTO balances",  # BTC, new
        "UPDATE balances SET free=?, locked=? WHERE balances.account_id = ? AND balances.asset = ?",
        "UPDATE sim_sequence SET value=? WHERE sim_sequence.name = ?",
        "INSERT INTO ledger_entries",  # both entries
    ]
    assert stored_balance(database, account_id, "BTC") == (Decimal("1"), Decimal("0"))
    assert stored_balance(database, account_id, "ETH") is None


def test_a_balance_the_account_never_held_is_made_at_zero(database, account_id):
    with database.write() as session:
        record = accounts.ensure_balance(session, account_id, "BTC")
        assert (record.free, record.locked) == (Decimal("0"), Decimal("0"))

    assert stored_balance(database, account_id, "BTC") == (Decimal("0"), Decimal("0"))


def test_a_new_record_changed_after_it_was_written_is_updated_not_inserted_again(database, account_id):
    balance = tables.Balance.__table__.c
    query = select(balance.free).where(balance.account_id == account_id, balance.asset == "BTC")
    with database.write() as session:
        record = accounts.ensure_balance(session, account_id, "BTC")
        record.free = Decimal("2")
        assert statements.run(session, query).scalar() == Decimal("2")  # inserted here
        record.free = Decimal("3")

    assert stored_balance(database, account_id, "BTC") == (Decimal("3"), Decimal("0"))
