"""The outputs worker in-process against real Redis and the test database, and webhook
receivers (real HTTP servers on loopback that check signatures)."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import pytest
from channels.db import database_sync_to_async

from micboard.integrations.models import Output
from micboard.models import MonitoringGroup
from micboard.services import OutputService
from realtime.outputs.worker import OutputsWorker, WorkerConfig
from realtime.simulation.webhook_receiver import WebhookReceiver
from tests.waiting import wait_until_async

SECRET = "s3cret-for-tests"
STOP_TIMEOUT = 10.0


@pytest.fixture
async def receivers() -> AsyncIterator[Callable[..., Awaitable[WebhookReceiver]]]:
    started: list[WebhookReceiver] = []

    async def start(**options: Any) -> WebhookReceiver:
        receiver = WebhookReceiver(SECRET, **options)
        await receiver.start()
        started.append(receiver)
        return receiver

    yield start
    for receiver in started:
        await receiver.stop()


@pytest.fixture
async def outputs_worker(live_settings) -> AsyncIterator[Callable[..., Awaitable[OutputsWorker]]]:
    """Start an outputs worker (its consumer group made before it returns); stopped, with
    a deadline, before the test's database is torn down."""
    running: list[tuple[OutputsWorker, asyncio.Task[None]]] = []

    async def start(**options: Any) -> OutputsWorker:
        worker = OutputsWorker(WorkerConfig(**options))
        task = asyncio.create_task(worker.run())
        running.append((worker, task))
        await wait_until_async(worker.is_reading, 10, "the outputs worker reading its stream")
        return worker

    yield start
    for _, task in running:
        task.cancel()
    for _, task in running:
        with contextlib.suppress(asyncio.CancelledError, TimeoutError):
            await asyncio.wait_for(task, STOP_TIMEOUT)


@database_sync_to_async
def add_webhook(
    group: MonitoringGroup, receiver: WebhookReceiver, by_user: Any, **options: Any
) -> Output:
    return OutputService.create_output(
        group,
        "webhook",
        name=options.pop("name", f"hook {receiver.port}"),
        config={"url": receiver.url},
        secrets={"secret": SECRET},
        by_user=by_user,
        **options,
    )


def of_kind(receiver: WebhookReceiver, kind: str) -> list[dict[str, Any]]:
    return [r.event for r in receiver.received if r.event["kind"] == kind]
