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
