"""Which of our symbols a venue symbol feeds, and how its sizes convert to base units.

Explicit entries come from fixtures/symbol_map.json, then from a user's --symbol-map file (its entries
win). A venue symbol without an entry maps to the name derived from it: upper case, separators removed,
XBT read as BTC -- so btcusdt, BTC-USDT, btc/usdt all land in BTCUSDT. Contracts counted in lots (a
KuCoin futures symbol such as XBTUSDTM) need their lot size, so they map only through an entry; one
without an entry is reported as unmapped rather than guessed.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any

ANY_VENUE = "*"
SEPARATORS = re.compile(r"[-/_ :]")
SYMBOL_NAME = re.compile(r"[A-Z0-9]{2,24}")
# Quote assets a KuCoin futures contract settles in; "XBTUSDTM" is XBT/USDT with the trailing M of a contract.
CONTRACT_QUOTES = ("USDT", "USDC", "USD")


class SymbolMapError(ValueError):
    """A symbol-map file that cannot be read or has an entry of the wrong form."""


@dataclass(frozen=True, slots=True)
class SymbolTarget:
    symbol: str
    lot_size: Decimal = Decimal(1)  # base units per venue size unit


class SymbolMap:
    def __init__(self, entries: dict[str, dict[str, SymbolTarget]] | None = None, forced: str | None = None):
        self.entries = entries or {}
        self.forced = forced.upper() if forced else None
        self._cache: dict[tuple[str, str], SymbolTarget | None] = {}

    @classmethod
    def load(cls, *paths: str | Path | None, forced: str | None = None) -> SymbolMap:
        """The map from JSON files, later files overriding earlier ones; `forced` (--symbol) sends every
        venue symbol to that one symbol, keeping only the lot size of its entry."""
        entries: dict[str, dict[str, SymbolTarget]] = {}
        for path in paths:
            if path is None:
                continue
            for venue, venue_entries in read_map_file(Path(path)).items():
                entries.setdefault(venue, {}).update(venue_entries)
        return cls(entries, forced)

    def resolve(self, venue: str, venue_symbol: str) -> SymbolTarget | None:
        """Our symbol and lot size for `venue_symbol`, or None when it cannot be mapped."""
        key = (venue, venue_symbol)
        if key not in self._cache:
            self._cache[key] = self._resolve(venue, venue_symbol)
        return self._cache[key]

    def _resolve(self, venue: str, venue_symbol: str) -> SymbolTarget | None:
        wanted = venue_symbol.strip().upper()
        target = self.entries.get(venue, {}).get(wanted) or self.entries.get(ANY_VENUE, {}).get(wanted)
        if target is None and not is_contract(venue, venue_symbol):
            derived = derive_symbol(venue_symbol)
            target = SymbolTarget(derived) if derived else None
        if target is not None and self.forced:
            return SymbolTarget(self.forced, target.lot_size)
        if target is None and self.forced and not is_contract(venue, venue_symbol):
            return SymbolTarget(self.forced)
        return target


def derive_symbol(venue_symbol: str) -> str | None:
    """Our name for a venue symbol without a map entry, or None when it does not look like one."""
    name = SEPARATORS.sub("", venue_symbol.strip().upper())
    if name.startswith("XBT"):
        name = "BTC" + name[3:]
    return name if SYMBOL_NAME.fullmatch(name) else None


def is_contract(venue: str, venue_symbol: str) -> bool:
    """KuCoin futures symbols (no separator, a quote asset, then M) count in lots."""
    name = venue_symbol.strip().upper()
    return (
        venue == "kucoin"
        and not SEPARATORS.search(name)
        and name.endswith("M")
        and name[:-1].endswith(CONTRACT_QUOTES)
    )


def read_map_file(path: Path) -> dict[str, dict[str, SymbolTarget]]:
    """{"venue" or "*": {"VENUE SYMBOL": "OURS" | {"symbol": "OURS", "lot_size": "0.001"}}}"""
    try:
        document = json.loads(path.read_text(encoding="utf-8"), parse_float=Decimal)
    except (OSError, ValueError) as e:
        raise SymbolMapError(f"cannot read symbol map {path}: {e}") from e
    if not isinstance(document, dict):
        raise SymbolMapError(f"{path}: a symbol map is an object of venues")
    return {
        venue: {str(k).upper(): _target(path, venue, k, v) for k, v in _venue_entries(path, venue, entries)}
        for venue, entries in document.items()
        if not venue.startswith("_")  # "_comment" keys document the file
    }


def _venue_entries(path: Path, venue: str, entries: Any) -> list[tuple[str, Any]]:
    if not isinstance(entries, dict):
        raise SymbolMapError(f"{path}: {venue!r} is not an object of symbols")
    return list(entries.items())


def _target(path: Path, venue: str, venue_symbol: str, value: Any) -> SymbolTarget:
    where = f"{path}: {venue}.{venue_symbol}"
    if isinstance(value, str):
        value = {"symbol": value}
    if not isinstance(value, dict) or not isinstance(value.get("symbol"), str):
        raise SymbolMapError(f'{where}: expected a symbol or {{"symbol", "lot_size"}}')
    symbol = value["symbol"].upper()
    if not SYMBOL_NAME.fullmatch(symbol):
        raise SymbolMapError(f"{where}: {value['symbol']!r} is not a symbol name")
    try:
        lot_size = Decimal(str(value.get("lot_size", 1)))
    except InvalidOperation:
        lot_size = Decimal(-1)
    if not lot_size.is_finite() or lot_size <= 0:
        raise SymbolMapError(f"{where}: lot_size {value.get('lot_size')!r} is not a positive number")
    return SymbolTarget(symbol, lot_size)
