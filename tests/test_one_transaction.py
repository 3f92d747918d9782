"""X4: one incoming update is one transaction. The claim, the account, the step, the use case,
its events and outbox rows are committed together, once, by the conversation; a failure anywhere
keeps nothing (not even the claim), the resident gets one short apology, and the same update
delivered again is handled again. Run on SQLite and, where configured, on PostgreSQL."""

from __future__ import annotations

import logging
import os
import subprocess
import sys
import textwrap
from collections.abc import Callable
from pathlib import Path

import pytest
from sqlalchemy import Engine, func
from sqlmodel import select

import handlers.conversations
import handlers.flows.opinion
import procedure.use_cases.petitions
from handlers.channel import Incoming
from handlers.conversations import Conversations
from handlers.turn import ChatSettings
from procedure.errors import Refusal
from procedure.use_cases.context import ProcedureContext
from storage.conversation_store import load_conversation
from storage.tables import Attachment, Event, Petition, ProcessedUpdate
from storage.unit_of_work import UnitOfWork
from tests.chat_drivers import ConsoleDriver, Reply
from tests.chat_world import ChatWorld
from tests.conftest import committer_in_procedure
from tests.procedure_world import Clock
from tests.test_chat_contract import ALICE, opinion_until_summary, texts

APOLOGY = "chúng tôi gặp sự cố"


class Boom(RuntimeError):
    """The injected failure; its message holds personal data that must never be logged."""


SECRET = "Nguyễn Văn An +84912345678"


@pytest.fixture
def driver(chat_engine: Engine, clock: Clock, world: ChatWorld) -> ConsoleDriver:
    return ConsoleDriver(
        lambda: Conversations(
            chat_engine, ProcedureContext(clock=clock), ChatSettings(verify_code_as="text")
        )
    )


def redeliver(driver: ConsoleDriver, user: int) -> list[Reply]:
    """The platform delivers the user's last update again (same update id)."""
    driver._as(user)
    incoming = driver._last[user]
    return [Reply.of(message) for message in driver.chat.send(incoming)]  # type: ignore[arg-type]


def count(engine: Engine, table: type) -> int:
    with UnitOfWork(engine) as uow:
        return int(uow.session.exec(select(func.count()).select_from(table)).one())


def state_of(engine: Engine, user: int) -> str | None:
    with UnitOfWork(engine) as uow:
        stored = load_conversation(uow, "console", f"u{user}")
    return None if stored is None else stored[0]


def _after(function: Callable[..., object]) -> Callable[..., object]:
    """Run ``function`` then fail: the failure comes after its writes."""

    def run(*args: object, **kwargs: object) -> object:
        function(*args, **kwargs)
        raise Boom(SECRET)

    return run


# Each point of a petition's submission where a failure is injected: before the petition row,
# after the row but before its event, after the use case returned, while saving the state, and
# in the commit itself.
INJECTIONS: dict[str, Callable[[pytest.MonkeyPatch], None]] = {
    "tracking_code": lambda mp: mp.setattr(
        procedure.use_cases.petitions, "_unused_tracking_code", _raiser()
    ),
    "event": lambda mp: mp.setattr(
        procedure.use_cases.petitions, "record_event", _after(lambda *a, **k: None)
    ),
    "after_use_case": lambda mp: mp.setattr(handlers.flows.opinion, "format_datetime", _raiser()),
    "saving_state": lambda mp: mp.setattr(handlers.conversations, "save", _raiser()),
    "commit": lambda mp: mp.setattr(UnitOfWork, "commit", _raiser()),
}


def _raiser() -> Callable[..., object]:
    def fail(*args: object, **kwargs: object) -> object:
        raise Boom(SECRET)

    return fail


@pytest.mark.parametrize("where", list(INJECTIONS))
async def test_x4_a_failure_while_submitting_keeps_nothing_and_the_update_is_handled_again(
    where: str,
    driver: ConsoleDriver,
    chat_engine: Engine,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    replies = await opinion_until_summary(driver, ALICE)
    assert "Xin kiểm tra lại trước khi gửi" in texts(replies)
    await driver.photo(ALICE)  # an attachment, written with the petition
    before_state = state_of(chat_engine, ALICE)
    events_before = count(chat_engine, Event)
    claims_before = count(chat_engine, ProcessedUpdate)
    with monkeypatch.context() as patch:
        INJECTIONS[where](patch)
        with caplog.at_level(logging.ERROR):
            replies = await driver.press(ALICE, "Gửi")
    # One short apology, nothing else; nothing half-written; the claim rolled back too.
    assert len(replies) == 1 and APOLOGY in replies[0].text
    assert count(chat_engine, Petition) == 0
    assert count(chat_engine, Attachment) == 0
    assert count(chat_engine, Event) == events_before
    assert count(chat_engine, ProcessedUpdate) == claims_before
    assert state_of(chat_engine, ALICE) == before_state
    # The failure is logged, without the resident's data.
    logged = "\n".join(record.getMessage() for record in caplog.records)
    assert "Boom" in logged and SECRET not in logged and "+8491" not in logged
    # Delivered again: handled, one petition; delivered a third time: ignored.
    replies = redeliver(driver, ALICE)
    assert "Mã theo dõi" in texts(replies) or "KN-" in texts(replies)
    assert count(chat_engine, Petition) == 1
    assert count(chat_engine, Attachment) == 1
    assert redeliver(driver, ALICE) == []
    assert count(chat_engine, Petition) == 1


async def test_x4_every_step_of_the_flow_survives_one_failure_and_its_redelivery(
    driver: ConsoleDriver, chat_engine: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Every update of a whole petition fails once after all its work, then is delivered again."""
    failures: list[int] = []
    original_send = driver.chat.send

    def send_failing_first(incoming: Incoming) -> list:  # type: ignore[type-arg]
        with monkeypatch.context() as patch:
            patch.setattr(handlers.conversations, "save", _raiser())
            first = original_send(incoming)
        assert len(first) == 1 and APOLOGY in first[0].text, first
        failures.append(1)
        return original_send(incoming)

    monkeypatch.setattr(driver.chat, "send", send_failing_first)
    await opinion_until_summary(driver, ALICE)
    await driver.press(ALICE, "Gửi")
    assert len(failures) >= 8
    with UnitOfWork(chat_engine) as uow:
        (petition,) = uow.session.exec(select(Petition)).all()
    assert petition.petitioner_name == "Nguyễn Văn An"
    assert state_of(chat_engine, ALICE) == "idle"


async def test_x4_a_kill_mid_turn_keeps_nothing(
    driver: ConsoleDriver, chat_engine: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A process stopped in the middle of a turn (simulated by KeyboardInterrupt right after the
    petition is written) leaves nothing, and the update is handled when delivered again."""
    await opinion_until_summary(driver, ALICE)

    def interrupted(*args: object, **kwargs: object) -> object:
        raise KeyboardInterrupt

    with monkeypatch.context() as patch:
        patch.setattr(handlers.flows.opinion, "format_datetime", interrupted)
        with pytest.raises(KeyboardInterrupt):
            await driver.press(ALICE, "Gửi")
    assert count(chat_engine, Petition) == 0
    assert "KN-" in texts(redeliver(driver, ALICE))
    assert count(chat_engine, Petition) == 1


KILLED_CHILD = textwrap.dedent(
    """
    import os, sys
    from handlers.channel import Incoming
    from handlers.conversations import Conversations
    from handlers.turn import ChatSettings
    import handlers.flows.opinion as opinion
    from storage.engine import make_engine

    def die(*args, **kwargs):
        os._exit(3)  # the process is killed after the petition was written, before the commit

    opinion.format_datetime = die
    engine = make_engine(sys.argv[1])
    Conversations(engine, settings=ChatSettings(verify_code_as="text")).handle(
        Incoming(channel="console", user_id=sys.argv[2], chat_id=sys.argv[2],
                 update_id=sys.argv[3], button="confirm:send")
    )
    """
)


async def test_x4_a_process_killed_between_the_use_case_and_the_commit(
    driver: ConsoleDriver, chat_engine: Engine
) -> None:
    await opinion_until_summary(driver, ALICE)
    url = chat_engine.url.render_as_string(hide_password=False)
    update_id = "killed:1"
    child = subprocess.run(
        [sys.executable, "-c", KILLED_CHILD, url, f"u{ALICE}", update_id],
        cwd=Path(__file__).resolve().parent.parent,
        env={**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parent.parent)},
        capture_output=True,
        timeout=120,
    )
    assert child.returncode == 3, child.stderr.decode()[-2000:]
    assert count(chat_engine, Petition) == 0
    assert state_of(chat_engine, ALICE) == "gopy.confirm"
    again = Incoming(
        channel="console",
        user_id=f"u{ALICE}",
        chat_id=f"u{ALICE}",
        update_id=update_id,
        button="confirm:send",
    )
    replies = driver.chat.conversations.handle(again)
    assert "KN-" in "\n".join(reply.text for reply in replies)
    assert count(chat_engine, Petition) == 1
    assert driver.chat.conversations.handle(again) == []


async def test_x4_a_refusal_rolls_back_only_its_step(
    driver: ConsoleDriver, chat_engine: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A use case refused after it wrote (here: its event) undoes its own writes through a
    savepoint; the claim, the account and the conversation stay, so the same update delivered
    again is not handled twice."""
    await opinion_until_summary(driver, ALICE)
    claims = count(chat_engine, ProcessedUpdate)

    def refuse(*args: object, **kwargs: object) -> None:
        raise Refusal("refusal.phone_invalid")

    with monkeypatch.context() as patch:
        patch.setattr(procedure.use_cases.petitions, "record_event", refuse)
        replies = await driver.press(ALICE, "Gửi")
    assert APOLOGY not in texts(replies) and texts(replies)
    assert count(chat_engine, Petition) == 0  # the row written before the refusal is gone
    assert count(chat_engine, ProcessedUpdate) == claims + 1  # the claim is kept
    assert redeliver(driver, ALICE) == []
    assert count(chat_engine, Petition) == 0


def test_x4_use_cases_never_commit_the_guard_catches_one_that_does(uow: UnitOfWork) -> None:
    """The autouse guard in conftest fails any test in which code under procedure/ commits."""
    namespace: dict[str, object] = {"__name__": "procedure.use_cases.rogue"}
    exec(
        "def rogue(uow):\n    uow.commit()\n\ndef where():\n    return committer()\n",
        namespace,
    )
    namespace["committer"] = committer_in_procedure
    assert namespace["where"]() == "procedure.use_cases.rogue.where"  # type: ignore[operator]
    with pytest.raises(AssertionError, match="rogue commits"):
        namespace["rogue"](uow)  # type: ignore[operator]
    uow.commit()  # the test itself may commit


async def test_x5_a_stored_state_that_no_longer_exists_starts_afresh(
    driver: ConsoleDriver, chat_engine: Engine
) -> None:
    from storage.conversation_store import save_conversation

    with UnitOfWork(chat_engine) as uow:
        save_conversation(uow, "console", f"u{ALICE}", "gopy.removed_step", {"x": 1})
        uow.commit()
    for command in ("gopy", "phien", "huy"):
        said = texts(await driver.command(ALICE, command))
        assert said and APOLOGY not in said, (command, said)
        with UnitOfWork(chat_engine) as uow:
            save_conversation(uow, "console", f"u{ALICE}", "gopy.removed_step", {"x": 1})
            uow.commit()
    said = texts(await driver.text(ALICE, "xin chào"))
    assert said and APOLOGY not in said
