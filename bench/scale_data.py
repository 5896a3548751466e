"""A city after ten years on the portal: the scale data for the benchmarks.

    python -m bench.scale_data --database-url sqlite:///bench/.work/scale.sqlite3

makes (by default) 2,000 groups, 5,000 proposals over 10 fiscal years, and a
results-day call of 300 proposals scored by a panel of 15 on 7 criteria and
published. It writes through the portal's own verbs wherever a state has a
verb (``workflow.submit_proposal``, ``intake.decide_intake``,
``redaction.scan``, ``release.release_for_review``, ``panel.add_member``,
``scoring.save_draft``/``submit_sheet``, ``progress.close_scoring``,
``decisions``, ``publication.publish``), so receipt numbers, anonymous codes,
snapshots, the process log, its seals and the published documents are the
ones the portal would have made, and ``flask verify-log`` verifies them.

The past calls stop after intake (受理/不受理): their proposals, snapshots,
status history, intake decisions and logs are all there, but no per-reviewer
scores; only the results-day call carries the 4,500 sealed sheets. That keeps
generation to minutes while the tables the public and the secretariat read
hold ten years of rows.

Texts are drawn at random (seeded: the same spec gives the same data) from
ordinary sentences, about as long as real proposals, and never contain a
group's name, so the anonymisation scan has the work of a real call without
its findings needing a person.
"""
from __future__ import annotations

import argparse
import json
import random
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from pathlib import Path

from sqlalchemy import func, select

from portal import create_app
from portal.auth.sessions import hash_password
from portal.db import db_session
from portal.domain.anonymity import redaction, release, review_copy
from portal.domain.calls import call_admin
from portal.domain.intake import intake
from portal.domain.panel import conflict_declaration, panel
from portal.domain.proposals import workflow
from portal.domain.results import decisions, publication, results
from portal.domain.scoring import progress, scoring
from portal.domain.proposals.proposal_fields import DECLARATION_KEYS, REQUEST_CATEGORY, TEXT_FIELDS
from portal.domain.timeutil import now_utc
from portal.files.objectstore import store_of
from portal.files.samples import REQUIRED_DOCUMENTS, sample_pdf
from portal.files.sanitize import sanitize
from portal.files.storage import store_file
from portal.migrate import upgrade
from portal.models import (
    Assignment,
    BudgetKind,
    BudgetLine,
    Call,
    Criterion,
    DecisionOutcome,
    FindingStatus,
    Group,
    GroupKind,
    IntakeOutcome,
    Proposal,
    RoleShare,
    Stage,
    StatusEvent,
    User,
)
from portal.models.user import Role

BENCH_PASSWORD = "bench-password-2026"

CRITERIA_7 = [("公益性", 2), ("必要性", 2), ("協働の効果", 2), ("実現可能性", 2), ("先駆性", 1),
              ("継続性", 1), ("予算の妥当性", 1)]
LEVELS = {"5": "非常に優れている", "4": "優れている", "3": "標準的", "2": "やや不十分", "1": "不十分"}

SENTENCES = [
    "地域の高齢化が進み、日中に一人で過ごす方が増えています。",
    "子育て世帯が気軽に立ち寄れる場所が、駅の北側にはありません。",
    "空き家の増加により、防犯や景観の面で不安の声が上がっています。",
    "災害時に支援が必要な方の情報が、地域の中で共有されていません。",
    "公園の清掃や花壇の手入れを担う人が年々少なくなっています。",
    "外国にルーツを持つ住民が、地域の行事に参加しにくい状況があります。",
    "月に二回、地区の集会所で交流の場を開き、見守りの輪を広げます。",
    "市の関係課と情報を共有し、支援が届いていない方への声かけを行います。",
    "活動の記録を毎回まとめ、参加者の声を次回の企画に反映します。",
    "学生ボランティアと協力して、担い手の世代交代を進めます。",
    "広報は市報と町内会の回覧板、団体のホームページで行います。",
    "事業の終了後も、参加者が自主的に続けられる仕組みを作ります。",
    "市が持つ施設と専門的な知見を活かし、団体は地域での実践を担います。",
    "三年間で延べ六百人の参加を目標とし、満足度の調査を行います。",
    "これまでに地域の清掃活動と見守り活動を八年続けてきました。",
]
TITLES = ["見守りサロン", "子育てひろば", "防災マップづくり", "空き家活用プロジェクト", "花いっぱい運動",
          "多文化交流カフェ", "健康ウォーキング教室", "こども食堂ネットワーク", "里山保全活動", "買い物支援バス"]
AREAS = ["中央", "北", "南", "東", "西", "港", "緑が丘", "桜台", "川辺", "本町"]
KINDS = [GroupKind.SHIMIN_KATSUDO, GroupKind.NPO, GroupKind.CHIEN, GroupKind.CHIIKI_SANGYO, GroupKind.OTHER]


@dataclass
class ScaleSpec:
    groups: int = 2000
    proposals: int = 5000  # in all, the results-day call included
    fiscal_years: int = 10
    panel: int = 15
    criteria: int = 7
    results_day_proposals: int = 300
    seed: int = 2026


@dataclass
class ScaleReport:
    spec: ScaleSpec
    results_call_slug: str = ""
    timings: dict[str, float] = field(default_factory=dict)
    counts: dict[str, int] = field(default_factory=dict)

    def as_dict(self) -> dict:
        return asdict(self)


@contextmanager
def timed(report: ScaleReport, name: str) -> Iterator[None]:
    started = time.perf_counter()
    yield
    report.timings[name] = round(time.perf_counter() - started, 3)


def jst(year: int, month: int, day: int, hour: int = 9, minute: int = 0) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=UTC) - timedelta(hours=9)


def era_year(fiscal_year: int) -> str:
    return f"令和{fiscal_year - 2018}年度" if fiscal_year >= 2019 else f"平成{fiscal_year - 1988}年度"


class ScaleBuilder:
    def __init__(self, app, spec: ScaleSpec, report: ScaleReport) -> None:
        self.app = app
        self.spec = spec
        self.report = report
        self.random = random.Random(spec.seed)
        self.session = db_session
        self.store = store_of(app)
        self.now = now_utc()
        self.password_hash = hash_password(BENCH_PASSWORD)
        self.applicants: list[User] = []
        self.reviewers: list[User] = []
        self.staff: User | None = None
        self.documented: set[int] = set()

    # -- accounts ---------------------------------------------------------------

    def accounts(self) -> None:
        since = self.now - timedelta(days=365 * self.spec.fiscal_years + 200)
        self.staff = self._user("jimukyoku@bench.example.jp", Role.STAFF, "市民協働課 担当", since)
        for n in range(self.spec.panel):
            self.reviewers.append(self._user(f"reviewer{n + 1:02d}@bench.example.jp", Role.REVIEWER,
                                             f"審査 委員{n + 1:02d}", since))
        # One set of the required documents, sanitised once and stored per
        # group (each group has its own rows and files, as in real use).
        documents = {purpose: sanitize(sample_pdf(f"Bench: {purpose.value}"), f"{purpose.value}.pdf")
                     for purpose in REQUIRED_DOCUMENTS}
        for n in range(self.spec.groups):
            user = self._user(f"group{n + 1:04d}@bench.example.jp", Role.APPLICANT, "", since)
            area = AREAS[n % len(AREAS)]
            user.group = Group(
                contact_email=user.email, name=f"{area}まちづくりの会{n + 1:04d}", name_kana="まちづくりのかい",
                kind=KINDS[n % len(KINDS)], representative_name=f"代表 太郎{n + 1:04d}",
                contact_name=f"連絡 花子{n + 1:04d}", postal_code=f"{100 + n % 800:03d}-{n % 10000:04d}",
                address=f"みなと市{area}{1 + n % 9}-{1 + n % 30}-{1 + n % 20}", phone=f"0123-{n % 100:02d}-{n:04d}",
                founded_on=date(2005 + n % 15, 1 + n % 12, 1), member_count=5 + n % 40,
                activity_record=self._text(200), based_in_city=True, updated_at=since,
            )
            self.applicants.append(user)
            if n % 200 == 199:
                self._attach_documents(documents)
        self._attach_documents(documents)
        self.report.counts["groups"] = len(self.applicants)

    def _attach_documents(self, documents) -> None:
        self.session.flush()
        for user in self.applicants:
            if user.id in self.documented:
                continue
            for purpose, clean in documents.items():
                store_file(self.session, self.store, clean, original_name=f"{purpose.value}.pdf",
                           purpose=purpose, group_id=user.group.id, uploaded_by_id=user.id)
            self.documented.add(user.id)
            self.session.expire(user.group, ["documents"])
        self.session.commit()

    def _user(self, email: str, role: Role, name: str, since: datetime) -> User:
        user = User(email=email, password_hash=self.password_hash, role=role, display_name=name,
                    created_at=since, password_changed_at=since, email_confirmed_at=since,
                    second_factor_waived=role != Role.APPLICANT)
        self.session.add(user)
        return user

    # -- calls and proposals ------------------------------------------------------

    def call(self, fiscal_year: int, *, slug: str, opens: datetime, proposals: int) -> Call:
        closes = opens + timedelta(days=50)
        screening = closes + timedelta(days=7)
        criteria = CRITERIA_7[: self.spec.criteria]
        call = Call(
            slug=slug, title=f"{era_year(fiscal_year)} 市民提案型協働モデル事業 提案募集", fiscal_year=fiscal_year,
            summary=f"{proposals}件規模の募集（ベンチマーク用の生成データ）。", guidelines="募集要項の本文。",
            opens_at=opens, closes_at=closes, screening_starts_at=screening, results_at=screening + timedelta(days=40),
            scoring_opens_at=screening, scoring_closes_at=screening + timedelta(days=30),
            budget_cap_per_proposal=300_000, budget_total=30_000_000, threshold_share=Decimal("0.6"),
            tie_break_positions=[0, 2], publish_roster=True, created_at=opens - timedelta(days=30),
            criteria=[Criterion(position=i, name=name, description=f"{name}についての評価", weight=weight,
                                scale_min=1, scale_max=5, level_descriptors=dict(LEVELS))
                      for i, (name, weight) in enumerate(criteria)],
        )
        self.session.add(call)
        self.session.flush()
        call_admin.publish_call(self.session, call, opens - timedelta(days=14))
        return call

    def _text(self, limit: int) -> str:
        parts: list[str] = []
        target = int(limit * self.random.uniform(0.45, 0.9))
        while sum(len(p) for p in parts) < target:
            parts.append(self.random.choice(SENTENCES))
        text = "".join(parts)
        return text[:limit]

    def draft(self, call: Call, user: User, created: datetime) -> Proposal:
        proposal = Proposal(call=call, group=user.group, created_at=created, updated_at=created)
        for text_field in TEXT_FIELDS:
            if text_field.key == "title":
                proposal.title = f"{self.random.choice(AREAS)}地区の{self.random.choice(TITLES)}"
            else:
                setattr(proposal, text_field.key, self._text(text_field.default_limit))
        start = date(call.fiscal_year, 10, 1)
        proposal.period_start, proposal.period_end = start, date(call.fiscal_year + 1, 3, 31)
        proposal.desired_forms = ["kyosai"]
        proposal.role_shares = [RoleShare(position=0, item="広報", group_role="チラシの作成と配布",
                                          city_role="市報への掲載")]
        requested = self.random.randrange(100_000, 300_001, 10_000)
        own = self.random.randrange(0, 100_001, 10_000)
        proposal.budget_lines = [
            BudgetLine(position=0, kind=BudgetKind.INCOME, category=REQUEST_CATEGORY, amount=requested),
            BudgetLine(position=1, kind=BudgetKind.INCOME, category="自己資金", amount=own),
            BudgetLine(position=2, kind=BudgetKind.EXPENSE, category="消耗品費", amount=requested + own),
        ]
        proposal.requested_amount = requested
        self.session.add(proposal)
        self.session.flush()
        self.session.add(StatusEvent(proposal_id=proposal.id, from_status=None, to_status=proposal.status,
                                     created_at=created, actor_id=user.id))
        return proposal

    def submit(self, proposal: Proposal, user: User, at: datetime) -> None:
        missing = workflow.accept_declarations(self.session, proposal, set(DECLARATION_KEYS), user,
                                               at - timedelta(minutes=2))
        assert not missing
        self.session.flush()
        workflow.submit_proposal(self.session, proposal, user, proposal.version, at)

    def proposals_for(self, call: Call, count: int, *, submit_share: float) -> list[Proposal]:
        """``count`` proposals from distinct groups; ``submit_share`` of them submitted,
        most in the last days before the deadline."""
        users = self.random.sample(self.applicants, count)
        submitted: list[Proposal] = []
        for index, user in enumerate(users):
            created = call.opens_at + timedelta(hours=self.random.randrange(1, 24 * 40))
            proposal = self.draft(call, user, created)
            if self.random.random() < submit_share:
                last_days = timedelta(minutes=self.random.randrange(1, 60 * 24 * 5))
                at = max(created + timedelta(hours=1), call.closes_at - last_days)
                self.submit(proposal, user, min(at, call.closes_at - timedelta(minutes=1)))
                submitted.append(proposal)
            if index % 100 == 99:
                self.session.commit()
        self.session.commit()
        return submitted

    def intake(self, call: Call, proposals: list[Proposal], *, reject_share: float) -> list[Proposal]:
        accepted = []
        at = call.closes_at + timedelta(days=1)
        for index, proposal in enumerate(proposals):
            if self.random.random() < reject_share:
                intake.decide_intake(self.session, proposal, IntakeOutcome.REJECT,
                                     "対象となる団体の要件（市内で1年以上の活動実績）を満たしていません。",
                                     self.staff, at + timedelta(minutes=index))
            else:
                intake.decide_intake(self.session, proposal, IntakeOutcome.ACCEPT, "", self.staff,
                                     at + timedelta(minutes=index))
                accepted.append(proposal)
            if index % 100 == 99:
                self.session.commit()
        self.session.commit()
        return accepted

    # -- history ------------------------------------------------------------------------

    def history(self) -> None:
        years = self.spec.fiscal_years
        current = self.now.year if self.now.month >= 4 else self.now.year - 1
        past = self.spec.proposals - self.spec.results_day_proposals
        per_year = [past // (years - 1) + (1 if i < past % (years - 1) else 0) for i in range(years - 1)]
        total = 0
        for offset, count in enumerate(per_year):
            fiscal_year = current - (years - 1) + offset
            call = self.call(fiscal_year, slug=f"fy{fiscal_year}-kyodo", opens=jst(fiscal_year, 5, 7),
                             proposals=count)
            submitted = self.proposals_for(call, count, submit_share=0.92)
            self.intake(call, submitted, reject_share=0.05)
            total += count
            self.session.expunge_all()
        self.report.counts["history_proposals"] = total

    # -- the results-day call -----------------------------------------------------------

    def results_day(self) -> Call:
        count = self.spec.results_day_proposals
        opens = self.now - timedelta(days=120)
        call = self.call(self.now.year, slug="results-day", opens=opens, proposals=count)
        call.title = f"{era_year(self.now.year)} 市民提案型協働モデル事業（結果公表日の計測用）"
        call.screening_starts_at = call.closes_at + timedelta(days=2)
        call.scoring_opens_at = call.screening_starts_at
        call.scoring_closes_at = self.now - timedelta(days=5)
        call.results_at = self.now - timedelta(hours=1)
        self.session.flush()
        report = self.report
        with timed(report, "results_day_submit"):
            # Every proposal is submitted (proposals_for with share 1.0).
            made = self.proposals_for(call, count, submit_share=1.0)
        with timed(report, "results_day_intake"):
            accepted = self.intake(call, made, reject_share=0.0)
        at = call.screening_starts_at
        with timed(report, "results_day_panel"):
            members = [panel.add_member(self.session, call, reviewer, [f"みなと大学 研究室{n + 1}"],
                                        now=at - timedelta(hours=1))
                       for n, reviewer in enumerate(self.reviewers)]
            members[0].is_chair = True
            self.session.commit()
        with timed(report, "results_day_anonymise"):
            for index, proposal in enumerate(accepted):
                redaction.scan(self.session, proposal, self.staff, at, store=self.store)
                for finding in review_copy.findings_of(self.session, proposal):
                    redaction.decide_finding(self.session, finding, FindingStatus.REDACT, self.staff,
                                               at + timedelta(minutes=1))
                if index % 50 == 49:
                    self.session.commit()
            self.session.commit()
        with timed(report, "results_day_release"):
            release.release_for_review(self.session, accepted, self.staff, at + timedelta(hours=2),
                                       store=self.store)
            self.session.commit()
        with timed(report, "results_day_scoring"):
            self.score_all(call, accepted, members, at + timedelta(days=1))
        with timed(report, "results_day_close"):
            progress.close_scoring(self.session, call, call.scoring_closes_at + timedelta(minutes=1))
            self.session.commit()
        with timed(report, "results_day_decisions"):
            decided = call.scoring_closes_at + timedelta(days=1)
            result = results.compute(self.session, call)
            by_id = {row.key: row for row in result.proposals}
            for proposal in accepted:
                recommended = by_id[proposal.id].recommended
                decisions.record_decision(
                    self.session, call, proposal,
                    outcome=DecisionOutcome.ADOPTED if recommended else DecisionOutcome.NOT_ADOPTED,
                    review_comment="地域の課題が具体的に示されています。", staff=self.staff, now=decided,
                    result=result)
            decisions.finalise(self.session, call, self.staff, decided + timedelta(minutes=5))
            self.session.commit()
        with timed(report, "results_day_publish"):
            publication.publish(self.session, call, self.staff, call.results_at,
                                settings=publication.Settings.for_app(self.app))
            self.session.commit()
        self.report.results_call_slug = call.slug
        return call

    def score_all(self, call: Call, proposals: list[Proposal], members, start: datetime) -> None:
        """Each member confirms 利害関係なし, drafts and seals every sheet. A
        proposal has a quality the members broadly agree on, plus each
        member's own leaning."""
        quality = {p.id: self.random.uniform(1.8, 4.6) for p in proposals}
        assignments = self.session.scalars(
            select(Assignment).where(Assignment.proposal_id.in_([p.id for p in proposals]))
            .order_by(Assignment.panel_member_id, Assignment.proposal_id)).all()
        criteria = list(call.criteria)
        for index, assignment in enumerate(assignments):
            at = start + timedelta(seconds=20 * index)
            base = quality[assignment.proposal_id]
            values = {}
            for criterion in criteria:
                value = round(base + self.random.gauss(0, 0.7))
                values[criterion.id] = scoring.ScoreInput(min(5, max(1, value)), f"{criterion.name}の評価の理由です。")
            conflict_declaration.confirm_no_conflict(self.session, assignment, at)
            sheet = scoring.save_draft(self.session, assignment, Stage.DOCUMENT,
                                       scoring.SheetInput(scores=values, comment_for_group="今後の活動に期待します。"), at)
            scoring.submit_sheet(self.session, sheet, at + timedelta(seconds=5))
            if index % 100 == 99:
                self.session.commit()
        self.session.commit()
        self.report.counts["sealed_sheets"] = len(assignments)


def build(database_url: str, spec: ScaleSpec | None = None, *, upload_dir: Path | None = None,
          overrides: dict | None = None) -> ScaleReport:
    """Migrate ``database_url`` (which must be empty) and fill it.
    ``overrides`` go to the app's config (e.g. LOG_SIGNING_KEY_PATH: the
    server that later serves this data must sign with the same key)."""
    spec = spec or ScaleSpec()
    config: dict = {"DATABASE_URL": database_url, **(overrides or {})}
    if upload_dir is not None:
        config["UPLOAD_DIR"] = upload_dir
    app = create_app("development", config)
    report = ScaleReport(spec)
    with app.app_context():
        engine = app.extensions["engine"]
        upgrade(engine)
        if db_session.scalar(select(func.count()).select_from(Call)):
            raise SystemExit("このデータベースにはすでに募集があります。空のデータベースを指定してください。")
        builder = ScaleBuilder(app, spec, report)
        with timed(report, "accounts"):
            builder.accounts()
        with timed(report, "history"):
            builder.history()
        with timed(report, "results_day"):
            builder.results_day()
        report.counts["proposals"] = db_session.scalar(select(func.count()).select_from(Proposal))
        report.counts["calls"] = db_session.scalar(select(func.count()).select_from(Call))
        db_session.remove()
        engine.dispose()
    return report


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description="ベンチマーク用の規模データを作ります（空のデータベースに）。")
    parser.add_argument("--database-url", required=True)
    parser.add_argument("--upload-dir", type=Path)
    for name, default in asdict(ScaleSpec()).items():
        parser.add_argument(f"--{name.replace('_', '-')}", type=int, default=default)
    args = parser.parse_args(argv)
    spec = ScaleSpec(**{name: getattr(args, name) for name in asdict(ScaleSpec())})
    report = build(args.database_url, spec, upload_dir=args.upload_dir)
    print(json.dumps(report.as_dict(), ensure_ascii=False, indent=2))


if __name__ == "__main__":
    main()
