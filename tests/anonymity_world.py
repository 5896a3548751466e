"""A realistic call for the anonymity crawl (tests/test_reviewer_anonymity.py),
built through the real verbs: groups that name themselves in every way
groups do, submitted (one after a 差し戻し), accepted or rejected at intake,
scanned and decided the way a diligent secretariat would, released to a
panel of two reviewers, one of whom has a confirmed conflict.

What a reviewer must never learn is each group's ``GroupData`` (profile,
uploads' names, ``also_identifying``); the test's checker derives the
variants from it.
"""
from __future__ import annotations

import io
from dataclasses import dataclass, field
from datetime import timedelta

import pikepdf
from PIL import Image, PngImagePlugin
from sqlalchemy import select

from portal.domain.anonymity import redaction, review_copy
from portal.domain.intake import intake
from portal.domain.panel import conflict_check, panel
from portal.domain.proposals import workflow
from portal.domain.anonymity.release import release_for_review
from portal.domain.timeutil import now_utc
from portal.files import storage
from portal.files.objectstore import store_of
from portal.files.sanitize import sanitize
from portal.models import (
    Assignment,
    AssignmentStatus,
    Call,
    Conflict,
    ConflictStatus,
    FilePurpose,
    FindingStatus,
    GroupKind,
    Proposal,
    ProposalStatus,
    ReviewAttachment,
    StoredFile,
)
from portal.pdf import render_pdf


@dataclass(frozen=True)
class Upload:
    original_name: str
    kind: str  # "pdf" or "jpeg" or "png"
    text: str = ""  # the PDF's text layer
    metadata: dict = field(default_factory=dict)  # PDF DocInfo / image text chunks
    xmp_creator: str = ""
    outline: str = ""  # a PDF bookmark title
    annotation: str = ""  # a PDF sticky note
    # What office software leaves in an exported PDF: a pasted photo with its
    # EXIF, an embedded file, a form field, a layer name, and /ActualText on
    # the page (text a viewer copies and reads aloud, not drawn, not extracted).
    hidden: str = ""
    exclude: bool = False  # staff leave it out of the reviewers' copy


@dataclass(frozen=True)
class GroupData:
    key: str
    profile: dict
    account_email: str
    texts: dict
    role_group: str = ""
    budget_note: str = ""
    uploads: tuple[Upload, ...] = ()
    opinion: str = ""
    outcome: str = "accept"  # or "reject"; "return" first returns, then accepts the resubmission
    # Terms a diligent secretariat adds because the scanner cannot know them
    # (nicknames and the like, not in the 団体概要).
    extra_terms: tuple[str, ...] = ()
    # Further strings that identify the group, as they are written in its texts,
    # for the crawl's checker (the checker also derives variants of the profile).
    also_identifying: tuple[str, ...] = ()


GROUPS: tuple[GroupData, ...] = (
    GroupData(
        key="A",
        profile={
            "name": "特定非営利活動法人みなと見守りの会",
            "name_kana": "とくていひえいりかつどうほうじん　みなとみまもりのかい",
            "kind": GroupKind.NPO,
            "representative_title": "理事長",
            "representative_name": "山田 花子",
            "contact_name": "佐藤 健一",
            "officer_names": ["鈴木 一郎", "林 美咲"],
            "postal_code": "950-0001",
            "address": "新潟県みなと市中央一丁目2番3号 みなとビル201",
            "phone": "025-223-4567",
            "contact_email": "info@minato-mimamori.jp",
            "website": "https://www.minato-mimamori.jp/",
        },
        account_email="office@minato-mimamori.jp",
        texts={
            "title": "みなと見守りの会の見守りカフェ事業",
            "background": "ＮＰＯ法人みなと見守りの会は、2015年から中央地区で高齢者の見守りを続けてきました。",
            "purpose": "ﾐﾅﾄﾐﾏﾓﾘﾉｶｲとして、山田代表と理事の鈴木一郎が中心になり、地域の居場所を広げます。",
            "description": ("会場は中央1-2-3のみなとビル2階です。問い合わせは025(223)4567、"
                            "ｉｎｆｏ＠ｍｉｎａｔｏ－ｍｉｍａｍｏｒｉ．ｊｐ、詳しくは www.minato-mimamori.jp をご覧ください。"),
            "place_and_target": "〒９５０－０００１の事務所の周辺に住む一人暮らしの高齢者",
            "expected_effects": "孤立の予防。特定非営利活動法人　みなと見守りの会 の会員も増える見込みです。",
            "necessity": "市の広報と会場の協力が必要です。連絡担当の佐藤が市との調整をします。",
            "capability": "ミナトミマモリノカイとして10年の実績があります。林美咲が会計を担当します。",
        },
        role_group="山田 花子が全体を統括します",
        budget_note="講師 鈴木一郎 謝礼",
        opinion="みなと見守りの会（山田理事長）とは以前から連携しており、実施体制に問題はない。",
        uploads=(
            Upload("みなと見守りの会_事業計画.pdf", "pdf",
                   text="事業計画書　特定非営利活動法人みなと見守りの会　理事長 山田花子　電話 025-223-4567　"
                        "見守りカフェの年間計画",
                   metadata={"/Author": "Yamada Hanako", "/Title": "特定非営利活動法人みなと見守りの会 事業計画",
                             "/Subject": "minato-mimamori 2026"},
                   xmp_creator="山田 花子", outline="みなと見守りの会 事業計画"),
            Upload("山田花子_活動写真.jpg", "jpeg",
                   metadata={"Artist": "Yamada Hanako", "ImageDescription": "minato-mimamori cafe",
                             "XPAuthor": "山田 花子"}),
        ),
        also_identifying=("Yamada Hanako", "minato-mimamori", "事業計画.pdf", "活動写真.jpg"),
    ),
    GroupData(
        key="B",
        profile={
            "name": "NPO法人さくら子ども食堂ネット",
            "name_kana": "さくらこどもしょくどうねっと",
            "kind": GroupKind.NPO,
            "representative_title": "代表理事",
            "representative_name": "高橋 誠",
            "contact_name": "中村 由美",
            "officer_names": ["小林 直樹", "加藤 恵"],
            "postal_code": "950-0912",
            "address": "新潟県みなと市南町三丁目4番5号",
            "phone": "025-281-3344",
            "contact_email": "contact@sakura-kodomo.org",
            "website": "http://sakura-kodomo.org/",
            "aliases": ["さくらネット"],  # declared in the profile (issue 14)
        },
        account_email="takahashi@sakura-kodomo.org",
        texts={
            "title": "地域みんなの子ども食堂の拡充",
            # 「さくらネット」 is the group's everyday short name: no scanner could
            # derive it from the name, so the group declares it (通称・略称).
            "background": "NPO法人 さくら子ども食堂ネット（通称：さくらネット）は南町で月2回の子ども食堂を開いています。",
            "purpose": "ｻｸﾗｺﾄﾞﾓｼｮｸﾄﾞｳﾈｯﾄ代表の高橋が、学習支援と食事の提供を一体で行います。",
            "description": ("申込みは０２５－２８１－３３４４（中村）または contact＠sakura-kodomo.org へ。"
                            "活動の報告は sakura-kodomo.org/report に載せています。"),
            "place_and_target": "南町三丁目4-5の集会所に集まる小中学生",
            "expected_effects": "子どもの孤食を減らし、地域の大人とのつながりをつくります。",
            "necessity": "学校と市の子ども家庭課を通じた周知が欠かせません。",
            "capability": "さくら子ども食堂ネットは設立8年。小林直樹・加藤恵が調理を担当し、さくらネットの会員は40人です。",
        },
        role_group="中村由美がボランティアを調整",
        budget_note="食材費（高橋商店から購入）",
        uploads=(
            # A table of figures: nothing identifying in the text layer, but the
            # document's metadata, bookmark and note name the group.
            Upload("さくら子ども食堂ネット_収支内訳.pdf", "pdf",
                   text="収支の内訳　食材費 120,000円　会場費 30,000円　保険料 10,000円",
                   metadata={"/Author": "Takahashi Makoto", "/Title": "NPO法人さくら子ども食堂ネット 収支内訳",
                             "/Keywords": "sakura-kodomo.org"},
                   xmp_creator="高橋 誠", outline="さくら子ども食堂ネット 収支", annotation="contact@sakura-kodomo.org 中村",
                   hidden="NPO法人さくら子ども食堂ネット 代表理事 高橋 誠"),
            Upload("さくらネット_食堂の様子.png", "png",
                   metadata={"Author": "高橋 誠", "Comment": "NPO法人さくら子ども食堂ネット"}),
        ),
        also_identifying=("さくらネット", "Takahashi Makoto", "食堂の様子.png", "収支内訳.pdf", "高橋商店"),
    ),
    GroupData(
        key="C",
        profile={
            "name": "一般社団法人海辺のクロマツを守る会",
            "name_kana": "うみべのくろまつをまもるかい",
            "kind": GroupKind.HOJIN,
            "representative_title": "代表理事",
            "representative_name": "渡辺 久美子",
            "contact_name": "伊藤 翔太",
            "officer_names": ["斎藤 和夫"],
            "postal_code": "950-2101",
            "address": "みなと市西浜5-6-7",
            "phone": "0256-77-1234",
            "contact_email": "kuromatsu.mamoru@gmail.com",
            "website": "https://note.com/kuromatsu_mamoru",
            "aliases": ["クロマツの会"],
        },
        account_email="kuromatsu.mamoru@gmail.com",
        texts={
            "title": "海岸林の保全と環境学習",
            # 「クロマツの会」: the name people use locally; staff add it.
            "background": "海辺のクロマツを守る会（地元では「クロマツの会」）は西浜地区の海岸林を守ってきました。",
            "purpose": "代表 渡辺久美子、事務局 伊藤翔太。連絡先 0256 77 1234、kuromatsu.mamoru@gmail.com、"
                       "note.com/kuromatsu_mamoru",
            "description": "西浜五丁目6番7号の拠点から、毎月第2土曜に下草刈りと環境学習会を行います。",
            "place_and_target": "西浜地区の海岸林／市内の小学生と保護者",
            "expected_effects": "松枯れの早期発見と、次の世代の担い手づくり。",
            "necessity": "市有林での作業には市の許可と安全管理の協力が必要です。",
            "capability": "一般社団法人 海辺のクロマツを守る会として5年。理事の斎藤が植生調査を担当します。",
        },
        role_group="渡辺が作業計画を立てる",
        uploads=(
            Upload("海辺のクロマツを守る会_活動報告.pdf", "pdf",
                   text="活動報告　海辺のクロマツを守る会　代表理事 渡辺久美子　0256-77-1234",
                   metadata={"/Author": "Watanabe Kumiko"}),
            # A map with the group's base marked: staff leave it out.
            Upload("クロマツの会_拠点地図.pdf", "pdf", text="拠点地図　西浜5-6-7　クロマツの会",
                   metadata={"/Title": "クロマツの会 拠点"}, exclude=True),
        ),
        outcome="return",
        also_identifying=("クロマツの会", "Watanabe Kumiko", "活動報告.pdf", "拠点地図.pdf", "西浜五丁目6番7号"),
    ),
    GroupData(
        key="D",
        profile={
            "name": "みなと中央商店街振興会",
            "name_kana": "みなとちゅうおうしょうてんがいしんこうかい",
            "kind": GroupKind.CHIIKI_SANGYO,
            "representative_title": "会長",
            "representative_name": "松本 大輔",
            "contact_name": "松本 大輔",
            "officer_names": ["井上 和子"],
            "postal_code": "950-0088",
            "address": "新潟県みなと市中央二丁目8番9号",
            "phone": "025-244-9876",
            "contact_email": "info@minato-shotengai.jp",
            "website": "https://minato-shotengai.jp/",
        },
        account_email="matsumoto@minato-shotengai.jp",
        texts={
            "title": "みなと中央商店街振興会の歳末大売出し",
            "background": "松本会長のもと、商店街の売上を伸ばします。",
            "purpose": "商店街の販売促進。",
            "description": "連絡先 025-244-9876。",
            "place_and_target": "中央二丁目の商店街",
            "expected_effects": "売上の増加。",
            "necessity": "市の広報が必要です。",
            "capability": "30年の実績。",
        },
        outcome="reject",
    ),
)


@dataclass
class World:
    call_id: int
    call_slug: str
    staff_id: int
    staff_email: str
    reviewer_ids: list[int]
    reviewer_emails: list[str]
    proposal_ids: dict[str, int]  # group key -> proposal id
    group_ids: dict[str, int]
    codes: dict[str, str]
    receipt_numbers: dict[str, str]
    conflicted: tuple[int, str]  # (reviewer index, group key) kept apart by a confirmed conflict
    stored_file_ids: dict[str, list[int]]  # every StoredFile of the group (documents and attachments)


# --- files ------------------------------------------------------------------------


def pdf_bytes(group: GroupData, upload: Upload) -> bytes:
    """A Japanese PDF (real text layer, as WeasyPrint writes it) carrying the
    group's name in its metadata, XMP, a bookmark and a note."""
    data = render_pdf(f'<html lang="ja"><head><meta charset="utf-8"><title>{group.profile["name"]}</title></head>'
                      f"<body><p>{upload.text}</p></body></html>")
    with pikepdf.open(io.BytesIO(data)) as pdf:
        for key, value in upload.metadata.items():
            pdf.docinfo[key] = value
        if upload.xmp_creator:
            with pdf.open_metadata(set_pikepdf_as_editor=False) as xmp:
                xmp["dc:creator"] = [upload.xmp_creator]
                xmp["dc:title"] = group.profile["name"]
        if upload.outline:
            with pdf.open_outline() as outline:
                outline.root.append(pikepdf.OutlineItem(upload.outline, 0))
        if upload.hidden:
            _hide_in(pdf, upload.hidden)
        if upload.annotation:
            note = pdf.make_indirect(pikepdf.Dictionary(
                Type=pikepdf.Name.Annot, Subtype=pikepdf.Name.Text, Rect=[20, 20, 40, 40],
                Contents=pikepdf.String(upload.annotation), T=pikepdf.String(group.profile["representative_name"])))
            pdf.pages[0].obj.Annots = pikepdf.Array([note])
        out = io.BytesIO()
        pdf.save(out)
    return out.getvalue()


def _hide_in(pdf: pikepdf.Pdf, text: str) -> None:
    page = pdf.pages[0]
    photo = pikepdf.Stream(pdf, jpeg_bytes(Upload("photo.jpg", "jpeg", metadata={
        "Artist": "Takahashi Makoto", "ImageDescription": "sakura-kodomo.org", "XPAuthor": text})))
    photo.Type, photo.Subtype, photo.Filter = pikepdf.Name.XObject, pikepdf.Name.Image, pikepdf.Name.DCTDecode
    photo.Width, photo.Height, photo.ColorSpace, photo.BitsPerComponent = 48, 32, pikepdf.Name.DeviceRGB, 8
    resources = page.obj.Resources
    if "/XObject" not in resources:
        resources.XObject = pikepdf.Dictionary()
    resources.XObject.Photo = pdf.make_indirect(photo)
    actual = pikepdf.String(text).unparse()  # UTF-16BE with BOM, as exporters write it
    layer = pdf.make_indirect(pikepdf.Dictionary(Type=pikepdf.Name.OCG, Name=pikepdf.String(f"{text}（作業用）")))
    pdf.Root.OCProperties = pikepdf.Dictionary(OCGs=[layer], D=pikepdf.Dictionary(ON=[layer]))
    resources.Properties = pikepdf.Dictionary(oc1=layer)
    page.contents_add(pdf.make_stream(
        b"/Span <</ActualText " + actual + b">> BDC q 48 0 0 32 300 700 cm /Photo Do Q EMC\n"
        b"/OC /oc1 BDC EMC\n"), prepend=False)
    pdf.attachments["member-list.txt"] = pikepdf.AttachedFileSpec(pdf, text.encode("utf-8"), description=text)
    field = pdf.make_indirect(pikepdf.Dictionary(FT=pikepdf.Name.Tx, T=pikepdf.String("representative"),
                                                 V=pikepdf.String(text), Rect=[0, 0, 0, 0],
                                                 Type=pikepdf.Name.Annot, Subtype=pikepdf.Name.Widget))
    pdf.Root.AcroForm = pikepdf.Dictionary(Fields=pikepdf.Array([field]))


def jpeg_bytes(upload: Upload) -> bytes:
    image = Image.new("RGB", (48, 32), (90, 140, 60))
    exif = image.getexif()
    exif[0x013B] = upload.metadata.get("Artist", "")  # Artist
    exif[0x010E] = upload.metadata.get("ImageDescription", "")  # ImageDescription
    exif[0x9C9D] = (upload.metadata.get("XPAuthor", "") + "\0").encode("utf-16-le")  # XPAuthor (Windows)
    out = io.BytesIO()
    image.save(out, "JPEG", exif=exif.tobytes())
    return out.getvalue()


def png_bytes(upload: Upload) -> bytes:
    image = Image.new("RGB", (40, 30), (200, 120, 40))
    info = PngImagePlugin.PngInfo()
    for key, value in upload.metadata.items():
        info.add_itxt(key, value)
    out = io.BytesIO()
    image.save(out, "PNG", pnginfo=info)
    return out.getvalue()


def upload_bytes(group: GroupData, upload: Upload) -> bytes:
    if upload.kind == "pdf":
        return pdf_bytes(group, upload)
    return jpeg_bytes(upload) if upload.kind == "jpeg" else png_bytes(upload)


# --- the call -----------------------------------------------------------------------


def build(f, db) -> World:
    """The whole call, from applications to the panel. ``f`` is a Factory
    (used for accounts and the draft only; every step after is a real verb)."""
    now = now_utc()
    store = store_of(f.app)
    call = f.call(opens_in=timedelta(days=-40), closes_in=timedelta(days=-10), screening_in=timedelta(days=-9),
                  show_department_opinion=True, has_presentation=True, allow_revision_after_presentation=True)
    call.scoring_opens_at = now - timedelta(days=2)
    call.scoring_closes_at = now + timedelta(days=10)
    call.presentation_opens_at = now + timedelta(days=12)
    call.presentation_closes_at = now + timedelta(days=13)
    db.commit()

    staff = f.staff()
    proposals: dict[str, Proposal] = {}
    group_ids: dict[str, int] = {}
    excluded_names: set[str] = set()
    for n, data in enumerate(GROUPS):
        user = f.applicant(email=data.account_email, name=data.profile["name"])
        group = user.group
        for key, value in data.profile.items():
            setattr(group, key, value)
        db.commit()
        proposal = f.proposal(user, call, declarations=True)
        for key, value in data.texts.items():
            setattr(proposal, key, value)
        if data.role_group:
            proposal.role_shares[0].group_role = data.role_group
        if data.budget_note:
            proposal.budget_lines[2].note = data.budget_note
        db.commit()
        for upload in data.uploads:
            storage.store_file(db, store, sanitize(upload_bytes(data, upload), upload.original_name),
                               original_name=upload.original_name, purpose=FilePurpose.ATTACHMENT,
                               group_id=group.id, proposal_id=proposal.id, uploaded_by_id=user.id)
            if upload.exclude:
                excluded_names.add(upload.original_name)
        db.commit()
        # Submitted before the deadline, in an order that is not the anonymous codes' order.
        workflow.submit_proposal(db, proposal, user, proposal.version, call.closes_at - timedelta(hours=30 - n))
        db.commit()
        proposals[data.key], group_ids[data.key] = proposal, group.id

    # 受付・形式審査. C is returned once (its phone number was missing from the
    # texts, say) and accepted on resubmission; D is rejected.
    for data in GROUPS:
        proposal = proposals[data.key]
        if data.outcome == "reject":
            intake.decide_intake(db, proposal, "reject", "商店街の販売促進を目的とする事業は対象外です（松本様）。",
                                 staff, now - timedelta(days=8), reason_category="excluded")
            continue
        if data.outcome == "return":
            intake.decide_intake(db, proposal, "return", "事業内容に連絡先の記載がありません。", staff,
                                 now - timedelta(days=8), reason_category="formal")
            db.commit()
            db.refresh(proposal)  # as the group's next request would load it
            proposal.description = data.texts["description"] + "（連絡先：0256-77-1234）"
            db.flush()
            workflow.submit_proposal(db, proposal, proposal.group.account, proposal.version, now - timedelta(days=7))
        intake.decide_intake(db, proposal, "accept", "", staff, now - timedelta(days=6))
        if data.opinion:
            intake.save_department_opinion(db, proposal, department="高齢福祉課", feasibility="feasible",
                                           opinion=data.opinion, staff=staff, now=now - timedelta(days=5))
    db.commit()

    # The panel: the second member advises group B; the cross-check flags it
    # and staff confirm. Anything else the check flags, staff look at and dismiss.
    reviewers = [f.reviewer(name="小川 聡子"), f.reviewer(name="森 健二")]
    members = [
        panel.add_member(db, call, reviewers[0], ["みなと市社会福祉協議会 評議員"], now=now - timedelta(days=4)),
        panel.add_member(db, call, reviewers[1], ["NPO法人さくら子ども食堂ネット 監事", "みなと大学 地域連携センター"],
                         now=now - timedelta(days=4)),
    ]
    for conflict in db.scalars(select(Conflict).where(Conflict.panel_member_id.in_([m.id for m in members]))
                               .order_by(Conflict.id)):
        if conflict.panel_member_id == members[1].id and conflict.proposal_id == proposals["B"].id:
            conflict_check.confirm(db, conflict, staff, now - timedelta(days=4))
        elif conflict.status == ConflictStatus.FLAGGED:
            conflict_check.dismiss(db, conflict, staff, "確認したが関係はない。", now - timedelta(days=4))
    confirmed = db.scalars(select(Conflict).where(Conflict.status == ConflictStatus.CONFIRMED,
                                                  Conflict.panel_member_id.in_([m.id for m in members]))
                            .order_by(Conflict.id)).all()
    assert [(c.panel_member_id, c.proposal_id) for c in confirmed] == [(members[1].id, proposals["B"].id)], \
        "the cross-check should flag the second member for group B"
    db.commit()

    # 匿名化: scan, add the terms only a person knows, rescan, redact every
    # finding, look at each image, leave out the map; then release.
    # The scanner finds every variant in these texts by itself (全角/半角,
    # half-width kana, with and without 法人格, family names alone, phones
    # written 025(223)4567 or 0256 77 1234, URLs without https, 〒 in 全角).
    # The nicknames (「さくらネット」, 「クロマツの会」) come from the profile's
    # 通称・略称; staff's extra terms (GroupData.extra_terms) remain for the rest.
    released = [proposals[d.key] for d in GROUPS if d.outcome != "reject"]
    for data in GROUPS:
        if data.outcome == "reject":
            continue
        proposal = proposals[data.key]
        redaction.scan(db, proposal, staff, now - timedelta(days=3), store=store)
        for term in data.extra_terms:
            redaction.add_extra_term(db, call, proposal, term, staff, now - timedelta(days=3))
        redaction.scan(db, proposal, staff, now - timedelta(days=3), store=store)
        for row in review_copy.findings_of(db, proposal):
            redaction.decide_finding(db, row, FindingStatus.REDACT, staff, now - timedelta(days=3))
        for attachment in review_copy.review_attachments(db, proposal):
            source = db.get(StoredFile, attachment.source_file_id)
            if source.original_name in excluded_names:
                redaction.set_attachment(db, attachment, excluded=True, checked_by_eye=False)
            elif review_copy.needs_eye_check(attachment):
                # Staff looked at the photo: nothing legible in the pixels.
                redaction.set_attachment(db, attachment, excluded=False, checked_by_eye=True)
            for page in redaction.undecided_pages(attachment):  # a page with a picture: looked at, nothing in it
                redaction.decide_page(db, attachment, page["page"], redaction.CONFIRM, [], staff,
                                      now - timedelta(days=3))
        problems = redaction.release_problems(db, proposal)
        assert problems == [], (data.key, problems)
    db.commit()
    release_for_review(db, released, staff, now - timedelta(days=2), store=store)
    db.commit()

    for proposal in released:
        assert proposal.status == ProposalStatus.REVIEW
    recused = db.scalars(select(Assignment).where(Assignment.panel_member_id == members[1].id,
                                                  Assignment.proposal_id == proposals["B"].id)).one()
    assert recused.status == AssignmentStatus.RECUSED
    assert db.scalars(select(ReviewAttachment).where(ReviewAttachment.excluded.is_(True))).all()

    stored = {key: list(db.scalars(select(StoredFile.id).where(StoredFile.group_id == gid).order_by(StoredFile.id)))
              for key, gid in group_ids.items()}
    return World(
        call_id=call.id, call_slug=call.slug, staff_id=staff.id, staff_email=staff.email,
        reviewer_ids=[r.id for r in reviewers], reviewer_emails=[r.email for r in reviewers],
        proposal_ids={k: p.id for k, p in proposals.items()}, group_ids=group_ids,
        codes={k: p.anonymous_code for k, p in proposals.items()},
        receipt_numbers={k: p.receipt_number for k, p in proposals.items()},
        conflicted=(1, "B"), stored_file_ids=stored,
    )


def close_scoring(db, world: World) -> None:
    """Time passes: every stage's window has ended (the panel view opens)."""
    call = db.get(Call, world.call_id)
    now = now_utc()
    call.scoring_opens_at = now - timedelta(days=20)
    call.scoring_closes_at = now - timedelta(days=6)
    call.presentation_opens_at = now - timedelta(days=4)
    call.presentation_closes_at = now - timedelta(minutes=5)
    db.commit()
