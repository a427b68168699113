"""Read one file out of a multipart body without ever holding more than the cap in memory.

FastAPI's `UploadFile` would spool the whole body before the route runs, whatever its size.
The upload routes read `request.stream()` themselves instead, feed it to python-multipart's
streaming parser, and stop at the cap:
- a declared Content-Length above the cap is refused before a byte is read;
- the bytes actually received are counted as they arrive (a lying or absent Content-Length,
  chunked encoding), and reading stops as soon as the body or the file part passes its cap.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from python_multipart.multipart import MultipartParser, parse_options_header
from starlette.requests import Request

from service.core.errors import AppError
from service.uploads import errors

FIELD = "file"
# Room for the multipart framing and a few small fields around the file.
MULTIPART_OVERHEAD = 64 * 1024
MAX_PARTS = 8


class _TooLarge(Exception):
    pass


class _TooManyParts(Exception):
    pass


@dataclass
class UploadedFile:
    data: bytes
    # What the client claims; used for logs only, never to decide anything.
    declared_type: str | None


@dataclass
class _PartCollector:
    max_bytes: int
    parts: int = 0
    headers: dict[bytes, bytes] = field(default_factory=dict)
    header_name: bytearray = field(default_factory=bytearray)
    header_value: bytearray = field(default_factory=bytearray)
    in_file: bool = False
    file: bytearray | None = None
    declared_type: str | None = None
    finished: bool = False

    def on_part_begin(self) -> None:
        self.parts += 1
        if self.parts > MAX_PARTS:
            raise _TooManyParts
        self.headers = {}
        self.in_file = False

    def on_header_field(self, data: bytes, start: int, end: int) -> None:
        self.header_name += data[start:end]

    def on_header_value(self, data: bytes, start: int, end: int) -> None:
        self.header_value += data[start:end]

    def on_header_end(self) -> None:
        self.headers[bytes(self.header_name).lower()] = bytes(self.header_value)
        self.header_name.clear()
        self.header_value.clear()

    def on_headers_finished(self) -> None:
        _, options = parse_options_header(self.headers.get(b"content-disposition"))
        # The first part named `file` is the file; a second one is ignored.
        if options.get(b"name") == FIELD.encode() and self.file is None:
            self.in_file = True
            self.file = bytearray()
            declared = self.headers.get(b"content-type")
            self.declared_type = declared.decode("latin-1")[:100] if declared else None

    def on_part_data(self, data: bytes, start: int, end: int) -> None:
        if self.in_file and self.file is not None:
            self.file += data[start:end]
            if len(self.file) > self.max_bytes:
                raise _TooLarge

    def on_part_end(self) -> None:
        self.in_file = False

    def on_end(self) -> None:
        self.finished = True


def _malformed(message: str) -> AppError:
    return AppError(
        422,
        "validation_error",
        "Request validation failed",
        [{"loc": ["body", FIELD], "msg": message, "type": "value_error"}],
    )


async def read_upload(request: Request, *, max_bytes: int, accepted: str) -> UploadedFile:
    """The bytes of the `file` part; raises UploadRejected/AppError for anything else."""
    media_type, options = parse_options_header(request.headers.get("content-type"))
    boundary = options.get(b"boundary")
    if media_type != b"multipart/form-data" or not boundary:
        raise errors.unsupported_media_type(
            f"{accepted}, sent as multipart/form-data in a field named `{FIELD}`",
            reason="not_multipart",
        )
    body_cap = max_bytes + MULTIPART_OVERHEAD
    declared = request.headers.get("content-length")
    if declared is not None:
        # isdigit() alone accepts digits int() refuses ("²", "٣"); HTTP's are ASCII.
        if not (declared.isascii() and declared.isdigit()):
            raise AppError(400, "bad_request", "Content-Length is not a number")
        if int(declared) > body_cap:
            raise errors.file_too_large(max_bytes)

    collector = _PartCollector(max_bytes)
    try:
        parser = MultipartParser(
            boundary,
            {
                "on_part_begin": collector.on_part_begin,
                "on_part_data": collector.on_part_data,
                "on_part_end": collector.on_part_end,
                "on_header_field": collector.on_header_field,
                "on_header_value": collector.on_header_value,
                "on_header_end": collector.on_header_end,
                "on_headers_finished": collector.on_headers_finished,
                "on_end": collector.on_end,
            },
        )
        received = 0
        async for chunk in request.stream():
            received += len(chunk)
            if received > body_cap:
                raise _TooLarge
            parser.write(chunk)
            if collector.finished:
                break
        parser.finalize()
    except _TooLarge:
        raise errors.file_too_large(max_bytes) from None
    except _TooManyParts:
        raise _malformed(f"at most {MAX_PARTS} parts") from None
    except Exception:
        # python-multipart's MultipartParseError and friends: not a well-formed body.
        raise _malformed("the multipart body is malformed") from None
    if not collector.finished:
        raise _malformed("the multipart body ended early")
    if collector.file is None:
        raise AppError(
            422,
            "validation_error",
            "Request validation failed",
            [{"loc": ["body", FIELD], "msg": "Field required", "type": "missing"}],
        )
    return UploadedFile(bytes(collector.file), collector.declared_type)
