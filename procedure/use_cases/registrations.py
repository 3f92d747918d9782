"""Registering residents for a session (C1): codes, capacity, waitlist, cancel, check-in (P6)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.exc import IntegrityError
from sqlmodel import func, select

from procedure.codes import new_registration_code, normalise_code
from procedure.errors import NotFound, Refusal
from procedure.lifecycles import RegistrationState, SessionState, check_registration_transition
from procedure.notifications import enqueue
from procedure.permissions import Action, Actor
from procedure.use_cases.context import ProcedureContext, record_event, require
from procedure.use_cases.sessions import get_session
from storage.tables import DialogueSession, Registration
from storage.unit_of_work import UnitOfWork

OPEN_FOR_REGISTRATION = frozenset({SessionState.ANNOUNCED})
CODE_ATTEMPTS = 8


@dataclass(frozen=True)
class RegistrationOutcome:
    registration: Registration
    already_registered: bool


def _registered_count(uow: UnitOfWork, session_id: int) -> int:
    return uow.session.exec(
        select(func.count())
        .select_from(Registration)
        .where(Registration.session_id == session_id)
        .where(Registration.state == RegistrationState.REGISTERED)
    ).one()


def _unused_code(uow: UnitOfWork) -> str:
    for _ in range(CODE_ATTEMPTS):
        code = new_registration_code()
        if (
            uow.session.exec(select(Registration.id).where(Registration.code == code)).first()
            is None
        ):
            return code
    raise RuntimeError("could not draw an unused registration code")


def register(
    uow: UnitOfWork, person_id: int, session_id: int, context: ProcedureContext
) -> RegistrationOutcome:
    """Register ``person_id``; on the waitlist when the session is full. Registering twice
    returns the registration already held."""
    session = get_session(uow, session_id)
    if session.state not in OPEN_FOR_REGISTRATION or session.starts_at <= context.now():
        raise Refusal("refusal.registration_closed")
    existing = uow.session.exec(
        select(Registration)
        .where(Registration.session_id == session_id)
        .where(Registration.person_id == person_id)
    ).first()
    if existing is not None and existing.state != RegistrationState.CANCELLED:
        return RegistrationOutcome(existing, already_registered=True)
    target = _state_for_new(uow, session)
    now = context.now()
    actor = Actor.resident(person_id)
    if existing is None:
        registration = Registration(
            session_id=session_id,
            person_id=person_id,
            code=_unused_code(uow),
            state=target,
            created_at=now,
        )
        previous = None
    else:
        previous = check_registration_transition(existing.state, target)
        registration = existing
        registration.state = target
    uow.session.add(registration)
    try:
        uow.flush()
    except IntegrityError as clash:  # the same person registering twice at once
        raise Refusal("refusal.try_again") from clash
    record_event(
        uow,
        kind=f"registration.{target.value}",
        actor=actor,
        action=None,
        at=now,
        session_id=session_id,
        registration_id=registration.id,
        from_state=previous,
        to_state=target,
    )
    uow.flush()
    return RegistrationOutcome(registration, already_registered=False)


def _state_for_new(uow: UnitOfWork, session: DialogueSession) -> RegistrationState:
    assert session.id is not None
    if session.capacity is not None and _registered_count(uow, session.id) >= session.capacity:
        return RegistrationState.WAITLISTED
    return RegistrationState.REGISTERED


def cancel_registration(
    uow: UnitOfWork, person_id: int, session_id: int, context: ProcedureContext
) -> Registration:
    """Cancel one's registration; the first on the waitlist takes the freed place."""
    registration = uow.session.exec(
        select(Registration)
        .where(Registration.session_id == session_id)
        .where(Registration.person_id == person_id)
    ).first()
    if registration is None or registration.state == RegistrationState.CANCELLED:
        raise NotFound("refusal.registration_not_found")
    previous = check_registration_transition(registration.state, RegistrationState.CANCELLED)
    now = context.now()
    registration.state = RegistrationState.CANCELLED
    uow.session.add(registration)
    record_event(
        uow,
        kind="registration.cancelled",
        actor=Actor.resident(person_id),
        action=None,
        at=now,
        session_id=session_id,
        registration_id=registration.id,
        from_state=previous,
        to_state=RegistrationState.CANCELLED,
    )
    if previous == RegistrationState.REGISTERED:
        _promote_from_waitlist(uow, session_id, context)
    uow.flush()
    return registration


def _promote_from_waitlist(uow: UnitOfWork, session_id: int, context: ProcedureContext) -> None:
    uow.flush()
    session = get_session(uow, session_id)
    if session.capacity is not None and _registered_count(uow, session_id) >= session.capacity:
        return
    first = uow.session.exec(
        select(Registration)
        .where(Registration.session_id == session_id)
        .where(Registration.state == RegistrationState.WAITLISTED)
        .order_by(Registration.created_at, Registration.id)  # type: ignore[arg-type]
    ).first()
    if first is None:
        return
    first.state = RegistrationState.REGISTERED
    uow.session.add(first)
    record_event(
        uow,
        kind="registration.promoted",
        actor=Actor.system(),
        action=None,
        at=context.now(),
        session_id=session_id,
        registration_id=first.id,
        from_state=RegistrationState.WAITLISTED,
        to_state=RegistrationState.REGISTERED,
    )
    enqueue(
        uow,
        person_id=first.person_id,
        kind="registration.promoted",
        data={"session_id": session_id, "code": first.code},
        key=f"registration:{first.id}:promoted:{context.now().isoformat()}",
    )


def attended_at(uow: UnitOfWork, session_id: int, typed_code: str) -> datetime | None:
    """When the registration with this code was checked in, if it was: a second check-in with
    the same code is flagged (someone may be using another person's code)."""
    return uow.session.exec(
        select(Registration.attended_at)
        .where(Registration.session_id == session_id)
        .where(Registration.code == normalise_code(typed_code))
    ).first()


def check_in(
    uow: UnitOfWork, actor: Actor, session_id: int, typed_code: str, context: ProcedureContext
) -> Registration:
    """P6: a registered resident arrives; staff enter the registration code."""
    session = get_session(uow, session_id)
    require(uow, actor, Action.CONDUCT_SESSION, session.org_unit_id)
    code = normalise_code(typed_code)
    registration = uow.session.exec(
        select(Registration)
        .where(Registration.session_id == session_id)
        .where(Registration.code == code)
    ).first()
    if registration is None or registration.state != RegistrationState.REGISTERED:
        raise NotFound("refusal.registration_code_unknown", code=typed_code.strip())
    if registration.attended_at is not None:
        return registration
    now = context.now()
    registration.attended_at = now
    uow.session.add(registration)
    record_event(
        uow,
        kind="registration.checked_in",
        actor=actor,
        action=Action.CONDUCT_SESSION,
        at=now,
        session_id=session_id,
        registration_id=registration.id,
    )
    uow.flush()
    return registration
