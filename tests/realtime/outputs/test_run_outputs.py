"""`manage.py run_outputs` as its own program: it delivers, and SIGTERM stops it cleanly."""

from __future__ import annotations

import asyncio
import signal

import pytest
from channels.db import database_sync_to_async

from micboard.services import OutputService
from realtime import keys
from realtime.outputs.worker import CONSUMER_GROUP
from realtime.redis_client import async_client
from tests.realtime.conftest import build_live_stage
from tests.realtime.faultkit import log_tails, start_program
from tests.realtime.outputs.conftest import add_webhook
from tests.waiting import wait_until_async

pytestmark = pytest.mark.django_db(transaction=True)

START_TIMEOUT = 60.0  # Django starting up on a loaded machine
STOP_TIMEOUT = 15.0


async def reading() -> bool:
    try:
        groups = await async_client().xinfo_groups(keys.outputs())
    except Exception:
        return False  # no stream yet
    return any(group["name"] == CONSUMER_GROUP.encode() for group in groups)


async def test_run_outputs_delivers_and_stops_cleanly_on_sigterm(
    live_settings, receivers, tmp_path
):
    stage = await database_sync_to_async(build_live_stage)([40014])
    receiver = await receivers()
    output = await add_webhook(stage.group_a, receiver, stage.admin)
    worker = start_program(["manage.py", "run_outputs"], tmp_path / "outputs.log")
    try:
        await wait_until_async(reading, START_TIMEOUT, "run_outputs reading its stream")
        await database_sync_to_async(OutputService.send_test_event)(output, by_user=stage.admin)
        await wait_until_async(lambda: receiver.received, 10, "the test event delivered")
        worker.send_signal(signal.SIGTERM)
        code = await asyncio.wait_for(asyncio.to_thread(worker.wait), STOP_TIMEOUT)
    finally:
        if worker.poll() is None:
            worker.kill()
            worker.wait()
    assert code == 0, log_tails(tmp_path)
    assert receiver.received[0].verified
