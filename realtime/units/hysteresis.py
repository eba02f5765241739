"""Hysteresis: a new value is accepted only after it has held, unchallenged, for a while.

Readings from a noisy RF link flicker (a battery bar at the 3/4 boundary, a transmitter
dropping out for one sample); without this a wall tile would flap between colours.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Generic, TypeVar

T = TypeVar("T")


class Hysteresis(Generic[T]):
    """Holds an accepted value and at most one candidate waiting to replace it.

    `hold_for(accepted, candidate)` says how long (seconds) the candidate must persist;
    0 accepts at once. Time is passed in, so the rules are testable without a clock.
    """

    __slots__ = ("_candidate", "_hold_for", "_since", "accepted")

    def __init__(self, initial: T, hold_for: Callable[[T, T], float]) -> None:
        self.accepted = initial
        self._hold_for = hold_for
        self._candidate = initial
        self._since: float | None = None

    @property
    def pending(self) -> bool:
        return self._since is not None

    def observe(self, value: T, now: float) -> bool:
        """Record one observation; return True when the accepted value changed."""
        if value == self.accepted:
            self._since = None  # the candidate was a flicker
            return False
        if self._since is None or value != self._candidate:
            self._candidate = value
            self._since = now
        return self.settle(now)

    def settle(self, now: float) -> bool:
        """Accept a candidate that has held long enough; return True when accepted."""
        if self._since is None:
            return False
        if now - self._since < self._hold_for(self.accepted, self._candidate):
            return False
        self.accepted = self._candidate
        self._since = None
        return True
