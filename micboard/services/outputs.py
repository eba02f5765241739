"""OutputService: a group's outputs are made, changed, tested and removed only here.

The driver of an output's kind says what it needs: `config_form` validates the
non-secret settings, `secret_fields` names the secrets and which are required. Secrets
are sealed (micboard/integrations/vault.py) and never handed back to a page; an edit that
leaves a secret blank keeps the stored one. Every change is announced (`output.changed`)
so the outputs worker reloads its list; "Send test event" is announced as `output.test`
and the worker delivers it like any other event, into the same delivery log.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction

from micboard import access
from micboard.events import EventKind, announce
from micboard.integrations.drivers import DRIVERS
from micboard.integrations.models import DeliveryAttempt, Output
from micboard.integrations.types import EVENT_LABELS, OutputConfig
from micboard.integrations.vault import open_secrets, seal_secrets
from micboard.models import MonitoringGroup
from micboard.services.common import strip_text, validate_fields

if TYPE_CHECKING:
    from micboard.services.common import ActingUser

KEEP_ATTEMPTS = 200  # the delivery log of each output keeps its newest attempts


@dataclass(frozen=True, slots=True)
class AttemptRecord:
    """One delivery attempt as the worker reports it."""

    output_id: int
    organization_id: int
    event_kind: str
    event_id: str
    attempt: int
    status: str
    response_code: int | None
    error: str
    duration_ms: float


class OutputService:
    """Outputs are an admin's: only one who administers the group changes its outputs."""

    @staticmethod
    def create_output(
        group: MonitoringGroup,
        kind: str,
        *,
        name: str,
        config: Mapping[str, Any],
        secrets: Mapping[str, str] | None = None,
        events: Sequence[str] | None = None,
        is_enabled: bool = True,
        by_user: ActingUser,
    ) -> Output:
        _require_admin(by_user, group)
        if kind not in DRIVERS:
            raise ValidationError({"kind": f"There is no output of the kind {kind!r}."})
        output = Output(
            organization_id=group.organization_id,
            monitoring_group=group,
            kind=kind,
            name=strip_text(name) or "",
            is_enabled=is_enabled,
            config=_valid_config(kind, config),
            secrets_encrypted=seal_secrets(_merged_secrets(kind, {}, secrets or {})),
            events=_valid_events(list(EVENT_LABELS) if events is None else events),
            created_by=by_user if by_user is not None and by_user.is_authenticated else None,
        )
        validate_fields(output)
        with transaction.atomic():
            output.save()
            _announce(EventKind.OUTPUT_CHANGED, output)
        return output

    @staticmethod
    def update_output(
        output: Output,
        *,
        name: str | None = None,
        config: Mapping[str, Any] | None = None,
        secrets: Mapping[str, str] | None = None,
        events: Sequence[str] | None = None,
        by_user: ActingUser,
    ) -> Output:
        """Change what is given; a secret left blank (or not given) keeps its value."""
        _require_admin(by_user, output.monitoring_group)
        if name is not None:
            output.name = strip_text(name) or ""
        if config is not None:
            output.config = _valid_config(output.kind, config)
        if secrets is not None:
            stored = open_secrets(output.secrets_encrypted)
            output.secrets_encrypted = seal_secrets(_merged_secrets(output.kind, stored, secrets))
        if events is not None:
            output.events = _valid_events(events)
        validate_fields(output)
        with transaction.atomic():
            output.save()
            _announce(EventKind.OUTPUT_CHANGED, output)
        return output

    @staticmethod
    def set_enabled(output: Output, enabled: bool, *, by_user: ActingUser) -> Output:
        _require_admin(by_user, output.monitoring_group)
        if output.is_enabled != enabled:
            with transaction.atomic():
                output.is_enabled = enabled
                output.save(update_fields=["is_enabled", "updated_at"])
                _announce(EventKind.OUTPUT_CHANGED, output)
        return output

    @staticmethod
    def delete_output(output: Output, *, by_user: ActingUser) -> None:
        _require_admin(by_user, output.monitoring_group)
        with transaction.atomic():
            _announce(EventKind.OUTPUT_CHANGED, output)
            output.delete()

    @staticmethod
    def send_test_event(output: Output, *, by_user: ActingUser) -> None:
        """Ask the outputs worker to send this output a test event (logged like any)."""
        _require_admin(by_user, output.monitoring_group)
        _announce(EventKind.OUTPUT_TEST, output)

    @staticmethod
    def record_attempts(records: Sequence[AttemptRecord]) -> int:
        """Save the worker's delivery attempts and prune each log to its newest
        KEEP_ATTEMPTS (a system write: the worker is the actor). Returns how many were
        saved; attempts of outputs deleted meanwhile are dropped."""
        wanted = {record.output_id for record in records}
        existing = set(Output.unscoped.filter(pk__in=wanted).values_list("pk", flat=True))
        rows = [_attempt_row(r) for r in records if r.output_id in existing]
        with transaction.atomic():
            DeliveryAttempt.unscoped.bulk_create(rows)
            for output_id in sorted(existing):
                _prune(output_id)
        return len(rows)

    @staticmethod
    def get_delivery_config(output: Output) -> OutputConfig:
        """Return what the output's driver is given (for the worker: secrets opened)."""
        return OutputConfig(
            id=output.pk,
            kind=output.kind,
            name=output.name,
            config=dict(output.config),
            secrets=open_secrets(output.secrets_encrypted),
        )


def stored_secret_names(output: Output) -> list[str]:
    """Name the secrets an output has stored (the page says "set", never the value)."""
    return sorted(open_secrets(output.secrets_encrypted))


def _require_admin(by_user: ActingUser, group: MonitoringGroup) -> None:
    if by_user is None:
        raise PermissionDenied("Outputs are changed by a signed-in admin.")
    access.require_output_admin(by_user, group)


def _valid_config(kind: str, config: Mapping[str, Any]) -> dict[str, Any]:
    form = DRIVERS[kind].config_form(data=dict(config))
    if not form.is_valid():
        raise ValidationError({field: list(errors) for field, errors in form.errors.items()})
    return dict(form.cleaned_data)


def _merged_secrets(
    kind: str, stored: Mapping[str, str], given: Mapping[str, str]
) -> dict[str, str]:
    fields = DRIVERS[kind].secret_fields
    unknown = sorted(set(given) - set(fields))
    if unknown:
        raise ValidationError({name: "This output has no such secret." for name in unknown})
    merged = dict(stored)
    for name, value in given.items():
        if value:  # blank: keep what is stored
            merged[name] = value
    missing = [name for name, required in fields.items() if required and not merged.get(name)]
    if missing:
        raise ValidationError({name: "This secret is required." for name in missing})
    return {name: value for name, value in merged.items() if name in fields}


def _valid_events(events: Sequence[str]) -> list[str]:
    unknown = sorted(set(events) - set(EVENT_LABELS))
    if unknown:
        raise ValidationError({"events": f"Unknown events: {', '.join(unknown)}."})
    if not events:
        raise ValidationError({"events": "Choose at least one event to send."})
    return [kind for kind in EVENT_LABELS if kind in events]  # in the table's order


def _attempt_row(record: AttemptRecord) -> DeliveryAttempt:
    return DeliveryAttempt(
        output_id=record.output_id,
        organization_id=record.organization_id,
        event_kind=record.event_kind,
        event_id=record.event_id,
        attempt=record.attempt,
        status=record.status,
        response_code=record.response_code,
        error=record.error[:500],
        duration_ms=record.duration_ms,
    )


def _prune(output_id: int) -> None:
    newest = DeliveryAttempt.unscoped.filter(output_id=output_id).order_by("-pk")
    cutoff = newest.values_list("pk", flat=True)[KEEP_ATTEMPTS : KEEP_ATTEMPTS + 1]
    if cutoff:
        DeliveryAttempt.unscoped.filter(output_id=output_id, pk__lte=cutoff[0]).delete()


def _announce(kind: EventKind, output: Output) -> None:
    announce(kind, group_ids=[output.monitoring_group_id], output_ids=[output.pk])
