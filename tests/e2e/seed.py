"""Data the end-to-end tests need, written straight into the live server's
database. Run as ``python -m tests.e2e.seed`` with the server's environment
(PORTAL_ENV, DATABASE_URL, PORTAL_INSTANCE_DIR, PORTAL_UPLOAD_DIR); prints a
JSON description of what it created on the last line of stdout.

Independent of portal/demo/ on purpose: the tests must not change when the
demo data does.
"""
from __future__ import annotations

import json
from datetime import date, timedelta

from flask import current_app

from portal import create_app
from portal.auth.sessions import hash_password
from portal.db import db_session
from portal.domain.proposal_fields import TEXT_FIELDS
from portal.domain.timeutil import now_utc
from portal.files.samples import attach_sample_documents
from portal.models import (
    Call,
    Criterion,
    Group,
    GroupKind,
    Proposal,
    ProposalStatus,
    Role,
    StatusEvent,
    User,
)

PASSWORD = "e2e-Passw0rd-long"
CALL_SLUG = "e2e-kyodo"
CALL_TITLE = "令和8年度 市民提案型協働モデル事業（E2E）"

# Accounts with a ready-made draft, one per test that does not go through
# registration, so tests never share a proposal.
DRAFT_ACCOUNTS = ("conflict", "counter", "missing", "phone", "delete", "reload", "offline")


def seed_call() -> Call:
    now = now_utc()
    call = Call(
        slug=CALL_SLUG,
        title=CALL_TITLE,
        fiscal_year=2026,
        summary="地域の課題を市と市民が協働で解決する事業の提案を募集します。",
        guidelines="募集要項の本文です。\n提案書と収支予算書を提出してください。",
        opens_at=now - timedelta(days=10),
        closes_at=now + timedelta(days=30),
        screening_starts_at=now + timedelta(days=40),
        results_at=now + timedelta(days=70),
        budget_cap_per_proposal=300_000,
        budget_total=1_500_000,
        published_at=now - timedelta(days=20),
        field_limits={"title": 40, "background": 800},
    )
    levels = {"5": "優れている", "4": "やや優れている", "3": "普通", "2": "やや劣る", "1": "劣る"}
    call.criteria = [
        Criterion(position=i, name=name, description=f"{name}の観点から評価します。", weight=weight,
                  scale_min=1, scale_max=5, level_descriptors=levels)
        for i, (name, weight) in enumerate(
            [("公益性", 2), ("必要性", 2), ("協働の効果", 2), ("実現可能性", 2), ("予算の妥当性", 1)]
        )
    ]
    db_session.add(call)
    db_session.flush()
    return call


def seed_applicant(key: str, call: Call) -> dict:
    user = User(
        email=f"e2e-{key}@example.jp",
        password_hash=hash_password(PASSWORD),
        role=Role.APPLICANT,
        email_confirmed_at=now_utc(),
    )
    db_session.add(user)
    db_session.flush()
    group = Group(
        account_id=user.id,
        contact_email=user.email,
        name=f"みなと{key}の会",
        name_kana="みなとのかい",
        kind=GroupKind.SHIMIN_KATSUDO,
        representative_name="山田 花子",
        contact_name="佐藤 太郎",
        postal_code="123-4567",
        address="みなと市中央1-2-3",
        phone="0123-45-6789",
        founded_on=date(2015, 4, 1),
        member_count=12,
        activity_record="2015年から地域の見守り活動を続けています。",
    )
    db_session.add(group)
    db_session.flush()
    attach_sample_documents(db_session, current_app.config["UPLOAD_DIR"], group, user.id)
    now = now_utc()
    proposal = Proposal(call=call, group=group, status=ProposalStatus.DRAFT, created_at=now, updated_at=now,
                        title="見守りの下書き")
    if key == "phone":
        for f in TEXT_FIELDS[1:]:
            setattr(proposal, f.key, f"{f.label}の下書きです。")
    db_session.add(proposal)
    db_session.flush()
    db_session.add(StatusEvent(proposal_id=proposal.id, from_status=None, to_status=ProposalStatus.DRAFT,
                               created_at=now, actor_id=user.id))
    return {"email": user.email, "password": PASSWORD, "proposal_id": proposal.id}


def main() -> None:
    app = create_app()
    with app.app_context():
        call = seed_call()
        accounts = {key: seed_applicant(key, call) for key in DRAFT_ACCOUNTS}
        db_session.commit()
        print(json.dumps({"call": {"slug": call.slug, "title": call.title, "id": call.id},
                          "accounts": accounts}, ensure_ascii=False))


if __name__ == "__main__":
    main()
