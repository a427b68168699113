"""Why an upload was refused, in words a person understands, with a stable code to branch on."""

from __future__ import annotations

from service.core.errors import AppError


class UploadRejected(AppError):
    """Raised by the body reader and the sanitizers; the error handler answers it as is."""


def _size(n: int) -> str:
    mib = n / (1024 * 1024)
    return f"{mib:.0f} MB" if mib >= 1 and mib == int(mib) else f"{mib:.1f} MB"


def file_too_large(limit: int) -> UploadRejected:
    return UploadRejected(
        413,
        "file_too_large",
        f"The file is too large. The largest file you can upload here is {_size(limit)}.",
        {"max_bytes": limit},
    )


def unsupported_media_type(accepted: str, reason: str = "unsupported_format") -> UploadRejected:
    return UploadRejected(
        415,
        "unsupported_media_type",
        f"This kind of file can't be uploaded here. Upload {accepted}.",
        {"reason": reason},
    )


def unsafe_pdf(reason: str) -> UploadRejected:
    return UploadRejected(
        415,
        "unsupported_media_type",
        "This PDF contains scripts, automatic actions, attachments or a password, which we"
        " don't accept. Save or print it as a plain PDF and try again.",
        {"reason": reason},
    )


def corrupt_file(detail: str = "damaged") -> UploadRejected:
    return UploadRejected(
        422,
        "corrupt_file",
        "The file is damaged or incomplete, so we couldn't read it. Try exporting it again.",
        {"reason": detail},
    )


def empty_file() -> UploadRejected:
    return UploadRejected(422, "corrupt_file", "The file is empty.", {"reason": "empty"})


def image_too_large(size: tuple[int, int] | None, max_pixels: int) -> UploadRejected:
    dimensions = f" ({size[0]} x {size[1]} pixels)" if size else ""
    return UploadRejected(
        422,
        "image_too_large",
        f"The image is too large{dimensions}. Images can have at most"
        f" {max_pixels / 1_000_000:g} megapixels; resize it and try again.",
        {"max_pixels": max_pixels, **({"width": size[0], "height": size[1]} if size else {})},
    )


def too_many_pages(pages: int, max_pages: int) -> UploadRejected:
    return UploadRejected(
        422,
        "too_many_pages",
        f"The PDF has {pages} pages; documents can have at most {max_pages}.",
        {"pages": pages, "max_pages": max_pages},
    )
