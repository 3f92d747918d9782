"""The report's tables as a spreadsheet (openpyxl): one sheet a table."""

from __future__ import annotations

import io
from typing import TYPE_CHECKING

from handlers.reports.tables import (
    agencies_table,
    comparison_table,
    places_table,
    repeated_table,
    satisfaction_table,
    sessions_table,
    summary_rows,
    topics_table,
)
from procedure.use_cases.annual_report import AnnualReport
from texts import t

# openpyxl is imported when a report is written, not with the chat that imports this module.
if TYPE_CHECKING:
    from openpyxl import Workbook


def _sheet(book: Workbook, title: str, header: list[str], rows: list[list[object]]) -> None:
    from openpyxl.styles import Alignment, Font
    from openpyxl.utils import get_column_letter

    sheet = book.create_sheet(title[:31])
    sheet.append(header)
    for cell in sheet[1]:
        cell.font = Font(bold=True)
        cell.alignment = Alignment(wrap_text=True, vertical="center")
    for row in rows:
        sheet.append(row)
    for index, _ in enumerate(header, start=1):
        width = max((len(str(r[index - 1])) for r in rows), default=0)
        sheet.column_dimensions[get_column_letter(index)].width = min(max(12, width + 2), 60)
    sheet.freeze_panes = "A2"


def render_spreadsheet(report: AnnualReport) -> bytes:
    from openpyxl import Workbook

    book = Workbook()
    book.remove(book.active)  # type: ignore[arg-type]
    _sheet(
        book,
        t("report.sheet.summary"),
        [t("report.col.figure"), str(report.year)],
        [[name, value] for name, value in summary_rows(report.current)],
    )
    _sheet(book, t("report.sheet.sessions"), *sessions_table(report))
    _sheet(book, t("report.sheet.topics"), *topics_table(report))
    _sheet(book, t("report.sheet.places"), *places_table(report))
    _sheet(book, t("report.sheet.agencies"), *agencies_table(report))
    _sheet(book, t("report.sheet.repeated"), *repeated_table(report))
    _sheet(book, t("report.sheet.comparison"), *comparison_table(report))
    # Issue 13: the petitioners' answers to "is it resolved?".
    _sheet(book, t("report.sheet.satisfaction_agencies"), *satisfaction_table(report, "agency"))
    _sheet(book, t("report.sheet.satisfaction_topics"), *satisfaction_table(report, "topic"))
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()
