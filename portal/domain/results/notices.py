"""通知書: the formal notice of the decision (採択・条件付き採択・不採択)
each group receives when the results are published.

``issue`` runs inside publication's short write (``publish_steps.complete``):
it gives every decided proposal of the version a 文書番号, sequential per
fiscal year, and dates the notice with the publication. Numbers come from
``NoticeCounter`` by one UPDATE ... RETURNING, so concurrent publications of
different calls queue on the counter row instead of taking the same number
(the unique constraint on (fiscal_year, serial) is the last guard).

The PDF is rendered after that transaction (by the publication job, or on
the first download for publications made outside the worker), stored under
a generated name and never rendered again; its SHA-256 is kept. It is built
from the published results document, so the notice says exactly what was
published, and from the proposal's group for the addressee.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from jinja2 import Environment, FileSystemLoader, StrictUndefined
from sqlalchemy import insert, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from ...files import storage
from ...files.objectstore import ObjectStore
from ...models import Call, Decision, Notice, NoticeCounter, Proposal, Publication
from ...pdf import render_pdf
from ..timeutil import fiscal_year_of, to_jst, wareki_date
from .publication import sha256_hex
from .result_pdfs import PDF_VARIANT, TEMPLATES, _pdf_phrases

OUTCOME_LABELS = {"adopted": "採択", "conditional": "条件付き採択", "not_adopted": "不採択"}
CLOSINGS = {
    "adopted": "今後の手続き（協定の締結など）については、担当課から改めてご連絡します。",
    "conditional": "上記の条件を踏まえ、今後の手続き（協定の締結など）について担当課から改めてご連絡します。",
    "not_adopted": "このたびはご提案いただき、ありがとうございました。",
}


@dataclass(frozen=True)
class NoticeSettings:
    city_name: str
    head_title: str
    head_name: str
    prefix: str
    contact_department: str = ""
    contact_phone: str = ""
    contact_email: str = ""

    @classmethod
    def for_app(cls, app) -> NoticeSettings:
        c = app.config
        return cls(city_name=c.get("CITY_NAME", ""), head_title=c.get("CITY_HEAD_TITLE", ""),
                   head_name=c.get("CITY_HEAD_NAME", ""), prefix=c.get("NOTICE_NUMBER_PREFIX", ""),
                   contact_department=c.get("CONTACT_DEPARTMENT", ""), contact_phone=c.get("CONTACT_PHONE", ""),
                   contact_email=c.get("CONTACT_EMAIL", ""))


def format_number(prefix: str, serial: int) -> str:
    return f"{prefix}{serial}号"


# ---------------------------------------------------------------- numbering

def take_serials(session: Session, fiscal_year: int, count: int) -> int:
    """Reserve ``count`` consecutive serials of ``fiscal_year``; returns the
    first. The UPDATE holds the counter row's lock until the transaction
    ends, so a concurrent publication waits and then continues after ours."""
    if count <= 0:
        return 0
    for _attempt in range(3):
        last = session.execute(
            update(NoticeCounter).where(NoticeCounter.fiscal_year == fiscal_year)
            .values(last_serial=NoticeCounter.last_serial + count).returning(NoticeCounter.last_serial)
            .execution_options(synchronize_session=False)).scalar()
        if last is not None:
            return last - count + 1
        try:
            with session.begin_nested():  # the first notice of the year: create the row
                session.execute(insert(NoticeCounter).values(fiscal_year=fiscal_year, last_serial=0))
        except IntegrityError:
            pass  # another publication created it first: take numbers from it
    raise RuntimeError("notice counter could not be created")


def issue(session: Session, call: Call, publication_row: Publication, proposals: list[Proposal], now: datetime,
          *, prefix: str) -> list[Notice]:
    """Number a notice for every decided proposal of this version (flushes).
    Proposals already holding a notice of this version keep it."""
    ids = [p.id for p in proposals]
    if not ids:
        return []
    decided = {d.proposal_id: d for d in session.scalars(select(Decision).where(Decision.proposal_id.in_(ids)))}
    existing = set(session.scalars(select(Notice.proposal_id).where(
        Notice.proposal_id.in_(ids), Notice.version == publication_row.version)))
    todo = sorted((p for p in proposals if p.id in decided and p.id not in existing),
                  key=lambda p: (p.receipt_number or "", p.id))
    fiscal_year = fiscal_year_of(to_jst(now).date())
    first = take_serials(session, fiscal_year, len(todo))
    made = []
    for offset, proposal in enumerate(todo):
        serial = first + offset
        notice = Notice(proposal_id=proposal.id, call_id=call.id, version=publication_row.version,
                        fiscal_year=fiscal_year, serial=serial, number=format_number(prefix, serial),
                        outcome=decided[proposal.id].outcome.value, issued_at=now, pdf_sha256="")
        session.add(notice)
        made.append(notice)
    session.flush()
    return made


# ---------------------------------------------------------------- reading

def latest_for(session: Session, proposal: Proposal) -> Notice | None:
    return session.scalars(select(Notice).where(Notice.proposal_id == proposal.id)
                           .order_by(Notice.version.desc()).limit(1)).first()


def of_version(session: Session, call: Call, version: int) -> dict[int, Notice]:
    rows = session.scalars(select(Notice).where(Notice.call_id == call.id, Notice.version == version)
                           .order_by(Notice.id))
    return {n.proposal_id: n for n in rows}


# ---------------------------------------------------------------- the PDF

def _environment() -> Environment:
    env = Environment(loader=FileSystemLoader(TEMPLATES), autoescape=True, trim_blocks=True,
                      lstrip_blocks=True, undefined=StrictUndefined)
    env.filters.update(pdf_phrases=_pdf_phrases)
    return env


_ENV = _environment()


def context(notice: Notice, proposal: Proposal, document: dict | None, settings: NoticeSettings) -> dict:
    """What the notice prints, from the published document of its version
    (decision, reasons, per-criterion means as published to the group)."""
    entry = {}
    if document and proposal.anonymous_code:
        entry = next((p for p in document.get("proposals") or [] if p.get("code") == proposal.anonymous_code), {})
    decision = entry.get("decision") or {}
    decided = proposal_decision(proposal)
    means = entry.get("criterion_means") or {}
    criteria = [{"name": c["name"], "mean": means.get(c["key"]) or "—", "range": f"{c['min']}～{c['max']}"}
                for c in (document or {}).get("criteria") or []] if means else []
    group = proposal.group
    representative = " ".join(x for x in (group.representative_title, group.representative_name) if x)
    submitted = to_jst(proposal.submitted_at) if proposal.submitted_at else None
    submitted_phrase = (f"{wareki_date(submitted)}付けで提出のあった提案について" if submitted
                        else "提出のあった提案について")
    return {
        "number": notice.number, "date": wareki_date(notice.issued_at), "version": notice.version,
        "city_name": settings.city_name, "head_title": settings.head_title, "head_name": settings.head_name,
        "contact_department": settings.contact_department, "contact_phone": settings.contact_phone,
        "contact_email": settings.contact_email,
        "call_title": proposal.call.title, "subject": proposal.call.title, "title": proposal.display_title,
        "receipt_number": proposal.receipt_number or "", "group_name": group.name, "representative": representative,
        "outcome_label": OUTCOME_LABELS.get(notice.outcome, notice.outcome),
        "conditions": decision.get("conditions", decided.conditions if decided else ""),
        "reason": decision.get("reason", decided.reason if decided else ""),
        "score": entry.get("score") or "", "criteria": criteria,
        "submitted_phrase": submitted_phrase, "closing": CLOSINGS.get(notice.outcome, ""),
    }


def proposal_decision(proposal: Proposal) -> Decision | None:
    from sqlalchemy.orm import object_session

    session = object_session(proposal)
    return session.scalars(select(Decision).where(Decision.proposal_id == proposal.id)).first() if session else None


def notice_html(n: dict) -> str:
    return _ENV.get_template("pdf/notice.html").render(n=n)


def render(n: dict) -> bytes:
    return render_pdf(notice_html(n), title=f"通知書 {n['number']}", variant=PDF_VARIANT)


def ensure_pdf(session: Session, store: ObjectStore, notice: Notice, settings: NoticeSettings) -> bytes:
    """The kept PDF, or a new one rendered, kept and hashed (flushes)."""
    kept = storage.read_bytes(store, notice.pdf_name)
    if kept is not None:
        return kept
    row = session.scalars(select(Publication).where(Publication.call_id == notice.call_id,
                                                    Publication.version == notice.version)).first()
    data = render(context(notice, notice.proposal, row.results if row else None, settings))
    notice.pdf_name = storage.write_generated(session, store, data)
    notice.pdf_sha256 = sha256_hex(data)
    session.flush()
    return data


def render_missing(session: Session, call: Call, store: ObjectStore, settings: NoticeSettings) -> int:
    """Render every notice of the call that has no PDF yet (the publication
    job, after its transaction). Returns how many were rendered."""
    rows = list(session.scalars(select(Notice).where(Notice.call_id == call.id, Notice.pdf_name.is_(None))
                                .order_by(Notice.id)))
    for notice in rows:
        ensure_pdf(session, store, notice, settings)
    return len(rows)


# ---------------------------------------------------------------- the mail

def result_mails(proposals, call: Call, settings, urls, *, correction: bool, notices: dict[int, Notice]):
    """One mail per group that states its outcome and links to its notice
    (publication.result_mails, with the 通知書)."""
    from .publication import _recipients

    what = "審査結果の訂正を公表しました" if correction else "審査結果を公表しました"
    for proposal in proposals:
        notice = notices.get(proposal.id)
        subject = f"【{settings.city_name}】{call.title}：{what}"
        lines = [f"{proposal.group.name} 様", "", f"「{call.title}」の{what}。", ""]
        if notice is not None:
            lines += [f"提案（受付番号 {proposal.receipt_number}）の審査結果：{OUTCOME_LABELS.get(notice.outcome, '')}",
                      f"通知書（文書番号 {notice.number}）は、ログインして次のページからダウンロードできます。",
                      f"{settings.base_url}/proposals/{proposal.id}/notice.pdf", ""]
        lines += [f"提案（受付番号 {proposal.receipt_number}）の理由、審査委員の講評・基準ごとの平均点は、"
                  f"ログインしてマイページで確認できます。", f"{settings.base_url}/", "",
                  "公表した審査結果（どなたでも閲覧できます）：", urls.results, ""]
        body = "\n".join(lines)
        for recipient in _recipients(proposal):
            yield recipient, subject, body
