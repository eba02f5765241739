"""A Planning Center connection per organization, position pools per group, the people
linked to performers, where the roster last placed each of them, and each sync's result."""

from __future__ import annotations

from django.conf import settings
from django.db import models

from micboard.models import MonitoringGroup, Performer, WirelessUnit
from micboard.models.base import TenantOwned


class StatusFilter(models.TextChoices):
    """Which team members of a plan a sync places (Planning Center's C, U and D)."""

    CONFIRMED = "confirmed", "Confirmed only"
    NOT_DECLINED = "not_declined", "Everyone but the declined"
    EVERYONE = "everyone", "Everyone"


class PcoConnection(TenantOwned):
    """An organization's personal access token, and what the scheduled sync syncs.

    The secret is stored encrypted (`micboard.rosters.vault`) and never leaves the server.
    """

    app_id = models.CharField(max_length=200)
    secret_encrypted = models.TextField()
    service_type_id = models.CharField(max_length=40, blank=True)
    # The group the scheduled sync fills from the service type's next plan (none: off).
    schedule_group = models.ForeignKey(
        MonitoringGroup, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    status_filter = models.CharField(
        max_length=20, choices=StatusFilter.choices, default=StatusFilter.CONFIRMED
    )
    last_error = models.TextField(blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta(TenantOwned.Meta):
        constraints = [
            models.UniqueConstraint(fields=["organization"], name="uniq_pco_connection_org")
        ]

    def __str__(self) -> str:
        return f"Planning Center ({self.app_id[:6]}…)"


class PositionPool(TenantOwned):
    """A position of the roster ("Vocals") and the units of one group it fills, in order."""

    monitoring_group = models.ForeignKey(
        MonitoringGroup, on_delete=models.CASCADE, related_name="position_pools"
    )
    position_name = models.CharField(max_length=200)
    units = models.ManyToManyField(WirelessUnit, through="PoolSlot", related_name="+")

    class Meta(TenantOwned.Meta):
        ordering = ["position_name"]
        constraints = [
            models.UniqueConstraint(
                fields=["monitoring_group", "position_name"], name="uniq_pool_position"
            )
        ]

    def __str__(self) -> str:
        return f"{self.position_name} → {self.monitoring_group}"

    def ordered_units(self) -> list[WirelessUnit]:
        return [slot.wireless_unit for slot in self.slots.select_related("wireless_unit")]


class PoolSlot(models.Model):
    pool = models.ForeignKey(PositionPool, on_delete=models.CASCADE, related_name="slots")
    wireless_unit = models.ForeignKey(WirelessUnit, on_delete=models.CASCADE, related_name="+")
    order = models.PositiveIntegerField()

    class Meta:
        ordering = ["order", "id"]
        constraints = [
            models.UniqueConstraint(fields=["pool", "wireless_unit"], name="uniq_pool_unit")
        ]

    def __str__(self) -> str:
        return f"{self.order}: {self.wireless_unit}"


class PersonLink(TenantOwned):
    """A Planning Center person and the performer they are (matched by id, never by name)."""

    pco_person_id = models.CharField(max_length=40)
    performer = models.OneToOneField(Performer, on_delete=models.CASCADE, related_name="pco_link")

    class Meta(TenantOwned.Meta):
        constraints = [
            models.UniqueConstraint(
                fields=["organization", "pco_person_id"], name="uniq_pco_person"
            )
        ]

    def __str__(self) -> str:
        return f"PCO {self.pco_person_id} → {self.performer}"


class Placement(TenantOwned):
    """Where the roster put a performer in a group: the assignment it made while `current`,
    and the sticky pin ("last week's mic") once the performer is off the roster."""

    monitoring_group = models.ForeignKey(
        MonitoringGroup, on_delete=models.CASCADE, related_name="+"
    )
    performer = models.ForeignKey(Performer, on_delete=models.CASCADE, related_name="+")
    wireless_unit = models.ForeignKey(WirelessUnit, on_delete=models.CASCADE, related_name="+")
    position_name = models.CharField(max_length=200)
    current = models.BooleanField(default=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta(TenantOwned.Meta):
        constraints = [
            models.UniqueConstraint(
                fields=["monitoring_group", "performer", "position_name"],
                name="uniq_placement_position",
            )
        ]

    def __str__(self) -> str:
        return f"{self.performer} → {self.wireless_unit}"


class SyncRun(TenantOwned):
    """One applied sync (or one that failed): what it changed, who could not be placed."""

    monitoring_group = models.ForeignKey(
        MonitoringGroup, on_delete=models.CASCADE, related_name="+"
    )
    source = models.CharField(max_length=200)  # "Sunday 9am (Planning Center)", "roster.csv"
    ok = models.BooleanField(default=True)
    summary = models.JSONField(default=dict)
    error = models.TextField(blank=True)
    by_user = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta(TenantOwned.Meta):
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return f"{self.source} → {self.monitoring_group}"
