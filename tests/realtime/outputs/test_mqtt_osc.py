"""MQTT and OSC through the real worker: a Shure TCP simulator, an in-process poller and
outputs worker, real Redis, a throwaway mosquitto with a subscriber and UDP OSC listeners."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Iterator
from typing import Any

import pytest
from channels.db import database_sync_to_async

from micboard.integrations.drivers.osc import field_name
from micboard.integrations.models import DeliveryAttempt, Output
from micboard.models import Alert, MonitoringGroup
from micboard.services import OutputService
from tests.integrations.conftest import Listener, MosquittoServer, subscribed
from tests.realtime.conftest import LiveStage, build_live_stage
from tests.waiting import wait_until_async

pytestmark = pytest.mark.django_db(transaction=True)

DELIVERY_TIMEOUT = 10.0


@pytest.fixture
def broker() -> Iterator[MosquittoServer]:
    server = MosquittoServer()
    server.start()
    yield server
    server.cleanup()


@pytest.fixture
async def listeners() -> AsyncIterator[tuple[Listener, Listener]]:
    """Two OSC listeners: one for group A's output, one for group B's."""
    loop = asyncio.get_running_loop()
    opened = [
        await loop.create_datagram_endpoint(Listener, local_addr=("127.0.0.1", 0)) for _ in range(2)
    ]
    for transport, protocol in opened:
        protocol.port = transport.get_extra_info("sockname")[1]
    yield opened[0][1], opened[1][1]
    for transport, _ in opened:
        transport.close()


@database_sync_to_async
def add_output(
    group: MonitoringGroup, kind: str, config: dict[str, Any], by_user: Any, **options: Any
) -> Output:
    return OutputService.create_output(
        group, kind, name=f"{kind} {group.pk}", config=config, by_user=by_user, **options
    )


def mqtt_config(broker: MosquittoServer, **config: Any) -> dict[str, Any]:
    return {"host": "127.0.0.1", "port": broker.port, **config}


def osc_config(listener: Listener) -> dict[str, Any]:
    return {"host": "127.0.0.1", "port": listener.port}


@database_sync_to_async
def raised_alert(unit_id: int) -> Alert | None:
    return Alert.objects.filter(wireless_unit_id=unit_id).first()


@database_sync_to_async
def delivered_kinds(output: Output) -> set[str]:
    rows = DeliveryAttempt.objects.filter(output=output, status="delivered")
    return set(rows.values_list("event_kind", flat=True))


def osc_addresses(listener: Listener) -> list[str]:
    return [message.address for message, _ in listener.received]


async def test_an_alert_raised_on_stage_reaches_mqtt_and_osc_within_a_second_and_not_group_b(
    broker, listeners, simulators, pollers, outputs_worker
):
    simulator = await simulators()
    stage: LiveStage = await database_sync_to_async(build_live_stage)([simulator.port])
    osc_a, osc_b = listeners
    await add_output(stage.group_a, "mqtt", mqtt_config(broker), stage.admin)
    await add_output(stage.group_a, "osc", osc_config(osc_a), stage.admin)
    mqtt_b = await add_output(
        stage.group_b, "mqtt", mqtt_config(broker, base_topic="side"), stage.admin
    )
    osc_b_output = await add_output(stage.group_b, "osc", osc_config(osc_b), stage.admin)
    await outputs_worker()
    org = stage.organization.slug
    jane = stage.units[0]
    event_topic = f"micboard/{org}/Main-stage/events/alert.raised"
    async with subscribed(broker) as subscriber:
        # Group B's outputs are up and told of their own group first (a test event each).
        for output in (mqtt_b, osc_b_output):
            await database_sync_to_async(OutputService.send_test_event)(output, by_user=stage.admin)
        await subscriber.wait_for("side/Side-stage/events/test")
        await wait_until_async(lambda: osc_b.received, DELIVERY_TIMEOUT, "group B's test")
        pollers()

        simulator.set_battery(1, bars=1)
        message = await wait_until_async(
            lambda: subscriber.last(event_topic), DELIVERY_TIMEOUT, "alert.raised over MQTT"
        )
        [(osc_message, _)] = await wait_until_async(
            lambda: osc_a.received, DELIVERY_TIMEOUT, "alert.raised over OSC"
        )
        alert = await raised_alert(jane.pk)
        assert alert is not None
        raised = alert.created_at.timestamp()
        assert subscriber.arrived_at[event_topic] - raised < 1.0
        assert osc_a.arrived_at[0] - raised < 1.0

        assert b'"performer":"Jane Smith"' in message.payload  # type: ignore[operator]
        assert osc_message.address == f"/micboard/Main-stage/{jane.slot}/alert"
        assert osc_message.params == ["battery_critical", alert.severity, 1]
        # Jane's state is retained with her battery as it is now.
        state_topic = f"micboard/{org}/Main-stage/{jane.slot}/state"
        await subscriber.wait_for(state_topic)

        # Group B heard its test event and nothing of group A, on MQTT and on OSC.
        side = [topic for topic in subscriber.messages if topic.startswith("side/")]
        assert side, "group B's output published its own group"
        assert all(topic.startswith("side/Side-stage/") for topic in side)
        assert not [topic for topic in side if jane.slot in topic or "alert" in topic]
        assert osc_addresses(osc_b) == ["/micboard/Side-stage/test"]


async def test_send_test_event_goes_to_a_real_topic_and_address_and_is_logged(
    live_settings, broker, listeners, outputs_worker
):
    stage: LiveStage = await database_sync_to_async(build_live_stage)([40021])
    osc_a, _ = listeners
    mqtt = await add_output(stage.group_a, "mqtt", mqtt_config(broker), stage.admin)
    osc_config_a = osc_config(osc_a) | {field_name("test"): "/console/{group}/ping s:{kind} i:1"}
    osc = await add_output(stage.group_a, "osc", osc_config_a, stage.admin)
    await outputs_worker()
    org = stage.organization.slug
    async with subscribed(broker) as subscriber:
        for output in (mqtt, osc):
            await database_sync_to_async(OutputService.send_test_event)(output, by_user=stage.admin)
        message = await subscriber.wait_for(f"micboard/{org}/Main-stage/events/test")
        assert b'"kind":"test"' in message.payload  # type: ignore[operator]
        assert (await subscriber.wait_for(f"micboard/{org}/Main-stage/status")).payload == b"online"
        # The test event also brings the group's units to Home Assistant and their state.
        await subscriber.wait_for(f"micboard/{org}/Main-stage/{stage.units[0].slot}/state")
        [(osc_message, _)] = await wait_until_async(
            lambda: osc_a.received, DELIVERY_TIMEOUT, "the OSC test event"
        )
        assert (osc_message.address, osc_message.params) == (
            "/console/Main-stage/ping",
            ["test", 1],
        )
    for output in (mqtt, osc):
        kinds = await wait_until_async(
            lambda output=output: delivered_kinds(output), DELIVERY_TIMEOUT, "a delivery logged"
        )
        assert kinds == {"test"}


async def test_a_broker_that_is_down_is_retried_in_the_log_and_reached_when_up(
    live_settings, outputs_worker
):
    stage: LiveStage = await database_sync_to_async(build_live_stage)([40031])
    broker = MosquittoServer()  # not running yet
    output = await add_output(stage.group_a, "mqtt", mqtt_config(broker), stage.admin)
    await outputs_worker(retry_delays=(0.5, 1.0, 2.0, 4.0))
    await database_sync_to_async(OutputService.send_test_event)(output, by_user=stage.admin)

    @database_sync_to_async
    def failures() -> list[str]:
        rows = DeliveryAttempt.objects.filter(output=output, status="failed")
        return list(rows.values_list("error", flat=True))

    errors = await wait_until_async(failures, DELIVERY_TIMEOUT, "a failed attempt logged")
    assert errors[0].startswith("cannot reach the broker")
    broker.start()
    try:
        kinds = await wait_until_async(
            lambda: delivered_kinds(output), 20, "the test event delivered once the broker is up"
        )
        assert kinds == {"test"}
    finally:
        broker.cleanup()


async def test_disabling_or_deleting_an_mqtt_output_says_offline(
    live_settings, broker, outputs_worker
):
    stage: LiveStage = await database_sync_to_async(build_live_stage)([40041])
    first = await add_output(
        stage.group_a, "mqtt", mqtt_config(broker, base_topic="one"), stage.admin
    )
    second = await add_output(
        stage.group_b, "mqtt", mqtt_config(broker, base_topic="two"), stage.admin
    )
    await outputs_worker()
    async with subscribed(broker) as subscriber:
        for output in (first, second):
            await database_sync_to_async(OutputService.send_test_event)(output, by_user=stage.admin)
        await subscriber.wait_for("one/Main-stage/status", b"online")
        await subscriber.wait_for("two/Side-stage/status", b"online")
        await database_sync_to_async(OutputService.set_enabled)(first, False, by_user=stage.admin)
        await subscriber.wait_for("one/Main-stage/status", b"offline")
        await database_sync_to_async(OutputService.delete_output)(second, by_user=stage.admin)
        await subscriber.wait_for("two/Side-stage/status", b"offline")
