"""The chronology as a CSV file and as a printable HTML annex for an SFO review."""

from __future__ import annotations

import csv
import io
from collections.abc import Sequence
from datetime import UTC, datetime
from html import escape
from typing import Any

from application.timeline import TimelineItem
from projections.oversight_history import OversightEpisode

COLUMNS = (
    "version",
    "type",
    "occurred_at",
    "recorded_at",
    "lateness_days",
    "actor_id",
    "summary",
    "corrects_version",
    "corrected_by",
)


def _cell(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, datetime):
        return value.isoformat()
    text = str(value)
    # Spreadsheet formula injection: a cell must never start as a formula.
    return "'" + text if text[:1] in ("=", "+", "-", "@") and not _numeric(text) else text


def _numeric(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True


def _when(moment: datetime | None) -> str:
    return "" if moment is None else moment.strftime("%Y-%m-%d %H:%M")


def episode_summary(episode: OversightEpisode) -> str:
    """One line on an oversight item: its deadline, and whether and when it was acted on."""
    text = f"Oversight item {episode.reason} ({episode.rule}), due {_when(episode.due_at)}; "
    if episode.open:
        text += "still open"
    else:
        text += (
            f"closed by version {episode.closed_by_version}, occurred "
            f"{_when(episode.closed_at)}, recorded {_when(episode.closed_recorded_at)}"
        )
    return text + f"; overdue {episode.overdue_days} days"


def _episode_row(episode: OversightEpisode) -> list[str]:
    """An oversight item as a chronology row: at its clock's start, opened by a version."""
    cells: dict[str, object] = {
        "version": episode.opened_by_version,
        "type": "OversightItem",
        "occurred_at": episode.since,
        "recorded_at": episode.opened_recorded_at,
        "summary": episode_summary(episode),
    }
    return [_cell(cells.get(column)) for column in COLUMNS]


def timeline_csv(items: list[TimelineItem], episodes: Sequence[OversightEpisode] = ()) -> str:
    """The chronology's rows, then one row per oversight item the case ever had."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(COLUMNS)
    for item in items:
        writer.writerow([_cell(getattr(item, column)) for column in COLUMNS])
    for episode in episodes:
        writer.writerow(_episode_row(episode))
    return out.getvalue()


STYLE = """
body { font-family: Arial, Helvetica, sans-serif; font-size: 10pt; margin: 2em; color: #0b0c0c; }
h1 { font-size: 16pt; margin-bottom: 0.2em; } p.meta { color: #505a5f; margin-top: 0; }
table { border-collapse: collapse; width: 100%; }
th, td { border: 1px solid #b1b4b6; padding: 4px 6px; vertical-align: top; text-align: left; }
th { background: #f3f2f1; } tr.late td.lateness { font-weight: bold; }
tr.corrected td { text-decoration: line-through; color: #505a5f; }
tr.correction td { background: #fff7e6; } tr.open td { font-weight: bold; }
h2 { font-size: 13pt; margin-top: 1.5em; }
@media print {
  body { margin: 0; } tr { page-break-inside: avoid; } thead { display: table-header-group; }
}
"""


def episodes_html(episodes: Sequence[OversightEpisode]) -> str:
    """The annex's second table: every oversight item, whether and when anyone acted."""
    rows = []
    for e in episodes:
        state = "open" if e.open else f"closed by version {e.closed_by_version}"
        rows.append(
            f'<tr class="{"open" if e.open else "closed"}"><td>{escape(e.reason)}</td>'
            f"<td>{escape(_when(e.since))}</td><td>{escape(_when(e.due_at))}</td>"
            f"<td>{e.opened_by_version}</td><td>{escape(state)}</td>"
            f"<td>{escape(_when(e.closed_at))}</td><td>{escape(_when(e.closed_recorded_at))}</td>"
            f'<td class="lateness">{e.overdue_days}</td></tr>'
        )
    return (
        "<h2>Oversight items</h2>"
        '<p class="meta">Every item the oversight queue held for this case, replayed from the '
        "events as they were recorded, with today's thresholds. Overdue days run to when the "
        "closing event occurred, or to now while the item is open.</p>"
        "<table><thead><tr><th>Reason</th><th>Since</th><th>Due</th><th>Opened by version</th>"
        "<th>State</th><th>Closed (occurred)</th><th>Closed (recorded)</th>"
        "<th>Overdue (days)</th></tr></thead>"
        f"<tbody>{''.join(rows)}</tbody></table>"
    )


def timeline_html(
    items: list[TimelineItem],
    *,
    crn: str,
    case_id: str,
    generated_by: str,
    episodes: Sequence[OversightEpisode] = (),
) -> str:
    rows = []
    for item in items:
        classes = []
        if item.lateness_days >= 1:
            classes.append("late")
        if item.corrected_by is not None:
            classes.append("corrected")
        if item.corrects_version is not None:
            classes.append("correction")
        note = ""
        if item.corrected_by is not None:
            note = f"<br><em>corrected by version {item.corrected_by}</em>"
        if item.corrects_version is not None:
            note = f"<br><em>corrects version {item.corrects_version}</em>"
        rows.append(
            f'<tr class="{" ".join(classes)}"><td>{item.version}</td>'
            f"<td>{escape(item.occurred_at.strftime('%Y-%m-%d %H:%M'))}</td>"
            f"<td>{escape(item.recorded_at.strftime('%Y-%m-%d %H:%M'))}</td>"
            f'<td class="lateness">{item.lateness_days}</td>'
            f"<td>{escape(item.type)}</td><td>{escape(item.summary)}{note}</td>"
            f"<td>{escape(item.actor_id)}</td></tr>"
        )
    generated = datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")
    return (
        '<!DOCTYPE html><html lang="en"><head><meta charset="utf-8">'
        f"<title>Chronology {escape(crn)}</title><style>{STYLE}</style></head><body>"
        f"<h1>Chronology of case {escape(crn)}</h1>"
        f'<p class="meta">Case {escape(case_id)} &middot; {len(items)} events &middot; '
        f"generated {generated} by {escape(generated_by)} from the immutable event history. "
        "Times are UTC; lateness is the days between an event happening and its recording.</p>"
        "<table><thead><tr><th>Version</th><th>Occurred</th><th>Recorded</th>"
        "<th>Lateness (days)</th><th>Event</th><th>Summary</th><th>Recorded by</th></tr></thead>"
        f"<tbody>{''.join(rows)}</tbody></table>{episodes_html(episodes)}</body></html>"
    )


def trend_csv(items: list[dict[str, Any]]) -> str:
    """A trend as a spreadsheet: month, numerator, denominator, rate (a percent)."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(("month", "numerator", "denominator", "rate"))
    for item in items:
        writer.writerow([_cell(item[k]) for k in ("month", "numerator", "denominator", "rate")])
    return out.getvalue()
