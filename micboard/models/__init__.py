"""Micboard's domain model; import everything from here."""

from micboard.models import user_access  # noqa: F401  (adds the access helpers to User)
from micboard.models.access import ApiToken, KioskLink, MonitoringGroup, UserProfile
from micboard.models.alerts import Alert, DeviceAssignment
from micboard.models.base import Campus, Organization
from micboard.models.hardware import (
    Charger,
    IgnoredDevice,
    Location,
    RFChannel,
    WirelessChassis,
    WirelessUnit,
)
from micboard.models.packs import BatteryPack, PackEvent
from micboard.models.performers import Performer, PerformerAssignment, Priority

__all__ = [
    "Alert",
    "ApiToken",
    "BatteryPack",
    "Campus",
    "Charger",
    "DeviceAssignment",
    "IgnoredDevice",
    "KioskLink",
    "Location",
    "MonitoringGroup",
    "Organization",
    "PackEvent",
    "Performer",
    "PerformerAssignment",
    "Priority",
    "RFChannel",
    "UserProfile",
    "WirelessChassis",
    "WirelessUnit",
]
