"""Dialogue sessions: plan (P1), announce (P4), hold (P6), cancel, close."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime

from sqlmodel import col, func, select

from procedure.errors import NotFound, Refusal
from procedure.lifecycles import (
    OPEN_PETITION_STATES,
    UNTRIAGED_PETITION_STATES,
    PetitionState,
    RegistrationState,
    SessionChange,
    SessionState,
    check_session_change,
    check_session_transition,
    may_mark_held,
)
from procedure.notifications import enqueue, enqueue_many
from procedure.permissions import Action, Actor, Role
from procedure.use_cases.context import (
    ProcedureContext,
    load_calendar,
    record_event,
    require,
)
from procedure.working_days import NoticeWindow
from storage.tables import (
    AgendaItem,
    DialogueSession,
    OrgUnit,
    OutboxMessage,
    Person,
    Petition,
    Registration,
    SessionAgency,
    StaffRole,
)
from storage.unit_of_work import UnitOfWork
from texts import format_date, format_datetime, t, to_local

# Article 13 §2: the order of a session. Topics from residents' opinions come in step 3.
PROCEDURE_STEPS = (
    "opening",  # the office states the purpose and introduces the delegates
    "head_report",  # the head reports on the government's work
    "residents_speak",  # residents speak, comment, propose
    "agencies_answer",  # heads of related agencies report on the petitions
    "head_concludes",  # the head explains, takes in the opinions and concludes
)


@dataclass(frozen=True)
class SessionPlan:
    org_unit_id: int
    chair_name: str
    venue: str
    starts_at: datetime
    ends_at: datetime
    content: str
    topics: Sequence[str] = field(default=())
    agency_org_ids: Sequence[int] = field(default=())
    capacity: int | None = None
    chair_person_id: int | None = None


def get_session(uow: UnitOfWork, session_id: int) -> DialogueSession:
    session = uow.session.get(DialogueSession, session_id)
    if session is None:
        raise NotFound("refusal.session_not_found", session_id=session_id)
    return session


def plan_session(
    uow: UnitOfWork, actor: Actor, plan: SessionPlan, context: ProcedureContext
) -> DialogueSession:
    """P1: the office's plan — unit, chair, venue, time, content and agenda, agencies."""
    require(uow, actor, Action.PLAN_SESSION, plan.org_unit_id)
    check_plan(uow, plan, context)
    now = context.now()
    session = DialogueSession(
        org_unit_id=plan.org_unit_id,
        chair_name=plan.chair_name.strip(),
        chair_person_id=plan.chair_person_id,
        venue=plan.venue.strip(),
        starts_at=plan.starts_at,
        ends_at=plan.ends_at,
        content=plan.content.strip(),
        capacity=plan.capacity,
        state=SessionState.DRAFT,
        created_by_person_id=actor.person_id,
        created_at=now,
    )
    uow.session.add(session)
    uow.flush()
    assert session.id is not None
    write_agenda(uow, session.id, plan)
    record_event(
        uow,
        kind="session.planned",
        actor=actor,
        action=Action.PLAN_SESSION,
        at=now,
        session_id=session.id,
        to_state=SessionState.DRAFT,
    )
    attach_kept_petitions(uow, session)
    uow.flush()
    return session


def check_plan(uow: UnitOfWork, plan: SessionPlan, context: ProcedureContext) -> None:
    """P1: every field of a plan is there and makes sense."""
    if uow.session.get(OrgUnit, plan.org_unit_id) is None:
        raise NotFound("refusal.org_unit_not_found", code=plan.org_unit_id)
    for text_field, value in (
        ("chair", plan.chair_name),
        ("venue", plan.venue),
        ("content", plan.content),
    ):
        if not value.strip():
            raise Refusal("refusal.session_field_missing", field=t(f"field.{text_field}"))
    if plan.ends_at <= plan.starts_at:
        raise Refusal("refusal.session_end_before_start")
    if to_local(plan.starts_at).date() < context.today():
        raise Refusal("refusal.session_in_past", date=format_date(to_local(plan.starts_at).date()))
    if plan.capacity is not None and plan.capacity < 1:
        raise Refusal("refusal.capacity_not_positive")
    for agency_id in plan.agency_org_ids:
        if uow.session.get(OrgUnit, agency_id) is None:
            raise NotFound("refusal.org_unit_not_found", code=agency_id)


def write_agenda(uow: UnitOfWork, session_id: int, plan: SessionPlan) -> None:
    """The agenda in the order of Article 13 §2 (residents' topics in step 3) and the agencies."""
    items = [*PROCEDURE_STEPS[:3], *(["topic"] * len(plan.topics)), *PROCEDURE_STEPS[3:]]
    titles = [
        *(t(f"agenda.{step}") for step in PROCEDURE_STEPS[:3]),
        *(topic.strip() for topic in plan.topics),
        *(t(f"agenda.{step}") for step in PROCEDURE_STEPS[3:]),
    ]
    for position, (step, title) in enumerate(zip(items, titles, strict=True), start=1):
        uow.session.add(
            AgendaItem(session_id=session_id, position=position, step=step, title=title)
        )
    for agency_id in dict.fromkeys(plan.agency_org_ids):
        uow.session.add(SessionAgency(session_id=session_id, org_unit_id=agency_id))


def attach_kept_petitions(uow: UnitOfWork, session: DialogueSession) -> int:
    """P3: items kept for "the next session" of a unit join the session planned for it."""
    kept = uow.session.exec(
        select(Petition)
        .where(Petition.state == PetitionState.KEPT)
        .where(col(Petition.session_id).is_(None))
        .where(Petition.area_org_id == session.org_unit_id)
    ).all()
    for petition in kept:
        petition.session_id = session.id
        uow.session.add(petition)
    return len(kept)


def release_kept_petitions(uow: UnitOfWork, session: DialogueSession) -> int:
    """A cancelled session gives its kept items back: they wait for the unit's next session."""
    kept = uow.session.exec(
        select(Petition)
        .where(Petition.state == PetitionState.KEPT)
        .where(Petition.session_id == session.id)
    ).all()
    for petition in kept:
        petition.session_id = None
        uow.session.add(petition)
    return len(kept)


def notice_window_for(
    uow: UnitOfWork, session: DialogueSession, context: ProcedureContext
) -> NoticeWindow:
    """P4: when the invitation for ``session`` must go out at the latest."""
    calendar = load_calendar(uow)
    return calendar.notice_window(
        to_local(session.starts_at).date(), context.periods.notice_working_days
    )


def announce_session(
    uow: UnitOfWork, actor: Actor, session_id: int, context: ProcedureContext
) -> DialogueSession:
    """P4: announce, only while at least 5 working days remain before the session.

    Refused later with the latest lawful sending day and the earliest lawful session date.
    """
    session = get_session(uow, session_id)
    require(uow, actor, Action.ANNOUNCE_SESSION, session.org_unit_id)
    current = check_session_transition(session.state, SessionState.ANNOUNCED)
    today = context.today()
    window = notice_window_for(uow, session, context)
    if today > window.latest_day:
        calendar = load_calendar(uow)
        earliest = calendar.earliest_session_day(today, context.periods.notice_working_days)
        raise Refusal(
            "refusal.invitation_too_late",
            days=context.periods.notice_working_days,
            session_date=format_date(window.session_day),
            latest=format_date(window.latest_day),
            earliest=format_date(earliest),
        )
    now = context.now()
    session.state = SessionState.ANNOUNCED
    session.announced_at = now
    uow.session.add(session)
    record_event(
        uow,
        kind="session.announced",
        actor=actor,
        action=Action.ANNOUNCE_SESSION,
        at=now,
        session_id=session.id,
        from_state=current,
        to_state=SessionState.ANNOUNCED,
        details={"latest_notice_day": window.latest_day.isoformat()},
    )
    _invite_followers(uow, session)
    _notify_agencies(uow, session)
    uow.flush()
    return session


def invitations_queued(uow: UnitOfWork, session_id: int) -> int:
    """How many residents the announcement of a session invited."""
    return uow.session.exec(
        select(func.count())
        .select_from(OutboxMessage)
        .where(col(OutboxMessage.idempotency_key).startswith(f"invitation:{session_id}:"))
    ).one()


def session_facts(uow: UnitOfWork, session: DialogueSession) -> dict[str, object]:
    """What an invitation or a notice says of a session (P4: content, venue, time, chair)."""
    unit = uow.session.get(OrgUnit, session.org_unit_id)
    return {
        "session_id": session.id,
        "content": session.content,
        "starts_at": session.starts_at.isoformat(),
        "ends_at": session.ends_at.isoformat(),
        "venue": session.venue,
        "chair": session.chair_name,
        "unit": unit.name if unit else "",
        "calendar_sequence": session.calendar_sequence,
    }


def _invite_followers(uow: UnitOfWork, session: DialogueSession) -> int:
    """P4: the invitation goes to every resident who follows the area (their ward is the
    session's unit or a unit below it)."""
    assert session.id is not None
    areas = units_below(uow, session.org_unit_id)
    followers = uow.session.exec(select(Person.id).where(col(Person.area_org_id).in_(areas))).all()
    return enqueue_many(
        uow,
        [
            (person_id, f"invitation:{session.id}:{person_id}")
            for person_id in followers
            if person_id
        ],
        kind="session.invitation",
        data=session_facts(uow, session),
    )


def people_told_of(uow: UnitOfWork, session: DialogueSession) -> dict[int, str]:
    """Who heard of an announced session, by person: its registered (and waitlisted) residents,
    the residents who follow its area (they got the invitation), and its agencies' officers."""
    told: dict[int, str] = {}
    areas = units_below(uow, session.org_unit_id)
    for person_id in uow.session.exec(
        select(Person.id).where(col(Person.area_org_id).in_(areas))
    ).all():
        if person_id is not None:
            told[person_id] = "follower"
    for person_id in uow.session.exec(
        select(Registration.person_id)
        .where(Registration.session_id == session.id)
        .where(Registration.state != RegistrationState.CANCELLED)
    ).all():
        told[person_id] = "registered"
    agencies = uow.session.exec(
        select(SessionAgency.org_unit_id).where(SessionAgency.session_id == session.id)
    ).all()
    for person_id in uow.session.exec(
        select(StaffRole.person_id)
        .where(col(StaffRole.org_unit_id).in_(agencies))
        .where(StaffRole.role == Role.AGENCY)
        .where(col(StaffRole.active))
    ).all():
        told[person_id] = "agency"
    return told


def notify_session_change(
    uow: UnitOfWork,
    session: DialogueSession,
    kind: str,
    data: dict[str, object],
    *,
    serial: str,
) -> int:
    """A rescheduled or cancelled session: a notice to everyone who was told of it, written in
    the same transaction as the change (outbox). ``serial`` tells one change from the next.
    A moved session's calendar file gets the next SEQUENCE, so calendars update the event; a
    cancelled one is sent as METHOD:CANCEL by its renderer."""
    if kind == "session.rescheduled":
        session.calendar_sequence += 1
        uow.session.add(session)
    facts = session_facts(uow, session)
    told = people_told_of(uow, session)
    by_audience: dict[str, list[tuple[int, str]]] = {}
    for person_id, audience in told.items():
        by_audience.setdefault(audience, []).append(
            (person_id, f"{kind}:{session.id}:{serial}:{person_id}")
        )
    return sum(
        enqueue_many(uow, messages, kind=kind, data={**facts, **data, "audience": audience})
        for audience, messages in by_audience.items()
    )


def _notify_agencies(uow: UnitOfWork, session: DialogueSession) -> None:
    """P5: the leaders of the participating agencies are told to prepare and attend, with the
    opinions already submitted in the area that are still waiting for an answer."""
    agencies = uow.session.exec(
        select(SessionAgency.org_unit_id).where(SessionAgency.session_id == session.id)
    ).all()
    if not agencies:
        return
    open_petitions = uow.session.exec(
        select(Petition)
        .where(col(Petition.area_org_id).in_(units_below(uow, session.org_unit_id)))
        .where(col(Petition.state).in_([s.value for s in UNTRIAGED_PETITION_STATES]))
        .order_by(col(Petition.received_at))
        .limit(30)
    ).all()
    opinions = [
        {"code": p.tracking_code, "topic": p.topic_code, "text": p.text[:200]}
        for p in open_petitions
    ]
    staff = uow.session.exec(
        select(StaffRole.person_id, StaffRole.org_unit_id)
        .where(col(StaffRole.org_unit_id).in_(agencies))
        .where(StaffRole.role == Role.AGENCY)
        .where(col(StaffRole.active))
    ).all()
    facts = session_facts(uow, session)
    for person_id, agency_id in staff:
        agency = uow.session.get(OrgUnit, agency_id)
        enqueue(
            uow,
            person_id=person_id,
            kind="session.agency_notice",
            data={**facts, "agency": agency.name if agency else "", "opinions": opinions},
            key=f"agency_notice:{session.id}:{person_id}",
        )


def units_below(uow: UnitOfWork, unit_id: int) -> list[int]:
    """The unit and every unit below it in the tree."""
    children: dict[int | None, list[int]] = {}
    for child, parent in uow.session.exec(select(OrgUnit.id, OrgUnit.parent_id)).all():
        children.setdefault(parent, []).append(child)  # type: ignore[arg-type]
    found, queue = [], [unit_id]
    while queue:
        current = queue.pop()
        found.append(current)
        queue.extend(children.get(current, []))
    return found


def hold_session(
    uow: UnitOfWork, actor: Actor, session_id: int, context: ProcedureContext
) -> DialogueSession:
    """P6: the session took place. Not before its day."""
    session = get_session(uow, session_id)
    require(uow, actor, Action.CONDUCT_SESSION, session.org_unit_id)
    current = check_session_transition(session.state, SessionState.HELD)
    if not may_mark_held(current, session.starts_at, context.now()):
        # Only once the session has started: not on the morning of it before the start time.
        raise Refusal("refusal.session_not_yet", date=format_datetime(session.starts_at))
    return _move(uow, actor, session, current, SessionState.HELD, Action.CONDUCT_SESSION, context)


def cancel_session(
    uow: UnitOfWork, actor: Actor, session_id: int, reason: str, context: ProcedureContext
) -> DialogueSession:
    session = get_session(uow, session_id)
    require(uow, actor, Action.CANCEL_SESSION, session.org_unit_id)
    current = check_session_transition(session.state, SessionState.CANCELLED)
    check_session_change(session.state, SessionChange.CANCEL)
    if not reason.strip():
        raise Refusal("refusal.reason_missing")
    if current is SessionState.ANNOUNCED:
        # Everyone who was told of the session is told it will not take place.
        notify_session_change(
            uow,
            session,
            "session.cancelled",
            {"reason": reason.strip()},
            serial="cancelled",
        )
    release_kept_petitions(uow, session)
    return _move(
        uow,
        actor,
        session,
        current,
        SessionState.CANCELLED,
        Action.CANCEL_SESSION,
        context,
        reason=reason.strip(),
    )


def close_session(
    uow: UnitOfWork, actor: Actor, session_id: int, context: ProcedureContext
) -> DialogueSession:
    """Archive a concluded session once every petition of it has its answer."""
    session = get_session(uow, session_id)
    require(uow, actor, Action.CLOSE_SESSION, session.org_unit_id)
    current = check_session_transition(session.state, SessionState.CLOSED)
    still_open = uow.session.exec(
        select(func.count())
        .select_from(Petition)
        .where(Petition.session_id == session.id)
        .where(Petition.state.in_([state.value for state in OPEN_PETITION_STATES]))  # type: ignore[attr-defined]
    ).one()
    if still_open:
        raise Refusal("refusal.session_has_open_petitions", count=still_open)
    return _move(uow, actor, session, current, SessionState.CLOSED, Action.CLOSE_SESSION, context)


def _move(
    uow: UnitOfWork,
    actor: Actor,
    session: DialogueSession,
    current: SessionState,
    target: SessionState,
    action: Action,
    context: ProcedureContext,
    *,
    reason: str | None = None,
) -> DialogueSession:
    now = context.now()
    session.state = target
    uow.session.add(session)
    record_event(
        uow,
        kind=f"session.{target.value}",
        actor=actor,
        action=action,
        at=now,
        session_id=session.id,
        from_state=current,
        to_state=target,
        reason=reason,
    )
    uow.flush()
    return session
