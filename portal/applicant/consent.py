"""A group's consent to publish its name even if the proposal is not adopted
(adopted projects are always published with the group's name)."""
from __future__ import annotations

from flask import flash, redirect, request, url_for

from ..db import db_session
from ..domain.proposals.consent import set_name_publication_consent
from ..errors import refuse
from ..policy import load_own_proposal
from ..auth.forms import EmptyForm
from . import bp


@bp.post("/proposals/<int:proposal_id>/name-consent")
def name_consent(proposal_id: int):
    proposal = load_own_proposal(proposal_id)
    if not EmptyForm().validate_on_submit():
        refuse(400, "送信内容を確認できませんでした。ページを再読み込みしてからもう一度お試しください。")
    choice = request.form.get("consent")
    if choice not in ("yes", "no"):
        refuse(400, "「同意する」か「同意しない」を選んでください。")
    set_name_publication_consent(db_session, proposal, choice == "yes")
    flash("団体名の公表についての設定を保存しました。" if choice == "yes" else "団体名を公表しない設定にしました。", "success")
    return redirect(url_for("applicant.proposal_detail", proposal_id=proposal.id) + "#name-consent")
