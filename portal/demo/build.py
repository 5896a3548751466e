"""Loading the demo through the portal's own verbs.

Every state a call is in was reached the way staff, groups and reviewers
reach it: ``call_admin.publish_call``, ``workflow.submit_proposal``,
``intake.decide_intake``, ``redaction.scan`` and ``decide_finding``,
``release.release_for_review``, ``panel.add_member``, ``conflict_check``,
``conflict_declaration``, ``scoring.save_draft`` / ``submit_sheet``,
``progress.close_scoring``, ``decisions`` and ``publication.publish``. So the
demo's process logs verify (``flask verify-log``) and its documents are
the ones the portal would have produced.

The verbs check every time against the call's windows; the loader passes
the time each step happened (in 2025 for the finished call, relative to
loading for the others) and performs the steps of one call in time order,
so its public log never runs backwards.
"""
from __future__ import annotations

import heapq
import itertools
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from ..auth.sessions import hash_password
from ..domain.anonymity import redaction, release, review_copy
from ..domain.calls import call_admin
from ..domain.intake import intake
from ..domain.panel import conflict_check, conflict_declaration, panel
from ..domain.proposals import budget, workflow
from ..domain.results import decisions, publication, results
from ..domain.scoring import progress, scoring
from ..domain.proposals.proposal_fields import DECLARATION_KEYS, TEXT_FIELDS
from ..domain.timeutil import JST, format_jst, jst_datetime
from ..files.objectstore import ObjectStore
from ..files.samples import attach_sample_documents
from . import attachments as demo_attachments
from ..models import (
    Assignment,
    BudgetKind,
    BudgetLine,
    Call,
    FindingStatus,
    Group,
    IntakeOutcome,
    PanelMember,
    Proposal,
    Role,
    RoleShare,
    Stage,
    StatusEvent,
    User,
)
from . import adoption, calls, large_call, reviews
from .content import (
    DRAFT_CHANOMA,
    DRAFT_KOSODATE,
    FINISHED_PROPOSALS,
    GROUPS,
    RETURN_REASON,
    RETURNED_SHOKOKAI,
    SUBMITTED_BOUSAI,
    SUBMITTED_MORI,
    DemoGroup,
    DemoProposal,
)
from .people import REVIEWERS, STAFF
from .tokubetsu import SPECIAL_IN_INTAKE, SPECIAL_RELEASED, SPECIAL_RETURN_REASON, SPECIAL_RETURNED

# Findings of the anonymisation scan that staff keep (not identifying):
# (group key, text found). Everything else found is redacted.
KEPT_FINDINGS = {("bousai", "森田")}  # 森田川, a river, not the group's contact person

# 担当課所見, shown to reviewers (the calls set show_department_opinion).
FINISHED_OPINIONS = {
    "bousai": ("危機管理課", "feasible",
               "避難行動要支援者名簿は、本人の同意を確認する手続きを経たうえで、支援者用の地図づくりに提供できます。"
               "防災士の派遣は、市の防災アドバイザー制度で調整可能です。"),
    "matsu": ("農林水産課", "conditional",
              "被害木の伐倒・搬出は、県の松くい虫被害対策事業との調整が必要です。"
              "落ち葉かき・見回り・植栽は、市の海岸林保全の方針に沿っており、連携できます。"),
}
SPECIAL_OPINIONS = {
    "bousai": ("危機管理課", "feasible",
               "夜間訓練の周知に防災行政無線を使うことができます。訓練で見つかった危険箇所は、道路管理課と共有して対応を検討します。"),
    "tabunka": ("危機管理課", "conditional",
                "避難所となる小学校の使用は、学校行事との調整が必要です。備蓄品の貸出しは、訓練後に補充できる範囲で可能です。"),
}


def jst_day(value: datetime) -> date:
    return value.astimezone(JST).date()


@dataclass
class Timeline:
    """Steps of one call, run in time order whatever order they were added in."""

    steps: list = field(default_factory=list)
    _order: itertools.count = field(default_factory=itertools.count)

    def add(self, at: datetime, step: Callable[[datetime], object]) -> None:
        heapq.heappush(self.steps, (at, next(self._order), step))

    def run(self) -> None:
        while self.steps:
            at, _, step = heapq.heappop(self.steps)
            step(at)


@dataclass
class Loader:
    session: Session
    now: datetime
    city: str
    store: ObjectStore
    settings: publication.Settings
    users: dict[str, User] = field(default_factory=dict)  # group key -> applicant account
    reviewers: dict[str, User] = field(default_factory=dict)
    staff: User | None = None
    password_hash: str = ""

    # -- accounts ------------------------------------------------------------------

    def accounts(self, password: str, first_activity: dict[str, datetime]) -> None:
        # One hash for every demo account (same password, argon2 is slow on purpose).
        self.password_hash = hash_password(password)
        staff_since = jst_datetime(2025, 4, 1, 9, 0)
        self.staff = self._user(STAFF.email, Role.STAFF, STAFF.display_name, staff_since)
        for spec in REVIEWERS:
            self.reviewers[spec.key] = self._user(spec.email, Role.REVIEWER, spec.display_name,
                                                  jst_datetime(2025, 6, 16, 10, 0))
        for spec in GROUPS:
            self.users[spec.key] = self._applicant(spec, first_activity[spec.key])
        self.session.flush()
        for spec in GROUPS:
            user = self.users[spec.key]
            attach_sample_documents(self.session, self.store, user.group, user.id)
            for document in user.group.documents:
                document.uploaded_at = user.created_at + timedelta(minutes=40)

    def _user(self, email: str, role: Role, name: str, since: datetime) -> User:
        user = User(email=email, password_hash=self.password_hash, role=role, display_name=name,
                    created_at=since, password_changed_at=since, email_confirmed_at=since,
                    # Honoured only where ALLOW_SECOND_FACTOR_WAIVER is true (development, tests).
                    second_factor_waived=True)
        self.session.add(user)
        return user

    def _applicant(self, spec: DemoGroup, first_activity: datetime) -> User:
        registered = jst_datetime(spec.registered_on.year, spec.registered_on.month, spec.registered_on.day, 10, 0)
        # Registered before anything the group did, whenever the demo is loaded.
        registered = min(registered, first_activity - timedelta(days=3), self.now - timedelta(days=30))
        user = User(email=spec.email, password_hash=self.password_hash, role=Role.APPLICANT,
                    created_at=registered, password_changed_at=registered,
                    email_confirmed_at=registered + timedelta(minutes=12))
        user.group = Group(
            name=spec.name, name_kana=spec.name_kana, kind=spec.kind,
            representative_title=spec.representative_title, representative_name=spec.representative_name,
            contact_name=spec.contact_name, contact_email=spec.email, postal_code=spec.postal_code,
            address=spec.address, phone=spec.phone, founded_on=spec.founded_on, member_count=spec.member_count,
            activity_fields=list(spec.activity_fields), activity_record=spec.activity_record, website=spec.website,
            based_in_city=True, updated_at=registered + timedelta(hours=1),
        )
        self.session.add(user)
        return user

    # -- proposals -----------------------------------------------------------------

    def draft(self, spec: DemoProposal, call: Call, created: datetime, period: tuple[date | None, date | None],
              *, consent: bool = False) -> Proposal:
        """A draft as the editor saves it (the content obeys the call's rules)."""
        user = self.users[spec.group]
        proposal = Proposal(call=call, group=user.group, created_at=created, updated_at=created,
                            name_publication_consent=consent)
        for text_field in TEXT_FIELDS:
            setattr(proposal, text_field.key, spec.texts.get(text_field.key, ""))
        proposal.period_start, proposal.period_end = period
        proposal.desired_forms = list(spec.desired_forms)
        proposal.related_department = spec.related_department
        proposal.role_shares = [RoleShare(position=i, item=item, group_role=group_role, city_role=city_role)
                                for i, (item, group_role, city_role) in enumerate(spec.roles)]
        lines = [(BudgetKind.INCOME, row) for row in spec.income] + [(BudgetKind.EXPENSE, row) for row in spec.expense]
        proposal.budget_lines = [BudgetLine(position=i, kind=kind, category=category, amount=amount, note=note)
                                 for i, (kind, (category, amount, note)) in enumerate(lines)]
        proposal.requested_amount = budget.requested_amount(proposal)
        check(proposal, call)
        self.session.add(proposal)
        self.session.flush()
        self.session.add(StatusEvent(proposal_id=proposal.id, from_status=None, to_status=proposal.status,
                                     created_at=created, actor_id=user.id))
        return proposal

    def submit(self, proposal: Proposal, at: datetime) -> None:
        """The group ticks the declarations on the confirmation page and submits."""
        user = self.users_by_group[proposal.group_id]
        missing = workflow.accept_declarations(self.session, proposal, set(DECLARATION_KEYS), user,
                                               at - timedelta(minutes=3))
        assert not missing
        demo_attachments.attach(self.session, self.store, proposal, user, self._group_key(proposal), at)
        proposal.updated_at = at - timedelta(minutes=3)
        self.session.flush()
        workflow.submit_proposal(self.session, proposal, user, proposal.version, at)
        proposal.updated_at = at

    @property
    def users_by_group(self) -> dict[int, User]:
        return {user.group.id: user for user in self.users.values()}

    def _group_key(self, proposal: Proposal) -> str:
        return next((key for key, user in self.users.items() if user.group.id == proposal.group_id), "")

    def accept(self, proposal: Proposal, at: datetime, note: str = "") -> None:
        intake.decide_intake(self.session, proposal, IntakeOutcome.ACCEPT, note, self.staff, at)

    def opinion(self, proposal: Proposal, spec: tuple[str, str, str], at: datetime) -> None:
        department, feasibility, text = spec
        intake.save_department_opinion(self.session, proposal, department=department, feasibility=feasibility,
                                       opinion=text, staff=self.staff, now=at)

    def anonymise(self, proposal: Proposal, group_key: str, at: datetime) -> None:
        """Scan, then decide every finding: identifying ones redacted, the rest kept."""
        redaction.scan(self.session, proposal, self.staff, at, store=self.store)
        for finding in review_copy.findings_of(self.session, proposal):
            keep = (group_key, finding.text) in KEPT_FINDINGS
            redaction.decide_finding(self.session, finding, FindingStatus.DISMISS if keep else FindingStatus.REDACT,
                                       self.staff, at + timedelta(minutes=6))
        demo_attachments.decide_pages(self.session, proposal, self.staff, at + timedelta(minutes=8))
        problems = redaction.release_problems(self.session, proposal)
        assert not problems, problems

    def release(self, proposals: list[Proposal], at: datetime) -> None:
        release.release_for_review(self.session, proposals, self.staff, at, store=self.store)

    def panel(self, call: Call, at: datetime) -> dict[str, PanelMember]:
        members = {}
        for offset, spec in enumerate(REVIEWERS):
            member = panel.add_member(self.session, call, self.reviewers[spec.key], spec.affiliations,
                                      public_title=spec.public_title, now=at + timedelta(minutes=3 * offset))
            member.is_chair = spec.chair
            members[spec.key] = member
        self.session.flush()
        return members

    def assignment(self, member: PanelMember, proposal: Proposal) -> Assignment:
        return self.session.scalars(select(Assignment).where(
            Assignment.panel_member_id == member.id, Assignment.proposal_id == proposal.id)).one()

    def sheet_input(self, call: Call, remarks: list[reviews.Remarks], scores: list[int | None], reviewer: str,
                    comment: str = "", note: str = "") -> scoring.SheetInput:
        index = [r.key for r in REVIEWERS].index(reviewer)
        values = {}
        for position, (criterion, remark, score) in enumerate(zip(call.criteria, remarks, scores, strict=True)):
            if score is not None:
                values[criterion.id] = scoring.ScoreInput(score, reviews.reason_for(remark, score, index, position))
        return scoring.SheetInput(scores=values, comment_for_group=comment, panel_note=note)

    def score(self, timeline: Timeline, call: Call, member: PanelMember, proposal: Proposal,
              data: scoring.SheetInput, opened: datetime, *, submitted: datetime | None) -> None:
        """The reviewer confirms 利害関係なし, writes a draft, and (maybe) submits it later."""
        assignment = self.assignment(member, proposal)

        def open_and_draft(at: datetime) -> None:
            conflict_declaration.confirm_no_conflict(self.session, assignment, at)
            scoring.save_draft(self.session, assignment, Stage.DOCUMENT, data, at + timedelta(minutes=47))

        timeline.add(opened, open_and_draft)
        if submitted is not None:
            timeline.add(submitted, lambda at: scoring.submit_sheet(
                self.session, scoring.sheet_for(self.session, assignment, Stage.DOCUMENT), at))

    # -- 令和7年度: finished, results published --------------------------------------

    def finished(self, call: Call, created: list[datetime], submitted: list[datetime]) -> None:
        session = self.session
        call_admin.publish_call(session, call, calls.FINISHED_PUBLISHED)
        proposals: dict[str, Proposal] = {}
        period = (date(2025, 10, 1), date(2026, 3, 31))
        for spec, made in zip(FINISHED_PROPOSALS, created, strict=True):
            consent = reviews.FINISHED_DECISIONS[spec.group].name_publication_consent
            proposals[spec.group] = self.draft(spec, call, made, period, consent=consent)
        for spec, at in sorted(zip(FINISHED_PROPOSALS, submitted, strict=True), key=lambda pair: pair[1]):
            self.submit(proposals[spec.group], at)

        # 受付確認 on the first working days of July, in the order received.
        for index, spec in enumerate(sorted(FINISHED_PROPOSALS, key=lambda s: proposals[s.group].submitted_at)):
            self.accept(proposals[spec.group], jst_datetime(2025, 7, 1, 10, 0) + timedelta(minutes=35 * index))
        members = self.panel(call, jst_datetime(2025, 7, 1, 15, 0))
        # The cross-check flagged 大野 (委員C) and the 自治会連合会; the secretariat confirms it.
        for conflict in conflict_check.conflicts_of_call(session, call):
            conflict_check.confirm(session, conflict, self.staff, jst_datetime(2025, 7, 2, 9, 30))
        for key, spec in FINISHED_OPINIONS.items():
            self.opinion(proposals[key], spec, jst_datetime(2025, 7, 2, 16, 0))
        for index, (key, proposal) in enumerate(proposals.items()):
            self.anonymise(proposal, key, jst_datetime(2025, 7, 3, 10, 0) + timedelta(minutes=40 * index))
        self.release(list(proposals.values()), jst_datetime(2025, 7, 7, 10, 0))

        # 採点: each member reads and drafts in July, in an order of their own,
        # hears the public presentation on 2 August and submits in the week after.
        timeline = Timeline()
        starts = {"fujiwara": (2, 21), "nishimura": (5, 19), "ohno": (3, 10), "murakami": (7, 14), "ogawa": (9, 22)}
        order = list(proposals)
        for reviewer_index, spec in enumerate(REVIEWERS):
            first_day, hour = starts[spec.key]
            submit_day = date(2025, 8, 3 + (2 * reviewer_index) % 5)
            mine = order[reviewer_index:] + order[:reviewer_index]
            scored = [key for key in mine if spec.key in reviews.FINISHED_SCORES[key]]
            for n, key in enumerate(scored):
                opened = calls.day_at(date(2025, 7, 7) + timedelta(days=first_day + 3 * n), hour, 5 + 7 * n)
                data = self.sheet_input(call, reviews.FINISHED_REMARKS[key], reviews.FINISHED_SCORES[key][spec.key],
                                        spec.key, reviews.FINISHED_COMMENTS[key].get(spec.key, ""),
                                        reviews.FINISHED_PANEL_NOTES.get((key, spec.key), ""))
                self.score(timeline, call, members[spec.key], proposals[key], data, opened,
                           submitted=calls.day_at(submit_day, 10 + reviewer_index, 4 + 9 * n))
        timeline.run()
        progress.close_scoring(session, call, jst_datetime(2025, 8, 8, 17, 30))

        # The city's decisions on the committee's report, then publication.
        decided_at = jst_datetime(2025, 8, 22, 14, 0)
        result = results.compute(session, call)
        for key, proposal in proposals.items():
            spec = reviews.FINISHED_DECISIONS[key]
            decisions.record_decision(session, call, proposal, outcome=spec.outcome, reason=spec.reason,
                                      conditions=spec.conditions, review_comment=spec.review_comment,
                                      staff=self.staff, now=decided_at, result=result)
        decisions.finalise(session, call, self.staff, decided_at + timedelta(minutes=30),
                           reviews.FINISHED_DECISION_BASIS)
        call.general_comment = reviews.FINISHED_GENERAL_COMMENT
        publication.publish(session, call, self.staff, call.results_at, settings=self.settings)
        adoption.carry_on(self, proposals)  # after adoption: portal/demo/adoption.py

    # -- 令和8年度: open --------------------------------------------------------------

    def open(self, call: Call, published: datetime, created: dict[str, datetime]) -> None:
        now = self.now
        call_admin.publish_call(self.session, call, published)
        start = calls.first_of_month_after(call.results_at, months=2)
        end = calls.first_of_month_after(start, months=11) - timedelta(days=1)
        bousai = self.draft(SUBMITTED_BOUSAI, call, created["bousai"], (start, end))
        shokokai = self.draft(RETURNED_SHOKOKAI, call, created["shokokai"], (start, end))
        mori = self.draft(SUBMITTED_MORI, call, created["mori"],
                          (start, calls.first_of_month_after(start, months=10) - timedelta(days=1)))
        self.submit(bousai, now - timedelta(days=9, hours=2, minutes=14))
        self.submit(shokokai, now - timedelta(days=8, hours=5, minutes=41))
        returned_at = now - timedelta(days=3, hours=4)
        due = returned_at + timedelta(days=call.correction_days)
        intake.decide_intake(self.session, shokokai, IntakeOutcome.RETURN, RETURN_REASON.format(due=format_jst(due)),
                             self.staff, returned_at, reason_category="excluded")
        self.submit(mori, now - timedelta(days=2, hours=1, minutes=3))
        chanoma = self.draft(DRAFT_CHANOMA, call, created["chanoma"], (start, end))
        chanoma.updated_at = now - timedelta(days=1, hours=6)
        self.draft(DRAFT_KOSODATE, call, created["kosodate"], (None, None))

    # -- 令和8年度 特別枠: scoring now ------------------------------------------------

    def special(self, call: Call, published: datetime, created: dict[str, datetime],
                submitted: dict[str, datetime]) -> None:
        session, now = self.session, self.now
        today = jst_day(now)

        def at(days_ago: int, hour: int, minute: int = 0) -> datetime:
            # A wall-clock time on an earlier day: always before ``now``.
            assert days_ago >= 1
            return calls.day_at(today - timedelta(days=days_ago), hour, minute)

        call_admin.publish_call(session, call, published)
        period = (calls.first_of_month_after(call.results_at, months=1), date(call.fiscal_year + 1, 3, 31))
        specs = [*SPECIAL_RELEASED, SPECIAL_RETURNED, SPECIAL_IN_INTAKE]
        proposals = {spec.group: self.draft(spec, call, created[spec.group], period) for spec in specs}
        for spec in sorted(specs, key=lambda s: submitted[s.group]):
            self.submit(proposals[spec.group], submitted[spec.group])

        released = [proposals[spec.group] for spec in SPECIAL_RELEASED]
        for index, proposal in enumerate(released):
            self.accept(proposal, at(20, 10) + timedelta(minutes=50 * index))
        members = self.panel(call, at(19, 14))  # 大野 (委員C) is flagged with the 自治会連合会: left for staff
        for key, spec in SPECIAL_OPINIONS.items():
            self.opinion(proposals[key], spec, at(17, 11))
        for index, spec in enumerate(SPECIAL_RELEASED):
            self.anonymise(proposals[spec.group], spec.group, at(16, 9) + timedelta(minutes=30 * index))
        self.release(released, at(14, 10))

        # From here on, staff and reviewers act side by side: one timeline keeps the log in order.
        timeline = Timeline()
        # The secretariat returns the 茶の間's proposal after asking the 福祉総務課.
        timeline.add(at(10, 15, 20), lambda when: intake.decide_intake(
            session, proposals[SPECIAL_RETURNED.group], IntakeOutcome.RETURN, SPECIAL_RETURN_REASON, self.staff, when,
            reason_category="budget"))
        # 委員A and 委員E have submitted everything; 委員B declared a conflict
        # on one proposal and submitted two; 委員D has drafts; 委員C has not started.
        plans = {"fujiwara": (12, 20, 2), "ogawa": (10, 22, 2), "nishimura": (9, 19, 3)}
        order = [spec.group for spec in SPECIAL_RELEASED]
        for reviewer, (first, hour, step) in plans.items():
            mine = [key for key in order if key in reviews.SPECIAL_SUBMITTED[reviewer]]
            for n, key in enumerate(mine):
                opened = at(first - step * n, hour, 10 + 9 * n)
                data = self.sheet_input(call, reviews.SPECIAL_REMARKS[key], reviews.SPECIAL_SUBMITTED[reviewer][key],
                                        reviewer, reviews.SPECIAL_COMMENTS.get((key, reviewer), ""))
                self.score(timeline, call, members[reviewer], proposals[key], data, opened,
                           submitted=opened + timedelta(hours=1, minutes=20))
        declarer, key, note = reviews.SPECIAL_DECLARED
        assignment = self.assignment(members[declarer], proposals[key])
        timeline.add(at(11, 20, 40),
                     lambda when: conflict_declaration.declare_conflict(session, assignment, note, when))
        for n, (key, scores) in enumerate(reviews.SPECIAL_DRAFTS["murakami"].items()):
            data = self.sheet_input(call, reviews.SPECIAL_REMARKS[key], scores, "murakami")
            self.score(timeline, call, members["murakami"], proposals[key], data, at(5 - 2 * n, 13, 15),
                       submitted=None)
        timeline.run()
        # The fourth call, 40 proposals with a k-of-n panel (portal/demo/large_call.py).
        large_call.build(self, now, self.city)


def check(proposal: Proposal, call: Call) -> None:
    """Demo data must itself obey the rules the portal enforces."""
    problems = workflow.text_problems(proposal, call)
    if problems:
        raise ValueError(f"demo text too long: {proposal.title} {problems}")
    income, expense = budget.budget_totals(proposal)
    if income != expense:
        raise ValueError(f"demo budget does not balance: {proposal.title} {income} != {expense}")
    if proposal.requested_amount > call.budget_cap_per_proposal:
        raise ValueError(f"demo request over the cap: {proposal.title}")


def plan(now: datetime) -> dict:
    """When each group wrote and submitted what (so registrations can precede it all)."""
    today = jst_day(now)

    def on(days_ago: int, hour: int, minute: int = 0) -> datetime:
        return calls.day_at(today - timedelta(days=days_ago), hour, minute)

    finished_created = [jst_datetime(2025, m, d, h, mi) for m, d, h, mi in
                        ((5, 12, 20, 15), (5, 16, 9, 30), (5, 22, 21, 5), (5, 26, 14, 0), (6, 2, 10, 45),
                         (6, 5, 19, 20))]
    finished_submitted = [jst_datetime(2025, m, d, h, mi) for m, d, h, mi in
                          ((6, 9, 10, 42), (6, 13, 15, 8), (6, 18, 11, 27), (6, 24, 16, 51), (6, 27, 13, 3),
                           (6, 30, 16, 22))]
    open_created = {"bousai": now - timedelta(days=16), "shokokai": now - timedelta(days=15),
                    "mori": now - timedelta(days=14), "chanoma": now - timedelta(days=12),
                    "kosodate": now - timedelta(hours=20)}
    special_created = {"tabunka": on(62, 20, 30), "bousai": on(55, 19, 45), "kosodate": on(50, 10, 15),
                       "matsu": on(44, 14, 0), "wanwan": on(41, 21, 10), "chanoma": on(33, 13, 30),
                       "mori": on(30, 9, 20)}
    special_submitted = {"tabunka": on(40, 11, 2), "bousai": on(35, 16, 48), "kosodate": on(30, 10, 31),
                         "matsu": on(27, 15, 12), "wanwan": on(24, 20, 55), "chanoma": on(22, 14, 7),
                         "mori": on(21, 16, 38)}
    first: dict[str, datetime] = {}
    for spec, made in zip(FINISHED_PROPOSALS, finished_created, strict=True):
        first[spec.group] = min(first.get(spec.group, made), made)
    for key, made in [*open_created.items(), *special_created.items()]:
        first[key] = min(first.get(key, made), made)
    return {"finished": (finished_created, finished_submitted), "open": open_created,
            "special": (special_created, special_submitted), "first_activity": first}

