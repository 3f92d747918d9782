"""The office inbox: petitions, opinions and questions sent outside any dialogue session.

Article 13 covers what is said at a session; what residents send at any other time reaches the
office of their ward, which decides within the triage period (ward policy, 10 working days by
default) what becomes of each item:

- forward it to an agency of the unit, which answers in writing within the inbox result period
  (20 working days by default), with extensions in writing as after a conclusion (P8, P9);
- keep it for the agenda of the unit's next session (P3);
- answer it directly (Q6, questions);
- mark it a duplicate of an earlier petition (petitions.mark_duplicate);
- transfer it to the competent body outside the unit, or decline it, with the reason.

Every change is an event (X2) and a written notice to the resident through the outbox (C3).
Use cases here never commit: the caller owns the transaction.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import date

from sqlmodel import col, select

from procedure.deadlines import inbox_result_deadline, triage_deadline
from procedure.errors import NotFound, Refusal
from procedure.lifecycles import (
    UNTRIAGED_PETITION_STATES,
    PetitionState,
    SessionState,
    check_petition_transition,
)
from procedure.notifications import enqueue
from procedure.permissions import Action, Actor, Role
from procedure.use_cases.assignments import new_assignment
from procedure.use_cases.context import ProcedureContext, load_calendar, record_event, require
from procedure.use_cases.follow_up import staff_with_role
from procedure.use_cases.petitions import PetitionKind, petition_by_code, place_details
from procedure.use_cases.sessions import units_below
from procedure.use_cases.staff_views import units_for
from procedure.working_days import WorkingCalendar
from storage.tables import Assignment, DialogueSession, OrgUnit, Petition, Topic
from storage.unit_of_work import UnitOfWork
from texts import to_local

AGENCY_LEVEL = "co_quan"
UPCOMING_SESSION_STATES = (SessionState.DRAFT, SessionState.ANNOUNCED)


@dataclass(frozen=True)
class InboxItem:
    """One item of the inbox: how long it has waited and by when the office must decide."""

    petition: Petition
    topic: str
    area: str
    received_on: date
    waited_working_days: int
    triage_due: date
    overdue_working_days: int
    # The place of the problem and its photos (issue 13): see petitions.place_details.
    place: dict[str, object] = field(default_factory=dict)

    @property
    def overdue(self) -> bool:
        return self.overdue_working_days > 0


def _item(
    calendar: WorkingCalendar,
    context: ProcedureContext,
    petition: Petition,
    topic: str,
    area: str,
) -> InboxItem:
    today = context.today()
    received = to_local(petition.received_at).date()
    due = triage_deadline(calendar, received, context.periods).due
    return InboxItem(
        petition=petition,
        topic=topic,
        area=area,
        received_on=received,
        waited_working_days=calendar.working_days_between(received, today)
        if today > received
        else 0,
        triage_due=due,
        overdue_working_days=calendar.working_days_between(due, today) if today > due else 0,
    )


def inbox(uow: UnitOfWork, actor: Actor, context: ProcedureContext) -> list[InboxItem]:
    """Items sent outside any session and not yet triaged, in the actor's units, oldest first."""
    units = units_for(uow, actor, Action.TRIAGE_PETITION)
    rows = uow.session.exec(
        select(Petition, Topic.name, OrgUnit.name)
        .join(Topic, col(Topic.code) == col(Petition.topic_code))
        .join(OrgUnit, col(OrgUnit.id) == col(Petition.area_org_id))
        .where(col(Petition.session_id).is_(None))
        .where(Petition.state == PetitionState.RECEIVED)
        .where(col(Petition.area_org_id).in_(units))
        .order_by(col(Petition.received_at), col(Petition.id))
    ).all()
    calendar = load_calendar(uow)
    return [
        replace(
            _item(calendar, context, petition, topic, area), place=place_details(uow, petition)
        )
        for petition, topic, area in rows
    ]


def questions_waiting(uow: UnitOfWork, actor: Actor, context: ProcedureContext) -> list[InboxItem]:
    """Q6: the questions of the actor's units still waiting for an answer, oldest first."""
    units = units_for(uow, actor, Action.ANSWER_QUESTION)
    rows = uow.session.exec(
        select(Petition, Topic.name, OrgUnit.name)
        .join(Topic, col(Topic.code) == col(Petition.topic_code))
        .join(OrgUnit, col(OrgUnit.id) == col(Petition.area_org_id))
        .where(Petition.kind == PetitionKind.QUESTION)
        .where(col(Petition.state).in_([state.value for state in UNTRIAGED_PETITION_STATES]))
        .where(col(Petition.area_org_id).in_(units))
        .order_by(col(Petition.received_at), col(Petition.id))
    ).all()
    calendar = load_calendar(uow)
    return [_item(calendar, context, petition, topic, area) for petition, topic, area in rows]


def agencies_for(uow: UnitOfWork, petition: Petition) -> list[OrgUnit]:
    """The agencies of the petition's unit: the agency units below it in the tree."""
    below = set(units_below(uow, petition.area_org_id))
    units = uow.session.exec(
        select(OrgUnit)
        .where(col(OrgUnit.id).in_(below))
        .where(OrgUnit.level_code == AGENCY_LEVEL)
        .order_by(col(OrgUnit.name))
    ).all()
    return list(units)


def _untriaged(
    uow: UnitOfWork, actor: Actor, tracking_code: str, target: PetitionState
) -> tuple[Petition, PetitionState]:
    petition = petition_by_code(uow, tracking_code)
    require(uow, actor, Action.TRIAGE_PETITION, petition.area_org_id)
    return petition, check_petition_transition(petition.state, target)


def forward_petition(
    uow: UnitOfWork,
    actor: Actor,
    tracking_code: str,
    agency_org_id: int,
    context: ProcedureContext,
) -> Assignment:
    """Forward an inbox item to an agency of the unit. From here the written-result path is the
    one after a conclusion: a due date (inbox result period), extensions in writing (P9), the
    result (P8), alerts (C6), and the resident told at each step."""
    petition, previous = _untriaged(uow, actor, tracking_code, PetitionState.FORWARDED)
    agency = uow.session.get(OrgUnit, agency_org_id)
    if agency is None or agency.id not in {unit.id for unit in agencies_for(uow, petition)}:
        raise NotFound("refusal.agency_not_of_unit")
    calendar = load_calendar(uow)
    today = context.today()
    due = inbox_result_deadline(calendar, today, context.periods).due
    now = context.now()
    assignment = new_assignment(
        uow, petition, agency_org_id=agency_org_id, notice_date=today, due=due, created_at=now
    )
    petition.state = PetitionState.FORWARDED
    uow.session.add(petition)
    record_event(
        uow,
        kind="petition.forwarded",
        actor=actor,
        action=Action.TRIAGE_PETITION,
        at=now,
        petition_id=petition.id,
        session_id=petition.session_id,
        from_state=previous,
        to_state=PetitionState.FORWARDED,
        details={"agency": agency.name, "due": due.isoformat(), "inbox": True},
    )
    enqueue(
        uow,
        person_id=petition.person_id,
        kind="petition.forwarded",
        data={
            "tracking_code": petition.tracking_code,
            "agency": agency.name,
            "due": due.isoformat(),
        },
        key=f"petition:{petition.id}:forwarded",
    )
    for person_id in staff_with_role(uow, agency_org_id, Role.AGENCY):
        enqueue(
            uow,
            person_id=person_id,
            kind="agency.forwarded",
            data={
                "agency": agency.name,
                "tracking_code": petition.tracking_code,
                "kind": petition.kind,
                "text": petition.text[:500],
                "due": due.isoformat(),
                "place": place_details(uow, petition, context.file_link),
            },
            key=f"petition:{petition.id}:forwarded:{person_id}",
        )
    uow.flush()
    return assignment


def next_session(
    uow: UnitOfWork, unit_id: int, context: ProcedureContext
) -> DialogueSession | None:
    """The unit's next session that has not taken place: planned or announced, soonest first."""
    return uow.session.exec(
        select(DialogueSession)
        .where(DialogueSession.org_unit_id == unit_id)
        .where(col(DialogueSession.state).in_([state.value for state in UPCOMING_SESSION_STATES]))
        .where(col(DialogueSession.starts_at) > context.now())
        .order_by(col(DialogueSession.starts_at), col(DialogueSession.id))
    ).first()


def keep_for_session(
    uow: UnitOfWork, actor: Actor, tracking_code: str, context: ProcedureContext
) -> DialogueSession | None:
    """P3: keep an inbox item for the agenda of the unit's next session. It joins the session's
    opinions when one is planned or announced (and the next session planned otherwise), and is
    concluded and forwarded there (P7). Returns the session it joined, if any yet."""
    petition, previous = _untriaged(uow, actor, tracking_code, PetitionState.KEPT)
    session = next_session(uow, petition.area_org_id, context)
    now = context.now()
    petition.state = PetitionState.KEPT
    petition.session_id = session.id if session else None
    uow.session.add(petition)
    day = to_local(session.starts_at).date().isoformat() if session else None
    record_event(
        uow,
        kind="petition.kept",
        actor=actor,
        action=Action.TRIAGE_PETITION,
        at=now,
        petition_id=petition.id,
        session_id=petition.session_id,
        from_state=previous,
        to_state=PetitionState.KEPT,
        details={"session_day": day} if day else {},
    )
    enqueue(
        uow,
        person_id=petition.person_id,
        kind="petition.kept",
        data={"tracking_code": petition.tracking_code, "session_day": day},
        key=f"petition:{petition.id}:kept",
    )
    uow.flush()
    return session


def _close_in_writing(
    uow: UnitOfWork,
    actor: Actor,
    tracking_code: str,
    target: PetitionState,
    reason: str,
    context: ProcedureContext,
    body: str | None = None,
) -> Petition:
    petition, previous = _untriaged(uow, actor, tracking_code, target)
    if not reason.strip():
        raise Refusal("refusal.reason_missing")
    if body is not None and not body.strip():
        raise Refusal("refusal.body_missing")
    now = context.now()
    petition.state = target
    uow.session.add(petition)
    details: dict[str, object] = {"body": body.strip()} if body else {}
    record_event(
        uow,
        kind=f"petition.{target.value}",
        actor=actor,
        action=Action.TRIAGE_PETITION,
        at=now,
        petition_id=petition.id,
        session_id=petition.session_id,
        from_state=previous,
        to_state=target,
        reason=reason.strip(),
        details=details,
    )
    enqueue(
        uow,
        person_id=petition.person_id,
        kind=f"petition.{target.value}",
        data={
            "tracking_code": petition.tracking_code,
            "reason": reason.strip(),
            "body": body.strip() if body else None,
            "day": context.today().isoformat(),
        },
        key=f"petition:{petition.id}:{target.value}",
    )
    uow.flush()
    return petition


def transfer_petition(
    uow: UnitOfWork,
    actor: Actor,
    tracking_code: str,
    body: str,
    reason: str,
    context: ProcedureContext,
) -> Petition:
    """The item is for a body outside the unit: it is transferred there, and the resident is told
    in writing which body and why."""
    return _close_in_writing(
        uow, actor, tracking_code, PetitionState.TRANSFERRED, reason, context, body=body
    )


def decline_petition(
    uow: UnitOfWork, actor: Actor, tracking_code: str, reason: str, context: ProcedureContext
) -> Petition:
    """The item is not taken up; the resident is told in writing why."""
    return _close_in_writing(uow, actor, tracking_code, PetitionState.DECLINED, reason, context)
