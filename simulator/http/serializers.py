"""Domain and storage objects -> the venue's JSON: field names and types as the document shows them,
decimals as strings, ids as strings."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from simulator.domain.accounts import FLOW_TYPE_NAMES, AccountType, KeyType, account_label
from simulator.domain.clock import MarketClock
from simulator.domain.money import wire_amount
from simulator.http.quote import CHAIN_FIELDS
from simulator.services import wallet
from simulator.storage import tables


def account_balances(
    user_id: str, balances: list[tables.Balance], coin_names: dict[str, str]
) -> dict[str, Any]:
    """GET /api/v1/account."""
    return {
        "balances": [
            {
                "asset": balance.asset,
                "assetId": balance.asset,
                "assetName": coin_names.get(balance.asset, balance.asset),
                "total": wire_amount(balance.free + balance.locked),
                "free": wire_amount(balance.free),
                "locked": wire_amount(balance.locked),
            }
            for balance in balances
        ],
        "userId": user_id,
    }


def account_type(account: tables.Account) -> dict[str, Any]:
    """One entry of GET /api/v1/account/type."""
    return {
        "accountId": account.id,
        "accountLabel": account_label(AccountType(account.account_type), account.account_index),
        "accountType": account.account_type,
        "accountIndex": account.account_index,
        "userId": account.user_id,
    }


def api_key_type(key_type: KeyType) -> dict[str, str]:
    """GET /api/v1/account/checkApiKey."""
    return {"accountType": "Master Account" if key_type is KeyType.MASTER else "Sub Account"}


def created_user(user: tables.User, balances: dict[str, list[tables.Balance]]) -> dict[str, Any]:
    """What `accounts create --json` prints and POST /sim/v1/accounts answers (simulator-only shape)."""
    keys_by_account: dict[str, tables.ApiKey] = {}
    for key in user.api_keys:  # oldest first: an account shows the key it was made with, not one added later
        keys_by_account.setdefault(key.account_id, key)
    main = next(a for a in user.accounts if a.account_type == AccountType.TRADING and a.account_index == 0)
    master = keys_by_account[main.id]
    return {
        "userId": user.id,
        "accountId": main.id,
        "apiKey": master.api_key,
        "secretKey": master.secret,
        "permissions": master.permissions.split(","),
        "ips": [ip for ip in master.ip_whitelist.split(",") if ip],
        "accounts": [_account_entry(account, keys_by_account, balances) for account in user.accounts],
    }


def _account_entry(
    account: tables.Account,
    keys_by_account: dict[str, tables.ApiKey],
    balances: dict[str, list[tables.Balance]],
) -> dict[str, Any]:
    entry = account_type(account)
    key = keys_by_account.get(account.id)
    if key is not None:
        entry["apiKey"] = key.api_key
        entry["secretKey"] = key.secret
        entry["keyType"] = key.key_type
    entry["balances"] = {b.asset: wire_amount(b.free + b.locked) for b in balances.get(account.id, [])}
    return entry


def api_key(key: tables.ApiKey) -> dict[str, Any]:
    return {
        "apiKey": key.api_key,
        "secretKey": key.secret,
        "accountId": key.account_id,
        "userId": key.user_id,
        "keyType": key.key_type,
        "permissions": key.permissions.split(","),
        "ips": [ip for ip in key.ip_whitelist.split(",") if ip],
    }


def balance(row: tables.Balance) -> dict[str, str]:
    return {
        "accountId": row.account_id,
        "asset": row.asset,
        "free": wire_amount(row.free),
        "locked": wire_amount(row.locked),
        "total": wire_amount(row.free + row.locked),
    }


def clock(market_clock: MarketClock, transport_ms: int) -> dict[str, Any]:
    """GET/POST /sim/v1/clock: speed is a JSON number (an int when whole)."""
    speed: Decimal = market_clock.speed
    return {
        "mode": market_clock.mode.value,
        "time": market_clock.now_ms(transport_ms),
        "speed": int(speed) if speed == speed.to_integral_value() else float(speed),
    }


# ---- orders -----------------------------------------------------------------------------------------

EXCHANGE_ID = "301"  # the document's examples; one exchange here


def order_ack(row: tables.Order, with_concentration: bool = True) -> dict[str, Any]:
    """POST /api/v1.1/spot/order (and a batch's `order`): the acknowledgement of a new order."""
    body = {
        "accountId": row.account_id,
        "symbol": row.symbol,
        "symbolName": row.symbol,
        "clientOrderId": row.client_order_id,
        "orderId": row.order_id,
        "transactTime": str(row.created_ms),
        **_order_core(row),
        "reqAmount": _amount(row.amount),
    }
    if with_concentration:
        body["concentration"] = ""
    return body


def order_cancelled(row: tables.Order, status_found: str) -> dict[str, Any]:
    """DELETE /api/v1/spot/order: the order as the cancel found it, with its creation time, as the venue
    answers (the document's example and ccxt's recorded answers: `NEW` and the time the order was made);
    what the cancel did shows in GET /api/v1/spot/order."""
    return {
        "accountId": row.account_id,
        "symbol": row.symbol,
        "clientOrderId": row.client_order_id,
        "orderId": row.order_id,
        "transactTime": str(row.created_ms),
        **_order_core(row),
        "status": status_found,
    }


def order_detail(row: tables.Order, avg_price: Decimal) -> dict[str, Any]:
    """GET /api/v1/spot/order."""
    return {
        **_order_listed(row, avg_price, with_stp=False),
        "feeCoin": "",  # deprecated by the venue: always empty, fees are per fill (account/trades)
        "feeAmount": "0",
        "sumFeeAmount": "0",
        "ordCxlReason": row.cancel_reason,
        "stpMode": row.stp_mode,
    }


def order_listed(row: tables.Order, avg_price: Decimal) -> dict[str, Any]:
    """One order of GET /api/v1/spot/openOrders and /api/v1/spot/tradeOrders."""
    return _order_listed(row, avg_price, with_stp=True)


def sub_account_order(row: tables.Order, avg_price: Decimal) -> dict[str, Any]:
    """One order as the document's sub-account examples show it: the account's own list entry with
    `ordCxlReason` before `stpMode`."""
    entry = order_listed(row, avg_price)
    stp_mode = entry.pop("stpMode")
    return {**entry, "ordCxlReason": row.cancel_reason, "stpMode": stp_mode}


def _order_listed(row: tables.Order, avg_price: Decimal, with_stp: bool) -> dict[str, Any]:
    executed_quote = _amount(row.executed_quote)
    core = _order_core(row)
    body = {
        "accountId": row.account_id,
        "exchangeId": EXCHANGE_ID,
        "symbol": row.symbol,
        "symbolName": row.symbol,
        "clientOrderId": row.client_order_id,
        "orderId": row.order_id,
        "price": core["price"],
        "origQty": core["origQty"],
        "executedQty": core["executedQty"],
        "cummulativeQuoteQty": executed_quote,  # both spellings, as the venue sends them
        "cumulativeQuoteQty": executed_quote,
        "avgPrice": _amount(avg_price),
        "status": core["status"],
        "timeInForce": core["timeInForce"],
        "type": core["type"],
        "side": core["side"],
        "stopPrice": "0.0",
        "icebergQty": "0.0",
        "time": str(row.created_ms),
        "updateTime": str(row.updated_ms),
        "isWorking": True,  # "Not used" by the venue, which sends true for every order
        "reqAmount": _amount(row.amount),
    }
    if with_stp:
        body["stpMode"] = row.stp_mode
    return body


def _order_core(row: tables.Order) -> dict[str, Any]:
    return {
        "price": _amount(row.price),
        "origQty": _amount(row.quantity),
        "executedQty": _amount(row.executed_qty),
        "status": row.status,
        "timeInForce": row.time_in_force,
        "type": row.type,
        "side": row.side,
    }


def _amount(value: Decimal | None) -> str:
    return "0" if value is None else wire_amount(value)


# ---- wallet: transfers, balance flow, coins -----------------------------------------------------------

# GET /api/v1/coinInfo lists these coin fields only (exchangeInfo's coins add tokenType and status); the
# chains have exchangeInfo's fields. The fixture's simulator settings (addressFormat, confirmations...)
# never show.
COIN_INFO_FIELDS = ("orgId", "coinId", "coinName", "coinFullName", "allowWithdraw", "allowDeposit")


def transfer_ack(row: tables.Transfer) -> dict[str, Any]:
    """POST /api/v1/account/assetTransfer: `timestamp` is a number (market time), `orderId` a string."""
    return {
        "success": True,
        "timestamp": row.created_ms,
        "clientOrderId": row.client_order_id,
        "orderId": row.order_id,
    }


def balance_flow_entry(entry: tables.LedgerEntry, coin_names: dict[str, str]) -> dict[str, Any]:
    """One entry of GET /api/v1/account/balanceFlow, fields in the order of the document's examples."""
    return {
        "id": entry.id,
        "accountId": entry.account_id,
        "coin": entry.asset,
        "coinId": entry.asset,
        "coinName": coin_names.get(entry.asset, entry.asset),
        "flowTypeValue": entry.flow_type,
        "flowType": FLOW_TYPE_NAMES.get(entry.flow_type, ""),
        "flowName": "",
        "change": wire_amount(entry.change),
        "total": wire_amount(entry.total),
        "created": str(entry.created_ms),
    }


def chain_type_list(definition: dict[str, Any], chains: list[str]) -> dict[str, Any]:
    """One entry of GET /api/v1/account/chainType."""
    return {"coinId": definition["coinId"], "coinName": definition["coinName"], "chainTypeList": chains}


def coin_info(definition: dict[str, Any], server_time_ms: int) -> dict[str, Any]:
    """GET /api/v1/coinInfo: the coin's documented fields and its chains'."""
    coin = {name: definition[name] for name in COIN_INFO_FIELDS if name in definition}
    coin["chainTypes"] = [
        {name: chain[name] for name in CHAIN_FIELDS if name in chain}
        for chain in definition.get("chainTypes", [])
    ]
    return {"timezone": "UTC", "serverTime": server_time_ms, "coins": [coin]}


# ---- wallet -----------------------------------------------------------------------------------------

# The venue's deposit records show 20 decimals, its withdrawal records 8. format() rounds without the
# context's 28-digit precision, which quantize() would exceed for amounts of 9 or more integer digits.
DEPOSIT_DECIMALS = ".20f"
WITHDRAW_DECIMALS = ".8f"


def deposit_address(found: wallet.DepositAddress) -> dict[str, Any]:
    chain = found.chain
    return {
        "canDeposit": chain.allow_deposit,
        "address": found.address,
        "addressExt": "",
        "minQuantity": wire_amount(chain.min_deposit),
        "needAddressTag": False,
        "requiredConfirmTimes": chain.deposit_confirmations,
        "canWithdrawConfirmTimes": chain.withdraw_confirmations,
        "coinType": found.coin_type,
    }


def deposit_order(row: tables.Deposit, coin_names: dict[str, str]) -> dict[str, Any]:
    return {
        "time": str(row.created_ms),
        "coin": row.coin,
        "coinName": coin_names.get(row.coin, row.coin),
        "address": row.address,
        "quantity": format(row.quantity, DEPOSIT_DECIMALS),
        "status": row.status,
        "statusCode": str(row.status),
        "txId": row.tx_id,
    }


def admin_deposit(row: tables.Deposit, coin_names: dict[str, str]) -> dict[str, Any]:
    """A deposit as the admin API shows it: the depositOrders fields plus its id, account and chain."""
    return {
        "id": row.id,
        "accountId": row.account_id,
        "chainType": row.chain_type,
        **deposit_order(row, coin_names),
    }


def withdraw_order(row: tables.Withdrawal, coin_names: dict[str, str]) -> dict[str, Any]:
    arrived = wallet.arrive_quantity(row)
    name = coin_names.get(row.coin, row.coin)
    return {
        "time": str(row.created_ms),
        "id": row.order_id,
        "coin": row.coin,
        "coinId": row.coin,
        "coinName": name,
        "address": row.address,
        "quantity": _withdraw_amount(row.quantity),
        "arriveQuantity": "" if arrived is None else _withdraw_amount(arrived),
        "status": row.status,
        "txId": row.tx_id,
        "addressUrl": row.address,
        "feeCoinId": row.coin,
        "feeCoinName": name,
        "fee": _withdraw_amount(row.fee),
        "remark": row.remark,
        "platform": row.platform,
        "memo": row.memo,
    }


def fiat_order(row: tables.FiatOrder) -> dict[str, Any]:
    return {
        "orderId": row.order_id,
        "type": row.type,
        "remark": row.remark,
        "asset": row.asset,
        "grossAmount": wire_amount(row.gross_amount),
        "netAmount": wire_amount(wallet.net_amount(row)),
        "fee": wire_amount(row.fee),
        "status": row.status,
        "createdTime": str(row.created_ms),
        "updatedTime": str(row.updated_ms),
        "channel": row.channel,
        "clientOrderId": row.client_order_id,
    }


def _withdraw_amount(value: Decimal) -> str:
    return format(value, WITHDRAW_DECIMALS)
