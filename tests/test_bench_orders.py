"""scripts/bench_orders.py starts a real server, runs to the end on small sizes and prints every figure it
promises. Speed is measured by running it, not asserted here: a loaded machine must not fail the suite."""

from __future__ import annotations

import re

import pytest

from tests.conftest import run_bench

pytestmark = pytest.mark.e2e

NUMBER = r"[\d,]+(?:\.\d+)?"
PHASES = ("GET /api/v1/ping", "LIMIT resting", "MARKET 20 levels")


def test_bench_orders_runs_to_the_end_on_small_sizes():
    lines = run_bench("bench_orders.py", "--quick", "--orders", "16", "--clients", "2")
    assert lines[0].startswith("machine: python")
    server_line = "server: hashkey-sim serve --workers 1 (gunicorn, 1 process)"
    assert any(line.startswith(server_line) for line in lines)
    for phase in PHASES:
        line = next(line for line in lines if line.startswith(f"{phase}: "))
        figures = re.search(
            rf"16 \w+ in ({NUMBER}) s = ({NUMBER}) [\w/]+; latency p50 ({NUMBER}) ms, p99 ({NUMBER}) ms$",
            line,
        )
        assert figures, line
        assert all(float(f.replace(",", "")) >= 0 for f in figures.groups())
    for phase, goal in (("LIMIT resting", "0.6"), ("MARKET 20 levels", "0.5")):
        line = next(line for line in lines if line.startswith(f"{phase} vs ping: "))
        ratios = re.search(
            rf"throughput x({NUMBER}) \(goal >= {goal}: (?:met|missed), x{NUMBER} of it\); "
            rf"p99 x({NUMBER}) \(goal <= 2: (?:met|missed), x{NUMBER} of it\)$",
            line,
        )
        assert ratios, line
        assert all(float(r) >= 0 for r in ratios.groups())
