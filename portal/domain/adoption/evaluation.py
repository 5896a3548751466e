"""事業評価: the call's evaluation settings, each side's evaluation of a
project, the 相互評価 record, and how the three evaluations combine into
the published score and grade.

The combination (exact decimals, like the screening's aggregation):

    side points = weight × (sum of the side's item scores) / (items × scale_max)
    combined    = group points + department points + committee points

computed exactly as fractions, then rounded ONCE to one decimal place,
ROUND_HALF_UP; the grade is the first band (highest threshold first) whose
threshold the ROUNDED score reaches, so anyone can read the grade off the
published number. An evaluation missing an item is refused, never counted
as zero.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from fractions import Fraction

from sqlalchemy import select
from sqlalchemy.orm import Session

from ...models import Call, Proposal, User
from ...models.evaluation import (
    EVAL_COMMITTEE,
    EVAL_DEPARTMENT,
    EVAL_GROUP,
    EVAL_SIDE_LABELS,
    EvaluationPublication,
    EvaluationSettings,
    MutualEvaluation,
    ProjectEvaluation,
)
from ..refusals import Invalid, WrongState

# 高岡市 協働の指針 第3章 4(2): the eleven check items (DOMAIN.md).
TAKAOKA_ITEMS = (
    "協働の原則（共有・対等・相互理解・公開）を尊重できたか",
    "直接的なねらいは実現できたか",
    "手法は適切だったか",
    "協働による事業効果はあったか",
    "予算は適切だったか",
    "受益者と実施者は満足したか",
    "市民の理解・参加は得られたか",
    "行政内部の理解・協力は得られたか",
    "ネットワークは広がったか",
    "相手への信頼は深まったか",
    "ノウハウは蓄積されたか",
)
DEFAULT_LEVELS = ("達成できなかった", "あまり達成できなかった", "ある程度達成できた", "達成できた", "十分に達成できた")
DEFAULT_WEIGHTS = (20, 20, 60)  # 高浜市: 団体20・担当課20・評価委員会60
DEFAULT_BANDS = (("優良", "80"), ("良好", "60"), ("要改善", "0"))
SIDES = (EVAL_GROUP, EVAL_DEPARTMENT, EVAL_COMMITTEE)
PLACES = Decimal("0.1")
COMMENT_MAX = 2000
ITEM_MAX = 200


class EvaluationInvalid(Invalid):
    """The input cannot be saved as typed: every problem by field at once."""

    def __init__(self, problems: dict[str, str], message: str = "入力内容を確認してください。"):
        super().__init__(message)
        self.problems = problems


@dataclass(frozen=True)
class Settings:
    items: tuple[str, ...]
    scale_max: int
    levels: tuple[str, ...]
    weights: tuple[int, int, int]  # group, department, committee
    bands: tuple[tuple[str, Decimal], ...]  # highest threshold first

    def weight_of(self, side: str) -> int:
        return self.weights[SIDES.index(side)]


DEFAULT = Settings(TAKAOKA_ITEMS, 5, DEFAULT_LEVELS, DEFAULT_WEIGHTS,
                   tuple((label, Decimal(t)) for label, t in DEFAULT_BANDS))


def settings_row(session: Session, call: Call) -> EvaluationSettings | None:
    return session.get(EvaluationSettings, call.id)


def settings_of(session: Session, call: Call) -> Settings:
    row = settings_row(session, call)
    if row is None:
        return DEFAULT
    return Settings(tuple(row.items), row.scale_max, tuple(row.level_descriptors),
                    (row.weight_group, row.weight_department, row.weight_committee),
                    tuple((label, Decimal(t)) for label, t in row.bands))


def is_locked(session: Session, call: Call) -> bool:
    """The settings freeze once any project of the call has an evaluation
    (a draft included): a score must always mean the item it was given for."""
    return session.scalars(select(ProjectEvaluation.id).join(Proposal, Proposal.id == ProjectEvaluation.proposal_id)
                           .where(Proposal.call_id == call.id).limit(1)).first() is not None


def _int(text: str) -> int | None:
    text = (text or "").strip()
    return int(text) if text.isascii() and text.isdigit() and len(text) <= 4 else None


def _dec(text: str) -> Decimal | None:
    text = (text or "").strip()
    if not text or len(text) > 8 or not all(c.isdigit() or c == "." for c in text) or text.count(".") > 1:
        return None
    return Decimal(text)


def parse_settings(*, items_text: str, levels_text: str, weights: tuple[str, str, str],
                   bands: list[tuple[str, str]]) -> Settings:
    """The settings form's text, checked; all problems at once."""
    problems: dict[str, str] = {}
    items = tuple(line.strip() for line in (items_text or "").splitlines() if line.strip())
    if not items:
        problems["items"] = "評価項目を1行に1項目ずつ入力してください。"
    elif len(items) > 30 or any(len(i) > ITEM_MAX for i in items):
        problems["items"] = f"評価項目は30項目まで、1項目{ITEM_MAX}文字までにしてください。"
    levels = tuple(line.strip() for line in (levels_text or "").splitlines() if line.strip())
    if not 2 <= len(levels) <= 10 or any(len(x) > ITEM_MAX for x in levels):
        problems["levels"] = "評価の段階は2〜10段階です。1点から順に、各段階の説明を1行ずつ入力してください。"
    parsed = [_int(w) for w in weights]
    for name, value in zip(("weight_group", "weight_department", "weight_committee"), parsed):
        if value is None or value > 100:
            problems[name] = "0〜100の整数で入力してください。"
    if not any(n in problems for n in ("weight_group", "weight_department", "weight_committee")) and sum(parsed) != 100:
        problems["weight_committee"] = f"3つの評価の配分の合計は100にしてください（いまの合計は{sum(parsed)}です）。"
    band_rows: list[tuple[str, Decimal]] = []
    for label, threshold in bands:
        label = (label or "").strip()
        if not label and not (threshold or "").strip():
            continue
        value = _dec(threshold)
        if not label or len(label) > 20 or value is None or value > 100:
            problems["bands"] = "評価区分は名称（20文字まで）と、0〜100の下限点を組にして入力してください。"
            break
        band_rows.append((label, value))
    band_rows.sort(key=lambda b: -b[1])
    if "bands" not in problems:
        if not band_rows or band_rows[-1][1] != 0:
            problems["bands"] = "最も低い評価区分の下限点は0にしてください（どの点数にも区分が付くように）。"
        elif len({b[1] for b in band_rows}) != len(band_rows) or len({b[0] for b in band_rows}) != len(band_rows):
            problems["bands"] = "評価区分の名称と下限点は重ならないようにしてください。"
    if problems:
        raise EvaluationInvalid(problems, "評価の設定を確認してください。")
    return Settings(items, len(levels), levels, tuple(parsed), tuple(band_rows))  # type: ignore[arg-type]


def save_settings(session: Session, call: Call, settings: Settings, *, user: User | None, now: datetime) -> None:
    if is_locked(session, call):
        raise WrongState("この募集ではすでに評価が始まっているため、評価の設定は変更できません。")
    row = settings_row(session, call) or EvaluationSettings(call_id=call.id)
    row.items, row.scale_max, row.level_descriptors = list(settings.items), settings.scale_max, list(settings.levels)
    row.weight_group, row.weight_department, row.weight_committee = settings.weights
    row.bands = [[label, str(t)] for label, t in settings.bands]
    row.updated_at, row.updated_by_id = now, user.id if user is not None else None
    session.add(row)
    session.flush()


# -- the combination ---------------------------------------------------------------

class Incomplete(Invalid):
    """An evaluation misses an item, or a side has not submitted."""


def side_points(settings: Settings, side: str, scores: dict) -> Fraction:
    """weight × sum / (items × scale_max), exactly. Every item must be scored."""
    total = 0
    for index in range(len(settings.items)):
        value = scores.get(str(index))
        if not isinstance(value, int) or isinstance(value, bool) or not 1 <= value <= settings.scale_max:
            raise Incomplete(f"{EVAL_SIDE_LABELS[side]}に、項目「{settings.items[index]}」の点数がありません。")
        total += value
    return Fraction(settings.weight_of(side) * total, len(settings.items) * settings.scale_max)


def exact_round(value: Fraction) -> Decimal:
    """ROUND_HALF_UP to one place on the exact fraction (no float, no
    intermediate decimal division)."""
    scaled = value * 10
    floor = scaled.numerator // scaled.denominator
    rest = scaled - floor
    tenths = floor + (1 if rest >= Fraction(1, 2) else 0)
    return (Decimal(tenths) / 10).quantize(PLACES)


def grade_of(settings: Settings, score: Decimal) -> str:
    for label, threshold in settings.bands:
        if score >= threshold:
            return label
    return settings.bands[-1][0]


@dataclass(frozen=True)
class Combined:
    points: dict[str, Decimal]  # per side, rounded for display only
    score: Decimal  # the published score (one decimal)
    grade: str


def combine(settings: Settings, scores_by_side: dict[str, dict]) -> Combined:
    exact = {side: side_points(settings, side, scores_by_side.get(side) or {}) for side in SIDES}
    score = exact_round(sum(exact.values(), Fraction(0)))
    return Combined({side: exact_round(value) for side, value in exact.items()}, score, grade_of(settings, score))


# -- each side's evaluation -----------------------------------------------------------

def evaluation_of(session: Session, proposal: Proposal, side: str) -> ProjectEvaluation | None:
    return session.scalars(select(ProjectEvaluation).where(ProjectEvaluation.proposal_id == proposal.id,
                                                           ProjectEvaluation.side == side)).first()


def evaluations_of(session: Session, proposal: Proposal) -> dict[str, ProjectEvaluation]:
    rows = session.scalars(select(ProjectEvaluation).where(ProjectEvaluation.proposal_id == proposal.id)
                           .order_by(ProjectEvaluation.id))
    return {row.side: row for row in rows}


def publication_of(session: Session, proposal: Proposal) -> EvaluationPublication | None:
    return session.get(EvaluationPublication, proposal.id)


def parse_scores(settings: Settings, form: dict[str, str]) -> tuple[dict, dict, dict[str, str]]:
    """Scores and comments per item from form fields ``score-<i>`` and
    ``comment-<i>``; blanks are allowed in a draft, bad values are not."""
    scores, comments, problems = {}, {}, {}
    for index in range(len(settings.items)):
        raw = (form.get(f"score-{index}") or "").strip()
        if raw:
            value = _int(raw)
            if value is None or not 1 <= value <= settings.scale_max:
                problems[f"score-{index}"] = f"1〜{settings.scale_max}の点数を選んでください。"
            else:
                scores[str(index)] = value
        comment = (form.get(f"comment-{index}") or "").strip()
        if len(comment) > COMMENT_MAX:
            problems[f"comment-{index}"] = f"コメントは{COMMENT_MAX}文字以内にしてください。"
        elif comment:
            comments[str(index)] = comment
    return scores, comments, problems


def save(session: Session, proposal: Proposal, side: str, *, scores: dict, comments: dict, overall: str,
         user: User | None, now: datetime, submit: bool) -> ProjectEvaluation:
    """Keep a draft, or submit (every item scored). A submitted evaluation
    is final; a published project's evaluations no longer change."""
    if side not in SIDES:
        raise ValueError(side)
    if publication_of(session, proposal) is not None:
        raise WrongState("この事業の評価はすでに公表されています。")
    row = evaluation_of(session, proposal, side)
    if row is not None and row.submitted_at is not None:
        raise WrongState(f"{EVAL_SIDE_LABELS[side]}はすでに提出されています。")
    if side == EVAL_COMMITTEE and not both_submitted(session, proposal):
        raise WrongState("外部評価は、団体と担当課の自己評価がそろってから入力します。")
    if len(overall or "") > COMMENT_MAX:
        raise EvaluationInvalid({"overall": f"総評は{COMMENT_MAX}文字以内にしてください。"})
    if row is None:
        row = ProjectEvaluation(proposal_id=proposal.id, side=side)
        session.add(row)
    row.scores, row.comments, row.overall_comment = dict(scores), dict(comments), (overall or "").strip()
    row.updated_at, row.updated_by_id = now, user.id if user is not None else None
    if submit:
        settings = settings_of(session, proposal.call)
        missing = [f"score-{i}" for i in range(len(settings.items)) if str(i) not in scores]
        if missing:
            session.flush()  # the draft is kept
            raise EvaluationInvalid({name: "提出するには、この項目の点数を選んでください。" for name in missing},
                                    "すべての項目に点数を付けてから提出してください（下書きは保存しました）。")
        row.submitted_at, row.submitted_by_id = now, user.id if user is not None else None
    session.flush()
    return row


def both_submitted(session: Session, proposal: Proposal) -> bool:
    rows = evaluations_of(session, proposal)
    return all(rows.get(side) is not None and rows[side].submitted_at is not None
               for side in (EVAL_GROUP, EVAL_DEPARTMENT))


def differing_items(settings: Settings, group: ProjectEvaluation, department: ProjectEvaluation) -> list[int]:
    return [i for i in range(len(settings.items))
            if group.scores.get(str(i)) != department.scores.get(str(i))]


def visible_sides(session: Session, proposal: Proposal, side: str | None) -> set[str]:
    """What a viewer may read: staff ("staff") everything; the group and the
    department their own, and the other side's only once both are submitted
    (so neither copies the other); the committee's once it is submitted."""
    rows = evaluations_of(session, proposal)
    if side == "staff":
        return set(rows)
    own = {"group": EVAL_GROUP, "department": EVAL_DEPARTMENT}.get(side or "")
    seen = {own} if own in rows else set()
    if both_submitted(session, proposal):
        seen |= {EVAL_GROUP, EVAL_DEPARTMENT}
        if EVAL_COMMITTEE in rows and rows[EVAL_COMMITTEE].submitted_at is not None:
            seen.add(EVAL_COMMITTEE)
    return seen


# -- 相互評価 ---------------------------------------------------------------------

def mutual_of(session: Session, proposal: Proposal) -> MutualEvaluation | None:
    return session.get(MutualEvaluation, proposal.id)


def write_mutual(session: Session, proposal: Proposal, *, discussion: str, agreed_notes: str, user: User | None,
                 now: datetime) -> MutualEvaluation:
    if not both_submitted(session, proposal):
        raise WrongState("相互評価は、団体と担当課の自己評価がそろってから記録します。")
    if publication_of(session, proposal) is not None:
        raise WrongState("この事業の評価はすでに公表されています。")
    discussion, agreed_notes = (discussion or "").strip(), (agreed_notes or "").strip()
    problems = {}
    if not discussion:
        problems["discussion"] = "協議の内容を入力してください。"
    for name, text in (("discussion", discussion), ("agreed_notes", agreed_notes)):
        if len(text) > 4000:
            problems[name] = "4000文字以内にしてください。"
    if problems:
        raise EvaluationInvalid(problems, "相互評価の記録を確認してください。")
    row = mutual_of(session, proposal) or MutualEvaluation(proposal_id=proposal.id)
    row.discussion, row.agreed_notes = discussion, agreed_notes
    row.written_at, row.written_by_id = now, user.id if user is not None else None
    row.group_confirmed_at = row.city_confirmed_at = None  # a changed record is confirmed again by both
    session.add(row)
    session.flush()
    return row


def confirm_mutual(session: Session, proposal: Proposal, side: str, *, now: datetime) -> MutualEvaluation:
    row = mutual_of(session, proposal)
    if row is None:
        raise WrongState("確認する相互評価の記録がまだありません。")
    if side == "group":
        row.group_confirmed_at = row.group_confirmed_at or now
    elif side == "city":
        row.city_confirmed_at = row.city_confirmed_at or now
    else:
        raise WrongState("相互評価は団体と市が確認します。")
    session.flush()
    return row


def mutual_settled(session: Session, proposal: Proposal) -> bool:
    """No differing item, or a record both sides confirmed."""
    rows = evaluations_of(session, proposal)
    if not both_submitted(session, proposal):
        return False
    if not differing_items(settings_of(session, proposal.call), rows[EVAL_GROUP], rows[EVAL_DEPARTMENT]):
        return True
    row = mutual_of(session, proposal)
    return row is not None and row.group_confirmed_at is not None and row.city_confirmed_at is not None


def combined_of(session: Session, proposal: Proposal) -> Combined:
    rows = evaluations_of(session, proposal)
    for side in SIDES:
        if side not in rows or rows[side].submitted_at is None:
            raise Incomplete(f"{EVAL_SIDE_LABELS[side]}がまだ提出されていません。")
    return combine(settings_of(session, proposal.call), {side: rows[side].scores for side in SIDES})


# -- publication ------------------------------------------------------------------

def publish(session: Session, proposal: Proposal, *, render, store, user: User | None,
            now: datetime) -> EvaluationPublication:
    """Render the evaluation PDF and publish it as a project document (kind
    ``evaluation``: its ``project_document_published`` entry is the log's
    record of it); the project becomes 評価済."""
    from . import project_documents
    from ...models.adoption_work import DOC_EVALUATION

    if publication_of(session, proposal) is not None:
        raise WrongState("この事業の評価はすでに公表されています。")
    combined = combined_of(session, proposal)
    if not mutual_settled(session, proposal):
        raise WrongState("団体と担当課の点数が異なる項目があります。相互評価の記録を双方が確認してから公表してください。")
    document = project_documents.publish_document(
        session, proposal, kind=DOC_EVALUATION, label="事業評価", pdf=render(proposal, combined),
        store=store, now=now, user=user)
    row = EvaluationPublication(proposal_id=proposal.id, document_id=document.id, combined_score=str(combined.score),
                                grade=combined.grade, published_at=now,
                                published_by_id=user.id if user is not None else None)
    session.add(row)
    session.flush()
    return row


def published_of_call(session: Session, call: Call) -> list[tuple[Proposal, EvaluationPublication]]:
    rows = session.execute(select(Proposal, EvaluationPublication)
                           .join(EvaluationPublication, EvaluationPublication.proposal_id == Proposal.id)
                           .where(Proposal.call_id == call.id).order_by(Proposal.anonymous_code))
    return [(p, e) for p, e in rows]
