"""Image validation (clova_core.images) with tiny images built here from their headers."""

from __future__ import annotations

import base64
import struct
import zlib
from collections.abc import Callable

import pytest

from clova_core.errors import ClovaValidationError
from clova_core.images import (
    check_image_url,
    decode_image_data,
    image_to_wire,
    inspect_image,
    sniff_format,
    split_data_uri,
    wire_image_data,
)
from clova_core.models import MAX_IMAGE_BYTES
from clova_core.types import ImagePart


def _png_chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))


def png(width: int, height: int) -> bytes:
    """A valid RGB PNG of zeros."""
    raw = (b"\x00" + b"\x00" * 3 * width) * height
    return (
        b"\x89PNG\r\n\x1a\n"
        + _png_chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0))
        + _png_chunk(b"IDAT", zlib.compress(raw))
        + _png_chunk(b"IEND", b"")
    )


def jpeg(width: int, height: int, sof: int = 0xC0) -> bytes:
    """SOI, APP0 (JFIF), a DHT segment, padding fill bytes, SOFn, SOS, EOI."""
    app0 = b"\xff\xe0" + struct.pack(">H", 16) + b"JFIF\x00\x01\x01\x00\x00\x01\x00\x01\x00\x00"
    dht = b"\xff\xc4" + struct.pack(">H", 5) + b"\x00\x00\x00"
    frame = struct.pack(">BHHB", 8, height, width, 3) + b"\x01\x22\x00\x02\x11\x01\x03\x11\x01"
    sof_segment = bytes([0xFF, sof]) + struct.pack(">H", 2 + len(frame)) + frame
    sos = b"\xff\xda" + struct.pack(">H", 8) + b"\x01\x01\x00\x00\x3f\x00"
    return b"\xff\xd8" + app0 + dht + b"\xff" + sof_segment + sos + b"\x00" * 4 + b"\xff\xd9"


def bmp(width: int, height: int, *, core: bool = False, top_down: bool = False) -> bytes:
    pixels = b"\x00" * (((width * 3 + 3) // 4) * 4 * abs(height))
    if core:
        dib = struct.pack("<IHHHH", 12, width, height, 1, 24)
    else:
        h = -height if top_down else height
        dib = struct.pack("<IiiHHIIiiII", 40, width, h, 1, 24, 0, len(pixels), 2835, 2835, 0, 0)
    offset = 14 + len(dib)
    return b"BM" + struct.pack("<IHHI", offset + len(pixels), 0, 0, offset) + dib + pixels


def _riff(chunk: bytes, payload: bytes) -> bytes:
    body = b"WEBP" + chunk + struct.pack("<I", len(payload)) + payload
    return b"RIFF" + struct.pack("<I", len(body)) + body


def webp_vp8(width: int, height: int) -> bytes:
    return _riff(b"VP8 ", b"\x10\x02\x00" + b"\x9d\x01\x2a" + struct.pack("<HH", width, height))


def webp_vp8l(width: int, height: int) -> bytes:
    bits = (width - 1) | ((height - 1) << 14)
    return _riff(b"VP8L", b"\x2f" + struct.pack("<I", bits) + b"\x00")


def webp_vp8x(width: int, height: int) -> bytes:
    payload = b"\x00\x00\x00\x00" + (width - 1).to_bytes(3, "little")
    return _riff(b"VP8X", payload + (height - 1).to_bytes(3, "little"))


def gif(width: int, height: int) -> bytes:
    return b"GIF89a" + struct.pack("<HH", width, height) + b"\x00\x00\x00;"


def b64(blob: bytes) -> str:
    return base64.b64encode(blob).decode()


@pytest.mark.parametrize(
    ("build", "fmt"),
    [
        (png, "png"),
        (jpeg, "jpeg"),
        (lambda w, h: jpeg(w, h, sof=0xC2), "jpeg"),  # progressive
        (bmp, "bmp"),
        (lambda w, h: bmp(w, h, core=True), "bmp"),
        (lambda w, h: bmp(w, h, top_down=True), "bmp"),
        (webp_vp8, "webp"),
        (webp_vp8l, "webp"),
        (webp_vp8x, "webp"),
    ],
)
def test_accepted_formats_report_their_header_dimensions(
    build: Callable[[int, int], bytes], fmt: str
) -> None:
    blob = build(37, 12)
    info = inspect_image(blob)
    assert (info.format, info.width, info.height, info.size_bytes) == (fmt, 37, 12, len(blob))


@pytest.mark.parametrize(
    ("blob", "found"),
    [
        (gif(10, 10), "GIF"),
        (b"II*\x00" + b"\x00" * 20, "TIFF"),
        (b"<svg xmlns='http://www.w3.org/2000/svg'/>", "an unrecognised format"),
    ],
)
def test_unsupported_formats_are_rejected_listing_the_allowed_ones(blob: bytes, found: str) -> None:
    with pytest.raises(ClovaValidationError) as info:
        inspect_image(blob)
    message = str(info.value)
    assert f"Image format is {found}" in message
    assert "BMP, PNG, JPEG (JPG) or WEBP" in message


@pytest.mark.parametrize(
    ("width", "height", "needle"),
    [
        (2241, 100, "longer side must be at most 2240"),
        (100, 2241, "longer side must be at most 2240"),
        (3, 10, "shorter side must be at least 4"),
        (600, 100, "aspect ratio of 6.0:1"),
        (100, 501, "aspect ratio of 5.0:1"),  # 5.01 rounds in the message but is over 5
    ],
)
def test_dimension_limits(width: int, height: int, needle: str) -> None:
    with pytest.raises(ClovaValidationError) as info:
        inspect_image(png(width, height))
    assert needle in str(info.value)
    assert f"{width}x{height} px" in str(info.value)


@pytest.mark.parametrize(("width", "height"), [(2240, 448), (4, 20), (4, 4), (500, 100)])
def test_dimensions_at_the_limits_are_accepted(width: int, height: int) -> None:
    assert inspect_image(png(width, height)).width == width


def test_size_limits() -> None:
    with pytest.raises(ClovaValidationError, match="empty"):
        inspect_image(b"")
    too_big = png(10, 10) + b"\x00" * (MAX_IMAGE_BYTES - len(png(10, 10)) + 1)
    with pytest.raises(ClovaValidationError, match="at most 20 MB"):
        inspect_image(too_big)
    exactly = too_big[:-1]
    assert inspect_image(exactly).size_bytes == MAX_IMAGE_BYTES


@pytest.mark.parametrize(
    "blob",
    [png(10, 10)[:20], b"\xff\xd8\xff\xe0\x00\x10JFIF", jpeg(10, 10)[:30], _riff(b"VP8 ", b"\x00")],
)
def test_truncated_headers_are_reported_as_corrupt(blob: bytes) -> None:
    with pytest.raises(ClovaValidationError, match="truncated or corrupt"):
        inspect_image(blob)


def test_sniff_format_ignores_declared_types() -> None:
    assert sniff_format(png(4, 4)) == "png"
    assert sniff_format(b"hello") is None


def test_data_uri_prefix_is_stripped_to_bare_base64() -> None:
    data = b64(png(8, 8))
    assert split_data_uri(f"data:image/png;base64,{data}") == data
    assert split_data_uri(data) == data
    assert wire_image_data(f"data:image/png;base64,{data[:10]}\n{data[10:]}") == data
    with pytest.raises(ClovaValidationError, match="not base64-encoded"):
        split_data_uri("data:image/png,rawbytes")


@pytest.mark.parametrize("data", ["not base64!!", "abc", "data:image/png;base64,@@@@"])
def test_invalid_base64_is_rejected(data: str) -> None:
    with pytest.raises(ClovaValidationError, match="not valid base64"):
        decode_image_data(data)


@pytest.mark.parametrize(
    "url",
    [
        "https://example.com/cat.png",
        "http://example.com/photo.JPG",
        "https://example.com/render?id=3",
        "https://cdn.example.com/images/abc",
    ],
)
def test_http_urls_are_accepted(url: str) -> None:
    check_image_url(url)
    assert image_to_wire(ImagePart(url=url)) == {"type": "image_url", "imageUrl": {"url": url}}


@pytest.mark.parametrize(
    ("url", "needle"),
    [
        ("ftp://example.com/a.png", "http:// or https://"),
        ("/local/file.png", "http:// or https://"),
        ("file:///tmp/a.png", "http:// or https://"),
        ("https://example.com/anim.gif", "a .gif file"),
        ("https://example.com/ANIM.GIF?size=2", "a .gif file"),
        ("https://example.com/logo.svg", "a .svg file"),
        ("https://example.com/scan.tiff", "a .tiff file"),
    ],
)
def test_bad_urls_are_rejected(url: str, needle: str) -> None:
    with pytest.raises(ClovaValidationError) as info:
        check_image_url(url)
    assert needle in str(info.value)


def test_image_to_wire_sends_base64_as_data_uri_part() -> None:
    data = b64(webp_vp8l(20, 30))
    expected = {"type": "image_url", "dataUri": {"data": data}}
    assert image_to_wire(ImagePart(data=data)) == expected
    assert image_to_wire(ImagePart(data=f"data:image/webp;base64,{data}")) == expected
    assert image_to_wire(ImagePart(url=f"data:image/webp;base64,{data}")) == expected


@pytest.mark.parametrize(
    "part", [ImagePart(), ImagePart(url="https://example.com/a.png", data=b64(png(4, 4)))]
)
def test_image_part_needs_exactly_one_source(part: ImagePart) -> None:
    with pytest.raises(ClovaValidationError, match=r"exactly one of url= .* or data="):
        image_to_wire(part)


def test_image_to_wire_validates_decoded_data() -> None:
    with pytest.raises(ClovaValidationError, match="GIF"):
        image_to_wire(ImagePart(data=b64(gif(10, 10))))
