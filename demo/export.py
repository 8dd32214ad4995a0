"""`casetrail demo --export FILE`: the demo PDU as an import file (one case a line), so that
`casetrail import` can be tried and measured on realistic history.

Each planned case becomes a line: its opening as the body of ``POST /cases``, each step as an
action whose ``data`` is the body the API takes for that command, with the ids the API has in
its path. A step that refers to an earlier one (a risk review to its significant event, a
correction to what it corrects) gets that step's version: the plan holds only valid
commands, so step n of a case is written as version n + 1.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import fields
from datetime import date, datetime
from decimal import Decimal
from enum import Enum
from typing import IO, Any

from application import commands as c
from demo.case import CasePlan, Ref
from demo.pdu import EVENT_TYPES, DemoOptions, plan_pdu

Progress = Callable[[int, int], None]


def export(
    out: IO[str], options: DemoOptions, now: datetime, *, progress: Progress | None = None
) -> tuple[int, int]:
    """Write the demo PDU's cases to ``out``; the number of cases and of events."""
    _, _, plans, _ = plan_pdu(options, now)
    events = 0
    for done, plan in enumerate(plans, 1):
        line = case_line(plan, f"demo:{options.pdu}:{options.seed}:{plan.index}")
        out.write(json.dumps(line, default=_json, separators=(",", ":")) + "\n")
        events += 1 + len(plan.steps)
        if progress is not None:
            progress(done, len(plans))
    return len(plans), events


def case_line(plan: CasePlan, source_id: str) -> dict[str, Any]:
    versions = {step.key: n + 1 for n, step in enumerate(plan.steps, 1) if step.key is not None}
    opening = {f.name: getattr(plan.opening, f.name) for f in fields(plan.opening)}
    return {
        "source_id": source_id,
        "actor_id": plan.opener.sub,
        "open": opening,
        "actions": [
            {
                "type": EVENT_TYPES[step.command],
                "occurred_at": step.at,
                "actor_id": step.actor.sub,
                "data": _body(
                    step.command,
                    {k: versions[v.key] if isinstance(v, Ref) else v for k, v in step.args.items()},
                ),
            }
            for step in plan.steps
        ],
    }


def _body(command: type[c.CaseCommand], args: dict[str, Any]) -> dict[str, Any]:
    """The command's fields as the API's request body names them."""
    if command is c.CompleteRiskReview:
        version = args.pop("significant_event_version", None)
        args["trigger"] = "scheduled" if version is None else version
    return args


def _json(value: Any) -> Any:
    if isinstance(value, Enum):
        return value.value
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, Decimal):
        return float(value)
    if isinstance(value, set | frozenset):
        return sorted(value)
    raise TypeError(f"cannot export {type(value).__name__}")
