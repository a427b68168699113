"""Check an untrusted PDF (`check_pdf`). A PDF that passes is stored exactly as it was sent.

Why as-is rather than rewritten: the bytes we store are then the bytes we inspected. A
pypdf rewrite would re-serialise every object (fonts, images, forms) in a form nobody
checked, could change how the document renders, and would still need this same inspection
first; refusing active content is clearer to the sender than silently cutting it out.

Refused (415, `unsupported_media_type`, with the reason in `details`):
- JavaScript anywhere: a `/JS` entry, a `/JavaScript` action or name tree;
- automatic or external actions: `/AA` (event triggers), `/Launch`, `/SubmitForm`,
  `/ImportData`, `/GoToR`, `/GoToE`, `/RichMediaExecute`, and an `/OpenAction` other than
  "open at this page" (a destination array or a `/GoTo` action, which many editors write);
- embedded files (`/EmbeddedFiles`, `/EF`, `/Type /EmbeddedFile`), `/RichMedia`, XFA forms;
- encryption (its content can't be inspected, and the recipient needs a password anyway).
Every object in the cross-reference tables is inspected, reachable from the catalogue or not.

Also refused: no `%PDF-` at byte 0, a file pypdf cannot parse or with no pages (422
`corrupt_file`), more than PDF_MAX_PAGES pages (422 `too_many_pages`), and more than a
kilobyte after the last `%%EOF` (a PDF with something else appended, such as a ZIP).
"""

from __future__ import annotations

import io
import logging
from collections.abc import Iterator
from dataclasses import dataclass

from pypdf import PdfReader
from pypdf.generic import (
    ArrayObject,
    DictionaryObject,
    IndirectObject,
    NameObject,
    PdfObject,
)

from service.uploads import errors

logger = logging.getLogger("localghost.uploads")

CONTENT_TYPE = "application/pdf"
TRAILING_BYTES_ALLOWED = 1024
MAX_OBJECTS = 500_000

_FORBIDDEN_KEYS = {
    "/JS": "javascript",
    "/JavaScript": "javascript",
    "/AA": "automatic_action",
    "/EmbeddedFiles": "embedded_file",
    "/EF": "embedded_file",
    "/RichMedia": "rich_media",
    "/XFA": "xfa_form",
}
_FORBIDDEN_ACTIONS = {
    "/JavaScript": "javascript",
    "/Launch": "launch_action",
    "/SubmitForm": "submit_form",
    "/ImportData": "import_data",
    "/GoToR": "remote_goto",
    "/GoToE": "embedded_goto",
    "/RichMediaExecute": "rich_media",
}


@dataclass(frozen=True)
class CheckedPdf:
    data: bytes
    pages: int
    content_type: str = CONTENT_TYPE


def _children(obj: PdfObject) -> Iterator[PdfObject]:
    if isinstance(obj, DictionaryObject):
        yield from obj.values()
    elif isinstance(obj, ArrayObject):
        yield from obj


def _problem_in(obj: PdfObject) -> str | None:
    """The first forbidden construct in one object (direct children included, not references)."""
    stack = [obj]
    while stack:
        item = stack.pop()
        if isinstance(item, IndirectObject):
            continue  # inspected on its own, as a top-level object
        if isinstance(item, DictionaryObject):
            for key in item:
                if key in _FORBIDDEN_KEYS:
                    return _FORBIDDEN_KEYS[key]
            action = item.get("/S")
            if isinstance(action, NameObject) and action in _FORBIDDEN_ACTIONS:
                return _FORBIDDEN_ACTIONS[action]
            if item.get("/Type") == "/EmbeddedFile":
                return "embedded_file"
            open_action = item.get("/OpenAction")
            if open_action is not None and not _is_plain_destination(open_action):
                target = open_action.get_object()
                kind = target.get("/S") if isinstance(target, DictionaryObject) else None
                return _FORBIDDEN_ACTIONS.get(str(kind), "open_action")
        stack.extend(_children(item))
    return None


def _is_plain_destination(value: PdfObject) -> bool:
    """`/OpenAction` that only chooses the first page to show."""
    target = value.get_object() if isinstance(value, IndirectObject) else value
    if isinstance(target, ArrayObject):
        return True
    return (
        isinstance(target, DictionaryObject)
        and target.get("/S") == "/GoTo"
        and "/Next" not in target
    )


def _object_ids(reader: PdfReader) -> list[tuple[int, int]]:
    """One id per stored object. Ids whose xref entries point at bytes already listed (the
    same file offset, or the same slot of an object stream) name the same object: the parser
    reads those bytes whatever the id (strict=False), so inspecting them again finds nothing
    new. Without this, 2,000 ids pointing at one 2,000-element array made a 58 KB file cost
    38 s of parsing."""
    ids: dict[object, tuple[int, int]] = {}
    for gen, table in reader.xref.items():
        for num, offset in table.items():
            ids.setdefault(("offset", offset), (num, gen))
    for num, slot in reader.xref_objStm.items():
        ids.setdefault(("stream", *slot), (num, 0))
    return sorted(set(ids.values()))


def check_pdf(data: bytes, *, max_pages: int) -> CheckedPdf:
    if not data.startswith(b"%PDF-"):
        raise errors.corrupt_file("not_a_pdf")
    eof = data.rfind(b"%%EOF")
    if eof < 0 or len(data[eof + 5 :].strip(b"\r\n\t \x00")) > TRAILING_BYTES_ALLOWED:
        raise errors.corrupt_file("trailing_data" if eof >= 0 else "no_eof_marker")
    try:
        reader = PdfReader(io.BytesIO(data), strict=False)
        if reader.is_encrypted:
            raise errors.unsafe_pdf("encrypted")
        ids = _object_ids(reader)
        if len(ids) > MAX_OBJECTS:
            raise errors.corrupt_file("too_many_objects")
        for num, gen in ids:
            obj = reader.get_object(IndirectObject(num, gen, reader))
            problem = _problem_in(obj) if obj is not None else None
            if problem:
                raise errors.unsafe_pdf(problem)
        problem = _problem_in(reader.trailer)
        if problem:
            raise errors.unsafe_pdf(problem)
        pages = len(reader.pages)
    except errors.UploadRejected:
        raise
    except Exception as exc:
        logger.info("PDF refused by parser", extra={"error": repr(exc)})
        raise errors.corrupt_file() from None
    if pages < 1:
        raise errors.corrupt_file("no_pages")
    if pages > max_pages:
        raise errors.too_many_pages(pages, max_pages)
    return CheckedPdf(data, pages)
