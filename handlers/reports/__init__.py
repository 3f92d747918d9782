"""The yearly report's files (P10): a Word document in the layout of a Vietnamese administrative
document (Decree 30/2020/NĐ-CP), a spreadsheet of the tables, and a chart of the main figures."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from handlers.reports.chart import render_chart
from handlers.reports.document import render_document
from handlers.reports.spreadsheet import render_spreadsheet
from procedure.use_cases.annual_report import AnnualReport


@dataclass(frozen=True)
class ReportFiles:
    document: Path
    spreadsheet: Path
    chart: Path


def write_report(report: AnnualReport, folder: Path, stem: str | None = None) -> ReportFiles:
    folder.mkdir(parents=True, exist_ok=True)
    stem = stem or f"bao-cao-doi-thoai-{report.year}"
    chart = folder / f"{stem}.png"
    chart.write_bytes(render_chart(report))
    document = folder / f"{stem}.docx"
    document.write_bytes(render_document(report, chart_png=chart.read_bytes()))
    spreadsheet = folder / f"{stem}.xlsx"
    spreadsheet.write_bytes(render_spreadsheet(report))
    return ReportFiles(document=document, spreadsheet=spreadsheet, chart=chart)
