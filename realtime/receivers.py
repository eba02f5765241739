"""Committed domain changes, passed on to the live path as `micboard.events.REACTIONS` says.

Each change is published on the `{p}:events` channel (the poller refreshes its unit-to-
group map from it when the table says so). For a change that moves tiles, the affected
groups' `{p}:group:{id}:units` sets are rewritten and open walls of those groups get a
`structure` frame telling them which tiles to re-fetch; for an access change, that
group's sockets re-check access; for an alert, its group's walls and kiosks get the
`alert`, `alert.acknowledged` or `alert.resolved` frame. Alerts and test events also go
onto the outputs' stream (realtime/outputs/feed.py).
Redis being down must never fail the service call that committed the change: the
poller's periodic map refresh repairs whatever is missed here.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from typing import Any

import orjson
from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer
from django.dispatch import receiver

from micboard.events import DomainChange, EventKind, WallFrame, domain_changed
from micboard.models import Alert, PerformerAssignment
from micboard.tenancy import system_context
from realtime import frames, keys
from realtime.outputs import feed
from realtime.poller.sender import direct_publish_prefix, layer_pubsub_channel
from realtime.redis_client import sync_client

logger = logging.getLogger(__name__)

# A message for a channel-layer group: a wall's (keys.layer_group) or a user's.
GroupMessage = tuple[str, dict[str, Any]]
ACCESS_CHECK = {"type": "access.check"}


@receiver(domain_changed)
def pass_on_domain_change(sender: object, change: DomainChange, **kwargs: Any) -> None:
    try:
        publish_change(change)
    except Exception:
        logger.warning("could not pass %s on to the live path", change.kind, exc_info=True)
    try:
        feed.feed_change(change)
    except Exception:
        logger.warning("could not pass %s on to the outputs", change.kind, exc_info=True)


def publish_change(change: DomainChange) -> None:
    """Publish a change, keep the group sets current and notify the affected sockets."""
    sync_client().publish(keys.events(), encode_change(change))
    messages = _messages_for(change)
    if messages:
        _send_to_groups(messages)


def encode_change(change: DomainChange) -> bytes:
    return orjson.dumps(
        {
            "kind": change.kind,
            "group_ids": sorted(change.group_ids),
            "unit_ids": sorted(change.unit_ids),
            "performer_ids": sorted(change.performer_ids),
            "alert_ids": sorted(change.alert_ids),
            "user_ids": sorted(change.user_ids),
            "output_ids": sorted(change.output_ids),
        }
    )


def active_units_by_group(group_ids: Iterable[int]) -> dict[int, set[int]]:
    """Return the units with an active assignment (active performer) in each group."""
    units: dict[int, set[int]] = {group_id: set() for group_id in group_ids}
    with system_context():
        rows = (
            PerformerAssignment.objects.active()
            .filter(monitoring_group_id__in=list(units), monitoring_group__is_active=True)
            .values_list("monitoring_group_id", "wireless_unit_id")
        )
        for group_id, unit_id in rows:
            units[group_id].add(unit_id)
    return units


def _messages_for(change: DomainChange) -> list[GroupMessage]:
    reaction = change.reaction
    if reaction.wall_frame is WallFrame.ALERT:
        return _alert_messages(change)
    messages: list[GroupMessage] = []
    if reaction.rechecks_access:
        messages += [(keys.layer_group(gid), ACCESS_CHECK) for gid in sorted(change.group_ids)]
        messages += [(keys.layer_user(uid), ACCESS_CHECK) for uid in sorted(change.user_ids)]
    if reaction.wall_frame is WallFrame.STRUCTURE and change.group_ids:
        messages += _structure_messages(change)
    return messages


def _structure_messages(change: DomainChange) -> list[GroupMessage]:
    before = _stored_units(change.group_ids)
    after = active_units_by_group(change.group_ids)
    _store_units(after)
    messages = []
    for group_id, units in sorted(after.items()):
        text = _structure_text(group_id, change, before[group_id], units)
        if text is not None:
            messages.append((keys.layer_group(group_id), {"type": "live.frame", "text": text}))
    return messages


def _structure_text(
    group_id: int, change: DomainChange, before: set[int], after: set[int]
) -> str | None:
    """Return the structure frame a group's walls need, or None when nothing shows."""
    if before != after or not change.unit_ids:
        return frames.structure(group_id, None)  # tiles added, removed or reordered
    shown = change.unit_ids & after
    return frames.structure(group_id, shown) if shown else None


def _alert_messages(change: DomainChange) -> list[GroupMessage]:
    """Return one frame per alert, addressed to the alert's own group."""
    with system_context():
        alerts = list(Alert.objects.filter(pk__in=change.alert_ids).order_by("pk"))
    return [
        (
            keys.layer_group(alert.monitoring_group_id),
            {"type": "live.frame", "text": _alert_text(change, alert)},
        )
        for alert in alerts
        if alert.monitoring_group_id is not None
    ]


def _alert_text(change: DomainChange, alert: Alert) -> str:
    if change.kind is EventKind.ALERT_RAISED:
        return frames.alert_raised(
            alert_id=alert.pk,
            unit_id=alert.wireless_unit_id,
            kind=alert.kind,
            severity=alert.severity,
            message=alert.message,
            created_at=alert.created_at,
        )
    if change.kind is EventKind.ALERT_ACKNOWLEDGED:
        return frames.alert_acknowledged(alert_id=alert.pk, unit_id=alert.wireless_unit_id)
    return frames.alert_resolved(alert_id=alert.pk, unit_id=alert.wireless_unit_id)


def _stored_units(group_ids: Iterable[int]) -> dict[int, set[int]]:
    ordered = sorted(group_ids)
    pipe = sync_client().pipeline(transaction=False)
    for group_id in ordered:
        pipe.smembers(keys.group_units(group_id))
    members = pipe.execute()
    return {gid: {int(m) for m in ids} for gid, ids in zip(ordered, members, strict=True)}


def _store_units(units_by_group: dict[int, set[int]]) -> None:
    pipe = sync_client().pipeline(transaction=True)
    for group_id, units in units_by_group.items():
        pipe.delete(keys.group_units(group_id))
        if units:
            pipe.sadd(keys.group_units(group_id), *units)
    pipe.execute()


def _send_to_groups(messages: list[GroupMessage]) -> None:
    """Send from sync code without an event loop per call where the layer allows it.

    async_to_sync would make a new loop, and with it a new pubsub layer connection, on
    every committed change; on our own Redis one pipelined PUBLISH does the same.
    """
    layer = get_channel_layer()
    assert layer is not None, "CHANNEL_LAYERS must be configured"
    prefix = direct_publish_prefix()
    if prefix is None:
        async_to_sync(_group_send_each)(layer, messages)
        return
    pipe = sync_client().pipeline(transaction=False)
    for layer_group, message in messages:
        pipe.publish(layer_pubsub_channel(prefix, layer_group), layer.serialize(message))
    pipe.execute()


async def _group_send_each(layer: Any, messages: list[GroupMessage]) -> None:
    for layer_group, message in messages:
        await layer.group_send(layer_group, message)
