"""The entry point of every conversation: one update in, the replies out.

Channel-neutral: adapters (bot/) turn platform updates into :class:`Incoming` values and render the
:class:`Outgoing` replies. Each update is claimed first (a repeated delivery is ignored), and the
state of the conversation is read from and written to our store in the same transaction as what
the update changed, so a restart loses nothing (X4).
"""

from __future__ import annotations

import logging
import traceback
from collections.abc import Callable
from dataclasses import replace

from sqlalchemy import Engine

import handlers.flows  # noqa: F401  (registers every step)
from handlers import typed_labels
from handlers.channel import Incoming, Outgoing
from handlers.flows import (
    inbox,
    opinion,
    oversight,
    privacy,
    publication,
    registration,
    resolution,
    session_changes,
    staff_follow_up,
    staff_sessions,
    tracking,
)
from handlers.joined_replies import join_text_replies
from handlers.parsing import parse_button, parse_id
from handlers.replies import Html, main_menu, reply, say
from handlers.reply_queue import queue_replies
from handlers.state import IDLE, claim, lock_conversation, save
from handlers.turn import STEPS, ChatSettings, Turn, entry, go
from handlers.typed_commands import typed_command
from nlp.greetings import is_greeting
from procedure.permissions import ROLE_ACTIONS, Action, Actor, Role
from procedure.use_cases.context import ProcedureContext
from procedure.use_cases.petitions import person_of_channel_account
from procedure.use_cases.residents import actor_for, person_for_account
from procedure.use_cases.staff import is_invite_code, redeem_invite
from storage.unit_of_work import UnitOfWork
from texts import t

log = logging.getLogger(__name__)
# Work a channel adds to a turn's transaction (Conversations.in_turn).
InTurn = Callable[[UnitOfWork, Incoming], Callable[[], None] | None]

# Stores a turn's replies in the turn's unit of work (not committed: the turn commits) and
# returns what the channel is handed back (Conversations.reply_writers).
ReplyWriter = Callable[[UnitOfWork, Incoming, list[Outgoing]], list[Outgoing]]

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
        # Issue 10: the office inbox, and sessions that change.
        "chuyen",
        "trungvoi",
        "chuyenngoai",
        "tuchoi",
        "suaphien",
        "doilich",
        "huyphien",
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
        # Channels whose replies are queued in the outbox in the turn's transaction (several
        # workers, issue 12: handlers/reply_queue.py); the others' replies are returned.
        self.queue_replies_for: frozenset[str] = frozenset()
        # Per channel whose replies are queued: work added to the turn's own transaction before
        # its commit (issue 12: the inbox marks its event handled there, bot/channels/inbox.py),
        # returning what to call once the commit succeeded.
        self.in_turn: dict[str, InTurn] = {}
        # Channels that keep a turn's replies themselves, in the turn's transaction (the web
        # chat's numbered messages, issue 12): the writer stores them and returns what the
        # channel is handed back.
        self.reply_writers: dict[str, ReplyWriter] = {}

    def handle(self, incoming: Incoming) -> list[Outgoing]:
        """Handle one update in ONE transaction: the claim, the account, the step, the use case,
        its events and outbox rows are committed together or not at all (X4). If anything
        fails, nothing is kept — not even the claim, so the same update delivered again is
        handled again — and the resident gets one short apology."""
        try:
            return self._handle(incoming)
        except Exception as error:
            log.error(
                "conversation: update %s on %s failed, rolled back: %s",
                incoming.update_id,
                incoming.channel,
                describe_failure(error),
            )
            return self._apologise(incoming)

    def _apologise(self, incoming: Incoming) -> list[Outgoing]:
        """The one short apology; queued in a transaction of its own where replies are queued
        (sent directly if even that fails)."""
        apology = [reply("chat.failed")]
        writer = self.reply_writers.get(incoming.channel)
        if incoming.channel not in self.queue_replies_for and writer is None:
            return apology
        try:
            with UnitOfWork(self.engine, write=True) as uow:
                if writer is not None:
                    written = writer(uow, incoming, apology)
                    uow.commit()
                    return written
                person_id = person_for_account(
                    uow, incoming.channel, incoming.user_id, incoming.chat_id
                )
                queued = queue_replies(uow, replace(incoming, update_id=None), person_id, apology)
                uow.commit()
                return queued
        except Exception as error:
            log.error("conversation: the apology could not be queued: %s", type(error).__name__)
            return apology

    def _handle(self, incoming: Incoming) -> list[Outgoing]:
        with UnitOfWork(self.engine, write=True) as uow:
            # Several processes on one PostgreSQL: this conversation's other updates wait
            # until this transaction ends, so its state is read after theirs was written.
            lock_conversation(uow, incoming.channel, incoming.chat_id)
            # The claim of the update and the state: one round trip on PostgreSQL.
            conversation = claim(uow, incoming.channel, incoming.chat_id, incoming.update_id)
            if conversation is None:  # handled already
                return []
            person_id = person_for_account(
                uow, incoming.channel, incoming.user_id, incoming.chat_id
            )
            turn = Turn(
                uow=uow,
                incoming=incoming,
                person_id=person_id,
                conversation=conversation,
                context=self.context,
                settings=self._settings,
            )
            if turn.state != IDLE and turn.state not in STEPS:
                # A step that no longer exists (stored by an earlier version): start afresh.
                turn.conversation.reset(keep=("opinion",))
            state = turn.state
            label_of = typed_labels.pressed(incoming, turn.data.get(typed_labels.SHOWN))
            if label_of is not None:  # a button's label typed: that button pressed
                turn.incoming = replace(incoming, button=label_of, text=None)
            route(turn)
            if not turn.replies:
                # Every input gets an answer (X5); a step that says nothing is a bug to fix.
                log.warning("conversation: no reply in state %s; answered generally", state)
                turn.send(reply("chat.not_understood", buttons=main_menu()))
            turn.replies = join_text_replies(turn.replies)
            shown = typed_labels.shown(turn.replies)
            if shown:
                turn.data[typed_labels.SHOWN] = shown
            else:
                turn.data.pop(typed_labels.SHOWN, None)
            save(uow, turn.conversation)
            replies = turn.replies
            committed = None
            if incoming.channel in self.queue_replies_for:
                replies = queue_replies(uow, incoming, person_id, replies)
                in_turn = self.in_turn.get(incoming.channel)
                committed = in_turn(uow, incoming) if in_turn is not None else None
            elif incoming.channel in self.reply_writers:
                replies = self.reply_writers[incoming.channel](uow, incoming, replies)
            uow.commit()
            if committed is not None:
                committed()
            return replies


def describe_failure(error: BaseException) -> str:
    """Where a failure happened, without its message: the exception's class and the frames
    (file, line, function) — a message may quote a resident's name, phone or text."""
    frames = traceback.extract_tb(error.__traceback__)[-4:]
    where = " < ".join(
        f"{frame.filename.rsplit('/', 1)[-1]}:{frame.lineno} {frame.name}"
        for frame in reversed(frames)
    )
    return f"{type(error).__name__} at {where}"


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
    if incoming.location is not None and turn.state not in opinion.TAKES_LOCATION:
        # The place of a problem, outside a petition being written (issue 13).
        turn.send(reply("chat.place.without_opinion"))
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
    if is_greeting(turn.incoming.text or ""):
        turn.send(reply("chat.welcome", buttons=main_menu()))  # greeted back, with the menu
        return
    typed = typed_command(turn.incoming.text or "")
    if typed is not None:  # "góp ý", "tra cứu", a pasted tracking code: the command meant
        run_command(turn, *typed)
        return
    if opinion.offer_as_opinion(turn):
        return
    turn.send(reply("chat.not_understood", buttons=main_menu()))


def _global_button(turn: Turn, pressed: str) -> bool:
    """Buttons on cards that stay valid whatever the step: register, opinion for a session, …
    Their data is parsed in one place (handlers/parsing.py); forged or stale data gets "this
    button is no longer valid"."""
    data = parse_button(pressed)
    if data is None:
        if pressed:
            turn.send(reply("chat.button_invalid", buttons=main_menu()))
            return True
        return False
    prefix, value = data.prefix, data.value
    if prefix in {"reg", "unreg", "opinion"}:
        session_id = data.id
        if session_id is None:
            turn.send(reply("chat.button_invalid", buttons=main_menu()))
        elif prefix == "reg":
            turn.conversation.reset(keep=("opinion",))
            registration.start(turn, session_id)
        elif prefix == "unreg":
            registration.cancel(turn, session_id)
        else:
            opinion.start(turn, session_id)
    elif prefix == "offer" and turn.state == IDLE:
        opinion.answer_offer(turn, value)
    elif prefix == "track" and value:
        tracking.show_by_code(turn, value)
    elif prefix == "resolved":
        # Issue 13: "is it resolved?" under a written result, pushed some working days later.
        resolution.pressed(turn, value)
    elif prefix == "fix" and value in {"name", "phone", "area"}:
        privacy.fix(turn, value)
    elif pressed == "erase:ask":
        privacy.ask_erase(turn)
    elif prefix == "staff":
        action, _, argument = value.partition(":")
        if action not in STAFF_COMMANDS:
            turn.send(reply("chat.button_invalid", buttons=main_menu()))
        elif not _staff_may(turn, action):
            turn.send(_refused_command(turn, action))
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
        # A resident who types a staff command gets the same answer as for an unknown one; a
        # staff member lacking the role is told which role the command needs.
        if not _staff_may(turn, name):
            turn.send(_refused_command(turn, name))
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
        # Joined to the command's answer when that is text alone (handlers/joined_replies.py).
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
    if payload.startswith("s") and payload[1:2].isdigit():
        session_id = parse_id(payload[1:])
        if session_id is None:
            turn.send(reply("chat.sessions.no_such", number=_shown(payload[1:])))
        else:
            registration.show_session_page(turn, session_id)
        return
    if is_invite_code(payload):
        enrolled = turn.attempt(
            lambda: redeem_invite(turn.uow, turn.person_id, payload, turn.context)
        )
        if enrolled is not None:
            grant, unit = enrolled
            enrolled_reply = reply(
                "staff.enrolled", role=t(f"staff.role.{grant.role}"), unit=unit.name
            )
            # The channel refreshes this chat's command menu (menu_for_account).
            enrolled_reply.extra[MENU_HINT] = "refresh"
            turn.send(enrolled_reply)
            turn._actor = None  # the roles just granted
            _staff_help(turn)
        return
    turn.send(reply("chat.welcome", buttons=main_menu()))


def help_text(turn: Turn) -> None:
    turn.send(reply("chat.help"))
    _staff_help(turn)


def _staff_help(turn: Turn) -> None:
    if turn.actor.grants:
        # The staff commands of this person's roles only: the same list as their command menu.
        lines = [
            say("staff.help_line", command=name, description=description)
            for name, description in commands_for(turn.actor)
            if name in STAFF_COMMANDS
        ]
        turn.send(reply("staff.help_roles", lines=Html("\n".join(lines))))


def _staff_may(turn: Turn, command: str) -> bool:
    if command not in STAFF_COMMANDS:
        return False
    needed = STAFF_COMMANDS[command][0]
    return any(needed in ROLE_ACTIONS[grant.role] for grant in turn.actor.grants)


def roles_for_command(command: str) -> list[Role]:
    """The staff roles that may use a staff command."""
    needed = STAFF_COMMANDS[command][0]
    return [role for role in STAFF_ROLES_SHOWN if needed in ROLE_ACTIONS[role]]


def _refused_command(turn: Turn, command: str) -> Outgoing:
    if not turn.actor.grants or command not in STAFF_COMMANDS:
        return reply("chat.unknown_command")
    roles = ", ".join(t(f"staff.role.{role.value}") for role in roles_for_command(command))
    return reply("staff.role_needed", command=command, roles=roles)


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
    # The photos of a petition (issue 13): office, head and the agency it is assigned to.
    "anh": (Action.VIEW_PETITION_PHOTOS, staff_follow_up.photos),
    "ketqua": (Action.POST_RESULT, _for_petition("ketqua", Action.POST_RESULT)),
    "giahan": (Action.EXTEND_DEADLINE, _for_petition("giahan", Action.EXTEND_DEADLINE)),
    "traloi": (Action.ANSWER_QUESTION, _for_petition("traloi", Action.ANSWER_QUESTION)),
    "tonghop": (Action.VIEW_OVERSIGHT, oversight.review),
    "baocao": (Action.VIEW_OVERSIGHT, oversight.send_report),
    "nhom": (Action.MARK_DUPLICATE, oversight.groups),
    "gop": (Action.MARK_DUPLICATE, oversight.link("same")),
    "tach": (Action.MARK_DUPLICATE, oversight.link("different")),
    "trung": (Action.MARK_DUPLICATE, oversight.duplicate),
    # The office inbox: items sent outside any session (issue 10).
    "hopthu": (Action.TRIAGE_PETITION, inbox.show_inbox),
    "cauhoi": (Action.ANSWER_QUESTION, inbox.show_questions),
    "chuyen": (Action.TRIAGE_PETITION, inbox.forward),
    "dedanh": (Action.TRIAGE_PETITION, inbox.keep),
    "trungvoi": (Action.TRIAGE_PETITION, inbox.duplicate),
    "chuyenngoai": (Action.TRIAGE_PETITION, inbox.transfer),
    "tuchoi": (Action.TRIAGE_PETITION, inbox.decline),
    # Sessions that change (issue 10).
    "suaphien": (Action.PLAN_SESSION, _with_session(session_changes.edit)),
    "doilich": (Action.ANNOUNCE_SESSION, _with_session(session_changes.reschedule)),
    "huyphien": (Action.CANCEL_SESSION, _with_session(session_changes.cancel)),
    # The public record (issue 13): office and head publish a checked petition, or withdraw it.
    "congkhai": (Action.PUBLISH_PETITION, publication.publish),
    "ancongkhai": (Action.PUBLISH_PETITION, publication.unpublish),
}


def sessions(turn: Turn) -> None:
    registration.list_sessions(turn)


def register(turn: Turn) -> None:
    payload = _payload(turn).strip()
    if not payload:
        registration.start(turn, None)
        return
    session_id = parse_id(payload)
    if session_id is None:
        turn.send(reply("chat.sessions.no_such", number=_shown(payload)))
        return
    registration.start(turn, session_id)


def _shown(typed: str) -> str:
    """What the person typed, cut short, to quote in an answer."""
    typed = typed.strip()
    return typed if len(typed) <= 12 else typed[:11] + "…"


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


# Staff roles in the order they are named to people.
STAFF_ROLES_SHOWN = (Role.OFFICE, Role.HEAD, Role.AGENCY, Role.MONITOR, Role.ADMIN)
MENU_HINT = "menu"  # Outgoing.extra key: the sender's command menu changed (enrolment)


def commands_for(actor: Actor) -> list[tuple[str, str]]:
    """The command menu of one person, by role, with its Vietnamese descriptions: the residents'
    commands, then each staff command one of the actor's roles allows. Channel-neutral: Telegram
    sets it as the chat's own command list (BotCommandScopeChat); other channels show it as
    their menu or in /trogiup."""
    names = list(MENU_COMMANDS)
    names.extend(
        name
        for name, (action, _) in STAFF_COMMANDS.items()
        if any(action in ROLE_ACTIONS[grant.role] for grant in actor.grants)
    )
    return [(name, t(f"chat.commands.{name}")) for name in names]


def menu_for_account(engine: Engine, channel: str, user_id: str) -> list[tuple[str, str]]:
    """The command menu of the person behind a channel account (residents' menu for an account
    not seen yet). What a channel calls to set a per-chat command list."""
    with UnitOfWork(engine) as uow:
        person_id = person_of_channel_account(uow, channel, user_id)
        actor = actor_for(uow, person_id) if person_id is not None else Actor(person_id=None)
        return commands_for(actor)


def staff_menus(engine: Engine, channel: str) -> list[tuple[str, list[tuple[str, str]]]]:
    """(chat id, command menu) of every staff chat on ``channel``: what a channel sets per chat
    at start-up (Telegram: setMyCommands with BotCommandScopeChat); other chats keep the
    residents' menu."""
    from procedure.use_cases.staff import staff_chats

    with UnitOfWork(engine) as uow:
        return [
            (chat_id, commands_for(actor_for(uow, person_id)))
            for person_id, _, chat_id in staff_chats(uow, channel)
        ]
