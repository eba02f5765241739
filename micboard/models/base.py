"""Tenancy for models: organizations, campuses and the manager that scopes every query."""

from __future__ import annotations

from typing import Any, TypeVar

from django.core.exceptions import ValidationError
from django.core.validators import MaxLengthValidator
from django.db import models

from micboard.tenancy import current_tenant, multi_tenant_enabled

# Notes and descriptions: generous for people, and a megabyte of "notes" is refused
# (validated by full_clean, so by every service and every admin form).
MAX_TEXT = 10_000
TEXT_LIMIT = [MaxLengthValidator(MAX_TEXT)]

_M = TypeVar("_M", bound=models.Model)


class Organization(models.Model):
    name = models.CharField(max_length=200, unique=True)
    slug = models.SlugField(max_length=100, unique=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name

    @classmethod
    def default(cls) -> Organization:
        """Return the single organization used while multi-tenancy is off."""
        organization, _ = cls.objects.get_or_create(
            slug="default", defaults={"name": "Default organization"}
        )
        return organization


class Campus(models.Model):
    organization = models.ForeignKey(
        Organization, on_delete=models.CASCADE, related_name="campuses"
    )
    name = models.CharField(max_length=200)

    class Meta:
        ordering = ["name"]
        verbose_name_plural = "campuses"
        constraints = [
            models.UniqueConstraint(fields=["organization", "name"], name="uniq_campus_name")
        ]

    def __str__(self) -> str:
        return self.name


class TenantQuerySet(models.QuerySet[_M]):
    """A queryset that can be narrowed to the tenant of the running code."""

    def for_current_tenant(self) -> TenantQuerySet[_M]:
        if not multi_tenant_enabled():
            return self
        context = current_tenant()
        if context.unrestricted:
            return self
        if context.organization_id is None:
            return self.none()  # fail closed: no tenant, no rows
        scoped = self.filter(organization_id=context.organization_id)
        if context.campus_id is not None and _has_field(self.model, "campus"):
            scoped = scoped.filter(
                models.Q(campus_id=context.campus_id) | models.Q(campus__isnull=True)
            )
        return scoped


class TenantManager(models.Manager[_M]):
    """The default manager of tenant-owned models: every query starts tenant-scoped."""

    _queryset_class = TenantQuerySet

    def get_queryset(self) -> TenantQuerySet[_M]:
        queryset = super().get_queryset()
        assert isinstance(queryset, TenantQuerySet)
        return queryset.for_current_tenant()


class TenantOwned(models.Model):
    """Abstract base for every row that belongs to one organization."""

    organization = models.ForeignKey(Organization, on_delete=models.CASCADE, related_name="+")

    objects = TenantManager()
    # System code and integrity checks only; never in views.
    unscoped = models.Manager()  # noqa: DJ012  (a manager, not a field)

    class Meta:
        abstract = True
        base_manager_name = "unscoped"

    def save(self, *args: Any, **kwargs: Any) -> None:
        if self.organization_id is None:
            self.organization_id = resolve_organization_id()
        super().save(*args, **kwargs)


def resolve_organization_id() -> int:
    """Return the organization new rows belong to in the running context."""
    context = current_tenant()
    if context.organization_id is not None:
        return context.organization_id
    if multi_tenant_enabled():
        raise ValidationError(
            "There is no organization to create this in: sign in as a member of one "
            "(or, in code, wrap the call in tenant_context(organization))."
        )
    return Organization.default().pk


def _has_field(model: type[models.Model], name: str) -> bool:
    return any(field.name == name for field in model._meta.get_fields())
