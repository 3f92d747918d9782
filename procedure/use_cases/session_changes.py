"""Sessions that change: a plan edited before it is announced (P1), an announced session moved
to another date under the 5-working-day rule again (P4). Cancelling is sessions.cancel_session.

Use cases here never commit: the caller owns the transaction.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from sqlmodel import col, delete, func, select

from procedure.errors import Refusal
from procedure.lifecycles import SessionChange, check_session_change
from procedure.permissions import Action, Actor
from procedure.use_cases.context import ProcedureContext, load_calendar, record_event, require
from procedure.use_cases.sessions import (
    SessionPlan,
    check_plan,
    get_session,
    notify_session_change,
    write_agenda,
)
from storage.tables import AgendaItem, DialogueSession, Event, OutboxMessage, SessionAgency
from storage.unit_of_work import UnitOfWork
from texts import format_date, to_local


def current_plan(uow: UnitOfWork, session: DialogueSession) -> SessionPlan:
    """The plan of a session as it stands, to be edited field by field."""
    agenda = uow.session.exec(
        select(AgendaItem)
        .where(AgendaItem.session_id == session.id)
        .where(AgendaItem.step == "topic")
        .order_by(col(AgendaItem.position))
    ).all()
    agencies = uow.session.exec(
        select(SessionAgency.org_unit_id).where(SessionAgency.session_id == session.id)
    ).all()
    return SessionPlan(
        org_unit_id=session.org_unit_id,
        chair_name=session.chair_name,
        venue=session.venue,
        starts_at=session.starts_at,
        ends_at=session.ends_at,
        content=session.content,
        topics=[item.title for item in agenda],
        agency_org_ids=list(agencies),
        capacity=session.capacity,
        chair_person_id=session.chair_person_id,
    )


def _changed_fields(before: SessionPlan, after: SessionPlan) -> list[str]:
    names = (
        "chair_name",
        "venue",
        "starts_at",
        "ends_at",
        "content",
        "topics",
        "agency_org_ids",
        "capacity",
    )
    return [
        name
        for name in names
        if _comparable(getattr(before, name)) != _comparable(getattr(after, name))
    ]


def _comparable(value: object) -> object:
    if isinstance(value, datetime):
        return to_local(value)
    if isinstance(value, list | tuple):
        return list(value)
    return value


def edit_plan(
    uow: UnitOfWork,
    actor: Actor,
    session_id: int,
    plan: SessionPlan,
    context: ProcedureContext,
) -> DialogueSession:
    """P1: a plan may be changed in any field until it is announced. The unit stays the same."""
    session = get_session(uow, session_id)
    require(uow, actor, Action.PLAN_SESSION, session.org_unit_id)
    check_session_change(session.state, SessionChange.EDIT)
    if plan.org_unit_id != session.org_unit_id:
        require(uow, actor, Action.PLAN_SESSION, plan.org_unit_id)
    check_plan(uow, plan, context)
    changed = _changed_fields(current_plan(uow, session), plan)
    session.org_unit_id = plan.org_unit_id
    session.chair_name = plan.chair_name.strip()
    session.venue = plan.venue.strip()
    session.starts_at = plan.starts_at
    session.ends_at = plan.ends_at
    session.content = plan.content.strip()
    session.capacity = plan.capacity
    uow.session.add(session)
    uow.session.exec(delete(AgendaItem).where(col(AgendaItem.session_id) == session_id))  # type: ignore[call-overload]
    uow.session.exec(delete(SessionAgency).where(col(SessionAgency.session_id) == session_id))  # type: ignore[call-overload]
    uow.flush()
    write_agenda(uow, session_id, plan)
    record_event(
        uow,
        kind="session.edited",
        actor=actor,
        action=Action.PLAN_SESSION,
        at=context.now(),
        session_id=session_id,
        details={"changed": changed},
    )
    uow.flush()
    return session


@dataclass(frozen=True)
class LawfulDates:
    """P4 for a session day: the last day the invitation may go out, and, when that is past,
    the earliest session day that an invitation sent today still allows."""

    latest_notice_day: date
    too_late: bool
    earliest_session_day: date


def lawful_dates(uow: UnitOfWork, session_day: date, context: ProcedureContext) -> LawfulDates:
    calendar = load_calendar(uow)
    days = context.periods.notice_working_days
    window = calendar.notice_window(session_day, days)
    today = context.today()
    return LawfulDates(
        latest_notice_day=window.latest_day,
        too_late=today > window.latest_day,
        earliest_session_day=calendar.earliest_session_day(today, days),
    )


def reschedule_session(
    uow: UnitOfWork,
    actor: Actor,
    session_id: int,
    starts_at: datetime,
    ends_at: datetime,
    reason: str,
    context: ProcedureContext,
) -> DialogueSession:
    """P4 again: an announced session moves to a new date only if the notice of it can still
    reach residents at least 5 working days before; everyone who was told of the session (its
    registered residents, the followers of its area, its agencies) gets the notice."""
    session = get_session(uow, session_id)
    require(uow, actor, Action.ANNOUNCE_SESSION, session.org_unit_id)
    check_session_change(session.state, SessionChange.RESCHEDULE)
    if not reason.strip():
        raise Refusal("refusal.reason_missing")
    if ends_at <= starts_at:
        raise Refusal("refusal.session_end_before_start")
    new_day = to_local(starts_at).date()
    if new_day < context.today():
        raise Refusal("refusal.session_in_past", date=format_date(new_day))
    dates = lawful_dates(uow, new_day, context)
    if dates.too_late:
        raise Refusal(
            "refusal.invitation_too_late",
            days=context.periods.notice_working_days,
            session_date=format_date(new_day),
            latest=format_date(dates.latest_notice_day),
            earliest=format_date(dates.earliest_session_day),
        )
    previous_start, previous_end = session.starts_at, session.ends_at
    session.starts_at, session.ends_at = starts_at, ends_at
    uow.session.add(session)
    changes = uow.session.exec(
        select(Event.id)
        .where(Event.session_id == session_id)
        .where(Event.kind == "session.rescheduled")
    ).all()
    record_event(
        uow,
        kind="session.rescheduled",
        actor=actor,
        action=Action.ANNOUNCE_SESSION,
        at=context.now(),
        session_id=session_id,
        reason=reason.strip(),
        details={
            "previous_starts_at": previous_start.isoformat(),
            "previous_ends_at": previous_end.isoformat(),
            "starts_at": starts_at.isoformat(),
        },
    )
    notify_session_change(
        uow,
        session,
        "session.rescheduled",
        {
            "previous_starts_at": previous_start.isoformat(),
            "previous_ends_at": previous_end.isoformat(),
            "reason": reason.strip(),
        },
        serial=f"rescheduled-{len(changes) + 1}",
    )
    uow.flush()
    return session


def notices_of_last_change(uow: UnitOfWork, session_id: int, kind: str) -> int:
    """How many notices the last reschedule (``session.rescheduled``) or the cancellation
    (``session.cancelled``) of a session queued."""
    if kind == "session.rescheduled":
        serial = "rescheduled-{}".format(
            len(
                uow.session.exec(
                    select(Event.id)
                    .where(Event.session_id == session_id)
                    .where(Event.kind == "session.rescheduled")
                ).all()
            )
        )
    else:
        serial = "cancelled"
    return int(
        uow.session.exec(
            select(func.count())
            .select_from(OutboxMessage)
            .where(col(OutboxMessage.idempotency_key).startswith(f"{kind}:{session_id}:{serial}:"))
        ).one()
    )
