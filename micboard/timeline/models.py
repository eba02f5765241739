"""What the timeline stores: packed windows of each unit's per-second and per-10 s points.

A chunk belongs to a unit, and so to the unit's tenant: it is only ever read after
micboard/access.py has let the reader see the unit.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models

from micboard.models import MonitoringGroup, WirelessUnit
from micboard.models.base import TenantOwned


class Resolution(models.IntegerChoices):
    SECOND = 1, "1 s"
    TEN_SECONDS = 10, "10 s"


class SampleChunk(models.Model):
    """POINTS consecutive points (codec.py) of one unit, starting at `start`."""

    unit = models.ForeignKey(WirelessUnit, on_delete=models.CASCADE, related_name="+")
    resolution = models.PositiveSmallIntegerField(choices=Resolution.choices)
    start = models.BigIntegerField(help_text="Unix time (s) of the first point")
    data = models.BinaryField()

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["unit", "resolution", "start"], name="uniq_timeline_chunk"
            )
        ]
        indexes = [models.Index(fields=["resolution", "start"], name="timeline_chunk_age")]

    def __str__(self) -> str:
        return f"unit {self.unit_id}, {self.resolution} s points from {self.start}"


class ReadingChunk(models.Model):
    """Every reading of one unit during one minute, at full rate (codec.encode_readings)."""

    unit = models.ForeignKey(WirelessUnit, on_delete=models.CASCADE, related_name="+")
    start = models.BigIntegerField(help_text="Unix time (s) of the minute's first second")
    data = models.BinaryField()

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["unit", "start"], name="uniq_timeline_readings")
        ]
        indexes = [models.Index(fields=["start"], name="timeline_readings_age")]

    def __str__(self) -> str:
        return f"unit {self.unit_id}, readings from {self.start}"


class EventKind(models.TextChoices):
    """What the poller saw happen to a unit (realtime/poller/detector.py)."""

    DROPOUT = "dropout", "RF dropout"
    TX_OFF = "tx_off", "Transmitter off"
    CLIP = "clip", "Audio clip"
    BATTERY_SWAP = "battery_swap", "Battery swap"
    RX_OFFLINE = "rx_offline", "Receiver offline"


class UnitEvent(models.Model):
    """Something with a start and (once it is over) an end, on one unit's timeline.

    `lane` names the detector that saw it, so an open event is closed (and, for an RF
    loss, reclassified as a dropout or the transmitter off) by the same row.
    """

    unit = models.ForeignKey(WirelessUnit, on_delete=models.CASCADE, related_name="+")
    lane = models.CharField(max_length=16)
    kind = models.CharField(max_length=16, choices=EventKind.choices)
    started_at = models.DateTimeField()
    ended_at = models.DateTimeField(null=True, blank=True)
    detail = models.JSONField(default=dict, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["unit", "lane", "started_at"], name="uniq_timeline_unit_event"
            )
        ]
        indexes = [models.Index(fields=["unit", "started_at"], name="timeline_event_at")]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} on unit {self.unit_id} at {self.started_at}"

    @property
    def duration(self) -> float | None:
        if self.ended_at is None:
            return None
        return (self.ended_at - self.started_at).total_seconds()


class Marker(TenantOwned):
    """A tech's note on a group's timeline: "song 4", "walk test start", "show start"."""

    monitoring_group = models.ForeignKey(
        MonitoringGroup, on_delete=models.CASCADE, related_name="timeline_markers"
    )
    at = models.DateTimeField()
    label = models.CharField(max_length=100)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        ordering = ["at"]
        indexes = [models.Index(fields=["monitoring_group", "at"], name="timeline_marker_at")]

    def __str__(self) -> str:
        return self.label
