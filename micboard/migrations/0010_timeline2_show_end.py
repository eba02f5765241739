from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("micboard", "0009_chargers"),
    ]

    operations = [
        migrations.AddField(
            model_name="monitoringgroup",
            name="show_ends_at",
            field=models.DateTimeField(blank=True, null=True),
        ),
    ]
