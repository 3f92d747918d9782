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

At city scale (issue 12: a million open petitions, 910 officials) nothing is built per item:
P8/P9 and the inbox are counted in SQL per group of items that reach the same people (the
agency and the unit whose head answers; the inbox's area) and level, and only each group's few
most urgent items are read. For P8/P9 the assignment row keeps what this needs (whether the
result is still owed, the answerable unit, the tracking code: procedure/use_cases/assignments.py),
so one index of the assignments answers it without reading a petition. Sessions (P4, P7) are
few and read one by one.

Idempotent by construction: one outbox row per person and day under a fixed key, computed from
the deadlines as they stand, so a second run queues nothing and a run after an outage misses
nothing.
"""

from __future__ import annotations

import json
from collections.abc import Collection, Mapping, Sequence
from dataclasses import replace
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from sqlalchemy import (
    ARRAY,
    Integer,
    Table,
    and_,
    bindparam,
    func,
    insert,
    or_,
    true,
)
from sqlalchemy import select as sql_select
from sqlmodel import col, select

from procedure.alerts import (
    DEFAULT_END,
    DEFAULT_START,
    DIGEST_KIND,
    LISTED_ITEMS,
    AlertItem,
    AlertLevel,
    Digest,
    DigestBook,
    OpenDeadline,
    Requirement,
    RoleHolders,
    digest_data,
    digest_key,
    due_levels,
    late_working_days,
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
from storage.types import utc_now
from storage.unit_of_work import UnitOfWork
from texts import LOCAL_TIMEZONE, to_local

REMINDER_KIND = "session.reminder"
LABEL_LENGTH = 80
ALERTED_ROLES = (Role.OFFICE, Role.HEAD, Role.AGENCY)


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


def session_deadlines(
    uow: UnitOfWork, context: ProcedureContext, calendar: WorkingCalendar, roles: RoleHolders
) -> list[OpenDeadline]:
    """The deadlines of sessions not yet met (P4, P7), one by one: a city has a few hundred
    sessions open, not a million. Petitions (P8/P9, the inbox) are counted in SQL instead."""
    return [
        *_invitation_deadlines(uow, context, calendar, roles),
        *_conclusion_deadlines(uow, context, calendar, roles),
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


def _result_groups(
    uow: UnitOfWork,
    book: DigestBook,
    roles: RoleHolders,
    calendar: WorkingCalendar,
    today: date,
    levels: Mapping[date, AlertLevel],
) -> None:
    """P8/P9: the written results still owed, grouped by the agency and the unit whose head
    answers for them. The assignment row holds all this needs (procedure/use_cases/
    assignments.py), so both queries read one index of the assignments and no petition
    (``ix_assignment_awaiting``: the results owed per agency and unit, by due date then
    tracking code): the counts per group and level in one pass along it, then the first
    ``book.limit`` entries of each group that carry an alert, its most urgent. The items are
    built without their petition's session and extension, which only the few listed in the
    end need (``_with_petition_facts``)."""
    assignment = _assignments()
    due = assignment.c.due_date
    days_of: dict[AlertLevel, list[date]] = {}
    for day, day_level in sorted(levels.items()):
        days_of.setdefault(day_level, []).append(day)
    counted_levels = [AlertLevel.OVERDUE, *days_of]
    connection = uow.session.connection()
    grouped: list[Any] = list(
        connection.execute(
            sql_select(
                assignment.c.agency_org_id,
                assignment.c.answerable_org_id,
                func.count().filter(due < today),
                *(func.count().filter(due.in_(days)) for days in days_of.values()),
            )
            .where(assignment.c.awaiting_result == true(), due <= max(levels))
            .group_by(assignment.c.agency_org_id, assignment.c.answerable_org_id)
        )
    )
    counts: dict[tuple[int, int], dict[AlertLevel, int]] = {}
    for agency_id, unit, *numbers in grouped:
        by_level = {level: n for level, n in zip(counted_levels, numbers, strict=True) if n}
        if by_level:
            counts[(agency_id, unit)] = by_level
    if not counts:
        return
    agency_names = dict(
        connection.execute(
            select(col(OrgUnit.id), col(OrgUnit.name)).where(
                col(OrgUnit.id).in_({agency_id for agency_id, _ in counts})
            )
        ).all()
    )
    late = _LateDays(calendar, today)
    items: dict[tuple[int, int], list[AlertItem]] = {}
    for agency_id, unit, due_date, code in _first_of_groups(
        uow, list(counts), today, levels, book.limit
    ):
        agency = agency_names.get(agency_id, "")
        items.setdefault((agency_id, unit), []).append(
            AlertItem(
                requirement=Requirement.P8,
                level=levels.get(due_date, AlertLevel.OVERDUE),
                due=due_date,
                late_working_days=late(due_date),
                label=short_label(f"{code} – {agency}"),
                tracking_code=code,
                agency=agency,
            )
        )
    for (agency_id, unit), by_level in counts.items():
        book.add_group(
            Requirement.P8,
            by_level,
            items.get((agency_id, unit), []),
            roles.covering(Role.AGENCY, agency_id),
            roles.nearest(Role.HEAD, unit),
        )


def _assignments() -> Table:
    return Assignment.__table__  # type: ignore[attr-defined,no-any-return]


def _first_of_groups(
    uow: UnitOfWork,
    groups: Sequence[tuple[int, int]],
    today: date,
    levels: Mapping[date, AlertLevel],
    limit: int,
) -> list[tuple[int, int, date, str]]:
    """The first ``limit`` results owed of each (agency, answerable unit) group that carry an
    alert today (overdue, or due on a day of ``levels``) as (agency, unit, due date, tracking
    code), in one query: each group's entries of ``ix_assignment_awaiting`` are read from its
    start until ``limit`` are found, whatever the size of the group. PostgreSQL joins the groups
    (given as two arrays) to a LATERAL subquery that reads only the index; SQLite has no
    LATERAL and takes them as a JSON array, each matched to the rows its correlated subquery
    finds."""
    assignment = _assignments()
    by_group = assignment.alias("by_group")
    alerted = (
        by_group.c.awaiting_result == true(),
        by_group.c.due_date <= max(levels),
        or_(by_group.c.due_date < today, by_group.c.due_date.in_(list(levels))),
    )
    columns = (
        by_group.c.agency_org_id,
        by_group.c.answerable_org_id,
        by_group.c.due_date,
        by_group.c.tracking_code,
    )
    query: Any
    if uow.dialect == "postgresql":
        group = (
            func.unnest(
                bindparam("agencies", [agency for agency, _ in groups], ARRAY(Integer)),
                bindparam("units", [unit for _, unit in groups], ARRAY(Integer)),
            )
            .table_valued("agency", "unit")
            .render_derived(name="grp")
        )
        found = (
            sql_select(*columns)
            .where(
                *alerted,
                by_group.c.agency_org_id == group.c.agency,
                by_group.c.answerable_org_id == group.c.unit,
            )
            .order_by(by_group.c.due_date, by_group.c.tracking_code)
            .limit(limit)
            .correlate(group)
            .lateral("found")
        )
        query = sql_select(found).select_from(group.join(found, true()))
    else:
        group = func.json_each(
            bindparam("groups", json.dumps([[agency, unit] for agency, unit in groups]))
        ).table_valued("value", name="grp")
        ids = (
            sql_select(by_group.c.id)
            .where(
                *alerted,
                by_group.c.agency_org_id == func.json_extract(group.c.value, "$[0]"),
                by_group.c.answerable_org_id == func.json_extract(group.c.value, "$[1]"),
            )
            .order_by(by_group.c.due_date, by_group.c.tracking_code)
            .limit(limit)
            .correlate(group)
        )
        first = assignment.alias("first")
        query = sql_select(
            first.c.agency_org_id,
            first.c.answerable_org_id,
            first.c.due_date,
            first.c.tracking_code,
        ).select_from(group.join(first, first.c.id.in_(ids)))
    rows: list[Any] = list(uow.session.connection().execute(query))
    return [(agency, unit, due, code) for agency, unit, due, code in rows]


def _with_petition_facts(uow: UnitOfWork, digests: dict[int, Digest]) -> dict[int, Digest]:
    """The P8 items listed, with their petition's session and whether its due date was extended
    (P9): read for these few, not for every group's candidates."""
    codes = sorted(
        {
            item.tracking_code
            for digest in digests.values()
            for item in digest.listed
            if item.requirement is Requirement.P8 and item.tracking_code is not None
        }
    )
    if not codes:
        return digests
    facts: dict[str, tuple[int | None, bool]] = {}
    connection = uow.session.connection()
    for first in range(0, len(codes), 900):
        for code, session_id, state in connection.execute(
            select(
                col(Petition.tracking_code), col(Petition.session_id), col(Petition.state)
            ).where(col(Petition.tracking_code).in_(codes[first : first + 900]))
        ):
            facts[code] = (session_id, state == PetitionState.EXTENDED)

    def completed(item: AlertItem) -> AlertItem:
        if item.requirement is not Requirement.P8 or item.tracking_code not in facts:
            return item
        session_id, extended = facts[item.tracking_code]
        return replace(item, session_id=session_id, extended=extended)

    return {
        person_id: replace(digest, listed=tuple(completed(item) for item in digest.listed))
        for person_id, digest in digests.items()
    }


def _local_midnight(day: date) -> datetime:
    return datetime.combine(day, time(0), LOCAL_TIMEZONE).astimezone(UTC)


def _triage_groups(
    uow: UnitOfWork,
    book: DigestBook,
    roles: RoleHolders,
    context: ProcedureContext,
    calendar: WorkingCalendar,
    levels: Mapping[date, AlertLevel],
) -> None:
    """The office inbox: items nobody has triaged yet, due the triage period after the local day
    they came, grouped by their area. The due date only grows with the day of receipt, so each
    level is a range of receipt moments, given to SQL as bounds. Both queries read the index
    ``ix_petition_inbox`` (untriaged items per area by receipt): the counts per area and level
    in one pass along it, then each area's first ``book.limit`` items that carry an alert."""
    today = context.today()

    def due_of(received_on: date) -> date:
        return triage_deadline(calendar, received_on, context.periods).due

    # The latest receipt day already overdue, then each later day up to today with its level.
    overdue_through = today
    while due_of(overdue_through) >= today:
        overdue_through -= timedelta(days=1)
    # Receipt moments per level: before a bound (overdue), or within some local days.
    spans: dict[AlertLevel, list[tuple[datetime | None, datetime]]] = {
        AlertLevel.OVERDUE: [(None, _local_midnight(overdue_through + timedelta(days=1)))]
    }
    day = overdue_through + timedelta(days=1)
    while day <= today:
        day_level = levels.get(due_of(day))
        if day_level is not None:
            spans.setdefault(day_level, []).append(
                (_local_midnight(day), _local_midnight(day + timedelta(days=1)))
            )
        day += timedelta(days=1)

    def received_in(column: Any, level_spans: list[tuple[datetime | None, datetime]]) -> Any:
        return or_(
            *(
                column < end if start is None else and_(column >= start, column < end)
                for start, end in level_spans
            )
        )

    petition = _petitions()
    received = petition.c.received_at
    in_levels = {level: received_in(received, level_spans) for level, level_spans in spans.items()}
    untriaged = (
        petition.c.session_id.is_(None),
        petition.c.state == PetitionState.RECEIVED.value,
        received < _local_midnight(today + timedelta(days=1)),
    )
    connection = uow.session.connection()
    grouped: list[Any] = list(
        connection.execute(
            sql_select(
                petition.c.area_org_id,
                *(func.count().filter(condition) for condition in in_levels.values()),
            )
            .where(*untriaged)
            .group_by(petition.c.area_org_id)
        )
    )
    counts: dict[int, dict[AlertLevel, int]] = {}
    for area, *numbers in grouped:
        by_level = {level: n for level, n in zip(in_levels, numbers, strict=True) if n}
        if by_level:
            counts[area] = by_level
    if not counts:
        return
    by_area = petition.alias("by_area")
    alerted = (
        by_area.c.session_id.is_(None),
        by_area.c.state == PetitionState.RECEIVED.value,
        received_in(by_area.c.received_at, [span for each in spans.values() for span in each]),
    )
    columns = (by_area.c.area_org_id, by_area.c.received_at, by_area.c.tracking_code)
    query: Any
    if uow.dialect == "postgresql":
        area_ids = (
            func.unnest(bindparam("areas", list(counts), ARRAY(Integer)))
            .table_valued("area")
            .render_derived(name="grp")
        )
        found = (
            sql_select(*columns)
            .where(*alerted, by_area.c.area_org_id == area_ids.c.area)
            .order_by(by_area.c.received_at, by_area.c.tracking_code)
            .limit(book.limit)
            .correlate(area_ids)
            .lateral("found")
        )
        query = sql_select(found).select_from(area_ids.join(found, true()))
    else:
        area_ids = func.json_each(bindparam("areas", json.dumps(list(counts)))).table_valued(
            "value", name="grp"
        )
        ids = (
            sql_select(by_area.c.id)
            .where(*alerted, by_area.c.area_org_id == area_ids.c.value)
            .order_by(by_area.c.received_at, by_area.c.tracking_code)
            .limit(book.limit)
            .correlate(area_ids)
        )
        first = petition.alias("first")
        query = sql_select(
            first.c.area_org_id, first.c.received_at, first.c.tracking_code
        ).select_from(area_ids.join(first, first.c.id.in_(ids)))
    late = _LateDays(calendar, today)
    items: dict[int, list[AlertItem]] = {}
    rows: list[Any] = list(connection.execute(query))
    for area, received_at, code in rows:
        due = due_of(to_local(_aware(received_at)).date())
        items.setdefault(area, []).append(
            AlertItem(
                requirement=Requirement.INBOX,
                level=levels.get(due, AlertLevel.OVERDUE),
                due=due,
                late_working_days=late(due),
                label=code,
                tracking_code=code,
            )
        )
    for area, by_level in counts.items():
        book.add_group(
            Requirement.INBOX,
            by_level,
            items.get(area, []),
            _session_owners(roles, area),
            roles.nearest(Role.HEAD, area),
        )


def _petitions() -> Table:
    return Petition.__table__  # type: ignore[attr-defined,no-any-return]


def _aware(moment: datetime) -> datetime:
    """A moment read from a subquery column (the UTC type's conversion does not always apply)."""
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)


class _LateDays:
    """Working days late of a due date, computed once per date."""

    def __init__(self, calendar: WorkingCalendar, today: date) -> None:
        self.calendar, self.today = calendar, today
        self.known: dict[date, int] = {}

    def __call__(self, due: date) -> int:
        if due not in self.known:
            self.known[due] = late_working_days(self.calendar, due, self.today)
        return self.known[due]


def digest_summaries(
    uow: UnitOfWork,
    context: ProcedureContext,
    calendar: WorkingCalendar | None = None,
    limit: int = LISTED_ITEMS,
) -> dict[int, Digest]:
    """Today's digest of every official with something due (whatever the hour): counts per
    level and requirement, and the ``limit`` most urgent items."""
    if calendar is None:
        calendar = load_calendar(uow)
    today = context.today()
    levels = due_levels(calendar, today)
    if not levels:
        return {}  # a day off: no alerts
    roles = role_holders(uow)
    book = DigestBook(limit)
    for deadline in session_deadlines(uow, context, calendar, roles):
        book.add_deadline(calendar, deadline, today)
    _result_groups(uow, book, roles, calendar, today, levels)
    _triage_groups(uow, book, roles, context, calendar, levels)
    return _with_petition_facts(uow, book.digests())


def alert_digests(
    uow: UnitOfWork,
    context: ProcedureContext,
    calendar: WorkingCalendar | None = None,
    limit: int = LISTED_ITEMS,
) -> dict[int, tuple[AlertItem, ...]]:
    """The items today's digest of every official lists, overdue first then the soonest."""
    return {
        person_id: digest.listed
        for person_id, digest in digest_summaries(uow, context, calendar, limit).items()
    }


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
    if expired:
        uow.flush()
    digests = digest_summaries(uow, context, calendar)
    keys = {person_id: digest_key(person_id, today) for person_id in digests}
    queued_already: set[str] = set()
    wanted = list(keys.values())
    for first in range(0, len(wanted), 900):
        queued_already.update(
            uow.session.exec(
                select(OutboxMessage.idempotency_key).where(
                    col(OutboxMessage.idempotency_key).in_(wanted[first : first + 900])
                )
            ).all()
        )
    now = utc_now()
    rows = [
        {
            "idempotency_key": keys[person_id],
            "person_id": person_id,
            "kind": DIGEST_KIND,
            "data": digest_data(today, digest),
            "transactional": False,
            "attempts": 0,
            "created_at": now,
            "available_at": now,
        }
        for person_id, digest in digests.items()
        if keys[person_id] not in queued_already
    ]
    if rows:
        uow.session.execute(insert(OutboxMessage), rows)
    return len(rows)


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
