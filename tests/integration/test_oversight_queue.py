"""The SPO oversight queue: every reason, exactly as defined, on SQLite and PostgreSQL.

March 2025 is on GMT until the 30th, so a day's deadline ends at midnight UTC; 18 and 21 April
are bank holidays. Every case is written through the application layer with backdated
`occurred_at`, and the queue is asked at explicit instants.
"""

from __future__ import annotations

import random
from collections.abc import Iterator
from dataclasses import replace
from datetime import UTC, date, datetime, timedelta
from typing import Any
from uuid import UUID, uuid4

import pytest
import sqlalchemy as sa

from application.settings import OversightSettings
from domain.vocabulary import (
    AppointmentType,
    EnforcementAction,
    OffenceFlag,
    Outcome,
    OversightKind,
    RegistrationCode,
    RoSH,
    SentenceType,
)
from projections.business_days import add_business_days, end_of_day, local_date
from projections.oversight import QueueFilter, due_date, query_queue
from projections.oversight_rules import RULES
from projections.schema import oversight_cases, oversight_items
from tests.integration.oversight_story import (
    BACKENDS,
    DEFAULTS,
    CaseStory,
    backend_container,
    item,
    live,
    new_team,
    on,
    queue,
    reasons,
)


@pytest.fixture(scope="module", params=BACKENDS)
def container(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Any]:
    with backend_container(request, tmp_path_factory.mktemp("queue")) as built:
        yield built


@pytest.fixture
def team() -> str:
    return new_team()


def midnight(day: int, month: int = 3) -> datetime:
    """The end of a London day in GMT (before 30 March 2025): midnight UTC after it."""
    return datetime(2025, month, day, tzinfo=UTC)


def planned(container: Any, team: str, **kwargs: Any) -> CaseStory:
    """A case opened, allocated, inducted and planned on Monday 3 March: nothing is due."""
    story = CaseStory(container, team).open(on(3), **kwargs)
    story.allocate(on(3, hour=10))
    story.induct(on(3, hour=11))
    story.plan(on(3, hour=12))
    return story


def test_induction_overdue_five_business_days_after_opening(container: Any, team: str) -> None:
    story = CaseStory(container, team).open(on(3))  # Monday
    story.allocate(on(3, hour=10), "po-7")

    first = item(container, team, on(3, hour=12), "induction_overdue")
    assert first == {
        "case_id": story.case_id,
        "crn": "X000001",
        "practitioner_id": "po-7",
        "reason": "induction_overdue",
        "since": on(3),
        "due_at": midnight(11),  # the end of Monday 10 March
        "overdue": False,
    }
    assert item(container, team, midnight(11), "induction_overdue")["overdue"] is True
    quiet = OversightSettings(due_soon_days=0)
    assert item(container, team, on(7), "induction_overdue", thresholds=quiet) is None
    assert item(container, team, on(10), "induction_overdue", thresholds=quiet) is not None

    story.induct(on(12))  # late: the item goes, the plan's clock starts

    assert reasons(container, team, on(12, hour=12)) == []


def test_sentence_plan_overdue_fifteen_business_days_after_induction(
    container: Any, team: str
) -> None:
    story = CaseStory(container, team).open(on(3))
    story.induct(on(4))  # Tuesday: due Tuesday 25 March

    assert item(container, team, on(17), "sentence_plan_overdue") is None
    listed = item(container, team, on(20), "sentence_plan_overdue")
    assert (listed["since"], listed["due_at"], listed["overdue"]) == (on(4), midnight(26), False)
    assert item(container, team, midnight(26), "sentence_plan_overdue")["overdue"] is True
    # A threshold applies from the next query on: no rebuild.
    shorter = OversightSettings(sentence_plan_days=10)
    assert item(container, team, on(17), "sentence_plan_overdue", thresholds=shorter)[
        "due_at"
    ] == midnight(19)

    story.plan(on(27))

    assert reasons(container, team, on(27, hour=12)) == []


def test_enforcement_decision_overdue_until_every_failure_is_cited(
    container: Any, team: str
) -> None:
    story = planned(container, team)
    story.appointment("a1", on(5), Outcome.UAAB)  # Wednesday
    story.appointment("a2", on(6), Outcome.AFTA)
    story.appointment("a3", on(6, hour=11), Outcome.ATTC)
    story.appointment("a4", on(7), Outcome.AAME)

    first = item(container, team, on(13), "enforcement_decision_overdue")
    assert (first["since"], first["due_at"], first["overdue"]) == (on(5), midnight(13), True)
    assert (
        item(container, team, on(12, hour=23), "enforcement_decision_overdue")["overdue"] is False
    )

    story.enforce(on(7), EnforcementAction.EA02, "a1")
    second = item(container, team, on(13), "enforcement_decision_overdue")
    assert (second["since"], second["due_at"], second["overdue"]) == (on(6), midnight(14), False)

    story.enforce(on(14), EnforcementAction.NFA, "a2")  # no further action counts as a decision
    assert reasons(container, team, on(14, hour=12)) == []

    story.appointment("a5", on(17), Outcome.AFTC)  # attended but failed to comply: a failure
    assert item(container, team, on(17, hour=12), "enforcement_decision_overdue") is not None


def test_oversight_required_after_a_high_risk_assessment_and_every_90_days(
    container: Any, team: str
) -> None:
    story = planned(container, team)
    story.assess(on(4), RoSH.HIGH)  # Tuesday: oversight due by the end of Tuesday 11 March

    first = item(container, team, on(5), "oversight_required")
    assert (first["since"], first["due_at"], first["overdue"]) == (on(4), midnight(12), False)
    assert item(container, team, midnight(12), "oversight_required")["overdue"] is True

    story.oversee(on(13), OversightKind.RISK)  # late, but it is oversight since the assessment

    assert item(container, team, on(14), "oversight_required") is None
    # 90 days after 13 March is 11 June (BST): listed from 5 business days before.
    assert item(container, team, datetime(2025, 6, 3, 12, tzinfo=UTC), "oversight_required") is None
    interval = item(container, team, datetime(2025, 6, 4, 12, tzinfo=UTC), "oversight_required")
    assert interval["since"] == on(13)
    assert interval["due_at"] == datetime(2025, 6, 11, 23, tzinfo=UTC)  # midnight BST

    story.review(on(20), rosh=RoSH.VERY_HIGH)  # an escalation restarts the 5-day clock

    escalated = item(container, team, on(21), "oversight_required")
    assert (escalated["since"], escalated["due_at"]) == (on(20), midnight(28))


def test_oversight_required_for_any_mappa_level_but_not_for_low_risk(
    container: Any, team: str
) -> None:
    mappa = planned(container, team, crn="X000002")
    mappa.assess(on(4), RoSH.LOW)
    mappa.mappa(on(5), level=2)
    low = planned(container, team, crn="X000003")
    low.assess(on(4), RoSH.MEDIUM)

    found = queue(container, team, on(20))

    assert [(i["crn"], i["reason"], i["since"], i["overdue"]) for i in found] == [
        ("X000002", "oversight_required", on(5), True)
    ]


def test_mappa_level1_review_due_90_days_after_the_last_level1_review(
    container: Any, team: str
) -> None:
    story = planned(container, team)
    story.mappa(on(4), level=1)
    june = datetime(2025, 5, 28, 12, tzinfo=UTC)  # listed when due by 4 June

    first = item(container, team, june, "mappa_level1_review_due")
    assert (first["since"], first["due_at"]) == (on(4), datetime(2025, 6, 2, 23, tzinfo=UTC))

    story.oversee(on(10), OversightKind.ROUTINE)  # not a MAPPA level 1 review
    assert item(container, team, june, "mappa_level1_review_due")["since"] == on(4)

    story.oversee(on(11), OversightKind.MAPPA_LEVEL1_REVIEW)
    assert item(container, team, june, "mappa_level1_review_due") is None
    assert item(container, team, datetime(2025, 6, 9, tzinfo=UTC), "mappa_level1_review_due")[
        "since"
    ] == on(11)

    story.mappa(on(12), level=2)
    assert item(container, team, june, "mappa_level1_review_due") is None


def test_risk_review_overdue_after_a_significant_event(container: Any, team: str) -> None:
    story = planned(container, team)
    story.review(on(4))  # a review before the event does not answer it
    event = story.significant_event(on(5))

    first = item(container, team, on(13), "risk_review_overdue")
    assert (first["since"], first["due_at"], first["overdue"]) == (on(5), midnight(13), True)

    story.review(on(14), informed=False, event_version=event)
    assert item(container, team, on(14, hour=12), "risk_review_overdue") is None

    story.significant_event(on(17))
    assert item(container, team, on(17, hour=12), "risk_review_overdue")["since"] == on(17)


def test_enquiry_response_overdue_ten_business_days_on(container: Any, team: str) -> None:
    story = planned(container, team)
    story.enquire(on(3, hour=13), "e1")
    story.enquire(on(5), "e2")

    first = item(container, team, on(12), "enquiry_response_overdue")
    assert (first["since"], first["due_at"], first["overdue"]) == (
        on(3, hour=13),
        midnight(18),
        False,
    )

    story.answer(on(10), "e1")
    second = item(container, team, on(20), "enquiry_response_overdue")
    assert (second["since"], second["due_at"], second["overdue"]) == (on(5), midnight(20), True)

    story.answer(on(21), "e2")
    assert item(container, team, on(21, hour=12), "enquiry_response_overdue") is None


def test_recall_decision_overdue_a_day_after_a_recall_request(container: Any, team: str) -> None:
    licence = planned(container, team, crn="L000001", sentence_type=SentenceType.LICENCE)
    licence.appointment("a1", on(5), Outcome.AFTA)
    licence.enforce(on(6, hour=10), EnforcementAction.EA11, "a1")

    pending = item(container, team, on(7, hour=9, minute=59), "recall_decision_overdue")
    assert (pending["since"], pending["due_at"], pending["overdue"]) == (
        on(6, hour=10),
        on(7, hour=10),
        False,
    )
    assert item(container, team, on(7, hour=10), "recall_decision_overdue")["overdue"] is True

    licence.decide_recall(on(8))
    assert item(container, team, on(8, hour=12), "recall_decision_overdue") is None

    licence.appointment("a2", on(10), Outcome.UAAB)
    licence.enforce(on(10, hour=11), EnforcementAction.IBR, "a2")  # IBR on a licence: a request
    assert item(container, team, on(10, hour=12), "recall_decision_overdue")["since"] == on(
        10, hour=11
    )


def test_breach_on_an_order_is_not_a_recall_request(container: Any, team: str) -> None:
    order = planned(container, team)
    order.appointment("a1", on(5), Outcome.AFTA)
    order.enforce(on(6), EnforcementAction.IBR, "a1")

    assert item(container, team, on(20), "recall_decision_overdue") is None


def test_home_visit_missing_for_domestic_abuse_or_child_registrations(
    container: Any, team: str
) -> None:
    abuse_flag = (OffenceFlag.DOMESTIC_ABUSE,)
    abuse = CaseStory(container, team).open(on(3), crn="X000010", offence_flags=abuse_flag)
    abuse.induct(on(4))  # Tuesday: 20 business days on is Tuesday 1 April (BST)
    child = CaseStory(container, team).open(on(3), crn="X000011")
    child.induct(on(4))
    child.register(on(5), RegistrationCode.RCCO)
    plain = CaseStory(container, team).open(on(3), crn="X000012")
    plain.induct(on(4))
    # Not inducted: no home-visit clock yet (induction_overdue covers it).
    CaseStory(container, team).open(on(3), crn="X000013", offence_flags=abuse_flag)

    visits = [i for i in queue(container, team, on(28)) if i["reason"] == "home_visit_missing"]
    assert sorted((i["crn"], i["since"], i["due_at"]) for i in visits) == [
        ("X000010", on(4), datetime(2025, 4, 1, 23, tzinfo=UTC)),
        ("X000011", on(4), datetime(2025, 4, 1, 23, tzinfo=UTC)),
    ]

    abuse.appointment("h1", on(20), Outcome.UAAB, type=AppointmentType.CHVS)  # not attended
    abuse.appointment("o1", on(21), Outcome.ATTC)  # an office visit
    assert item(container, team, on(28), "home_visit_missing", abuse.case_id) is not None
    abuse.appointment("h2", on(24), Outcome.ATTC, type=AppointmentType.CHVS)
    child.deregister(on(24), RegistrationCode.RCCO)

    assert [i for i in queue(container, team, on(28)) if i["reason"] == "home_visit_missing"] == []


def test_most_overdue_first_with_pages_and_filters(container: Any, team: str) -> None:
    stories = []
    for number, day in enumerate((5, 3, 4), start=1):
        story = CaseStory(container, team).open(on(day), crn=f"X00010{number}")
        story.allocate(on(day, hour=10), f"po-{number % 2}")
        stories.append(story)
    now = on(20)

    everything = queue(container, team, now)
    assert [i["crn"] for i in everything] == ["X000102", "X000103", "X000101"]
    assert [i["practitioner_id"] for i in queue(container, team, now, practitioner_id="po-1")] == [
        "po-1",
        "po-1",
    ]
    due_on_10 = queue(container, team, now, due_from=on(10).date(), due_to=on(10).date())
    assert [i["crn"] for i in due_on_10] == ["X000102"]

    generation = live(container)
    pages, cursor = [], None
    with container.engine.connect() as conn:
        while True:
            page, cursor = query_queue(
                conn,
                generation,
                DEFAULTS,
                QueueFilter(team=team),
                staff=container.projections.live("staff_profiles"),
                now=now,
                limit=2,
                cursor=cursor,
            )
            pages.append([i["crn"] for i in page])
            if cursor is None:
                break
    assert pages == [["X000102", "X000103"], ["X000101"]]


def test_terminated_and_transferred_cases_leave_the_team_queue(container: Any, team: str) -> None:
    ended = CaseStory(container, team).open(on(3), crn="X000201")
    moved = CaseStory(container, team).open(on(3), crn="X000202")
    other = new_team()
    moved.actor = replace(moved.actor, teams=frozenset({team, other}))
    assert len(queue(container, team, on(20))) == 2

    ended.terminate(on(4))
    moved.transfer(on(4), other)

    assert queue(container, team, on(20)) == []
    assert [i["crn"] for i in queue(container, other, on(20))] == ["X000202"]


def test_a_correction_refolds_the_case(container: Any, team: str) -> None:
    story = planned(container, team)
    outcome = story.appointment("a1", on(5), Outcome.UAAB)
    assert item(container, team, on(20), "enforcement_decision_overdue")["since"] == on(5)

    story.correct(on(7), outcome, occurred_at=on(6))
    assert item(container, team, on(20), "enforcement_decision_overdue")["since"] == on(6)

    story.correct(on(7, hour=10), outcome, outcome=Outcome.AAME.value)  # acceptable after all
    assert item(container, team, on(20), "enforcement_decision_overdue") is None


def test_rebuilt_from_zero_equals_built_incrementally(container: Any, team: str) -> None:
    story = planned(container, team, offence_flags=(OffenceFlag.DOMESTIC_ABUSE,))
    story.assess(on(4), RoSH.HIGH)
    outcome = story.appointment("a1", on(5), Outcome.UAAB)
    story.correct(on(6), outcome, outcome=Outcome.AFTA.value)
    story.significant_event(on(7))
    before = team_rows(container, team)

    container.projections.rebuild("oversight")

    assert team_rows(container, team) == before
    assert before["items"]


def team_rows(container: Any, team: str) -> dict[str, list[dict[str, Any]]]:
    generation = live(container)
    found = {}
    with container.engine.connect() as conn:
        for name, table in (("cases", oversight_cases), ("items", oversight_items)):
            query = sa.select(table).where(table.c.generation == generation, table.c.team == team)
            rows = [dict(r) for r in conn.execute(query).mappings()]
            for row in rows:
                row.pop("generation")
            found[name] = sorted(rows, key=lambda r: (str(r["case_id"]), r.get("rule", "")))
    return found


def test_paging_a_large_queue_reads_it_whole_in_order(container: Any, team: str) -> None:
    """A page reads only the clocks due by a widening bound. Paged through in sevens, with and
    without filters, the queue is exactly what a full read of every clock gives: the same
    items, each case and reason once at its earliest deadline, most overdue first."""
    rng = random.Random(7)
    generation = live(container)
    with container.engine.connect() as conn:
        number = conn.execute(sa.select(generation)).scalar_one()
    now = on(28)
    rows = []
    for n in range(120):
        case_id = uuid4()
        # Both oversight rules on many cases: one item per case and reason, the earliest.
        for rule in rng.sample(sorted(RULES), k=rng.randint(1, 3)):
            since = datetime(2024, 6, 1, tzinfo=UTC) + timedelta(
                days=rng.randint(0, 300), hours=rng.randint(0, 23)
            )
            rows.append(
                {
                    "generation": number,
                    "case_id": case_id,
                    "rule": rule,
                    "reason": RULES[rule].reason,
                    "team": team,
                    "practitioner_id": f"po-{n % 3}",
                    "crn": f"X{n:06d}",
                    "since": since,
                    "since_on": local_date(since),
                }
            )
    with container.engine.begin() as conn:
        conn.execute(sa.insert(oversight_items), rows)

    def expected(**where: Any) -> list[tuple[UUID, str, datetime]]:
        due_from, due_to = where.get("due_from"), where.get("due_to")
        horizon = add_business_days(local_date(now), DEFAULTS.due_soon_days)
        last = end_of_day(min(horizon, due_to) if due_to else horizon)
        earliest: dict[tuple[UUID, str], datetime] = {}
        for row in rows:
            if where.get("practitioner_id") not in (None, row["practitioner_id"]):
                continue
            due_at = RULES[row["rule"]].due_at(row["since"], DEFAULTS)
            if due_at > last or (due_from and due_date(due_at) < due_from):
                continue
            key = (row["case_id"], row["reason"])
            earliest[key] = min(due_at, earliest.get(key, due_at))
        return sorted(
            ((c, r, d) for (c, r), d in earliest.items()), key=lambda i: (i[2], str(i[0]), i[1])
        )

    def paged(**where: Any) -> list[tuple[UUID, str, datetime]]:
        found, cursor = [], None
        with container.engine.connect() as conn:
            while True:
                page, cursor = query_queue(
                    conn,
                    generation,
                    DEFAULTS,
                    QueueFilter(team=team, **where),
                    staff=container.projections.live("staff_profiles"),
                    now=now,
                    limit=7,
                    cursor=cursor,
                )
                found += [(i["case_id"], i["reason"], i["due_at"]) for i in page]
                if cursor is None:
                    return found

    for where in (
        {},
        {"practitioner_id": "po-1"},
        {"due_from": date(2024, 12, 1)},
        {"due_to": date(2025, 1, 15)},
        {"due_from": date(2024, 9, 1), "due_to": date(2024, 10, 31)},
    ):
        want = expected(**where)
        assert len(want) > 14, where  # several pages
        assert paged(**where) == want, where


def test_a_retired_rule_s_rows_are_not_shown_and_break_nothing(container: Any, team: str) -> None:
    """Rows of a rule this version no longer has (until the read model is rebuilt)."""
    story = CaseStory(container, team).open(on(3), crn="X000201")
    generation = live(container)
    with container.engine.begin() as conn:
        number = conn.execute(sa.select(generation)).scalar_one()
        conn.execute(
            sa.insert(oversight_items),
            {
                "generation": number,
                "case_id": story.case_id,
                "rule": "retired_rule",
                "reason": "retired_reason",
                "team": team,
                "practitioner_id": None,
                "crn": "X000201",
                "since": on(1),
                "since_on": on(1).date(),
            },
        )
    assert [reason for reason, _ in reasons(container, team, on(20))] == ["induction_overdue"]
