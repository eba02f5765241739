"""The one wait helper: it returns what it waited for, and a failure names what never happened."""

from __future__ import annotations

import asyncio
import itertools

import pytest

from tests.waiting import wait_until, wait_until_async


def test_it_returns_the_first_truthy_value():
    counter = itertools.count()
    assert wait_until(lambda: next(counter) >= 3 and "third", 1.0, "a third check") == "third"


def test_it_names_what_never_happened():
    with pytest.raises(
        AssertionError, match=r"^never saw: battery of channel 2 at 1 bar within 0\.1 s$"
    ):
        wait_until(lambda: False, 0.1, "battery of channel 2 at 1 bar")


async def test_the_async_form_awaits_checks_and_cancels_a_blocked_one():
    queue: asyncio.Queue[int] = asyncio.Queue()
    queue.put_nowait(1)
    assert await wait_until_async(queue.get, 1.0, "an item") == 1
    with pytest.raises(AssertionError, match=r"^never saw: a second item within 0\.1 s$"):
        await wait_until_async(queue.get, 0.1, "a second item", interval=0)


async def test_a_check_that_times_out_by_itself_is_not_reported_as_the_wait():
    async def read_with_its_own_timeout() -> bool:
        async with asyncio.timeout(0.01):
            await asyncio.Event().wait()
        return True

    with pytest.raises(TimeoutError):
        await wait_until_async(read_with_its_own_timeout, 5.0, "a read")
