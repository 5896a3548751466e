"""通知書 (issue 12, item 5): numbered at publication, rendered once and
kept, downloadable by the group (its own only) and by staff; the results
mail states the outcome and links to it."""
from __future__ import annotations

import hashlib

from sqlalchemy import select

from portal.domain.results import notices, publication
from portal.domain.timeutil import now_utc
from portal.files.objectstore import store_of
from portal.mail import send_mail
from portal.models import Notice, NoticeCounter, OutboxMessage

from .results_support import decide_as_recommended, use_temporary_key
from .test_pdf import pdf_text
from .test_publication import scored_call


def _published(factory, db, app, monkeypatch, tmp_path):
    settings = use_temporary_key(app, monkeypatch, tmp_path)
    s = scored_call(factory, db)
    decide_as_recommended(db, s, s.extra["staff"], comment="講評の本文です。")
    publication.publish(db, s.call, s.extra["staff"], now_utc(), settings=settings, mailer=send_mail)
    db.commit()
    return s, settings


def _notices(db, call):
    return list(db.scalars(select(Notice).where(Notice.call_id == call.id).order_by(Notice.serial)))


def test_publication_numbers_a_notice_per_group_mails_it_and_the_pdf_says_the_outcome(factory, db, app, monkeypatch,
                                                                            tmp_path):
    s, settings = _published(factory, db, app, monkeypatch, tmp_path)
    rows = _notices(db, s.call)
    assert len(rows) == 2
    assert [r.serial for r in rows] == [rows[0].serial, rows[0].serial + 1]
    assert all(r.number == f"みなと市協第{r.serial}号" for r in rows)
    assert {r.outcome for r in rows} == {"adopted", "not_adopted"}

    rendered = notices.render_missing(db, s.call, store_of(app), notices.NoticeSettings.for_app(app))
    db.commit()
    assert rendered == 2
    by_outcome = {r.outcome: r for r in rows}
    refused = by_outcome["not_adopted"]
    data = notices.ensure_pdf(db, store_of(app), refused, notices.NoticeSettings.for_app(app))
    assert hashlib.sha256(data).hexdigest() == refused.pdf_sha256
    text = pdf_text(data).replace(" ", "")
    for expected in (refused.number, "公印省略", "不採択", "得点が基準に達しませんでした。", "みなと市長",
                     "審査結果について（通知）", "審査項目ごとの平均点", refused.proposal.group.name[:10]):
        assert expected.replace(" ", "") in text, expected
    adopted = pdf_text(notices.ensure_pdf(db, store_of(app), by_outcome["adopted"],
                                          notices.NoticeSettings.for_app(app))).replace(" ", "")
    assert "採択" in adopted and "不採択" not in adopted
    # Rendered once: the stored bytes come back, not a new rendering.
    assert notices.render_missing(db, s.call, store_of(app), notices.NoticeSettings.for_app(app)) == 0

    # The results mail states the outcome and links the notice.
    for notice in rows:
        group = notice.proposal.group
        mails = list(db.scalars(select(OutboxMessage).where(OutboxMessage.recipient == group.account.email)
                                .order_by(OutboxMessage.id)))
        body = mails[-1].body
        assert f"審査結果：{notices.OUTCOME_LABELS[notice.outcome]}" in body
        assert notice.number in body
        assert f"/proposals/{notice.proposal_id}/notice.pdf" in body


def test_the_group_downloads_only_its_own_notice(factory, db, app, monkeypatch, tmp_path, client,
                                                               login):
    s, _settings = _published(factory, db, app, monkeypatch, tmp_path)
    own, other = s.proposals
    owner = own.group.account
    login(owner)
    response = client.get(f"/proposals/{own.id}/notice.pdf")
    assert response.status_code == 200 and response.mimetype == "application/pdf"
    assert "公印省略" in pdf_text(response.data)
    assert client.get(f"/proposals/{other.id}/notice.pdf").status_code == 404
    assert client.get(f"/admin/proposals/{own.id}/notice.pdf").status_code in (302, 403, 404)
    page = client.get(f"/proposals/{own.id}").get_data(as_text=True)
    assert "通知書" in page


def test_staff_download_any_notice(factory, db, app, monkeypatch, tmp_path, client, login):
    s, _settings = _published(factory, db, app, monkeypatch, tmp_path)
    login(s.extra["staff"])
    for proposal in s.proposals:
        response = client.get(f"/admin/proposals/{proposal.id}/notice.pdf")
        assert response.status_code == 200 and "公印省略" in pdf_text(response.data)
    draft = factory.proposal(factory.applicant(), s.call)
    assert client.get(f"/admin/proposals/{draft.id}/notice.pdf").status_code == 404


def test_no_notice_before_publication(factory, db, client, login):
    call = factory.scoring_call()
    proposal = factory.submitted(call)
    login(proposal.group.account)
    assert client.get(f"/proposals/{proposal.id}/notice.pdf").status_code == 404


def test_numbers_are_sequential_per_fiscal_year_and_never_reused(db, factory):
    first = notices.take_serials(db, 2031, 3)
    again = notices.take_serials(db, 2031, 2)
    other_year = notices.take_serials(db, 2032, 1)
    db.commit()
    assert (first, again, other_year) == (1, 4, 1)
    assert db.get(NoticeCounter, 2031).last_serial == 5


def test_concurrent_publications_never_share_a_number(isolated_app):
    """Own connections and real commits, as two workers publishing two calls
    at the same moment: every serial is given once, none is skipped."""
    from sqlalchemy.orm import sessionmaker

    from .test_concurrency import run_in_threads

    Session = sessionmaker(bind=isolated_app.extensions["engine"], expire_on_commit=False)

    def take():
        with Session() as session:
            first = notices.take_serials(session, 2040, 3)
            session.commit()
            return first

    results, errors = run_in_threads([take] * 6)
    assert errors == []
    taken = sorted(n for first in results for n in range(first, first + 3))
    assert taken == list(range(1, 19))


def test_the_publication_job_renders_and_keeps_the_notices(app, factory, db, monkeypatch, tmp_path):
    from portal.jobs import publish_job

    use_temporary_key(app, monkeypatch, tmp_path)
    s = scored_call(factory, db)
    decide_as_recommended(db, s, s.extra["staff"])
    publish_job.start(db, s.call, s.extra["staff"], now_utc(), expected_version=0)
    db.commit()  # the immediate queue runs the job now
    db.expire_all()
    rows = _notices(db, s.call)
    assert len(rows) == 2 and all(r.pdf_name and len(r.pdf_sha256) == 64 for r in rows)
    for row in rows:
        assert hashlib.sha256(store_of(app).get(row.pdf_name)).hexdigest() == row.pdf_sha256
