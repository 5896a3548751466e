"""Checking and cleaning uploaded files. Plain functions over bytes: no Flask.

The type is decided by the content (magic bytes, then a real parse with
pikepdf or Pillow), never by the file name or the browser's content type.
Every accepted file is rewritten: PDFs without DocInfo/XMP metadata, images
re-encoded from their pixels so no EXIF, text chunk or other metadata
survives. Anything we cannot parse is refused with a message in Japanese.
"""
from __future__ import annotations

import io
import logging
import struct
import unicodedata
import warnings
from dataclasses import dataclass

import pikepdf
from PIL import Image, ImageCms, ImageOps, JpegImagePlugin, UnidentifiedImageError

from .decode_budget import (
    MAX_DECODE_BYTES,
    SRGB_MODES,
    DecodePlan,
    DecodeRefused,
    decode_slot,
    format_mode,
    over_budget_message,
    plan_decode,
    too_many_pixels_message,
)
from .decoder import run_in_child

log = logging.getLogger(__name__)

PDF = "application/pdf"
JPEG = "image/jpeg"
PNG = "image/png"

EXTENSIONS = {PDF: "pdf", JPEG: "jpg", PNG: "png"}
TYPE_LABELS = {PDF: "PDF", JPEG: "JPEG画像", PNG: "PNG画像"}
# Extensions that name one of our types; used only to catch a mix-up
# (a PNG called .pdf), never to decide the type.
NAME_EXTENSIONS = {"pdf": PDF, "jpg": JPEG, "jpeg": JPEG, "jpe": JPEG, "png": PNG}

# A 600 dpi A4 scan is about 35 million pixels; decoding 40 million RGBA
# pixels already takes ~160 MB, so this is the ceiling.
MAX_IMAGE_PIXELS = 40_000_000
JPEG_QUALITY = 90

ALLOWED_TYPES_MESSAGE = "添付できるのは PDF、JPEG、PNG 形式のファイルだけです。"

# Keys that carry author metadata or active content; removed from the PDF.
_PDF_ROOT_KEYS = ("/Metadata", "/PieceInfo", "/OpenAction", "/AA")
_PDF_NAME_TREES = ("/JavaScript", "/EmbeddedFiles")
# On any object (pages, images, fonts, forms). /AF (associated files, PDF 2.0
# and PDF/A-3) keeps an embedded file reachable after /EmbeddedFiles is gone.
_PDF_OBJECT_KEYS = ("/Metadata", "/PieceInfo", "/AF")


class RejectedFile(Exception):
    """The upload cannot be accepted; ``message`` is shown next to the field."""

    def __init__(self, message: str):
        super().__init__(message)
        self.message = message


@dataclass(frozen=True)
class CleanFile:
    data: bytes
    content_type: str

    @property
    def extension(self) -> str:
        return EXTENSIONS[self.content_type]


def detect_type(data: bytes) -> str | None:
    """The content type the magic bytes claim, or None."""
    if data.startswith(b"%PDF-"):
        return PDF
    if data.startswith(b"\xff\xd8\xff"):
        return JPEG
    if data.startswith(b"\x89PNG\r\n\x1a\n"):
        return PNG
    return None


def sanitize(data: bytes, filename: str = "", *, max_pixels: int = MAX_IMAGE_PIXELS) -> CleanFile:
    """Check ``data`` and return a cleaned copy, or raise :class:`RejectedFile`."""
    if not data:
        raise RejectedFile("ファイルが空です（0バイト）。内容のあるファイルを選んでください。")
    content_type = detect_type(data)
    if content_type is None:
        raise RejectedFile(
            f"{ALLOWED_TYPES_MESSAGE}このファイルはいずれの形式でもありません。"
            "Word や Excel の文書は、PDF として保存し直してから添付してください。"
        )
    named = NAME_EXTENSIONS.get(_extension(filename))
    if named is not None and named != content_type:
        raise RejectedFile(
            f"ファイル名は「.{_extension(filename)}」ですが、中身は{TYPE_LABELS[content_type]}です。"
            "正しいファイルを選んだか確認してください。"
        )
    if content_type == PDF:
        return CleanFile(clean_pdf(data), PDF)
    return CleanFile(clean_image(data, content_type, max_pixels=max_pixels), content_type)


def clean_pdf(data: bytes) -> bytes:
    broken = RejectedFile("PDFファイルを読み取れませんでした。ファイルが壊れていないか確認し、保存し直してから添付してください。")
    try:
        with pikepdf.open(io.BytesIO(data)) as pdf:
            if len(pdf.pages) == 0:
                raise broken
            _strip_pdf(pdf)
            out = io.BytesIO()
            # Streams are copied as they are: no decompression, so a stream
            # bomb costs nothing. Saving drops encryption and every object no
            # longer referenced (the old /Info and XMP included).
            pdf.save(out, stream_decode_level=pikepdf.StreamDecodeLevel.none, fix_metadata_version=False,
                     deterministic_id=True)
    except pikepdf.PasswordError:
        raise RejectedFile("パスワードで保護されたPDFは添付できません。保護を解除してから添付してください。") from None
    except RejectedFile:
        raise
    except (pikepdf.PdfError, ValueError, KeyError, TypeError, RuntimeError, RecursionError):
        raise broken from None
    except Exception:
        # A parser failing in a way we did not foresee is still a bad file, not a 500.
        log.warning("unexpected error while reading a PDF", exc_info=True)
        raise broken from None
    return out.getvalue()


def _strip_pdf(pdf: pikepdf.Pdf) -> None:
    if "/Info" in pdf.trailer:
        del pdf.trailer["/Info"]
    root = pdf.Root
    for key in _PDF_ROOT_KEYS:
        if key in root:
            del root[key]
    names = root.get("/Names")
    if isinstance(names, pikepdf.Dictionary):
        for key in _PDF_NAME_TREES:
            if key in names:
                del names[key]
    for page in pdf.pages:
        if "/AA" in page.obj:
            del page.obj["/AA"]
    for obj in pdf.objects:
        if isinstance(obj, (pikepdf.Dictionary, pikepdf.Stream)):
            for key in _PDF_OBJECT_KEYS:
                if key in obj:
                    del obj[key]
        if isinstance(obj, pikepdf.Stream) and _is_plain_jpeg(obj):
            # A photo placed in a PDF keeps its EXIF (camera, GPS) inside the JPEG stream.
            raw = obj.read_raw_bytes()
            stripped = strip_jpeg_metadata(raw)
            if stripped != raw:
                obj.write(stripped, filter=obj.Filter, decode_parms=obj.get("/DecodeParms"))


def _is_plain_jpeg(stream) -> bool:
    """A stream whose only filter is DCTDecode: its raw bytes are a JPEG file."""
    filters = stream.get("/Filter")
    if isinstance(filters, pikepdf.Array) and len(filters) == 1:
        filters = filters[0]
    return filters == pikepdf.Name.DCTDecode


# APP1 (EXIF, XMP), APP3–APP13 (IPTC/Photoshop and vendor data), APP15 and
# comments; APP0 (JFIF), APP2 (ICC colour) and APP14 (Adobe colour transform)
# affect how the pixels look and are kept.
_JPEG_DROPPED = {0xE1, *range(0xE3, 0xEE), 0xEF, 0xFE}


def strip_jpeg_metadata(data: bytes) -> bytes:
    """Remove metadata segments from JPEG bytes without re-encoding. Data
    that does not parse as expected is returned unchanged."""
    if not data.startswith(b"\xff\xd8"):
        return data
    out = bytearray(data[:2])
    i = 2
    while i + 4 <= len(data):
        if data[i] != 0xFF:
            return data
        marker = data[i + 1]
        if marker == 0xFF:  # fill byte
            i += 1
            continue
        if marker == 0xDA:  # start of scan: the rest is image data
            return bytes(out + data[i:])
        if marker == 0x01 or 0xD0 <= marker <= 0xD7:
            out += data[i:i + 2]
            i += 2
            continue
        length = int.from_bytes(data[i + 2:i + 4], "big")
        if length < 2:
            return data
        if marker not in _JPEG_DROPPED:
            out += data[i:i + 2 + length]
        i += 2 + length
    return data


def clean_image(data: bytes, content_type: str, *, max_pixels: int = MAX_IMAGE_PIXELS,
                max_decode_bytes: int = MAX_DECODE_BYTES) -> bytes:
    """Decode the pixels and encode them into a new image with no metadata.
    What that costs in memory is bounded from the header before anything is
    decoded, a machine decodes only a few images at a time
    (:mod:`.decode_budget`), each in a child process (:mod:`.decoder`)."""
    fmt = "PNG" if content_type == PNG else "JPEG"
    broken = RejectedFile(f"{TYPE_LABELS[content_type]}を読み取れませんでした。ファイルが壊れていないか確認してください。")
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            with Image.open(io.BytesIO(data), formats=[fmt]) as probe:
                # Image.open reads only the header: refuse huge sizes before decoding.
                plan = plan_decode(probe, fmt, max_pixels=max_pixels, max_bytes=max_decode_bytes)
                probe.verify()
            with decode_slot():
                return _decode(data, fmt, plan, max_decode_bytes)
    except DecodeRefused as refused:
        raise RejectedFile(refused.message) from None
    except (Image.DecompressionBombError, Image.DecompressionBombWarning):
        # Pillow's own ceiling, checked in Image.open (a JPEG may be larger
        # than max_pixels: it is decoded at a smaller scale).
        limit = max_pixels if fmt == "PNG" else max(max_pixels, Image.MAX_IMAGE_PIXELS or 0)
        raise RejectedFile(too_many_pixels_message(limit)) from None
    except (UnidentifiedImageError, OSError, ValueError, SyntaxError, TypeError, IndexError, KeyError,
            EOFError, MemoryError, ZeroDivisionError, struct.error):
        raise broken from None
    except Exception:
        log.warning("unexpected error while reading an image", exc_info=True)
        raise broken from None


def _decode(data: bytes, fmt: str, plan: DecodePlan, max_decode_bytes: int) -> bytes:
    """The re-encode, in a child process of its own (:mod:`.decoder`)."""
    return run_in_child(_reencode, data, fmt, plan, max_decode_bytes)


def _reencode(data: bytes, fmt: str, plan: DecodePlan, max_decode_bytes: int) -> bytes:
    with Image.open(io.BytesIO(data), formats=[fmt]) as image:
        if plan.scale > 1:
            image.draft(image.mode, plan.draft_size)
        if plan.bytes_for(image.size) > max_decode_bytes:  # draft chose otherwise than planned
            raise DecodeRefused(over_budget_message(plan, max_decode_bytes))
        image.load()
        source = _JpegSource.of(image) if fmt == "JPEG" else None
        clean = _rebuild(image, fmt)
    options = source.options(clean) if source is not None else {}
    out = io.BytesIO()
    clean.save(out, fmt, **options)
    clean.close()
    return out.getvalue()


@dataclass(frozen=True)
class _JpegSource:
    """What the re-encode keeps of the source JPEG: its quantisation tables and
    subsampling, so a photo keeps its quality and does not grow."""
    mode: str
    tables: dict | None
    sampling: int

    @classmethod
    def of(cls, image: Image.Image) -> _JpegSource:
        return cls(image.mode, getattr(image, "quantization", None), JpegImagePlugin.get_sampling(image))

    def options(self, clean: Image.Image) -> dict:
        """The source's tables and subsampling; a fixed quality otherwise."""
        if self.tables and self.mode == clean.mode and len(self.tables) <= 4:
            return {"qtables": self.tables, **({"subsampling": self.sampling} if self.sampling != -1 else {})}
        return {"quality": JPEG_QUALITY}


def _rebuild(image: Image.Image, fmt: str) -> Image.Image:
    """A new image holding only the pixels (upright, in sRGB when a colour
    profile was attached): ``info`` (EXIF, XMP, text, ICC, comments) stays behind.
    Takes ``image`` over: each step closes its input once its output exists,
    so no more than two images are in memory at once (plan_decode counts on it)."""
    ImageOps.exif_transpose(image, in_place=True)
    image = _replaced(image, _to_srgb(image))
    target = format_mode(image.mode, fmt, "transparency" in image.info)
    palette = image.getpalette() if target == "P" else None
    if target != image.mode:
        image = _replaced(image, image.convert(target))
    clean = Image.new(target, image.size)
    clean.paste(image)
    image.close()
    if palette is not None:
        clean.putpalette(palette)
    return clean


def _replaced(old: Image.Image, new: Image.Image) -> Image.Image:
    if new is not old:
        old.close()
    return new


def _to_srgb(image: Image.Image) -> Image.Image:
    """Convert pixels described by an embedded ICC profile to sRGB, so the
    profile (which can name the device or the author) need not be kept."""
    icc = image.info.get("icc_profile")
    if not icc or image.mode not in SRGB_MODES:
        return image
    try:
        source = ImageCms.ImageCmsProfile(io.BytesIO(icc))
        out_mode = "RGBA" if image.mode == "RGBA" else "RGB"
        return ImageCms.profileToProfile(image, source, ImageCms.createProfile("sRGB"), outputMode=out_mode) or image
    except (ImageCms.PyCMSError, OSError, ValueError, TypeError):
        return image


def _extension(filename: str) -> str:
    name = filename.rsplit("/", 1)[-1].rsplit("\\", 1)[-1]
    return name.rsplit(".", 1)[-1].lower() if "." in name else ""


def clean_filename(filename: str, content_type: str, limit: int = 255) -> str:
    """The name shown and offered on download: no path, no control
    characters, NFC, within the column length, ending in the real extension."""
    name = unicodedata.normalize("NFC", filename or "")
    name = name.replace("\\", "/").rsplit("/", 1)[-1]
    name = "".join(ch for ch in name if unicodedata.category(ch)[0] != "C").strip().strip(".")
    extension = EXTENSIONS[content_type]
    stem = name.rsplit(".", 1)[0] if NAME_EXTENSIONS.get(_extension(name)) == content_type else name
    stem = stem.strip() or "添付資料"
    stem = stem[: limit - len(extension) - 1]
    return f"{stem}.{extension}"
