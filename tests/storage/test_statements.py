"""Prepared statements (`storage.statements`): compiled once, run on the driver's cursor in the session's
transaction, with values converted exactly as SQLAlchemy converts them."""

from __future__ import annotations

from decimal import Decimal

import pytest
from sqlalchemy import Column, Integer, MetaData, String, Table, bindparam, event, select

from simulator.storage import pending, statements, tables
from simulator.storage.db import Database
from tests.storage.conftest import new_account

_balance = tables.Balance.__table__
_sequence = tables.SimSequence.__table__.c

BALANCE = statements.prepare(
    select(_balance.c.free, _balance.c.locked).where(
        _balance.c.account_id == bindparam("account_id"), _balance.c.asset == bindparam("asset")
    )
)
INSERT_BALANCE = statements.prepare(_balance.insert(), column_keys=("account_id", "asset", "free", "locked"))
BALANCES_OF = statements.prepare(
    select(_balance.c.asset, _balance.c.free)
    .where(_balance.c.account_id == bindparam("account_id"))
    .order_by(_balance.c.asset)
)
SEQUENCE_WITH_A_LITERAL = statements.prepare(select(_sequence.value).where(_sequence.name == "ids"))
WITH_AN_IN_LIST = statements.prepare(select(_sequence.value).where(_sequence.name.in_(["ids", "other"])))
_computed = Table(
    "computed_default",
    MetaData(),
    Column("id", Integer, primary_key=True),
    Column("name", String, default=str),
)
WITH_A_COMPUTED_DEFAULT = statements.prepare(_computed.insert(), column_keys=("id",))
_stamped = Table(
    "stamped_on_update",
    MetaData(),
    Column("id", Integer, primary_key=True),
    Column("note", String),
    Column("stamp", String, default="made", onupdate="changed"),
)
INSERT_STAMPED = statements.prepare(_stamped.insert(), column_keys=("id", "note"))
UPDATE_STAMPED = statements.prepare(
    _stamped.update().where(_stamped.c.id == bindparam("key_id")), column_keys=("note",)
)
NOT_PREPARED = select(_sequence.value).where(_sequence.name == bindparam("name"))


@pytest.fixture
def account(database: Database) -> str:
    """An account holding nothing."""
    return new_account(database)


def test_money_goes_in_as_text_and_comes_back_as_the_same_decimal(database, account):
    amount = Decimal("12345678901234567890.000000000000000001")  # more digits than a float or a REAL keeps
    with database.write() as session:
        statements.run(
            session,
            INSERT_BALANCE,
            {"account_id": account, "asset": "BTC", "free": amount, "locked": Decimal(0)},
        )
    with database.read() as session:
        row = statements.run(session, BALANCE, {"account_id": account, "asset": "BTC"}).first()
        stored = session.execute(select(_balance.c.free).where(_balance.c.account_id == account)).scalar()

    assert (row.free, row.locked, row._mapping) == (
        amount,
        Decimal(0),
        {"free": amount, "locked": Decimal(0)},
    )
    assert stored == amount  # what the ORM reads back from the same row


def test_a_float_is_refused_as_the_column_type_refuses_it(database, account):
    with pytest.raises(TypeError), database.write() as session:
        statements.run(
            session,
            INSERT_BALANCE,
            {"account_id": account, "asset": "BTC", "free": 0.1, "locked": Decimal(0)},
        )


def test_a_value_written_in_the_statement_is_bound_for_the_caller(database):
    with database.read() as session:
        assert statements.run(session, SEQUENCE_WITH_A_LITERAL).scalar() == 0


def test_an_expanding_in_list_cannot_be_prepared(database):
    with pytest.raises(TypeError, match="IN lists"), database.read() as session:
        statements.run(session, WITH_AN_IN_LIST)


def test_columns_an_insert_or_update_leaves_out_get_their_fixed_default_or_onupdate(database):
    _stamped.metadata.create_all(database.engine)
    with database.write() as session:
        statements.run(session, INSERT_STAMPED, {"id": 1, "note": "a"})
        statements.run(session, INSERT_STAMPED, {"id": 2, "note": "b"})
        statements.run(session, UPDATE_STAMPED, {"key_id": 2, "note": "b2"})

    with database.read() as session:
        rows = session.execute(select(_stamped).order_by(_stamped.c.id)).all()
    assert [tuple(row) for row in rows] == [(1, "a", "made"), (2, "b2", "changed")]


def test_a_column_default_computed_by_a_function_cannot_be_prepared(database):
    """A fixed default is given for the caller (`test_pending`'s ledger remark); SQLAlchemy computes a
    function's per execution, which a prepared statement does not."""
    with pytest.raises(TypeError, match="cannot compute the default"), database.write() as session:
        statements.run(session, WITH_A_COMPUTED_DEFAULT, {"id": 1})


def test_a_statement_not_prepared_runs_through_sqlalchemy(database):
    with database.read() as session:
        assert statements.run(session, NOT_PREPARED, {"name": "ids"}).scalar() == 0


def test_a_read_sees_what_its_transaction_wrote_and_others_do_not_until_the_commit(database, account):
    with database.write() as session:
        statements.run(
            session,
            INSERT_BALANCE,
            {"account_id": account, "asset": "ETH", "free": Decimal(1), "locked": Decimal(0)},
        )
        with database.read() as other:
            assert statements.run(other, BALANCE, {"account_id": account, "asset": "ETH"}).first() is None
        assert statements.run(session, BALANCE, {"account_id": account, "asset": "ETH"}).first().free == 1


def test_a_read_sees_the_orm_changes_and_pending_rows_its_transaction_has_not_written_yet(database, account):
    with database.write() as session:
        session.add(tables.Balance(account_id=account, asset="BTC", free=Decimal(2), locked=Decimal(0)))
        btc = statements.run(session, BALANCE, {"account_id": account, "asset": "BTC"}).first()
        pending.add_row(
            session,
            _balance,
            {"account_id": account, "asset": "ETH", "free": Decimal(3), "locked": Decimal(0)},
        )
        eth = statements.run(session, BALANCE, {"account_id": account, "asset": "ETH"}).first()

        assert (btc.free, eth.free) == (Decimal(2), Decimal(3))


def test_a_read_told_not_to_flush_writes_nothing_first(database, account):
    """`flush=False` is for rows the transaction cannot have changed unwritten: it must not write in the
    middle of a match (a row written there would be written twice)."""
    with database.write() as session:
        pending.add_row(
            session,
            _balance,
            {"account_id": account, "asset": "ETH", "free": Decimal(3), "locked": Decimal(0)},
        )

        assert (
            statements.run(session, BALANCE, {"account_id": account, "asset": "ETH"}, flush=False).first()
            is None
        )
        assert statements.run(
            session, BALANCE, {"account_id": account, "asset": "ETH"}
        ).first().free == Decimal(3)


def test_a_row_read_once_is_kept_and_a_missing_one_is_read_again(database):
    """`read_once`: rows that never change once written are read once a process; a row not found may be
    written later (by another process), so it is looked for again."""
    reads: list[str] = []

    def read(key: str):  # noqa: ANN202
        def reading() -> str | None:
            reads.append(key)
            return None if key == "missing" else f"row {key}"

        return reading

    with database.read() as session:
        found = [
            statements.read_once(session, "test rows", key, read(key))
            for key in ("a", "a", "missing", "missing")
        ]

    assert found == ["row a", "row a", None, None]
    assert reads == ["a", "missing", "missing"]


def test_a_refused_transaction_leaves_nothing_a_prepared_statement_wrote(database, account):
    with pytest.raises(RuntimeError), database.write() as session:
        statements.run(
            session,
            INSERT_BALANCE,
            {"account_id": account, "asset": "ETH", "free": Decimal(1), "locked": Decimal(0)},
        )
        raise RuntimeError("refused")
    with database.read() as session:
        assert statements.run(session, BALANCE, {"account_id": account, "asset": "ETH"}).first() is None


def test_statement_listeners_see_prepared_statements_with_their_parameters(database, account):
    seen: list[tuple[str, object]] = []

    def record(conn, cursor, statement, parameters, context, executemany) -> None:  # noqa: ANN001
        seen.append((statement.split()[0], list(parameters)))

    event.listen(database.engine, "before_cursor_execute", record)
    with database.read() as session:
        statements.run(session, BALANCE, {"account_id": account, "asset": "BTC"})

    assert ("SELECT", [account, "BTC"]) in seen


def test_a_result_answers_first_scalar_and_scalars_like_sqlalchemy_s(database):
    account = new_account(database, BTC="1", ETH="2")
    nobody = new_account(database)
    with database.read() as session:
        found = statements.run(session, BALANCES_OF, {"account_id": account})
        none = statements.run(session, BALANCES_OF, {"account_id": nobody})

    assert (found.first().asset, found.scalar(), found.scalars()) == ("BTC", "BTC", ["BTC", "ETH"])
    assert (none.first(), none.scalar(), none.scalars()) == (None, None, [])


def test_a_prepared_statement_runs_on_the_driver_cursor_not_through_sqlalchemy(database, account):
    """The point of preparing: SQLAlchemy's execution layer (its before_execute listeners among it) is not
    run for a prepared statement, and is for one that was not prepared."""
    executed: list[object] = []
    event.listen(database.engine, "before_execute", lambda conn, statement, *rest: executed.append(statement))
    with database.read() as session:
        for _ in range(2):
            statements.run(session, BALANCE, {"account_id": account, "asset": "BTC"})
        statements.run(session, NOT_PREPARED, {"name": "ids"})

    assert [statement for statement in executed if statement is BALANCE] == []
    assert NOT_PREPARED in executed
