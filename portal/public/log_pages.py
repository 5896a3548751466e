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

from flask import Response, current_app, request
from sqlalchemy import select
from werkzeug.http import generate_etag

from ..db import db_session
from ..domain.results import publication
from ..domain.log.process_log import KIND_LABELS
from ..domain.timeutil import fiscal_year_label
from ..errors import refuse
from ..models import Call, Publication
from ..models.adoption_work import DOCUMENT_KIND_LABELS
from . import bp, serving
from .results import utc_text_jst
from .serving import LATEST, LOG

PAYLOAD_LABELS = {
    "call_ref": "募集番号", "title": "名称", "fiscal_year": "年度", "opens_at": "受付開始",
    "closes_at": "締切", "budget_cap_yen": "1件あたりの上限額（円）", "criteria": "審査基準",
    "rules": "ルール", "document_sha256": "文書のSHA-256", "reason": "理由", "proposal_code": "提案コード",
    "proposal_codes": "提案コード", "outcome": "結果", "reviewer": "審査委員", "ground": "事由",
    "commitment": "封印値（コミットメント）", "sealed_count": "封印された採点の数",
    "revealed_count": "公開された採点の数", "supersedes_seq": "置き換える封印の記録番号",
    "outcomes": "決定", "basis": "根拠", "url": "公表先", "corrects_seq": "訂正する記録の番号",
    "correction": "訂正の内容", "stage": "審査段階", "version": "版", "results_sha256": "結果のJSONのSHA-256（正規化した形）",
    "csv_sha256": "結果のCSVのSHA-256", "log_pdf_sha256": "記録のPDFのSHA-256", "revision": "協定の版",
    "meeting": "審査会の回",
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
    kind = request.args.get("kind", "")
    kind = kind if kind in KIND_LABELS else ""  # an unknown kind shows every entry
    key = ("log", slug, kind)
    return serving.from_cache(key, shared, serving.serve_page(LOG),
                       lambda cache, token: _render_log_page(slug, kind, key, cache, token, shared))


def _render_log_page(slug: str, kind: str, key: tuple, cache, token, shared: bool) -> Response:
    call = serving.load_public_call(slug)
    document = _log_document(call)
    row = publication.latest(db_session, call)
    entries = (document or {}).get("entries") or []
    versions = list(db_session.scalars(select(Publication.version).where(Publication.call_id == call.id)
                                       .order_by(Publication.version)))
    body = serving.render_page_bytes(
        "public/log.html", call=call, doc=document, results_public=row is not None,
        log_pdf=bool(row and row.log_pdf_name),
        fingerprint=serving.published_fingerprint(document.get("public_key_pem")) if document else None,
        kind_labels=KIND_LABELS, payload_labels=PAYLOAD_LABELS, kind=kind,
        shown=[e for e in entries if not kind or e.get("kind") == kind],
        kinds_present=[k for k in KIND_LABELS if any(e.get("kind") == k for e in entries)],
        verify_versions=versions,
    )
    return serving.rendered_page(body, key=key, cache=cache, token=token, shared=shared, cache_control=LOG,
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


# -- the entries in words ---------------------------------------------------------------

STAGE_LABELS = {"document": "一次審査", "presentation": "二次審査", "document_revised": "一次審査の見直し"}
GROUND_LABELS = {"conflict_of_interest": "利害関係", "unavailable": "都合がつかないため", "other": "その他"}
ASSIGNMENT_GROUNDS = {"manual": "事務局による入れ替え", "withdrawal": "委員の辞退による割当の変更"}
OUTCOME_LABELS = {"accept": "受理", "return": "差し戻し", "reject": "不受理", "adopted": "採択",
                  "conditional": "条件付き採択", "not_adopted": "不採択"}
RULE_LABELS = {
    "budget_cap_per_proposal": "1件あたりの上限額（円）", "budget_total": "予算総額（円）",
    "min_members": "団体の最少人数", "min_years_active": "活動年数の下限", "requires_base_in_city": "市内に拠点が必要",
    "aggregation_method": "集計方法", "trim_min_scorers": "最高・最低を除く委員数", "threshold_points": "合格基準点",
    "threshold_share": "合格基準（満点に対する割合）", "veto_criterion_position": "拒否に使う基準の番号",
    "veto_at_or_below": "拒否とする点数（以下）", "tie_break_positions": "同点のときに比べる基準の番号",
    "budget_policy": "予算を超える提案の扱い", "score_decimals": "得点の小数の桁数", "deciding_stage": "順位を決める審査段階",
    "has_presentation": "公開プレゼンテーションあり", "allow_revision_after_presentation": "プレゼン後の見直しを認める",
    "rounding": "丸め方", "veto_quorum": "拒否の条件",
    "assignment_mode": "審査委員の割当", "reviewers_per_proposal": "提案ごとの委員の人数",
    "min_valid_sheets": "採点の成立に必要な採点票の数（空欄は割り当てた委員のうち利害関係のない全員）",
}
RULE_VALUES = {
    "mean": "平均", "trimmed_mean": "最高・最低を除いた平均", "skip": "収まらない提案を飛ばして次へ",
    "stop": "収まらない提案で推薦を打ち切る", "document": "一次審査", "presentation": "二次審査",
    "true": "はい", "false": "いいえ", "ROUND_HALF_UP": "四捨五入（ROUND_HALF_UP）",
    "ROUND_HALF_EVEN": "偶数丸め（ROUND_HALF_EVEN）", "majority": "採点した委員の過半数",
    "all": "委員全員がすべての提案を採点", "k": "提案ごとに決めた人数の委員が採点",
}


def _codes(value) -> str:
    return "、".join(str(v) for v in value) if isinstance(value, list) else str(value or "")


@bp.app_template_filter("entry_sentence")
def entry_sentence(entry: dict) -> str:
    """One entry as a Japanese sentence: 「委員Cが提案31の採点（一次審査）を封印しました」."""
    p = entry.get("payload") or {}
    code, reviewer = p.get("proposal_code", ""), p.get("reviewer", "")
    stage = STAGE_LABELS.get(p.get("stage") or "document", p.get("stage"))
    reason = f"（理由：{p['reason']}）" if p.get("reason") else ""
    sentences = {
        "call_published": lambda: f"「{p.get('title', '')}」の募集を開始しました。",
        "criteria_changed": lambda: f"審査基準・ルールを変更しました{reason}。",
        "proposal_received": lambda: f"{code}を受け付けました。",
        "intake_decided": lambda: f"{code}の受付・形式審査の結果を「{OUTCOME_LABELS.get(p.get('outcome'), p.get('outcome'))}」としました{reason}。",
        "released_to_reviewers": lambda: f"{len(p.get('proposal_codes') or [])}件の提案を審査委員に提供しました。",
        "reviewer_assigned": lambda: f"{reviewer}に{_codes(p.get('proposal_codes'))}の審査を割り当てました。",
        "reviewer_recused": lambda: f"{reviewer}が{code}の審査から外れました（{GROUND_LABELS.get(p.get('ground'), p.get('ground') or '')}）。",
        "score_sealed": lambda: f"{reviewer}が{code}の採点（{stage}）を封印しました。",
        "scoring_closed": lambda: f"採点を締め切りました（封印された採点 {p.get('sealed_count', 0)}件）。",
        "scores_revealed": lambda: f"封印していた採点 {p.get('revealed_count', 0)}件の内容を公開しました。",
        "score_reopened": lambda: f"{reviewer}の{code}の採点（{stage}）を再開しました{reason}。",
        "decision_recorded": lambda: f"{len(p.get('outcomes') or [])}件の提案の決定を記録しました。",
        "results_published": lambda: f"審査結果{'（第%s版）' % p['version'] if p.get('version') else ''}を公表しました。",
        "correction": lambda: f"記録{p.get('corrects_seq')}番の内容を訂正しました{reason}。",
        "agreement_concluded": lambda: f"{code}の協定を締結しました（第{p.get('revision', 1)}版）。",
        "assignment_changed": lambda: (f"{code}の審査を{p.get('from_reviewer', '')}から{p['to_reviewer']}に"
                                       f"割り当てなおしました（{ASSIGNMENT_GROUNDS.get(p.get('ground'), p.get('ground') or '')}）。"
                                       if p.get("to_reviewer") else
                                       f"{code}の審査を{p.get('from_reviewer', '')}から外しました"
                                       f"（{ASSIGNMENT_GROUNDS.get(p.get('ground'), p.get('ground') or '')}）。"),
        "reviewer_withdrew": lambda: f"{reviewer}が審査委員を辞退しました（未了の提案：{_codes(p.get('reassigned_codes')) or 'なし'}）。",
        "project_document_published": lambda: f"{code}の{DOCUMENT_KIND_LABELS.get(p.get('document_kind'), p.get('document_kind') or '文書')}を公開しました。",
        "minutes_published": lambda: f"第{p.get('meeting', '')}回審査会の議事録（公開部分）を公開しました。",
    }
    make = sentences.get(entry.get("kind"))
    return make() if make else f"種類「{entry.get('kind')}」の記録です。"


@bp.app_template_filter("payload_text")
def payload_text(value, key: str):
    """A payload value as a person reads it: weights as published (×4, not
    the stored hundredths 400), rules by their Japanese names, outcomes in words."""
    if key == "criteria" and isinstance(value, list):
        return [f"{c.get('label')}（重み×{_weight(c.get('weight'))}、{c.get('min')}〜{c.get('max')}点）"
                for c in value if isinstance(c, dict)]
    if key == "rules" and isinstance(value, list):
        return [f"{RULE_LABELS.get(r.get('field'), r.get('field'))}："
                f"{RULE_VALUES.get(r.get('value'), r.get('value')) or '（なし）'}（{r.get('field')}）"
                for r in value if isinstance(r, dict)]
    if key == "outcomes" and isinstance(value, list):
        return [f"{o.get('proposal_code')}：{OUTCOME_LABELS.get(o.get('result'), o.get('result'))}"
                + (f"（理由：{o['reason']}）" if o.get("reason") else "") for o in value if isinstance(o, dict)]
    if key in ("opens_at", "closes_at"):
        return f"{utc_text_jst(value)}（日本時間）"
    if key == "fiscal_year" and isinstance(value, int):
        return f"{fiscal_year_label(value)}（{value}年度）"
    if key in ("stage",):
        return STAGE_LABELS.get(value, value)
    if key in ("outcome", "result"):
        return OUTCOME_LABELS.get(value, value)
    if key == "ground":
        return GROUND_LABELS.get(value, value)
    return log_value(value)


def _weight(hundredths) -> str:
    if not isinstance(hundredths, int):
        return str(hundredths)
    whole, rest = divmod(hundredths, 100)
    return str(whole) if not rest else f"{whole}.{rest:02d}".rstrip("0")


@bp.app_template_filter("entry_json")
def entry_json(entry: dict) -> str:
    return json.dumps(entry, ensure_ascii=False, indent=2)
