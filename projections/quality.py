"""HMIP-style case-supervision standards (2.1-2.5, rated; 2.6 outcomes, unrated) from events.

Each key question counts a case once where it applies: ``yes`` of ``total``. A standard is
rated by its lowest key question with the Inspectorate's bands (docs/quality.md). The figures come
from the oversight read model's case rows, one query for every question
(projections/quality_questions.py).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from fractions import Fraction
from typing import Any

import sqlalchemy as sa

from projections.base import Generation
from projections.compliance import IndicatorScope, percent, sums
from projections.oversight_rules import Thresholds
from projections.quality_questions import standards

BANDS = ((80, "Outstanding"), (65, "Good"), (50, "Requires improvement"))
INADEQUATE = "Inadequate"


def rating(scores: Sequence[float | Fraction | None]) -> str | None:
    """The rating driven by the lowest key-question score (a percent); None if none applies.

    80 and over Outstanding, 65 Good, 50 Requires improvement, below 50 Inadequate. Scores
    are compared unrounded: 64.96% is Requires improvement, not Good.
    """
    known = [score for score in scores if score is not None]
    if not known:
        return None
    lowest = min(known)
    return next((name for floor, name in BANDS if lowest >= floor), INADEQUATE)


def query_quality(
    conn: sa.Connection,
    generation: Generation,
    thresholds: Thresholds,
    scope: IndicatorScope,
    *,
    now: datetime,
) -> list[dict[str, Any]]:
    """Every standard over ``scope`` at ``now``: its key questions and its rating."""
    found = standards(thresholds, now)
    questions = [question for standard in found for question in standard.questions]
    pairs = [(question.yes, question.total) for question in questions]
    summed = sums(conn, generation, scope, pairs, definitions=("quality", thresholds, now))
    figures = dict(zip((q.id for q in questions), summed, strict=True))
    answer = []
    for standard in found:
        items: list[dict[str, Any]] = []
        scores: list[Fraction | None] = []
        for question in standard.questions:
            yes, total = figures[question.id]
            scores.append(Fraction(100 * yes, total) if total else None)
            items.append(
                {
                    "id": question.id,
                    "question": question.question,
                    "yes": yes,
                    "total": total,
                    "percent": percent(yes, total),
                    "definition": question.definition,
                }
            )
        answer.append(
            {
                "id": standard.id,
                "name": standard.name,
                "rated": standard.rated,
                "rating": rating(scores) if standard.rated else None,
                "key_questions": items,
            }
        )
    return answer
