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
from handlers.flows import (
    opinion,
    oversight,
    privacy,
    publication,
    registration,
    staff_follow_up,
    staff_sessions,
    tracking,
)
from handlers.replies import main_menu, reply
from handlers.state import IDLE, claim_update, load, save
from handlers.turn import STEPS, ChatSettings, Turn, entry, go
from procedure.permissions import ROLE_ACTIONS, Action
from procedure.use_cases.context import ProcedureContext
from procedure.use_cases.residents import person_for_account
from procedure.use_cases.staff import is_invite_code, redeem_invite
from storage.unit_of_work import UnitOfWork
from texts import t

Command = Callable[[Turn], None]
# Commands that start a flow of their own; the others answer and leave the current step as it is.
FLOW_COMMANDS = frozenset(
    {
        "gopy",
        "dangky",
        "khuvuc",
        "xoadulieu",
        "taophien",
        "diemdanh",
        "ghiykien",
        "ketluan",
        "ketqua",
        "giahan",
        "traloi",
    }
)


class Conversations:
    def __init__(
        self,
        engine: Engine,
        context: ProcedureContext | None = None,
        settings: ChatSettings | None = None,
    ) -> None:
        self.engine = engine
        self.context = context or ProcedureContext()
        self._settings = settings or ChatSettings()

    def handle(self, incoming: Incoming) -> list[Outgoing]:
        with UnitOfWork(self.engine) as uow:
            if incoming.update_id is not None and not claim_update(
                uow, incoming.channel, incoming.update_id
            ):
                return []
            person_id = person_for_account(
                uow, incoming.channel, incoming.user_id, incoming.chat_id
            )
            # The account and the claim are kept even if a use case of this turn is refused.
            uow.commit()
            turn = Turn(
                uow=uow,
                incoming=incoming,
                person_id=person_id,
                conversation=load(uow, incoming.channel, incoming.chat_id),
                context=self.context,
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
    if staff_follow_up.attach_document(turn):
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
    elif prefix == "staff":
        action, _, argument = value.partition(":")
        if not _staff_may(turn, action):
            turn.send(reply("chat.unknown_command"))
        elif turn.state != IDLE and action in FLOW_COMMANDS:
            turn.send(reply("chat.busy", flow=_flow_name(turn)))
        else:
            STAFF_COMMANDS[action][1](turn, argument)
    else:
        return False
    return True


def run_command(turn: Turn, name: str, payload: str) -> None:
    busy = turn.state != IDLE
    if name == "huy":
        cancel(turn)
        return
    if name in STAFF_COMMANDS:
        # A resident who types a staff command gets the same answer as for an unknown one.
        if not _staff_may(turn, name):
            turn.send(reply("chat.unknown_command"))
        elif busy and name in FLOW_COMMANDS:
            turn.send(reply("chat.busy", flow=_flow_name(turn)))
        else:
            STAFF_COMMANDS[name][1](turn, payload)
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
    if is_invite_code(payload):
        enrolled = turn.attempt(
            lambda: redeem_invite(turn.uow, turn.person_id, payload, turn.context)
        )
        if enrolled is not None:
            grant, unit = enrolled
            turn.send(reply("staff.enrolled", role=t(f"staff.role.{grant.role}"), unit=unit.name))
            turn.send(reply("staff.help"))
        return
    turn.send(reply("chat.welcome", buttons=main_menu()))


def help_text(turn: Turn) -> None:
    turn.send(reply("chat.help"))
    if turn.actor.grants:
        turn.send(reply("staff.help"))


def _staff_may(turn: Turn, command: str) -> bool:
    needed = STAFF_COMMANDS[command][0]
    return any(needed in ROLE_ACTIONS[grant.role] for grant in turn.actor.grants)


def _with_session(handler: Callable[[Turn, int], None]) -> Callable[[Turn, str], None]:
    def run(turn: Turn, payload: str) -> None:
        session_id = staff_sessions.session_id_from(turn, payload)
        if session_id is not None:
            handler(turn, session_id)

    return run


def _for_petition(form: str, action: Action) -> Callable[[Turn, str], None]:
    def run(turn: Turn, payload: str) -> None:
        staff_follow_up.start_for_petition(turn, form, payload, action)

    return run


# Staff commands: the action a role must allow, and what runs. Checked on every use.
STAFF_COMMANDS: dict[str, tuple[Action, Callable[[Turn, str], None]]] = {
    "taophien": (Action.PLAN_SESSION, lambda turn, _: staff_sessions.plan(turn)),
    "quanlyphien": (Action.VIEW_OVERSIGHT, lambda turn, _: staff_sessions.manage(turn)),
    "moi": (Action.ANNOUNCE_SESSION, _with_session(staff_sessions.announce)),
    "dsdangky": (Action.CONDUCT_SESSION, _with_session(staff_sessions.list_registrations)),
    "ykienphien": (Action.CONDUCT_SESSION, _with_session(staff_sessions.list_opinions)),
    "diemdanh": (Action.CONDUCT_SESSION, _with_session(staff_sessions.start_checkin)),
    "ghiykien": (Action.CONDUCT_SESSION, _with_session(staff_sessions.record_in_room)),
    "ketthuc": (Action.CONDUCT_SESSION, _with_session(staff_sessions.hold)),
    "ketluan": (Action.NOTIFY_CONCLUSION, _with_session(staff_follow_up.conclude)),
    "viec": (Action.POST_RESULT, lambda turn, _: staff_follow_up.tasks(turn)),
    "ketqua": (Action.POST_RESULT, _for_petition("ketqua", Action.POST_RESULT)),
    "giahan": (Action.EXTEND_DEADLINE, _for_petition("giahan", Action.EXTEND_DEADLINE)),
    "traloi": (Action.ANSWER_QUESTION, _for_petition("traloi", Action.ANSWER_QUESTION)),
    "tonghop": (Action.VIEW_OVERSIGHT, oversight.review),
    "baocao": (Action.VIEW_OVERSIGHT, oversight.send_report),
    "nhom": (Action.MARK_DUPLICATE, oversight.groups),
    "gop": (Action.MARK_DUPLICATE, oversight.link("same")),
    "tach": (Action.MARK_DUPLICATE, oversight.link("different")),
    "trung": (Action.MARK_DUPLICATE, oversight.duplicate),
    # The public record (issue 13): office and head publish a checked petition, or withdraw it.
    "congkhai": (Action.PUBLISH_PETITION, publication.publish),
    "ancongkhai": (Action.PUBLISH_PETITION, publication.unpublish),
}


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
