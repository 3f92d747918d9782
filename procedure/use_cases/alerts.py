"""Deadline alerts for officials (C6) and reminders of sessions to residents (P4), queued in the
outbox by the scheduler.

The open deadlines and their owners:

- P4: a DRAFT session's latest lawful day to send the invitation (the last working day on or
  before the notice window's latest day) — owned by the office of the session's unit and the
  head of that government level.
- P7: a HELD session's conclusion, due 10 working days after its local end date — owned by the
  office and the head.
- INBOX: an item sent outside any session and not yet triaged, due the triage period (ward
  policy) after its receipt — owned by the office of its area and the head of that level.
- P8/P9: each assignment whose petition is still forwarded or extended, due on its (possibly
  extended) due date — owned by the agency's officers; when overdue, escalated to the head of
  the session's unit (or, for a petition outside a session, of its area), looked up the tree to
  the nearest unit that has a head.

Office and agency roles held on a unit cover the units below it (procedure/permissions.py). Of
heads only the nearest level hears, so a city's chair is not flooded with every ward's alerts.

Idempotent by construction: one outbox row per person and day under a fixed key, computed from
the deadlines as they stand, so a second run queues nothing and a run after an outage misses
nothing.
"""

from __future__ import annotations

from collections.abc import Collection
from datetime import UTC, datetime, time, timedelta

from sqlmodel import col, select

from procedure.alerts import (
    DEFAULT_END,
    DEFAULT_START,
    DIGEST_KIND,
    AlertItem,
    OpenDeadline,
    Requirement,
    RoleHolders,
    build_digests,
    digest_data,
    digest_key,
    working_hours,
)
from procedure.deadlines import conclusion_deadline, triage_deadline
from procedure.lifecycles import PetitionState, RegistrationState, SessionState
from procedure.notifications import enqueue
from procedure.permissions import Role
from procedure.use_cases.context import ProcedureContext, load_calendar, org_parent_map
from procedure.use_cases.sessions import session_facts
from procedure.working_days import WorkingCalendar
from storage.tables import (
    Assignment,
    Conclusion,
    DialogueSession,
    OrgUnit,
    OutboxMessage,
    Petition,
    Registration,
    StaffRole,
)
from storage.unit_of_work import UnitOfWork
from texts import LOCAL_TIMEZONE, to_local

REMINDER_KIND = "session.reminder"
LABEL_LENGTH = 80
ALERTED_ROLES = (Role.OFFICE, Role.HEAD, Role.AGENCY)
ASSIGNED_STATES = (PetitionState.FORWARDED, PetitionState.EXTENDED, PetitionState.REOPENED)


def short_label(text: str, limit: int = LABEL_LENGTH) -> str:
    """One line of at most ``limit`` characters."""
    line = " ".join(text.split())
    return line if len(line) <= limit else line[: limit - 1].rstrip() + "…"


def role_holders(uow: UnitOfWork, roles: Collection[Role] = ALERTED_ROLES) -> RoleHolders:
    """The active staff roles of the database, for finding the owners of deadlines."""
    rows = uow.session.exec(
        select(StaffRole.role, StaffRole.org_unit_id, StaffRole.person_id)
        .where(col(StaffRole.active))
        .where(col(StaffRole.role).in_([role.value for role in roles]))
    ).all()
    holders: dict[str, dict[int, set[int]]] = {}
    for role, unit_id, person_id in rows:
        holders.setdefault(role, {}).setdefault(unit_id, set()).add(person_id)
    return RoleHolders(
        holders={
            role: {unit: frozenset(people) for unit, people in units.items()}
            for role, units in holders.items()
        },
        parent_of=org_parent_map(uow),
    )


def open_deadlines(
    uow: UnitOfWork, context: ProcedureContext, calendar: WorkingCalendar
) -> list[OpenDeadline]:
    """Every deadline of P4, P7 and P8/P9 not yet met, with its owners."""
    roles = role_holders(uow)
    return [
        *_invitation_deadlines(uow, context, calendar, roles),
        *_conclusion_deadlines(uow, context, calendar, roles),
        *_result_deadlines(uow, roles),
        *_triage_deadlines(uow, context, calendar, roles),
    ]


def _triage_deadlines(
    uow: UnitOfWork, context: ProcedureContext, calendar: WorkingCalendar, roles: RoleHolders
) -> list[OpenDeadline]:
    """The office inbox: an item nobody has triaged yet is due the triage period after it came."""
    waiting = uow.session.exec(
        select(Petition)
        .where(col(Petition.session_id).is_(None))
        .where(Petition.state == PetitionState.RECEIVED)
    ).all()
    return [
        OpenDeadline(
            requirement=Requirement.INBOX,
            due=triage_deadline(
                calendar, to_local(petition.received_at).date(), context.periods
            ).due,
            label=petition.tracking_code,
            owners=_session_owners(roles, petition.area_org_id),
            escalate_to=roles.nearest(Role.HEAD, petition.area_org_id),
            tracking_code=petition.tracking_code,
        )
        for petition in waiting
    ]


def _session_owners(roles: RoleHolders, org_unit_id: int) -> frozenset[int]:
    return roles.covering(Role.OFFICE, org_unit_id) | roles.nearest(Role.HEAD, org_unit_id)


def _invitation_deadlines(
    uow: UnitOfWork, context: ProcedureContext, calendar: WorkingCalendar, roles: RoleHolders
) -> list[OpenDeadline]:
    """P4: a draft session must be announced by the last working day of its notice window."""
    drafts = uow.session.exec(
        select(DialogueSession).where(DialogueSession.state == SessionState.DRAFT)
    ).all()
    deadlines = []
    for session in drafts:
        session_day = to_local(session.starts_at).date()
        if session_day < context.today():
            continue  # the date has passed: flagged once (queue_expired_plans), not every day
        window = calendar.notice_window(session_day, context.periods.notice_working_days)
        owners = _session_owners(roles, session.org_unit_id)
        deadlines.append(
            OpenDeadline(
                requirement=Requirement.P4,
                due=window.latest_working_day,
                label=short_label(session.content),
                owners=owners,
                escalate_to=roles.nearest(Role.HEAD, session.org_unit_id),
                session_id=session.id,
                session_day=session_day,
            )
        )
    return deadlines


def _conclusion_deadlines(
    uow: UnitOfWork, context: ProcedureContext, calendar: WorkingCalendar, roles: RoleHolders
) -> list[OpenDeadline]:
    """P7: a held session's conclusions are due 10 working days after it ended."""
    concluded = select(Conclusion.session_id)
    held = uow.session.exec(
        select(DialogueSession)
        .where(DialogueSession.state == SessionState.HELD)
        .where(col(DialogueSession.id).not_in(concluded))
    ).all()
    deadlines = []
    for session in held:
        ended = to_local(session.ends_at).date()
        deadlines.append(
            OpenDeadline(
                requirement=Requirement.P7,
                due=conclusion_deadline(calendar, ended, context.periods).due,
                label=short_label(session.content),
                owners=_session_owners(roles, session.org_unit_id),
                escalate_to=roles.nearest(Role.HEAD, session.org_unit_id),
                session_id=session.id,
                session_day=to_local(session.starts_at).date(),
            )
        )
    return deadlines


def _result_deadlines(uow: UnitOfWork, roles: RoleHolders) -> list[OpenDeadline]:
    """P8/P9: the agency's written result is due on the assignment's (extended) due date."""
    rows = uow.session.exec(
        select(Assignment, Petition, DialogueSession.org_unit_id)
        .join(Petition, col(Petition.id) == col(Assignment.petition_id))
        .outerjoin(DialogueSession, col(DialogueSession.id) == col(Petition.session_id))
        .where(col(Petition.state).in_([state.value for state in ASSIGNED_STATES]))
    ).all()
    agency_names = {
        unit_id: name
        for unit_id, name in uow.session.exec(
            select(OrgUnit.id, OrgUnit.name).where(
                col(OrgUnit.id).in_({assignment.agency_org_id for assignment, _, _ in rows})
            )
        ).all()
    }
    deadlines = []
    for assignment, petition, session_unit in rows:
        agency = agency_names.get(assignment.agency_org_id, "")
        # The head of the session's unit, or of the petition's area when it is not a session's.
        answerable = session_unit if session_unit is not None else petition.area_org_id
        deadlines.append(
            OpenDeadline(
                requirement=Requirement.P8,
                due=assignment.due_date,
                label=short_label(f"{petition.tracking_code} – {agency}"),
                owners=roles.covering(Role.AGENCY, assignment.agency_org_id),
                escalate_to=roles.nearest(Role.HEAD, answerable),
                session_id=petition.session_id,
                tracking_code=petition.tracking_code,
                agency=agency,
                extended=petition.state == PetitionState.EXTENDED,
            )
        )
    return deadlines


PLAN_EXPIRED_KIND = "session.plan_expired"


def queue_expired_plans(uow: UnitOfWork, context: ProcedureContext) -> int:
    """A plan never announced whose date has passed: its office and head are told once (then it
    raises no more alerts; they may cancel it or plan another date). Returns the rows queued."""
    roles = role_holders(uow)
    first_local_day = datetime.combine(context.today(), time(0), LOCAL_TIMEZONE).astimezone(UTC)
    expired = uow.session.exec(
        select(DialogueSession)
        .where(DialogueSession.state == SessionState.DRAFT)
        .where(col(DialogueSession.starts_at) < first_local_day)
    ).all()
    count = 0
    for session in expired:
        facts = session_facts(uow, session)
        for person_id in sorted(_session_owners(roles, session.org_unit_id)):
            queued = enqueue(
                uow,
                person_id=person_id,
                kind=PLAN_EXPIRED_KIND,
                data=facts,
                key=f"plan-expired:{session.id}:{person_id}",
                transactional=False,
            )
            count += queued is not None
    return count


def alert_digests(
    uow: UnitOfWork, context: ProcedureContext, calendar: WorkingCalendar | None = None
) -> dict[int, tuple[AlertItem, ...]]:
    """Today's digest of every official with something due (whatever the hour)."""
    if calendar is None:
        calendar = load_calendar(uow)
    return build_digests(calendar, open_deadlines(uow, context, calendar), context.today())


def queue_alert_digests(
    uow: UnitOfWork,
    context: ProcedureContext,
    *,
    start: time = DEFAULT_START,
    end: time = DEFAULT_END,
) -> int:
    """C6: in working hours of a working day, queue today's digest of every official who has
    something due; returns how many rows were queued. Outside working hours nothing is queued:
    the alert waits for the next run in working hours, which computes it afresh."""
    calendar = load_calendar(uow)
    if not working_hours(calendar, context.now(), start, end):
        return 0
    today = context.today()
    expired = queue_expired_plans(uow, context)
    digests = alert_digests(uow, context, calendar)
    if not digests:
        if expired:
            uow.flush()
        return 0
    keys = {person_id: digest_key(person_id, today) for person_id in digests}
    queued_already = set(
        uow.session.exec(
            select(OutboxMessage.idempotency_key).where(
                col(OutboxMessage.idempotency_key).in_(list(keys.values()))
            )
        ).all()
    )
    count = 0
    for person_id, items in digests.items():
        if keys[person_id] in queued_already:
            continue
        queued = enqueue(
            uow,
            person_id=person_id,
            kind=DIGEST_KIND,
            data=digest_data(today, items),
            key=keys[person_id],
            transactional=False,
        )
        count += queued is not None
    uow.flush()
    return count


def queue_session_reminders(
    uow: UnitOfWork, context: ProcedureContext, *, not_before: time | None = None
) -> int:
    """P4 (reminder before the day): on the day before an announced session, each resident
    registered for it gets one reminder with their registration code; returns how many rows were
    queued. Any time that day, or from ``not_before`` (local time) when given, so that residents
    are not woken at night. Waitlisted and cancelled registrations get none."""
    local_now = to_local(context.now())
    if not_before is not None and local_now.time().replace(tzinfo=None) < not_before:
        return 0
    tomorrow = local_now.date() + timedelta(days=1)
    first = datetime.combine(tomorrow, time(0), LOCAL_TIMEZONE).astimezone(UTC)
    last = first + timedelta(days=1)
    sessions = uow.session.exec(
        select(DialogueSession)
        .where(DialogueSession.state == SessionState.ANNOUNCED)
        .where(col(DialogueSession.starts_at) >= first)
        .where(col(DialogueSession.starts_at) < last)
    ).all()
    count = 0
    for session in sessions:
        registrations = uow.session.exec(
            select(Registration)
            .where(Registration.session_id == session.id)
            .where(Registration.state == RegistrationState.REGISTERED)
            .order_by(col(Registration.id))
        ).all()
        if not registrations:
            continue
        facts = session_facts(uow, session)
        for registration in registrations:
            queued = enqueue(
                uow,
                person_id=registration.person_id,
                kind=REMINDER_KIND,
                data={**facts, "code": registration.code},
                key=f"reminder:{registration.id}",
            )
            count += queued is not None
    uow.flush()
    return count
