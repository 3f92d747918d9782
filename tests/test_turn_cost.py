"""Issue 12, CPU per update on one process: the conversation state and the claim written by the
SQLite driver itself read back exactly as SQLAlchemy wrote them, and python-telegram-bot's
updates are read from their own JSON, not rebuilt with ``Update.to_dict``."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import Engine
from sqlmodel import select

from storage.conversation_store import claim_update, load_conversation, save_conversation
from storage.tables import Conversation, ProcessedUpdate
from storage.unit_of_work import UnitOfWork
from tests.chat_world import seed_chat_world
from tests.procedure_world import Clock
from tests.test_chat_contract import ALICE


def test_x4_c8_the_state_and_the_claim_read_back_as_written_with_their_version_and_times(
    engine: Engine,
) -> None:
    before = datetime.now(UTC) - timedelta(seconds=1)
    data: dict[str, object] = {"ward": 7, "draft": {"text": "Đèn đường hỏng", "photos": []}}
    with UnitOfWork(engine, write=True) as uow:
        assert load_conversation(uow, "telegram", "42") is None
        assert claim_update(uow, "telegram", "1001")
        save_conversation(uow, "telegram", "42", "opinion_text", data)
        assert load_conversation(uow, "telegram", "42") == ("opinion_text", data)
        uow.commit()
    with UnitOfWork(engine, write=True) as uow:
        assert not claim_update(uow, "telegram", "1001")
        save_conversation(uow, "telegram", "42", "idle", {})
        uow.commit()
    with UnitOfWork(engine) as uow:  # through the ORM, as every other reader does
        row = uow.session.exec(select(Conversation)).one()
        claim = uow.session.exec(select(ProcessedUpdate)).one()
        assert (row.channel, row.chat_id, row.state, row.data) == ("telegram", "42", "idle", {})
        assert row.version == 2  # 1 when inserted, + 1 by the upsert
        assert row.updated_at.tzinfo is not None and before <= row.updated_at
        assert row.updated_at <= datetime.now(UTC)
        assert (claim.channel, claim.update_id) == ("telegram", "1001")
        assert before <= claim.claimed_at <= datetime.now(UTC)
        assert load_conversation(uow, "telegram", "42") == ("idle", {})


async def _two_turns(framework: str, chat_engine: Engine) -> None:
    """Alice asks for help and for the sessions through ``framework``'s real adapter; both
    are answered."""
    from handlers.conversations import Conversations
    from handlers.turn import ChatSettings
    from procedure.use_cases.context import ProcedureContext
    from tests.telegram_driver import TelegramDriver

    clock = Clock()
    clock.set("2026-03-02")
    seed_chat_world(chat_engine, clock)
    driver = await TelegramDriver.start(
        framework,
        lambda: Conversations(
            chat_engine, ProcedureContext(clock=clock), ChatSettings(verify_code_as="text")
        ),
    )
    try:
        replies = await driver.command(ALICE, "trogiup")
        assert replies and replies[0].text
        replies = await driver.command(ALICE, "phien")
        assert replies
    finally:
        await driver.close()


async def test_c8_python_telegram_bot_updates_are_read_from_their_own_json(
    chat_engine: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    from telegram import Update

    def rebuilt(self: Update, recursive: bool = True) -> dict[str, object]:
        raise AssertionError("the update was rebuilt with to_dict()")

    monkeypatch.setattr(Update, "to_dict", rebuilt)
    await _two_turns("ptb", chat_engine)


async def test_c8_aiogram_updates_are_read_from_their_own_json(
    chat_engine: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    from aiogram.types import Update

    dumped: list[object] = []
    original = Update.model_dump

    def counted(self: Update, *args: object, **kwargs: object) -> object:
        dumped.append(self)
        return original(self, *args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(Update, "model_dump", counted)
    await _two_turns("aiogram", chat_engine)
    assert dumped == []  # each update was read from getUpdates' own answer
