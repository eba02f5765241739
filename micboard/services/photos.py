"""Checks on uploaded performer photos: real images of sane size only."""

from __future__ import annotations

import warnings
from typing import IO, Any

from django.core.exceptions import ValidationError
from PIL import Image, UnidentifiedImageError

MAX_PHOTO_BYTES = 5 * 1024 * 1024
MAX_PHOTO_PIXELS = 25_000_000  # about 5000 x 5000; larger is a decompression bomb here
ALLOWED_FORMATS = {"JPEG", "PNG", "WEBP", "GIF"}
TOO_MANY_PIXELS = "The photo has too many pixels."


def validate_photo(photo_file: IO[bytes] | Any) -> None:
    """Raise ValidationError on the `photo` field unless the file is an acceptable image."""
    size = getattr(photo_file, "size", None)
    if size is not None and size > MAX_PHOTO_BYTES:
        raise ValidationError({"photo": f"The photo is larger than {MAX_PHOTO_BYTES // 2**20} MB."})
    image_format = _identify(photo_file)
    if image_format not in ALLOWED_FORMATS:
        raise ValidationError({"photo": "Upload a JPEG, PNG, WebP or GIF image."})


def _identify(photo_file: IO[bytes] | Any) -> str | None:
    """Return the image format after checking the header and pixel count, then decoding it."""
    try:
        photo_file.seek(0)
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            with Image.open(photo_file) as image:
                width, height = image.size
                if width * height > MAX_PHOTO_PIXELS:
                    raise ValidationError({"photo": TOO_MANY_PIXELS})
                image_format = image.format
                image.verify()
            # verify() checks little (nothing at all in a JPEG or GIF): decoding the pixels,
            # bounded by the check above, is what finds a truncated file.
            photo_file.seek(0)
            with Image.open(photo_file) as image:
                image.load()
        return image_format
    except (Image.DecompressionBombError, Image.DecompressionBombWarning):
        raise ValidationError({"photo": TOO_MANY_PIXELS}) from None
    except UnidentifiedImageError:
        raise ValidationError({"photo": "The file is not a readable image."}) from None
    except (OSError, SyntaxError, ValueError, EOFError):
        raise ValidationError({"photo": "The image is damaged."}) from None
    finally:
        photo_file.seek(0)
