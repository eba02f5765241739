"""Ask a receiver who it is: family, model, channels, serial, before it is added.

The same clients that read a receiver live identify it (`discover()`), each on its own
short connection, so a probe and the live path never disagree about a model.
"""

from __future__ import annotations

import asyncio
import contextlib

from micboard.devices import DeviceInfo, Protocol
from realtime.poller.clients import default_client_factory
from realtime.poller.topology import ChassisInfo
from realtime.protocols.failures import describe_failure

PROBE_TIMEOUT = 6.0
DEFAULT_PORTS = {
    Protocol.SHURE_TCP: 2202,
    Protocol.SENNHEISER_SSC: 443,
    Protocol.SHURE_API: 10000,
    Protocol.SENNHEISER_EW: 53212,
    Protocol.SENNHEISER_SSC1: 45,
}


class ProbeFailed(Exception):
    """The receiver could not be identified; the message says why, in words."""


async def probe_device(protocol: Protocol, host: str, port: int, *, serial: str = "") -> DeviceInfo:
    """Identify the receiver at host:port; raise ProbeFailed naming why it could not be."""
    client = default_client_factory(ChassisInfo(0, str(protocol), host, port, serial=serial))
    try:
        async with asyncio.timeout(PROBE_TIMEOUT):
            info = await client.discover()
    except Exception as error:
        raise ProbeFailed(describe_failure(error)) from error
    finally:
        with contextlib.suppress(Exception):
            await client.close()
    if not info.channels:
        raise ProbeFailed("answered, but reports no receive channels")
    return info
