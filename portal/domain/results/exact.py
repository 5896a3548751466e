"""The exact decimal arithmetic under the results: contexts that raise
rather than round, the one correct rounding of a fraction, the weighted
total of one score sheet, the orders of keys and anonymous codes, and
``AggregationError``, which all of it raises. Plain Python: no Flask, no
database (docs/aggregation.md).

The ranking, the advisory normalised view and the reviewer's confirm page
all total a sheet with ``weighted_total``, so no two of them can disagree.
"""
from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from decimal import (
    Context,
    Decimal,
    DivisionByZero,
    Inexact,
    InvalidOperation,
    Overflow,
)
from fractions import Fraction
from typing import TYPE_CHECKING, Any, Union

from ..refusals import Invalid

if TYPE_CHECKING:
    from .aggregation_inputs import CriterionRule

Key = Union[str, int]  # reviewer and proposal keys: the DB ids, or their str()

UNROUNDED_DIGITS = 40  # significant digits of the "unrounded" figures kept for audit
Z_PRECISION = 28  # significant digits for standard deviations and z-scores

# Sums and products of Decimal weights and integer scores must be exact: this
# context raises on any rounding instead of rounding quietly.
EXACT = Context(prec=80, traps=[InvalidOperation, Inexact, Overflow, DivisionByZero])
Z_CONTEXT = Context(prec=Z_PRECISION, traps=[InvalidOperation, Overflow, DivisionByZero])


class AggregationError(Invalid):
    """Input the aggregation refuses to guess about. ``code`` is stable for
    programs; the message (Japanese) is for the secretariat."""

    def __init__(self, message: str, *, code: str, reviewer_key: Key | None = None,
                 proposal_key: Key | None = None, criterion_key: str | None = None):
        super().__init__(message)
        self.message = message
        self.code = code
        self.reviewer_key = reviewer_key
        self.proposal_key = proposal_key
        self.criterion_key = criterion_key


def round_fraction(value: Fraction, decimals: int, rounding: str) -> Decimal:
    """Round an exact rational once, correctly, with any decimal rounding mode.

    The quotient is cut to decimals + 1 digits and a final sticky digit 1 is
    appended when anything non-zero was cut, so ``quantize`` sees the first
    discarded digit exactly and knows whether anything follows it. No double
    rounding, whatever the denominator."""
    numerator, denominator = abs(value.numerator), value.denominator
    quotient, remainder = divmod(numerator * 10 ** (decimals + 1), denominator)
    digits = str(quotient * 10 + (1 if remainder else 0))
    cut = Decimal((1 if value < 0 else 0, tuple(int(d) for d in digits), -(decimals + 2)))
    rounded = cut.quantize(Decimal((0, (1,), -decimals)), rounding=rounding,
                           context=Context(prec=len(digits) + 2))
    return rounded if rounded else rounded.copy_abs()  # never "-0.00"


def unrounded(value: Fraction) -> Decimal:
    return Context(prec=UNROUNDED_DIGITS).divide(Decimal(value.numerator), Decimal(value.denominator))


def exact(operation, *args) -> Decimal:
    """``operation`` (a method of ``EXACT``) on ``args``, or AggregationError
    where the result would need rounding."""
    try:
        return operation(*args)
    except Inexact:
        raise AggregationError("重みの桁数が多すぎて正確に計算できません。", code="inexact") from None


def weighted_total(criteria: Sequence[CriterionRule], scores: Mapping[str, int]) -> Decimal:
    """T = Σ_c w_c · s_c over ``criteria``, exact; ``scores`` by criterion key.
    The one definition of a sheet's total."""
    total = Decimal(0)
    for criterion in criteria:
        product = exact(EXACT.multiply, criterion.weight, Decimal(scores[criterion.key]))
        total = exact(EXACT.add, total, product)
    return total


def exact_sum(values: Iterable[Decimal]) -> Decimal:
    total = Decimal(0)
    for value in values:
        total = exact(EXACT.add, total, value)
    return total


_DIGIT_RUN = re.compile(r"([0-9]+)")


def code_order(code: str) -> tuple:
    """Natural order of anonymous codes: 提案7 before 提案10."""
    parts = _DIGIT_RUN.split(code)
    return (tuple(int(part) if i % 2 else part for i, part in enumerate(parts)), code)


def key_order(key: Key) -> tuple:
    return (isinstance(key, str), key)


def is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def as_decimal(value: Any, what: str) -> Decimal:
    if is_int(value):
        return Decimal(value)
    if isinstance(value, Decimal) and value.is_finite():
        return value
    raise AggregationError(f"{what}は Decimal または整数で指定してください（{type(value).__name__} は使えません）。",
                           code="not_decimal")
