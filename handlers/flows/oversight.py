"""/tonghop — the pressing-issue review (P2) and /baocao — the yearly report (P10), for office
staff, heads and monitors (read only: no resident's phone number is shown)."""

from __future__ import annotations

from collections.abc import Callable

from handlers.channel import Outgoing
from handlers.parsing import parse_year
from handlers.replies import Html, reply, say
from handlers.review_text import review_text
from handlers.turn import Turn
from nlp.dates import parse_date
from procedure.permissions import Action
from procedure.use_cases import lookups
from procedure.use_cases.annual_report import build_annual_report
from procedure.use_cases.petitions import mark_duplicate, petition_by_code
from procedure.use_cases.repeated import decide, issue_groups, repeated_issues
from procedure.use_cases.review import Period, figures
from procedure.use_cases.staff_views import units_for
from texts import t


def _unit(turn: Turn) -> int | None:
    granted = [g.org_unit_id for g in turn.actor.grants]
    allowed = set(units_for(turn.uow, turn.actor, Action.VIEW_OVERSIGHT))
    return next((unit for unit in granted if unit in allowed), None)


def _period(turn: Turn, payload: str) -> Period | None:
    text = payload.strip()
    today = turn.context.today()
    if not text:
        return Period(today.replace(month=1, day=1), today)
    year = parse_year(text)
    if year is not None:
        return Period.year(year)
    first, _, last = text.partition("-") if text.count("/") == 4 else ("", "", "")
    start, end = parse_date(first.strip()), parse_date(last.strip())
    if start and end and start <= end:
        return Period(start, end)
    turn.send(reply("review.bad_period", typed=text))
    return None


def review(turn: Turn, payload: str) -> None:
    unit_id, period = _unit(turn), _period(turn, payload)
    if unit_id is None or period is None:
        return
    numbers = turn.attempt(lambda: figures(turn.uow, turn.actor, unit_id, period, turn.context))
    if numbers is None:
        return
    repeated = repeated_issues(turn.uow, unit_id, period)
    turn.send(Outgoing(text=review_text(numbers, repeated)))


def send_report(turn: Turn, payload: str) -> None:
    """/baocao <year>: the Word document, the spreadsheet and the chart, sent as files."""
    unit_id = _unit(turn)
    # /baocao 2026 Phạm Văn Chủ: the year, then who signs (by default the unit's current head).
    text = payload.strip()
    first, _, rest = text.partition(" ")
    starts_with_number = bool(first) and not first.isalpha()
    year = parse_year(first) if starts_with_number else turn.context.today().year
    if year is None:
        turn.send(reply("review.bad_year", typed=first[:12]))
        return
    signer = rest.strip() if starts_with_number else text
    if unit_id is None:
        return
    report = turn.attempt(
        lambda: build_annual_report(
            turn.uow,
            turn.actor,
            unit_id,
            year,
            turn.context,
            repeated=repeated_issues,
            signer=signer or None,
        )
    )
    if report is None:
        return
    unit = lookups.org_unit(turn.uow, unit_id)
    stem = f"bao-cao-doi-thoai-{unit.code if unit else unit_id}-{year}"
    # The report's libraries (Word, spreadsheet, chart) are loaded by the first report, not by
    # every start of the bot (issue 12).
    from handlers.reports.chart import render_chart
    from handlers.reports.document import render_document
    from handlers.reports.spreadsheet import render_spreadsheet

    chart = render_chart(report)
    document = render_document(report, chart_png=chart)
    spreadsheet = render_spreadsheet(report)
    turn.send(reply("review.report_ready", year=year, unit=report.unit))
    turn.send(Outgoing(text="", document=(f"{stem}.docx", document)))
    turn.send(Outgoing(text="", document=(f"{stem}.xlsx", spreadsheet)))
    turn.send(Outgoing(text="", image=chart, extra={"file_name": f"{stem}.png"}))


def groups(turn: Turn, payload: str) -> None:
    """/nhom: groups of near-duplicate petitions of the unit, to confirm or split (P2)."""
    unit_id = _unit(turn)
    if unit_id is None:
        return
    found = issue_groups(turn.uow, unit_id)
    if not found:
        turn.send(reply("review.groups_none"))
        return
    for group in found[:10]:
        lines = "\n".join(
            say(
                "review.group_member",
                code=p.tracking_code,
                state=t(f"state.petition.{p.state}"),
                text=p.text[:120],
            )
            for p in group.petitions
        )
        turn.send(
            reply(
                "review.group",
                title=group.title,
                count=len(group.petitions),
                members=Html(lines),
                answer=Html(say("review.last_answer", text=group.answers[-1][:200]))
                if group.answers
                else "",
            )
        )
    turn.send(reply("review.group_help"))


def link(decision: str) -> Callable[[Turn, str], None]:
    """/gop A B (the same issue) and /tach A B (not the same issue)."""

    def run(turn: Turn, payload: str) -> None:
        codes = payload.split()
        if len(codes) != 2:
            turn.send(reply("review.two_codes"))
            return

        def decided() -> bool:
            decide(turn.uow, turn.actor, codes[0], codes[1], decision, turn.context)
            return True

        done = turn.attempt(decided)
        if done:
            turn.send(
                reply(f"review.linked.{decision}", first=codes[0].upper(), second=codes[1].upper())
            )

    return run


def duplicate(turn: Turn, payload: str) -> None:
    """/trung A B: A is a duplicate of B; A follows B's answer and its petitioner is told."""
    codes = payload.split()
    if len(codes) != 2:
        turn.send(reply("review.two_codes"))
        return

    def mark() -> object:
        copy, original = petition_by_code(turn.uow, codes[0]), petition_by_code(turn.uow, codes[1])
        return mark_duplicate(turn.uow, turn.actor, copy.id, original.id, turn.context)  # type: ignore[arg-type]

    if turn.attempt(mark) is not None:
        turn.send(reply("review.duplicate_done", copy=codes[0].upper(), original=codes[1].upper()))
