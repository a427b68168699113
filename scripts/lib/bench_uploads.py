"""Uploads: validate + rewrite a 12 MP JPEG, and reject a decompression bomb.

    scripts/bench uploads [--runs N] [--megapixels MP]

What it measures, each in a fresh subprocess so its peak RSS (`ru_maxrss`) belongs to that
work alone:
- a 12 MP photo-like JPEG (4000 x 3000, quality 90, ~4 MB) through `sanitize_image` exactly
  as the endpoints call it: the avatar path (1024 px edge + 256 px thumbnail) and the chat
  attachment path (2048 px edge). Wall time per run (p50, p95) and the process's peak RSS;
- a decompression bomb (a 7000 x 7000 PNG of 49 MP, ~50 KB on disk, 49 MB once decoded)
  against the 40 MP cap: time to rejection, and how much the process's peak and current RSS
  grew (a decode would show up as tens of MB).

Goals (issue 7): p50 <= 400 ms and peak RSS <= 300 MB for the 12 MP JPEG; the bomb rejected
in <= 50 ms without allocating the image. The database the bench harness provides is not used.
"""

from __future__ import annotations

import argparse
import io
import json
import resource
import statistics
import struct
import subprocess
import sys
import tempfile
import time
import zlib
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import PIL
from PIL import Image, ImageChops, ImageFilter

from service.uploads.errors import UploadRejected
from service.uploads.images import sanitize_image
from service.uploads.sniff import sniff

GOAL_P50_MS = 400.0
GOAL_PEAK_RSS_MB = 300.0
GOAL_BOMB_MS = 50.0
# Growth of RSS that would mean the bomb's pixels were allocated (they are 49 MB).
BOMB_ALLOCATION_MB = 10.0
MAX_PIXELS = 40_000_000
BOMB_SIDE = 7000


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--runs", type=int, default=15, help="timed runs per measurement")
    parser.add_argument(
        "--megapixels", type=float, default=12.0, help="size of the test photo (4:3)"
    )


def say(line: str) -> None:
    print(line, flush=True)


def photo_jpeg(megapixels: float) -> bytes:
    """A photo-like JPEG: smooth structure plus sensor-like noise, 4:3, quality 90."""
    width = int((megapixels * 1_000_000 * 4 / 3) ** 0.5)
    height = width * 3 // 4
    scene = Image.merge(
        "RGB",
        (
            Image.radial_gradient("L").resize((width, height)),
            Image.linear_gradient("L").resize((width, height)),
            Image.effect_mandelbrot((width // 4, height // 4), (-2.0, -1.2, 1.0, 1.2), 40)
            .resize((width, height))
            .filter(ImageFilter.GaussianBlur(3)),
        ),
    )
    noise = Image.effect_noise((width, height), 14).convert("RGB")
    photo = ImageChops.add(scene, noise, offset=-128)
    out = io.BytesIO()
    photo.save(out, "JPEG", quality=90)
    return out.getvalue()


def bomb_png(side: int = BOMB_SIDE) -> bytes:
    def chunk(kind: bytes, data: bytes) -> bytes:
        crc = zlib.crc32(kind + data) & 0xFFFFFFFF
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", crc)

    packer = zlib.compressobj(9)
    row = b"\x00" * (side + 1)
    idat = b"".join(packer.compress(row) for _ in range(side)) + packer.flush()
    header = struct.pack(">IIBBBBB", side, side, 8, 0, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", idat) + chunk(b"IEND", b"")
    )


# --------------------------------------------------------------------------------------
# Workers: run in a subprocess, print one JSON object.
# --------------------------------------------------------------------------------------


def _rss_mb() -> float:
    """Current resident set size (Linux /proc), in MB."""
    pages = int(Path("/proc/self/statm").read_text().split()[1])
    return pages * resource.getpagesize() / 1e6


def _peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KiB on Linux


def _vm_hwm_mb() -> float:
    """Peak RSS of this process image alone (Linux VmHWM), as a cross-check: ru_maxrss starts
    from the parent's RSS at fork, which is why the parent makes the photo in a worker."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def _percentile(values: Sequence[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def _worker_rewrite(path: Path, runs: int, edge: int, thumbnail: int | None) -> dict[str, Any]:
    data = path.read_bytes()
    baseline = _peak_rss_mb()
    kind = sniff(data[:64])
    assert kind is not None
    times: list[float] = []
    result = None
    for _ in range(runs):
        started = time.perf_counter()
        result = sanitize_image(
            data, kind, max_pixels=MAX_PIXELS, max_edge=edge, thumbnail_edge=thumbnail
        )
        times.append((time.perf_counter() - started) * 1000)
    assert result is not None
    return {
        "p50_ms": round(statistics.median(times), 1),
        "p95_ms": round(_percentile(times, 0.95), 1),
        "min_ms": round(min(times), 1),
        "runs": runs,
        "output": {
            "width": result.image.width,
            "height": result.image.height,
            "bytes": len(result.image.data),
        },
        "baseline_rss_mb": round(baseline, 1),
        "peak_rss_mb": round(_peak_rss_mb(), 1),
        "vm_hwm_mb": round(_vm_hwm_mb(), 1),
    }


def _worker_bomb(path: Path, runs: int) -> dict[str, Any]:
    data = path.read_bytes()
    kind = sniff(data[:64])
    assert kind is not None
    peak_before, rss_before = _peak_rss_mb(), _rss_mb()
    times: list[float] = []
    codes: set[str] = set()
    for _ in range(runs):
        started = time.perf_counter()
        try:
            sanitize_image(data, kind, max_pixels=MAX_PIXELS, max_edge=2048)
        except UploadRejected as exc:
            codes.add(exc.code)
        times.append((time.perf_counter() - started) * 1000)
    return {
        "file_bytes": len(data),
        "decoded_mb_if_allocated": round(BOMB_SIDE * BOMB_SIDE / 1e6, 1),
        "codes": sorted(codes),
        "reject_p50_ms": round(statistics.median(times), 3),
        "reject_max_ms": round(max(times), 3),
        "peak_rss_delta_mb": round(_peak_rss_mb() - peak_before, 2),
        "rss_delta_mb": round(_rss_mb() - rss_before, 2),
        "runs": runs,
    }


def _in_subprocess(*args: str) -> dict[str, Any]:
    done = subprocess.run(
        [sys.executable, "-m", "scripts.lib.bench_uploads", *args],
        check=True,
        capture_output=True,
        text=True,
    )
    result: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    return result


def run(args: argparse.Namespace, database_url: str) -> dict[str, Any]:
    del database_url  # the image pipeline needs no database
    runs = max(1, args.runs)
    with tempfile.TemporaryDirectory(prefix="lg-bench-uploads-") as tmp:
        photo_path, bomb_path = Path(tmp) / "photo.jpg", Path(tmp) / "bomb.png"
        # Made in a worker too: this process stays small, so the workers' ru_maxrss (which
        # starts from the parent's RSS at fork) measures their own work.
        _in_subprocess("--worker", "make-photo", str(photo_path), str(args.megapixels))
        photo = photo_path.read_bytes()
        bomb_path.write_bytes(bomb_png())
        say(f"photo: {len(photo) / 1e6:.1f} MB JPEG, {args.megapixels:g} MP")
        worker = ("--worker", "rewrite", str(photo_path), str(runs))
        avatar = _in_subprocess(*worker, "1024", "256")
        say(
            f"avatar path (1024 px + 256 px thumbnail): p50 {avatar['p50_ms']} ms,"
            f" peak RSS {avatar['peak_rss_mb']} MB"
        )
        attachment = _in_subprocess(*worker, "2048", "0")
        say(
            f"attachment path (2048 px): p50 {attachment['p50_ms']} ms,"
            f" peak RSS {attachment['peak_rss_mb']} MB"
        )
        bomb = _in_subprocess("--worker", "bomb", str(bomb_path), str(max(runs, 20)))
        say(
            f"bomb: rejected {bomb['codes']} in p50 {bomb['reject_p50_ms']} ms"
            f" (max {bomb['reject_max_ms']} ms), RSS +{bomb['rss_delta_mb']} MB"
        )
    photo_pass = all(
        r["p50_ms"] <= GOAL_P50_MS and r["peak_rss_mb"] <= GOAL_PEAK_RSS_MB
        for r in (avatar, attachment)
    )
    bomb_pass = (
        bomb["codes"] == ["image_too_large"]
        and bomb["reject_max_ms"] <= GOAL_BOMB_MS
        and max(bomb["peak_rss_delta_mb"], bomb["rss_delta_mb"]) < BOMB_ALLOCATION_MB
    )
    return {
        "photo": {
            "megapixels": args.megapixels,
            "input_bytes": len(photo),
            "avatar": avatar,
            "attachment": attachment,
            "goal_p50_ms": GOAL_P50_MS,
            "goal_peak_rss_mb": GOAL_PEAK_RSS_MB,
            "pass": photo_pass,
        },
        "bomb": {**bomb, "goal_ms": GOAL_BOMB_MS, "pass": bomb_pass},
        "pillow": PIL.__version__,
        "pass": photo_pass and bomb_pass,
    }


def _worker_main(argv: Sequence[str]) -> int:
    kind, path, *rest = argv
    result: dict[str, Any]
    if kind == "make-photo":
        Path(path).write_bytes(photo_jpeg(float(rest[0])))
        result = {"path": path}
    elif kind == "rewrite":
        runs, edge, thumb = (int(x) for x in rest)
        result = _worker_rewrite(Path(path), runs, edge, thumb or None)
    else:
        result = _worker_bomb(Path(path), int(rest[0]))
    print(json.dumps(result), flush=True)
    return 0


if __name__ == "__main__":
    if len(sys.argv) > 1 and sys.argv[1] == "--worker":
        raise SystemExit(_worker_main(sys.argv[2:]))
    raise SystemExit("run it as `scripts/bench uploads`")
