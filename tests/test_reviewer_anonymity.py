"""The anonymity guarantee (issue 3, "Must hold"): a crawl of every page and
download a reviewer can reach in a realistic call finds none of the
identifying strings of any applicant: not in the text, HTML attributes,
headers (file names), PDF text and metadata, image metadata, redirects or
error pages.

The call (tests/anonymity_world.py) goes through the real verbs: submission,
intake, the scan and the secretariat's decisions, release, a panel of two
with one confirmed conflict. The reviewers log in through the login form and
act as reviewers do: confirm 利害関係なし, save drafts, submit sheets, one
declares a conflict; later the scoring period ends and the panel view opens.

The checker is written here, independently of the scanner it checks
(portal/domain/anonymise.py): NFKC, case, katakana/hiragana and spaces
folded; phone numbers and postal codes compared as digits across any
separators. A negative control proves it finds what it is meant to find.
"""
from __future__ import annotations

import functools
import io
import re
import shutil
import subprocess
import unicodedata
from collections import deque
from dataclasses import dataclass, field
from html.parser import HTMLParser
from urllib.parse import unquote, urljoin, urlsplit

import pikepdf
from PIL import Image
from sqlalchemy import select
from werkzeug.wrappers import Response

from portal.models import (
    Assignment,
    AssignmentStatus,
    OutboxMessage,
    PanelMember,
    ReviewAttachment,
    ReviewSheet,
    SheetStatus,
)

from .anonymity_world import GROUPS, World, build, close_scoring, jpeg_bytes, pdf_bytes, png_bytes
from .conftest import csrf_token_from
from .factories import Factory

PDFTOTEXT = shutil.which("pdftotext")
MAX_REQUESTS = 800  # a runaway crawl is a failure, not a hang

# --- the checker ---------------------------------------------------------------------

# Zero-width characters dropped, katakana read as hiragana.
_FOLD = {**dict.fromkeys(map(ord, "\u200b\u200c\u200d\u2060\ufeff\u00ad")),
         **{c: c - 0x60 for c in range(ord("ァ"), ord("ヶ") + 1)}}
_LEGAL_FORMS = ("特定非営利活動法人", "npo法人", "一般社団法人", "一般財団法人", "公益社団法人", "社会福祉法人")
_LEGAL_KANA = ("とくていひえいりかつどうほうじん", "えぬぴーおーほうじん", "いっぱんしゃだんほうじん")
_SHARED_HOSTS = ("note.com", "gmail.com")
_GENERIC_LOCAL_PARTS = ("info", "contact", "office")
# A run of digits with the separators people put in phone numbers and postal codes.
_DIGIT_RUN = re.compile(r"[0-9](?:[0-9\s\-‐‑‒–—―−ー()〒.]*[0-9])?")


def norm(text: str) -> str:
    """NFKC, case folded, katakana as hiragana, without spaces."""
    return re.sub(r"\s+", "", unicodedata.normalize("NFKC", text).casefold().translate(_FOLD))


def digit_runs(text: str) -> list[str]:
    return [re.sub(r"[^0-9]", "", m.group(0)) for m in _DIGIT_RUN.finditer(unicodedata.normalize("NFKC", text))]


@dataclass(frozen=True)
class Needle:
    group: str
    what: str
    text: str
    digits: bool = False
    form: str = field(init=False, compare=False)  # what is searched for

    def __post_init__(self):
        object.__setattr__(self, "form", re.sub(r"[^0-9]", "", self.text) if self.digits else norm(self.text))


def _without(prefixes, text: str) -> str:
    folded = norm(text)
    for prefix in prefixes:
        if folded.startswith(prefix):
            return folded[len(prefix):]
    return folded


def _address_parts(address: str) -> list[str]:
    rest = re.sub(r"^(?:新潟県)?みなと市", "", unicodedata.normalize("NFKC", address))
    parts = [p for p in rest.split() if p]
    return parts + [re.sub(r"[0-9]+$", "", p) for p in parts[1:]]


def needles_of(world: World) -> list[Needle]:
    """Every string that identifies an applicant, in the variants a group
    writes (the checker folds width, kana and spaces itself)."""
    out: list[Needle] = []
    for data in GROUPS:
        p, key = data.profile, data.key

        def add(what, text, digits=False):
            if text and len(norm(text)) >= 2:
                out.append(Needle(key, what, text, digits))

        add("団体名", p["name"])
        add("団体名（法人格なし）", _without([norm(f) for f in _LEGAL_FORMS], p["name"]))
        add("ふりがな", p["name_kana"])
        add("ふりがな（法人格なし）", _without(_LEGAL_KANA, p["name_kana"]))
        for role, label in (("representative_name", "代表者"), ("contact_name", "連絡担当者")):
            add(label, p[role])
            add(f"{label}（姓）", p[role].split()[0])
        for officer in p["officer_names"]:
            add("役員", officer)
            add("役員（姓）", officer.split()[0])
        add("郵便番号", p["postal_code"], digits=True)
        add("電話番号", p["phone"], digits=True)
        for part in _address_parts(p["address"]):
            add("所在地", part)
        for email in {p["contact_email"], data.account_email}:
            add("メールアドレス", email)
            local, _, domain = email.partition("@")
            if local not in _GENERIC_LOCAL_PARTS:
                add("メールアドレス（@の前）", local)
            if domain not in _SHARED_HOSTS:
                add("メールのドメイン", domain)
        site = re.sub(r"^https?://(www\.)?", "", p["website"]).rstrip("/")
        add("ウェブサイト", site)
        if site.split("/")[0] in _SHARED_HOSTS:
            add("ウェブサイト（アカウント）", site.split("/", 1)[1])
        for upload in data.uploads:
            add("元のファイル名", upload.original_name)
            add("元のファイル名（拡張子なし）", upload.original_name.rsplit(".", 1)[0])
        for alias in p.get("aliases", []):
            add("通称・略称", alias)
        for extra in data.also_identifying:
            add("その他", extra)
        add("受付番号", world.receipt_numbers[key] if world else "")
    return out


@dataclass(frozen=True)
class Leak:
    needle: Needle
    where: str
    context: str

    def __str__(self) -> str:
        return f"{self.needle.group}の{self.needle.what}「{self.needle.text}」 in {self.where}: …{self.context}…"


def _hits(text: str, needles: list[Needle]) -> list[tuple[Needle, str]]:
    folded = norm(text)
    runs = digit_runs(text)
    out = []
    for needle in needles:
        if needle.digits:
            hit = next((r for r in runs if needle.form in r), None)
            if hit is not None:
                out.append((needle, hit))
        elif needle.form in folded:
            i = folded.index(needle.form)
            out.append((needle, folded[max(0, i - 30): i + len(needle.form) + 30]))
    return out


@functools.lru_cache(maxsize=256)  # the same page, PDF or image comes back in every phase
def _any_hit(text: str, needles: tuple[Needle, ...]) -> bool:
    return bool(_hits(text, list(needles)))


def find_leaks(surfaces: list[tuple[str, str]], needles: list[Needle]) -> list[Leak]:
    """Every needle in every surface. All surfaces are searched at once
    first (a separator no needle contains keeps them apart); only on a hit
    is each one searched alone, to say where."""
    texts = [t for _, t in surfaces if t]
    if not texts or not _any_hit("\n\u0000\n".join(texts), tuple(needles)):
        return []
    return [Leak(needle, where, context) for where, text in surfaces if text
            for needle, context in _hits(text, needles)]


# --- what a response shows ------------------------------------------------------------


class Page(HTMLParser):
    """Text, every attribute value, links and forms of an HTML page."""

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.text: list[str] = []
        self.attributes: list[str] = []
        self.links: list[str] = []
        self.forms: list[dict] = []
        self._form: dict | None = None
        self._textarea: str | None = None

    def handle_starttag(self, tag, attrs):
        attrs_d = {k: v or "" for k, v in attrs}
        self.attributes.extend(f"{k}={v}" for k, v in attrs_d.items())
        if tag in ("a", "link") and attrs_d.get("href"):
            self.links.append(attrs_d["href"])
        if tag in ("img", "script", "iframe", "source") and attrs_d.get("src"):
            self.links.append(attrs_d["src"])
        if tag == "form":
            self._form = {"method": attrs_d.get("method", "get").lower(), "action": attrs_d.get("action", ""),
                          "fields": [], "radios": {}, "buttons": [], "textareas": {}}
            self.forms.append(self._form)
        if self._form is None:
            return
        if tag == "input":
            kind, name = attrs_d.get("type", "text").lower(), attrs_d.get("name")
            if not name:
                return
            if kind == "radio":
                self._form["radios"].setdefault(name, []).append((attrs_d.get("value", ""), "checked" in attrs_d))
            elif kind == "checkbox":
                if "checked" in attrs_d:
                    self._form["fields"].append((name, attrs_d.get("value", "y")))
            elif kind == "submit":
                self._form["buttons"].append((name, attrs_d.get("value", "")))
            else:
                self._form["fields"].append((name, attrs_d.get("value", "")))
        elif tag == "textarea" and attrs_d.get("name"):
            self._textarea = attrs_d["name"]
            self._form["textareas"][self._textarea] = ""
        elif tag == "button" and attrs_d.get("type", "submit") == "submit":
            self._form["buttons"].append((attrs_d.get("name"), attrs_d.get("value", "")))

    def handle_endtag(self, tag):
        if tag == "form":
            if self._form is not None and self._form["method"] == "get" and self._form["action"]:
                self.links.append(self._form["action"])
            self._form = None
        elif tag == "textarea":
            self._textarea = None

    def handle_data(self, data):
        self.text.append(data)
        if self._textarea is not None and self._form is not None:
            self._form["textareas"][self._textarea] += data


@functools.lru_cache(maxsize=64)  # read once for the leak check, once for links and forms
def parse_html(html: str) -> Page:
    page = Page()
    page.feed(html)
    page.close()
    return page


def disposition_names(value: str) -> list[str]:
    """File names of a Content-Disposition header, RFC 5987 ``filename*`` decoded."""
    names = []
    for charset, encoded in re.findall(r"filename\*\s*=\s*([^']*)'[^']*'([^;\s]+)", value, re.I):
        names.append(unquote(encoded, encoding=charset or "utf-8"))
    names += re.findall(r'filename\s*=\s*"([^"]*)"', value, re.I)
    names += re.findall(r"filename\s*=\s*([^\";\s]+)", value, re.I)
    return names


def _decodings(data: bytes) -> list[str]:
    out = [data.decode("latin-1"), data.decode("utf-8", "ignore")]
    for codec in ("utf-16-le", "utf-16-be"):  # EXIF XP* tags, PDF text strings
        out += [data.decode(codec, "ignore"), data[1:].decode(codec, "ignore")]
    return out


def _pdf_strings(obj, out: list[str], seen: set, depth=0) -> None:
    if depth > 40:
        return
    if isinstance(obj, pikepdf.Object) and obj.is_indirect:
        key = obj.objgen
        if key in seen:
            return
        seen.add(key)
    if isinstance(obj, pikepdf.String):
        out.append(str(obj))
        out.extend(_decodings(bytes(obj)))
    elif isinstance(obj, pikepdf.Name):
        out.append(str(obj))
    elif isinstance(obj, pikepdf.Array):
        for item in obj:
            _pdf_strings(item, out, seen, depth + 1)
    elif isinstance(obj, (pikepdf.Dictionary, pikepdf.Stream)):
        for key in obj.keys():
            out.append(key)
            _pdf_strings(obj[key], out, seen, depth + 1)
        if isinstance(obj, pikepdf.Stream):
            try:
                out.extend(_decodings(obj.read_bytes()))
            except pikepdf.PdfError:
                pass


_PDF_CACHE: dict[bytes, list[tuple[str, str]]] = {}


def pdf_surfaces(data: bytes) -> list[tuple[str, str]]:
    """PDF: its text (pdftotext), DocInfo, XMP and every string and stream
    in every object (bookmarks, notes, form fields, ...)."""
    if data in _PDF_CACHE:
        return _PDF_CACHE[data]
    out = [("PDF bytes", text) for text in _decodings(data)]
    if PDFTOTEXT:
        result = subprocess.run([PDFTOTEXT, "-q", "-", "-"], input=data, capture_output=True, check=True)
        out.append(("PDF text (pdftotext)", result.stdout.decode("utf-8", "replace")))
    with pikepdf.open(io.BytesIO(data)) as pdf:
        out += [(f"PDF docinfo {k}", str(v)) for k, v in pdf.docinfo.items()]
        with pdf.open_metadata() as xmp:
            out += [(f"PDF XMP {k}", str(v)) for k, v in xmp.items()]
        strings: list[str] = []
        seen: set = set()
        _pdf_strings(pdf.trailer, strings, seen)
        for obj in pdf.objects:
            _pdf_strings(obj, strings, seen)
        for page in pdf.pages:  # operands on the page: marked content (/ActualText, /Alt), shown strings
            for operands, _operator in pikepdf.parse_content_stream(page):
                for operand in operands:
                    _pdf_strings(operand, strings, seen)
        out += [("PDF object", s) for s in strings]
    _PDF_CACHE[data] = out
    return out


def image_surfaces(data: bytes) -> list[tuple[str, str]]:
    out = [("image bytes", text) for text in _decodings(data)]
    with Image.open(io.BytesIO(data)) as image:
        for k, v in image.info.items():
            out.append((f"image info {k}", k))
            out += [(f"image info {k}", t) for t in (_decodings(v) if isinstance(v, bytes) else [str(v)])]
        exif = image.getexif()
        items = list(exif.items())
        for ifd in (0x8769, 0x8825, 0xA005):  # Exif, GPS, Interop
            items += list(exif.get_ifd(ifd).items())
        for tag, value in items:
            texts = _decodings(value) if isinstance(value, bytes) else [str(value)]
            out += [(f"image EXIF {tag:#06x}", t) for t in texts]
    return out


def surfaces_of(label: str, response) -> list[tuple[str, str]]:
    """Everything a response shows: URL, headers (file names decoded), and
    the body as the browser or a downloaded file would reveal it."""
    out: list[tuple[str, str]] = []
    for name, value in response.headers.items():
        out.append((f"{label} header {name}", unquote(value)))
        if name.lower() == "content-disposition":
            out += [(f"{label} file name", n) for n in disposition_names(value)]
    data = response.get_data()
    mimetype = response.mimetype or ""
    if mimetype == "text/html":
        html = data.decode("utf-8")
        page = parse_html(html)
        out.append((f"{label} HTML", html))
        out.append((f"{label} page text", "".join(page.text)))
        out += [(f"{label} attribute", a) for a in page.attributes]
        out += [(f"{label} attribute (URL-decoded)", unquote(a)) for a in page.attributes]
    elif mimetype == "application/pdf":
        out += [(f"{label} {where}", text) for where, text in pdf_surfaces(data)]
    elif mimetype.startswith("image/"):
        out += [(f"{label} {where}", text) for where, text in image_surfaces(data)]
    else:
        out += [(f"{label} body", text) for text in _decodings(data)[:2]]
    return out


# --- the crawl ---------------------------------------------------------------------------

REASON = "地域の課題に即した具体的な計画で、協働の役割分担も明確です。"
FILLERS = {"comment_for_group": "地域の担い手を育てる視点が評価できます。", "panel_note": "予算の内訳を会議で確認したい。"}


@dataclass
class Visit:
    method: str
    path: str
    status: int
    mimetype: str
    surfaces: list[tuple[str, str]]
    phase: str


@dataclass
class Crawler:
    client: object
    who: str
    visits: list[Visit] = field(default_factory=list)
    posted: set = field(default_factory=set)
    phase: str = ""

    def record(self, method: str, path: str, response) -> Visit:
        assert len(self.visits) < MAX_REQUESTS, "the crawl does not end"
        visit = Visit(method, path, response.status_code, response.mimetype or "",
                      surfaces_of(f"{self.who} {method} {path}", response), self.phase)
        self.visits.append(visit)
        return visit

    @staticmethod
    def local(base: str, link: str) -> str | None:
        """A same-site link as a path (with query), or None."""
        url = urlsplit(urljoin(f"http://localhost{base}", link))
        if url.scheme not in ("http", "https") or url.netloc != "localhost":
            return None
        return url.path + (f"?{url.query}" if url.query else "")

    def crawl(self, starts: list[str], *, act: bool, phase: str) -> None:
        """Breadth first over every same-site link from ``starts``; with
        ``act``, also send the reviewer's own forms (利害関係なし, 下書き保存,
        提出) with the page's CSRF token."""
        self.phase = phase
        seen: set[str] = set()
        queue = deque(starts)
        while queue:
            path = queue.popleft()
            if path in seen:
                continue
            seen.add(path)
            self.get(path, queue, act)

    def get(self, path: str, queue: deque, act: bool) -> None:
        response = self.client.get(path)
        self.follow(path, response, queue, act)

    def follow(self, path: str, response, queue: deque, act: bool, method="GET") -> None:
        self.record(method, path, response)
        if response.status_code in (301, 302, 303, 307, 308):
            target = self.local(path, response.headers["Location"])
            if target:
                # At once: a flashed message shows on the next page only.
                self.get(target, queue, act)
            return
        if response.mimetype != "text/html":
            return
        page = parse_html(response.get_data(as_text=True))
        for link in page.links:
            target = self.local(path, link)
            if target:
                queue.append(target.split("#")[0])
        if act:
            for form in page.forms:
                if form["method"] == "post":
                    self.submit(path, form, queue)

    def submit(self, path: str, form: dict, queue: deque) -> None:
        action = self.local(path, form["action"] or path)
        if not action or not re.fullmatch(r"/review/assignments/\d+/(clear|score/[a-z_]+(/submit)?)", action):
            return  # not a reviewer's scoring step (申告, ログアウト, 安全設定 are not crawled here)
        data = dict(form["fields"])
        for name, choices in form["radios"].items():
            checked = [v for v, c in choices if c]
            data[name] = checked[0] if checked else max((v for v, _ in choices), key=lambda v: int(v))
        for name, text in form["textareas"].items():
            data[name] = text or (REASON if name.startswith("reason-") else FILLERS.get(name, "特になし"))
        for button_name, value in form["buttons"] or [(None, "")]:
            key = (action, button_name, value)
            if key in self.posted:
                continue
            self.posted.add(key)
            sent = dict(data)
            if button_name:
                sent[button_name] = value
            self.follow(action, self.client.post(action, data=sent), queue, True, method="POST")


def log_in(app, email: str):
    client = app.test_client()
    page = client.get("/login")
    response = client.post("/login", data={"email": email, "password": Factory.PASSWORD,
                                           "csrf_token": csrf_token_from(page.get_data(as_text=True))})
    assert response.status_code == 302, response.get_data(as_text=True)[:500]
    return client


SHARED_PAGES = ["/review/", "/", "/calls", "/account/security"]


def assignments_of(db, user_id: int) -> dict[int, Assignment]:
    """proposal id -> the reviewer's assignment."""
    rows = db.scalars(select(Assignment).join(PanelMember, PanelMember.id == Assignment.panel_member_id)
                      .where(PanelMember.user_id == user_id).order_by(Assignment.id))
    return {a.proposal_id: a for a in rows}


def error_paths(db, world: World, me: int, other: int) -> list[tuple[str, bool]]:
    """(path, must be refused) for wrong, foreign and garbage addresses."""
    attachments = {a.proposal_id: a for a in db.scalars(select(ReviewAttachment).order_by(ReviewAttachment.id))}
    excluded = db.scalars(select(ReviewAttachment).where(ReviewAttachment.excluded.is_(True))
                          .order_by(ReviewAttachment.id)).all()
    mine = list(assignments_of(db, me).values())
    visible = [a for a in mine if a.status == AssignmentStatus.CLEARED]
    paths: list[tuple[str, bool]] = [
        ("/review/assignments/0", True), ("/review/assignments/99999999", True),
        ("/review/assignments/2147483648", True), ("/review/assignments/abc", True),
        ("/review/%E3%81%BF%E3%81%AA%E3%81%A8%E8%A6%8B%E5%AE%88%E3%82%8A%E3%81%AE%E4%BC%9A", True),
        ("/review/nonsense/../../admin", True), ("/review/assignments/1/attachments/x", True),
    ]
    for a in list(assignments_of(db, other).values()) + [a for a in mine if a.status == AssignmentStatus.RECUSED]:
        base = f"/review/assignments/{a.id}"
        paths += [(base, True), (f"{base}/confirm", True), (f"{base}/conflict", True),
                  (f"{base}/score/document", True), (f"{base}/score/document/confirm", True), (f"{base}/panel", True)]
        if a.proposal_id in attachments:
            paths.append((f"{base}/attachments/{attachments[a.proposal_id].id}", True))
    for a in visible:
        base = f"/review/assignments/{a.id}"
        foreign = [x for pid, x in attachments.items() if pid != a.proposal_id]
        paths += [(f"{base}/attachments/{x.id}", True) for x in foreign + list(excluded)]
        paths += [(f"{base}/attachments/999999", True), (f"{base}/score/nonsense", True),
                  (f"{base}/score/presentation", False), (f"{base}/score/document_revised", False),
                  (f"{base}/score/presentation/confirm", False), (f"{base}/panel", False)]
    for key, pid in world.proposal_ids.items():
        paths += [(f"/admin/calls/{world.call_id}/intake/{pid}", True),
                  (f"/admin/calls/{world.call_id}/anonymise/{pid}/preview", True),
                  (f"/proposals/{pid}", True), (f"/proposals/{pid}/receipt/1.pdf", True),
                  (f"/proposals/{pid}/feedback", True)]
        paths += [(f"/files/{file_id}/download", True) for file_id in world.stored_file_ids[key]]
    paths += [(f"/admin/calls/{world.call_id}/intake", True), (f"/admin/calls/{world.call_id}/anonymise", True),
              (f"/admin/calls/{world.call_id}/panel", True), (f"/calls/{world.call_slug}", False),
              (f"/calls/{world.call_slug}/log", False), (f"/calls/{world.call_slug}/results", False)]
    return paths


def visit_errors(crawler: Crawler, db, world: World, me: int, other: int) -> None:
    crawler.phase = "errors"
    client = crawler.client
    for path, must_refuse in error_paths(db, world, me, other):
        # Scripts get JSON errors; a few addresses are asked for that way too.
        for headers in ({}, {"Accept": "application/json"}) if path.count("/") <= 3 else ({},):
            response = client.get(path, headers=headers)
            visit = crawler.record("GET", path, response)
            assert visit.status < 500, (path, visit.status)
            if must_refuse:
                assert visit.status in (400, 403, 404, 405), (crawler.who, path, visit.status)
    # Sent by hand, as a tampering reviewer would: no CSRF token, a score out
    # of range, a criterion of nowhere, GET on a POST-only address.
    mine = [a for a in assignments_of(db, me).values() if a.status == AssignmentStatus.CLEARED]
    for a in mine[:1]:
        base = f"/review/assignments/{a.id}"
        token = csrf_token_from(client.get(f"{base}/score/document").get_data(as_text=True))
        for path, data in ((f"{base}/clear", {}), (f"{base}/score/document", {"csrf_token": token, "score-1": "99"}),
                           (f"{base}/score/document", {"csrf_token": token, "score-999999": "3"}),
                           (f"{base}/score/document/submit", {"csrf_token": token, "sheet": "0", "version": "x"})):
            response = client.post(path, data=data)
            visit = crawler.record("POST", path, response)
            assert 400 <= visit.status < 500, (path, visit.status)
        visit = crawler.record("GET", f"{base}/clear", client.get(f"{base}/clear"))
        assert visit.status == 405


# --- the tests -------------------------------------------------------------------------------


def staff_form_post(staff: Crawler, path: str, **data):
    """The secretariat sends one of its forms (with the page's CSRF token)."""
    page = staff.client.get(path)
    assert page.status_code == 200, path
    response = staff.client.post(path, data={"csrf_token": csrf_token_from(page.get_data(as_text=True)), **data})
    assert response.status_code == 302, response.get_data(as_text=True)[:1000]


def test_no_identifying_string_of_any_applicant_reaches_a_reviewer(app, seed, db):
    with seed() as f:
        world = build(f, db)
    needles = needles_of(world)
    first, second = world.reviewer_ids
    reviewers = [Crawler(log_in(app, email), f"委員{n}") for n, email in enumerate(world.reviewer_emails)]
    staff = Crawler(log_in(app, world.staff_email), "事務局")
    admin = f"/admin/calls/{world.call_id}"

    # 0. The secretariat reminds the panel by mail (reviewers read those too).
    page = staff.client.get(f"{admin}/progress")
    response = staff.client.post(f"{admin}/progress/reminders", data={
        "csrf_token": csrf_token_from(page.get_data(as_text=True)), "stage": "document"})
    assert response.status_code == 302, response.get_data(as_text=True)[:1000]

    # 1. Scoring is open: read everything, confirm 利害関係なし, save drafts, submit.
    for crawler in reviewers:
        crawler.crawl(SHARED_PAGES, act=True, phase="scoring")
    db.expire_all()
    # The second member declares a conflict on a proposal they have read.
    c_of_second = assignments_of(db, second)[world.proposal_ids["C"]]
    path = f"/review/assignments/{c_of_second.id}/conflict"
    page = reviewers[1].client.get(path)
    response = reviewers[1].client.post(path, data={"csrf_token": csrf_token_from(page.get_data(as_text=True)),
                                                    "note": "以前この団体の行事を手伝ったことがあります。"})
    reviewers[1].follow(path, response, deque(), False, method="POST")
    assert response.status_code == 302
    # The secretariat reopens a submitted sheet of the first member, with a reason.
    a_of_first = assignments_of(db, first)[world.proposal_ids["A"]]
    sheet = db.scalars(select(ReviewSheet).where(ReviewSheet.assignment_id == a_of_first.id)).one()
    staff_form_post(staff, f"{admin}/progress/sheets/{sheet.id}/reopen", reason="委員から点数の入力誤りの申し出があったため")

    # 2. Again, after those changes (the reopened sheet is submitted again),
    #    and every wrong, foreign or garbage address.
    db.expire_all()
    for crawler, (me, other) in zip(reviewers, ((first, second), (second, first))):
        crawler.posted.clear()
        crawler.crawl(SHARED_PAGES, act=True, phase="after acting")
        visit_errors(crawler, db, world, me, other)

    # 3. The scoring period is over: the panel's view opens.
    close_scoring(db, world)
    for crawler in reviewers:
        crawler.crawl(SHARED_PAGES, act=False, phase="after scoring")

    # The crawl reached what it had to: every proposal page, sheet and
    # attachment the reviewer may see, and the panel view; never the
    # conflicted proposal.
    db.expire_all()
    never = {second: world.proposal_ids[world.conflicted[1]]}
    withdrawn = {second: world.proposal_ids["C"]}  # declared in step 1, after reading it
    for crawler, user_id in zip(reviewers, (first, second)):
        ok = {(v.phase, v.path) for v in crawler.visits if v.status == 200 and v.method == "GET"}
        assignments = assignments_of(db, user_id)
        readable = [a for pid, a in assignments.items() if pid != never.get(user_id)]
        assert len(readable) == (3 if user_id == first else 2)
        for a in readable:
            base = f"/review/assignments/{a.id}"
            phase = "scoring" if a.proposal_id == withdrawn.get(user_id) else "after scoring"
            for suffix in ("", "/score/document", "/score/presentation", "/score/document_revised"):
                assert (phase, base + suffix) in ok, (crawler.who, base + suffix)
            if phase == "after scoring":
                assert ("after scoring", f"{base}/panel") in ok
            attachment_ids = db.scalars(select(ReviewAttachment.id).where(
                ReviewAttachment.proposal_id == a.proposal_id, ReviewAttachment.excluded.is_(False))).all()
            assert attachment_ids, "every proposal in this call has an attachment"
            downloads = {p for ph, p in ok if ph == phase and p.startswith(f"{base}/attachments/")}
            assert downloads == {f"{base}/attachments/{i}" for i in attachment_ids}, (base, downloads)
            sheet = db.scalars(select(ReviewSheet).where(ReviewSheet.assignment_id == a.id,
                                                         ReviewSheet.stage == "document")).one()
            assert sheet.status == SheetStatus.SUBMITTED  # saved and submitted through the forms
        for pid in (never.get(user_id), withdrawn.get(user_id)):
            if pid is None:
                continue
            base = f"/review/assignments/{assignments[pid].id}"
            shown = [(ph, p) for ph, p in ok if p.startswith(base) and (pid == never.get(user_id) or ph != "scoring")]
            assert not shown, f"a conflicted proposal was shown: {shown}"
        assert [v for v in crawler.visits if v.mimetype == "application/pdf" and v.status == 200]
        assert [v for v in crawler.visits if v.mimetype.startswith("image/") and v.status == 200]
        assert len([v for v in crawler.visits if v.status >= 400]) > 50
        assert {p for _, p in ok} >= {"/", "/calls", "/account/security", f"/calls/{world.call_slug}/log"}

    # Mail to the reviewers (the reminder, and any other).
    mails = db.scalars(select(OutboxMessage).where(OutboxMessage.recipient.in_(world.reviewer_emails))
                       .order_by(OutboxMessage.id)).all()
    assert {m.recipient for m in mails} == set(world.reviewer_emails)
    mail_surfaces = [(f"mail to {m.recipient}: {m.subject}", f"{m.subject}\n{m.body}") for m in mails]

    leaks = [str(leak) for crawler in reviewers for visit in crawler.visits
             for leak in find_leaks(visit.surfaces, needles)]
    leaks += [str(leak) for leak in find_leaks(mail_surfaces, needles)]
    assert not leaks, "\n".join(dict.fromkeys(leaks))

    # Negative control: the same checker on the secretariat's intake page of
    # a proposal, and on the group's original upload, finds the group.
    staff.crawl([f"{admin}/intake/{world.proposal_ids['A']}"], act=False, phase="control")
    found = {(leak.needle.group, leak.needle.what) for v in staff.visits if v.phase == "control"
             for leak in find_leaks(v.surfaces, needles)}
    assert ("A", "団体名") in found and ("A", "代表者") in found, found
    originals = [v for v in staff.visits if v.path.startswith("/files/") and v.mimetype == "application/pdf"]
    assert originals, "the intake page links the group's files"
    found = {(leak.needle.what, leak.where) for v in originals for leak in find_leaks(v.surfaces, needles)}
    assert any(what == "元のファイル名" and where.endswith("file name") for what, where in found), found


def test_the_checker_reads_metadata_attributes_and_file_names():
    """The checker's own negative controls, each on one hiding place only."""
    needles = needles_of(None)
    a, b = GROUPS[0], GROUPS[1]

    # PDF metadata (DocInfo, XMP), a bookmark and a note; the text layer of B's table says nothing.
    b_pdf = pdf_bytes(b, b.uploads[0])
    where = {w for w, t in pdf_surfaces(b_pdf) if find_leaks([(w, t)], needles)}
    assert any(w.startswith("PDF docinfo /Author") for w in where), where
    assert any(w.startswith("PDF XMP") for w in where), where
    assert "PDF object" in where
    if PDFTOTEXT:
        text = dict(pdf_surfaces(pdf_bytes(a, a.uploads[0])))["PDF text (pdftotext)"]
        assert find_leaks([("t", text)], needles)
    # Image metadata: EXIF (ASCII and UTF-16 XPAuthor), PNG iTXt.
    exif = {w for w, t in image_surfaces(jpeg_bytes(a.uploads[1])) if find_leaks([(w, t)], needles)}
    assert any(w.startswith("image EXIF 0x013b") for w in exif) and any("0x9c9d" in w for w in exif), exif
    png = {w for w, t in image_surfaces(png_bytes(b.uploads[1])) if find_leaks([(w, t)], needles)}
    assert any(w.startswith("image info") for w in png), png
    # An attribute written with character references, a file name in RFC 5987.
    html = '<p><a href="/x" title="&#x307F;&#x306A;&#x3068;見守りの会">x</a></p>'
    response = Response(html, mimetype="text/html", headers={
        "Content-Disposition": "attachment; filename=\"a.pdf\"; "
                               "filename*=UTF-8''%E5%B1%B1%E7%94%B0%E8%8A%B1%E5%AD%90.pdf"})
    leaks = find_leaks(surfaces_of("GET /x", response), needles)
    assert {l.where for l in leaks if l.needle.what == "団体名（法人格なし）"} >= {"GET /x attribute"}
    assert any(l.where == "GET /x file name" and l.needle.what == "代表者" for l in leaks)
    # Variants: width, kana, spaces; a phone number with other separators.
    for text in ("ＭＩＮＡＴＯ－ＭＩＭＡＭＯＲＩ．ＪＰ", "ﾐﾅﾄ ﾐﾏﾓﾘﾉｶｲ", "電話（025）223‐4567", "〒９５０－０００１"):
        assert find_leaks([("variant", text)], needles), text
    assert not find_leaks([("innocent", "みなと市の見守り活動と2026年7月1日の会議、予算 250,000円")], needles)


def test_a_pdf_passed_on_whole_keeps_nothing_the_scan_could_not_read():
    """Found by the crawl: a PDF with no findings goes to reviewers page by
    page (release.bare_pdf), and it kept an embedded file reachable through
    /AF (associated files) and /ActualText and layer names in the page's
    marked content, none of which text extraction (so the scan) reads."""
    from portal.domain.anonymity.release import bare_pdf
    from portal.files.sanitize import sanitize

    b = GROUPS[1]
    original = pdf_bytes(b, b.uploads[0])
    needles = [n for n in needles_of(None) if n.group == "B"]
    assert find_leaks(pdf_surfaces(original), needles)
    copy = bare_pdf(sanitize(original, b.uploads[0].original_name).data)
    assert not find_leaks(pdf_surfaces(copy), needles)
    with pikepdf.open(io.BytesIO(copy)) as pdf:
        assert "/AF" not in pdf.Root and "/OCProperties" not in pdf.Root
        operators = [str(op) for _operands, op in pikepdf.parse_content_stream(pdf.pages[0])]
        assert "BDC" not in operators and "BMC" in operators and "Do" in operators  # the photo is still drawn
    if PDFTOTEXT:
        text = subprocess.run([PDFTOTEXT, "-", "-"], input=copy, capture_output=True, check=True).stdout.decode()
        assert "食材費" in text  # the page itself is intact
