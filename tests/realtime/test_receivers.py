"""Committed domain changes reaching the live path: the events channel, the group sets,
and structure frames on the affected walls."""

from __future__ import annotations

import orjson
import pytest
from channels.db import database_sync_to_async

from micboard.models import Performer
from micboard.services import PerformerAssignmentService, PerformerService
from realtime import keys
from realtime.redis_client import async_client
from tests.conftest import free_port
from tests.realtime.conftest import build_live_stage, next_frame, open_socket

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
async def stage(live_settings):
    return await database_sync_to_async(build_live_stage)([40001])


async def group_members(group_id: int) -> set[int]:
    return {int(m) for m in await async_client().smembers(keys.group_units(group_id))}


async def test_every_change_is_published_on_the_events_channel(stage):
    pubsub = async_client().pubsub()
    await pubsub.subscribe(keys.events())
    performer = stage.assignments[0].performer
    await database_sync_to_async(PerformerService.update_performer)(performer, title="Lead")
    message = None
    while message is None:
        message = await pubsub.get_message(ignore_subscribe_messages=True, timeout=5)
    assert orjson.loads(message["data"]) == {
        "kind": "performer.updated",
        "group_ids": [stage.group_a.pk],
        "unit_ids": [stage.units[0].pk],
        "performer_ids": [performer.pk],
    }
    await pubsub.aclose()


async def test_group_sets_follow_assignments(stage):
    assert await group_members(stage.group_a.pk) == {stage.units[0].pk, stage.units[1].pk}
    assert await group_members(stage.group_b.pk) == {stage.units[2].pk}
    await database_sync_to_async(PerformerAssignmentService.update_assignment)(
        stage.assignments[1], monitoring_group=stage.group_b
    )
    assert await group_members(stage.group_a.pk) == {stage.units[0].pk}
    assert await group_members(stage.group_b.pk) == {stage.units[1].pk, stage.units[2].pk}


async def test_a_rename_asks_walls_to_redraw_only_that_tile(stage):
    wall, _, _ = await open_socket(f"/ws/groups/{stage.group_a.pk}/", user=stage.tech_a)
    await wall.receive_from()
    performer = stage.assignments[0].performer
    await database_sync_to_async(PerformerService.update_performer)(performer, name="J. Smith")
    frame = await next_frame(wall, lambda f: f["type"] == "structure")
    assert frame == {"type": "structure", "group": stage.group_a.pk, "units": [stage.units[0].pk]}
    await wall.disconnect()


async def test_a_deactivated_performer_leaves_the_wall(stage):
    wall, _, _ = await open_socket(f"/ws/groups/{stage.group_a.pk}/", user=stage.tech_a)
    await wall.receive_from()
    performer = stage.assignments[1].performer
    await database_sync_to_async(PerformerService.deactivate_performer)(performer)
    frame = await next_frame(wall, lambda f: f["type"] == "structure")
    assert frame == {"type": "structure", "group": stage.group_a.pk, "units": None}
    assert await group_members(stage.group_a.pk) == {stage.units[0].pk}
    await wall.disconnect()


@pytest.mark.django_db
def test_a_service_call_succeeds_while_redis_is_down(settings, django_capture_on_commit_callbacks):
    settings.REDIS_URL = f"redis://127.0.0.1:{free_port()}/0"  # nothing listens there
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        performer = PerformerService.create_performer("Offline Olly")
    assert len(callbacks) == 1
    assert Performer.objects.filter(pk=performer.pk, name="Offline Olly").exists()
