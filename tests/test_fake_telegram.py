"""The fake Bot API server speaks Telegram's protocol well enough for the real frameworks.

Each test drives real aiogram or python-telegram-bot code (or raw HTTP, for protocol
details) against :class:`tests.fake_telegram.FakeTelegram` on 127.0.0.1.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import html
import io
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import aiohttp
import pytest
import telegram
import telegram.error
from aiogram import Bot, Dispatcher, F
from aiogram.client.default import DefaultBotProperties
from aiogram.client.session.aiohttp import AiohttpSession
from aiogram.client.telegram import TelegramAPIServer
from aiogram.exceptions import (
    TelegramBadRequest,
    TelegramConflictError,
    TelegramForbiddenError,
    TelegramRetryAfter,
    TelegramServerError,
    TelegramUnauthorizedError,
)
from aiogram.types import (
    BotCommand,
    BotCommandScopeAllPrivateChats,
    BufferedInputFile,
    CallbackQuery,
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    Message,
)
from aiogram.webhook.aiohttp_server import SimpleRequestHandler
from aiohttp import web
from PIL import Image
from telegram.ext import ApplicationBuilder, CommandHandler, ContextTypes, MessageHandler, filters

from tests.fake_telegram import SECRET_HEADER, EntityParseError, FakeTelegram, parse_html

BIG_USER_ID = 2**52 + 11  # well above 2**32, as new Telegram accounts are
SUPERGROUP_ID = -1009876543210


@pytest.fixture
async def fake() -> AsyncIterator[FakeTelegram]:
    async with FakeTelegram() as server:
        yield server
    assert not server.internal_errors


def aiogram_bot(fake: FakeTelegram, token: str | None = None, **kwargs: Any) -> Bot:
    session = AiohttpSession(api=TelegramAPIServer.from_base(fake.base_url))
    return Bot(token or fake.token, session=session, **kwargs)


def png(width: int, height: int) -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (width, height), "navy").save(buffer, "PNG")
    return buffer.getvalue()


@asynccontextmanager
async def aiogram_polling(
    fake: FakeTelegram, dispatcher: Dispatcher, bot: Bot
) -> AsyncIterator[None]:
    """Run ``start_polling`` in a task; stop it and close the session afterwards."""
    calls_before = len(fake.calls("getMe"))
    task = asyncio.create_task(
        dispatcher.start_polling(bot, handle_signals=False, polling_timeout=5)
    )
    try:
        await fake.wait_for(lambda: len(fake.calls("getMe")) > calls_before or task.done())
        yield
    finally:
        if not task.done():
            await dispatcher.stop_polling()
        await task


@asynccontextmanager
async def http_server(app: web.Application) -> AsyncIterator[str]:
    """Serve ``app`` on an ephemeral port of 127.0.0.1; yield its base URL."""
    runner = web.AppRunner(app, handle_signals=False, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    try:
        yield f"http://127.0.0.1:{runner.addresses[0][1]}"
    finally:
        await runner.cleanup()


async def raw_call(
    session: aiohttp.ClientSession, fake: FakeTelegram, method: str, **kwargs: Any
) -> tuple[int, dict[str, Any]]:
    async with session.post(fake.method_url(method), **kwargs) as response:
        return response.status, await response.json()


# -- aiogram ------------------------------------------------------------------------------------


async def test_aiogram_bot_calls_get_me_send_message_photo_and_commands(fake: FakeTelegram) -> None:
    person = fake.user(1001, "Lan")
    keyboard = InlineKeyboardMarkup(
        inline_keyboard=[[InlineKeyboardButton(text="Đăng ký", callback_data="register:7")]]
    )
    picture = png(1600, 900)
    async with aiogram_bot(fake) as bot:
        me = await bot.get_me()
        sent = await bot.send_message(
            person.id, "<b>Chào</b> Lan &amp; cả nhà", parse_mode="HTML", reply_markup=keyboard
        )
        photo = await bot.send_photo(
            person.id, BufferedInputFile(picture, "map.png"), caption="Bản đồ"
        )
        await bot.set_my_commands(
            [BotCommand(command="start", description="Bắt đầu")],
            scope=BotCommandScopeAllPrivateChats(),
            language_code="vi",
        )
        commands = await bot.get_my_commands(
            scope=BotCommandScopeAllPrivateChats(), language_code="vi"
        )
        downloaded = await bot.download(photo.photo[-1].file_id)

    assert (me.id, me.is_bot, me.username) == (fake.bot_id, True, fake.bot_username)
    assert sent.text == "Chào Lan & cả nhà"
    assert sent.entities is not None and sent.entities[0].type == "bold"
    assert sent.from_user is not None and sent.from_user.id == fake.bot_id
    assert sent.reply_markup is not None
    assert sent.reply_markup.model_dump() == keyboard.model_dump()
    record = fake.last_message(person.id)
    assert record.method == "sendPhoto"
    assert [(size.width, size.height) for size in photo.photo] == [
        (90, 51),
        (320, 180),
        (800, 450),
        (1280, 720),
    ]
    assert photo.caption == "Bản đồ"
    assert downloaded is not None and downloaded.read() == picture
    first = fake.sent_messages(person.id)[0]
    assert first.parse_mode == "HTML"
    assert first.raw_text == "<b>Chào</b> Lan &amp; cả nhà"
    assert first.callback_data == ["register:7"]
    assert [m.message_id for m in fake.sent_messages(person.id)] == [1, 2]
    upload = fake.calls("sendPhoto")[0]
    assert upload.content_type == "multipart/form-data"
    assert upload.upload("photo") is not None and upload.upload("photo").data == picture  # type: ignore[union-attr]
    assert [c.command for c in commands] == ["start"]
    assert fake.commands({"type": "all_private_chats"}, "vi") == [
        {"command": "start", "description": "Bắt đầu"}
    ]
    assert fake.commands() == []


async def test_aiogram_dispatcher_polls_answers_and_confirms_offsets(fake: FakeTelegram) -> None:
    person = fake.user(1002, "Minh")
    seen: list[int] = []
    dispatcher = Dispatcher()

    @dispatcher.message(F.text)
    async def echo(message: Message) -> None:
        seen.append(message.message_id)
        keyboard = InlineKeyboardMarkup(
            inline_keyboard=[[InlineKeyboardButton(text="Đồng ý", callback_data="ok")]]
        )
        await message.answer(f"Bạn viết: {html.escape(message.text or '')}", reply_markup=keyboard)

    @dispatcher.callback_query(F.data == "ok")
    async def agreed(callback: CallbackQuery) -> None:
        await callback.answer("Đã ghi nhận")
        assert isinstance(callback.message, Message)
        await callback.message.edit_text("Cảm ơn <b>bạn</b>")

    bot = aiogram_bot(fake, default=DefaultBotProperties(parse_mode="HTML"))
    async with aiogram_polling(fake, dispatcher, bot):
        first = fake.send_text(person, "1 < 2 & <b>")
        question = (await fake.wait_for_messages(person.id, 1))[0]
        assert question.text == "Bạn viết: 1 < 2 & <b>"
        fake.press_button(person, question, "ok")
        await fake.wait_for(lambda: question.edited)
        fake.send_text(person, "lần hai")
        await fake.wait_for_messages(person.id, 2)
        fake.replay(first["update_id"])  # the same update again, as after a lost answer
        await fake.wait_for_messages(person.id, 3)
        await fake.wait_for(lambda: not fake.pending_updates)

    assert question.text == "Cảm ơn bạn"
    assert question.history[0]["text"] == "Bạn viết: 1 < 2 & <b>"
    assert "reply_markup" not in question.message  # an edit without markup drops the keyboard
    assert list(fake.callback_answers.values()) == [{"text": "Đã ghi nhận"}]
    assert seen == [first["message"]["message_id"], 3, first["message"]["message_id"]]
    assert fake.delivery_counts[first["update_id"]] == 2
    assert all(
        count == 1 for uid, count in fake.delivery_counts.items() if uid != first["update_id"]
    )
    offsets = [c.params.get("offset") for c in fake.calls("getUpdates")]
    assert offsets[0] is None and offsets[-1] == max(fake.updates) + 1
    assert all(
        sorted(call.params["allowed_updates"]) == ["callback_query", "message"]
        for call in fake.calls("getUpdates")
    )


async def test_aiogram_maps_the_error_answers(fake: FakeTelegram) -> None:
    person = fake.user(1003, "Hoa")
    async with aiogram_bot(fake) as bot:
        fake.fail_next("sendMessage", 429, retry_after=3)
        with pytest.raises(TelegramRetryAfter) as too_many:
            await bot.send_message(person.id, "một")
        fake.fail_next(
            "SENDMESSAGE",
            400,
            "Bad Request: can't parse entities: "
            "Can't find end of the entity starting at byte offset 5",
        )
        with pytest.raises(TelegramBadRequest, match="byte offset 5"):
            await bot.send_message(person.id, "hai")
        with pytest.raises(TelegramBadRequest, match=r'Unsupported start tag "" at byte offset 2'):
            await bot.send_message(person.id, "1 < 2", parse_mode="HTML")
        with pytest.raises(TelegramBadRequest, match="BUTTON_DATA_INVALID"):
            await bot.send_message(
                person.id,
                "ba",
                reply_markup=InlineKeyboardMarkup(
                    inline_keyboard=[[InlineKeyboardButton(text="x", callback_data="x" * 65)]]
                ),
            )
        fake.fail_next("*", 502, times=2)
        for _ in range(2):
            with pytest.raises(TelegramServerError):
                await bot.send_chat_action(person.id, "typing")
        fake.block(person)
        with pytest.raises(TelegramForbiddenError, match="bot was blocked by the user"):
            await bot.send_message(person.id, "bốn")
        fake.unblock(person)
        assert (await bot.send_message(person.id, "năm")).text == "năm"
    async with aiogram_bot(fake, token="42:wrong-token") as stranger:
        with pytest.raises(TelegramUnauthorizedError):
            await stranger.get_me()

    assert too_many.value.retry_after == 3
    assert [s.text for s in fake.sent_messages()] == ["năm"]
    assert fake.too_many_requests_sent == 1


async def test_aiogram_webhook_handler_answers_in_the_webhook_reply(fake: FakeTelegram) -> None:
    person = fake.user(1004, "Tú")
    dispatcher = Dispatcher()

    @dispatcher.message(F.text)
    async def pong(message: Message) -> Any:
        return message.answer(f"pong {message.text}")  # returned, not awaited: webhook reply

    bot = aiogram_bot(fake)
    app = web.Application()
    handler = SimpleRequestHandler(
        dispatcher, bot, handle_in_background=False, secret_token="s3cret-Token_1"
    )
    handler.register(app, path="/hook")
    async with http_server(app) as url, bot:
        await bot.set_webhook(f"{url}/hook", secret_token="s3cret-Token_1")
        fake.send_text(person, "ping")
        [answer] = await fake.wait_for_messages(person.id, 1)
        info = await bot.get_webhook_info()
        await bot.delete_webhook()

    assert answer.text == "pong ping"
    assert fake.calls("sendMessage")[0].http_method == "WEBHOOK-REPLY"
    assert info.url == f"{url}/hook" and info.pending_update_count == 0
    assert fake.webhook is None


# -- python-telegram-bot ------------------------------------------------------------------------


async def test_ptb_bot_calls_get_me_send_message_and_documents(fake: FakeTelegram) -> None:
    person = fake.user(2001, "Quân")
    incoming = fake.send_document(person, "biên bản".encode(), "bien-ban.txt", "text/plain")
    async with telegram.Bot(fake.token, base_url=fake.api_url, base_file_url=fake.file_url) as bot:
        me = await bot.get_me()
        sent = await bot.send_message(person.id, "Xin chào <i>Quân</i>", parse_mode="HTML")
        uploaded = await bot.send_document(person.id, b"%PDF-1.4 fake", filename="thu-moi.pdf")
        again = await bot.send_document(person.id, uploaded.document.file_id)
        their_file = await bot.get_file(incoming["message"]["document"]["file_id"])
        content = await their_file.download_as_bytearray()

    assert me.id == fake.bot_id and me.username == fake.bot_username
    assert sent.text == "Xin chào Quân" and sent.entities[0].type == "italic"
    assert uploaded.document.file_name == "thu-moi.pdf"
    assert uploaded.document.mime_type == "application/pdf"
    assert again.document.file_id == uploaded.document.file_id
    assert fake.file_bytes(uploaded.document.file_id) == b"%PDF-1.4 fake"
    assert bytes(content) == "biên bản".encode()
    assert fake.calls("sendDocument")[0].upload("document") is not None


async def test_ptb_application_polls_and_answers(fake: FakeTelegram) -> None:
    person = fake.user(2002, "Thảo")

    async def start(update: telegram.Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        assert update.effective_message is not None
        keyboard = telegram.ReplyKeyboardMarkup(
            [[telegram.KeyboardButton("Chia sẻ số điện thoại", request_contact=True)]],
            one_time_keyboard=True,
        )
        await update.effective_message.reply_text(
            f"start {' '.join(context.args or [])}", reply_markup=keyboard
        )

    async def contact(update: telegram.Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        assert update.effective_message is not None and update.effective_message.contact
        phone = update.effective_message.contact.phone_number
        await update.effective_message.reply_text(
            f"Đã nhận {phone}", reply_markup=telegram.ReplyKeyboardRemove()
        )

    async def echo(update: telegram.Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        assert update.effective_message is not None
        await update.effective_message.reply_text(f"echo {update.effective_message.text}")

    app = (
        ApplicationBuilder()
        .token(fake.token)
        .base_url(fake.api_url)
        .base_file_url(fake.file_url)
        .build()
    )
    app.add_handler(CommandHandler("start", start))
    app.add_handler(MessageHandler(filters.CONTACT, contact))
    app.add_handler(MessageHandler(filters.TEXT & ~filters.COMMAND, echo))
    await app.initialize()
    await app.start()
    assert app.updater is not None
    await app.updater.start_polling(poll_interval=0, timeout=dt.timedelta(seconds=5))
    try:
        fake.send_command(person, "start", "MOI-2025")
        fake.send_contact(person, "+84901234567")
        fake.send_text(person, "xin chào")
        replies = await fake.wait_for_messages(person.id, 3)
    finally:
        await app.updater.stop()
        await app.stop()
        await app.shutdown()

    assert [r.text for r in replies] == ["start MOI-2025", "Đã nhận +84901234567", "echo xin chào"]
    assert replies[0].requests_contact and "reply_markup" not in replies[0].message
    assert replies[1].removes_keyboard
    assert not fake.pending_updates
    assert all(count == 1 for count in fake.delivery_counts.values())


async def test_ptb_raises_retry_after_forbidden_and_bad_request(
    fake: FakeTelegram, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(
        "PTB_TIMEDELTA", "true"
    )  # retry_after as a timedelta, no deprecation warning
    person = fake.user(2003, "Long")
    async with telegram.Bot(fake.token, base_url=fake.api_url, base_file_url=fake.file_url) as bot:
        fake.fail_next("sendMessage", 429, retry_after=5)
        with pytest.raises(telegram.error.RetryAfter) as too_many:
            await bot.send_message(person.id, "một")
        fake.fail_next("sendMessage", 403, chat_id=person.id)
        with pytest.raises(telegram.error.Forbidden, match="blocked"):
            await bot.send_message(person.id, "hai")
        with pytest.raises(telegram.error.BadRequest, match=r"(?i)can't find end tag"):
            await bot.send_message(person.id, "<b>ba", parse_mode="HTML")
    with pytest.raises(telegram.error.InvalidToken, match="rejected by the server"):
        async with telegram.Bot("42:wrong", base_url=fake.api_url, base_file_url=fake.file_url):
            pass  # initialize() calls getMe, which answers 401

    assert too_many.value.retry_after == dt.timedelta(seconds=5)
    assert fake.sent_messages() == []


async def test_ptb_sends_to_64_bit_ids(fake: FakeTelegram) -> None:
    person = fake.user(BIG_USER_ID, "Khoa")
    fake.group(SUPERGROUP_ID, "Tổ dân phố 5")
    async with telegram.Bot(fake.token, base_url=fake.api_url, base_file_url=fake.file_url) as bot:
        private = await bot.send_message(person.id, "riêng")
        group = await bot.send_message(SUPERGROUP_ID, "chung")
    assert private.chat.id == BIG_USER_ID and private.chat.type == "private"
    assert group.chat.id == SUPERGROUP_ID and group.chat.type == "supergroup"
    assert fake.calls("sendMessage")[0].params["chat_id"] == BIG_USER_ID


# -- webhook delivery ---------------------------------------------------------------------------


async def test_webhook_posts_updates_with_secret_token_and_retries(fake: FakeTelegram) -> None:
    person = fake.user(3001, "Vy")
    received: list[tuple[str | None, dict[str, Any]]] = []

    async def hook(request: web.Request) -> web.Response:
        received.append((request.headers.get(SECRET_HEADER), await request.json()))
        return web.Response(status=500 if len(received) == 1 else 200)

    app = web.Application()
    app.router.add_post("/tg", hook)
    async with http_server(app) as url, aiogram_bot(fake) as bot:
        queued = fake.send_text(person, "trước khi có webhook")
        assert await bot.set_webhook(
            f"{url}/tg", secret_token="abc-123", allowed_updates=["message"]
        )
        await fake.wait_for(lambda: len(received) >= 2)
        fake.send_text(person, "sau")
        await fake.wait_for(lambda: len(received) >= 3)
        info = await bot.get_webhook_info()
        with pytest.raises(TelegramConflictError, match="webhook is active"):
            await bot.get_updates()
        fake.replay(queued["update_id"])
        await fake.wait_for(lambda: len(received) >= 4)
        await bot.delete_webhook()
        assert await bot.get_updates(timeout=0) == []

    assert [secret for secret, _ in received] == ["abc-123"] * 4
    assert [body["update_id"] for _, body in received] == [queued["update_id"]] * 2 + [
        queued["update_id"] + 1,
        queued["update_id"],
    ]
    assert received[0][1]["message"]["text"] == "trước khi có webhook"
    assert info.last_error_message == "Wrong response from the webhook: 500 Internal Server Error"
    assert info.allowed_updates == ["message"] and info.pending_update_count == 0


async def test_x4_webhook_with_several_connections_keeps_each_chats_order() -> None:
    """As Telegram with ``max_connections``: chats at once, one chat's updates in order, a
    failed update retried before that chat's next one (the load test's delivery, X4)."""
    first, second = 3101, 3102
    received: list[tuple[int, str]] = []
    both_chats = asyncio.Event()
    refused: set[str] = set()

    async def hook(request: web.Request) -> web.Response:
        body = await request.json()
        chat, text = body["message"]["chat"]["id"], body["message"]["text"]
        received.append((chat, text))
        if {c for c, _ in received} == {first, second}:
            both_chats.set()
        # The first chat's first update waits until the other chat's arrived: only possible
        # when two updates are on the wire at once.
        if text == "a1":
            await asyncio.wait_for(both_chats.wait(), 5)
        if text == "a2" and text not in refused:
            refused.add(text)
            return web.Response(status=502)
        return web.Response(text="ok")

    app = web.Application()
    app.router.add_post("/tg", hook)
    async with FakeTelegram(webhook_connections=8) as fake, http_server(app) as url:
        for text in ("a1", "a2", "a3"):
            fake.send_text(fake.user(first, "An"), text)
        fake.send_text(fake.user(second, "Bình"), "b1")
        async with aiohttp.ClientSession() as session:
            status, _ = await raw_call(
                session, fake, "setWebhook", json={"url": f"{url}/tg", "max_connections": 4}
            )
        assert status == 200
        await fake.wait_for(lambda: not fake.pending_updates)
    mine = [text for chat, text in received if chat == first]
    assert mine == ["a1", "a2", "a2", "a3"]
    assert received.index((second, "b1")) < received.index((first, "a2"))
    assert not fake.internal_errors


# -- 64-bit ids through aiogram ---------------------------------------------------------------


async def test_aiogram_round_trips_64_bit_user_and_group_ids(fake: FakeTelegram) -> None:
    person = fake.user(BIG_USER_ID, "Khoa")
    fake.group(SUPERGROUP_ID, "Tổ dân phố 5")
    seen: list[tuple[int, int]] = []
    dispatcher = Dispatcher()

    @dispatcher.message()
    async def answer(message: Message) -> None:
        assert message.from_user is not None
        seen.append((message.from_user.id, message.chat.id))
        await message.answer("đã nhận")

    bot = aiogram_bot(fake)
    async with aiogram_polling(fake, dispatcher, bot):
        fake.send_text(person, "trong nhóm", chat_id=SUPERGROUP_ID)
        [reply] = await fake.wait_for_messages(SUPERGROUP_ID, 1)

    assert seen == [(BIG_USER_ID, SUPERGROUP_ID)]
    assert reply.chat_id == SUPERGROUP_ID and reply.message["chat"]["type"] == "supergroup"


# -- protocol details over raw HTTP ----------------------------------------------------------


async def test_get_updates_offsets_limit_and_long_polling(fake: FakeTelegram) -> None:
    person = fake.user(4001, "Nam")
    ids = [fake.send_text(person, f"tin {n}")["update_id"] for n in range(3)]
    async with aiohttp.ClientSession() as session:
        status, first = await raw_call(session, fake, "getUpdates", json={"limit": 2})
        _, same = await raw_call(session, fake, "getupdates", data={"limit": "2"})
        _, rest = await raw_call(session, fake, "GETUPDATES", params={"offset": str(ids[1] + 1)})
        _, last_one = await raw_call(session, fake, "getUpdates", json={"offset": -1})

        loop = asyncio.get_running_loop()
        started = loop.time()
        loop.call_later(0.1, fake.send_text, person, "muộn")
        _, waited = await raw_call(
            session, fake, "getUpdates", json={"offset": ids[2] + 1, "timeout": 5}
        )
        woke_after = loop.time() - started

        poll = asyncio.create_task(
            raw_call(session, fake, "getUpdates", json={"offset": ids[2] + 2, "timeout": 5})
        )
        await asyncio.sleep(0.05)
        _, newer = await raw_call(session, fake, "getUpdates", json={"offset": ids[2] + 2})
        conflict_status, conflict = await poll

    assert status == 200 and first["ok"] is True
    assert [u["update_id"] for u in first["result"]] == ids[:2]
    assert same["result"] == first["result"]  # nothing confirmed without an offset
    assert [u["update_id"] for u in rest["result"]] == [ids[2]]
    assert [u["update_id"] for u in last_one["result"]] == [ids[2]]
    assert [u["message"]["text"] for u in waited["result"]] == ["muộn"]
    assert woke_after < 2
    assert newer == {"ok": True, "result": []}
    assert conflict_status == 409 and conflict == {
        "ok": False,
        "error_code": 409,
        "description": "Conflict: terminated by other getUpdates request; "
        "make sure that only one bot instance is running",
    }


async def test_set_webhook_ends_a_pending_long_poll_and_blocks_get_updates(
    fake: FakeTelegram,
) -> None:
    async with aiohttp.ClientSession() as session:
        poll = asyncio.create_task(raw_call(session, fake, "getUpdates", json={"timeout": 5}))
        await asyncio.sleep(0.05)
        set_status, set_body = await raw_call(
            session, fake, "setWebhook", data={"url": "http://127.0.0.1:9/unreachable"}
        )
        ended = await poll
        blocked = await raw_call(session, fake, "getUpdates", json={})
        deleted = await raw_call(
            session, fake, "deleteWebhook", params={"drop_pending_updates": "true"}
        )

    assert (set_status, set_body) == (
        200,
        {"ok": True, "result": True, "description": "Webhook was set"},
    )
    assert (
        ended[0] == 409 and ended[1]["description"] == "Conflict: terminated by setWebhook request"
    )
    assert blocked[0] == 409 and "use deleteWebhook" in blocked[1]["description"]
    assert deleted[1] == {"ok": True, "result": True, "description": "Webhook was deleted"}


async def test_errors_tokens_and_unknown_methods_look_like_telegram(fake: FakeTelegram) -> None:
    async with aiohttp.ClientSession() as session:
        unknown = await raw_call(session, fake, "sendTelepathy", json={})
        async with session.get(f"{fake.base_url}/bot42:nope/getMe") as response:
            wrong = response.status, await response.json()
        async with session.get(f"{fake.base_url}/botnot-a-token/getMe") as response:
            malformed = response.status, await response.json()
        async with session.get(f"{fake.method_url('getMe')}") as response:
            by_get = response.status, await response.json()
        fake.fail_next("getMe", 429, retry_after=7)
        limited = await raw_call(session, fake, "getMe")

    assert unknown == (404, {"ok": False, "error_code": 404, "description": "Not Found"})
    assert wrong == (401, {"ok": False, "error_code": 401, "description": "Unauthorized"})
    assert malformed[0] == 404
    assert by_get[0] == 200 and by_get[1]["result"]["id"] == fake.bot_id
    assert limited == (
        429,
        {
            "ok": False,
            "error_code": 429,
            "description": "Too Many Requests: retry after 7",
            "parameters": {"retry_after": 7},
        },
    )


async def test_rate_limit_answers_429_with_retry_after_from_the_window() -> None:
    now = [1000.0]
    async with FakeTelegram(clock=lambda: now[0]) as fake, aiohttp.ClientSession() as session:
        fake.rate_limit(global_per_second=30, per_chat_per_second=1)

        async def send(chat_id: int) -> tuple[int, dict[str, Any]]:
            return await raw_call(
                session, fake, "sendMessage", json={"chat_id": chat_id, "text": "x"}
            )

        assert (await send(1))[0] == 200
        now[0] += 0.4
        status, body = await send(1)
        assert (status, body["parameters"]) == (429, {"retry_after": 1})
        now[0] += 0.7
        assert (await send(1))[0] == 200
        for chat_id in range(2, 31):
            assert (await send(chat_id))[0] == 200
        status, body = await send(99)  # 30 within the last second: the global budget is spent
        assert status == 429 and body["description"] == "Too Many Requests: retry after 1"
        assert fake.too_many_requests_sent == 2
        assert len(fake.sent_messages()) == 31


async def test_requests_in_every_encoding_are_parsed_to_python_values(fake: FakeTelegram) -> None:
    markup = {"inline_keyboard": [[{"text": "A", "callback_data": "a"}]]}
    async with aiohttp.ClientSession() as session:
        form = aiohttp.FormData(
            {"chat_id": str(SUPERGROUP_ID), "text": "123", "reply_markup": _json(markup)}
        )
        await raw_call(session, fake, "sendMessage", data=form)
        await raw_call(
            session,
            fake,
            "sendMessage",
            json={"chat_id": BIG_USER_ID, "text": "true", "reply_markup": _json(markup)},
        )
        multipart = aiohttp.FormData()
        multipart.add_field("chat_id", str(BIG_USER_ID))
        multipart.add_field("document", b"abc", filename="a.csv", content_type="text/csv")
        multipart.add_field("caption", "<i>bảng</i>")
        multipart.add_field("parse_mode", "HTML")
        status, body = await raw_call(session, fake, "sendDocument", data=multipart)

    first, second, third = fake.calls()
    assert first.params == {"chat_id": SUPERGROUP_ID, "text": "123", "reply_markup": markup}
    assert second.params["text"] == "true" and second.params["reply_markup"] == markup
    assert status == 200 and body["result"]["caption"] == "bảng"
    assert body["result"]["document"]["mime_type"] == "text/csv"
    assert third.files["document"].data == b"abc"


def _json(value: Any) -> str:
    import json

    return json.dumps(value)


# -- HTML parse mode ------------------------------------------------------------------------------


async def test_html_parse_mode_rejects_an_unescaped_less_than(fake: FakeTelegram) -> None:
    user_text = "Giá <100k & tốt"
    async with aiohttp.ClientSession() as session:
        rejected = await raw_call(
            session,
            fake,
            "sendMessage",
            json={"chat_id": 1, "text": user_text, "parse_mode": "HTML"},
        )
        accepted = await raw_call(
            session,
            fake,
            "sendMessage",
            json={
                "chat_id": 1,
                "text": f"<b>Ý kiến:</b> {html.escape(user_text)}",
                "parse_mode": "HTML",
            },
        )

    assert rejected == (
        400,
        {
            "ok": False,
            "error_code": 400,
            "description": "Bad Request: can't parse entities: "
            'Unsupported start tag "100k" at byte offset 5',
        },
    )
    assert accepted[0] == 200
    assert accepted[1]["result"]["text"] == f"Ý kiến: {user_text}"
    assert accepted[1]["result"]["entities"] == [{"type": "bold", "offset": 0, "length": 7}]


@pytest.mark.parametrize(
    ("text", "error"),
    [
        ("a < b", 'Unsupported start tag "" at byte offset 2'),
        ("<b>x</i>", 'Unmatched end tag at byte offset 4, expected "</b>", found "</i>"'),
        ("x</b>", "Unexpected end tag at byte offset 1"),
        ("<b>x", 'Can\'t find end tag corresponding to start tag "b"'),
        ("ấ <b", "Unclosed start tag at byte offset 4"),
        ("<span>x</span>", 'Tag "span" must have class "tg-spoiler" at byte offset 0'),
        ('<a href="x>y', "Unclosed start tag at byte offset 0"),
    ],
)
def test_parse_html_errors_match_telegram(text: str, error: str) -> None:
    with pytest.raises(EntityParseError) as raised:
        parse_html(text)
    assert str(raised.value) == error


def test_parse_html_entities_count_utf16_units() -> None:
    text, entities = parse_html(
        '😀 <b>đậm <i>nghiêng</i></b> &lt;&#233;&#x41;&amp;&quot; <a href="https://x.vn/?a=1&amp;b=2">link</a>'
        '<pre><code class="language-python">print(1)</code></pre>'
    )
    assert text == '😀 đậm nghiêng <éA&" linkprint(1)'
    assert entities == [
        {"type": "bold", "offset": 3, "length": 11},
        {"type": "italic", "offset": 7, "length": 7},
        {"type": "text_link", "offset": 21, "length": 4, "url": "https://x.vn/?a=1&b=2"},
        {"type": "pre", "offset": 25, "length": 8, "language": "python"},
    ]
