"""審査委員への公開: refused while anything is unresolved; afterwards the
reviewer copy and the attachment copies carry nothing that identifies the group."""
from __future__ import annotations

import io
import json
import shutil
import subprocess

import pikepdf
import pytest
from PIL import Image
from sqlalchemy import select

from portal.domain.anonymity import redaction, review_copy
from portal.domain.log import process_log
from portal.domain.anonymity.identity import fold
from portal.domain.anonymity.release import ReleaseRefused, bare_pdf, release_for_review
from portal.domain.timeutil import now_utc
from portal.files.objectstore import store_of
from portal.models import (
    Assignment,
    Call,
    DepartmentOpinion,
    FindingStatus,
    LogEntry,
    Proposal,
    ProposalStatus,
    RedactionFinding,
    ReviewAttachment,
    ReviewCopy,
)

from .conftest import csrf_token_from
from .test_anonymisation_flow import GROUP, IDENTIFYING, World, make_world

PDFTOTEXT = shutil.which("pdftotext")
# Strings that must not reach a reviewer in any form (compared folded, so
# 全角/半角 and kana variants count too).
FORBIDDEN = IDENTIFYING + ["見守りの会", "みなとみまもり", "山田", "鈴木", "佐藤 健一", "林 美咲", "Yamada",
                           "minato", "950-0001", "0001", "223-4567", "_企画書.pdf", "活動写真"]


def assert_clean(text: str, where: str) -> None:
    folded = fold(text)
    for term in FORBIDDEN:
        assert fold(term) not in folded, f"{term!r} reached the reviewer in {where}"


@pytest.fixture()
def world(seed, db) -> World:
    with seed() as f:
        return make_world(f, db)


def proposal_of(db, world: World) -> Proposal:
    db.expire_all()
    return db.get(Proposal, world.proposal_id)


def resolve_everything(db, app, world: World) -> Proposal:
    """What staff do: scan, redact every finding, look at the image."""
    proposal = proposal_of(db, world)
    redaction.scan(db, proposal, None, now_utc(), store=store_of(app))
    for row in review_copy.findings_of(db, proposal):
        redaction.decide_finding(db, row, FindingStatus.REDACT, None, now_utc())
    for attachment in review_copy.review_attachments(db, proposal):
        if review_copy.needs_eye_check(attachment):
            redaction.set_attachment(db, attachment, excluded=False, checked_by_eye=True)
    db.commit()
    return proposal


def test_release_is_refused_while_findings_are_pending(app, db, world):
    proposal = proposal_of(db, world)
    redaction.scan(db, proposal, None, now_utc(), store=store_of(app))
    with pytest.raises(ReleaseRefused) as refused:
        release_for_review(db, [proposal], None, now_utc(), store=store_of(app))
    message = refused.value.message
    assert world.code in message
    assert "決めていない検出" in message
    assert "添付資料2" in message and "目視で確認済み" in message
    assert db.scalars(select(ReviewCopy)).all() == []
    assert proposal_of(db, world).status == ProposalStatus.ACCEPTED


def test_release_is_refused_before_any_scan(app, db, world):
    with pytest.raises(ReleaseRefused) as refused:
        release_for_review(db, [proposal_of(db, world)], None, now_utc(), store=store_of(app))
    assert "スキャンしてください" in refused.value.message


def test_release_is_refused_when_the_text_changed_after_the_scan(app, db, seed):
    with seed() as f:
        world = make_world(f, db, show_department_opinion=True, attachments=False)
    proposal = proposal_of(db, world)
    db.add(DepartmentOpinion(proposal_id=proposal.id, department="高齢福祉課", feasibility="feasible",
                             opinion="山田花子さんとは以前から連携しています。"))
    db.commit()
    resolve_everything(db, app, world)
    opinion = db.scalars(select(DepartmentOpinion).where(DepartmentOpinion.proposal_id == proposal.id)).one()
    opinion.opinion = "以前から連携しています。山田花子さん"
    db.commit()
    with pytest.raises(ReleaseRefused) as refused:
        release_for_review(db, [proposal_of(db, world)], None, now_utc())
    assert "内容が変わった" in refused.value.message and "担当課所見" in refused.value.message


def test_release_is_refused_for_an_image_neither_checked_nor_excluded(app, db, world):
    proposal = proposal_of(db, world)
    redaction.scan(db, proposal, None, now_utc(), store=store_of(app))
    redaction.redact_high_confidence(db, proposal, None, now_utc())
    for row in review_copy.findings_of(db, proposal):
        if row.status == FindingStatus.PENDING:
            redaction.decide_finding(db, row, FindingStatus.REDACT, None, now_utc())
    problems = redaction.release_problems(db, proposal)
    assert problems == [p for p in problems if "添付資料2" in p] and len(problems) == 1
    image = [a for a in review_copy.review_attachments(db, proposal) if a.content_type == "image/png"][0]
    redaction.set_attachment(db, image, excluded=True, checked_by_eye=False)
    assert redaction.release_problems(db, proposal) == []


def test_the_release_route_lists_what_is_unresolved(client, login, app, db, world):
    redaction.scan(db, proposal_of(db, world), None, now_utc(), store=store_of(app))
    db.commit()
    login(world.staff)
    page = client.get(f"/admin/calls/{world.call_id}/anonymise")
    assert page.status_code == 200 and world.code in page.text
    response = client.post(f"/admin/calls/{world.call_id}/anonymise/release",
                           data={"csrf_token": csrf_token_from(page.text), "proposal_id": str(world.proposal_id)})
    assert response.status_code == 409
    assert "審査委員に公開できません" in response.text and "決めていない検出" in response.text
    assert proposal_of(db, world).status == ProposalStatus.ACCEPTED


def test_release_writes_a_clean_copy_and_assigns_the_panel(client, login, app, db, world):
    resolve_everything(db, app, world)
    login(world.staff)
    page = client.get(f"/admin/calls/{world.call_id}/anonymise")
    assert "公開できます" in page.text
    response = client.post(f"/admin/calls/{world.call_id}/anonymise/release",
                           data={"csrf_token": csrf_token_from(page.text), "proposal_id": str(world.proposal_id)})
    assert response.status_code == 302, response.text[:2000]

    proposal = proposal_of(db, world)
    assert proposal.status == ProposalStatus.REVIEW and proposal.released_at is not None
    copy = db.scalars(select(ReviewCopy).where(ReviewCopy.proposal_id == proposal.id)).one()
    content = copy.content
    assert copy.code == world.code == content["code"]
    assert content["title"].startswith("＜団体名＞")
    assert {f["key"] for f in content["fields"]} == {"background", "purpose", "description", "place_and_target",
                                                     "expected_effects", "necessity", "capability"}
    assert content["budget"]["requested_amount"] == 200_000
    assert content["role_shares"][0]["group_role"].startswith("＜氏名＞")
    assert [a["label"] for a in content["attachments"]] == ["添付資料1", "添付資料2"]
    assert_clean(json.dumps(content, ensure_ascii=False), "the ReviewCopy")

    # The attachment copies: generated names, no identifying text, no metadata.
    attachments = db.scalars(select(ReviewAttachment).where(ReviewAttachment.proposal_id == proposal.id)
                             .order_by(ReviewAttachment.position)).all()
    for attachment in attachments:
        assert attachment.storage_name and attachment.storage_name not in json.dumps(content)
        data = store_of(app).get(attachment.storage_name)
        assert b"Yamada" not in data and b"minato" not in data
        assert_clean(data.decode("latin-1"), f"the bytes of {attachment.content_type}")
    pdf_copy = store_of(app).get(attachments[0].storage_name)
    with pikepdf.open(io.BytesIO(pdf_copy)) as pdf:
        assert "/Info" not in pdf.trailer or len(pdf.docinfo) == 0
        assert "/Metadata" not in pdf.Root
        with pdf.open_metadata() as xmp:
            assert len(xmp) == 0
    if PDFTOTEXT:
        text = subprocess.run([PDFTOTEXT, "-", "-"], input=pdf_copy, capture_output=True, check=True).stdout.decode()
        assert_clean(text, "the reviewer's PDF")  # redacted: the pages are pictures, with no text layer
        assert len(pikepdf.open(io.BytesIO(pdf_copy)).pages) >= 1
    image = Image.open(io.BytesIO(store_of(app).get(attachments[1].storage_name)))
    assert not image.info.get("Author") and "exif" not in image.info

    # The log and the panel.
    entries = db.scalars(select(LogEntry).where(LogEntry.call_id == world.call_id).order_by(LogEntry.seq)).all()
    kinds = [e.kind for e in entries]
    assert "released_to_reviewers" in kinds and kinds.index("released_to_reviewers") < kinds.index("reviewer_assigned")
    released = next(e for e in entries if e.kind == "released_to_reviewers")
    assert released.payload == {"proposal_codes": [world.code]}
    assert process_log.verify(db, db.get(Call, world.call_id)).ok
    assert db.scalars(select(Assignment).where(Assignment.proposal_id == proposal.id)).one()

    # Staff can fetch the reviewers' copy; nothing can be changed any more.
    copy_page = client.get(f"/admin/calls/{world.call_id}/anonymise/{world.proposal_id}/attachments/"
                           f"{attachments[0].id}/copy")
    assert copy_page.status_code == 200 and copy_page.data == pdf_copy
    assert "みなと" not in copy_page.headers["Content-Disposition"]
    token = csrf_token_from(client.get(f"/admin/calls/{world.call_id}/anonymise/{world.proposal_id}").text)
    again = client.post(f"/admin/calls/{world.call_id}/anonymise/{world.proposal_id}/scan",
                        data={"csrf_token": token})
    assert again.status_code == 409
    with pytest.raises(ReleaseRefused):
        release_for_review(db, [proposal_of(db, world)], None, now_utc(), store=store_of(app))


def test_an_attachment_without_redactions_is_passed_on_without_metadata(app, db, seed):
    with seed() as f:
        world = make_world(f, db)
    proposal = resolve_everything(db, app, world)
    # Staff judge the PDF harmless: every finding in it dismissed.
    pdf_attachment = review_copy.review_attachments(db, proposal)[0]
    for row in review_copy.findings_of(db, proposal):
        if row.location == f"file:{pdf_attachment.id}":
            redaction.decide_finding(db, row, FindingStatus.DISMISS, None, now_utc())
    release_for_review(db, [proposal], None, now_utc(), store=store_of(app))
    data = store_of(app).get(pdf_attachment.storage_name)
    with pikepdf.open(io.BytesIO(data)) as pdf:
        assert len(pdf.docinfo) == 0 and "/Metadata" not in pdf.Root
    assert b"Yamada" not in data


def test_bare_pdf_drops_text_the_scan_never_read():
    pdf = pikepdf.new()
    pdf.add_blank_page()
    pdf.docinfo["/Author"] = "Yamada Hanako"
    outline_item = pdf.make_indirect(pikepdf.Dictionary(Title=pikepdf.String("minato-mimamori outline")))
    pdf.Root.Outlines = pdf.make_indirect(pikepdf.Dictionary(Type=pikepdf.Name.Outlines, First=outline_item,
                                                             Last=outline_item, Count=1))
    annotation = pdf.make_indirect(pikepdf.Dictionary(Type=pikepdf.Name.Annot, Subtype=pikepdf.Name.Text,
                                                      Rect=[0, 0, 10, 10], Contents=pikepdf.String("call Yamada")))
    pdf.pages[0].obj.Annots = pikepdf.Array([annotation])
    pdf.Root.PageLabels = pikepdf.Dictionary(Nums=[0, pikepdf.Dictionary(P=pikepdf.String("minato p."))])
    out = io.BytesIO()
    pdf.save(out)
    cleaned = bare_pdf(out.getvalue())
    assert b"Yamada" not in cleaned and b"minato" not in cleaned
    with pikepdf.open(io.BytesIO(cleaned)) as result:
        assert len(result.pages) == 1
        assert "/Outlines" not in result.Root and "/Annots" not in result.pages[0].obj


def test_release_is_all_or_nothing(app, db, seed):
    with seed() as f:
        ready = make_world(f, db, attachments=False)
        call = db.get(Call, ready.call_id)
        other = f.submitted(call, name="さくら子ども食堂")
        from portal.domain.intake import intake

        intake.decide_intake(db, other, "accept", "", f.staff(), now_utc())
        db.commit()
        other_id = other.id
    resolve_everything(db, app, ready)
    other, call = db.get(Proposal, other_id), db.get(Call, ready.call_id)
    redaction.scan(db, other, None, now_utc())
    if not review_copy.findings_of(db, other):  # make sure the second one has something found
        redaction.add_extra_term(db, call, other, "内容です", None, now_utc())
        redaction.scan(db, other, None, now_utc())
    # Sure hits are redacted by default: put one back to undecided.
    redaction.decide_finding(db, review_copy.findings_of(db, other)[0], FindingStatus.PENDING, None, now_utc())
    with pytest.raises(ReleaseRefused) as refused:
        release_for_review(db, [proposal_of(db, ready), other], None, now_utc())
    assert other.anonymous_code in refused.value.problems
    assert ready.code not in refused.value.problems
    assert db.scalars(select(ReviewCopy)).all() == []
    assert db.scalars(select(RedactionFinding).where(RedactionFinding.proposal_id == other.id)).all()
    assert GROUP["name"] not in refused.value.message


def test_an_excluded_attachment_never_reaches_reviewers(app, db, world):
    proposal = resolve_everything(db, app, world)
    pdf_attachment, image = review_copy.review_attachments(db, proposal)
    redaction.set_attachment(db, pdf_attachment, excluded=True, checked_by_eye=False)
    [copy] = release_for_review(db, [proposal], None, now_utc(), store=store_of(app))
    assert copy.content["attachments"] == [{"id": image.id, "label": "添付資料1", "content_type": "image/png"}]
    assert pdf_attachment.storage_name is None and image.storage_name is not None


def test_reviewers_see_only_the_fields_the_call_chose(app, db, world):
    proposal = proposal_of(db, world)
    snapshot = proposal.submissions[-1].snapshot
    assert snapshot["desired_forms"] and snapshot["roles"] and snapshot["period"]["start"]  # there is something to leave out
    proposal.call.reviewer_fields = ["title", "purpose", "budget"]
    db.commit()
    resolve_everything(db, app, world)
    release_for_review(db, [proposal_of(db, world)], None, now_utc(), store=store_of(app))
    db.commit()
    content = db.scalars(select(ReviewCopy).where(ReviewCopy.proposal_id == world.proposal_id)).one().content
    assert [field["key"] for field in content["fields"]] == ["purpose"]
    assert content["title"] and content["budget"] is not None
    assert content["period"] is None and content["desired_forms"] == [] and content["role_shares"] == []
