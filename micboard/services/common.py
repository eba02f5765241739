"""Small pieces every service shares: validation and the acting user."""

from __future__ import annotations

from collections.abc import Collection, Iterable, Mapping
from typing import TYPE_CHECKING, Any

from django.core.exceptions import ValidationError
from django.db import models

if TYPE_CHECKING:
    from django.contrib.auth.models import AnonymousUser, User

    ActingUser = User | AnonymousUser | None


def reject_unknown_fields(changes: Mapping[str, Any], allowed: Iterable[str]) -> None:
    """Raise ValidationError naming each field a caller may not change."""
    unknown = sorted(set(changes) - set(allowed))
    if unknown:
        raise ValidationError({name: "This field cannot be changed here." for name in unknown})


def validate_fields(instance: models.Model, *, exclude: Collection[str] = ()) -> None:
    """Check every field's own rules; uniqueness is left to the database (IntegrityError)."""
    errors = _text_errors(instance)
    if errors:
        raise ValidationError(errors)
    instance.full_clean(exclude=exclude, validate_unique=False, validate_constraints=False)


def _text_errors(instance: models.Model) -> dict[str, str]:
    """Name the text fields the database would refuse though full_clean lets them pass.

    PostgreSQL refuses a NUL in text (SQLite stores it), and full_clean skips a blank
    field holding None, which a NOT NULL column then refuses.
    """
    errors = {}
    for field in instance._meta.concrete_fields:
        if not isinstance(field, models.CharField | models.TextField):
            continue
        value = getattr(instance, field.attname)
        if value is None and not field.null:
            errors[field.name] = "This field cannot be null."
        elif isinstance(value, str) and "\x00" in value:
            errors[field.name] = "Null characters are not allowed."
    return errors


def require_same_organization(*objects: models.Model) -> None:
    """Refuse to link rows of different organizations."""
    organizations = {getattr(obj, "organization_id", None) for obj in objects}
    if len(organizations) > 1:
        raise ValidationError("These objects belong to different organizations.")


def strip_text(value: Any) -> Any:
    return value.strip() if isinstance(value, str) else value


def record_history_user(instance: models.Model, by_user: ActingUser) -> None:
    """Credit the next audit entry of `instance` to the acting user (call before saving)."""
    if by_user is not None and by_user.is_authenticated:
        instance._history_user = by_user  # type: ignore[attr-defined]
