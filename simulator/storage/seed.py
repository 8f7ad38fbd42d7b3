"""Create and seed a new database from fixtures/: coins and chains, instruments, fee tiers.

Whichever command opens a database first (serve, accounts ..., data ...) seeds it, once: the check and the
inserts run in one write transaction, so two processes starting together cannot both seed.
"""

from __future__ import annotations

import json
from decimal import Decimal
from pathlib import Path
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from simulator.domain.money import parse_decimal
from simulator.storage.db import Database
from simulator.storage.ids import SEQUENCE
from simulator.storage.tables import Coin, FeeTier, Instrument, SimClock, SimMeta, SimSequence

SCHEMA_VERSION = "1"
FIXTURE_FILES = ("coins.json", "instruments.json", "fee_tiers.json")
NOT_A_RATE = "is not a rate from 0 up to 1"


class FixturesError(RuntimeError):
    """The fixtures folder is missing a file or holds something that is not a fixture."""


def ensure_seeded(database: Database, fixtures_dir: str | Path, now_ms: int) -> bool:
    """Seed the database unless it already is; answers whether this call seeded it."""
    fixtures = load_fixtures(Path(fixtures_dir))
    with database.read() as session:  # no write lock to find it seeded (each serve worker asks)
        if session.get(SimMeta, "seeded_ms") is not None:
            _check_stored_fee_tiers(session)
            return False
    with database.write() as session:
        if session.get(SimMeta, "seeded_ms") is not None:
            return False
        _seed(session, fixtures, now_ms)
        return True


def load_fixtures(folder: Path) -> dict[str, Any]:
    loaded = {}
    for name in FIXTURE_FILES:
        path = folder / name
        try:
            loaded[name] = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError) as e:
            raise FixturesError(f"cannot read fixture {path}: {e}") from e
    _check_fee_tiers(loaded["fee_tiers.json"], "fixture fee_tiers.json")
    return loaded


def _check_stored_fee_tiers(session: Session) -> None:
    """The tiers a database was seeded with, checked as the fixtures are: fills and vipInfo read these, and
    a database seeded before the check (or from another fixtures folder) may hold a rate it refuses."""
    stored = session.scalars(select(FeeTier.definition).order_by(FeeTier.vip_level))
    _check_fee_tiers({"tiers": [json.loads(definition) for definition in stored]}, "the database's fee tiers")


def _check_fee_tiers(fee_tiers: Any, source: str) -> None:
    """Every tier has a whole-number vipLevel, and each of its rates and its symbols' rates is a decimal from
    0 up to (not including) 1: a fee is a share of what a fill trades, and the simulator pays no rebates
    (`makerRebate` is "0"). Found at start-up rather than as a failing seed or fill."""
    tiers = fee_tiers.get("tiers") if isinstance(fee_tiers, dict) else None
    if not isinstance(tiers, list) or not all(isinstance(tier, dict) for tier in tiers):
        raise FixturesError(f"{source}: no list of tiers")
    for tier in tiers:
        level = tier.get("vipLevel")
        if type(level) is not int or level < 0:  # a bool is no level either
            raise FixturesError(f"{source}: a tier's vipLevel {level!r} is not a whole number")
        for place, rates in _rate_entries(tier, source):
            for name in ("makerFeeRate", "takerFeeRate"):
                text = rates.get(name) if isinstance(rates, dict) else None
                rate = parse_decimal(text)
                if rate is None or not 0 <= rate < 1:
                    raise FixturesError(f"{source}: {place}: {name} {text!r} {NOT_A_RATE}")


def _rate_entries(tier: dict[str, Any], source: str) -> list[tuple[str, Any]]:
    """Where a tier names rates: the tier itself (every symbol without its own entry) and each symbol."""
    place = f"tier {tier.get('vipLevel')}"
    symbols = tier.get("symbols", {})
    if not isinstance(symbols, dict):
        raise FixturesError(f"{source}: {place}: symbols is not an object")
    return [(place, tier), *((f"{place} symbol {symbol}", rates) for symbol, rates in symbols.items())]


def _seed(session: Session, fixtures: dict[str, Any], now_ms: int) -> None:
    for coin in fixtures["coins.json"]:
        session.add(Coin(coin_id=coin["coinId"], coin_name=coin["coinName"], definition=json.dumps(coin)))
    session.flush()
    for symbol in fixtures["instruments.json"]:
        session.add(
            Instrument(
                symbol=symbol["symbol"],
                base_asset=symbol["baseAsset"],
                quote_asset=symbol["quoteAsset"],
                status=symbol["status"],
                definition=json.dumps(symbol),
            )
        )
    for tier in fixtures["fee_tiers.json"]["tiers"]:
        session.add(FeeTier(vip_level=tier["vipLevel"], definition=json.dumps(tier)))
    if session.get(SimSequence, SEQUENCE) is None:
        session.add(SimSequence(name=SEQUENCE, value=0))
    if session.get(SimClock, 1) is None:
        session.add(
            SimClock(id=1, mode="live", market_anchor_ms=now_ms, transport_anchor_ms=now_ms, speed=Decimal(1))
        )
    session.add(SimMeta(key="schema_version", value=SCHEMA_VERSION))
    session.add(SimMeta(key="seeded_ms", value=str(now_ms)))
