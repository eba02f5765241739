"""Checks on uploaded performer photos: real images of sane size only."""

from __future__ import annotations

import warnings
from typing import IO, Any

from django.core.exceptions import ValidationError
from PIL import Image, UnidentifiedImageError

MAX_PHOTO_BYTES = 5 * 1024 * 1024
MAX_PHOTO_PIXELS = 25_000_000  # about 5000 x 5000; larger is a decompression bomb here
ALLOWED_FORMATS = {"JPEG", "PNG", "WEBP", "GIF"}


def validate_photo(photo_file: IO[bytes] | Any) -> None:
    """Raise ValidationError on the `photo` field unless the file is an acceptable image."""
    size = getattr(photo_file, "size", None)
    if size is not None and size > MAX_PHOTO_BYTES:
        raise ValidationError({"photo": f"The photo is larger than {MAX_PHOTO_BYTES // 2**20} MB."})
    image_format = _identify(photo_file)
    if image_format not in ALLOWED_FORMATS:
        raise ValidationError({"photo": "Upload a JPEG, PNG, WebP or GIF image."})


def _identify(photo_file: IO[bytes] | Any) -> str | None:
    """Return the image format after checking the header and pixel count, without decoding."""
    try:
        photo_file.seek(0)
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            with Image.open(photo_file) as image:
                width, height = image.size
                if width * height > MAX_PHOTO_PIXELS:
                    raise ValidationError({"photo": "The photo has too many pixels."})
                image.verify()
                return image.format
    except (UnidentifiedImageError, Image.DecompressionBombError, Image.DecompressionBombWarning):
        raise ValidationError({"photo": "The file is not a readable image."}) from None
    except (OSError, SyntaxError, ValueError):
        raise ValidationError({"photo": "The image is damaged."}) from None
    finally:
        photo_file.seek(0)
