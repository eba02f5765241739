"""Turns on a shared unit, and the mic checks of a group with their ticks.

Written only by `micboard/services/shared_mics.py` and `micboard/services/mic_check.py`.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from simple_history.models import HistoricalRecords

from micboard.models import MonitoringGroup, PerformerAssignment, WirelessUnit
from micboard.models.base import TenantOwned

# The change reason of a turn's audit record when the unit is passed to it.
HANDED_OVER = "handed over"


class MicTurn(TenantOwned):
    """One performer's place in the order a shared unit passes from hand to hand.

    A turn belongs to an assignment, so the unit, the group and the performer are the
    assignment's, and a turn drops out wherever the assignment does (deactivated or
    deleted). The turns of one unit in one group are its order; one of them is "now".
    """

    assignment = models.OneToOneField(
        PerformerAssignment, on_delete=models.CASCADE, related_name="turn"
    )
    position = models.PositiveIntegerField()
    is_current = models.BooleanField(default=False)

    history = HistoricalRecords()  # the audit trail of every hand-over and reorder

    class Meta:
        ordering = ["position", "pk"]

    def __str__(self) -> str:
        return f"turn {self.position} of {self.assignment}"


class MicCheck(TenantOwned):
    """One pre-show mic check of a group; the newest is the one the wall and page show."""

    monitoring_group = models.ForeignKey(
        MonitoringGroup, on_delete=models.CASCADE, related_name="mic_checks"
    )
    started_at = models.DateTimeField()
    started_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        ordering = ["-started_at", "-pk"]
        indexes = [models.Index(fields=["monitoring_group", "started_at"], name="mic_check_at")]

    def __str__(self) -> str:
        return f"mic check of {self.monitoring_group} at {self.started_at:%Y-%m-%d %H:%M}"


class MicCheckTick(TenantOwned):
    """A tech's "checked" on one unit in one mic check: who and when."""

    mic_check = models.ForeignKey(MicCheck, on_delete=models.CASCADE, related_name="ticks")
    wireless_unit = models.ForeignKey(WirelessUnit, on_delete=models.CASCADE, related_name="+")
    checked_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    checked_at = models.DateTimeField()

    history = HistoricalRecords()  # unticks too

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["mic_check", "wireless_unit"], name="uniq_mic_check_tick"
            )
        ]

    def __str__(self) -> str:
        return f"{self.wireless_unit} checked"
