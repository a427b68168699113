"""What a file really is, from its first bytes. The client's name and Content-Type don't count.

Only the formats we accept are recognised; everything else (GIF, SVG, HTML, BMP, TIFF, AVIF,
ZIP...) is `None`, which the caller answers with 415.
"""

from __future__ import annotations

from enum import StrEnum


class Kind(StrEnum):
    JPEG = "jpeg"
    PNG = "png"
    WEBP = "webp"
    HEIF = "heif"
    PDF = "pdf"


IMAGE_KINDS = frozenset({Kind.JPEG, Kind.PNG, Kind.WEBP, Kind.HEIF})

# ISO BMFF brands of HEIC/HEIF stills and sequences (HEVC-coded). `mif1`/`msf1` are generic
# and also used by AVIF, so they count only beside an HEVC brand.
_HEVC_BRANDS = frozenset({b"heic", b"heix", b"heim", b"heis", b"hevc", b"hevx"})
_GENERIC_BRANDS = frozenset({b"mif1", b"msf1"})
SNIFF_BYTES = 64


def _heif_brands(head: bytes) -> set[bytes] | None:
    if len(head) < 16 or head[4:8] != b"ftyp":
        return None
    box_size = int.from_bytes(head[0:4], "big")
    end = min(max(box_size, 16), len(head))
    compatible = {head[i : i + 4] for i in range(16, end - 3, 4)}
    return {head[8:12], *compatible}


def sniff(head: bytes) -> Kind | None:
    """The kind of file whose first bytes (at least SNIFF_BYTES when available) are `head`."""
    if head.startswith(b"\xff\xd8\xff"):
        return Kind.JPEG
    if head.startswith(b"\x89PNG\r\n\x1a\n"):
        return Kind.PNG
    if head[0:4] == b"RIFF" and head[8:12] == b"WEBP":
        return Kind.WEBP
    if head.startswith(b"%PDF-"):
        return Kind.PDF
    brands = _heif_brands(head)
    if brands and (
        head[8:12] in _HEVC_BRANDS or (head[8:12] in _GENERIC_BRANDS and brands & _HEVC_BRANDS)
    ):
        return Kind.HEIF
    return None
