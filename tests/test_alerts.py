"""C6: deadline alerts for officials — before, on and after each deadline (P4, P7, P8/P9), on
working days only (X1: weekends, Tết, swaps, make-up Saturdays) and in working hours, one digest
per person per day, escalated to the head when overdue; the scheduler is restart-safe; residents
get a reminder the day before a session (P4). Storage parts run on SQLite and PostgreSQL."""

from __future__ import annotations

import asyncio
from datetime import UTC, date, datetime, time, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st
from sqlalchemy import Engine
from sqlmodel import col, select

from bot.scheduler import FIRST_RUN_AFTER_SECONDS, Scheduler, alert_hours_from_environ
from handlers.notifications import render
from procedure.alerts import (
    AlertLevel,
    OpenDeadline,
    Requirement,
    RoleHolders,
    alert_level,
    build_digests,
    digest_key,
    working_hours,
)
from procedure.lifecycles import PetitionState
from procedure.permissions import Actor, Role
from procedure.use_cases import follow_up, petitions, registrations, sessions
from procedure.use_cases.administration import grant_role
from procedure.use_cases.alerts import (
    alert_digests,
    queue_alert_digests,
    queue_session_reminders,
)
from procedure.use_cases.follow_up import AssignmentRequest
from procedure.use_cases.petitions import PetitionKind, PetitionSubmission
from procedure.use_cases.sessions import SessionPlan
from procedure.working_days import WorkingCalendar
from storage.tables import Assignment, OutboxMessage, Person, Petition, StaffRole
from storage.unit_of_work import UnitOfWork
from tests.conftest import at
from tests.procedure_world import World, build_world
from texts import LOCAL_TIMEZONE

CALENDAR = WorkingCalendar.official()
D = date.fromisoformat


# --- pure: levels, hours, digests ------------------------------------------------------------


def levels(due: date, first: date, last: date) -> dict[date, AlertLevel | None]:
    days = (first + timedelta(days=n) for n in range((last - first).days + 1))
    return {day: alert_level(CALENDAR, due, day) for day in days}


def test_c6_x1_alerts_around_tet_2026_for_a_deadline_on_friday_13_02() -> None:
    got = levels(D("2026-02-13"), D("2026-02-06"), D("2026-02-24"))
    expected: dict[date, AlertLevel | None] = dict.fromkeys(got)
    expected |= {
        D("2026-02-10"): AlertLevel.BEFORE_3,
        D("2026-02-12"): AlertLevel.BEFORE_1,
        D("2026-02-13"): AlertLevel.DUE_TODAY,
        # 14–22/02: a weekend, Tết Bính Ngọ (16–20/02), a weekend: nothing goes out.
        D("2026-02-23"): AlertLevel.OVERDUE,
        D("2026-02-24"): AlertLevel.OVERDUE,
    }
    assert got == expected
    items = build_digests(CALENDAR, [deadline(due=D("2026-02-13"))], D("2026-02-23"))
    assert items[1][0].late_working_days == 1  # Monday 23/02 is the first working day late
    items = build_digests(CALENDAR, [deadline(due=D("2026-02-13"))], D("2026-02-24"))
    assert items[1][0].late_working_days == 2


def test_c6_x1_alerts_across_a_weekend() -> None:
    got = levels(D("2026-03-16"), D("2026-03-09"), D("2026-03-17"))
    assert {day: level for day, level in got.items() if level} == {
        D("2026-03-11"): AlertLevel.BEFORE_3,  # Thu 12, Fri 13, Mon 16 are left
        D("2026-03-13"): AlertLevel.BEFORE_1,
        D("2026-03-16"): AlertLevel.DUE_TODAY,
        D("2026-03-17"): AlertLevel.OVERDUE,
    }


def test_c6_x1_a_make_up_saturday_carries_alerts_and_a_swapped_friday_does_not() -> None:
    # 2026: Friday 02/01 is off, Saturday 10/01 is worked (Công văn 12729/VPCP-KGVX).
    got = levels(D("2026-01-12"), D("2026-01-01"), D("2026-01-12"))
    assert {day: level for day, level in got.items() if level} == {
        D("2026-01-08"): AlertLevel.BEFORE_3,  # Fri 09, Sat 10, Mon 12 are left
        D("2026-01-10"): AlertLevel.BEFORE_1,
        D("2026-01-12"): AlertLevel.DUE_TODAY,
    }
    assert alert_level(CALENDAR, D("2026-01-05"), D("2026-01-02")) is None  # swapped day off
    assert working_hours(CALENDAR, datetime(2026, 1, 10, 9, 0, tzinfo=LOCAL_TIMEZONE))
    assert not working_hours(CALENDAR, datetime(2026, 1, 2, 9, 0, tzinfo=LOCAL_TIMEZONE))


def test_c6_a_deadline_on_a_day_off_is_due_on_the_working_day_before() -> None:
    # An administrator may make a due day a day off after the fact; act on the day before.
    assert alert_level(CALENDAR, D("2026-03-14"), D("2026-03-13")) is AlertLevel.DUE_TODAY
    assert alert_level(CALENDAR, D("2026-03-14"), D("2026-03-16")) is AlertLevel.OVERDUE


def test_c6_every_working_day_due_in_2026_gets_each_alert_once_then_overdue_daily() -> None:
    day = D("2026-01-01")
    while day.year == 2026:
        if CALENDAR.is_working_day(day):
            window = levels(day, day - timedelta(days=30), day + timedelta(days=30))
            found = [level for level in window.values() if level and level != "overdue"]
            assert sorted(found) == sorted(
                [AlertLevel.BEFORE_3, AlertLevel.BEFORE_1, AlertLevel.DUE_TODAY]
            ), day
            for other, level in window.items():
                working_after = other > day and CALENDAR.is_working_day(other)
                assert (level is AlertLevel.OVERDUE) == working_after, (day, other)
        day += timedelta(days=1)


@given(
    due=st.dates(date(2025, 1, 1), date(2026, 12, 31)),
    today=st.dates(date(2025, 1, 1), date(2026, 12, 31)),
)
def test_c6_property_alerts_only_on_working_days_and_match_the_working_days_left(
    due: date, today: date
) -> None:
    level = alert_level(CALENDAR, due, today)
    if not CALENDAR.is_working_day(today):
        assert level is None
        return
    if today > due:
        assert level is AlertLevel.OVERDUE
        assert CALENDAR.working_days_between(due, today) >= 1
        return
    left = CALENDAR.working_days_between(today, due)
    assert level == {0: AlertLevel.DUE_TODAY, 1: AlertLevel.BEFORE_1, 3: AlertLevel.BEFORE_3}.get(
        left
    )


@pytest.mark.parametrize(
    ("moment", "expected"),
    [
        ("2026-02-23T06:00", False),
        ("2026-02-23T07:29", False),
        ("2026-02-23T07:30", True),
        ("2026-02-23T16:59", True),
        ("2026-02-23T17:00", False),
        ("2026-02-23T18:00", False),
        ("2026-02-22T09:00", False),  # Sunday
        ("2026-02-17T09:00", False),  # Tết
    ],
)
def test_c6_working_hours_on_working_days_only(moment: str, expected: bool) -> None:
    local = datetime.fromisoformat(moment).replace(tzinfo=LOCAL_TIMEZONE)
    assert working_hours(CALENDAR, local) is expected
    assert working_hours(CALENDAR, local.astimezone(UTC)) is expected  # the zone is respected


def test_c6_working_hours_are_configurable() -> None:
    early = datetime(2026, 2, 23, 7, 0, tzinfo=LOCAL_TIMEZONE)
    assert working_hours(CALENDAR, early, start=time(7, 0), end=time(11, 30))
    assert not working_hours(CALENDAR, early.replace(hour=12), start=time(7), end=time(11, 30))
    with pytest.raises(ValueError):
        working_hours(CALENDAR, early, start=time(17), end=time(7))
    assert alert_hours_from_environ({}) == (time(7, 30), time(17, 0))
    assert alert_hours_from_environ({"ALERT_HOURS_START": "07:00", "ALERT_HOURS_END": "16:30"}) == (
        time(7, 0),
        time(16, 30),
    )
    with pytest.raises(ValueError):
        alert_hours_from_environ({"ALERT_HOURS_START": "18:00"})


def deadline(
    due: date,
    owners: frozenset[int] = frozenset({1}),
    escalate_to: frozenset[int] = frozenset(),
    code: str = "ABC-123",
) -> OpenDeadline:
    return OpenDeadline(
        requirement=Requirement.P8,
        due=due,
        label=f"{code} – agency",
        owners=owners,
        escalate_to=escalate_to,
        tracking_code=code,
        agency="agency",
    )


def test_c6_digests_group_per_person_sort_overdue_first_and_escalate_overdue_only() -> None:
    today = D("2026-03-16")
    digests = build_digests(
        CALENDAR,
        [
            deadline(
                D("2026-03-18"), code="C-3", escalate_to=frozenset({9})
            ),  # two working days left: none
            deadline(D("2026-03-19"), code="C-4", escalate_to=frozenset({9})),  # 3 left
            deadline(D("2026-03-16"), code="C-2", escalate_to=frozenset({9})),  # today
            deadline(D("2026-03-10"), code="C-1", escalate_to=frozenset({9, 1})),  # overdue
            deadline(D("2026-03-17"), owners=frozenset({2}), code="C-5"),  # 1 left
        ],
        today,
    )
    assert set(digests) == {1, 2, 9}
    assert [(i.tracking_code, i.level, i.escalated) for i in digests[1]] == [
        ("C-1", AlertLevel.OVERDUE, False),  # an owner who is also the head: not "escalated"
        ("C-2", AlertLevel.DUE_TODAY, False),
        ("C-4", AlertLevel.BEFORE_3, False),
    ]
    assert digests[1][0].late_working_days == 4
    assert [(i.tracking_code, i.escalated) for i in digests[9]] == [("C-1", True)]
    assert [i.level for i in digests[2]] == [AlertLevel.BEFORE_1]
    assert build_digests(CALENDAR, [deadline(D("2026-03-10"))], D("2026-03-15")) == {}  # Sunday


def test_c6_role_holders_cover_units_below_and_heads_come_from_the_nearest_level() -> None:
    holders = RoleHolders(
        holders={
            "office": {1: frozenset({10}), 2: frozenset({20})},
            "head": {1: frozenset({11}), 2: frozenset({21})},
        },
        parent_of={1: None, 2: 1, 3: 1, 4: 2},
    )
    assert holders.covering("office", 4) == {10, 20}
    assert holders.nearest("head", 4) == {21}
    assert holders.nearest("head", 3) == {11}
    assert holders.nearest("agency", 4) == frozenset()


# --- storage: the world of the use-case tests --------------------------------------------------


@pytest.fixture
def world(uow: UnitOfWork) -> World:
    return build_world(uow)


def submit(
    world: World, uow: UnitOfWork, person: int, session_id: int | None, text: str
) -> Petition:
    return petitions.submit_petition(
        uow,
        PetitionSubmission(
            person_id=person,
            kind=PetitionKind.PETITION,
            topic_code="giao_thong",
            text=text,
            full_name="Nguyễn Văn An",
            phone_e164="+84912345678",
            area_org_id=world.ward,
            session_id=session_id,
            street="Lê Lợi",
        ),
        world.context,
    )


def plan(world: World, uow: UnitOfWork, day: str, content: str, capacity: int | None = None) -> int:
    session = sessions.plan_session(
        uow,
        world.office,
        SessionPlan(
            org_unit_id=world.ward,
            chair_name="Phạm Chủ Tịch",
            venue="Hội trường UBND phường Bến Thành",
            starts_at=at(day, "08:00"),
            ends_at=at(day, "11:00"),
            content=content,
            agency_org_ids=[world.agency],
            capacity=capacity,
        ),
        world.context,
    )
    assert session.id is not None
    return session.id


def held_session(
    world: World, uow: UnitOfWork, day: str, texts: list[str]
) -> tuple[int, list[Petition]]:
    """A session held on ``day`` with one petition per text."""
    session_day = D(day)
    world.clock.set((session_day - timedelta(days=21)).isoformat())
    session_id = plan(world, uow, day, "Đối thoại về chỉnh trang đô thị & <vỉa hè>")
    sessions.announce_session(uow, world.office, session_id, world.context)
    world.clock.set((session_day - timedelta(days=3)).isoformat())
    submitted = [
        submit(world, uow, world.residents[n % 3], session_id, text) for n, text in enumerate(texts)
    ]
    world.clock.set(day, "11:30")
    sessions.hold_session(uow, world.office, session_id, world.context)
    return session_id, submitted


def tet_assignments(world: World, uow: UnitOfWork) -> list[Petition]:
    """Three petitions of a session on Monday 12/01/2026, concluded on Friday 16/01: two for the
    agency, one for the other agency, all due Friday 13/02/2026 (20 working days)."""
    session_id, submitted = held_session(
        world,
        uow,
        "2026-01-12",
        [
            "Đường Lê Lợi bị ngập sâu mỗi khi mưa lớn.",
            "Vỉa hè đường Pasteur bị lấn chiếm.",
            "Rác thải tập kết sai nơi quy định ở hẻm 12.",
        ],
    )
    world.clock.set("2026-01-16", "10:00")
    follow_up.notify_conclusion(
        uow,
        world.head,
        session_id,
        "Giao các phòng chuyên môn giải quyết.",
        [
            AssignmentRequest(submitted[0].id, world.agency),  # type: ignore[arg-type]
            AssignmentRequest(submitted[1].id, world.agency),  # type: ignore[arg-type]
            AssignmentRequest(submitted[2].id, world.other_agency),  # type: ignore[arg-type]
        ],
        world.context,
    )
    dues = uow.session.exec(select(Assignment.due_date)).all()
    assert set(dues) == {D("2026-02-13")}
    return submitted


def digest_rows(uow: UnitOfWork, person_id: int | None = None) -> list[OutboxMessage]:
    query = select(OutboxMessage).where(OutboxMessage.kind == "alert.digest")
    if person_id is not None:
        query = query.where(OutboxMessage.person_id == person_id)
    return list(uow.session.exec(query.order_by(col(OutboxMessage.id))).all())


def queue_at(world: World, uow: UnitOfWork, day: str, clock: str = "09:00") -> int:
    world.clock.set(day, clock)
    return queue_alert_digests(uow, world.context)


def test_c6_p8_one_digest_per_agency_officer_across_tet(world: World, uow: UnitOfWork) -> None:
    submitted = tet_assignments(world, uow)
    officer = world.agency_officer.person_id
    other = world.other_agency_officer.person_id
    assert queue_at(world, uow, "2026-02-09") == 0  # four working days left: nothing
    assert queue_at(world, uow, "2026-02-10") == 2  # one row each, not one per item
    (row,) = digest_rows(uow, officer)
    assert row.idempotency_key == digest_key(officer, D("2026-02-10"))  # type: ignore[arg-type]
    assert row.transactional is False
    assert row.data["day"] == "2026-02-10"
    items = row.data["items"]
    assert [item["tracking_code"] for item in items] == sorted(  # type: ignore[union-attr]
        [submitted[0].tracking_code, submitted[1].tracking_code]
    )
    assert {item["level"] for item in items} == {"before_3"}  # type: ignore[union-attr]
    assert items[0]["requirement"] == "P8" and items[0]["due"] == "2026-02-13"  # type: ignore[index]
    assert items[0]["escalated"] is False and items[0]["late_working_days"] == 0  # type: ignore[index]
    assert [r.person_id for r in digest_rows(uow) if r.person_id != officer] == [other]
    assert queue_at(world, uow, "2026-02-11") == 0  # two working days left: nothing
    assert queue_at(world, uow, "2026-02-12") == 2
    assert queue_at(world, uow, "2026-02-13") == 2
    assert [r.data["items"][0]["level"] for r in digest_rows(uow, officer)] == [  # type: ignore[index]
        "before_3",
        "before_1",
        "due_today",
    ]
    for day in ("2026-02-14", "2026-02-16", "2026-02-17", "2026-02-20", "2026-02-22"):
        assert queue_at(world, uow, day) == 0, day  # weekend and Tết Bính Ngọ
    # Monday 23/02: overdue by one working day, and escalated to the head of the ward.
    assert queue_at(world, uow, "2026-02-23") == 3
    last = digest_rows(uow, officer)[-1]
    assert [i["late_working_days"] for i in last.data["items"]] == [1, 1]  # type: ignore[union-attr]
    (head_row,) = digest_rows(uow, world.head.person_id)
    head_items = head_row.data["items"]
    assert len(head_items) == 3  # type: ignore[arg-type]
    assert all(i["escalated"] and i["level"] == "overdue" for i in head_items)  # type: ignore[union-attr]
    assert digest_rows(uow, world.office.person_id) == []  # the office does not own P8
    assert digest_rows(uow, world.monitor.person_id) == []


def test_c6_p8_answered_and_extended_petitions(world: World, uow: UnitOfWork) -> None:
    submitted = tet_assignments(world, uow)
    world.clock.set("2026-02-12", "08:00")
    follow_up.post_result(
        uow, world.agency_officer, submitted[0].tracking_code, "Đã nạo vét cống.", world.context
    )
    follow_up.extend_deadline(
        uow,
        world.agency_officer,
        submitted[1].tracking_code,
        D("2026-02-27"),  # P9: a new deadline, in writing
        "Cần khảo sát toàn tuyến.",
        world.context,
    )
    digests = alert_digests(uow, world.context)
    assert world.agency_officer.person_id not in digests  # answered; the other moved
    world.clock.set("2026-02-24")  # three working days before Friday 27/02
    (item,) = alert_digests(uow, world.context)[world.agency_officer.person_id]  # type: ignore[index]
    assert (item.tracking_code, item.level, item.extended) == (
        submitted[1].tracking_code,
        AlertLevel.BEFORE_3,
        True,
    )


def test_c6_p8_escalation_of_a_petition_outside_a_session_goes_to_the_nearest_head(
    world: World, uow: UnitOfWork
) -> None:
    city_head = Person(full_name="Bùi Chủ Tịch Thành Phố")
    uow.session.add(city_head)
    uow.commit()
    assert city_head.id is not None
    grant_role(uow, Actor.system(), city_head.id, "hcm", Role.HEAD)
    world.clock.set("2026-03-02")
    lone = submit(world, uow, world.residents[0], None, "Đèn đường hẻm 5 bị hỏng.")
    far = submit(world, uow, world.residents[1], None, "Cây xanh đổ trên đường Đồng Khởi.")
    far.area_org_id = world.other_ward  # Phường Sài Gòn has no head of its own
    for petition, agency in ((lone, world.agency), (far, world.agency)):
        petition.state = PetitionState.FORWARDED
        uow.session.add(petition)
        uow.session.add(
            Assignment(
                petition_id=petition.id,  # type: ignore[arg-type]
                agency_org_id=agency,
                notice_date=D("2026-02-02"),
                original_due_date=D("2026-03-02"),
                due_date=D("2026-03-02"),
                answerable_org_id=petition.area_org_id,
                tracking_code=petition.tracking_code,
            )
        )
    uow.commit()
    world.clock.set("2026-03-04")
    digests = alert_digests(uow, world.context)
    assert [i.tracking_code for i in digests[world.head.person_id]] == [lone.tracking_code]  # type: ignore[index]
    assert [i.tracking_code for i in digests[city_head.id]] == [far.tracking_code]
    assert all(i.late_working_days == 2 for i in digests[world.agency_officer.person_id])  # type: ignore[index]


def test_c6_inactive_roles_get_no_alerts(world: World, uow: UnitOfWork) -> None:
    tet_assignments(world, uow)
    role = uow.session.exec(
        select(StaffRole).where(StaffRole.person_id == world.agency_officer.person_id)
    ).one()
    role.active = False
    uow.session.add(role)
    uow.commit()
    world.clock.set("2026-02-13")
    digests = alert_digests(uow, world.context)
    assert world.agency_officer.person_id not in digests
    assert world.other_agency_officer.person_id in digests


def test_c6_p7_conclusion_due_alerts_the_office_and_the_head(world: World, uow: UnitOfWork) -> None:
    session_id, _ = held_session(world, uow, "2026-03-16", ["Đường Lê Lợi bị ngập."])
    # P7: due Monday 30/03/2026, 10 working days after Monday 16/03.
    expected = {
        "2026-03-24": None,
        "2026-03-25": AlertLevel.BEFORE_3,
        "2026-03-27": AlertLevel.BEFORE_1,
        "2026-03-28": None,
        "2026-03-30": AlertLevel.DUE_TODAY,
        "2026-04-01": AlertLevel.OVERDUE,
    }
    for day, level in expected.items():
        world.clock.set(day)
        digests = alert_digests(uow, world.context)
        for person in (world.office.person_id, world.head.person_id):
            items = digests.get(person, ())  # type: ignore[arg-type]
            assert [i.level for i in items] == ([level] if level else []), (day, person)
    (item,) = alert_digests(uow, world.context)[world.office.person_id]  # type: ignore[index]
    assert (item.requirement, item.session_id, item.due, item.late_working_days) == (
        Requirement.P7,
        session_id,
        D("2026-03-30"),
        2,
    )
    assert world.other_ward_office.person_id not in alert_digests(uow, world.context)
    assert world.agency_officer.person_id not in alert_digests(uow, world.context)
    assert queue_at(world, uow, "2026-04-01") == 2
    text = render("alert.digest", digest_rows(uow, world.office.person_id)[0].data).text
    assert "Hạn thông báo kết luận (Điều 13, mục 3)" in text
    assert "Đối thoại về chỉnh trang đô thị &amp; &lt;vỉa hè&gt;" in text  # escaped
    assert "buổi ngày Thứ Hai, 16/03/2026" in text
    assert "hạn hết ngày Thứ Hai, 30/03/2026" in text and "trễ 2 ngày làm việc" in text
    # Concluded: the deadline is met, no more alerts.
    follow_up.notify_conclusion(uow, world.office, session_id, "Kết luận.", [], world.context)
    assert alert_digests(uow, world.context) == {}


def test_c6_p4_latest_invitation_day_of_a_draft(world: World, uow: UnitOfWork) -> None:
    # A draft for Monday 16/03: the latest day is Sunday 08/03, the last working day Friday 06/03.
    session_id = plan(world, uow, "2026-03-16", "Đối thoại về an ninh trật tự")
    expected = {
        "2026-03-02": None,
        "2026-03-03": AlertLevel.BEFORE_3,
        "2026-03-05": AlertLevel.BEFORE_1,
        "2026-03-06": AlertLevel.DUE_TODAY,
        "2026-03-07": None,
        "2026-03-09": AlertLevel.OVERDUE,
    }
    for day, level in expected.items():
        world.clock.set(day)
        digests = alert_digests(uow, world.context)
        for person in (world.office.person_id, world.head.person_id):
            items = digests.get(person, ())  # type: ignore[arg-type]
            assert [(i.requirement, i.level) for i in items] == (
                [(Requirement.P4, level)] if level else []
            ), (day, person)
    assert queue_at(world, uow, "2026-03-05", "08:00") == 2
    text = render("alert.digest", digest_rows(uow, world.office.person_id)[0].data).text
    assert "Hạn gửi giấy mời (Điều 13, mục 1.2)" in text
    assert "Còn 1 ngày làm việc" in text and "hạn hết ngày Thứ Sáu, 06/03/2026" in text
    world.clock.set("2026-03-05", "10:00")
    sessions.announce_session(uow, world.office, session_id, world.context)
    world.clock.set("2026-03-06")
    assert alert_digests(uow, world.context) == {}  # announced: the deadline is met


def test_c6_digests_only_in_working_hours(world: World, uow: UnitOfWork) -> None:
    tet_assignments(world, uow)
    assert queue_at(world, uow, "2026-02-23", "06:00") == 0
    assert queue_at(world, uow, "2026-02-22", "09:00") == 0  # Sunday
    assert queue_at(world, uow, "2026-02-23", "18:00") == 0
    assert digest_rows(uow) == []
    assert queue_at(world, uow, "2026-02-23", "07:30") == 3
    world.clock.set("2026-02-23", "07:00")
    assert queue_alert_digests(uow, world.context, start=time(7), end=time(8)) == 0  # queued


def test_c6_scheduler_restart_queues_nothing_twice_and_misses_nothing(
    world: World, uow: UnitOfWork, engine: Engine
) -> None:
    tet_assignments(world, uow)
    uow.commit()
    officer = world.agency_officer.person_id
    scheduler = Scheduler(engine, world.context, interval_seconds=60)
    world.clock.set("2026-02-13", "07:45")
    assert scheduler.run_once() == (2, 0)
    assert scheduler.run_once() == (0, 0)
    restarted = Scheduler(engine, world.context)  # a new process, same day
    world.clock.set("2026-02-13", "15:00")
    assert restarted.run_once() == (0, 0)
    # Down from Friday afternoon until Tuesday 24/02 (Tết, then a weekend, then a missed Monday).
    world.clock.set("2026-02-24", "08:10")
    assert restarted.run_once() == (3, 0)
    assert restarted.run_once() == (0, 0)
    rows = digest_rows(uow, officer)
    assert [r.data["day"] for r in rows] == ["2026-02-13", "2026-02-24"]
    items = rows[-1].data["items"]
    assert [(i["level"], i["late_working_days"]) for i in items] == [("overdue", 2)] * 2  # type: ignore[union-attr]
    text = render("alert.digest", rows[-1].data).text
    assert "Thứ Ba, 24/02/2026" in text and "trễ 2 ngày làm việc" in text
    assert "Hạn gửi văn bản trả lời (Điều 13, mục 3)" in text


@pytest.mark.parametrize("first_run_after", [0.0, 0.4])
async def test_c6_scheduler_runs_until_stopped(
    world: World, uow: UnitOfWork, engine: Engine, first_run_after: float
) -> None:
    """It runs every interval until stopped. With ``first_run_after`` (the bot's scheduler,
    issue 12: its first run at the start made the first residents wait), not before then."""
    tet_assignments(world, uow)
    uow.commit()
    world.clock.set("2026-02-13", "09:00")
    scheduler = Scheduler(
        engine, world.context, interval_seconds=0.05, first_run_after=first_run_after
    )
    stop = asyncio.Event()
    task = asyncio.create_task(scheduler.run_forever(stop))
    if first_run_after:
        await asyncio.sleep(first_run_after / 2)
        assert digest_rows(uow) == []
    for _ in range(100):
        await asyncio.sleep(0.02)
        if len(digest_rows(uow)) == 2:
            break
    stop.set()
    await asyncio.wait_for(task, timeout=2)
    assert len(digest_rows(uow)) == 2


async def test_c6_x3_a_bot_stopped_before_its_schedulers_first_run_does_not_wait_for_it(
    world: World, engine: Engine
) -> None:
    waiting = Scheduler(engine, world.context, first_run_after=FIRST_RUN_AFTER_SECONDS)
    stop = asyncio.Event()
    task = asyncio.create_task(waiting.run_forever(stop))
    await asyncio.sleep(0.05)
    stop.set()
    await asyncio.wait_for(task, timeout=1)


def test_c6_digest_rendering_groups_marks_escalation_and_truncates() -> None:
    items = [
        {
            "requirement": "P8",
            "level": "overdue",
            "due": "2026-02-13",
            "late_working_days": 1,
            "label": "ABC-123 – Phòng Kinh tế",
            "tracking_code": "ABC-123",
            "agency": "Phòng Kinh tế, Hạ tầng & Đô thị",
            "escalated": True,
        },
        {
            "requirement": "P4",
            "level": "before_3",
            "due": "2026-03-06",
            "late_working_days": 0,
            "label": "Đối thoại về an ninh",
            "session_id": 4,
            "session_day": "2026-03-16",
            "escalated": False,
        },
        {
            "requirement": "P7",
            "level": "due_today",
            "due": "2026-02-23",
            "late_working_days": 0,
            "label": "Đối thoại về môi trường",
            "session_id": 3,
            "session_day": "2026-02-06",
            "escalated": False,
        },
    ]
    text = render("alert.digest", {"day": "2026-02-23", "items": items}).text
    assert text.startswith("🔔 <b>Nhắc hạn công việc</b> — Thứ Hai, 23/02/2026")
    assert "có 3 việc" in text
    order = [text.index(part) for part in ("Quá hạn", "Đến hạn hôm nay", "Còn 3 ngày làm việc")]
    assert order == sorted(order)
    assert "<code>ABC-123</code> — Phòng Kinh tế, Hạ tầng &amp; Đô thị" in text
    assert "hạn hết ngày Thứ Sáu, 13/02/2026, <b>trễ 1 ngày làm việc</b> 🔺" in text
    assert "người đứng đầu" in text
    assert "Còn 1 ngày làm việc" not in text  # empty groups are not shown

    many = [
        {
            **items[0],
            "tracking_code": f"C{n:03}",
            "agency": "Phòng Kinh tế",
            "escalated": False,
            "late_working_days": n + 1,
        }
        for n in range(45)
    ]
    text = render("alert.digest", {"day": "2026-02-23", "items": many}).text
    assert len(text) < 4096
    assert text.count("• ") == 5  # issue 12: the five most urgent, the rest counted
    assert "⛔ <b>Quá hạn</b>: 45 việc" in text
    assert "… và 40 việc khác chưa liệt kê trong tin nhắn này; xem đầy đủ: /viec." in text
    # Very long names: fewer lines, still one message within Telegram's limit.
    wordy = [{**item, "agency": "Phòng " + "rất dài " * 40} for item in many]
    text = render("alert.digest", {"day": "2026-02-23", "items": wordy}).text
    listed = text.count("• ")
    assert len(text) < 4096 and 0 < listed <= 5
    assert f"… và {45 - listed} việc khác" in text
    assert "🔺" not in text


def test_p4_reminder_the_day_before_to_registered_residents(
    world: World, uow: UnitOfWork, engine: Engine
) -> None:
    session_id = plan(world, uow, "2026-03-16", "Đối thoại về chỉnh trang đô thị", capacity=2)
    sessions.announce_session(uow, world.office, session_id, world.context)
    codes = [
        registrations.register(uow, person, session_id, world.context).registration.code
        for person in world.residents
    ]  # the third is on the waitlist
    world.clock.set("2026-03-14", "10:00")
    assert queue_session_reminders(uow, world.context) == 0  # two days before
    uow.commit()
    scheduler = Scheduler(engine, world.context)
    world.clock.set("2026-03-15", "06:00")  # Sunday, early: the scheduler waits for the morning
    assert scheduler.run_once() == (0, 0)
    world.clock.set("2026-03-15", "08:00")
    assert scheduler.run_once() == (0, 2)  # reminders go out on a Sunday too
    assert scheduler.run_once() == (0, 0)
    rows = uow.session.exec(
        select(OutboxMessage)
        .where(OutboxMessage.kind == "session.reminder")
        .order_by(col(OutboxMessage.id))
    ).all()
    assert [r.person_id for r in rows] == world.residents[:2]
    assert [r.data["code"] for r in rows] == codes[:2]
    assert rows[0].idempotency_key.startswith("reminder:")
    assert rows[0].data["session_id"] == session_id
    text = render("session.reminder", rows[0].data).text
    assert codes[0] in text and "Đối thoại về chỉnh trang đô thị" in text
    assert "từ 08 giờ 00 đến 11 giờ 00, Thứ Hai, ngày 16/03/2026" in text
    world.clock.set("2026-03-15", "23:00")
    registrations.cancel_registration(uow, world.residents[0], session_id, world.context)
    assert queue_session_reminders(uow, world.context) == 1  # the promoted resident
    world.clock.set("2026-03-16", "07:00")
    assert queue_session_reminders(uow, world.context) == 0  # the day itself: too late


def test_c6_c8_two_schedulers_run_each_job_once_per_period(
    world: World, uow: UnitOfWork, engine: Engine
) -> None:
    """Issue 12: two processes (two engines) run the scheduler at the same moment; each job of
    the period runs in one of them, the other skips it; the next period runs again."""
    import threading

    from sqlmodel import select

    from storage.engine import make_engine
    from storage.tables import ScheduledRun

    tet_assignments(world, uow)
    uow.commit()
    world.clock.set("2026-02-13", "07:45")
    other_engine = make_engine(engine.url.render_as_string(hide_password=False))
    try:
        first = Scheduler(engine, world.context, interval_seconds=300)
        second = Scheduler(other_engine, world.context, interval_seconds=300)
        second.run_by = "second"
        period = first.period()
        assert period == second.period() == "2026-02-13T00:45:00+00:00"
        results: dict[str, tuple[int, int]] = {}
        start = threading.Barrier(2)

        def run(name: str, scheduler: Scheduler) -> None:
            start.wait()
            results[name] = scheduler.run_once(period)

        threads = [
            threading.Thread(target=run, args=("first", first)),
            threading.Thread(target=run, args=("second", second)),
        ]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        assert results["first"][0] + results["second"][0] == 2
        assert len(digest_rows(uow)) == 2
        runs = uow.session.exec(select(ScheduledRun)).all()
        assert sorted(r.job for r in runs) == [
            "alert_digests",
            "forget_handled",
            "resolution_questions",
            "session_reminders",
        ]
        assert {r.period for r in runs} == {period}
        # The same period again: skipped by both, whatever is due.
        assert first.run_once(period) == second.run_once(period) == (0, 0)
        # The next period runs again, in one process only.
        world.clock.set("2026-02-24", "08:10")
        assert second.run_once(second.period()) == (3, 0)
        assert first.run_once(first.period()) == (0, 0)
        uow.session.expire_all()
        # The first period's runs, eleven days old, were removed by the second's (a week kept).
        later = uow.session.exec(select(ScheduledRun)).all()
        assert len(later) == 4 and {r.period for r in later} == {second.period()}
    finally:
        other_engine.dispose()


def test_x3_c8_updates_handled_over_a_week_ago_are_forgotten_by_the_periodic_run(
    world: World, uow: UnitOfWork, engine: Engine
) -> None:
    """Issue 12: the inbox's events (a resident's words in their payload) and the claims of
    update ids grow with every update; a periodic run of the scheduler removes those handled
    over a week ago, a batch at a time, and keeps what is not handled whatever its age and what
    is recent. ``doithoai alerts run`` (no period) removes nothing."""
    from storage import channel_store, retention
    from storage.conversation_store import claim_update
    from storage.tables import InboxEvent, ProcessedUpdate, ScheduledRun

    world.clock.set("2026-03-20", "10:00")
    now = world.context.now()
    old, recent = now - timedelta(days=8), now - timedelta(days=6)
    for number in range(3):
        channel_store.add_inbox_event(uow, "zalo_oa", f"old-{number}", {"n": number}, old, "c1")
    channel_store.add_inbox_event(uow, "zalo_oa", "old-failed", {}, old, "c2")
    channel_store.add_inbox_event(uow, "zalo_oa", "recent", {}, recent, "c3")
    rows = {row.event_id: row for row in uow.session.exec(select(InboxEvent)).all()}
    for event_id in ("old-0", "old-1", "old-2"):
        rows[event_id].handled_at = old
    rows["recent"].handled_at = recent
    rows["old-failed"].attempts = channel_store.MAX_ATTEMPTS  # given up: an operator looks
    for update_id in ("1", "2", "3"):
        assert claim_update(uow, "telegram", update_id)
    assert claim_update(uow, "zalo_oa", "old-failed")  # its event is not handled: kept
    uow.session.add(ScheduledRun(job="alert_digests", period="old", run_at=old))
    uow.commit()
    claims = {row.update_id: row for row in uow.session.exec(select(ProcessedUpdate)).all()}
    claims["1"].claimed_at = claims["2"].claimed_at = claims["old-failed"].claimed_at = old
    claims["3"].claimed_at = recent
    uow.commit()

    scheduler = Scheduler(engine, world.context, interval_seconds=300)
    scheduler.run_once()  # ``doithoai alerts run``: nothing removed
    uow.session.expire_all()
    assert len(uow.session.exec(select(InboxEvent)).all()) == 5
    # One batch of two rows a table (and the week-old run of the scheduler), then the rest at
    # the next call.
    assert retention.forget_handled(uow, now, batch=2) == 5
    uow.commit()
    scheduler.run_once(scheduler.period())
    uow.session.expire_all()
    kept = sorted(row.event_id for row in uow.session.exec(select(InboxEvent)).all())
    assert kept == ["old-failed", "recent"]
    claims_kept = sorted(row.update_id for row in uow.session.exec(select(ProcessedUpdate)).all())
    assert claims_kept == ["3", "old-failed"]
    assert "old" not in {row.period for row in uow.session.exec(select(ScheduledRun)).all()}
    # A redelivery of a forgotten update is a week late: no platform sends one.
    assert claim_update(uow, "telegram", "1")
    uow.rollback()
