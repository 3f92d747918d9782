"""Office staff and heads in chat: plan a session (P1), announce it (P4, P5), and run the day
(P6): registrations, opinions by topic, check-in by code, opinions raised in the room, held."""

from __future__ import annotations

from datetime import datetime, time
from typing import Any

from handlers import forms
from handlers.channel import Button, Outgoing
from handlers.forms import Field, Form, Parsed, official_text, plain_text
from handlers.parsing import parse_count, parse_id
from handlers.replies import Html, button, one_per_row, reply, say
from handlers.turn import Turn, step
from nlp.dates import read_when
from nlp.names import title_case
from nlp.phone import PhoneStatus, parse_phone
from procedure.explain import describe_day
from procedure.lifecycles import may_mark_held
from procedure.permissions import ROLE_ACTIONS, Action, Actor
from procedure.use_cases import lookups, registrations, session_changes, sessions, staff_views
from procedure.use_cases.context import load_calendar
from procedure.use_cases.petitions import PetitionKind
from procedure.use_cases.sessions import SessionPlan
from texts import LOCAL_TIMEZONE, format_date, format_datetime, format_span, t, to_local

CHECKIN = "staff.checkin"


# --- /taophien (P1) ----------------------------------------------------------------------------


def _units(turn: Turn, _: dict[str, Any]) -> list[Button]:
    units = staff_views.units_for(turn.uow, turn.actor, Action.PLAN_SESSION)
    granted = {g.org_unit_id for g in turn.actor.grants}
    return [
        Button(unit.name, str(unit.id))
        for unit_id in units
        if unit_id in granted and (unit := lookups.org_unit(turn.uow, unit_id)) is not None
    ]


def _one_unit(turn: Turn, values: dict[str, Any]) -> bool:
    choices = _units(turn, values)
    if len(choices) == 1:
        values["unit"] = choices[0].data
        return True
    return False


DATE_ERRORS = {
    "ambiguous": "staff.input.ambiguous_date",
    "weekday_mismatch": "staff.input.weekday_mismatch",
}


def _date(turn: Turn, text: str) -> Parsed:
    """A day as staff type it ("16/03/2026", "16/3", "thứ 6 tuần sau", "mai"): a day that was
    completed (year, week, relative word) is read back with its weekday before it is taken."""
    when = read_when(text, turn.context.today())
    if when.error is not None or when.day is None:
        key = DATE_ERRORS.get(when.error or "", "staff.input.bad_date")
        return Parsed(error=key, values={"typed": text})
    if when.at is not None:
        return Parsed(error="staff.input.date_then_time", values={"typed": text})
    day = when.day
    if day < turn.context.today():
        return Parsed(error="staff.input.past_date", values={"date": format_date(day)})
    status = load_calendar(turn.uow).status(day)
    note = "" if status.working else t("staff.input.note_not_working", why=describe_day(status))
    lawful = session_changes.lawful_dates(turn.uow, day, turn.context)
    if lawful.too_late:
        # P4: warned as soon as the day is typed, with the earliest lawful date proposed; a day
        # completed from what was typed is read back in the same message.
        understood = Html(
            say("staff.input.understood_date", date=format_date(day), note=note)
            if when.inferred
            else ""
        )
        return Parsed(
            value=day.isoformat(),
            confirm="staff.input.too_late_for_invitation",
            values={
                "understood": understood,
                "date": format_date(day),
                "days": turn.context.periods.notice_working_days,
                "latest": format_date(lawful.latest_notice_day),
                "earliest": format_date(lawful.earliest_session_day),
            },
        )
    if when.inferred:
        return Parsed(
            value=day.isoformat(),
            confirm="staff.input.confirm_date",
            values={"date": format_date(day), "note": note},
        )
    if not status.working:
        return Parsed(
            value=day.isoformat(),
            confirm="staff.input.not_working_day",
            values={"why": describe_day(status)},
        )
    return Parsed(value=day.isoformat())


def _time(turn: Turn, text: str) -> Parsed:
    """A time ("08:00", "8h", "11 giờ 30", "2 giờ chiều"); one written otherwise than hh:mm is
    read back; "2 giờ" alone (02:00 or 14:00?) is asked again, never guessed."""
    when = read_when(text, turn.context.today())
    if when.error == "ambiguous_hour":
        return Parsed(error="staff.input.ambiguous_hour", values={"typed": text})
    if when.error is not None or when.at is None or when.day is not None:
        return Parsed(error="staff.input.bad_time", values={"typed": text})
    value = when.at.strftime("%H:%M")
    if when.inferred:
        return Parsed(value=value, confirm="staff.input.confirm_time", values={"time": value})
    return Parsed(value=value)


def _end_time(turn: Turn, text: str) -> Parsed:
    parsed = _time(turn, text)
    start = forms_values(turn).get("start")
    if parsed.error is None and start and parsed.value <= start:
        return Parsed(error="staff.input.end_before_start", values={"start": start})
    return parsed


# More seats than any hall holds is a typing mistake.
MAX_CAPACITY = 100_000


def _capacity(turn: Turn, text: str) -> Parsed:
    capacity = parse_count(text, maximum=MAX_CAPACITY)
    if capacity is None:
        return Parsed(error="staff.input.bad_capacity", values={"typed": text})
    return Parsed(value=capacity)


def _topics(turn: Turn, text: str) -> Parsed:
    items = [item.strip(" -•") for item in text.replace(";", "\n").splitlines()]
    return Parsed(value=[item for item in items if item])


def _agencies(turn: Turn, values: dict[str, Any]) -> list[Button]:
    unit_id = int(values.get("unit") or 0)
    below = sessions.units_below(turn.uow, unit_id) if unit_id else []
    found = [lookups.org_unit(turn.uow, unit) for unit in below]
    return [
        Button(unit.name, str(unit.id))
        for unit in found
        if unit is not None and unit.level_code == "co_quan"
    ]


def forms_values(turn: Turn) -> dict[str, Any]:
    state = turn.data.get(forms.FORM)
    return state["values"] if isinstance(state, dict) else {}


def _moment(day: str, clock: str) -> datetime:
    local = datetime.combine(datetime.fromisoformat(day).date(), time.fromisoformat(clock))
    return local.replace(tzinfo=LOCAL_TIMEZONE)


def _plan_summary(turn: Turn, values: dict[str, Any]) -> str:
    unit = lookups.org_unit(turn.uow, int(values["unit"]))
    starts = _moment(values["date"], values["start"])
    window = load_calendar(turn.uow).notice_window(
        starts.date(), turn.context.periods.notice_working_days
    )
    agencies = [lookups.org_unit(turn.uow, int(a)) for a in values.get("agencies") or []]
    return say(
        "staff.plan.summary",
        unit=unit.name if unit else "",
        when=format_span(starts, _moment(values["date"], values["end"])),
        venue=values["venue"],
        chair=values["chair"],
        content=values["content"],
        topics="; ".join(values.get("topics") or []) or t("staff.plan.none"),
        agencies=", ".join(a.name for a in agencies if a) or t("staff.plan.none"),
        capacity=values.get("capacity") or t("staff.plan.unlimited"),
        latest=format_date(window.latest_day),
        latest_working=format_date(window.latest_working_day),
    )


def _plan_finish(turn: Turn, values: dict[str, Any]) -> None:
    plan = SessionPlan(
        org_unit_id=int(values["unit"]),
        chair_name=values["chair"],
        venue=values["venue"],
        starts_at=_moment(values["date"], values["start"]),
        ends_at=_moment(values["date"], values["end"]),
        content=values["content"],
        topics=values.get("topics") or [],
        agency_org_ids=[int(a) for a in values.get("agencies") or []],
        capacity=values.get("capacity"),
    )
    session = turn.attempt(lambda: sessions.plan_session(turn.uow, turn.actor, plan, turn.context))
    if session is None:
        return
    turn.send(
        Outgoing(
            text=say("staff.plan.done", id=session.id),
            buttons=session_buttons(session, turn.actor, turn.context.now()),
        )
    )


PLAN = forms.define(
    Form(
        name="taophien",
        fields=(
            Field("unit", "staff.plan.ask_unit", choices=_units, skip_if=_one_unit),
            Field("date", "staff.plan.ask_date", parse=_date),
            Field("start", "staff.plan.ask_start", parse=_time),
            Field("end", "staff.plan.ask_end", parse=_end_time),
            Field("venue", "staff.plan.ask_venue", parse=plain_text),
            Field("chair", "staff.plan.ask_chair", parse=plain_text),
            Field("content", "staff.plan.ask_content", parse=official_text),
            Field("topics", "staff.plan.ask_topics", parse=_topics, optional=True),
            Field("agencies", "staff.plan.ask_agencies", choices=_agencies, multi=True),
            Field("capacity", "staff.plan.ask_capacity", parse=_capacity, optional=True),
        ),
        summary=_plan_summary,
        finish=_plan_finish,
    )
)


def plan(turn: Turn) -> None:
    forms.start(turn, "taophien")


# --- session management -------------------------------------------------------------------------

ACTIONS_BY_STATE = {
    "draft": ("moi", "suaphien", "huyphien"),
    "announced": (
        "dsdangky",
        "ykienphien",
        "diemdanh",
        "ghiykien",
        "ketthuc",
        "doilich",
        "huyphien",
    ),
    "held": ("ykienphien", "ghiykien", "ketluan"),
    "concluded": ("ykienphien",),
}


# The permission each session button needs (the same as its command's).
BUTTON_ACTIONS = {
    "moi": Action.ANNOUNCE_SESSION,
    "suaphien": Action.PLAN_SESSION,
    "huyphien": Action.CANCEL_SESSION,
    "doilich": Action.ANNOUNCE_SESSION,
    "dsdangky": Action.CONDUCT_SESSION,
    "ykienphien": Action.CONDUCT_SESSION,
    "diemdanh": Action.CONDUCT_SESSION,
    "ghiykien": Action.CONDUCT_SESSION,
    "ketthuc": Action.CONDUCT_SESSION,
    "ketluan": Action.NOTIFY_CONCLUSION,
}


def session_buttons(
    session: Any, actor: Actor | None, now: datetime
) -> tuple[tuple[Button, ...], ...]:
    """What can be done next with a session, now — only what ``actor`` may do (a monitor:
    nothing); "end the session" (/ketthuc) only once it has started (P6)."""
    return one_per_row(
        button(f"staff.button.{action}", f"staff:{action}:{session.id}")
        for action in ACTIONS_BY_STATE.get(session.state, ())
        if (
            actor is None
            or actor.is_system
            or any(BUTTON_ACTIONS[action] in ROLE_ACTIONS[grant.role] for grant in actor.grants)
        )
        and (action != "ketthuc" or may_mark_held(session.state, session.starts_at, now))
    )


def manage(turn: Turn) -> None:
    """/quanlyphien: the sessions of one's units, with what can be done next."""
    found = staff_views.sessions_of(turn.uow, turn.actor)
    if not found:
        turn.send(reply("staff.manage.none"))
        return
    for session in found[:10]:
        turn.send(
            Outgoing(
                text=say(
                    "staff.manage.card",
                    id=session.id,
                    content=session.content,
                    when=format_datetime(session.starts_at),
                    state=t(f"state.session.{session.state}"),
                ),
                buttons=session_buttons(session, turn.actor, turn.context.now()),
            )
        )


def session_id_from(turn: Turn, payload: str) -> int | None:
    """The session number after a command (/moi 12); asks for it when missing."""
    value = payload.strip()
    if not value:
        turn.send(reply("staff.input.session_number"))
        return None
    session_id = parse_id(value)
    if session_id is None:
        turn.send(reply("chat.sessions.no_such", number=value[:12]))
    return session_id


def announce(turn: Turn, session_id: int) -> None:
    """/moi: P4 — refused with the latest lawful day and the earliest lawful session date."""
    session = turn.attempt(
        lambda: sessions.announce_session(turn.uow, turn.actor, session_id, turn.context)
    )
    if session is None:
        return
    invited = sessions.invitations_queued(turn.uow, session_id)
    turn.send(
        Outgoing(
            text=say("staff.announce.done", id=session_id, invited=invited),
            buttons=session_buttons(session, turn.actor, turn.context.now()),
        )
    )


def list_registrations(turn: Turn, session_id: int) -> None:
    rows = turn.attempt(lambda: staff_views.registrations_of(turn.uow, turn.actor, session_id))
    if rows is None:
        return
    lines = [
        say(
            "staff.registrations.line",
            code=registration.code,
            name=person.full_name or "",
            state=t(f"state.registration.{registration.state}"),
            attended=t("staff.registrations.attended") if registration.attended_at else "",
        )
        for registration, person in rows
    ]
    turn.send(
        reply(
            "staff.registrations.list",
            id=session_id,
            count=len(rows),
            lines=Html("\n".join(lines) or t("staff.plan.none")),
        )
    )


def _agenda(turn: Turn, session_id: int, topics: dict[str, int]) -> str:
    """P3: the session's agenda, its step 3 (residents speak) made of the planned topics and of
    the residents' opinions grouped by topic."""
    lines = []
    for number, item in enumerate(
        (i for i in lookups.agenda(turn.uow, session_id) if i.step != "topic"), start=1
    ):
        lines.append(say("staff.agenda.step", number=number, title=item.title))
        if item.step == "residents_speak":
            planned = [i.title for i in lookups.agenda(turn.uow, session_id) if i.step == "topic"]
            lines.extend(say("staff.agenda.planned", title=title) for title in planned)
            lines.extend(
                say("staff.agenda.topic", topic=name, count=count)
                for name, count in sorted(topics.items(), key=lambda kv: -kv[1])
            )
    return say("staff.agenda.heading", id=session_id) + "\n" + "\n".join(lines)


def list_opinions(turn: Turn, session_id: int) -> None:
    """P3, P6: the opinions of the session grouped by topic (the agenda of step 3)."""
    rows = turn.attempt(lambda: staff_views.opinions_of(turn.uow, turn.actor, session_id))
    if rows is None:
        return
    groups: dict[str, list[str]] = {}
    for petition, topic in rows:
        groups.setdefault(topic.name, []).append(
            say(
                "staff.opinions.line",
                code=petition.tracking_code,
                name=petition.petitioner_name or t("staff.erased_name"),
                text=petition.text[:160],
                state=t(f"state.petition.{petition.state}"),
            )
        )
    blocks = [
        say("staff.opinions.topic", topic=name, count=len(lines)) + "\n" + "\n".join(lines)
        for name, lines in groups.items()
    ]
    turn.send(Outgoing(text=_agenda(turn, session_id, {n: len(v) for n, v in groups.items()})))
    turn.send(
        reply(
            "staff.opinions.list",
            id=session_id,
            count=len(rows),
            groups=Html("\n\n".join(blocks) or t("staff.plan.none")),
        )
    )


def start_checkin(turn: Turn, session_id: int) -> None:
    session = turn.attempt(lambda: _conducted(turn, session_id))
    if session is None:
        return
    turn.data["checkin"] = session_id
    turn.conversation.go(CHECKIN)
    turn.send(
        reply("staff.checkin.ask", id=session_id, buttons=[[button("form.done", "checkin:done")]])
    )


def _conducted(turn: Turn, session_id: int) -> object:
    session = sessions.get_session(turn.uow, session_id)
    from procedure.use_cases.context import require

    require(turn.uow, turn.actor, Action.CONDUCT_SESSION, session.org_unit_id)
    return session


@step(CHECKIN, "diemdanh")
def answer_checkin(turn: Turn) -> None:
    session_id = int(str(turn.data.get("checkin") or 0))
    if turn.incoming.button == "checkin:done" or not session_id:
        turn.data.pop("checkin", None)
        turn.conversation.reset(keep=("opinion",))
        turn.send(reply("staff.checkin.done"))
        return
    code = (turn.incoming.text or "").strip()
    earlier = registrations.attended_at(turn.uow, session_id, code) if code else None
    registration = turn.attempt(
        lambda: registrations.check_in(turn.uow, turn.actor, session_id, code, turn.context)
    )
    if registration is None:
        return
    person = lookups.person(turn.uow, registration.person_id)
    turn.send(
        reply(
            "staff.checkin.again" if earlier is not None else "staff.checkin.ok",
            when=format_datetime(earlier) if earlier is not None else "",
            code=registration.code,
            name=person.full_name if person and person.full_name else "",
            buttons=[[button("form.done", "checkin:done")]],
        )
    )


def hold(turn: Turn, session_id: int) -> None:
    session = turn.attempt(
        lambda: sessions.hold_session(turn.uow, turn.actor, session_id, turn.context)
    )
    if session is None:
        return
    due = load_calendar(turn.uow).add_working_days(
        to_local(session.ends_at).date(), turn.context.periods.conclusion_working_days
    )
    turn.send(
        Outgoing(
            text=say("staff.hold.done", id=session_id, due=format_date(due.due)),
            buttons=session_buttons(session, turn.actor, turn.context.now()),
        )
    )


# --- /ghiykien: an opinion raised in the room (P6) ----------------------------------------------


def _phone(turn: Turn, text: str) -> Parsed:
    parsed = parse_phone(text)
    if parsed.status is PhoneStatus.VALID:
        return Parsed(value=parsed.e164)
    if parsed.status is PhoneStatus.OLD_11_DIGIT_PROPOSAL and parsed.proposed_e164:
        return Parsed(
            value=parsed.proposed_e164,
            confirm="staff.input.old_phone",
            values={"new": "0" + parsed.proposed_e164.removeprefix("+84")},
        )
    return Parsed(error=f"chat.profile.phone_{parsed.status.value}", values={"typed": text})


def _name(turn: Turn, text: str) -> Parsed:
    name = title_case(text)  # names are stored in title case (Nguyễn Văn An)
    if len(name.split()) < 2 or any(ch.isdigit() for ch in name):
        return Parsed(error="chat.profile.name_one_word")
    return Parsed(value=name)


def _kinds(turn: Turn, _: dict[str, Any]) -> list[Button]:
    return [Button(t(f"chat.opinion.kind.{kind.value}"), kind.value) for kind in PetitionKind]


def _room_topics(turn: Turn, values: dict[str, Any]) -> list[Button]:
    kind = "question" if values.get("kind") == PetitionKind.QUESTION else "civic"
    return [Button(topic.name, topic.code) for topic in lookups.topics(turn.uow, kind)]


def _room_summary(turn: Turn, values: dict[str, Any]) -> str:
    topic = lookups.topic(turn.uow, values["topic"])
    return say(
        "staff.room.summary",
        id=values["session_id"],
        name=values["name"],
        phone="0" + str(values["phone"]).removeprefix("+84"),
        kind=t(f"chat.opinion.kind.{values['kind']}"),
        topic=topic.name if topic else "",
        text=values["text"],
    )


def _room_finish(turn: Turn, values: dict[str, Any]) -> None:
    opinion = staff_views.RoomOpinion(
        full_name=values["name"],
        phone_e164=values["phone"],
        kind=PetitionKind(values["kind"]),
        topic_code=values["topic"],
        text=values["text"],
    )
    petition = turn.attempt(
        lambda: staff_views.record_room_opinion(
            turn.uow, turn.actor, int(values["session_id"]), opinion, turn.context
        )
    )
    if petition is None:
        return
    turn.send(
        reply(
            "staff.room.done",
            code=petition.tracking_code,
            name=values["name"],
            buttons=[[button("staff.button.ghiykien", f"staff:ghiykien:{values['session_id']}")]],
        )
    )


ROOM = forms.define(
    Form(
        name="ghiykien",
        fields=(
            Field("name", "staff.room.ask_name", parse=_name),
            Field("phone", "staff.room.ask_phone", parse=_phone),
            Field("kind", "staff.room.ask_kind", choices=_kinds),
            Field("topic", "staff.room.ask_topic", choices=_room_topics),
            Field("text", "staff.room.ask_text", parse=official_text),
        ),
        summary=_room_summary,
        finish=_room_finish,
    )
)


def record_in_room(turn: Turn, session_id: int) -> None:
    if turn.attempt(lambda: _conducted(turn, session_id)) is None:
        return
    forms.start(turn, "ghiykien", {"session_id": session_id})
