"""Every PDF template is laid out without text over text or out of its cell,
even with long real-world values: a 40-character group name, 9-digit
amounts, long criterion names, conflicts of interest, a long call title.
A published PDF is hashed once and can only be corrected by a new version,
so the layout is proven here rather than after publication."""
from __future__ import annotations

from decimal import Decimal

import pytest

from portal.applicant.receipts import ensure_receipt_pdf
from portal.domain.proposals import workflow
from portal.domain.results import decisions, publication, result_pdfs
from portal.domain.timeutil import now_utc
from portal.models import BudgetKind, BudgetLine, DecisionOutcome, ProposalStatus

from .pdf_layout_support import assert_clean_layout, page_texts
from .results_support import build, close_scoring, score, use_temporary_key

CALL_TITLE = "令和8年度 みなと市市民提案型協働モデル事業（地域福祉・子育て支援・防災まちづくり分野）"
GROUP_NAMES = (
    "特定非営利活動法人みなと市子ども食堂と地域の居場所づくりネットワーク協議会東支部",
    "一般社団法人みなと湾岸エリア多文化共生と外国人住民の暮らしを支える会連合会事務局",
    "みなと市北部地区まちづくり協議会防災部会・災害時要配慮者支援プロジェクト実行委員",
)
TITLES = (
    "高齢者と子どもが共に集う多世代交流拠点「みんなの茶の間」の運営と見守り活動の充実",
    "外国人住民のための多言語による防災情報の発信と避難所での通訳ボランティア育成事業",
    "災害時要配慮者の個別避難計画づくりを地域で支える仕組みの構築と訓練の実施事業",
)
CRITERIA = (
    "公益性（市民全体の利益につながり、特定の団体や個人の利益に偏っていないか）",
    "地域課題の的確な把握と、課題の解決に向けた事業の必要性・緊急性",
    "市と団体がそれぞれの強みを活かす協働の効果と相乗効果の大きさ",
    "事業計画の具体性と、団体の体制・実績から見た実現可能性",
    "予算の妥当性",
)
AMOUNTS = (999_999_999, 240_000, 123_456_789)
LONG_URL = "https://www.city.minato.example.jp/shimin/kyodo/teian/r8/" + "a1b2c3d4e5" * 6 + "/index.html"


@pytest.fixture()
def settings(app, monkeypatch, tmp_path):
    return use_temporary_key(app, monkeypatch, tmp_path)


def test_the_names_are_as_long_as_the_issue_says():
    assert all(len(name) == 40 for name in GROUP_NAMES)
    assert all(len(title) <= 40 for title in TITLES)  # the title field's limit


def long_scenario(factory, db):
    """Five reviewers, three proposals (one with a conflict: 「4人（利害関係 1人）」),
    9-digit amounts, 40-character names, long criterion names, a named roster."""
    s = build(factory, reviewers=5, proposals=3, conflicts=[(0, 1)], amounts=AMOUNTS, titles=TITLES,
              consent=(1, 2), threshold_share=Decimal("0.5"), publish_roster=True, title=CALL_TITLE,
              budget_total=999_999_999)
    for criterion, name in zip(s.call.criteria, CRITERIA, strict=True):
        criterion.name = name
    for proposal, name in zip(s.proposals, GROUP_NAMES, strict=True):
        proposal.group.name = name
    for member in s.members:
        member.public_title = "国立大学法人みなと大学大学院 地域政策学研究科 教授（地域福祉・市民協働論）"
    s.call.general_comment = "どの提案も地域の課題に真剣に向き合っていました。" * 6 + LONG_URL
    db.commit()
    rows = {0: [5, 5, 5, 5, 5], 1: [4, 4, 4, 3, 3], 2: [1, 1, 2, 1, 1]}
    for member in range(5):
        for proposal, values in rows.items():
            if (member, proposal) != (0, 1):
                score(db, s, member, proposal, values, comment="担い手が明確です。")
    close_scoring(db, s)
    staff = factory.staff()
    outcomes = [(DecisionOutcome.ADOPTED, "", ""),
                (DecisionOutcome.CONDITIONAL, "委員会の審議により、規模を縮小して採択します。" * 3,
                 "事業費を半額とし、実施計画を8月末までに提出すること。" + LONG_URL),
                (DecisionOutcome.NOT_ADOPTED, "得点が基準に達しませんでした。", "")]
    for proposal, (outcome, reason, conditions) in zip(s.proposals, outcomes, strict=True):
        decisions.record_decision(db, s.call, proposal, outcome=outcome, reason=reason, conditions=conditions,
                                  review_comment="地域の担い手が明確で、継続性が期待できます。" * 4, staff=staff,
                                  now=now_utc())
    decisions.finalise(db, s.call, staff, now_utc())
    db.commit()
    s.extra["staff"] = staff
    return s


@pytest.fixture()
def published(factory, db, settings):
    s = long_scenario(factory, db)
    publication.publish(db, s.call, s.extra["staff"], now_utc(), "", settings=settings,
                        mailer=lambda *message: None)
    db.commit()
    return s


def test_the_results_pdf_keeps_every_text_in_its_cell(db, published, settings):
    document = publication.results_document(db, published.call)
    conflicted = document["proposals"][[p["code"] for p in document["proposals"]].index(published.code(1))]
    assert conflicted["scorer_count"] == 4 and conflicted["conflicted_count"] == 1
    pdf = publication.results_pdf_bytes(db, published.call, store=settings.store)
    assert_clean_layout(pdf, "審査結果のPDF")
    compact = "".join(page_texts(pdf))
    assert "（利害関係1人）" in compact and "999,999,999円" in compact and "240,000円" in compact
    assert GROUP_NAMES[0] in compact and CRITERIA[1] in compact


def test_the_results_pdf_of_the_issue_keeps_the_scorers_out_of_the_amount(db, published, settings):
    """The collision of the issue on its own: 「4人（利害関係 1人）」 beside
    「240,000円」, with short names (rendered from the document directly)."""
    document = publication.results_document(db, published.call)
    for proposal in document["proposals"]:
        proposal["group_name"] = proposal["group_name"] and "みなと見守りの会"
        proposal["title"] = proposal["title"] and "地域の茶の間づくり"
    pdf = result_pdfs.render_results_pdf(document, city_name="みなと市")
    assert_clean_layout(pdf, "審査結果のPDF（短い団体名）")


def test_the_process_log_pdf_keeps_every_text_in_its_cell(db, published, settings):
    pdf = publication.log_pdf_bytes(db, published.call, store=settings.store)
    assert "審査プロセスの記録" in "".join(page_texts(pdf))
    assert_clean_layout(pdf, "審査プロセスの記録のPDF")


def long_submission(factory, db):
    call = factory.call(title=CALL_TITLE, cap=1_000_000_000)
    user = factory.applicant(name=GROUP_NAMES[0])
    group = user.group
    group.name_kana = "とくていひえいりかつどうほうじんみなとしこどもしょくどうとちいきのいばしょづくりねっとわーく"
    group.representative_title = "理事長"
    group.representative_name = "長谷川 美奈子エリザベート"
    for document in group.documents:
        document.original_name = f"令和7年度_{document.original_name[:-4]}_総会承認済み_最終版_{GROUP_NAMES[0]}.pdf"
    proposal = factory.proposal(user, call, declarations=True)
    proposal.title = TITLES[0]
    proposal.background = ("市内の一人暮らしの高齢者は年々増えており、" * 20) + LONG_URL
    proposal.description = "1. 毎週土曜日に食堂を開く\n2. 見守りの訪問\n" + "詳しくは " + LONG_URL
    proposal.budget_lines = [
        BudgetLine(position=0, kind=BudgetKind.INCOME, category=proposal.budget_lines[0].category,
                   amount=123_456_789),
        BudgetLine(position=1, kind=BudgetKind.INCOME, category="自己資金", amount=876_543_210),
        BudgetLine(position=2, kind=BudgetKind.EXPENSE, category="消耗品費", amount=999_999_999),
    ]
    proposal.requested_amount = 123_456_789
    db.commit()
    submission = workflow.submit_proposal(db, proposal, user, proposal.version, now_utc())
    db.commit()
    assert proposal.status == ProposalStatus.SUBMITTED
    return submission


def test_the_receipt_keeps_the_page_number_off_the_hash_and_every_text_in_its_cell(factory, db):
    submission = long_submission(factory, db)
    pdf = ensure_receipt_pdf(submission)
    assert_clean_layout(pdf, "受付票のPDF")
    texts = page_texts(pdf)
    assert len(texts) >= 2  # the footer repeats on every page
    for number, text in enumerate(texts, start=1):
        assert submission.snapshot_sha256 in text and f"{number}/{len(texts)}" in text
    compact = "".join(texts)
    assert GROUP_NAMES[0] in compact and "999,999,999円" in compact and "123,456,789円" in compact


def test_the_notices_keep_every_text_in_its_cell(app, db, published, settings):
    """通知書 (portal/domain/results/notices.py) with the long names, the
    long conditions and reasons, and a long head's title and name."""
    from portal.domain.results import notices
    from portal.models import Notice

    long_settings = notices.NoticeSettings(
        city_name="みなと市", head_title="みなと市長職務代理者 みなと市副市長", head_name="港川 太郎左衛門",
        prefix="みなと市市民協働推進部市民協働課協第", contact_department="市民協働推進部 市民協働課",
        contact_phone="012-345-6789", contact_email="kyodo@city.minato.example.jp")
    rows = db.query(Notice).filter(Notice.call_id == published.call.id).order_by(Notice.serial).all()
    assert len(rows) == 3
    for notice in rows:
        pdf = notices.ensure_pdf(db, settings.store, notice, long_settings)
        assert_clean_layout(pdf, f"通知書（{notice.outcome}）")
        compact = "".join(page_texts(pdf))
        assert notice.number in compact and "公印省略" in compact
