"""The MQTT output: unit state on retained topics, events on event topics, and Home
Assistant MQTT discovery so every unit appears there by itself (docs/integrations.md).

Each output keeps one connection, owned by a task that reconnects with backoff; a delivery
never waits for a broker that is down: it fails at once (after a short first connect), and
the outputs worker retries it later. On every (re)connect the driver says it is online,
announces each unit of the group to Home Assistant and restates every unit's state, so a
broker that lost its retained messages is whole again; its last will says "offline".
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import re
import ssl
from dataclasses import dataclass, field
from typing import Any, ClassVar

import aiomqtt
import orjson
from django import forms

from micboard.integrations.live import UnitSnapshot, UnitStates
from micboard.integrations.types import DeliveryResult, OutputConfig, OutputEvent

logger = logging.getLogger(__name__)

KIND = "mqtt"
ONLINE, OFFLINE = "online", "offline"
CONNECT_TIMEOUT = 5.0  # s: a broker that does not answer within this is down for now
FIRST_CONNECT_WAIT = CONNECT_TIMEOUT + 1  # s a first delivery waits for the first connect
PUBLISH_TIMEOUT = 5.0  # s for the broker to acknowledge (QoS 1) one delivery's messages
CLOSE_TIMEOUT = 1.0  # s to say offline when closing (a vanished broker must not hold us)
BACKOFF_FIRST, BACKOFF_MAX = 0.5, 30.0  # s between reconnects, doubling
KEEPALIVE = 30  # s: the broker publishes the last will after 1.5x this of silence
_TOPIC_UNSAFE = re.compile(r"[\s/+#\x00]+")
_ID_UNSAFE = re.compile(r"[^A-Za-z0-9_-]+")


class MqttConfigForm(forms.Form):
    # Labels are explicit: the outputs page names these fields with a prefix of its own.
    host = forms.CharField(
        label="Host", max_length=255, help_text="The broker's host name or address."
    )
    port = forms.IntegerField(label="Port", min_value=1, max_value=65535, initial=1883)
    tls = forms.BooleanField(required=False, label="TLS", help_text="Usually on port 8883.")
    username = forms.CharField(
        label="Username", max_length=200, required=False, help_text="Empty: none."
    )
    base_topic = forms.CharField(
        label="Base topic",
        max_length=200,
        required=False,
        help_text="Empty: micboard/<organization>.",
    )
    discovery = forms.BooleanField(required=False, initial=True, label="Home Assistant discovery")
    discovery_prefix = forms.CharField(
        label="Discovery prefix", max_length=100, required=False, initial="homeassistant"
    )

    def clean_base_topic(self) -> str:
        return _clean_topic(self.cleaned_data["base_topic"], "base_topic")

    def clean_discovery_prefix(self) -> str:
        return _clean_topic(self.cleaned_data["discovery_prefix"], "discovery_prefix")


def _clean_topic(value: str, name: str) -> str:
    value = value.strip().strip("/")
    if any(char in value for char in "+#\x00") or "//" in value:
        raise forms.ValidationError(
            "A topic may not hold +, # or an empty level.", code=f"invalid_{name}"
        )
    return value


@dataclass(frozen=True, slots=True)
class Broker:
    """How one output reaches its broker and names its topics."""

    host: str
    port: int
    tls: bool
    username: str | None
    password: str | None = field(repr=False)
    base: str
    organization: str
    group_id: int
    group_name: str  # a renamed group is a new broker: its topics move
    discovery_prefix: str | None  # None: no Home Assistant discovery

    @classmethod
    def of(cls, output: OutputConfig, event: OutputEvent) -> Broker:
        """Return the broker of an output (its group and organization: the event's)."""
        config = output.config
        prefix = str(config.get("discovery_prefix") or "homeassistant")
        return cls(
            host=str(config["host"]),
            port=int(config.get("port") or 1883),
            tls=bool(config.get("tls")),
            username=str(config.get("username") or "") or None,
            password=output.secrets.get("password") or None,
            base=str(config.get("base_topic") or f"micboard/{event.organization_slug}"),
            organization=event.organization_slug,
            group_id=event.group_id,
            group_name=event.group_name,
            discovery_prefix=prefix if config.get("discovery", True) else None,
        )

    @property
    def group_topic(self) -> str:
        return f"{self.base}/{topic_level(self.group_name, f'group-{self.group_id}')}"

    @property
    def availability(self) -> str:
        """The group's own: outputs of several groups may share one broker and base."""
        return f"{self.group_topic}/status"

    def state_topic(self, slot: str, unit_id: int) -> str:
        return f"{self.group_topic}/{topic_level(slot, f'unit-{unit_id}')}/state"

    def event_topic(self, kind: str) -> str:
        return f"{self.group_topic}/events/{topic_level(kind, 'event')}"


def topic_level(text: str, fallback: str) -> str:
    """Return `text` fit for one topic level: no separators, wildcards or spaces."""
    return _TOPIC_UNSAFE.sub("-", text.strip()).strip("-") or fallback


def state_document(unit: UnitSnapshot) -> dict[str, Any]:
    """Return the JSON of a unit's retained state topic: what a tile shows, flattened."""
    state = unit.state or {}
    rf = [value for value in (state.get("rf_a"), state.get("rf_b")) if value is not None]
    return {
        "unit_id": unit.unit_id,
        "slot": unit.slot,
        "name": unit.name,
        "performer": unit.performer,
        "online": bool(state.get("online")),
        "status": state.get("status"),
        "battery": state.get("percent"),
        "battery_bars": state.get("bars"),
        "battery_minutes": state.get("minutes"),
        "battery_status": state.get("battery_status"),
        "rf": max(rf) if rf else None,
        "rf_a": state.get("rf_a"),
        "rf_b": state.get("rf_b"),
        "audio": state.get("audio"),
        "ts": state.get("ts"),
    }


# Home Assistant sensors per unit: (key in the state JSON, name, unit, device class).
SENSORS: tuple[tuple[str, str, str | None, str | None], ...] = (
    ("battery", "Battery", "%", "battery"),
    ("rf", "RF", "dBm", "signal_strength"),
    ("audio", "Audio", "dBFS", None),
    ("status", "Status", None, None),
)


def discovery_messages(broker: Broker, unit: UnitSnapshot) -> list[tuple[str, dict[str, Any]]]:
    """Return (topic, config) of each Home Assistant sensor of one unit."""
    assert broker.discovery_prefix is not None
    device_id = _ID_UNSAFE.sub("_", f"micboard_{broker.organization}_{unit.unit_id}")
    label = unit.slot or unit.name or f"unit {unit.unit_id}"
    device = {
        "identifiers": [device_id],
        "name": f"{label} ({unit.performer})" if unit.performer else label,
        "manufacturer": "Micboard",
        "model": "Wireless unit",
        "suggested_area": broker.group_name,
    }
    messages = []
    for key, name, unit_of_measurement, device_class in SENSORS:
        unique = f"{device_id}_{key}"
        config: dict[str, Any] = {
            "name": name,
            "unique_id": unique,
            "state_topic": broker.state_topic(unit.slot, unit.unit_id),
            "value_template": f"{{{{ value_json.{key} }}}}",
            "availability_topic": broker.availability,
            "device": device,
        }
        if unit_of_measurement:
            config |= {"unit_of_measurement": unit_of_measurement, "state_class": "measurement"}
        if device_class:
            config["device_class"] = device_class
        messages.append((f"{broker.discovery_prefix}/sensor/{unique}/config", config))
    return messages


def describe(error: BaseException) -> str:
    """Return why the broker could not be reached or refused, in words (no secrets)."""
    if isinstance(error, TimeoutError):
        return "the broker did not answer in time"
    if isinstance(error, aiomqtt.MqttCodeError) and error.rc is not None:
        return f"the broker refused: {error}"
    return f"cannot reach the broker: {error}" if str(error) else "cannot reach the broker"


class BrokerLink:
    """One output's connection to its broker, kept open by a task that reconnects."""

    def __init__(self, broker: Broker, states: UnitStates) -> None:
        self.broker = broker
        self.client: aiomqtt.Client | None = None
        self.last_error = "not connected yet"
        self._states = states
        self._announced: set[int] = set()  # units Home Assistant was told of, this connection
        self._tried = asyncio.Event()  # the first connect succeeded or failed
        self._task = asyncio.create_task(self._run(), name=f"mqtt {broker.host}:{broker.port}")

    async def wait_connected(self, within: float) -> aiomqtt.Client | None:
        """Return the client once the first connect is over (None if it failed)."""
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(within):
                await self._tried.wait()
        return self.client

    async def _run(self) -> None:
        delay = BACKOFF_FIRST
        while True:
            try:
                async with self._new_client() as client:
                    await self._on_connect(client)
                    delay = BACKOFF_FIRST
                    # Nothing is subscribed: the iteration ends only when the link drops.
                    async for _ in client.messages:
                        pass
            except (aiomqtt.MqttError, TimeoutError) as error:
                self.last_error = describe(error)
            except Exception:
                logger.exception("MQTT output to %s:%s failed", self.broker.host, self.broker.port)
                self.last_error = "could not publish the group's units (see the worker's log)"
            finally:
                self.client = None
                self._tried.set()
            await asyncio.sleep(delay)
            delay = min(delay * 2, BACKOFF_MAX)

    def _new_client(self) -> aiomqtt.Client:
        broker = self.broker
        return aiomqtt.Client(
            broker.host,
            broker.port,
            username=broker.username,
            password=broker.password,
            will=aiomqtt.Will(broker.availability, OFFLINE, qos=1, retain=True),
            timeout=CONNECT_TIMEOUT,
            keepalive=KEEPALIVE,
            tls_context=ssl.create_default_context() if broker.tls else None,
        )

    async def _on_connect(self, client: aiomqtt.Client) -> None:
        """Say online, then restate the whole group before deliveries may go out."""
        await client.publish(self.broker.availability, ONLINE, qos=1, retain=True)
        self._announced.clear()
        for unit in await self._states.of_group(self.broker.group_id):
            await self.publish_unit(client, unit)
        self.client = client
        self._tried.set()

    async def publish_unit(self, client: aiomqtt.Client, unit: UnitSnapshot) -> None:
        broker = self.broker
        if broker.discovery_prefix is not None and unit.unit_id not in self._announced:
            for topic, config in discovery_messages(broker, unit):
                await client.publish(topic, orjson.dumps(config), qos=1, retain=True)
            self._announced.add(unit.unit_id)
        topic = broker.state_topic(unit.slot, unit.unit_id)
        await client.publish(topic, orjson.dumps(state_document(unit)), qos=1, retain=True)

    async def close(self) -> None:
        """Say offline (a clean disconnect sends no last will), then stop the task."""
        if self.client is not None:
            with contextlib.suppress(aiomqtt.MqttError, TimeoutError):
                async with asyncio.timeout(CLOSE_TIMEOUT):
                    await self.client.publish(self.broker.availability, OFFLINE, qos=1, retain=True)
        self._task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await self._task


class MqttDriver:
    kind: ClassVar[str] = KIND
    label: ClassVar[str] = "MQTT (Home Assistant, Node-RED)"
    config_form: ClassVar[type[forms.Form]] = MqttConfigForm
    secret_fields: ClassVar[dict[str, bool]] = {"password": False}  # many brokers have none

    def __init__(self) -> None:
        self._unit_states: UnitStates | None = None
        self._links: dict[int, BrokerLink] = {}

    def use_unit_states(self, states: UnitStates) -> None:
        self._unit_states = states

    @property
    def _states(self) -> UnitStates:
        if self._unit_states is None:
            raise RuntimeError("the outputs worker gives the MQTT driver its unit states")
        return self._unit_states

    async def deliver(self, event: OutputEvent, output: OutputConfig) -> DeliveryResult:
        link = await self._link(output, event)
        client = await link.wait_connected(FIRST_CONNECT_WAIT)
        if client is None:
            return DeliveryResult(False, error=link.last_error)
        broker = link.broker
        try:
            async with asyncio.timeout(PUBLISH_TIMEOUT):
                if event.unit_id is not None:
                    unit = UnitSnapshot(
                        event.unit_id,
                        event.unit_slot,
                        event.unit_name,
                        event.performer,
                        await self._states.of_unit(event.unit_id),
                    )
                    await link.publish_unit(client, unit)
                topic = broker.event_topic(event.kind)
                await client.publish(topic, orjson.dumps(event.as_json()), qos=1)
        except (aiomqtt.MqttError, TimeoutError) as error:
            return DeliveryResult(False, error=describe(error))
        return DeliveryResult(True)

    async def _link(self, output: OutputConfig, event: OutputEvent) -> BrokerLink:
        """Return the output's link, opened anew when its settings changed."""
        broker = Broker.of(output, event)
        link = self._links.get(output.id)
        if link is not None and link.broker != broker:
            await link.close()
            link = None
        if link is None:
            link = self._links[output.id] = BrokerLink(broker, self._states)
        return link

    async def forget(self, output_id: int) -> None:
        """Close the link of an output that was deleted or disabled."""
        link = self._links.pop(output_id, None)
        if link is not None:
            await link.close()

    async def close(self) -> None:
        for output_id in list(self._links):
            await self.forget(output_id)
