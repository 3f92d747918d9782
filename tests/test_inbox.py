"""The office inbox (issue 10): items sent outside any session are triaged within the ward's
triage period, alerted like every deadline (C6), and each action is an event (X2) and a notice
to the resident (C3). Runs on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import date

import pytest
from sqlmodel import col, select

from procedure.alerts import AlertLevel, Requirement
from procedure.errors import NotAllowed, NotFound, Refusal
from procedure.lifecycles import PetitionState
from procedure.periods import Periods
from procedure.use_cases import inbox, petitions
from procedure.use_cases.alerts import alert_digests
from procedure.use_cases.petitions import PetitionKind, PetitionSubmission
from storage.tables import Event, OutboxMessage, Petition
from storage.unit_of_work import UnitOfWork
from tests.procedure_world import World, build_world
from tests.test_alerts import plan

D = date.fromisoformat


@pytest.fixture
def world(uow: UnitOfWork) -> World:
    return build_world(uow)


def send(world: World, uow: UnitOfWork, kind: PetitionKind = PetitionKind.PETITION) -> Petition:
    petition = petitions.submit_petition(
        uow,
        PetitionSubmission(
            person_id=world.residents[0],
            kind=kind,
            topic_code="giao_thong" if kind != PetitionKind.QUESTION else "dan_van",
            text="Đèn đường hẻm 5 bị hỏng đã lâu, đề nghị phường sửa chữa.",
            full_name="Nguyễn Văn An",
            phone_e164="+84912345678",
            area_org_id=world.ward,
        ),
        world.context,
    )
    uow.commit()
    return petition


def outbox_kinds(uow: UnitOfWork, person_id: int) -> list[str]:
    return list(
        uow.session.exec(
            select(OutboxMessage.kind)
            .where(OutboxMessage.person_id == person_id)
            .order_by(col(OutboxMessage.id))
        ).all()
    )


def test_c6_q6_inbox_lists_oldest_first_with_waiting_time_and_triage_deadline(
    world: World, uow: UnitOfWork
) -> None:
    world.clock.set("2026-03-02")
    first = send(world, uow)
    world.clock.set("2026-03-04")
    second = send(world, uow, PetitionKind.QUESTION)
    world.clock.set("2026-03-18")
    items = inbox.inbox(uow, world.office, world.context)
    assert [item.petition.id for item in items] == [first.id, second.id]
    assert items[0].triage_due == D("2026-03-16") and items[0].waited_working_days == 12
    assert items[0].overdue_working_days == 2 and items[1].overdue_working_days == 0
    assert inbox.inbox(uow, world.other_ward_office, world.context) == []
    assert [i.petition.id for i in inbox.questions_waiting(uow, world.office, world.context)] == [
        second.id
    ]


def test_p8_inbox_periods_are_configuration(uow: UnitOfWork) -> None:
    world = build_world(uow, Periods(triage_working_days=3, inbox_result_working_days=5))
    world.clock.set("2026-03-02")
    petition = send(world, uow)
    (item,) = inbox.inbox(uow, world.office, world.context)
    assert item.triage_due == D("2026-03-05")
    assignment = inbox.forward_petition(
        uow, world.office, petition.tracking_code, world.agency, world.context
    )
    assert assignment.due_date == D("2026-03-09") and assignment.conclusion_id is None


def test_c6_inbox_triage_deadline_is_alerted_then_stops_and_the_result_deadline_starts(
    world: World, uow: UnitOfWork
) -> None:
    world.clock.set("2026-03-02")
    petition = send(world, uow)
    world.clock.set("2026-03-11")  # three working days before Monday 16/03
    office_items = alert_digests(uow, world.context)[world.office.person_id]  # type: ignore[index]
    (item,) = office_items
    assert (item.requirement, item.level, item.due) == (
        Requirement.INBOX,
        AlertLevel.BEFORE_3,
        D("2026-03-16"),
    )
    world.clock.set("2026-03-17")  # overdue: escalated to the head of the ward
    digests = alert_digests(uow, world.context)
    assert digests[world.head.person_id][0].level is AlertLevel.OVERDUE  # type: ignore[index]
    inbox.forward_petition(uow, world.office, petition.tracking_code, world.agency, world.context)
    uow.commit()
    digests = alert_digests(uow, world.context)
    assert world.office.person_id not in digests
    world.clock.set("2026-04-09")  # three working days before the 20-day result deadline
    (item,) = alert_digests(uow, world.context)[world.agency_officer.person_id]  # type: ignore[index]
    assert item.requirement is Requirement.P8 and item.due == D("2026-04-14")


def test_x2_forward_is_an_event_with_the_agency_and_notices_resident_and_agency(
    world: World, uow: UnitOfWork
) -> None:
    world.clock.set("2026-03-02")
    petition = send(world, uow)
    inbox.forward_petition(uow, world.office, petition.tracking_code, world.agency, world.context)
    uow.commit()
    event = uow.session.exec(select(Event).where(Event.kind == "petition.forwarded")).one()
    assert event.actor_person_id == world.office.person_id and event.actor_role == "office"
    assert event.from_state == "received" and event.to_state == "forwarded"
    assert event.details["agency"] and event.details["due"] == "2026-03-30"
    assert outbox_kinds(uow, world.residents[0]) == ["petition.forwarded"]
    assert outbox_kinds(uow, world.agency_officer.person_id) == ["agency.forwarded"]  # type: ignore[arg-type]


def test_x2_inbox_refusals_by_role_unit_reason_and_state(world: World, uow: UnitOfWork) -> None:
    world.clock.set("2026-03-02")
    petition = send(world, uow)
    code = petition.tracking_code
    with pytest.raises(NotAllowed):
        inbox.forward_petition(uow, world.monitor, code, world.agency, world.context)
    with pytest.raises(NotAllowed):
        inbox.decline_petition(uow, world.other_ward_office, code, "Không rõ.", world.context)
    with pytest.raises(NotFound):
        inbox.forward_petition(uow, world.office, code, world.other_ward, world.context)
    with pytest.raises(Refusal):
        inbox.decline_petition(uow, world.office, code, "  ", world.context)
    with pytest.raises(Refusal):
        inbox.transfer_petition(uow, world.office, code, "", "Lý do.", world.context)
    inbox.decline_petition(uow, world.office, code, "Nội dung không rõ ràng.", world.context)
    uow.commit()
    with pytest.raises(Refusal):  # declined is final
        inbox.forward_petition(uow, world.office, code, world.agency, world.context)


def test_p3_kept_items_join_the_next_session_and_return_when_it_is_cancelled(
    world: World, uow: UnitOfWork
) -> None:
    world.clock.set("2026-03-02")
    petition = send(world, uow)
    assert inbox.keep_for_session(uow, world.office, petition.tracking_code, world.context) is None
    uow.commit()
    assert petition.state == PetitionState.KEPT and petition.session_id is None
    assert alert_digests(uow, world.context) == {}  # kept: no triage deadline any more
    session_id = plan(world, uow, "2026-03-20", "Đối thoại về trật tự đô thị")
    uow.session.refresh(petition)
    assert petition.session_id == session_id  # P3: it is on the next session's list
    from procedure.use_cases.sessions import get_session, release_kept_petitions

    release_kept_petitions(uow, get_session(uow, session_id))
    uow.commit()
    uow.session.refresh(petition)
    assert petition.session_id is None and petition.state == PetitionState.KEPT
