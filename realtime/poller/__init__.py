"""The poller process: device leases, readings, live state in Redis, frames, alerts."""

from realtime.poller.config import PollerConfig
from realtime.poller.runner import Poller

__all__ = ["Poller", "PollerConfig"]
