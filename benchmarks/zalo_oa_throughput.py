"""A Zalo OA conversation through the real Zalo OA channel, next to a bare aiohttp webhook that
only acknowledges, both fed by the same fake Zalo OA server on 127.0.0.1 in the same run.

    .venv/bin/python -m benchmarks.zalo_oa_throughput [--users 50] [--turns 20]

Each simulated resident sends ``turns`` signed events, one after the other (Zalo waits for
the acknowledgement); residents write at the same time. The bare webhook answers 200 and does
nothing else. Ours checks the signature, stores the event in the inbox and answers; in the
background the inbox hands it to the conversations (update claimed, state loaded and saved in
SQLite) and the replies go out through ``/v3.0/oa/message/cs`` of the fake. Prints events per
second acknowledged by both, events per second fully handled and answered by ours, and the
ratios.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import tempfile
import time
from datetime import timedelta
from pathlib import Path

import aiohttp
from aiohttp import web

from bot.channels.zalo_oa import ZaloOAChannel
from handlers.channel import Incoming, Outgoing
from handlers.conversations import Conversations
from handlers.turn import ChatSettings
from procedure.use_cases.administration import ensure_reference_data
from procedure.use_cases.context import ProcedureContext
from storage import channel_store
from storage.engine import make_engine, sqlite_url
from storage.migrate import upgrade_to_head
from storage.types import utc_now
from storage.unit_of_work import UnitOfWork
from tests.chat_world import seed_chat_world
from tests.fake_zalo import FakeZaloOA
from tests.procedure_world import Clock
from tests.zalo_drivers import serve

# A resident's turns: help, sessions of the ward (asks the ward once), the ward, the session list.
SCRIPT = ["/trogiup", "/phien", "Bến Thành", "/phien", "/tracuu", "xin chào"]


async def post_all(fake: FakeZaloOA, url: str, users: int, turns: int) -> float:
    """Every resident's events, residents side by side; seconds until all were acknowledged."""
    connector = aiohttp.TCPConnector(limit=users)
    async with aiohttp.ClientSession(connector=connector) as session:

        async def resident(number: int) -> None:
            user = str(8_000_000 + number)
            for turn in range(turns):
                event = fake.text_event(user, SCRIPT[turn % len(SCRIPT)])
                status = await fake.post_event(url, event, session=session)
                assert status == 200, status

        started = time.perf_counter()
        await asyncio.gather(*(resident(n) for n in range(users)))
        return time.perf_counter() - started


async def bare_webhook(users: int, turns: int) -> float:
    fake = FakeZaloOA()
    await fake.start()

    async def acknowledge(request: web.Request) -> web.Response:
        await request.read()
        return web.json_response({"ok": True})

    runner, base = await serve([web.post("/zalo/oa", acknowledge)])
    try:
        seconds = await post_all(fake, base + "/zalo/oa", users, turns)
    finally:
        await runner.cleanup()
        await fake.stop()
    return users * turns / seconds


async def our_channel(users: int, turns: int) -> tuple[float, float]:
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
        fake = FakeZaloOA()
        await fake.start()
        access, refresh, seconds = fake.issue_tokens()
        with UnitOfWork(engine) as uow:
            expires = utc_now() + timedelta(seconds=seconds)
            channel_store.save_tokens(uow, fake.app_id, access, refresh, expires, utc_now())
        total = users * turns
        finished = asyncio.Event()
        done = 0

        async def on_done(_: str) -> None:
            nonlocal done
            done += 1
            if done >= total:
                finished.set()

        async def handle(incoming: Incoming) -> list[Outgoing]:
            return await asyncio.to_thread(conversations.handle, incoming)

        channel = ZaloOAChannel(
            engine,
            app_id=fake.app_id,
            app_secret=fake.app_secret,
            oa_secret_key=fake.oa_secret_key,
            api_url=fake.base_url,
            oauth_url=fake.base_url,
            on_done=on_done,
        )
        runner, base = await serve(list(channel.routes()))
        await channel.start(handle)
        try:
            started = time.perf_counter()
            acked = await post_all(fake, base + channel.webhook_path, users, turns)
            await asyncio.wait_for(finished.wait(), 600)
            handled = time.perf_counter() - started
        finally:
            await channel.stop()
            await runner.cleanup()
            await fake.stop()
            engine.dispose()
        assert len(fake.sent) >= total
        return total / acked, total / handled


def main() -> None:
    logging.basicConfig(level=logging.WARNING)
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--users", type=int, default=50)
    parser.add_argument("--turns", type=int, default=20)
    args = parser.parse_args()
    bare = asyncio.run(bare_webhook(args.users, args.turns))
    acked, handled = asyncio.run(our_channel(args.users, args.turns))
    print(f"events: {args.users} residents x {args.turns} messages = {args.users * args.turns}")
    print(f"bare aiohttp webhook (ack only)     : {bare:8.1f} events/s")
    print(f"Zalo OA channel, acknowledged       : {acked:8.1f} events/s (signature, inbox row)")
    print(f"Zalo OA channel, handled + answered : {handled:8.1f} events/s (SQLite, full step)")
    print(f"ratio ack (ours / bare)             : {acked / bare:8.2f}")
    print(f"ratio handled (ours / bare)         : {handled / bare:8.2f}")


if __name__ == "__main__":
    main()
