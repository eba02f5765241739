"""Timings of the poller, in one place (tests shorten some of them)."""

from __future__ import annotations

import os
import secrets
import socket
from dataclasses import dataclass, field


def new_poller_id() -> str:
    """Return an id that names this process and stays unique across restarts."""
    return f"{socket.gethostname()}-{os.getpid()}-{secrets.token_hex(2)}"


@dataclass(frozen=True, slots=True)
class PollerConfig:
    poller_id: str = field(default_factory=new_poller_id)
    frame_interval: float = 0.025  # under load: one coalesced delta per group per tick
    # Below this many state changes a second (about 300 channels at 10 Hz) each change is
    # sent as soon as the loop is free instead of on the next tick; 0: always on the tick.
    eager_below: float = 3000.0
    snapshot_interval: float = 5.0
    settle_interval: float = 0.1  # hysteresis candidates waiting for their hold time
    second_interval: float = 1.0  # history points, time-based status, heartbeat
    history_maxlen: int = 3600  # one point a second: about an hour per unit
    persist_interval: float = 3.0  # telemetry batches to the database
    timeline: bool = True  # record every unit's points for the timeline (recorder.py)
    alert_interval: float = 0.25
    outputs_interval: float = 0.1  # unit events onto the outputs' stream (outputs/feed.py)
    lease_ttl_ms: int = 3000
    lease_interval: float = 1.0
    heartbeat_ttl_ms: int = 5000
    topology_interval: float = 60.0  # safety net; changes arrive on the events channel
    topology_debounce: float = 0.05
    discovery: bool = False  # listen for receivers' announcements (run_poller: a setting)
    slp_port: int = 8427
    discovery_interfaces: tuple[str, ...] = ()  # IPv4 addresses to listen on; () all
