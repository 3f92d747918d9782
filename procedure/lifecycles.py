"""Which state may follow which: sessions, petitions and registrations.

Plain tables a reader who knows the regulation can check line by line.
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import TypeVar

from procedure.errors import InvalidTransition
from texts import t


class SessionState(StrEnum):
    DRAFT = "draft"  # planned by the office (P1)
    ANNOUNCED = "announced"  # invitation sent at least 5 working days ahead (P4)
    HELD = "held"  # the session took place (P6)
    CONCLUDED = "concluded"  # the head's conclusions notified to the agencies (P7)
    CLOSED = "closed"  # every follow-up done; archived
    CANCELLED = "cancelled"


class PetitionState(StrEnum):
    RECEIVED = "received"
    FORWARDED = "forwarded"  # assigned to an agency with the head's conclusion (P7)
    EXTENDED = "extended"  # the agency gave written notice of a new deadline (P9)
    ANSWERED = "answered"  # the written result was sent (P8)
    ANSWERED_DIRECTLY = "answered_directly"  # staff replied directly, for questions (Q6)
    MERGED = "merged"  # a duplicate of another petition; follows the original's answer
    # "Is it resolved?" (issue 13): the petitioner said the problem was not (or only partly)
    # resolved after the written result; back to the same agency with a new due date.
    REOPENED = "reopened"
    # The office inbox (items sent outside any session):
    KEPT = "kept"  # kept for the agenda of the unit's next session (P3)
    TRANSFERRED = "transferred"  # sent on to the competent body outside the unit, in writing
    DECLINED = "declined"  # not taken up, with the reason, in writing


class RegistrationState(StrEnum):
    REGISTERED = "registered"
    WAITLISTED = "waitlisted"
    CANCELLED = "cancelled"


SESSION_TRANSITIONS: dict[SessionState, frozenset[SessionState]] = {
    SessionState.DRAFT: frozenset({SessionState.ANNOUNCED, SessionState.CANCELLED}),
    SessionState.ANNOUNCED: frozenset({SessionState.HELD, SessionState.CANCELLED}),
    SessionState.HELD: frozenset({SessionState.CONCLUDED}),
    SessionState.CONCLUDED: frozenset({SessionState.CLOSED}),
    SessionState.CLOSED: frozenset(),
    SessionState.CANCELLED: frozenset(),
}

# What the office may do with a received item (the inbox triage) and with one kept for a
# session: forward it to an agency of the unit, keep it for the next session's agenda, answer it
# directly, mark it a duplicate, transfer it to the competent body outside the unit, or decline it.
_TRIAGE = frozenset(
    {
        PetitionState.FORWARDED,
        PetitionState.KEPT,
        PetitionState.ANSWERED_DIRECTLY,
        PetitionState.MERGED,
        PetitionState.TRANSFERRED,
        PetitionState.DECLINED,
    }
)

PETITION_TRANSITIONS: dict[PetitionState, frozenset[PetitionState]] = {
    PetitionState.RECEIVED: _TRIAGE,
    # Kept for a session: concluded there (forwarded) or still triaged like any received item.
    PetitionState.KEPT: _TRIAGE - {PetitionState.KEPT},
    PetitionState.FORWARDED: frozenset(
        {PetitionState.EXTENDED, PetitionState.ANSWERED, PetitionState.MERGED}
    ),
    # P9: a complex case may be extended again, each time in writing.
    PetitionState.EXTENDED: frozenset(
        {PetitionState.EXTENDED, PetitionState.ANSWERED, PetitionState.MERGED}
    ),
    # Issue 13: a written result the petitioner says did not (fully) resolve the problem.
    PetitionState.ANSWERED: frozenset({PetitionState.REOPENED}),
    # Reopened: the same agency answers again in writing, or extends in writing (P8, P9).
    PetitionState.REOPENED: frozenset(
        {PetitionState.EXTENDED, PetitionState.ANSWERED, PetitionState.MERGED}
    ),
    PetitionState.ANSWERED_DIRECTLY: frozenset(),
    PetitionState.MERGED: frozenset(),
    PetitionState.TRANSFERRED: frozenset(),
    PetitionState.DECLINED: frozenset(),
}


class SessionChange(StrEnum):
    """Changes to a session that are not a step of the procedure."""

    EDIT = "edit"  # any field of the plan (P1), before anyone was invited
    RESCHEDULE = "reschedule"  # a new date and time; the 5-working-day rule again (P4)
    CANCEL = "cancel"  # with a notice to everyone who was told of it


# Which change each state allows: a plan is edited until it is announced; an announced session
# keeps its invitations' content and may only be moved or cancelled, with notices.
SESSION_CHANGES: dict[SessionState, frozenset[SessionChange]] = {
    SessionState.DRAFT: frozenset({SessionChange.EDIT, SessionChange.CANCEL}),
    SessionState.ANNOUNCED: frozenset({SessionChange.RESCHEDULE, SessionChange.CANCEL}),
    SessionState.HELD: frozenset(),
    SessionState.CONCLUDED: frozenset(),
    SessionState.CLOSED: frozenset(),
    SessionState.CANCELLED: frozenset(),
}


REGISTRATION_TRANSITIONS: dict[RegistrationState, frozenset[RegistrationState]] = {
    RegistrationState.REGISTERED: frozenset({RegistrationState.CANCELLED}),
    RegistrationState.WAITLISTED: frozenset(
        {RegistrationState.REGISTERED, RegistrationState.CANCELLED}
    ),
    RegistrationState.CANCELLED: frozenset(
        {RegistrationState.REGISTERED, RegistrationState.WAITLISTED}
    ),
}

OPEN_PETITION_STATES = frozenset(
    {
        PetitionState.RECEIVED,
        PetitionState.KEPT,
        PetitionState.FORWARDED,
        PetitionState.EXTENDED,
        PetitionState.REOPENED,
    }
)
# Waiting for the office to decide what to do with them (the inbox, and /ketluan of a session).
UNTRIAGED_PETITION_STATES = frozenset({PetitionState.RECEIVED, PetitionState.KEPT})


State = TypeVar("State", SessionState, PetitionState, RegistrationState)


def _check(
    kind: str, transitions: dict[State, frozenset[State]], current: State, target: State
) -> State:
    if target not in transitions[current]:
        raise InvalidTransition(
            f"refusal.{kind}_transition",
            current=state_label(kind, current),
            target=state_label(kind, target),
        )
    return current


def may_mark_held(state: str, starts_at: datetime, now: datetime) -> bool:
    """P6: a session is recorded as held (/ketthuc) once it was announced and has started —
    never before its start time, even on its day. The "end session" button follows this."""
    return state == SessionState.ANNOUNCED and now >= starts_at


def check_session_transition(current: str, target: SessionState) -> SessionState:
    return _check("session", SESSION_TRANSITIONS, SessionState(current), target)


def check_petition_transition(current: str, target: PetitionState) -> PetitionState:
    return _check("petition", PETITION_TRANSITIONS, PetitionState(current), target)


def check_session_change(current: str, change: SessionChange) -> SessionState:
    state = SessionState(current)
    if change not in SESSION_CHANGES[state]:
        raise InvalidTransition(
            f"refusal.session_change.{change.value}", current=state_label("session", state)
        )
    return state


def check_registration_transition(current: str, target: RegistrationState) -> RegistrationState:
    return _check("registration", REGISTRATION_TRANSITIONS, RegistrationState(current), target)


def state_label(kind: str, state: StrEnum) -> str:
    """The Vietnamese name of a state, as residents and officials read it."""
    return t(f"state.{kind}.{state.value}")
