"""The other direction: what a reviewer's comment may reveal before it
reaches a group (審査結果の通知) or the public (講評).

:func:`scan_comment` flags names of people and organisations: the ones we
know (the reviewer's own name and affiliations, every panel member's, the
groups of the call and their people), and the ones that look like names
(a word with さん・氏・先生…, an organisation ending in 大学・病院・法人…).
Staff confirm a flagged comment or edit it; nothing here decides. Pure
Python, no Flask, no database.
"""
from __future__ import annotations

import re
from dataclasses import dataclass

from .identity import fold_with_map, original_span
from .urls import trie_pattern


@dataclass(frozen=True)
class CommentFlag:
    start: int
    end: int
    text: str
    reason: str


@dataclass(frozen=True)
class KnownName:
    name: str
    reason: str  # e.g. 審査委員の所属


_HONORIFIC = r"(?:さん|氏|様|さま|先生|教授|准教授|議員|会長|理事長|代表理事|代表|部長|課長|係長|所長|園長|校長|事務局長)"
# A person: two to six kanji (or a katakana name) right before an honorific.
_PERSON_RE = re.compile(
    rf"(?<![一-龥々ァ-ヴー])(?:[一-龥々]{{2,6}}|[ァ-ヴー]{{2,8}})[ 　]?(?:[一-龥々]{{1,4}})?{_HONORIFIC}"
    r"(?!会|者|団|様|方|者)")
_NOT_PEOPLE = frozenset(("皆様", "皆さん", "各位", "関係者", "参加者", "利用者", "みなさん", "委員長"))
_ORG_TAIL = (r"(?:大学院|大学|短期大学|高等学校|高校|中学校|小学校|幼稚園|保育園|病院|医院|クリニック|研究所|"
             r"株式会社|有限会社|法人|協会|財団|社団|組合|学会|新聞社|銀行|信用金庫|市役所|役場|省|庁|事務所|"
             r"商工会議所|会議所|商工会|社会福祉協議会|社協|"
             r"商事|工業|建設|製作所|ホールディングス)")
_ORG_HEAD = (r"(?:株式会社|有限会社|特定非営利活動法人|NPO法人|ＮＰＯ法人|一般社団法人|公益社団法人|一般財団法人|"
             r"公益財団法人|社会福祉法人|学校法人|医療法人)")
_ORG_RE = re.compile(
    # after a 法人格: the name's first word (kana, then kanji/katakana), not the sentence
    rf"{_ORG_HEAD}[ 　]?[ぁ-ゖ]{{0,8}}[一-龥々ァ-ヴーA-Za-zＡ-Ｚａ-ｚ0-9]{{1,12}}|"
    # a kana head only after punctuation or the start ('、みなと商工会議所'), not after a particle
    rf"(?<![一-龥々ァ-ヴーA-Za-zＡ-Ｚａ-ｚぁ-ゖ])[ぁ-ゖ]{{1,6}}[一-龥々ァ-ヴーA-Za-zＡ-Ｚａ-ｚ・]{{1,16}}?{_ORG_TAIL}|"
    rf"(?<![一-龥々ァ-ヴーA-Za-zＡ-Ｚａ-ｚ])[一-龥々ァ-ヴーA-Za-zＡ-Ｚａ-ｚ・]{{1,16}}?{_ORG_TAIL}")
# Generic institutions that name no one: 'the university', 'a hospital'.
_GENERIC_ORGS = frozenset(("大学", "病院", "学校", "小学校", "中学校", "高校", "市役所", "法人", "協会", "財団",
                           "組合", "事務所", "各大学", "地元大学", "他の大学", "近隣の小学校", "地域の病院"))


def scan_comment(text: str, known: list[KnownName]) -> list[CommentFlag]:
    """Every name of a person or organisation in ``text`` that staff should
    look at before the group or the public reads it, sorted by position;
    overlapping hits are one flag, with the known name's reason first."""
    hits: list[tuple[int, int, str, int]] = []  # start, end, reason, rank (0 = known)
    usable = {}
    for item in known:
        folded = fold_with_map(item.name or "")[0]
        if len(folded) >= 2:
            usable.setdefault(folded, item.reason)
    if usable:
        folded, spans = fold_with_map(text)
        regex = re.compile("(?=(" + trie_pattern(list(usable)) + "))")
        for match in regex.finditer(folded):
            start, end = original_span(spans, match.start(), match.start() + len(match.group(1)))
            hits.append((start, end, usable[match.group(1)], 0))
    for match in _PERSON_RE.finditer(text):
        if not any(match.group(0).startswith(word) for word in _NOT_PEOPLE):
            hits.append((match.start(), match.end(), "人名の可能性（敬称・役職つき）", 1))
    for match in _ORG_RE.finditer(text):
        if match.group(0) not in _GENERIC_ORGS:
            hits.append((match.start(), match.end(), "団体・組織名の可能性", 1))
    hits.sort(key=lambda h: (h[0], -h[1]))
    flags: list[CommentFlag] = []
    for start, end, reason, rank in hits:
        if flags and start < flags[-1].end:
            last = flags[-1]
            merged_end = max(last.end, end)
            keep_reason = last.reason if rank else reason
            flags[-1] = CommentFlag(last.start, merged_end, text[last.start:merged_end], keep_reason)
        else:
            flags.append(CommentFlag(start, end, text[start:end], reason))
    return flags
