from __future__ import annotations

import enum
from datetime import date, datetime

from sqlalchemy import JSON, Date, Enum, ForeignKey, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from .base import Base, UTCDateTime, utcnow


class GroupKind(enum.StrEnum):
    CHIEN = "chien"
    SHIMIN_KATSUDO = "shimin_katsudo"
    NPO = "npo"
    CHIIKI_SANGYO = "chiiki_sangyo"
    HOJIN = "hojin"
    KIGYO = "kigyo"
    OTHER = "other"

    @property
    def label(self) -> str:
        return GROUP_KIND_LABELS[self]


GROUP_KIND_LABELS = {
    GroupKind.CHIEN: "地縁組織（自治会・町内会など）",
    GroupKind.SHIMIN_KATSUDO: "市民活動組織（ボランティア団体など）",
    GroupKind.NPO: "NPO法人",
    GroupKind.CHIIKI_SANGYO: "地域産業組織（商工会・農協など）",
    GroupKind.HOJIN: "法人組織（社団・財団・学校・社会福祉法人など）",
    GroupKind.KIGYO: "企業",
    GroupKind.OTHER: "その他",
}


class Group(Base):
    """団体概要. Personal data (representative, contact) never leaves the
    applicant's and the secretariat's pages."""

    __tablename__ = "groups"

    id: Mapped[int] = mapped_column(primary_key=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), unique=True)
    name: Mapped[str] = mapped_column(String(120), default="")
    name_kana: Mapped[str] = mapped_column(String(200), default="")
    kind: Mapped[GroupKind | None] = mapped_column(Enum(GroupKind, native_enum=False, length=30))
    representative_name: Mapped[str] = mapped_column(String(100), default="")
    representative_title: Mapped[str] = mapped_column(String(50), default="")
    contact_name: Mapped[str] = mapped_column(String(100), default="")
    contact_email: Mapped[str] = mapped_column(String(254), default="")
    postal_code: Mapped[str] = mapped_column(String(8), default="")
    address: Mapped[str] = mapped_column(String(300), default="")
    phone: Mapped[str] = mapped_column(String(20), default="")
    founded_on: Mapped[date | None] = mapped_column(Date())
    member_count: Mapped[int | None] = mapped_column()
    activity_fields: Mapped[list] = mapped_column(JSON, default=list)
    activity_record: Mapped[str] = mapped_column(Text, default="")
    website: Mapped[str] = mapped_column(String(300), default="")
    based_in_city: Mapped[bool] = mapped_column(default=True)
    # 役員名簿 as names (one per entry): anonymisation and conflict checks use them.
    officer_names: Mapped[list] = mapped_column(JSON, default=list)
    # 通称・略称 and 活動拠点 (facility names), as the group writes them. Only
    # the anonymisation scan reads them: reviewers never see these fields.
    aliases: Mapped[list] = mapped_column(JSON, default=list)
    activity_bases: Mapped[list] = mapped_column(JSON, default=list)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, onupdate=utcnow)

    account: Mapped["User"] = relationship(back_populates="group")  # noqa: F821
    documents: Mapped[list["StoredFile"]] = relationship(  # noqa: F821
        primaryjoin="and_(Group.id == StoredFile.group_id, StoredFile.proposal_id.is_(None))",
        viewonly=True,
        order_by="[StoredFile.uploaded_at, StoredFile.id]",
    )

    @property
    def profile_complete(self) -> bool:
        return not self.missing_profile_items()

    def missing_profile_items(self) -> list[str]:
        required = {
            "name": "団体名",
            "name_kana": "団体名（ふりがな）",
            "kind": "団体の種類",
            "representative_name": "代表者氏名",
            "contact_name": "連絡担当者氏名",
            "postal_code": "郵便番号",
            "address": "所在地",
            "phone": "電話番号",
            "founded_on": "設立年月日",
            "member_count": "会員数",
            "activity_record": "活動実績",
        }
        missing = [label for attr, label in required.items() if getattr(self, attr) in (None, "")]
        # The documents every application needs (規約・会則, 役員名簿, 事業報告・決算書).
        from .files import FilePurpose

        present = {document.purpose for document in self.documents}
        for purpose in (FilePurpose.RULES, FilePurpose.OFFICERS, FilePurpose.ANNUAL_REPORT):
            if purpose not in present:
                missing.append(f"{purpose.label}（書類）")
        return missing


ACTIVITY_FIELDS = [
    "保健・医療・福祉",
    "社会教育",
    "まちづくり",
    "観光・地域振興",
    "学術・文化・芸術・スポーツ",
    "環境保全",
    "災害救援・防災",
    "地域安全",
    "人権・平和",
    "国際協力",
    "男女共同参画",
    "子どもの健全育成",
    "情報化社会",
    "科学技術",
    "経済活動の活性化",
    "職業能力・雇用",
    "消費者保護",
    "その他",
]
