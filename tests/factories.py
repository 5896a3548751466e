"""Test data factories: realistic enough to exercise every rule."""
from __future__ import annotations

import itertools
from datetime import date, timedelta

from portal.auth.sessions import hash_password
from portal.domain.proposal_fields import DECLARATION_KEYS, REQUEST_CATEGORY, TEXT_FIELDS
from portal.domain.timeutil import now_utc
from portal.files.samples import attach_sample_documents
from portal.models import (
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
    User,
)

_seq = itertools.count(1)


class Factory:
    PASSWORD = "correct-horse-battery"

    def __init__(self, session, app):
        self.session = session
        self.app = app

    def call(self, *, opens_in=timedelta(days=-10), closes_in=timedelta(days=20), screening_in=None,
             cap=300_000, published=True, **overrides) -> Call:
        now = now_utc()
        n = next(_seq)
        closes = now + closes_in
        screening = now + (screening_in if screening_in is not None else closes_in + timedelta(days=10))
        call = Call(
            slug=overrides.pop("slug", f"call-{n}"),
            title=overrides.pop("title", f"令和8年度 市民提案型協働モデル事業 {n}"),
            fiscal_year=overrides.pop("fiscal_year", 2026),
            summary="地域の課題を市と市民が協働で解決する事業の提案を募集します。",
            guidelines="募集要項の本文。",
            opens_at=now + opens_in,
            closes_at=closes,
            screening_starts_at=max(screening, closes),
            results_at=max(screening, closes) + timedelta(days=30),
            budget_cap_per_proposal=cap,
            budget_total=1_500_000,
            published_at=now - timedelta(days=30) if published else None,
            **overrides,
        )
        call.criteria = [
            Criterion(position=i, name=name, description=f"{name}の説明", weight=weight, scale_min=1, scale_max=5,
                      level_descriptors={"5": "優れている", "4": "やや優れている", "3": "普通", "2": "やや劣る", "1": "劣る"})
            for i, (name, weight) in enumerate([("公益性", 2), ("必要性", 2), ("協働の効果", 2),
                                                ("実現可能性", 2), ("予算の妥当性", 1)])
        ]
        self.session.add(call)
        self.session.commit()  # a savepoint release: app rollbacks must not undo test data
        return call

    def applicant(self, *, confirmed=True, complete_profile=True, email=None, name=None) -> User:
        n = next(_seq)
        user = User(
            email=email or f"group{n}@example.jp",
            password_hash=hash_password(self.PASSWORD),
            role=Role.APPLICANT,
            email_confirmed_at=now_utc() if confirmed else None,
        )
        self.session.add(user)
        self.session.flush()
        group = Group(account_id=user.id, contact_email=user.email)
        if complete_profile:
            group.name = name or f"みなと見守りの会{n}"
            group.name_kana = "みなとみまもりのかい"
            group.kind = GroupKind.SHIMIN_KATSUDO
            group.representative_name = "山田 花子"
            group.contact_name = "佐藤 太郎"
            group.postal_code = "123-4567"
            group.address = "みなと市中央1-2-3"
            group.phone = "0123-45-6789"
            group.founded_on = date(2015, 4, 1)
            group.member_count = 12
            group.activity_record = "2015年から地域の見守り活動を続けています。"
        self.session.add(group)
        self.session.flush()
        if complete_profile:
            attach_sample_documents(self.session, self.app.config["UPLOAD_DIR"], group, user.id)
        self.session.commit()
        return user

    def proposal(self, user: User, call: Call, *, complete=True, status=ProposalStatus.DRAFT,
                 declarations=False) -> Proposal:
        proposal = Proposal(call=call, group=user.group, status=status)
        if complete:
            for f in TEXT_FIELDS:
                setattr(proposal, f.key, f"{f.label}の内容です。")
            proposal.period_start = date(2026, 7, 1)
            proposal.period_end = date(2027, 2, 28)
            proposal.desired_forms = ["kyosai"]
            proposal.role_shares = [RoleShare(position=0, item="広報", group_role="チラシ作成", city_role="市報掲載")]
            proposal.budget_lines = [
                BudgetLine(position=0, kind=BudgetKind.INCOME, category=REQUEST_CATEGORY, amount=200_000),
                BudgetLine(position=1, kind=BudgetKind.INCOME, category="自己資金", amount=50_000),
                BudgetLine(position=2, kind=BudgetKind.EXPENSE, category="消耗品費", amount=250_000),
            ]
            proposal.requested_amount = 200_000
        if declarations:
            proposal.declarations = [Declaration(key=key) for key in DECLARATION_KEYS]
        self.session.add(proposal)
        self.session.flush()
        self.session.add(StatusEvent(proposal_id=proposal.id, to_status=status))
        self.session.commit()
        return proposal
