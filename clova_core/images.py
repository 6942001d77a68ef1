"""Image checks for HCX-005 image input, done locally before anything is sent.

The documented rules (https://api.ncloud-docs.com/docs/clovastudio-chatcompletionsv3):
formats BMP, PNG, JPG/JPEG, WEBP (40060); file size in (0, 20 MB] (40061); longer side
<= 2240 px, shorter side >= 4 px, aspect ratio no more extreme than 5:1 (40063); one image
per message (40000) and five per request (40003); the whole body <= 50 MB. The limits live
in :mod:`clova_core.models`.

Base64 data is decoded, its format sniffed from magic bytes (never from a declared MIME type)
and its width and height read from the header (PNG ``IHDR``, JPEG ``SOFn``, BMP info header,
WEBP ``VP8`` / ``VP8L`` / ``VP8X``). URL images cannot be downloaded here: only the scheme
(http/https) and a clearly unsupported file extension are checked; the server checks the rest.

The wire form (3.3): ``{"type": "image_url", "imageUrl": {"url": ...}}`` or
``{"type": "image_url", "dataUri": {"data": ...}}``. Whether ``data`` wants bare base64 or a
``data:`` URI is a [GAP]; the choice lives in :func:`wire_image_data` alone
(:data:`SEND_BARE_BASE64`). Standard library only.
"""

from __future__ import annotations

import base64
import binascii
import re
import struct
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from clova_core.errors import ClovaValidationError
from clova_core.models import (
    IMAGE_FORMATS,
    MAX_IMAGE_ASPECT_RATIO,
    MAX_IMAGE_BYTES,
    MAX_IMAGE_LONG_SIDE,
    MIN_IMAGE_SHORT_SIDE,
)
from clova_core.types import ImagePart

SEND_BARE_BASE64 = True
"""Send ``dataUri.data`` as bare base64 (prefix stripped): the documentation does not say
whether a ``data:`` URI prefix is accepted there, and bare base64 is what it describes."""

UNSUPPORTED_URL_EXTENSIONS = frozenset(
    {
        ".gif",
        ".svg",
        ".svgz",
        ".tif",
        ".tiff",
        ".ico",
        ".heic",
        ".heif",
        ".avif",
        ".psd",
        ".pdf",
        ".mp4",
        ".mov",
        ".webm",
        ".apng",
    }
)
"""URL path endings that are certainly not an accepted image format."""

_ALLOWED = "BMP, PNG, JPEG (JPG) or WEBP"
_DATA_URI = re.compile(r"data:([^;,]*)((?:;[^;,]*)*),", re.IGNORECASE)
_MB = 1024 * 1024


@dataclass(frozen=True, slots=True)
class ImageInfo:
    """What the header of a decoded image says."""

    format: str
    width: int
    height: int
    size_bytes: int


def split_data_uri(data: str) -> str:
    """The base64 payload of ``data`` (a ``data:image/...;base64,`` URI or bare base64)."""
    match = _DATA_URI.match(data)
    if match is None:
        return data
    params = [p.strip().lower() for p in match.group(2).split(";") if p.strip()]
    if "base64" not in params:
        raise ClovaValidationError(
            "Image data URI is not base64-encoded (no ';base64'). Send "
            "'data:image/png;base64,<base64 bytes>' or bare base64."
        )
    return data[match.end() :]


def wire_image_data(data: str) -> str:
    """What goes into ``dataUri.data`` ([GAP], 3.3): bare base64 without whitespace while
    :data:`SEND_BARE_BASE64` holds, else the string exactly as the caller gave it."""
    payload = "".join(split_data_uri(data).split())
    if SEND_BARE_BASE64:
        return payload
    return data


def decode_image_data(data: str) -> bytes:
    """The image bytes of base64 ``data`` (bare or a data URI); typed error when invalid."""
    payload = "".join(split_data_uri(data).split())
    try:
        return base64.b64decode(payload, validate=True)
    except (binascii.Error, ValueError) as exc:
        raise ClovaValidationError(
            "Image data is not valid base64 (standard alphabet, with padding). Encode the "
            "file with base64.b64encode(...) or pass an http(s) URL instead."
        ) from exc


def sniff_format(blob: bytes) -> str | None:
    """``png`` / ``jpeg`` / ``bmp`` / ``webp`` / ``gif`` / ``tiff`` from magic bytes, else None."""
    if blob.startswith(b"\x89PNG\r\n\x1a\n"):
        return "png"
    if blob.startswith(b"\xff\xd8\xff"):
        return "jpeg"
    if blob.startswith(b"BM"):
        return "bmp"
    if blob[:4] == b"RIFF" and blob[8:12] == b"WEBP":
        return "webp"
    if blob[:6] in (b"GIF87a", b"GIF89a"):
        return "gif"
    if blob[:4] in (b"II*\x00", b"MM\x00*"):
        return "tiff"
    return None


def _png_size(blob: bytes) -> tuple[int, int] | None:
    if len(blob) < 24 or blob[12:16] != b"IHDR":
        return None
    width, height = struct.unpack(">II", blob[16:24])
    return int(width), int(height)


_JPEG_SOF = frozenset(range(0xC0, 0xD0)) - {0xC4, 0xC8, 0xCC}
_JPEG_STANDALONE = frozenset({0x01, *range(0xD0, 0xD9)})


def _jpeg_size(blob: bytes) -> tuple[int, int] | None:
    """Walk the marker segments to the first SOFn frame header (ITU T.81 B.2)."""
    pos = 2
    end = len(blob)
    while pos + 4 <= end:
        if blob[pos] != 0xFF:
            return None
        marker = blob[pos + 1]
        if marker == 0xFF:
            pos += 1
            continue
        if marker in _JPEG_STANDALONE:
            pos += 2
            continue
        if marker == 0xDA:
            return None
        (length,) = struct.unpack(">H", blob[pos + 2 : pos + 4])
        if marker in _JPEG_SOF:
            if pos + 9 > end:
                return None
            height, width = struct.unpack(">HH", blob[pos + 5 : pos + 9])
            return int(width), int(height)
        if length < 2:
            return None
        pos += 2 + length
    return None


def _bmp_size(blob: bytes) -> tuple[int, int] | None:
    if len(blob) < 26:
        return None
    (header_size,) = struct.unpack("<I", blob[14:18])
    if header_size == 12:
        width, height = struct.unpack("<HH", blob[18:22])
    else:
        width, height = struct.unpack("<ii", blob[18:26])
    return abs(int(width)), abs(int(height))


def _webp_size(blob: bytes) -> tuple[int, int] | None:
    chunk = blob[12:16]
    if chunk == b"VP8 " and len(blob) >= 30 and blob[23:26] == b"\x9d\x01\x2a":
        width, height = struct.unpack("<HH", blob[26:30])
        return int(width) & 0x3FFF, int(height) & 0x3FFF
    if chunk == b"VP8L" and len(blob) >= 25 and blob[20] == 0x2F:
        (bits,) = struct.unpack("<I", blob[21:25])
        return (bits & 0x3FFF) + 1, ((bits >> 14) & 0x3FFF) + 1
    if chunk == b"VP8X" and len(blob) >= 30:
        width = int.from_bytes(blob[24:27], "little") + 1
        height = int.from_bytes(blob[27:30], "little") + 1
        return width, height
    return None


_SIZE_READERS = {"png": _png_size, "jpeg": _jpeg_size, "bmp": _bmp_size, "webp": _webp_size}


def inspect_image(blob: bytes) -> ImageInfo:
    """Format and dimensions of ``blob``, checked against the documented limits."""
    size = len(blob)
    if size == 0:
        raise ClovaValidationError("Image data is empty (0 bytes); images must be 1 B to 20 MB.")
    if size > MAX_IMAGE_BYTES:
        raise ClovaValidationError(
            f"Image is {size / _MB:.1f} MB; CLOVA accepts at most {MAX_IMAGE_BYTES // _MB} MB "
            "per image. Downscale or recompress it (e.g. JPEG) before sending."
        )
    fmt = sniff_format(blob)
    if fmt is None or fmt not in IMAGE_FORMATS:
        found = "an unrecognised format" if fmt is None else fmt.upper()
        raise ClovaValidationError(
            f"Image format is {found}; CLOVA accepts only {_ALLOWED}. Convert the image "
            "to PNG or JPEG first."
        )
    dims = _SIZE_READERS[fmt](blob)
    if dims is None:
        raise ClovaValidationError(
            f"Could not read the width and height from the {fmt.upper()} header; the file "
            "looks truncated or corrupt. Re-encode the image."
        )
    width, height = dims
    check_dimensions(width, height)
    return ImageInfo(format=fmt, width=width, height=height, size_bytes=size)


def check_dimensions(width: int, height: int) -> None:
    """Long side <= 2240 px, short side >= 4 px, ratio <= 5:1."""
    long_side, short_side = max(width, height), min(width, height)
    if long_side > MAX_IMAGE_LONG_SIDE:
        raise ClovaValidationError(
            f"Image is {width}x{height} px; the longer side must be at most "
            f"{MAX_IMAGE_LONG_SIDE} px. Resize it so that max(width, height) <= "
            f"{MAX_IMAGE_LONG_SIDE}."
        )
    if short_side < MIN_IMAGE_SHORT_SIDE:
        raise ClovaValidationError(
            f"Image is {width}x{height} px; the shorter side must be at least "
            f"{MIN_IMAGE_SHORT_SIDE} px."
        )
    if long_side / short_side > MAX_IMAGE_ASPECT_RATIO:
        raise ClovaValidationError(
            f"Image is {width}x{height} px, an aspect ratio of {long_side / short_side:.1f}:1; "
            f"CLOVA accepts at most {MAX_IMAGE_ASPECT_RATIO:g}:1. Crop or pad the image."
        )


def check_image_url(url: str) -> None:
    """http(s) scheme and host required; a clearly unsupported extension is rejected."""
    parts = urlsplit(url)
    if parts.scheme.lower() not in ("http", "https") or not parts.netloc:
        raise ClovaValidationError(
            f"Image URL {url[:80]!r} must be an absolute http:// or https:// URL; for local "
            "files send base64 data (ImagePart(data=...)) instead."
        )
    path = parts.path.lower()
    for ext in UNSUPPORTED_URL_EXTENSIONS:
        if path.endswith(ext):
            raise ClovaValidationError(
                f"Image URL {url[:80]!r} points at a {ext} file; CLOVA accepts only "
                f"{_ALLOWED}. Convert the image and use its new URL."
            )


def image_to_wire(part: ImagePart) -> dict[str, Any]:
    """Validate ``part`` and build its v3 content part.

    A ``data:`` URI given as ``url`` is treated as data (``dataUri``), since CLOVA's
    ``imageUrl`` must be downloadable.
    """
    url, data = part.url, part.data
    if url is not None and url.lower().startswith("data:") and data is None:
        url, data = None, url
    if (url is None) == (data is None):
        raise ClovaValidationError(
            "An ImagePart needs exactly one of url= (http/https) or data= (base64)."
        )
    if data is not None:
        inspect_image(decode_image_data(data))
        return {"type": "image_url", "dataUri": {"data": wire_image_data(data)}}
    check_image_url(url or "")
    return {"type": "image_url", "imageUrl": {"url": url}}
