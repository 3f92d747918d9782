"""C7: what only the Telegram adapters do, through both frameworks against the fake Bot API
server: the command menu in Vietnamese, the verification code as a picture (Q3), a webhook with
its secret token, and Telegram's errors (400 "can't parse entities", 429 with retry_after)."""

from __future__ import annotations

import asyncio
import contextlib
import socket
from collections.abc import Callable

import aiohttp
import pytest
from sqlalchemy import Engine

from bot.config import Settings
from bot.runner import run_telegram
from bot.webhook import SECRET_HEADER, WEBHOOK_PATH
from handlers.conversations import MENU_COMMANDS, Conversations
from handlers.turn import ChatSettings
from procedure.use_cases.context import ProcedureContext
from storage.conversation_store import load_conversation
from storage.unit_of_work import UnitOfWork
from tests.chat_world import seed_chat_world
from tests.fake_telegram import FakeTelegram
from tests.procedure_world import Clock
from tests.telegram_driver import TelegramDriver
from tests.test_chat_contract import ACCENTED, ALICE, give_details, texts

FRAMEWORKS = ["aiogram", "ptb"]


@pytest.fixture
def engine_and_clock(chat_engine: Engine) -> tuple[Engine, Clock]:
    clock = Clock()
    clock.set("2026-03-02")
    seed_chat_world(chat_engine, clock)
    return chat_engine, clock


async def start_driver(
    framework: str, engine: Engine, clock: Clock, verify: str = "text"
) -> TelegramDriver:
    return await TelegramDriver.start(
        framework,
        lambda: Conversations(
            engine, ProcedureContext(clock=clock), ChatSettings(verify_code_as=verify)
        ),
    )


@pytest.mark.parametrize("framework", FRAMEWORKS)
async def test_c7_commands_are_registered_in_vietnamese(framework, engine_and_clock):
    driver = await start_driver(framework, *engine_and_clock)
    try:
        await driver.fake.wait_for_calls("setMyCommands")
        commands = driver.fake.commands()
        assert [c["command"] for c in commands] == list(MENU_COMMANDS)
        described = {c["command"]: c["description"] for c in commands}
        assert described["gopy"] == "Gửi ý kiến, kiến nghị, câu hỏi"
    finally:
        await driver.close()


@pytest.mark.parametrize("framework", FRAMEWORKS)
async def test_q3_the_verification_code_is_sent_as_a_picture(framework, engine_and_clock):
    engine, clock = engine_and_clock
    driver = await start_driver(framework, engine, clock, verify="image")
    try:
        await driver.command(ALICE, "gopy")
        await driver.press(ALICE, "Không gắn với buổi đối thoại")
        await driver.press(ALICE, "Góp ý")
        await driver.press(ALICE, "Môi trường")
        replies = await give_details(driver, ALICE, await driver.text(ALICE, ACCENTED))
        assert replies[-1].image and "mã kiểm tra" in replies[-1].text
        photo = driver.fake.sent_messages(ALICE)[-1]
        assert photo.method.lower() == "sendphoto" and photo.file is not None
        assert driver.fake.file_bytes(photo.file.file_id)[:8] == b"\x89PNG\r\n\x1a\n"
        with UnitOfWork(engine) as uow:
            stored = load_conversation(uow, "telegram", str(ALICE))
        assert stored is not None
        code = stored[1]["opinion"]["verify_code"]  # type: ignore[index]
        summary = await driver.text(ALICE, str(code))
        assert "Xin kiểm tra lại trước khi gửi" in texts(summary)
    finally:
        await driver.close()


@pytest.mark.parametrize("framework", FRAMEWORKS)
async def test_c7_cant_parse_entities_is_resent_without_markup(framework, engine_and_clock):
    driver = await start_driver(framework, *engine_and_clock)
    try:
        driver.fake.fail_next(
            "sendMessage",
            400,
            "Bad Request: can't parse entities: "
            "Can't find end of the entity starting at byte offset 5",
        )
        replies = await driver.command(ALICE, "trogiup")
        assert "/tracuu" in texts(replies)
        resent = driver.fake.calls("sendMessage")[-1]
        assert resent.ok and not resent.params.get("parse_mode")
        assert "<b>" not in resent.params["text"]
    finally:
        await driver.close()


@pytest.mark.parametrize("framework", FRAMEWORKS)
async def test_c7_a_429_waits_retry_after_then_sends_once(framework, engine_and_clock):
    driver = await start_driver(framework, *engine_and_clock)
    try:
        driver.fake.fail_next("sendMessage", 429, "Too Many Requests: retry after 1", retry_after=1)
        loop = asyncio.get_running_loop()
        started = loop.time()
        replies = await driver.command(ALICE, "trogiup")
        assert loop.time() - started >= 0.9
        assert len(replies) == 1 and "/tracuu" in texts(replies)
        assert [c.status for c in driver.fake.calls("sendMessage")] == [429, 200]
    finally:
        await driver.close()


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.mark.parametrize("framework", FRAMEWORKS)
async def test_c7_webhook_with_secret_token(framework, engine_and_clock, tmp_path):
    engine, clock = engine_and_clock
    port = free_port()
    async with FakeTelegram() as fake:
        settings = Settings(
            data_dir=tmp_path,
            database_url=str(engine.url),
            telegram_bot_token=fake.token,
            telegram_api_url=fake.base_url,
            telegram_framework=framework,
            webhook_url=f"http://127.0.0.1:{port}",
            webhook_secret="s3cr3t-token",
            webhook_listen=f"127.0.0.1:{port}",
        )
        conversations = Conversations(
            engine, ProcedureContext(clock=clock), ChatSettings(verify_code_as="text")
        )
        task = asyncio.create_task(run_telegram(settings, conversations))
        try:
            await fake.wait_for_calls("setWebhook", timeout=15)
            webhook = fake.calls("setWebhook")[-1].params
            assert webhook["url"] == f"http://127.0.0.1:{port}{WEBHOOK_PATH}"
            assert webhook["secret_token"] == "s3cr3t-token"
            lan = fake.user(ALICE, "Lan")
            fake.send_command(lan, "trogiup")
            (reply,) = await fake.wait_for_messages(ALICE, 1, timeout=15)
            assert "/tracuu" in (reply.text or "")
            async with aiohttp.ClientSession() as http:
                forged = await http.post(
                    f"http://127.0.0.1:{port}{WEBHOOK_PATH}",
                    json={"update_id": 99},
                    headers={SECRET_HEADER: "x"},
                )
                assert forged.status == 401
        finally:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task


@pytest.mark.parametrize("framework", FRAMEWORKS)
async def test_p10_the_yearly_report_is_sent_as_files(framework, engine_and_clock):
    from procedure.permissions import Role
    from procedure.use_cases.staff import create_invite

    engine, clock = engine_and_clock
    with UnitOfWork(engine) as uow:
        code = create_invite(
            uow, "ben-thanh", Role.OFFICE, ProcedureContext(clock=clock), created_by="test"
        ).code
        uow.commit()
    driver = await start_driver(framework, engine, clock)
    try:
        await driver.command(ALICE, "start", code)
        replies = await driver.command(ALICE, "baocao", "2026")
        assert "Báo cáo kết quả tiếp xúc, đối thoại năm 2026" in texts(replies)
        documents = driver.fake.calls("sendDocument")
        assert len(documents) == 2 and all(call.ok for call in documents)
        names = sorted(
            message.file.file_name
            for message in driver.fake.sent_messages(ALICE)
            if message.method.lower() == "senddocument"
        )
        assert [name.rsplit(".", 1)[1] for name in names] == ["docx", "xlsx"]
        assert driver.fake.calls("sendPhoto")[-1].ok
    finally:
        await driver.close()


def _office_invite(engine: Engine, clock: Clock) -> tuple[str, Callable[[], Conversations]]:
    """An office staff invitation's code, and the conversations of a bot on ``engine``."""
    from procedure.permissions import Role
    from procedure.use_cases.staff import create_invite

    with UnitOfWork(engine) as uow:
        code = create_invite(
            uow, "ben-thanh", Role.OFFICE, ProcedureContext(clock=clock), created_by="test"
        ).code
        uow.commit()

    def make() -> Conversations:
        return Conversations(
            engine, ProcedureContext(clock=clock), ChatSettings(verify_code_as="text")
        )

    return code, make


@pytest.mark.parametrize("framework", FRAMEWORKS)
async def test_c7_an_officials_chat_gets_the_commands_of_its_roles(framework, engine_and_clock):
    """What each person sees (issue 10): enrolling sets the official's own command menu
    (setMyCommands with BotCommandScopeChat); at the next start every staff chat gets its menu
    again; residents keep the residents' menu."""
    from bot.channels.telegram.menu import ChatMenus

    engine, clock = engine_and_clock
    code, make = _office_invite(engine, clock)

    own_chat = {"type": "chat", "chat_id": ALICE}
    driver = await TelegramDriver.start(framework, make, ChatMenus(engine))
    try:
        assert driver.fake.commands(own_chat) == []
        await driver.command(ALICE, "start", code)
        names = [command["command"] for command in driver.fake.commands(own_chat)]
        assert "taophien" in names and "hopthu" in names and "gopy" in names
        assert "taophien" not in [command["command"] for command in driver.fake.commands()]
    finally:
        await driver.close()
    restarted = await TelegramDriver.start(framework, make, ChatMenus(engine))
    try:  # set once the restarted bot receives updates
        menu = await restarted.fake.wait_for(lambda: restarted.fake.commands(own_chat))
        assert "taophien" in [command["command"] for command in menu]
    finally:
        await restarted.close()


@pytest.mark.parametrize("framework", FRAMEWORKS)
async def test_c7_x3_residents_are_answered_while_the_staff_menus_are_still_being_set(
    framework, engine_and_clock
):
    """Each start sets every staff chat's command menu again, one setMyCommands a chat: hundreds
    in a city's deployment, at Telegram's pace. Made before the bot received updates, they kept
    every resident waiting at each start; here Telegram holds them, and a resident's message is
    answered meanwhile."""
    from bot.channels.telegram.menu import ChatMenus

    engine, clock = engine_and_clock
    code, make = _office_invite(engine, clock)

    enrolling = await TelegramDriver.start(framework, make, ChatMenus(engine))
    try:
        await enrolling.command(ALICE, "start", code)
    finally:
        await enrolling.close()
    fake = FakeTelegram(first_update_id=1000)  # Telegram's update ids go on after a restart
    await fake.start()
    released = asyncio.Event()
    execute = fake.execute

    async def holding_the_menus(method, params, files=None):
        if method.lower() == "setmycommands" and params.get("scope"):
            await released.wait()
        return await execute(method, params, files)

    fake.execute = holding_the_menus
    own_chat = {"type": "chat", "chat_id": ALICE}
    driver = TelegramDriver(framework, fake, make, ChatMenus(engine))
    try:
        await asyncio.wait_for(driver._start_channel(), 10)
        replies = await driver.command(ALICE + 1, "trogiup")
        assert replies and fake.commands(own_chat) == []  # answered; the menu still held
        released.set()
        menu = await fake.wait_for(lambda: fake.commands(own_chat))
        assert "taophien" in [command["command"] for command in menu]
    finally:
        released.set()
        await driver.close()


@pytest.mark.parametrize("framework", FRAMEWORKS)
async def test_c7_x4_telegram_out_of_reach_at_start_leaves_the_web_chat_serving_until_reached(
    framework, engine_and_clock, tmp_path, monkeypatch, caplog
):
    """Telegram blocked or down when ``doithoai run`` starts (as in Vietnam since June 2025):
    the process stays up, the web chat beside it answers, and Telegram is tried again in the
    background; once its Bot API answers, the update waiting there is answered."""
    from bot.channels import reconnect
    from bot.channels.registry import configured_channels
    from tests.serving import serving
    from tests.test_web_chat import Page, said

    monkeypatch.setattr(reconnect, "RETRY_SECONDS", (0.2,))
    engine, clock = engine_and_clock
    api_port = free_port()  # nothing listens there yet: connections are refused
    fake = FakeTelegram(port=api_port)
    settings = Settings(
        data_dir=tmp_path,
        database_url=str(engine.url),
        telegram_bot_token=fake.token,
        telegram_api_url=f"http://127.0.0.1:{api_port}",
        telegram_framework=framework,
        webhook_listen="127.0.0.1:0",
    )
    channels = configured_channels(settings, engine)
    assert [channel.name for channel in channels] == ["telegram", "web"]
    conversations = Conversations(
        engine, ProcedureContext(clock=clock), ChatSettings(verify_code_as="text")
    )
    async with serving(settings, conversations, channels) as (running, task):
        async with aiohttp.ClientSession() as client:
            page = Page(client, running.url)
            await page.open()
            assert "/tracuu" in said(await page.text("/trogiup"))
        assert "Telegram could not be reached at start" in caplog.text
        assert not task.done()
        async with fake:  # the Bot API answers from now on
            fake.send_command(fake.user(ALICE, "Lan"), "trogiup")
            (reply,) = await fake.wait_for_messages(ALICE, 1, timeout=15)
            assert "/tracuu" in (reply.text or "")
            assert fake.calls("setMyCommands") and fake.calls("deleteWebhook")


async def start_after_failures(
    framework: str, engine: Engine, clock: Clock, method: str, code: int, times: int = 1
) -> TelegramDriver:
    """A driver whose fake Bot API answers ``code`` to the first ``times`` calls of ``method``
    (``"*"``: any but getUpdates) from the start."""
    fake = FakeTelegram()
    await fake.start()
    fake.fail_next(method, code, times=times)
    driver = TelegramDriver(
        framework,
        fake,
        lambda: Conversations(
            engine, ProcedureContext(clock=clock), ChatSettings(verify_code_as="text")
        ),
    )
    await driver._start_channel()
    return driver


@pytest.mark.parametrize("framework", FRAMEWORKS)
async def test_c7_x4_a_start_refused_by_the_bot_api_is_tried_again(
    framework, engine_and_clock, monkeypatch
):
    """The Bot API answering errors (5xx) to the calls of a start: the channel's start returns,
    tries again, and once the calls succeed it polls and answers."""
    from bot.channels import reconnect

    monkeypatch.setattr(reconnect, "RETRY_SECONDS", (0.05,))
    driver = await start_after_failures(framework, *engine_and_clock, "*", 502, times=3)
    try:
        replies = await driver.command(ALICE, "trogiup")
        assert "/tracuu" in texts(replies)
        calls = driver.fake.calls()
        statuses = [call.status for call in calls if call.method != "getUpdates"]
        assert statuses[:3] == [502, 502, 502] and 200 in statuses[3:]
    finally:
        await driver.close()


@pytest.mark.parametrize(
    ("framework", "failing", "code"),
    [("aiogram", "getMe", 502), ("ptb", "getUpdates", 409)],
)
async def test_c7_x4_long_polling_that_stops_by_itself_starts_again(
    framework, failing, code, engine_and_clock, monkeypatch, caplog
):
    """Polling ended by the Bot API's error (aiogram's getMe before it polls; a 409 Conflict to
    python-telegram-bot's getUpdates, which it does not retry): polled again after a while,
    and the resident is answered."""
    from bot.channels import reconnect

    monkeypatch.setattr(reconnect, "RETRY_SECONDS", (0.05,))
    driver = await start_after_failures(framework, *engine_and_clock, failing, code)
    try:
        replies = await driver.command(ALICE, "trogiup")
        assert "/tracuu" in texts(replies)
        assert driver.fake.calls(failing)[0].status == code
        assert "Telegram long polling stopped" in caplog.text
    finally:
        await driver.close()


@pytest.mark.parametrize("framework", FRAMEWORKS)
async def test_c7_x4_polling_through_an_outage_warns_once_then_answers(
    framework, engine_and_clock, monkeypatch, caplog
):
    """getUpdates failing 20 times in a row (the Bot API gone while the bot polls): polled
    again after a while each time, one warning for them all (not one or two a second), and the
    resident is answered once it is back. python-telegram-bot's polling is ours (the delays of
    bot/channels/reconnect.py); aiogram's is its own, its log thinned by QuietFailedPolls."""
    import logging

    from aiogram.utils.backoff import BackoffConfig

    from bot.channels import reconnect
    from bot.channels.telegram import aiogram_shim

    monkeypatch.setattr(reconnect, "RETRY_SECONDS", (0.01,))
    monkeypatch.setattr(aiogram_shim, "POLL_BACKOFF", BackoffConfig(0.01, 0.02, 1.3, 0.1))
    dispatcher_log = logging.getLogger("aiogram.dispatcher")
    for known in list(dispatcher_log.filters):  # a new outage: a filter of its own
        dispatcher_log.removeFilter(known)
    caplog.set_level(logging.DEBUG)
    driver = await start_after_failures(framework, *engine_and_clock, "getUpdates", 502, times=20)
    try:
        replies = await driver.command(ALICE, "trogiup")
        assert "/tracuu" in texts(replies)
    finally:
        await driver.close()
    assert len(driver.fake.calls("getUpdates")) > 20
    said = [r for r in caplog.records if r.levelno >= logging.WARNING]
    if framework == "ptb":
        failed = [r for r in caplog.records if r.getMessage().startswith("getUpdates failed")]
        assert len(failed) == 20 and len(said) == 1 and said[0] in failed
        assert "Telegram reached again after 20 failed polls" in caplog.text
    else:
        assert [r.getMessage()[:14] for r in said] == ["Failed to fetc", "Sleep for 0.01"]
        assert "Connection established (tryings = 20" in caplog.text
