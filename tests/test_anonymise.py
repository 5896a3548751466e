"""Anonymisation core: what identifies a group in reviewer-visible text, and
how confirmed findings are redacted. Pure Python: no app, no database."""
from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from portal.domain.anonymity.anonymise import (
    ADDRESS,
    EMAIL,
    EXTRA_TERM,
    GROUP_NAME,
    PERSON,
    PHONE,
    PLACE,
    POSTAL_CODE,
    SNS,
    URL,
    Finding,
    GroupIdentity,
    StaleFindingError,
    apply_redactions,
    find_identifiers,
    redact_fields,
)
from portal.domain.anonymity.identity import (
    fold,
    fold_with_map,
    group_name_terms,
    name_variants,
    original_span,
    person_name_terms,
    person_variants,
    split_legal_form,
)

MINATO = GroupIdentity(
    name="特定非営利活動法人みなと見守りの会",
    name_kana="とくていひえいりかつどうほうじん　みなとみまもりのかい",
    representative_name="山田 花子",
    contact_name="佐藤　健一",
    officer_names=["鈴木 一郎", "林 美咲", "髙橋 次郎"],
    postal_code="950-0001",
    address="新潟県みなと市中央一丁目2番3号 みなとビル201",
    phone="025-223-4567",
    emails=["info@minato-mimamori.jp"],
    website="https://www.minato-mimamori.jp/",
    extra_terms=["見守りカフェ「ひだまり」"],
)


def span(text: str, part: str, nth: int = 0) -> tuple[int, int]:
    start = -1
    for _ in range(nth + 1):
        start = text.index(part, start + 1)
    return start, start + len(part)


def found(text: str, identity: GroupIdentity = MINATO, **kwargs) -> list[tuple[int, int, str, str, str]]:
    """(start, end, text, kind, confidence) of every finding in one field."""
    return [(f.start, f.end, f.text, f.kind, f.confidence)
            for f in find_identifiers({"body": text}, identity, **kwargs)]


def redact_all(text: str, identity: GroupIdentity = MINATO, **kwargs) -> str:
    return apply_redactions(text, find_identifiers({"body": text}, identity, **kwargs))


# --- fold ------------------------------------------------------------------

@pytest.mark.parametrize("raw, folded", [
    ("ＮＰＯ法人", "npo法人"),
    ("ミナトミマモリノカイ", "みなとみまもりのかい"),
    ("ﾐﾅﾄﾐﾏﾓﾘﾉｶｲ", "みなとみまもりのかい"),
    ("ｶﾞｲﾄﾞﾌﾞｯｸ", "がいどぶっく"),
    ("みなと　見守り の\n会", "みなと見守りの会"),
    ("みなと・見守り･の会", "みなと見守りの会"),
    ("みなと‐ネット－ワーク", "みなとねっとわーく"),
    ("センター", "せんたー"),  # the long vowel mark stays
    ("髙橋 﨑子", "高橋崎子"),
    ("桜ヶ丘", "桜け丘"),
    ("㈱ミナト", "(株)みなと"),
    ("０２５ー２２３ー４５６７", "0252234567"),
])
def test_fold(raw, folded):
    assert fold(raw) == folded


def test_fold_keep_layout_keeps_spaces_and_dashes():
    assert fold_with_map("０２５ー２２３－４５６７　中央１ー２", keep_layout=True)[0] == "025-223-4567 中央1-2"


def test_fold_map_points_back_to_the_original():
    text = "ＮＰＯ法人　ｶﾞｲﾄﾞ会"
    folded, spans = fold_with_map(text)
    assert folded == "npo法人がいど会"
    assert spans[5] == (6, 8)  # が came from ｶﾞ
    start = folded.index("がいど")
    assert original_span(spans, start, start + 3) == (6, 11)
    assert text[6:11] == "ｶﾞｲﾄﾞ"


# --- name variants ------------------------------------------------------------

def test_split_legal_form_prefix_and_suffix():
    assert split_legal_form("ＮＰＯ法人　みなと見守りの会")[0] == "みなと見守りの会"
    assert split_legal_form("ミナト企画株式会社")[0] == "ミナト企画"
    assert split_legal_form("㈱ミナト企画")[0] == "ミナト企画"
    assert split_legal_form("（一社）地域の茶の間みなと")[0] == "地域の茶の間みなと"
    assert split_legal_form("株式会社")[0] == "株式会社"  # nothing left: keep it
    assert split_legal_form("みなと見守りの会")[1] is None


def test_name_variants_of_an_npo():
    variants = name_variants(MINATO.name, MINATO.name_kana)
    assert {
        "みなと見守りの会", "特定非営利活動法人みなと見守りの会", "NPO法人みなと見守りの会",
        "(特非)みなと見守りの会", "認定NPO法人みなと見守りの会", "みなと見守りの会NPO法人",
        "みなとみまもりのかい", "みなと見守り",
    } <= variants
    assert all(len(fold(v)) >= 3 for v in variants)
    assert "みなと" not in variants and "見守り" not in variants


def test_name_variants_never_generic_words_alone():
    variants = name_variants("中央地区自治会", "ちゅうおうちくじちかい")
    assert "中央地区自治会" in variants
    assert not {"自治会", "中央地区自治", "中央地区", "ちゅうおうちくじち"} & variants
    assert name_variants("自治会") == set()
    assert name_variants("ボランティア") == set()
    # not "みなと" (nor "minato"): the name in Latin letters is whole or nothing
    assert name_variants("みなとの会", "みなとのかい") == {"みなとの会", "みなとのかい", "minatonokai"}


def test_name_variants_bracketed_alias_and_company_forms():
    variants = name_variants("みなと子ども食堂ネットワーク（みなこネット）")
    assert {"みなと子ども食堂ネットワーク", "みなこネット", "みなと子ども食堂"} <= variants
    company = name_variants("㈱ミナト企画")
    assert {"ミナト企画", "株式会社ミナト企画", "ミナト企画株式会社", "(株)ミナト企画", "ミナト企画(株)"} <= company


def test_short_forms_are_marked_by_confidence():
    terms = {t.text: t for t in group_name_terms(MINATO.name, MINATO.name_kana)}
    assert terms["みなと見守りの会"].confidence == "high"
    assert terms["みなと見守り"].source == "short"
    assert terms["みなとみまもり"].confidence == "low"


def test_person_variants():
    assert person_variants("山田 花子") == {"山田花子", "山田 花子", "山田\u3000花子"}
    assert person_variants("山田　花子", include_family=True) == {"山田花子", "山田 花子", "山田\u3000花子", "山田"}
    assert "林" not in person_variants("林 美咲", include_family=True)  # one character: never alone
    family = [t for t in person_name_terms("山田 花子", include_family=True) if t.source == "family"]
    assert [(t.text, t.confidence) for t in family] == [("山田", "low")]
    assert person_variants("山田花子", include_family=True) == {"山田花子"}  # no space: no way to split


# --- group names in running text ---------------------------------------------------

def test_the_group_name_in_every_form():
    text = ("ＮＰＯ法人　みなと見守りの会は2015年に設立しました。"
            "みなと見守りの会の会員は40名です。ミナトミマモリノカイ、ﾐﾅﾄﾐﾏﾓﾘﾉｶｲとも表記します。"
            "（特非）みなと見守りの会として、特定非営利活動法人みなと見守りの会の定款に基づき、"
            "みなと見守りとして活動します。")
    expected = [
        (*span(text, "ＮＰＯ法人　みなと見守りの会"), "ＮＰＯ法人　みなと見守りの会", GROUP_NAME, "high"),
        (*span(text, "みなと見守りの会", 1), "みなと見守りの会", GROUP_NAME, "high"),
        (*span(text, "ミナトミマモリノカイ"), "ミナトミマモリノカイ", GROUP_NAME, "high"),
        (*span(text, "ﾐﾅﾄﾐﾏﾓﾘﾉｶｲ"), "ﾐﾅﾄﾐﾏﾓﾘﾉｶｲ", GROUP_NAME, "high"),
        (*span(text, "（特非）みなと見守りの会"), "（特非）みなと見守りの会", GROUP_NAME, "high"),
        (*span(text, "特定非営利活動法人みなと見守りの会"), "特定非営利活動法人みなと見守りの会", GROUP_NAME, "high"),
        (*span(text, "みなと見守り", 4), "みなと見守り", GROUP_NAME, "high"),
    ]
    assert found(text) == expected
    assert redact_all(text) == (
        "＜団体名＞は2015年に設立しました。＜団体名＞の会員は40名です。＜団体名＞、＜団体名＞とも表記します。"
        "＜団体名＞として、＜団体名＞の定款に基づき、＜団体名＞として活動します。"
    )


def test_the_name_split_across_lines_in_an_attachment():
    text = "活動報告書\n特定非営利活動法人 みなと見守り\nの会 理事会"
    findings = find_identifiers({"file:12": text}, MINATO)
    assert [(f.field, f.text, f.kind) for f in findings] == [
        ("file:12", "特定非営利活動法人 みなと見守り\nの会", GROUP_NAME)
    ]
    assert apply_redactions(text, findings) == "活動報告書\n＜団体名＞ 理事会"


def test_company_name_in_all_its_forms():
    company = GroupIdentity(name="㈱ミナト企画")
    text = "株式会社ミナト企画、ミナト企画株式会社、(株)ミナト企画、㈱ミナト企画、ﾐﾅﾄ企画（株）"
    assert redact_all(text, company) == "＜団体名＞、＜団体名＞、＜団体名＞、＜団体名＞、＜団体名＞"


def test_ascii_names_respect_word_boundaries():
    kids = GroupIdentity(name="ABC Kids")
    assert found("ＡＢＣ　Ｋｉｄｓの活動", kids) == [(0, 8, "ＡＢＣ　Ｋｉｄｓ", GROUP_NAME, "high")]
    assert found("xABC Kidsplus", kids) == []


# --- things that must NOT be flagged ----------------------------------------------

@pytest.mark.parametrize("text", [
    "みなと市は人口12万人のまちです。",
    "みなと市の自治会や町内会、地域の茶の間と協議会をつくり、ボランティアを募ります。",
    "高齢者の見守り活動は地域にとって大切です。見守りの担い手を増やします。",
    "事業費は200,000円、うち市への要望額は150,000円、自己資金は1,050,000円です。",
    "期間は2026-07-01から2027-03-31まで、2026/07/01 10:00-12:00に開始します。",
    "参加者は123-4567人ではなく、会員番号 012-3456 を使います。",
    "提案書.pdf と収支予算書.xlsx を添付します。Ver1.2 の様式です。",
    "林さんが話していました。",  # a one-character family name is never searched alone
])
def test_ordinary_text_is_left_alone(text):
    assert found(text) == []


def test_another_groups_generic_words_do_not_match():
    tea_room = GroupIdentity(name="一般社団法人 地域の茶の間みなと")
    text = "地域の茶の間を開きます。地域の茶の間みなととして運営します。"
    assert found(text, tea_room) == [(*span(text, "地域の茶の間みなと"), "地域の茶の間みなと", GROUP_NAME, "high")]


# --- people --------------------------------------------------------------------

def test_people_and_family_names():
    text = "代表の山田 花子と事務局の佐藤健一が担当し、理事の鈴木　一郎、高橋次郎も参加します。山田が報告します。"
    assert found(text) == [
        (*span(text, "山田 花子"), "山田 花子", PERSON, "high"),
        (*span(text, "佐藤健一"), "佐藤健一", PERSON, "high"),
        (*span(text, "鈴木　一郎"), "鈴木　一郎", PERSON, "high"),
        (*span(text, "高橋次郎"), "高橋次郎", PERSON, "high"),  # registered as 髙橋
        (*span(text, "山田", 1), "山田", PERSON, "low"),
    ]
    assert redact_all(text) == (
        "代表の＜氏名＞と事務局の＜氏名＞が担当し、理事の＜氏名＞、＜氏名＞も参加します。＜氏名＞が報告します。"
    )


def test_family_names_only_when_asked():
    text = "代表の山田が報告します。"
    assert found(text, family_names=False) == []
    assert found(text) == [(3, 5, "山田", PERSON, "low")]


# --- phone numbers ---------------------------------------------------------------

@pytest.mark.parametrize("phone, confidence", [
    ("025-223-4567", "high"),
    ("０２５－２２３－４５６７", "high"),
    ("０２５ー２２３ー４５６７", "high"),
    ("(025)223-4567", "high"),
    ("（０２５）２２３－４５６７", "high"),
    ("025(223)4567", "high"),
    ("+81-25-223-4567", "high"),
    ("+81 (0)25 223 4567", "high"),
    ("0252234567", "high"),  # the group's own number, however written
    ("025 223 4567", "high"),
    ("090-1234-5678", "high"),
    ("０９０１２３４５６７８", "high"),  # a bare run of digits, but after 連絡先
    ("0120-123-456", "high"),
    ("03-1234-5678", "high"),
])
def test_phone_numbers(phone, confidence):
    text = f"連絡先：{phone}（平日）"
    assert found(text) == [(4, 4 + len(phone), phone, PHONE, confidence)]
    assert redact_all(text) == "連絡先：＜電話番号＞（平日）"


def test_a_phone_number_in_brackets_keeps_the_brackets():
    text = "市民協働課（025-226-1234）と(090-1234-5678)に相談しました。"
    assert [f[2] for f in found(text)] == ["025-226-1234", "090-1234-5678"]
    assert redact_all(text) == "市民協働課（＜電話番号＞）と(＜電話番号＞)に相談しました。"


@pytest.mark.parametrize("text", [
    "0252-23-4567-8 は電話番号ではない",
    "電話 025-223 のみ",
    "0012345678",
    "口座番号 1234567890",
])
def test_not_phone_numbers(text):
    assert [f for f in found(text) if f[3] == PHONE] == []


# --- postal codes, addresses ----------------------------------------------------------

def test_postal_codes():
    text = ("〒950-0001、〒９５０－０００１、郵便番号：951-8550、"
            "951-8550 新潟県新潟市、9500001、123-4567件")
    assert found(text) == [
        (*span(text, "〒950-0001"), "〒950-0001", POSTAL_CODE, "high"),
        (*span(text, "〒９５０－０００１"), "〒９５０－０００１", POSTAL_CODE, "high"),
        (*span(text, "951-8550"), "951-8550", POSTAL_CODE, "high"),
        (*span(text, "951-8550", 1), "951-8550", POSTAL_CODE, "high"),
        (*span(text, "9500001"), "9500001", POSTAL_CODE, "high"),  # the group's own code
    ]


@pytest.mark.parametrize("address", [
    "中央1-2-3", "中央一丁目2番3号", "中央１丁目２－３", "中央1ー2ー3", "中央1丁目2番地3",
    "中央 1-2", "中央一丁目二番三号",
])
def test_the_groups_street_address(address):
    text = f"事務所はみなと市{address}にあります。"
    assert found(text) == [(8, 8 + len(address), address, ADDRESS, "high")]
    assert redact_all(text) == "事務所はみなと市＜住所＞にあります。"


def test_other_addresses_and_the_town_alone_are_pointers_not_sure_hits():
    text = "会場はみなと市中央4-5-6の中央公民館、みなと市中央2-20-3の集会所です。みなと市中央で活動します。"
    hits = found(text)
    assert [(f[2], f[3], f[4]) for f in hits] == [
        ("中央", PLACE, "low"), ("中央公民館", PLACE, "low"), ("中央", PLACE, "low"), ("中央", PLACE, "low"),
    ]


def test_the_town_with_its_chome_is_the_groups_address():
    text = "令和8年7月1日（水）に中央公民館で説明会を開きます。中央1丁目の集会所も使います。中央一丁目バス停の前です。"
    assert [(f[2], f[3], f[4]) for f in found(text)] == [
        ("中央公民館", PLACE, "low"), ("中央1丁目", ADDRESS, "high"), ("中央一丁目バス停", ADDRESS, "high"),
    ]


def test_building_name_is_a_low_confidence_hint():
    text = "〒950-0001 新潟県みなと市中央1-2-3 みなとビル2階"
    assert found(text) == [
        (0, 9, "〒950-0001", POSTAL_CODE, "high"),
        (*span(text, "中央1-2-3"), "中央1-2-3", ADDRESS, "high"),
        (*span(text, "みなとビル"), "みなとビル", ADDRESS, "low"),
    ]
    assert redact_all(text) == "＜郵便番号＞ 新潟県みなと市＜住所＞ ＜住所＞2階"


def test_rural_address_with_aza():
    rural = GroupIdentity(name="山田川端の水を守る会", address="みなと市大字山田字川端123番地")
    text = "拠点は山田字川端123番地、旧住所表記では大字山田字川端123です。山田川端１２３番地とも。"
    assert [f[2] for f in found(text, rural)] == ["山田字川端123番地", "大字山田字川端123", "山田川端１２３番地"]


# --- e-mail and URLs ------------------------------------------------------------------

def test_email_addresses():
    text = ("info@minato-mimamori.jp、ｙａｍａｄａ＠ｅｘａｍｐｌｅ．ｃｏ．ｊｐ、"
            "info[at]minato-mimamori.jp、hanako★example.ne.jp まで")
    assert [(f[2], f[3]) for f in found(text)] == [
        ("info@minato-mimamori.jp", EMAIL),
        ("ｙａｍａｄａ＠ｅｘａｍｐｌｅ．ｃｏ．ｊｐ", EMAIL),
        ("info[at]minato-mimamori.jp", EMAIL),
        ("hanako★example.ne.jp", EMAIL),
    ]
    assert redact_all(text) == "＜メールアドレス＞、＜メールアドレス＞、＜メールアドレス＞、＜メールアドレス＞ まで"


def test_urls_and_domains():
    text = ("詳しくは https://www.minato-mimamori.jp/about。"
            "（https://example.jp/page）、www.minato-mimamori.jp、minato-npo.org、"
            "Instagram（@minato_mimamori）もご覧ください。")
    assert [(f[2], f[3], f[4]) for f in found(text)] == [
        ("https://www.minato-mimamori.jp/about", URL, "high"),
        ("https://example.jp/page", URL, "low"),
        ("www.minato-mimamori.jp", URL, "high"),
        ("minato-npo.org", URL, "low"),
        ("@minato_mimamori", SNS, "high"),
    ]
    assert redact_all(text) == (
        "詳しくは ＜URL＞。（＜URL＞）、＜URL＞、＜URL＞、Instagram（＜SNSアカウント＞）もご覧ください。"
    )


def test_own_addresses_are_high_even_when_written_oddly():
    text = "info ＠ minato-mimamori.jp、ｍｉｎａｔｏ－ｍｉｍａｍｏｒｉ．ｊｐ、mail.minato-mimamori.jp"
    assert [(f[2], f[3], f[4]) for f in found(text)] == [
        ("info ＠ minato-mimamori.jp", EMAIL, "high"),
        ("ｍｉｎａｔｏ－ｍｉｍａｍｏｒｉ．ｊｐ", URL, "high"),
        ("mail.minato-mimamori.jp", URL, "high"),
    ]


def test_a_page_on_a_shared_platform_is_own_only_by_its_path():
    identity = GroupIdentity(name="みなと見守りの会", website="https://www.facebook.com/minato.mimamori/",
                             emails=["minato.mimamori@gmail.com"])
    text = "https://www.facebook.com/minato.mimamori/posts/1 と https://facebook.com/other と facebook.com"
    assert [(f[2], f[4]) for f in found(text, identity)] == [
        ("https://www.facebook.com/minato.mimamori/posts/1", "high"),
        ("https://facebook.com/other", "low"),
        ("facebook.com", "low"),
    ]


# --- extra terms, overlaps, several fields ---------------------------------------------

def test_extra_terms_added_by_staff():
    text = "毎月、見守りカフェ「ひだまり」を開いています。ミマモリカフェ「ヒダマリ」も同じです。"
    assert found(text) == [
        (*span(text, "見守りカフェ「ひだまり」"), "見守りカフェ「ひだまり」", EXTRA_TERM, "high"),
    ]
    assert redact_all(text).startswith("毎月、＜伏字＞を開いています。")


def test_overlapping_findings_merge_into_their_union():
    identity = GroupIdentity(name="みなと見守りの会", extra_terms=["見守りの会中央支部"])
    text = "みなと見守りの会中央支部が担当します。"
    # The name widens to the noun it sits in, so both cover the same span; the name names it.
    assert found(text, identity) == [(0, 12, "みなと見守りの会中央支部", GROUP_NAME, "high")]
    assert redact_all(text, identity) == "＜団体名＞が担当します。"


def test_findings_are_sorted_by_field_then_start():
    fields = {
        "purpose": "みなと見守りの会は、山田花子が代表です。",
        "background": "連絡は025-223-4567、みなと見守りの会まで。",
        "title": "見守り事業",
    }
    findings = find_identifiers(fields, MINATO)
    assert [(f.field, f.start, f.kind) for f in findings] == [
        ("background", 3, PHONE), ("background", 16, GROUP_NAME),
        ("purpose", 0, GROUP_NAME), ("purpose", 10, PERSON),
    ]
    assert redact_fields(fields, findings) == {
        "purpose": "＜団体名＞は、＜氏名＞が代表です。",
        "background": "連絡は＜電話番号＞、＜団体名＞まで。",
        "title": "見守り事業",
    }


def test_a_full_proposal_paragraph():
    text = (
        "ＮＰＯ法人みなと見守りの会（代表：山田花子）は、みなと市中央地区で高齢者の見守りを続けてきました。"
        "事務所は〒９５０－０００１ みなと市中央一丁目２番３号にあり、電話は０２５（２２３）４５６７です。"
        "事業費は200,000円、期間は2026-07-01から。地域の茶の間や自治会と連携します。"
        "詳しくは https://www.minato-mimamori.jp/ または info@minato-mimamori.jp へ。"
    )
    assert redact_all(text) == (
        "＜団体名＞（代表：＜氏名＞）は、みなと市＜場所＞で高齢者の見守りを続けてきました。"
        "事務所は＜郵便番号＞ みなと市＜住所＞にあり、電話は＜電話番号＞です。"
        "事業費は200,000円、期間は2026-07-01から。地域の茶の間や自治会と連携します。"
        "詳しくは ＜URL＞ または ＜メールアドレス＞ へ。"
    )


def test_an_empty_identity_still_finds_contact_patterns():
    text = "みなと見守りの会 025-223-4567 info@example.jp"
    assert [f[3] for f in found(text, GroupIdentity())] == [PHONE, EMAIL]
    assert find_identifiers({"a": "", "b": "普通の文章です。"}, GroupIdentity()) == []


# --- apply_redactions ---------------------------------------------------------------

def test_apply_redactions_uses_only_what_it_is_given():
    text = "山田花子と佐藤健一"
    findings = find_identifiers({"x": text}, MINATO)
    assert apply_redactions(text, findings[1:]) == "山田花子と＜氏名＞"
    assert apply_redactions(text, []) == text


def test_apply_redactions_merges_overlapping_input():
    text = "abcdefgh"
    findings = [Finding("x", 1, 4, "bcd", URL, "＜URL＞", "high"),
                Finding("x", 3, 6, "def", EMAIL, "＜メールアドレス＞", "high")]
    assert apply_redactions(text, findings) == "a＜URL＞gh"


def test_apply_redactions_refuses_stale_findings():
    findings = find_identifiers({"x": "代表は山田花子です。"}, MINATO)
    with pytest.raises(StaleFindingError):
        apply_redactions("代表は山田太郎です。", findings)
    with pytest.raises(StaleFindingError):
        apply_redactions("短い", findings)


# --- properties -------------------------------------------------------------------------

NAME_FORMS = [
    "みなと見守りの会", "ＮＰＯ法人　みなと見守りの会", "ミナトミマモリノカイ", "ﾐﾅﾄﾐﾏﾓﾘﾉｶｲ",
    "特定非営利活動法人みなと見守りの会", "みなと 見守り の会", "山田花子", "山田　花子", "佐藤健一",
    "ｽｽﾞｷ", "鈴木 一郎", "みなと見守り",
]
FILLER = st.text(
    alphabet=st.sampled_from(list("あいうえおかのみなと見守会市区町　 \n-ー・0123456789０１２ABCabc@.ﾐﾅﾄｶﾞﾞﾟ〒（）\u3099")),
    max_size=30,
)
PROPERTY_SETTINGS = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@PROPERTY_SETTINGS
@given(st.text(max_size=300))
def test_never_raises_and_spans_slice_back(text):
    findings = find_identifiers({"body": text}, MINATO)
    previous_end = -1
    for f in findings:
        assert 0 <= f.start < f.end <= len(text)
        assert text[f.start:f.end] == f.text
        assert f.start >= previous_end  # merged: no overlaps, sorted
        previous_end = f.end
    apply_redactions(text, findings)


@PROPERTY_SETTINGS
@given(st.lists(st.one_of(FILLER, st.sampled_from(NAME_FORMS)), max_size=12))
def test_redacting_every_finding_leaves_no_name_behind(parts):
    text = "".join(parts)
    redacted = redact_all(text)
    for f in find_identifiers({"body": redacted}, MINATO):
        assert f.kind not in (GROUP_NAME, PERSON), (text, redacted, f)
    folded = fold(redacted)
    for term in group_name_terms(MINATO.name, MINATO.name_kana):
        assert term.folded not in folded
    for person in ("山田花子", "佐藤健一", "鈴木一郎"):
        assert person not in folded


IDENTITY_TEXT = st.text(max_size=40)


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    st.builds(
        GroupIdentity,
        name=IDENTITY_TEXT, name_kana=IDENTITY_TEXT, representative_name=IDENTITY_TEXT,
        contact_name=IDENTITY_TEXT, officer_names=st.lists(IDENTITY_TEXT, max_size=3),
        postal_code=IDENTITY_TEXT, address=IDENTITY_TEXT, phone=IDENTITY_TEXT,
        emails=st.lists(IDENTITY_TEXT, max_size=2), website=IDENTITY_TEXT,
        extra_terms=st.lists(IDENTITY_TEXT, max_size=3),
    ),
    st.text(max_size=200),
)
def test_any_identity_on_any_text(identity, text):
    findings = find_identifiers({"body": text}, identity)
    assert all(text[f.start:f.end] == f.text for f in findings)
    apply_redactions(text, findings)


def test_very_long_staff_terms_are_fine():
    term = "みなと" * 700
    identity = GroupIdentity(name="みなと見守りの会", extra_terms=[term, "x" * 2000])
    assert found("前" + term + "後", identity) == [(1, 2101, term, EXTRA_TERM, "high")]
