"""Attachments redacted in place (issue 14): pure functions over bytes, with
pypdfium2 (PDFium; Apache-2.0/BSD) and Pillow. No Flask, no database.

Everything that parses a group's file runs in a child process
(:func:`.decoder.run_in_child`): PDFium is C++ reading hostile input and is
not thread-safe, so a crash or a runaway page costs the request a Japanese
message, never the web worker.

- :func:`analyse` lists the pages that carry images (or, for an image
  attachment, the image itself) and the QR codes found on any page, for the
  official to decide.
- :func:`render_preview` renders one page (or the image) as PNG for staff.
- :func:`redact_pdf` removes redacted text from the PDF itself: the text
  objects that carry a redacted character are removed, the characters of
  those objects that were not redacted are drawn again one by one at their
  old positions with the same font, and an opaque box with the replacement
  label (＜団体名＞...) covers what was removed. Images, drawings and layout
  stay. A page that is masked, excluded, or whose text cannot be removed
  object by object (text inside a form XObject; text still readable after
  removal) is rasterised instead, so nothing under a box survives. Once any
  text was redacted, every page is then rasterised: the embedded font
  subsets still hold the redacted characters (a TrueType cmap lists them in
  code order), and only dropping the fonts removes them. The reviewer sees
  the same pages, labels and pictures, without a text layer.
- :func:`mask_image` paints regions out of an image's decoded pixels.
"""
from __future__ import annotations

import ctypes
import io
import unicodedata
from dataclasses import dataclass

from PIL import Image, ImageDraw

from .decode_budget import DecodeRefused
from .decoder import run_in_child

PDF = "application/pdf"
PNG = "image/png"
JPEG = "image/jpeg"

# PDF user-space units per inch; pages are analysed and rasterised at these.
POINTS_PER_INCH = 72
ANALYSE_DPI = 150  # enough for a 2 cm QR code on a printed page
RASTER_DPI = 150  # a masked page stays readable when printed
PREVIEW_MAX_SIDE = 1000
MAX_PAGES = 200  # a proposal attachment; more is refused with a message
MAX_IMAGE_SIDE = 3000  # images are analysed at most this large (JPEG draft / thumbnail)
BOX_FILL = (0, 0, 0)


class PageError(Exception):
    """The file could not be processed; ``message`` is Japanese for staff."""

    def __init__(self, message: str):
        super().__init__(message)
        self.message = message


@dataclass(frozen=True)
class Mask:
    """A rectangle in percent of the page (or image): origin top left."""
    x: float
    y: float
    w: float
    h: float

    def pixels(self, width: int, height: int) -> tuple[int, int, int, int]:
        left = max(0, int(self.x * width / 100))
        top = max(0, int(self.y * height / 100))
        right = min(width, int(round((self.x + self.w) * width / 100)) + 1)
        bottom = min(height, int(round((self.y + self.h) * height / 100)) + 1)
        return left, top, right, bottom


# --- in the child -------------------------------------------------------------------

def _pdfium():
    import pypdfium2 as pdfium  # imported in the child only: the web worker never loads PDFium
    return pdfium


def _qr_boxes(image: Image.Image) -> list[list[float]]:
    """QR codes (and micro QR) in ``image`` as [x, y, w, h] percent boxes."""
    import zxingcpp

    width, height = image.size
    boxes = []
    formats = zxingcpp.BarcodeFormat.QRCode | zxingcpp.BarcodeFormat.MicroQRCode
    for found in zxingcpp.read_barcodes(image.convert("L"), formats=formats):
        position = found.position
        xs = [position.top_left.x, position.top_right.x, position.bottom_left.x, position.bottom_right.x]
        ys = [position.top_left.y, position.top_right.y, position.bottom_left.y, position.bottom_right.y]
        # A margin of a few modules: the mask must cover the whole code, quiet zone included.
        pad_x, pad_y = (max(xs) - min(xs)) * 0.08, (max(ys) - min(ys)) * 0.08
        left, top = max(0.0, min(xs) - pad_x), max(0.0, min(ys) - pad_y)
        right, bottom = min(width, max(xs) + pad_x), min(height, max(ys) + pad_y)
        boxes.append([round(100 * left / width, 2), round(100 * top / height, 2),
                      round(100 * (right - left) / width, 2), round(100 * (bottom - top) / height, 2)])
    return boxes


def _open_image(data: bytes) -> Image.Image:
    image = Image.open(io.BytesIO(data))
    if image.format == "JPEG":
        image.draft("RGB", (MAX_IMAGE_SIDE, MAX_IMAGE_SIDE))
    image.load()
    if max(image.size) > MAX_IMAGE_SIDE:
        image.thumbnail((MAX_IMAGE_SIDE, MAX_IMAGE_SIDE))
    return image.convert("RGB")


def _open_pdf(data: bytes):
    pdfium = _pdfium()
    try:
        document = pdfium.PdfDocument(data)
    except pdfium.PdfiumError:
        raise PageError("PDFを読み取れませんでした。") from None
    if len(document) > MAX_PAGES:
        raise PageError(f"{MAX_PAGES}ページを超えるPDFは画像の確認ができません。分けて添付するか、除外してください。")
    return document


def _render(page, dpi: int) -> Image.Image:
    return page.render(scale=dpi / POINTS_PER_INCH, may_draw_forms=False).to_pil().convert("RGB")


def _image_count(page) -> int:
    import pypdfium2.raw as raw

    return sum(1 for obj in page.get_objects() if obj.type == raw.FPDF_PAGEOBJ_IMAGE)


def analyse_child(data: bytes, content_type: str) -> dict:
    if content_type != PDF:
        image = _open_image(data)
        return {"page_count": 1, "pages": [{"page": 0, "images": 1, "qr": _qr_boxes(image)}]}
    document = _open_pdf(data)
    pages = []
    for number in range(len(document)):
        page = document[number]
        images = _image_count(page)
        qr = _qr_boxes(_render(page, ANALYSE_DPI))
        if images or qr:
            pages.append({"page": number, "images": images, "qr": qr})
    return {"page_count": len(document), "pages": pages}


def preview_child(data: bytes, content_type: str, number: int) -> bytes:
    if content_type == PDF:
        document = _open_pdf(data)
        if not 0 <= number < len(document):
            raise PageError("そのページはありません。")
        page = document[number]
        width, height = page.get_size()
        image = _render(page, max(10, int(PREVIEW_MAX_SIDE * POINTS_PER_INCH / max(width, height))))
    else:
        image = _open_image(data)
        image.thumbnail((PREVIEW_MAX_SIDE, PREVIEW_MAX_SIDE))
    out = io.BytesIO()
    image.save(out, "PNG")
    return out.getvalue()


def mask_image_child(data: bytes, content_type: str, masks: list[Mask]) -> bytes:
    """``data`` is already a clean re-encode (sanitize.clean_image): decode,
    paint, encode again; nothing of the painted pixels is kept."""
    with Image.open(io.BytesIO(data)) as source:
        source.load()
        image = source.convert("RGBA" if source.mode in ("RGBA", "LA", "P") and content_type == PNG else "RGB")
    draw = ImageDraw.Draw(image)
    for mask in masks:
        draw.rectangle(mask.pixels(*image.size), fill=BOX_FILL)
    out = io.BytesIO()
    image.save(out, "PNG" if content_type == PNG else "JPEG", **({} if content_type == PNG else {"quality": 90}))
    return out.getvalue()


# --- text redaction ---------------------------------------------------------------

def fold_for_match(text: str) -> str:
    """What redaction compares: NFKC, case-folded, no whitespace (the scan's
    pdftotext text and PDFium's text differ in spacing and line breaks)."""
    return "".join(ch for ch in unicodedata.normalize("NFKC", text).casefold() if not ch.isspace())


def _page_chars(textpage) -> tuple[str, list[int]]:
    """The page's folded text and, for each folded character, its char index."""
    import pypdfium2.raw as raw

    folded, owners = [], []
    for index in range(textpage.count_chars()):
        code = raw.FPDFText_GetUnicode(textpage, index)
        if not code:
            continue
        for ch in fold_for_match(chr(code)):
            folded.append(ch)
            owners.append(index)
    return "".join(folded), owners


def _matches(folded: str, owners: list[int], terms: list[tuple[str, str]]) -> dict[int, str]:
    """char index -> replacement label, for every occurrence of every term."""
    hit: dict[int, str] = {}
    for term, label in terms:
        if not term:
            continue
        start = folded.find(term)
        while start != -1:
            for position in range(start, start + len(term)):
                hit.setdefault(owners[position], label)
            start = folded.find(term, start + 1)
    return hit


def _address(pointer) -> int | None:
    return ctypes.cast(pointer, ctypes.c_void_p).value if pointer else None


def _runs(textpage, indexes: list[int]) -> list[tuple[tuple[float, float, float, float], list[int]]]:
    """Consecutive redacted chars on one line as (union box, indexes)."""
    runs: list[tuple[list[float], list[int]]] = []
    for index in sorted(indexes):
        left, bottom, right, top = textpage.get_charbox(index)
        # Same line: the char's middle within the run's height (a hyphen's box
        # is short and sits high); next to the run's right edge.
        height = max(top - bottom, runs[-1][0][3] - runs[-1][0][1] if runs else 0, 0.1)
        if (runs and runs[-1][0][1] - height * 0.3 <= (bottom + top) / 2 <= runs[-1][0][3] + height * 0.3
                and -height * 0.2 <= left - runs[-1][0][2] < height):
            box = runs[-1][0]
            box[0], box[1], box[2], box[3] = min(box[0], left), min(box[1], bottom), max(box[2], right), max(box[3], top)
            runs[-1][1].append(index)
        else:
            runs.append(([left, bottom, right, top], [index]))
    return [(tuple(box), members) for box, members in runs]


def _rect(document, page, box, fill=BOX_FILL) -> None:
    import pypdfium2.raw as raw

    left, bottom, right, top = box
    rect = raw.FPDFPageObj_CreateNewRect(left, bottom, max(0.5, right - left), max(0.5, top - bottom))
    raw.FPDFPageObj_SetFillColor(rect, *fill, 255)
    raw.FPDFPath_SetDrawMode(rect, raw.FPDF_FILLMODE_WINDING, False)
    raw.FPDFPage_InsertObject(page, rect)


def _redraw_char(document, textpage, index: int, font, size: float):
    """A new text object for one kept character, where it was."""
    import pypdfium2.raw as raw

    matrix = raw.FS_MATRIX()
    raw.FPDFText_GetMatrix(textpage, index, ctypes.byref(matrix))
    x, y = ctypes.c_double(), ctypes.c_double()
    raw.FPDFText_GetCharOrigin(textpage, index, ctypes.byref(x), ctypes.byref(y))
    colour = [ctypes.c_uint() for _ in range(4)]
    raw.FPDFText_GetFillColor(textpage, index, *(ctypes.byref(v) for v in colour))
    obj = raw.FPDFPageObj_CreateTextObj(document, font, size)
    if not obj:
        return None
    buffer = ctypes.create_string_buffer((chr(raw.FPDFText_GetUnicode(textpage, index)) + "\0").encode("utf-16-le"))
    if not raw.FPDFText_SetText(obj, ctypes.cast(buffer, ctypes.POINTER(raw.FPDF_WCHAR))):
        raw.FPDFPageObj_Destroy(obj)
        return None
    raw.FPDFPageObj_SetFillColor(obj, *(v.value for v in colour))
    raw.FPDFPageObj_Transform(obj, matrix.a, matrix.b, matrix.c, matrix.d, x.value, y.value)
    return obj


@dataclass
class _Labels:
    """The replacement labels, rendered once by WeasyPrint (so the label's
    font is a small subset), placed as form XObjects."""
    document: object
    index: dict[str, tuple[int, tuple[float, float, float, float]]]

    def place(self, target, page, label: str, box) -> None:
        import pypdfium2.raw as raw

        found = self.index.get(label)
        if found is None:
            return
        number, (lx, ly, lr, lt) = found
        xobject = self.document.page_as_xobject(number, target)
        obj = xobject.as_pageobject()
        left, bottom, right, top = box
        scale = min((top - bottom) / max(lt - ly, 0.1), (right - left) / max(lr - lx, 0.1))
        height = (lt - ly) * scale
        raw.FPDFPageObj_Transform(obj, 1, 0, 0, 1, -lx, -ly)
        raw.FPDFPageObj_Transform(obj, scale, 0, 0, scale, left, bottom + ((top - bottom) - height) / 2)
        page.insert_obj(obj)


def _load_labels(labels_pdf: bytes | None, labels: list[str]) -> _Labels | None:
    if not labels_pdf:
        return None
    pdfium = _pdfium()
    document = pdfium.PdfDocument(labels_pdf)
    index = {}
    for number, label in enumerate(labels[:len(document)]):
        boxes = [obj.get_bounds() for obj in document[number].get_objects()]
        if boxes:
            index[label] = (number, (min(b[0] for b in boxes), min(b[1] for b in boxes),
                                     max(b[2] for b in boxes), max(b[3] for b in boxes)))
    return _Labels(document, index)


def _redact_text(document, page, terms, labels: _Labels | None) -> tuple[bool, int]:
    """Remove the redacted text of one page in place. (needs rasterising, objects removed)."""
    import pypdfium2.raw as raw

    textpage = page.get_textpage()
    folded, owners = _page_chars(textpage)
    hit = _matches(folded, owners, terms)
    if not hit:
        return False, 0
    top_level = {_address(obj.raw) for obj in page.get_objects(max_depth=0)}
    victims: dict[int, object] = {}
    for index in hit:
        obj = raw.FPDFText_GetTextObject(textpage, index)
        address = _address(obj)
        if address is None or address not in top_level:
            return True, 0  # text in a form XObject (or not in any object): rasterise the page
        victims[address] = obj
    redrawn = []
    for index in range(textpage.count_chars()):
        if index in hit:
            continue
        obj = raw.FPDFText_GetTextObject(textpage, index)
        address = _address(obj)
        if address in victims and not chr(raw.FPDFText_GetUnicode(textpage, index)).isspace():
            size = ctypes.c_float()
            raw.FPDFTextObj_GetFontSize(obj, ctypes.byref(size))
            new = _redraw_char(document, textpage, index, raw.FPDFTextObj_GetFont(obj), size.value)
            if new is None:
                return True, 0
            redrawn.append(new)
    runs = [(box, hit[members[0]]) for box, members in _runs(textpage, list(hit))]
    textpage.close()
    for obj in victims.values():
        raw.FPDFPage_RemoveObject(page, obj)
        raw.FPDFPageObj_Destroy(obj)
    for new in redrawn:
        raw.FPDFPage_InsertObject(page, new)
    for box, _label in runs:
        _rect(document, page, box)
    page.gen_content()
    # Read back before the labels go on: a redacted term still readable means
    # the removal did not work for this page's text, and it is rasterised.
    check = page.get_textpage()
    left_over = _matches(*_page_chars(check), terms)
    check.close()
    if labels is not None and not left_over:
        for box, label in runs:
            labels.place(document, page, label, box)
        page.gen_content()
    return bool(left_over), len(victims)


def _rasterise(document, number: int, masks: list[Mask], blank: bool) -> None:
    """Replace a page by a picture of itself with ``masks`` painted in (or
    by an empty page): nothing of what was drawn there survives as content."""
    pdfium = _pdfium()
    page = document[number]
    image = _render(page, RASTER_DPI)
    width, height = image.size
    if blank:
        image = Image.new("RGB", image.size, (235, 235, 235))
    draw = ImageDraw.Draw(image)
    for mask in masks:
        draw.rectangle(mask.pixels(width, height), fill=BOX_FILL)
    for obj in list(page.get_objects(max_depth=0)):
        page.remove_obj(obj)
        obj.close()
    w_pt, h_pt = width * POINTS_PER_INCH / RASTER_DPI, height * POINTS_PER_INCH / RASTER_DPI
    page.set_rotation(0)
    page.set_mediabox(0, 0, w_pt, h_pt)
    page.set_cropbox(0, 0, w_pt, h_pt)
    jpeg = io.BytesIO()
    image.save(jpeg, "JPEG", quality=85)
    jpeg.seek(0)
    picture = pdfium.PdfImage.new(document)
    picture.load_jpeg(jpeg, inline=True)
    picture.set_matrix(pdfium.PdfMatrix().scale(w_pt, h_pt))
    page.insert_obj(picture)
    page.gen_content()


def redact_pdf_child(data: bytes, terms: list[tuple[str, str]], labels_pdf: bytes | None, labels: list[str],
                     masks: dict[int, list[Mask]], excluded: list[int]) -> tuple[bytes, dict]:
    """``terms``: (folded text, replacement label). Returns the PDF and a
    report: {"removed_objects": n, "rasterised": [pages]}."""
    document = _open_pdf(data)
    label_doc = _load_labels(labels_pdf, labels)
    folded_terms = [(fold_for_match(t), label) for t, label in terms]
    rasterise: set[int] = set(masks) | set(excluded)
    removed = 0
    for number in range(len(document)):
        # Also on pages to be rasterised: the redacted text is boxed first, so
        # the raster does not show it either.
        page = document[number]
        fallback, count = _redact_text(document, page, folded_terms, label_doc)
        removed += count
        if fallback:
            rasterise.add(number)
            # Paint the redacted characters out before the raster is taken.
            textpage = page.get_textpage()
            hit = _matches(*_page_chars(textpage), folded_terms)
            for box, _members in _runs(textpage, list(hit)):
                _rect(document, page, box)
            textpage.close()
            page.gen_content()
    if removed or rasterise - set(masks) - set(excluded):
        # Text was redacted: every page becomes a picture of itself. The
        # embedded font subsets are shared by all pages and keep every
        # character they were made for, the redacted ones included (a
        # TrueType cmap lists them in code order, so 「山田」 can still be
        # read off the font); only dropping the fonts removes them.
        rasterise = set(range(len(document)))
    for number in sorted(rasterise):
        if 0 <= number < len(document):
            _rasterise(document, number, masks.get(number, []), number in excluded)
    out = io.BytesIO()
    document.save(out)
    return out.getvalue(), {"removed_objects": removed, "rasterised": sorted(rasterise)}


# --- the parent's side ------------------------------------------------------------

def _in_child(function, *args):
    try:
        return run_in_child(function, *args)
    except DecodeRefused as refused:
        raise PageError(refused.message) from None


def analyse(data: bytes, content_type: str) -> dict:
    return _in_child(analyse_child, data, content_type)


def render_preview(data: bytes, content_type: str, page: int) -> bytes:
    return _in_child(preview_child, data, content_type, page)


def mask_image(data: bytes, content_type: str, masks: list[Mask]) -> bytes:
    return _in_child(mask_image_child, data, content_type, masks)


def labels_pdf(labels: list[str]) -> bytes | None:
    """One small page per label, white on black, rendered by WeasyPrint."""
    if not labels:
        return None
    from html import escape

    from weasyprint import CSS, HTML

    from ..pdf import RefusingURLFetcher

    fetcher = RefusingURLFetcher()
    pages = "".join(f'<div class="l"><span>{escape(label)}</span></div>' for label in labels)
    css = ("@page{size:120mm 8mm;margin:0}body{margin:0}.l{page-break-after:always;height:8mm}"
           ".l span{font:5mm/8mm 'IPAexGothic','Noto Sans CJK JP',sans-serif;background:#000;color:#fff}")
    return HTML(string=f'<html lang="ja"><body>{pages}</body></html>', url_fetcher=fetcher).write_pdf(
        stylesheets=[CSS(string=css, url_fetcher=fetcher)])


def redact_pdf(data: bytes, terms: list[tuple[str, str]], masks: dict[int, list[Mask]] | None = None,
               excluded: list[int] | None = None) -> tuple[bytes, dict]:
    labels = sorted({label for _, label in terms})
    return _in_child(redact_pdf_child, data, terms, labels_pdf(labels), labels, masks or {}, excluded or [])
