from django.apps import AppConfig


class RostersConfig(AppConfig):
    name = "micboard.rosters"
    label = "rosters"
    verbose_name = "Rosters"
    default_auto_field = "django.db.models.BigAutoField"
