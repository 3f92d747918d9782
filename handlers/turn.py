"""One turn of a conversation: the incoming update, the resident, the state, and the replies."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TypeVar

from handlers.channel import Incoming, Outgoing
from handlers.state import ConversationState
from procedure.errors import Refusal
from procedure.permissions import Actor
from procedure.use_cases.context import ProcedureContext
from procedure.use_cases.residents import actor_for
from storage.unit_of_work import UnitOfWork

T = TypeVar("T")


@dataclass(frozen=True)
class ChatSettings:
    verify_code_as: str = "image"  # or "text" (VERIFY_CODE_AS)
    tracking_misses_allowed: int = 5  # wrong tracking codes per window before a pause
    tracking_miss_window_seconds: int = 600
    # Channels with no verified "share my phone" (the web page): the phone is typed, the
    # resident is told it is not verified, and it never joins accounts (Q2, C7).
    typed_phone_channels: frozenset[str] = frozenset()


@dataclass
class Turn:
    uow: UnitOfWork
    incoming: Incoming
    person_id: int
    conversation: ConversationState
    context: ProcedureContext
    settings: ChatSettings
    replies: list[Outgoing] = field(default_factory=list)
    _actor: Actor | None = None

    @property
    def data(self) -> dict[str, object]:
        return self.conversation.data

    @property
    def state(self) -> str:
        return self.conversation.state

    @property
    def actor(self) -> Actor:
        """The person with the staff roles they hold now (checked on every use)."""
        if self._actor is None:
            self._actor = actor_for(self.uow, self.person_id)
        return self._actor

    def send(self, message: Outgoing) -> None:
        self.replies.append(message)

    def attempt(self, action: Callable[[], T]) -> T | None:
        """Run a use case; a refusal becomes a reply and nothing it half did is kept."""
        try:
            # A savepoint: a refusal undoes what this use case did, and only that; the claim,
            # the account and the earlier steps of the turn stay in the turn's transaction.
            with self.uow.savepoint():
                return action()
        except Refusal as refusal:
            self.send(Outgoing(text=_escape(refusal.message)))
            return None


def _escape(text: str) -> str:
    import html

    return html.escape(text, quote=False)


Handler = Callable[[Turn], None]


@dataclass(frozen=True)
class Step:
    """A state of a conversation: what to say on entering it, and what to do with an answer."""

    enter: Handler
    answer: Handler
    flow: str  # the command that started it, for "you are in the middle of …" messages


STEPS: dict[str, Step] = {}


def step(name: str, flow: str) -> Callable[[Handler], Handler]:
    """Register the answer handler of a state; its ``enter`` is registered with :func:`entry`."""

    def register(answer: Handler) -> Handler:
        existing = STEPS.get(name)
        STEPS[name] = Step(enter=existing.enter if existing else _nothing, answer=answer, flow=flow)
        return answer

    return register


def entry(name: str, flow: str) -> Callable[[Handler], Handler]:
    def register(enter: Handler) -> Handler:
        existing = STEPS.get(name)
        STEPS[name] = Step(enter=enter, answer=existing.answer if existing else _nothing, flow=flow)
        return enter

    return register


def _nothing(turn: Turn) -> None:
    return None


def go(turn: Turn, state: str) -> None:
    """Move to ``state`` and say what it asks."""
    turn.conversation.go(state)
    STEPS[state].enter(turn)
