from django.apps import AppConfig


class ShowPrepConfig(AppConfig):
    name = "micboard.showprep"
    label = "showprep"
    default_auto_field = "django.db.models.BigAutoField"
