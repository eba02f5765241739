"""The names outputs use: their kinds, the events they can be told, how a try ended.

Kept apart from types.py (which needs django.forms) so the models can import them.
"""

from __future__ import annotations

from enum import StrEnum


class OutputKind(StrEnum):
    WEBHOOK = "webhook"
    MQTT = "mqtt"
    OSC = "osc"


class OutputEventKind(StrEnum):
    """What an output can be told; `Output.events` lists the ones it wants."""

    ALERT_RAISED = "alert.raised"
    ALERT_ACKNOWLEDGED = "alert.acknowledged"
    ALERT_RESOLVED = "alert.resolved"
    UNIT_OFFLINE = "unit.offline"
    UNIT_ONLINE = "unit.online"
    BATTERY_STEP = "battery.step"
    DROPOUT = "dropout"
    TEST = "test"  # "Send test event" on the outputs page: always delivered


EVENT_LABELS: dict[str, str] = {
    OutputEventKind.ALERT_RAISED: "Alert raised",
    OutputEventKind.ALERT_ACKNOWLEDGED: "Alert acknowledged",
    OutputEventKind.ALERT_RESOLVED: "Alert resolved",
    OutputEventKind.UNIT_OFFLINE: "Unit offline",
    OutputEventKind.UNIT_ONLINE: "Unit online",
    OutputEventKind.BATTERY_STEP: "Battery step (a bar gained or lost)",
    OutputEventKind.DROPOUT: "RF dropout",
}


class DeliveryStatus(StrEnum):
    DELIVERED = "delivered"
    FAILED = "failed"  # tried again later
    GIVING_UP = "giving-up"  # the last attempt failed: no more tries
