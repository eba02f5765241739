"""Shure networked chargers (SBC220/240/450/840/850) on the TCP 2202 command strings.

`parse` turns bay REPs into `Bay` states and `client` keeps one charger's bays current.
The simulator that plays one on loopback is `realtime.simulation.shure_charger`.
"""

from __future__ import annotations

from realtime.protocols.shure_charger.client import ChargerInfo, ShureChargerClient
from realtime.protocols.shure_charger.parse import Bay

__all__ = ["Bay", "ChargerInfo", "ShureChargerClient"]
