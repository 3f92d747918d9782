"""The use cases of Article 13 on a real database (SQLite and PostgreSQL), each with its event.

P1 plan, P4 announce (refused when too late), C1 register, C2/Q1 submit, P6 hold and check in,
P7 conclusion with assignments, P9 extension, P8 written result, Q6 reply, X2 events.
"""

from __future__ import annotations

from datetime import date

import pytest
from sqlmodel import select

from procedure.errors import NotAllowed, NotFound, Refusal
from procedure.lifecycles import PetitionState, RegistrationState, SessionState
from procedure.permissions import Actor
from procedure.use_cases import follow_up, petitions, registrations, sessions
from procedure.use_cases.follow_up import AssignmentRequest
from procedure.use_cases.petitions import PetitionKind, PetitionSubmission
from procedure.use_cases.sessions import SessionPlan
from storage.tables import Assignment, Conclusion, Event, Petition
from storage.unit_of_work import UnitOfWork
from tests.conftest import at
from tests.procedure_world import World, build_world


@pytest.fixture
def world(uow: UnitOfWork) -> World:
    return build_world(uow)


def plan(world: World, uow: UnitOfWork, day: str = "2026-03-16", capacity: int | None = 2) -> int:
    session = sessions.plan_session(
        uow,
        world.office,
        SessionPlan(
            org_unit_id=world.ward,
            chair_name="Phạm Chủ Tịch, Chủ tịch UBND phường",
            venue="Hội trường UBND phường Bến Thành",
            starts_at=at(day, "08:00"),
            ends_at=at(day, "11:00"),
            content="Đối thoại về chỉnh trang đô thị và vệ sinh môi trường",
            topics=["Ngập nước đường Lê Lợi", "Lấn chiếm vỉa hè"],
            agency_org_ids=[world.agency],
            capacity=capacity,
        ),
        world.context,
    )
    assert session.id is not None
    return session.id


def submission(world: World, person: int, session_id: int | None, **changes) -> PetitionSubmission:
    values = dict(
        person_id=person,
        kind=PetitionKind.PETITION,
        topic_code="giao_thong",
        text="Đường Lê Lợi bị ngập sâu mỗi khi mưa lớn, đề nghị nạo vét cống.",
        full_name="Nguyễn Văn An",
        phone_e164="+84912345678",
        area_org_id=world.ward,
        session_id=session_id,
        street="Lê Lợi",
    )
    values.update(changes)
    return PetitionSubmission(**values)


def events_of(uow: UnitOfWork, **where) -> list[Event]:
    query = select(Event).order_by(Event.id)  # type: ignore[arg-type]
    for name, value in where.items():
        query = query.where(getattr(Event, name) == value)
    return list(uow.session.exec(query).all())


def test_p1_plan_builds_the_agenda_in_the_order_of_article_13(world: World, uow: UnitOfWork):
    from storage.tables import AgendaItem, SessionAgency

    session_id = plan(world, uow)
    items = uow.session.exec(
        select(AgendaItem).where(AgendaItem.session_id == session_id).order_by(AgendaItem.position)  # type: ignore[arg-type]
    ).all()
    assert [i.step for i in items] == [
        "opening",
        "head_report",
        "residents_speak",
        "topic",
        "topic",
        "agencies_answer",
        "head_concludes",
    ]
    assert items[3].title == "Ngập nước đường Lê Lợi"
    agencies = uow.session.exec(
        select(SessionAgency).where(SessionAgency.session_id == session_id)
    ).all()
    assert [a.org_unit_id for a in agencies] == [world.agency]
    (planned,) = events_of(uow, session_id=session_id)
    assert planned.kind == "session.planned" and planned.actor_role == "office"


@pytest.mark.parametrize(
    ("changes", "key"),
    [
        ({"ends_at": at("2026-03-16", "07:00")}, "refusal.session_end_before_start"),
        (
            {"starts_at": at("2026-03-01", "08:00"), "ends_at": at("2026-03-01", "09:00")},
            "refusal.session_in_past",
        ),
        ({"capacity": 0}, "refusal.capacity_not_positive"),
        ({"venue": "  "}, "refusal.session_field_missing"),
    ],
)
def test_p1_bad_plans_are_refused_with_a_reason(world: World, uow: UnitOfWork, changes, key):
    values = dict(
        org_unit_id=world.ward,
        chair_name="Chủ tịch",
        venue="Hội trường",
        starts_at=at("2026-03-16", "08:00"),
        ends_at=at("2026-03-16", "11:00"),
        content="Nội dung",
    )
    values.update(changes)
    with pytest.raises(Refusal) as refused:
        sessions.plan_session(uow, world.office, SessionPlan(**values), world.context)
    assert refused.value.key == key
    assert refused.value.message  # a Vietnamese sentence from the catalogue


def test_p4_announcing_too_late_names_the_latest_day_and_earliest_session_date(
    world: World, uow: UnitOfWork
):
    session_id = plan(world, uow)
    world.clock.set("2026-03-09")
    with pytest.raises(Refusal) as refused:
        sessions.announce_session(uow, world.office, session_id, world.context)
    message = refused.value.message
    assert "Chủ nhật, 08/03/2026" in message  # the latest lawful sending day
    assert "Thứ Ba, 17/03/2026" in message  # sent today, the earliest lawful session date
    assert "5 ngày làm việc" in message and "Điều 13, mục 1.2" in message
    assert sessions.get_session(uow, session_id).state == SessionState.DRAFT


def test_p4_announcing_in_time_is_recorded(world: World, uow: UnitOfWork):
    session_id = plan(world, uow)
    world.clock.set("2026-03-08", "22:00")  # the latest lawful day itself
    session = sessions.announce_session(uow, world.office, session_id, world.context)
    assert session.state == SessionState.ANNOUNCED
    announced = events_of(uow, session_id=session_id)[-1]
    assert announced.kind == "session.announced"
    assert announced.details["latest_notice_day"] == "2026-03-08"
    with pytest.raises(Refusal):  # announcing twice is a refused transition
        sessions.announce_session(uow, world.office, session_id, world.context)


def announced(world: World, uow: UnitOfWork, capacity: int | None = 2) -> int:
    session_id = plan(world, uow, capacity=capacity)
    sessions.announce_session(uow, world.office, session_id, world.context)
    return session_id


def test_c1_registration_codes_capacity_waitlist_and_cancel(world: World, uow: UnitOfWork):
    session_id = announced(world, uow)
    a, b, c = world.residents
    first = registrations.register(uow, a, session_id, world.context).registration
    second = registrations.register(uow, b, session_id, world.context).registration
    third = registrations.register(uow, c, session_id, world.context).registration
    assert (first.state, second.state, third.state) == ("registered", "registered", "waitlisted")
    assert len({first.code, second.code, third.code}) == 3
    for code in (first.code, second.code, third.code):
        assert not set(code) & set("01OI")
    again = registrations.register(uow, a, session_id, world.context)
    assert again.already_registered and again.registration.code == first.code
    registrations.cancel_registration(uow, a, session_id, world.context)
    uow.session.refresh(third)
    assert third.state == RegistrationState.REGISTERED  # promoted from the waitlist
    kinds = [e.kind for e in events_of(uow, session_id=session_id)]
    assert kinds.count("registration.promoted") == 1
    back = registrations.register(uow, a, session_id, world.context)
    assert back.registration.code == first.code and back.registration.state == "waitlisted"
    with pytest.raises(NotFound):
        registrations.cancel_registration(uow, world.residents[0] + 1000, session_id, world.context)


def test_c1_registration_is_closed_for_drafts_and_started_sessions(world: World, uow: UnitOfWork):
    draft = plan(world, uow)
    with pytest.raises(Refusal):
        registrations.register(uow, world.residents[0], draft, world.context)
    session_id = announced(world, uow)
    world.clock.set("2026-03-16", "08:30")
    with pytest.raises(Refusal):
        registrations.register(uow, world.residents[0], session_id, world.context)


def test_q1_a_submission_missing_required_fields_names_them(world: World, uow: UnitOfWork):
    with pytest.raises(Refusal) as refused:
        petitions.submit_petition(
            uow,
            submission(
                world, world.residents[0], None, full_name=" ", phone_e164="", area_org_id=None
            ),
            world.context,
        )
    assert refused.value.message == (
        "Còn thiếu thông tin bắt buộc: họ và tên, số điện thoại, phường, xã nơi cư trú."
    )
    assert uow.session.exec(select(Petition)).all() == []


def test_q5_questions_take_question_categories_and_petitions_civic_topics(
    world: World, uow: UnitOfWork
):
    with pytest.raises(NotFound):
        petitions.submit_petition(
            uow,
            submission(world, world.residents[0], None, kind=PetitionKind.QUESTION),
            world.context,
        )
    question = petitions.submit_petition(
        uow,
        submission(
            world,
            world.residents[0],
            None,
            kind=PetitionKind.QUESTION,
            topic_code="dan_van",
            text="Xin hỏi về công tác dân vận ở khu phố?",
        ),
        world.context,
    )
    assert question.kind == "question" and question.tracking_code.startswith("KN-")


def test_c3_tracking_codes_are_only_for_the_petitioner(world: World, uow: UnitOfWork):
    mine = petitions.submit_petition(
        uow, submission(world, world.residents[0], None), world.context
    )
    own = petitions.own_petition_by_code(uow, world.residents[0], mine.tracking_code.lower())
    assert own.id == mine.id
    with pytest.raises(NotFound) as someone_elses:
        petitions.own_petition_by_code(uow, world.residents[1], mine.tracking_code)
    with pytest.raises(NotFound) as unknown:
        petitions.own_petition_by_code(uow, world.residents[1], "KN-2222-3333")
    assert someone_elses.value.message == unknown.value.message


def test_p6_hold_not_before_the_day_then_check_in(world: World, uow: UnitOfWork):
    session_id = announced(world, uow)
    registration = registrations.register(uow, world.residents[0], session_id, world.context)
    with pytest.raises(Refusal) as early:
        sessions.hold_session(uow, world.office, session_id, world.context)
    assert "Thứ Hai, 16/03/2026" in early.value.message
    world.clock.set("2026-03-16", "08:05")
    checked = registrations.check_in(
        uow,
        world.office,
        session_id,
        registration.registration.code.replace("-", "").lower(),
        world.context,
    )
    assert checked.attended_at == at("2026-03-16", "08:05")
    with pytest.raises(NotFound):
        registrations.check_in(uow, world.office, session_id, "ZZZ-ZZZ", world.context)
    with pytest.raises(NotAllowed):
        registrations.check_in(uow, world.other_ward_office, session_id, "ZZZ-ZZZ", world.context)
    world.clock.set("2026-03-16", "11:00")
    assert sessions.hold_session(uow, world.office, session_id, world.context).state == "held"


def held_with_petitions(world: World, uow: UnitOfWork) -> tuple[int, Petition, Petition, Petition]:
    session_id = announced(world, uow, capacity=None)
    world.clock.set("2026-03-10")
    a = petitions.submit_petition(
        uow, submission(world, world.residents[0], session_id), world.context
    )
    b = petitions.submit_petition(
        uow,
        submission(
            world,
            world.residents[1],
            session_id,
            topic_code="moi_truong",
            text="Rác thải tập kết sai nơi quy định ở hẻm 12.",
            full_name="Trần Thị Bình",
        ),
        world.context,
    )
    q = petitions.submit_petition(
        uow,
        submission(
            world,
            world.residents[2],
            session_id,
            kind=PetitionKind.QUESTION,
            topic_code="dan_van",
            text="Xin hỏi lịch tiếp công dân của phường?",
        ),
        world.context,
    )
    world.clock.set("2026-03-16", "11:30")
    sessions.hold_session(uow, world.office, session_id, world.context)
    return session_id, a, b, q


def test_p7_p8_p9_conclusion_extension_and_written_result(world: World, uow: UnitOfWork):
    session_id, a, b, _q = held_with_petitions(world, uow)
    # P7: within 10 working days after Monday 16/03/2026, i.e. by Monday 30/03/2026.
    world.clock.set("2026-03-30", "16:00")
    conclusion = follow_up.notify_conclusion(
        uow,
        world.head,
        session_id,
        "Giao Phòng Kinh tế, Hạ tầng và Đô thị khảo sát, nạo vét.",
        [AssignmentRequest(a.id, world.agency), AssignmentRequest(b.id, world.other_agency)],
        world.context,
    )
    assert conclusion.due_date == date(2026, 3, 30) and conclusion.late_working_days == 0
    assignment = uow.session.exec(select(Assignment).where(Assignment.petition_id == a.id)).one()
    # P8: 20 working days after 30/03; Monday 27/04 (Giỗ Tổ, compensatory) does not count.
    assert assignment.due_date == date(2026, 4, 28)
    uow.session.refresh(a)
    assert a.state == PetitionState.FORWARDED

    # Only the agency the petition is assigned to may answer or extend it.
    for outsider in (world.other_agency_officer, world.monitor, Actor.resident(world.residents[0])):
        with pytest.raises(NotAllowed):
            follow_up.post_result(uow, outsider, a.tracking_code, "Trả lời", world.context)
        with pytest.raises(NotAllowed):
            follow_up.extend_deadline(
                uow, outsider, a.tracking_code, date(2026, 5, 15), "Phức tạp", world.context
            )

    # P9: written notice of a new deadline; refused when not later or not a working day.
    world.clock.set("2026-04-20")
    with pytest.raises(Refusal) as not_later:
        follow_up.extend_deadline(
            uow, world.agency_officer, a.tracking_code, date(2026, 4, 28), "Lý do", world.context
        )
    assert "Thứ Ba, 28/04/2026" in not_later.value.message
    with pytest.raises(Refusal) as saturday:
        follow_up.extend_deadline(
            uow, world.agency_officer, a.tracking_code, date(2026, 5, 16), "Lý do", world.context
        )
    assert "Thứ Hai, 18/05/2026" in saturday.value.message
    extension = follow_up.extend_deadline(
        uow,
        world.agency_officer,
        a.tracking_code,
        date(2026, 5, 15),
        "Cần khảo sát toàn tuyến cống và lập dự toán.",
        world.context,
    )
    assert extension.previous_due_date == date(2026, 4, 28)
    assert "Thứ Sáu, 15/05/2026" in extension.notice_text
    follow_up.extend_deadline(
        uow,
        world.agency_officer,
        a.tracking_code,
        date(2026, 5, 19),
        "Chờ kinh phí.",
        world.context,
    )

    # P8: the written result, late by one working day (20/05 after the 19/05 deadline).
    world.clock.set("2026-05-20", "10:00")
    result = follow_up.post_result(
        uow,
        world.agency_officer,
        a.tracking_code,
        "Phường đã nạo vét toàn tuyến cống đường Lê Lợi ngày 18/05/2026.",
        world.context,
        document_ref="telegram:file:abc",
    )
    assert result.late_working_days == 1
    with pytest.raises(Refusal):  # answered is final
        follow_up.post_result(uow, world.agency_officer, a.tracking_code, "Lần hai", world.context)

    # X2: the timeline the resident sees is the audit trail.
    timeline = petitions.timeline(uow, a.id)  # type: ignore[arg-type]
    assert [(e.kind, e.actor_role) for e in timeline] == [
        ("petition.received", "resident"),
        ("petition.forwarded", "head"),
        ("petition.extended", "agency"),
        ("petition.extended", "agency"),
        ("petition.answered", "agency"),
    ]
    assert timeline[1].details == {
        "agency": "Phòng Kinh tế, Hạ tầng và Đô thị",
        "due": "2026-04-28",
    }
    assert timeline[2].reason == "Cần khảo sát toàn tuyến cống và lập dự toán."
    assert timeline[2].details == {
        "previous_due": "2026-04-28",
        "due": "2026-05-15",
        "agency": "Phòng Kinh tế, Hạ tầng và Đô thị",
    }
    assert timeline[4].details["late"] is True and timeline[4].details["late_working_days"] == 1
    assert timeline[4].details["result_id"] == result.id
    assert all(e.at.tzinfo is not None for e in timeline)


def test_p7_a_late_conclusion_is_accepted_and_recorded_as_late(world: World, uow: UnitOfWork):
    session_id, a, _, _ = held_with_petitions(world, uow)
    world.clock.set("2026-04-01")  # two working days after Monday 30/03
    conclusion = follow_up.notify_conclusion(
        uow,
        world.office,
        session_id,
        "Kết luận.",
        [AssignmentRequest(a.id, world.agency)],
        world.context,
    )
    assert conclusion.late_working_days == 2
    concluded = events_of(uow, session_id=session_id, kind="session.concluded")[0]
    assert concluded.details["late"] is True and concluded.details["late_working_days"] == 2


def test_p7_conclusion_refusals(world: World, uow: UnitOfWork):
    session_id, a, _, _ = held_with_petitions(world, uow)
    other = petitions.submit_petition(
        uow, submission(world, world.residents[0], None), world.context
    )
    with pytest.raises(NotAllowed):
        follow_up.notify_conclusion(
            uow, world.other_ward_office, session_id, "x", [], world.context
        )
    with pytest.raises(NotAllowed):
        follow_up.notify_conclusion(uow, world.agency_officer, session_id, "x", [], world.context)
    with pytest.raises(NotFound):
        follow_up.notify_conclusion(
            uow,
            world.office,
            session_id,
            "x",
            [AssignmentRequest(other.id, world.agency)],
            world.context,
        )
    with pytest.raises(Refusal):
        follow_up.notify_conclusion(
            uow,
            world.office,
            session_id,
            "x",
            [AssignmentRequest(a.id, world.agency), AssignmentRequest(a.id, world.other_agency)],
            world.context,
        )
    # Nothing half-done was kept.
    assert uow.session.exec(select(Conclusion)).all() == []
    assert sessions.get_session(uow, session_id).state == SessionState.HELD


def test_q6_staff_reply_to_a_question_and_close_the_session(world: World, uow: UnitOfWork):
    session_id, a, b, q = held_with_petitions(world, uow)
    world.clock.set("2026-03-20")
    follow_up.notify_conclusion(
        uow,
        world.office,
        session_id,
        "Kết luận.",
        [AssignmentRequest(a.id, world.agency), AssignmentRequest(b.id, world.agency)],
        world.context,
    )
    with pytest.raises(Refusal):
        follow_up.answer_question(uow, world.office, a.tracking_code, "x", world.context)
    with pytest.raises(NotAllowed):
        follow_up.answer_question(uow, world.other_ward_office, q.tracking_code, "x", world.context)
    reply = follow_up.answer_question(
        uow,
        world.office,
        q.tracking_code,
        "Lịch tiếp công dân: sáng thứ Năm hằng tuần.",
        world.context,
    )
    assert reply.assignment_id is None
    with pytest.raises(Refusal) as still_open:
        sessions.close_session(uow, world.office, session_id, world.context)
    assert "Còn 2 ý kiến" in still_open.value.message
    for petition in (a, b):
        follow_up.post_result(
            uow, world.agency_officer, petition.tracking_code, "Đã xử lý.", world.context
        )
    assert sessions.close_session(uow, world.office, session_id, world.context).state == "closed"


def test_duplicates_follow_the_original(world: World, uow: UnitOfWork):
    first = petitions.submit_petition(
        uow, submission(world, world.residents[0], None), world.context
    )
    second = petitions.submit_petition(
        uow, submission(world, world.residents[1], None), world.context
    )
    with pytest.raises(NotAllowed):
        petitions.mark_duplicate(uow, world.agency_officer, second.id, first.id, world.context)
    merged = petitions.mark_duplicate(uow, world.office, second.id, first.id, world.context)  # type: ignore[arg-type]
    assert merged.state == "merged" and merged.duplicate_of_id == first.id
    with pytest.raises(Refusal):
        petitions.mark_duplicate(uow, world.office, first.id, first.id, world.context)  # type: ignore[arg-type]


def test_permissions_for_sessions(world: World, uow: UnitOfWork):
    with pytest.raises(NotAllowed):
        plan_as(world, uow, world.monitor)
    with pytest.raises(NotAllowed):
        plan_as(world, uow, world.other_ward_office)
    with pytest.raises(NotAllowed):
        plan_as(world, uow, Actor.resident(world.residents[0]))
    session_id = plan(world, uow)
    with pytest.raises(NotAllowed):
        sessions.announce_session(uow, world.agency_officer, session_id, world.context)
    with pytest.raises(NotAllowed):
        sessions.cancel_session(uow, world.other_ward_office, session_id, "x", world.context)
    with pytest.raises(Refusal):
        sessions.cancel_session(uow, world.office, session_id, " ", world.context)
    cancelled = sessions.cancel_session(
        uow, world.head, session_id, "Trùng lịch họp", world.context
    )
    assert cancelled.state == "cancelled"
    assert events_of(uow, session_id=session_id)[-1].reason == "Trùng lịch họp"


def plan_as(world: World, uow: UnitOfWork, actor: Actor) -> None:
    sessions.plan_session(
        uow,
        actor,
        SessionPlan(
            org_unit_id=world.ward,
            chair_name="x",
            venue="y",
            starts_at=at("2026-03-16", "08:00"),
            ends_at=at("2026-03-16", "09:00"),
            content="z",
        ),
        world.context,
    )
