"""Webhooks through the real worker: Shure TCP simulators, an in-process poller and
outputs worker, real Redis, and receivers that are real HTTP servers checking signatures."""

from __future__ import annotations

import pytest
from channels.db import database_sync_to_async

from micboard.integrations.models import DeliveryAttempt
from micboard.models import Alert
from micboard.services import AlertService, OutputService
from tests.realtime.conftest import build_live_stage
from tests.realtime.outputs.conftest import add_webhook, of_kind
from tests.waiting import wait_until_async

pytestmark = pytest.mark.django_db(transaction=True)

DELIVERY_TIMEOUT = 10.0


@database_sync_to_async
def raised_alert(unit_id: int) -> Alert | None:
    return Alert.objects.filter(wireless_unit_id=unit_id).first()


@database_sync_to_async
def attempts_of(output_id: int) -> list[tuple[int, str, int | None]]:
    rows = DeliveryAttempt.objects.filter(output_id=output_id).order_by("pk")
    return list(rows.values_list("attempt", "status", "response_code"))


async def test_an_alert_raised_on_stage_reaches_a_webhook_signed_within_a_second(
    simulators, pollers, outputs_worker, receivers
):
    simulator = await simulators()
    stage = await database_sync_to_async(build_live_stage)([simulator.port])
    receiver = await receivers()
    output = await add_webhook(stage.group_a, receiver, stage.admin)
    await outputs_worker()
    pollers()
    jane = stage.units[0]

    simulator.set_battery(1, bars=1)
    events = await wait_until_async(
        lambda: of_kind(receiver, "alert.raised"), DELIVERY_TIMEOUT, "alert.raised delivered"
    )
    alert = await raised_alert(jane.pk)
    assert alert is not None
    delivery = next(r for r in receiver.received if r.event["kind"] == "alert.raised")
    assert delivery.verified
    assert delivery.at - alert.created_at.timestamp() < 1.0
    assert delivery.headers["x-micboard-event"] == "alert.raised"
    assert delivery.headers["x-micboard-delivery"] == events[0]["id"]
    assert events[0]["group"] == {"id": stage.group_a.pk, "name": "Main stage"}
    assert events[0]["unit"]["id"] == jane.pk
    assert events[0]["performer"] == "Jane Smith"
    assert events[0]["payload"]["alert_kind"] == "battery_critical"
    await wait_until_async(
        lambda: attempts_of(output.pk), DELIVERY_TIMEOUT, "the delivery in the log"
    )
    assert ("delivered", 200) in [(s, c) for _, s, c in await attempts_of(output.pk)]


async def test_a_receiver_failing_twice_gets_the_event_on_the_third_attempt(
    live_settings, outputs_worker, receivers
):
    stage = await database_sync_to_async(build_live_stage)([40011])
    receiver = await receivers(answers=[500, 500])
    output = await add_webhook(stage.group_a, receiver, stage.admin)
    await outputs_worker()

    await database_sync_to_async(OutputService.send_test_event)(output, by_user=stage.admin)
    await wait_until_async(lambda: len(receiver.received) >= 3, 15, "three attempts")
    assert len({r.headers["x-micboard-delivery"] for r in receiver.received}) == 1
    gaps = [b.at - a.at for a, b in zip(receiver.received, receiver.received[1:], strict=False)]
    assert gaps[0] >= 0.9  # backoff: 1 s,
    assert gaps[1] >= 1.9  # then 2 s
    log = await wait_until_async(
        lambda: _three(attempts_of(output.pk)), DELIVERY_TIMEOUT, "three attempts logged"
    )
    assert log == [(1, "failed", 500), (2, "failed", 500), (3, "delivered", 200)]


async def _three(rows):
    found = await rows
    return found if len(found) >= 3 else None


async def test_a_hanging_receiver_does_not_delay_another_output(
    live_settings, outputs_worker, receivers
):
    stage = await database_sync_to_async(build_live_stage)([40012])
    stuck = await receivers(hang=True)
    quick = await receivers()
    await add_webhook(stage.group_a, stuck, stage.admin, name="stuck")
    quick_output = await add_webhook(stage.group_a, quick, stage.admin, name="quick")
    await outputs_worker()
    stuck_output = await database_sync_to_async(lambda: stage.group_a.outputs.get(name="stuck"))()

    send = database_sync_to_async(OutputService.send_test_event)
    await send(stuck_output, by_user=stage.admin)
    await wait_until_async(lambda: stuck.received, DELIVERY_TIMEOUT, "the stuck receiver asked")
    for expected in (1, 2, 3):
        await send(quick_output, by_user=stage.admin)
        arrived = await wait_until_async(
            lambda n=expected: len(quick.received) >= n, 1.0, "the quick receiver told at once"
        )
        assert arrived


async def test_a_webhook_of_group_b_hears_nothing_of_group_a(
    simulators, pollers, outputs_worker, receivers
):
    simulator = await simulators()
    stage = await database_sync_to_async(build_live_stage)([simulator.port])
    of_a = await receivers()
    of_b = await receivers()
    await add_webhook(stage.group_a, of_a, stage.admin)
    output_b = await add_webhook(stage.group_b, of_b, stage.admin)
    await outputs_worker()
    pollers()

    simulator.set_battery(1, bars=1)  # Jane, group A
    await wait_until_async(
        lambda: of_kind(of_a, "alert.raised"), DELIVERY_TIMEOUT, "group A's alert delivered"
    )
    # Group B's queue is in stream order: its test event comes after anything of A.
    await database_sync_to_async(OutputService.send_test_event)(output_b, by_user=stage.admin)
    await wait_until_async(lambda: of_b.received, DELIVERY_TIMEOUT, "group B's test event")
    assert "test" in [r.event["kind"] for r in of_b.received]
    assert {r.event["group"]["id"] for r in of_b.received} == {stage.group_b.pk}
    assert stage.units[0].pk not in {(r.event["unit"] or {}).get("id") for r in of_b.received}
    assert {r.event["group"]["id"] for r in of_a.received} == {stage.group_a.pk}


async def test_a_webhook_whose_secret_is_unreadable_is_never_sent_unsigned(
    live_settings, outputs_worker, receivers
):
    stage = await database_sync_to_async(build_live_stage)([40013])
    receiver = await receivers()
    output = await add_webhook(stage.group_a, receiver, stage.admin)
    live_settings.SECRET_KEY = "rotated-" + "k" * 50  # the sealed secret no longer opens
    await outputs_worker(retry_delays=())  # one attempt, then give up

    await database_sync_to_async(OutputService.send_test_event)(output, by_user=stage.admin)
    log = await wait_until_async(
        lambda: attempts_of(output.pk), DELIVERY_TIMEOUT, "the attempt logged"
    )
    assert log == [(1, "giving-up", None)]
    assert receiver.received == []


async def test_outputs_added_and_disabled_while_the_worker_runs_take_effect(
    live_settings, outputs_worker, receivers
):
    stage = await database_sync_to_async(build_live_stage)([40015])
    await outputs_worker()  # before the outputs exist: it reloads on output.changed
    kept, muted = await receivers(), await receivers()
    kept_output = await add_webhook(stage.group_a, kept, stage.admin, name="kept")
    muted_output = await add_webhook(stage.group_a, muted, stage.admin, name="muted")
    await database_sync_to_async(OutputService.set_enabled)(
        muted_output, False, by_user=stage.admin
    )
    send_test = database_sync_to_async(OutputService.send_test_event)
    await send_test(kept_output, by_user=stage.admin)
    await wait_until_async(lambda: kept.received, DELIVERY_TIMEOUT, "the new output known")

    jane = stage.units[0].pk
    await database_sync_to_async(AlertService.apply_conditions)({jane: frozenset({"battery_low"})})
    await wait_until_async(
        lambda: of_kind(kept, "alert.raised"), DELIVERY_TIMEOUT, "the alert at the new output"
    )
    # The muted output's queue is in stream order: its test event comes after the alerts.
    await send_test(muted_output, by_user=stage.admin)
    await wait_until_async(lambda: muted.received, DELIVERY_TIMEOUT, "the muted output's test")
    assert [r.event["kind"] for r in muted.received] == ["test"]
