from __future__ import annotations

from django.apps import AppConfig


class MicboardConfig(AppConfig):
    name = "micboard"
    verbose_name = "Micboard"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from django.urls import register_converter

        from micboard import search, signals  # noqa: F401  (signals connects the receivers)
        from micboard.converters import IdConverter

        search.install()

        register_converter(IdConverter, "id")  # before any URLconf is read
