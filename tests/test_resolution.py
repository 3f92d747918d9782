""" "Is it resolved?" (issue 13): the question some working days after a written result, asked
once; the answers; the reopening to the same agency with a new due date; the head told and a
petition reopened twice flagged (P2); the figures of the review and the yearly report (P10)."""

from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy import Engine
from sqlmodel import col, select

from bot.scheduler import Scheduler
from handlers.notifications import render
from procedure.deadlines import resolution_check_day
from procedure.errors import NotFound, Refusal
from procedure.lifecycles import PetitionState
from procedure.periods import Periods
from procedure.use_cases import follow_up
from procedure.use_cases.context import load_calendar
from procedure.use_cases.repeated import repeated_issues
from procedure.use_cases.residents import erase_personal_data
from procedure.use_cases.resolution import (
    QUESTION_KIND,
    add_comment,
    answer_resolution,
    due_questions,
    queue_resolution_questions,
)
from procedure.use_cases.review import Period, figures
from procedure.use_cases.staff_views import agency_tasks
from storage.tables import Assignment, Event, OutboxMessage, Petition
from storage.unit_of_work import UnitOfWork
from tests.procedure_world import World
from tests.test_alerts import tet_assignments
from tests.test_alerts import world as world

D = date.fromisoformat
RESULT = "Phường đã nạo vét toàn tuyến cống đường Lê Lợi."


def questions(uow: UnitOfWork) -> list[OutboxMessage]:
    return list(
        uow.session.exec(
            select(OutboxMessage)
            .where(OutboxMessage.kind == QUESTION_KIND)
            .order_by(col(OutboxMessage.id))
        ).all()
    )


def answered_on_thursday_12_02(world: World, uow: UnitOfWork) -> list[Petition]:
    """Three assigned petitions; the first answered in writing on Thursday 12/02/2026, the
    second extended, the third still open."""
    submitted = tet_assignments(world, uow)
    world.clock.set("2026-02-12", "08:00")
    follow_up.post_result(
        uow, world.agency_officer, submitted[0].tracking_code, RESULT, world.context
    )
    follow_up.extend_deadline(
        uow,
        world.agency_officer,
        submitted[1].tracking_code,
        D("2026-02-27"),
        "Cần khảo sát toàn tuyến.",
        world.context,
    )
    return submitted


def queue_on(world: World, uow: UnitOfWork, day: str) -> int:
    world.clock.set(day, "09:00")
    return queue_resolution_questions(uow, world.context)


def test_issue13_asked_once_only_after_ten_working_days_across_tet(
    world: World, uow: UnitOfWork
) -> None:
    submitted = answered_on_thursday_12_02(world, uow)
    # Ten working days after Thursday 12/02: Friday 13/02, then Tết (16–20/02) is skipped, and
    # the tenth working day is Thursday 05/03/2026.
    calendar = load_calendar(uow)
    assert resolution_check_day(calendar, D("2026-02-12"), Periods()).due == D("2026-03-05")
    for day in ("2026-02-13", "2026-02-24", "2026-03-04"):
        assert queue_on(world, uow, day) == 0, day
    assert queue_on(world, uow, "2026-03-05") == 1
    (asked,) = questions(uow)
    assert asked.person_id == submitted[0].person_id
    assert asked.data["tracking_code"] == submitted[0].tracking_code
    # Asked once: the same day again, the next days, a week later — nothing more, though the
    # resident never answered.
    for day in ("2026-03-05", "2026-03-06", "2026-03-12"):
        assert queue_on(world, uow, day) == 0, day
    assert len(questions(uow)) == 1
    # The question carries the three answers as buttons (and the timeline).
    message = render(asked.kind, asked.data)
    data = [b.data for row in message.buttons for b in row]
    result_id = asked.data["result_id"]
    assert data[:3] == [f"resolved:{result_id}:{a}" for a in ("yes", "partly", "no")]
    assert "đã được giải quyết chưa" in message.text and "Thứ Năm, 12/02/2026" in message.text


def test_issue13_the_period_is_configuration(uow: UnitOfWork) -> None:
    from tests.procedure_world import build_world

    world = build_world(uow, Periods(resolution_check_working_days=3))
    answered_on_thursday_12_02(world, uow)
    # 13/02, then Tết, then 23/02 and 24/02: the third working day after 12/02.
    assert queue_on(world, uow, "2026-02-23") == 0
    assert queue_on(world, uow, "2026-02-24") == 1
    with pytest.raises(ValueError):
        Periods(resolution_check_working_days=0)


def test_issue13_only_written_results_of_an_agency_are_asked_about(
    world: World, uow: UnitOfWork
) -> None:
    """An extended petition, an open one and a question answered directly are never asked."""
    submitted = answered_on_thursday_12_02(world, uow)
    world.clock.set("2026-03-05", "09:00")
    asked = {item.petition.tracking_code for item in due_questions(uow, world.context)}
    assert asked == {submitted[0].tracking_code}
    assert submitted[1].state == PetitionState.EXTENDED
    assert submitted[2].state == PetitionState.FORWARDED


def test_issue13_x3_a_person_who_erased_their_data_is_not_asked(
    world: World, uow: UnitOfWork
) -> None:
    submitted = answered_on_thursday_12_02(world, uow)
    world.clock.set("2026-03-02", "10:00")
    erase_personal_data(uow, submitted[0].person_id, world.context)
    assert queue_on(world, uow, "2026-03-05") == 0
    assert questions(uow) == []


def test_issue13_a_result_long_ago_is_not_asked_about_when_the_feature_starts(
    world: World, uow: UnitOfWork
) -> None:
    answered_on_thursday_12_02(world, uow)
    assert queue_on(world, uow, "2026-06-01") == 0


def ask(world: World, uow: UnitOfWork, day: str) -> int:
    """Queue the question on ``day`` and return the written result it is about."""
    assert queue_on(world, uow, day) == 1
    return int(questions(uow)[-1].data["result_id"])  # type: ignore[call-overload]


def test_issue13_no_reopens_to_the_same_agency_with_the_result_period_again(
    world: World, uow: UnitOfWork
) -> None:
    submitted = answered_on_thursday_12_02(world, uow)
    petition = submitted[0]
    resident = petition.person_id
    result_id = ask(world, uow, "2026-03-05")
    # Only the petitioner who was asked may answer.
    with pytest.raises(NotFound):
        answer_resolution(uow, world.residents[1], result_id, "no", world.context)
    with pytest.raises(NotFound):
        answer_resolution(uow, resident, result_id, "maybe", world.context)
    world.clock.set("2026-03-06", "20:00")  # Friday evening
    answered = answer_resolution(uow, resident, result_id, "no", world.context)
    # 20 working days after Friday 06/03/2026: Friday 03/04/2026.
    assert answered.due == D("2026-04-03") and answered.reopenings == 1
    assert petition.state == PetitionState.REOPENED
    assignment = uow.session.exec(
        select(Assignment).where(Assignment.petition_id == petition.id)
    ).one()
    assert assignment.agency_org_id == world.agency and assignment.due_date == D("2026-04-03")
    assert assignment.original_due_date == D("2026-02-13")  # the history stays
    # Answered once.
    with pytest.raises(Refusal):
        answer_resolution(uow, resident, result_id, "yes", world.context)
    # X2: two events, the answer and the reopening, with who and when.
    events = uow.session.exec(
        select(Event).where(Event.petition_id == petition.id).order_by(col(Event.id))
    ).all()
    assert [e.kind for e in events[-2:]] == ["petition.resolution_answered", "petition.reopened"]
    assert events[-1].from_state == "answered" and events[-1].to_state == "reopened"
    assert events[-1].actor_person_id == resident and events[-1].actor_role == "resident"
    # The agency sees it again in /viec, and is told; the head is told (outbox).
    tasks = agency_tasks(uow, world.agency_officer, world.context)
    assert petition.tracking_code in {task.petition.tracking_code for task in tasks}
    kinds = {
        (row.kind, row.person_id)
        for row in uow.session.exec(select(OutboxMessage)).all()
        if row.kind in {"agency.reopened", "head.reopened"}
    }
    assert kinds == {
        ("agency.reopened", world.agency_officer.person_id),
        ("head.reopened", world.head.person_id),
    }
    # The optional comment, once.
    add_comment(uow, resident, answered.feedback.id, "Cống vẫn tắc ở đầu hẻm 12.", world.context)  # type: ignore[arg-type]
    with pytest.raises(Refusal):
        add_comment(uow, resident, answered.feedback.id, "Lần nữa.", world.context)  # type: ignore[arg-type]
    # The overdue alerts follow the new due date.
    from procedure.use_cases.alerts import alert_digests

    world.clock.set("2026-04-06", "09:00")
    items = alert_digests(uow, world.context)[world.agency_officer.person_id]
    assert petition.tracking_code in {item.tracking_code for item in items}


def test_issue13_p2_reopened_twice_is_flagged_and_counted_as_repeated(
    world: World, uow: UnitOfWork
) -> None:
    submitted = answered_on_thursday_12_02(world, uow)
    petition = submitted[0]
    resident = petition.person_id
    first = ask(world, uow, "2026-03-05")
    answer_resolution(uow, resident, first, "partly", world.context)
    # The agency answers again; ten working days later the resident is asked again.
    world.clock.set("2026-03-20", "09:00")
    follow_up.post_result(
        uow, world.agency_officer, petition.tracking_code, "Đã thông cống đầu hẻm.", world.context
    )
    assert queue_on(world, uow, "2026-04-02") == 0
    second = ask(world, uow, "2026-04-03")
    assert second != first
    twice = answer_resolution(uow, resident, second, "no", world.context)
    assert twice.reopenings == 2
    flagged = [
        render(row.kind, row.data).text
        for row in uow.session.exec(
            select(OutboxMessage)
            .where(OutboxMessage.kind == "head.reopened")
            .order_by(OutboxMessage.id)  # type: ignore[arg-type]
        ).all()
    ]
    assert len(flagged) == 2
    assert "mở lại 2 lần" in flagged[-1] and "mở lại 2 lần" not in flagged[0]
    repeated = repeated_issues(uow, world.ward, Period.year(2026))
    (issue,) = [issue for issue in repeated if petition.tracking_code in issue.examples]
    assert issue.reopened == 2 and issue.open == 1 and issue.count == 3
    # The review and the yearly report count the answers, by agency and by topic.
    numbers = figures(uow, world.head, world.ward, Period.year(2026), world.context)
    satisfaction = numbers.satisfaction
    assert (satisfaction.asked, satisfaction.answered) == (2, 2)
    assert (satisfaction.yes, satisfaction.partly, satisfaction.no) == (0, 1, 1)
    assert (satisfaction.reopened, satisfaction.reopened_twice) == (2, 1)
    line = satisfaction.by_agency["Phòng Kinh tế, Hạ tầng và Đô thị"]
    assert (line.partly, line.no, line.reopened) == (1, 1, 2)
    assert sum(line.answered for line in satisfaction.by_topic.values()) == 2
    assert numbers.results_open == 3  # reopened: open again, with the extended and the other


def test_issue13_yes_closes_the_loop_without_reopening(world: World, uow: UnitOfWork) -> None:
    submitted = answered_on_thursday_12_02(world, uow)
    result_id = ask(world, uow, "2026-03-05")
    answered = answer_resolution(uow, submitted[0].person_id, result_id, "yes", world.context)
    assert answered.due is None and submitted[0].state == PetitionState.ANSWERED
    numbers = figures(uow, world.head, world.ward, Period.year(2026), world.context)
    assert (numbers.satisfaction.yes, numbers.satisfaction.reopened) == (1, 0)


def test_issue13_the_scheduler_asks_in_the_daytime_only(
    world: World, uow: UnitOfWork, engine: Engine
) -> None:
    answered_on_thursday_12_02(world, uow)
    uow.commit()
    scheduler = Scheduler(engine, world.context)
    world.clock.set("2026-03-05", "05:00")
    assert scheduler.run_once()[1] == 0
    world.clock.set("2026-03-05", "09:00")
    assert scheduler.run_once()[1] == 1
    assert scheduler.run_once()[1] == 0


def test_issue13_p10_the_review_and_the_yearly_report_show_the_answers(
    world: World, uow: UnitOfWork
) -> None:
    import io

    from docx import Document
    from openpyxl import load_workbook

    from handlers.reports.document import render_document
    from handlers.reports.spreadsheet import render_spreadsheet
    from handlers.review_text import review_text
    from procedure.use_cases.annual_report import build_annual_report

    submitted = answered_on_thursday_12_02(world, uow)
    result_id = ask(world, uow, "2026-03-05")
    answer_resolution(uow, submitted[0].person_id, result_id, "no", world.context)
    world.clock.set("2026-12-30", "09:00")
    report = build_annual_report(
        uow, world.head, world.ward, 2026, world.context, repeated=repeated_issues
    )
    said = review_text(report.current, report.repeated)
    assert "Người dân đánh giá kết quả giải quyết" in said
    assert "Đã hỏi 1, đã trả lời 1: đã giải quyết 0; một phần 0; chưa giải quyết 1" in said
    assert "Phòng Kinh tế, Hạ tầng và Đô thị: 0 / 0 / 1 / 1" in said
    assert "Giao thông, hạ tầng: 0 / 0 / 1 / 1" in said

    book = load_workbook(io.BytesIO(render_spreadsheet(report)))
    sheet = book["Đánh giá theo cơ quan"]
    rows = list(sheet.iter_rows(values_only=True))
    assert rows[0][:3] == ("STT", "Cơ quan, đơn vị", "Đã trả lời")
    assert rows[1] == (1, "Phòng Kinh tế, Hạ tầng và Đô thị", 1, 0, 0, 1, 1)
    topics = list(book["Đánh giá theo lĩnh vực"].iter_rows(values_only=True))
    assert topics[1] == (1, "Giao thông, hạ tầng", 1, 0, 0, 1, 1)

    document = Document(io.BytesIO(render_document(report)))
    body = "\n".join(p.text for p in document.paragraphs)
    assert "Sau 10 ngày làm việc kể từ khi có văn bản trả lời" in body
    assert "1 lần ý kiến được mở lại" in body
    cells = [cell.text for table in document.tables for row in table.rows for cell in row.cells]
    assert "Mở lại" in cells and "Chưa giải quyết" in cells


def test_issue13_p2_p10_the_review_and_the_yearly_report_group_by_place(
    world: World, uow: UnitOfWork
) -> None:
    """Item 3: /tonghop and the yearly report count the petitions by place — the ward and the
    street, house numbers left out so that one alley counts once — with the answered and the
    reopened ones."""
    import io

    from docx import Document
    from openpyxl import load_workbook

    from handlers.reports.document import render_document
    from handlers.reports.spreadsheet import render_spreadsheet
    from handlers.review_text import review_text
    from procedure.use_cases.annual_report import build_annual_report

    first, second, third = answered_on_thursday_12_02(world, uow)
    for petition, street, written in (
        (first, None, "Số 12 hẻm 42 Lê Lợi"),
        (second, None, "số 14 hẻm 42 Lê Lợi"),
        (third, "Pasteur", None),
    ):
        petition.street, petition.place_text = street, written
        uow.session.add(petition)
    result_id = ask(world, uow, "2026-03-05")
    answer_resolution(uow, first.person_id, result_id, "no", world.context)  # reopened
    world.clock.set("2026-03-09", "09:00")
    follow_up.post_result(uow, world.agency_officer, second.tracking_code, RESULT, world.context)
    world.clock.set("2026-12-30", "09:00")
    report = build_annual_report(
        uow, world.head, world.ward, 2026, world.context, repeated=repeated_issues
    )
    places = {line.place: line for line in report.current.places.values()}
    alley = places["Phường Bến Thành — hẻm 42 Lê Lợi"]  # numbers 12 and 14: one alley
    assert (alley.petitions, alley.answered, alley.reopened) == (2, 1, 1)
    street = places["Phường Bến Thành — Pasteur"]
    assert (street.petitions, street.answered, street.reopened) == (1, 0, 0)
    assert sum(line.petitions for line in places.values()) == report.current.petitions

    said = review_text(report.current, report.repeated)
    assert "Phường Bến Thành — hẻm 42 Lê Lợi: 2 ý kiến, 1 đã trả lời, 1 mở lại" in said
    assert "Phường Bến Thành — Pasteur: 1 ý kiến, 0 đã trả lời, 0 mở lại" in said

    book = load_workbook(io.BytesIO(render_spreadsheet(report)))
    rows = list(book["Theo địa bàn"].iter_rows(values_only=True))
    assert rows[0] == ("STT", "Địa bàn", "Số ý kiến", "Đã trả lời", "Mở lại")
    assert rows[1] == (1, "Phường Bến Thành — hẻm 42 Lê Lợi", 2, 1, 1)  # most petitions first
    assert rows[2] == (2, "Phường Bến Thành — Pasteur", 1, 0, 0)

    document = Document(io.BytesIO(render_document(report)))
    body = "\n".join(p.text for p in document.paragraphs)
    assert "Ý kiến, kiến nghị theo địa bàn" in body
    tables = [
        [[cell.text for cell in row.cells] for row in table.rows] for table in document.tables
    ]
    (by_place,) = [table for table in tables if table[0][1] == "Địa bàn"]
    assert ["Phường Bến Thành — Pasteur", "1", "0", "0"] in [row[1:] for row in by_place]
