"""A fourth demo call, large enough to show the lists, filters and a k-of-n
panel: 令和8年度 地区提案枠, 40 proposals from 40 groups, the demo's panel of
five and each proposal scored by three of them (``assignment_mode = "k"``).
(Five, not six: the demo's reviewer accounts are the five of ``people.py``,
which the login page and the tests list.)

Built through the portal's verbs like the other calls (``build.py``): the
groups submit, staff accept and anonymise, the release assigns three
members to each proposal with balanced load (``panel/assignment.py``), the
members score part of their share, staff swap one assignment and record
one member's withdrawal (辞退), so the public log shows every kind.

The proposal texts reuse the other demo calls' proposals, one per group,
with the district in the title: what matters here is the number of rows.
Every group, name and address is fictional.
"""
from __future__ import annotations

from datetime import date, datetime, timedelta
from decimal import Decimal

from ..domain.calls import call_admin
from ..domain.panel import assignment, conflict_declaration, panel
from ..domain.scoring import scoring
from ..domain.timeutil import JST, fiscal_year_label
from ..models import Assignment, Call, Group, GroupKind, PanelMember, Proposal, Role, Stage, User
from ..files.samples import attach_sample_documents
from . import calls
from .content import FIELD_LIMITS, FINISHED_PROPOSALS, DemoProposal
from .people import REVIEWERS
from .tokubetsu import SPECIAL_RELEASED

LARGE_CALL_SLUG = "r8-kyodo-chiku"
LARGE_CALL_PROPOSALS = 40
LARGE_CALL_K = 3
LARGE_CALL_CAP = 300_000
LARGE_CALL_CRITERIA = [("公益性", 4), ("必要性", 3), ("協働の効果", 3), ("実現可能性", 3), ("予算の妥当性", 2)]
DISTRICTS = ("港南", "港北", "中央", "東町", "西町", "浜松", "緑ヶ丘", "旭", "桜台", "若葉",
             "本町", "新町", "川端", "山手", "汐見", "朝日", "栄", "城東", "城西", "松原")
KINDS = (GroupKind.CHIEN, GroupKind.SHIMIN_KATSUDO, GroupKind.NPO, GroupKind.SHIMIN_KATSUDO)
GROUP_SUFFIXES = ("まちづくり協議会", "見守りの会", "子ども応援団", "環境を守る会")
REASONS = {5: "計画が具体的で、地域の課題によく合っています。", 4: "おおむね適切です。一部に具体性が欲しいところがあります。",
           3: "標準的な内容です。", 2: "根拠や実施体制の説明が不足しています。", 1: "計画の実現性に大きな課題があります。"}


def large_call(city: str, now: datetime) -> tuple[Call, datetime]:
    """Closed 30 days ago; scoring from 12 days ago to 20 days ahead."""
    today = now.astimezone(JST).date()
    at = calls.day_at
    published = at(today - timedelta(days=100), 9)
    opens = at(today - timedelta(days=90), 9)
    closes = at(today - timedelta(days=30), 17)
    screening = at(today - timedelta(days=12), 9)
    scoring_closes = at(today + timedelta(days=20), 17)
    results = at(today + timedelta(days=45), 10)
    year = fiscal_year_label(2026)
    return Call(
        slug=LARGE_CALL_SLUG,
        title=f"{year} 市民提案型協働モデル事業 地区提案枠",
        fiscal_year=2026,
        summary=("各地区の身近な課題に取り組む小さな協働事業を、地区ごとに募集しました。"
                 f"{LARGE_CALL_PROPOSALS}件の提案があり、審査委員5人のうち3人が1件ずつ採点しています。"),
        guidelines=calls.guidelines(
            city, f"{year}の地区提案枠", published=published, opens=opens, closes=closes, screening=screening,
            presentation=None, results=results, period="協定を締結した日から令和9年3月31日まで",
            cap=LARGE_CALL_CAP, total=3_000_000, scoring=(screening, scoring_closes),
        ),
        opens_at=opens, closes_at=closes, screening_starts_at=screening, results_at=results,
        scoring_opens_at=screening, scoring_closes_at=scoring_closes,
        budget_cap_per_proposal=LARGE_CALL_CAP, budget_total=3_000_000, field_limits=dict(FIELD_LIMITS),
        threshold_share=Decimal("0.6"), tie_break_positions=[0],
        assignment_mode=assignment.MODE_K, reviewers_per_proposal=LARGE_CALL_K,
        created_at=published - timedelta(days=10),
        criteria=calls._criteria(LARGE_CALL_CRITERIA),
    ), published


def _templates() -> list[DemoProposal]:
    return [*FINISHED_PROPOSALS, *SPECIAL_RELEASED]


def _group(loader, index: int, registered: datetime) -> User:
    district = DISTRICTS[index % len(DISTRICTS)]
    suffix = GROUP_SUFFIXES[(index // len(DISTRICTS) + index) % len(GROUP_SUFFIXES)]
    user = User(email=f"chiku{index + 1:02d}@example.jp", password_hash=loader.password_hash, role=Role.APPLICANT,
                created_at=registered, password_changed_at=registered,
                email_confirmed_at=registered + timedelta(minutes=9))
    user.group = Group(
        name=f"{district}地区{suffix}", name_kana="ちくのかい", kind=KINDS[index % len(KINDS)],
        representative_title="代表", representative_name=f"代表者 {index + 1:02d}",
        contact_name=f"連絡担当 {index + 1:02d}", contact_email=user.email, postal_code="123-0100",
        address=f"みなと市{district}一丁目{index + 1}番地", phone=f"0123-45-{3000 + index}",
        founded_on=date(2010 + index % 12, 4, 1), member_count=12 + index,
        activity_fields=["まちづくり"], activity_record="地区の住民が集まり、清掃や見守り、行事を続けています。",
        based_in_city=True, updated_at=registered + timedelta(hours=1),
    )
    loader.session.add(user)
    return user


def _spec(key: str, index: int) -> DemoProposal:
    base = _templates()[index % len(_templates())]
    title = f"{base.texts['title']}（{DISTRICTS[index % len(DISTRICTS)]}）"
    if len(title) > FIELD_LIMITS["title"]:
        title = base.texts["title"]
    return DemoProposal(group=key, texts={**base.texts, "title": title}, desired_forms=list(base.desired_forms),
                        related_department=base.related_department, roles=list(base.roles),
                        income=list(base.income), expense=list(base.expense))


def _sheet(call: Call, proposal_index: int, member_index: int) -> scoring.SheetInput:
    values = {}
    for position, criterion in enumerate(call.criteria):
        score = 2 + (proposal_index * 7 + member_index * 3 + position * 5) % 4  # 2..5, fixed
        values[criterion.id] = scoring.ScoreInput(score, REASONS[score])
    return scoring.SheetInput(scores=values, comment_for_group="地区の実情に合った取組です。", panel_note="")


def build(loader, now: datetime, city: str) -> Call:
    """Add the call with its groups, proposals, panel and scores (flushes)."""
    from .build import Timeline  # build.py imports this module

    session = loader.session
    today = now.astimezone(JST).date()

    def at(days_ago: int, hour: int, minute: int = 0) -> datetime:
        assert days_ago >= 1
        return calls.day_at(today - timedelta(days=days_ago), hour, minute)

    call, published = large_call(city, now)
    session.add(call)
    session.flush()
    call_admin.publish_call(session, call, published)

    proposals: list[Proposal] = []
    period = (calls.first_of_month_after(call.results_at, months=1), date(call.fiscal_year + 1, 3, 31))
    for index in range(LARGE_CALL_PROPOSALS):
        key = f"chiku{index + 1:02d}"
        loader.users[key] = _group(loader, index, at(95, 10) + timedelta(minutes=index))
    session.flush()
    for index in range(LARGE_CALL_PROPOSALS):
        user = loader.users[f"chiku{index + 1:02d}"]
        attach_sample_documents(session, loader.store, user.group, user.id)
        for document in user.group.documents:
            document.uploaded_at = user.created_at + timedelta(minutes=40)
    for index in range(LARGE_CALL_PROPOSALS):
        key = f"chiku{index + 1:02d}"
        proposals.append(loader.draft(_spec(key, index), call, at(70, 9) + timedelta(hours=index), period))
    for index, proposal in enumerate(proposals):
        loader.submit(proposal, at(40, 9) + timedelta(hours=5 * index))
    for index, proposal in enumerate(proposals):
        loader.accept(proposal, at(25, 9) + timedelta(minutes=10 * index))

    members: list[PanelMember] = []
    for offset, spec in enumerate(REVIEWERS):
        member = panel.add_member(session, call, loader.reviewers[spec.key], spec.affiliations,
                                  public_title=spec.public_title, now=at(22, 14) + timedelta(minutes=3 * offset))
        member.is_chair = spec.chair
        members.append(member)
    for index, proposal in enumerate(proposals):
        loader.anonymise(proposal, f"chiku{index + 1:02d}", at(18, 9) + timedelta(minutes=5 * index))
    loader.release(proposals, at(12, 10))

    # Before anyone opened it, staff move one proposal to balance a member's week.
    first = proposals[0]
    # (Between 委員A and 委員D: the anonymous codes, and so the assignment,
    # are drawn at random, but the counts in the log must not depend on it.)
    holders = {a.panel_member_id for a in session.query(Assignment).filter(Assignment.proposal_id == first.id)}
    giver = next(m for m in members[:4] if m.id in holders)
    taker = next(m for m in members[:4] if m.id not in holders)
    assignment.swap(session, call, first, giver, taker, at(11, 16))

    # Members score part of their share: 委員A nearly all, 委員D few.
    timeline = Timeline()
    index_of = {p.id: i for i, p in enumerate(proposals)}
    # Sheets submitted per member, then one draft. Each member carries about 24
    # proposals, but which member gives one up in the swap above (and so the
    # exact loads) follows the random codes: the shares stay well below any load,
    # so the number of sealed sheets in the log is always the same.
    share = {0: 18, 1: 14, 2: 10, 3: 4, 4: 7}
    for member_index, member in enumerate(members):
        mine = sorted(session.query(Assignment).filter(Assignment.panel_member_id == member.id).all(),
                      key=lambda a: index_of[a.proposal_id])
        done = min(share[member_index], len(mine) - 1)
        for n, item in enumerate(mine[:done + 1]):
            opened = at(10 - (n % 9), 9 + member_index, n % 50)

            def open_and_score(when: datetime, item=item, n=n, member_index=member_index, submit=n < done) -> None:
                conflict_declaration.confirm_no_conflict(session, item, when)
                data = _sheet(call, index_of[item.proposal_id], member_index)
                scoring.save_draft(session, item, Stage.DOCUMENT, data, when + timedelta(minutes=30))
                if submit:
                    scoring.submit_sheet(session, scoring.sheet_for(session, item, Stage.DOCUMENT),
                                         when + timedelta(minutes=40))

            timeline.add(opened, open_and_score)
    timeline.run()
    # 委員E withdraws mid-period: their unfinished proposals go to the least-loaded members.
    assignment.withdraw(session, call, members[4], "本業の都合により、採点期間中の対応が難しくなったため。", at(1, 11))
    session.flush()
    return call
