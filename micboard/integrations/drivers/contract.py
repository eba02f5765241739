"""What an output driver is handed and returns (provisional until the outputs framework
lands: the same names and fields as the interface it builds to)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True, slots=True)
class OutputEvent:
    id: str
    kind: str  # "alert.raised", "unit.offline", "battery.step", ...
    occurred_at: dt.datetime
    organization: str  # the organization's slug
    group_id: int
    group_name: str
    unit_id: int | None = None
    unit_slot: str = ""
    unit_name: str = ""
    performer: str | None = None
    payload: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class OutputConfig:
    id: int
    kind: str
    organization: str
    group_id: int
    config: Mapping[str, Any]
    secrets: Mapping[str, str]


@dataclass(frozen=True, slots=True)
class DeliveryResult:
    delivered: bool
    detail: str = ""  # why it failed, in words (never a secret)
