"""The pressing-issue review (P2) as a chat message: the same figures as the yearly report."""

from __future__ import annotations

from collections.abc import Sequence

from handlers.replies import Html, say
from procedure.use_cases.annual_report import RepeatedIssue
from procedure.use_cases.review import Figures
from texts import format_date, t

LISTED = 8


def _counts(counter: object, key_prefix: str | None = None) -> Html:
    items = sorted(counter.items(), key=lambda item: (-item[1], item[0]))[:LISTED]  # type: ignore[attr-defined]
    lines = [
        say(
            "review.count_line", name=t(f"{key_prefix}.{name}") if key_prefix else name, count=count
        )
        for name, count in items
    ]
    return Html("\n".join(lines) or say("report.no_rows"))


def _place_lines(figures: Figures) -> Html:
    """Issue 13: the places with most petitions, each with its answers and reopenings."""
    rows = sorted(figures.places.values(), key=lambda line: (-line.petitions, line.place))
    said = [
        say(
            "review.place_line",
            name=line.place,
            petitions=line.petitions,
            answered=line.answered,
            reopened=line.reopened,
        )
        for line in rows[:LISTED]
    ]
    return Html("\n".join(said) or say("report.no_rows"))


def _satisfaction_lines(lines: object) -> Html:
    rows = sorted(lines.values(), key=lambda line: (-line.no - line.partly, line.name))  # type: ignore[attr-defined]
    said = [
        say(
            "review.satisfaction_line",
            name=line.name,
            yes=line.yes,
            partly=line.partly,
            no=line.no,
            reopened=line.reopened,
        )
        for line in rows[:LISTED]
    ]
    return Html("\n".join(said) or say("report.no_rows"))


def satisfaction_text(figures: Figures) -> str:
    """Issue 13: what the petitioners answered to "is it resolved?", and the reopenings."""
    found = figures.satisfaction
    return say(
        "review.satisfaction",
        asked=found.asked,
        answered=found.answered,
        yes=found.yes,
        partly=found.partly,
        no=found.no,
        reopened=found.reopened,
        reopened_twice=found.reopened_twice,
        agencies=_satisfaction_lines(found.by_agency),
        topics=_satisfaction_lines(found.by_topic),
    )


def review_text(figures: Figures, repeated: Sequence[RepeatedIssue]) -> str:
    agencies = [
        say(
            "review.agency_line",
            agency=line.agency,
            assigned=line.assigned,
            on_time=line.on_time,
            late=line.late,
            open=line.open,
            overdue=line.overdue,
        )
        for line in sorted(figures.agencies.values(), key=lambda line: (-line.overdue, line.agency))
    ]
    issues = [
        say(
            "review.repeated_line",
            title=issue.title,
            count=issue.count,
            first=format_date(issue.first_raised),
            last=format_date(issue.last_raised),
            open=issue.open,
            examples=", ".join(issue.examples)
            + (t("review.reopened_times", count=issue.reopened) if issue.reopened else ""),
            answer=Html(say("review.last_answer", text=issue.last_answer[:160]))
            if issue.last_answer
            else "",
        )
        for issue in repeated[:LISTED]
    ]
    text = say(
        "review.text",
        unit=figures.unit,
        start=format_date(figures.period.start),
        end=format_date(figures.period.end),
        sessions=figures.sessions_held,
        attendance=figures.attendance,
        petitions=figures.petitions,
        topics=_counts(figures.by_topic),
        places=_place_lines(figures),
        states=_counts(figures.by_state, "state.petition"),
        conclusions_late=figures.conclusions_late,
        conclusions_missing=figures.conclusions_missing,
        open=figures.results_open,
        overdue=figures.results_overdue,
        agencies=Html("\n".join(agencies) or say("report.no_rows")),
        repeated=Html("\n".join(issues) or say("review.no_repeated")),
    )
    return f"{text}\n\n{satisfaction_text(figures)}"
