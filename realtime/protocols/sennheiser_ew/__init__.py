"""Sennheiser evolution wireless G3/G4 receivers: plain-text commands over UDP 53212.

`parse` turns datagrams into Reading fields and `client` talks to one receiver. The
simulator that plays one on loopback is `realtime.simulation.sennheiser_ew`.
"""

from __future__ import annotations

from realtime.protocols.sennheiser_ew.client import DEFAULT_PORT, SennheiserEwClient

__all__ = ["DEFAULT_PORT", "SennheiserEwClient"]
