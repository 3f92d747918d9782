"""aiogram imported with its models built when first used (issue 12, item 2: quick starts;
bot/channels/telegram/aiogram_models.py). tests/conftest.py imports aiogram that way before any
test module, so every aiogram test in the suite (the chat contract, delivery, several workers)
runs on models built lazily; these tests check what laziness could break."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from aiogram.methods import SendMediaGroup, SendMessage
from aiogram.methods.base import Response
from aiogram.types import InlineKeyboardMarkup, Update

from bot.channels.telegram.aiogram_models import models_deferred

ROOT = Path(__file__).resolve().parents[1]

AN_UPDATE: dict[str, Any] = {
    "update_id": 9_000_000_001,
    "callback_query": {
        "id": "4382",
        "chat_instance": "-5",
        "data": "dk:7",
        "from": {"id": 8_123_456_789, "is_bot": False, "first_name": "Lan", "language_code": "vi"},
        "message": {
            "message_id": 77,
            "date": 1_764_547_200,
            "chat": {"id": 8_123_456_789, "type": "private", "first_name": "Lan"},
            "text": "Chọn buổi đối thoại",
            "entities": [{"type": "bold", "offset": 0, "length": 4}],
            "reply_markup": {
                "inline_keyboard": [[{"text": "Đăng ký", "callback_data": "dk:7"}]]
            },
            "photo": [{"file_id": "p1", "file_unique_id": "u1", "width": 90, "height": 60}],
        },
    },
}


def test_x3_aiogram_was_imported_with_its_models_left_to_be_built() -> None:
    assert models_deferred(), (
        "aiogram was imported before tests/conftest.py called import_aiogram: the suite no longer "
        "runs on the models `doithoai run` builds lazily"
    )


def test_x3_every_aiogram_model_keeps_the_one_namespace_not_a_copy_of_it() -> None:
    """Each of aiogram's 600 models keeps the namespace pydantic builds it in later; one dict for
    all of them (a copy for each of 400 types was 5 MB of every bot)."""
    from bot.channels.telegram.aiogram_models import _aiogram_models

    kept = {id(model.__dict__.get("__pydantic_parent_namespace__")) for model in _aiogram_models()}
    assert len(kept) == 1


def test_x3_while_aiogram_is_imported_an_annotation_string_is_compiled_once() -> None:
    """aiogram's 634 classes give ``typing.ForwardRef`` 4,100 annotation strings, 640 distinct:
    within the import each distinct string is compiled once; before and after, typing compiles
    as it always did, and a string that is not Python still fails as it did."""
    import typing

    from bot.channels.telegram.aiogram_models import _each_annotation_compiled_once

    annotation = "Optional[List[MessageEntity]]"
    with _each_annotation_compiled_once():
        first, second = typing.ForwardRef(annotation), typing.ForwardRef(annotation)
        assert first.__forward_code__ is second.__forward_code__
        assert first == second and first.__forward_arg__ == annotation
        with pytest.raises(SyntaxError):
            typing.ForwardRef("Optional[")
        assert eval(compile("6 * 7", "<sum>", "eval", dont_inherit=True)) == 42
    assert "compile" not in vars(typing)
    after = typing.ForwardRef(annotation)
    assert after.__forward_code__ is not typing.ForwardRef(annotation).__forward_code__


def test_x3_an_update_validated_by_a_lazily_built_model_keeps_every_field() -> None:
    update = Update.model_validate(AN_UPDATE)
    assert update.callback_query is not None
    message = update.callback_query.message
    assert message is not None and message.text == "Chọn buổi đối thoại"
    assert isinstance(message.reply_markup, InlineKeyboardMarkup)
    assert update.model_dump(by_alias=True, exclude_none=True, mode="json") == AN_UPDATE


def test_x3_a_reply_and_an_album_are_built_with_aiogram_defaults() -> None:
    reply = SendMessage(
        chat_id="8123456789", text="Đã nhận", reply_markup={"remove_keyboard": True}
    )
    assert reply.model_dump(exclude_none=True)["reply_markup"] == {"remove_keyboard": True}
    with_defaults = SendMessage(chat_id=1, text="x")
    assert type(with_defaults.parse_mode).__name__ == "Default"
    album = SendMediaGroup(chat_id=1, media=[{"type": "photo", "media": "p1", "caption": "1"}])
    assert album.media[0].caption == "1"


# In a new interpreter, so that nothing is built yet: each method's answer type first (as the
# first getUpdates or sendMessage makes it), then every module aiogram ships (those whose optional
# packages are missing apart), then every model and TypeAdapter that is not built yet.
EVERY_MODEL_IN_A_NEW_PROCESS = """
import importlib, pkgutil, sys
from bot.channels.telegram.aiogram_models import (
    complete_models_now, import_aiogram, models_deferred, waiting_models,
)
import_aiogram()
assert models_deferred() and len(waiting_models()) > 400, waiting_models()
import typing
assert "compile" not in vars(typing)  # the import's compile once is gone
waiting = set(waiting_models())  # the methods too, which aiogram does not defer itself
assert {"SendMessage", "GetUpdates", "TelegramMethod"} <= waiting, sorted(waiting)[:20]
from pydantic import BaseModel
class Later(BaseModel):  # defined after the import: built at once, as pydantic does
    number: int
assert Later.__pydantic_complete__
import aiogram, aiogram.methods
from aiogram.methods.base import Response, TelegramMethod
from pydantic import TypeAdapter
methods = [
    method for method in map(vars(aiogram.methods).get, aiogram.methods.__all__)
    if isinstance(method, type) and issubclass(method, TelegramMethod)
    and method is not TelegramMethod
]
assert len(methods) > 150, len(methods)
answers = [
    method.__name__ for method in methods
    if Response[method.__returning__].model_rebuild(raise_errors=False) is False
]
assert answers == [], answers
for module in pkgutil.walk_packages(aiogram.__path__, "aiogram."):
    try:
        importlib.import_module(module.name)
    except ImportError:
        pass
assert complete_models_now() == [] and waiting_models() == []
adapters = [
    name for name, module in list(sys.modules.items()) if name.startswith("aiogram")
    for value in vars(module).values()
    if isinstance(value, TypeAdapter) and not value.pydantic_complete
]
assert adapters == [], adapters
print("every model built")
"""


def test_x3_every_aiogram_model_can_still_be_built() -> None:
    """A model whose names pydantic cannot find would fail the first update or answer that
    needs it: every one is built here, in an order where none was built before."""
    result = subprocess.run(
        [sys.executable, "-c", EVERY_MODEL_IN_A_NEW_PROCESS],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    assert result.stdout.strip() == "every model built"


def test_x3_an_answer_type_is_built_at_its_first_answer_and_kept_through_collections() -> None:
    """pydantic keeps ``Response[list[Update]]`` only weakly; rebuilt after each collection, it
    cost tens of ms an answer. bot/channels/telegram/aiogram_shim.py keeps each one from its
    first answer on (built at the start, they delayed the first reply)."""
    import gc

    from aiogram import Bot
    from aiogram.methods import GetUpdates

    from bot.channels.telegram.aiogram_shim import _RESPONSE_TYPES, JsonSession

    session = JsonSession()
    bot = Bot("123456789:" + "A" * 35, session=session)
    answer = session.check_response(bot, GetUpdates(), 200, '{"ok": true, "result": []}')
    assert answer.result == []
    kept = _RESPONSE_TYPES[GetUpdates.__returning__]
    gc.collect()
    assert _RESPONSE_TYPES[GetUpdates.__returning__] is kept
    assert kept is Response[GetUpdates.__returning__]  # pydantic's, not built again
