"""Issue 12 (a worker's first petition): the language layer's tables are built once whichever
thread asks first, and a resident who begins a petition starts building them in a thread of
its own, so that the turn judging the text (in the thread of everyone's turns) does not."""

from __future__ import annotations

import threading
import time

import pytest
from sqlalchemy import Engine

from handlers.conversations import Conversations
from handlers.turn import ChatSettings
from nlp import loading
from procedure.use_cases.context import ProcedureContext
from tests.chat_drivers import ConsoleDriver
from tests.chat_world import ChatWorld
from tests.procedure_world import Clock
from tests.test_chat_contract import ALICE


def test_x3_a_table_two_threads_ask_for_at_once_is_built_once() -> None:
    builds: list[int] = []
    asked = threading.Barrier(3)

    @loading.built_once
    def table() -> dict[str, int]:
        builds.append(1)
        time.sleep(0.2)  # long enough for the other threads to ask meanwhile
        return {"built": len(builds)}

    got: list[dict[str, int]] = []

    def ask() -> None:
        asked.wait()
        got.append(table())

    threads = [threading.Thread(target=ask) for _ in range(2)]
    for thread in threads:
        thread.start()
    asked.wait()
    got.append(table())
    for thread in threads:
        thread.join()
    assert builds == [1]
    assert len(got) == 3 and all(value is got[0] for value in got)


@pytest.mark.parametrize("database_kind", ["sqlite"], indirect=True)  # one is enough
async def test_x3_beginning_a_petition_builds_its_language_data_in_a_thread_of_its_own(
    chat_engine: Engine, clock: Clock, world: ChatWorld, monkeypatch: pytest.MonkeyPatch
) -> None:
    from nlp import diacritics, places, similarity

    monkeypatch.setattr(loading, "_thread", None)  # as in a new process
    asked: list[tuple[str, str]] = []

    def recorded(name: str, function: object) -> object:
        def call(*args: object, **kwargs: object) -> object:
            asked.append((name, threading.current_thread().name))
            return function(*args, **kwargs)  # type: ignore[operator]

        return call

    for module, name in (
        (diacritics, "judge"),
        (diacritics, "restore"),
        (similarity, "lexicon"),
        (places, "gazetteer"),
    ):
        monkeypatch.setattr(module, name, recorded(name, getattr(module, name)))

    def make() -> Conversations:
        return Conversations(
            chat_engine, ProcedureContext(clock=clock), ChatSettings(verify_code_as="text")
        )

    driver = ConsoleDriver(make)
    try:
        await driver.command(ALICE, "gopy")
    finally:
        await driver.close()
    thread = loading.background_loading()
    assert thread is not None and thread.name == "doithoai-language-data"
    thread.join(timeout=120)
    assert not thread.is_alive()
    # Everything a petition's text needs, asked for in that thread, before any text was sent.
    assert asked == [
        ("judge", "doithoai-language-data"),
        ("lexicon", "doithoai-language-data"),
        ("gazetteer", "doithoai-language-data"),
        ("restore", "doithoai-language-data"),
    ]
    loading.load_in_background()  # once per process
    assert loading.background_loading() is thread
