"""After the session: the head's conclusion to the agencies (P7), the agencies' work list,
written results (P8), extensions in writing (P9), and replies to questions (Q6)."""

from __future__ import annotations

from datetime import date
from typing import Any

from handlers import forms
from handlers.channel import Button, Outgoing, Photo
from handlers.forms import Field, Form, Parsed, official_text
from handlers.place_lines import photos_button, place_lines
from handlers.replies import Html, button, one_per_row, reply, say
from handlers.turn import Turn, entry, go, step
from nlp.dates import parse_date, read_when
from procedure.deadlines import conclusion_deadline, result_deadline
from procedure.errors import NotAllowed, NotFound, Refusal
from procedure.lifecycles import UNTRIAGED_PETITION_STATES
from procedure.permissions import Action
from procedure.use_cases import follow_up, lookups, sessions, staff_views
from procedure.use_cases.context import load_calendar, require
from procedure.use_cases.follow_up import AssignmentRequest
from procedure.use_cases.petitions import petition_by_code, petition_photos
from texts import format_date, format_datetime, t, to_local

CONCLUDE = "conclusion"
SKIP = "skip"


# --- /ketluan (P7) -----------------------------------------------------------------------------


def conclude(turn: Turn, session_id: int) -> None:
    def check() -> object:
        session = sessions.get_session(turn.uow, session_id)
        require(turn.uow, turn.actor, Action.NOTIFY_CONCLUSION, session.org_unit_id)
        return session

    session = turn.attempt(check)
    if session is None:
        return
    rows = staff_views.opinions_of(turn.uow, turn.actor, session_id)
    groups: dict[str, list[int]] = {}
    names: dict[str, str] = {}
    for petition, topic in rows:
        if petition.state in UNTRIAGED_PETITION_STATES:
            groups.setdefault(topic.code, []).append(petition.id)  # type: ignore[arg-type]
            names[topic.code] = topic.name
    due = conclusion_deadline(
        load_calendar(turn.uow),
        to_local(session.ends_at).date(),  # type: ignore[attr-defined]
        turn.context.periods,
    )
    turn.data[CONCLUDE] = {
        "session_id": session_id,
        "groups": groups,
        "names": names,
        "index": 0,
        "choices": {},
    }
    turn.send(
        reply(
            "staff.conclude.intro",
            id=session_id,
            due=format_date(due.due),
            count=sum(len(ids) for ids in groups.values()),
        )
    )
    go(turn, "staff.conclude.text")


def _draft(turn: Turn) -> dict[str, Any]:
    value = turn.data.get(CONCLUDE)
    assert isinstance(value, dict)
    return value


@entry("staff.conclude.text", "ketluan")
def ask_text(turn: Turn) -> None:
    turn.send(reply("staff.conclude.ask_text"))


@step("staff.conclude.text", "ketluan")
def answer_text(turn: Turn) -> None:
    draft = _draft(turn)
    if turn.incoming.button == "form:suggestion" and draft.get("suggestion"):
        draft["text"] = draft.pop("suggestion")
    else:
        parsed = official_text(turn, turn.incoming.text or "")
        if parsed.error is not None:
            draft["suggestion"] = parsed.suggestion
            buttons = (
                [[button("chat.opinion.use_suggestion", "form:suggestion")]]
                if parsed.suggestion
                else []
            )
            suggestion = (
                Html(say("chat.opinion.suggestion", text=parsed.suggestion))
                if parsed.suggestion
                else ""
            )
            turn.send(reply(parsed.error, buttons=buttons, suggestion=suggestion))
            return
        draft["text"] = parsed.value
    go(turn, "staff.conclude.assign")


def _agencies(turn: Turn, session_id: int) -> list[Button]:
    session = sessions.get_session(turn.uow, session_id)
    units = [
        lookups.org_unit(turn.uow, u) for u in sessions.units_below(turn.uow, session.org_unit_id)
    ]
    return [Button(u.name, str(u.id)) for u in units if u is not None and u.level_code == "co_quan"]


@entry("staff.conclude.assign", "ketluan")
def ask_agency(turn: Turn) -> None:
    draft = _draft(turn)
    codes = list(draft["groups"])
    if draft["index"] >= len(codes):
        _confirm(turn)
        return
    code = codes[draft["index"]]
    options = [Button(b.label, f"agency:{b.data}") for b in _agencies(turn, draft["session_id"])]
    options.append(button("staff.conclude.no_agency", f"agency:{SKIP}"))
    turn.send(
        Outgoing(
            text=say(
                "staff.conclude.ask_agency",
                topic=draft["names"][code],
                count=len(draft["groups"][code]),
            ),
            buttons=one_per_row(options),
        )
    )


@step("staff.conclude.assign", "ketluan")
def answer_agency(turn: Turn) -> None:
    draft = _draft(turn)
    pressed = turn.incoming.button or ""
    if draft["index"] >= len(draft["groups"]):
        _answer_confirm(turn, pressed)
        return
    if not pressed.startswith("agency:"):
        turn.send(reply("chat.press_a_button"))
        ask_agency(turn)
        return
    choice = pressed.removeprefix("agency:")
    offered = {b.data for b in _agencies(turn, draft["session_id"])} | {SKIP}
    if choice not in offered:
        turn.send(reply("chat.button_invalid_here"))
        ask_agency(turn)
        return
    code = list(draft["groups"])[draft["index"]]
    draft["choices"][code] = choice
    draft["index"] += 1
    ask_agency(turn)


def _confirm(turn: Turn) -> None:
    draft = _draft(turn)
    lines = []
    for code, choice in draft["choices"].items():
        agency = lookups.org_unit(turn.uow, int(choice)) if choice != SKIP else None
        lines.append(
            say(
                "staff.conclude.line",
                topic=draft["names"][code],
                count=len(draft["groups"][code]),
                agency=agency.name if agency else t("staff.conclude.no_agency"),
            )
        )
    due = load_calendar(turn.uow).add_working_days(
        turn.context.today(), turn.context.periods.result_working_days
    )
    turn.send(
        Outgoing(
            text=say(
                "staff.conclude.summary",
                id=draft["session_id"],
                text=draft["text"],
                lines=Html("\n".join(lines) or t("staff.plan.none")),
                notice=format_date(turn.context.today()),
                due=format_date(due.due),
            ),
            buttons=(
                (button("form.confirm", "conclude:yes"),),
                (button("form.cancel", "conclude:no"),),
            ),
        )
    )


def _answer_confirm(turn: Turn, pressed: str) -> None:
    draft = _draft(turn)
    if pressed == "conclude:no":
        turn.data.pop(CONCLUDE, None)
        turn.conversation.reset(keep=("opinion",))
        turn.send(reply("form.cancelled"))
        return
    if pressed != "conclude:yes":
        turn.send(reply("chat.press_a_button"))
        _confirm(turn)
        return
    requests = [
        AssignmentRequest(petition_id, int(choice))
        for code, choice in draft["choices"].items()
        if choice != SKIP
        for petition_id in draft["groups"][code]
    ]
    session_id = int(draft["session_id"])
    turn.data.pop(CONCLUDE, None)
    turn.conversation.reset(keep=("opinion",))
    conclusion = turn.attempt(
        lambda: follow_up.notify_conclusion(
            turn.uow, turn.actor, session_id, str(draft["text"]), requests, turn.context
        )
    )
    if conclusion is None:
        return
    key = "staff.conclude.done_late" if conclusion.late_working_days else "staff.conclude.done"
    # The agencies' deadline for their written results (P8), not the conclusion's own (P7).
    result_due = result_deadline(
        load_calendar(turn.uow), conclusion.notice_date, turn.context.periods
    ).due
    turn.send(
        reply(
            key,
            id=session_id,
            count=len(requests),
            late=conclusion.late_working_days,
            due=format_date(conclusion.due_date),
            result_due=format_date(result_due),
        )
    )


# --- /viec (P8) --------------------------------------------------------------------------------


def tasks(turn: Turn) -> None:
    found = staff_views.agency_tasks(turn.uow, turn.actor, turn.context)
    if not found:
        turn.send(reply("staff.tasks.none"))
        return
    turn.send(reply("staff.tasks.heading", count=len(found)))
    for task in found[:15]:
        key = "staff.tasks.overdue" if task.overdue else "staff.tasks.item"
        code = task.petition.tracking_code
        turn.send(
            Outgoing(
                text=say(
                    key,
                    code=code,
                    agency=task.agency,
                    due=format_date(task.assignment.due_date),
                    late=task.overdue_working_days,
                    text=task.petition.text[:300],
                    state=t(f"state.petition.{task.petition.state}"),
                )
                + place_lines(task.place, code)
                + _delivery(task),
                buttons=(
                    (
                        button("staff.button.ketqua", f"staff:ketqua:{code}"),
                        button("staff.button.giahan", f"staff:giahan:{code}"),
                    ),
                    *photos_button(task.place, code),
                ),
            )
        )


# --- /anh: the photos of a petition (issue 13) --------------------------------------------------


def photos(turn: Turn, payload: str) -> None:
    """The photos a resident sent with a petition, for the office, the head and the agency: sent
    again on the platform that keeps them (Telegram, by file id); on any other channel a line
    says how many there are and where to see them."""
    code = payload.strip()
    if not code:
        turn.send(reply("staff.photos.usage"))
        return
    found = turn.attempt(lambda: petition_photos(turn.uow, turn.actor, code))
    if found is None:
        return
    shown_code = found.tracking_code
    if not found.count:
        turn.send(reply("staff.photos.none", code=shown_code))
        return
    here = turn.incoming.channel
    caption = say("staff.photos.caption", code=shown_code)
    shown = tuple(
        Photo(channel, ref, caption="" if index else caption)
        for index, (channel, ref) in enumerate(
            (c, r) for c, r in found.kept if c == here and not r.startswith("file:")
        )
    )
    lines = [say("staff.photos.heading", code=shown_code, count=found.count)]
    if shown:
        lines.append(say("staff.photos.below", count=len(shown)))
    on_server = sum(1 for _, ref in found.kept if ref.startswith("file:"))
    elsewhere: dict[str, int] = {}
    for channel, ref in found.kept:
        if channel != here and not ref.startswith("file:"):
            elsewhere[channel] = elsewhere.get(channel, 0) + 1
    for channel, count in elsewhere.items():
        name = t(f"channel_name.{channel}")
        lines.append(say("staff.photos.elsewhere", count=count, channel=name, code=shown_code))
    if on_server:
        lines.append(say("staff.photos.on_server", count=on_server))
    if found.links:
        lines.append(say("staff.photos.links", links=" ".join(found.links)))
    turn.send(Outgoing(text="\n".join(lines), photos=shown))


def _delivery(task: staff_views.Task) -> str:
    """P9: the extension notice counts as sent in writing only once it reached the resident."""
    if task.extension_delivered_at is not None:
        return "\n" + say(
            "staff.tasks.notice_delivered", when=format_datetime(task.extension_delivered_at)
        )
    if task.extension_pending:
        return "\n" + say("staff.tasks.notice_pending")
    return ""


# --- /ketqua, /giahan, /traloi (P8, P9, Q6) ------------------------------------------------------


def _document_number(turn: Turn, text: str) -> Parsed:
    """Số, ký hiệu of a written document, e.g. 125/TB-UBND."""
    value = " ".join(text.split())
    if not value:
        return Parsed(error="form.empty")
    if len(value) > 100 or not any(ch.isdigit() for ch in value):
        return Parsed(error="staff.document.bad_number", values={"typed": value})
    return Parsed(value=value)


def _issued(turn: Turn, text: str) -> Parsed:
    """Ngày ban hành: a date, not in the future."""
    day = parse_date(text)
    if day is None:
        return Parsed(error="staff.input.bad_date", values={"typed": text})
    if day > turn.context.today():
        return Parsed(error="staff.document.future_date", values={"date": format_date(day)})
    return Parsed(value=day.isoformat())


def _document_line(values: dict[str, Any]) -> str:
    from datetime import date

    return say(
        "staff.document.line",
        number=values.get("number") or "",
        date=format_date(date.fromisoformat(values["issued"])) if values.get("issued") else "",
    )


def _document(turn: Turn, _: str) -> Parsed:
    return Parsed(error="staff.result.send_file")


def _day(value: object) -> date | None:
    return date.fromisoformat(str(value)) if value else None


def _result_summary(turn: Turn, values: dict[str, Any]) -> str:
    return say(
        "staff.result.summary",
        code=values["code"],
        text=values["text"],
        file=t("staff.result.has_file") if values.get("document") else t("staff.plan.none"),
        document=Html(_document_line(values)),
    )


def _result_finish(turn: Turn, values: dict[str, Any]) -> None:
    result = turn.attempt(
        lambda: follow_up.post_result(
            turn.uow,
            turn.actor,
            values["code"],
            values["text"],
            turn.context,
            document_ref=values.get("document"),
            document_number=values.get("number"),
            document_date=_day(values.get("issued")),
        )
    )
    if result is None:
        return
    key = "staff.result.done_late" if result.late_working_days else "staff.result.done"
    turn.send(reply(key, code=values["code"], late=result.late_working_days or 0))


RESULT = forms.define(
    Form(
        name="ketqua",
        fields=(
            Field("text", "staff.result.ask_text", parse=official_text),
            Field("number", "staff.document.ask_number", parse=_document_number),
            Field("issued", "staff.document.ask_date", parse=_issued),
            Field("document", "staff.result.ask_file", parse=_document, optional=True),
        ),
        summary=_result_summary,
        finish=_result_finish,
    )
)


def _form_values(turn: Turn) -> dict[str, Any]:
    state = turn.data.get(forms.FORM)
    return state["values"] if isinstance(state, dict) else {}


def _new_due(turn: Turn, text: str) -> Parsed:
    """P9: checked as it is typed — a working day, later than the current deadline; an
    extension longer than a whole result period asks for confirmation; a date completed from
    what was typed ("16/3", "thứ 6 tuần sau") is read back with its weekday."""
    when = read_when(text, turn.context.today())
    day = when.day
    if when.error is not None or day is None or when.at is not None:
        return Parsed(error="staff.input.bad_date", values={"typed": text})
    calendar = load_calendar(turn.uow)
    if not calendar.is_working_day(day):
        return Parsed(
            error="refusal.extension_not_working_day",
            values={"date": format_date(day), "next": format_date(calendar.next_working_day(day))},
        )
    code = _form_values(turn).get("code")
    if code:
        current = follow_up.assignment_of(turn.uow, petition_by_code(turn.uow, code)).due_date
        if day <= current:
            return Parsed(
                error="refusal.extension_not_later", values={"current": format_date(current)}
            )
        added = calendar.working_days_between(current, day)
        if added > turn.context.periods.result_working_days:
            return Parsed(
                value=day.isoformat(),
                confirm="staff.extend.long",
                values={"days": added, "current": format_date(current), "due": format_date(day)},
            )
    if when.inferred:  # "16/3", "thứ 6 tuần sau": read back with its weekday first
        return Parsed(
            value=day.isoformat(),
            confirm="staff.input.confirm_date",
            values={"date": format_date(day), "note": ""},
        )
    return Parsed(value=day.isoformat())


def _extend_summary(turn: Turn, values: dict[str, Any]) -> str:
    from datetime import date

    return say(
        "staff.extend.summary",
        code=values["code"],
        due=format_date(date.fromisoformat(values["due"])),
        reason=values["reason"],
        document=Html(_document_line(values)),
    )


def _extend_finish(turn: Turn, values: dict[str, Any]) -> None:
    from datetime import date

    extension = turn.attempt(
        lambda: follow_up.extend_deadline(
            turn.uow,
            turn.actor,
            values["code"],
            date.fromisoformat(values["due"]),
            values["reason"],
            turn.context,
            document_number=values.get("number"),
            document_date=date.fromisoformat(values["issued"]) if values.get("issued") else None,
        )
    )
    if extension is None:
        return
    turn.send(
        reply("staff.extend.done", code=values["code"], due=format_date(extension.new_due_date))
    )


EXTEND = forms.define(
    Form(
        name="giahan",
        fields=(
            Field("due", "staff.extend.ask_due", parse=_new_due),
            Field("reason", "staff.extend.ask_reason", parse=official_text),
            Field("number", "staff.document.ask_number", parse=_document_number),
            Field("issued", "staff.document.ask_date", parse=_issued),
        ),
        summary=_extend_summary,
        finish=_extend_finish,
    )
)


def _answer_summary(turn: Turn, values: dict[str, Any]) -> str:
    return say("staff.answer.summary", code=values["code"], text=values["text"])


def _answer_finish(turn: Turn, values: dict[str, Any]) -> None:
    result = turn.attempt(
        lambda: follow_up.answer_question(
            turn.uow, turn.actor, values["code"], values["text"], turn.context
        )
    )
    if result is not None:
        turn.send(reply("staff.answer.done", code=values["code"]))


ANSWER = forms.define(
    Form(
        name="traloi",
        fields=(Field("text", "staff.answer.ask_text", parse=official_text),),
        summary=_answer_summary,
        finish=_answer_finish,
    )
)


def start_for_petition(turn: Turn, form: str, code: str, action: Action) -> None:
    """/ketqua, /giahan, /traloi <code>: the petition must exist and be the actor's to handle."""
    if not code.strip():
        turn.send(reply("staff.input.code_needed"))
        return

    def may(unit_id: int | None) -> bool:
        if unit_id is None:
            return False
        try:
            require(turn.uow, turn.actor, action, unit_id)
        except NotAllowed:
            return False
        return True

    def check() -> str:
        # A code outside the official's scope gets exactly the answer for a code that does not
        # exist: "not allowed" would confirm that it exists (X2).
        petition = petition_by_code(turn.uow, code)
        if action is Action.ANSWER_QUESTION:
            if not may(petition.area_org_id):
                raise NotFound("refusal.petition_not_found")
            return petition.tracking_code
        try:
            assignment = follow_up.assignment_of(turn.uow, petition)
        except Refusal:
            if may(petition.area_org_id):
                raise  # the ward's own staff may know it is not assigned yet
            raise NotFound("refusal.petition_not_found") from None
        if not may(assignment.agency_org_id):
            raise NotFound("refusal.petition_not_found")
        return petition.tracking_code

    tracking_code = turn.attempt(check)
    if tracking_code is None:
        return
    petition = petition_by_code(turn.uow, tracking_code)
    turn.send(
        reply(
            "staff.petition.card",
            code=tracking_code,
            name=petition.petitioner_name or t("staff.erased_name"),
            text=petition.text[:1500],
            state=t(f"state.petition.{petition.state}"),
        )
    )
    forms.start(turn, form, {"code": tracking_code})


def attach_document(turn: Turn) -> bool:
    """A file sent while /ketqua asks for one becomes the result's document."""
    state = turn.data.get(forms.FORM)
    attachment = turn.incoming.attachment
    if not (isinstance(state, dict) and state.get("name") == "ketqua" and attachment):
        return False
    fields = forms.FORMS["ketqua"].fields
    if fields[state["index"]].name != "document":
        return False
    state["values"]["document"] = f"{turn.incoming.channel}:{attachment.file_ref}"
    state["index"] += 1
    turn.send(reply("staff.result.file_kept"))
    forms.ask_current(turn)
    return True
