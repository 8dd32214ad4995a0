"""The key questions of the case-supervision standards, each as SQL over the case rows.

A question's `yes` and `total` count cases (once each). The "keeping other people safe" (c)
questions are the issue's; engagement (a) and desistance (b) are defined from events in the
same spirit. Every definition is stated in the answer and in docs/quality.md.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import sqlalchemy as sa

from projections.business_days import passed_cutoff, passed_month_cutoff
from projections.compliance import Expression, count
from projections.oversight_rules import Thresholds
from projections.schema import oversight_cases

t = oversight_cases
FOCUS = {
    "a": "Does {} focus sufficiently on engaging the person on probation?",
    "b": "Does {} focus sufficiently on reducing reoffending and supporting desistance?",
    "c": "Does {} focus sufficiently on keeping other people safe?",
}


@dataclass(frozen=True)
class Question:
    id: str
    question: str
    yes: Expression
    total: Expression
    definition: str


@dataclass(frozen=True)
class Standard:
    id: str
    name: str
    rated: bool
    questions: list[Question]


def _standard(id: str, name: str, *items: tuple[str, Expression, Expression, str]) -> Standard:
    """A rated standard whose questions are named by their letter (a, b, c)."""
    subject = name.lower()
    return Standard(
        id,
        name,
        True,
        [Question(f"{id}{k}", FOCUS[k].format(subject), y, n, d) for k, y, n, d in items],
    )


def standards(thresholds: Thresholds, now: datetime) -> list[Standard]:
    """Every standard and its key questions, with the thresholds and deadlines at ``now``."""
    th = thresholds
    months = th.unpaid_work_completion_months
    inducted = t.c.inducted_on.is_not(None)
    planning = sa.or_(
        t.c.plan_agreed,
        sa.and_(inducted, t.c.inducted_on <= passed_cutoff(now, th.sentence_plan_days)),
    )
    enforced = sa.and_(
        sa.or_(
            t.c.enforcement_worst_bd.is_(None),
            t.c.enforcement_worst_bd <= th.enforcement_decision_days,
        ),
        sa.or_(
            t.c.first_uncited_on.is_(None),
            t.c.first_uncited_on > passed_cutoff(now, th.enforcement_decision_days),
        ),
    )
    visited = sa.or_(
        sa.not_(t.c.hv_required),
        t.c.hv_bd <= th.home_visit_days,
        sa.and_(t.c.hv_bd.is_(None), t.c.inducted_on > passed_cutoff(now, th.home_visit_days)),
    )
    reviewed = sa.and_(
        sa.or_(t.c.sig_worst_bd.is_(None), t.c.sig_worst_bd <= th.risk_review_days),
        sa.or_(
            t.c.sig_first_unreviewed_on.is_(None),
            t.c.sig_first_unreviewed_on > passed_cutoff(now, th.risk_review_days),
        ),
    )
    has_needs, changed = t.c.needs_count > 0, t.c.rosh_changes > 0
    unpaid = sa.or_(t.c.uw_months.is_not(None), t.c.start_date <= passed_month_cutoff(now, months))
    with_plan = (
        "Cases with a sentence plan, or inducted without one and past the plan deadline "
        f"({th.sentence_plan_days} business days after induction): "
    )
    assessed = "Cases with a risk assessment: "
    # fmt: off
    court = Standard("2.1", "Court work", True, [
        Question("2.1c", FOCUS["c"].format("court work"), count(t.c.court_ok),
                 count(t.c.court_reports > 0),
                 "Cases with a court report: every court report was prepared with both a police "
                 "domestic-abuse enquiry and a children's-services enquiry."),
    ])
    assessment = _standard(
        "2.2", "Assessment",
        ("a", count(t.c.assessment_person_involved), count(t.c.assessed),
         assessed + "the person was involved in the latest one."),
        ("b", count(t.c.assessment_needs_analysed), count(t.c.assessed),
         assessed + "the latest one analysed the person's needs (needs recorded, even if none "
         "were found)."),
        ("c", count(sa.and_(t.c.assessed, t.c.assessment_sources_ok)), count(t.c.assessed),
         assessed + "the latest one drew on police information, and on children's services "
         "where the case has a domestic-abuse flag (offence flag or ADVP) or a child "
         "registration (RCCO, RCPR)."),
    )
    planning_standard = _standard(
        "2.3", "Planning",
        ("a", count(sa.and_(planning, t.c.plan_person_involved)), count(planning),
         with_plan + "the person was involved in the latest plan."),
        ("b", count(sa.and_(planning, t.c.plan_desistance)), count(planning),
         with_plan + "the latest plan sets at least one objective and was agreed after a risk "
         "assessment that analysed the person's needs."),
        ("c", count(sa.and_(planning, t.c.plan_contingency)), count(planning),
         with_plan + "the latest plan has a contingency plan."),
    )
    delivery = _standard(
        "2.4", "Implementation and delivery",
        ("a", count(t.c.induction_bd <= th.induction_days), count(inducted),
         f"Inducted cases: the induction took place within {th.induction_days} business days "
         "of the case opening."),
        ("b", count(sa.and_(has_needs, t.c.needs_referred == t.c.needs_count)), count(has_needs),
         "Cases whose latest risk assessment identified needs: every need has a referral to "
         "the matching Commissioned Rehabilitative Service."),
        ("c", count(sa.and_(inducted, enforced, visited)), count(inducted),
         "Inducted cases: every unacceptable failure was cited by an enforcement action within "
         f"{th.enforcement_decision_days} business days (none is past that uncited), and, "
         "where a home visit is required (domestic-abuse offence flag, RCCO or RCPR), an "
         f"attended home visit (CHVS) took place within {th.home_visit_days} business days of "
         "induction (or that deadline is still ahead)."),
    )
    reviewing = _standard(
        "2.5", "Reviewing",
        ("a", count(t.c.review_person_involved), count(t.c.reviewed),
         "Cases with a risk review: the person was involved in the latest risk assessment or "
         "the latest sentence plan."),
        ("b", count(sa.and_(changed, t.c.rosh_changes_planned == t.c.rosh_changes)),
         count(changed),
         "Cases with a risk review that changed the RoSH level: every such review also changed "
         "the plan."),
        ("c", count(sa.and_(t.c.sig_events > 0, reviewed)), count(t.c.sig_events > 0),
         "Cases with a significant event: every significant event was followed within "
         f"{th.risk_review_days} business days by a risk review informed by other agencies' "
         "intelligence (an event still inside that window does not count against the case)."),
    )
    outcomes = Standard("2.6", "Outcomes (for information, not rated)", False, [
        Question("2.6.1", "Did supervision end in completion?", count(t.c.completed),
                 count(t.c.status == "terminated"),
                 "Terminated cases whose termination reason is 'completed' ÷ terminated cases."),
        Question("2.6.2", "Was the case free of serious further offences?",
                 count(t.c.sfo == 0), count(sa.true()),
                 "Cases with no serious further offence notified ÷ cases."),
        Question("2.6.3", "Was unpaid work completed on time?",
                 count(sa.and_(t.c.uw_required, t.c.uw_months <= months)),
                 count(sa.and_(t.c.uw_required, unpaid)),
                 "Cases with an unpaid work requirement: all hours worked within "
                 f"{months} months of the start date ÷ such cases completed or started more "
                 f"than {months} months ago."),
        Question("2.6.4", "Were accredited programmes completed?", count(t.c.ap_completed > 0),
                 count(t.c.ap_ended > 0),
                 "Cases with an accredited programme that ended: at least one was completed."),
    ])
    # fmt: on
    return [court, assessment, planning_standard, delivery, reviewing, outcomes]
