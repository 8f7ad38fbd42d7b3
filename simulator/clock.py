"""The transport clock: the wall clock, read through time.time() so that freezegun can freeze it.

It decides the timestamp/recvWindow check, rate-limit windows and (later) listenKey expiry. The market
clock (domain/clock.py) is what the venue's time is; in live mode the two agree.
"""

from __future__ import annotations

import time


def transport_now_ms() -> int:
    return int(time.time() * 1000)
