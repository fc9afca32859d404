"""Just enough image sniffing to answer sendPhoto like Telegram does.

Telegram re-encodes photos and rejects bytes that are not an image (``IMAGE_PROCESS_FAILED``);
sending e.g. a .docx through sendPhoto is a real bug worth catching. Width/height go into the
returned PhotoSize.
"""

from __future__ import annotations

import struct


def image_size(content: bytes) -> tuple[int, int] | None:
    """(width, height) for PNG/JPEG/GIF/WebP bytes, ``None`` if not a recognised image."""
    if content.startswith(b"\x89PNG\r\n\x1a\n") and len(content) >= 24:
        width, height = struct.unpack(">II", content[16:24])
        return width, height
    if content[:6] in (b"GIF87a", b"GIF89a") and len(content) >= 10:
        width, height = struct.unpack("<HH", content[6:10])
        return width, height
    if content.startswith(b"RIFF") and content[8:12] == b"WEBP":
        return _webp_size(content)
    if content.startswith(b"\xff\xd8"):
        return _jpeg_size(content)
    return None


def _jpeg_size(content: bytes) -> tuple[int, int] | None:
    index = 2
    while index + 9 < len(content):
        if content[index] != 0xFF:
            return None
        marker = content[index + 1]
        (length,) = struct.unpack(">H", content[index + 2 : index + 4])
        # SOF0..SOF15 except DHT (C4), JPG (C8) and DAC (CC) carry the dimensions.
        if 0xC0 <= marker <= 0xCF and marker not in (0xC4, 0xC8, 0xCC):
            height, width = struct.unpack(">HH", content[index + 5 : index + 9])
            return width, height
        index += 2 + length
    return None


def _webp_size(content: bytes) -> tuple[int, int] | None:
    chunk = content[12:16]
    if chunk == b"VP8X" and len(content) >= 30:
        width = int.from_bytes(content[24:27], "little") + 1
        height = int.from_bytes(content[27:30], "little") + 1
        return width, height
    if chunk == b"VP8 " and len(content) >= 30:
        width, height = struct.unpack("<HH", content[26:30])
        return width & 0x3FFF, height & 0x3FFF
    if chunk == b"VP8L" and len(content) >= 25:
        bits = int.from_bytes(content[21:25], "little")
        return (bits & 0x3FFF) + 1, ((bits >> 14) & 0x3FFF) + 1
    return None
