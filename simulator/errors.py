"""Venue errors: one class per HashKey error code we raise, each carrying the document's code and message.

The whole table of the HashKey document lives in `error_catalogue.py`; a contract test checks that every
class here matches a row of it. No Flask here: the HTTP layer turns an `ApiError` into
`{"code": "<code>", "msg": "<message>"}` with the class's HTTP status.
"""

from __future__ import annotations


class ApiError(Exception):
    """Base class: a HashKey error code (always a string on the wire) with its message and HTTP status."""

    code: str = "-1000"
    msg: str = "An unknown error occurred while processing the request"
    http_status: int = 400

    def __init__(self, msg: str | None = None, **fields: object) -> None:
        self.msg = (self.msg if msg is None else msg).format(**fields)
        super().__init__(f"{self.code}: {self.msg}")

    def body(self) -> dict[str, str]:
        return {"code": self.code, "msg": self.msg}


class UnknownError(ApiError):
    code = "-1000"
    msg = "An unknown error occurred while processing the request"


class RequiredFieldMissing(ApiError):
    """A required field is absent, empty, duplicated or not of its type (the document's first 0001 row)."""

    code = "0001"
    msg = "Required field {field} missing or invalid"


class IncorrectSignature(ApiError):
    """The document lists this message under 0001 too (ccxt's table uses 0002); we follow the document."""

    code = "0001"
    msg = "Incorrect signature"


class RateLimitExceeded(ApiError):
    code = "0003"
    msg = "Rate limit exceeded"


class InvalidApiKey(ApiError):
    code = "0102"
    msg = "Invalid APIKey"


class AccountIdNotAllowed(ApiError):
    code = "0104"
    msg = "accountId is not allowed"


class InvalidIp(ApiError):
    code = "0202"
    msg = "Invalid IP"


class InsufficientAsset(ApiError):
    code = "0401"
    msg = "Insufficient asset"


class UnauthorizedOperation(ApiError):
    code = "-1002"
    msg = "Unauthorized operation"


class BadRequest(ApiError):
    code = "-1004"
    msg = "Bad request"


class NoPermission(ApiError):
    code = "-1005"
    msg = "No permission"


class TooManyNewOrders(ApiError):
    code = "-1015"
    msg = "Too many new orders, current limit is {limit} orders per {interval}"


class UnsupportedOperation(ApiError):
    code = "-1020"
    msg = "Unsupported operation"


class TimestampOutsideRecvWindow(ApiError):
    code = "-1021"
    msg = "Timestamp for this request is outside of the recvWindow"


class IllegalParameter(ApiError):
    code = "-1130"
    msg = "Illegal parameter '{name}'"


class AccountNotFound(ApiError):
    code = "-1160"
    msg = "Account does not exist"


class InvalidPermission(ApiError):
    code = "-3117"
    msg = "Invalid permission"


class InvalidAsset(ApiError):
    code = "-4001"
    msg = "Invalid asset"


class NoWithdrawalPermission(ApiError):
    code = "-4009"
    msg = "No withdrawal permission"


# Simulator-only answers (not in the document) keep the venue's {"code", "msg"} shape so that clients
# parse them the same way. The codes reuse the nearest documented meaning; the messages say what happened.


class PathNotFound(BadRequest):
    """No such endpoint: HTTP 404 with the generic bad-request code."""

    http_status = 404
    msg = "Bad request: no endpoint at {path}"


class MethodNotAllowed(BadRequest):
    http_status = 405
    msg = "Bad request: method {method} is not allowed on {path}"


class ServerTimeout(ApiError):
    """The request waited too long for the database (another writer held it): nothing was done."""

    code = "-1007"
    msg = "Timeout waiting for response from server"


class InternalError(UnknownError):
    """An unexpected exception: the client sees the document's generic -1000 with HTTP 500; the traceback
    goes to the server's log only."""

    http_status = 500


class AdminUnauthorized(UnauthorizedOperation):
    http_status = 401
    msg = "Unauthorized operation: missing or wrong X-SIM-ADMIN-TOKEN"


class OrderFilled(ApiError):
    code = "-1139"
    msg = "Order has been filled"


class OrderCanceled(ApiError):
    code = "-1142"
    msg = "Order has been cancelled"


class OrderNotFound(ApiError):
    code = "-1143"
    msg = "Order not found on order book"


class InstrumentNotFound(ApiError):
    code = "0201"
    msg = "Instrument not found"


# Order requests


class UnsupportedOrderType(ApiError):
    code = "0206"
    msg = "Unsupported order type"


class InvalidTimeInForce(ApiError):
    code = "-1115"
    msg = "Invalid timeInForce"


class InvalidOrderSide(ApiError):
    code = "-1117"
    msg = "Invalid order side"


class InvalidClientOrderId(ApiError):
    code = "-1123"
    msg = "Invalid client order id"


class InvalidOrderPrice(ApiError):
    code = "-1124"
    msg = "Invalid price"


class InvalidQuantity(ApiError):
    code = "-1126"
    msg = "Invalid quantity"


class QuantityAndAmount(ApiError):
    code = "-1129"
    msg = "Invalid parameters, quantity and amount are not allowed to be sent at the same time."


class DuplicateOrder(ApiError):
    code = "-1141"
    msg = "Duplicate order"


class OrderNotFoundById(ApiError):
    """A query or a batch cancel naming no order of the caller (the document's cancelOrderByIds example)."""

    code = "0211"
    msg = "Order not found"


class LimitMakerRejected(ApiError):
    """A LIMIT_MAKER that would take. The document has two rows for it: -1156 "For HashKey Global only" and
    -2010 "For HashKey Hong Kong only"; the document is HashKey MENA's, a HashKey Global venue (its sandbox
    and fee pages are on global.hashkey*.com), so Global's code."""

    code = "-1156"
    msg = "Limit maker order rejected: Improper price may cause immediate fill."


class BatchTooLarge(ApiError):
    """batchOrders with more than 20 orders (the document's row for it: "The number of orders in
    batchOrders request exceeds its limit")."""

    code = "-2022"
    msg = "Order batch size exceeds the limit"


# Order filters


class PriceBeyondMarkBand(ApiError):
    """A limit price beyond the LIMIT_TRADING band around the mark price (the venue answers 0207 there)."""

    code = "0207"
    msg = "Invalid price"


class InvalidPricePrecision(ApiError):
    code = "0209"
    msg = "Invalid price precision"


class OrderPriceTooHigh(ApiError):
    code = "-1132"
    msg = "Order price greater than the maximum"


class OrderPriceTooLow(ApiError):
    code = "-1133"
    msg = "Order price lower than the minimum"


class OrderQuantityTooLarge(ApiError):
    code = "-1135"
    msg = "Order quantity greater than the maximum"


class OrderQuantityTooSmall(ApiError):
    code = "-1136"
    msg = "Order quantity lower than the minimum"


class OrderQuantityPrecisionTooLarge(ApiError):
    code = "-1137"
    msg = "Order quantity precision too large"


class OrderAmountTooSmall(ApiError):
    code = "-1140"
    msg = "Order amount lower than the minimum"


class OrderAmountPrecisionTooLarge(ApiError):
    code = "-1148"
    msg = "Order amount precision too large"


class MarketOrderForbidden(ApiError):
    code = "-1194"
    msg = "Market order creation forbidden"


class BuyQuantityTooSmall(ApiError):
    code = "-1200"
    msg = "Order buy quantity too small"


class BuyQuantityTooLarge(ApiError):
    code = "-1201"
    msg = "Order buy quantity too large"


class SellQuantityTooSmall(ApiError):
    code = "-1202"
    msg = "Order sell quantity too small"


class SellQuantityTooLarge(ApiError):
    code = "-1203"
    msg = "Order sell quantity too large"


class OrderAmountTooLarge(ApiError):
    code = "-1206"
    msg = "Order amount greater than the maximum"


class OpenOrdersLimitExceeded(ApiError):
    code = "-2017"
    msg = "Open orders exceeds the limit of the trading pair"


# Trades and fees


class SearchLimitedToLastMonth(ApiError):
    """GET /api/v1/account/trades: a startTime before the last 30 days (the document: "Only supports the
    last 30 days timeframe")."""

    code = "-2028"
    msg = "The search is limited to data within the last one month"


class SearchLimitedToLastThreeMonths(ApiError):
    """GET /api/v1/spot/tradeOrders: a startTime or endTime before the last 90 days (the document: "Only
    supports the last 90 days timeframe")."""

    code = "-2029"
    msg = "The search is limited to data within the last three months"


# Account, sub account and wallet


class DuplicateRequest(ApiError):
    """assetTransfer: a clientOrderId this user already used for a transfer."""

    code = "-1024"
    msg = "Duplicate request"


class TooFrequent(ApiError):
    """assetTransfer: "should be called no more than once per second" (per user, wall clock)."""

    code = "-3145"
    msg = "Please DO NOT submit request too frequently"


class InvalidFromAccount(ApiError):
    code = "-1172"
    msg = "Invalid from account id"


class InvalidToAccount(ApiError):
    code = "-1173"
    msg = "Invalid to account id"


class SameAccountTransfer(ApiError):
    code = "-1174"
    msg = "Transfer not allowed between the same account"


class FromAccountNotMain(ApiError):
    code = "-1204"
    msg = "From account must be a main account"


class AccountNotAuthorized(ApiError):
    """A sub-account key on a master-only endpoint, or a sub account id not of the key's user."""

    code = "-1205"
    msg = "Account not authorized"


class TimeRangeOver30Days(ApiError):
    code = "-2027"
    msg = "Exceed maximum time range of 30 days"


class InvalidFiatDepositStatus(ApiError):
    code = "-1175"
    msg = "Invalid fiat deposit status"


class InvalidFiatWithdrawalStatus(ApiError):
    code = "-1176"
    msg = "Invalid fiat withdrawal status"


class InvalidFiatOrderType(ApiError):
    code = "-1177"
    msg = "Invalid fiat order type"


class IllegalWithdrawAddress(ApiError):
    code = "-1163"
    msg = "Illegal withdrawal address"


class WithdrawAmountMissing(ApiError):
    code = "-1165"
    msg = "Withdrawal amount cannot be null"


class WithdrawOverDailyLimit(ApiError):
    """One withdrawal larger than the chain's whole daily limit."""

    code = "-1166"
    msg = "Withdrawal amount exceeds the daily limit"


class WithdrawBelowMinimum(ApiError):
    code = "-1167"
    msg = "Withdrawal amount less than the minimum"


class IllegalWithdrawAmount(ApiError):
    """Finer than the withdrawal precision, or above the chain's maxWithdrawQuantity."""

    code = "-1168"
    msg = "Illegal withdrawal amount"


class WithdrawNotAllowed(ApiError):
    code = "-1169"
    msg = "Withdraw not allowed"


class DepositNotAllowed(ApiError):
    code = "-1170"
    msg = "Deposit not allowed"


class AddressNotWhitelisted(ApiError):
    code = "-1171"
    msg = "Withdrawal address not in whitelist"


class DepositStatusInvalid(ApiError):
    code = "-1207"
    msg = "The status of deposit is invalid"


class WithdrawStatusInvalid(ApiError):
    code = "-1209"
    msg = "The status of withdraw is invalid"


class DepositBelowMinimum(ApiError):
    code = "-1210"
    msg = "The deposit amount {amount} must not be less than the minimum deposit amount {minimum} {coin}."


class DepositNotFound(ApiError):
    code = "-1212"
    msg = "The order of deposit does not exist"


class WithdrawInsufficientBalance(ApiError):
    code = "-4003"
    msg = "Insufficient Balance"


class WithdrawChannelNotSupported(ApiError):
    """A chainType the coin does not have."""

    code = "-4007"
    msg = "Withdrawal channels are not supported"


class WithdrawDayTotalOverLimit(ApiError):
    """Today's withdrawals of the coin on the chain, this one included, above its daily limit."""

    code = "-4010"
    msg = "Withdrawals on the same day exceed the maximum limit for a single day"


class WalletParameterError(ApiError):
    """A wallet parameter of the wrong form that has no code of its own (memo, platform)."""

    code = "-4012"
    msg = "Parameter error"


class WithdrawRepeated(ApiError):
    """A clientOrderId this account already used for a withdrawal."""

    code = "-4013"
    msg = "Withdraw repeatedly"
