"""Who may see what: monitoring groups, user profiles and kiosk links."""

from __future__ import annotations

import secrets

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models

from micboard.models.base import TEXT_LIMIT, Campus, Organization, TenantOwned
from micboard.models.hardware import Location


class MonitoringGroup(TenantOwned):
    """A set of assignments watched together; its members may see exactly those."""

    name = models.CharField(max_length=200)
    description = models.TextField(blank=True, validators=TEXT_LIMIT)
    users = models.ManyToManyField(
        settings.AUTH_USER_MODEL, blank=True, related_name="monitoring_groups"
    )
    is_active = models.BooleanField(default=True)
    location = models.ForeignKey(Location, null=True, blank=True, on_delete=models.SET_NULL)
    campus = models.ForeignKey(Campus, null=True, blank=True, on_delete=models.SET_NULL)
    # Wall order: unit ids and None for a BLANK spacer; units not listed follow by slot.
    tile_order = models.JSONField(default=list, blank=True)
    # When tonight's show ends: a tile whose battery will not last until then says so.
    show_ends_at = models.DateTimeField(null=True, blank=True)
    # The wall's key (1-9), set by an admin: the same wall on the same key for everyone.
    number = models.PositiveSmallIntegerField(
        null=True, blank=True, validators=[MinValueValidator(1), MaxValueValidator(9)]
    )

    class Meta(TenantOwned.Meta):
        ordering = ["name"]
        constraints = [
            models.UniqueConstraint(fields=["organization", "name"], name="uniq_group_name"),
            models.UniqueConstraint(
                fields=["organization", "number"],
                condition=models.Q(number__isnull=False),
                name="uniq_group_number",
            ),
        ]

    def __str__(self) -> str:
        return self.name


class UserProfile(models.Model):
    """Micboard's facts about a login: its role and organization (one per user)."""

    class Role(models.TextChoices):
        ADMIN = "admin", "Admin"
        TECH = "tech", "Tech"

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="profile"
    )
    role = models.CharField(max_length=10, choices=Role.choices, default=Role.TECH)
    organization = models.ForeignKey(
        Organization, null=True, blank=True, on_delete=models.SET_NULL, related_name="members"
    )
    campus = models.ForeignKey(Campus, null=True, blank=True, on_delete=models.SET_NULL)

    def __str__(self) -> str:
        return f"{self.user} ({self.role})"

    @property
    def is_admin(self) -> bool:
        return self.role == self.Role.ADMIN


def new_kiosk_token() -> str:
    return secrets.token_urlsafe(32)


class KioskLink(TenantOwned):
    """A revocable, unguessable read-only link that shows one group's wall without login."""

    monitoring_group = models.ForeignKey(
        MonitoringGroup, on_delete=models.CASCADE, related_name="kiosk_links"
    )
    label = models.CharField(max_length=200)
    token = models.CharField(max_length=64, unique=True, default=new_kiosk_token, editable=False)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    revoked_at = models.DateTimeField(null=True, blank=True)

    class Meta(TenantOwned.Meta):
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"{self.label} → {self.monitoring_group}"

    @property
    def is_revoked(self) -> bool:
        return self.revoked_at is not None


class ApiToken(TenantOwned):
    """A revocable bearer token that reads its groups through the API (never writes).

    Only the SHA-256 of the secret is kept: the secret is shown once, when it is made.
    """

    name = models.CharField(max_length=200)
    groups = models.ManyToManyField(MonitoringGroup, related_name="api_tokens")
    secret_hash = models.CharField(max_length=64, unique=True, editable=False)
    # The secret's first characters, so an admin can tell tokens apart in a list.
    hint = models.CharField(max_length=8, editable=False)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    last_used_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)

    class Meta(TenantOwned.Meta):
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return self.name

    @property
    def is_revoked(self) -> bool:
        return self.revoked_at is not None
