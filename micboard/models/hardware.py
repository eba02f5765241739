"""Where equipment lives and what it is: locations, receivers, channels, field units."""

from __future__ import annotations

from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models

from micboard.devices import Protocol
from micboard.models.base import TEXT_LIMIT, Campus, TenantOwned

BATTERY_BARS_REPLACE = 3
METER_INTERVAL_MIN_MS = 100  # the original Micboard: 4-5 good, 3 replace, 0-2 critical


class Location(TenantOwned):
    campus = models.ForeignKey(Campus, null=True, blank=True, on_delete=models.SET_NULL)
    building = models.CharField(max_length=200, blank=True)
    room = models.CharField(max_length=200, blank=True)
    name = models.CharField(max_length=200)
    description = models.TextField(blank=True, validators=TEXT_LIMIT)

    class Meta(TenantOwned.Meta):
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class WirelessChassis(TenantOwned):
    """A receiver, or the rack unit of an in-ear monitor transmitter."""

    campus = models.ForeignKey(Campus, null=True, blank=True, on_delete=models.SET_NULL)
    location = models.ForeignKey(Location, null=True, blank=True, on_delete=models.SET_NULL)
    manufacturer = models.CharField(max_length=100)
    model = models.CharField(max_length=100)
    name = models.CharField(max_length=200)
    protocol = models.CharField(max_length=32, choices=Protocol.choices)
    host = models.CharField(max_length=255)
    port = models.PositiveIntegerField(validators=[MinValueValidator(1), MaxValueValidator(65535)])
    serial = models.CharField(max_length=100, blank=True)
    firmware = models.CharField(max_length=100, blank=True)
    # Empty: the family's default. Shure's command strings take 100..65535 ms; QLX-D
    # receivers are known to lock up under fast metering, so users ask for a gentler rate.
    meter_interval_ms = models.PositiveIntegerField(
        null=True,
        blank=True,
        validators=[MinValueValidator(METER_INTERVAL_MIN_MS), MaxValueValidator(65535)],
        help_text="How often the receiver sends meters, in ms (empty: 100 ms)",
    )
    is_online = models.BooleanField(default=False)
    last_seen = models.DateTimeField(null=True, blank=True)

    class Meta(TenantOwned.Meta):
        ordering = ["name"]
        verbose_name_plural = "wireless chassis"
        constraints = [
            # One System API server fronts many devices, told apart by serial.
            models.UniqueConstraint(
                fields=["organization", "host", "port", "serial"], name="uniq_chassis_endpoint"
            )
        ]

    def __str__(self) -> str:
        return f"{self.name} ({self.model})"


class Charger(TenantOwned):
    """A networked battery charger (Shure SBC); its bays are live state, read by the poller."""

    location = models.ForeignKey(Location, null=True, blank=True, on_delete=models.SET_NULL)
    name = models.CharField(max_length=200)
    model = models.CharField(max_length=100, blank=True)
    host = models.CharField(max_length=255)
    port = models.PositiveIntegerField(
        default=2202, validators=[MinValueValidator(1), MaxValueValidator(65535)]
    )

    class Meta(TenantOwned.Meta):
        ordering = ["name"]
        constraints = [
            models.UniqueConstraint(
                fields=["organization", "host", "port"], name="uniq_charger_endpoint"
            )
        ]

    def __str__(self) -> str:
        return self.name


class IgnoredDevice(TenantOwned):
    """A receiver discovery found that an admin chose not to add (it stays off the list)."""

    protocol = models.CharField(max_length=32, choices=Protocol.choices)
    # The identity discovery matches on: the serial, or the address where there is none.
    identity = models.CharField(max_length=300)
    model = models.CharField(max_length=100, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta(TenantOwned.Meta):
        ordering = ["protocol", "identity"]
        constraints = [
            models.UniqueConstraint(
                fields=["organization", "protocol", "identity"], name="uniq_ignored_device"
            )
        ]

    def __str__(self) -> str:
        return f"{self.model or self.protocol} {self.identity}"


class RFChannel(TenantOwned):
    chassis = models.ForeignKey(WirelessChassis, on_delete=models.CASCADE, related_name="channels")
    number = models.PositiveSmallIntegerField(help_text="1-based, as on the front panel")
    name = models.CharField(max_length=100, blank=True)
    frequency_khz = models.PositiveIntegerField(null=True, blank=True)

    class Meta(TenantOwned.Meta):
        ordering = ["chassis_id", "number"]
        constraints = [
            models.UniqueConstraint(fields=["chassis", "number"], name="uniq_channel_number")
        ]

    def __str__(self) -> str:
        return f"{self.chassis.name} ch{self.number}"


class WirelessUnit(TenantOwned):
    """The monitored field unit on a channel, with the latest telemetry from the live path."""

    class Kind(models.TextChoices):
        HANDHELD = "handheld", "Handheld"
        BODYPACK = "bodypack", "Bodypack"
        IEM = "iem", "In-ear monitor pack"

    # None: a manual unit, an unnetworked device (a G3 IEM pack, a wired spare) an admin
    # placed on a wall with its performer; no receiver reports it, so it has no telemetry.
    base_chassis = models.ForeignKey(
        WirelessChassis, null=True, blank=True, on_delete=models.CASCADE, related_name="units"
    )
    # `chassis` is the same relation under its short name, so that
    # WirelessUnit.objects.filter(chassis=...) reads naturally; it has no column of its own.
    chassis = models.ForeignObject(
        WirelessChassis,
        on_delete=models.DO_NOTHING,
        from_fields=["base_chassis"],
        to_fields=["id"],
        related_name="+",
        null=True,  # as base_chassis: a manual unit has none
        blank=True,
    )
    rf_channel = models.OneToOneField(
        RFChannel, null=True, blank=True, on_delete=models.SET_NULL, related_name="unit"
    )
    location = models.ForeignKey(Location, null=True, blank=True, on_delete=models.SET_NULL)
    slot = models.CharField(max_length=20, blank=True, help_text="Short label, e.g. HH01")
    name = models.CharField(max_length=200, blank=True)
    kind = models.CharField(max_length=16, choices=Kind.choices, default=Kind.HANDHELD)

    battery_bars = models.PositiveSmallIntegerField(null=True, blank=True)
    battery_percent = models.PositiveSmallIntegerField(null=True, blank=True)
    battery_minutes = models.PositiveIntegerField(null=True, blank=True)
    rf_a_dbm = models.FloatField(null=True, blank=True)
    rf_b_dbm = models.FloatField(null=True, blank=True)
    antenna = models.CharField(max_length=2, blank=True)
    audio_dbfs = models.FloatField(null=True, blank=True)
    tx_offset_db = models.FloatField(null=True, blank=True)
    frequency_khz = models.PositiveIntegerField(null=True, blank=True)
    status = models.CharField(max_length=20, default="UNKNOWN")
    is_online = models.BooleanField(default=False)
    last_seen = models.DateTimeField(null=True, blank=True)

    class Meta(TenantOwned.Meta):
        ordering = ["slot", "id"]

    def __str__(self) -> str:
        return self.slot or self.name or f"unit {self.pk}"

    @property
    def battery_low(self) -> bool:
        """Return True when the battery should be replaced (3 bars or fewer, or <= 20%)."""
        if self.battery_bars is not None:
            return self.battery_bars <= BATTERY_BARS_REPLACE
        return self.battery_percent is not None and self.battery_percent <= 20

    @property
    def battery_critical(self) -> bool:
        if self.battery_bars is not None:
            return self.battery_bars < BATTERY_BARS_REPLACE
        return self.battery_percent is not None and self.battery_percent <= 10
