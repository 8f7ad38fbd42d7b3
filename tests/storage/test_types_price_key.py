"""price_key: fixed-width text whose string order is the prices' numeric order (the index that lets a taker
read only the resting orders it can reach)."""

from __future__ import annotations

from decimal import Decimal as D

from hypothesis import given
from hypothesis import strategies as st

from simulator.storage.types import price_key

PRICES = st.decimals(min_value=D("0"), max_value=D("1e19"), places=12, allow_nan=False, allow_infinity=False)


@given(st.lists(PRICES, min_size=2, max_size=20))
def test_keys_sort_as_the_prices_do(prices):
    assert sorted(prices) == [p for _, p in sorted((price_key(p), p) for p in prices)]


@given(PRICES, PRICES)
def test_equal_prices_in_any_spelling_have_one_key(a, b):
    assert (price_key(a) == price_key(b)) == (a == b)
    assert price_key(D("35000")) == price_key(D("3.5E4")) == price_key(D("35000.000"))
