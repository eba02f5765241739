"""The contract between the outputs worker and each driver (docs/integrations.md).

A driver is a small module in `micboard/integrations/drivers/`: the worker hands it one
`OutputEvent` and one `OutputConfig` at a time and gets a `DeliveryResult` back. A driver
never touches the database or Redis; the worker records, retries and gives up.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, ClassVar, Protocol

from django import forms

from micboard.integrations.kinds import (  # noqa: F401  (one import for drivers)
    EVENT_LABELS,
    DeliveryStatus,
    OutputEventKind,
    OutputKind,
)


@dataclass(frozen=True, slots=True)
class OutputEvent:
    """One thing that happened, as every output is told it."""

    id: uuid.UUID  # the same for every output and every retry: receivers de-duplicate by it
    kind: str  # an OutputEventKind value
    occurred_at: datetime
    organization_id: int
    organization_slug: str
    group_id: int
    group_name: str
    unit_id: int | None = None
    unit_slot: str = ""
    unit_name: str = ""
    performer: str | None = None
    payload: dict[str, Any] = field(default_factory=dict)

    def as_json(self) -> dict[str, Any]:
        """Return the event as the JSON object webhooks send (and other drivers may)."""
        unit = None
        if self.unit_id is not None:
            unit = {"id": self.unit_id, "slot": self.unit_slot, "name": self.unit_name}
        return {
            "id": str(self.id),
            "kind": self.kind,
            "occurred_at": self.occurred_at.isoformat(),
            "organization": {"id": self.organization_id, "slug": self.organization_slug},
            "group": {"id": self.group_id, "name": self.group_name},
            "unit": unit,
            "performer": self.performer,
            "payload": self.payload,
        }


@dataclass(frozen=True, slots=True)
class OutputConfig:
    """One output as its driver sees it: the validated config and the decrypted secrets."""

    id: int
    kind: str
    name: str
    config: dict[str, Any]
    secrets: dict[str, str]  # only the secrets that are set; never logged, never rendered


@dataclass(frozen=True, slots=True)
class DeliveryResult:
    """What one attempt came to: ok, the receiver's code if it answered, and in words why
    not (no secret in it: it is shown on the page)."""

    ok: bool
    response_code: int | None = None
    error: str = ""


class Driver(Protocol):
    kind: ClassVar[str]
    label: ClassVar[str]  # what the page calls it
    config_form: ClassVar[type[forms.Form]]  # the non-secret fields, validated
    secret_fields: ClassVar[dict[str, bool]]  # secret field name -> required

    async def deliver(self, event: OutputEvent, output: OutputConfig) -> DeliveryResult: ...

    async def close(self) -> None:
        """Let go of connections when the worker stops (or the output is removed)."""
