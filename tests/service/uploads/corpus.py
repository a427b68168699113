"""Files the upload tests throw at the service, generated here (nothing downloaded).

Each builder returns the bytes of one file, honest or hostile. `webp_report` reads a
stored WebP back chunk by chunk, so the tests assert on what was really stored.
"""

from __future__ import annotations

import io
import struct
import zipfile
import zlib
from dataclasses import dataclass

from PIL import Image, ImageCms
from pypdf import PdfWriter
from pypdf.generic import ArrayObject, DictionaryObject, NameObject, TextStringObject

GPS_IFD = 0x8825
ORIENTATION = 0x0112
SECRET = b"LG-SECRET-METADATA"


# --------------------------------------------------------------------------------------
# Images
# --------------------------------------------------------------------------------------


def _save(image: Image.Image, fmt: str, **params: object) -> bytes:
    out = io.BytesIO()
    image.save(out, fmt, **params)
    return out.getvalue()


def jpeg_bytes(
    size: tuple[int, int] = (64, 48), color: tuple[int, int, int] = (200, 30, 30)
) -> bytes:
    return _save(Image.new("RGB", size, color), "JPEG", quality=90)


def png_bytes(
    size: tuple[int, int] = (64, 48), color: tuple[int, int, int] = (30, 200, 30)
) -> bytes:
    return _save(Image.new("RGB", size, color), "PNG")


def _png_chunk(kind: bytes, data: bytes) -> bytes:
    body = kind + data
    return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body) & 0xFFFFFFFF)


def _png(
    width: int, height: int, depth: int, color_type: int, raw: bytes, extra: bytes = b""
) -> bytes:
    header = struct.pack(">IIBBBBB", width, height, depth, color_type, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + _png_chunk(b"IHDR", header)
        + extra
        + _png_chunk(b"IDAT", raw)
        + _png_chunk(b"IEND", b"")
    )


def decompression_bomb_png(side: int = 7000) -> bytes:
    """A real bomb: `side` x `side` grey pixels (49 MP, 49 MB decoded) in ~50 KB."""
    packer = zlib.compressobj(9)
    row = b"\x00" * (side + 1)  # filter byte + pixels
    data = b"".join(packer.compress(row) for _ in range(side)) + packer.flush()
    return _png(side, side, 8, 0, data)


def huge_dimensions_jpeg() -> bytes:
    """A tiny JPEG whose frame header claims 65,000 x 65,000 pixels."""
    data = bytearray(jpeg_bytes((16, 16)))
    sof = data.find(b"\xff\xc0")
    assert sof > 0
    data[sof + 5 : sof + 9] = struct.pack(">HH", 65000, 65000)
    return bytes(data)


def truncated_jpeg() -> bytes:
    noisy = Image.effect_noise((256, 256), 60).convert("RGB")
    data = _save(noisy, "JPEG", quality=95)
    return data[: len(data) // 2]


def truncated_png() -> bytes:
    noisy = Image.effect_noise((256, 256), 60).convert("RGB")
    data = _save(noisy, "PNG")
    return data[: len(data) // 2]


def png_zip_polyglot() -> bytes:
    """A valid PNG with a ZIP archive appended (opens as either)."""
    archive = io.BytesIO()
    with zipfile.ZipFile(archive, "w") as zf:
        zf.writestr("payload.html", "<script>alert(1)</script>")
    return png_bytes() + archive.getvalue()


SVG_WITH_SCRIPT = (
    b'<?xml version="1.0"?><svg xmlns="http://www.w3.org/2000/svg" width="10" height="10">'
    b"<script>alert(document.cookie)</script><rect width='10' height='10'/></svg>"
)
HTML_PAGE = b"<!doctype html><html><body><script>alert(1)</script></body></html>"


def gif_bytes() -> bytes:
    return _save(Image.new("P", (16, 16), 3), "GIF")


def bmp_bytes() -> bytes:
    return _save(Image.new("RGB", (16, 16), (1, 2, 3)), "BMP")


def tiff_bytes() -> bytes:
    return _save(Image.new("RGB", (16, 16), (1, 2, 3)), "TIFF")


def jpeg_magic_then_garbage() -> bytes:
    return b"\xff\xd8\xff\xe0" + b"\x13\x37" * 4000


def cmyk_jpeg() -> bytes:
    """Pure cyan, stored as CMYK (as print workflows export)."""
    return _save(Image.new("CMYK", (64, 48), (255, 0, 0, 0)), "JPEG", quality=95)


def sixteen_bit_rgb_png() -> bytes:
    """16 x 8 pixels at 16 bits per channel: left half mid grey, right half orange."""
    row = struct.pack(">HHH", 32896, 32896, 32896) * 8 + struct.pack(">HHH", 65535, 32896, 0) * 8
    raw = b"".join(b"\x00" + row for _ in range(8))
    return _png(16, 8, 16, 2, zlib.compress(raw))


def sixteen_bit_grey_png() -> bytes:
    """32 x 8 grey pixels at 16 bits, four bands: black, a quarter, half, white."""
    levels = (0, 16448, 32896, 65535)
    row = b"".join(struct.pack(">H", level) * 8 for level in levels)
    raw = b"".join(b"\x00" + row for _ in range(8))
    return _png(32, 8, 16, 0, zlib.compress(raw))


def animated_webp() -> bytes:
    """Two frames: red, then blue."""
    red = Image.new("RGB", (32, 32), (255, 0, 0))
    blue = Image.new("RGB", (32, 32), (0, 0, 255))
    return _save(
        red, "WEBP", save_all=True, append_images=[blue], duration=100, loop=0, lossless=True
    )


def gps_exif_jpeg() -> bytes:
    exif = Image.Exif()
    exif[0x010F] = "SpyCam"  # Make
    exif[0x9286] = SECRET.decode()  # UserComment (in IFD0 here; enough to find it)
    gps = {1: "N", 2: (38.0, 43.0, 22.0), 3: "W", 4: (9.0, 8.0, 30.0)}
    exif[GPS_IFD] = gps
    return _save(Image.new("RGB", (64, 48), (10, 120, 200)), "JPEG", exif=exif.tobytes())


def rotated_photo() -> bytes:
    """Stored 40 wide x 20 high: left half red, right half blue, EXIF orientation 6.

    Orientation 6 means "turn 90 degrees clockwise to view": upright, the photo is 20 wide x
    40 high with red on top and blue at the bottom.
    """
    image = Image.new("RGB", (40, 20), (0, 0, 255))
    image.paste((255, 0, 0), (0, 0, 20, 20))
    exif = Image.Exif()
    exif[ORIENTATION] = 6
    return _save(image, "JPEG", quality=95, exif=exif.tobytes())


def rotated_heic() -> bytes:
    """The same photo as rotated_photo, as HEIC with EXIF orientation 6."""
    image = Image.new("RGB", (40, 20), (0, 0, 255))
    image.paste((255, 0, 0), (0, 0, 20, 20))
    exif = Image.Exif()
    exif[ORIENTATION] = 6
    return _save(image, "HEIF", quality=95, exif=exif.tobytes())


def heic_photo() -> bytes:
    return _save(Image.new("RGB", (64, 48), (250, 200, 0)), "HEIF", quality=90)


def _xmp() -> bytes:
    return (
        b'<?xpacket begin="" id="W5M0MpCehiHzreSzNTczkc9d"?>'
        b'<x:xmpmeta xmlns:x="adobe:ns:meta/"><rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/'
        b'22-rdf-syntax-ns#"><rdf:Description>' + SECRET + b"</rdf:Description></rdf:RDF>"
        b'</x:xmpmeta><?xpacket end="w"?>'
    )


def jpeg_with_comment_xmp_iptc() -> bytes:
    """COM comment, XMP (APP1) and IPTC (APP13) segments, each carrying SECRET."""
    base = _save(Image.new("RGB", (64, 48), (90, 90, 90)), "JPEG", comment=SECRET)
    xmp = b"http://ns.adobe.com/xap/1.0/\x00" + _xmp()
    iptc = b"Photoshop 3.0\x008BIM\x04\x04\x00\x00" + struct.pack(">I", len(SECRET)) + SECRET
    segments = b"".join(
        marker + struct.pack(">H", len(payload) + 2) + payload
        for marker, payload in ((b"\xff\xe1", xmp), (b"\xff\xed", iptc))
    )
    return base[:2] + segments + base[2:]


def png_with_text_chunks() -> bytes:
    """tEXt, zTXt, iTXt (XMP) and eXIf chunks carrying SECRET."""
    exif = Image.Exif()
    exif[0x010E] = SECRET.decode()  # ImageDescription
    extra = (
        _png_chunk(b"tEXt", b"Comment\x00" + SECRET)
        + _png_chunk(b"zTXt", b"Author\x00\x00" + zlib.compress(SECRET))
        + _png_chunk(b"iTXt", b"XML:com.adobe.xmp\x00\x00\x00\x00\x00" + _xmp())
        + _png_chunk(b"eXIf", exif.tobytes())
    )
    raw = b"".join(b"\x00" + b"\x10\x80\xf0" * 8 for _ in range(8))
    return _png(8, 8, 8, 2, zlib.compress(raw), extra)


def srgb_icc() -> bytes:
    return ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB")).tobytes()


def webp_with_metadata() -> bytes:
    exif = Image.Exif()
    exif[0x010E] = SECRET.decode()
    return _save(
        Image.new("RGB", (32, 32), (0, 100, 200)),
        "WEBP",
        exif=exif.tobytes(),
        xmp=_xmp(),
        icc_profile=srgb_icc(),
    )


def png_with_icc() -> bytes:
    return _save(Image.new("RGB", (32, 32), (200, 100, 50)), "PNG", icc_profile=srgb_icc())


def palette_png_with_transparency() -> bytes:
    image = Image.new("P", (16, 16), 0)
    image.putpalette([255, 0, 0, 0, 255, 0] + [0] * (256 * 3 - 6))
    image.paste(1, (8, 0, 16, 16))
    return _save(image, "PNG", transparency=0)


def large_png(size: tuple[int, int] = (3000, 2000)) -> bytes:
    return _save(Image.new("RGB", size, (120, 60, 30)), "PNG")


# --------------------------------------------------------------------------------------
# PDFs
# --------------------------------------------------------------------------------------


def _writer(pages: int = 1) -> PdfWriter:
    writer = PdfWriter()
    for _ in range(pages):
        writer.add_blank_page(width=200, height=200)
    return writer


def _bytes(writer: PdfWriter) -> bytes:
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


def pdf_bytes(pages: int = 2) -> bytes:
    return _bytes(_writer(pages))


def pdf_with_javascript() -> bytes:
    """Document-level JavaScript in the catalogue's /Names tree (runs on open)."""
    return handmade_pdf(
        [
            b"<< /Type /Catalog /Pages 2 0 R /Names << /JavaScript 4 0 R >> >>",
            b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
            b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 200 200] >>",
            b"<< /Names [(init) 5 0 R] >>",
            b"<< /S /JavaScript /JS (app.alert('pwned');) >>",
        ]
    )


def pdf_with_javascript_open_action() -> bytes:
    writer = _writer()
    writer._root_object[NameObject("/OpenAction")] = DictionaryObject(
        {
            NameObject("/S"): NameObject("/JavaScript"),
            NameObject("/JS"): TextStringObject("app.alert('pwned');"),
        }
    )
    return _bytes(writer)


def pdf_with_launch_action() -> bytes:
    writer = _writer()
    writer._root_object[NameObject("/OpenAction")] = DictionaryObject(
        {NameObject("/S"): NameObject("/Launch"), NameObject("/F"): TextStringObject("calc.exe")}
    )
    return _bytes(writer)


def pdf_with_open_at_page() -> bytes:
    """An /OpenAction that only says which page to show first, as many editors write."""
    writer = _writer(2)
    writer._root_object[NameObject("/OpenAction")] = ArrayObject(
        [writer.pages[1].indirect_reference, NameObject("/Fit")]
    )
    return _bytes(writer)


def pdf_with_embedded_file() -> bytes:
    writer = _writer()
    writer.add_attachment("invoice.exe", b"MZ\x90\x00not really")
    return _bytes(writer)


def pdf_encrypted() -> bytes:
    writer = _writer()
    writer.encrypt("secret-password", algorithm="AES-128")
    return _bytes(writer)


def handmade_pdf(objects: list[bytes], trailer_extra: bytes = b"") -> bytes:
    """A PDF from raw object bodies (1-based ids), with a correct xref table."""
    out = bytearray(b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n")
    offsets = []
    for number, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += b"%d 0 obj\n" % number + body + b"\nendobj\n"
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    out += b"".join(b"%010d 00000 n \n" % offset for offset in offsets)
    out += b"trailer\n<< /Size %d /Root 1 0 R %s>>\n" % (len(objects) + 1, trailer_extra)
    out += b"startxref\n%d\n%%%%EOF\n" % xref
    return bytes(out)


def pdf_with_obfuscated_javascript() -> bytes:
    """`/S /JavaScript` and `/JS` spelled with #-escapes, in an object nothing references."""
    return handmade_pdf(
        [
            b"<< /Type /Catalog /Pages 2 0 R >>",
            b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
            b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 200 200] >>",
            b"<< /S /J#61vaScript /J#53 (app.alert(1)) >>",
        ]
    )


def pdf_with_page_additional_action() -> bytes:
    return handmade_pdf(
        [
            b"<< /Type /Catalog /Pages 2 0 R >>",
            b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
            b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 200 200]"
            b" /AA << /O << /S /URI /URI (http://example.invalid/track) >> >> >>",
        ]
    )


def pdf_many_ids_for_one_object(ids: int = 2000, size: int = 2000) -> bytes:
    """A plain one-page PDF plus one large array, and `ids` extra xref entries that all point
    at the array's offset: harmless, but an object-by-id inspection parses the array once per
    id (quadratic)."""
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 200 200] >>",
        b"[" + b" ".join([b"<< /A 1 >>"] * size) + b"]",
    ]
    out = bytearray(b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n")
    offsets = []
    for number, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += b"%d 0 obj\n" % number + body + b"\nendobj\n"
    offsets += [offsets[-1]] * ids
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(offsets) + 1)
    out += b"".join(b"%010d 00000 n \n" % offset for offset in offsets)
    out += b"trailer\n<< /Size %d /Root 1 0 R >>\n" % (len(offsets) + 1)
    out += b"startxref\n%d\n%%%%EOF\n" % xref
    return bytes(out)


def jpeg_scan_bomb(repeats: int = 300) -> bytes:
    """A small progressive JPEG whose last scan is repeated: each repeat is a full pass of the
    decoder over the image, for a few hundred bytes of file."""
    image = Image.effect_noise((256, 256), 40).convert("L")
    data = _save(image, "JPEG", progressive=True, quality=80)
    last_scan = data.rindex(b"\xff\xda")
    eoi = data.rindex(b"\xff\xd9")
    return data[:eoi] + data[last_scan:eoi] * repeats + data[eoi:]


def pdf_with_zip_appended() -> bytes:
    archive = io.BytesIO()
    with zipfile.ZipFile(archive, "w") as zf:
        zf.writestr("payload.txt", "x" * 4000)
    return pdf_bytes() + archive.getvalue()


def pdf_header_only() -> bytes:
    return b"%PDF-1.7\n%%EOF\n"


# --------------------------------------------------------------------------------------
# Reading back what was stored
# --------------------------------------------------------------------------------------

_VP8X_ICC, _VP8X_ALPHA, _VP8X_EXIF, _VP8X_XMP, _VP8X_ANIM = 0x20, 0x10, 0x08, 0x04, 0x02


@dataclass(frozen=True)
class WebPReport:
    chunks: list[str]
    vp8x_flags: int
    image: Image.Image

    @property
    def has_metadata(self) -> bool:
        meta = {"EXIF", "XMP ", "ICCP"} & set(self.chunks)
        flags = self.vp8x_flags & (_VP8X_ICC | _VP8X_EXIF | _VP8X_XMP)
        return bool(meta or flags)

    @property
    def animated(self) -> bool:
        return bool({"ANIM", "ANMF"} & set(self.chunks)) or bool(self.vp8x_flags & _VP8X_ANIM)


def webp_report(data: bytes) -> WebPReport:
    """Walk the RIFF container of a WebP and decode it."""
    assert data[:4] == b"RIFF", "not a RIFF file"
    assert data[8:12] == b"WEBP", "not a WebP"
    assert struct.unpack("<I", data[4:8])[0] + 8 == len(data), "RIFF size is wrong"
    chunks: list[str] = []
    flags = 0
    offset = 12
    while offset < len(data):
        fourcc = data[offset : offset + 4].decode("latin-1")
        size = struct.unpack("<I", data[offset + 4 : offset + 8])[0]
        if fourcc == "VP8X":
            flags = data[offset + 8]
        chunks.append(fourcc)
        offset += 8 + size + (size & 1)
    image = Image.open(io.BytesIO(data), formats=["WEBP"])
    image.load()
    return WebPReport(chunks, flags, image)
