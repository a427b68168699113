"""The sanitizer and the sniffer on their own: what the HTTP corpus can't see from outside."""

from __future__ import annotations

import io

import pytest
from PIL import ImageFile
from pypdf import PdfReader

from service.uploads.errors import UploadRejected
from service.uploads.images import jpeg_scan_count, sanitize_image
from service.uploads.pdf import _object_ids, check_pdf
from service.uploads.sniff import Kind, sniff
from tests.service.uploads import corpus


def test_a_bomb_is_refused_without_decoding_a_pixel(monkeypatch: pytest.MonkeyPatch) -> None:
    def no_decoding(self: ImageFile.ImageFile) -> None:
        raise AssertionError("the bomb's pixels were decoded")

    monkeypatch.setattr(ImageFile.ImageFile, "load", no_decoding)
    for bomb in (corpus.decompression_bomb_png(), corpus.huge_dimensions_jpeg()):
        kind = sniff(bomb)
        assert kind is not None
        with pytest.raises(UploadRejected) as refused:
            sanitize_image(bomb, kind, max_pixels=40_000_000, max_edge=2048)
        assert refused.value.code == "image_too_large"


def test_the_pixel_cap_comes_from_settings() -> None:
    # 3000 x 2000 = 6 MP: fine under the default, refused under a 5 MP cap (by Pillow's bomb
    # check, its warning turned into an error, before the header is even handed back).
    data = corpus.large_png()
    with pytest.raises(UploadRejected) as refused:
        sanitize_image(data, Kind.PNG, max_pixels=5_000_000, max_edge=1024)
    assert refused.value.code == "image_too_large"
    assert refused.value.details == {"max_pixels": 5_000_000}
    assert "at most 5 megapixels" in refused.value.message
    assert sanitize_image(data, Kind.PNG, max_pixels=6_000_000, max_edge=1024).image.width == 1024


@pytest.mark.parametrize(
    ("size", "edge", "expected"),
    [
        ((4000, 3000), 2048, (2000, 1500)),  # decoded at 1/2: 98 % of the edge
        ((4000, 3000), 1024, (1000, 750)),  # decoded at 1/4
        ((2048, 1536), 1024, (1024, 768)),
        ((3000, 2000), 2048, (2048, 1365)),  # 1/2 would leave 73 %: full decode, resized
        ((640, 480), 2048, (640, 480)),  # never enlarged
    ],
)
def test_jpeg_output_size(size: tuple[int, int], edge: int, expected: tuple[int, int]) -> None:
    result = sanitize_image(
        corpus.jpeg_bytes(size), Kind.JPEG, max_pixels=40_000_000, max_edge=edge
    )
    assert (result.image.width, result.image.height) == expected


def test_avatar_thumbnail_is_a_square_crop() -> None:
    result = sanitize_image(
        corpus.jpeg_bytes((300, 100)),
        Kind.JPEG,
        max_pixels=40_000_000,
        max_edge=1024,
        thumbnail_edge=256,
    )
    assert result.thumbnail is not None
    assert (result.thumbnail.width, result.thumbnail.height) == (256, 256)


@pytest.mark.parametrize(
    ("head", "kind"),
    [
        (b"\xff\xd8\xff\xdb", Kind.JPEG),
        (b"\x89PNG\r\n\x1a\n", Kind.PNG),
        (b"RIFF\x00\x00\x00\x00WEBPVP8 ", Kind.WEBP),
        (b"%PDF-1.4", Kind.PDF),
        (b"\x00\x00\x00\x18ftypheic\x00\x00\x00\x00mif1heic", Kind.HEIF),
        (b"\x00\x00\x00\x18ftypmif1\x00\x00\x00\x00mif1heic", Kind.HEIF),
        (b"\x00\x00\x00\x1cftypavif\x00\x00\x00\x00avifmif1miaf", None),
        (b"\x00\x00\x00\x18ftypmif1\x00\x00\x00\x00mif1avif", None),
        (b"RIFF\x00\x00\x00\x00WAVEfmt ", None),
        (b"GIF89a", None),
        (b"<svg", None),
        (b"PK\x03\x04", None),
        (b"", None),
    ],
)
def test_sniff(head: bytes, kind: Kind | None) -> None:
    assert sniff(head) is kind


def test_scans_are_counted_from_the_marker_sequence() -> None:
    assert jpeg_scan_count(corpus.jpeg_bytes()) == 1
    progressive = corpus.jpeg_scan_bomb(repeats=0)
    assert 2 <= jpeg_scan_count(progressive) <= 12
    assert jpeg_scan_count(corpus.jpeg_scan_bomb(repeats=300)) == jpeg_scan_count(progressive) + 300
    # A thumbnail inside EXIF is a whole JPEG in an APP1 segment: skipped, not counted.
    assert jpeg_scan_count(corpus.gps_exif_jpeg()) == jpeg_scan_count(corpus.jpeg_bytes())


def test_each_stored_pdf_object_is_inspected_once() -> None:
    reader = PdfReader(
        io.BytesIO(corpus.pdf_many_ids_for_one_object(ids=500, size=10)), strict=False
    )
    assert len(reader.xref[0]) == 504
    assert len(_object_ids(reader)) == 4
    # A forbidden object reached through many ids is still found.
    refused = corpus.handmade_pdf(
        [
            b"<< /Type /Catalog /Pages 2 0 R >>",
            b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
            b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 200 200] >>",
            b"<< /S /JavaScript /JS (app.alert(1)) >>",
        ]
    )
    with pytest.raises(UploadRejected) as info:
        check_pdf(refused, max_pages=3)
    assert info.value.details == {"reason": "javascript"}
