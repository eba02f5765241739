"""Shure receivers on TCP 2202: ULX-D, QLX-D, Axient Digital, SLX-D and PSM1000.

`parse` turns bytes into readings (with the per-family tables in `fields`), `client`
talks to one receiver (`probe` identifies it), and `families` lists the supported models.
The simulator that plays one on loopback is `realtime.simulation.shure_tcp`.
"""

from __future__ import annotations

from realtime.protocols.shure_tcp.client import ShureTcpClient
from realtime.protocols.shure_tcp.families import MODELS, ModelSpec
from realtime.protocols.shure_tcp.probe import DiscoveryError

__all__ = ["MODELS", "DiscoveryError", "ModelSpec", "ShureTcpClient"]
