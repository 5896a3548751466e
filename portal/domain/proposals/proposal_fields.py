"""The proposal's fields: labels, help texts and character limits.

One list feeds the form, the server-side checks, the reviewers' view, the
snapshot and the receipt PDF, so they cannot drift apart.
"""
from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class TextField:
    key: str
    label: str
    help: str
    default_limit: int
    multiline: bool = True


TEXT_FIELDS: tuple[TextField, ...] = (
    TextField("title", "事業名", "事業の内容がわかる名前をつけてください。", 40, multiline=False),
    TextField("background", "背景と地域課題", "どのような地域の課題があり、なぜ今取り組むのかを書いてください。", 800),
    TextField("purpose", "目的", "この事業で何を目指すのかを書いてください。", 400),
    TextField("description", "事業内容", "いつ・どこで・何を・どのように行うかを具体的に書いてください。", 1200),
    TextField("place_and_target", "実施場所・対象者", "実施する場所と、事業の対象となる人を書いてください。", 300),
    TextField("expected_effects", "期待される効果", "事業によって地域や対象者にどのような変化が生まれるかを書いてください。", 600),
    TextField("necessity", "協働の必要性", "団体だけ、市だけで行うのではなく、協働で行う理由を書いてください。", 600),
    TextField("capability", "団体の実績・事業遂行能力", "これまでの活動実績や、事業を確実に実施できる体制を書いてください。", 600),
)

TEXT_FIELD_KEYS = tuple(field.key for field in TEXT_FIELDS)
FIELD_BY_KEY = {field.key: field for field in TEXT_FIELDS}


def limits_for(call) -> dict[str, int]:
    """The call's limits, falling back to the defaults for fields it does not set."""
    configured = call.field_limits or {}
    limits = {}
    for field in TEXT_FIELDS:
        value = configured.get(field.key)
        limits[field.key] = int(value) if isinstance(value, int) and value > 0 else field.default_limit
    return limits


INCOME_CATEGORIES = (
    "市への要望額（協働事業負担金）",
    "自己資金",
    "参加費・利用料",
    "他の助成金・補助金",
    "寄付金・協賛金",
    "その他",
)
REQUEST_CATEGORY = INCOME_CATEGORIES[0]

EXPENSE_CATEGORIES = (
    "報償費（講師謝礼など）",
    "旅費・交通費",
    "消耗品費",
    "印刷製本費",
    "通信運搬費",
    "使用料及び賃借料",
    "保険料",
    "委託料",
    "備品購入費",
    "その他",
)


@dataclass(frozen=True)
class DeclarationItem:
    key: str
    text: str


DECLARATIONS: tuple[DeclarationItem, ...] = (
    DeclarationItem("not_religious_political", "宗教活動・政治活動・選挙活動を目的とした事業ではありません。"),
    DeclarationItem("no_organised_crime", "団体及びその役員は、暴力団又は暴力団員と関係がありません（暴力団排除）。"),
    DeclarationItem("no_unpaid_tax", "市税を滞納していません。"),
    DeclarationItem("lawful", "法令や公序良俗に反する事業ではありません。"),
    DeclarationItem("not_social_or_one_off", "団体内の親睦を目的とした事業や、単発のイベントではありません。"),
    DeclarationItem(
        "publication_consent",
        "事業名・採択時の団体名・審査の得点が公表されることに同意します。",
    ),
    DeclarationItem(
        "personal_data_purpose",
        "記入した個人情報が、本事業の審査・連絡・協定の締結のためにのみ利用されることを確認しました。",
    ),
)
DECLARATION_KEYS = tuple(item.key for item in DECLARATIONS)
