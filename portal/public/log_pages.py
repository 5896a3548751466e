"""The process log of a call, for anyone: the page, its JSON and its PDF.

    /calls/<slug>/log        the entries so far (scores only as sealed commitments)
    /calls/<slug>/log.json   the same, signed at its head; what scripts/verify_log.py checks
    /calls/<slug>/log.pdf    stored at publication

Loading, caching and the response helpers are shared with the results
pages (``serving.py``); docs/transparency.md documents the URLs.
"""
from __future__ import annotations

import json
from datetime import UTC, datetime

from flask import Response, current_app
from werkzeug.http import generate_etag

from ..db import db_session
from ..domain.results import publication
from ..domain.log.process_log import KIND_LABELS
from ..errors import refuse
from ..models import Call
from . import bp, serving
from .serving import LATEST, LOG

PAYLOAD_LABELS = {
    "call_ref": "募集番号", "title": "名称", "fiscal_year": "年度", "opens_at": "受付開始（UTC）",
    "closes_at": "締切（UTC）", "budget_cap_yen": "1件あたりの上限額（円）", "criteria": "審査基準",
    "rules": "ルール", "document_sha256": "文書のSHA-256", "reason": "理由", "proposal_code": "提案コード",
    "proposal_codes": "提案コード", "outcome": "結果", "reviewer": "審査委員", "ground": "事由",
    "commitment": "封印値（コミットメント）", "sealed_count": "封印された採点の数",
    "revealed_count": "公開された採点の数", "supersedes_seq": "置き換える封印の記録番号",
    "outcomes": "決定", "basis": "根拠", "url": "公表先", "corrects_seq": "訂正する記録の番号",
    "correction": "訂正の内容", "stage": "審査段階",
}


def _log_document(call: Call) -> dict | None:
    settings = publication.Settings.for_app(current_app)
    return publication.log_document(db_session, call, settings.key, base_url=settings.base_url)


def _log_last_modified(document: dict | None) -> datetime | None:
    """The time of the log's last entry (entries are appended in time order)."""
    entries = (document or {}).get("entries") or []
    try:
        last = datetime.fromisoformat(entries[-1]["at"].replace("Z", "+00:00"))
    except (IndexError, KeyError, AttributeError, ValueError):
        return None
    return serving.clamped(last if last.tzinfo else last.replace(tzinfo=UTC))


@bp.get("/calls/<slug>/log")
def process_log(slug: str):
    shared = serving.same_for_everyone()
    return serving.from_cache(("log", slug), shared, serving.serve_page(LOG),
                       lambda cache, token: _render_log_page(slug, cache, token, shared))


def _render_log_page(slug: str, cache, token, shared: bool) -> Response:
    call = serving.load_public_call(slug)
    document = _log_document(call)
    row = publication.latest(db_session, call)
    body = serving.render_page_bytes(
        "public/log.html", call=call, doc=document, results_public=row is not None,
        log_pdf=bool(row and row.log_pdf_name),
        fingerprint=serving.published_fingerprint(document.get("public_key_pem")) if document else None,
        kind_labels=KIND_LABELS, payload_labels=PAYLOAD_LABELS,
    )
    return serving.rendered_page(body, key=("log", slug), cache=cache, token=token, shared=shared, cache_control=LOG,
                         last_modified=_log_last_modified(document))


@bp.get("/calls/<slug>/log.json")
def process_log_json(slug: str):
    def serve(entry) -> Response:
        return serving.document_response(entry.body, "application/json", f"{serving.ascii_filename(slug)}-log.json", LOG,
                                  last_modified=entry.last_modified)

    # The JSON is the same for everyone, signed in or not.
    return serving.from_cache(("log.json", slug), True, serve, lambda cache, token: _render_log_json(slug, cache, token))


def _render_log_json(slug: str, cache, token) -> Response:
    call = serving.load_public_call(slug)
    document = _log_document(call)
    if document is None:
        refuse(404, "この募集の審査プロセスの記録はまだありません。")
    data = serving.json_bytes(document)
    last_modified = _log_last_modified(document)
    if cache is not None and last_modified is not None:
        cache.put(("log.json", slug), data, generate_etag(data), last_modified, token=token)
    return serving.document_response(data, "application/json", f"{serving.ascii_filename(call.slug)}-log.json", LOG,
                              last_modified=last_modified)


@bp.get("/calls/<slug>/log.pdf")
def process_log_pdf(slug: str):
    call = serving.load_public_call(slug)
    row = serving.latest_publication(call)
    return serving.stored_pdf(row.log_pdf_name, f"{serving.ascii_filename(call.slug)}-log-v{row.version}.pdf", LATEST,
                       "審査プロセスの記録のPDFは結果の公表時に作成されます。", published_at=serving.clamped(row.published_at))


# -- template helpers --------------------------------------------------------------------

@bp.app_template_filter("log_value")
def log_value(value) -> str:
    """A payload value as text: scalars as they are, lists of scalars joined,
    anything nested as its canonical JSON."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (str, int)):
        return str(value)
    if value is None:
        return ""
    if isinstance(value, list) and all(isinstance(v, (str, int)) and not isinstance(v, bool) for v in value):
        return "、".join(str(v) for v in value)
    return json.dumps(value, ensure_ascii=False, sort_keys=True, separators=(", ", ": "))
