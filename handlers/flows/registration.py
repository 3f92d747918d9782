"""/phien — upcoming sessions of the resident's area; /dangky — register (C1), with consent
first (X3), then the details; the registration code; a waitlist when full; cancelling."""

from __future__ import annotations

from typing import Any

from handlers.calendar_file import session_document
from handlers.channel import Outgoing
from handlers.flows.profile import ensure_area, ensure_profile
from handlers.replies import Html, button, one_per_row, reply, say
from handlers.turn import Turn, entry, go, step
from procedure.lifecycles import RegistrationState
from procedure.use_cases import lookups
from procedure.use_cases.registrations import cancel_registration, register
from procedure.use_cases.residents import area_of_person, upcoming_sessions
from texts import format_datetime, format_span

FLOW = "dangky"


def session_card(turn: Turn, session: Any) -> str:
    unit = lookups.org_unit(turn.uow, session.org_unit_id)
    return say(
        "chat.sessions.card",
        content=session.content,
        when=format_span(session.starts_at, session.ends_at),
        venue=session.venue,
        chair=session.chair_name,
        unit=unit.name if unit else "",
    )


def session_buttons(session_id: int) -> tuple[tuple, ...]:
    return (
        (button("chat.sessions.register", f"reg:{session_id}"),),
        (button("chat.sessions.send_opinion", f"opinion:{session_id}"),),
    )


def list_sessions(turn: Turn) -> None:
    """/phien: the sessions of the resident's ward (asked once, changeable with /khuvuc)."""
    if turn.state != "idle" or ensure_area(turn, "sessions.list"):
        show_sessions(turn)


@entry("sessions.list", "phien")
def after_area(turn: Turn) -> None:
    turn.conversation.reset(keep=("opinion",))
    show_sessions(turn)


def show_sessions(turn: Turn) -> None:
    area_id = area_of_person(turn.uow, turn.person_id)
    area = lookups.org_unit(turn.uow, area_id)
    if area is None:
        # No ward set yet (asked in the middle of another step): say so, and how to set it.
        turn.send(reply("chat.sessions.no_area"))
        return
    sessions = upcoming_sessions(turn.uow, area_id, turn.context.now())
    if not sessions:
        turn.send(reply("chat.sessions.none", area=area.name))
        return
    turn.send(reply("chat.sessions.heading", area=area.name, count=len(sessions)))
    for session in sessions[:10]:
        assert session.id is not None
        turn.send(Outgoing(text=session_card(turn, session), buttons=session_buttons(session.id)))


def show_session_page(turn: Turn, session_id: int) -> None:
    """/start s<id>: the deep link on an invitation or its QR code."""
    session = lookups.session(turn.uow, session_id)
    if session is None or session.state not in {"announced", "held"}:
        turn.send(reply("chat.sessions.not_found"))
        return
    turn.send(Outgoing(text=session_card(turn, session), buttons=session_buttons(session_id)))


def start(turn: Turn, session_id: int | None = None) -> None:
    """/dangky [session]: the resident's registrations, then the sessions to register for."""
    if session_id is not None:
        turn.data["registration"] = {"session_id": session_id}
        if ensure_profile(turn, "dangky.register"):
            go(turn, "dangky.register")
        return
    mine = lookups.active_registrations(turn.uow, turn.person_id, turn.context.now())
    for registration, session in mine:
        turn.send(
            Outgoing(
                text=say(
                    "chat.registration.yours",
                    code=registration.code,
                    state=say(f"state.registration.{registration.state}"),
                    card=Html(session_card(turn, session)),
                ),
                buttons=((button("chat.registration.cancel", f"unreg:{session.id}"),),),
            )
        )
    area_id = area_of_person(turn.uow, turn.person_id)
    sessions = [
        s
        for s in upcoming_sessions(turn.uow, area_id, turn.context.now())
        if s.id not in {session.id for _, session in mine}
    ]
    if not sessions:
        # "khác" only when the resident is already registered for one.
        turn.send(reply("chat.registration.nothing_other" if mine else "chat.registration.none"))
        return
    turn.send(
        Outgoing(
            text=say("chat.registration.choose"),
            buttons=one_per_row(
                button(
                    "chat.opinion.session_option",
                    f"reg:{s.id}",
                    when=format_datetime(s.starts_at),
                    content=s.content[:40],
                )
                for s in sessions[:8]
            ),
        )
    )


@entry("dangky.register", FLOW)
def do_register(turn: Turn) -> None:
    details = turn.data.get("registration")
    session_id = details.get("session_id") if isinstance(details, dict) else None
    if not isinstance(session_id, int):
        turn.conversation.reset(keep=("opinion",))
        return
    outcome = turn.attempt(lambda: register(turn.uow, turn.person_id, session_id, turn.context))
    turn.data.pop("registration", None)
    turn.conversation.reset(keep=("opinion",))
    if outcome is None:
        return
    session = lookups.session(turn.uow, session_id)
    assert session is not None
    registration = outcome.registration
    key = (
        "chat.registration.already"
        if outcome.already_registered
        else "chat.registration.waitlisted"
        if registration.state == RegistrationState.WAITLISTED
        else "chat.registration.done"
    )
    unit = lookups.org_unit(turn.uow, session.org_unit_id)
    turn.send(
        Outgoing(
            text=say(key, code=registration.code, card=Html(session_card(turn, session))),
            buttons=((button("chat.registration.cancel", f"unreg:{session_id}"),),),
            # A registered seat comes with the session as a calendar file (B3).
            document=session_document(session, unit=unit.name if unit else "")
            if registration.state == RegistrationState.REGISTERED
            else None,
        )
    )


@step("dangky.register", FLOW)
def answer_register(turn: Turn) -> None:
    do_register(turn)


def cancel(turn: Turn, session_id: int) -> None:
    done = turn.attempt(
        lambda: cancel_registration(turn.uow, turn.person_id, session_id, turn.context)
    )
    if done is not None:
        turn.send(reply("chat.registration.cancelled"))
