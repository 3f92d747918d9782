"""The entry point of every conversation: one update in, the replies out.

Channel-neutral: adapters (bot/) turn platform updates into :class:`Incoming` values and render the
:class:`Outgoing` replies. Each update is claimed first (a repeated delivery is ignored), and the
state of the conversation is read from and written to our store in the same transaction as what
the update changed, so a restart loses nothing (X4).
"""

from __future__ import annotations

from collections.abc import Callable

from sqlalchemy import Engine

import handlers.flows  # noqa: F401  (registers every step)
from handlers.channel import Incoming, Outgoing
from handlers.flows import opinion, privacy, registration, tracking
from handlers.replies import main_menu, reply
from handlers.state import IDLE, claim_update, load, save
from handlers.turn import STEPS, ChatSettings, Turn, entry, go
from procedure.use_cases.context import ProcedureContext
from procedure.use_cases.residents import person_for_account
from storage.unit_of_work import UnitOfWork

Command = Callable[[Turn], None]
# Commands that start a flow of their own; the others answer and leave the current step as it is.
FLOW_COMMANDS = frozenset({"gopy", "dangky", "khuvuc", "xoadulieu"})


class Conversations:
    def __init__(
        self,
        engine: Engine,
        context: ProcedureContext | None = None,
        settings: ChatSettings | None = None,
    ) -> None:
        self._engine = engine
        self._context = context or ProcedureContext()
        self._settings = settings or ChatSettings()

    def handle(self, incoming: Incoming) -> list[Outgoing]:
        with UnitOfWork(self._engine) as uow:
            if incoming.update_id is not None and not claim_update(
                uow, incoming.channel, incoming.update_id
            ):
                return []
            person_id = person_for_account(
                uow, incoming.channel, incoming.user_id, incoming.chat_id
            )
            turn = Turn(
                uow=uow,
                incoming=incoming,
                person_id=person_id,
                conversation=load(uow, incoming.channel, incoming.chat_id),
                context=self._context,
                settings=self._settings,
            )
            route(turn)
            save(uow, turn.conversation)
            uow.commit()
            return turn.replies


def route(turn: Turn) -> None:
    incoming = turn.incoming
    pressed = incoming.button or ""
    if pressed.startswith("cmd:"):
        run_command(turn, pressed.removeprefix("cmd:"), "")
        return
    if _global_button(turn, pressed):
        return
    if incoming.command is not None:
        run_command(turn, incoming.command.lower(), incoming.payload)
        return
    if incoming.sticker or incoming.unsupported:
        turn.send(reply("chat.sticker" if incoming.sticker else "chat.unsupported"))
        return
    text = incoming.text
    if (
        text is not None
        and incoming.attachment is None
        and text.strip()
        and not any(ch.isalnum() for ch in text)
    ):
        turn.send(reply("chat.only_emoji"))
        return
    step = STEPS.get(turn.state)
    if step is None:
        _idle(turn)
        return
    step.answer(turn)


def _idle(turn: Turn) -> None:
    if turn.incoming.attachment is not None:
        turn.send(reply("chat.attachment_without_opinion"))
        return
    if turn.incoming.button:
        turn.send(reply("chat.button_expired", buttons=main_menu()))
        return
    turn.send(reply("chat.not_understood", buttons=main_menu()))


def _global_button(turn: Turn, pressed: str) -> bool:
    """Buttons on cards that stay valid whatever the step: register, opinion for a session, …"""
    prefix, _, value = pressed.partition(":")
    if prefix == "reg" and value.isdigit():
        turn.conversation.reset(keep=("opinion",))
        registration.start(turn, int(value))
    elif prefix == "unreg" and value.isdigit():
        registration.cancel(turn, int(value))
    elif prefix == "opinion" and value.isdigit():
        opinion.start(turn, int(value))
    elif prefix == "track" and value:
        tracking.show_by_code(turn, value)
    elif prefix == "fix" and value in {"name", "phone", "area"}:
        privacy.fix(turn, value)
    elif pressed == "erase:ask":
        privacy.ask_erase(turn)
    else:
        return False
    return True


def run_command(turn: Turn, name: str, payload: str) -> None:
    busy = turn.state != IDLE
    if name == "huy":
        cancel(turn)
        return
    if busy and name in FLOW_COMMANDS and STEPS[turn.state].flow != name:
        turn.send(reply("chat.busy", flow=_flow_name(turn)))
        return
    command = COMMANDS.get(name)
    if command is None:
        turn.send(reply("chat.unknown_command"))
        return
    command(turn if not payload else _with_payload(turn, payload))
    if busy and name not in FLOW_COMMANDS and turn.state != IDLE and name != "start":
        turn.send(reply("chat.remind", flow=_flow_name(turn)))


def _with_payload(turn: Turn, payload: str) -> Turn:
    turn.data["_payload"] = payload
    return turn


def _payload(turn: Turn) -> str:
    value = turn.data.pop("_payload", "")
    return str(value)


def _flow_name(turn: Turn) -> str:
    from texts import t

    return t(f"chat.flow.{STEPS[turn.state].flow}")


def cancel(turn: Turn) -> None:
    """/huy: stop the current step and say what was kept."""
    if turn.state == IDLE:
        turn.send(reply("chat.cancel.nothing", buttons=main_menu()))
        return
    kept = opinion.draft(turn).get("text") or opinion.draft(turn).get("parts")
    turn.conversation.reset(keep=("opinion",))
    turn.send(
        reply("chat.cancel.kept_opinion" if kept else "chat.cancel.done", buttons=main_menu())
    )


def start(turn: Turn) -> None:
    payload = _payload(turn).strip()
    if payload.startswith("s") and payload[1:].isdigit():
        registration.show_session_page(turn, int(payload[1:]))
        return
    turn.send(reply("chat.welcome", buttons=main_menu()))


def help_text(turn: Turn) -> None:
    turn.send(reply("chat.help"))


def sessions(turn: Turn) -> None:
    registration.list_sessions(turn)


def register(turn: Turn) -> None:
    payload = _payload(turn)
    registration.start(turn, int(payload) if payload.isdigit() else None)


def send_opinion(turn: Turn) -> None:
    if turn.state.startswith("gopy."):
        STEPS[turn.state].enter(turn)
        return
    opinion.start(turn)


def track(turn: Turn) -> None:
    tracking.start(turn, _payload(turn))


def my_data(turn: Turn) -> None:
    privacy.show(turn)


def erase(turn: Turn) -> None:
    privacy.ask_erase(turn)


def change_area(turn: Turn) -> None:
    turn.data["resume"] = "khuvuc.done"
    turn.data["area_only"] = True
    go(turn, "profile.area")


@entry("khuvuc.done", "khuvuc")
def area_changed(turn: Turn) -> None:
    turn.conversation.reset(keep=("opinion",))
    registration.list_sessions(turn)


COMMANDS: dict[str, Command] = {
    "start": start,
    "menu": start,
    "trogiup": help_text,
    "help": help_text,
    "phien": sessions,
    "dangky": register,
    "gopy": send_opinion,
    "tracuu": track,
    "dulieu": my_data,
    "xoadulieu": erase,
    "khuvuc": change_area,
}

# The commands shown in a platform's menu (Telegram's setMyCommands), in this order.
MENU_COMMANDS = ("phien", "dangky", "gopy", "tracuu", "huy", "dulieu", "khuvuc", "trogiup")
