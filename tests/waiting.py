"""The one way a test waits for something to happen: `wait_until` and `wait_until_async`.

Both check `condition()` until it returns something truthy and return that value, and both
fail with "never saw: <what> within <seconds> s", so a failing test names what never happened.
Stream readers pass a condition that reads the next item (and `interval=0`), so the deadline and
the message are the same whether a test polls a state or reads frames.
"""

from __future__ import annotations

import asyncio
import inspect
import time
from collections.abc import Awaitable, Callable
from typing import TypeVar

T = TypeVar("T")

# Seconds between checks: short enough that a wait ends soon after the fact, long enough that
# polling Redis or a database does not load the shared machine.
INTERVAL = 0.05


def never_saw(what: str, within: float) -> AssertionError:
    """Return the failure of a wait: what the test waited for, and for how long."""
    return AssertionError(f"never saw: {what} within {within:.1f} s")


def wait_until(
    condition: Callable[[], T], within: float, what: str, *, interval: float = INTERVAL
) -> T:
    """Return the first truthy value of `condition()`; fail after `within` seconds."""
    deadline = time.monotonic() + within
    while not (value := condition()):
        if time.monotonic() > deadline:
            raise never_saw(what, within)
        time.sleep(interval)  # polling the condition, not standing in for it
    return value


async def wait_until_async(
    condition: Callable[[], T | Awaitable[T]],
    within: float,
    what: str,
    *,
    interval: float = INTERVAL,
) -> T:
    """Return the first truthy value of `condition()`, awaited if it is awaitable; fail after
    `within` seconds, cancelling a check that is still running then (a blocked read)."""
    deadline = asyncio.timeout(within)
    try:
        async with deadline:
            while True:
                if value := await _settle(condition()):
                    return value
                await asyncio.sleep(interval)  # polling the condition, not standing in for it
    except TimeoutError:
        if deadline.expired():
            raise never_saw(what, within) from None
        raise  # the check itself timed out: that is its own failure, not this wait's


async def _settle(result: T | Awaitable[T]) -> T:
    return await result if inspect.isawaitable(result) else result
