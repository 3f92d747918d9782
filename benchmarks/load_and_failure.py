"""Several ``doithoai run`` workers behind nginx on one PostgreSQL, under load and under SIGKILL
(issue 12, item 5; X4: nothing lost, a repeated update processed once, a message shown once;
X3: the residents give consent, name and phone as a resident does).

    .venv/bin/python -m benchmarks.load_and_failure [--residents 200] [--followers 5000]
        [--workers 3] [--short]

Everything runs on 127.0.0.1: a private PostgreSQL (``.ci/start-postgres`` on port 55477),
migrated and seeded with a ward, its office and its followers
(benchmarks/invitation_broadcast.py); the fake Bot API server (tests/fake_telegram) in this
process, delivering updates by webhook with up to 40 connections at once, as Telegram does; nginx
(Debian's package, a generated configuration in a temporary folder) in front of the workers,
retrying a request another worker when one dies (``proxy_next_upstream … non_idempotent``); and
the workers, each a ``doithoai run`` subprocess on its own port with ``TELEGRAM_API_URL`` at the
fake server and ``WEBHOOK_URL`` at nginx.

Three phases:

1. **Throughput** — the residents go through a whole petition each (``/gopy``, kind, topic,
   text, consent, name, shared phone, ward, verification code, send: 11 updates), each typing
   as soon as the previous answer arrived; once with one worker, once with ``--workers``; the
   fake server without flood control and the workers' budget raised
   (``TELEGRAM_MESSAGES_PER_SECOND``), so that the cores are the bound, not Telegram's 30 a
   second. Prints updates handled per second, the ratio, and the CPU time per update (workers,
   PostgreSQL) to project the figure to a bigger machine.
2. **A worker killed** — Telegram's limits on (30 a second, 1 a second per chat, 429 above),
   the workers at their default budget, residents who take a second to read each answer; one
   worker gets SIGKILL when half the updates are sent. nginx sends what it had on the wire to
   that worker to another one; the fake server redelivers what was not answered.
3. **The sender killed** — staff announce a session to ``--followers`` followers (the use
   case, as ``/thongbao`` does); when half the invitations arrived, the process holding the
   outbox sender's advisory lock (found in ``pg_locks``, by the ``application_name`` each
   worker's connections carry) gets SIGKILL; another process must take over.

Every count comes from ground truth, never from the bot's logs: the updates the fake server
created and what its webhook got answered, the ``processed_update`` rows and the petitions in
the database, and the messages the fake server received. Printed: updates lost (must be 0),
updates handled twice (0), invitations sent twice (at most one per killed sender: Telegram has
no idempotency key), 429 answers (0), seconds until the sender was taken over. The exit status
is 1 when lost, doubled (beyond that allowance) or 429 is not 0, or when a resident did not
finish; ``.ci/run`` runs ``--short``.

Ports: nginx 18700, the fake server 18701, workers 18711 upward; PostgreSQL 55477 (other ones
with ``DOITHOAI_LOAD_PORT_BASE`` and ``DOITHOAI_LOAD_PG_PORT``).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from datetime import time as clock_time
from pathlib import Path
from typing import Any

import aiohttp
from sqlalchemy import Engine, text

from benchmarks.recording_telegram import RecordingTelegram
from tests.fake_telegram import FakeTelegram, SentMessage

ROOT = Path(__file__).resolve().parent.parent
# Two runs on one machine (say, two branches measured side by side) pick other ports with
# DOITHOAI_LOAD_PORT_BASE (nginx there, the fake server +1, workers +11 upward) and
# DOITHOAI_LOAD_PG_PORT.
PG_PORT = int(os.environ.get("DOITHOAI_LOAD_PG_PORT", "55477"))
NGINX_PORT = int(os.environ.get("DOITHOAI_LOAD_PORT_BASE", "18700"))
FAKE_PORT = NGINX_PORT + 1
FIRST_WORKER_PORT = NGINX_PORT + 11
FIRST_RESIDENT_ID = 810_000_001
FIRST_FOLLOWER_ID = 700_000_001
SECRET = "load-test-webhook-secret"
APP_PREFIX = "doithoai-w"
VERIFY_CODE = re.compile(r"mã kiểm tra[^0-9]*(\d{5})|mã mới: (\d{5})")
TRACKING_CODE = re.compile(r"\bKN-[2-9A-HJ-NP-Z]{4}-[2-9A-HJ-NP-Z]{4}\b")
PETITIONS = (
    "Đường Lê Lợi bị ngập sâu mỗi khi mưa lớn, đề nghị phường nạo vét cống thoát nước.",
    "Đèn chiếu sáng trên đường Nam Kỳ Khởi Nghĩa bị hỏng đã lâu, đề nghị sửa chữa sớm.",
    "Vỉa hè đường Pasteur bị lấn chiếm để bán hàng, người đi bộ phải xuống lòng đường.",
    "Rác thải tập kết ở đầu hẻm chợ Bến Thành không được thu gom đúng giờ, gây mùi hôi.",
)
STEPS_PER_PETITION = 12  # with the pick of the ward
FAMILY = ("Nguyễn", "Trần", "Lê", "Phạm", "Hoàng", "Huỳnh", "Phan", "Vũ", "Võ", "Đặng")
MIDDLE = ("Văn", "Thị", "Minh", "Ngọc", "Hữu", "Thanh", "Đức", "Kim", "Quốc", "Thu")
GIVEN = ("An", "Bình", "Châu", "Dũng", "Giang", "Hà", "Khánh", "Lan", "Mai", "Nam")


def full_name(number: int) -> str:
    return " ".join((FAMILY[number % 10], MIDDLE[number // 10 % 10], GIVEN[number // 100 % 10]))


# -- the fake server, noting when each chat gets a message ---------------------------------------


class LoadTelegram(RecordingTelegram):
    """The fake Bot API server delivering by webhook over 40 connections."""

    def __init__(self) -> None:
        super().__init__(port=FAKE_PORT, webhook_connections=40, webhook_timeout=30.0)


# -- processes ------------------------------------------------------------------------------------


def cpu_seconds(pid: int, *, children: bool = False) -> float:
    """User + system CPU of a process (and of its reaped children), from /proc."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except (FileNotFoundError, ProcessLookupError, IndexError):
        return 0.0
    ticks = os.sysconf("SC_CLK_TCK")
    used = int(fields[11]) + int(fields[12])  # utime, stime
    if children:
        used += int(fields[13]) + int(fields[14])  # cutime, cstime
    return used / ticks


def children_of(parent: int) -> list[int]:
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
        except (FileNotFoundError, ProcessLookupError, IndexError):
            continue
        if int(fields[1]) == parent:
            found.append(int(entry.name))
    return found


class Postgres:
    """The private cluster of .ci/start-postgres on PG_PORT."""

    def __init__(self) -> None:
        env = {**os.environ, "DOITHOAI_CI_PG_PORT": str(PG_PORT)}
        done = subprocess.run(
            ["bash", str(ROOT / ".ci" / "start-postgres")],
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            text=True,
            check=True,
        )
        self.url = done.stdout.strip().splitlines()[-1]
        self.port = int(self.url.rsplit(":", 1)[1].split("/", 1)[0])
        root = os.environ.get("DOITHOAI_CI_PG_ROOT", "/tmp")
        self.directory = Path(root) / f"doithoai-ci-pg.{self.port}"

    def postmaster(self) -> int | None:
        try:
            return int((self.directory / "data" / "postmaster.pid").read_text().split()[0])
        except (FileNotFoundError, ValueError, IndexError):
            return None

    def cpu(self) -> float:
        """CPU of the server: the postmaster, its ended backends, and the live ones."""
        master = self.postmaster()
        if master is None:
            return 0.0
        return cpu_seconds(master, children=True) + sum(
            cpu_seconds(child) for child in children_of(master)
        )

    def stop(self) -> None:
        subprocess.run(
            ["bash", str(ROOT / ".ci" / "start-postgres"), "--stop", str(self.port)],
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            check=False,
        )


def nginx_binary() -> str:
    found = shutil.which("nginx") or "/usr/sbin/nginx"
    if not Path(found).exists():
        raise SystemExit("nginx is missing: apt-get install -y nginx")
    return found


NGINX_CONF = """\
{user}worker_processes 1;
pid {folder}/nginx.pid;
error_log {folder}/error.log warn;
events {{ worker_connections 1024; }}
http {{
    log_format upstreams '$request_uri $status upstream=$upstream_addr:$upstream_status';
    access_log {folder}/access.log upstreams;
    client_body_temp_path {folder}/body;
    proxy_temp_path {folder}/proxy;
    fastcgi_temp_path {folder}/fastcgi;
    uwsgi_temp_path {folder}/uwsgi;
    scgi_temp_path {folder}/scgi;
    upstream doithoai {{
{servers}
        keepalive 32;
    }}
    server {{
        listen 127.0.0.1:{port};
        location / {{
            proxy_pass http://doithoai;
            proxy_http_version 1.1;
            proxy_set_header Connection "";
            proxy_set_header Host $host;
            proxy_set_header X-Real-IP $remote_addr;
            # A webhook POST is safe to send again: the update id makes it processed once.
            proxy_next_upstream error timeout http_502 http_503 non_idempotent;
            proxy_next_upstream_tries 3;
            proxy_connect_timeout 1s;
            proxy_read_timeout 30s;
        }}
    }}
}}
"""


class Nginx:
    def __init__(self, folder: Path, worker_ports: list[int]) -> None:
        self.folder = folder / "nginx"
        self.folder.mkdir(exist_ok=True)
        servers = "\n".join(
            f"        server 127.0.0.1:{port} max_fails=1 fail_timeout=10s;"
            for port in worker_ports
        )
        user = "user root;\n" if os.geteuid() == 0 else ""
        conf = NGINX_CONF.format(user=user, folder=self.folder, servers=servers, port=NGINX_PORT)
        (self.folder / "nginx.conf").write_text(conf)
        self.process = subprocess.Popen(
            [
                nginx_binary(),
                "-p",
                str(self.folder),
                "-c",
                str(self.folder / "nginx.conf"),
                "-g",
                "daemon off;",
            ],
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=open(self.folder / "stderr.log", "a"),  # noqa: SIM115
        )

    def retried(self) -> int:
        """Requests nginx sent to a second worker (``$upstream_addr`` lists more than one)."""
        log = self.folder / "access.log"
        if not log.exists():
            return 0
        return sum(1 for line in log.read_text().splitlines() if ", " in line)

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()


@dataclass
class Worker:
    number: int
    port: int
    process: subprocess.Popen[bytes]
    log: Path
    spent: float = 0.0  # CPU seconds, as last read

    @property
    def name(self) -> str:
        return f"{APP_PREFIX}{self.number}"

    def alive(self) -> bool:
        return self.process.poll() is None

    def cpu(self) -> float:
        if self.alive():
            self.spent = cpu_seconds(self.process.pid)
        return self.spent

    def kill(self) -> None:
        self.cpu()  # what it used until now still counts
        self.process.send_signal(signal.SIGKILL)
        self.process.wait()

    def stop(self) -> None:
        if self.alive():
            self.process.terminate()
            try:
                self.process.wait(20)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()


def with_application_name(url: str, name: str) -> str:
    return f"{url}{'&' if '?' in url else '?'}application_name={name}"


def start_worker(
    number: int,
    folder: Path,
    database_url: str,
    fake: FakeTelegram,
    budget: float | None,
    workers: int,
) -> Worker:
    port = FIRST_WORKER_PORT + number - 1
    log = folder / f"worker-{number}.log"
    env = {
        **os.environ,
        "DATABASE_URL": with_application_name(database_url, f"{APP_PREFIX}{number}"),
        "DOITHOAI_DATA_DIR": str(folder / f"worker-{number}"),
        "TELEGRAM_BOT_TOKEN": fake.token,
        "TELEGRAM_API_URL": fake.base_url,
        "WEBHOOK_URL": f"http://127.0.0.1:{NGINX_PORT}",
        "WEBHOOK_SECRET": SECRET,
        "WEBHOOK_LISTEN": f"127.0.0.1:{port}",
        "WEB_CHAT": "off",
        "VERIFY_CODE_AS": "text",
        # Deadline digests are not part of this test: outside any working hours.
        "ALERT_HOURS_START": "00:00",
        "ALERT_HOURS_END": "00:01",
        "LOG_FORMAT": "text",
        # How many workers share the database: above 1, the webhook goes through the inbox; on
        # PostgreSQL replies are queued in the outbox with the turn and the one elected sender
        # sends them and the broadcasts at the bot's budget (README, "several workers").
        "WORKERS": str(workers),
    }
    if budget is not None:
        env["TELEGRAM_MESSAGES_PER_SECOND"] = str(budget)
        env["TELEGRAM_MESSAGES_PER_CHAT_PER_SECOND"] = str(budget)
    command = [str(Path(sys.executable).parent / "doithoai"), "run"]
    process = subprocess.Popen(
        command,
        env=env,
        cwd=ROOT,
        stdin=subprocess.DEVNULL,
        stdout=open(log, "ab"),  # noqa: SIM115
        stderr=subprocess.STDOUT,
    )
    return Worker(number, port, process, log)


async def wait_healthy(workers: list[Worker], timeout: float = 90.0) -> None:
    deadline = time.monotonic() + timeout
    async with aiohttp.ClientSession() as session:
        for worker in workers:
            while True:
                if not worker.alive():
                    raise RuntimeError(f"worker {worker.number} ended: see {worker.log}")
                with contextlib.suppress(aiohttp.ClientError, TimeoutError):
                    url = f"http://127.0.0.1:{worker.port}/healthz"
                    async with session.get(url, timeout=aiohttp.ClientTimeout(2)) as answer:
                        if answer.status == 200:
                            break
                if time.monotonic() > deadline:
                    raise RuntimeError(f"worker {worker.number} not ready: see {worker.log}")
                await asyncio.sleep(0.2)


# -- the database ---------------------------------------------------------------------------------


def seed(database_url: str, followers: int) -> Any:
    from benchmarks.invitation_broadcast import seed_ward
    from procedure.use_cases.administration import ensure_reference_data
    from storage.engine import make_engine
    from storage.migrate import upgrade_to_head
    from storage.unit_of_work import UnitOfWork

    engine = make_engine(database_url)
    upgrade_to_head(engine)
    with UnitOfWork(engine) as uow:
        ensure_reference_data(uow)
        uow.commit()
    return engine, seed_ward(engine, followers, FIRST_FOLLOWER_ID)


def handled_updates(engine: Engine) -> Counter[int]:
    """Ground truth: the updates the database holds as handled (processed_update's claims)."""
    with engine.connect() as connection:
        rows = connection.execute(
            text("SELECT update_id FROM processed_update WHERE channel = 'telegram'")
        ).all()
    return Counter(int(str(update_id)) for (update_id,) in rows)


def petitions_per_resident(engine: Engine) -> Counter[int]:
    with engine.connect() as connection:
        rows = connection.execute(
            text(
                "SELECT a.external_user_id FROM petition p "
                "JOIN channel_account a ON a.person_id = p.person_id "
                "WHERE a.channel = 'telegram'"
            )
        ).all()
    return Counter(int(str(user)) for (user,) in rows)


def sender_holders(engine: Engine) -> list[tuple[str, int, int]]:
    """Advisory locks held by a worker's session: (application name, classid, objid)."""
    with engine.connect() as connection:
        rows = connection.execute(
            text(
                "SELECT a.application_name, l.classid::bigint, l.objid::bigint "
                "FROM pg_locks l JOIN pg_stat_activity a ON a.pid = l.pid "
                "WHERE l.locktype = 'advisory' AND l.granted "
                f"AND a.application_name LIKE '{APP_PREFIX}%'"
            )
        ).all()
    return [(str(name), int(str(classid)), int(str(objid))) for name, classid, objid in rows]


async def find_sender_holder(engine: Engine, samples: int = 6) -> str | None:
    """The worker that holds one advisory lock all along (the sender's election), if any: a
    conversation's lock is held for a turn, the sender's for as long as it lives."""
    seen: Counter[tuple[str, int, int]] = Counter()
    for _ in range(samples):
        for holder in await asyncio.to_thread(sender_holders, engine):
            seen[holder] += 1
        await asyncio.sleep(0.25)
    steady = [holder for holder, times in seen.items() if times == samples]
    return steady[0][0] if steady else None


def announce(engine: Engine, ward: Any) -> int:
    """Staff plan a session three weeks ahead and announce it: one invitation per follower
    enters the outbox in the announcement's transaction (P4)."""
    from procedure.use_cases import sessions
    from procedure.use_cases.context import ProcedureContext
    from procedure.use_cases.sessions import SessionPlan
    from storage.unit_of_work import UnitOfWork
    from texts import LOCAL_TIMEZONE

    context = ProcedureContext()
    day = datetime.now(LOCAL_TIMEZONE).date() + timedelta(days=21)
    last_error: Exception | None = None
    for _ in range(6):
        starts = datetime.combine(day, clock_time(8, 0), LOCAL_TIMEZONE).astimezone(UTC)
        try:
            with UnitOfWork(engine) as uow:
                session = sessions.plan_session(
                    uow,
                    ward.office,
                    SessionPlan(
                        org_unit_id=ward.ward_id,
                        chair_name="Phạm Văn Chủ, Chủ tịch UBND phường",
                        venue="Hội trường UBND phường Bến Thành, 92 Nam Kỳ Khởi Nghĩa",
                        starts_at=starts,
                        ends_at=starts + timedelta(hours=3),
                        content="Đối thoại về chỉnh trang đô thị và vệ sinh môi trường",
                    ),
                    context,
                )
                assert session.id is not None
                sessions.announce_session(uow, ward.office, session.id, context)
                uow.commit()
                return session.id
        except Exception as error:  # a holiday or a weekend: the next week
            last_error = error
            day += timedelta(days=7)
    raise RuntimeError(f"no session could be announced: {last_error}")


# -- the residents --------------------------------------------------------------------------------


class Unanswered(Exception):
    pass


@dataclass
class Resident:
    """One person who writes a petition through the bot, as tests/test_chat_contract.py does."""

    fake: LoadTelegram
    user_id: int
    number: int
    think: float  # seconds to read an answer before the next action
    timeout: float
    sent: list[int] = field(default_factory=list)  # update ids
    finished: bool = False
    stuck_at: str | None = None
    last_said: str = ""
    seen_when_stuck: int = 0  # messages received when the resident gave up
    latencies: list[float] = field(default_factory=list)  # seconds from update to answer

    @property
    def phone(self) -> str:
        return f"+8491{self.number:07d}"

    def messages(self) -> list[SentMessage]:
        return self.fake.sent_messages(self.user_id)

    async def _until(self, step: str, start: int, found: Callable[[list[SentMessage]], Any]) -> Any:
        deadline = time.monotonic() + self.timeout
        while True:
            event = self.fake.changed(self.user_id)
            event.clear()
            value = found(self.messages()[start:])
            if value:
                return value
            left = deadline - time.monotonic()
            if left <= 0:
                raise Unanswered(step)
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(event.wait(), left)

    async def _act(
        self,
        step: str,
        action: Callable[[], dict[str, Any]],
        found: Callable[[list[SentMessage]], Any],
    ) -> Any:
        if self.think:
            await asyncio.sleep(self.think)
        start = len(self.messages())
        update = action()
        self.sent.append(int(update["update_id"]))
        began = time.monotonic()
        value = await self._until(step, start, found)
        self.latencies.append(time.monotonic() - began)
        return value

    def _press(self, label: str) -> Callable[[], dict[str, Any]]:
        def press() -> dict[str, Any]:
            for message in reversed(self.messages()):
                for button in message.inline_buttons:
                    if label in button["text"]:
                        return self.fake.press_button(
                            self.user_id, message, button["callback_data"]
                        )
            raise Unanswered(f"no button {label}")

        return press

    async def petition(self) -> None:
        fake, me = self.fake, self.user_id
        fake.user(me, f"Cư dân {self.number}")
        text_of = PETITIONS[self.number % len(PETITIONS)] + f" (hộ số {self.number})"
        try:
            await self._act("gopy", lambda: fake.send_command(me, "gopy"), has_button("Không gắn"))
            await self._act("no session", self._press("Không gắn"), has_button("Kiến nghị"))
            await self._act("kind", self._press("Kiến nghị"), has_button("Giao thông"))
            await self._act("topic", self._press("Giao thông"), says("nội dung"))
            await self._act("text", lambda: fake.send_text(me, text_of), has_button("đồng ý"))
            await self._act("consent", self._press("Tôi đồng ý"), says("họ và tên"))
            await self._act(
                "name",
                lambda: fake.send_text(me, full_name(self.number)),
                asks_contact,
            )
            await self._act(
                "phone",
                lambda: fake.send_contact(me, self.phone, contact_user_id=me),
                says("cư trú"),
            )
            typed = await self._act(
                "ward", lambda: fake.send_text(me, "Bến Thành"), code_or_choice("Bến Thành")
            )
            code = typed
            if typed is CHOOSE:  # several units match what was typed: the resident picks one
                code = await self._act("pick", self._press("Phường Bến Thành"), verification_code)
            await self._act("code", lambda: fake.send_text(me, code), has_button("Gửi"))
            await self._act("send", self._press("Gửi"), tracking_code)
            self.finished = True
        except Unanswered as stuck:
            self.stuck_at = str(stuck)
            self.seen_when_stuck = len(self.messages())
            last = self.messages()[-1:] or None
            self.last_said = (last[0].text or "")[:160] if last else ""


def has_button(label: str) -> Callable[[list[SentMessage]], bool]:
    return lambda messages: any(
        label in button["text"] for message in messages for button in message.inline_buttons
    )


def says(words: str) -> Callable[[list[SentMessage]], bool]:
    return lambda messages: any(words in (message.text or "") for message in messages)


def asks_contact(messages: list[SentMessage]) -> bool:
    return any(message.requests_contact for message in messages)


def verification_code(messages: list[SentMessage]) -> str | None:
    for message in reversed(messages):
        match = VERIFY_CODE.search(message.text or "")
        if match:
            return match.group(1) or match.group(2)
    return None


CHOOSE = "choose"


def code_or_choice(label: str) -> Callable[[list[SentMessage]], str | None]:
    """The verification code, or CHOOSE when a list of units with ``label`` came instead."""

    def found(messages: list[SentMessage]) -> str | None:
        return verification_code(messages) or (CHOOSE if has_button(label)(messages) else None)

    return found


def tracking_code(messages: list[SentMessage]) -> bool:
    return any(TRACKING_CODE.search(message.text or "") for message in messages)


# -- the phases -----------------------------------------------------------------------------------


@dataclass
class Run:
    """What one set of residents did, from ground truth."""

    residents: list[Resident]
    seconds: float
    worker_cpu: float
    postgres_cpu: float
    killed: str | None = None
    harness_cpu: float = 0.0  # this process: the fake server and the residents

    def latency(self, share: float) -> float:
        ordered = sorted(x for r in self.residents for x in r.latencies)
        return ordered[min(len(ordered) - 1, int(share * len(ordered)))] if ordered else 0.0

    @property
    def updates(self) -> int:
        return sum(len(r.sent) for r in self.residents)

    @property
    def rate(self) -> float:
        return self.updates / self.seconds if self.seconds else 0.0

    def update_ids(self) -> set[int]:
        return {u for r in self.residents for u in r.sent}


@dataclass
class Rig:
    folder: Path
    postgres: Postgres
    engine: Engine
    ward: Any
    fake: LoadTelegram
    workers: list[Worker] = field(default_factory=list)
    nginx: Nginx | None = None
    next_resident: int = 0

    async def start_workers(
        self, count: int, budget: float | None, setting: int | None = None
    ) -> None:
        """``count`` workers, each told that ``setting`` workers (default ``count``) share the
        database (``WORKERS``)."""
        await self.stop_workers()
        self.workers = [
            start_worker(n, self.folder, self.postgres.url, self.fake, budget, setting or count)
            for n in range(1, count + 1)
        ]
        self.nginx = Nginx(self.folder, [w.port for w in self.workers])
        await wait_healthy(self.workers)
        # Each worker sets the webhook when it starts; wait for the last one.
        await self.fake.wait_for(lambda: len(self.fake.calls("setWebhook")) >= count, 30)

    async def restart(self, worker: Worker, budget: float | None) -> None:
        index = self.workers.index(worker)
        again = start_worker(
            worker.number, self.folder, self.postgres.url, self.fake, budget, len(self.workers)
        )
        self.workers[index] = again
        await wait_healthy([again])

    async def stop_workers(self) -> None:
        await asyncio.gather(*(asyncio.to_thread(worker.stop) for worker in self.workers))
        self.workers = []
        if self.nginx is not None:
            self.nginx.stop()
            self.nginx = None
        self.fake.clear_requests()

    async def idle_cpu(self, seconds: float = 3.0) -> float:
        """The workers' CPU seconds a second while nobody writes."""
        before, _ = self.cpu()
        await asyncio.sleep(seconds)
        after, _ = self.cpu()
        return (after - before) / seconds

    def cpu(self) -> tuple[float, float]:
        return sum(w.cpu() for w in self.workers), self.postgres.cpu()

    def residents(self, count: int, think: float, timeout: float) -> list[Resident]:
        made = [
            Resident(
                self.fake,
                FIRST_RESIDENT_ID + self.next_resident + n,
                self.next_resident + n,
                think,
                timeout,
            )
            for n in range(count)
        ]
        self.next_resident += count
        return made

    async def settle(self, expected: set[int], timeout: float = 60.0) -> Counter[int]:
        """Wait until the fake server has nothing left to deliver and the database holds every
        expected update as handled (or the time is up); the handled updates."""
        deadline = time.monotonic() + timeout
        while True:
            handled = await asyncio.to_thread(handled_updates, self.engine)
            if not self.fake.pending_updates and expected <= set(handled):
                return handled
            if time.monotonic() > deadline:
                return handled
            await asyncio.sleep(0.5)


async def drive(
    rig: Rig,
    residents: list[Resident],
    *,
    kill_at: float | None = None,
) -> Run:
    """The residents write their petitions at once; with ``kill_at``, a worker gets SIGKILL
    once that share of the updates was sent."""
    killed: list[str] = []
    total = len(residents) * STEPS_PER_PETITION

    async def killer() -> None:
        assert kill_at is not None
        while sum(len(r.sent) for r in residents) < kill_at * total:
            await asyncio.sleep(0.05)
        victim = rig.workers[len(rig.workers) // 2]
        await asyncio.to_thread(victim.kill)
        killed.append(victim.name)

    worker_cpu, postgres_cpu = rig.cpu()
    harness_cpu = time.process_time()
    started = time.monotonic()
    task = asyncio.create_task(killer()) if kill_at is not None else None
    await asyncio.gather(*(resident.petition() for resident in residents))
    seconds = time.monotonic() - started
    if task is not None and not task.done():
        task.cancel()
    worker_after, postgres_after = rig.cpu()
    return Run(
        residents,
        seconds,
        worker_after - worker_cpu,
        postgres_after - postgres_cpu,
        killed[0] if killed else None,
        time.process_time() - harness_cpu,
    )


@dataclass
class Integrity:
    sent: int
    acknowledged: int
    lost: int
    handled_twice: int
    petitions_doubled: int
    unfinished: int
    stuck_steps: Counter[str]
    stuck_sample: list[str] = field(default_factory=list)
    # Residents whose last update the database holds as handled, but whose answer never came.
    answer_lost: int = 0
    answered_late: int = 0  # an answer came after the resident gave up
    # Messages a resident got beyond the rows the outbox holds as sent to that chat (issue
    # 12: replies go through the outbox on PostgreSQL); None where replies are sent directly.
    replies_doubled: int | None = None
    doubled_sample: list[str] = field(default_factory=list)  # the repeated texts, shortened


def repeated_texts(messages: list[SentMessage]) -> list[str]:
    """The beginnings of texts a chat got more than once."""
    counts = Counter(message.text or "" for message in messages)
    return [text[:40] for text, count in counts.items() if count > 1]


def reply_rows_sent(engine: Engine, chats: list[int]) -> dict[str, int] | None:
    """How many outbox rows (queued replies, and pushes such as "petition received") the
    outbox holds as sent to each chat's person; None if it holds no reply (the workers send
    their replies directly)."""
    deadline = time.monotonic() + 15
    with engine.connect() as connection:
        if not connection.execute(
            text("SELECT 1 FROM outbox_message WHERE kind = 'reply' LIMIT 1")
        ).first():
            return None
        # A reply the resident already got may not be recorded as sent yet: wait for the
        # sender's records before counting.
        pending = text(
            "SELECT count(*) FROM outbox_message WHERE kind = 'reply' "
            "AND sent_at IS NULL AND failed_at IS NULL"
        )
        while connection.execute(pending).scalar_one() and time.monotonic() < deadline:
            connection.commit()
            time.sleep(0.2)
        connection.commit()
        rows = connection.execute(
            text(
                "SELECT a.chat_id, count(*) FROM outbox_message o "
                "JOIN channel_account a ON a.person_id = o.person_id "
                "WHERE o.sent_at IS NOT NULL AND a.channel = 'telegram' "
                "AND a.chat_id = ANY(:chats) GROUP BY a.chat_id"
            ),
            {"chats": [str(chat) for chat in chats]},
        ).all()
    return {str(chat): int(count) for chat, count in rows}


async def integrity(rig: Rig, run: Run) -> Integrity:
    expected = run.update_ids()
    handled = await rig.settle(expected)
    petitions = await asyncio.to_thread(petitions_per_resident, rig.engine)
    residents = {r.user_id for r in run.residents}
    sent_rows = await asyncio.to_thread(
        reply_rows_sent, rig.engine, [r.user_id for r in run.residents]
    )
    return Integrity(
        # Every reply is one message here (codes as text, no long text): a message beyond the
        # rows marked sent was sent twice (a sender killed between a send and its record).
        replies_doubled=(
            sum(max(0, len(r.messages()) - sent_rows.get(str(r.user_id), 0)) for r in run.residents)
            if sent_rows is not None
            else None
        ),
        doubled_sample=[
            f"{r.user_id}: {len(r.messages())} messages, {(sent_rows or {}).get(str(r.user_id))} "
            f"rows sent; repeated: {repeated_texts(r.messages())}"
            for r in run.residents
            if sent_rows is not None and len(r.messages()) > sent_rows.get(str(r.user_id), 0)
        ][:3],
        sent=len(expected),
        acknowledged=len(expected & rig.fake.acknowledged()),
        lost=len(expected - set(handled)),
        handled_twice=sum(1 for u in expected if handled[u] > 1),
        petitions_doubled=sum(1 for user, n in petitions.items() if user in residents and n > 1),
        unfinished=sum(1 for r in run.residents if not r.finished),
        stuck_steps=Counter(r.stuck_at for r in run.residents if r.stuck_at),
        stuck_sample=[f"{r.stuck_at}: {r.last_said!r}" for r in run.residents if r.stuck_at][:3],
        answer_lost=sum(
            1
            for r in run.residents
            if r.stuck_at
            and r.sent
            and handled[r.sent[-1]] > 0
            and len(r.messages()) == r.seen_when_stuck
        ),
        answered_late=sum(
            1 for r in run.residents if r.stuck_at and len(r.messages()) > r.seen_when_stuck
        ),
    )


@dataclass
class Broadcast:
    followers: int
    holder: str | None
    killed: str | None
    takeover_seconds: float | None
    lost: int
    doubled: int
    seconds: float
    in_flight_allowance: int
    left_at_kill: int


async def invitation(rig: Rig, followers: int, timeout: float) -> Broadcast:
    """Announce, kill the sender's holder at half way, wait for every follower."""
    chats = set(rig.ward.chat_ids)
    fake = rig.fake

    def received() -> Counter[int]:
        return Counter(chat for _, chat in fake.arrivals if chat in chats)

    await asyncio.to_thread(announce, rig.engine, rig.ward)
    started = time.monotonic()
    await fake.wait_for(lambda: len(received()) >= 1, timeout)
    holder = await find_sender_holder(rig.engine)
    await fake.wait_for(lambda: len(received()) >= max(1, followers // 2), timeout)
    victim = next((w for w in rig.workers if w.name == holder), None)
    if victim is None:  # no election to be seen: every worker sends, kill the first
        victim = rig.workers[0]
    killed_at = time.monotonic()
    await asyncio.to_thread(victim.kill)
    left_at_kill = followers - len(received())
    after = [t for t, chat in list(fake.arrivals) if chat in chats and t > killed_at]
    deadline = time.monotonic() + timeout
    while not after and time.monotonic() < deadline and len(received()) < followers:
        await asyncio.sleep(0.05)
        after = [t for t, chat in list(fake.arrivals) if chat in chats and t > killed_at + 0.05]
    takeover = after[0] - killed_at if after else None
    with contextlib.suppress(TimeoutError):
        await fake.wait_for(lambda: len(received()) >= followers, timeout)
    seconds = time.monotonic() - started
    await asyncio.sleep(2)  # anything sent late still counts
    counts = received()
    return Broadcast(
        followers=followers,
        holder=holder,
        killed=victim.name,
        takeover_seconds=takeover,
        lost=sum(1 for chat in chats if counts[chat] == 0),
        doubled=sum(1 for chat in chats if counts[chat] > 1),
        seconds=seconds,
        in_flight_allowance=1,
        left_at_kill=left_at_kill,
    )


# -- the report -----------------------------------------------------------------------------------


BEGAN = time.monotonic()


def print_run(title: str, run: Run, check: Integrity | None = None) -> None:
    print(f"-- {title} (at {time.monotonic() - BEGAN:.0f} s)")
    print(
        f"   residents {len(run.residents)}, updates {run.updates} in {run.seconds:.1f} s: "
        f"{run.rate:.1f} updates/s"
    )
    if run.updates:
        per = 1000 / run.updates
        print(
            f"   CPU per update: workers {per * run.worker_cpu:.2f} ms, "
            f"PostgreSQL {per * run.postgres_cpu:.2f} ms (the fake server and residents "
            f"{per * run.harness_cpu:.2f} ms)"
        )
        if run.seconds:
            print(
                f"   cores busy: workers {run.worker_cpu / run.seconds:.2f}, "
                f"PostgreSQL {run.postgres_cpu / run.seconds:.2f}"
                f", the fake server and residents {run.harness_cpu / run.seconds:.2f} (one "
                "process, one core at most)"
            )
        print(
            f"   update to answer: p50 {1000 * run.latency(0.5):.0f} ms, "
            f"p99 {1000 * run.latency(0.99):.0f} ms"
        )
    if run.killed:
        print(f"   SIGKILL: {run.killed}")
    if check is not None:
        print(f"   updates sent {check.sent}, answered 2xx by the webhook {check.acknowledged}")
        print(f"   updates lost (not handled in the database): {check.lost}")
        print(
            f"   updates handled twice: {check.handled_twice}; "
            f"residents with two petitions: {check.petitions_doubled}"
        )
        print(f"   residents who did not finish: {check.unfinished} {dict(check.stuck_steps)}")
        if check.replies_doubled is not None:
            print(
                f"   replies sent twice: {check.replies_doubled} (allowed: 1 if the killed "
                "worker was the sender, the piece in flight)"
            )
            for line in check.doubled_sample:
                print(f"     e.g. {line}")
        for line in check.stuck_sample:
            print(f"     e.g. stuck at {line}")
        if check.unfinished:
            print(
                f"   of whom {check.answer_lost} wait for the answer to an update the database "
                f"holds as handled (the answer was lost), {check.answered_late} got it after "
                "giving up"
            )


async def main_async(args: argparse.Namespace) -> int:
    failures: list[str] = []
    folder = Path(tempfile.mkdtemp(prefix="doithoai-load-"))
    print(f"== PostgreSQL on {PG_PORT}, nginx on {NGINX_PORT}, logs in {folder}", flush=True)
    postgres = await asyncio.to_thread(Postgres)
    try:
        engine, ward = await asyncio.to_thread(seed, postgres.url, args.followers)
        async with LoadTelegram() as fake:
            rig = Rig(folder, postgres, engine, ward, fake)
            try:
                await phases(rig, args, failures)
            finally:
                await rig.stop_workers()
        engine.dispose()
    finally:
        await asyncio.to_thread(postgres.stop)
    print(f"== {time.monotonic() - BEGAN:.0f} s in all")
    if failures:
        print("FAILED: " + "; ".join(failures))
        return 1
    print("OK")
    if not args.keep_logs:
        shutil.rmtree(folder, ignore_errors=True)
    return 0


async def phases(rig: Rig, args: argparse.Namespace, failures: list[str]) -> None:
    fake = rig.fake
    # 1. Throughput: the cores are the bound (no flood control, the workers' budget raised).
    fake.no_rate_limit()
    # (workers, WORKERS): one worker alone, then (with --inbox-alone) one worker with the
    # settings of several (the inbox, no memo of accounts, its share of the budget): its CPU per
    # update is what the code of several workers costs without their contention for the cores.
    shapes = [(1, 1)]
    if args.inbox_alone and args.workers > 1:
        shapes.append((1, args.workers))
    if args.workers > 1:
        shapes.append((args.workers, args.workers))
    runs: dict[tuple[int, int], Run] = {}
    for count, setting in shapes:
        await rig.start_workers(count, budget=100_000, setting=setting)
        # Warm-up, not measured: each worker's first petitions load what a turn needs (the
        # syllable inventory, the gazetteer, the petition index: seconds of CPU once per
        # process). Any worker may take any update, so each worker needs several residents'
        # worth of updates to have met every step; four residents a worker.
        await drive(rig, rig.residents(4 * count, think=0.0, timeout=60.0))
        idle = await rig.idle_cpu()
        spies = profile(rig.workers, args.profile, count, setting)
        run = await drive(rig, rig.residents(args.residents, think=0.0, timeout=60.0))
        end_profile(spies)
        check = await integrity(rig, run)
        shape = f"{count} worker(s)" + (
            f", WORKERS={setting} (through the inbox)" if setting != count else ""
        )
        print_run(f"throughput, {shape}", run, check)
        busy = run.worker_cpu - idle * run.seconds
        print(
            f"   the workers' CPU when idle (polling the inbox and the outbox, the sender's "
            f"election): {1000 * idle:.0f} ms a second; without it "
            f"{1000 * busy / run.updates:.2f} ms per update"
        )
        collect(f"throughput {shape}", check, failures)
        runs[count, setting] = run
    one, many = runs[1, 1], runs[args.workers, args.workers]
    if (1, args.workers) in runs:
        alone = runs[1, args.workers]
        per = 1000 / alone.updates
        print(
            f"== CPU per update of one worker with WORKERS={args.workers} (the code of several "
            f"workers, no contention): workers {per * alone.worker_cpu:.2f} ms, PostgreSQL "
            f"{per * alone.postgres_cpu:.2f} ms; with WORKERS=1: "
            f"{1000 * one.worker_cpu / one.updates:.2f} ms, "
            f"{1000 * one.postgres_cpu / one.updates:.2f} ms"
        )
    project(one, many, runs.get((1, args.workers)), args.workers)
    print(
        f"== updates/s with {args.workers} workers against 1: {many.rate:.1f} / {one.rate:.1f}"
        f" = {many.rate / one.rate:.2f}",
        flush=True,
    )
    if args.throughput_only:
        return

    # 2. A worker killed while residents write, Telegram's limits on.
    fake.rate_limit(global_per_second=30, per_chat_per_second=1)
    before_429 = fake.too_many_requests_sent
    await rig.start_workers(args.workers, budget=args.budget)
    run = await drive(rig, rig.residents(args.residents, think=1.0, timeout=40.0), kill_at=0.5)
    check = await integrity(rig, run)
    print_run(f"{args.workers} workers, one killed half way, Telegram's limits", run, check)
    assert rig.nginx is not None
    print(f"   requests nginx passed to another worker: {rig.nginx.retried()}")
    collect("worker killed", check, failures)
    too_many = fake.too_many_requests_sent - before_429
    print(f"   429 answers: {too_many}", flush=True)
    if too_many:
        failures.append(f"{too_many} × 429 while residents wrote")

    # 3. The sender's holder killed half way through an invitation.
    killed = next((w for w in rig.workers if not w.alive()), None)
    if killed is not None:
        await rig.restart(killed, args.budget)
    before_429 = fake.too_many_requests_sent
    # The one elected sender sends at the bot's budget (30 a second); the timeout leaves room.
    timeout = 1.5 * args.followers / ((args.budget or 30) / args.workers) + 120
    broadcast = await invitation(rig, args.followers, timeout)
    too_many = fake.too_many_requests_sent - before_429
    print(f"-- invitation to {broadcast.followers} followers, sender's holder killed half way")
    print(
        f"   holder of the sender's advisory lock: {broadcast.holder or 'none found'}; "
        f"SIGKILL: {broadcast.killed}"
    )
    if broadcast.holder is None:
        print(
            "   (no advisory lock held steadily by a worker: no sender election to see; "
            "every worker drains the outbox)"
        )
    takeover = broadcast.takeover_seconds
    print(
        "   seconds until the sender was taken over: "
        + (f"{takeover:.2f}" if takeover is not None else "never")
    )
    print(f"   took {broadcast.seconds:.1f} s; followers without the invitation: {broadcast.lost}")
    print(
        f"   followers who got it twice: {broadcast.doubled} "
        f"(allowed: {broadcast.in_flight_allowance}, the message in flight at the kill)"
    )
    print(f"   429 answers: {too_many}", flush=True)
    if broadcast.lost:
        failures.append(f"{broadcast.lost} followers without the invitation")
    if broadcast.doubled > broadcast.in_flight_allowance:
        failures.append(f"{broadcast.doubled} followers got the invitation twice")
    if too_many:
        failures.append(f"{too_many} × 429 during the invitation")
    print(f"   followers still waiting at the kill: {broadcast.left_at_kill}")
    if takeover is None and broadcast.left_at_kill:
        failures.append("the sender was never taken over")


def project(one: Run, many: Run, alone: Run | None, workers: int) -> None:
    """The figure on a machine where the cores are not shared: a worker is one Python process
    (one core at most), so one worker handles at most 1000 / (its CPU ms per update) updates a
    second, ``workers`` workers ``workers`` times their own, given the PostgreSQL cores their
    rate needs. With the CPU per update measured here, of several workers with contention for
    these two cores (pessimistic) and of one worker with their settings (none)."""
    if not (one.updates and many.updates and one.worker_cpu and many.worker_cpu):
        return
    single = one.updates / one.worker_cpu
    shapes = [("with this machine's contention", many)]
    if alone is not None and alone.updates and alone.worker_cpu:
        shapes.append(("without contention", alone))
    for label, run in shapes:
        rate = workers * run.updates / run.worker_cpu
        postgres = rate * run.postgres_cpu / run.updates
        print(
            f"== projected, a core per worker ({label}): 1 worker {single:.0f} updates/s, "
            f"{workers} workers {rate:.0f} updates/s (and {postgres:.1f} PostgreSQL cores): "
            f"ratio {rate / single:.2f}"
        )


def profile(
    workers: list[Worker], folder: Path | None, count: int, setting: int
) -> list[subprocess.Popen[bytes]]:
    """py-spy attached to each worker (collapsed stacks, idle threads left out)."""
    if folder is None:
        return []
    folder.mkdir(parents=True, exist_ok=True)
    spy = shutil.which("py-spy") or str(Path(sys.executable).parent / "py-spy")
    return [
        subprocess.Popen(
            [
                spy,
                "record",
                "--pid",
                str(worker.process.pid),
                "--format",
                "raw",
                "--rate",
                "200",
                "--output",
                str(folder / f"workers-{count}-of-{setting}-w{worker.number}.txt"),
            ],
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        for worker in workers
    ]


def end_profile(spies: list[subprocess.Popen[bytes]]) -> None:
    for spy in spies:
        spy.send_signal(signal.SIGINT)
    for spy in spies:
        try:
            spy.wait(30)
        except subprocess.TimeoutExpired:
            spy.kill()
            spy.wait()


def collect(phase: str, check: Integrity, failures: list[str]) -> None:
    """The failures of a phase. A resident left without an answer is one, where a worker was
    killed too: a turn's replies are queued in the outbox with its commit (PostgreSQL, issue
    12), so a kill after the commit takes none with it."""
    if check.lost:
        failures.append(f"{phase}: {check.lost} updates lost")
    if check.handled_twice or check.petitions_doubled:
        failures.append(f"{phase}: updates handled twice")
    if check.unfinished:
        failures.append(f"{phase}: {check.unfinished} residents did not finish")
    if check.replies_doubled is not None and check.replies_doubled > 1:
        failures.append(f"{phase}: {check.replies_doubled} replies sent twice")


def parse(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--residents", type=int, default=200)
    parser.add_argument("--followers", type=int, default=5000)
    parser.add_argument("--workers", type=int, default=3)
    parser.add_argument(
        "--budget",
        type=float,
        default=None,
        help="TELEGRAM_MESSAGES_PER_SECOND of each worker in phases 2 and 3 (default: 30)",
    )
    parser.add_argument("--short", action="store_true", help="30 residents, 300 followers")
    parser.add_argument("--keep-logs", action="store_true")
    parser.add_argument(
        "--throughput-only", action="store_true", help="phase 1 only (to measure a change)"
    )
    parser.add_argument(
        "--inbox-alone",
        action="store_true",
        help="phase 1 also measures one worker with WORKERS set to --workers (the inbox)",
    )
    parser.add_argument(
        "--profile",
        type=Path,
        default=None,
        metavar="FOLDER",
        help="py-spy records each worker during the measured runs of phase 1 (collapsed "
        "stacks, FOLDER/workers-N-wK.txt); needs py-spy on PATH or in the venv",
    )
    args = parser.parse_args(argv)
    if args.short:
        args.residents, args.followers = 30, 300
    return args


def main(argv: list[str] | None = None) -> int:
    return asyncio.run(main_async(parse(argv)))


if __name__ == "__main__":
    sys.exit(main())
