"""scripts/bench_matching.py runs to the end on small sizes and prints every figure it promises. Speed is
measured by running it, not asserted here: a loaded machine must not fail the suite."""

from __future__ import annotations

from tests.conftest import run_bench


def test_bench_matching_runs_to_the_end_on_small_sizes():
    lines = run_bench("bench_matching.py", "--quick")
    assert lines[0].startswith("machine: python")
    for size in ("100", "1,000", "10,000"):
        line = next(line for line in lines if line.startswith(f"resting {size}:"))
        assert "events/s (goal 300,000: x" in line
        assert "orders left resting" in line
    assert any(line.startswith("resting 10,000 vs 100: x") for line in lines)
    assert any("the module's functions given all 1,000 orders" in line for line in lines)
    walks = [line for line in lines if line.startswith("MARKET walking 20 levels")]
    assert len(walks) == 2
    for line in walks:
        assert "mean" in line and "p99" in line and " us" in line
