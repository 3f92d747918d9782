"""Conversation state: a small state machine per (channel, chat), kept in our store (not in a
framework's memory) so it survives restarts and works with several workers."""

from __future__ import annotations

from dataclasses import dataclass, field

from storage.conversation_store import (
    claim_and_load,
    claim_update,
    load_conversation,
    lock_conversation,
    save_conversation,
)
from storage.unit_of_work import UnitOfWork

IDLE = "idle"

__all__ = [
    "IDLE",
    "ConversationState",
    "claim",
    "claim_update",
    "load",
    "lock_conversation",
    "save",
]


@dataclass
class ConversationState:
    channel: str
    chat_id: str
    state: str = IDLE
    data: dict[str, object] = field(default_factory=dict)

    def go(self, state: str) -> None:
        self.state = state

    def reset(self, *, keep: tuple[str, ...] = ()) -> None:
        """Back to idle; the named keys of ``data`` (drafts) are kept."""
        self.state = IDLE
        self.data = {key: value for key, value in self.data.items() if key in keep}


def load(uow: UnitOfWork, channel: str, chat_id: str) -> ConversationState:
    stored = load_conversation(uow, channel, chat_id)
    if stored is None:
        return ConversationState(channel, chat_id)
    return ConversationState(channel, chat_id, stored[0], stored[1])


def claim(
    uow: UnitOfWork, channel: str, chat_id: str, update_id: str | None
) -> ConversationState | None:
    """Claim the update (when it has an id) and load the conversation: its state, or None when
    the update was handled already (X4). One round trip on PostgreSQL."""
    claimed, stored = claim_and_load(uow, channel, chat_id, update_id)
    if not claimed:
        return None
    if stored is None:
        return ConversationState(channel, chat_id)
    return ConversationState(channel, chat_id, stored[0], stored[1])


def save(uow: UnitOfWork, state: ConversationState) -> None:
    save_conversation(uow, state.channel, state.chat_id, state.state, state.data)
