"""Performers (the people wearing the packs) and their assignments to field units."""

from __future__ import annotations

from datetime import datetime
from typing import ClassVar

from django.conf import settings
from django.db import models
from django.db.models import Case, Q, Value, When
from simple_history.models import HistoricalRecords

from micboard.models.access import MonitoringGroup
from micboard.models.base import TEXT_LIMIT, TenantManager, TenantOwned, TenantQuerySet
from micboard.models.hardware import WirelessUnit


class PerformerQuerySet(TenantQuerySet["Performer"]):
    def active(self) -> PerformerQuerySet:
        return self.filter(is_active=True)

    def with_assignments(self) -> PerformerQuerySet:
        """Prefetch assignments with their units joined, so listing them costs one extra query.

        The units come joined rather than prefetched on their own: asked for by thousands
        of ids, SQLite refuses the expression as deeper than it accepts (1000).
        """
        with_units = PerformerAssignment.objects.select_related("wireless_unit")
        return self.prefetch_related(models.Prefetch("assignments", queryset=with_units))


class PerformerManager(TenantManager.from_queryset(PerformerQuerySet)):  # type: ignore[misc]
    """The tenant-scoped manager of performers, with the queryset's methods."""


class Performer(TenantOwned):
    """A person who wears a transmitter or in-ear pack."""

    name = models.CharField(max_length=200)
    title = models.CharField(max_length=200, blank=True)
    email = models.EmailField(blank=True)
    phone = models.CharField(max_length=50, blank=True)
    photo = models.ImageField(upload_to="performers/", blank=True)
    notes = models.TextField(blank=True, validators=TEXT_LIMIT)
    is_active = models.BooleanField(default=True, db_index=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects: ClassVar[PerformerManager] = PerformerManager()
    history = HistoricalRecords()

    class Meta(TenantOwned.Meta):
        ordering = ["name", "id"]
        indexes = [models.Index(fields=["organization", "name"])]

    def __str__(self) -> str:
        return self.name


class Priority(models.TextChoices):
    LOW = "low", "Low"
    NORMAL = "normal", "Normal"
    HIGH = "high", "High"
    CRITICAL = "critical", "Critical"


PRIORITY_RANK = {Priority.LOW: 0, Priority.NORMAL: 1, Priority.HIGH: 2, Priority.CRITICAL: 3}
# Orders by severity, not alphabetically ("critical" < "high" < "low" < "normal").
PRIORITY_SEVERITY = Case(
    *[When(priority=value, then=Value(rank)) for value, rank in PRIORITY_RANK.items()],
    default=Value(0),
    output_field=models.IntegerField(),
)


class PerformerAssignmentQuerySet(TenantQuerySet["PerformerAssignment"]):
    def active(self) -> PerformerAssignmentQuerySet:
        """Keep assignments that are on and whose performer is on."""
        return self.filter(is_active=True, performer__is_active=True)

    def with_performer_and_unit(self) -> PerformerAssignmentQuerySet:
        return self.select_related(
            "performer",
            "wireless_unit",
            "wireless_unit__base_chassis",
            "wireless_unit__location",
            "monitoring_group",
        )

    def needing_alerts(self, after: datetime | None = None) -> PerformerAssignmentQuerySet:
        """Keep active assignments that want alerts; with `after`, those changed since then."""
        wanted = (
            self.active()
            .filter(alert_enabled=True)
            .filter(
                Q(alert_on_battery_low=True)
                | Q(alert_on_signal_loss=True)
                | Q(alert_on_audio_low=True)
                | Q(alert_on_device_offline=True)
            )
        )
        return wanted.filter(updated_at__gte=after) if after is not None else wanted


class PerformerAssignmentManager(TenantManager.from_queryset(PerformerAssignmentQuerySet)):  # type: ignore[misc]
    """The tenant-scoped manager of assignments, with the queryset's methods."""


class PerformerAssignment(TenantOwned):
    """Who wears which unit, watched by which monitoring group, and what to alert on."""

    performer = models.ForeignKey(Performer, on_delete=models.CASCADE, related_name="assignments")
    wireless_unit = models.ForeignKey(
        WirelessUnit, on_delete=models.CASCADE, related_name="assignments"
    )
    monitoring_group = models.ForeignKey(
        MonitoringGroup, on_delete=models.CASCADE, related_name="assignments"
    )
    priority = models.CharField(max_length=10, choices=Priority.choices, default=Priority.NORMAL)
    is_active = models.BooleanField(default=True)
    alert_enabled = models.BooleanField(default=True)
    alert_on_battery_low = models.BooleanField(default=True)
    alert_on_signal_loss = models.BooleanField(default=True)
    alert_on_audio_low = models.BooleanField(default=False)
    alert_on_device_offline = models.BooleanField(default=True)
    notes = models.TextField(blank=True, validators=TEXT_LIMIT)
    assigned_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    assigned_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects: ClassVar[PerformerAssignmentManager] = PerformerAssignmentManager()
    history = HistoricalRecords()

    class Meta(TenantOwned.Meta):
        ordering = [PRIORITY_SEVERITY.desc(), "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["performer", "wireless_unit"], name="uniq_performer_unit"
            )
        ]
        indexes = [
            models.Index(fields=["performer"]),
            models.Index(fields=["wireless_unit"]),
            models.Index(fields=["monitoring_group"]),
            models.Index(fields=["priority"]),
            models.Index(fields=["is_active"]),
        ]

    def __str__(self) -> str:
        return f"{self.performer} → {self.wireless_unit}"

    def get_alert_preferences(self) -> dict[str, bool]:
        return {
            "battery_low": self.alert_on_battery_low,
            "signal_loss": self.alert_on_signal_loss,
            "audio_low": self.alert_on_audio_low,
            "device_offline": self.alert_on_device_offline,
        }

    def wants_alert(self, condition: str) -> bool:
        """Return True when this assignment asks to be alerted on `condition`."""
        return self.alert_enabled and self.get_alert_preferences().get(condition, False)
