"""Test data factories: realistic enough to exercise every rule."""
from __future__ import annotations

import itertools
from datetime import date, timedelta

from portal.auth.sessions import hash_password
from portal.domain.proposals.proposal_fields import DECLARATION_KEYS, REQUEST_CATEGORY, TEXT_FIELDS
from portal.domain.panel import panel
from portal.domain.proposals import workflow
from portal.domain.log.chain import canonical_json, sha256_hex
from portal.domain.timeutil import now_utc
from portal.files.objectstore import store_of
from portal.files.samples import attach_sample_documents
from portal.models import (
    BudgetKind,
    BudgetLine,
    Call,
    Criterion,
    Declaration,
    Group,
    GroupKind,
    PanelMember,
    ReviewCopy,
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
            attach_sample_documents(self.session, store_of(self.app), group, user.id)
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

    # -- secretariat and panel ------------------------------------------------

    def staff(self, *, email=None, name="市民協働課 担当者") -> User:
        """A staff account; tests log in with ``login`` (the second factor is
        waived here, as for the demo accounts; test_totp covers it)."""
        n = next(_seq)
        user = User(email=email or f"staff{n}@city.example.jp", password_hash=hash_password(self.PASSWORD),
                    role=Role.STAFF, display_name=name, email_confirmed_at=now_utc(), second_factor_waived=True)
        self.session.add(user)
        self.session.commit()
        return user

    def reviewer(self, *, email=None, name=None) -> User:
        n = next(_seq)
        user = User(email=email or f"reviewer{n}@example.jp", password_hash=hash_password(self.PASSWORD),
                    role=Role.REVIEWER, display_name=name or f"審査 委員{n}", email_confirmed_at=now_utc(),
                    second_factor_waived=True)
        self.session.add(user)
        self.session.commit()
        return user

    def scoring_call(self, **overrides) -> Call:
        """A call whose submissions closed and whose first-stage scoring is open."""
        now = now_utc()
        call = self.call(opens_in=timedelta(days=-40), closes_in=timedelta(days=-10),
                         screening_in=timedelta(days=-9), **overrides)
        call.scoring_opens_at = now - timedelta(days=2)
        call.scoring_closes_at = now + timedelta(days=10)
        self.session.commit()
        return call

    def submitted(self, call: Call, *, user: User | None = None, name=None) -> Proposal:
        """A proposal submitted through the real workflow (receipt, anonymous
        code, snapshot, log entry), even when the call has already closed."""
        user = user or self.applicant(name=name)
        proposal = self.proposal(user, call, declarations=True)
        closes_at = call.closes_at
        submit_at = min(now_utc(), closes_at - timedelta(minutes=1))
        workflow.submit_proposal(self.session, proposal, user, proposal.version, submit_at)
        self.session.commit()
        return proposal

    def panel_member(self, call: Call, user: User | None = None, affiliations=()) -> PanelMember:
        member = panel.add_member(self.session, call, user or self.reviewer(), affiliations)
        self.session.commit()
        return member

    def released(self, proposal: Proposal, *, text=None) -> ReviewCopy:
        """Accept and release a proposal with a plain copy (no anonymisation
        step; tests of that step use the real verbs) and assign it to the
        call's panel."""
        now = now_utc()
        if proposal.status != ProposalStatus.REVIEW:
            workflow.record_status(self.session, proposal, ProposalStatus.REVIEW, None, now)
        content = {
            "code": proposal.anonymous_code,
            "title": proposal.title,
            "fields": [{"key": f.key, "label": f.label, "text": text or getattr(proposal, f.key)}
                       for f in TEXT_FIELDS],
            "period": None, "desired_forms": [], "role_shares": [], "budget": None, "department": None,
            "attachments": [],
        }
        copy = ReviewCopy(proposal_id=proposal.id, call_id=proposal.call_id, code=proposal.anonymous_code,
                          content=content, content_sha256=sha256_hex(canonical_json(content)), released_at=now)
        proposal.released_at = now
        self.session.add(copy)
        self.session.flush()
        panel.assign_released(self.session, proposal.call, [proposal], now)
        self.session.commit()
        return copy
