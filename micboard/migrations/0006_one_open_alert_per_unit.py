"""One open alert per unit, group and condition, instead of one per assignment.

Performers sharing a unit each had an alert of their own for the same condition. The
newest open alert of each unit, group and condition stays open; the others are resolved
before the constraint is added.
"""

from __future__ import annotations

from typing import Any

from django.db import migrations, models
from django.utils import timezone


def resolve_duplicates(apps: Any, schema_editor: Any) -> None:
    alert_model = apps.get_model("micboard", "Alert")
    kept: set[tuple[int, int | None, str]] = set()
    duplicates = []
    for alert in alert_model._base_manager.filter(resolved_at__isnull=True).order_by("-id"):
        key = (alert.wireless_unit_id, alert.monitoring_group_id, alert.kind)
        if key in kept:
            duplicates.append(alert.pk)
        kept.add(key)
    alert_model._base_manager.filter(pk__in=duplicates).update(resolved_at=timezone.now())


class Migration(migrations.Migration):
    dependencies = [
        ("micboard", "0005_api_tokens"),
    ]

    operations = [
        migrations.RemoveConstraint(
            model_name="alert",
            name="uniq_open_alert",
        ),
        migrations.RunPython(resolve_duplicates, migrations.RunPython.noop),
        migrations.AddConstraint(
            model_name="alert",
            constraint=models.UniqueConstraint(
                condition=models.Q(("resolved_at__isnull", True)),
                fields=("wireless_unit", "monitoring_group", "kind"),
                name="uniq_open_alert_per_unit",
            ),
        ),
    ]
