"""The hostile corpus: every file is refused with the right code, or stored sanitized.

Each case goes through the real endpoint (multipart, bearer token, database, storage). For
a stored file the assertions are on the bytes in storage, read back through the port: a
WebP with no EXIF, XMP or ICC chunk (and no VP8X flag for them), no trace of the original's
metadata anywhere in the file, the right pixels (upright, sRGB, 8-bit, first frame), and
within the size cap. The over-size body with a lying Content-Length is in test_body.py.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import httpx
import psycopg
import pytest

from service.storage import LocalStorage
from tests.service.uploads import corpus
from tests.service.uploads.conftest import MintToken, bearer, make_pair, make_person
from tests.service.uploads.corpus import SECRET, WebPReport, webp_report

Check = Callable[[WebPReport], None]


def close(got: tuple[int, ...], want: tuple[int, ...], tolerance: int = 12) -> bool:
    return all(abs(g - w) <= tolerance for g, w in zip(got, want, strict=False))


def pixel(report: WebPReport, x: float, y: float) -> tuple[int, ...]:
    """The pixel at a fraction of the width and height."""
    w, h = report.image.size
    value = report.image.getpixel((min(int(x * w), w - 1), min(int(y * h), h - 1)))
    assert isinstance(value, tuple)
    return value


@dataclass(frozen=True)
class Case:
    name: str
    build: Callable[[], bytes]
    status: int
    code: str | None = None
    endpoint: str = "avatar"
    filename: str = "upload.bin"
    declared: str = "application/octet-stream"
    check: Check | None = None
    reason: str | None = None
    extras: dict[str, Any] = field(default_factory=dict)


def upright(report: WebPReport) -> None:
    assert report.image.size == (20, 40)
    assert close(pixel(report, 0.5, 0.1), (255, 0, 0))
    assert close(pixel(report, 0.5, 0.9), (0, 0, 255))


def cyan(report: WebPReport) -> None:
    assert report.image.mode == "RGB"
    assert close(pixel(report, 0.5, 0.5), (0, 255, 255), 20)


def sixteen_bit_rgb(report: WebPReport) -> None:
    assert close(pixel(report, 0.1, 0.5), (128, 128, 128))
    assert close(pixel(report, 0.9, 0.5), (255, 128, 0), 20)


def sixteen_bit_grey(report: WebPReport) -> None:
    bands = [pixel(report, x, 0.5) for x in (0.1, 0.35, 0.6, 0.9)]
    for got, want in zip(bands, (0, 64, 128, 255), strict=True):
        assert close(got, (want, want, want)), bands


def first_frame_only(report: WebPReport) -> None:
    assert not report.animated
    assert close(pixel(report, 0.5, 0.5), (255, 0, 0))


def resized_to_avatar_edge(report: WebPReport) -> None:
    assert report.image.size == (1024, 683)


def transparent_kept(report: WebPReport) -> None:
    assert report.image.mode == "RGBA"
    assert pixel(report, 0.2, 0.5)[3] == 0
    assert close(pixel(report, 0.8, 0.5), (0, 255, 0, 255))


def colour(want: tuple[int, int, int]) -> Check:
    def check(report: WebPReport) -> None:
        assert close(pixel(report, 0.5, 0.5), want)

    return check


IMAGES_ONLY = "unsupported_media_type"
CASES = [
    # Refused before or at decoding.
    Case("decompression bomb png", corpus.decompression_bomb_png, 422, "image_too_large"),
    Case("huge declared dimensions", corpus.huge_dimensions_jpeg, 422, "image_too_large"),
    Case("truncated jpeg", corpus.truncated_jpeg, 422, "corrupt_file"),
    Case("truncated png", corpus.truncated_png, 422, "corrupt_file"),
    Case("jpeg magic then garbage", corpus.jpeg_magic_then_garbage, 422, "corrupt_file"),
    Case("jpeg scan bomb", corpus.jpeg_scan_bomb, 422, "corrupt_file", reason="too_many_scans"),
    Case("zero bytes", lambda: b"", 422, "corrupt_file", reason="empty"),
    Case(
        "svg with script",
        lambda: corpus.SVG_WITH_SCRIPT,
        415,
        IMAGES_ONLY,
        filename="a.svg",
        declared="image/svg+xml",
    ),
    Case(
        "html named jpg",
        lambda: corpus.HTML_PAGE,
        415,
        IMAGES_ONLY,
        filename="cat.jpg",
        declared="image/jpeg",
    ),
    Case("gif", corpus.gif_bytes, 415, IMAGES_ONLY, declared="image/gif"),
    Case("bmp", corpus.bmp_bytes, 415, IMAGES_ONLY),
    Case("tiff", corpus.tiff_bytes, 415, IMAGES_ONLY),
    Case("pdf as avatar", corpus.pdf_bytes, 415, IMAGES_ONLY, declared="image/png"),
    # Stored, sanitized.
    Case(
        "wrong declared type",
        corpus.png_bytes,
        201,
        filename="photo.jpg",
        declared="image/jpeg",
        check=colour((30, 200, 30)),
    ),
    Case("png with zip appended", corpus.png_zip_polyglot, 201, check=colour((30, 200, 30))),
    Case("cmyk jpeg", corpus.cmyk_jpeg, 201, check=cyan),
    Case("16-bit rgb png", corpus.sixteen_bit_rgb_png, 201, check=sixteen_bit_rgb),
    Case("16-bit grey png", corpus.sixteen_bit_grey_png, 201, check=sixteen_bit_grey),
    Case("animated webp", corpus.animated_webp, 201, check=first_frame_only),
    Case("jpeg with gps exif", corpus.gps_exif_jpeg, 201, check=colour((10, 120, 200))),
    Case(
        "jpeg with gps exif as attachment",
        corpus.gps_exif_jpeg,
        201,
        endpoint="attachment",
        check=colour((10, 120, 200)),
    ),
    Case("rotated photo", corpus.rotated_photo, 201, check=upright),
    Case(
        "rotated photo as attachment",
        corpus.rotated_photo,
        201,
        endpoint="attachment",
        check=upright,
    ),
    Case("rotated heic", corpus.rotated_heic, 201, check=upright),
    Case("heic photo", corpus.heic_photo, 201, check=colour((250, 200, 0))),
    Case(
        "jpeg comment xmp iptc", corpus.jpeg_with_comment_xmp_iptc, 201, check=colour((90, 90, 90))
    ),
    Case("png text chunks", corpus.png_with_text_chunks, 201, check=colour((16, 128, 240))),
    Case("webp with exif xmp icc", corpus.webp_with_metadata, 201, check=colour((0, 100, 200))),
    Case("png with icc profile", corpus.png_with_icc, 201, check=colour((200, 100, 50))),
    Case(
        "palette png with transparency",
        corpus.palette_png_with_transparency,
        201,
        check=transparent_kept,
    ),
    Case("large png resized", corpus.large_png, 201, check=resized_to_avatar_edge),
    # PDFs, as chat attachments.
    Case(
        "pdf with javascript",
        corpus.pdf_with_javascript,
        415,
        IMAGES_ONLY,
        "attachment",
        reason="javascript",
    ),
    Case(
        "pdf with javascript open action",
        corpus.pdf_with_javascript_open_action,
        415,
        IMAGES_ONLY,
        "attachment",
        reason="javascript",
    ),
    Case(
        "pdf with obfuscated javascript",
        corpus.pdf_with_obfuscated_javascript,
        415,
        IMAGES_ONLY,
        "attachment",
        reason="javascript",
    ),
    Case(
        "pdf with launch action",
        corpus.pdf_with_launch_action,
        415,
        IMAGES_ONLY,
        "attachment",
        reason="launch_action",
    ),
    Case(
        "pdf with page additional action",
        corpus.pdf_with_page_additional_action,
        415,
        IMAGES_ONLY,
        "attachment",
        reason="automatic_action",
    ),
    Case(
        "pdf with embedded file",
        corpus.pdf_with_embedded_file,
        415,
        IMAGES_ONLY,
        "attachment",
        reason="embedded_file",
    ),
    Case("encrypted pdf", corpus.pdf_encrypted, 415, IMAGES_ONLY, "attachment", reason="encrypted"),
    Case(
        "pdf with zip appended",
        corpus.pdf_with_zip_appended,
        422,
        "corrupt_file",
        "attachment",
        reason="trailing_data",
    ),
    Case("pdf header only", corpus.pdf_header_only, 422, "corrupt_file", "attachment"),
    Case(
        "pdf too many pages", lambda: corpus.pdf_bytes(pages=4), 422, "too_many_pages", "attachment"
    ),
    Case("plain pdf", corpus.pdf_bytes, 201, endpoint="attachment"),
    # Harmless, so stored; what matters is that it is read once (test_pdf_object_ids).
    Case(
        "pdf, many ids for one object",
        corpus.pdf_many_ids_for_one_object,
        201,
        endpoint="attachment",
    ),
    Case("pdf opening at a page", corpus.pdf_with_open_at_page, 201, endpoint="attachment"),
    Case("gif as attachment", corpus.gif_bytes, 415, IMAGES_ONLY, "attachment"),
]


async def send(
    client: httpx.AsyncClient,
    db: psycopg.Connection[Any],
    mint: MintToken,
    case: Case,
) -> httpx.Response:
    files = {"file": (case.filename, case.build(), case.declared)}
    if case.endpoint == "avatar":
        person = make_person(db)
        assert person.uid is not None
        return await client.post(
            "/api/v1/uploads/avatar", files=files, headers=bearer(mint(person.uid))
        )
    pair = make_pair(db)
    assert pair.traveler.uid is not None
    return await client.post(
        f"/api/v1/conversations/{pair.conversation}/attachments",
        files=files,
        headers=bearer(mint(pair.traveler.uid)),
    )


def test_the_corpus_is_big_enough() -> None:
    assert len(CASES) >= 20
    assert len({c.name for c in CASES}) == len(CASES)


@pytest.mark.parametrize("case", CASES, ids=lambda c: c.name.replace(" ", "_"))
async def test_hostile_corpus(
    client: httpx.AsyncClient,
    db: psycopg.Connection[Any],
    mint: MintToken,
    local_storage: LocalStorage,
    case: Case,
) -> None:
    original = case.build()
    response = await send(client, db, mint, case)
    assert response.status_code == case.status, response.text
    body = response.json()
    if case.status != 201:
        error = body["error"]
        assert error["code"] == case.code
        assert error["message"]
        assert "Traceback" not in error["message"]
        if case.reason:
            assert error["details"]["reason"] == case.reason
        return

    if case.endpoint == "avatar":
        bucket, path, cap = "avatars", body["path"], 1024
        thumb = await local_storage.get(bucket, body["thumbnail_path"])
        assert thumb is not None
        thumb_report = webp_report(thumb)
        assert thumb_report.image.size == (256, 256)
        assert not thumb_report.has_metadata
    else:
        bucket, path, cap = "attachments", body["attachment_path"], 2048
    stored = await local_storage.get(bucket, path)
    assert stored is not None

    if path.endswith(".pdf"):
        # PDFs that pass are stored exactly as inspected.
        assert stored == original
        assert body["attachment"]["content_type"] == "application/pdf"
        return

    report = webp_report(stored)
    assert set(report.chunks) <= {"VP8 ", "VP8L", "VP8X", "ALPH"}, report.chunks
    assert not report.has_metadata
    assert not report.animated
    assert not report.image.getexif()
    assert not {"exif", "xmp", "icc_profile"} & set(report.image.info)
    for trace in (SECRET, b"Exif", b"GPS", b"xpacket", b"Photoshop", b"PK\x03\x04", b"SpyCam"):
        assert trace not in stored, trace
    assert max(report.image.size) <= cap
    if case.check:
        case.check(report)
