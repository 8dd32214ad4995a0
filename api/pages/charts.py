"""Charts as server-rendered SVG from pygal: no script needed to see them, GOV.UK colours."""

from __future__ import annotations

import base64
from collections.abc import Mapping, Sequence
from functools import lru_cache
from typing import Any

import pygal
from pygal.style import Style

# GOV.UK colours, each at least 4.5:1 on white: blue up to capacity, red beyond it, black for
# the 100% line.
BLUE, RED, BLACK, DARK_GREY = "#1d70b8", "#d4351c", "#0b0c0c", "#505a5f"
STYLE = Style(
    background="#ffffff",
    plot_background="#ffffff",
    foreground=BLACK,
    foreground_strong=BLACK,
    foreground_subtle=DARK_GREY,
    colors=(BLUE, RED),
    opacity="1",
    opacity_hover="1",
    font_family="Arial, sans-serif",
    label_font_size=13,
    major_label_font_size=14,
    value_font_size=12,
    legend_font_size=14,
    title_font_size=16,
    guide_stroke_color="#b1b4b6",
    major_guide_stroke_color=BLACK,
    major_guide_stroke_dasharray="0",
    guide_stroke_dasharray="2,4",
)


def workload_chart(items: Sequence[dict[str, Any]]) -> str:
    """Per practitioner, percent of capacity as a bar, blue up to 100% and red beyond, with
    the 100% line drawn as a major guide."""
    return _workload_chart(tuple((str(i["name"]), float(i["percent_of_capacity"])) for i in items))


@lru_cache(maxsize=256)  # drawing takes ~20 ms; a team's workload changes only now and then
def _workload_chart(items: tuple[tuple[str, float], ...]) -> str:
    top = max([100.0, *(percent for _, percent in items)])
    ceiling = int(-(-top // 25) * 25)
    chart = pygal.HorizontalStackedBar(
        style=STYLE,
        js=[],  # no script from anywhere: the SVG is complete as drawn
        show_legend=True,
        legend_at_bottom=True,
        width=720,
        height=max(180, 28 * len(items) + 120),
        range=(0, ceiling),
        y_labels=list(range(0, ceiling + 1, 25)),
        y_labels_major=[100],
        show_minor_y_labels=True,
        value_formatter=lambda v: f"{v:.0f}%",
        print_values=False,
        title="Active cases as a percent of capacity (line: 100%)",
        margin=8,
    )
    chart.x_labels = [name for name, _ in items]
    percents = [percent for _, percent in items]
    chart.add("Up to capacity", [min(p, 100.0) for p in percents])
    chart.add("Over capacity", [max(p - 100.0, 0.0) for p in percents])
    return data_uri(chart.render())


# Line colours for trends, each at least 4.5:1 on white, and each line also dashed its own way
# so that no reader needs to tell colours apart.
LINES = ((BLUE, "0"), ("#00703c", "8,4"), ("#4c2c92", "2,4"), (RED, "12,4,2,4"))
TREND_STYLE = Style(
    **{k: v for k, v in STYLE.to_dict().items() if k != "colors"},
    colors=tuple(colour for colour, _ in LINES),
)


def trend_chart(months: Sequence[str], series: Mapping[str, Sequence[dict[str, Any]]]) -> str:
    """Each measure's rate by month as a line, 0 to 100%; a month with no cases is a gap."""
    frozen = tuple(
        (name, tuple(point["rate"] for point in points)) for name, points in series.items()
    )
    return _trend_chart(tuple(months), frozen)


@lru_cache(maxsize=64)
def _trend_chart(
    months: tuple[str, ...], series: tuple[tuple[str, tuple[float | None, ...]], ...]
) -> str:
    chart = pygal.Line(
        style=TREND_STYLE,
        js=[],
        show_legend=True,
        legend_at_bottom=True,
        legend_at_bottom_columns=2,
        width=720,
        height=420,
        range=(0, 100),
        y_labels=list(range(0, 101, 20)),
        value_formatter=lambda v: f"{v:.0f}%",
        x_label_rotation=0,
        truncate_label=-1,  # labels are short ("Jan 26"): never cut
        title="Rate by month, as at each month's end",
        margin=8,
        dots_size=3,
        allow_interruptions=True,
    )
    chart.x_labels = list(months)
    for (name, rates), (_, dashes) in zip(series, LINES, strict=False):
        label = name.replace("_", " ").capitalize()
        chart.add(label, list(rates), stroke_style={"width": 3, "dasharray": dashes})
    return data_uri(chart.render())


def data_uri(svg: bytes) -> str:
    """The SVG as an image source of our own page: nothing fetched, its styles sandboxed."""
    return "data:image/svg+xml;base64," + base64.b64encode(svg).decode()
