"""Committed domain changes reaching the live path: the events channel, the group sets,
and structure frames on the affected walls."""

from __future__ import annotations

import orjson
import pytest
from channels.db import database_sync_to_async

from micboard.events import REACTIONS, EventKind
from micboard.models import Alert, Performer
from micboard.services import (
    AlertService,
    KioskService,
    MicCheckService,
    PerformerAssignmentService,
    PerformerService,
    SharedMicService,
)
from realtime import keys
from realtime.poller.events import refreshes_topology
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
        "alert_ids": [],
        "user_ids": [],
        "output_ids": [],
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


async def test_an_alert_its_acknowledgement_and_its_end_reach_every_screen_of_its_group(stage):
    link = await database_sync_to_async(KioskService.create_link)(stage.group_a, "FOH")
    wall, _, _ = await open_socket(f"/ws/groups/{stage.group_a.pk}/", user=stage.tech_a)
    kiosk, _, _ = await open_socket(f"/ws/kiosk/{link.token}/")
    for screen in (wall, kiosk):
        await screen.receive_from()
    jane = stage.units[0].pk

    await database_sync_to_async(AlertService.apply_conditions)({jane: frozenset({"battery_low"})})
    raised = [await next_frame(s, lambda f: f["type"] == "alert") for s in (wall, kiosk)]
    alert = await database_sync_to_async(Alert.objects.get)(wireless_unit_id=jane)
    assert [frame["alert"]["id"] for frame in raised] == [alert.pk, alert.pk]
    assert raised[0]["alert"]["message"].startswith("Battery low: Jane Smith")

    await database_sync_to_async(AlertService.acknowledge)(alert, by_user=stage.tech_a)
    for screen in (wall, kiosk):
        frame = await next_frame(screen, lambda f: f["type"].startswith("alert"))
        assert frame == {"type": "alert.acknowledged", "alert": {"id": alert.pk, "unit": jane}}

    await database_sync_to_async(AlertService.apply_conditions)({jane: frozenset()})
    for screen in (wall, kiosk):
        frame = await next_frame(screen, lambda f: f["type"].startswith("alert"))
        assert frame == {"type": "alert.resolved", "alert": {"id": alert.pk, "unit": jane}}
    for screen in (wall, kiosk):
        await screen.disconnect()


async def test_another_groups_wall_hears_nothing_of_an_alert(stage):
    other, _, _ = await open_socket(f"/ws/groups/{stage.group_b.pk}/", user=stage.tech_b)
    await other.receive_from()
    jane = stage.units[0].pk
    await database_sync_to_async(AlertService.apply_conditions)({jane: frozenset({"battery_low"})})
    bob = stage.assignments[2].performer
    # The rename is announced after the alert: group B's next frame must be the rename's.
    await database_sync_to_async(PerformerService.update_performer)(bob, name="B. Ray")
    frame = await next_frame(other, lambda f: f["type"] not in {"snapshot", "delta"})
    assert frame["type"] == "structure"
    await other.disconnect()


async def test_a_hand_over_asks_walls_to_redraw_only_that_tile(stage):
    def share_unit_0() -> int:
        guest = PerformerService.create_performer(name="Guest")
        unit = stage.units[0]
        second = PerformerAssignmentService.create_assignment(guest, unit, stage.group_a)
        for assignment in (stage.assignments[0], second):
            SharedMicService.add_turn(assignment)
        return stage.assignments[0].pk

    current = await database_sync_to_async(share_unit_0)()
    wall, _, _ = await open_socket(f"/ws/groups/{stage.group_a.pk}/", user=stage.tech_a)
    await wall.receive_from()
    await database_sync_to_async(SharedMicService.hand_over)(
        stage.group_a, stage.units[0], expected_current=current, by_user=stage.tech_a
    )
    frame = await next_frame(wall, lambda f: f["type"] == "structure")
    assert frame == {"type": "structure", "group": stage.group_a.pk, "units": [stage.units[0].pk]}
    await wall.disconnect()


async def test_a_tick_redraws_its_tile_and_a_new_check_the_whole_wall(stage):
    wall, _, _ = await open_socket(f"/ws/groups/{stage.group_a.pk}/", user=stage.tech_a)
    await wall.receive_from()
    tick = database_sync_to_async(MicCheckService.tick)
    await tick(stage.group_a, stage.units[1], by_user=stage.tech_a)
    frame = await next_frame(wall, lambda f: f["type"] == "structure")
    assert frame == {"type": "structure", "group": stage.group_a.pk, "units": [stage.units[1].pk]}
    await database_sync_to_async(MicCheckService.start_check)(stage.group_a, by_user=stage.tech_a)
    frame = await next_frame(wall, lambda f: f["type"] == "structure")
    assert frame == {"type": "structure", "group": stage.group_a.pk, "units": None}
    await wall.disconnect()


def test_every_event_kind_says_what_the_live_path_does_with_it():
    assert set(REACTIONS) == set(EventKind)


@pytest.mark.parametrize(
    ("kind", "refreshes"),
    [
        ("assignment.created", True),
        ("performer.deactivated", True),
        ("inventory.saved", True),
        ("alert.acknowledged", False),
        ("kiosk.revoked", False),
        ("group.members_changed", False),
        ("user.changed", False),
        ("group.changed", True),
        ("group.tile_order_changed", False),
        ("shared_mic.changed", False),
        ("mic_check.changed", False),
        ("something.newer", True),  # an unknown kind: reloading is always safe
    ],
)
def test_the_poller_reloads_its_map_only_for_changes_that_can_move_a_unit(kind, refreshes):
    assert refreshes_topology(kind) is refreshes


@pytest.mark.django_db
def test_a_service_call_succeeds_while_redis_is_down(settings, django_capture_on_commit_callbacks):
    settings.REDIS_URL = f"redis://127.0.0.1:{free_port()}/0"  # nothing listens there
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        performer = PerformerService.create_performer("Offline Olly")
    assert len(callbacks) == 1
    assert Performer.objects.filter(pk=performer.pk, name="Offline Olly").exists()
