"""The chronology as a CSV file and as a printable HTML annex for an SFO review."""

from __future__ import annotations

import csv
import io
from datetime import UTC, datetime
from html import escape

from application.timeline import TimelineItem

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


def timeline_csv(items: list[TimelineItem]) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(COLUMNS)
    for item in items:
        writer.writerow([_cell(getattr(item, column)) for column in COLUMNS])
    return out.getvalue()


STYLE = """
body { font-family: Arial, Helvetica, sans-serif; font-size: 10pt; margin: 2em; color: #0b0c0c; }
h1 { font-size: 16pt; margin-bottom: 0.2em; } p.meta { color: #505a5f; margin-top: 0; }
table { border-collapse: collapse; width: 100%; }
th, td { border: 1px solid #b1b4b6; padding: 4px 6px; vertical-align: top; text-align: left; }
th { background: #f3f2f1; } tr.late td.lateness { font-weight: bold; }
tr.corrected td { text-decoration: line-through; color: #505a5f; }
tr.correction td { background: #fff7e6; }
@media print {
  body { margin: 0; } tr { page-break-inside: avoid; } thead { display: table-header-group; }
}
"""


def timeline_html(items: list[TimelineItem], *, crn: str, case_id: str, generated_by: str) -> str:
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
        f"<tbody>{''.join(rows)}</tbody></table></body></html>"
    )
