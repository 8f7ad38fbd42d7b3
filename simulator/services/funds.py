"""An order's funds and the account's fee rates.

A LIMIT order locks price x quantity of quote (BUY) or its quantity of base (SELL) when placed; a MARKET BUY
by amount locks the amount; a MARKET order whose cost is known only after the walk (BUY by quantity, SELL by
amount) locks exactly what its fills use. A BUY on a Token-Fiat pair locks its fees too (they are paid in
the quote, on top: domain.matching.fees). Fills pay from the locked part, each payment a ledger entry;
what is left when the order ends goes back to free (a lock and its release move an amount within one
balance and write no entry). Locks and releases are announced to the streams (`services.outbox`), as a
settlement's balance changes are."""

from __future__ import annotations

import json
from collections.abc import Iterable
from decimal import Decimal
from functools import lru_cache

from sqlalchemy import bindparam, select
from sqlalchemy.orm import Session

from simulator import errors
from simulator.domain.accounts import FlowType
from simulator.domain.matching.fees import FeeRates, fee_on_top, fill_fee
from simulator.domain.matching.orders import Order, OrderType, Side, TimeInForce
from simulator.domain.matching.taking import Fill
from simulator.services import outbox
from simulator.services.accounts import add_ledger_entry, balance_for_update, change_balance, ensure_balance
from simulator.services.instruments import InstrumentRules
from simulator.storage import statements, tables
from simulator.storage.records import OrderRecord
from simulator.storage.transaction import transaction_cache, transaction_cached


def pay_fee_from_free(session: Session, row: OrderRecord, fee: Decimal, now_ms: int) -> Decimal:
    """A Token-Fiat buy's fee when its lock does not hold its fees (`holds_its_fees`): it keeps its lock for
    what its fills cost and pays the fee from the free balance, at once, as much of it as there is (a fill
    never fails); the fee charged."""
    charged = min(fee, max(ensure_balance(session, row.account_id, row.locked_asset).free, Decimal(0)))
    if charged:
        change_balance(
            session, row.account_id, row.locked_asset, -charged, FlowType.FEE, now_ms, row.order_id
        )
    return charged


def pay_from_locked(
    session: Session, row: OrderRecord, amount: Decimal, now_ms: int, flow: FlowType = FlowType.TRADE
) -> None:
    balance = ensure_balance(session, row.account_id, row.locked_asset)
    if amount > row.locked_left or amount > balance.locked:
        raise AssertionError(
            f"order {row.order_id} pays {amount} but holds {row.locked_left}"
        )  # a bug, not input
    balance.locked -= amount
    row.locked_left -= amount
    total = balance.free + balance.locked
    add_ledger_entry(session, row.account_id, row.locked_asset, flow, -amount, total, now_ms, row.order_id)


def release(session: Session, row: OrderRecord, now_ms: int) -> None:
    if row.locked_left > 0:
        unlock(session, row.account_id, row.locked_asset, row.locked_left, now_ms)
        row.locked_left = Decimal(0)


def unlock(session: Session, account_id: str, asset: str, amount: Decimal, now_ms: int) -> None:
    balance = ensure_balance(session, account_id, asset)
    balance.locked -= amount
    balance.free += amount
    outbox.balances(session, account_id, (asset,), now_ms)


def locks_upfront(order: Order) -> bool:
    """Whether an order locks its funds before it matches: all but a MARKET BUY by quantity and a MARKET
    SELL by amount, whose fills alone tell what they cost."""
    if order.type is not OrderType.MARKET:
        return True
    return order.by_amount if order.side is Side.BUY else not order.by_amount


def upfront_lock(session: Session, order: Order, rules: InstrumentRules) -> tuple[str, Decimal] | None:
    """What an order locks before it matches (None: see `locks_upfront`); a Token-Fiat buy's fee too."""
    if not locks_upfront(order):
        return None
    if order.side is Side.SELL:
        assert order.quantity is not None
        return rules.base_asset, order.quantity
    if order.type is OrderType.MARKET:
        assert order.amount is not None
        return rules.quote_asset, with_fee(session, order, rules, order.amount)
    assert order.price is not None and order.quantity is not None
    return rules.quote_asset, with_fee(session, order, rules, order.price * order.quantity)


def lock_for_fills(
    session: Session, order: Order, fills: Iterable[Fill], rules: InstrumentRules
) -> tuple[str, Decimal]:
    """What a MARKET order's fills use of its funds; a Token-Fiat buy's fees included."""
    if order.side is Side.BUY:
        costs = (with_fee(session, order, rules, f.price * f.qty) for f in fills)
        return rules.quote_asset, sum(costs, Decimal(0))
    return rules.base_asset, sum((f.qty for f in fills), Decimal(0))


def with_fee(session: Session, order: Order, rules: InstrumentRules, cost: Decimal) -> Decimal:
    """A buy's `cost` and, on a Token-Fiat pair, the most fee it can pay on top (as `fill_fee` reckons it)."""
    if not fee_on_top(Side.BUY, rules.fiat_quote):
        return cost
    rate = _highest_rate(order.type, order.time_in_force, fee_rates(session, order.account_id, order.symbol))
    fee = fill_fee(Side.BUY, Decimal(0), cost, rate, rules.base_asset, rules.quote_asset, rules.fiat_quote)
    return cost + fee.amount


def _highest_rate(type_: OrderType, time_in_force: TimeInForce, rates: FeeRates) -> Decimal:
    """The dearest rate an order's fills can pay: a MARKET, IOC or FOK order only takes, a LIMIT_MAKER only
    makes, a GTC LIMIT may do either."""
    if type_ is OrderType.LIMIT_MAKER:
        return rates.maker
    if type_ is OrderType.MARKET or time_in_force is not TimeInForce.GTC:
        return rates.taker
    return max(rates.maker, rates.taker)


def holds_its_fees(session: Session, rules: InstrumentRules, row: OrderRecord, order: Order) -> bool:
    """Whether a Token-Fiat buy's lock holds the fees of what it has yet to fill, as `upfront_lock` makes
    it. One resting since a version that locked no fees does not (nor one whose rates rose since). Asked
    at its first fill in a transaction, before that fill pays anything, while its lock and executed quantity
    still agree."""
    key = ("holds_its_fees", row.order_id)
    cache = transaction_cache(session)
    if key not in cache:
        if row.amount is not None:  # a MARKET buy by amount
            unfilled_cost = row.amount - row.executed_quote
        elif row.price is not None and row.quantity is not None:
            unfilled_cost = row.price * (row.quantity - row.executed_qty)
        else:  # a MARKET buy by quantity: locked exactly for its fills, fees included, once they are known
            return True
        wanted = with_fee(session, order, rules, unfilled_cost)
        cache[key] = row.locked_left >= wanted
    return bool(cache[key])


def require_free(session: Session, account_id: str, asset: str, amount: Decimal) -> None:
    if not has_free(session, account_id, asset, amount):
        raise errors.InsufficientAsset()


def has_free(session: Session, account_id: str, asset: str, amount: Decimal) -> bool:
    balance = balance_for_update(session, account_id, asset)
    return amount <= 0 or (balance is not None and balance.free >= amount)


def move_to_locked(session: Session, account_id: str, asset: str, amount: Decimal, now_ms: int) -> None:
    if amount <= 0:
        return
    balance = ensure_balance(session, account_id, asset)
    balance.free -= amount
    balance.locked += amount
    outbox.balances(session, account_id, (asset,), now_ms)


def fee_rates(session: Session, account_id: str, symbol: str) -> FeeRates:
    """The account's maker and taker rates for `symbol`, looked up once per transaction (every fill asks)."""
    return transaction_cached(
        session, ("fee_rates", account_id, symbol), lambda: _read_fee_rates(session, account_id, symbol)
    )


def _read_fee_rates(session: Session, account_id: str, symbol: str) -> FeeRates:
    definition = statements.run(session, _FEE_TIER, {"account_id": account_id}, flush=False).scalar()
    if definition is None:
        return FeeRates(Decimal(0), Decimal(0))
    return _rates_in_tier(definition, symbol)


_FEE_TIER = statements.prepare(
    select(tables.FeeTier.definition)
    .join(tables.User, tables.User.vip_level == tables.FeeTier.vip_level)
    .join(tables.Account, tables.Account.user_id == tables.User.id)
    .where(tables.Account.id == bindparam("account_id"))
)


@lru_cache(maxsize=256)
def _rates_in_tier(definition: str, symbol: str) -> FeeRates:
    """A tier's rates for `symbol` (its own entry, else the tier's): parsed once, not on every fill."""
    tier = json.loads(definition)
    rates = tier.get("symbols", {}).get(symbol, tier)
    return FeeRates(Decimal(rates["makerFeeRate"]), Decimal(rates["takerFeeRate"]))
