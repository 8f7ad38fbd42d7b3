#!/usr/bin/env python3
"""Generate the simulator's static reference data: fixtures/instruments.json, coins.json, fee_tiers.json.

The definitions live in this file as Python data; the JSON files in fixtures/ are its output and are
checked by tests/test_fixtures.py to be byte-identical to what this script writes.  Standard library
only; nothing is read at run time.

    python scripts/generate_fixtures.py [--out DIR]      # DIR defaults to <repo>/fixtures

Where the values come from
--------------------------
* Shapes follow the HashKey spot REST contract (docs "Get Exchange Information" /api/v1/exchangeInfo,
  "Get Coin Information" /api/v1/coinInfo, "Get ChainType", "Get VIP Information", "Get Deposit
  Address").  Field names, field order and value types (decimal strings, booleans, the integer
  ``maxEntrustNum`` and coin ``status``) are those of the document.
* BTCUSDT and ETHUSDT symbol objects are copied from real HashKey exchangeInfo responses recorded by
  ccxt (its hashkey static-response test fixtures and source-code comment examples, July 2024), with
  three deliberate changes: OPEN_QUOTE times are "0" (the real objects carried a past 5-minute
  no-market-order window, 1710485700000..1710486000000); ``maxEntrustNum`` 300 is added to
  LIMIT_TRADING; and baseUcid/quoteUcid/tradeStatus/site are added.  The last two groups are fields of
  the current document that the 2024 responses did not have yet.
* USDTAED is the document's own exchangeInfo example, verbatim (site "UAE").
* BTCUSD uses the example values of the document's exchangeInfo field table where they are coherent
  (tickSize 0.01, stepSize 0.00001, minQty 0.0003, maxQty 4, minNotional 10, minAmount 10,
  maxAmount 100000, marketOrderMaxAmount 200000, price-band rates 0.2); the table's
  marketOrderMinQty 1 / marketOrderMaxQty 10000 contradict maxQty 4 and became 0.0003 / 2.
* All other symbols are simulator choices modelled on the real ones: tick/step sizes like the
  corresponding Binance/HashKey books, maxQty ~= maxAmount / typical price, market-order maxima at
  half the limit maxima, min notional 1 USDT (10 for USD pairs, as in the doc table).
* baseUcid/quoteUcid are CoinMarketCap ids (the document's USDT example is "825"); "" for fiat and for
  coins whose id is not known here, as the document's AED example.
* Coins: BTC (chain "Bitcoin", withdrawFee "0", minWithdrawQuantity "0.002", maxWithdrawQuantity "0",
  minDepositQuantity "0.0005", tokenType CHAIN_TOKEN) is the real ccxt coin object.  USDT on "ETH" and
  "Tron" is the document's chainType example; its minDepositQuantity "1", the 64 ETH-chain
  confirmations, tokenType ERC20_TOKEN (real deposit-address responses) and the Tron withdrawFee "1"
  (a real withdrawal record) are real.  Chain names follow HashKey ids seen by ccxt ("ETH", "Tron",
  "Solana", "Bitcoin").  Other fees/minimums are simulator choices.  ``status`` 1 is in the document's
  exchangeInfo coins table.
* Simulator-only chain fields (not in the HashKey API, never to be copied into a response):
  ``addressFormat`` (evm, tron, bitcoin-bech32, solana, xrp, cardano, fiat -- a hint for generating
  deposit addresses), ``depositConfirmations`` and ``withdrawConfirmations`` (what the deposit-address
  endpoint reports as requiredConfirmTimes / canWithdrawConfirmTimes), ``blockTimeMs`` (the chain's
  block interval: a deposit is credited depositConfirmations blocks after it is seen) and
  ``dailyWithdrawLimit`` (coin quantity a custody account may withdraw on the chain per UTC day of
  market time: 100,000 minimum withdrawals).
* Fiat coins USD, HKD and AED have no chains (``chainTypes`` is empty): fiat moves through the fiat
  account endpoints, never through deposit addresses.  Their tokenType is "REAL_MONEY", the value ccxt's
  hashkey class reads as fiat (written against the live venue); the document only shows CHAIN_TOKEN and
  ERC20_TOKEN.
* HSK (HashKey Platform Token) is mentioned by the document (HSK fee deduction, HSKUSDT/HSKUSDC in
  the vipInfo example); it is a coin here (ERC-20 on Ethereum) without a spot symbol.
* Fee tiers: the spot maker/taker schedule VIP0..VIP7 with 30-day-volume thresholds (USD) is the one
  ccxt ships for hashkey (fees.trading.spot.tiers).  VIP0 0.0012/0.0012 also matches real data (ccxt
  vipInfo example, and real ETHUSDT fills charged 0.12%).  Token-Fiat symbols pay 0.0003 more at every
  tier: the document's vipInfo example shows every Token-Fiat symbol at 0.0015 for VIP0; the extra at
  higher tiers is a simulator choice.  productType and the four fee currencies per symbol follow the
  vipInfo example: Token-Token charges buys in the base asset and sells in the quote asset, Token-Fiat
  charges both sides in the fiat quote asset.
"""

from __future__ import annotations

import argparse
import json
import sys
from decimal import Decimal
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parent.parent
DEFAULT_OUT = REPO_ROOT / "fixtures"

FIAT_ASSETS = ("USD", "HKD", "AED")
FIAT_TOKEN_TYPE = "REAL_MONEY"

# CoinMarketCap ids ("Ucid" in exchangeInfo); "" where none applies or is not known.
UCID = {
    "BTC": "1",
    "ETH": "1027",
    "USDT": "825",
    "USDC": "3408",
    "XRP": "52",
    "SOL": "5426",
    "ADA": "2010",
    "HSK": "",
    "USD": "",
    "HKD": "",
    "AED": "",
}

DEFAULT_MAX_PRICE = "100000.00000000"

# --------------------------------------------------------------------------------------------------
# Spot symbols.  One dict per symbol; ``build_symbol`` lays them out in the document's field order.
# Keys: base, quote, basePrecision, quotePrecision, tickSize, minPrice, maxPrice, minQty, maxQty,
# stepSize, marketMinQty, marketMaxQty, minNotional, minAmount, maxAmount, marketMinAmount,
# marketMaxAmount, limitUp, limitDown, marketUp, marketDown, maxEntrustNum, site.
# --------------------------------------------------------------------------------------------------

_USDT_AMOUNTS = {  # real BTCUSDT / ETHUSDT TRADE_AMOUNT and MIN_NOTIONAL values
    "minNotional": "1",
    "minAmount": "1",
    "maxAmount": "400000",
    "marketMinAmount": "1",
    "marketMaxAmount": "200000",
}

_BANDS_01 = {"limitUp": "0.1", "limitDown": "0.1", "marketUp": "0.1", "marketDown": "0.1"}

SYMBOL_SPECS: list[dict] = [
    # Real (ccxt, HashKey exchangeInfo, 2024-07): every value below.
    {
        "base": "BTC",
        "quote": "USDT",
        "basePrecision": "0.00001",
        "quotePrecision": "0.0000001",
        "tickSize": "0.01",
        "minPrice": "0.01",
        "maxPrice": DEFAULT_MAX_PRICE,
        "minQty": "0.00001",
        "maxQty": "8",
        "stepSize": "0.00001",
        "marketMinQty": "0.00001",
        "marketMaxQty": "4",
        **_USDT_AMOUNTS,
        **_BANDS_01,
    },
    # Real (ccxt static response for fetchMarkets ETHUSDT, 2024-07): every value below.
    {
        "base": "ETH",
        "quote": "USDT",
        "basePrecision": "0.0001",
        "quotePrecision": "0.000001",
        "tickSize": "0.01",
        "minPrice": "0.01",
        "maxPrice": DEFAULT_MAX_PRICE,
        "minQty": "0.0001",
        "maxQty": "140",
        "stepSize": "0.0001",
        "marketMinQty": "0.0001",
        "marketMaxQty": "70",
        **_USDT_AMOUNTS,
        **_BANDS_01,
    },
    # Simulator choices modelled on the real USDT pairs.
    {
        "base": "XRP",
        "quote": "USDT",
        "basePrecision": "0.01",
        "quotePrecision": "0.000001",
        "tickSize": "0.0001",
        "minPrice": "0.0001",
        "maxPrice": DEFAULT_MAX_PRICE,
        "minQty": "0.01",
        "maxQty": "700000",
        "stepSize": "0.01",
        "marketMinQty": "0.01",
        "marketMaxQty": "350000",
        **_USDT_AMOUNTS,
        **_BANDS_01,
    },
    {
        "base": "SOL",
        "quote": "USDT",
        "basePrecision": "0.001",
        "quotePrecision": "0.00001",
        "tickSize": "0.01",
        "minPrice": "0.01",
        "maxPrice": DEFAULT_MAX_PRICE,
        "minQty": "0.001",
        "maxQty": "2700",
        "stepSize": "0.001",
        "marketMinQty": "0.001",
        "marketMaxQty": "1350",
        **_USDT_AMOUNTS,
        **_BANDS_01,
    },
    {
        "base": "ADA",
        "quote": "USDT",
        "basePrecision": "0.1",
        "quotePrecision": "0.000001",
        "tickSize": "0.0001",
        "minPrice": "0.0001",
        "maxPrice": DEFAULT_MAX_PRICE,
        "minQty": "0.1",
        "maxQty": "1000000",
        "stepSize": "0.1",
        "marketMinQty": "0.1",
        "marketMaxQty": "500000",
        **_USDT_AMOUNTS,
        **_BANDS_01,
    },
    # Crypto-quoted pair: amounts in BTC (~1 USD min, ~400000 USD max at 2024 prices).
    {
        "base": "ETH",
        "quote": "BTC",
        "basePrecision": "0.0001",
        "quotePrecision": "0.00000001",
        "tickSize": "0.00001",
        "minPrice": "0.00001",
        "maxPrice": DEFAULT_MAX_PRICE,
        "minQty": "0.0001",
        "maxQty": "140",
        "stepSize": "0.0001",
        "marketMinQty": "0.0001",
        "marketMaxQty": "70",
        "minNotional": "0.00002",
        "minAmount": "0.00002",
        "maxAmount": "6",
        "marketMinAmount": "0.00002",
        "marketMaxAmount": "3",
        **_BANDS_01,
    },
    # The document's exchangeInfo field-table example values (see module docstring).
    {
        "base": "BTC",
        "quote": "USD",
        "basePrecision": "0.00001",
        "quotePrecision": "0.00000001",
        "tickSize": "0.01",
        "minPrice": "0.01",
        "maxPrice": DEFAULT_MAX_PRICE,
        "minQty": "0.0003",
        "maxQty": "4",
        "stepSize": "0.00001",
        "marketMinQty": "0.0003",
        "marketMaxQty": "2",
        "minNotional": "10",
        "minAmount": "10",
        "maxAmount": "100000",
        "marketMinAmount": "10",
        "marketMaxAmount": "200000",
        "limitUp": "0.2",
        "limitDown": "0.2",
        "marketUp": "0.2",
        "marketDown": "0.2",
    },
    {
        "base": "ETH",
        "quote": "USD",
        "basePrecision": "0.0001",
        "quotePrecision": "0.00000001",
        "tickSize": "0.01",
        "minPrice": "0.01",
        "maxPrice": DEFAULT_MAX_PRICE,
        "minQty": "0.0001",
        "maxQty": "70",
        "stepSize": "0.0001",
        "marketMinQty": "0.0001",
        "marketMaxQty": "35",
        "minNotional": "10",
        "minAmount": "10",
        "maxAmount": "200000",
        "marketMinAmount": "10",
        "marketMaxAmount": "100000",
        **_BANDS_01,
    },
    # Stablecoin pairs, modelled on the document's USDTAED example.
    {
        "base": "USDT",
        "quote": "USD",
        "basePrecision": "0.01",
        "quotePrecision": "0.00001",
        "tickSize": "0.0001",
        "minPrice": "0.0001",
        "maxPrice": DEFAULT_MAX_PRICE,
        "minQty": "1",
        "maxQty": "200000",
        "stepSize": "0.01",
        "marketMinQty": "1",
        "marketMaxQty": "100000",
        "minNotional": "1",
        "minAmount": "1",
        "maxAmount": "200000",
        "marketMinAmount": "1",
        "marketMaxAmount": "100000",
        **_BANDS_01,
    },
    {
        "base": "USDC",
        "quote": "USD",
        "basePrecision": "0.01",
        "quotePrecision": "0.00001",
        "tickSize": "0.0001",
        "minPrice": "0.0001",
        "maxPrice": DEFAULT_MAX_PRICE,
        "minQty": "1",
        "maxQty": "200000",
        "stepSize": "0.01",
        "marketMinQty": "1",
        "marketMaxQty": "100000",
        "minNotional": "1",
        "minAmount": "1",
        "maxAmount": "200000",
        "marketMinAmount": "1",
        "marketMaxAmount": "100000",
        **_BANDS_01,
    },
    {
        "base": "USDT",
        "quote": "USDC",
        "basePrecision": "0.01",
        "quotePrecision": "0.00001",
        "tickSize": "0.0001",
        "minPrice": "0.0001",
        "maxPrice": DEFAULT_MAX_PRICE,
        "minQty": "1",
        "maxQty": "200000",
        "stepSize": "0.01",
        "marketMinQty": "1",
        "marketMaxQty": "100000",
        "minNotional": "1",
        "minAmount": "1",
        "maxAmount": "200000",
        "marketMinAmount": "1",
        "marketMaxAmount": "100000",
        **_BANDS_01,
    },
    # HKD pair: BTC trades well above 100000 HKD, so maxPrice is raised; amounts ~ USD values x 8.
    {
        "base": "BTC",
        "quote": "HKD",
        "basePrecision": "0.00001",
        "quotePrecision": "0.0000001",
        "tickSize": "0.01",
        "minPrice": "0.01",
        "maxPrice": "10000000.00000000",
        "minQty": "0.0003",
        "maxQty": "4",
        "stepSize": "0.00001",
        "marketMinQty": "0.0003",
        "marketMaxQty": "2",
        "minNotional": "80",
        "minAmount": "80",
        "maxAmount": "800000",
        "marketMinAmount": "80",
        "marketMaxAmount": "400000",
        **_BANDS_01,
    },
    # The document's exchangeInfo response example, verbatim.
    {
        "base": "USDT",
        "quote": "AED",
        "basePrecision": "0.01",
        "quotePrecision": "0.00001",
        "tickSize": "0.001",
        "minPrice": "0.001",
        "maxPrice": DEFAULT_MAX_PRICE,
        "minQty": "0.3",
        "maxQty": "200000",
        "stepSize": "0.01",
        "marketMinQty": "0.3",
        "marketMaxQty": "100000",
        "minNotional": "1",
        "minAmount": "1",
        "maxAmount": "733320",
        "marketMinAmount": "1",
        "marketMaxAmount": "366660",
        **_BANDS_01,
        "site": "UAE",
    },
]


def build_symbol(spec: dict) -> dict:
    """One exchangeInfo ``symbols[]`` entry, fields in the document's order."""
    base, quote = spec["base"], spec["quote"]
    name = base + quote
    return {
        "symbol": name,
        "symbolName": name,
        "status": "TRADING",
        "baseAsset": base,
        "baseAssetName": base,
        "baseAssetPrecision": spec["basePrecision"],
        "baseUcid": UCID[base],
        "quoteAsset": quote,
        "quoteAssetName": quote,
        "quotePrecision": spec["quotePrecision"],
        "quoteUcid": UCID[quote],
        "retailAllowed": True,
        "piAllowed": True,
        "corporateAllowed": True,
        "omnibusAllowed": True,
        "icebergAllowed": False,
        "isAggregate": False,
        "allowMargin": False,
        "filters": [
            {
                "minPrice": spec["minPrice"],
                "maxPrice": spec["maxPrice"],
                "tickSize": spec["tickSize"],
                "filterType": "PRICE_FILTER",
            },
            {
                "minQty": spec["minQty"],
                "maxQty": spec["maxQty"],
                "stepSize": spec["stepSize"],
                "marketOrderMinQty": spec["marketMinQty"],
                "marketOrderMaxQty": spec["marketMaxQty"],
                "filterType": "LOT_SIZE",
            },
            {
                "minNotional": spec["minNotional"],
                "filterType": "MIN_NOTIONAL",
            },
            {
                "minAmount": spec["minAmount"],
                "maxAmount": spec["maxAmount"],
                "minBuyPrice": "0",
                "marketOrderMinAmount": spec["marketMinAmount"],
                "marketOrderMaxAmount": spec["marketMaxAmount"],
                "filterType": "TRADE_AMOUNT",
            },
            {
                "maxSellPrice": "0",
                "buyPriceUpRate": spec["limitUp"],
                "sellPriceDownRate": spec["limitDown"],
                "maxEntrustNum": spec.get("maxEntrustNum", 300),
                "filterType": "LIMIT_TRADING",
            },
            {
                "buyPriceUpRate": spec["marketUp"],
                "sellPriceDownRate": spec["marketDown"],
                "filterType": "MARKET_TRADING",
            },
            {
                "noAllowMarketStartTime": "0",
                "noAllowMarketEndTime": "0",
                "limitOrderStartTime": "0",
                "limitOrderEndTime": "0",
                "limitMinPrice": "0",
                "limitMaxPrice": "0",
                "filterType": "OPEN_QUOTE",
            },
        ],
        "tradeStatus": "TRADABLE",
        "site": spec.get("site", "BMU"),
    }


def build_instruments() -> list[dict]:
    return [build_symbol(spec) for spec in SYMBOL_SPECS]


# --------------------------------------------------------------------------------------------------
# Coins
# --------------------------------------------------------------------------------------------------


def _chain(
    chain_type: str,
    withdraw_fee: str,
    min_withdraw: str,
    min_deposit: str,
    address_format: str,
    confirmations: int,
    max_withdraw: str = "0",
) -> dict:
    return {
        "chainType": chain_type,
        "withdrawFee": withdraw_fee,
        "minWithdrawQuantity": min_withdraw,
        "maxWithdrawQuantity": max_withdraw,  # "0" = no maximum, as in the real BTC object
        "minDepositQuantity": min_deposit,
        "allowDeposit": True,
        "allowWithdraw": True,
        # simulator-only fields below
        "addressFormat": address_format,
        "depositConfirmations": confirmations,
        "withdrawConfirmations": confirmations,
        "blockTimeMs": BLOCK_TIME_MS[address_format],
        "dailyWithdrawLimit": _plain(Decimal(min_withdraw) * DAILY_LIMIT_MINIMUMS),
    }


# Typical block intervals (Bitcoin 10 min, Ethereum 12 s, Tron 3 s, XRP ledger ~4 s, Solana slots 400 ms,
# Cardano 20 s): with the confirmations above a deposit takes minutes of market time, not hours.
BLOCK_TIME_MS = {
    "bitcoin-bech32": 600_000,
    "evm": 12_000,
    "tron": 3_000,
    "xrp": 4_000,
    "solana": 400,
    "cardano": 20_000,
}
DAILY_LIMIT_MINIMUMS = 100_000


def _plain(value: Decimal) -> str:
    """A decimal as plain text without trailing zeros ("200", not "2E+2")."""
    text = format(value, "f")
    return text.rstrip("0").rstrip(".") if "." in text else text


def _coin(coin_id: str, full_name: str, token_type: str, chains: list[dict]) -> dict:
    return {
        "orgId": "9001",
        "coinId": coin_id,
        "coinName": coin_id,
        "coinFullName": full_name,
        "allowWithdraw": True,
        "allowDeposit": True,
        "tokenType": token_type,
        "status": 1,
        "chainTypes": chains,
    }


def build_coins() -> list[dict]:
    return [
        # Real chain values (ccxt coins example); 2 confirmations is a simulator choice.
        _coin(
            "BTC",
            "Bitcoin",
            "CHAIN_TOKEN",
            [
                _chain("Bitcoin", "0", "0.002", "0.0005", "bitcoin-bech32", 2),
            ],
        ),
        _coin(
            "ETH",
            "Ethereum",
            "CHAIN_TOKEN",
            [
                _chain("ETH", "0.0015", "0.01", "0.001", "evm", 64),
            ],
        ),
        _coin(
            "USDT",
            "Tether USD",
            "ERC20_TOKEN",
            [
                _chain("ETH", "3", "10", "1", "evm", 64),
                _chain("Tron", "1", "2", "1", "tron", 20),
            ],
        ),
        _coin(
            "USDC",
            "USD Coin",
            "ERC20_TOKEN",
            [
                _chain("ETH", "3", "10", "1", "evm", 64),
            ],
        ),
        _coin(
            "XRP",
            "XRP",
            "CHAIN_TOKEN",
            [
                _chain("XRP", "0.2", "10", "1", "xrp", 1),
            ],
        ),
        _coin(
            "SOL",
            "Solana",
            "CHAIN_TOKEN",
            [
                _chain("Solana", "0.01", "0.1", "0.01", "solana", 32),
            ],
        ),
        _coin(
            "ADA",
            "Cardano",
            "CHAIN_TOKEN",
            [
                _chain("Cardano", "1", "10", "1", "cardano", 15),
            ],
        ),
        _coin(
            "HSK",
            "HashKey Platform Token",
            "ERC20_TOKEN",
            [
                _chain("ETH", "5", "10", "1", "evm", 64),
            ],
        ),
        _coin("USD", "US Dollar", FIAT_TOKEN_TYPE, []),
        _coin("HKD", "Hong Kong Dollar", FIAT_TOKEN_TYPE, []),
        _coin("AED", "UAE Dirham", FIAT_TOKEN_TYPE, []),
    ]


# --------------------------------------------------------------------------------------------------
# Fee tiers (spot)
# --------------------------------------------------------------------------------------------------

# (vipLevel, minimum 30-day trading volume in USD, maker, taker) -- ccxt hashkey fees.trading.spot.tiers
SPOT_TIERS: list[tuple[int, str, str, str]] = [
    (0, "0", "0.0012", "0.0012"),
    (1, "1000000", "0.0008", "0.0009"),
    (2, "5000000", "0.0007", "0.00085"),
    (3, "10000000", "0.0006", "0.00075"),
    (4, "50000000", "0.0004", "0.00065"),
    (5, "200000000", "0.0003", "0.00045"),
    (6, "400000000", "0.0001", "0.0004"),
    (7, "800000000", "0", "0.00035"),
]

# Added to both rates for Token-Fiat symbols (VIP0 Token-Fiat = 0.0015 as in the document's example).
TOKEN_FIAT_SURCHARGE = Decimal("0.0003")


def _add_surcharge(rate: str) -> str:
    """rate + TOKEN_FIAT_SURCHARGE as a plain decimal string (no exponent, no trailing zeros)."""
    text = format(Decimal(rate) + TOKEN_FIAT_SURCHARGE, "f")
    if "." in text:
        text = text.rstrip("0").rstrip(".")
    return text


def product_type(quote: str) -> str:
    return "Token-Fiat" if quote in FIAT_ASSETS else "Token-Token"


def build_products() -> dict[str, dict]:
    products: dict[str, dict] = {}
    for spec in SYMBOL_SPECS:
        base, quote = spec["base"], spec["quote"]
        ptype = product_type(quote)
        buy_currency = quote if ptype == "Token-Fiat" else base
        products[base + quote] = {
            "productType": ptype,
            "buyMakerFeeCurrency": buy_currency,
            "buyTakerFeeCurrency": buy_currency,
            "sellMakerFeeCurrency": quote,
            "sellTakerFeeCurrency": quote,
        }
    return products


def build_fee_tiers() -> dict:
    products = build_products()
    tiers = []
    for level, min_volume, maker, taker in SPOT_TIERS:
        symbols = {}
        for name, product in products.items():
            if product["productType"] == "Token-Fiat":
                symbols[name] = {"makerFeeRate": _add_surcharge(maker), "takerFeeRate": _add_surcharge(taker)}
            else:
                symbols[name] = {"makerFeeRate": maker, "takerFeeRate": taker}
        tiers.append(
            {
                "vipLevel": level,
                "minTradeVol30Day": min_volume,
                "makerFeeRate": maker,
                "takerFeeRate": taker,
                "symbols": symbols,
            }
        )
    return {"defaultTier": 0, "tiers": tiers, "products": products}


# --------------------------------------------------------------------------------------------------
# Output
# --------------------------------------------------------------------------------------------------

OUTPUT_FILES = ("instruments.json", "coins.json", "fee_tiers.json", "symbol_map.json")


# KuCoin futures contracts count in lots; these are the venue's contract multipliers (base units per lot).
KUCOIN_CONTRACTS = {
    "XBTUSDTM": ("BTCUSDT", "0.001"),
    "XBTUSDCM": ("BTCUSDC", "0.001"),
    "ETHUSDTM": ("ETHUSDT", "0.01"),
    "ETHUSDCM": ("ETHUSDC", "0.01"),
    "SOLUSDTM": ("SOLUSDT", "0.1"),
    "XRPUSDTM": ("XRPUSDT", "10"),
    "ADAUSDTM": ("ADAUSDT", "10"),
    "DOGEUSDTM": ("DOGEUSDT", "100"),
}


def build_symbol_map() -> dict:
    """Explicit venue-symbol entries; everything else maps by name (see simulator/marketdata/symbols.py)."""
    return {
        "_comment": "venue -> {venue symbol: our symbol | {symbol, lot_size}}; '*' applies to every venue",
        "kucoin": {
            venue_symbol: {"symbol": ours, "lot_size": lot}
            for venue_symbol, (ours, lot) in KUCOIN_CONTRACTS.items()
        },
        "mudrex": {},
        "tickdb": {},
        "*": {},
    }


def render(data: object) -> str:
    return json.dumps(data, indent=2, sort_keys=False, ensure_ascii=False) + "\n"


def build_all() -> dict[str, object]:
    return {
        "instruments.json": build_instruments(),
        "coins.json": build_coins(),
        "fee_tiers.json": build_fee_tiers(),
        "symbol_map.json": build_symbol_map(),
    }


def write_fixtures(out_dir: Path) -> list[Path]:
    out_dir.mkdir(parents=True, exist_ok=True)
    written = []
    for name, data in build_all().items():
        path = out_dir / name
        path.write_bytes(render(data).encode("utf-8"))
        written.append(path)
    return written


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--out", type=Path, default=DEFAULT_OUT, help=f"output folder (default {DEFAULT_OUT})"
    )
    args = parser.parse_args(argv)
    for path in write_fixtures(args.out):
        print(path)
    return 0


if __name__ == "__main__":
    sys.exit(main())
