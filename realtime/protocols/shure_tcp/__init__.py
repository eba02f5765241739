"""Shure receivers on TCP 2202: ULX-D, QLX-D, Axient Digital, SLX-D and PSM1000.

`parse` turns bytes into readings (with the per-family tables in `fields`), `client`
talks to one receiver (`probe` identifies it), `simulator` plays one on loopback
(`dynamics`, `render` and `connection` hold its physics, wire format and per-client
state; `fleet` runs many), and `models` lists the supported models.
"""

from __future__ import annotations

from realtime.protocols.shure_tcp.client import ShureTcpClient
from realtime.protocols.shure_tcp.families import MODELS, ModelSpec
from realtime.protocols.shure_tcp.fleet import SimulatorFleet
from realtime.protocols.shure_tcp.probe import DiscoveryError
from realtime.protocols.shure_tcp.simulator import ShureTcpSimulator

__all__ = [
    "MODELS",
    "DiscoveryError",
    "ModelSpec",
    "ShureTcpClient",
    "ShureTcpSimulator",
    "SimulatorFleet",
]
