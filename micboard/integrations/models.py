"""Outputs per monitoring group, and the bounded log of their delivery attempts."""

from __future__ import annotations

import uuid

from django.conf import settings
from django.db import models

from micboard.integrations.kinds import DeliveryStatus, OutputKind
from micboard.models import MonitoringGroup
from micboard.models.base import TenantOwned


class Output(TenantOwned):
    """Where a group's events go: a webhook URL, an MQTT broker or an OSC listener.

    `config` holds the driver's non-secret settings (validated by its form); the secrets
    are kept encrypted in `secrets_encrypted` and are never rendered back to a page.
    """

    monitoring_group = models.ForeignKey(
        MonitoringGroup, on_delete=models.CASCADE, related_name="outputs"
    )
    kind = models.CharField(max_length=20, choices=[(k.value, k.value) for k in OutputKind])
    name = models.CharField(max_length=200)
    is_enabled = models.BooleanField(default=True)
    config = models.JSONField(default=dict, blank=True)
    secrets_encrypted = models.TextField(blank=True, editable=False)
    events = models.JSONField(default=list, blank=True)  # OutputEventKind values
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta(TenantOwned.Meta):
        ordering = ["name", "pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["monitoring_group", "name"], name="uniq_output_name_per_group"
            )
        ]

    def __str__(self) -> str:
        return f"{self.name} ({self.kind})"

    def wants(self, event_kind: str) -> bool:
        return event_kind == "test" or event_kind in self.events


class DeliveryAttempt(TenantOwned):
    """One try to deliver one event to one output (the last few hundred per output)."""

    output = models.ForeignKey(Output, on_delete=models.CASCADE, related_name="attempts")
    event_kind = models.CharField(max_length=40)
    event_id = models.UUIDField(default=uuid.uuid4)
    attempt = models.PositiveSmallIntegerField(default=1)
    status = models.CharField(max_length=12, choices=[(s.value, s.value) for s in DeliveryStatus])
    response_code = models.PositiveSmallIntegerField(null=True, blank=True)
    error = models.CharField(max_length=500, blank=True)
    duration_ms = models.FloatField(default=0.0)
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)

    class Meta(TenantOwned.Meta):
        ordering = ["-created_at", "-pk"]
        indexes = [models.Index(fields=["output", "-created_at"], name="attempt_output_recent")]

    def __str__(self) -> str:
        return f"{self.event_kind} #{self.attempt} → {self.output_id}: {self.status}"
