"""Bad input over HTTP, driven by the access matrix's table: a new URL is covered by its rows.

A signed-in admin of organization A (the most powerful non-superuser) with CSRF checks on
sends every row of `test_access_matrix.ROWS` again, wrong in every way we can think of:

- path parameters: ids of 0, 2**63, 2**64 and 40 digits; tokens that are huge, hold a NUL
  or are not UTF-8;
- query parameters (the row's own and the ones our pages read) and form fields (each field
  of the row's valid form in turn): empty, missing, a NUL, 1 MB, 10,000 values, numbers out
  of every integer range, unicode digits, bytes that are not UTF-8.

Every answer is below 500. A refusal (a 4xx, or the form again with its error) changes
nothing in the database; a NUL, a megabyte, 10,000 values or bytes that are not UTF-8 are
always refused, and the answer says what was wrong.
"""

from __future__ import annotations

import html
import io
import struct
import uuid
import zlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from types import SimpleNamespace
from typing import Any
from urllib.parse import urlencode

import pytest
from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import transaction
from django.http.response import HttpResponseBase
from django.test import Client, override_settings
from django.urls import reverse
from PIL import Image

from micboard.services import PerformerService
from micboard.services.photos import MAX_PHOTO_BYTES
from micboard.tenancy import tenant_context
from tests.conftest import use_redis
from tests.security.conftest import World, client_for
from tests.security.test_access_matrix import (
    GET,
    HTMX,
    POST,
    ROWS,
    Row,
    body,
    database_state,
)

MEGABYTE = "x" * 2**20
NOT_UTF8 = b"\xff\xfe\xc3("


@dataclass(frozen=True)
class Bad:
    """One wrong value; `refused` when no field may ever accept it."""

    label: str
    value: Any
    refused: bool = False


BAD_VALUES = [
    Bad("empty", ""),
    Bad("NUL", "Jane\x00Smith", refused=True),
    Bad("1 MB", MEGABYTE, refused=True),
    Bad("10,000 values", ["1"] * 10_000, refused=True),
    Bad("2**63", str(2**63)),
    Bad("2**64", str(2**64)),
    Bad("-1", "-1"),
    Bad("a word", "abc"),
    Bad("unicode digits", "²٣"),
    Bad("not UTF-8", NOT_UTF8, refused=True),
]
MISSING = Bad("missing", None)
# Every parameter at once in one URL: 64 KB each (no front server passes a longer URL).
QUERY_VALUES = [Bad("64 KB", "x" * 2**16) if bad.value is MEGABYTE else bad for bad in BAD_VALUES]
BAD_IDS = ["0", str(2**63), str(2**64), "9" * 40]
BAD_TOKENS = ["x" * 5000, "a%00b", "%FF%FE", "..%2F..%2Fetc", "%E2%80%AE"]
# Query parameters our pages read (lists, filters, tiles, the admin's changelist).
QUERY_NAMES = ("q", "page", "status", "units", "group", "kind", "severity", "state", "o", "p")
# How a page shows a refused form: our field and form errors, the admin's.
ERROR_MARKS = (b'class="error"', b'class="form-errors"', b'class="errorlist', b"errornote")
# Fields a view reads only for being there: the admin's delete confirmation.
PRESENCE_ONLY = {("admin:micboard_performer_delete", "post")}
CSRF_SECRET = "c" * 32
PLACEHOLDER_ID = 770077007
PLACEHOLDER_TEXT = "placeholder-text"


def unique_rows(key: Callable[[Row], object]) -> list[Any]:
    """The first row of each `key`: who is asking does not matter here, the admin is."""
    seen: dict[object, Row] = {}
    for row in ROWS:
        seen.setdefault(key(row), row)
    return [pytest.param(row, id=row.id) for row in seen.values()]


# A path parameter is the same whatever the row's arguments or headers: one row per route.
PATH_ROWS = unique_rows(lambda row: (row.url_name, row.method))
GET_ROWS = [p for p in unique_rows(lambda row: row.id) if p.values[0].method == GET]
POST_ROWS = [p for p in unique_rows(lambda row: row.id) if p.values[0].method == POST]


@pytest.fixture(scope="class")
def admin(world: World, redis_server: str, django_db_blocker: Any) -> Iterator[Client]:
    """The admin's client for the whole class, on the test Redis under a key prefix of its own."""
    live = SimpleNamespace()
    use_redis(live, redis_server, f"t{uuid.uuid4().hex[:12]}")
    with override_settings(**vars(live)), django_db_blocker.unblock():
        client = client_for(world, "admin_a", enforce_csrf_checks=True)
        client.cookies[settings.CSRF_COOKIE_NAME] = CSRF_SECRET  # as a page would set it
        yield client


@dataclass
class Attempt:
    what: str
    response: HttpResponseBase
    changed: bool

    @property
    def refused(self) -> bool:
        if 400 <= self.response.status_code < 500:
            return True
        return self.response.status_code == 200 and any(
            m in body(self.response) for m in ERROR_MARKS
        )


class Sender:
    """Sends one row's requests, each in a savepoint undone afterwards."""

    def __init__(self, client: Client, row: Row, world: World) -> None:
        self.client, self.row, self.world = client, row, world

    def url(self, swap: tuple[str, str] | None = None) -> str:
        kwargs = self.row.kwargs(self.world)
        if swap is None:
            return reverse_row(self.row, kwargs)
        name, text = swap
        placeholder = PLACEHOLDER_ID if isinstance(kwargs[name], int) else PLACEHOLDER_TEXT
        url = reverse_row(self.row, {**kwargs, name: placeholder})
        return url.replace(str(placeholder), text)

    def send(self, what: str, url: str, data: dict[str, Any]) -> Attempt:
        headers = {"HTTP_X_CSRFTOKEN": CSRF_SECRET}
        if self.row.htmx is not None:
            headers.update(HTMX, HTTP_HX_TARGET=self.row.htmx)
        # GET views are GET-only (the matrix checks): only a POST can change the database.
        before = database_state() if self.row.method == POST else {}
        with transaction.atomic():
            if self.row.method == GET:
                response = self.client.get(url, data, **headers)
            else:
                encoded = urlencode(data, doseq=True)
                kind = "application/x-www-form-urlencoded"
                response = self.client.post(url, encoded, content_type=kind, **headers)
            body(response)  # a streamed answer fails while it is read
            changed = self.row.method == POST and database_state() != before
            transaction.set_rollback(True)
        return Attempt(what, response, changed)


def path_attempts(sender: Sender) -> Iterator[Attempt]:
    kwargs = sender.row.kwargs(sender.world)
    for name, value in kwargs.items():
        bad = BAD_IDS if isinstance(value, int) else BAD_TOKENS
        for text in bad:
            yield sender.send(
                f"path {name}={text[:20]}", sender.url((name, text)), sender.row.data(sender.world)
            )


def query_attempts(sender: Sender) -> Iterator[Attempt]:
    names = {*sender.row.data(sender.world), *QUERY_NAMES}
    for bad in QUERY_VALUES:
        yield sender.send(f"query {bad.label}", sender.url(), dict.fromkeys(names, bad.value))


def form_attempts(sender: Sender) -> Iterator[tuple[Bad, str, Attempt]]:
    valid = sender.row.data(sender.world)
    for field in valid:
        for bad in [MISSING, *BAD_VALUES]:
            data = {k: v for k, v in valid.items() if k != field}
            if bad is not MISSING:
                data[field] = bad.value
            yield bad, field, sender.send(f"field {field}: {bad.label}", sender.url(), data)


def reverse_row(row: Row, kwargs: dict[str, Any]) -> str:
    if row.positional:
        return reverse(row.url_name, args=list(kwargs.values()))
    return reverse(row.url_name, kwargs=kwargs)


def server_errors(attempts: list[Attempt]) -> list[str]:
    return [
        f"{a.what}: {a.response.status_code}" for a in attempts if a.response.status_code == 500
    ]


class TestBadInput:
    """Built once: the world (see conftest.py) and the admin's client."""

    @pytest.mark.parametrize("row", PATH_ROWS)
    def test_bad_path_parameters_are_refused_without_a_change(
        self, db: None, world: World, admin: Client, row: Row
    ) -> None:
        """An id out of every range or a broken token: never a 500, and nothing changes."""
        attempts = list(path_attempts(Sender(admin, row, world)))
        problems = server_errors(attempts) + [
            f"{a.what}: refused, yet the database changed"
            for a in attempts
            if a.refused and a.changed
        ]
        assert not problems, "\n".join(problems)

    @pytest.mark.parametrize("row", GET_ROWS)
    def test_bad_query_parameters_never_break_a_page(
        self, db: None, world: World, admin: Client, row: Row
    ) -> None:
        problems = server_errors(list(query_attempts(Sender(admin, row, world))))
        assert not problems, "\n".join(problems)

    @pytest.mark.parametrize("row", POST_ROWS)
    def test_bad_form_fields_are_refused_and_change_nothing(
        self, db: None, world: World, admin: Client, row: Row
    ) -> None:
        """Each field of a valid form, made wrong in turn."""
        problems = []
        for bad, field, attempt in form_attempts(Sender(admin, row, world)):
            status = attempt.response.status_code
            if status == 500:
                problems.append(f"{attempt.what}: {status}")
            elif attempt.refused and attempt.changed:
                problems.append(f"{attempt.what}: refused, yet the database changed")
            elif bad.refused and (row.url_name, field) not in PRESENCE_ONLY and not attempt.refused:
                problems.append(f"{attempt.what}: accepted ({status})")
        assert not problems, "\n".join(problems)


# --- uploads: performer photos and CSV files ---------------------------------------------


def encoded(image_format: str, size: tuple[int, int] = (32, 32)) -> bytes:
    out = io.BytesIO()
    Image.effect_noise(size, 64).convert("RGB").save(out, image_format)
    return out.getvalue()


def png_chunk(kind: bytes, data: bytes) -> bytes:
    checksum = zlib.crc32(kind + data) & 0xFFFFFFFF
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", checksum)


def png_declaring(width: int, height: int) -> bytes:
    """A valid PNG of a few dozen bytes whose header claims `width` x `height` pixels."""
    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    pixels = png_chunk(b"IDAT", zlib.compress(b"\x00" * 16))
    return b"\x89PNG\r\n\x1a\n" + png_chunk(b"IHDR", header) + pixels + png_chunk(b"IEND", b"")


NOT_AN_IMAGE = "not a JPEG, PNG, WebP or GIF image"
BAD_PHOTOS = [
    ("text renamed .jpg", "face.jpg", b"just some text, honestly", NOT_AN_IMAGE),
    (
        "SVG",
        "face.svg",
        b'<svg xmlns="http://www.w3.org/2000/svg" width="9" height="9"><script/></svg>',
        NOT_AN_IMAGE,
    ),
    ("PDF", "face.pdf", b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n", NOT_AN_IMAGE),
    ("BMP", "face.bmp", encoded("BMP"), NOT_AN_IMAGE),
    ("oversize", "face.png", encoded("PNG") + b"\x00" * MAX_PHOTO_BYTES, "larger than 5 MB"),
    ("50,000 x 50,000 bomb", "bomb.png", png_declaring(50_000, 50_000), "too many pixels"),
    ("6,000 x 6,000", "big.png", png_declaring(6_000, 6_000), "too many pixels"),
    *(
        (f"truncated {kind}", f"face.{kind.lower()}", encoded(kind)[:-200], "damaged")
        for kind in ("PNG", "JPEG", "GIF", "WEBP")
    ),
]


@pytest.fixture
def media(settings: Any, tmp_path: Path) -> Path:
    settings.MEDIA_ROOT = tmp_path
    return tmp_path


@pytest.mark.parametrize(
    ("name", "content", "message"),
    [pytest.param(*photo[1:], id=photo[0]) for photo in BAD_PHOTOS],
)
def test_a_bad_photo_is_refused_on_its_field_and_nothing_is_saved(
    db: None, world: World, media: Path, name: str, content: bytes, message: str
) -> None:
    """Through the performer form, as the admin: the error sits on the photo field."""
    client = client_for(world, "admin_a")
    before = database_state()
    photo = SimpleUploadedFile(name, content, content_type="image/png")
    url = reverse("performer-edit", args=[world.jane.pk])
    response = client.post(url, {"name": "Jane Smith", "photo": photo})
    assert response.status_code == 200
    html = response.content.decode()
    assert 'id="id_photo_error"' in html
    assert message in html
    assert database_state() == before
    assert [path for path in media.rglob("*") if path.is_file()] == []


@pytest.mark.parametrize(
    ("name", "content", "message"),
    [pytest.param(*photo[1:], id=photo[0]) for photo in BAD_PHOTOS],
)
def test_the_photo_service_names_the_field_and_saves_nothing(
    db: None, world: World, media: Path, name: str, content: bytes, message: str
) -> None:
    before = database_state()
    with pytest.raises(ValidationError) as raised, tenant_context(world.a.organization):
        PerformerService.create_performer(
            "Zed Newman", photo_file=SimpleUploadedFile(name, content)
        )
    assert message in " ".join(raised.value.message_dict["photo"])
    assert database_state() == before
    assert [path for path in media.rglob("*") if path.is_file()] == []


BAD_CSV_FILES = [
    ("not UTF-8", b"name\n\xff\xfe\n", "Save the file as UTF-8"),
    ("over 1 MB", b"name\n" + b"x,\n" * 2**19, "larger than 1 MB"),
    ("a 200 KB cell", b"name\n" + b"x" * 200_000 + b"\n", "not valid CSV"),
    ("binary", encoded("PNG"), "Save the file as UTF-8"),
    ("empty", b"", "The submitted file is empty"),
    ("no name column", b"title\nDrums\n", "must name the columns"),
    ("unknown column", b"name,password\nZed,x\n", "Unknown columns: password"),
    ("a NUL", b"name\nZed\x00Newman\n", "Null characters are not allowed"),
    ("too many rows", b"name\n" + b"".join(b"P%d\n" % n for n in range(2001)), "at most 2000"),
]


@pytest.mark.parametrize(
    ("content", "message"), [pytest.param(*f[1:], id=f[0]) for f in BAD_CSV_FILES]
)
def test_a_bad_csv_file_is_explained_and_nothing_is_imported(
    db: None, world: World, content: bytes, message: str
) -> None:
    client = client_for(world, "admin_a")
    before = database_state()
    upload = SimpleUploadedFile("people.csv", content, content_type="text/csv")
    response = client.post(reverse("performer-import"), {"file": upload})
    assert response.status_code == 200
    assert message in html.unescape(response.content.decode())
    assert database_state() == before
