"""Conversation throughput through the real aiogram adapter, next to a bare aiogram echo bot, both
against the fake Bot API server on 127.0.0.1 in the same run (issue: residents in chat).

    .venv/bin/python -m benchmarks.telegram_throughput [--users 50] [--turns 20]

Each simulated resident sends ``turns`` messages; a turn of the real bot is a whole conversation
step (update claimed, state loaded and saved in SQLite, reply rendered and sent). The echo bot
answers each message with its text. Prints messages per second for both and their ratio.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from aiogram import Dispatcher
from aiogram.types import Message

from bot.channels.telegram.aiogram_shim import AiogramChannel, make_bot
from bot.rate_limit import RateLimiter
from bot.runner import handler_for
from handlers.conversations import Conversations
from handlers.turn import ChatSettings
from procedure.use_cases.administration import ensure_reference_data
from procedure.use_cases.context import ProcedureContext
from storage.engine import make_engine, sqlite_url
from storage.migrate import upgrade_to_head
from storage.unit_of_work import UnitOfWork
from tests.chat_world import seed_chat_world
from tests.fake_telegram import FakeTelegram
from tests.procedure_world import Clock

# A resident's turns: help, sessions of the ward (asks the ward once), the ward, the session list.
SCRIPT = ["/trogiup", "/phien", "Bến Thành", "/phien", "/tracuu", "xin chào"]


async def drive(
    fake: FakeTelegram, users: int, turns: int, first_id: int, handled: Callable[[], int]
) -> float:
    """Send every message, then wait until ``handled()`` says all were answered."""
    people = [fake.user(first_id + n, f"Người {n}") for n in range(users)]
    started = time.perf_counter()
    for turn in range(turns):
        for person in people:
            line = SCRIPT[turn % len(SCRIPT)]
            if line.startswith("/"):
                fake.send_command(person, line[1:])
            else:
                fake.send_text(person, line)
    total = users * turns
    await fake.wait_for(lambda: handled() >= total, timeout=600)
    return total / (time.perf_counter() - started)


async def real_bot(users: int, turns: int) -> float:
    with tempfile.TemporaryDirectory() as folder:
        engine = make_engine(sqlite_url(Path(folder)))
        upgrade_to_head(engine)
        with UnitOfWork(engine) as uow:
            ensure_reference_data(uow)
            uow.commit()
        clock = Clock()
        clock.set("2026-03-02")
        seed_chat_world(engine, clock)
        conversations = Conversations(
            engine, ProcedureContext(clock=clock), ChatSettings(verify_code_as="text")
        )
        async with FakeTelegram() as fake:
            done = 0

            async def on_done(_: str) -> None:
                nonlocal done
                done += 1

            # The fake has no flood control: replies paced far above Telegram's budget, so that
            # the conversation step is what is measured (the echo bot is not paced either).
            channel = AiogramChannel(
                make_bot(fake.token, fake.base_url),
                limiter=RateLimiter(global_per_second=10_000, per_chat_per_second=10_000),
                on_done=on_done,
            )
            await channel.start(handler_for(conversations))
            rate = await drive(fake, users, turns, 10_000, lambda: done)
            await channel.stop()
        engine.dispose()
    return rate


async def echo_bot(users: int, turns: int) -> float:
    async with FakeTelegram() as fake:
        bot = make_bot(fake.token, fake.base_url)
        dispatcher = Dispatcher()

        @dispatcher.message()
        async def echo(message: Message) -> None:
            await message.answer(message.text or "…", parse_mode=None)

        task = asyncio.create_task(dispatcher.start_polling(bot, handle_signals=False))
        await fake.wait_for_calls("getMe")
        rate = await drive(fake, users, turns, 20_000, lambda: len(fake.sent_messages()))
        await dispatcher.stop_polling()
        await task
        await bot.session.close()
    return rate


def main() -> None:
    logging.getLogger("aiogram").setLevel(logging.CRITICAL)  # shutdown noise of long polls
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--users", type=int, default=50)
    parser.add_argument("--turns", type=int, default=20)
    args = parser.parse_args()
    echo = asyncio.run(echo_bot(args.users, args.turns))
    real = asyncio.run(real_bot(args.users, args.turns))
    print(f"updates: {args.users} residents x {args.turns} messages = {args.users * args.turns}")
    print(f"bare aiogram echo bot : {echo:8.1f} messages/s")
    print(f"Đối thoại via aiogram : {real:8.1f} messages/s (SQLite, full conversation step)")
    print(f"ratio (ours / echo)   : {real / echo:8.2f}")


if __name__ == "__main__":
    main()
