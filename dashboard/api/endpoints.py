"""The read API's endpoints: thin reads through the token rules of micboard.access.

Each list is one query (plus one Redis MGET for units), whatever its length; an object
outside the token's groups answers 404, exactly like a missing one.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from django.db.models import Q
from django.http import HttpRequest
from django.shortcuts import get_object_or_404
from django.views.decorators.http import require_GET
from ninja import NinjaAPI, Query

from dashboard.api.auth import TokenAuth, token_scope
from dashboard.api.live import live_states
from dashboard.api.schemas import (
    AlertOut,
    AssignmentOut,
    EventOut,
    GroupOut,
    OrganizationOut,
    PerformerOut,
    UnitOut,
)
from micboard import access
from micboard.models import Organization, WirelessUnit
from micboard.timeline.models import Marker, UnitEvent

EVENTS_DEFAULT = 100
EVENTS_MAX = 1000  # one answer stays small; older ones are paged with `until`

api = NinjaAPI(
    title="Micboard read API",
    version="1",
    description="Read-only JSON for integrations; see docs/integrations.md.",
    auth=TokenAuth(),
    urls_namespace="api",
    docs_url=None,
    openapi_url="/openapi.json",
    docs_decorator=require_GET,  # the OpenAPI document is read, like everything here
)


@api.get("/organizations/", response=list[OrganizationOut], url_name="organizations")
def organizations(request: HttpRequest) -> Any:
    """List the token's organization (a token belongs to exactly one)."""
    with token_scope(request) as token:
        return list(Organization.objects.filter(pk=token.organization_id))


@api.get("/groups/", response=list[GroupOut], url_name="groups")
def groups(request: HttpRequest) -> Any:
    """List the active groups the token reads."""
    with token_scope(request) as token:
        return list(access.token_groups(token))


@api.get("/groups/{group_id}/", response=GroupOut, url_name="group")
def group(request: HttpRequest, group_id: int) -> Any:
    with token_scope(request) as token:
        return get_object_or_404(access.token_groups(token), pk=group_id)


@api.get("/units/", response=list[UnitOut], url_name="units")
def units(request: HttpRequest) -> Any:
    """List the units assigned in the token's groups or kept at their locations, live."""
    with token_scope(request) as token:
        found = list(access.token_units(token).order_by("pk"))
    return _with_live_state(found)


@api.get("/units/{unit_id}/", response=UnitOut, url_name="unit")
def unit(request: HttpRequest, unit_id: int) -> Any:
    with token_scope(request) as token:
        found = get_object_or_404(access.token_units(token), pk=unit_id)
    return _with_live_state([found])[0]


@api.get("/performers/", response=list[PerformerOut], url_name="performers")
def performers(request: HttpRequest) -> Any:
    """List the active performers assigned in the token's groups."""
    with token_scope(request) as token:
        return list(access.token_performers(token))


@api.get("/performers/{performer_id}/", response=PerformerOut, url_name="performer")
def performer(request: HttpRequest, performer_id: int) -> Any:
    with token_scope(request) as token:
        return get_object_or_404(access.token_performers(token), pk=performer_id)


@api.get("/assignments/", response=list[AssignmentOut], url_name="assignments")
def assignments(request: HttpRequest) -> Any:
    """List the active assignments of the token's groups."""
    with token_scope(request) as token:
        return list(access.token_assignments(token).order_by("pk"))


@api.get("/alerts/", response=list[AlertOut], url_name="alerts")
def alerts(request: HttpRequest) -> Any:
    """List the open (unresolved) alerts of the token's groups, newest first."""
    with token_scope(request) as token:
        return list(access.token_alerts(token).open())


@api.get("/groups/{group_id}/events/", response=list[EventOut], url_name="group-events")
def group_events(
    request: HttpRequest,
    group_id: int,
    since: datetime | None = None,
    until: datetime | None = None,
    unit: int | None = None,
    limit: int = Query(EVENTS_DEFAULT, ge=1, le=EVENTS_MAX),
) -> Any:
    """List the group's timeline events and markers that started in [since, until), newest
    first, at most `limit`; for older ones ask again with `until` = the last one's time.
    With `unit`, only that unit's events (markers belong to the whole group)."""
    window = _window(since, until)
    with token_scope(request) as token:
        found = get_object_or_404(access.token_groups(token), pk=group_id)
        events = access.token_unit_events(token, found).filter(_started_in("started_at", window))
        if unit is not None:
            events = events.filter(unit_id=unit)
        listed = [_event(event) for event in events.order_by("-started_at")[:limit]]
        if unit is None:
            markers = access.token_markers(token, found).filter(_started_in("at", window))
            listed += [_marker(marker) for marker in markers.order_by("-at")[:limit]]
    return sorted(listed, key=lambda event: event.time, reverse=True)[:limit]


def _window(since: datetime | None, until: datetime | None) -> tuple[datetime | None, ...]:
    """Return (since, until) as aware times: a time without a zone is taken as UTC."""
    return tuple(
        moment.replace(tzinfo=UTC) if moment is not None and moment.tzinfo is None else moment
        for moment in (since, until)
    )


def _started_in(field: str, window: tuple[datetime | None, ...]) -> Q:
    """Match `field` in [since, until), either end left open when not given."""
    since, until = window
    condition = Q()
    if since is not None:
        condition &= Q(**{f"{field}__gte": since})
    if until is not None:
        condition &= Q(**{f"{field}__lt": until})
    return condition


def _event(event: UnitEvent) -> EventOut:
    return EventOut(
        time=event.started_at,
        kind=event.kind,
        label=event.get_kind_display(),
        unit_id=event.unit_id,
        ended_at=event.ended_at,
        duration=event.duration,
        detail=event.detail,
    )


def _marker(marker: Marker) -> EventOut:
    return EventOut(
        time=marker.at, kind="marker", label=marker.label, unit_id=None, ended_at=None,
        duration=None, detail={},
    )  # fmt: skip


def _with_live_state(found: list[WirelessUnit]) -> list[UnitOut]:
    states = live_states([unit.pk for unit in found])
    return [
        UnitOut.from_orm(unit).model_copy(update={"live": states.get(unit.pk)}) for unit in found
    ]
