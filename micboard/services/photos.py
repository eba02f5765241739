"""Uploaded performer photos: decoded, bounded, and re-encoded before anything is stored.

An upload is never stored as sent. Its name, extension and declared type are ignored; its
pixels are decoded (after the pixel count is checked from the header, so a decompression
bomb is refused before it is decoded), turned upright by their EXIF orientation, scaled to
at most `MAX_SIDE`, and written anew as a JPEG under a name the server makes. What a
polyglot file carried besides its pixels (a script after a GIF trailer, HTML in a PNG text
chunk, EXIF with GPS) does not survive that, and the photo is served as `image/jpeg` only.
"""

from __future__ import annotations

import io
import uuid
import warnings
from typing import IO, Any, NamedTuple

from django.core.exceptions import ValidationError
from django.core.files.base import ContentFile
from PIL import Image, ImageOps, UnidentifiedImageError

MAX_PHOTO_BYTES = 5 * 1024 * 1024
MAX_PHOTO_PIXELS = 25_000_000  # about 5000 x 5000; larger is a decompression bomb here
MAX_SIDE = 1024  # pixels; a tile shows a photo a few hundred pixels wide at most
ALLOWED_FORMATS = {"JPEG", "PNG", "WEBP", "GIF"}
STORED_CONTENT_TYPE = "image/jpeg"
STORED_EXTENSION = ".jpg"
JPEG_QUALITY = 85
TOO_MANY_PIXELS = "The photo has too many pixels."
NOT_AN_IMAGE = "The file is not a JPEG, PNG, WebP or GIF image."


class StoredPhoto(NamedTuple):
    name: str  # made here, never the upload's
    content: ContentFile[bytes]


def prepare_photo(photo_file: IO[bytes] | Any) -> StoredPhoto:
    """Return the photo to store, re-encoded under a new name; raise ValidationError on
    the `photo` field unless the upload is an acceptable image."""
    try:
        with _open_bounded(_read_bounded(photo_file)) as image:
            image.load()  # decoding is what finds a truncated file; verify() checks little
            stored = _jpeg(image)
    except (Image.DecompressionBombError, Image.DecompressionBombWarning):
        raise ValidationError({"photo": TOO_MANY_PIXELS}) from None
    except UnidentifiedImageError:
        raise ValidationError({"photo": NOT_AN_IMAGE}) from None
    except (OSError, SyntaxError, ValueError, EOFError):
        raise ValidationError({"photo": "The image is damaged."}) from None
    return StoredPhoto(f"{uuid.uuid4().hex}{STORED_EXTENSION}", ContentFile(stored))


def _read_bounded(photo_file: IO[bytes] | Any) -> io.BytesIO:
    """Read the upload into memory, refusing it past MAX_PHOTO_BYTES (whatever it claims)."""
    photo_file.seek(0)
    data = photo_file.read(MAX_PHOTO_BYTES + 1)
    photo_file.seek(0)
    if len(data) > MAX_PHOTO_BYTES:
        raise ValidationError({"photo": f"The photo is larger than {MAX_PHOTO_BYTES // 2**20} MB."})
    return io.BytesIO(data)


def _open_bounded(data: io.BytesIO) -> Image.Image:
    """Open an image of an allowed format, refusing a bomb before its pixels are decoded."""
    with warnings.catch_warnings():
        warnings.simplefilter("error", Image.DecompressionBombWarning)
        image = Image.open(data, formats=sorted(ALLOWED_FORMATS))
    width, height = image.size
    if width * height > MAX_PHOTO_PIXELS:
        raise ValidationError({"photo": TOO_MANY_PIXELS})
    return image


def _jpeg(image: Image.Image) -> bytes:
    upright = ImageOps.exif_transpose(image)
    flat = _on_white(upright)
    flat.thumbnail((MAX_SIDE, MAX_SIDE))
    out = io.BytesIO()
    # No exif=, icc_profile= or comment: nothing but the pixels is written.
    flat.save(out, format="JPEG", quality=JPEG_QUALITY, optimize=True)
    return out.getvalue()


def _on_white(image: Image.Image) -> Image.Image:
    """Return RGB pixels, transparent areas flattened on white (JPEG has no alpha)."""
    rgba = image.convert("RGBA")
    background = Image.new("RGB", rgba.size, "white")
    background.paste(rgba, mask=rgba.getchannel("A"))
    return background
