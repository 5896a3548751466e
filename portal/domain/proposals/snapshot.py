"""The submitted snapshot: a proposal frozen as plain JSON at each
submission, and the digest stored with it."""
from __future__ import annotations

import hashlib
import json
from datetime import datetime

from ...models import COLLABORATION_FORM_LABELS, BudgetKind, Proposal
from ..timeutil import fiscal_year_label, format_jst
from .budget import budget_totals
from .proposal_fields import DECLARATIONS, TEXT_FIELDS


def build_snapshot(proposal: Proposal, now: datetime) -> dict:
    """Everything submitted, as plain JSON: what the receipt shows and what
    the secretariat receives. Never edited afterwards."""
    call, group = proposal.call, proposal.group
    income, expense = budget_totals(proposal)
    return {
        "receipt_number": proposal.receipt_number,
        "submitted_at": now.isoformat(),
        "submitted_at_jst": format_jst(now),
        "call": {"id": call.id, "slug": call.slug, "title": call.title,
                 "fiscal_year": fiscal_year_label(call.fiscal_year)},
        "group": {
            "name": group.name,
            "name_kana": group.name_kana,
            "kind": group.kind.label if group.kind else "",
            "representative": f"{group.representative_title} {group.representative_name}".strip(),
            "contact_name": group.contact_name,
            "contact_email": group.contact_email,
            "postal_code": group.postal_code,
            "address": group.address,
            "phone": group.phone,
            "founded_on": group.founded_on.isoformat() if group.founded_on else None,
            "member_count": group.member_count,
            "activity_fields": list(group.activity_fields or []),
            "activity_record": group.activity_record,
            "website": group.website,
        },
        "texts": [{"key": f.key, "label": f.label, "value": getattr(proposal, f.key)} for f in TEXT_FIELDS],
        "period": {
            "start": proposal.period_start.isoformat() if proposal.period_start else None,
            "end": proposal.period_end.isoformat() if proposal.period_end else None,
        },
        "desired_forms": [COLLABORATION_FORM_LABELS.get(v, v) for v in proposal.desired_forms],
        "related_department": proposal.related_department,
        "roles": [{"item": r.item, "group": r.group_role, "city": r.city_role} for r in proposal.role_shares],
        "budget": {
            "income": [{"category": b.category, "amount": b.amount, "note": b.note}
                       for b in proposal.budget_lines if b.kind == BudgetKind.INCOME],
            "expense": [{"category": b.category, "amount": b.amount, "note": b.note}
                        for b in proposal.budget_lines if b.kind == BudgetKind.EXPENSE],
            "income_total": income,
            "expense_total": expense,
            "requested_amount": proposal.requested_amount,
        },
        "attachments": [{"name": f.original_name, "size": f.size, "sha256": f.sha256} for f in proposal.attachments],
        "documents": [{"kind": f.purpose.label, "name": f.original_name, "size": f.size, "sha256": f.sha256}
                      for f in group.documents],
        "declarations": [
            {"text": item.text, "accepted_at": next(
                (d.accepted_at.isoformat() for d in proposal.declarations if d.key == item.key), None)}
            for item in DECLARATIONS
        ],
    }


def snapshot_digest(snapshot: dict) -> str:
    canonical = json.dumps(snapshot, ensure_ascii=False, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()
