"""What the scan reports: the kinds of identifying text, their marks, the
group's identity it looks for, and one finding. Pure Python."""
from __future__ import annotations

import dataclasses
from dataclasses import dataclass

from .identity import HIGH, LOW

GROUP_NAME = "group_name"
PERSON = "person"
ADDRESS = "address"
PLACE = "place"  # a facility or place name: the group's base, or near it
POSTAL_CODE = "postal_code"
PHONE = "phone"
EMAIL = "email"
URL = "url"
SNS = "sns"  # @handles, LINE IDs
EXTRA_TERM = "extra_term"

REPLACEMENTS = {
    GROUP_NAME: "＜団体名＞",
    PERSON: "＜氏名＞",
    ADDRESS: "＜住所＞",
    PLACE: "＜場所＞",
    POSTAL_CODE: "＜郵便番号＞",
    PHONE: "＜電話番号＞",
    EMAIL: "＜メールアドレス＞",
    URL: "＜URL＞",
    SNS: "＜SNSアカウント＞",
    EXTRA_TERM: "＜伏字＞",
}
KIND_LABELS = {
    GROUP_NAME: "団体名", PERSON: "氏名", ADDRESS: "住所", PLACE: "場所・施設", POSTAL_CODE: "郵便番号",
    PHONE: "電話番号", EMAIL: "メールアドレス", URL: "URL", SNS: "SNSアカウント", EXTRA_TERM: "追加語句",
}
# Ties between overlapping findings (after confidence and length).
KIND_RANK = {GROUP_NAME: 0, PERSON: 1, EMAIL: 2, URL: 3, SNS: 4, PHONE: 5, POSTAL_CODE: 6, ADDRESS: 7,
             PLACE: 8, EXTRA_TERM: 9}
CONFIDENCE_RANK = {HIGH: 1, LOW: 0}

__all__ = ["HIGH", "LOW"]


@dataclass
class GroupIdentity:
    """What identifies one applicant group (from 団体概要, 役員名簿 and staff)."""
    name: str = ""
    name_kana: str = ""
    representative_name: str = ""
    contact_name: str = ""
    officer_names: list[str] = dataclasses.field(default_factory=list)
    postal_code: str = ""
    address: str = ""
    phone: str = ""
    emails: list[str] = dataclasses.field(default_factory=list)
    website: str = ""
    extra_terms: list[str] = dataclasses.field(default_factory=list)
    # 通称・略称 and 活動拠点 (facility names) from the profile; never shown to reviewers.
    aliases: list[str] = dataclasses.field(default_factory=list)
    bases: list[str] = dataclasses.field(default_factory=list)


@dataclass(frozen=True)
class Finding:
    field: str  # which field (or attachment) of the proposal
    start: int  # offsets in the ORIGINAL text of that field
    end: int
    text: str  # == original[start:end]
    kind: str  # one of REPLACEMENTS
    replacement: str  # e.g. ＜団体名＞
    confidence: str  # "high": sure, redacted by default; "low": a pointer staff decide
    reason: str = ""  # why, in Japanese, for staff
