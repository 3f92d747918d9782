"""A bar chart of the main figures, this year beside the year before (PNG)."""

from __future__ import annotations

import io
from types import ModuleType
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from matplotlib.figure import Figure

from handlers.reports.tables import summary_rows
from procedure.use_cases.annual_report import AnnualReport
from texts import t


def _pyplot() -> ModuleType:
    """matplotlib, imported when a chart is drawn, not with the module: the chat imports this
    module (/baocao) and would otherwise spend about half a second of every start on it."""
    import matplotlib

    matplotlib.use("Agg")  # no screen: render to a file
    import matplotlib.pyplot as plt

    return plt


def render_chart(report: AnnualReport) -> bytes:
    plt = _pyplot()
    figure = chart_figure(report)
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png")
    plt.close(figure)
    return buffer.getvalue()


def chart_figure(report: AnnualReport) -> Figure:
    plt = _pyplot()
    # Attendance is counted in people, not in sessions or petitions: it stays in the tables, so
    # that the bars of the other figures remain readable.
    skip = t("report.figure.attendance")
    rows_now = [row for row in summary_rows(report.current) if row[0] != skip]
    rows_before = [row for row in summary_rows(report.previous) if row[0] != skip]
    labels = [name for name, _ in rows_now]
    positions = list(range(len(labels)))
    figure, axes = plt.subplots(figsize=(11, 6), dpi=120)
    width = 0.4
    earlier = axes.barh(
        [p + width / 2 for p in positions],
        [v for _, v in rows_before],
        width,
        label=str(report.year - 1),
        color="#b0bec5",
    )
    bars = axes.barh(
        [p - width / 2 for p in positions],
        [v for _, v in rows_now],
        width,
        label=str(report.year),
        color="#c62828",
    )
    # Value labels on every bar, both years, so the figures read without the axis.
    axes.bar_label(bars, padding=3, fontsize=9)
    axes.bar_label(earlier, padding=3, fontsize=9, color="#546e7a")
    axes.set_yticks(positions, labels, fontsize=9)
    axes.invert_yaxis()
    axes.set_title(t("report.chart_title", unit=report.unit, year=report.year), fontsize=12)
    # A fixed place beside the bars: "best" searches every bar (slow, and it may cover one).
    axes.legend(loc="upper left", bbox_to_anchor=(1.0, 1.0), frameon=False, fontsize=9)
    axes.spines[["top", "right"]].set_visible(False)
    figure.tight_layout()
    return figure
