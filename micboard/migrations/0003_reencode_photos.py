"""Re-encode the performer photos stored before uploads were re-encoded.

Earlier uploads were kept as sent, under the upload's own name; a polyglot among them
(a GIF that is also JavaScript, a PNG holding HTML) would still be on disk. Each is
rewritten as the JPEG an upload makes today; one that no longer decodes is dropped.
"""

from __future__ import annotations

from typing import Any

from django.core.exceptions import ValidationError
from django.db import migrations

from micboard.services.photos import prepare_photo


def reencode_photos(apps: Any, schema_editor: Any) -> None:
    performer_model = apps.get_model("micboard", "Performer")
    for performer in performer_model._base_manager.exclude(photo="").iterator():
        old_name = performer.photo.name
        storage = performer.photo.storage
        try:
            with performer.photo.open("rb") as upload:
                photo = prepare_photo(upload)
        except (ValidationError, OSError):
            performer.photo = ""
        else:
            performer.photo.save(photo.name, photo.content, save=False)
        performer_model._base_manager.filter(pk=performer.pk).update(photo=performer.photo.name)
        storage.delete(old_name)


class Migration(migrations.Migration):
    dependencies = [("micboard", "0002_text_limits")]

    operations = [migrations.RunPython(reencode_photos, migrations.RunPython.noop)]
