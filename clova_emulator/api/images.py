"""Image checks for v3 requests.

``dataUri.data`` is accepted both as bare base64 and as a ``data:image/...;base64,`` URI
(the docs leave it open). Formats are sniffed from magic bytes and the
dimensions read from the PNG / JPEG / BMP / WEBP headers. ``imageUrl`` must be an http(s)
URL; it is never downloaded, so only its extension can be checked.
"""

from __future__ import annotations

import base64
import binascii
import struct
from urllib.parse import urlsplit

from clova_emulator.behaviour.conversation import ImageInput
from clova_emulator.limits import (
    IMAGE_FORMATS,
    MAX_IMAGE_ASPECT_RATIO,
    MAX_IMAGE_BYTES,
    MAX_IMAGE_LONG_SIDE,
    MIN_IMAGE_SHORT_SIDE,
)
from clova_emulator.serving.envelope import EmulatedApiError

_UNSUPPORTED_EXTENSIONS = frozenset({"gif", "tif", "tiff", "svg", "heic", "heif", "ico", "avif"})
_JPEG_SOF = frozenset(range(0xC0, 0xD0)) - {0xC4, 0xC8, 0xCC}


def decode_data(data: str) -> bytes:
    """Bytes of a bare base64 string or a ``data:`` URI; 40063 when it is not base64."""
    payload = data.strip()
    if payload.startswith("data:"):
        header, _, payload = payload.partition(",")
        if ";base64" not in header:
            raise EmulatedApiError("40063", "Invalid image file")
    payload = "".join(payload.split())
    payload += "=" * (-len(payload) % 4)
    try:
        return base64.b64decode(payload, validate=True)
    except (binascii.Error, ValueError):
        raise EmulatedApiError("40063", "Invalid image file") from None


def sniff_format(blob: bytes) -> str | None:
    """``png`` / ``jpeg`` / ``bmp`` / ``webp`` / ``gif`` from magic bytes, else ``None``."""
    if blob.startswith(b"\x89PNG\r\n\x1a\n"):
        return "png"
    if blob.startswith(b"\xff\xd8\xff"):
        return "jpeg"
    if blob.startswith(b"BM"):
        return "bmp"
    if blob[:4] == b"RIFF" and blob[8:12] == b"WEBP":
        return "webp"
    if blob.startswith((b"GIF87a", b"GIF89a")):
        return "gif"
    return None


def _png_size(blob: bytes) -> tuple[int, int] | None:
    if len(blob) < 24 or blob[12:16] != b"IHDR":
        return None
    width, height = struct.unpack(">II", blob[16:24])
    return int(width), int(height)


def _bmp_size(blob: bytes) -> tuple[int, int] | None:
    if len(blob) < 26:
        return None
    width, height = struct.unpack("<ii", blob[18:26])
    return abs(int(width)), abs(int(height))


def _jpeg_size(blob: bytes) -> tuple[int, int] | None:
    index = 2
    while index + 9 <= len(blob):
        if blob[index] != 0xFF:
            return None
        marker = blob[index + 1]
        if marker == 0xFF:
            index += 1
            continue
        if marker in _JPEG_SOF:
            height, width = struct.unpack(">HH", blob[index + 5 : index + 9])
            return int(width), int(height)
        (segment,) = struct.unpack(">H", blob[index + 2 : index + 4])
        index += 2 + int(segment)
    return None


def _webp_size(blob: bytes) -> tuple[int, int] | None:
    chunk = blob[12:16]
    if chunk == b"VP8 " and len(blob) >= 30:
        width, height = struct.unpack("<HH", blob[26:30])
        return int(width) & 0x3FFF, int(height) & 0x3FFF
    if chunk == b"VP8L" and len(blob) >= 25:
        b0, b1, b2, b3 = blob[21], blob[22], blob[23], blob[24]
        width = 1 + (((b1 & 0x3F) << 8) | b0)
        height = 1 + (((b3 & 0x0F) << 10) | (b2 << 2) | ((b1 & 0xC0) >> 6))
        return width, height
    if chunk == b"VP8X" and len(blob) >= 30:
        width = 1 + int.from_bytes(blob[24:27], "little")
        height = 1 + int.from_bytes(blob[27:30], "little")
        return width, height
    return None


def image_size(fmt: str, blob: bytes) -> tuple[int, int] | None:
    """Width and height from the header of a sniffed image, ``None`` if unreadable."""
    readers = {"png": _png_size, "bmp": _bmp_size, "jpeg": _jpeg_size, "webp": _webp_size}
    reader = readers.get(fmt)
    return reader(blob) if reader is not None else None


def check_dimensions(width: int, height: int) -> None:
    """40063 for a side outside [4, 2240] px or a ratio beyond 5:1."""
    long_side, short_side = max(width, height), min(width, height)
    if long_side > MAX_IMAGE_LONG_SIDE or short_side < MIN_IMAGE_SHORT_SIDE:
        raise EmulatedApiError("40063", "Invalid image size")
    if long_side / short_side > MAX_IMAGE_ASPECT_RATIO:
        raise EmulatedApiError("40063", "Invalid image ratio")


def check_image(image: ImageInput) -> None:
    """Raise the documented failure for one image."""
    if image.url is not None:
        parts = urlsplit(image.url)
        if parts.scheme not in ("http", "https") or not parts.netloc:
            raise EmulatedApiError("40063", "Invalid image url")
        extension = parts.path.rsplit(".", 1)[-1].lower() if "." in parts.path else ""
        if extension in _UNSUPPORTED_EXTENSIONS:
            raise EmulatedApiError("40060")
        return
    blob = decode_data(image.data or "")
    if not blob or len(blob) > MAX_IMAGE_BYTES:
        raise EmulatedApiError("40061")
    fmt = sniff_format(blob)
    if fmt is None or fmt not in IMAGE_FORMATS:
        raise EmulatedApiError("40060")
    size = image_size(fmt, blob)
    if size is None:
        raise EmulatedApiError("40063", "Invalid image file")
    check_dimensions(*size)
