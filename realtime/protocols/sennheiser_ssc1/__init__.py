"""Sennheiser SSCv1: JSON over UDP (port 45 on the device): Digital 6000 EM 6000 and EW-DX
in legacy mode (`ewdx.py`).

`parse` turns datagrams into per-channel Reading fields and `client` talks to one
receiver. The simulator that plays one on loopback is `realtime.simulation.sennheiser_ssc1`.
"""

from __future__ import annotations

from realtime.protocols.sennheiser_ssc1.client import DEFAULT_PORT, SennheiserSsc1Client

__all__ = ["DEFAULT_PORT", "SennheiserSsc1Client"]
