"""Raw request -> typed values, or the venue's error for a missing, malformed or duplicated parameter.

Parameters come from the query string and from a form body, for every method (one well-known client
sends everything in the query, sorted, even for POST and DELETE; ccxt sends a form body). A parameter
named twice, in one place or across both, is invalid: nobody can tell which value was meant.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Any
from urllib.parse import parse_qsl

from flask import Request

from simulator import errors
from simulator.domain.money import parse_decimal

DIGITS = re.compile(r"[0-9]{1,19}")  # ASCII only: a bare \d admits other scripts' digits
ID_DIGITS = re.compile(r"[0-9]{1,20}")  # the document: ids are "up to 20 characters"
LONG_MAX = 2**63 - 1  # the document's LONG; a larger number would not fit the database's integers either
FORM_TYPES = ("application/x-www-form-urlencoded", "")


@dataclass(frozen=True)
class RawRequest:
    """The bytes as received: what the signature is computed over."""

    query: bytes
    body: bytes
    body_is_form: bool
    body_is_json: bool


@dataclass(frozen=True)
class Params:
    values: dict[str, list[str]]

    def required_text(self, name: str) -> str:
        value = self._one(name, required=True)
        assert value is not None
        return value

    def optional_text(self, name: str) -> str | None:
        return self._one(name, required=False)

    def required_int(self, name: str) -> int:
        value = _long(self.required_text(name))
        if value is None:
            raise errors.RequiredFieldMissing(field=name)
        return value

    def optional_int(self, name: str, minimum: int | None = None, maximum: int | None = None) -> int | None:
        text = self.optional_text(name)
        if text is None:
            return None
        value = _long(text)
        if value is None:
            raise errors.IllegalParameter(name=name)
        if (minimum is not None and value < minimum) or (maximum is not None and value > maximum):
            raise errors.IllegalParameter(name=name)
        return value

    def optional_id(self, name: str) -> str | None:
        """A venue id (accountId, orderId): up to 20 digits, as a string (ours have 19: a longer one is
        well formed and names nothing)."""
        text = self.optional_text(name)
        if text is not None and not ID_DIGITS.fullmatch(text):
            raise errors.IllegalParameter(name=name)
        return text

    def filter_int(self, name: str, maximum: int | None = None) -> int | None:
        """A list's optional filter or limit (startTime, limit): a whole number from 1 (digits only: no sign),
        or None when not sent, 0 included. Clients that build requests from typed fields send the filters
        they do not use as zero (XChange's `long`s, Go's ints), and the venue's lists read them so."""
        value = self.optional_int(name, maximum=maximum)
        return None if value == 0 else value

    def filter_id(self, name: str) -> str | None:
        """A list's optional id filter (fromOrderId, fromId): `optional_id`, where 0 is not sent either, as
        for `filter_int`."""
        text = self.optional_id(name)
        return None if text is None or int(text) == 0 else text

    def _one(self, name: str, required: bool) -> str | None:
        """The single value of `name`, None when absent; duplicated, or empty (a batch item's value of a type
        no parameter takes; a parameter sent empty is not sent: `parse_params`), is the venue's error."""
        found = self.values.get(name)
        if not found:
            if required:
                raise errors.RequiredFieldMissing(field=name)
            return None
        if len(found) > 1 or found[0] == "":
            raise errors.RequiredFieldMissing(field=name) if required else errors.IllegalParameter(name=name)
        return found[0]


def _long(text: str) -> int | None:
    """ASCII digits that fit the document's LONG, else None."""
    if not DIGITS.fullmatch(text):
        return None
    value = int(text)
    return value if value <= LONG_MAX else None


def raw_request(request: Request) -> RawRequest:
    content_type = (request.mimetype or "").lower()
    body = request.get_data(cache=True, parse_form_data=False)
    return RawRequest(
        query=request.query_string,
        body=body,
        body_is_form=content_type in FORM_TYPES,
        body_is_json=content_type == "application/json" or content_type.endswith("+json"),
    )


def parse_params(raw: RawRequest) -> Params:
    values: dict[str, list[str]] = {}
    sources = [raw.query, raw.body] if raw.body_is_form else [raw.query]
    for source in sources:
        text = source.decode("utf-8", errors="replace")
        for name, value in parse_qsl(text, keep_blank_values=True):
            values.setdefault(name, []).append(value)
    # Sent empty (`name=`) once is not sent: clients that build requests from typed fields send every field,
    # the unused ones empty, and the venue reads them so. Named twice stays an error, empty or not.
    return Params({name: found for name, found in values.items() if found != [""]})


def json_object(request: Request) -> dict[str, Any]:
    """The body as a JSON object, numbers as Decimal or int (never float); {} for an empty body."""
    body = request.get_data(cache=True, parse_form_data=False)
    if not body.strip():
        return {}
    value = json_body(request)
    if not isinstance(value, dict):
        raise errors.BadRequest("Bad request: the body must be a JSON object")
    return value


class Repeated(list):  # type: ignore[type-arg]
    """The values of a key a JSON object names more than once (`json_body(as_parameters=True)`)."""


def json_body(request: Request, as_parameters: bool = False) -> Any:
    """The body as JSON, numbers as Decimal or int (never float); -1004 when it is not JSON. With
    `as_parameters` (a batch's orders, each read as a form's parameters are), numbers are kept as the text
    sent (a client order id `1e5` stays `1e5`), and a key an object names twice maps to all its values (a
    `Repeated`), not the last."""
    body = request.get_data(cache=True, parse_form_data=False)
    try:
        value = json.loads(
            body,
            parse_float=str if as_parameters else _json_number,
            parse_int=str if as_parameters else _json_integer,
            parse_constant=_reject_constant,
            object_pairs_hook=_object_keeping_repeated if as_parameters else None,
        )
    except (ValueError, UnicodeDecodeError, RecursionError) as e:  # RecursionError: nested too deep
        raise errors.BadRequest("Bad request: the body is not valid JSON") from e
    # only a \u escape can make a lone surrogate: UTF-8 cannot carry one
    return _without_lone_surrogates(value) if b"\\u" in body else value


def _object_keeping_repeated(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    found: dict[str, Any] = {}
    for key, value in pairs:
        if key not in found:
            found[key] = value
        elif isinstance(found[key], Repeated):
            found[key].append(value)
        else:
            found[key] = Repeated([found[key], value])
    return found


def json_decimal(body: dict[str, Any], name: str) -> Decimal:
    if name not in body:
        raise errors.RequiredFieldMissing(field=name)
    value = parse_decimal(body[name])
    if value is None:
        raise errors.IllegalParameter(name=name)
    return value


def _json_integer(text: str) -> int | Decimal:
    """A JSON integer; one of more digits than Python converts to an int (4,300) as an exact Decimal, still a
    number, which the parameter's own check then refuses as it refuses any number it cannot take, rather
    than the whole body."""
    try:
        return int(text)
    except ValueError:
        return Decimal(text)


_LONE_SURROGATE = re.compile("[\ud800-\udfff]")


def _without_lone_surrogates(value: Any) -> Any:
    """JSON may escape half a surrogate pair (`"\\ud800"`), which no text encoding can carry: as U+FFFD, as a
    byte that is not UTF-8 in a form body reads, so that the parameter's own check answers for it (a symbol
    `0201`...) rather than the database failing on it."""
    if isinstance(value, str):
        return _LONE_SURROGATE.sub("\ufffd", value)
    if isinstance(value, list):  # a Repeated stays one
        return type(value)(_without_lone_surrogates(item) for item in value)
    if isinstance(value, dict):
        return {_without_lone_surrogates(k): _without_lone_surrogates(v) for k, v in value.items()}
    return value


def _json_number(text: str) -> Decimal | str:
    """A JSON number with a fraction or exponent as an exact Decimal; one no Decimal can hold (an exponent of
    10**18 or more) as its text, which the parameter's own check then refuses as malformed."""
    try:
        return Decimal(text)
    except InvalidOperation:
        return text


def _reject_constant(name: str) -> Any:
    raise ValueError(f"{name} is not a number")
