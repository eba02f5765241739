"""Caps on what one holder's sockets may cost a web process.

Sockets are counted per holder (a signed-in user, or a kiosk link) in each web process:
300 sockets from one session were once accepted, and every socket costs memory and a
share of each frame's fan-out. Frames from a browser are budgeted per socket: a loop of
`resync`s from one kiosk token took a web process to 85 % CPU, slowing every other wall.
"""

from __future__ import annotations

import time
from collections import Counter

from django.conf import settings

_open: Counter[str] = Counter()


def take_socket(holder: str) -> bool:
    """Count one more socket of `holder`; False (nothing counted) when at its cap."""
    cap = (
        settings.MICBOARD_SOCKETS_PER_KIOSK
        if holder.startswith("kiosk.")
        else (settings.MICBOARD_SOCKETS_PER_USER)
    )
    if _open[holder] >= cap:
        return False
    _open[holder] += 1
    return True


def release_socket(holder: str) -> None:
    _open[holder] -= 1
    if _open[holder] <= 0:
        del _open[holder]


class FrameBudget:
    """A token bucket: `burst` frames at once, then `per_second` on average."""

    def __init__(self, per_second: float = 1.0, burst: int = 10) -> None:
        self._rate = per_second
        self._burst = float(burst)
        self._tokens = float(burst)
        self._at = time.monotonic()

    def spend(self) -> bool:
        """Take one frame's token; False once the socket is sending faster than allowed."""
        now = time.monotonic()
        self._tokens = min(self._burst, self._tokens + (now - self._at) * self._rate)
        self._at = now
        if self._tokens < 1:
            return False
        self._tokens -= 1
        return True


def open_sockets() -> dict[str, int]:
    """Return this process's open sockets by holder kind: `kiosk` screens and `user` walls."""
    counts = {"kiosk": 0, "user": 0}
    for holder, count in _open.items():
        counts["kiosk" if holder.startswith("kiosk.") else "user"] += count
    return counts
