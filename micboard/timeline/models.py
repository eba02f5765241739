"""What the timeline stores: packed windows of each unit's per-second and per-10 s points.

A chunk belongs to a unit, and so to the unit's tenant: it is only ever read after
micboard/access.py has let the reader see the unit.
"""

from __future__ import annotations

from django.db import models

from micboard.models import WirelessUnit


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
