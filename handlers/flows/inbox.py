"""/hopthu — the office inbox: items sent outside any session, oldest first, each with the
actions the viewer may take (forward, keep for a session, answer, duplicate, transfer, decline);
/cauhoi — the questions waiting for an answer (Q6)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from typing import Any

from handlers import forms
from handlers.channel import Button, Outgoing
from handlers.forms import Field, Form, Parsed, official_text, plain_text
from handlers.place_lines import photos_button, place_lines
from handlers.replies import button, reply, say
from handlers.turn import Turn
from procedure.errors import NotFound
from procedure.permissions import ROLE_ACTIONS, Action, Actor
from procedure.use_cases import inbox as use_cases
from procedure.use_cases.context import load_calendar, require
from procedure.use_cases.lookups import org_unit
from procedure.use_cases.petitions import PetitionKind, mark_duplicate, petition_by_code
from texts import format_date, t, to_local

LISTED = 15


def _may(actor: Actor, action: Action) -> bool:
    return actor.is_system or any(action in ROLE_ACTIONS[g.role] for g in actor.grants)


def item_buttons(actor: Actor, petition: Any) -> tuple[tuple[Button, ...], ...]:
    """Only the actions this viewer may take on this item (a monitor gets none)."""
    code = petition.tracking_code
    rows: list[tuple[Button, ...]] = []
    if _may(actor, Action.TRIAGE_PETITION):
        rows.append(
            (
                button("staff.inbox.forward", f"staff:chuyen:{code}"),
                button("staff.inbox.keep", f"staff:dedanh:{code}"),
            )
        )
    if petition.kind == PetitionKind.QUESTION and _may(actor, Action.ANSWER_QUESTION):
        rows.append((button("staff.inbox.answer", f"staff:traloi:{code}"),))
    if _may(actor, Action.MARK_DUPLICATE) and _may(actor, Action.TRIAGE_PETITION):
        rows.append((button("staff.inbox.duplicate", f"staff:trungvoi:{code}"),))
    if _may(actor, Action.TRIAGE_PETITION):
        rows.append(
            (
                button("staff.inbox.transfer", f"staff:chuyenngoai:{code}"),
                button("staff.inbox.decline", f"staff:tuchoi:{code}"),
            )
        )
    return tuple(rows)


def show_inbox(turn: Turn, _: str = "") -> None:
    items = use_cases.inbox(turn.uow, turn.actor, turn.context)
    if not items:
        turn.send(reply("staff.inbox.none"))
        return
    turn.send(
        reply(
            "staff.inbox.heading",
            count=len(items),
            days=turn.context.periods.triage_working_days,
        )
    )
    for item in items[:LISTED]:
        petition = item.petition
        turn.send(
            Outgoing(
                text=say(
                    "staff.inbox.overdue" if item.overdue else "staff.inbox.item",
                    code=petition.tracking_code,
                    kind=t(f"petition_kind.{petition.kind}"),
                    topic=item.topic,
                    area=item.area,
                    received=format_date(item.received_on),
                    waited=item.waited_working_days,
                    due=format_date(item.triage_due),
                    late=item.overdue_working_days,
                    name=petition.petitioner_name,
                    text=petition.text[:400],
                )
                + place_lines(item.place, petition.tracking_code),
                buttons=(
                    *item_buttons(turn.actor, petition),
                    *(
                        photos_button(item.place, petition.tracking_code)
                        if _may(turn.actor, Action.VIEW_PETITION_PHOTOS)
                        else ()
                    ),
                ),
            )
        )
    if len(items) > LISTED:
        turn.send(reply("staff.inbox.more", count=len(items) - LISTED))


def show_questions(turn: Turn, _: str = "") -> None:
    """Q6: the questions waiting for an answer, each with its answer button."""
    items = use_cases.questions_waiting(turn.uow, turn.actor, turn.context)
    if not items:
        turn.send(reply("staff.questions.none"))
        return
    turn.send(reply("staff.questions.heading", count=len(items)))
    for item in items[:LISTED]:
        petition = item.petition
        turn.send(
            Outgoing(
                text=say(
                    "staff.questions.item",
                    code=petition.tracking_code,
                    topic=item.topic,
                    received=format_date(item.received_on),
                    waited=item.waited_working_days,
                    name=petition.petitioner_name,
                    text=petition.text[:400],
                ),
                buttons=(
                    (button("staff.inbox.answer", f"staff:traloi:{petition.tracking_code}"),),
                ),
            )
        )
    if len(items) > LISTED:
        turn.send(reply("staff.inbox.more", count=len(items) - LISTED))


def _start(form: str) -> Callable[[Turn, str], None]:
    """/chuyen, /trungvoi, /chuyenngoai, /tuchoi <code>: the item must be the actor's to triage."""

    def run(turn: Turn, code: str) -> None:
        if not code.strip():
            turn.send(reply("staff.input.code_needed"))
            return

        def check() -> str:
            petition = petition_by_code(turn.uow, code)
            require(turn.uow, turn.actor, Action.TRIAGE_PETITION, petition.area_org_id)
            return petition.tracking_code

        tracking_code = turn.attempt(check)
        if tracking_code is None:
            return
        petition = petition_by_code(turn.uow, tracking_code)
        turn.send(
            reply(
                "staff.petition.card",
                code=tracking_code,
                name=petition.petitioner_name,
                text=petition.text[:1500],
                state=t(f"state.petition.{petition.state}"),
            )
        )
        forms.start(turn, form, {"code": tracking_code})

    return run


def keep(turn: Turn, code: str) -> None:
    """/dedanh <code>: keep the item for the agenda of the unit's next session (P3)."""
    if not code.strip():
        turn.send(reply("staff.input.code_needed"))
        return
    tracking_code = code.strip().upper()
    # (the next session, or None when none is planned yet), or None when refused
    kept = turn.attempt(
        lambda: (use_cases.keep_for_session(turn.uow, turn.actor, code, turn.context),)
    )
    if kept is None:
        return
    (session,) = kept
    if session is None:
        turn.send(reply("staff.inbox.kept_later", code=tracking_code))
        return
    turn.send(
        reply(
            "staff.inbox.kept",
            code=tracking_code,
            id=session.id,
            day=format_date(to_local(session.starts_at).date()),
        )
    )


# --- forward -----------------------------------------------------------------------------------


def _agencies(turn: Turn, values: dict[str, Any]) -> list[Button]:
    petition = petition_by_code(turn.uow, values["code"])
    return [Button(unit.name, str(unit.id)) for unit in use_cases.agencies_for(turn.uow, petition)]


def _no_typing(turn: Turn, _: str) -> Parsed:
    return Parsed(error="chat.press_a_button")


def _forward_due(turn: Turn) -> date:
    calendar = load_calendar(turn.uow)
    return calendar.add_working_days(
        turn.context.today(), turn.context.periods.inbox_result_working_days
    ).due


def _forward_summary(turn: Turn, values: dict[str, Any]) -> str:
    agency = org_unit(turn.uow, int(values["agency"]))
    return say(
        "staff.inbox.forward_summary",
        code=values["code"],
        agency=agency.name if agency else "",
        today=format_date(turn.context.today()),
        days=turn.context.periods.inbox_result_working_days,
        due=format_date(_forward_due(turn)),
    )


def _forward_finish(turn: Turn, values: dict[str, Any]) -> None:
    assignment = turn.attempt(
        lambda: use_cases.forward_petition(
            turn.uow, turn.actor, values["code"], int(values["agency"]), turn.context
        )
    )
    if assignment is None:
        return
    agency = org_unit(turn.uow, assignment.agency_org_id)
    turn.send(
        reply(
            "staff.inbox.forwarded",
            code=values["code"],
            agency=agency.name if agency else "",
            due=format_date(assignment.due_date),
        )
    )


FORWARD = forms.define(
    Form(
        name="chuyen",
        fields=(Field("agency", "staff.inbox.ask_agency", parse=_no_typing, choices=_agencies),),
        summary=_forward_summary,
        finish=_forward_finish,
    )
)


# --- duplicate ---------------------------------------------------------------------------------


def _original(turn: Turn, text: str) -> Parsed:
    try:
        original = petition_by_code(turn.uow, text)
    except NotFound:
        return Parsed(error="refusal.petition_not_found")
    return Parsed(value=original.tracking_code)


def _duplicate_summary(turn: Turn, values: dict[str, Any]) -> str:
    return say("staff.inbox.duplicate_summary", code=values["code"], original=values["original"])


def _duplicate_finish(turn: Turn, values: dict[str, Any]) -> None:
    def mark() -> object:
        copy = petition_by_code(turn.uow, values["code"])
        original = petition_by_code(turn.uow, values["original"])
        require(turn.uow, turn.actor, Action.TRIAGE_PETITION, copy.area_org_id)
        return mark_duplicate(turn.uow, turn.actor, copy.id, original.id, turn.context)  # type: ignore[arg-type]

    if turn.attempt(mark) is not None:
        turn.send(reply("staff.inbox.duplicated", code=values["code"], original=values["original"]))


DUPLICATE = forms.define(
    Form(
        name="trungvoi",
        fields=(Field("original", "staff.inbox.ask_original", parse=_original),),
        summary=_duplicate_summary,
        finish=_duplicate_finish,
    )
)


# --- transfer, decline ---------------------------------------------------------------------------


def _transfer_summary(turn: Turn, values: dict[str, Any]) -> str:
    return say(
        "staff.inbox.transfer_summary",
        code=values["code"],
        body=values["body"],
        reason=values["reason"],
    )


def _transfer_finish(turn: Turn, values: dict[str, Any]) -> None:
    done = turn.attempt(
        lambda: use_cases.transfer_petition(
            turn.uow, turn.actor, values["code"], values["body"], values["reason"], turn.context
        )
    )
    if done is not None:
        turn.send(reply("staff.inbox.transferred", code=values["code"], body=values["body"]))


TRANSFER = forms.define(
    Form(
        name="chuyenngoai",
        fields=(
            Field("body", "staff.inbox.ask_body", parse=plain_text),
            Field("reason", "staff.inbox.ask_transfer_reason", parse=official_text),
        ),
        summary=_transfer_summary,
        finish=_transfer_finish,
    )
)


def _decline_summary(turn: Turn, values: dict[str, Any]) -> str:
    return say("staff.inbox.decline_summary", code=values["code"], reason=values["reason"])


def _decline_finish(turn: Turn, values: dict[str, Any]) -> None:
    done = turn.attempt(
        lambda: use_cases.decline_petition(
            turn.uow, turn.actor, values["code"], values["reason"], turn.context
        )
    )
    if done is not None:
        turn.send(reply("staff.inbox.declined", code=values["code"]))


DECLINE = forms.define(
    Form(
        name="tuchoi",
        fields=(Field("reason", "staff.inbox.ask_decline_reason", parse=official_text),),
        summary=_decline_summary,
        finish=_decline_finish,
    )
)

forward = _start("chuyen")
duplicate = _start("trungvoi")
transfer = _start("chuyenngoai")
decline = _start("tuchoi")

__all__ = [
    "decline",
    "duplicate",
    "forward",
    "keep",
    "show_inbox",
    "show_questions",
    "transfer",
]
