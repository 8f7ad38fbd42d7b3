"""The error catalogue against the document's "Error Codes" table, line by line.

The document (shared/seeds/003_*.txt, a sibling of the repository checkout) flattens the table to
`CODE HTTP_STATUS MESSAGE DESCRIPTION` lines with no delimiter between message and description, so
the only thing the catalogue adds is where the message ends; everything else must match the text.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from simulator.error_catalogue import DOCUMENTED_ERRORS, DocumentedError, documented

TABLE_HEADER = "ERROR CODE HTTP Status Code ERROR MESSAGE DESCRIPTION"
TABLE_END = "Cancel Reject Reasons"
ROW = re.compile(r"^-?\d+ \d{3} ")


def seed_document() -> Path | None:
    """The first shared/seeds/003_*.txt found walking up from this file, or None."""
    here = Path(__file__).resolve()
    for parent in here.parents:
        seeds = parent / "shared" / "seeds"
        if seeds.is_dir():
            found = sorted(seeds.glob("003_*.txt"))
            if found:
                return found[0]
    return None


def _normalise(text: str) -> str:
    return " ".join(text.split())


@pytest.fixture(scope="module")
def table_lines() -> list[str]:
    document = seed_document()
    if document is None:
        pytest.skip("seed document shared/seeds/003_*.txt not found above the test directory")
    lines = document.read_text(encoding="utf-8", errors="replace").splitlines()
    stripped = [line.strip() for line in lines]
    start = stripped.index(TABLE_HEADER) + 1
    end = stripped.index(TABLE_END, start)
    return [_normalise(line) for line in stripped[start:end] if ROW.match(line)]


def test_table_found_in_document(table_lines):
    assert len(table_lines) > 100


def test_one_row_per_table_line_in_document_order(table_lines):
    assert len(DOCUMENTED_ERRORS) == len(table_lines)
    assert [error.code for error in DOCUMENTED_ERRORS] == [line.split(" ", 1)[0] for line in table_lines]


def test_each_row_rebuilds_its_document_line(table_lines):
    rebuilt = [
        _normalise(f"{error.code} {error.http_status} {error.message} {error.description}")
        for error in DOCUMENTED_ERRORS
    ]

    mismatches = [(doc, row) for doc, row in zip(table_lines, rebuilt, strict=True) if doc != row]

    assert mismatches == []


def test_fields_have_documented_types():
    for error in DOCUMENTED_ERRORS:
        assert isinstance(error, DocumentedError)
        assert isinstance(error.code, str)
        assert isinstance(error.http_status, int)
        assert isinstance(error.message, str)
        assert isinstance(error.description, str)
        assert error.message == error.message.strip()
        assert error.description == error.description.strip()


def test_recv_window_error():
    (error,) = documented("-1021")

    assert error.http_status == 400
    assert error.message == "Timestamp for this request is outside of the recvWindow"


def test_code_0001_is_documented_twice():
    rows = documented("0001")

    assert [error.message for error in rows] == [
        "Required field %s missing or invalid",
        "Incorrect signature",
    ]
    assert [error.http_status for error in rows] == [400, 400]


@pytest.mark.parametrize(
    ("code", "http_status", "message"),
    [
        ("0000", 200, "success"),
        ("-1000", 400, "An unknown error occurred while processing the request"),
        ("-1015", 400, "Too many new orders, current limit is %s orders per %s"),
        ("-1130", 400, "Illegal parameter %s"),
        ("-1142", 400, "Order has been cancelled"),
        ("-1156", 400, "Limit maker order rejected: Improper price may cause immediate fill."),
        ("-4013", 400, "Withdraw repeatedly"),
    ],
)
def test_documented_message(code, http_status, message):
    (error,) = documented(code)

    assert (error.http_status, error.message) == (http_status, message)


def test_document_spelling_is_kept():
    (error,) = documented("-1142")

    assert error.description == "Unable to fulfill rquest as order has been canceled"


def test_duplicated_codes_are_separate_rows():
    assert len(documented("-2020")) == 1
    assert len(documented("-2021")) == 1
    assert documented("-2020")[0].message == documented("-2021")[0].message


def test_unknown_code_has_no_rows():
    assert documented("-9999") == ()


SIMULATOR_ONLY = {"PathNotFound", "MethodNotAllowed", "AdminUnauthorized"}  # not venue answers: README


def _venue_error_classes() -> list[type]:
    import inspect  # noqa: PLC0415

    from simulator import errors  # noqa: PLC0415

    found = [c for _, c in inspect.getmembers(errors, inspect.isclass) if issubclass(c, errors.ApiError)]
    return [c for c in found if c.__name__ not in SIMULATOR_ONLY]


@pytest.mark.parametrize("error", _venue_error_classes(), ids=lambda c: c.__name__)
def test_every_error_the_simulator_sends_is_a_documented_code_and_message(error):
    """A placeholder ({name}, with or without quotes) stands for the document's %s."""
    template = re.sub(r"'?\{\w+\}'?", "%s", error.msg)
    documented = {row.message for row in DOCUMENTED_ERRORS if row.code == error.code}
    assert template in documented, f"{error.__name__}: {error.code} {error.msg!r} not in {documented}"
