"""C6 at city scale (issue 12): the assignment row keeps what the deadline digests read (whether
the agency still owes the written result, the unit whose head answers for it, the tracking code,
the due date as extended), so that they count a million open petitions from one index. These
copies must follow every use case that changes them, and migration 0020 must fill them in for an
existing database. On SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import date

from alembic import command
from sqlalchemy import Engine, text
from sqlmodel import col, select

from procedure.alerts import AlertLevel
from procedure.lifecycles import PetitionState
from procedure.use_cases import follow_up, inbox, petitions
from procedure.use_cases.administration import ensure_reference_data
from procedure.use_cases.alerts import alert_digests
from procedure.use_cases.assignments import AWAITING_RESULT_STATES
from procedure.use_cases.resolution import answer_resolution
from storage.migrate import alembic_config, upgrade_to_head
from storage.tables import Assignment, DialogueSession, Petition
from storage.unit_of_work import UnitOfWork
from tests.procedure_world import World, build_world
from tests.test_alerts import held_session, submit
from tests.test_alerts import world as world
from tests.test_resolution import answered_on_thursday_12_02, ask

D = date.fromisoformat
DUE = D("2026-04-03")
Copies = dict[str, tuple[bool, int, str, date]]


def stored(uow: UnitOfWork) -> Copies:
    """Each assignment's copies as stored, by tracking code."""
    uow.session.expire_all()
    return {
        row.tracking_code: (
            row.awaiting_result,
            row.answerable_org_id,
            row.tracking_code,
            row.due_date,
        )
        for row in uow.session.exec(select(Assignment).order_by(col(Assignment.id))).all()
    }


def derived(uow: UnitOfWork) -> Copies:
    """The same, worked out from the petition, its session and the assignment's due date: what
    the digests computed before the copies existed."""
    copies: Copies = {}
    for assignment, petition in uow.session.exec(
        select(Assignment, Petition).join(Petition, col(Petition.id) == col(Assignment.petition_id))
    ).all():
        session = (
            uow.session.get(DialogueSession, petition.session_id) if petition.session_id else None
        )
        copies[petition.tracking_code] = (
            PetitionState(petition.state) in AWAITING_RESULT_STATES,
            session.org_unit_id if session else petition.area_org_id,
            petition.tracking_code,
            assignment.due_date,
        )
    return copies


def listed(world: World, uow: UnitOfWork, person: int | None, day: str) -> dict[str, object]:
    world.clock.set(day, "09:00")
    items = alert_digests(uow, world.context).get(person, ())  # type: ignore[arg-type]
    return {item.tracking_code or "": (item.level, item.due) for item in items}


def test_c6_p9_the_stored_copies_follow_forwarding_extension_result_reopening_and_merging(
    world: World, uow: UnitOfWork
) -> None:
    officer = world.agency_officer.person_id
    submitted = answered_on_thursday_12_02(world, uow)  # forwarded from a session; 1 answered
    uow.commit()
    first, extended, other = (petition.tracking_code for petition in submitted)
    copies = stored(uow)
    assert copies == derived(uow)
    assert copies[first][:3] == (False, world.ward, first)  # answered: nothing owed
    # P9: the stored due date follows the extension; the digest says so three working days
    # before the new date.
    assert copies[extended] == (True, world.ward, extended, D("2026-02-27"))
    assert copies[other] == (True, world.ward, other, D("2026-02-13"))
    assert listed(world, uow, officer, "2026-02-24") == {
        extended: (AlertLevel.BEFORE_3, D("2026-02-27"))
    }
    # Issue 13: the answered one is reopened with a new due date and owed again.
    result_id = ask(world, uow, "2026-03-05")
    world.clock.set("2026-03-06", "20:00")
    answer_resolution(uow, submitted[0].person_id, result_id, "no", world.context)
    uow.commit()
    assert stored(uow)[first] == (True, world.ward, first, DUE) == derived(uow)[first]
    assert listed(world, uow, officer, "2026-04-06")[first] == (AlertLevel.OVERDUE, DUE)
    # Answered again, and the other agency's one merged into another petition: none owed.
    world.clock.set("2026-04-07", "10:00")
    follow_up.post_result(uow, world.agency_officer, first, "Đã xử lý dứt điểm.", world.context)
    petitions.mark_duplicate(
        uow,
        world.office,
        submitted[2].id,  # type: ignore[arg-type]
        submitted[1].id,  # type: ignore[arg-type]
        world.context,
    )
    uow.commit()
    copies = stored(uow)
    assert copies == derived(uow)
    assert (copies[first][0], copies[extended][0], copies[other][0]) == (False, True, False)
    assert set(listed(world, uow, officer, "2026-04-08")) == {extended}
    assert listed(world, uow, world.other_agency_officer.person_id, "2026-04-08") == {}


def test_c6_an_inbox_item_forwarded_outside_a_session_is_answered_for_by_its_area(
    world: World, uow: UnitOfWork
) -> None:
    world.clock.set("2026-03-02", "09:00")
    item = submit(world, uow, world.residents[0], None, "Đèn đường hẻm 5 bị hỏng.")
    inbox.forward_petition(uow, world.office, item.tracking_code, world.agency, world.context)
    uow.commit()
    copies = stored(uow)
    assert copies == derived(uow)
    assert copies[item.tracking_code][:3] == (True, item.area_org_id, item.tracking_code)


def test_c6_c8_migration_0020_fills_the_copies_in_for_an_existing_database(
    empty_engine: Engine,
) -> None:
    """A database at 0019 with assignments of every kind (of a session, outside any, answered,
    reopened, extended) gets their copies from the petitions and sessions on upgrade; the
    session's unit answers for its petitions whatever their area. The world is built by today's
    use cases (which write today's tables), then the database is taken down to 0019, where the
    assignments are written as that version would have them."""
    upgrade_to_head(empty_engine)
    with UnitOfWork(empty_engine) as uow:
        ensure_reference_data(uow)
        world = build_world(uow)
        uow.commit()
        _, in_session = held_session(world, uow, "2026-01-12", ["Ngập.", "Lấn chiếm.", "Rác."])
        world.clock.set("2026-03-02", "09:00")
        outside = submit(world, uow, world.residents[0], None, "Cây xanh đổ.")
        uow.commit()
    command.downgrade(alembic_config(empty_engine), "0019")
    with UnitOfWork(empty_engine) as uow:
        connection = uow.session.connection()
        for petition, state in (
            (in_session[0], PetitionState.ANSWERED),
            (in_session[1], PetitionState.REOPENED),
            (in_session[2], PetitionState.EXTENDED),
            (outside, PetitionState.FORWARDED),
        ):
            connection.execute(
                text("UPDATE petition SET state = :state, area_org_id = :area WHERE id = :id"),
                {"state": state.value, "area": world.other_ward, "id": petition.id},
            )
            connection.execute(
                text(
                    "INSERT INTO assignment (petition_id, agency_org_id, notice_date, "
                    "original_due_date, due_date, created_at) VALUES (:petition, :agency, "
                    "'2026-03-02', '2026-03-30', '2026-04-03', '2026-03-02 02:00:00')"
                ),
                {"petition": petition.id, "agency": world.agency},
            )
        uow.commit()
    upgrade_to_head(empty_engine)
    with UnitOfWork(empty_engine) as uow:
        copies = stored(uow)
        assert copies == derived(uow)
        assert copies == {
            in_session[0].tracking_code: (False, world.ward, in_session[0].tracking_code, DUE),
            in_session[1].tracking_code: (True, world.ward, in_session[1].tracking_code, DUE),
            in_session[2].tracking_code: (True, world.ward, in_session[2].tracking_code, DUE),
            outside.tracking_code: (True, world.other_ward, outside.tracking_code, DUE),
        }
