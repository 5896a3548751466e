"""Conflicts of interest between reviewers (審査委員) and applicant groups.

Each reviewer declares the organisations they belong to or advise. We flag
likely conflicts for the secretariat to confirm; we never decide on our own.
Pure Python: no Flask, no database.
"""
from __future__ import annotations

import re
import unicodedata
from collections.abc import Hashable, Iterable, Mapping
from dataclasses import dataclass

from ..anonymity.anonymise import GroupIdentity
from ..anonymity.identity import (
    HIGH,
    LOW,
    MIN_VARIANT,
    Term,
    fold,
    group_name_terms,
    is_generic,
    person_name_terms,
    split_legal_form,
)


@dataclass(frozen=True)
class Affiliation:
    reviewer_key: str
    organisation: str  # as the reviewer wrote it, e.g. ＮＰＯ法人みなと見守りの会 理事


@dataclass(frozen=True)
class ConflictFlag:
    reviewer_key: str
    group_key: Hashable
    reason: str  # Japanese, for the secretariat (never shown to applicants or the public)
    confidence: str  # "high" or "low"


# What reviewers append to an organisation: their role in it.
_ROLE_SUFFIXES = tuple(sorted((
    "代表理事", "理事長", "副理事長", "理事", "監事", "会長", "副会長", "代表", "顧問", "相談役",
    "アドバイザー", "事務局長", "事務局", "会員", "正会員", "賛助会員", "職員", "委員", "委員長", "運営委員",
), key=len, reverse=True))


_LIST_SEPARATORS_RE = re.compile(r"[、,;；\n/]")


def _organisation_cores(organisation: str) -> set[str]:
    """Folded forms of a declared organisation without 法人格 or role words;
    a bracketed alias counts on its own, and so does each item of a list
    ('Aの会、B協会')."""
    cores = set()
    for part in _LIST_SEPARATORS_RE.split(unicodedata.normalize("NFKC", organisation or "")):
        text = _strip_role(part.strip())
        for term in group_name_terms(text):
            if term.source in ("name", "alias"):
                cores.add(term.folded)
        core = fold(split_legal_form(text)[0])
        if core:
            cores.add(core)  # even if generic: an exact match with a group still counts
    return cores


def _strip_role(text: str) -> str:
    """'みなと見守りの会 理事' -> 'みなと見守りの会'; '中央地区自治会長' -> '中央地区自治会'."""
    if text.endswith("会長") and not text.endswith("副会長") and text[-3:-2] not in " ・":
        return text[:-1]
    for role in _ROLE_SUFFIXES:
        stripped = text.removesuffix(role).rstrip(" ・")
        if stripped != text and fold(stripped):
            return stripped
    return text


def _group_label(identity: GroupIdentity) -> str:
    return (identity.name or "").strip() or "（名称未登録）"


def _name_terms(identity: GroupIdentity) -> list[Term]:
    """The group's name as written, read and shortened, and its registered
    通称・略称 (a reviewer may belong to 「わんパト」 by that name)."""
    terms = [t for t in group_name_terms(identity.name, identity.name_kana) if t.source != "legal"]
    seen = {t.folded for t in terms}
    for alias in identity.aliases:
        for term in group_name_terms(alias):
            if term.source != "legal" and term.folded not in seen:
                seen.add(term.folded)
                terms.append(Term(term.text, term.folded, term.confidence, "alias"))
    return terms


def _org_flag(org: str, cores: set[str], identity: GroupIdentity, terms: list[Term]) -> tuple[str, str] | None:
    """The strongest (reason, confidence) for one declared organisation
    against one group, or None: equal names first, then the organisation's
    name containing the group's, then the group's containing the organisation's."""
    label = _group_label(identity)
    found: list[tuple[tuple, str, str]] = []  # (rank, reason, confidence)
    for core in cores:
        for term in terms:
            rank = (term.confidence == HIGH, term.source == "name", len(term.folded))
            if core == term.folded:
                what = ("名称" if term.source == "name" else f"通称「{term.text}」" if term.source == "alias"
                        else f"名称の別表記「{term.text}」")
                found.append(((3, *rank), f"所属団体「{org}」が応募団体「{label}」の{what}と一致",
                              term.confidence))
            elif term.folded in core and len(term.folded) >= MIN_VARIANT:
                found.append(((2, *rank), f"所属団体「{org}」に応募団体「{label}」の名称「{term.text}」が含まれる",
                              term.confidence))
            elif core in term.folded and len(core) > MIN_VARIANT and not is_generic(core):
                found.append(((1, *rank), f"応募団体「{label}」の名称に所属団体「{org}」が含まれる", LOW))
    if not found:
        return None
    _, reason, confidence = max(found, key=lambda item: (item[2] == HIGH, item[0], item[1]))
    return reason, confidence


def _person_flags(reviewer_name: str, identity: GroupIdentity) -> list[tuple[str, str]]:
    names = {t.folded for t in person_name_terms(reviewer_name) if len(t.folded) >= 2}
    if not names:
        return []
    label = _group_label(identity)
    roles = [("代表者", identity.representative_name), ("連絡担当者", identity.contact_name)]
    roles += [("役員", officer) for officer in identity.officer_names]
    flags = []
    for role, person in roles:
        if names & {t.folded for t in person_name_terms(person)}:
            flags.append((f"審査委員の氏名が応募団体「{label}」の{role}の氏名と一致", HIGH))
    return flags


def find_conflicts(
    affiliations: Iterable[Affiliation],
    groups: Mapping[Hashable, GroupIdentity],
    reviewer_names: Mapping[str, str],
) -> list[ConflictFlag]:
    """Likely conflicts: at most one flag per (reviewer, group), so staff
    confirm each pair once. Its reason lists every ground found (strongest
    first, joined by '／'); its confidence is the strongest one's. Sorted by
    reviewer, then group."""
    grounds: dict[tuple, list[tuple[str, str]]] = {}  # (reviewer, group) -> [(reason, confidence)]
    group_terms = {key: _name_terms(identity) for key, identity in groups.items()}

    def add(reviewer: str, group_key: Hashable, reason: str, confidence: str) -> None:
        found = grounds.setdefault((reviewer, group_key), [])
        if all(reason != r for r, _ in found):
            found.append((reason, confidence))

    for affiliation in affiliations:
        org = (affiliation.organisation or "").strip()
        cores = _organisation_cores(org)
        if not cores:
            continue
        for group_key, identity in groups.items():
            result = _org_flag(org, cores, identity, group_terms[group_key])
            if result:
                add(affiliation.reviewer_key, group_key, *result)
    for reviewer, name in reviewer_names.items():
        for group_key, identity in groups.items():
            for reason, confidence in _person_flags(name, identity):
                add(reviewer, group_key, reason, confidence)

    flags = []
    for (reviewer, group_key), found in grounds.items():
        found.sort(key=lambda item: item[1] != HIGH)  # stable: declaration order within a level
        flags.append(ConflictFlag(reviewer, group_key, "／".join(r for r, _ in found), found[0][1]))
    return sorted(flags, key=lambda f: (str(f.reviewer_key), str(f.group_key)))
