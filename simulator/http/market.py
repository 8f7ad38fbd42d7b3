"""Public endpoints of the document's "Miscellaneous" section."""

from __future__ import annotations

from typing import Any

from flask import Blueprint

from simulator.clock import transport_now_ms
from simulator.http.auth import public
from simulator.http.state import current_sim
from simulator.services.clock import read_clock

bp = Blueprint("market", __name__)


@bp.get("/api/v1/ping")
@public(weight=1)
def ping() -> dict[str, Any]:
    """GET /api/v1/ping — Test Connectivity: {}."""
    return {}


@bp.get("/api/v1/time")
@public(weight=1)
def server_time() -> dict[str, Any]:
    """GET /api/v1/time — Check Server Time: the market clock, in ms."""
    with current_sim().database.read() as session:
        clock = read_clock(session)
    return {"serverTime": clock.now_ms(transport_now_ms())}
