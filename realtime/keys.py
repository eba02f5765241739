"""Names of the Redis keys, pub/sub channels and channel-layer groups of the live path.

docs/live-protocol.md is the contract; every name used anywhere is built here. The prefix
is read from settings on each call (tests give every test its own prefix).
"""

from __future__ import annotations

from django.conf import settings


def prefix() -> str:
    return str(settings.MICBOARD_REDIS_PREFIX)


def unit_state(unit_id: int) -> str:
    return f"{prefix()}:unit:{unit_id}"


def unit_history(unit_id: int) -> str:
    return f"{prefix()}:hist:{unit_id}"


def group_units(group_id: int) -> str:
    return f"{prefix()}:group:{group_id}:units"


def group_seq(group_id: int) -> str:
    return f"{prefix()}:group:{group_id}:seq"


def lease(chassis_id: int) -> str:
    return f"{prefix()}:lease:{chassis_id}"


def poller(poller_id: str) -> str:
    return f"{prefix()}:poller:{poller_id}"


def pollers() -> str:
    return f"{prefix()}:pollers"


def published() -> str:
    return f"{prefix()}:published"


def events() -> str:
    return f"{prefix()}:events"


def layer_group(group_id: int) -> str:
    """Return the channel-layer group of everyone watching a monitoring group."""
    return f"mg.{group_id}"


def layer_user(user_id: int) -> str:
    """Return the channel-layer group of every socket a user has open, on any wall."""
    return f"user.{user_id}"


def found_devices() -> str:
    """Return the hash of receivers discovery has heard: address key → FoundDevice JSON."""
    return f"{prefix()}:found"


def charger_bays() -> str:
    """Return the hash of each read charger's bays: charger id → ChargerState JSON."""
    return f"{prefix()}:chargers"


def device_health() -> str:
    """Return the hash of each read receiver's health: chassis id → DeviceHealth JSON."""
    return f"{prefix()}:devhealth"


def outputs() -> str:
    """Return the stream of events for the outputs worker (realtime/outputs/feed.py)."""
    return f"{prefix()}:outputs"
