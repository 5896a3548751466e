"""The demo's secretariat and review panel: one staff member of the
市民協働課 and five external reviewers. Every name and address is fictional.

Staff and reviewers normally log in with a second factor. The demo accounts
have it waived (``second_factor_waived``), which only the development and
test configurations honour (``ALLOW_SECOND_FACTOR_WAIVER``); production
ignores the flag and asks for the second factor as for everyone else.
"""
from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class DemoStaff:
    email: str
    display_name: str
    department: str


@dataclass(frozen=True)
class DemoReviewer:
    key: str
    email: str
    display_name: str
    # Stated organisations, one per line, as the secretariat types them on
    # the panel page; the conflict cross-check reads these.
    affiliations: tuple[str, ...]
    # Published on the results' roster (審査委員名簿).
    public_title: str
    chair: bool = False


STAFF = DemoStaff(
    email="jimukyoku@city.minato.example.jp",
    display_name="青木 美咲",
    department="市民生活部 市民協働課 協働推進係",
)

# In this order they join each panel, so they get the pseudonyms 委員A to 委員E.
REVIEWERS: tuple[DemoReviewer, ...] = (
    DemoReviewer(
        key="fujiwara",
        email="fujiwara@minato-gakuin.example.jp",
        display_name="藤原 直樹",
        affiliations=("みなと学院大学 地域創生学部 教授", "みなと市都市計画審議会 委員"),
        public_title="みなと学院大学 地域創生学部 教授",
        chair=True,
    ),
    DemoReviewer(
        key="nishimura",
        email="nishimura@minato-shakyo.example.jp",
        display_name="西村 香織",
        affiliations=("社会福祉法人みなと市社会福祉協議会 地域福祉課 主任", "みなと市ボランティアセンター"),
        public_title="みなと市社会福祉協議会 地域福祉課 主任",
    ),
    DemoReviewer(
        key="ohno",
        email="ohno@minato-jichiren.example.jp",
        display_name="大野 勝",
        # The first line is also the name of an applicant group: the
        # cross-check flags it (confirmed for 令和7年度, still to be decided
        # for the 特別枠), so the panel page shows a real flag.
        affiliations=("港南地区自治会連合会 副会長", "みなと市自治会連合協議会 理事"),
        public_title="みなと市自治会連合協議会 理事",
    ),
    DemoReviewer(
        key="murakami",
        email="murakami@minato-cci.example.jp",
        display_name="村上 健一",
        affiliations=("みなと商工会議所 まちづくり委員会 委員", "株式会社村上印刷 代表取締役"),
        public_title="みなと商工会議所 まちづくり委員会 委員",
    ),
    DemoReviewer(
        key="ogawa",
        email="ogawa@minato-npo-center.example.jp",
        display_name="小川 由紀",
        affiliations=("みなと市民活動サポートセンター 相談員",),
        public_title="みなと市民活動サポートセンター 相談員",
    ),
)
