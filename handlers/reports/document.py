"""The yearly report as a Word document in the layout of Decree 30/2020/NĐ-CP: the issuing body
and number on the left, the national title and motto on the right with the place and date, the
title, the body with its tables and chart, the recipients and the signature."""

from __future__ import annotations

import io

from docx import Document
from docx.document import Document as DocumentObject
from docx.enum.section import WD_ORIENT
from docx.enum.table import WD_TABLE_ALIGNMENT
from docx.enum.text import WD_ALIGN_PARAGRAPH
from docx.oxml import OxmlElement
from docx.oxml.ns import qn
from docx.shared import Cm, Pt
from docx.table import Table
from docx.text.paragraph import Paragraph

from handlers.reports.tables import (
    agencies_table,
    comparison_table,
    places_table,
    repeated_table,
    satisfaction_table,
    sessions_table,
    topics_table,
)
from procedure.use_cases.annual_report import AnnualReport
from texts import t

FONT = "Times New Roman"


def _run(
    paragraph: Paragraph,
    text: str,
    *,
    size: float = 13,
    bold: bool = False,
    italic: bool = False,
    underline: bool = False,
) -> None:
    run = paragraph.add_run(text)
    run.font.name = FONT
    run.font.size = Pt(size)
    run.bold, run.italic, run.underline = bold, italic, underline
    run._element.get_or_add_rPr().get_or_add_rFonts().set(qn("w:eastAsia"), FONT)


def _para(
    container: object,
    text: str = "",
    *,
    align: int = WD_ALIGN_PARAGRAPH.JUSTIFY,
    size: float = 13,
    bold: bool = False,
    italic: bool = False,
    indent: bool = False,
    space_after: float = 6,
) -> Paragraph:
    paragraph = container.add_paragraph()  # type: ignore[attr-defined]
    paragraph.alignment = align
    paragraph.paragraph_format.space_after = Pt(space_after)
    paragraph.paragraph_format.space_before = Pt(0)
    if indent:
        paragraph.paragraph_format.first_line_indent = Cm(1.0)
    if text:
        _run(paragraph, text, size=size, bold=bold, italic=italic)
    return paragraph


def _borderless(table: Table) -> None:
    borders = table._tbl.tblPr.first_child_found_in("w:tblBorders")
    if borders is not None:
        table._tbl.tblPr.remove(borders)


def _heading_block(document: DocumentObject, report: AnnualReport) -> None:
    table = document.add_table(rows=1, cols=2)
    _borderless(table)
    _widths(table, [6.0, 10.5])
    left, right = table.rows[0].cells
    left.paragraphs[0].alignment = WD_ALIGN_PARAGRAPH.CENTER
    _run(left.paragraphs[0], t("report.issuer_body"), size=13, bold=True)
    unit = _para(left, align=WD_ALIGN_PARAGRAPH.CENTER, space_after=0)
    _run(unit, report.unit.upper(), size=13, bold=True)
    rule = _para(left, align=WD_ALIGN_PARAGRAPH.CENTER, space_after=6)
    _run(rule, "───────", size=11)
    number = _para(left, align=WD_ALIGN_PARAGRAPH.CENTER)
    _run(number, t("report.number"), size=13)
    right.paragraphs[0].alignment = WD_ALIGN_PARAGRAPH.CENTER
    _run(right.paragraphs[0], t("report.national_title"), size=12, bold=True)
    motto = _para(right, align=WD_ALIGN_PARAGRAPH.CENTER, space_after=0)
    _run(motto, t("report.motto"), size=13, bold=True, underline=True)
    _para(right, space_after=0)
    place = _para(right, align=WD_ALIGN_PARAGRAPH.CENTER)
    day = report.issued_on
    _run(
        place,
        t(
            "report.place_and_date",
            place=place_name(report.unit),
            day=f"{day.day:02d}",
            month=f"{day.month:02d}",
            year=day.year,
        ),
        size=13,
        italic=True,
    )


def place_name(unit: str) -> str:
    """Decree 30/2020, Appendix I: the place in the date line is the proper name of the
    administrative unit where the issuing body sits — "Bến Thành", not "Phường Bến Thành" — but a
    unit named by a number keeps its level ("Phường 5")."""
    for prefix in t("report.place_prefixes").split("|"):
        if unit.startswith(prefix + " "):
            rest = unit[len(prefix) + 1 :].strip()
            return unit if not rest or rest[0].isdigit() else rest
    return unit


def _page_numbers_from_page_two(section: object) -> None:
    """Decree 30/2020: pages are numbered from the second page, in Arabic numerals, centred in
    the top margin; the first page has none."""
    section.different_first_page_header_footer = True  # type: ignore[attr-defined]
    header = section.header  # type: ignore[attr-defined]
    paragraph = header.paragraphs[0]
    paragraph.alignment = WD_ALIGN_PARAGRAPH.CENTER
    run = paragraph.add_run()
    run.font.name = FONT
    run.font.size = Pt(13)
    for kind, text in (("begin", None), (None, " PAGE "), ("end", None)):
        if kind is not None:
            element = OxmlElement("w:fldChar")
            element.set(qn("w:fldCharType"), kind)
        else:
            element = OxmlElement("w:instrText")
            element.set(qn("xml:space"), "preserve")
            element.text = text
        run._r.append(element)


def _table(
    document: DocumentObject,
    header: list[str],
    rows: list[list[object]],
    widths: list[float] | None = None,
) -> None:
    if not rows:
        _para(document, t("report.no_rows"), italic=True, indent=True)
        return
    table = document.add_table(rows=1, cols=len(header))
    table.style = "Table Grid"
    table.alignment = WD_TABLE_ALIGNMENT.CENTER
    for cell, text in zip(table.rows[0].cells, header, strict=True):
        cell.paragraphs[0].alignment = WD_ALIGN_PARAGRAPH.CENTER
        _run(cell.paragraphs[0], text, size=11, bold=True)
    for row in rows:
        cells = table.add_row().cells
        for cell, value in zip(cells, row, strict=True):
            numeric = isinstance(value, int)
            cell.paragraphs[0].alignment = (
                WD_ALIGN_PARAGRAPH.CENTER if numeric else WD_ALIGN_PARAGRAPH.LEFT
            )
            _run(cell.paragraphs[0], str(value), size=11)
    if widths:
        _widths(table, widths)
    _para(document, space_after=4)


def _widths(table: Table, widths: list[float]) -> None:
    """Column widths that Word and LibreOffice both respect: fixed layout, every cell set."""
    table.autofit = False
    for column, width in zip(table.columns, widths, strict=False):
        column.width = Cm(width)
    for row in table.rows:
        for cell, width in zip(row.cells, widths, strict=False):
            cell.width = Cm(width)


def render_document(report: AnnualReport, *, chart_png: bytes | None = None) -> bytes:
    document = Document()
    section = document.sections[0]
    section.orientation = WD_ORIENT.PORTRAIT
    section.page_width, section.page_height = Cm(21.0), Cm(29.7)
    section.top_margin, section.bottom_margin = Cm(2.0), Cm(2.0)
    section.left_margin, section.right_margin = Cm(3.0), Cm(1.5)
    _page_numbers_from_page_two(section)
    style = document.styles["Normal"]
    style.font.name = FONT
    style.font.size = Pt(13)

    _heading_block(document, report)
    _para(document, space_after=6)
    _para(
        document,
        t("report.kind"),
        align=WD_ALIGN_PARAGRAPH.CENTER,
        size=14,
        bold=True,
        space_after=0,
    )
    _para(
        document,
        t("report.subject", year=report.year),
        align=WD_ALIGN_PARAGRAPH.CENTER,
        size=14,
        bold=True,
        space_after=2,
    )
    _para(document, "──────────", align=WD_ALIGN_PARAGRAPH.CENTER, size=11, space_after=10)

    now, before = report.current, report.previous
    _para(document, t("report.opening", unit=report.unit, year=report.year), indent=True)

    _para(document, t("report.section.sessions"), bold=True)
    _para(
        document,
        t(
            "report.sessions_text",
            year=report.year,
            sessions=now.sessions_held,
            attendance=now.attendance,
            petitions=now.petitions,
        ),
        indent=True,
    )
    _table(document, *sessions_table(report), widths=[1.3, 2.6, 3.0, 5.0, 1.5, 1.3, 2.0])
    _para(document, t("report.topics_text"), indent=True)
    _table(document, *topics_table(report), widths=[1.3, 9.4, 3.0, 3.0])
    # Issue 13: by place (the ward and the street), with answers and reopenings.
    _para(document, t("report.places_text"), indent=True)
    _table(document, *places_table(report), widths=[1.3, 8.2, 2.4, 2.4, 2.4])

    _para(document, t("report.section.results"), bold=True)
    _para(
        document,
        t(
            "report.conclusions_text",
            on_time=now.conclusions_on_time,
            late=now.conclusions_late,
            missing=now.conclusions_missing,
        ),
        indent=True,
    )
    _para(
        document,
        t(
            "report.results_text",
            on_time=now.results_on_time,
            late=now.results_late,
            open=now.results_open,
            overdue=now.results_overdue,
            extended=now.extended,
            questions=now.questions_answered,
        ),
        indent=True,
    )
    _table(document, *agencies_table(report), widths=[1.3, 4.6, 1.8, 1.8, 1.6, 1.9, 1.8, 1.9])
    _satisfaction(document, report)

    _para(document, t("report.section.repeated"), bold=True)
    _para(document, t("report.repeated_text", count=len(report.repeated)), indent=True)
    _table(document, *repeated_table(report), widths=[1.3, 4.2, 1.4, 2.5, 2.5, 1.5, 3.3])

    _para(document, t("report.section.comparison"), bold=True)
    _para(
        document,
        t(
            "report.comparison_text",
            previous=report.year - 1,
            sessions_before=before.sessions_held,
            sessions=now.sessions_held,
            petitions_before=before.petitions,
            petitions=now.petitions,
        ),
        indent=True,
    )
    _table(document, *comparison_table(report), widths=[8.5, 2.6, 2.6, 2.8])
    if chart_png:
        picture = _para(document, align=WD_ALIGN_PARAGRAPH.CENTER)
        picture.add_run().add_picture(io.BytesIO(chart_png), width=Cm(16))

    _para(document, t("report.section.next"), bold=True)
    _para(document, t("report.next_text"), indent=True)
    _signature_block(document, report)
    buffer = io.BytesIO()
    document.save(buffer)
    return buffer.getvalue()


def _satisfaction(document: DocumentObject, report: AnnualReport) -> None:
    """Issue 13: what the petitioners answered to "is it resolved?", by agency and by topic."""
    found = report.current.satisfaction
    _para(document, t("report.satisfaction.section"), bold=True, italic=True)
    _para(
        document,
        t(
            "report.satisfaction.text",
            days=report.resolution_check_working_days,
            asked=found.asked,
            answered=found.answered,
            yes=found.yes,
            partly=found.partly,
            no=found.no,
            reopened=found.reopened,
            reopened_twice=found.reopened_twice,
        ),
        indent=True,
    )
    widths = [1.3, 5.4, 2.0, 2.0, 1.8, 2.2, 1.8]
    _table(document, *satisfaction_table(report, "agency"), widths=widths)
    _table(document, *satisfaction_table(report, "topic"), widths=widths)


def _signature_block(document: DocumentObject, report: AnnualReport) -> None:
    table = document.add_table(rows=1, cols=2)
    _borderless(table)
    _widths(table, [9.0, 7.5])
    left, right = table.rows[0].cells
    left.paragraphs[0].alignment = WD_ALIGN_PARAGRAPH.LEFT
    _run(left.paragraphs[0], t("report.recipients"), size=12, bold=True, italic=True)
    for line in (
        t("report.to_party", unit=report.unit),
        t("report.to_superior", superior=report.superior) if report.superior else "",
        t("report.to_front", unit=report.unit),
        t("report.to_archive"),
    ):
        if line:
            _para(left, line, align=WD_ALIGN_PARAGRAPH.LEFT, size=11, space_after=0)
    right.paragraphs[0].alignment = WD_ALIGN_PARAGRAPH.CENTER
    _run(right.paragraphs[0], t("report.on_behalf"), size=13, bold=True)
    _para(right, t("report.signer"), align=WD_ALIGN_PARAGRAPH.CENTER, bold=True, space_after=48)
    _para(right, report.head, align=WD_ALIGN_PARAGRAPH.CENTER, bold=True)
