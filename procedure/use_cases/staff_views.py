"""What staff see: their sessions, registrations and opinions of a session (P6), an agency's
assigned petitions (P8), and opinions recorded in the room on behalf of a resident."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime

from sqlmodel import col, select

from procedure.errors import Refusal
from procedure.lifecycles import OPEN_PETITION_STATES, RegistrationState
from procedure.notifications import enqueue
from procedure.permissions import ROLE_ACTIONS, Action, Actor, ancestors_of
from procedure.use_cases.context import ProcedureContext, load_calendar, org_parent_map, require
from procedure.use_cases.petitions import (
    PetitionKind,
    PetitionSubmission,
    place_details,
    submit_petition,
)
from procedure.use_cases.sessions import get_session
from storage.tables import (
    Assignment,
    DialogueSession,
    Extension,
    OrgUnit,
    OutboxMessage,
    Person,
    Petition,
    Registration,
    Topic,
)
from storage.unit_of_work import UnitOfWork


def units_for(uow: UnitOfWork, actor: Actor, action: Action) -> list[int]:
    """Every unit the actor may do ``action`` for: the units of their grants and those below."""
    parents = org_parent_map(uow)
    granted = {g.org_unit_id for g in actor.grants if action in ROLE_ACTIONS[g.role]}
    return (
        [unit for unit in parents if granted & set(ancestors_of(unit, parents))]
        if not actor.is_system
        else list(parents)
    )


def sessions_of(uow: UnitOfWork, actor: Actor) -> Sequence[DialogueSession]:
    """Sessions the actor runs or oversees, newest first."""
    units = set(units_for(uow, actor, Action.VIEW_OVERSIGHT)) | set(
        units_for(uow, actor, Action.PLAN_SESSION)
    )
    return uow.session.exec(
        select(DialogueSession)
        .where(col(DialogueSession.org_unit_id).in_(units))
        .order_by(col(DialogueSession.starts_at).desc())
        .limit(20)
    ).all()


def registrations_of(
    uow: UnitOfWork, actor: Actor, session_id: int
) -> Sequence[tuple[Registration, Person]]:
    session = get_session(uow, session_id)
    require(uow, actor, Action.CONDUCT_SESSION, session.org_unit_id)
    return uow.session.exec(
        select(Registration, Person)
        .join(Person, col(Person.id) == col(Registration.person_id))
        .where(Registration.session_id == session_id)
        .where(Registration.state != RegistrationState.CANCELLED)
        .order_by(col(Registration.created_at))
    ).all()


def opinions_of(uow: UnitOfWork, actor: Actor, session_id: int) -> Sequence[tuple[Petition, Topic]]:
    """The opinions of a session with their topics, grouped by topic (P3, P6)."""
    session = get_session(uow, session_id)
    require(uow, actor, Action.CONDUCT_SESSION, session.org_unit_id)
    return uow.session.exec(
        select(Petition, Topic)
        .join(Topic, col(Topic.code) == col(Petition.topic_code))
        .where(Petition.session_id == session_id)
        .order_by(col(Topic.position), col(Petition.received_at))
    ).all()


@dataclass(frozen=True)
class RoomOpinion:
    """P6: an opinion raised in the room, recorded by staff (name and phone still required)."""

    full_name: str
    phone_e164: str
    kind: PetitionKind
    topic_code: str
    text: str


def record_room_opinion(
    uow: UnitOfWork,
    actor: Actor,
    session_id: int,
    opinion: RoomOpinion,
    context: ProcedureContext,
) -> Petition:
    session = get_session(uow, session_id)
    require(uow, actor, Action.CONDUCT_SESSION, session.org_unit_id)
    if session.state not in {"announced", "held"}:
        raise Refusal("refusal.session_not_taking_opinions")
    person = uow.session.exec(
        select(Person).where(Person.phone_e164 == opinion.phone_e164).order_by(col(Person.id))
    ).first()
    if person is None:
        person = Person(
            full_name=opinion.full_name,
            phone_e164=opinion.phone_e164,
            area_org_id=session.org_unit_id,
        )
        uow.session.add(person)
        uow.flush()
    assert person.id is not None
    petition = submit_petition(
        uow,
        PetitionSubmission(
            person_id=person.id,
            kind=opinion.kind,
            topic_code=opinion.topic_code,
            text=opinion.text,
            full_name=opinion.full_name,
            phone_e164=opinion.phone_e164,
            area_org_id=person.area_org_id or session.org_unit_id,
            session_id=session_id,
            channel="room",
        ),
        context,
        actor=actor,
    )
    # Sent in chat too when the phone belongs to a chat account; otherwise the sender records
    # that the person has no chat, and the code read out in the room is what they keep.
    enqueue(
        uow,
        person_id=person.id,
        kind="petition.recorded",
        data={"tracking_code": petition.tracking_code},
        key=f"petition:{petition.id}:recorded",
    )
    uow.flush()
    return petition


@dataclass(frozen=True)
class Task:
    petition: Petition
    assignment: Assignment
    agency: str
    overdue: bool
    overdue_working_days: int  # working days after the due day, 0 when not overdue
    # P9: the written notice of the last extension counts as sent only once delivered: the day it
    # reached the resident, or None while it has not (or when there was no extension).
    extension_delivered_at: datetime | None = None
    extension_pending: bool = False
    # The place of the problem and its photos (issue 13): see petitions.place_details.
    place: dict[str, object] = field(default_factory=dict)


def agency_tasks(uow: UnitOfWork, actor: Actor, context: ProcedureContext) -> list[Task]:
    """P8: the petitions assigned to the actor's agencies and not yet answered, soonest first."""
    units = units_for(uow, actor, Action.POST_RESULT)
    rows = uow.session.exec(
        select(Assignment, Petition, OrgUnit)
        .join(Petition, col(Petition.id) == col(Assignment.petition_id))
        .join(OrgUnit, col(OrgUnit.id) == col(Assignment.agency_org_id))
        .where(col(Assignment.agency_org_id).in_(units))
        .where(col(Petition.state).in_([s.value for s in OPEN_PETITION_STATES]))
        .order_by(col(Assignment.due_date), col(Assignment.id))
    ).all()
    calendar = load_calendar(uow)
    today: date = context.today()
    tasks = []
    for assignment, petition, agency in rows:
        delivered, pending = extension_notice_delivery(uow, assignment)
        tasks.append(
            Task(
                petition=petition,
                assignment=assignment,
                agency=agency.name,
                overdue=assignment.due_date < today,
                overdue_working_days=max(
                    0, calendar.working_days_between(assignment.due_date, today)
                ),
                extension_delivered_at=delivered,
                extension_pending=pending,
                place=place_details(uow, petition, context.file_link),
            )
        )
    return tasks


def extension_notice_delivery(
    uow: UnitOfWork, assignment: Assignment
) -> tuple[datetime | None, bool]:
    """P9: whether the written notice of the latest extension reached the petitioner: (when it
    was delivered, still waiting). A notice counts as sent in writing only once delivered."""
    latest = uow.session.exec(
        select(Extension.id)
        .where(Extension.assignment_id == assignment.id)
        .order_by(col(Extension.id).desc())
    ).first()
    if latest is None:
        return None, False
    row = uow.session.exec(
        select(OutboxMessage).where(
            OutboxMessage.idempotency_key == f"petition:{assignment.petition_id}:extended:{latest}"
        )
    ).first()
    if row is None:
        return None, False
    return row.sent_at, row.sent_at is None
