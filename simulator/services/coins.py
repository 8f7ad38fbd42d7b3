"""Coins and their chains as the fixtures define them (the `coins` table's `definition` is the fixture
object of fixtures/coins.json): GET /api/v1/account/chainType, GET /api/v1/coinInfo, and the coin check of
the wallet endpoints."""

from __future__ import annotations

import json
from decimal import Decimal
from functools import lru_cache
from typing import Any

from sqlalchemy.orm import Session

from simulator import errors
from simulator.storage import tables


def coin_row(session: Session, coin_id: str) -> tables.Coin:
    """The coin, or -4001 Invalid asset for one the venue does not list (ids are matched exactly)."""
    row = session.get(tables.Coin, coin_id)
    if row is None:
        raise errors.InvalidAsset()
    return row


def coin_definition(session: Session, coin_id: str) -> dict[str, Any]:
    """The coin's fixture object (decimals stay strings; a stray JSON float becomes a Decimal). Parsed once
    per definition text and shared: callers read it, never change it."""
    return _parsed(coin_row(session, coin_id).definition)


@lru_cache(maxsize=64)
def _parsed(definition: str) -> dict[str, Any]:
    return json.loads(definition, parse_float=Decimal)


# The tokenType of a fiat currency (USD, HKD, AED): REAL_MONEY, what ccxt reads as fiat (the document shows
# only CHAIN_TOKEN and ERC20_TOKEN); FIAT in databases seeded before 2026-12-05, which keep their coins.
FIAT_TOKEN_TYPES = ("REAL_MONEY", "FIAT")


def is_fiat(definition: dict[str, Any]) -> bool:
    return definition.get("tokenType") in FIAT_TOKEN_TYPES


def chain_types(definition: dict[str, Any]) -> list[str]:
    """The chains a coin moves on, in the fixture's order; fiat coins have none."""
    return [chain["chainType"] for chain in definition.get("chainTypes", [])]
