"""Files that are valid images and something else too, as an attacker would upload them."""

from __future__ import annotations

import io
import struct
import zlib

from PIL import Image

SCRIPT = b"window.__polyglotRan = true;"


def gif_that_is_javascript() -> bytes:
    """A GIF whose bytes also parse as JavaScript: `GIF89a/* pixels */=1; <SCRIPT>`.

    The logical width 10799 is the little-endian bytes "/*", which open a comment that
    swallows the binary rest; the text after the GIF trailer closes it.
    """
    out = io.BytesIO()
    Image.new("P", (10799, 1), 0).save(out, format="GIF")
    body = out.getvalue()
    assert body[6:8] == b"/*"
    assert b"*/" not in body[8:]
    return body + b"*/=1;" + SCRIPT


def png_with_html_text(html: bytes) -> bytes:
    """A PNG carrying `html` in a tEXt chunk, readable by a browser that sniffs it as HTML."""
    out = io.BytesIO()
    Image.new("RGB", (4, 4), "red").save(out, format="PNG")
    body = out.getvalue()
    chunk_data = b"Comment\x00" + html
    chunk = (
        struct.pack(">I", len(chunk_data))
        + b"tEXt"
        + chunk_data
        + struct.pack(">I", zlib.crc32(b"tEXt" + chunk_data) & 0xFFFFFFFF)
    )
    end_of_header = 8 + 25  # signature, then the IHDR chunk
    return body[:end_of_header] + chunk + body[end_of_header:]


def jpeg_with_gps_and_orientation() -> bytes:
    """A 40 x 20 JPEG whose EXIF says "rotate 90°" and where it was taken."""
    image = Image.new("RGB", (40, 20), "blue")
    exif = Image.Exif()
    exif[0x0112] = 6  # orientation: rotate 90° clockwise to view
    exif[0x8825] = {1: "N", 2: (51.0, 30.0, 0.0), 3: "W", 4: (0.0, 7.0, 0.0)}  # GPS IFD
    out = io.BytesIO()
    image.save(out, format="JPEG", exif=exif)
    return out.getvalue()
