"""The results PDF and the process-log PDF, rendered once at publication.

Both come from plain Jinja templates (``templates/pdf/results.html`` and
``process_log.html``) with autoescaping, fed only with the published
document or log: the results PDF is drawn from the very dict that becomes
the JSON twin, so its numbers are the JSON's numbers. WeasyPrint runs
through ``portal.pdf.render_pdf`` (a fetcher that refuses every URL) as
PDF/UA-1: tagged structure, document title and language, fonts embedded
(IPAex, checked in tests/test_publication.py).
"""
from __future__ import annotations

import json
from datetime import datetime
from decimal import Decimal, InvalidOperation
from pathlib import Path

from jinja2 import Environment, FileSystemLoader, StrictUndefined

from ...pdf import render_pdf
from ..log import chain, seals, signing
from ..log.process_log import KIND_LABELS
from ..log.signing import spaced_fingerprint
from ..timeutil import fiscal_year_label, format_jst

TEMPLATES = Path(__file__).resolve().parents[3] / "templates"
PDF_VARIANT = "pdf/ua-1"



def _percent(share) -> str:
    """'0.7704' -> '77.04': the same digits, shifted, never re-rounded."""
    try:
        return format(Decimal(str(share)).scaleb(2), "f")
    except (InvalidOperation, ValueError, TypeError):
        return ""


def _yen(value) -> str:
    return "" if value is None or value == "" else f"{int(value):,}円"


def _utc_text_jst(text: str) -> str:
    try:
        return format_jst(chain.parse_timestamp(text))
    except chain.CanonicalError:
        return text


def _payload_text(payload: dict) -> str:
    """A payload as short lines: scalars as they are, anything else as JSON."""
    lines = []
    for key in sorted(payload):
        value = payload[key]
        if isinstance(value, (dict, list)):
            value = json.dumps(value, ensure_ascii=False, sort_keys=True, separators=(",", ":"))
        lines.append(f"{key}: {value}")
    return "\n".join(lines)


def _environment() -> Environment:
    env = Environment(loader=FileSystemLoader(TEMPLATES), autoescape=True, trim_blocks=True,
                      lstrip_blocks=True, undefined=StrictUndefined)
    env.filters.update(percent=_percent, yen=_yen, jst=format_jst, utc_text_jst=_utc_text_jst,
                       payload_text=_payload_text, fiscal_year=fiscal_year_label, spaced=spaced_fingerprint,
                       pdf_phrases=_pdf_phrases)
    return env


def _pdf_phrases(value):
    """Japanese phrases kept whole on a PDF line (templates/pdf/*.html use it
    as the app's templates do); the one implementation is the app's."""
    from ...templating import pdf_phrase_breaks  # only its pure function; no request is involved

    return pdf_phrase_breaks(value)


_ENV = _environment()


def results_html(document: dict, *, city_name: str) -> str:
    reviewers = []
    for proposal in document["proposals"]:
        for item in proposal["reviewers"]:
            if item["reviewer"] not in reviewers:
                reviewers.append(item["reviewer"])
    reviewers.sort(key=lambda name: (len(name), name))  # 委員B before 委員AA
    return _ENV.get_template("pdf/results.html").render(doc=document, city_name=city_name, reviewers=reviewers)


def render_results_pdf(document: dict, *, city_name: str) -> bytes:
    title = f"{document['call']['title']} 審査結果（第{document['version']}版）"
    return render_pdf(results_html(document, city_name=city_name), title=title, variant=PDF_VARIANT)


def log_html(call, entries: list[chain.Entry], reveals: list[seals.Reveal], *, city_name: str,
             head_signature: str, public_key_pem: str, urls, published_at: datetime, version: int) -> str:
    seals = {e.seq: e for e in entries if e.kind == chain.SCORE_SEALED}
    revealed = [{"seq": r.seq, "reviewer": seals[r.seq].payload.get("reviewer", ""),
                 "proposal_code": seals[r.seq].payload.get("proposal_code", ""),
                 "stage": seals[r.seq].payload.get("stage", chain.DEFAULT_STAGE),
                 "scores": r.scores, "salt": r.salt.hex()} for r in reveals if r.seq in seals]
    return _ENV.get_template("pdf/process_log.html").render(
        call=call, entries=entries, revealed=revealed, city_name=city_name, kind_labels=KIND_LABELS,
        head=entries[-1], head_signature=head_signature, public_key_pem=public_key_pem,
        fingerprint=signing.key_fingerprint(public_key_pem), urls=urls, published_at=published_at,
        version=version)


def render_log_pdf(call, entries, reveals, **context) -> bytes:
    title = f"{call.title} 審査プロセスの記録（第{context['version']}版）"
    return render_pdf(log_html(call, entries, reveals, **context), title=title, variant=PDF_VARIANT)
