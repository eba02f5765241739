"""The MQTT driver against a real mosquitto, watched by a real subscriber: retained unit
state, event topics, Home Assistant discovery, the last will, passwords, a broker that is
down and comes back."""

from __future__ import annotations

import asyncio
import datetime as dt
import os
import signal
import sys
import uuid
from collections.abc import AsyncIterator

import orjson
import pytest
import trustme
from channels.db import database_sync_to_async

from micboard.integrations.drivers.mqtt import FIRST_CONNECT_WAIT, MqttConfigForm, MqttDriver
from micboard.integrations.types import OutputConfig, OutputEvent
from realtime import frames, keys
from realtime.outputs.states import RedisUnitStates
from realtime.redis_client import async_client
from realtime.units.state import UnitState
from tests.integrations.conftest import MosquittoServer, subscribed
from tests.realtime.conftest import LiveStage, build_live_stage
from tests.waiting import wait_until_async

pytestmark = pytest.mark.django_db(transaction=True)


def unit_state(unit_id: int, *, percent: int | None = 80, status: str = "GOOD") -> UnitState:
    return UnitState(
        id=unit_id, status=status, battery_status="good", online=True, tx_on=True, bars=4,
        percent=percent, minutes=300, rf_a=-55.0, rf_b=-61.5, antenna="A", quality=None,
        audio=-21.5, peak=-9.0, clip=False, tx_offset=0, freq=518000, name=None,
        ts=1764000000.5,
    )  # fmt: skip


async def store(*states: UnitState) -> None:
    await async_client().mset({keys.unit_state(s.id): frames.encode_state(s) for s in states})


def output_of(stage: LiveStage, port: int, **config: object) -> OutputConfig:
    secrets = {"password": str(config.pop("password"))} if "password" in config else {}
    return OutputConfig(
        id=1,
        kind="mqtt",
        name="broker",
        config={"host": "127.0.0.1", "port": port, **config},
        secrets=secrets,
    )


def alert_raised(stage: LiveStage) -> OutputEvent:
    unit = stage.units[0]
    return OutputEvent(
        id=uuid.uuid4(),
        kind="alert.raised",
        occurred_at=dt.datetime.now(dt.UTC),
        organization_id=stage.organization.pk,
        organization_slug=stage.organization.slug,
        group_id=stage.group_a.pk,
        group_name=stage.group_a.name,
        unit_id=unit.pk,
        unit_slot=unit.slot,
        unit_name=unit.name,
        performer="Jane Smith",
        payload={"alert_kind": "battery_low", "severity": "warning"},
    )


@pytest.fixture
async def stage(live_settings) -> LiveStage:
    return await database_sync_to_async(build_live_stage)([40101])


@pytest.fixture
async def driver() -> AsyncIterator[MqttDriver]:
    driver = new_driver()
    yield driver
    await driver.close()


def new_driver() -> MqttDriver:
    driver = MqttDriver()
    driver.use_unit_states(RedisUnitStates(async_client()))
    return driver


def base(stage: LiveStage) -> str:
    return f"micboard/{stage.organization.slug}/Main-stage"


async def test_an_event_goes_to_its_event_topic_and_the_unit_state_is_retained(
    mosquitto, stage, driver
):
    unit = stage.units[0]
    await store(unit_state(unit.pk, percent=23, status="REPLACE"))
    availability = f"{base(stage)}/status"
    async with subscribed(mosquitto) as early:
        result = await driver.deliver(alert_raised(stage), output_of(stage, mosquitto.port))
        assert result.ok, result.error
        event = await early.wait_for(f"{base(stage)}/events/alert.raised")
        assert not event.retain
        assert event.qos == 1
        body = orjson.loads(event.payload)  # type: ignore[arg-type]
        assert body["kind"] == "alert.raised"
        assert body["unit"] == {"id": unit.pk, "slot": unit.slot, "name": unit.name}
        assert body["performer"] == "Jane Smith"
        assert body["payload"] == {"alert_kind": "battery_low", "severity": "warning"}
    # A subscriber that comes later gets the state (retained), not the event (not retained).
    state_topic = f"{base(stage)}/{unit.slot}/state"
    async with subscribed(mosquitto, ready=state_topic) as late:
        state = await late.json(state_topic)
        assert state["battery"] == 23
        assert state["status"] == "REPLACE"
        assert state["rf"] == -55.0
        assert state["audio"] == -21.5
        assert state["online"] is True
        assert state["performer"] == "Jane Smith"
        assert (await late.wait_for(availability)).payload == b"online"
        assert f"{base(stage)}/events/alert.raised" not in late.messages


async def test_on_connect_every_unit_of_the_group_is_restated_and_nothing_of_another(
    mosquitto, stage, driver
):
    first, second, other_group = stage.units[0], stage.units[1], stage.units[2]
    await store(unit_state(first.pk), unit_state(second.pk, percent=55), unit_state(other_group.pk))
    result = await driver.deliver(alert_raised(stage), output_of(stage, mosquitto.port))
    assert result.ok, result.error
    second_topic = f"{base(stage)}/{second.slot}/state"
    async with subscribed(mosquitto, ready=second_topic) as late:
        assert (await late.json(second_topic))["performer"] == "Ann Lee"
        assert (await late.json(second_topic))["battery"] == 55
        assert not [topic for topic in late.messages if other_group.slot in topic]
        assert not [topic for topic in late.messages if "Side-stage" in topic]


async def test_home_assistant_discovery_announces_each_sensor_of_each_unit(
    mosquitto, stage, driver
):
    unit = stage.units[0]
    await store(unit_state(unit.pk))
    await driver.deliver(alert_raised(stage), output_of(stage, mosquitto.port))
    device = f"micboard_{stage.organization.slug}_{unit.pk}"
    battery_topic = f"homeassistant/sensor/{device}_battery/config"
    async with subscribed(mosquitto, "homeassistant/#", ready=battery_topic) as ha:
        configs = {}
        for sensor in ("battery", "rf", "audio", "status"):
            message = await ha.wait_for(f"homeassistant/sensor/{device}_{sensor}/config")
            assert message.retain
            configs[sensor] = orjson.loads(message.payload)  # type: ignore[arg-type]
        battery = configs["battery"]
        assert battery["unique_id"] == f"{device}_battery"
        assert battery["state_topic"] == f"{base(stage)}/{unit.slot}/state"
        assert battery["value_template"] == "{{ value_json.battery }}"
        assert battery["device_class"] == "battery"
        assert battery["unit_of_measurement"] == "%"
        assert battery["availability_topic"] == f"{base(stage)}/status"
        assert battery["device"]["identifiers"] == [device]
        assert battery["device"]["name"] == f"{unit.slot} (Jane Smith)"
        assert configs["rf"]["device_class"] == "signal_strength"
        assert configs["rf"]["unit_of_measurement"] == "dBm"
        assert "unit_of_measurement" not in configs["status"]
        # Each unit of the group is a device of its own.
        second = f"micboard_{stage.organization.slug}_{stage.units[1].pk}"
        await ha.wait_for(f"homeassistant/sensor/{second}_battery/config")


async def test_discovery_can_be_turned_off_and_the_base_topic_chosen(mosquitto, stage, driver):
    unit = stage.units[0]
    output = output_of(stage, mosquitto.port, discovery=False, base_topic="show/foh")
    async with subscribed(mosquitto) as everything:
        assert (await driver.deliver(alert_raised(stage), output)).ok
        await everything.wait_for("show/foh/Main-stage/events/alert.raised")
        assert everything.last(f"show/foh/Main-stage/{unit.slot}/state") is not None
        assert not [topic for topic in everything.messages if topic.startswith("homeassistant")]


# A driver in a process of its own, so that the test can kill it the hard way.
DRIVER_PROCESS = """
import asyncio, datetime as dt, sys, uuid
import django
django.setup()
from micboard.integrations.drivers.mqtt import MqttDriver
from micboard.integrations.types import OutputConfig, OutputEvent

class NoUnits:
    async def of_unit(self, unit_id):
        return None
    async def of_group(self, group_id):
        return []

async def main():
    driver = MqttDriver()
    driver.use_unit_states(NoUnits())
    output = OutputConfig(1, "mqtt", "broker", {"host": "127.0.0.1", "port": int(sys.argv[1])}, {})
    now = dt.datetime.now(dt.UTC)
    event = OutputEvent(uuid.uuid4(), "unit.online", now, 1, "acme", 1, "Main stage")
    result = await driver.deliver(event, output)
    print("delivered" if result.ok else result.error, flush=True)
    await asyncio.Event().wait()

asyncio.run(main())
"""


async def test_the_last_will_says_offline_when_the_driver_dies(mosquitto):
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "micboard.settings"}
    process = await asyncio.create_subprocess_exec(
        *(sys.executable, "-c", DRIVER_PROCESS, str(mosquitto.port)),
        stdout=asyncio.subprocess.PIPE,
        env=env,
    )
    try:
        async with subscribed(mosquitto, "micboard/acme/Main-stage/status") as watcher:
            assert process.stdout is not None
            line = await asyncio.wait_for(process.stdout.readline(), 30)
            assert line.strip() == b"delivered"
            await watcher.wait_for("micboard/acme/Main-stage/status", b"online")
            process.send_signal(signal.SIGKILL)  # no DISCONNECT: the broker sends the will
            await watcher.wait_for("micboard/acme/Main-stage/status", b"offline")
        async with subscribed(mosquitto, ready="micboard/acme/Main-stage/status") as late:
            message = await late.wait_for("micboard/acme/Main-stage/status")
            assert (message.payload, message.retain) == (b"offline", True)
    finally:
        if process.returncode is None:
            process.kill()
        await process.wait()


async def test_closing_the_driver_says_offline(stage, mosquitto):
    driver = new_driver()
    availability = f"{base(stage)}/status"
    async with subscribed(mosquitto, availability) as watcher:
        assert (await driver.deliver(alert_raised(stage), output_of(stage, mosquitto.port))).ok
        await watcher.wait_for(availability, b"online")
        await driver.close()
        await watcher.wait_for(availability, b"offline")


async def test_a_broker_with_a_password_takes_the_right_one_and_refuses_a_wrong_one(stage, driver):
    broker = MosquittoServer(users={"micboard": "s3cret-pw"})
    broker.start()
    try:
        good = output_of(stage, broker.port, username="micboard", password="s3cret-pw")
        assert (await driver.deliver(alert_raised(stage), good)).ok
        wrong = output_of(stage, broker.port, username="micboard", password="not-the-pw")
        result = await driver.deliver(alert_raised(stage), wrong)
        assert not result.ok
        assert "refused" in result.error or "not authori" in result.error.lower()
        assert "not-the-pw" not in result.error
    finally:
        broker.cleanup()


async def test_tls_takes_a_broker_whose_certificate_the_machine_trusts(
    stage, driver, monkeypatch, tmp_path
):
    authority = trustme.CA()
    issued = authority.issue_cert("127.0.0.1")
    cert, key, trusted = tmp_path / "cert.pem", tmp_path / "key.pem", tmp_path / "ca.pem"
    issued.cert_chain_pems[0].write_to_path(cert)
    issued.private_key_pem.write_to_path(key)
    authority.cert_pem.write_to_path(trusted)
    broker = MosquittoServer(tls=(cert, key))
    broker.start()
    try:
        untrusted = await driver.deliver(
            alert_raised(stage), output_of(stage, broker.port, tls=True)
        )
        assert not untrusted.ok
        assert "certificate verify failed" in untrusted.error
        # The system's trust store (SSL_CERT_FILE here) decides, as for any TLS client.
        monkeypatch.setenv("SSL_CERT_FILE", str(trusted))
        output = output_of(stage, broker.port, tls=True, base_topic="tls")
        result = await driver.deliver(alert_raised(stage), output)
        assert result.ok, result.error
    finally:
        broker.cleanup()


async def test_a_broker_that_is_down_fails_fast_and_is_reached_once_it_is_up(stage, driver):
    broker = MosquittoServer()  # not started yet
    output = output_of(stage, broker.port)
    await store(unit_state(stage.units[0].pk))
    # The delivery fails in words, after no more than the first-connect wait.
    async with asyncio.timeout(FIRST_CONNECT_WAIT + 2):
        result = await driver.deliver(alert_raised(stage), output)
    assert not result.ok
    assert "cannot reach the broker" in result.error
    broker.start()
    try:
        # The link keeps retrying with backoff; the next delivery after it is back goes out.
        async def delivered() -> bool:
            return (await driver.deliver(alert_raised(stage), output)).ok

        await wait_until_async(delivered, 15, "a delivery once the broker is up", interval=0.5)
        state_topic = f"{base(stage)}/{stage.units[0].slot}/state"
        async with subscribed(broker, ready=state_topic) as late:
            assert (await late.json(state_topic))["battery"] == 80
    finally:
        broker.cleanup()


def test_the_form_checks_the_topics():
    form = MqttConfigForm({"host": "broker.local", "port": 1883, "base_topic": "show/#"})
    assert not form.is_valid()
    assert "base_topic" in form.errors
    form = MqttConfigForm({"host": "broker.local", "port": 1883, "base_topic": "/show/foh/"})
    assert form.is_valid(), form.errors
    assert form.cleaned_data["base_topic"] == "show/foh"
    assert MqttDriver.secret_fields == {"password": False}
