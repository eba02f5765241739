"""A Shure TCP 2202 receiver on loopback: `simulator` serves one, `fleet` runs many.

`dynamics` holds its physics (battery drain, RF, audio, faults), `render` the wire format
and `connection` the per-client state (metering rate, buffered replies).
"""

from __future__ import annotations

from realtime.simulation.shure_tcp.fleet import SimulatorFleet
from realtime.simulation.shure_tcp.simulator import ShureTcpSimulator

__all__ = ["ShureTcpSimulator", "SimulatorFleet"]
