"""Starts and memory (issue 12, item 2), each measured on real processes:

    .venv/bin/python -m benchmarks.startup [--runs 5] [--conversations 1000]

1. ``doithoai workdays add 2026-02-10 10`` as a whole process (interpreter start included), over
   several runs: wall clock and CPU time (goal: under 0.5 s).
2. ``doithoai run`` with only the web chat: from starting the process to the first answer of a
   resident on the web chat's WebSocket (goal: within 2 s), on a new data directory (the
   database is created and migrated) and on an existing one.
3. On that running bot, which has judged no text yet: a resident begins a petition (reading each
   answer 2 s) and types its text without diacritics; seconds until the answer to the text. Then
   the resident set size of the bot after ``conversations`` residents each opened the
   web chat and had a short conversation, one in ten a petition typed without diacritics (its
   language data loaded, as in any ward) and then abandoned (goal: under 250 MB).
4. ``doithoai run`` with a Telegram bot, through aiogram and through python-telegram-bot (long
   polling against the fake Bot API server on 127.0.0.1, a resident's ``/trogiup`` waiting there
   from the start): from starting the process to the answer reaching the server. aiogram's
   import would build its 600 types (3.5 s of CPU); the bot imports it with each model built when
   first used (bot/channels/telegram/aiogram_models.py). A web chat or Zalo start does not import
   a Telegram framework.

The processes keep their compiled modules as on a server (``_environment``), whatever the
host's PYTHONDONTWRITEBYTECODE. Before and after, the host's speed (benchmarks/host_speed.py):
a shared machine's core is not always as fast, and these are seconds against a goal.

The web chat limits messages per client address; the benchmark speaks as nginx would in front of
it (WEB_CHAT_TRUST_PROXY=on, one X-Real-IP per resident), so that the 1,000 residents are 1,000
addresses rather than one loopback address being slowed down.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import re
import resource
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import aiohttp

from benchmarks.host_speed import describe

COMMAND = [sys.executable, "-m", "bot.cli"]
# A resident's short conversation on the web chat.
LINES = ["/trogiup", "/phien"]
# One resident in this many begins a petition and types it without diacritics, as many do: the
# memory measured includes the language data that loads (the restoration table, the syllable
# inventory, the similarity word lists).
DRAFTING = 10
UNMARKED = [
    "duong le loi ngap nuoc moi khi mua lon, de nghi nao vet cong thoat nuoc",
    "den duong hem 12 bi hu may thang nay, buoi toi rat toi, xin sua giup",
    "karaoke trong hem hat toi khuya gay on ao, nguoi gia khong ngu duoc",
]


def _environment(data_dir: Path) -> dict[str, str]:
    env = {
        **os.environ,
        "DOITHOAI_DATA_DIR": str(data_dir),
        "PYTHONIOENCODING": "utf-8",
        "WEBHOOK_LISTEN": "127.0.0.1:0",
        "WEB_CHAT_TRUST_PROXY": "on",
    }
    for name in ("DATABASE_URL", "TELEGRAM_BOT_TOKEN", "ZALO_OA_ACCESS_TOKEN", "WEB_CHAT"):
        env.pop(name, None)
    # Python keeps the bot's compiled modules (__pycache__) as on a server; a host that forbids
    # it (these machines set PYTHONDONTWRITEBYTECODE=1) would have every start compile the
    # bot's 200 modules again (0.2-0.3 s). The installed libraries are compiled at install.
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    return env


def workdays_add(runs: int, data_dir: Path) -> tuple[list[float], list[float]]:
    """Wall clock and CPU (user + system, of the child) of each run."""
    walls, cpus = [], []
    for _ in range(runs):
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        started = time.perf_counter()
        done = subprocess.run(
            [*COMMAND, "workdays", "add", "2026-02-10", "10"],
            env=_environment(data_dir),
            capture_output=True,
            text=True,
            check=True,
        )
        walls.append(time.perf_counter() - started)
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
        cpus.append(after.ru_utime - before.ru_utime + after.ru_stime - before.ru_stime)
        assert done.stdout.startswith("2026-03-"), done.stdout
    return walls, cpus


class Resident:
    """What the web page's chat.js does: hello, then a line and its frames up to ``done``."""

    def __init__(self, client: aiohttp.ClientSession, url: str, address: str) -> None:
        self.client, self.url, self.address = client, url, address
        self.socket: aiohttp.ClientWebSocketResponse | None = None
        self.frames = 0

    async def open(self) -> None:
        self.socket = await self.client.ws_connect(
            self.url + "web/ws", headers={"X-Real-IP": self.address}
        )
        await self.socket.send_json({"type": "hello", "after": 0})
        while (await self.socket.receive_json(timeout=30))["type"] != "session":
            pass

    async def say(self, text: str, *, first_only: bool = False) -> list[dict[str, Any]]:
        assert self.socket is not None
        self.frames += 1
        frame_id = f"b{self.frames}"
        await self.socket.send_json({"id": frame_id, "type": "text", "text": text})
        got = []
        while True:
            reply = await self.socket.receive_json(timeout=30)
            got.append(reply)
            if first_only and reply["type"] == "message":
                return got
            if reply["type"] == "error":
                raise RuntimeError(f"web chat error: {reply}")
            if reply["type"] == "done" and reply.get("id") == frame_id:
                return got

    async def press(self, frames: list[dict[str, Any]], label: str) -> list[dict[str, Any]]:
        """Press the button whose label starts with ``label`` among ``frames``' messages."""
        assert self.socket is not None
        for frame in frames:
            for row in frame.get("buttons", ()) if frame["type"] == "message" else ():
                for button in row:
                    if button["label"].startswith(label):
                        self.frames += 1
                        frame_id = f"b{self.frames}"
                        await self.socket.send_json(
                            {"id": frame_id, "type": "button", "data": button["data"]}
                        )
                        return await self._until_done(frame_id)
        raise RuntimeError(f"no button {label!r} in {frames}")

    async def _until_done(self, frame_id: str) -> list[dict[str, Any]]:
        assert self.socket is not None
        got = []
        while True:
            reply = await self.socket.receive_json(timeout=30)
            got.append(reply)
            if reply["type"] == "error":
                raise RuntimeError(f"web chat error: {reply}")
            if reply["type"] == "done" and reply.get("id") == frame_id:
                return got

    async def draft_without_diacritics(self, text: str) -> list[dict[str, Any]]:
        """A petition begun and its text typed without diacritics (the bot judges it and
        offers the restored text: the language data a petition needs is loaded), then
        abandoned with /huy."""
        frames = await self.say("/gopy")
        frames = await self.press(frames, "Không gắn")
        frames = await self.press(frames, "Kiến nghị")
        frames = await self.press(frames, "Giao thông")
        frames = await self.say(text)
        await self.say("/huy")
        return frames

    async def close(self) -> None:
        if self.socket is not None:
            await self.socket.close()


def _start_bot(data_dir: Path) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [*COMMAND, "run"],
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
        env=_environment(data_dir),
    )


def _stop(process: subprocess.Popen[str] | subprocess.Popen[bytes]) -> None:
    process.send_signal(signal.SIGINT)
    try:
        process.wait(timeout=30)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


def _cpu_seconds(pid: int) -> float:
    """User and system CPU time of a running process (a busy machine inflates the wall clock;
    the CPU a start needs is what a quiet machine would show)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


async def first_answer(data_dir: Path) -> tuple[float, float, subprocess.Popen[str], str]:
    """Seconds from starting ``doithoai run`` to a resident's first answer, and the CPU seconds
    the bot used until then; the process (still running) and the web chat's address."""
    started = time.perf_counter()
    process = _start_bot(data_dir)
    assert process.stdout is not None
    loop = asyncio.get_running_loop()
    line = await loop.run_in_executor(None, process.stdout.readline)
    found = re.search(r"http://127\.0\.0\.1:\d+/", line)
    if found is None:
        _stop(process)
        raise RuntimeError(f"doithoai run printed no address: {line!r}")
    url = found.group(0)
    async with aiohttp.ClientSession() as client:
        resident = Resident(client, url, "10.0.0.1")
        await resident.open()
        await resident.say(LINES[0], first_only=True)
        seconds = time.perf_counter() - started
        cpu = _cpu_seconds(process.pid)
        await resident.close()
    return seconds, cpu, process, url


async def first_petition(url: str, pause: float = 2.0) -> float:
    """On a worker that has judged no text yet: a resident begins a petition, reading each
    answer for ``pause`` seconds, and types its text without diacritics; seconds until the
    bot's answer to the text (the suggestion with diacritics) arrived."""
    async with aiohttp.ClientSession() as client:
        resident = Resident(client, url, "10.0.0.2")
        await resident.open()
        frames = await resident.say("/gopy")
        for label in ("Không gắn", "Kiến nghị", "Giao thông"):
            await asyncio.sleep(pause)
            frames = await resident.press(frames, label)
        await asyncio.sleep(pause)
        started = time.perf_counter()
        frames = await resident.say(UNMARKED[0])
        took = time.perf_counter() - started
        await resident.say("/huy")
        await resident.close()
    if not any(frame["type"] == "message" for frame in frames):
        raise RuntimeError("the first petition's text got no answer")
    return took


async def conversations(url: str, count: int, at_once: int = 20) -> float:
    """``count`` residents, ``at_once`` at a time, each a short conversation (one in
    ``DRAFTING``: a petition typed without diacritics); seconds taken."""
    room = asyncio.Semaphore(at_once)
    started = time.perf_counter()

    async def one(client: aiohttp.ClientSession, n: int) -> None:
        async with room:
            resident = Resident(client, url, f"10.{1 + n // 65536}.{n // 256 % 256}.{n % 256}")
            await resident.open()
            if n % DRAFTING == 0:
                frames = await resident.draft_without_diacritics(
                    UNMARKED[n // DRAFTING % len(UNMARKED)]
                )
                if not any(frame["type"] == "message" for frame in frames):
                    raise RuntimeError("the text typed without diacritics got no answer")
            else:
                for text in LINES:
                    await resident.say(text)
            await resident.close()

    async with aiohttp.ClientSession() as client:
        await asyncio.gather(*(one(client, n) for n in range(count)))
    return time.perf_counter() - started


async def run_and_memory(starts: int, count: int) -> None:
    with tempfile.TemporaryDirectory() as folder:
        data_dir = Path(folder)
        firsts: list[float] = []
        cpus: list[float] = []
        for n in range(starts):
            seconds, cpu, process, url = await first_answer(data_dir)
            firsts.append(seconds)
            cpus.append(cpu)
            if n < starts - 1:
                _stop(process)
                continue
            try:
                rss_before = _rss_mb(process.pid)
                text_answered = await first_petition(url)
                took = await conversations(url, count)
                rss_after = _rss_mb(process.pid)
            finally:
                _stop(process)
        print(
            f"doithoai run, start to first answer: new database {firsts[0]:.2f} s; "
            f"existing database {', '.join(f'{s:.2f}' for s in firsts[1:])} s (goal < 2 s); "
            f"CPU of the bot until then {cpus[0]:.2f} s; "
            f"{', '.join(f'{s:.2f}' for s in cpus[1:])} s"
        )
        print(
            f"doithoai run, the first petition's text (typed without diacritics, the resident "
            f"reading each answer 2 s) answered in {text_answered:.2f} s"
        )
        print(
            f"doithoai run, memory: {rss_before:.0f} MB after the first answer, "
            f"{rss_after:.0f} MB after {count} conversations ({len(LINES)} messages, or one in "
            f"{DRAFTING} a petition typed without diacritics then /huy) "
            f"({count / took:.0f} conversations/s; goal < 250 MB)"
        )


async def telegram_first_answers(framework: str, starts: int) -> tuple[list[float], list[float]]:
    """``doithoai run`` with a Telegram bot (long polling, against the fake Bot API server on
    127.0.0.1), a resident's ``/trogiup`` waiting at the server from the start: seconds from
    starting the process to the answer arriving at the server, and the CPU seconds of the bot
    until then; the first start on a new database, the others on it again."""
    from benchmarks.recording_telegram import RecordingTelegram

    firsts: list[float] = []
    cpus: list[float] = []
    # One server for every start: its update ids go on (the bot answers an update id once).
    async with RecordingTelegram() as fake:
        with tempfile.TemporaryDirectory() as folder:
            env = {
                **_environment(Path(folder)),
                "TELEGRAM_FRAMEWORK": framework,
                "TELEGRAM_BOT_TOKEN": fake.token,
                "TELEGRAM_API_URL": fake.base_url,
            }
            for n in range(starts):
                chat = 900_000 + n
                fake.send_command(fake.user(chat, "Người dân"), "trogiup")
                started = time.monotonic()
                process = subprocess.Popen(
                    [*COMMAND, "run"],
                    stdout=subprocess.DEVNULL,
                    stderr=subprocess.DEVNULL,
                    env=env,
                )
                try:
                    await asyncio.wait_for(fake.changed(chat).wait(), 60)
                    firsts.append(fake.times(chat)[0] - started)
                    cpus.append(_cpu_seconds(process.pid))
                finally:
                    _stop(process)
    return firsts, cpus


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--starts", type=int, default=3)
    parser.add_argument("--conversations", type=int, default=1000)
    args = parser.parse_args()
    print(describe("before"))
    with tempfile.TemporaryDirectory() as folder:
        walls, cpus = workdays_add(args.runs, Path(folder))
    print(
        f"doithoai workdays add 2026-02-10 10, {args.runs} runs: wall median "
        f"{statistics.median(walls):.2f} s (min {min(walls):.2f}, max {max(walls):.2f}), "
        f"CPU median {statistics.median(cpus):.2f} s (goal < 0.5 s)"
    )
    asyncio.run(run_and_memory(args.starts, args.conversations))
    for framework in ("aiogram", "ptb"):
        firsts, cpus = asyncio.run(telegram_first_answers(framework, args.starts))
        print(
            f"doithoai run with Telegram through {framework}, start to first answer: new "
            f"database {firsts[0]:.2f} s; existing database "
            f"{', '.join(f'{s:.2f}' for s in firsts[1:])} s (goal < 2 s); CPU of the bot until "
            f"then {', '.join(f'{s:.2f}' for s in cpus)} s"
        )
    print(describe("after"))


if __name__ == "__main__":
    main()
