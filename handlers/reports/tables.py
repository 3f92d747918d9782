"""The report's tables as plain rows: the Word document, the spreadsheet and the chart show the
same numbers (and the review in chat reads the same figures)."""

from __future__ import annotations

from procedure.use_cases.annual_report import AnnualReport
from procedure.use_cases.review import Figures
from texts import format_date, t


def sessions_table(report: AnnualReport) -> tuple[list[str], list[list[object]]]:
    header = [
        t(f"report.col.{name}")
        for name in ("number", "day", "chair", "content", "attended", "opinions", "conclusion")
    ]
    rows: list[list[object]] = [
        [
            index,
            format_date(line.day),
            line.chair,
            line.content,
            line.attended,
            line.opinions,
            t(f"report.conclusion.{line.conclusion}", days=line.conclusion_late_days),
        ]
        for index, line in enumerate(report.current.sessions, start=1)
    ]
    return header, rows


def topics_table(report: AnnualReport) -> tuple[list[str], list[list[object]]]:
    header = [
        t("report.col.number"),
        t("report.col.topic"),
        t("report.col.count"),
        t("report.col.previous"),
    ]
    names = sorted(
        set(report.current.by_topic) | set(report.previous.by_topic),
        key=lambda name: (-report.current.by_topic[name], name),
    )
    rows: list[list[object]] = [
        [index, name, report.current.by_topic[name], report.previous.by_topic[name]]
        for index, name in enumerate(names, start=1)
    ]
    return header, rows


def agencies_table(report: AnnualReport) -> tuple[list[str], list[list[object]]]:
    header = [
        t(f"report.col.{name}")
        for name in (
            "number",
            "agency",
            "assigned",
            "on_time",
            "late",
            "open",
            "overdue",
            "extended",
        )
    ]
    rows: list[list[object]] = [
        [
            index,
            line.agency,
            line.assigned,
            line.on_time,
            line.late,
            line.open,
            line.overdue,
            line.extended,
        ]
        for index, line in enumerate(
            sorted(report.current.agencies.values(), key=lambda line: line.agency), start=1
        )
    ]
    return header, rows


def summary_rows(figures: Figures) -> list[tuple[str, int]]:
    """The main figures, in the order the report and the chart show them."""
    return [
        (t("report.figure.sessions"), figures.sessions_held),
        (t("report.figure.attendance"), figures.attendance),
        (t("report.figure.petitions"), figures.petitions),
        (t("report.figure.conclusions_on_time"), figures.conclusions_on_time),
        (t("report.figure.conclusions_late"), figures.conclusions_late),
        (t("report.figure.conclusions_missing"), figures.conclusions_missing),
        (t("report.figure.results_on_time"), figures.results_on_time),
        (t("report.figure.results_late"), figures.results_late),
        (t("report.figure.results_open"), figures.results_open),
        (t("report.figure.results_overdue"), figures.results_overdue),
        (t("report.figure.extended"), figures.extended),
        (t("report.figure.questions_answered"), figures.questions_answered),
    ]


def comparison_table(report: AnnualReport) -> tuple[list[str], list[list[object]]]:
    header = [
        t("report.col.figure"),
        str(report.year - 1),
        str(report.year),
        t("report.col.change"),
    ]
    rows: list[list[object]] = []
    for (name, now), (_, before) in zip(
        summary_rows(report.current), summary_rows(report.previous), strict=True
    ):
        rows.append([name, before, now, f"{now - before:+d}"])
    return header, rows


def repeated_table(report: AnnualReport) -> tuple[list[str], list[list[object]]]:
    header = [
        t(f"report.col.{name}")
        for name in ("number", "issue", "count", "first", "last", "open", "examples")
    ]
    rows: list[list[object]] = [
        [
            index,
            issue.title,
            issue.count,
            format_date(issue.first_raised),
            format_date(issue.last_raised),
            issue.open,
            ", ".join(issue.examples),
        ]
        for index, issue in enumerate(report.repeated, start=1)
    ]
    return header, rows


def satisfaction_table(report: AnnualReport, by: str) -> tuple[list[str], list[list[object]]]:
    """Issue 13: the petitioners' answers to "is it resolved?" by agency (``by="agency"``) or by
    topic (``by="topic"``), most unresolved first."""
    found = report.current.satisfaction
    lines = found.by_agency if by == "agency" else found.by_topic
    header = [
        t(f"report.col.{name}")
        for name in ("number", by, "answered", "resolved", "partly", "unresolved", "reopened")
    ]
    rows: list[list[object]] = [
        [index, line.name, line.answered, line.yes, line.partly, line.no, line.reopened]
        for index, line in enumerate(
            sorted(lines.values(), key=lambda line: (-line.no - line.partly, line.name)),
            start=1,
        )
    ]
    return header, rows


MAX_PLACES = 30  # the places with most petitions; the rest are counted in the totals


def places_table(report: AnnualReport) -> tuple[list[str], list[list[object]]]:
    """Issue 13: the petitions by place — the ward and the street (or the point rounded to about
    100 m) — with how many are answered and how many were reopened, most petitions first."""
    header = [
        t(f"report.col.{name}")
        for name in ("number", "place", "count", "place_answered", "place_reopened")
    ]
    lines = sorted(
        report.current.places.values(), key=lambda line: (-line.petitions, line.place)
    )[:MAX_PLACES]
    rows: list[list[object]] = [
        [index, line.place, line.petitions, line.answered, line.reopened]
        for index, line in enumerate(lines, start=1)
    ]
    return header, rows
