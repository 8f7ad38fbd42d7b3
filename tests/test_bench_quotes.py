"""scripts/bench_quotes.py runs to the end on small sizes and prints every figure it promises. Speed is
measured by running it, not asserted here: a loaded machine must not fail the suite."""

from __future__ import annotations

from tests.conftest import run_bench


def test_bench_quotes_runs_to_the_end_on_small_sizes():
    lines = run_bench("bench_quotes.py", "--quick")
    assert lines[0].startswith("machine: python")
    assert lines[1].startswith("store: 8,640 1m bars, 3 days of 2 symbols")
    assert lines[2].startswith("baseline: klines 1m (stored), limit 1000: ") and "(1000 bars;" in lines[2]
    for interval in ("5m", "1h", "4h", "1d", "1w", "1M"):
        line = next(line for line in lines if line.startswith(f"klines {interval}, limit 1000: first "))
        assert "of the baseline), kept " in line and " entries" in line
    assert any(
        line.startswith("ticker/24hr, every symbol: first ") and "13 entries" in line for line in lines
    )
    assert any(line.startswith("store of trades alone: 86,400 BTCUSDT trades, one day;") for line in lines)
    for interval in ("1m", "1h", "1d"):
        line = next(
            line for line in lines if line.startswith(f"trades alone: klines {interval}, limit 1000: ")
        )
        assert "of the baseline), kept " in line and " entries" in line
    assert any(line.startswith("trades alone: ticker/24hr: first ") and "1 entries" in line for line in lines)
