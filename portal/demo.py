"""Demo data for みなと市 (a fictional city): two calls, eight groups and
their proposals in realistic states. Every person, address, phone number
and mail address here is fictional.

``load_demo_data(session)`` only adds and flushes; ``flask seed-demo``
commits. It needs an app context (passwords are hashed with the configured
argon2id cost).

Dates of the open 令和8年度 call are computed from the time of loading, so a
freshly loaded demo is always open for proposals. The 令和7年度 call uses
fixed dates in 2025 and is finished.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from decimal import Decimal

from flask import current_app
from sqlalchemy.orm import Session

from .auth.sessions import hash_password
from .files.samples import attach_sample_documents
from .domain.proposal_fields import (
    DECLARATION_KEYS,
    EXPENSE_CATEGORIES,
    INCOME_CATEGORIES,
    REQUEST_CATEGORY,
    TEXT_FIELDS,
    limits_for,
)
from .domain.timeutil import JST, fiscal_year_label, format_jst, jst_datetime, now_utc, wareki_date
from .domain.workflow import (
    allocate_receipt_number,
    budget_totals,
    build_snapshot,
    record_status,
    requested_amount,
    snapshot_digest,
)
from .models import (
    BudgetKind,
    BudgetLine,
    Call,
    Criterion,
    Declaration,
    Group,
    GroupKind,
    Proposal,
    ProposalStatus,
    Role,
    RoleShare,
    StatusEvent,
    Submission,
    User,
)

DEMO_PASSWORD = "demo-password-2026"

OPEN_CALL_SLUG = "r8-kyodo-model"
FINISHED_CALL_SLUG = "r7-kyodo-model"

# Same limits as the defaults in proposal_fields, set explicitly so the
# call page shows them and a secretariat can see where they live.
FIELD_LIMITS = {
    "title": 40,
    "background": 800,
    "purpose": 400,
    "description": 1200,
    "place_and_target": 300,
    "expected_effects": 600,
    "necessity": 600,
    "capability": 600,
}

LEVELS = {"5": "優れている", "4": "やや優れている", "3": "普通", "2": "やや劣る", "1": "劣る"}

CRITERIA_DESCRIPTIONS = {
    "公益性": "不特定多数の市民の利益につながり、地域の課題の解決に役立つ事業か。",
    "必要性": "地域の課題や市民のニーズが具体的に把握されており、今取り組む必要性が高いか。",
    "協働の効果": "団体と市の役割分担が明確で、協働することで、それぞれが単独で行うよりも大きな効果（相乗効果）が見込めるか。",
    "実現可能性": "実施体制・日程・手法が具体的で、団体に事業を確実にやり遂げる力があるか。",
    "先駆性・独自性": "新しい発想や手法、団体ならではの知識・経験・ネットワークが生かされているか。",
    "発展性・継続性": "事業の終了後も活動が続き、他の地域や団体へ広がっていくことが期待できるか。",
    "予算の妥当性": "経費の積算が適正で、費用に見合った効果が見込めるか。",
}

# (name, weight): weights × 5 points = 100 points in both calls.
OPEN_CALL_CRITERIA = [
    ("公益性", 4), ("必要性", 3), ("協働の効果", 3), ("実現可能性", 3),
    ("先駆性・独自性", 2), ("発展性・継続性", 3), ("予算の妥当性", 2),
]
FINISHED_CALL_CRITERIA = [
    ("公益性", 4), ("必要性", 3), ("協働の効果", 4), ("実現可能性", 3),
    ("発展性・継続性", 3), ("予算の妥当性", 3),
]


# --- groups ------------------------------------------------------------------

@dataclass(frozen=True)
class DemoGroup:
    key: str
    email: str
    name: str
    name_kana: str
    kind: GroupKind
    representative_title: str
    representative_name: str
    contact_name: str
    postal_code: str
    address: str
    phone: str
    founded_on: date
    member_count: int
    activity_fields: tuple[str, ...]
    activity_record: str
    registered_on: date
    website: str = ""


GROUPS: tuple[DemoGroup, ...] = (
    DemoGroup(
        key="bousai",
        email="bousai@example.jp",
        name="港南地区自治会連合会",
        name_kana="こうなんちくじちかいれんごうかい",
        kind=GroupKind.CHIEN,
        representative_title="会長",
        representative_name="高橋 正一",
        contact_name="森田 恵子",
        postal_code="123-0041",
        address="みなと市港南二丁目3番12号 港南地区コミュニティセンター内",
        phone="0123-45-2101",
        founded_on=date(1978, 4, 1),
        member_count=1240,
        activity_fields=("災害救援・防災", "地域安全", "まちづくり"),
        activity_record=(
            "港南地区の12自治会で構成する連合会です。毎年9月に地区合同の防災訓練（参加者約400人）を行い、"
            "平成30年から自主防災組織の連絡会を運営しています。令和5年度からは、民生委員・児童委員と協力して"
            "ひとり暮らし高齢者の見守り訪問を続けています。"
        ),
        registered_on=date(2025, 4, 18),
    ),
    DemoGroup(
        key="chanoma",
        email="chanoma@example.jp",
        name="地域の茶の間「ひだまり」運営委員会",
        name_kana="ちいきのちゃのま ひだまり うんえいいいんかい",
        kind=GroupKind.SHIMIN_KATSUDO,
        representative_title="代表",
        representative_name="小林 和子",
        contact_name="小林 和子",
        postal_code="123-0015",
        address="みなと市本町四丁目8番5号",
        phone="0123-45-3380",
        founded_on=date(2019, 6, 1),
        member_count=18,
        activity_fields=("保健・医療・福祉", "まちづくり"),
        activity_record=(
            "令和元年から本町第二町内会の集会所で、毎週水曜日に誰でも立ち寄れる「地域の茶の間」を開いています。"
            "1回あたりの来場者は平均25人で、約半数が75歳以上の方です。運営は18人のボランティアが交代で担い、"
            "地域包括支援センターの職員にも月1回来てもらっています。"
        ),
        registered_on=date(2026, 10, 2),
    ),
    DemoGroup(
        key="mori",
        email="mori@example.jp",
        name="特定非営利活動法人みなと里山の森",
        name_kana="とくていひえいりかつどうほうじん みなとさとやまのもり",
        kind=GroupKind.NPO,
        representative_title="理事長",
        representative_name="中村 悟",
        contact_name="岡田 真理",
        postal_code="123-0072",
        address="みなと市緑ヶ丘一丁目15番地の3",
        phone="0123-45-5527",
        founded_on=date(2012, 11, 20),
        member_count=46,
        activity_fields=("環境保全", "子どもの健全育成", "社会教育"),
        activity_record=(
            "平成24年に法人化し、市民の森（緑ヶ丘）の下草刈り・間伐・植樹を月2回行っています。"
            "小学校の総合学習で森の観察会を年10回程度受け入れ、これまでに延べ約3,000人が参加しました。"
            "会員のうち6人が森林ボランティア指導者の講習を修了しています。"
        ),
        registered_on=date(2025, 5, 9),
        website="https://satoyama.example.jp/",
    ),
    DemoGroup(
        key="wanwan",
        email="wanwan@example.jp",
        name="わんわんパトロール隊みなと",
        name_kana="わんわんぱとろーるたいみなと",
        kind=GroupKind.SHIMIN_KATSUDO,
        representative_title="隊長",
        representative_name="佐々木 健太",
        contact_name="山口 美穂",
        postal_code="123-0033",
        address="みなと市西浜三丁目21番7号",
        phone="0123-45-4412",
        founded_on=date(2021, 4, 10),
        member_count=63,
        activity_fields=("地域安全", "子どもの健全育成"),
        activity_record=(
            "犬の散歩の時間に合わせて、通学路や公園を見守る防犯パトロールを続けています。"
            "登録隊員は63人（犬68頭）で、毎月の活動報告を西浜交番と共有しています。"
            "年2回、隊員向けに防犯講習会と犬のマナー講習会を開いています。"
        ),
        registered_on=date(2025, 5, 21),
    ),
    DemoGroup(
        key="matsu",
        email="matsubayashi@example.jp",
        name="白浜の松林を守る会",
        name_kana="しらはまのまつばやしをまもるかい",
        kind=GroupKind.SHIMIN_KATSUDO,
        representative_title="会長",
        representative_name="渡辺 誠",
        contact_name="石井 由美子",
        postal_code="123-0058",
        address="みなと市白浜町一丁目2番30号",
        phone="0123-45-6690",
        founded_on=date(2016, 7, 1),
        member_count=32,
        activity_fields=("環境保全", "災害救援・防災", "観光・地域振興"),
        activity_record=(
            "白浜海岸の海岸林（クロマツ林、約12ha）で、落ち葉かき・松くい虫被害の見回り・"
            "クロマツの植栽を年8回行っています。平成30年からは地元の中学校と一緒に、"
            "海岸林の役割を学ぶ出前授業も行っています。"
        ),
        registered_on=date(2025, 4, 25),
    ),
    DemoGroup(
        key="shokokai",
        email="shokokai@example.jp",
        name="みなと市商工会",
        name_kana="みなとししょうこうかい",
        kind=GroupKind.CHIIKI_SANGYO,
        representative_title="会長",
        representative_name="松本 隆",
        contact_name="藤井 翔太",
        postal_code="123-0001",
        address="みなと市本町一丁目1番20号 みなと市商工会館",
        phone="0123-45-1150",
        founded_on=date(1961, 5, 1),
        member_count=412,
        activity_fields=("経済活動の活性化", "まちづくり", "子どもの健全育成"),
        activity_record=(
            "市内の小規模事業者412社で構成する商工会です。本町商店街の空き店舗対策として、"
            "令和4年から青年部・女性部が中心となり、月1回の「まちなか朝市」を開いています。"
            "商店街の店主が講師となる体験講座の実績もあります。"
        ),
        registered_on=date(2025, 5, 2),
        website="https://shokokai.example.jp/",
    ),
    DemoGroup(
        key="kosodate",
        email="kosodate@example.jp",
        name="特定非営利活動法人子育てひろばみなと",
        name_kana="とくていひえいりかつどうほうじん こそだてひろばみなと",
        kind=GroupKind.NPO,
        representative_title="理事長",
        representative_name="吉田 彩",
        contact_name="井上 奈々",
        postal_code="123-0026",
        address="みなと市中央二丁目6番1号 中央ビル2階",
        phone="0123-45-7731",
        founded_on=date(2017, 2, 14),
        member_count=24,
        activity_fields=("子どもの健全育成", "保健・医療・福祉", "男女共同参画"),
        activity_record=(
            "乳幼児と保護者が気軽に集える親子ひろばを週4日運営し、年間の利用は延べ約6,500組です。"
            "子育て中の保護者向けに、救命講習や離乳食講座などの学習会を年12回開いています。"
        ),
        registered_on=date(2026, 10, 20),
    ),
    DemoGroup(
        key="tabunka",
        email="tabunka@example.jp",
        name="みなと多文化共生ネットワーク",
        name_kana="みなとたぶんかきょうせいねっとわーく",
        kind=GroupKind.SHIMIN_KATSUDO,
        representative_title="代表",
        representative_name="グエン・ティ・ラン",
        contact_name="加藤 浩二",
        postal_code="123-0064",
        address="みなと市港北五丁目10番4号",
        phone="0123-45-8806",
        founded_on=date(2018, 9, 1),
        member_count=27,
        activity_fields=("国際協力", "災害救援・防災", "社会教育"),
        activity_record=(
            "市内に住む外国人住民と日本人住民が一緒に活動する団体です。毎週土曜日に日本語教室を開き、"
            "ベトナム語・ネパール語・英語・やさしい日本語で生活情報の翻訳や相談対応を行っています。"
        ),
        registered_on=date(2025, 4, 30),
    ),
)


@dataclass(frozen=True)
class DemoAccount:
    email: str
    group_name: str
    shows: str


# What each demo account shows; the README has the same table.
DEMO_ACCOUNTS: tuple[DemoAccount, ...] = (
    DemoAccount("chanoma@example.jp", "地域の茶の間「ひだまり」運営委員会",
                "令和8年度：ほぼ完成した下書き（「団体の実績・事業遂行能力」が未入力）。入力して提出まで試せます。"),
    DemoAccount("kosodate@example.jp", "特定非営利活動法人子育てひろばみなと",
                "令和8年度：書き始めたばかりの下書き。"),
    DemoAccount("bousai@example.jp", "港南地区自治会連合会",
                "令和8年度：提出済（受付番号・受付票あり）。令和7年度：結果公表。"),
    DemoAccount("mori@example.jp", "特定非営利活動法人みなと里山の森",
                "令和8年度：提出済（要望額が上限の300,000円）。令和7年度：結果公表。"),
    DemoAccount("shokokai@example.jp", "みなと市商工会",
                "令和8年度：差し戻し（修正期限内。理由は履歴に表示）。修正して再提出できます。令和7年度：結果公表。"),
    DemoAccount("wanwan@example.jp", "わんわんパトロール隊みなと", "令和7年度：結果公表。"),
    DemoAccount("matsubayashi@example.jp", "白浜の松林を守る会", "令和7年度：結果公表。"),
    DemoAccount("tabunka@example.jp", "みなと多文化共生ネットワーク", "令和7年度：結果公表。"),
)


# --- proposals ---------------------------------------------------------------

@dataclass
class DemoProposal:
    group: str
    texts: dict[str, str]
    desired_forms: list[str] = field(default_factory=list)
    related_department: str = ""
    roles: list[tuple[str, str, str]] = field(default_factory=list)
    income: list[tuple[str, int, str]] = field(default_factory=list)
    expense: list[tuple[str, int, str]] = field(default_factory=list)


FINISHED_PROPOSALS: tuple[DemoProposal, ...] = (
    DemoProposal(
        group="bousai",
        texts={
            "title": "みんなでつくる福祉防災マップと避難支援の輪",
            "background": (
                "港南地区は海抜の低い住宅地が多く、津波や高潮の浸水想定区域に約2,800世帯が暮らしています。"
                "65歳以上の方の割合は34％を超え、ひとり暮らしの高齢者や障がいのある方など、災害時に自力で"
                "避難することが難しい方が年々増えています。\n"
                "市の避難行動要支援者名簿は整っていますが、「誰が、どの道を通って、誰と避難するのか」という"
                "地域での具体的な支援の形はまだできていません。令和6年度に地区で行った住民アンケートでは、"
                "約6割の方が「近所に支援が必要な方がいるか分からない」と答えており、顔の見える関係づくりと"
                "避難経路の共有が急がれています。"
            ),
            "purpose": (
                "住民が自ら地区を歩き、危険な場所や避難経路、一時避難場所、支援が必要な方の住まい（本人の同意を"
                "得た方に限る）を地図にまとめる「福祉防災マップ」を作ります。作る過程そのものを通じて、"
                "近所同士で助け合える関係をつくることを目指します。"
            ),
            "description": (
                "1. 準備会議（10月）：各自治会の役員、民生委員、地区の福祉施設の職員で作業部会をつくり、"
                "進め方と個人情報の取扱いを確認します。\n"
                "2. まち歩き（11月〜12月）：12自治会ごとに、住民と防災士が一緒に地区を歩き、"
                "狭い道、ブロック塀、冠水しやすい場所、手すりのある避難経路などを確認します。\n"
                "3. マップづくりワークショップ（1月・2回）：まち歩きの結果を大きな地図に書き込み、"
                "支援が必要な方ごとに「声をかける人」「一緒に避難する人」を話し合います。"
                "支援が必要な方の情報は、本人の同意を得たものだけを支援者用の地図に載せ、全戸配布用の地図には載せません。\n"
                "4. 印刷・配布（2月）：全戸配布用のマップを3,000部印刷し、自治会を通じて配ります。\n"
                "5. 検証（3月）：地区合同の避難訓練でマップを使い、気づいた点を次年度の改訂に生かします。"
            ),
            "place_and_target": (
                "港南地区（港南一丁目〜五丁目、12自治会）。対象は地区の全住民約6,100人で、"
                "特に避難に支援が必要な高齢者・障がいのある方とその家族、近所の支援者です。"
            ),
            "expected_effects": (
                "まち歩きとワークショップに延べ300人の参加を見込みます。支援が必要な方一人ひとりに"
                "「声をかける人」が決まり、災害時の逃げ遅れを減らせます。マップは全戸に配布するため、"
                "普段は防災活動に参加しない世帯にも避難経路が伝わります。作る過程で近所同士の会話が生まれ、"
                "日頃の見守りにもつながります。"
            ),
            "necessity": (
                "避難行動要支援者名簿や浸水想定などの情報は市が持ち、住民の暮らしや近所付き合いの情報は地域が"
                "持っています。両方を合わせなければ、実際に役立つ避難支援の仕組みはつくれません。"
                "市には名簿情報の提供手続き、防災士の派遣調整、ハザード情報の提供をお願いし、"
                "地域はまち歩きと話し合いを担います。"
            ),
            "capability": (
                "当連合会は40年以上にわたり地区の自治会をまとめ、毎年約400人が参加する合同防災訓練を"
                "運営してきました。12自治会の会長と自主防災組織の代表が定期的に集まる場があり、"
                "地区全体に呼びかけることができます。民生委員・児童委員とは見守り訪問で日頃から連携しています。"
            ),
        },
        desired_forms=["kyosai", "kyoryoku"],
        related_department="危機管理課・福祉総務課",
        roles=[
            ("まち歩き・ワークショップ", "住民への呼びかけ、会場の準備、当日の進行", "防災士の派遣調整、浸水想定などハザード情報の提供"),
            ("支援が必要な方の把握", "本人への説明と同意の確認、支援者の話し合い", "避難行動要支援者名簿の提供手続きと個人情報の取扱いの助言"),
            ("マップの配布・活用", "全戸配布、避難訓練での活用", "市のウェブサイト・広報での紹介"),
        ],
        income=[
            (REQUEST_CATEGORY, 240_000, ""),
            ("自己資金", 30_000, "連合会の防災活動費から"),
        ],
        expense=[
            ("報償費（講師謝礼など）", 30_000, "防災士 3回×10,000円"),
            ("印刷製本費", 150_000, "福祉防災マップ A2判カラー 3,000部"),
            ("消耗品費", 40_000, "模造紙・地図用シール・付箋・ペン"),
            ("保険料", 20_000, "まち歩き参加者の行事保険"),
            ("使用料及び賃借料", 30_000, "ワークショップ会場使用料"),
        ],
    ),
    DemoProposal(
        group="mori",
        texts={
            "title": "市民の森を次の世代へ 里山再生と森づくり体験",
            "background": (
                "緑ヶ丘の市民の森（約8ha）は、かつて薪や炭をとるために手入れされてきた里山ですが、"
                "利用されなくなってから30年以上がたち、竹やつる植物が広がって森の中が暗くなっています。"
                "下草が育たず、大雨のたびに斜面の土が流れ出すようになりました。\n"
                "一方、森の手入れを担ってきたボランティアは高齢化が進み、活動できる会員は10年前の半分に"
                "減っています。森を守るには、新しい担い手を育てることが欠かせません。"
            ),
            "purpose": (
                "市民の森の荒れた区域で間伐・竹の伐採・植樹を行い、明るく多様な生き物がすむ里山に戻します。"
                "あわせて親子や若い世代が森づくりを体験できる機会をつくり、将来の担い手を育てます。"
            ),
            "description": (
                "1. 森の手入れ（10月〜3月、月2回）：荒れた区域のうち約1haで、竹の伐採、つる切り、"
                "間伐を行います。安全のため、作業は講習を修了した会員の指導のもとで行います。\n"
                "2. 森づくり体験会（年6回）：親子や学生を対象に、どんぐりの苗の植え付け、"
                "間伐材を使った工作、生き物観察を行います。1回あたり30人程度を予定しています。\n"
                "3. 担い手講座（年3回）：道具の安全な使い方や森の見方を学ぶ講座を開き、"
                "受講者に会の活動への参加を呼びかけます。\n"
                "4. 記録と発信：手入れ前後の写真や植生調査の結果をまとめ、森の変化を発信します。"
            ),
            "place_and_target": (
                "緑ヶ丘の市民の森（市有地）。対象は、森づくりに関心のある市民、親子、"
                "市内の小中学生・大学生です。"
            ),
            "expected_effects": (
                "約1haの森が明るくなり、下草が育つことで土砂の流出が減ります。体験会と講座に延べ200人の参加を"
                "見込み、そのうち10人程度が継続的な活動に加わることを目標とします。森の変化を記録して発信する"
                "ことで、市民の森の価値が広く知られるようになります。"
            ),
            "necessity": (
                "市民の森は市の土地であり、伐採の範囲や安全管理には市の判断が欠かせません。"
                "一方、日々の手入れや体験会の運営は、森を知る団体が担うことで細やかに行えます。"
                "市には作業区域の調整、伐採木の処分、学校への案内をお願いし、団体は作業と体験会を担います。"
            ),
            "capability": (
                "本団体は平成24年から市民の森の手入れを続け、小学校の観察会にも毎年協力してきました。"
                "会員のうち6人が森林ボランティア指導者の講習を修了しており、安全管理の手順書も整えています。"
                "刈払機などの作業道具も団体で保有しています。"
            ),
        },
        desired_forms=["kyoryoku", "kyosai"],
        related_department="環境政策課・公園緑地課",
        roles=[
            ("森の手入れ", "伐採・間伐・植樹の作業、安全管理", "作業区域の調整と許可、伐採木の処分"),
            ("体験会・講座", "企画と当日の運営、講師の手配", "市報・学校を通じた参加者の募集"),
        ],
        income=[
            (REQUEST_CATEGORY, 280_000, ""),
            ("参加費・利用料", 40_000, "体験会 200円×200人"),
            ("自己資金", 30_000, "会費から"),
        ],
        expense=[
            ("報償費（講師謝礼など）", 60_000, "樹木医・森林インストラクター 6回×10,000円"),
            ("消耗品費", 120_000, "苗木・軍手・ロープ・工作材料"),
            ("保険料", 30_000, "作業・体験会の傷害保険"),
            ("使用料及び賃借料", 70_000, "チェーンソー・チッパーのレンタル"),
            ("印刷製本費", 40_000, "チラシ・活動記録冊子"),
            ("旅費・交通費", 20_000, "講師の交通費"),
            ("通信運搬費", 10_000, "案内の郵送"),
        ],
    ),
    DemoProposal(
        group="wanwan",
        texts={
            "title": "わんわんパトロールで広げる地域の見守り",
            "background": (
                "西浜・港北地区では、下校時間帯に子どもが声をかけられる事案が昨年度だけで9件あり、"
                "保護者の不安が高まっています。一方で、防犯パトロールの担い手は高齢化し、"
                "平日の夕方に活動できる人が足りません。\n"
                "地区では毎日、朝と夕方に多くの住民が犬の散歩をしています。この散歩の時間を見守りに生かせば、"
                "無理なく、毎日、地域に見守りの目を増やすことができます。"
            ),
            "purpose": (
                "犬の散歩をしながら地域を見守る「わんわんパトロール」の隊員を増やし、通学路や公園に"
                "毎日見守りの目がある状態をつくります。あわせて、飼い主のマナー向上にも取り組みます。"
            ),
            "description": (
                "1. 隊員の募集と講習（10月〜11月）：動物病院やペットショップにチラシを置き、"
                "新しい隊員を募ります。登録時に、防犯の心得と犬のマナーを学ぶ講習会を開きます。\n"
                "2. 見守りグッズの配布：隊員に反射ベスト、リード用LEDライト、パトロール中であることを示す"
                "バンダナを配り、夕方や夜間の散歩でも目立つようにします。\n"
                "3. 日々の活動（通年）：散歩の道すがら、通学路や公園の様子に気を配り、"
                "気になったことは交番と学校に伝えます。\n"
                "4. 情報共有（毎月）：活動報告をまとめ、交番・学校・自治会と共有します。"
            ),
            "place_and_target": (
                "西浜・港北地区の通学路、公園、住宅地。対象は地区の子どもと高齢者を中心とした住民全体で、"
                "隊員は犬を飼う住民です。"
            ),
            "expected_effects": (
                "隊員を63人から100人に増やし、夕方の通学路で見守りの目がある時間を大きく増やします。"
                "子どもや保護者の安心感が高まるとともに、散歩中のあいさつが増え、顔見知りの関係が広がります。"
                "ふんの放置などのマナー違反が減ることも期待できます。"
            ),
            "necessity": (
                "団体は毎日の見守りの担い手を集めることができ、市は学校や警察との連絡体制、"
                "広報の手段を持っています。双方が協力することで、集めた情報を地域の安全対策に生かせます。"
            ),
            "capability": (
                "令和3年の発足以来、毎月の活動報告を交番と共有し、年2回の講習会を続けてきました。"
                "隊員の連絡網と活動記録の仕組みがあり、隊員が増えても無理なく運営できます。"
            ),
        },
        desired_forms=["kyoryoku", "joho_kokan"],
        related_department="市民生活課（防犯担当）",
        roles=[
            ("隊員の募集・講習", "チラシの配布、講習会の開催", "市報での募集記事の掲載、講習会への職員派遣"),
            ("情報の共有", "毎月の活動報告の作成", "学校・警察との連絡調整"),
        ],
        income=[
            (REQUEST_CATEGORY, 150_000, ""),
            ("自己資金", 20_000, "隊員の会費から"),
        ],
        expense=[
            ("消耗品費", 90_000, "反射ベスト・LEDライト・バンダナ 100組"),
            ("印刷製本費", 50_000, "隊員募集チラシ・ステッカー"),
            ("報償費（講師謝礼など）", 20_000, "防犯講習・マナー講習の講師 2回"),
            ("保険料", 10_000, "ボランティア活動保険"),
        ],
    ),
    DemoProposal(
        group="matsu",
        texts={
            "title": "白浜の海岸林を守り育てる担い手づくり",
            "background": (
                "白浜海岸のクロマツ林は、江戸時代に植えられて以来、潮風や飛砂から住宅地と農地を守ってきました。"
                "しかし近年は松くい虫の被害が広がり、過去5年間で約600本が枯れました。"
                "落ち葉が積もって土が肥え、広葉樹が入り込むことで、クロマツが育ちにくくなっています。\n"
                "会員の平均年齢は70歳を超え、このままでは林の手入れを続けられなくなるおそれがあります。"
            ),
            "purpose": (
                "落ち葉かきや被害木の早期発見、クロマツの植栽を通じて海岸林を健全な状態に保ちます。"
                "あわせて、中学生や若い世代が海岸林の役割を学び、手入れに参加するきっかけをつくります。"
            ),
            "description": (
                "1. 手入れの日（年8回）：会員と一般参加者で落ち葉かき、下草刈り、ごみ拾いを行います。\n"
                "2. 被害木の見回り（毎月）：会員が林を見回り、松くい虫の被害が疑われる木を記録して市に報告します。"
                "被害木の伐倒と搬出は、専門の業者に委託して安全に行います。\n"
                "3. 植栽（3月）：抵抗性クロマツの苗木を、中学生と一緒に植えます。\n"
                "4. 学びの場（年2回）：樹木医を講師に、海岸林の役割や松くい虫の防ぎ方を学ぶ講習会を開きます。"
            ),
            "place_and_target": (
                "白浜海岸の海岸林（市有林、約12ha）。対象は白浜町と周辺の住民、市内の中学生、"
                "海岸林の保全に関心のある市民です。"
            ),
            "expected_effects": (
                "被害木を早く見つけて処理することで、被害の広がりを抑えます。手入れの日と講習会に延べ250人の参加を"
                "見込み、新たに10人の会員を迎えることを目標にします。中学生が植えた苗木の成長を見守ることで、"
                "世代をこえて海岸林を守る意識が育ちます。"
            ),
            "necessity": (
                "海岸林は市の財産であり、被害木の処理や薬剤散布の計画は市が担っています。"
                "一方、日々の見回りや落ち葉かきは、地域の団体が担うことで細かく行き届きます。"
                "市と団体が情報を共有し、役割を分けることで、限られた予算で林全体を守れます。"
            ),
            "capability": (
                "本会は平成28年から年8回の手入れの日を続け、毎回30人前後が参加しています。"
                "被害木の記録は地図にまとめて毎年市に提出しており、地元中学校での出前授業も7年続けています。"
            ),
        },
        desired_forms=["kyoryoku", "itaku"],
        related_department="農林水産課",
        roles=[
            ("手入れ・見回り", "落ち葉かき・下草刈り、被害木の記録と報告", "作業区域の許可、被害木の確認"),
            ("植栽・学びの場", "中学校との調整、講習会の運営", "抵抗性クロマツの苗木の情報提供、市報での案内"),
        ],
        income=[
            (REQUEST_CATEGORY, 260_000, ""),
            ("寄付金・協賛金", 50_000, "地元企業からの協賛"),
            ("自己資金", 20_000, "会費から"),
        ],
        expense=[
            ("消耗品費", 80_000, "熊手・竹ぼうき・ごみ袋・軍手・苗木"),
            ("委託料", 120_000, "被害木の伐倒・搬出（専門業者）"),
            ("報償費（講師謝礼など）", 40_000, "樹木医 2回×20,000円"),
            ("保険料", 25_000, "活動参加者の傷害保険"),
            ("印刷製本費", 45_000, "参加者募集チラシ・学習用パンフレット"),
            ("通信運搬費", 20_000, "案内の郵送"),
        ],
    ),
    DemoProposal(
        group="shokokai",
        texts={
            "title": "商店街で学ぶ子どもの仕事体験「まちなか仕事塾」",
            "background": (
                "本町商店街では、この10年で店舗数が3割減り、空き店舗が目立つようになりました。"
                "子どもたちが商店街を訪れる機会も減り、地域の商店や職人の仕事を知らないまま育つ子どもが"
                "増えています。一方、共働き世帯の増加により、放課後や休日に子どもが地域の大人と関わる"
                "機会も少なくなっています。"
            ),
            "purpose": (
                "商店街の店主や職人が講師となり、子どもたちが実際の仕事を体験する講座を連続して開きます。"
                "子どもが地域の大人と知り合い、働くことの意味を学ぶとともに、商店街を地域の学びの場として"
                "生かします。"
            ),
            "description": (
                "1. 仕事塾（10月〜翌年2月、月2回・計8回）：パン屋、畳店、花屋、写真館など8店舗の協力を得て、"
                "小学4〜6年生が各回12人ずつ仕事を体験します。\n"
                "2. 発表会（3月）：参加した子どもが、体験して学んだことを空き店舗を使った会場で発表します。\n"
                "3. 安全と配慮：各回に会員2人と保護者ボランティアが付き添い、アレルギーやけがに配慮します。"
                "参加費は材料費の一部として1回500円とし、就学援助を受けている家庭は無料とします。"
            ),
            "place_and_target": (
                "本町商店街の協力店舗と空き店舗。対象は市内の小学4〜6年生（延べ96人）と、その保護者です。"
            ),
            "expected_effects": (
                "子どもたちが地域の仕事と大人を知り、地域への愛着が育ちます。商店街にとっては、"
                "子どもと保護者が訪れるきっかけとなり、にぎわいが生まれます。協力店舗同士の連携が深まり、"
                "次年度以降の自主的な開催につながります。"
            ),
            "necessity": (
                "商店街は体験の場と講師を用意できますが、子どもや保護者への案内は、学校や市の協力がなければ"
                "十分に届きません。市には小学校を通じた案内と、就学援助世帯への周知をお願いします。"
            ),
            "capability": (
                "本会は令和4年から毎月「まちなか朝市」を運営し、延べ1万人以上が来場しました。"
                "店主が講師となる大人向け体験講座の実績もあり、保険加入や安全管理の手順も整っています。"
            ),
        },
        desired_forms=["kyosai"],
        related_department="商工観光課・学校教育課",
        roles=[
            ("体験講座", "協力店舗の調整、講座の運営と安全管理", "小学校を通じた参加者の募集"),
            ("費用の配慮", "就学援助世帯の参加費免除", "就学援助世帯への案内"),
        ],
        income=[
            (REQUEST_CATEGORY, 200_000, ""),
            ("参加費・利用料", 48_000, "500円×96人"),
            ("自己資金", 52_000, "青年部活動費から"),
        ],
        expense=[
            ("報償費（講師謝礼など）", 80_000, "店主・職人 16人×5,000円"),
            ("消耗品費", 90_000, "体験の材料費"),
            ("印刷製本費", 60_000, "募集チラシ・発表会資料"),
            ("保険料", 20_000, "参加者の傷害保険"),
            ("使用料及び賃借料", 50_000, "発表会・準備に使う空き店舗の借上げ"),
        ],
    ),
    DemoProposal(
        group="tabunka",
        texts={
            "title": "やさしい日本語で伝える外国人住民の防災",
            "background": (
                "市内の外国人住民は約2,400人で、5年前の1.5倍に増えました。ベトナム、ネパール、"
                "フィリピン出身の方が多く、その多くが港北地区の工場や介護施設で働いています。"
                "当会の日本語教室で聞いたところ、「地震や津波のときにどこへ逃げればよいか知らない」と答えた人が"
                "7割を超えました。市の防災情報は日本語が中心で、十分に届いていません。"
            ),
            "purpose": (
                "外国人住民が災害時に必要な情報を理解し、自分で避難できるようにします。"
                "あわせて、地域の防災訓練に外国人住民が参加し、日本人住民と顔見知りになる機会をつくります。"
            ),
            "description": (
                "1. 防災講座（年6回）：やさしい日本語と通訳を使い、地震・津波・台風への備え、"
                "避難場所の確認、非常持出品の準備を学びます。\n"
                "2. 防災カードの作成：避難場所や緊急連絡先を書き込める防災カードを、やさしい日本語と"
                "5言語で作成し、3,000枚を配布します。\n"
                "3. 防災訓練への参加：地区の防災訓練に外国人住民と一緒に参加し、通訳ボランティアが付き添います。\n"
                "4. 振り返り：参加者の声をまとめ、市の防災情報の多言語化に役立つ提案として報告します。"
            ),
            "place_and_target": (
                "港北地区コミュニティセンターほか。対象は市内の外国人住民と、外国人を雇用する事業所、"
                "地区の自主防災組織です。"
            ),
            "expected_effects": (
                "講座に延べ150人の外国人住民の参加を見込みます。避難場所を知る人が増え、"
                "災害時の逃げ遅れを防げます。防災訓練を通じて外国人住民と日本人住民が知り合い、"
                "日頃の助け合いにつながります。"
            ),
            "necessity": (
                "当会は外国人住民とのつながりと通訳の担い手を持ち、市は防災の専門知識と、避難所や訓練の"
                "情報を持っています。協働することで、正確な情報を届く形で伝えられます。"
            ),
            "capability": (
                "平成30年から毎週日本語教室を開き、登録者は約120人です。5言語の通訳ボランティアが在籍し、"
                "これまでに市の生活情報チラシの翻訳にも協力してきました。"
            ),
        },
        desired_forms=["kyosai", "kikaku"],
        related_department="危機管理課・国際交流室",
        roles=[
            ("防災講座", "参加者の募集、通訳、講座の運営", "防災担当職員の講師派遣、避難所情報の提供"),
            ("防災カード", "やさしい日本語と5言語への翻訳", "内容の確認、市の施設での配布"),
            ("防災訓練", "外国人住民の参加呼びかけと付き添い", "自主防災組織との調整"),
        ],
        income=[
            (REQUEST_CATEGORY, 180_000, ""),
            ("自己資金", 20_000, "会費から"),
        ],
        expense=[
            ("報償費（講師謝礼など）", 60_000, "通訳 6回×10,000円"),
            ("委託料", 50_000, "防災カードの翻訳（ネパール語・タガログ語）"),
            ("印刷製本費", 60_000, "防災カード 3,000枚"),
            ("消耗品費", 20_000, "講座用教材"),
            ("旅費・交通費", 10_000, "通訳ボランティアの交通費"),
        ],
    ),
)

# 令和8年度: two submitted, one returned, two drafts.
SUBMITTED_BOUSAI = DemoProposal(
    group="bousai",
    texts={
        "title": "福祉防災マップを生かした個別避難計画づくり",
        "background": (
            "港南地区では、住民が地区を歩いて危険な場所や避難経路をまとめた福祉防災マップができ、"
            "支援が必要な方ごとに「声をかける人」を決める取組が始まりました。しかし、実際に避難するときに"
            "誰が、どの順番で、どこへ連れて行くのかを一人ひとりについて定めた個別避難計画は、"
            "対象となる約180人のうち、まだ20人分しかできていません。\n"
            "また、支援者の多くが日中は地区外で働いており、平日の昼間に災害が起きた場合の支援の形が"
            "定まっていないことも課題です。"
        ),
        "purpose": (
            "福祉防災マップをもとに、支援が必要な方一人ひとりの個別避難計画を、本人・家族・近所の支援者・"
            "福祉の専門職が一緒に作ります。あわせて、昼間と夜間の両方を想定した避難訓練で計画を確かめ、"
            "実際に機能する避難支援の仕組みにします。"
        ),
        "description": (
            "1. 計画づくりの説明会（4地区・各1回）：個別避難計画の意義と進め方、個人情報の取扱いを説明します。\n"
            "2. 個別の話し合い：本人の同意を得たうえで、本人・家族・支援者・ケアマネジャーなどが集まり、"
            "避難先、経路、必要な配慮、支援者（昼・夜それぞれ）を決めます。目標は100人分です。\n"
            "3. 避難訓練（2回）：平日昼間と休日夜間を想定した訓練を行い、計画どおりに避難できるかを確かめます。\n"
            "4. 見直し：訓練で分かった課題をもとに計画を直し、マップも更新して配布します。\n"
            "計画書の原本は本人と市が保管し、支援者には必要な範囲だけを共有します。"
        ),
        "place_and_target": (
            "港南地区（12自治会）。対象は避難に支援が必要な方約180人とその家族、近所の支援者、"
            "地区の福祉事業所です。"
        ),
        "expected_effects": (
            "個別避難計画が20人分から100人分に増え、支援が必要な方の半数以上について、災害時に誰が"
            "どう支えるかが決まります。昼間の支援者として、地区内の事業所や在宅の住民の協力が得られるように"
            "なります。進め方をまとめた手引きは、市内の他の地区でも使えます。"
        ),
        "necessity": (
            "個別避難計画の作成は市の努力義務であり、名簿情報や福祉の専門職との調整は市にしかできません。"
            "一方、本人の暮らしを知り、近所の支援者を探せるのは地域です。市は名簿の提供と専門職の調整、"
            "計画書の保管を担い、地域は話し合いの場づくりと訓練を担うことで、計画を早く、実際に役立つ形で"
            "作れます。"
        ),
        "capability": (
            "当連合会は地区の12自治会をまとめ、毎年約400人が参加する防災訓練を運営してきました。"
            "福祉防災マップづくりでは、延べ300人以上の住民が参加し、民生委員や福祉事業所との連携の形が"
            "できています。"
        ),
    },
    desired_forms=["kyosai", "kyoryoku"],
    related_department="危機管理課・福祉総務課",
    roles=[
        ("個別の話し合い", "本人・家族への説明と同意の確認、支援者探し、話し合いの進行", "避難行動要支援者名簿の提供、ケアマネジャー等の専門職との調整"),
        ("計画書の管理", "支援者への必要な範囲での共有", "計画書の保管と更新"),
        ("避難訓練", "訓練の企画と住民への呼びかけ", "避難所の開設訓練、消防との調整"),
    ],
    income=[
        (REQUEST_CATEGORY, 290_000, ""),
        ("自己資金", 40_000, "連合会の防災活動費から"),
    ],
    expense=[
        ("報償費（講師謝礼など）", 60_000, "防災士・社会福祉士 6回×10,000円"),
        ("印刷製本費", 160_000, "更新版マップ・手引き"),
        ("消耗品費", 45_000, "計画書ファイル・訓練用品"),
        ("保険料", 25_000, "訓練参加者の行事保険"),
        ("使用料及び賃借料", 30_000, "説明会会場使用料"),
        ("通信運搬費", 10_000, "案内の郵送"),
    ],
)

SUBMITTED_MORI = DemoProposal(
    group="mori",
    texts={
        "title": "放置竹林の整備と竹の活用で育てる森の担い手",
        "background": (
            "市内の山林では、手入れされなくなった竹林が広がり、周りの雑木林や畑に入り込んでいます。"
            "市の調査では放置竹林は約40haにのぼり、毎年少しずつ広がっています。竹林が広がると、"
            "ほかの木が育たず、根の浅い竹林は大雨のときに斜面が崩れやすくなります。\n"
            "竹を切っても、切った竹の処分に手間と費用がかかることが、整備が進まない大きな理由です。"
        ),
        "purpose": (
            "放置竹林を市民の手で整備し、切った竹をチップや竹炭、工作材料として活用する仕組みをつくります。"
            "竹を「やっかいもの」から「地域の資源」に変え、森づくりの新しい担い手を育てます。"
        ),
        "description": (
            "1. 竹林整備（月2回）：緑ヶ丘地区の市有林のうち約0.5haで、竹の伐採と搬出を行います。\n"
            "2. 竹の活用：切った竹は粉砕機でチップにし、市民農園の土壌改良材や遊歩道の舗装材として使います。"
            "一部は竹炭や竹細工の材料にします。\n"
            "3. 竹林整備講座（年4回）：のこぎりの使い方、安全な伐採の方法、竹の活用法を学ぶ講座を開きます。\n"
            "4. 親子の竹あそび（年2回）：竹の水鉄砲や竹とんぼを作り、竹林に親しむ機会をつくります。\n"
            "5. 記録：整備前後の写真と面積を記録し、報告書にまとめます。"
        ),
        "place_and_target": (
            "緑ヶ丘地区の市有林（約0.5ha）と市民農園。対象は森づくりに関心のある市民、親子、"
            "市民農園の利用者です。"
        ),
        "expected_effects": (
            "約0.5haの竹林が整備され、ほかの木が育つ明るい林に戻り始めます。竹チップ約20立方メートルを"
            "市民農園などで活用します。講座と竹あそびに延べ200人の参加を見込み、15人程度が会の活動に"
            "加わることを目標とします。竹の活用方法を手引きにまとめ、他の地域でも使えるようにします。"
        ),
        "necessity": (
            "竹林は市有林であり、整備の範囲や安全対策、竹チップの使い道の調整には市の判断が必要です。"
            "団体は作業の担い手と技術を持っています。市は作業区域の調整と市民農園での活用を、"
            "団体は整備と講座を担うことで、費用を抑えながら整備を進められます。"
        ),
        "capability": (
            "本団体は平成24年から市民の森の手入れを続け、会員6人が森林ボランティア指導者の講習を"
            "修了しています。これまでに延べ約3,000人の子どもが森の観察会に参加しました。"
            "安全管理の手順書と作業道具を備えています。"
        ),
    },
    desired_forms=["kyoryoku"],
    related_department="農林水産課・公園緑地課",
    roles=[
        ("竹林整備", "伐採・搬出・粉砕の作業、安全管理", "作業区域の調整と許可"),
        ("竹の活用", "竹チップ・竹炭の製作", "市民農園・遊歩道での活用の調整"),
        ("講座・竹あそび", "企画と運営", "市報での参加者募集"),
    ],
    income=[
        (REQUEST_CATEGORY, 300_000, ""),
        ("参加費・利用料", 60_000, "講座・竹あそび 300円×200人"),
        ("自己資金", 40_000, "会費から"),
    ],
    expense=[
        ("報償費（講師謝礼など）", 70_000, "竹林整備の専門家・竹細工講師"),
        ("使用料及び賃借料", 90_000, "竹粉砕機のレンタル"),
        ("消耗品費", 110_000, "のこぎり刃・ロープ・軍手・工作材料"),
        ("保険料", 40_000, "作業・講座の傷害保険"),
        ("印刷製本費", 50_000, "募集チラシ・活用の手引き"),
        ("旅費・交通費", 20_000, "講師の交通費"),
        ("通信運搬費", 20_000, "竹チップの運搬"),
    ],
)

RETURNED_SHOKOKAI = DemoProposal(
    group="shokokai",
    texts={
        "title": "空き店舗を生かした多世代の居場所「まちなかリビング」",
        "background": (
            "本町商店街の周辺では高齢化が進み、ひとり暮らしの高齢者が増える一方、放課後に子どもが"
            "過ごせる場所が少ないという声が保護者から寄せられています。商店街には空き店舗が14あり、"
            "まちのにぎわいが失われつつあります。"
        ),
        "purpose": (
            "商店街の空き店舗を、誰でも気軽に立ち寄れる多世代の居場所「まちなかリビング」として開き、"
            "高齢者の孤立を防ぎ、子どもの放課後の居場所をつくります。"
        ),
        "description": (
            "1. 居場所の運営（週3日、13時〜17時）：空き店舗を借り、高齢者のお茶のみや子どもの宿題の場として"
            "開きます。商工会の会員と地域のボランティアが交代で見守ります。\n"
            "2. ミニ講座（月2回）：商店街の店主による料理・手芸・スマートフォン教室などを開きます。\n"
            "3. 改装：空き店舗の床と照明を直し、車いすでも入れるよう入口の段差をなくします。"
        ),
        "place_and_target": "本町商店街の空き店舗1か所。対象は周辺の高齢者、小学生とその保護者です。",
        "expected_effects": (
            "年間延べ3,000人の利用を見込みます。高齢者と子どもが自然に顔を合わせる場ができ、"
            "商店街に人の流れが戻ります。"
        ),
        "necessity": "商店街だけでは、高齢者や子育て世帯への周知が難しいため、市と協働で取り組みます。",
        "capability": (
            "本会は令和4年から毎月「まちなか朝市」を運営し、延べ1万人以上が来場しました。"
            "会員の店主が講師となる講座の実績もあります。"
        ),
    },
    desired_forms=["kyosai"],
    related_department="商工観光課・高齢福祉課",
    roles=[
        ("居場所の運営", "空き店舗の借上げ、見守り、講座の企画", "地域包括支援センター・学校への周知"),
    ],
    income=[
        (REQUEST_CATEGORY, 300_000, ""),
        ("自己資金", 80_000, "商工会の地域振興事業費から"),
        ("参加費・利用料", 20_000, "講座材料費 200円×100人"),
    ],
    expense=[
        ("使用料及び賃借料", 144_000, "空き店舗の家賃 12,000円×12か月"),
        ("その他", 120_000, "店舗内装工事（床・照明の改修、段差の解消）"),
        ("消耗品費", 60_000, "テーブルクロス・文具・講座材料"),
        ("印刷製本費", 40_000, "案内チラシ"),
        ("保険料", 20_000, "利用者の傷害保険・施設賠償責任保険"),
        ("報償費（講師謝礼など）", 16_000, "ミニ講座の講師 8回×2,000円"),
    ],
)

RETURN_REASON = (
    "受付確認（形式審査）の結果、次の点について修正をお願いします。\n"
    "1. 支出の「その他（店舗内装工事）120,000円」は施設の改修にあたり、募集要項4の"
    "「施設の建設や改修などの整備を目的とする事業」に該当するため、負担金の対象になりません。"
    "収支予算書からこの経費を除き、事業内容の「3. 改装」も見直してください。\n"
    "2. 「協働の必要性」に、市に期待する役割（周知の方法、関係する課との調整など）を具体的に書き加えてください。\n"
    "修正期限（{due}）までに再提出してください。ご不明な点は市民協働課（0123-45-0000）までご相談ください。"
)

DRAFT_CHANOMA = DemoProposal(
    group="chanoma",
    texts={
        "title": "地域の茶の間で始める「ちょっと困りごと」相談と見守り",
        "background": (
            "本町地区では、75歳以上のひとり暮らしの方が5年間で1.4倍に増えました。毎週の茶の間には"
            "平均25人が集まりますが、参加者から「電球が替えられない」「ごみの出し方が変わって分からない」"
            "「通院の手段がない」といった小さな困りごとを聞くことが増えています。\n"
            "こうした困りごとは、そのままにすると生活のしづらさや孤立につながりますが、"
            "本人が市役所や地域包括支援センターに相談するほどではないと考え、誰にも言えずにいることが"
            "少なくありません。"
        ),
        "purpose": (
            "誰もが立ち寄れる地域の茶の間に「ちょっと困りごと」の相談窓口を設け、困りごとを早めに見つけて"
            "地域の支え合いや専門の窓口につなぎます。茶の間に来られなくなった方への見守りも行い、"
            "誰も孤立しない地域をつくります。"
        ),
        "description": (
            "1. 困りごと相談（毎週水曜日の茶の間の時間）：運営委員が話を聞き、電球交換やごみ出しなどの"
            "ちょっとした手助けは、登録した地域の「お助け隊」（有償ボランティア、1回30分300円）につなぎます。\n"
            "2. 専門職の出張相談（月1回）：地域包括支援センターの職員や社会福祉士に来てもらい、"
            "介護や健康、お金の心配ごとを相談できる日をつくります。\n"
            "3. 見守り訪問：茶の間に2週続けて来なかった常連の方には電話をかけ、必要に応じて訪問します。\n"
            "4. お助け隊の養成講座（年2回）：傾聴の方法や認知症の方への接し方を学び、担い手を増やします。"
        ),
        "place_and_target": (
            "本町第二町内会集会所（本町四丁目）。対象は本町地区の高齢者を中心とした住民で、"
            "特にひとり暮らしの方や、外出の機会が少ない方です。"
        ),
        "expected_effects": (
            "年間延べ1,200人が茶の間を利用し、そのうち100件程度の困りごと相談を受けることを見込みます。"
            "困りごとを早く見つけて支え合いや専門の窓口につなぐことで、生活のしづらさが深刻になるのを防ぎます。"
            "お助け隊の登録者を20人に増やし、支えられる人が支える側にも回る関係を広げます。"
        ),
        "necessity": (
            "茶の間は住民が気軽に話せる場であり、困りごとに早く気づくことができます。一方、"
            "介護や生活の困りごとを専門の支援につなぐには、市や地域包括支援センターの協力が欠かせません。"
            "団体は相談の入口と見守りを担い、市は専門職の派遣と関係機関との調整を担うことで、"
            "困りごとを確実に支援につなげられます。"
        ),
        "capability": "",
    },
    desired_forms=["kyosai", "kyoryoku"],
    related_department="高齢福祉課",
    roles=[
        ("困りごと相談", "茶の間での聞き取り、お助け隊への取次ぎ", "地域包括支援センターとの連絡調整"),
        ("専門職の出張相談", "会場の準備と参加の呼びかけ", "社会福祉士など専門職の派遣"),
        ("見守り訪問", "常連の方への電話・訪問", "支援が必要な方の情報の共有（本人の同意がある場合）"),
    ],
    income=[
        (REQUEST_CATEGORY, 220_000, ""),
        ("参加費・利用料", 60_000, "茶の間参加費 100円×600人"),
        ("自己資金", 20_000, "会費から"),
    ],
    expense=[
        ("報償費（講師謝礼など）", 48_000, "養成講座の講師 2回・専門職相談の謝礼"),
        ("消耗品費", 84_000, "お茶・文具・相談記録用品"),
        ("使用料及び賃借料", 96_000, "集会所使用料 48回×2,000円"),
        ("印刷製本費", 42_000, "案内チラシ・茶の間だより"),
        ("保険料", 18_000, "ボランティア活動保険"),
        ("通信運搬費", 12_000, "見守りの電話代"),
    ],
)

DRAFT_KOSODATE = DemoProposal(
    group="kosodate",
    texts={
        "title": "子育て家庭のための防災ハンドブックづくり",
        "background": (
            "親子ひろばで防災の話をすると、「乳幼児を連れてどう避難すればよいか分からない」という声が"
            "多く聞かれます。"
        ),
    },
)


# --- building ------------------------------------------------------------------

def load_demo_data(session: Session) -> None:
    """Add the demo calls, groups, accounts and proposals; flush, never commit."""
    now = now_utc().replace(second=0, microsecond=0)
    city = current_app.config.get("CITY_NAME", "みなと市")

    finished = _finished_call(city)
    open_call = _open_call(city, now)
    session.add_all([finished, open_call])
    session.flush()

    users = {spec.key: _account(session, spec, now) for spec in GROUPS}
    session.flush()
    for user in users.values():
        attach_sample_documents(session, current_app.config["UPLOAD_DIR"], user.group, user.id)

    # 令和7年度: written in May and June 2025, submitted before the deadline,
    # screened, results published. (created, submitted) in Tokyo time:
    times = [
        ((5, 12, 20, 15), (6, 9, 10, 42)),
        ((5, 16, 9, 30), (6, 13, 15, 8)),
        ((5, 22, 21, 5), (6, 18, 11, 27)),
        ((5, 26, 14, 0), (6, 24, 16, 51)),
        ((6, 2, 10, 45), (6, 27, 13, 3)),
        ((6, 5, 19, 20), (6, 30, 16, 22)),
    ]
    for spec, (created_at, submitted_at) in zip(FINISHED_PROPOSALS, times, strict=True):
        user = users[spec.group]
        created = jst_datetime(2025, *created_at)
        submitted = jst_datetime(2025, *submitted_at)
        proposal = _proposal(session, spec, finished, user, created, date(2025, 10, 1), date(2026, 3, 31))
        _submit(session, proposal, user, submitted)
        record_status(session, proposal, ProposalStatus.INTAKE, None, jst_datetime(2025, 7, 1, 9, 0),
                      note="受付確認（形式審査）を行い、提案を受け付けました。")
        record_status(session, proposal, ProposalStatus.REVIEW, None, finished.screening_starts_at,
                      note="審査委員会による審査を始めました。")
        record_status(session, proposal, ProposalStatus.RESULTS, None, finished.results_at,
                      note="審査結果を公表しました。")
        session.flush()

    # 令和8年度: the project period starts after the results and agreements.
    start = _first_of_month_after(open_call.results_at, months=2)
    end = _first_of_month_after(start, months=11) - timedelta(days=1)

    bousai = _proposal(session, SUBMITTED_BOUSAI, open_call, users["bousai"], now - timedelta(days=16), start, end)
    _submit(session, bousai, users["bousai"], now - timedelta(days=9, hours=2, minutes=14))
    shokokai = _proposal(session, RETURNED_SHOKOKAI, open_call, users["shokokai"], now - timedelta(days=15),
                         start, end)
    _submit(session, shokokai, users["shokokai"], now - timedelta(days=8, hours=5, minutes=41))
    record_status(session, shokokai, ProposalStatus.INTAKE, None, now - timedelta(days=7, hours=3))
    due_day = (now + timedelta(days=10)).astimezone(JST).date()
    due = jst_datetime(due_day.year, due_day.month, due_day.day, 17, 0)
    record_status(session, shokokai, ProposalStatus.RETURNED, None, now - timedelta(days=3, hours=4),
                  note=RETURN_REASON.format(due=format_jst(due)))
    shokokai.correction_due_at = due
    mori = _proposal(session, SUBMITTED_MORI, open_call, users["mori"], now - timedelta(days=14),
                     start, _first_of_month_after(start, months=10) - timedelta(days=1))
    _submit(session, mori, users["mori"], now - timedelta(days=2, hours=1, minutes=3))

    chanoma = _proposal(session, DRAFT_CHANOMA, open_call, users["chanoma"], now - timedelta(days=12), start, end)
    chanoma.updated_at = now - timedelta(days=1, hours=6)
    _proposal(session, DRAFT_KOSODATE, open_call, users["kosodate"], now - timedelta(hours=20), None, None)
    session.flush()


def _first_of_month_after(value: datetime | date, months: int) -> date:
    day = value.astimezone(JST).date() if isinstance(value, datetime) else value
    index = day.year * 12 + day.month - 1 + months
    return date(index // 12, index % 12 + 1, 1)


def _criteria(spec: list[tuple[str, int]]) -> list[Criterion]:
    return [
        Criterion(position=i, name=name, description=CRITERIA_DESCRIPTIONS[name], weight=Decimal(weight),
                  scale_min=1, scale_max=5, level_descriptors=dict(LEVELS))
        for i, (name, weight) in enumerate(spec)
    ]


def _finished_call(city: str) -> Call:
    opens = jst_datetime(2025, 5, 7, 9, 0)
    closes = jst_datetime(2025, 6, 30, 17, 0)
    screening = jst_datetime(2025, 7, 7, 9, 0)
    results = jst_datetime(2025, 8, 29, 10, 0)
    published = jst_datetime(2025, 4, 15, 9, 0)
    return Call(
        slug=FINISHED_CALL_SLUG,
        title=f"{fiscal_year_label(2025)} 市民提案型協働モデル事業 提案募集",
        fiscal_year=2025,
        summary=(
            "地域の課題を、市民活動団体と市が協働で解決する事業の提案を募集しました。"
            "6件の提案があり、審査委員会の審査を経て結果を公表しました。"
        ),
        guidelines=_guidelines(
            city, fiscal_year_label(2025), published=published, opens=opens, closes=closes, screening=screening,
            presentation=jst_datetime(2025, 8, 2, 13, 30), results=results,
            period="協定を締結した日から令和8年3月31日まで",
        ),
        opens_at=opens,
        closes_at=closes,
        screening_starts_at=screening,
        results_at=results,
        budget_cap_per_proposal=300_000,
        budget_total=1_500_000,
        field_limits=dict(FIELD_LIMITS),
        published_at=published,
        created_at=jst_datetime(2025, 4, 1, 10, 0),
        criteria=_criteria(FINISHED_CALL_CRITERIA),
    )


def _open_call(city: str, now: datetime) -> Call:
    today = now.astimezone(JST).date()
    opened = today - timedelta(days=20)
    closing = today + timedelta(days=27)
    opens = jst_datetime(opened.year, opened.month, opened.day, 9, 0)
    closes = jst_datetime(closing.year, closing.month, closing.day, 17, 0)
    screening_day = closing + timedelta(days=7)
    presentation_day = closing + timedelta(days=35)
    results_day = closing + timedelta(days=63)
    published_day = opened - timedelta(days=14)
    screening = jst_datetime(screening_day.year, screening_day.month, screening_day.day, 9, 0)
    results = jst_datetime(results_day.year, results_day.month, results_day.day, 10, 0)
    published = jst_datetime(published_day.year, published_day.month, published_day.day, 9, 0)
    return Call(
        slug=OPEN_CALL_SLUG,
        title=f"{fiscal_year_label(2026)} 市民提案型協働モデル事業 提案募集",
        fiscal_year=2026,
        summary=(
            "地域の課題を、市民活動団体・自治会・NPOなどの皆さんと市が協働で解決する事業の提案を募集します。"
            "1件あたり300,000円まで、市が事業費を負担します。"
        ),
        guidelines=_guidelines(
            city, fiscal_year_label(2026), published=published, opens=opens, closes=closes, screening=screening,
            presentation=jst_datetime(presentation_day.year, presentation_day.month, presentation_day.day, 13, 30),
            results=results, period="協定を締結した日から1年以内（予算の成立が条件です）",
        ),
        opens_at=opens,
        closes_at=closes,
        screening_starts_at=screening,
        results_at=results,
        budget_cap_per_proposal=300_000,
        budget_total=1_500_000,
        field_limits=dict(FIELD_LIMITS),
        published_at=published,
        created_at=published - timedelta(days=7),
        criteria=_criteria(OPEN_CALL_CRITERIA),
    )


def _guidelines(city: str, year: str, *, published: datetime, opens: datetime, closes: datetime,
                screening: datetime, presentation: datetime, results: datetime, period: str) -> str:
    """The 募集要項 body; shown with its line breaks on the call page."""
    return "\n".join([
        "1. 目的",
        f"{city}では、市民活動団体・自治会・NPOなどの皆さんと市が、それぞれの得意なことを持ち寄り、"
        "対等な立場で地域の課題に取り組む「市民提案型協働モデル事業」を実施しています。"
        f"{year}も、市と協働で行う事業の提案を広く募集します。採択された事業は、団体と市が協定を結び、"
        "目的を共有したうえで、役割と費用を分担して実施します。",
        "",
        "2. 提案できる団体",
        "次のすべてに当てはまる団体が提案できます。",
        "・構成員が5人以上であること",
        f"・{city}内に活動拠点があり、1年以上継続して活動していること",
        "・規約・会則を定め、適正な会計処理を行っていること",
        "・宗教活動・政治活動・選挙活動を目的としないこと",
        "・団体及びその役員が暴力団又は暴力団員と関係がないこと",
        "・市税を滞納していないこと",
        "1つの団体が提案できるのは1件までです。",
        "",
        "3. 対象となる事業",
        f"{city}内で行う公益的な事業で、団体と市が協働することで、それぞれが単独で行うよりも大きな効果が"
        "見込まれるものを対象とします。提案書では、団体が行うことと市が行うこと（役割分担）を具体的に示してください。",
        "",
        "4. 対象とならない事業",
        "・営利を目的とする事業",
        "・特定の個人や団体だけが利益を受ける事業",
        "・施設の建設や改修などの整備を目的とする事業",
        "・国・県・市の他の補助金や助成金をすでに受けている事業",
        "・宗教活動・政治活動・選挙活動を目的とする事業",
        "・法令や公序良俗に反する事業",
        "・団体内の親睦を目的とする事業（親睦会など）",
        "・単発のイベント",
        "",
        "5. 実施期間と負担金",
        f"実施期間：{period}",
        "市が負担する額（協働事業負担金）は、1件あたり300,000円が上限です（予算総額1,500,000円）。"
        "収支予算書では、収入の合計と支出の合計を一致させてください。団体の経常的な運営経費（事務所の家賃・"
        "人件費など）や、親睦を目的とする飲食費は負担金の対象になりません。",
        "",
        "6. 日程",
        f"・募集要項の公表：{format_jst(published)}",
        f"・受付期間：{format_jst(opens)} から {format_jst(closes)} まで（締切を過ぎた提出は受け付けません）",
        "・事前相談：受付期間中、市民協働課で随時受け付けます。提出前のご相談をおすすめします。",
        "・受付確認（形式審査）：提出後、市民協働課が書類を確認します。不備があるときは、期限を示して"
        "修正をお願いすること（差し戻し）があります。",
        f"・一次審査（書類審査）：{wareki_date(screening)}から",
        f"・二次審査（公開プレゼンテーション）：{format_jst(presentation)}（予定）",
        f"・結果の公表：{wareki_date(results)}（予定）",
        "",
        "7. 提出方法",
        "このポータルで団体登録を行い、団体概要を入力したうえで、提案書と収支予算書をオンラインで提出してください。"
        "あわせて、規約・会則、役員名簿、直近の事業報告書・決算書を添付してください。締切までは下書きを何度でも"
        "保存できます。提出すると受付番号が表示され、受付票（PDF）をダウンロードできます。",
        "",
        "8. 審査の方法",
        f"提案は、学識経験者や市民活動の実践者など外部の委員で構成する「{city}協働事業審査委員会」が審査します。"
        "審査委員には、団体名・代表者名などを伏せた提案書（匿名化した提案書）を示し、団体の知名度ではなく"
        "提案の内容で評価します。提案書の本文にも団体名を書かないようご協力ください。",
        "一次審査では、公表している審査基準の各項目を5段階（5：優れている ～ 1：劣る）で評価し、"
        "重みを掛けて合計します（100点満点）。委員と利害関係のある提案は、その委員が採点しません。",
        "二次審査は公開プレゼンテーション（説明7分・質疑5分）です。どなたでも傍聴できます。"
        "委員はプレゼンテーションの後に採点を見直すことができます。",
        "審査委員会の報告を受けて、市長が採否を決定し、理由を付けて各団体に通知します。",
        "",
        "9. 公表",
        "採択した事業名と団体名、各提案の合計点（不採択の提案は団体名を伏せ、受付番号で表示します）、"
        "審査委員会の講評、審査委員の名簿、審査の経過をこのポータルで公表します。"
        "審査項目ごとの得点は、提案した団体にお知らせします。",
        "",
        "10. 個人情報の取扱い",
        "代表者・連絡担当者の氏名、住所、電話番号などの個人情報は、本事業の審査・連絡・協定の締結のためにのみ利用し、"
        "審査委員に示す提案書や公表する資料には載せません。",
        "",
        "11. 問い合わせ先",
        f"{city} 市民生活部 市民協働課 協働推進係",
        "電話 0123-45-0000（平日 8時30分～17時15分）　メール kyodo@example.jp",
    ])


def _account(session: Session, spec: DemoGroup, now: datetime) -> User:
    registered = jst_datetime(spec.registered_on.year, spec.registered_on.month, spec.registered_on.day, 10, 0)
    # Registered before any draft of the open call, whenever the demo is loaded.
    registered = min(registered, now - timedelta(days=30))
    user = User(
        email=spec.email,
        password_hash=hash_password(DEMO_PASSWORD),
        role=Role.APPLICANT,
        created_at=registered,
        password_changed_at=registered,
        email_confirmed_at=registered + timedelta(minutes=12),
    )
    user.group = Group(
        name=spec.name,
        name_kana=spec.name_kana,
        kind=spec.kind,
        representative_title=spec.representative_title,
        representative_name=spec.representative_name,
        contact_name=spec.contact_name,
        contact_email=spec.email,
        postal_code=spec.postal_code,
        address=spec.address,
        phone=spec.phone,
        founded_on=spec.founded_on,
        member_count=spec.member_count,
        activity_fields=list(spec.activity_fields),
        activity_record=spec.activity_record,
        website=spec.website,
        based_in_city=True,
        updated_at=registered + timedelta(hours=1),
    )
    session.add(user)
    return user


def _proposal(session: Session, spec: DemoProposal, call: Call, user: User, created: datetime,
              period_start: date | None, period_end: date | None) -> Proposal:
    proposal = Proposal(call=call, group=user.group, status=ProposalStatus.DRAFT, created_at=created,
                        updated_at=created)
    for text_field in TEXT_FIELDS:
        setattr(proposal, text_field.key, spec.texts.get(text_field.key, ""))
    proposal.period_start, proposal.period_end = period_start, period_end
    proposal.desired_forms = list(spec.desired_forms)
    proposal.related_department = spec.related_department
    proposal.role_shares = [
        RoleShare(position=i, item=item, group_role=group_role, city_role=city_role)
        for i, (item, group_role, city_role) in enumerate(spec.roles)
    ]
    lines = [(BudgetKind.INCOME, row) for row in spec.income] + [(BudgetKind.EXPENSE, row) for row in spec.expense]
    proposal.budget_lines = [
        BudgetLine(position=i, kind=kind, category=category, amount=amount, note=note)
        for i, (kind, (category, amount, note)) in enumerate(lines)
    ]
    proposal.requested_amount = requested_amount(proposal)
    _check(proposal, call)
    session.add(proposal)
    session.flush()
    session.add(StatusEvent(proposal_id=proposal.id, from_status=None, to_status=ProposalStatus.DRAFT,
                            created_at=created, actor_id=user.id))
    return proposal


def _check(proposal: Proposal, call: Call) -> None:
    """Demo data must itself obey the rules the portal enforces."""
    limits = limits_for(call)
    for text_field in TEXT_FIELDS:
        length = len(getattr(proposal, text_field.key))
        if length > limits[text_field.key]:
            raise ValueError(f"demo text too long: {proposal.title} {text_field.key} {length}")
    for line in proposal.budget_lines:
        allowed = INCOME_CATEGORIES if line.kind == BudgetKind.INCOME else EXPENSE_CATEGORIES
        if line.category not in allowed:
            raise ValueError(f"unknown budget category: {line.category}")
    income, expense = budget_totals(proposal)
    if income != expense:
        raise ValueError(f"demo budget does not balance: {proposal.title} {income} != {expense}")
    if proposal.requested_amount > call.budget_cap_per_proposal:
        raise ValueError(f"demo request over the cap: {proposal.title}")


def _submit(session: Session, proposal: Proposal, user: User, at: datetime) -> Submission:
    """As workflow.submit_proposal does, at a given time in the past."""
    accepted = at - timedelta(minutes=4)
    proposal.declarations = [Declaration(key=key, accepted_at=accepted, accepted_by_id=user.id)
                             for key in DECLARATION_KEYS]
    record_status(session, proposal, ProposalStatus.SUBMITTED, user, at)
    proposal.submitted_at = at
    proposal.updated_at = at
    session.flush()
    if proposal.receipt_number is None:
        proposal.receipt_number = allocate_receipt_number(session, proposal.call)
    snapshot = build_snapshot(proposal, at)
    submission = Submission(
        revision=len(proposal.submissions) + 1,
        receipt_number=proposal.receipt_number,
        submitted_at=at,
        submitted_by_id=user.id,
        snapshot=snapshot,
        snapshot_sha256=snapshot_digest(snapshot),
    )
    proposal.submissions.append(submission)
    session.flush()
    return submission
