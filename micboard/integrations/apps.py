from django.apps import AppConfig


class IntegrationsConfig(AppConfig):
    name = "micboard.integrations"
    label = "integrations"
    default_auto_field = "django.db.models.BigAutoField"
    verbose_name = "Outputs"
