"""A poller that records the timeline, stopped properly so its writer thread has ended."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Callable
from typing import Any

import pytest

from realtime.poller import Poller, PollerConfig
from tests.realtime.conftest import TEST_POLLER, simulators  # the stage's simulators

__all__ = ["simulators"]


@pytest.fixture
async def recording_pollers(live_settings) -> AsyncIterator[Callable[..., Poller]]:
    """Start in-process pollers with the timeline on; each saves every second."""
    live_settings.MICBOARD_ALERT_GRACE = 0
    live_settings.MICBOARD_TIMELINE_SAVE_SECONDS = 1
    running: list[asyncio.Task[None]] = []

    def start(**overrides: Any) -> Poller:
        poller = Poller(PollerConfig(**{**TEST_POLLER, "timeline": True, **overrides}))
        assert poller.recorder is not None
        running.append(asyncio.create_task(poller.run()))
        return poller

    yield start
    for task in running:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task  # the shutdown saves the open windows and joins the writer
