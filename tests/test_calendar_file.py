"""Sessions as calendar files (issue 13, item 2; P4 invitations, C1 registrations): the file is
parsed back with ``icalendar`` and must open at the right local time in Asia/Ho_Chi_Minh and
the right UTC instant, with its VTIMEZONE, venue, chair, reminder, UID and SEQUENCE."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from icalendar import Calendar
from sqlmodel import select

from handlers.calendar_file import SessionFacts, session_calendar, session_uid
from handlers.notifications import render
from procedure.use_cases import sessions
from procedure.use_cases.sessions import SessionPlan
from storage.tables import OutboxMessage, Person
from storage.unit_of_work import UnitOfWork
from tests.conftest import at
from tests.procedure_world import World, build_world

HCM = ZoneInfo("Asia/Ho_Chi_Minh")


def facts(**changes: object) -> SessionFacts:
    values: dict[str, object] = dict(
        id=42,
        content="Đối thoại về chỉnh trang đô thị, vệ sinh môi trường",
        venue="Hội trường UBND phường Bến Thành, 92 Nam Kỳ Khởi Nghĩa",
        chair_name="Phạm Văn Chủ, Chủ tịch UBND phường",
        starts_at=datetime(2026, 3, 16, 1, 0, tzinfo=UTC),  # 08:00 in Hồ Chí Minh City
        ends_at=datetime(2026, 3, 16, 4, 0, tzinfo=UTC),
        calendar_sequence=0,
    )
    values.update(changes)
    return SessionFacts(**values)  # type: ignore[arg-type]


def event_of(data: bytes) -> tuple[Calendar, object]:
    calendar = Calendar.from_ical(data)
    events = calendar.walk("VEVENT")
    assert len(events) == 1
    return calendar, events[0]


def test_p4_the_file_opens_at_the_local_time_and_the_right_instant() -> None:
    calendar, event = event_of(session_calendar(facts(), unit="Phường Bến Thành"))
    start = event.decoded("DTSTART")
    end = event.decoded("DTEND")
    assert start.tzinfo is not None and str(start.tzinfo) == "Asia/Ho_Chi_Minh"
    assert (start.hour, start.minute, start.date().isoformat()) == (8, 0, "2026-03-16")
    assert start.astimezone(UTC) == datetime(2026, 3, 16, 1, 0, tzinfo=UTC)
    assert end.astimezone(HCM).hour == 11
    assert event["DTSTART"].params["TZID"] == "Asia/Ho_Chi_Minh"
    # The time zone travels with the file, +07:00 with no daylight saving.
    zones = calendar.walk("VTIMEZONE")
    assert [str(zone["TZID"]) for zone in zones] == ["Asia/Ho_Chi_Minh"]
    offsets = {part.decoded("TZOFFSETTO") for part in zones[0].walk("STANDARD")}
    assert offsets == {timedelta(hours=7)}
    assert str(calendar["METHOD"]) == "REQUEST"
    assert str(event["LOCATION"]) == "Hội trường UBND phường Bến Thành, 92 Nam Kỳ Khởi Nghĩa"
    description = str(event["DESCRIPTION"])
    assert "Phạm Văn Chủ, Chủ tịch UBND phường" in description
    assert "Phường Bến Thành" in description
    assert "chỉnh trang đô thị, vệ sinh môi trường" in str(event["SUMMARY"])
    alarms = event.walk("VALARM")
    assert len(alarms) == 1 and alarms[0].decoded("TRIGGER") == -timedelta(days=1)
    assert str(alarms[0]["ACTION"]) == "DISPLAY"


def test_p4_a_late_evening_session_keeps_its_local_day() -> None:
    # 19:30 on 16/03 in Hồ Chí Minh City is 12:30 UTC the same day; 00:30 local is the day
    # before in UTC.
    _, event = event_of(
        session_calendar(
            facts(
                starts_at=datetime(2026, 3, 15, 17, 30, tzinfo=UTC),
                ends_at=datetime(2026, 3, 15, 19, 0, tzinfo=UTC),
            )
        )
    )
    start = event.decoded("DTSTART")
    assert (start.date().isoformat(), start.hour, start.minute) == ("2026-03-16", 0, 30)
    assert start.astimezone(UTC).date().isoformat() == "2026-03-15"


def test_p4_uid_is_stable_and_sequence_grows_with_changes_and_cancellation() -> None:
    _, first = event_of(session_calendar(facts()))
    _, moved = event_of(
        session_calendar(
            facts(
                starts_at=datetime(2026, 3, 17, 1, 0, tzinfo=UTC),
                ends_at=datetime(2026, 3, 17, 4, 0, tzinfo=UTC),
                calendar_sequence=1,
            )
        )
    )
    cancelled_calendar, cancelled = event_of(
        session_calendar(facts(calendar_sequence=1), cancelled=True)
    )
    assert str(first["UID"]) == str(moved["UID"]) == str(cancelled["UID"]) == session_uid(42)
    assert str(event_of(session_calendar(facts(id=43)))[1]["UID"]) != session_uid(42)
    assert [int(e["SEQUENCE"]) for e in (first, moved, cancelled)] == [0, 1, 2]
    assert str(cancelled_calendar["METHOD"]) == "CANCEL"
    assert str(cancelled["STATUS"]) == "CANCELLED"
    assert cancelled.walk("VALARM") == []


@pytest.fixture
def world(uow: UnitOfWork) -> World:
    return build_world(uow)


def test_p4_every_invitation_carries_the_session_as_a_calendar_file(
    world: World, uow: UnitOfWork
) -> None:
    for person_id in world.residents:
        person = uow.session.get(Person, person_id)
        assert person is not None
        person.area_org_id = world.ward
        uow.session.add(person)
    uow.commit()
    session = sessions.plan_session(
        uow,
        world.office,
        SessionPlan(
            org_unit_id=world.ward,
            chair_name="Phạm Chủ Tịch, Chủ tịch UBND phường",
            venue="Hội trường UBND phường Bến Thành",
            starts_at=at("2026-03-16", "08:00"),
            ends_at=at("2026-03-16", "11:00"),
            content="Đối thoại về chỉnh trang đô thị",
        ),
        world.context,
    )
    assert session.id is not None
    sessions.announce_session(uow, world.office, session.id, world.context)
    rows = uow.session.exec(
        select(OutboxMessage).where(OutboxMessage.kind == "session.invitation")
    ).all()
    assert len(rows) == len(world.residents)
    for row in rows:
        message = render(row.kind, row.data)
        assert message.document is not None
        name, data = message.document
        assert name == f"doi-thoai-phien-{session.id}.ics"
        _, event = event_of(data)
        start = event.decoded("DTSTART")
        assert (start.hour, start.minute) == (8, 0)
        assert start.astimezone(UTC) == at("2026-03-16", "08:00").astimezone(UTC)
        assert "Phường Bến Thành" in str(event["DESCRIPTION"])
        assert str(event["UID"]) == session_uid(session.id)
        assert message.buttons  # register / send an opinion stay with the file


def test_p4_a_moved_or_cancelled_session_updates_the_calendar_file(
    world: World, uow: UnitOfWork
) -> None:
    """B3: the notice of a moved session carries the file with a higher SEQUENCE and the new
    local time; the notice of a cancelled one carries METHOD:CANCEL for the same UID."""
    from procedure.use_cases import session_changes

    follower = uow.session.get(Person, world.residents[0])
    assert follower is not None
    follower.area_org_id = world.ward
    uow.session.add(follower)
    world.clock.set("2026-03-02")
    session = sessions.plan_session(
        uow,
        world.office,
        SessionPlan(
            org_unit_id=world.ward,
            chair_name="Phạm Chủ Tịch",
            venue="Hội trường UBND phường Bến Thành",
            starts_at=at("2026-03-20", "08:00"),
            ends_at=at("2026-03-20", "11:00"),
            content="Đối thoại về trật tự đô thị",
        ),
        world.context,
    )
    assert session.id is not None
    sessions.announce_session(uow, world.office, session.id, world.context)

    def last_file(kind: str) -> tuple[Calendar, object]:
        row = uow.session.exec(
            select(OutboxMessage)
            .where(OutboxMessage.kind == kind)
            .order_by(OutboxMessage.id.desc())  # type: ignore[union-attr]
        ).first()
        assert row is not None
        message = render(row.kind, row.data)
        assert message.document is not None
        return event_of(message.document[1])

    _, invited = last_file("session.invitation")
    session_changes.reschedule_session(
        uow,
        world.office,
        session.id,
        at("2026-03-27", "14:00"),
        at("2026-03-27", "16:00"),
        "Hội trường đang sửa chữa.",
        world.context,
    )
    calendar, moved = last_file("session.rescheduled")
    assert str(calendar["METHOD"]) == "REQUEST"
    assert str(moved["UID"]) == str(invited["UID"])
    assert int(moved["SEQUENCE"]) > int(invited["SEQUENCE"])
    start = moved.decoded("DTSTART")
    assert (start.day, start.hour) == (27, 14)
    sessions.cancel_session(uow, world.office, session.id, "Mưa bão.", world.context)
    calendar, cancelled = last_file("session.cancelled")
    assert str(calendar["METHOD"]) == "CANCEL" and str(cancelled["STATUS"]) == "CANCELLED"
    assert str(cancelled["UID"]) == str(invited["UID"])
    assert int(cancelled["SEQUENCE"]) > int(moved["SEQUENCE"])
