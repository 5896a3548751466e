"""Issue 14, item 1: the pieces of detection that reads like a person
(numbers, name cores, widening, place pointers). The corpus test runs them
together on written variants; these pin each piece. Pure Python."""
from __future__ import annotations

import pytest

from portal.domain.anonymity.anonymise import GroupIdentity, apply_redactions, find_identifiers
from portal.domain.anonymity.identity import fold_with_map, original_span
from portal.domain.anonymity.numbers import digit_view, kanji_number, phone_parts
from portal.domain.anonymity.pointers import city_stems, name_core
from portal.domain.anonymity.romaji import spellings
from portal.domain.anonymity.widen import widen


@pytest.mark.parametrize("run, digits", [
    ("〇二五", "025"), ("二十三", "23"), ("十", "10"), ("一〇", "10"), ("百五", "105"), ("三百二十一", "321"),
    ("千二百", "1200"), ("一二三四", "1234"),
])
def test_kanji_numbers(run, digits):
    assert kanji_number(run) == digits


def test_the_digit_view_points_back_to_the_original():
    text = "電話 〇二五ー二七一ー\n三三四四。一緒に統一して"
    view, spans = digit_view(*fold_with_map(text, keep_layout=True))
    assert "025-271-3344" in view and "一緒に統一" in view  # words stay words
    start = view.index("025")
    assert text[slice(*original_span(spans, start, start + len("025-271-3344")))] == "〇二五ー二七一ー\n三三四四"


def test_phone_parts():
    assert phone_parts("025-271-3344") == ("0252713344", "2713344")
    assert phone_parts("0252713344") == ("0252713344", "2713344")
    assert phone_parts("090-1234-5678") == ("09012345678", "")


def test_name_cores_drop_what_every_group_shares():
    assert city_stems("新潟県みなと市港南町3-5-8") == ["みなと"]
    assert name_core("わんわんパトロール隊みなと", ["みなと"]) == "わんわんぱとろーる"
    assert name_core("白浜の松林を守る会", ["みなと"]) == "白浜の松林"
    assert name_core("特定非営利活動法人子育てひろばみなと", ["みなと"]) == "子育てひろば"
    assert name_core("みなと市中央地区自治会", ["みなと"]) == "中央地区"


@pytest.mark.parametrize("text, part, whole", [
    ("私たちは地域の茶の間「わんわん」運営委員会として", "わんわん", "地域の茶の間「わんわん」運営委員会"),
    ("事業名「わんわんパトロール」で", "わんわんパトロール", "「わんわんパトロール」"),
    ("白浜海岸の清掃", "白浜", "白浜海岸"),
    ("松林を守る会として", "松林", "松林を守る会"),
    ("白浜の松林を守ります", "白浜", "白浜"),  # a verb ends it
])
def test_a_redaction_widens_to_the_proper_noun(text, part, whole):
    start = text.index(part)
    assert text[slice(*widen(text, start, start + len(part)))] == whole


def test_the_issues_own_failures_are_caught():
    """The cases issue 14 found reaching every reviewer."""
    wanwan = GroupIdentity(name="わんわんパトロール隊みなと", address="新潟県みなと市港南町三丁目5番8号",
                           phone="025-271-3344")
    text = ("電話は〇二五－二七一－三三四四です。拠点は港南町三丁目で、港南町三丁目バス停の近く。"
            "「わんわんパトロール」を続けます。")
    redacted = apply_redactions(text, find_identifiers({"t": text}, wanwan))
    for leak in ("〇二五", "三三四四", "港南町三丁目", "わんわん", "パトロール"):
        assert leak not in redacted, leak
    chanoma = GroupIdentity(name="地域の茶の間「わんわん」運営委員会")
    text = "地域の茶の間「わんわん」運営委員会が主催します。"
    assert apply_redactions(text, find_identifiers({"t": text}, chanoma)) == "＜団体名＞が主催します。"
    matsu = GroupIdentity(name="白浜の松林を守る会", address="みなと市白浜町12番地")
    text = "白浜町と白浜海岸で活動します。"
    flags = find_identifiers({"t": text}, matsu)
    assert [(f.text, f.confidence) for f in flags] == [("白浜町", "low"), ("白浜海岸", "low")]
    assert all("白浜" in f.reason for f in flags)
    hiroba = GroupIdentity(name="子育てひろばみなと", address="みなと市中央二丁目4番1号")
    text = "中央地区の子育てひろばとして活動しています。"
    assert [(f.text, f.confidence) for f in find_identifiers({"t": text}, hiroba)] == [
        ("中央地区の子育てひろば", "low")]


@pytest.mark.parametrize("kana, expected", [
    ("みなとみまもりのかい", ["minatomimamorinokai"]),
    ("しらはまのまつばやしをまもるかい", ["shirahamanomatsubayashiomamorukai", "sirahamanomatubayasiomamorukai"]),
    ("はっぴーきっちん", ["happiikitchin", "happikitchin", "happihkitchin", "happiikittin", "happikittin",
                        "happihkittin"]),
])
def test_romaji_spellings_of_a_reading(kana, expected):
    assert spellings(kana) == expected
    assert spellings("みなと見守り") == []  # kanji: readings are never guessed


def test_a_group_name_in_latin_letters_is_caught():
    """From the registered reading (ふりがな): Hepburn or kunrei, spaced,
    hyphenated or in capitals; the full name redacted, a shortened one flagged."""
    matsu = GroupIdentity(name="白浜の松林を守る会", name_kana="シラハマノマツバヤシヲマモルカイ")
    for written in ("Shirahama no Matsubayashi o Mamoru Kai", "SIRAHAMA-NO-MATUBAYASI-O-MAMORU-KAI",
                    "ｓｈｉｒａｈａｍａ ｎｏ ｍａｔｓｕｂａｙａｓｈｉ ｏ ｍａｍｏｒｕ ｋａｉ"):
        text = f"英語名は {written} です。"
        found = find_identifiers({"t": text}, matsu)
        assert [(f.text, f.confidence) for f in found] == [(written, "high")], written
        assert written not in apply_redactions(text, found)
    wanwan = GroupIdentity(name="わんわんパトロール隊みなと", name_kana="わんわんぱとろーるたいみなと",
                           address="新潟県みなと市港南町三丁目5番8号")
    text = "SNSでは Wanwan Patororu として発信しています。"
    assert [(f.text, f.confidence) for f in find_identifiers({"t": text}, wanwan)] == [("Wanwan Patororu", "low")]
    # Everyday Latin words and the place name alone are not names.
    plain = "Minato City の Kids Cafe と Patrol Team の活動を参考にします。"
    assert find_identifiers({"t": plain}, matsu) == [] and find_identifiers({"t": plain}, wanwan) == []


def test_a_persons_name_in_latin_letters_is_caught_from_the_reading_written_with_it():
    group = GroupIdentity(name="わんわんパトロール隊みなと", representative_name="小林 誠（こばやし まこと）",
                          contact_name="中村 由美")
    for written in ("Makoto Kobayashi", "KOBAYASHI Makoto", "Kobayasi Makoto"):
        text = f"代表の {written} が説明します。"
        found = find_identifiers({"t": text}, group)
        assert [(f.text, f.confidence) for f in found] == [(written, "high")], written
    # The family name alone is a pointer for the official, not a sure hit.
    flags = find_identifiers({"t": "担当は Kobayashi です。"}, group)
    assert [(f.text, f.confidence) for f in flags if "obayashi" in f.text] == [("Kobayashi", "low")]
