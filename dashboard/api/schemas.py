"""What the read API answers: one schema per kind of object, read from the models."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from ninja import Field, Schema
from pydantic import ConfigDict


class OrganizationOut(Schema):
    id: int
    name: str
    slug: str


class GroupOut(Schema):
    id: int
    name: str
    description: str


class UnitOut(Schema):
    # Built from a unit and then given its live state, so read back by field name too.
    model_config = ConfigDict(populate_by_name=True)

    id: int
    slot: str
    name: str
    kind: str
    chassis_id: int | None = Field(alias="base_chassis_id")  # None: a manual, unnetworked unit
    location_id: int | None
    live: dict[str, Any] | None = Field(
        None,
        description="The unit's live state as the walls get it (UnitState in "
        "docs/live-protocol.md); null when the poller has not read it or Redis is down.",
    )


class PerformerOut(Schema):
    """A performer by name and title; contact details stay on the pages."""

    id: int
    name: str
    title: str


class AssignmentOut(Schema):
    id: int
    performer_id: int
    unit_id: int = Field(alias="wireless_unit_id")
    group_id: int = Field(alias="monitoring_group_id")
    priority: str


class AlertOut(Schema):
    id: int
    kind: str
    severity: str
    message: str
    unit_id: int = Field(alias="wireless_unit_id")
    group_id: int | None = Field(alias="monitoring_group_id")
    created_at: datetime
    acknowledged_at: datetime | None


class EventOut(Schema):
    """One thing on a group's timeline: a unit's event (dropout, transmitter off, clip,
    battery swap, receiver offline) or a tech's marker (kind "marker", no unit)."""

    time: datetime = Field(description="When it started (a marker: when it was set).")
    kind: str
    label: str = Field(description="The kind in words; a marker's own text.")
    unit_id: int | None
    ended_at: datetime | None = Field(description="null while it lasts, and for markers.")
    duration: float | None = Field(description="Seconds, once it is over.")
    detail: dict[str, Any]
