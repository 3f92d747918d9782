"""Sessions that change: /suaphien edits a plan in any field until it is announced (P1);
/doilich moves an announced session under the 5-working-day rule again (P4); /huyphien cancels
a session. Residents, followers and agencies who were told of it get a notice."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any

from handlers import forms
from handlers.channel import Button
from handlers.flows import staff_sessions
from handlers.forms import Field, Form, Parsed, official_text
from handlers.replies import reply, say
from handlers.turn import Turn
from nlp.dates import parse_date
from procedure.lifecycles import SessionChange, check_session_change
from procedure.permissions import Action
from procedure.use_cases import lookups, session_changes, sessions
from procedure.use_cases.context import require
from procedure.use_cases.sessions import SessionPlan
from texts import format_date, format_datetime, format_span, t, to_local

EDITABLE = ("date", "start", "end", "venue", "chair", "content", "topics", "agencies", "capacity")
TYPED: dict[str, Callable[[Turn, str], Parsed]] = {
    "date": staff_sessions._date,
    "start": staff_sessions._time,
    "end": staff_sessions._end_time,
    "venue": forms.plain_text,
    "chair": forms.plain_text,
    "content": official_text,
    "topics": staff_sessions._topics,
    "capacity": staff_sessions._capacity,
}


def _start(
    form: str,
    action: Action,
    change: SessionChange,
    values: Callable[[Turn, Any], dict[str, Any]],
) -> Callable[[Turn, int], None]:
    def run(turn: Turn, session_id: int) -> None:
        def check() -> Any:
            session = sessions.get_session(turn.uow, session_id)
            require(turn.uow, turn.actor, action, session.org_unit_id)
            check_session_change(session.state, change)  # said before any question is asked
            return session

        session = turn.attempt(check)
        if session is not None:
            forms.start(turn, form, {"session_id": session_id, **values(turn, session)})

    return run


def _plan_values(turn: Turn, session: Any) -> dict[str, Any]:
    plan = session_changes.current_plan(turn.uow, session)
    starts, ends = to_local(plan.starts_at), to_local(plan.ends_at)
    return {
        "unit": str(plan.org_unit_id),
        "date": starts.date().isoformat(),
        "start": starts.strftime("%H:%M"),
        "end": ends.strftime("%H:%M"),
        "venue": plan.venue,
        "chair": plan.chair_name,
        "content": plan.content,
        "topics": list(plan.topics),
        "agencies": [str(a) for a in plan.agency_org_ids],
        "capacity": plan.capacity,
    }


# --- /suaphien ---------------------------------------------------------------------------------


def _fields(turn: Turn, _: dict[str, Any]) -> list[Button]:
    return [Button(t(f"staff.change.field.{name}"), name) for name in EDITABLE]


def _value(turn: Turn, text: str) -> Parsed:
    chosen = staff_sessions.forms_values(turn).get("field")
    parse = TYPED.get(str(chosen))
    return parse(turn, text) if parse else Parsed(error="chat.press_a_button")


def _is_agencies(turn: Turn, values: dict[str, Any]) -> bool:
    return values.get("field") == "agencies"


def _not_agencies(turn: Turn, values: dict[str, Any]) -> bool:
    return values.get("field") != "agencies"


def _merged(values: dict[str, Any]) -> dict[str, Any]:
    merged = dict(values)
    if values.get("field") != "agencies":
        merged[values["field"]] = values.get("value")
    else:
        merged["agencies"] = values.get("new_agencies") or []
    return merged


def _shown(turn: Turn, values: dict[str, Any]) -> str:
    field, merged = values["field"], _merged(values)
    value = merged[field]
    if field == "date":
        return format_date(datetime.fromisoformat(value).date())
    if field == "agencies":
        units = [lookups.org_unit(turn.uow, int(a)) for a in value]
        return ", ".join(u.name for u in units if u) or t("staff.plan.none")
    if field == "topics":
        return "; ".join(value) or t("staff.plan.none")
    return str(value if value is not None else t("staff.plan.unlimited"))


def _edit_summary(turn: Turn, values: dict[str, Any]) -> str:
    return say(
        "staff.change.edit_summary",
        id=values["session_id"],
        field=t(f"staff.change.field.{values['field']}"),
        value=_shown(turn, values),
    )


def _edit_finish(turn: Turn, values: dict[str, Any]) -> None:
    merged = _merged(values)
    plan = SessionPlan(
        org_unit_id=int(merged["unit"]),
        chair_name=merged["chair"],
        venue=merged["venue"],
        starts_at=staff_sessions._moment(merged["date"], merged["start"]),
        ends_at=staff_sessions._moment(merged["date"], merged["end"]),
        content=merged["content"],
        topics=merged.get("topics") or [],
        agency_org_ids=[int(a) for a in merged.get("agencies") or []],
        capacity=merged.get("capacity"),
    )
    session_id = int(values["session_id"])
    session = turn.attempt(
        lambda: session_changes.edit_plan(turn.uow, turn.actor, session_id, plan, turn.context)
    )
    if session is not None:
        turn.send(reply("staff.change.edited", id=session_id))


EDIT = forms.define(
    Form(
        name="suaphien",
        fields=(
            Field("field", "staff.change.ask_field", choices=_fields),
            Field("value", "staff.change.ask_value", parse=_value, skip_if=_is_agencies),
            Field(
                "new_agencies",
                "staff.plan.ask_agencies",
                choices=staff_sessions._agencies,
                multi=True,
                skip_if=_not_agencies,
            ),
        ),
        summary=_edit_summary,
        finish=_edit_finish,
    )
)


# --- /doilich ----------------------------------------------------------------------------------


def _new_date(turn: Turn, text: str) -> Parsed:
    day = parse_date(text)
    if day is None:
        return Parsed(error="staff.input.bad_date", values={"typed": text})
    if day < turn.context.today():
        return Parsed(error="staff.input.past_date", values={"date": format_date(day)})
    lawful = session_changes.lawful_dates(turn.uow, day, turn.context)
    if lawful.too_late:
        return Parsed(
            error="staff.change.too_late",
            values={
                "date": format_date(day),
                "days": turn.context.periods.notice_working_days,
                "latest": format_date(lawful.latest_notice_day),
                "earliest": format_date(lawful.earliest_session_day),
            },
        )
    return Parsed(value=day.isoformat())


def _reschedule_summary(turn: Turn, values: dict[str, Any]) -> str:
    session = sessions.get_session(turn.uow, int(values["session_id"]))
    return say(
        "staff.change.reschedule_summary",
        id=values["session_id"],
        previous=format_datetime(session.starts_at),
        when=format_span(
            staff_sessions._moment(values["date"], values["start"]),
            staff_sessions._moment(values["date"], values["end"]),
        ),
        reason=values["reason"],
    )


def _reschedule_finish(turn: Turn, values: dict[str, Any]) -> None:
    session_id = int(values["session_id"])
    session = turn.attempt(
        lambda: session_changes.reschedule_session(
            turn.uow,
            turn.actor,
            session_id,
            staff_sessions._moment(values["date"], values["start"]),
            staff_sessions._moment(values["date"], values["end"]),
            values["reason"],
            turn.context,
        )
    )
    if session is None:
        return
    turn.send(
        reply(
            "staff.change.rescheduled",
            id=session_id,
            when=format_datetime(session.starts_at),
            count=session_changes.notices_of_last_change(
                turn.uow, session_id, "session.rescheduled"
            ),
        )
    )


RESCHEDULE = forms.define(
    Form(
        name="doilich",
        fields=(
            Field("date", "staff.plan.ask_date", parse=_new_date),
            Field("start", "staff.plan.ask_start", parse=staff_sessions._time),
            Field("end", "staff.plan.ask_end", parse=staff_sessions._end_time),
            Field("reason", "staff.change.ask_reason", parse=official_text),
        ),
        summary=_reschedule_summary,
        finish=_reschedule_finish,
    )
)


# --- /huyphien ---------------------------------------------------------------------------------


def _cancel_summary(turn: Turn, values: dict[str, Any]) -> str:
    session = sessions.get_session(turn.uow, int(values["session_id"]))
    return say(
        "staff.change.cancel_summary",
        id=values["session_id"],
        when=format_datetime(session.starts_at),
        content=session.content,
        reason=values["reason"],
    )


def _cancel_finish(turn: Turn, values: dict[str, Any]) -> None:
    session_id = int(values["session_id"])
    session = turn.attempt(
        lambda: sessions.cancel_session(
            turn.uow, turn.actor, session_id, values["reason"], turn.context
        )
    )
    if session is not None:
        turn.send(
            reply(
                "staff.change.cancelled",
                id=session_id,
                count=session_changes.notices_of_last_change(
                    turn.uow, session_id, "session.cancelled"
                ),
            )
        )


CANCEL = forms.define(
    Form(
        name="huyphien",
        fields=(Field("reason", "staff.change.ask_reason", parse=official_text),),
        summary=_cancel_summary,
        finish=_cancel_finish,
    )
)

edit = _start("suaphien", Action.PLAN_SESSION, SessionChange.EDIT, _plan_values)
reschedule = _start(
    "doilich", Action.ANNOUNCE_SESSION, SessionChange.RESCHEDULE, lambda turn, session: {}
)
cancel = _start("huyphien", Action.CANCEL_SESSION, SessionChange.CANCEL, lambda turn, session: {})
