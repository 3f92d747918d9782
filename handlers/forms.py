"""Forms for staff: one field at a time, each checked as it comes, earlier answers kept while a
later one is fixed, a summary to confirm at the end. Used by the staff commands (/taophien,
/ghiykien, /ketluan, /ketqua, /giahan, /traloi)."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from handlers.channel import Button, Outgoing
from handlers.replies import Html, button, one_per_row, reply, say
from handlers.turn import STEPS, Step, Turn
from nlp.diacritics_results import Verdict
from nlp.text import normalise

FORM = "form"


@dataclass(frozen=True)
class Parsed:
    """What a parser made of an answer: a value, or an error to show (the answer is kept)."""

    value: Any = None
    error: str | None = None
    values: dict[str, object] = field(default_factory=dict)
    suggestion: str | None = None  # a restored text to offer (diacritics rule)
    confirm: str | None = None  # a question to confirm before the value is taken


Parser = Callable[[Turn, str], Parsed]
Choices = Callable[[Turn, dict[str, Any]], list[Button]]


@dataclass(frozen=True)
class Field:
    name: str
    prompt: str  # catalogue key
    parse: Parser | None = None  # typed answers; None: buttons only
    choices: Choices | None = None
    optional: bool = False
    multi: bool = False
    skip_if: Callable[[Turn, dict[str, Any]], bool] | None = None


@dataclass(frozen=True)
class Form:
    name: str  # also the command, for "you are in the middle of …"
    fields: Sequence[Field]
    summary: Callable[[Turn, dict[str, Any]], str]
    finish: Callable[[Turn, dict[str, Any]], None]


FORMS: dict[str, Form] = {}


def define(form: Form) -> Form:
    FORMS[form.name] = form
    STEPS[f"{FORM}:{form.name}"] = Step(enter=ask_current, answer=_answer, flow=form.name)
    return form


def start(turn: Turn, name: str, values: dict[str, Any] | None = None) -> None:
    turn.data[FORM] = {"name": name, "index": 0, "values": dict(values or {})}
    turn.conversation.go(f"{FORM}:{name}")
    ask_current(turn)


def _state(turn: Turn) -> dict[str, Any]:
    state = turn.data.get(FORM)
    assert isinstance(state, dict)
    return state


def _form(turn: Turn) -> Form:
    return FORMS[str(_state(turn)["name"])]


def _current(turn: Turn) -> Field | None:
    state, form = _state(turn), _form(turn)
    while state["index"] < len(form.fields):
        candidate = form.fields[state["index"]]
        if candidate.skip_if is None or not candidate.skip_if(turn, state["values"]):
            return candidate
        state["index"] += 1
    return None


def ask_current(turn: Turn) -> None:
    """Ask the field the form is at (or the confirmation when all are answered)."""
    current = _current(turn)
    if current is None:
        _ask_confirm(turn)
        return
    values = _state(turn)["values"]
    buttons: list[Button] = current.choices(turn, values) if current.choices else []
    if current.multi:
        chosen = set(values.get(current.name) or [])
        buttons = [
            Button(("✅ " if b.data in chosen else "") + b.label, f"form:pick:{b.data}")
            for b in buttons
        ]
        buttons.append(button("form.done", "form:done"))
    else:
        buttons = [Button(b.label, f"form:pick:{b.data}") for b in buttons]
    if current.optional:
        buttons.append(button("form.skip", "form:skip"))
    turn.send(Outgoing(text=say(current.prompt), buttons=one_per_row(buttons)))


def _take(turn: Turn, value: Any) -> None:
    state = _state(turn)
    current = _current(turn)
    assert current is not None
    state["values"][current.name] = value
    state.pop("pending", None)
    state["index"] += 1
    ask_current(turn)


def _answer(turn: Turn) -> None:
    state = _state(turn)
    pressed = turn.incoming.button or ""
    if state.get("confirming"):
        _answer_confirm(turn, pressed)
        return
    current = _current(turn)
    if current is None:
        _ask_confirm(turn)
        return
    pending = state.get("pending")
    if pressed == "form:suggestion" and isinstance(pending, dict) and pending.get("suggestion"):
        _take(turn, pending["suggestion"])
        return
    if pressed == "form:yes" and isinstance(pending, dict) and "value" in pending:
        _take(turn, pending["value"])
        return
    if pressed == "form:no":
        state.pop("pending", None)
        ask_current(turn)
        return
    if pressed == "form:skip" and current.optional:
        _take(turn, None)
        return
    if pressed == "form:done" and current.multi:
        _take(turn, list(state["values"].get(current.name) or []))
        return
    if pressed.startswith("form:pick:"):
        picked = pressed.removeprefix("form:pick:")
        offered = current.choices(turn, state["values"]) if current.choices else []
        if picked not in {choice.data for choice in offered}:
            # Forged, or a button of an earlier question: not one of the choices asked now.
            turn.send(reply("chat.button_invalid_here"))
            ask_current(turn)
            return
        if current.multi:
            chosen = list(state["values"].get(current.name) or [])
            chosen.remove(picked) if picked in chosen else chosen.append(picked)
            state["values"][current.name] = chosen
            ask_current(turn)
        else:
            _take(turn, picked)
        return
    text = turn.incoming.text
    if text is None or current.parse is None:
        turn.send(reply("chat.press_a_button"))
        ask_current(turn)
        return
    parsed = current.parse(turn, normalise(text))
    if parsed.error is not None:
        buttons: list[list[Button]] = []
        if parsed.suggestion:
            state["pending"] = {"suggestion": parsed.suggestion}
            buttons.append([button("chat.opinion.use_suggestion", "form:suggestion")])
        suggestion = (
            Html(say("chat.opinion.suggestion", text=parsed.suggestion))
            if parsed.suggestion
            else ""
        )
        turn.send(reply(parsed.error, buttons=buttons, suggestion=suggestion, **parsed.values))
        return
    if parsed.confirm is not None:
        state["pending"] = {"value": parsed.value}
        turn.send(
            reply(
                parsed.confirm,
                buttons=[[button("form.yes", "form:yes")], [button("form.no", "form:no")]],
                **parsed.values,
            )
        )
        return
    _take(turn, parsed.value)


def _ask_confirm(turn: Turn) -> None:
    state = _state(turn)
    state["confirming"] = True
    turn.send(
        Outgoing(
            text=_form(turn).summary(turn, state["values"]),
            buttons=(
                (button("form.confirm", "form:confirm"),),
                (button("form.cancel", "form:cancel"),),
            ),
        )
    )


def _answer_confirm(turn: Turn, pressed: str) -> None:
    if pressed == "form:confirm":
        form, values = _form(turn), dict(_state(turn)["values"])
        turn.data.pop(FORM, None)
        turn.conversation.reset(keep=("opinion",))
        form.finish(turn, values)
    elif pressed == "form:cancel":
        turn.data.pop(FORM, None)
        turn.conversation.reset(keep=("opinion",))
        turn.send(reply("form.cancelled"))
    else:
        turn.send(reply("chat.press_a_button"))
        _ask_confirm(turn)


# --- parsers ---------------------------------------------------------------------------------

REFUSED = frozenset({Verdict.NO_DIACRITICS, Verdict.PARTLY_WITHOUT, Verdict.TELEX, Verdict.VNI})


def official_text(turn: Turn, text: str) -> Parsed:
    """Conclusions, results, reasons and replies are official writing sent to residents: the
    diacritics rule (Q4) applies to them too."""
    if not text.strip():
        return Parsed(error="form.empty")
    from nlp.diacritics import judge, restore  # the language model, loaded when first needed

    verdict = judge(text).verdict
    if verdict in REFUSED:
        # Q4: a suggestion is accepted with one tap only when every restored word is certain;
        # otherwise (or under the confidence floor) the refusal comes without one.
        restored = restore(text)
        certain = restored is not None and restored.offered and not restored.uncertain
        return Parsed(
            error=f"chat.opinion.refused.{verdict.value}",
            suggestion=restored.text if certain and restored else None,
        )
    if verdict is Verdict.NOT_VIETNAMESE:
        return Parsed(error="form.not_vietnamese")
    return Parsed(value=text.strip())


def plain_text(turn: Turn, text: str) -> Parsed:
    return Parsed(value=text.strip()) if text.strip() else Parsed(error="form.empty")
