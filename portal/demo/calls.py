"""The demo's three calls, unpublished as built: the loader publishes each
through ``call_admin.publish_call`` so that its process log starts the way a
real one does.

- 令和7年度 (fixed dates in 2025): finished, results published;
- 令和8年度 (relative to loading): open for proposals;
- 令和8年度 地域防災・見守り特別枠 (relative to loading): closed about three
  weeks ago, scoring window open now.
"""
from __future__ import annotations

from datetime import date, datetime, timedelta
from decimal import Decimal

from ..domain.timeutil import JST, fiscal_year_label, format_jst, jst_datetime, wareki_date
from ..models import Call, Criterion
from .content import (
    CRITERIA_DESCRIPTIONS,
    FIELD_LIMITS,
    FINISHED_CALL_CRITERIA,
    FINISHED_CALL_SLUG,
    LEVELS,
    OPEN_CALL_CRITERIA,
    OPEN_CALL_SLUG,
)
from .tokubetsu import (
    SPECIAL_CALL_CAP,
    SPECIAL_CALL_CRITERIA,
    SPECIAL_CALL_SLUG,
    SPECIAL_CALL_TOTAL,
    SPECIAL_PURPOSE,
)

# 令和7年度, in Tokyo time.
FINISHED_PUBLISHED = jst_datetime(2025, 4, 15, 9, 0)
FINISHED_PRESENTATION = jst_datetime(2025, 8, 2, 13, 30)


def _criteria(spec: list[tuple[str, int]]) -> list[Criterion]:
    return [
        Criterion(position=i, name=name, description=CRITERIA_DESCRIPTIONS[name], weight=Decimal(weight),
                  scale_min=1, scale_max=5, level_descriptors=dict(LEVELS))
        for i, (name, weight) in enumerate(spec)
    ]


def day_at(day: date, hour: int, minute: int = 0) -> datetime:
    return jst_datetime(day.year, day.month, day.day, hour, minute)


def first_of_month_after(value: datetime | date, months: int) -> date:
    day = value.astimezone(JST).date() if isinstance(value, datetime) else value
    index = day.year * 12 + day.month - 1 + months
    return date(index // 12, index % 12 + 1, 1)


def finished_call(city: str) -> Call:
    opens = jst_datetime(2025, 5, 7, 9, 0)
    closes = jst_datetime(2025, 6, 30, 17, 0)
    screening = jst_datetime(2025, 7, 7, 9, 0)
    results = jst_datetime(2025, 8, 29, 10, 0)
    return Call(
        slug=FINISHED_CALL_SLUG,
        title=f"{fiscal_year_label(2025)} 市民提案型協働モデル事業 提案募集",
        fiscal_year=2025,
        summary=(
            "地域の課題を、市民活動団体と市が協働で解決する事業の提案を募集しました。"
            "6件の提案があり、審査委員会の審査を経て、4件を採択（うち1件は条件付き）しました。"
        ),
        guidelines=guidelines(
            city, fiscal_year_label(2025), published=FINISHED_PUBLISHED, opens=opens, closes=closes,
            screening=screening, presentation=FINISHED_PRESENTATION, results=results,
            period="協定を締結した日から令和8年3月31日まで", presentation_scored_apart=False,
        ),
        opens_at=opens,
        closes_at=closes,
        screening_starts_at=screening,
        results_at=results,
        # The scoring window spans the presentation (2 Aug): members draft
        # in July and submit after hearing the groups.
        scoring_opens_at=screening,
        scoring_closes_at=jst_datetime(2025, 8, 8, 17, 0),
        show_department_opinion=True,
        budget_cap_per_proposal=300_000,
        budget_total=1_500_000,
        field_limits=dict(FIELD_LIMITS),
        threshold_share=Decimal("0.6"),
        veto_criterion_position=0,  # 公益性: a majority at 2 or below means no recommendation
        veto_at_or_below=2,
        tie_break_positions=[0, 2],
        publish_roster=True,
        created_at=jst_datetime(2025, 4, 1, 10, 0),
        criteria=_criteria(FINISHED_CALL_CRITERIA),
    )


def open_call(city: str, now: datetime) -> tuple[Call, datetime]:
    """The call and when it is to be published."""
    today = now.astimezone(JST).date()
    opened = today - timedelta(days=20)
    closing = today + timedelta(days=27)
    opens = day_at(opened, 9)
    closes = day_at(closing, 17)
    screening = day_at(closing + timedelta(days=7), 9)
    results = day_at(closing + timedelta(days=63), 10)
    published = day_at(opened - timedelta(days=14), 9)
    return Call(
        slug=OPEN_CALL_SLUG,
        title=f"{fiscal_year_label(2026)} 市民提案型協働モデル事業 提案募集",
        fiscal_year=2026,
        summary=(
            "地域の課題を、市民活動団体・自治会・NPOなどの皆さんと市が協働で解決する事業の提案を募集します。"
            "1件あたり300,000円まで、市が事業費を負担します。"
        ),
        guidelines=guidelines(
            city, fiscal_year_label(2026), published=published, opens=opens, closes=closes, screening=screening,
            presentation=day_at(closing + timedelta(days=35), 13, 30),
            results=results, period="協定を締結した日から1年以内（予算の成立が条件です）",
        ),
        opens_at=opens,
        closes_at=closes,
        screening_starts_at=screening,
        results_at=results,
        budget_cap_per_proposal=300_000,
        budget_total=1_500_000,
        field_limits=dict(FIELD_LIMITS),
        threshold_share=Decimal("0.6"),
        publish_roster=True,
        created_at=published - timedelta(days=7),
        criteria=_criteria(OPEN_CALL_CRITERIA),
    ), published


def special_call(city: str, now: datetime) -> tuple[Call, datetime]:
    """Closed 21 days before today; the panel scores from 14 days ago to 10 days
    ahead. The call and when it is to be published."""
    today = now.astimezone(JST).date()
    published = day_at(today - timedelta(days=95), 9)
    opens = day_at(today - timedelta(days=80), 9)
    closes = day_at(today - timedelta(days=21), 17)
    screening = day_at(today - timedelta(days=14), 9)
    scoring_closes = day_at(today + timedelta(days=10), 17)
    results = day_at(today + timedelta(days=35), 10)
    year = fiscal_year_label(2026)
    return Call(
        slug=SPECIAL_CALL_SLUG,
        title=f"{year} 市民提案型協働モデル事業 地域防災・見守り特別枠",
        fiscal_year=2026,
        summary=(
            "災害への備えと日頃の見守りを、地域と市が一緒に進める事業に限って提案を募集しました。"
            "受付は終了し、審査委員会が審査しています。"
        ),
        guidelines=guidelines(
            city, f"{year}の特別枠", published=published, opens=opens, closes=closes, screening=screening,
            presentation=None, results=results, period="協定を締結した日から令和9年3月31日まで",
            cap=SPECIAL_CALL_CAP, total=SPECIAL_CALL_TOTAL, preface=SPECIAL_PURPOSE,
            scoring=(screening, scoring_closes),
        ),
        opens_at=opens,
        closes_at=closes,
        screening_starts_at=screening,
        results_at=results,
        scoring_opens_at=screening,
        scoring_closes_at=scoring_closes,
        show_department_opinion=True,
        # The secretariat asks the department before returning, so groups get two weeks.
        correction_days=14,
        budget_cap_per_proposal=SPECIAL_CALL_CAP,
        budget_total=SPECIAL_CALL_TOTAL,
        field_limits=dict(FIELD_LIMITS),
        threshold_share=Decimal("0.6"),
        tie_break_positions=[0],
        publish_roster=True,
        created_at=published - timedelta(days=10),
        criteria=_criteria(SPECIAL_CALL_CRITERIA),
    ), published


def guidelines(city: str, year: str, *, published: datetime, opens: datetime, closes: datetime,
               screening: datetime, presentation: datetime | None, results: datetime, period: str,
               cap: int = 300_000, total: int = 1_500_000, preface: str = "",
               scoring: tuple[datetime, datetime] | None = None, presentation_scored_apart: bool = True) -> str:
    """The 募集要項 body; shown with its line breaks on the call page. With a
    presentation scored apart, it is a second stage (二次審査); otherwise the
    members hear it before they submit their one score sheet."""
    if presentation is not None and not presentation_scored_apart:
        review_steps = [
            f"・書類審査：{wareki_date(screening)}から（採点の提出は公開プレゼンテーションの後）",
            f"・公開プレゼンテーション：{format_jst(presentation)}（予定）",
        ]
        review_method = [
            "審査委員は提案書を読んだうえで公開プレゼンテーション（説明7分・質疑5分。どなたでも傍聴できます）に臨み、"
            "その後に採点を確定して提出します。公表している審査基準の各項目を5段階（5：優れている ～ 1：劣る）で評価し、"
            "重みを掛けて合計します（100点満点）。委員と利害関係のある提案は、その委員が採点しません。",
        ]
    elif presentation is not None:
        review_steps = [
            f"・一次審査（書類審査）：{wareki_date(screening)}から",
            f"・二次審査（公開プレゼンテーション）：{format_jst(presentation)}（予定）",
        ]
        review_method = [
            "一次審査では、公表している審査基準の各項目を5段階（5：優れている ～ 1：劣る）で評価し、"
            "重みを掛けて合計します（100点満点）。委員と利害関係のある提案は、その委員が採点しません。",
            "二次審査は公開プレゼンテーション（説明7分・質疑5分）です。どなたでも傍聴できます。"
            "委員はプレゼンテーションの後に採点を見直すことができます。",
        ]
    else:
        window = f"（採点期間：{format_jst(scoring[0])} ～ {format_jst(scoring[1])}）" if scoring else ""
        review_steps = [f"・書類審査：{wareki_date(screening)}から{window}（公開プレゼンテーションは行いません）"]
        review_method = [
            "書類審査のみで行います。公表している審査基準の各項目を5段階（5：優れている ～ 1：劣る）で評価し、"
            "重みを掛けて合計します（100点満点）。委員と利害関係のある提案は、その委員が採点しません。",
        ]
    return "\n".join([
        "1. 目的",
        *([preface] if preface else []),
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
        f"市が負担する額（協働事業負担金）は、1件あたり{cap:,}円が上限です（予算総額{total:,}円）。"
        "収支予算書では、収入の合計と支出の合計を一致させてください。団体の経常的な運営経費（事務所の家賃・"
        "人件費など）や、親睦を目的とする飲食費は負担金の対象になりません。",
        "",
        "6. 日程",
        f"・募集要項の公表：{format_jst(published)}",
        f"・受付期間：{format_jst(opens)} から {format_jst(closes)} まで（締切を過ぎた提出は受け付けません）",
        "・事前相談：受付期間中、市民協働課で随時受け付けます。提出前のご相談をおすすめします。",
        "・受付確認（形式審査）：提出後、市民協働課が書類を確認します。不備があるときは、期限を示して"
        "修正をお願いすること（差し戻し）があります。",
        *review_steps,
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
        *review_method,
        "得点が満点の60%以上の提案のうち、順位の高いものから予算の範囲で推薦します。",
        "審査委員会の報告を受けて、市長が採否を決定し、理由を付けて各団体に通知します。",
        "",
        "9. 公表",
        "採択した事業名と団体名、各提案の合計点（不採択の提案は、団体が同意した場合を除き団体名を伏せ、提案コードで表示します）、"
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
