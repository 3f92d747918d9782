"""Sessions that change (issue 10): a plan edited until announced (P1), reschedule under the
5-working-day rule (P4), cancel with notices, and the alerts that stop (C6)."""

from __future__ import annotations

from datetime import date

import pytest
from sqlmodel import col, select

from procedure.alerts import Requirement
from procedure.errors import InvalidTransition, Refusal
from procedure.use_cases import session_changes, sessions
from procedure.use_cases.alerts import alert_digests, queue_alert_digests
from storage.tables import AgendaItem, Event, OutboxMessage, Person, SessionAgency
from storage.unit_of_work import UnitOfWork
from tests.conftest import at
from tests.procedure_world import World, build_world
from tests.test_alerts import plan

D = date.fromisoformat


@pytest.fixture
def world(uow: UnitOfWork) -> World:
    return build_world(uow)


def test_p1_a_plan_is_edited_in_any_field_until_it_is_announced(
    world: World, uow: UnitOfWork
) -> None:
    world.clock.set("2026-03-02")
    session_id = plan(world, uow, "2026-03-20", "Đối thoại về trật tự đô thị")
    session = sessions.get_session(uow, session_id)
    current = session_changes.current_plan(uow, session)
    from dataclasses import replace

    edited = replace(
        current,
        venue="Nhà văn hóa khu phố 3",
        starts_at=at("2026-03-23", "14:00"),
        ends_at=at("2026-03-23", "16:00"),
        topics=["Lấn chiếm vỉa hè"],
        agency_org_ids=[world.other_agency],
        capacity=80,
    )
    session_changes.edit_plan(uow, world.office, session_id, edited, world.context)
    uow.commit()
    uow.session.refresh(session)
    assert session.venue == "Nhà văn hóa khu phố 3" and session.capacity == 80
    agencies = uow.session.exec(
        select(SessionAgency.org_unit_id).where(SessionAgency.session_id == session_id)
    ).all()
    assert list(agencies) == [world.other_agency]
    titles = uow.session.exec(
        select(AgendaItem.title)
        .where(AgendaItem.session_id == session_id)
        .order_by(col(AgendaItem.position))
    ).all()
    assert "Lấn chiếm vỉa hè" in titles and len(titles) == 6
    event = uow.session.exec(select(Event).where(Event.kind == "session.edited")).one()
    assert set(event.details["changed"]) == {  # type: ignore[arg-type]
        "venue",
        "starts_at",
        "ends_at",
        "topics",
        "agency_org_ids",
        "capacity",
    }
    with pytest.raises(Refusal):  # the monitor only reads
        session_changes.edit_plan(uow, world.monitor, session_id, edited, world.context)
    sessions.announce_session(uow, world.office, session_id, world.context)
    with pytest.raises(InvalidTransition):
        session_changes.edit_plan(uow, world.office, session_id, edited, world.context)


def test_p4_reschedule_is_checked_against_the_five_working_days_again(
    world: World, uow: UnitOfWork
) -> None:
    world.clock.set("2026-03-02")
    session_id = plan(world, uow, "2026-03-20", "Đối thoại về trật tự đô thị")
    with pytest.raises(InvalidTransition):  # a draft is edited, not rescheduled
        session_changes.reschedule_session(
            uow,
            world.office,
            session_id,
            at("2026-03-27", "08:00"),
            at("2026-03-27", "11:00"),
            "Lý do.",
            world.context,
        )
    follower = uow.session.get(Person, world.residents[0])
    assert follower is not None
    follower.area_org_id = world.ward
    uow.session.add(follower)
    sessions.announce_session(uow, world.office, session_id, world.context)
    world.clock.set("2026-03-10")
    with pytest.raises(Refusal) as refused:
        session_changes.reschedule_session(
            uow,
            world.office,
            session_id,
            at("2026-03-13", "08:00"),
            at("2026-03-13", "11:00"),
            "Hội trường đang sửa chữa.",
            world.context,
        )
    assert "18/03/2026" in refused.value.message  # the earliest lawful date
    session_changes.reschedule_session(
        uow,
        world.office,
        session_id,
        at("2026-03-18", "08:00"),
        at("2026-03-18", "11:00"),
        "Hội trường đang sửa chữa.",
        world.context,
    )
    uow.commit()
    kinds = uow.session.exec(
        select(OutboxMessage.data).where(OutboxMessage.kind == "session.rescheduled")
    ).all()
    audiences = {data["audience"] for data in kinds}  # type: ignore[index]
    assert "agency" in audiences and "follower" in audiences


def test_c6_a_past_plan_is_flagged_once_and_a_cancelled_one_raises_nothing(
    world: World, uow: UnitOfWork
) -> None:
    world.clock.set("2026-03-02")
    stale = plan(world, uow, "2026-03-10", "Kế hoạch không gửi giấy mời")
    dropped = plan(world, uow, "2026-03-20", "Kế hoạch sẽ hủy")
    world.clock.set("2026-03-11", "09:00")
    digests = alert_digests(uow, world.context)
    items = digests[world.office.person_id]  # type: ignore[index]
    assert [(i.requirement, i.session_id) for i in items] == [(Requirement.P4, dropped)]
    sessions.cancel_session(uow, world.office, dropped, "Trùng lịch.", world.context)
    assert alert_digests(uow, world.context) == {}
    for day in ("2026-03-11", "2026-03-12", "2026-03-13"):
        world.clock.set(day, "09:00")
        queue_alert_digests(uow, world.context)
    flagged = uow.session.exec(
        select(OutboxMessage).where(OutboxMessage.kind == "session.plan_expired")
    ).all()
    assert {row.person_id for row in flagged} == {
        world.office.person_id,
        world.head.person_id,
    }
    assert all(row.data["session_id"] == stale for row in flagged)
