"""What the domain stores about a receiver: the protocol it speaks and what discovery learns.

The live path's clients and simulators describe devices with these; `InventoryService`
stores them. They live here, not in `realtime/`, because the domain never imports the live
path.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.db import models


class Protocol(models.TextChoices):
    """How Micboard talks to a receiver; the one list of protocols."""

    SHURE_TCP = "shure_tcp", "Shure TCP 2202"
    SHURE_API = "shure_api", "Shure System API"
    SENNHEISER_SSC = "sennheiser_ssc", "Sennheiser SSCv2"
    SENNHEISER_EW = "sennheiser_ew", "Sennheiser evolution wireless G3/G4"
    SENNHEISER_SSC1 = "sennheiser_ssc1", "Sennheiser SSCv1 (Digital 6000, EW-DX legacy)"


@dataclass(frozen=True, slots=True)
class ChannelInfo:
    """One receive channel as discovered on a device."""

    number: int  # 1-based
    name: str = ""
    frequency_khz: int | None = None


@dataclass(frozen=True, slots=True)
class DeviceInfo:
    """What discovery learns about one receiver."""

    protocol: Protocol
    host: str
    port: int
    manufacturer: str
    model: str
    name: str = ""
    serial: str = ""
    firmware: str = ""
    channels: tuple[ChannelInfo, ...] = ()
