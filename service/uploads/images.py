"""Decode an untrusted image and write a fresh, metadata-free WebP of it (`sanitize_image`).

Nothing of the uploaded file survives but its pixels:
- decoders are restricted to what was sniffed (`Image.open(fp, formats=[...])`), so a file
  can't talk Pillow into a format we did not mean to parse;
- the pixel cap is checked from the header, right after `open` and before any decoding, so a
  decompression bomb costs microseconds and no memory (Pillow's own bomb warning is also
  turned into an error, as a second line);
- the image is decoded completely (`load()`, with LOAD_TRUNCATED_IMAGES left off), so a
  truncated or damaged file is refused rather than stored half grey;
- animated images (WebP, APNG, HEIF sequences) are accepted and stored as a still of their
  first frame: a profile photo or a chat photo is a still, and only that frame is decoded;
- EXIF orientation is applied, colours are converted to sRGB through the embedded ICC profile
  (CMYK too), 16-bit images are scaled to 8 bits, and the result is resized to a maximum edge;
- the WebP is encoded from an image with no `info` at all and no EXIF, XMP or ICC passed, so
  it carries no metadata (the tests parse the stored RIFF chunks to prove it).

CPU-bound: the routes call it in a worker thread.
"""

from __future__ import annotations

import io
import logging
import warnings
from dataclasses import dataclass

import pillow_heif
from PIL import Image, ImageCms, ImageOps

from service.uploads import errors
from service.uploads.sniff import Kind

logger = logging.getLogger("localghost.uploads")

pillow_heif.register_heif_opener()

# Pillow's format names for what we sniffed; nothing else is ever handed to a decoder.
PILLOW_FORMATS = {Kind.JPEG: "JPEG", Kind.PNG: "PNG", Kind.WEBP: "WEBP", Kind.HEIF: "HEIF"}
WEBP_QUALITY = 82
# libwebp effort 0-6. Measured on a 2000 x 1500 photo here: 2 takes a third of the time of
# 3 or 4 (its default) for files a few percent larger; 2 keeps a 12 MP upload under 400 ms.
WEBP_METHOD = 2
# A JPEG may be decoded at 1/2, 1/4 or 1/8 scale when that still leaves at least this share
# of the maximum edge: a 4000 x 3000 photo becomes a 2000 x 1500 attachment (not 2048 x
# 1536) in a quarter of the decoding time and memory.
DRAFT_MIN_SHARE = 0.75
# Scans a JPEG may hold. A progressive photo has about ten; each scan makes the decoder pass
# over the whole image again, so a small file repeating one scan thousands of times held a
# decode slot for minutes (3,000 scans of 4000 x 4000: 29 s here).
MAX_JPEG_SCANS = 100
_SRGB = ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB"))
_SIXTEEN_BIT_MODES = frozenset({"I", "I;16", "I;16B", "I;16L", "I;16N"})


@dataclass(frozen=True)
class WebP:
    data: bytes
    width: int
    height: int
    content_type: str = "image/webp"


@dataclass(frozen=True)
class Sanitized:
    image: WebP
    # A square crop of `thumbnail_edge` pixels, when asked for (avatars).
    thumbnail: WebP | None = None
    animated: bool = False


def _check_pixels(size: tuple[int, int], max_pixels: int) -> None:
    if size[0] * size[1] > max_pixels:
        raise errors.image_too_large(size, max_pixels)


def _target_size(size: tuple[int, int], max_edge: int) -> tuple[int, int]:
    width, height = size
    scale = min(1.0, max_edge / max(width, height))
    return max(1, round(width * scale)), max(1, round(height * scale))


def jpeg_scan_count(data: bytes) -> int:
    """How many scans (SOS segments) the JPEG's own marker sequence holds, read in one linear
    pass. Segments are skipped by their length, so a thumbnail inside EXIF is not counted;
    entropy-coded data is skipped to the next marker (0xFF followed by neither a stuffed 0x00
    nor a restart marker)."""
    scans = 0
    pos = 2  # after SOI
    end = len(data)
    while pos + 1 < end:
        if data[pos] != 0xFF:
            pos += 1
            continue
        marker = data[pos + 1]
        if marker == 0xFF:  # fill byte
            pos += 1
            continue
        if marker == 0xD9:  # EOI
            break
        if marker == 0x01 or 0xD0 <= marker <= 0xD7:  # no length
            pos += 2
            continue
        if pos + 3 >= end:
            break
        length = int.from_bytes(data[pos + 2 : pos + 4], "big")
        pos += 2 + length
        if marker == 0xDA:
            scans += 1
            # Entropy-coded data runs to the next real marker.
            while pos + 1 < end and not (
                data[pos] == 0xFF and data[pos + 1] != 0x00 and not 0xD0 <= data[pos + 1] <= 0xD7
            ):
                next_ff = data.find(b"\xff", pos + 1 if data[pos] == 0xFF else pos)
                if next_ff < 0:
                    return scans
                pos = next_ff
    return scans


def decode(data: bytes, kind: Kind, *, max_pixels: int, max_edge: int) -> Image.Image:
    """The first frame, fully decoded; raises UploadRejected for anything we won't store."""
    if kind not in PILLOW_FORMATS:
        raise ValueError(f"{kind} is not an image kind")
    # Process-wide, but every caller sets the same value; the explicit check below is the
    # real guarantee. catch_warnings() is not thread-safe: if another thread restores the
    # filters mid-open, Pillow only warns, and _check_pixels still refuses the image.
    Image.MAX_IMAGE_PIXELS = max_pixels
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            image = Image.open(io.BytesIO(data), formats=[PILLOW_FORMATS[kind]])
            _check_pixels(image.size, max_pixels)
            if image.format == "JPEG":
                if jpeg_scan_count(data) > MAX_JPEG_SCANS:
                    raise errors.corrupt_file("too_many_scans")
                # libjpeg's DCT scaling: decode at 1/2, 1/4 or 1/8 when the output is that much
                # smaller anyway. Still reads (and checks) every byte of the file.
                image.draft(None, _target_size(image.size, int(max_edge * DRAFT_MIN_SHARE)))
            image.load()
    except errors.UploadRejected:
        raise
    except (Image.DecompressionBombError, Image.DecompressionBombWarning):
        # Pillow's own check fired inside open(), before it handed us the size.
        raise errors.image_too_large(None, max_pixels) from None
    except MemoryError:
        raise errors.corrupt_file("too_large_to_decode") from None
    except Exception as exc:
        # Pillow and libheif raise many types (OSError, SyntaxError, ValueError, EOFError,
        # RuntimeError...) for bad input; to the user they all mean the same thing.
        logger.info("image refused by decoder", extra={"kind": kind.value, "error": repr(exc)})
        raise errors.corrupt_file() from None
    return image


def _to_8bit(image: Image.Image) -> Image.Image:
    """RGB, RGBA or CMYK with 8 bits per channel; transparency kept."""
    mode = image.mode
    if mode in ("RGB", "RGBA", "CMYK"):
        return image
    if mode in _SIXTEEN_BIT_MODES:
        # convert("L") would clip 0..65535 to 0..255 (a white image); scale instead.
        return image.convert("I").point(lambda v: v * (1 / 257)).convert("L").convert("RGB")
    has_alpha = mode in ("LA", "La", "PA", "RGBa") or "transparency" in image.info
    return image.convert("RGBA" if has_alpha else "RGB")


def _to_srgb(image: Image.Image, icc: bytes | None) -> Image.Image:
    """Interpret the pixels through the embedded profile and express them in sRGB."""
    out_mode = "RGBA" if image.mode == "RGBA" else "RGB"
    if icc:
        try:
            source = ImageCms.ImageCmsProfile(io.BytesIO(icc))
            converted = ImageCms.profileToProfile(
                image,
                source,
                _SRGB,
                renderingIntent=ImageCms.Intent.PERCEPTUAL,
                outputMode=out_mode,
            )
            if converted is not None:
                return converted
        except (ImageCms.PyCMSError, OSError, ValueError, TypeError) as exc:
            # A broken or mismatched profile: the pixels are still good, read them as sRGB.
            logger.info("ICC profile ignored", extra={"error": repr(exc)})
    return image if image.mode == out_mode else image.convert(out_mode)


def _encode(image: Image.Image) -> WebP:
    image.info = {}
    out = io.BytesIO()
    image.save(
        out,
        "WEBP",
        quality=WEBP_QUALITY,
        method=WEBP_METHOD,
        exif=b"",
        xmp=b"",
        icc_profile=None,
    )
    return WebP(out.getvalue(), image.width, image.height)


def sanitize_image(
    data: bytes,
    kind: Kind,
    *,
    max_pixels: int,
    max_edge: int,
    thumbnail_edge: int | None = None,
) -> Sanitized:
    image = decode(data, kind, max_pixels=max_pixels, max_edge=max_edge)
    animated = bool(getattr(image, "is_animated", False))
    icc = image.info.get("icc_profile")
    try:
        upright = ImageOps.exif_transpose(image)
    except Exception:
        # An unreadable EXIF block: keep the pixels as stored rather than refuse the photo.
        logger.info("EXIF orientation unreadable; stored as is")
        upright = image
    pixels = _to_8bit(upright)
    if max(pixels.size) > max_edge:
        pixels = pixels.resize(
            _target_size(pixels.size, max_edge), Image.Resampling.LANCZOS, reducing_gap=3.0
        )
    pixels = _to_srgb(pixels, icc if isinstance(icc, bytes) else None)
    thumb = None
    if thumbnail_edge:
        square = ImageOps.fit(pixels, (thumbnail_edge, thumbnail_edge), Image.Resampling.LANCZOS)
        thumb = _encode(square)
    return Sanitized(_encode(pixels), thumb, animated)
