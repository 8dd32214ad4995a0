"""The demo PDU's distributions, in one place, each citing the inspection finding it reproduces.

The findings are those of HMIP's inspection of Sheffield PDU (2023). Rates
are probabilities per case (or per appointment, need, failure where the comment says so).
Parameters without a finding are plausible figures for a PDU of that size; they shape the
caseload rather than a rating.
"""

from __future__ import annotations

from dataclasses import dataclass

from domain.vocabulary import Grade, RoSH, SentenceType

Mix = tuple[tuple[str, float], ...]


@dataclass(frozen=True)
class Profile:
    # -- the caseload --------------------------------------------------------------------------
    sentence_mix: tuple[tuple[SentenceType, float], ...] = (
        (SentenceType.COMMUNITY_ORDER, 0.45),
        (SentenceType.SUSPENDED_SENTENCE_ORDER, 0.20),
        (SentenceType.LICENCE, 0.28),
        (SentenceType.POST_SENTENCE_SUPERVISION, 0.07),
    )
    # Cases whose sentence began before the window (taken on at its start, e.g. transferred
    # in). Without them no case is older than the window, and the 12-month unpaid work measure
    # would count completions only.
    carried_in_share: float = 0.30
    female_share: float = 0.15
    grade_mix: tuple[tuple[Grade, float], ...] = (
        (Grade.PO, 0.45),
        (Grade.PSO, 0.38),
        (Grade.PQIP, 0.17),
    )
    offence_flag_rates: Mix = (
        ("domestic_abuse", 0.30),
        ("violence", 0.35),
        ("sexual", 0.06),
        ("weapons", 0.08),
        ("racially_aggravated", 0.03),
        ("stalking", 0.03),
    )
    unpaid_work_rate: float = 0.45  # orders with an unpaid work requirement
    rar_rate: float = 0.50  # orders with rehabilitation activity days
    accredited_programme_rate: float = 0.12  # orders with an accredited programme

    # -- 2.1 court work ------------------------------------------------------------------------
    court_report_rate: float = 0.90  # new orders with a pre-sentence report
    # Finding: police domestic-abuse enquiries missing in 66% of court reports.
    police_da_enquiry_rate: float = 0.34
    childrens_services_enquiry_rate: float = 0.70
    enquiry_unanswered_rate: float = 0.08  # enquiries never answered (safeguarding gap)

    # -- allocation ----------------------------------------------------------------------------
    training_considered_rate: float = 0.55
    suitability_considered_rate: float = 0.60

    # -- 2.2 assessment ------------------------------------------------------------------------
    # Finding: assessment 60 / 59 / 33%, rated Inadequate. (a) the person involved, (b) needs
    # analysed, (c) police information used, and children's services where there is a
    # safeguarding concern (about 30% of cases): 0.40 x (0.7 + 0.3 x 0.35) is about 33%.
    assessment_person_involved_rate: float = 0.60
    assessment_needs_analysed_rate: float = 0.59
    assessment_police_source_rate: float = 0.40
    assessment_childrens_services_rate: float = 0.35
    rosh_mix: tuple[tuple[RoSH, float], ...] = (
        (RoSH.LOW, 0.27),
        (RoSH.MEDIUM, 0.50),
        (RoSH.HIGH, 0.20),
        (RoSH.VERY_HIGH, 0.03),
    )
    need_rates: Mix = (
        ("ACC", 0.30),
        ("ETE", 0.40),
        ("FBD", 0.30),
        ("PWB", 0.35),
        ("DNR", 0.40),
        ("WOS", 0.50),  # women only
    )
    # Registrations (nDelius flags): ADVP on domestic abuse; child concerns and protection.
    advp_rate: float = 0.80  # of domestic-abuse cases
    rcco_rate: float = 0.08
    rcco_rate_domestic_abuse: float = 0.30
    rcpr_rate: float = 0.03
    rcpr_rate_domestic_abuse: float = 0.10
    alsh_rate: float = 0.07
    av2s_rate: float = 0.02
    registration_removal_rate: float = 0.30  # RCPR and ALSH removed later
    mappa_violent_licence_rate: float = 0.50  # high-RoSH violent licences (category 2)
    mappa_very_high_rate: float = 0.30  # other very-high cases (category 3)
    mappa_level_mix: tuple[tuple[int, float], ...] = ((1, 0.85), (2, 0.13), (3, 0.02))

    # -- 2.3 planning --------------------------------------------------------------------------
    induction_on_time_rate: float = 0.75
    plan_on_time_rate: float = 0.65
    plan_person_involved_rate: float = 0.60
    plan_without_objectives_rate: float = 0.06
    # Finding: contingency planning insufficient in 60% of cases.
    contingency_plan_rate: float = 0.40

    # -- 2.4 implementation and delivery -------------------------------------------------------
    engagement_mix: tuple[tuple[float, float], ...] = ((0.02, 0.60), (0.08, 0.30), (0.22, 0.10))
    # (per-appointment failure rate, share of cases)
    acceptable_absence_rate: float = 0.05  # per appointment
    national_standard_rate: float = 0.90
    # Finding: enforcement taken in only 27 of the 52 cases that needed it (at all: some of
    # it later than the 5 working days a decision is due in).
    enforcement_rate: float = 27 / 52
    late_enforcement_share: float = 0.20  # of the cases with enforcement: taken late
    nfa_rate: float = 0.10  # a first failure answered with NFA and a reason
    breach_termination_rate: float = 0.50  # breaches that end in revocation
    recall_mix: Mix = (
        ("standard", 0.50),
        ("fixed_term", 0.25),
        ("emergency", 0.10),
        ("no_recall", 0.15),
    )
    recall_on_time_rate: float = 0.75  # decided within 24 hours of the request
    # Finding: home visits missing in half the cases that need one.
    home_visit_rate: float = 0.50
    late_home_visit_rate: float = 0.30  # of the others: a visit, but too late
    # Finding: low CRS referral rates (per need identified).
    crs_referral_rate: float = 0.30
    # Finding: unpaid work completed within 12 months in 48% of cases. The orders paced to
    # finish in time; some cannot (carried-in orders begun long ago), others finish early and
    # alone count while young: 0.43 measures about 48% on the 12-month completion rate.
    unpaid_work_on_time_rate: float = 0.43
    unpaid_work_attendance_rate: float = 0.85  # per session
    unpaid_work_stall_rate: float = 0.25  # of the late ones: sessions stop for good

    # -- 2.5 reviewing -------------------------------------------------------------------------
    significant_event_mix: tuple[tuple[int, float], ...] = ((0, 0.80), (1, 0.15), (2, 0.05))
    review_on_time_informed_rate: float = 0.55
    escalation_rate: float = 0.30  # arrests, charges, relationship changes raising RoSH
    plan_changed_rate: float = 0.50  # of reviews changing RoSH
    scheduled_review_rate: float = 0.50  # cases open six months after their assessment
    sfo_rate: float = 0.05  # further offences charged that are serious

    # -- oversight -----------------------------------------------------------------------------
    # Finding: SPO oversight sufficient on 1 of 12 high-RoSH cases. Decided per case: only
    # these SPOs also record oversight of breaches and recalls on high-RoSH or MAPPA cases.
    high_rosh_oversight_rate: float = 1 / 12
    high_rosh_allocation_oversight_rate: float = 0.35  # the others: only at allocation
    # Finding: oversight insufficient or absent in 68% of cases.
    other_oversight_rate: float = 0.25
    enforcement_oversight_rate: float = 0.40
    # Finding: no review framework for MAPPA level 1 cases.
    mappa_level1_review_rate: float = 0.0

    # -- workload: active cases / capacity, by grade -------------------------------------------
    # Finding: caseloads at 129-200% of capacity (the trainees', here).
    pqip_load: tuple[float, float] = (1.29, 2.00)
    po_load: tuple[float, float] = (0.95, 1.40)
    pso_load: tuple[float, float] = (0.90, 1.30)

    # -- endings and the rest ------------------------------------------------------------------
    died_rate: float = 0.003
    early_revocation_rate: float = 0.02  # orders revoked early for good progress
    transfer_rate: float = 0.02
    correction_rate: float = 0.02

    def load(self, grade: Grade) -> tuple[float, float]:
        if grade is Grade.PQIP:
            return self.pqip_load
        return self.po_load if grade is Grade.PO else self.pso_load


SHEFFIELD = Profile()
