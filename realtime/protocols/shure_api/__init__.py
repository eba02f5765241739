"""Shure System API family: REST + WebSocket push through one middleware server.

Gives inventory, device ONLINE/OFFLINE state, per-channel audio activity (LOW/GOOD/
CLIPPING) and battery data of battery-powered devices; no RF, no receiver battery.
The simulator lives in `.simulator` and is not imported here, so the poller does not load it.
"""

from __future__ import annotations

from realtime.protocols.shure_api.client import ShureSystemApiClient, SystemApiSession
from realtime.protocols.shure_api.errors import (
    AuthenticationError,
    BadRequestError,
    NotFoundError,
    RateLimitedError,
    ShureApiError,
    UnprocessableError,
)
from realtime.protocols.shure_api.timing import SystemApiTimings

__all__ = [
    "AuthenticationError",
    "BadRequestError",
    "NotFoundError",
    "RateLimitedError",
    "ShureApiError",
    "ShureSystemApiClient",
    "SystemApiSession",
    "SystemApiTimings",
    "UnprocessableError",
]
