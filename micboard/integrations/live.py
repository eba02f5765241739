"""What the outputs worker gives the drivers that keep state: live unit state to publish
(MQTT's retained topics), and word of an output removed (to close its connection).

A driver never reads Redis or the database itself: the outputs worker, which may, hands
a `UnitStates` to every driver that `ReadsUnitStates` (realtime/outputs/states.py).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Protocol, runtime_checkable


@dataclass(frozen=True, slots=True)
class UnitSnapshot:
    """One unit of a group as the outputs see it: who wears it and its live state."""

    unit_id: int
    slot: str
    name: str
    performer: str | None
    state: Mapping[str, Any] | None  # the stored UnitState (docs/live-protocol.md), or None


class UnitStates(Protocol):
    async def of_unit(self, unit_id: int) -> Mapping[str, Any] | None:
        """Return the unit's stored UnitState, or None before the poller has one."""

    async def of_group(self, group_id: int) -> list[UnitSnapshot]:
        """Return every unit actively assigned in the group."""


@runtime_checkable
class ReadsUnitStates(Protocol):
    def use_unit_states(self, states: UnitStates) -> None: ...


@runtime_checkable
class KeepsLinks(Protocol):
    """A driver that holds a connection per output (MQTT): the worker lets go of an
    output's when the output is removed."""

    async def forget(self, output_id: int) -> None: ...
