"""Reviewer comments before they reach a group: each comment of a counted
sheet is scanned (comments.py) against the names we know, and one that
names people or organisations is withheld from the group until staff
confirm it as written or edit it. Verbs only flush.
"""
from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from ...models import Call, CommentCheck, Group, PanelMember, Proposal, ProposalStatus, User
from ..refusals import Invalid
from .comments import CommentFlag, KnownName, scan_comment

CONFIRMED = "confirmed"
EDITED = "edited"
MAX_EDITED_CHARS = 4000


def sha256_text(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def known_names(session: Session, call: Call, proposal: Proposal | None = None) -> list[KnownName]:
    """The panel's names and affiliations (a reviewer's own included), the
    names of the call's groups and the people of this proposal's group."""
    known: list[KnownName] = []
    members = session.scalars(select(PanelMember).where(PanelMember.call_id == call.id)
                              .order_by(PanelMember.pseudonym)).all()
    for member in members:
        user: User | None = member.user
        if user is not None and user.display_name:
            known.append(KnownName(user.display_name, "審査委員の氏名"))
        for affiliation in member.affiliations or []:
            known.append(KnownName(str(affiliation), "審査委員の所属"))
    groups = session.scalars(
        select(Group).join(Proposal, Proposal.group_id == Group.id)
        .where(Proposal.call_id == call.id, Proposal.status != ProposalStatus.DRAFT).order_by(Group.id)
    ).all()
    for group in groups:
        known.append(KnownName(group.name, "応募団体の名称"))
        known.extend(KnownName(a, "応募団体の通称") for a in group.aliases or [])
    if proposal is not None:
        group = proposal.group
        people = [group.representative_name, group.contact_name, *(group.officer_names or [])]
        known.extend(KnownName(p, "団体の代表者・役員の氏名") for p in people if p)
    return known


@dataclass
class CommentItem:
    source: str  # sheet:<id>
    pseudonym: str
    text: str
    flags: list[CommentFlag]
    check: CommentCheck | None  # valid for this text, or None

    @property
    def needs_check(self) -> bool:
        return bool(self.flags) and self.check is None

    @property
    def shown_text(self) -> str | None:
        """What the group reads; None while withheld."""
        if self.check is not None and self.check.status == EDITED:
            return self.check.edited_text
        return None if self.needs_check else self.text


def comment_items(session: Session, inputs, proposal: Proposal) -> list[CommentItem]:
    """The counted sheets' comments for the group (``results.Inputs``), in
    pseudonym order, each with its flags and staff's check."""
    checks = {c.source: c for c in session.scalars(
        select(CommentCheck).where(CommentCheck.proposal_id == proposal.id).order_by(CommentCheck.id))}
    known = None
    items = []
    for (member_id, proposal_id), sheet in sorted(inputs.sheet_rows.items()):
        text = (sheet.comment_for_group or "").strip()
        if proposal_id != proposal.id or not text:
            continue
        if known is None:
            known = known_names(session, proposal.call, proposal)
        source = f"sheet:{sheet.id}"
        check = checks.get(source)
        if check is not None and check.text_sha256 != sha256_text(text):
            check = None  # made on another text
        items.append(CommentItem(source, inputs.pseudonym(member_id), text, scan_comment(text, known), check))
    return sorted(items, key=lambda item: (len(item.pseudonym), item.pseudonym))


def comments_for_group(session: Session, inputs, proposal: Proposal) -> list[tuple[str, str]]:
    """(pseudonym, text) the group may read: confirmed or edited ones, and
    those with nothing flagged; a flagged comment nobody checked is withheld."""
    return [(item.pseudonym, item.shown_text) for item in comment_items(session, inputs, proposal)
            if item.shown_text]


def check_comment(session: Session, proposal: Proposal, item: CommentItem, *, edited_text: str | None,
                  staff: User | None, now: datetime) -> CommentCheck:
    """Confirm ``item`` as written (edited_text None) or replace it for the group."""
    if edited_text is not None:
        edited_text = edited_text.strip()
        if not edited_text:
            raise Invalid("団体に伝える講評を入力してください。",
                          "edited_text")
        if len(edited_text) > MAX_EDITED_CHARS:
            raise Invalid(f"講評は{MAX_EDITED_CHARS}字以内にしてください（現在{len(edited_text)}字）。", "edited_text")
    check = session.scalars(select(CommentCheck).where(CommentCheck.proposal_id == proposal.id,
                                                       CommentCheck.source == item.source)).first()
    if check is None:
        check = CommentCheck(proposal_id=proposal.id, source=item.source)
        session.add(check)
    check.text_sha256 = sha256_text(item.text)
    check.status = CONFIRMED if edited_text is None else EDITED
    check.edited_text = edited_text or ""
    check.decided_at = now
    check.decided_by_id = staff.id if staff else None
    session.flush()
    return check


def public_comment_problem(session: Session, call: Call, proposal: Proposal | None, text: str, confirmed: bool,
                           *, what: str = "講評") -> str:
    """The 講評 (of a proposal) and the 総評 (of the call, ``proposal``
    None) are published with the results: a name in them needs staff's
    explicit confirmation. '' when it may be saved."""
    if confirmed or not (text or "").strip():
        return ""
    flags = scan_comment(text, known_names(session, call, proposal))
    if not flags:
        return ""
    listed = "、".join(f"「{f.text}」（{f.reason}）" for f in flags[:5]) + ("ほか" if len(flags) > 5 else "")
    return (f"{what}に人名・団体名の可能性がある語があります：{listed}。"
            f"書き直すか、確認のうえ「{what}の人名・団体名を確認しました」にチェックしてください。")
