"""Search, filter, sort and pages for the secretariat's long lists (intake,
results): what the query string asks for, read so that nothing typed into
a URL is ever a 500 (an unknown choice falls back to the default with a
Japanese message), and a bounded page size."""
from __future__ import annotations

import math
import unicodedata
from dataclasses import dataclass, field

PAGE_SIZES = (25, 50, 100)
DEFAULT_PAGE_SIZE = 50
QUERY_MAX = 100


@dataclass
class ListParams:
    q: str
    status: str
    sort: str
    page: int
    per_page: int
    messages: list[str] = field(default_factory=list)

    def link(self, route_args: dict, **changes) -> dict:
        """``url_for`` arguments: the route's own and the query string."""
        return {**route_args, **self.args(**changes)}

    def args(self, **changes) -> dict:
        """The query string for a link, without the defaults."""
        values = {"q": self.q, "status": self.status, "sort": self.sort, "page": self.page,
                  "per_page": self.per_page, **changes}
        return {k: v for k, v in values.items()
                if v not in ("", None) and not (k == "page" and v == 1)
                and not (k == "per_page" and v == DEFAULT_PAGE_SIZE)}


@dataclass(frozen=True)
class Page:
    total: int
    number: int  # 1-based, within 1..pages
    size: int

    @property
    def pages(self) -> int:
        return max(1, math.ceil(self.total / self.size))

    @property
    def offset(self) -> int:
        return (self.number - 1) * self.size

    @property
    def first(self) -> int:
        return 0 if self.total == 0 else self.offset + 1

    @property
    def last(self) -> int:
        return min(self.total, self.offset + self.size)


def _whole(text: str | None) -> int | None:
    text = unicodedata.normalize("NFKC", text or "").strip()
    return int(text) if text.isascii() and text.isdigit() and len(text) < 7 else None


def read(args, *, statuses: dict[str, str], sorts: dict[str, str]) -> ListParams:
    """``statuses`` and ``sorts``: value -> label; the first sort is the default."""
    messages = []
    q = unicodedata.normalize("NFKC", args.get("q", "") or "").strip()
    if len(q) > QUERY_MAX:
        q = q[:QUERY_MAX]
        messages.append(f"検索する言葉は{QUERY_MAX}字までです。先頭の{QUERY_MAX}字で検索しました。")
    status = args.get("status", "") or ""
    if status and status not in statuses:
        messages.append("状況の絞り込みが一覧にない値だったため、すべての状況を表示しています。")
        status = ""
    sort = args.get("sort", "") or ""
    if sort not in sorts:
        if sort:
            messages.append("並べ順が一覧にない値だったため、既定の並べ順で表示しています。")
        sort = next(iter(sorts))
    per_page = _whole(args.get("per_page"))
    if per_page not in PAGE_SIZES:
        if args.get("per_page"):
            messages.append(f"1ページの件数は{'・'.join(map(str, PAGE_SIZES))}件から選んでください。"
                            f"{DEFAULT_PAGE_SIZE}件で表示しています。")
        per_page = DEFAULT_PAGE_SIZE
    page = _whole(args.get("page"))
    if page is None or page < 1:
        if args.get("page"):
            messages.append("ページの番号が正しくないため、最初のページを表示しています。")
        page = 1
    return ListParams(q, status, sort, page, per_page, messages)


def paginate(params: ListParams, total: int) -> Page:
    """The page asked for, within the pages there are (a number past the
    last shows the last, with a message)."""
    page = Page(total, params.page, params.per_page)
    if params.page > page.pages:
        params.messages.append(f"ページは{page.pages}ページまでです。最後のページを表示しています。")
        page = Page(total, page.pages, params.per_page)
    return page


def like_pattern(text: str) -> str:
    """``text`` anywhere, with LIKE's own wildcards taken literally (escape ``\\``)."""
    escaped = text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"
