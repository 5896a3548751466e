"""Conflict-of-interest flags between reviewers' declared organisations and
the applicant groups. Pure Python: no app, no database."""
from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from portal.domain.anonymity.anonymise import GroupIdentity
from portal.domain.panel.conflicts import Affiliation, ConflictFlag, find_conflicts

GROUPS = {
    1: GroupIdentity(
        name="特定非営利活動法人みなと見守りの会",
        name_kana="とくていひえいりかつどうほうじん みなとみまもりのかい",
        representative_name="山田 花子",
        contact_name="佐藤 健一",
        officer_names=["鈴木 一郎", "髙橋 次郎"],
    ),
    2: GroupIdentity(name="中央地区自治会", name_kana="ちゅうおうちくじちかい", representative_name="田中 三郎"),
    3: GroupIdentity(name="みなと子ども食堂ネットワーク（みなこネット）", representative_name="中村 優子"),
    4: GroupIdentity(name="㈱ミナト企画", representative_name="小林 誠"),
}
MINATO = "特定非営利活動法人みなと見守りの会"


def conflicts(*organisations: str, names: dict[str, str] | None = None) -> list[tuple]:
    affiliations = [Affiliation(f"r{i}", org) for i, org in enumerate(organisations, start=1)]
    return [(f.reviewer_key, f.group_key, f.reason, f.confidence)
            for f in find_conflicts(affiliations, GROUPS, names or {})]


def test_same_group_written_differently():
    assert conflicts("ＮＰＯ法人みなと見守りの会") == [
        ("r1", 1, f"所属団体「ＮＰＯ法人みなと見守りの会」が応募団体「{MINATO}」の名称と一致", "high"),
    ]


def test_legal_form_width_spacing_and_kana_do_not_matter():
    for org in ("みなと見守りの会", "特定非営利活動法人　みなと見守りの会", "（特非）みなと・見守りの会",
                "ﾐﾅﾄ見守りの会", "認定NPO法人みなと見守りの会"):
        assert [(f[1], f[3]) for f in conflicts(org)] == [(1, "high")], org
    assert conflicts("ミナトミマモリノカイ") == [
        ("r1", 1, f"所属団体「ミナトミマモリノカイ」が応募団体「{MINATO}」の名称の別表記「みなとみまもりのかい」と一致",
         "high"),
    ]


def test_role_words_after_the_organisation_are_ignored():
    assert [(f[0], f[1], f[3]) for f in conflicts("NPO法人みなと見守りの会 理事", "みなと見守りの会・顧問")] == [
        ("r1", 1, "high"), ("r2", 1, "high"),
    ]
    assert conflicts("みなと見守りの会 理事")[0][2] == (
        f"所属団体「みなと見守りの会 理事」が応募団体「{MINATO}」の名称と一致"
    )


def test_chairperson_of_and_lists_of_organisations():
    assert [(f[1], f[3]) for f in conflicts("中央地区自治会長")] == [(2, "high")]
    assert [(f[1], f[3]) for f in conflicts("新潟大学、みなと見守りの会／中央地区自治会")] == [
        (1, "high"), (2, "high"),
    ]


def test_company_forms_match_each_other():
    assert conflicts("ミナト企画株式会社") == [
        ("r1", 4, "所属団体「ミナト企画株式会社」が応募団体「㈱ミナト企画」の名称と一致", "high"),
    ]


def test_declared_organisation_contains_the_group():
    assert conflicts("一般社団法人中央地区自治会連合会") == [
        ("r1", 2, "所属団体「一般社団法人中央地区自治会連合会」に応募団体「中央地区自治会」の名称「中央地区自治会」が含まれる",
         "high"),
    ]


def test_group_contains_the_declared_organisation_is_low():
    assert conflicts("見守りの会") == [
        ("r1", 1, f"応募団体「{MINATO}」の名称に所属団体「見守りの会」が含まれる", "low"),
    ]


def test_aliases_and_short_forms():
    assert conflicts("みなこネット", "みなと見守り") == [
        ("r1", 3, "所属団体「みなこネット」が応募団体「みなと子ども食堂ネットワーク（みなこネット）」の通称「みなこネット」と一致",
         "high"),
        ("r2", 1, f"所属団体「みなと見守り」が応募団体「{MINATO}」の名称の別表記「みなと見守り」と一致", "high"),
    ]


def test_generic_words_places_and_short_names_are_not_conflicts():
    assert conflicts(
        "自治会", "町内会", "ボランティア", "みなと市", "みなと市役所", "みなと市社会福祉協議会",
        "地域の茶の間", "みなと", "新潟大学", "", "   ",
    ) == []


def test_a_different_group_is_not_a_conflict():
    assert conflicts("みなと子育て支援の会", "NPO法人にいがた見守りネット") == []


def test_reviewer_is_an_officer_of_the_group():
    names = {"r1": "鈴木　一郎", "r2": "高橋 次郎", "r3": "山田花子", "r4": "山田 太郎", "r5": "中村"}
    assert conflicts(names=names) == [
        ("r1", 1, f"審査委員の氏名が応募団体「{MINATO}」の役員の氏名と一致", "high"),
        ("r2", 1, f"審査委員の氏名が応募団体「{MINATO}」の役員の氏名と一致", "high"),  # 髙橋 = 高橋
        ("r3", 1, f"審査委員の氏名が応募団体「{MINATO}」の代表者の氏名と一致", "high"),
    ]


def test_one_flag_per_reviewer_and_group_with_every_ground():
    affiliations = [
        Affiliation("r2", "中央地区自治会"),
        Affiliation("r1", "みなと見守り"),
        Affiliation("r1", "NPO法人みなと見守りの会"),
        Affiliation("r1", "NPO法人みなと見守りの会"),  # declared twice: one ground
        Affiliation("r1", "中央地区自治会"),
    ]
    flags = find_conflicts(affiliations, GROUPS, {"r2": "佐藤 健一"})
    assert [(f.reviewer_key, f.group_key, f.confidence) for f in flags] == [
        ("r1", 1, "high"), ("r1", 2, "high"), ("r2", 1, "high"), ("r2", 2, "high"),
    ]
    assert flags[0] == ConflictFlag(
        "r1", 1,
        f"所属団体「みなと見守り」が応募団体「{MINATO}」の名称の別表記「みなと見守り」と一致"
        f"／所属団体「NPO法人みなと見守りの会」が応募団体「{MINATO}」の名称と一致",
        "high",
    )
    assert flags[2].reason == f"審査委員の氏名が応募団体「{MINATO}」の連絡担当者の氏名と一致"


def test_a_low_ground_does_not_hide_a_high_one():
    flags = find_conflicts(
        [Affiliation("r1", "見守りの会"), Affiliation("r1", "みなと見守りの会")], GROUPS, {"r1": "山田 太郎"})
    assert [(f.group_key, f.confidence) for f in flags] == [(1, "high")]
    assert flags[0].reason == (
        f"所属団体「みなと見守りの会」が応募団体「{MINATO}」の名称と一致"
        f"／応募団体「{MINATO}」の名称に所属団体「見守りの会」が含まれる"
    )


def test_nothing_in_nothing_out():
    assert find_conflicts([], GROUPS, {}) == []
    assert find_conflicts([Affiliation("r1", "みなと見守りの会")], {}, {"r1": "山田 花子"}) == []


@settings(max_examples=150, deadline=None)
@given(st.text(max_size=60), st.text(max_size=20))
def test_never_raises(organisation, reviewer_name):
    flags = find_conflicts([Affiliation("r1", organisation)], GROUPS, {"r1": reviewer_name})
    assert all(f.confidence in ("high", "low") for f in flags)


@settings(max_examples=100, deadline=None)
@given(
    st.sampled_from(["", "ＮＰＯ法人", "特定非営利活動法人 ", "(特非)", "認定NPO法人"]),
    st.sampled_from(["", " 理事", "　顧問", "・会員"]),
    st.sampled_from(["みなと見守りの会", "ミナト見守りノ会", "ﾐﾅﾄ見守りの会", "みなと　見守りの会"]),
)
def test_any_writing_of_the_name_is_flagged_high(prefix, role, name):
    flags = find_conflicts([Affiliation("r1", prefix + name + role)], GROUPS, {})
    assert [(f.group_key, f.confidence) for f in flags] == [(1, "high")]


def test_a_reviewer_of_the_groups_registered_alias_is_flagged():
    """A group known by its 通称 (「わんパト」): a reviewer who declares that
    organisation is flagged, with the alias named in the reason."""
    from portal.domain.anonymity.anonymise import GroupIdentity
    from portal.domain.panel.conflicts import Affiliation, find_conflicts

    group = GroupIdentity(name="わんわんパトロール隊みなと", aliases=["わんパト"])
    flags = find_conflicts([Affiliation("r1", "わんパト"), Affiliation("r2", "みなと市社会福祉協議会")],
                           {"g": group}, {})
    assert [(f.reviewer_key, f.group_key) for f in flags] == [("r1", "g")]
    assert "通称「わんパト」" in flags[0].reason
