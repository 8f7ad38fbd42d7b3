"""Pending rows (`storage.pending`): append-only rows written in one INSERT per table and column set before
the transaction's commit and before its next ORM statement; callbacks that run once, just before the
commit; nothing of a transaction that is refused."""

from __future__ import annotations

from decimal import Decimal

import pytest
from sqlalchemy import select

from simulator.domain.accounts import FlowType
from simulator.storage import pending, tables
from simulator.storage.db import Database
from simulator.storage.ids import next_id
from tests.storage.conftest import NOW_MS, new_account

_ledger = tables.LedgerEntry.__table__


def entry(entry_id: int, account_id: str, change: str, **more: object) -> dict[str, object]:
    """A ledger row with its own id: drawing one (`next_id`) would change a record in the transaction, and
    these rows must be written with or without one."""
    values = {
        "id": f"{entry_id:019d}",
        "account_id": account_id,
        "asset": "USDT",
        "flow_type": int(FlowType.TRADE),
        "change": Decimal(change),
        "total": Decimal(change),
        "created_ms": NOW_MS,
    }
    return values | more


def ledger_of(database: Database, account_id: str) -> list[tuple[Decimal, str]]:
    with database.read() as session:
        rows = session.execute(
            select(_ledger.c.change, _ledger.c.remark)
            .where(_ledger.c.account_id == account_id)
            .order_by(_ledger.c.id)
        )
        return [tuple(row) for row in rows]


@pytest.fixture
def account_id(database: Database) -> str:
    return new_account(database)


def test_pending_rows_are_written_at_the_commit(database, account_id):
    with database.write() as session:
        for change in (1, 2, 3):
            pending.add_row(session, _ledger, entry(change, account_id, str(change)))
        assert ledger_of(database, account_id) == []  # not before the commit

    assert ledger_of(database, account_id) == [(Decimal(1), ""), (Decimal(2), ""), (Decimal(3), "")]


def test_rows_of_one_table_setting_different_columns_are_each_written_with_their_own(database, account_id):
    with database.write() as session:
        pending.add_row(session, _ledger, entry(1, account_id, "1"))
        pending.add_row(session, _ledger, entry(2, account_id, "2", remark="with a remark"))
        pending.add_row(session, _ledger, entry(3, account_id, "3"))

    assert ledger_of(database, account_id) == [
        (Decimal(1), ""),
        (Decimal(2), "with a remark"),
        (Decimal(3), ""),
    ]


def test_rows_setting_as_many_columns_but_not_the_same_ones_are_each_written_with_their_own(database):
    _state = tables.SymbolState.__table__
    with database.write() as session:
        pending.add_row(session, _state, {"symbol": "ONE", "watermark_ms": 1, "last_price": Decimal("1.5")})
        pending.add_row(session, _state, {"symbol": "TWO", "watermark_ms": 2, "last_price_ms": 7})

    with database.read() as session:
        rows = session.execute(
            select(_state.c.symbol, _state.c.last_price, _state.c.last_price_ms).where(
                _state.c.symbol.in_(["ONE", "TWO"])
            )
        )
        assert sorted(tuple(row) for row in rows) == [("ONE", Decimal("1.5"), None), ("TWO", None, 7)]


def test_a_refused_transaction_writes_none_of_its_pending_rows(database, account_id):
    with pytest.raises(RuntimeError), database.write() as session:
        pending.add_row(session, _ledger, entry(1, account_id, "1"))
        session.execute(select(_ledger.c.id)).all()  # written into the transaction by the ORM statement
        raise RuntimeError("refused")

    assert ledger_of(database, account_id) == []


def test_an_orm_statement_sees_the_pending_rows_before_it(database, account_id):
    with database.write() as session:
        pending.add_row(session, _ledger, entry(1, account_id, "1"))
        seen = (
            session.execute(select(_ledger.c.change).where(_ledger.c.account_id == account_id))
            .scalars()
            .all()
        )

    assert seen == [Decimal(1)]


def test_pending_rows_may_refer_to_rows_the_orm_added_in_the_same_transaction(database):
    """The ORM's rows are written first (foreign keys are checked as each row is written)."""
    with database.write() as session:
        user = tables.User(id=next_id(session), created_ms=NOW_MS)
        account = tables.Account(id=next_id(session), user_id=user.id, account_type=1, account_index=0)
        session.add_all([user, account])
        pending.add_row(session, _ledger, entry(1, account.id, "5"))

    assert ledger_of(database, account.id) == [(Decimal(5), "")]


def test_a_callback_runs_once_just_before_the_commit_and_its_rows_are_written(database, account_id):
    calls: list[str] = []

    def write_a_total(name: str):  # noqa: ANN202
        def callback(session) -> None:  # noqa: ANN001
            calls.append(name)
            pending.add_row(session, _ledger, entry(1, account_id, "9", remark=name))

        return callback

    with database.write() as session:
        pending.before_write(session, "total", write_a_total("first"))
        pending.before_write(session, "total", write_a_total("second"))  # the same key: the first is kept
        session.execute(select(_ledger.c.id)).all()  # an ORM statement runs no callback
        assert calls == []

    assert calls == ["first"]
    assert ledger_of(database, account_id) == [(Decimal(9), "first")]
