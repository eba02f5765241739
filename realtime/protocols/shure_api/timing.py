"""Timeouts, keepalive and reconnect pacing for the System API client."""

from __future__ import annotations

import random
from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class SystemApiTimings:
    """Every delay the client uses, in seconds; tests shrink them to run fast."""

    connect_timeout: float = 3.0
    read_timeout: float = 5.0
    # WebSocket keepalive: a server that stalls (no RST) is noticed within
    # ping_interval + ping_timeout + close_timeout, under the 5 s of D.4.
    ping_interval: float = 1.5
    ping_timeout: float = 2.0
    close_timeout: float = 1.0
    backoff_initial: float = 0.5
    backoff_max: float = 10.0  # A.5: reconnect the push socket after about 10 s
    unreachable_repeat: float = 5.0  # DeviceClient: repeat "unreachable" at most this often
    refresh_interval: float = 60.0  # A.5: capabilities are not pushed; re-read as a safety net
    max_connections: int = 8


class Backoff:
    """Produce exponentially growing reconnect delays with jitter."""

    def __init__(self, initial: float, maximum: float, rng: random.Random) -> None:
        self._initial = initial
        self._maximum = maximum
        self._rng = rng
        self._attempts = 0

    def next_delay(self) -> float:
        """Return the delay before the next attempt and count the attempt."""
        delay = min(self._maximum, self._initial * 2 ** min(self._attempts, 30))
        self._attempts += 1
        # Jitter spreads reconnects so many clients do not hit a restarted server at once.
        return delay * self._rng.uniform(0.5, 1.0)

    def reset(self) -> None:
        """Start again from the initial delay after a success."""
        self._attempts = 0
