"""匿名化: a realistic accepted proposal that names its group in every way a
group does, scanned and decided through the secretariat's pages."""
from __future__ import annotations

import io
from dataclasses import dataclass

import pikepdf
import pytest
from PIL import Image, PngImagePlugin
from sqlalchemy import func, select

from portal.domain.anonymity import redaction, review_copy
from portal.domain.intake import intake
from portal.domain.proposals import workflow
from portal.domain.anonymity.identity import fold
from portal.domain.timeutil import now_utc
from portal.files import storage
from portal.files.objectstore import store_of
from portal.files.sanitize import sanitize
from portal.models import (
    DepartmentOpinion,
    ExtraTerm,
    FilePurpose,
    FindingStatus,
    Job,
    JobStatus,
    Proposal,
    ProposalStatus,
    RedactionFinding,
    ReviewAttachment,
    ReviewCopy,
)
from portal.pdf import render_pdf

from .conftest import csrf_token_from

GROUP = {
    "name": "特定非営利活動法人みなと見守りの会",
    "name_kana": "とくていひえいりかつどうほうじん みなとみまもりのかい",
    "representative_name": "山田 花子",
    "contact_name": "佐藤 健一",
    "officer_names": ["鈴木 一郎", "林 美咲"],
    "postal_code": "950-0001",
    "address": "新潟県みなと市中央一丁目2番3号 みなとビル201",
    "phone": "025-223-4567",
    "contact_email": "info@minato-mimamori.jp",
    "website": "https://www.minato-mimamori.jp/",
}
TEXTS = {
    "title": "みなと見守りの会の見守りカフェ事業",
    "background": "ＮＰＯ法人みなと見守りの会は、2015年から中央地区で高齢者の見守りを続けてきました。",
    "purpose": "ﾐﾅﾄﾐﾏﾓﾘﾉｶｲとして、代表の山田花子と理事の鈴木一郎が中心になり、地域の居場所を広げます。",
    "description": ("会場は新潟県みなと市中央一丁目2番3号 みなとビル201です。問い合わせは025-223-4567、"
                    "info@minato-mimamori.jp、https://www.minato-mimamori.jp/ まで。"),
    "place_and_target": "〒950-0001の事務所周辺に住む一人暮らしの高齢者",
    "expected_effects": "孤立の予防と見守りの輪の広がり。",
    "necessity": "市の広報と会場の協力が必要です。",
    "capability": "ミナトミマモリノカイとして10年の実績があります。林美咲が会計を担当します。",
}
ROLE_GROUP = "山田 花子が全体を統括します"
BUDGET_NOTE = "講師 鈴木一郎 謝礼"
# Every identifying string, as written in the texts above.
IDENTIFYING = [
    "ＮＰＯ法人みなと見守りの会", "みなと見守りの会", "ﾐﾅﾄﾐﾏﾓﾘﾉｶｲ", "ミナトミマモリノカイ", "山田花子", "山田 花子",
    "鈴木一郎", "林美咲", "中央一丁目2番3号", "みなとビル", "025-223-4567", "info@minato-mimamori.jp",
    "minato-mimamori.jp", "950-0001",
]
PDF_TEXT = "企画書　みなと見守りの会　代表 山田花子　電話 025-223-4567　見守りカフェの年間計画"


def japanese_pdf(text: str) -> bytes:
    """A PDF with a real Japanese text layer and identifying metadata."""
    data = render_pdf(f'<html lang="ja"><head><meta charset="utf-8"><title>{GROUP["name"]}</title></head>'
                      f"<body><p>{text}</p></body></html>")
    with pikepdf.open(io.BytesIO(data)) as pdf:
        pdf.docinfo["/Author"] = "Yamada Hanako"
        pdf.docinfo["/Title"] = GROUP["name"]
        out = io.BytesIO()
        pdf.save(out)
    return out.getvalue()


def png_with_metadata() -> bytes:
    image = Image.new("RGB", (40, 30), (200, 120, 40))
    info = PngImagePlugin.PngInfo()
    info.add_text("Author", "Yamada Hanako minato-mimamori")
    out = io.BytesIO()
    image.save(out, "PNG", pnginfo=info)
    return out.getvalue()


@dataclass
class World:
    call_id: int
    proposal_id: int
    code: str
    staff: object
    applicant: object
    reviewer: object
    applicant_email: str


def make_world(f, db, *, show_department_opinion=False, attachments=True, panel=True) -> World:
    call = f.call(show_department_opinion=show_department_opinion)
    user = f.applicant()
    group = user.group
    for key, value in GROUP.items():
        setattr(group, key, value)
    db.commit()
    proposal = f.proposal(user, call, declarations=True)
    for key, value in TEXTS.items():
        setattr(proposal, key, value)
    proposal.role_shares[0].group_role = ROLE_GROUP
    proposal.budget_lines[2].note = BUDGET_NOTE
    db.commit()
    if attachments:
        store = store_of(f.app)
        for data, name in ((japanese_pdf(PDF_TEXT), "みなと見守りの会_企画書.pdf"),
                           (png_with_metadata(), "山田花子_活動写真.png")):
            storage.store_file(db, store, sanitize(data, name), original_name=name,
                               purpose=FilePurpose.ATTACHMENT, group_id=group.id, proposal_id=proposal.id,
                               uploaded_by_id=user.id)
        db.commit()
    workflow.submit_proposal(db, proposal, user, proposal.version, now_utc())
    staff = f.staff()
    intake.decide_intake(db, proposal, "accept", "", staff, now_utc())
    reviewer = f.reviewer()
    if panel:
        f.panel_member(call, reviewer)
    db.commit()
    return World(call.id, proposal.id, proposal.anonymous_code, staff, user, reviewer, user.email)


@pytest.fixture()
def world(seed, db) -> World:
    with seed() as f:
        return make_world(f, db)


def base(world: World) -> str:
    return f"/admin/calls/{world.call_id}/anonymise/{world.proposal_id}"


def post(client, world: World, suffix: str, **data):
    token = csrf_token_from(client.get(base(world)).text)
    return client.post(base(world) + suffix, data={"csrf_token": token, **data})


def findings(db, world: World) -> list[RedactionFinding]:
    db.expire_all()
    return db.scalars(select(RedactionFinding).where(RedactionFinding.proposal_id == world.proposal_id)
                      .order_by(RedactionFinding.location, RedactionFinding.start)).all()


def covered(rows, location: str, text: str, source: str) -> bool:
    """Is every occurrence of ``text`` in ``source`` inside a finding at ``location``?"""
    start = source.find(text)
    assert start != -1, f"{text!r} is not in the test text"
    while start != -1:
        end = start + len(text)
        if not any(r.location == location and r.start <= start and end <= r.end for r in rows):
            return False
        start = source.find(text, start + 1)
    return True


def test_scan_finds_every_way_the_group_is_named(client, login, world, db):
    login(world.staff)
    assert post(client, world, "/scan").status_code == 302
    rows = findings(db, world)
    expected = {
        "background": ["ＮＰＯ法人みなと見守りの会"],
        "title": ["みなと見守りの会"],
        "purpose": ["ﾐﾅﾄﾐﾏﾓﾘﾉｶｲ", "山田花子", "鈴木一郎"],
        "description": ["中央一丁目2番3号", "みなとビル", "025-223-4567", "info@minato-mimamori.jp",
                        "https://www.minato-mimamori.jp/"],
        "place_and_target": ["950-0001"],
        "capability": ["ミナトミマモリノカイ", "林美咲"],
    }
    for key, parts in expected.items():
        for part in parts:
            assert covered(rows, f"field:{key}", part, TEXTS[key]), (key, part)
    assert covered(rows, "field:roles.0.group", "山田 花子", ROLE_GROUP)
    assert covered(rows, "field:budget.expense.0.note", "鈴木一郎", BUDGET_NOTE)
    # The PDF's text layer was read and scanned; the image cannot be.
    attachments = db.scalars(select(ReviewAttachment).where(ReviewAttachment.proposal_id == world.proposal_id)
                             .order_by(ReviewAttachment.position)).all()
    assert [a.content_type for a in attachments] == ["application/pdf", "image/png"]
    pdf_text = attachments[0].extracted_text
    assert "見守りカフェ" in pdf_text
    for part in ("みなと見守りの会", "山田花子", "025-223-4567"):
        assert covered(rows, f"file:{attachments[0].id}", part, pdf_text), part
    assert attachments[1].extracted_text == "" and review_copy.needs_eye_check(attachments[1])
    # Every finding records the text it was found in.
    sources = review_copy.sources_of(db, db.get(Proposal, world.proposal_id), included_only=False)
    assert all(r.source_sha256 == sources[r.location].sha256 for r in rows)
    # Two levels: sure hits are redacted by default (by the scan, no person);
    # pointers wait for the official, each with its reason.
    assert all(r.status == FindingStatus.REDACT and r.decided_by_id is None for r in rows if r.confidence == "high")
    assert all(r.status == FindingStatus.PENDING for r in rows if r.confidence == "low")
    assert any(r.confidence == "low" for r in rows) and all(r.reason for r in rows)
    # The page lists them, with their context.
    page = client.get(base(world))
    assert "ﾐﾅﾄﾐﾏﾓﾘﾉｶｲ" in page.text and "未判断" in page.text


def test_a_rescan_keeps_decisions_and_adds_nothing_twice(client, login, world, db):
    login(world.staff)
    post(client, world, "/scan")
    before = findings(db, world)
    post(client, world, "/findings/redact-high")
    decided = {r.id: r.status for r in findings(db, world)}
    assert FindingStatus.REDACT in decided.values()
    post(client, world, "/scan")
    after = findings(db, world)
    assert len(after) == len(before)
    assert {r.id: r.status for r in after} == decided


def test_decide_one_finding_and_all_high_confidence(client, login, world, db):
    login(world.staff)
    post(client, world, "/scan")
    rows = findings(db, world)
    first = rows[0]
    assert post(client, world, f"/findings/{first.id}", decision="dismiss").status_code == 302
    assert db.get(RedactionFinding, first.id).status == FindingStatus.DISMISS
    assert post(client, world, f"/findings/{first.id}", decision="nonsense").status_code == 422
    response = post(client, world, "/findings/redact-high")
    assert response.status_code == 302
    rows = findings(db, world)
    assert all(r.status == FindingStatus.REDACT for r in rows if r.confidence == "high" and r.id != first.id)
    assert db.get(RedactionFinding, first.id).status == FindingStatus.DISMISS  # decided ones stay


def test_extra_term_and_manual_redaction(client, login, world, db):
    login(world.staff)
    post(client, world, "/scan")
    response = post(client, world, "/terms", term="中央地区", scope="proposal")
    assert response.status_code == 302
    assert db.scalars(select(ExtraTerm.term).where(ExtraTerm.proposal_id == world.proposal_id)
                      .order_by(ExtraTerm.id)).all() == ["中央地区"]
    assert covered(findings(db, world), "field:background", "中央地区", TEXTS["background"])
    # Too short a term is refused with a message, nothing stored.
    short = post(client, world, "/terms", term="中", scope="proposal")
    assert short.status_code == 422 and "2文字以上" in short.text

    response = post(client, world, "/manual", location="field:necessity", text="会場の協力")
    assert response.status_code == 302
    manual = [r for r in findings(db, world) if r.manual]
    assert [(r.location, r.text, r.status) for r in manual] == [("field:necessity", "会場の協力", FindingStatus.REDACT)]
    missing = post(client, world, "/manual", location="field:necessity", text="どこにもない文")
    assert missing.status_code == 422 and "見つかりませんでした" in missing.text
    assert "どこにもない文" in missing.text  # what was typed is kept


def test_preview_shows_the_redacted_copy_without_saving(client, login, world, db):
    login(world.staff)
    post(client, world, "/scan")
    post(client, world, "/findings/redact-high")
    page = client.get(base(world) + "/preview")
    assert page.status_code == 200
    assert '<mark class="redaction-mark">＜団体名＞</mark>' in page.text
    assert "info@minato-mimamori.jp" not in page.text
    assert world.code in page.text
    assert db.scalar(select(func.count()).select_from(ReviewCopy)) == 0


def test_department_opinion_is_scanned_when_reviewers_see_it(seed, db):
    with seed() as f:
        w = make_world(f, db, show_department_opinion=True, attachments=False)
    proposal = db.get(Proposal, w.proposal_id)
    db.add(DepartmentOpinion(proposal_id=proposal.id, department="高齢福祉課", feasibility="feasible",
                             opinion="みなと見守りの会とは以前から連携しています。"))
    db.flush()
    redaction.scan(db, proposal, None, now_utc())
    rows = findings(db, w)
    assert covered(rows, "field:department.opinion", "みなと見守りの会", "みなと見守りの会とは以前から連携しています。")


def test_attachment_can_be_excluded_or_checked_by_eye(client, login, world, db):
    login(world.staff)
    post(client, world, "/scan")
    image = db.scalars(select(ReviewAttachment).where(ReviewAttachment.proposal_id == world.proposal_id,
                                                      ReviewAttachment.content_type == "image/png")).one()
    assert post(client, world, f"/attachments/{image.id}", checked_by_eye="y").status_code == 302
    db.expire_all()
    assert db.get(ReviewAttachment, image.id).checked_by_eye is True
    post(client, world, f"/attachments/{image.id}", excluded="y")
    db.expire_all()
    image = db.get(ReviewAttachment, image.id)
    assert image.excluded is True and image.checked_by_eye is False


@pytest.mark.parametrize("role", ["applicant", "reviewer"])
def test_only_staff_reach_anonymisation(client, login, world, db, role):
    login(getattr(world, role))
    for path in (f"/admin/calls/{world.call_id}/anonymise", base(world), base(world) + "/preview"):
        assert client.get(path).status_code == 403, path
    response = client.post(base(world) + "/scan", data={})
    assert response.status_code in (400, 403)
    assert findings(db, world) == []


def test_fold_helper_sanity():
    # The release tests compare folded text: half-width kana and katakana fold to hiragana.
    assert fold("ﾐﾅﾄﾐﾏﾓﾘﾉｶｲ") == fold("ミナトミマモリノカイ") == "みなとみまもりのかい"


def test_a_term_for_the_whole_call(client, login, world, db):
    login(world.staff)
    page = client.get(f"/admin/calls/{world.call_id}/anonymise")
    token = csrf_token_from(page.text)
    empty = client.post(f"/admin/calls/{world.call_id}/anonymise/terms", data={"csrf_token": token, "term": ""})
    assert empty.status_code == 422 and 'id="term-error"' in empty.text
    response = client.post(f"/admin/calls/{world.call_id}/anonymise/terms",
                           data={"csrf_token": token, "term": "中央地区", "scope": "call"})
    assert response.status_code == 302
    term = db.scalars(select(ExtraTerm).where(ExtraTerm.call_id == world.call_id)).one()
    assert term.proposal_id is None
    post(client, world, "/scan")
    assert covered(findings(db, world), "field:background", "中央地区", TEXTS["background"])


def test_a_term_for_the_whole_call_is_found_by_rescanning_every_proposal_in_the_worker(client, login, world, db):
    """すべての提案を再スキャン: a job (run here on the immediate queue,
    tests/test_job_queue.py runs the real worker) scans each accepted
    proposal and reports how many it scanned and what it found."""
    login(world.staff)
    token = csrf_token_from(client.get(f"/admin/calls/{world.call_id}/anonymise").text)
    client.post(f"/admin/calls/{world.call_id}/anonymise/terms",
                data={"csrf_token": token, "term": "中央地区", "scope": "call"})
    assert not covered(findings(db, world), "field:background", "中央地区", TEXTS["background"])
    response = client.post(f"/admin/calls/{world.call_id}/anonymise/rescan", data={"csrf_token": token})
    assert response.status_code == 302 and response.headers["Location"].endswith("#rescan")
    db.expire_all()
    assert covered(findings(db, world), "field:background", "中央地区", TEXTS["background"])
    job = db.scalars(select(Job).where(Job.call_id == world.call_id, Job.kind == "rescan")).one()
    assert job.status == JobStatus.DONE and job.done == job.total == 1 and job.active_key is None
    assert job.result["scanned"] == 1 and job.result["added"] >= 1
    page = client.get(f"/admin/calls/{world.call_id}/anonymise").text
    assert "完了：1件をスキャンしました" in page and 'role="status"' in page


def test_rescanning_a_call_with_nothing_to_scan_is_refused_with_a_message(client, login, world, db):
    login(world.staff)
    token = csrf_token_from(client.get(f"/admin/calls/{world.call_id}/anonymise").text)
    world_proposal = db.get(Proposal, world.proposal_id)
    world_proposal.status = ProposalStatus.REVIEW  # as if released: nothing left before release
    db.commit()
    response = client.post(f"/admin/calls/{world.call_id}/anonymise/rescan", data={"csrf_token": token})
    assert response.status_code == 409 and "スキャンする提案がありません" in response.text
