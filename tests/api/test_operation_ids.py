"""Every operation in /openapi.json has a short, stable camelCase operationId, from one rule.

Frontends generate their clients from /openapi.json and call these names: a rename here
breaks them, so the list is pinned. A new route gets its id from its function's name; add
it below.
"""

from __future__ import annotations

import re
from typing import Any

from fastapi.routing import APIRoute

from api.operation_ids import operation_id
from tests.api.conftest import operations

PINNED = {
    ("get", "/cases/{case_id}/oversight-history"): "getOversightHistory",
    ("get", "/trends"): "getTrends",
    ("get", "/equality"): "getEquality",
    ("get", "/equality/workforce"): "getWorkforceEquality",
    ("post", "/staff/{staff_id}/training"): "recordTraining",
    ("post", "/staff/{staff_id}/corrections"): "correctStaff",
    ("post", "/staff/{staff_id}/erasure"): "eraseStaff",
    ("get", "/domain-events"): "listDomainEvents",
    ("get", "/subscriptions"): "listSubscriptions",
    ("post", "/subscriptions"): "createSubscription",
    ("get", "/subscriptions/{subscription_id}"): "getSubscription",
    ("delete", "/subscriptions/{subscription_id}"): "deleteSubscription",
    ("get", "/subscriptions/{subscription_id}/deliveries"): "listDeliveries",
    ("post", "/subscriptions/{subscription_id}/replay"): "replaySubscription",
    ("post", "/subscriptions/{subscription_id}/parked/retry"): "retryParkedDeliveries",
    ("get", "/audit/access/integrity"): "getAccessLogIntegrity",
    ("post", "/cases"): "openCase",
    ("get", "/cases"): "listCases",
    ("post", "/cases/{case_id}/court-reports"): "prepareCourtReport",
    ("post", "/cases/{case_id}/allocations"): "allocatePractitioner",
    ("post", "/cases/{case_id}/enquiries"): "requestEnquiry",
    ("post", "/cases/{case_id}/enquiries/{enquiry_id}/responses"): "recordEnquiryResponse",
    ("post", "/cases/{case_id}/inductions"): "completeInduction",
    ("post", "/cases/{case_id}/risk-assessments"): "assessRisk",
    ("post", "/cases/{case_id}/registrations"): "addRegistration",
    ("post", "/cases/{case_id}/registrations/{code}/removal"): "removeRegistration",
    ("post", "/cases/{case_id}/mappa"): "setMappaLevel",
    ("post", "/cases/{case_id}/sentence-plans"): "agreeSentencePlan",
    ("post", "/cases/{case_id}/appointments"): "scheduleAppointment",
    (
        "post",
        "/cases/{case_id}/appointments/{appointment_id}/outcome",
    ): "recordAppointmentOutcome",
    ("post", "/cases/{case_id}/enforcement-actions"): "takeEnforcementAction",
    ("post", "/cases/{case_id}/recall-decisions"): "decideRecall",
    ("post", "/cases/{case_id}/referrals"): "makeReferral",
    ("post", "/cases/{case_id}/referrals/{referral_id}/outcome"): "recordReferralOutcome",
    ("post", "/cases/{case_id}/unpaid-work-sessions"): "recordUnpaidWorkSession",
    ("post", "/cases/{case_id}/significant-events"): "reportSignificantEvent",
    ("post", "/cases/{case_id}/risk-reviews"): "completeRiskReview",
    ("post", "/cases/{case_id}/oversight"): "recordOversight",
    ("post", "/cases/{case_id}/sfo-notifications"): "notifySeriousFurtherOffence",
    ("post", "/cases/{case_id}/transfers"): "transferCase",
    ("post", "/cases/{case_id}/termination"): "terminateCase",
    ("post", "/cases/{case_id}/corrections"): "correctEvent",
    ("get", "/cases/{case_id}"): "getCase",
    ("get", "/cases/{case_id}/events"): "getCaseEvents",
    ("get", "/cases/{case_id}/state"): "getCaseState",
    ("get", "/cases/{case_id}/timeline"): "getCaseTimeline",
    ("get", "/cases/{case_id}/integrity"): "getCaseIntegrity",
    ("get", "/audit/access"): "getAccessLog",
    ("get", "/audit/events"): "getAuditEvents",
    ("get", "/staff"): "listStaff",
    ("post", "/staff"): "registerStaff",
    ("get", "/staff/{staff_id}"): "getStaff",
    ("get", "/workload"): "getWorkload",
    ("get", "/oversight"): "getOversightQueue",
    ("get", "/compliance"): "getCompliance",
    ("get", "/quality"): "getQuality",
    ("post", "/people/{crn}/erasure"): "erasePerson",
    ("get", "/health"): "getHealth",
    ("get", "/ready"): "getReadiness",
    ("get", "/metrics"): "getMetrics",
}
CAMEL = re.compile(r"^[a-z]+(?:[A-Z][a-z0-9]*)*$")


def _ids(spec: dict[str, Any]) -> dict[tuple[str, str], str]:
    return {(method, path): op.get("operationId", "") for path, method, op in operations(spec)}


def test_the_pinned_operations_keep_their_ids(openapi_document: dict[str, Any]) -> None:
    ids = _ids(openapi_document)
    changed = {key: (want, ids.get(key)) for key, want in PINNED.items() if ids.get(key) != want}
    assert not changed, f"operationIds renamed or gone (pinned, got): {changed}"


def test_every_operation_has_a_unique_short_camel_case_id(openapi_document: dict[str, Any]) -> None:
    ids = _ids(openapi_document)
    bad = {key: value for key, value in ids.items() if not CAMEL.match(value) or len(value) > 40}
    assert not bad, bad
    seen: dict[str, tuple[str, str]] = {}
    for key, value in ids.items():
        assert value not in seen, f"{value} names both {seen[value]} and {key}"
        seen[value] = key


def test_the_rule_camel_cases_the_function_name() -> None:
    def get_case_timeline() -> None: ...

    def open_case() -> None: ...

    def ready() -> None: ...

    names = [
        operation_id(APIRoute("/x", endpoint)) for endpoint in (get_case_timeline, open_case, ready)
    ]
    assert names == ["getCaseTimeline", "openCase", "ready"]
