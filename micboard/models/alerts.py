"""Alerts raised by the live path, and the legacy user-to-channel assignment."""

from __future__ import annotations

from typing import ClassVar

from django.conf import settings
from django.db import models

from micboard.models.access import MonitoringGroup
from micboard.models.base import TenantManager, TenantOwned, TenantQuerySet
from micboard.models.hardware import RFChannel, WirelessUnit
from micboard.models.performers import PerformerAssignment


class AlertQuerySet(TenantQuerySet["Alert"]):
    def open(self) -> AlertQuerySet:
        return self.filter(resolved_at__isnull=True)

    def unacknowledged(self) -> AlertQuerySet:
        return self.filter(acknowledged_at__isnull=True)


class AlertManager(TenantManager.from_queryset(AlertQuerySet)):  # type: ignore[misc]
    """The tenant-scoped manager of alerts, with the queryset's methods."""


class Alert(TenantOwned):
    """One condition on one unit, on the walls of one group: raised once, acknowledged,
    resolved. `assignment` is the one the alert was raised for (the first of the unit's
    assignments in the group); the message names every performer of the unit there."""

    class Kind(models.TextChoices):
        BATTERY_LOW = "battery_low", "Battery low"
        BATTERY_CRITICAL = "battery_critical", "Battery critical"
        SIGNAL_LOSS = "signal_loss", "Signal loss"
        AUDIO_LOW = "audio_low", "Audio low"
        DEVICE_OFFLINE = "device_offline", "Device offline"
        DEVICE_ONLINE = "device_online", "Device back online"
        # Raised on the unit wearing the pack: a worn pack in a bay worries no one until
        # it goes on a performer (the Chargers page flags it there).
        PACK_WORN = "pack_worn", "Worn battery pack"

    class Severity(models.TextChoices):
        INFO = "info", "Info"
        WARNING = "warning", "Warning"
        CRITICAL = "critical", "Critical"

    kind = models.CharField(max_length=32, choices=Kind.choices)
    severity = models.CharField(max_length=10, choices=Severity.choices)
    wireless_unit = models.ForeignKey(WirelessUnit, on_delete=models.CASCADE, related_name="alerts")
    assignment = models.ForeignKey(
        PerformerAssignment, null=True, blank=True, on_delete=models.SET_NULL, related_name="alerts"
    )
    monitoring_group = models.ForeignKey(
        MonitoringGroup, null=True, blank=True, on_delete=models.CASCADE, related_name="alerts"
    )
    message = models.CharField(max_length=300)
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)
    acknowledged_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    acknowledged_at = models.DateTimeField(null=True, blank=True)
    resolved_at = models.DateTimeField(null=True, blank=True)

    objects: ClassVar[AlertManager] = AlertManager()

    class Meta(TenantOwned.Meta):
        ordering = ["-created_at", "-id"]
        constraints = [
            # Transitions only: one open alert per unit, group and condition at a time,
            # however many performers share the unit.
            models.UniqueConstraint(
                fields=["wireless_unit", "monitoring_group", "kind"],
                condition=models.Q(resolved_at__isnull=True),
                name="uniq_open_alert_per_unit",
            )
        ]

    def __str__(self) -> str:
        return self.message


class DeviceAssignment(TenantOwned):
    """Legacy: a user watching one RF channel. Kept for AssignmentService; use performers."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="device_assignments"
    )
    channel = models.ForeignKey(RFChannel, on_delete=models.CASCADE, related_name="assignments")
    alert_enabled = models.BooleanField(default=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta(TenantOwned.Meta):
        ordering = ["id"]
        constraints = [
            models.UniqueConstraint(fields=["user", "channel"], name="uniq_user_channel")
        ]

    def __str__(self) -> str:
        return f"{self.user} ↔ {self.channel}"
