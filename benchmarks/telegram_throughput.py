"""Conversation cost through the real Telegram adapters, next to a bare echo bot of the same
framework, both against the fake Bot API server on 127.0.0.1 in the same run (issue 12, item 1).

    .venv/bin/python -m benchmarks.telegram_throughput [--framework aiogram|ptb|both]
        [--users 100] [--turns 12] [--repeat 1]

Each bot runs in a process of its own (this process runs the fake server and the residents), so
that its CPU time is its own: the figure that counts is **CPU per update** (the bot process's CPU
time while the residents type, divided by the updates), not the wall clock of a shared machine.

``users`` residents type at once, each in a closed loop: a message, then its replies, then the
next message. A turn of Đối thoại is a whole conversation step (update claimed, person looked up,
state loaded and saved in SQLite, reply rendered and sent through the reply sender and its rate
limiter); the echo bot answers each message with its text. Latency is from the update being
queued at the fake server to the first reply in that chat.

The fake server has no flood control, and the bot's replies go through the real rate limiter set
far above Telegram's budget (10,000 a second, per chat too): with Telegram's real 1 a second per
chat a resident's second reply would wait a second, and the conversation step would not be what
is measured. The echo bots: aiogram's ``Dispatcher.start_polling`` (updates as tasks, its
default), python-telegram-bot's ``Application`` with its ``Updater`` polling and
``concurrent_updates(True)`` (the same concurrency as our PTB channel). Both send as ours does
(the aiogram bot of ``make_bot``, with its JSON session; PTB's request with our pool of
``SEND_CONNECTIONS``), so that the ratio compares the conversation, not two ways to post.

Our bot sets its heap aside from the garbage collector after its first turn, as ``doithoai run``
does (bot/runner.py ``settle_heap``); the echo bots keep the framework's defaults. With
``BENCHMARK_ECHO_SETTLED=1`` the echo bots settle theirs too (the stricter comparison: on aiogram
the echo bot's full collections are about half its CPU). ``BENCHMARK_GC=1`` prints each bot's
garbage collection time; ``BENCHMARK_PROFILE=<prefix>`` writes cProfile files (:class:`Profiles`).

Prints, per framework: messages a second, CPU per update, p50/p99 latency for both, and the
ratios CPU(echo)/CPU(ours) (goal ≥ 0.5) and p99(ours)/p99(echo) (goal ≤ 2). On a shared machine
one run's CPU per update moves by ±10 %: ``--repeat N`` measures N rounds (the echo bot, then
ours, so that both see the same load) and prints each round and the medians.
"""

from __future__ import annotations

import argparse
import asyncio
import cProfile
import logging
import os
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from benchmarks.recording_telegram import RecordingTelegram
from tests.fake_telegram import FakeTelegram

# A resident's turns: help, sessions of the ward (asks the ward once), the ward, the session list.
SCRIPT = ["/trogiup", "/phien", "Bến Thành", "/phien", "/tracuu", "xin chào"]
KINDS = ("echo", "ours")


@dataclass
class Result:
    updates: int
    seconds: float
    cpu_seconds: float
    database_seconds: float  # of cpu_seconds: the turns on the database thread
    latencies: list[float]

    @property
    def rate(self) -> float:
        return self.updates / self.seconds

    @property
    def cpu_ms(self) -> float:
        return 1000 * self.cpu_seconds / self.updates

    def percentile(self, p: float) -> float:
        ordered = sorted(self.latencies)
        return 1000 * ordered[min(len(ordered) - 1, int(p * len(ordered)))]


async def _until(fake: RecordingTelegram, chat_id: int, count: int, timeout: float = 120) -> None:
    deadline = time.monotonic() + timeout
    while len(fake.times(chat_id)) < count:
        event = fake.changed(chat_id)
        event.clear()
        if len(fake.times(chat_id)) >= count:
            return
        left = deadline - time.monotonic()
        if left <= 0:
            raise TimeoutError(f"chat {chat_id}: {count} messages not received")
        await asyncio.wait_for(event.wait(), left)


def _send(fake: RecordingTelegram, person: Any, line: str) -> None:
    if line.startswith("/"):
        fake.send_command(person, line[1:])
    else:
        fake.send_text(person, line)


async def _quiet(fake: RecordingTelegram, chat_id: int, seconds: float = 0.5) -> int:
    """Wait until ``chat_id`` got no message for ``seconds``; its message count."""
    count = -1
    while count != len(fake.times(chat_id)):
        count = len(fake.times(chat_id))
        await asyncio.sleep(seconds)
    return count


async def _calibrate(fake: RecordingTelegram, first_id: int, turns: int) -> list[int]:
    """How many messages each turn of a resident gets (one resident, one turn at a time): the
    same step may answer differently the second time (``/phien`` once the ward is known)."""
    person = fake.user(first_id, "Người mẫu")
    counts: list[int] = []
    before = 0
    for turn in range(turns):
        _send(fake, person, SCRIPT[turn % len(SCRIPT)])
        await _until(fake, first_id, before + 1)
        now = await _quiet(fake, first_id)
        counts.append(now - before)
        before = now
    return counts


async def _resident(
    fake: RecordingTelegram, person: Any, chat_id: int, turns: int, replies: list[int]
) -> list[float]:
    latencies: list[float] = []
    expected = len(fake.times(chat_id))
    for turn in range(turns):
        step = turn % len(SCRIPT)
        sent = time.monotonic()  # the fake's clock
        _send(fake, person, SCRIPT[step])
        await _until(fake, chat_id, expected + 1)
        latencies.append(fake.times(chat_id)[expected] - sent)
        expected += replies[turn]
        await _until(fake, chat_id, expected)
    return latencies


def _start_bot(kind: str, framework: str, fake: FakeTelegram) -> subprocess.Popen[str]:
    command = [sys.executable, "-m", "benchmarks.telegram_throughput", "--bot", kind]
    command += ["--framework", framework, "--api", fake.base_url, "--token", fake.token]
    process = subprocess.Popen(
        command, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True, cwd=Path.cwd()
    )
    assert process.stdout is not None
    return process


async def measure(kind: str, framework: str, users: int, turns: int) -> Result:
    async with RecordingTelegram() as fake:
        process = _start_bot(kind, framework, fake)
        assert process.stdin is not None and process.stdout is not None
        loop = asyncio.get_running_loop()
        line = await loop.run_in_executor(None, process.stdout.readline)
        if line.strip() != "ready":
            raise RuntimeError(f"the {kind} bot did not start: {line!r}")
        replies = [1] * turns if kind == "echo" else await _calibrate(fake, 1, turns)
        if kind == "ours":
            print(f"   messages per turn ({SCRIPT} in turn): {replies}")
        # Measured from here: the bot's CPU time while the residents type.
        process.stdin.write("mark\n")
        process.stdin.flush()
        await loop.run_in_executor(None, process.stdout.readline)
        people = [(fake.user(1000 + n, f"Người {n}"), 1000 + n) for n in range(users)]
        started = time.perf_counter()
        runs = await asyncio.gather(
            *(_resident(fake, person, chat, turns, replies) for person, chat in people)
        )
        seconds = time.perf_counter() - started
        process.stdin.write("cpu\n")
        process.stdin.flush()
        answer = await loop.run_in_executor(None, process.stdout.readline)
        cpu, database = map(float, answer.split())
        process.stdin.close()
        await loop.run_in_executor(None, process.wait)
    latencies = [x for run in runs for x in run]
    return Result(users * turns, seconds, cpu, database, latencies)


# -- the bots (each in a process of its own) ------------------------------------------------------


class Profiles:
    """With BENCHMARK_PROFILE=<prefix>: cProfile of the event loop's thread and of the database
    thread (each thread's CPU time, not the wall clock, which waits for the GIL) between
    ``mark`` and ``cpu``, written to <prefix>.loop and <prefix>.database."""

    def __init__(self) -> None:
        self.prefix = os.environ.get("BENCHMARK_PROFILE")
        self.loop = cProfile.Profile(time.thread_time)
        self.database = cProfile.Profile(time.thread_time)

    async def start(self) -> None:
        if self.prefix:
            from bot.runner import database_thread

            loop = asyncio.get_running_loop()
            await loop.run_in_executor(database_thread(), self.database.enable)
            self.loop.enable()

    async def stop(self) -> None:
        if self.prefix:
            from bot.runner import database_thread

            self.loop.disable()
            await asyncio.get_running_loop().run_in_executor(
                database_thread(), self.database.disable
            )
            self.loop.dump_stats(f"{self.prefix}.loop")
            self.database.dump_stats(f"{self.prefix}.database")


async def _database_cpu() -> float:
    """The CPU time of the thread the conversation turns run on (bot/runner.py)."""
    try:
        from bot.runner import database_thread
    except ImportError:  # the echo bots; or a version that ran turns on a pool of threads
        return 0.0

    return await asyncio.get_running_loop().run_in_executor(database_thread(), time.thread_time)


# With BENCHMARK_GC=1: the garbage collector's CPU time, collections and full ones (stderr).
_GC = [0.0, 0, 0, 0.0]


def _gc_watch() -> None:
    import gc

    def note(phase: str, info: dict[str, int]) -> None:
        if phase == "start":
            _GC[3] = time.thread_time()
        else:
            _GC[0] += time.thread_time() - _GC[3]
            _GC[1] += 1
            _GC[2] += info["generation"] == 2

    gc.callbacks.append(note)


async def _serve(start: Any, stop: Any, *, echo_settled: bool = False) -> None:
    """Start a bot, then answer the benchmark's lines on stdin: ``mark`` notes the CPU time,
    ``cpu`` prints the CPU time since the mark (the process's, and the database thread's);
    end of input stops the bot. ``echo_settled``: an echo bot also sets its heap aside at the
    mark, as ours does after its first turn (bot/runner.py ``settle_heap``)."""
    await start()
    loop = asyncio.get_running_loop()
    print("ready", flush=True)
    mark = time.process_time()
    database = 0.0
    profiles = Profiles()
    while line := (await loop.run_in_executor(None, sys.stdin.readline)).strip():
        if line == "mark":
            if echo_settled:
                from bot.runner import settle_heap

                settle_heap()
            if os.environ.get("BENCHMARK_GC"):
                _gc_watch()
            await profiles.start()
            database = await _database_cpu()
            mark = time.process_time()
            print("marked", flush=True)
        elif line == "cpu":
            used = time.process_time() - mark
            if os.environ.get("BENCHMARK_GC"):
                print(
                    f"   garbage collector: {_GC[0]:.3f} s of CPU in {_GC[1]} collections "
                    f"({_GC[2]} full)",
                    file=sys.stderr,
                )
            print(used, await _database_cpu() - database, flush=True)
            await profiles.stop()
    await stop()


async def aiogram_echo(api: str, token: str) -> None:
    from aiogram import Dispatcher
    from aiogram.types import Message

    from bot.channels.telegram.aiogram_shim import make_bot

    bot = make_bot(token, api)
    dispatcher = Dispatcher()

    @dispatcher.message()
    async def echo(message: Message) -> None:
        await message.answer(message.text or "…", parse_mode=None)

    task: list[asyncio.Task[None]] = []

    async def start() -> None:
        task.append(asyncio.create_task(dispatcher.start_polling(bot, handle_signals=False)))

    async def stop() -> None:
        await dispatcher.stop_polling()
        await task[0]
        await bot.session.close()

    await _serve(start, stop, echo_settled=bool(os.environ.get("BENCHMARK_ECHO_SETTLED")))


async def ptb_echo(api: str, token: str) -> None:
    from telegram import Update
    from telegram.ext import ApplicationBuilder, ContextTypes, MessageHandler, filters

    from bot.channels.telegram.ptb_shim import SEND_CONNECTIONS, BoundedRequest

    base = api.rstrip("/")
    application = (
        ApplicationBuilder()
        .token(token)
        .base_url(f"{base}/bot")
        .base_file_url(f"{base}/file/bot")
        # The same sending pool as ours (as the aiogram echo bot uses our make_bot): PTB's
        # default pool of 256 costs CPU quadratic in its connections, which is not the bot.
        .request(BoundedRequest(SEND_CONNECTIONS))
        .concurrent_updates(True)
        .build()
    )

    async def echo(update: Update, _: ContextTypes.DEFAULT_TYPE) -> None:
        assert update.message is not None
        await update.message.reply_text(update.message.text or "…")

    application.add_handler(MessageHandler(filters.ALL, echo))

    async def start() -> None:
        await application.initialize()
        assert application.updater is not None
        await application.updater.start_polling(timeout=25)
        await application.start()

    async def stop() -> None:
        assert application.updater is not None
        await application.updater.stop()
        await application.stop()
        await application.shutdown()

    await _serve(start, stop, echo_settled=bool(os.environ.get("BENCHMARK_ECHO_SETTLED")))


async def ours(framework: str, api: str, token: str) -> None:
    from bot.channels.telegram.channel import TelegramChannel
    from bot.rate_limit import RateLimiter
    from bot.runner import handler_for, settle_heap_after_first_turn
    from handlers.conversations import Conversations
    from handlers.turn import ChatSettings
    from procedure.use_cases.administration import ensure_reference_data
    from procedure.use_cases.context import ProcedureContext
    from storage.engine import make_engine, sqlite_url
    from storage.migrate import upgrade_to_head
    from storage.unit_of_work import UnitOfWork
    from tests.chat_world import seed_chat_world
    from tests.procedure_world import Clock

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
        # Far above Telegram's budget: the conversation step is what is measured (module doc).
        limiter = RateLimiter(global_per_second=10_000, per_chat_per_second=10_000)
        channel: TelegramChannel
        if framework == "aiogram":
            from bot.channels.telegram.aiogram_shim import AiogramChannel, make_bot

            channel = AiogramChannel(make_bot(token, api), limiter=limiter)
        else:
            from bot.channels.telegram.ptb_shim import PtbChannel, make_application

            channel = PtbChannel(make_application(token, api), limiter=limiter)

        async def start() -> None:
            settle_heap_after_first_turn()  # as `doithoai run` does (bot/app.py)
            await channel.start(handler_for(conversations))

        await _serve(start, channel.stop)
        engine.dispose()


def run_bot(kind: str, framework: str, api: str, token: str) -> None:
    logging.basicConfig(level=logging.WARNING)
    logging.getLogger("aiogram").setLevel(logging.CRITICAL)  # shutdown noise of long polls
    if kind == "ours":
        asyncio.run(ours(framework, api, token))
    elif framework == "aiogram":
        asyncio.run(aiogram_echo(api, token))
    else:
        asyncio.run(ptb_echo(api, token))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--framework", choices=["aiogram", "ptb", "both"], default="both")
    parser.add_argument("--users", type=int, default=100)
    parser.add_argument("--turns", type=int, default=12)
    parser.add_argument(
        "--repeat", type=int, default=1, help="rounds of echo then ours; medians are printed"
    )
    parser.add_argument("--bot", choices=KINDS, help=argparse.SUPPRESS)
    parser.add_argument("--api", help=argparse.SUPPRESS)
    parser.add_argument("--token", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.bot:
        run_bot(args.bot, args.framework, args.api, args.token)
        return
    frameworks = ["aiogram", "ptb"] if args.framework == "both" else [args.framework]
    print(f"updates: {args.users} residents typing at once x {args.turns} messages each")
    for framework in frameworks:
        rounds: list[tuple[Result, Result]] = []
        for _ in range(args.repeat):
            echo = asyncio.run(measure("echo", framework, args.users, args.turns))
            real = asyncio.run(measure("ours", framework, args.users, args.turns))
            rounds.append((echo, real))
            if args.repeat > 1:
                print(
                    f"   round {len(rounds)}: CPU echo {echo.cpu_ms:5.2f} ours {real.cpu_ms:5.2f} "
                    f"(turn {1000 * real.database_seconds / real.updates:4.2f}) ms/update, "
                    f"p99 echo {echo.percentile(0.99):6.1f} ours {real.percentile(0.99):6.1f} ms"
                )
        _report(framework, rounds)


def _report(framework: str, rounds: list[tuple[Result, Result]]) -> None:
    """One framework's lines; with several rounds (``--repeat``), each figure is the median of
    the rounds (echo and ours measured one after the other in each round, so both saw the same
    load), and the ratios are those of the medians."""
    print(f"-- {framework}" + (f" (median of {len(rounds)} rounds)" if len(rounds) > 1 else ""))
    echoes = [echo for echo, _ in rounds]
    reals = [real for _, real in rounds]
    for name, results in ((f"bare {framework} echo bot", echoes), ("Đối thoại", reals)):
        print(
            f"{name:24}: {_median([r.rate for r in results]):7.1f} msg/s, "
            f"CPU {_median([r.cpu_ms for r in results]):5.2f} ms/update, "
            f"latency p50 {_median([r.percentile(0.5) for r in results]):6.1f} ms "
            f"p99 {_median([r.percentile(0.99) for r in results]):6.1f} ms"
        )
    turn_ms = _median([1000 * r.database_seconds / r.updates for r in reals])
    print(f"  of which the conversation turn (database thread): {turn_ms:5.2f} ms/update")
    cpu_ratio = _median([e.cpu_ms for e in echoes]) / _median([r.cpu_ms for r in reals])
    p99_ratio = _median([r.percentile(0.99) for r in reals]) / _median(
        [e.percentile(0.99) for e in echoes]
    )
    rate_ratio = _median([r.rate for r in reals]) / _median([e.rate for e in echoes])
    print(f"CPU ratio echo/ours     : {cpu_ratio:5.2f} (goal >= 0.5)")
    print(f"p99 ratio ours/echo     : {p99_ratio:5.2f} (goal <= 2)")
    print(f"throughput ratio        : {rate_ratio:5.2f}")


def _median(values: list[float]) -> float:
    return statistics.median(values)


if __name__ == "__main__":
    main()
