"""The memory an uploaded image may take while it is decoded and re-encoded
(:func:`portal.files.sanitize.clean_image`). Plain functions: no Flask.

A file's size says nothing of its pixels: a 140 KB PNG can claim 6000×6000
colour pixels, 144 MB once decoded and twice that with the clean copy. So
the cost is worked out from the header (``Image.open`` reads nothing else)
before a pixel is decoded, and a machine decodes only a few images at once.
"""
from __future__ import annotations

import fcntl
import itertools
import math
import os
import time
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from PIL import Image

# One image, decoded and re-encoded, at its peak. 200 MB lets through a
# colour image of 25 million pixels (5000×5000), a 12 MP phone photo
# (4000×3000, about 96 MB, also when it must be turned upright and
# converted to sRGB) with room to spare, and a grey 600 dpi A4 scan (35 MP,
# about 70 MB). A larger JPEG is decoded at a half, a quarter or an eighth
# of its size instead (libjpeg's scaled decoding, Pillow's ``draft``).
MAX_DECODE_BYTES = 200_000_000
# Images decoded at once on one machine, whatever the number of web
# workers (the slots are file locks: they hold across processes); a further
# upload waits its turn for at most DECODE_WAIT_SECONDS (well under nginx's
# proxy_read_timeout), then is refused with a message, never a server
# error. 2 × 200 MB bounds what a server spends on decoding however many
# uploads arrive together.
MAX_CONCURRENT_DECODES = 2
DECODE_WAIT_SECONDS = 30
# Where the slots' lock files live: one directory for every web worker of
# a machine; beside the instance's own files (as config.INSTANCE_DIR), not
# in the shared /tmp where another account could create it first.
SLOTS_DIR = Path(os.environ.get("PORTAL_DECODE_SLOTS_DIR")
                 or Path(os.environ.get("PORTAL_INSTANCE_DIR") or Path(__file__).resolve().parents[2] / "instance")
                 / "decode-slots")
_SLOT_POLL_SECONDS = 0.05

SRGB_MODES = ("RGB", "RGBA", "CMYK")  # the modes a colour profile is converted from


class DecodeRefused(Exception):
    """The image is not decoded; ``message`` (Japanese) says why."""

    def __init__(self, message: str):
        super().__init__(message)
        self.message = message


@contextmanager
def decode_slot(timeout: float | None = None):
    """Hold one of the machine's decoding slots; refused after waiting
    ``timeout`` seconds (DECODE_WAIT_SECONDS) for one. A slot is an
    exclusive lock on a file, released by the kernel if its holder dies."""
    deadline = time.monotonic() + (DECODE_WAIT_SECONDS if timeout is None else timeout)
    SLOTS_DIR.mkdir(mode=0o700, parents=True, exist_ok=True)
    while True:
        for number in range(MAX_CONCURRENT_DECODES):
            handle = open(SLOTS_DIR / f"slot-{number}", "ab")
            try:
                fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                handle.close()
                continue
            try:
                yield
            finally:
                handle.close()  # closing the file releases the lock
            return
        if time.monotonic() >= deadline:
            raise DecodeRefused("ただいま画像の処理が混み合っています。少し待ってから、もう一度添付してください。")
        time.sleep(_SLOT_POLL_SECONDS)


def bytes_per_pixel(mode: str) -> int:
    """Pillow's in-memory size of one pixel: 1 byte for 1, L and P, 2 for
    16-bit grey, 4 for everything else (RGB is stored in 4 bytes too)."""
    if mode in ("1", "L", "P"):
        return 1
    return 2 if mode.startswith("I;16") else 4


def format_mode(mode: str, fmt: str, has_transparency: bool) -> str:
    """The mode the clean image is saved in (``fmt`` "PNG" or "JPEG")."""
    if fmt == "JPEG":
        return mode if mode in ("L", "RGB", "CMYK") else "RGB"
    if mode == "P" and not has_transparency:
        return "P"
    if mode == "P" or (mode in ("L", "RGB") and has_transparency):
        return "RGBA"
    if mode == "1":
        return "L"
    return mode if mode in ("L", "LA", "RGB", "RGBA", "I;16") else "RGBA"


def rebuild_modes(mode: str, fmt: str, *, has_transparency: bool, has_profile: bool) -> list[str]:
    """Every image the rebuild holds, in order, from the decoded one to the
    clean copy: a conversion to sRGB, a conversion for the format."""
    modes = [mode]
    if has_profile and mode in SRGB_MODES:
        modes.append("RGBA" if mode == "RGBA" else "RGB")
    target = format_mode(modes[-1], fmt, has_transparency)
    if target != modes[-1]:
        modes.append(target)
    return [*modes, target]


@dataclass(frozen=True)
class DecodePlan:
    """How an image is decoded: at ``scale`` (1, or 2, 4, 8 for a JPEG
    decoded smaller), needing at most ``cost`` bytes."""
    size: tuple[int, int]  # as the header says
    scale: int
    per_pixel: int  # bytes per decoded pixel while two images are held
    decoded_per_pixel: int
    coefficients: int  # libjpeg's whole-image buffer for a progressive JPEG, at any scale
    cost: int = 0

    @property
    def draft_size(self) -> tuple[int, int]:
        # draft() picks the largest scale s with width // requested >= s.
        return max(1, self.size[0] // self.scale), max(1, self.size[1] // self.scale)

    def bytes_for(self, size: tuple[int, int]) -> int:
        """The peak for pixels decoded at ``size``: while decoding, the image
        and a progressive JPEG's coefficients; then two images at a time."""
        pixels = size[0] * size[1]
        return max(pixels * self.per_pixel, pixels * self.decoded_per_pixel + self.coefficients)


def plan_decode(image: Image.Image, fmt: str, *, max_pixels: int, max_bytes: int = MAX_DECODE_BYTES) -> DecodePlan:
    """The decode of ``image``, opened but not loaded (its header only: size,
    mode and bit depth, colour profile, transparency), within ``max_pixels``
    decoded pixels and ``max_bytes`` of memory. :class:`DecodeRefused`
    when even the smallest decode the format allows is over."""
    width, height = image.size
    modes = rebuild_modes(image.mode, fmt, has_transparency="transparency" in image.info,
                          has_profile=bool(image.info.get("icc_profile")))
    decoded = bytes_per_pixel(image.mode)
    # The rebuild closes each step's input once its output exists, and
    # turning an image upright holds it twice.
    per_pixel = max(2 * decoded, *(bytes_per_pixel(a) + bytes_per_pixel(b) for a, b in itertools.pairwise(modes)))
    coefficients = 0
    if fmt == "JPEG" and image.info.get("progressive"):
        # 2 bytes per sample, every component counted at full resolution.
        coefficients = width * height * (getattr(image, "layers", 0) or 3) * 2
    plan = DecodePlan((width, height), 1, per_pixel, decoded, coefficients)
    for scale in (1, 2, 4, 8) if fmt == "JPEG" else (1,):
        size = (-(-width // scale), -(-height // scale))
        cost = plan.bytes_for(size)
        if size[0] * size[1] <= max_pixels and cost <= max_bytes:
            return DecodePlan((width, height), scale, per_pixel, decoded, coefficients, cost)
    if width * height > max_pixels and not coefficients:
        raise DecodeRefused(too_many_pixels_message(max_pixels))
    raise DecodeRefused(over_budget_message(plan, max_bytes))


def too_many_pixels_message(max_pixels: int) -> str:
    return (f"画像の画素数が大きすぎます（{max_pixels // 10_000:,}万画素まで）。"
            "解像度を下げて保存し直してから添付してください。")


def over_budget_message(plan: DecodePlan, max_bytes: int) -> str:
    """The image's size and what an image of its kind may have."""
    width, height = plan.size
    per_pixel = max(plan.per_pixel, plan.decoded_per_pixel + plan.coefficients // max(1, width * height))
    allowed = max_bytes // per_pixel
    side = math.isqrt(allowed)
    return (f"画像の画素数が大きすぎます（この画像は{width:,}×{height:,}画素です。"
            f"この種類の画像は約{allowed // 10_000:,}万画素、たとえば{side:,}×{side:,}画素までです）。"
            "解像度を下げて保存し直してから添付してください。")
