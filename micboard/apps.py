from __future__ import annotations

from django.apps import AppConfig


class MicboardConfig(AppConfig):
    name = "micboard"
    verbose_name = "Micboard"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from micboard import signals  # noqa: F401  (connects the receivers)
