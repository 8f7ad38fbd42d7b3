"""Instruments as matching and the endpoints read them: the rules matching needs of an instrument's
definition (the exchangeInfo symbol object), parsed once per definition. Instrument rows are written once,
when the database is seeded."""

from __future__ import annotations

import json
from dataclasses import dataclass
from decimal import Decimal
from functools import lru_cache
from typing import Any

from sqlalchemy import bindparam, select
from sqlalchemy.orm import Session

from simulator import errors
from simulator.services import coins
from simulator.storage import statements, tables


@dataclass(frozen=True)
class InstrumentRules:
    """What matching needs of an instrument's definition (the exchangeInfo symbol object)."""

    symbol: str
    base_asset: str
    quote_asset: str
    tick_size: Decimal
    step_size: Decimal
    base_precision: Decimal
    quote_precision: Decimal
    buy_up_rate: Decimal | None
    sell_down_rate: Decimal | None
    fiat_quote: bool  # a Token-Fiat pair: both sides pay their fee in the quote (domain.matching.fees)


@lru_cache(maxsize=1024)
def _rules_of(
    symbol: str, base_asset: str, quote_asset: str, definition_text: str, quote_definition: str | None
) -> InstrumentRules:
    """Parsed once per definition, not on every order (keyed by its text, so a changed one is new)."""
    definition = json.loads(definition_text)
    quote_coin = json.loads(quote_definition) if quote_definition else {}
    filters = {f["filterType"]: f for f in definition.get("filters", [])}
    market = filters.get("MARKET_TRADING", {})
    return InstrumentRules(
        symbol=symbol,
        base_asset=base_asset,
        quote_asset=quote_asset,
        tick_size=Decimal(filters["PRICE_FILTER"]["tickSize"]),
        step_size=Decimal(filters["LOT_SIZE"]["stepSize"]),
        base_precision=Decimal(definition["baseAssetPrecision"]),
        quote_precision=Decimal(definition["quotePrecision"]),
        buy_up_rate=_optional_rate(market.get("buyPriceUpRate")),
        sell_down_rate=_optional_rate(market.get("sellPriceDownRate")),
        fiat_quote=coins.is_fiat(quote_coin),
    )


def instrument_rules(session: Session, symbol: str) -> InstrumentRules:
    row = instrument_row(session, symbol)
    return _rules_of(row.symbol, row.base_asset, row.quote_asset, row.definition, row.quote_definition)


def instrument_row(session: Session, symbol: str) -> Any:
    """The instrument's columns; raises InstrumentNotFound. Instruments are written once, when the database
    is seeded, so a row read is kept for as long as the process has the database open."""
    row = statements.read_once(
        session,
        "instruments",
        symbol,
        lambda: statements.run(session, _INSTRUMENT, {"symbol": symbol}, flush=False).first(),
    )
    if row is None:
        raise errors.InstrumentNotFound()
    return row


_instrument = tables.Instrument.__table__.c
_coin = tables.Coin.__table__.c
_INSTRUMENT = statements.prepare(
    select(
        _instrument.symbol,
        _instrument.base_asset,
        _instrument.quote_asset,
        _instrument.definition,
        _coin.definition.label("quote_definition"),
    )
    .select_from(
        tables.Instrument.__table__.outerjoin(tables.Coin.__table__, _coin.coin_id == _instrument.quote_asset)
    )
    .where(_instrument.symbol == bindparam("symbol"))
)


def _optional_rate(text: str | None) -> Decimal | None:
    if text is None:
        return None
    rate = Decimal(text)
    return rate if rate > 0 else None
