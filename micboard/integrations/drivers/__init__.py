"""The output drivers, one small module each, listed by kind (docs/integrations.md)."""

from __future__ import annotations

from micboard.integrations.drivers.mqtt import MqttDriver
from micboard.integrations.drivers.osc import OscDriver
from micboard.integrations.drivers.webhook import WebhookDriver
from micboard.integrations.types import Driver

DRIVERS: dict[str, type[Driver]] = {
    WebhookDriver.kind: WebhookDriver,
    MqttDriver.kind: MqttDriver,
    OscDriver.kind: OscDriver,
}


def driver_class(kind: str) -> type[Driver]:
    """Return the driver of a kind (KeyError for a kind this build does not have)."""
    return DRIVERS[kind]
