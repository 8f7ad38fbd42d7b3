"""The weights tests/http/test_weights.py measures every endpoint against are the document's "Weight:" lines
(skipped without the document, a sibling of the repository checkout)."""

from __future__ import annotations

import pytest

from tests.contract.test_error_catalogue import seed_document
from tests.http.test_weights import WEIGHTS

ENDPOINT_METHODS = {"GET", "POST", "DELETE", "PUT"}


def documented_weights(text: str) -> dict[tuple[str, str], int]:
    """(method, path): weight for every "METHOD /path" line followed within a few lines by "Weight: n"."""
    found: dict[tuple[str, str], int] = {}
    lines = text.splitlines()
    for n, line in enumerate(lines):
        parts = line.split()
        if len(parts) == 2 and parts[0] in ENDPOINT_METHODS and parts[1].startswith("/"):
            for later in lines[n + 1 : n + 12]:
                if later.startswith("Weight:"):
                    found[(parts[0], parts[1])] = int(later.split(":")[1])
                    break
    return found


def test_the_weights_are_the_documents():
    document = seed_document()
    if document is None:
        pytest.skip("seed document shared/seeds/003_*.txt not found above the test directory")
    documented = documented_weights(document.read_text(encoding="utf-8"))
    ours = {endpoint: weight for endpoint, weight in WEIGHTS.items() if endpoint in documented}

    assert len(ours) >= 25  # the document gives every weight but those of public market data
    assert ours == {endpoint: documented[endpoint] for endpoint in ours}
