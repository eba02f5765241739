"""Performer photos as an attacker uploads them: polyglots, EXIF, replaced files.

Whatever arrives, what is stored and served is a JPEG the server wrote, under a name the
server made, with a fixed type, so no upload can become a script or a page on our origin.
The browser half of this (the script really does not run) is in tests/e2e/test_pages.py.
"""

from __future__ import annotations

import importlib
import io
import re
from pathlib import Path
from typing import Any

import pytest
from django.apps import apps
from django.core.files.base import ContentFile
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from PIL import Image

from micboard.models import Performer
from micboard.tenancy import tenant_context
from tests.security.conftest import World, client_for
from tests.security.polyglots import (
    SCRIPT,
    gif_that_is_javascript,
    jpeg_with_gps_and_orientation,
    png_with_html_text,
)

SCRIPT_TAG = b'<script src="/performers/1/photo/"></script>'
POLYGLOTS = [
    pytest.param("a.js", gif_that_is_javascript(), "text/javascript", id="GIF that is JS"),
    pytest.param("b.html", png_with_html_text(SCRIPT_TAG), "text/html", id="PNG holding HTML"),
]


@pytest.fixture
def media(settings: Any, tmp_path: Path) -> Path:
    settings.MEDIA_ROOT = tmp_path
    return tmp_path


def upload_as_tech(world: World, name: str, content: bytes, content_type: str) -> Performer:
    """Upload through the edit page as the tech of Jane's group, as the attack did."""
    client = client_for(world, "tech_a")
    photo = SimpleUploadedFile(name, content, content_type=content_type)
    url = reverse("performer-edit", args=[world.jane.pk])
    response = client.post(url, {"name": world.jane.name, "photo": photo})
    assert response.status_code == 302, response.content.decode()[:500]
    with tenant_context(world.a.organization):
        return Performer.objects.get(pk=world.jane.pk)


def stored_files(media: Path) -> list[Path]:
    return [path for path in media.rglob("*") if path.is_file()]


@pytest.mark.parametrize(("name", "content", "content_type"), POLYGLOTS)
def test_a_polyglot_is_stored_as_a_plain_jpeg_under_our_name(
    db: None, world: World, media: Path, name: str, content: bytes, content_type: str
) -> None:
    performer = upload_as_tech(world, name, content, content_type)
    stored = Path(performer.photo.name)
    assert stored.suffix == ".jpg"
    assert re.fullmatch(r"[0-9a-f]{32}", stored.stem)  # nothing of the upload's name survives
    data = performer.photo.read()
    assert data.startswith(b"\xff\xd8")  # a JPEG's start of image
    assert SCRIPT not in data
    assert b"<script" not in data
    with Image.open(io.BytesIO(data)) as image:
        assert (image.format, image.info.get("comment")) == ("JPEG", None)


@pytest.mark.parametrize(("name", "content", "content_type"), POLYGLOTS)
def test_a_photo_is_served_as_an_image_on_every_url(
    db: None, world: World, media: Path, name: str, content: bytes, content_type: str
) -> None:
    upload_as_tech(world, name, content, content_type)
    urls = [
        (client_for(world, "admin_a"), reverse("performer-photo", args=[world.jane.pk])),
        (
            client_for(world, "kiosk"),
            reverse("kiosk-photo", args=[world.link_a.token, world.jane.pk]),
        ),
    ]
    for client, url in urls:
        response = client.get(url)
        assert response.status_code == 200
        assert response["Content-Type"] == "image/jpeg"
        assert response["X-Content-Type-Options"] == "nosniff"
        assert (
            response["Content-Disposition"] == f'inline; filename="performer-{world.jane.pk}.jpg"'
        )
        assert response["Cache-Control"] == "private, no-store"
        assert b"".join(response.streaming_content).startswith(b"\xff\xd8")


def test_exif_is_applied_then_dropped_gps_included(db: None, world: World, media: Path) -> None:
    performer = upload_as_tech(world, "holiday.jpg", jpeg_with_gps_and_orientation(), "image/jpeg")
    with Image.open(performer.photo.open("rb")) as image:
        assert image.size == (20, 40)  # turned upright, as the camera meant
        assert dict(image.getexif()) == {}
        assert "exif" not in image.info


def test_a_large_photo_is_scaled_down(db: None, world: World, media: Path) -> None:
    out = io.BytesIO()
    Image.new("RGB", (3000, 1500), "white").save(out, format="PNG")
    performer = upload_as_tech(world, "wide.png", out.getvalue(), "image/png")
    with Image.open(performer.photo.open("rb")) as image:
        assert image.size == (1024, 512)


def test_replacing_a_photo_removes_the_old_file(
    db: None, world: World, media: Path, django_capture_on_commit_callbacks: Any
) -> None:
    with django_capture_on_commit_callbacks(execute=True):
        first = upload_as_tech(world, "one.gif", gif_that_is_javascript(), "image/gif")
    with django_capture_on_commit_callbacks(execute=True):
        second = upload_as_tech(world, "two.jpg", jpeg_with_gps_and_orientation(), "image/jpeg")
    assert first.photo.name != second.photo.name
    assert [path.name for path in stored_files(media)] == [Path(second.photo.name).name]


def test_the_migration_rewrites_photos_stored_as_sent(db: None, world: World, media: Path) -> None:
    """A photo stored before re-encoding (as `a.js`, bytes as sent) is made a JPEG."""
    migration = importlib.import_module("micboard.migrations.0003_reencode_photos")
    storage = Performer.photo.field.storage
    raw = storage.save("performers/a.js", ContentFile(gif_that_is_javascript()))
    Performer.unscoped.filter(pk=world.jane.pk).update(photo=raw)

    migration.reencode_photos(apps, None)

    with tenant_context(world.a.organization):
        jane = Performer.objects.get(pk=world.jane.pk)
    assert jane.photo.name.endswith(".jpg")
    assert jane.photo.read().startswith(b"\xff\xd8")
    assert not storage.exists(raw)
