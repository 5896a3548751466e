"""Demo data for みなと市 (a fictional city): two calls, eight groups and
their proposals in realistic states. Every person, address, phone number
and mail address here is fictional.

``load_demo_data(session)`` only adds and flushes; ``flask seed-demo``
commits. It needs an app context (passwords are hashed with the configured
argon2id cost).

Dates of the open 令和8年度 call are computed from the time of loading, so a
freshly loaded demo is always open for proposals. The 令和7年度 call uses
fixed dates in 2025 and is finished.
"""
from __future__ import annotations

from datetime import date, datetime, timedelta
from decimal import Decimal

from flask import current_app
from sqlalchemy.orm import Session

from ..auth.sessions import hash_password
from ..files.samples import attach_sample_documents
from ..domain.proposal_fields import (
    DECLARATION_KEYS,
    EXPENSE_CATEGORIES,
    INCOME_CATEGORIES,
    TEXT_FIELDS,
    limits_for,
)
from ..domain.timeutil import JST, fiscal_year_label, format_jst, jst_datetime, now_utc, wareki_date
from ..domain.workflow import (
    allocate_receipt_number,
    budget_totals,
    build_snapshot,
    record_status,
    requested_amount,
    snapshot_digest,
)
from ..models import (
    BudgetKind,
    BudgetLine,
    Call,
    Criterion,
    Declaration,
    Group,
    Proposal,
    ProposalStatus,
    Role,
    RoleShare,
    StatusEvent,
    Submission,
    User,
)

from .content import (  # noqa: F401 - tests import these from here too
    CRITERIA_DESCRIPTIONS,
    DEMO_ACCOUNTS,
    DEMO_PASSWORD,
    DRAFT_CHANOMA,
    DRAFT_KOSODATE,
    DemoGroup,
    DemoProposal,
    FIELD_LIMITS,
    FINISHED_CALL_CRITERIA,
    FINISHED_CALL_SLUG,
    FINISHED_PROPOSALS,
    GROUPS,
    LEVELS,
    OPEN_CALL_CRITERIA,
    OPEN_CALL_SLUG,
    RETURNED_SHOKOKAI,
    RETURN_REASON,
    SUBMITTED_BOUSAI,
    SUBMITTED_MORI,
)


def load_demo_data(session: Session) -> None:
    """Add the demo calls, groups, accounts and proposals; flush, never commit."""
    now = now_utc().replace(second=0, microsecond=0)
    city = current_app.config.get("CITY_NAME", "みなと市")

    finished = _finished_call(city)
    open_call = _open_call(city, now)
    session.add_all([finished, open_call])
    session.flush()

    users = {spec.key: _account(session, spec, now) for spec in GROUPS}
    session.flush()
    for user in users.values():
        attach_sample_documents(session, current_app.config["UPLOAD_DIR"], user.group, user.id)

    # 令和7年度: written in May and June 2025, submitted before the deadline,
    # screened, results published. (created, submitted) in Tokyo time:
    times = [
        ((5, 12, 20, 15), (6, 9, 10, 42)),
        ((5, 16, 9, 30), (6, 13, 15, 8)),
        ((5, 22, 21, 5), (6, 18, 11, 27)),
        ((5, 26, 14, 0), (6, 24, 16, 51)),
        ((6, 2, 10, 45), (6, 27, 13, 3)),
        ((6, 5, 19, 20), (6, 30, 16, 22)),
    ]
    for spec, (created_at, submitted_at) in zip(FINISHED_PROPOSALS, times, strict=True):
        user = users[spec.group]
        created = jst_datetime(2025, *created_at)
        submitted = jst_datetime(2025, *submitted_at)
        proposal = _proposal(session, spec, finished, user, created, date(2025, 10, 1), date(2026, 3, 31))
        _submit(session, proposal, user, submitted)
        record_status(session, proposal, ProposalStatus.INTAKE, None, jst_datetime(2025, 7, 1, 9, 0),
                      note="受付確認（形式審査）を行い、提案を受け付けました。")
        record_status(session, proposal, ProposalStatus.REVIEW, None, finished.screening_starts_at,
                      note="審査委員会による審査を始めました。")
        record_status(session, proposal, ProposalStatus.RESULTS, None, finished.results_at,
                      note="審査結果を公表しました。")
        session.flush()

    # 令和8年度: the project period starts after the results and agreements.
    start = _first_of_month_after(open_call.results_at, months=2)
    end = _first_of_month_after(start, months=11) - timedelta(days=1)

    bousai = _proposal(session, SUBMITTED_BOUSAI, open_call, users["bousai"], now - timedelta(days=16), start, end)
    _submit(session, bousai, users["bousai"], now - timedelta(days=9, hours=2, minutes=14))
    shokokai = _proposal(session, RETURNED_SHOKOKAI, open_call, users["shokokai"], now - timedelta(days=15),
                         start, end)
    _submit(session, shokokai, users["shokokai"], now - timedelta(days=8, hours=5, minutes=41))
    record_status(session, shokokai, ProposalStatus.INTAKE, None, now - timedelta(days=7, hours=3))
    due_day = (now + timedelta(days=10)).astimezone(JST).date()
    due = jst_datetime(due_day.year, due_day.month, due_day.day, 17, 0)
    record_status(session, shokokai, ProposalStatus.RETURNED, None, now - timedelta(days=3, hours=4),
                  note=RETURN_REASON.format(due=format_jst(due)))
    shokokai.correction_due_at = due
    mori = _proposal(session, SUBMITTED_MORI, open_call, users["mori"], now - timedelta(days=14),
                     start, _first_of_month_after(start, months=10) - timedelta(days=1))
    _submit(session, mori, users["mori"], now - timedelta(days=2, hours=1, minutes=3))

    chanoma = _proposal(session, DRAFT_CHANOMA, open_call, users["chanoma"], now - timedelta(days=12), start, end)
    chanoma.updated_at = now - timedelta(days=1, hours=6)
    _proposal(session, DRAFT_KOSODATE, open_call, users["kosodate"], now - timedelta(hours=20), None, None)
    session.flush()


def _first_of_month_after(value: datetime | date, months: int) -> date:
    day = value.astimezone(JST).date() if isinstance(value, datetime) else value
    index = day.year * 12 + day.month - 1 + months
    return date(index // 12, index % 12 + 1, 1)


def _criteria(spec: list[tuple[str, int]]) -> list[Criterion]:
    return [
        Criterion(position=i, name=name, description=CRITERIA_DESCRIPTIONS[name], weight=Decimal(weight),
                  scale_min=1, scale_max=5, level_descriptors=dict(LEVELS))
        for i, (name, weight) in enumerate(spec)
    ]


def _finished_call(city: str) -> Call:
    opens = jst_datetime(2025, 5, 7, 9, 0)
    closes = jst_datetime(2025, 6, 30, 17, 0)
    screening = jst_datetime(2025, 7, 7, 9, 0)
    results = jst_datetime(2025, 8, 29, 10, 0)
    published = jst_datetime(2025, 4, 15, 9, 0)
    return Call(
        slug=FINISHED_CALL_SLUG,
        title=f"{fiscal_year_label(2025)} 市民提案型協働モデル事業 提案募集",
        fiscal_year=2025,
        summary=(
            "地域の課題を、市民活動団体と市が協働で解決する事業の提案を募集しました。"
            "6件の提案があり、審査委員会の審査を経て結果を公表しました。"
        ),
        guidelines=_guidelines(
            city, fiscal_year_label(2025), published=published, opens=opens, closes=closes, screening=screening,
            presentation=jst_datetime(2025, 8, 2, 13, 30), results=results,
            period="協定を締結した日から令和8年3月31日まで",
        ),
        opens_at=opens,
        closes_at=closes,
        screening_starts_at=screening,
        results_at=results,
        budget_cap_per_proposal=300_000,
        budget_total=1_500_000,
        field_limits=dict(FIELD_LIMITS),
        published_at=published,
        created_at=jst_datetime(2025, 4, 1, 10, 0),
        criteria=_criteria(FINISHED_CALL_CRITERIA),
    )


def _open_call(city: str, now: datetime) -> Call:
    today = now.astimezone(JST).date()
    opened = today - timedelta(days=20)
    closing = today + timedelta(days=27)
    opens = jst_datetime(opened.year, opened.month, opened.day, 9, 0)
    closes = jst_datetime(closing.year, closing.month, closing.day, 17, 0)
    screening_day = closing + timedelta(days=7)
    presentation_day = closing + timedelta(days=35)
    results_day = closing + timedelta(days=63)
    published_day = opened - timedelta(days=14)
    screening = jst_datetime(screening_day.year, screening_day.month, screening_day.day, 9, 0)
    results = jst_datetime(results_day.year, results_day.month, results_day.day, 10, 0)
    published = jst_datetime(published_day.year, published_day.month, published_day.day, 9, 0)
    return Call(
        slug=OPEN_CALL_SLUG,
        title=f"{fiscal_year_label(2026)} 市民提案型協働モデル事業 提案募集",
        fiscal_year=2026,
        summary=(
            "地域の課題を、市民活動団体・自治会・NPOなどの皆さんと市が協働で解決する事業の提案を募集します。"
            "1件あたり300,000円まで、市が事業費を負担します。"
        ),
        guidelines=_guidelines(
            city, fiscal_year_label(2026), published=published, opens=opens, closes=closes, screening=screening,
            presentation=jst_datetime(presentation_day.year, presentation_day.month, presentation_day.day, 13, 30),
            results=results, period="協定を締結した日から1年以内（予算の成立が条件です）",
        ),
        opens_at=opens,
        closes_at=closes,
        screening_starts_at=screening,
        results_at=results,
        budget_cap_per_proposal=300_000,
        budget_total=1_500_000,
        field_limits=dict(FIELD_LIMITS),
        published_at=published,
        created_at=published - timedelta(days=7),
        criteria=_criteria(OPEN_CALL_CRITERIA),
    )


def _guidelines(city: str, year: str, *, published: datetime, opens: datetime, closes: datetime,
                screening: datetime, presentation: datetime, results: datetime, period: str) -> str:
    """The 募集要項 body; shown with its line breaks on the call page."""
    return "\n".join([
        "1. 目的",
        f"{city}では、市民活動団体・自治会・NPOなどの皆さんと市が、それぞれの得意なことを持ち寄り、"
        "対等な立場で地域の課題に取り組む「市民提案型協働モデル事業」を実施しています。"
        f"{year}も、市と協働で行う事業の提案を広く募集します。採択された事業は、団体と市が協定を結び、"
        "目的を共有したうえで、役割と費用を分担して実施します。",
        "",
        "2. 提案できる団体",
        "次のすべてに当てはまる団体が提案できます。",
        "・構成員が5人以上であること",
        f"・{city}内に活動拠点があり、1年以上継続して活動していること",
        "・規約・会則を定め、適正な会計処理を行っていること",
        "・宗教活動・政治活動・選挙活動を目的としないこと",
        "・団体及びその役員が暴力団又は暴力団員と関係がないこと",
        "・市税を滞納していないこと",
        "1つの団体が提案できるのは1件までです。",
        "",
        "3. 対象となる事業",
        f"{city}内で行う公益的な事業で、団体と市が協働することで、それぞれが単独で行うよりも大きな効果が"
        "見込まれるものを対象とします。提案書では、団体が行うことと市が行うこと（役割分担）を具体的に示してください。",
        "",
        "4. 対象とならない事業",
        "・営利を目的とする事業",
        "・特定の個人や団体だけが利益を受ける事業",
        "・施設の建設や改修などの整備を目的とする事業",
        "・国・県・市の他の補助金や助成金をすでに受けている事業",
        "・宗教活動・政治活動・選挙活動を目的とする事業",
        "・法令や公序良俗に反する事業",
        "・団体内の親睦を目的とする事業（親睦会など）",
        "・単発のイベント",
        "",
        "5. 実施期間と負担金",
        f"実施期間：{period}",
        "市が負担する額（協働事業負担金）は、1件あたり300,000円が上限です（予算総額1,500,000円）。"
        "収支予算書では、収入の合計と支出の合計を一致させてください。団体の経常的な運営経費（事務所の家賃・"
        "人件費など）や、親睦を目的とする飲食費は負担金の対象になりません。",
        "",
        "6. 日程",
        f"・募集要項の公表：{format_jst(published)}",
        f"・受付期間：{format_jst(opens)} から {format_jst(closes)} まで（締切を過ぎた提出は受け付けません）",
        "・事前相談：受付期間中、市民協働課で随時受け付けます。提出前のご相談をおすすめします。",
        "・受付確認（形式審査）：提出後、市民協働課が書類を確認します。不備があるときは、期限を示して"
        "修正をお願いすること（差し戻し）があります。",
        f"・一次審査（書類審査）：{wareki_date(screening)}から",
        f"・二次審査（公開プレゼンテーション）：{format_jst(presentation)}（予定）",
        f"・結果の公表：{wareki_date(results)}（予定）",
        "",
        "7. 提出方法",
        "このポータルで団体登録を行い、団体概要を入力したうえで、提案書と収支予算書をオンラインで提出してください。"
        "あわせて、規約・会則、役員名簿、直近の事業報告書・決算書を添付してください。締切までは下書きを何度でも"
        "保存できます。提出すると受付番号が表示され、受付票（PDF）をダウンロードできます。",
        "",
        "8. 審査の方法",
        f"提案は、学識経験者や市民活動の実践者など外部の委員で構成する「{city}協働事業審査委員会」が審査します。"
        "審査委員には、団体名・代表者名などを伏せた提案書（匿名化した提案書）を示し、団体の知名度ではなく"
        "提案の内容で評価します。提案書の本文にも団体名を書かないようご協力ください。",
        "一次審査では、公表している審査基準の各項目を5段階（5：優れている ～ 1：劣る）で評価し、"
        "重みを掛けて合計します（100点満点）。委員と利害関係のある提案は、その委員が採点しません。",
        "二次審査は公開プレゼンテーション（説明7分・質疑5分）です。どなたでも傍聴できます。"
        "委員はプレゼンテーションの後に採点を見直すことができます。",
        "審査委員会の報告を受けて、市長が採否を決定し、理由を付けて各団体に通知します。",
        "",
        "9. 公表",
        "採択した事業名と団体名、各提案の合計点（不採択の提案は団体名を伏せ、受付番号で表示します）、"
        "審査委員会の講評、審査委員の名簿、審査の経過をこのポータルで公表します。"
        "審査項目ごとの得点は、提案した団体にお知らせします。",
        "",
        "10. 個人情報の取扱い",
        "代表者・連絡担当者の氏名、住所、電話番号などの個人情報は、本事業の審査・連絡・協定の締結のためにのみ利用し、"
        "審査委員に示す提案書や公表する資料には載せません。",
        "",
        "11. 問い合わせ先",
        f"{city} 市民生活部 市民協働課 協働推進係",
        "電話 0123-45-0000（平日 8時30分～17時15分）　メール kyodo@example.jp",
    ])


def _account(session: Session, spec: DemoGroup, now: datetime) -> User:
    registered = jst_datetime(spec.registered_on.year, spec.registered_on.month, spec.registered_on.day, 10, 0)
    # Registered before any draft of the open call, whenever the demo is loaded.
    registered = min(registered, now - timedelta(days=30))
    user = User(
        email=spec.email,
        password_hash=hash_password(DEMO_PASSWORD),
        role=Role.APPLICANT,
        created_at=registered,
        password_changed_at=registered,
        email_confirmed_at=registered + timedelta(minutes=12),
    )
    user.group = Group(
        name=spec.name,
        name_kana=spec.name_kana,
        kind=spec.kind,
        representative_title=spec.representative_title,
        representative_name=spec.representative_name,
        contact_name=spec.contact_name,
        contact_email=spec.email,
        postal_code=spec.postal_code,
        address=spec.address,
        phone=spec.phone,
        founded_on=spec.founded_on,
        member_count=spec.member_count,
        activity_fields=list(spec.activity_fields),
        activity_record=spec.activity_record,
        website=spec.website,
        based_in_city=True,
        updated_at=registered + timedelta(hours=1),
    )
    session.add(user)
    return user


def _proposal(session: Session, spec: DemoProposal, call: Call, user: User, created: datetime,
              period_start: date | None, period_end: date | None) -> Proposal:
    proposal = Proposal(call=call, group=user.group, status=ProposalStatus.DRAFT, created_at=created,
                        updated_at=created)
    for text_field in TEXT_FIELDS:
        setattr(proposal, text_field.key, spec.texts.get(text_field.key, ""))
    proposal.period_start, proposal.period_end = period_start, period_end
    proposal.desired_forms = list(spec.desired_forms)
    proposal.related_department = spec.related_department
    proposal.role_shares = [
        RoleShare(position=i, item=item, group_role=group_role, city_role=city_role)
        for i, (item, group_role, city_role) in enumerate(spec.roles)
    ]
    lines = [(BudgetKind.INCOME, row) for row in spec.income] + [(BudgetKind.EXPENSE, row) for row in spec.expense]
    proposal.budget_lines = [
        BudgetLine(position=i, kind=kind, category=category, amount=amount, note=note)
        for i, (kind, (category, amount, note)) in enumerate(lines)
    ]
    proposal.requested_amount = requested_amount(proposal)
    _check(proposal, call)
    session.add(proposal)
    session.flush()
    session.add(StatusEvent(proposal_id=proposal.id, from_status=None, to_status=ProposalStatus.DRAFT,
                            created_at=created, actor_id=user.id))
    return proposal


def _check(proposal: Proposal, call: Call) -> None:
    """Demo data must itself obey the rules the portal enforces."""
    limits = limits_for(call)
    for text_field in TEXT_FIELDS:
        length = len(getattr(proposal, text_field.key))
        if length > limits[text_field.key]:
            raise ValueError(f"demo text too long: {proposal.title} {text_field.key} {length}")
    for line in proposal.budget_lines:
        allowed = INCOME_CATEGORIES if line.kind == BudgetKind.INCOME else EXPENSE_CATEGORIES
        if line.category not in allowed:
            raise ValueError(f"unknown budget category: {line.category}")
    income, expense = budget_totals(proposal)
    if income != expense:
        raise ValueError(f"demo budget does not balance: {proposal.title} {income} != {expense}")
    if proposal.requested_amount > call.budget_cap_per_proposal:
        raise ValueError(f"demo request over the cap: {proposal.title}")


def _submit(session: Session, proposal: Proposal, user: User, at: datetime) -> Submission:
    """As workflow.submit_proposal does, at a given time in the past."""
    accepted = at - timedelta(minutes=4)
    proposal.declarations = [Declaration(key=key, accepted_at=accepted, accepted_by_id=user.id)
                             for key in DECLARATION_KEYS]
    record_status(session, proposal, ProposalStatus.SUBMITTED, user, at)
    proposal.submitted_at = at
    proposal.updated_at = at
    session.flush()
    if proposal.receipt_number is None:
        proposal.receipt_number = allocate_receipt_number(session, proposal.call)
    snapshot = build_snapshot(proposal, at)
    submission = Submission(
        revision=len(proposal.submissions) + 1,
        receipt_number=proposal.receipt_number,
        submitted_at=at,
        submitted_by_id=user.id,
        snapshot=snapshot,
        snapshot_sha256=snapshot_digest(snapshot),
    )
    proposal.submissions.append(submission)
    session.flush()
    return submission
