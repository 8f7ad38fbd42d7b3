"""The line every benchmark prints first: the machine and its load, which every figure after it depends on."""

from __future__ import annotations

import os
import platform
import sqlite3


def machine_note(caveat: str = "") -> str:
    """`machine: python ..., sqlite ..., <system>, <n> cpu, load average <l>` and the caveat in brackets."""
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    note = (
        f"machine: python {platform.python_version()} ({platform.python_implementation()}), "
        f"sqlite {sqlite3.sqlite_version}, {platform.system()} {platform.machine()}, {os.cpu_count()} cpu, "
        f"load average {load:.1f}"
    )
    return f"{note} ({caveat})" if caveat else note
