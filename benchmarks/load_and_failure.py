"""Several ``doithoai run`` workers behind nginx on one PostgreSQL, under load and under SIGKILL
(issue 12, item 5; X4: nothing lost, a repeated update processed once, a message shown once;
X3: the residents give consent, name and phone as a resident does), on every channel.

    .venv/bin/python -m benchmarks.load_and_failure [--residents 200] [--followers 5000]
        [--workers 3] [--short] [--channels telegram,zalo_oa,zalo_bot,web] [--repeat N]

Everything runs on 127.0.0.1: a private PostgreSQL (``.ci/start-postgres`` on port 55477),
migrated and seeded with a ward, its office and its followers
(benchmarks/invitation_broadcast.py); in this process the fake Bot API server
(tests/fake_telegram), delivering updates by webhook with up to 40 connections at once, as
Telegram does, the fake Zalo OA server and the fake Zalo Bot platform (tests/fake_zalo); nginx
(Debian's package, a generated configuration in a temporary folder) in front of the workers,
retrying a request another worker when one dies (``proxy_next_upstream … non_idempotent``) and
passing the web chat's WebSocket on; and the workers, each a ``doithoai run`` subprocess on its
own port with every channel configured: Telegram's and Zalo Bot's webhooks at nginx, Zalo OA's
signed webhook (its tokens stored as ``doithoai zalo`` stores them), the web chat behind nginx.

The residents take the channels in turn (benchmarks/load_residents.py says how each speaks):
Telegram, Zalo OA and Zalo Bot by webhook through nginx to any worker, the web chat by a
WebSocket through nginx that stays on its worker, a page that loses it reconnecting with
``after`` as the real page does.

Three phases:

1. **Throughput** — the residents go through a whole petition each (``/gopy``, kind, topic,
   text, consent, name, phone, ward, verification code, send: 11 or 12 updates; the web page
   opens with ``/start``), each typing as soon as the previous answer arrived; once with one
   worker, once with ``--workers``; the fake servers without flood control and the workers'
   Telegram budget raised (``TELEGRAM_MESSAGES_PER_SECOND``), so that the cores are the bound,
   not Telegram's 30 a second. Prints updates handled per second, the ratio, and the CPU time per
   update (workers, PostgreSQL) to project the figure to a bigger machine. Telegram's and the
   web chat's residents only: the workers pace Zalo's replies themselves (1 a second per chat)
   with no setting to lift it, so Zalo's residents would measure that pace. Each run also
   prints its rate while every resident still wrote (until the first one was done: the load the
   same all through; after it, fewer and fewer residents are left and a tail follows), and the
   ratio of those rates.
2. **A worker killed** — Telegram's limits on (30 a second, 1 a second per chat, 429 above), the
   Zalo servers at an assumed ``--zalo-per-second`` (Zalo publishes no figure), the workers at
   their default budget, residents who take ``--think`` seconds to read each answer; one worker
   gets SIGKILL when half the updates are sent. nginx sends what it had on the wire to that
   worker to another one; the fake Telegram redelivers what was not answered; the Zalo servers
   do not (their retries are not documented for sure); the web pages on that worker reconnect.
3. **The sender killed** — staff announce a session to ``--followers`` Telegram followers (the
   use case, as ``/thongbao`` does); when half the invitations arrived, the process holding the
   outbox sender's advisory lock (found in ``pg_locks``, by the ``application_name`` each
   worker's connections carry) gets SIGKILL; another process must take over.

Every count comes from ground truth, never from the bot's logs: the updates the residents sent
and what answered them (a webhook's 200, the web chat's ``done``), the ``processed_update`` and
``inbox_event`` rows and the petitions in the database, and the messages the fake servers and
the pages received. Printed per channel and in all: updates lost (must be 0), updates handled
twice (0), residents who did not finish and of them those whose answer was lost after the update
was handled (0), replies sent twice (at most one per channel at a kill: no platform here has an
idempotency key), 429 answers (0; on the web chat its "too fast" frames); and invitations sent
twice (at most one per killed sender), seconds until the sender was taken over. The exit status
is 1 when any of these is off; ``.ci/run`` runs ``--short``.

Ports: nginx 18700, the fake Telegram 18701, the fake Zalo OA 18702, the fake Zalo Bot platform
18703, workers 18711 upward; PostgreSQL 55477 (other ones with ``DOITHOAI_LOAD_PORT_BASE`` and
``DOITHOAI_LOAD_PG_PORT``). The web pages connect from 127.1.x.y, one address each.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import gc
import os
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from datetime import time as clock_time
from pathlib import Path
from typing import Any

import aiohttp
from sqlalchemy import Engine, text

from benchmarks.load_residents import (
    CHANNELS,
    ZALO_BOT_SECRET,
    LoadZaloBot,
    LoadZaloOA,
    Resident,
    TelegramResident,
    WebResident,
    ZaloBotResident,
    ZaloOAResident,
)
from benchmarks.recording_telegram import RecordingTelegram

ROOT = Path(__file__).resolve().parent.parent
# Two runs on one machine (say, two branches measured side by side) pick other ports with
# DOITHOAI_LOAD_PORT_BASE (nginx there, the fake Telegram +1, the fake Zalo OA +2, the fake
# Zalo Bot platform +3, workers +11 upward) and DOITHOAI_LOAD_PG_PORT.
PG_PORT = int(os.environ.get("DOITHOAI_LOAD_PG_PORT", "55477"))
NGINX_PORT = int(os.environ.get("DOITHOAI_LOAD_PORT_BASE", "18700"))
FAKE_PORT = NGINX_PORT + 1
FAKE_ZALO_OA_PORT = NGINX_PORT + 2
FAKE_ZALO_BOT_PORT = NGINX_PORT + 3
FIRST_WORKER_PORT = NGINX_PORT + 11
FIRST_RESIDENT_ID = 810_000_001
FIRST_FOLLOWER_ID = 700_000_001
SECRET = "load-test-webhook-secret"
APP_PREFIX = "doithoai-w"
STEPS_PER_PETITION = 12  # with the pick of the ward
# The channels whose sending pace the throughput runs lift (Telegram's budget by setting; the
# web chat has none): phase 1 measures the cores with their residents.
LIFTABLE = ("telegram", "web")
# What the workers log when a reply is dropped or an event fails (bot/channels/…).
LOG_HINTS = (
    "Zalo OA reply not delivered",
    "Zalo Bot reply not delivered",
    "inbox zalo_oa: event",
    "inbox zalo_bot: event",
    "inbox telegram: event",
    "web chat: a turn failed",
)


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


# --durable: what the README's production section recommends (.ci/start-postgres turns the
# three off for the tests' speed; later options win): every commit on the disk, and no JIT for
# these small statements.
PRODUCTION_SETTINGS = " -c fsync=on -c synchronous_commit=on -c full_page_writes=on -c jit=off"


class Postgres:
    """The private cluster of .ci/start-postgres on PG_PORT."""

    def __init__(self, options: str = "") -> None:
        env = {**os.environ, "DOITHOAI_CI_PG_PORT": str(PG_PORT)}
        if options:
            env["DOITHOAI_CI_PG_OPTIONS"] = options
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

    def superuser_url(self) -> str:
        """The cluster's superuser over its unix socket (trusted): for pg_stat_statements."""
        database = self.url.rsplit("/", 1)[1]
        return f"postgresql://postgres@/{database}?host={self.directory}&port={self.port}"

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
    map $http_upgrade $connection_upgrade {{
        default upgrade;
        ''      close;
    }}
    server {{
        listen 127.0.0.1:{port};
        # The web chat's socket stays with the worker it opened on (deploy/nginx.conf).
        location /web/ws {{
            proxy_pass http://doithoai;
            proxy_http_version 1.1;
            proxy_set_header Upgrade $http_upgrade;
            proxy_set_header Connection $connection_upgrade;
            proxy_set_header Host $host;
            proxy_set_header X-Real-IP $remote_addr;
            proxy_connect_timeout 1s;
            proxy_read_timeout 120s;
        }}
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

    def cpu(self) -> float:
        """CPU of nginx: its master and its worker process."""
        master = self.process.pid
        return cpu_seconds(master) + sum(cpu_seconds(child) for child in children_of(master))

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


@dataclass
class Fakes:
    """The fake platforms: Telegram always (its webhook is how the workers are told apart from
    a bot without channels), Zalo OA and Zalo Bot when their residents take part."""

    telegram: LoadTelegram
    zalo_oa: LoadZaloOA | None = None
    zalo_bot: LoadZaloBot | None = None

    def too_many_requests(self) -> dict[str, int]:
        """The 429 answers each fake server gave so far."""
        counts = {"telegram": self.telegram.too_many_requests_sent}
        if self.zalo_oa is not None:
            counts["zalo_oa"] = self.zalo_oa.too_many_requests_sent
        if self.zalo_bot is not None:
            counts["zalo_bot"] = self.zalo_bot.too_many_requests_sent
        return counts

    def too_many_at(self) -> list[tuple[float, str]]:
        """When each 429 was answered (time.monotonic()), and by which fake server."""
        moments = [(at, "telegram") for at in self.telegram.too_many_at]
        for name, fake in (("zalo_oa", self.zalo_oa), ("zalo_bot", self.zalo_bot)):
            if fake is not None:
                moments += [(at, name) for at in fake.too_many_at]
        return sorted(moments)

    def flood_control(self, on: bool, zalo_per_second: float | None) -> None:
        """Telegram's limits (30 a second, 1 a second per chat) and the Zalo servers' assumed
        budget, or none (the throughput runs: the cores are the bound)."""
        if on:
            self.telegram.rate_limit(global_per_second=30, per_chat_per_second=1)
        else:
            self.telegram.no_rate_limit()
        for zalo in (self.zalo_oa, self.zalo_bot):
            if zalo is not None:
                zalo.flood_control(zalo_per_second if on else None)


def start_worker(
    number: int,
    folder: Path,
    database_url: str,
    fakes: Fakes,
    budget: float | None,
    workers: int,
    web_chat: bool,
) -> Worker:
    port = FIRST_WORKER_PORT + number - 1
    log = folder / f"worker-{number}.log"
    env = {
        **os.environ,
        "DATABASE_URL": with_application_name(database_url, f"{APP_PREFIX}{number}"),
        "DOITHOAI_DATA_DIR": str(folder / f"worker-{number}"),
        "TELEGRAM_BOT_TOKEN": fakes.telegram.token,
        "TELEGRAM_API_URL": fakes.telegram.base_url,
        "WEBHOOK_URL": f"http://127.0.0.1:{NGINX_PORT}",
        "WEBHOOK_SECRET": SECRET,
        "WEBHOOK_LISTEN": f"127.0.0.1:{port}",
        # The web chat behind nginx: each resident's own address comes as X-Real-IP.
        "WEB_CHAT": "on" if web_chat else "off",
        "WEB_CHAT_TRUST_PROXY": "on",
        # File links (bot/files.py) at nginx, signed alike by every worker.
        "PUBLIC_URL": f"http://127.0.0.1:{NGINX_PORT}",
        "FILE_LINK_SECRET": "load-test-file-link-secret",
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
    if fakes.zalo_oa is not None:
        oa = fakes.zalo_oa
        env.update(
            ZALO_APP_ID=oa.app_id,
            ZALO_APP_SECRET=oa.app_secret,
            ZALO_OA_SECRET_KEY=oa.oa_secret_key,
            ZALO_API_URL=oa.base_url,
            ZALO_OAUTH_URL=oa.base_url,
        )
    if fakes.zalo_bot is not None:
        env.update(
            ZALO_BOT_TOKEN=fakes.zalo_bot.token,
            ZALO_BOT_API_URL=fakes.zalo_bot.base_url,
            ZALO_BOT_WEBHOOK_URL=f"http://127.0.0.1:{NGINX_PORT}",
            ZALO_BOT_WEBHOOK_SECRET=ZALO_BOT_SECRET,
        )
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


def save_zalo_tokens(engine: Engine, oa: LoadZaloOA) -> None:
    """The OA's first tokens, as ``doithoai zalo`` stores them after the admin's grant."""
    from storage import channel_store
    from storage.types import utc_now
    from storage.unit_of_work import UnitOfWork

    access, refresh, seconds = oa.issue_tokens()
    with UnitOfWork(engine) as uow:
        expires = utc_now() + timedelta(seconds=seconds)
        channel_store.save_tokens(uow, oa.app_id, access, refresh, expires, utc_now())


def handled_updates(engine: Engine) -> Counter[tuple[str, str]]:
    """Ground truth: the updates the database holds as handled (processed_update's claims), by
    (channel, update id)."""
    with engine.connect() as connection:
        rows = connection.execute(text("SELECT channel, update_id FROM processed_update")).all()
    return Counter((str(channel), str(update_id)) for channel, update_id in rows)


def petitions_per_resident(engine: Engine) -> Counter[tuple[str, str]]:
    """Petitions by (channel, the account's external user id)."""
    with engine.connect() as connection:
        rows = connection.execute(
            text(
                "SELECT a.channel, a.external_user_id FROM petition p "
                "JOIN channel_account a ON a.person_id = p.person_id"
            )
        ).all()
    return Counter((str(channel), str(user)) for channel, user in rows)


def inbox_waits(engine: Engine) -> dict[tuple[str, str], tuple[int, float]]:
    """Each stored event's claims and seconds from its arrival to its end, by (channel, event
    id): an event a killed worker held is claimed again when its claim expires."""
    with engine.connect() as connection:
        rows = connection.execute(
            text(
                "SELECT channel, event_id, attempts, "
                "EXTRACT(EPOCH FROM handled_at - received_at) FROM inbox_event "
                "WHERE handled_at IS NOT NULL"
            )
        ).all()
    return {
        (str(channel), str(event)): (int(str(attempts)), float(str(seconds or 0)))
        for channel, event, attempts, seconds in rows
    }


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


class Statements:
    """pg_stat_statements (``--statements``): what the workers asked PostgreSQL, per update."""

    def __init__(self, postgres: Postgres) -> None:
        from storage.engine import make_engine

        self.engine = make_engine(postgres.superuser_url())
        self.sessions = 0
        with self.engine.connect() as connection:
            connection.execute(text("CREATE EXTENSION IF NOT EXISTS pg_stat_statements"))
            connection.commit()

    def reset(self) -> None:
        with self.engine.connect() as connection:
            connection.execute(text("SELECT pg_stat_statements_reset()"))
            connection.commit()
        self.sessions = self._sessions()

    def _sessions(self) -> int:
        """Connections opened to the database so far (each a new server process)."""
        with self.engine.connect() as connection:
            return int(
                connection.execute(
                    text("SELECT sessions FROM pg_stat_database WHERE datname = current_database()")
                ).scalar_one()
            )

    def report(self, updates: int, top: int = 25) -> None:
        """Calls per update in all (COMMIT and BEGIN included) and the busiest statements."""
        with self.engine.connect() as connection:
            rows = connection.execute(
                text(
                    "SELECT s.calls, s.total_exec_time, s.query, s.plans, s.total_plan_time "
                    "FROM pg_stat_statements s "
                    "JOIN pg_roles r ON r.oid = s.userid WHERE r.rolname <> 'postgres' "
                    "ORDER BY s.calls DESC"
                )
            ).all()
        calls = sum(int(row[0]) for row in rows)
        spent = sum(float(row[1]) for row in rows)
        plans = sum(int(row[3]) for row in rows)
        planning = sum(float(row[4]) for row in rows)
        print(
            f"   statements per update: {calls / updates:.2f} (executing them: "
            f"{spent / updates:.3f} ms per update; planned {plans / updates:.2f} times, "
            f"{planning / updates:.3f} ms per update); the most called (calls, plans per update, "
            "ms per call):"
        )
        print(f"   connections opened: {self._sessions() - self.sessions}")
        for count, total, query, planned, _ in rows[:top]:
            one_line = " ".join(str(query).split())
            print(
                f"   {int(count) / updates:6.2f} {int(planned) / updates:5.2f} "
                f"{float(total) / max(1, int(count)):.3f}  {one_line[:140]}"
            )
        costliest = sorted(rows, key=lambda row: float(row[1]) + float(row[4]), reverse=True)
        print("   the costliest (ms of execution and planning per update, calls per update):")
        for count, total, query, _, planning in costliest[: top // 3]:
            one_line = " ".join(str(query).split())
            print(
                f"   {(float(total) + float(planning)) / updates:6.3f} "
                f"{int(count) / updates:6.2f}  {one_line[:140]}"
            )

    def dispose(self) -> None:
        self.engine.dispose()


# -- the phases -----------------------------------------------------------------------------------


@dataclass
class Window:
    """The part of a run while every resident still wrote: from the start until the first
    resident's petition ended. The offered load is the same all through it (every resident
    waiting for an answer or writing the next message), so its rate is what the cores give at
    that load; after it, fewer and fewer residents are left and the cores that several workers
    have wait for the last ones (a fixed set of residents, not a real evening: the tail)."""

    seconds: float
    updates: int  # answered within it
    worker_cpu: float
    postgres_cpu: float
    nginx_cpu: float
    harness_cpu: float

    @property
    def rate(self) -> float:
        return self.updates / self.seconds if self.seconds else 0.0


@dataclass
class Run:
    """What one set of residents did, from ground truth."""

    residents: list[Resident]
    seconds: float
    worker_cpu: float
    postgres_cpu: float
    killed: str | None = None
    harness_cpu: float = 0.0  # this process: the fake servers and the residents
    nginx_cpu: float = 0.0
    each_worker_cpu: list[float] = field(default_factory=list)
    steady: Window | None = None  # while every resident wrote (runs without a kill)

    def latency(self, share: float, channel: str | None = None) -> float:
        ordered = sorted(
            x
            for r in self.residents
            if channel is None or r.channel == channel
            for x in r.latencies
        )
        return ordered[min(len(ordered) - 1, int(share * len(ordered)))] if ordered else 0.0

    @property
    def updates(self) -> int:
        return sum(len(r.sent) for r in self.residents)

    @property
    def rate(self) -> float:
        return self.updates / self.seconds if self.seconds else 0.0

    def channels(self) -> list[str]:
        present = {r.channel for r in self.residents}
        return [channel for channel in CHANNELS if channel in present]


# The harness's event loop is looked at every STALL_TICK seconds; a look late by STALL_SECONDS
# or more is a stall (the platforms' windows: 30 a second, 27 sent, 3 to spare: 0.1 s).
STALL_TICK = 0.01
STALL_SECONDS = 0.05
SHOWN_429 = 5  # the 429 answers of a phase shown with the stalls before them


class HarnessPauses:
    """This process's pauses for its own garbage collection. The fake servers run here: while
    it collects, the requests that arrive wait, and the fake Telegram then counts them together
    in its one-second window. A 0.29 s collection over the residents' and followers' records
    drew a 429 half a second later, at 24 sends a second: the real Telegram does not stop for
    our harness. ``set_heap_aside`` (``gc.freeze``) takes what is built so far out of later
    collections, so each looks at what a phase makes; the longest pause is printed. A
    collection is not the only stall (the cores are shared): ``watch_the_loop`` notes every
    stall of the event loop, whatever its cause."""

    def __init__(self) -> None:
        self.longest = 0.0
        self._started = 0.0
        gc.callbacks.append(self._timed)
        # Stalls of this process's event loop of STALL_SECONDS or more, for whatever reason
        # (a collection, the cores given to other processes): (time.monotonic() at its end,
        # its length). A 429 that follows one may be the harness's bunching (the requests that
        # came during it read together) rather than the workers' pace.
        self.stalls: list[tuple[float, float]] = []
        self._watch: asyncio.Task[None] | None = None

    def close(self) -> None:
        gc.callbacks.remove(self._timed)
        gc.unfreeze()
        if self._watch is not None:
            self._watch.cancel()

    def watch_the_loop(self) -> None:
        if self._watch is None:
            self._watch = asyncio.get_running_loop().create_task(self._watching())

    async def _watching(self) -> None:
        while True:
            before = time.monotonic()
            await asyncio.sleep(STALL_TICK)
            now = time.monotonic()
            if now - before - STALL_TICK >= STALL_SECONDS:
                self.stalls.append((now, now - before - STALL_TICK))

    def stalls_before(self, moment: float, seconds: float = 2.0) -> list[tuple[float, float]]:
        return [(at, length) for at, length in self.stalls if moment - seconds <= at <= moment]

    def _timed(self, phase: str, info: dict[str, int]) -> None:
        if phase == "start":
            self._started = time.perf_counter()
        else:
            self.longest = max(self.longest, time.perf_counter() - self._started)

    def set_heap_aside(self) -> None:
        gc.collect()
        gc.freeze()
        self.longest = 0.0


@dataclass
class Rig:
    folder: Path
    postgres: Postgres
    engine: Engine
    ward: Any
    fakes: Fakes
    http: aiohttp.ClientSession  # the Zalo servers' webhook calls
    channels: tuple[str, ...]
    workers: list[Worker] = field(default_factory=list)
    nginx: Nginx | None = None
    next_resident: int = 0
    statements: Statements | None = None
    pauses: HarnessPauses = field(default_factory=HarnessPauses)

    @property
    def fake(self) -> LoadTelegram:
        return self.fakes.telegram

    def _start(self, number: int, budget: float | None, setting: int) -> Worker:
        return start_worker(
            number,
            self.folder,
            self.postgres.url,
            self.fakes,
            budget,
            setting,
            web_chat="web" in self.channels,
        )

    async def start_workers(
        self, count: int, budget: float | None, setting: int | None = None
    ) -> None:
        """``count`` workers, each told that ``setting`` workers (default ``count``) share the
        database (``WORKERS``)."""
        await self.stop_workers()
        bot = self.fakes.zalo_bot
        webhooks = bot.setwebhook_calls() if bot is not None else 0
        self.workers = [self._start(n, budget, setting or count) for n in range(1, count + 1)]
        self.nginx = Nginx(self.folder, [w.port for w in self.workers])
        await wait_healthy(self.workers)
        # Each worker sets the webhooks when it starts; wait for the last one.
        await self.fake.wait_for(lambda: len(self.fake.calls("setWebhook")) >= count, 30)
        if bot is not None:
            await self.fake.wait_for(lambda: bot.setwebhook_calls() >= webhooks + count, 30)

    async def restart(self, worker: Worker, budget: float | None) -> None:
        index = self.workers.index(worker)
        again = self._start(worker.number, budget, len(self.workers))
        self.workers[index] = again
        await wait_healthy([again])

    async def stop_workers(self) -> None:
        await asyncio.gather(*(asyncio.to_thread(worker.stop) for worker in self.workers))
        self.workers = []
        if self.nginx is not None:
            self.nginx.stop()
            self.nginx = None
        self.fake.clear_requests()

    async def quieten(self, quiet: float = 0.15, longest: float = 60.0) -> float:
        """Wait until the workers are quiet (under ``quiet`` CPU seconds a second between them,
        over a second): what the warm-up started is finished (each worker builds its language
        data in a thread of its own once a resident begins a petition: a start-up cost, not
        one of the measured updates). Seconds waited."""
        began = time.monotonic()
        while time.monotonic() - began < longest:
            before, _ = self.cpu()
            await asyncio.sleep(1.0)
            after, _ = self.cpu()
            if after - before < quiet:
                break
        return time.monotonic() - began

    async def idle_cpu(self, seconds: float = 3.0) -> tuple[float, float]:
        """The workers' and PostgreSQL's CPU seconds a second while nobody writes."""
        before, before_postgres = self.cpu()
        await asyncio.sleep(seconds)
        after, after_postgres = self.cpu()
        return (after - before) / seconds, (after_postgres - before_postgres) / seconds

    def cpu(self) -> tuple[float, float]:
        return sum(w.cpu() for w in self.workers), self.postgres.cpu()

    def logged(self) -> Counter[str]:
        """Lines of the workers' logs that say a reply or an event failed: a hint at the
        causes of what the ground truth shows, never counted as the truth itself."""
        found: Counter[str] = Counter()
        for log in self.folder.glob("worker-*.log"):
            for line in log.read_text(errors="replace").splitlines():
                for hint in LOG_HINTS:
                    if hint in line:
                        found[hint] += 1
        return found

    def resident(
        self, number: int, think: float, timeout: float, channels: tuple[str, ...] = ()
    ) -> Resident:
        """Resident ``number``, on the channels (default: all the rig's) in turn."""
        user = FIRST_RESIDENT_ID + number
        channels = channels or self.channels
        channel = channels[number % len(channels)]
        base = f"http://127.0.0.1:{NGINX_PORT}"
        options: dict[str, Any] = {"think": think, "timeout": timeout}
        if channel == "zalo_oa":
            assert self.fakes.zalo_oa is not None
            url = base + "/zalo/oa"
            return ZaloOAResident(self.fakes.zalo_oa, self.http, url, number, user, **options)
        if channel == "zalo_bot":
            assert self.fakes.zalo_bot is not None
            url = base + "/zalo/bot"
            return ZaloBotResident(self.fakes.zalo_bot, self.http, url, number, user, **options)
        if channel == "web":
            # Each page from its own address (127.1.0.1, 127.1.0.2, …): the web chat limits
            # connections and frames per address.
            address = f"127.1.{number // 250 % 250}.{number % 250 + 1}"
            url = f"ws://127.0.0.1:{NGINX_PORT}/web/ws"
            return WebResident(url, address, number, user, **options)
        return TelegramResident(self.fake, number, user, **options)

    def residents(
        self, count: int, think: float, timeout: float, channels: tuple[str, ...] = ()
    ) -> list[Resident]:
        made = [
            self.resident(self.next_resident + n, think, timeout, channels) for n in range(count)
        ]
        self.next_resident += count
        return made

    async def settle(
        self, expected: set[tuple[str, str]], timeout: float = 60.0
    ) -> Counter[tuple[str, str]]:
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
        killed.append(f"{victim.name} at {time.monotonic() - started:.1f} s")

    def counters() -> tuple[float, float, float, float]:
        """CPU seconds so far: the workers, PostgreSQL, nginx, this process."""
        workers, postgres = rig.cpu()
        nginx = rig.nginx.cpu() if rig.nginx is not None else 0.0
        return workers, postgres, nginx, time.process_time()

    steady: list[Window] = []

    async def until_the_first_is_done() -> None:
        while not any(r.finished or r.stuck_at is not None for r in residents):
            await asyncio.sleep(0.05)
        spent = [after - before for after, before in zip(counters(), begin, strict=True)]
        answered = sum(len(r.latencies) for r in residents)
        steady.append(Window(time.monotonic() - started, answered, *spent))

    begin = counters()
    each_before = [w.cpu() for w in rig.workers]
    started = time.monotonic()
    task = asyncio.create_task(killer()) if kill_at is not None else None
    watch = asyncio.create_task(until_the_first_is_done()) if kill_at is None else None
    await asyncio.gather(*(resident.petition() for resident in residents))
    seconds = time.monotonic() - started
    if task is not None and not task.done():
        task.cancel()
    if watch is not None:
        await watch
    workers, postgres, nginx, harness = (
        after - before for after, before in zip(counters(), begin, strict=True)
    )
    return Run(
        residents,
        seconds,
        workers,
        postgres,
        killed[0] if killed else None,
        harness,
        each_worker_cpu=[
            w.cpu() - before for w, before in zip(rig.workers, each_before, strict=True)
        ],
        nginx_cpu=nginx,
        steady=steady[0] if steady else None,
    )


@dataclass
class Integrity:
    """The ground truth of one channel's residents in a run (or the totals: channel "all")."""

    channel: str
    residents: int
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
    # Messages a resident got twice: on Telegram, beyond the rows the outbox holds as sent to
    # that chat (replies go through the outbox on PostgreSQL); elsewhere, the same text twice.
    replies_doubled: int = 0
    doubled_sample: list[str] = field(default_factory=list)  # the repeated texts, shortened
    too_many_requests: int = 0  # 429 answers of the platform (web: "rate_limited" frames)
    reconnects: int = 0  # web pages that lost their socket and opened it again
    claimed_again: int = 0  # inbox events claimed more than once (held by a killed worker)
    longest_inbox: float = 0.0  # seconds from an event's arrival to its end, at most
    p50: float = 0.0
    p99: float = 0.0

    def failures(self, phase: str, doubled_allowed: int) -> list[str]:
        found = []
        where = f"{phase}, {self.channel}"
        if self.lost:
            found.append(f"{where}: {self.lost} updates lost")
        if self.handled_twice or self.petitions_doubled:
            found.append(f"{where}: updates handled twice")
        if self.unfinished:
            found.append(
                f"{where}: {self.unfinished} residents did not finish ({self.answer_lost} "
                "answers lost)"
            )
        if self.replies_doubled > doubled_allowed:
            found.append(f"{where}: {self.replies_doubled} replies sent twice")
        if self.too_many_requests:
            found.append(f"{where}: {self.too_many_requests} × 429")
        return found


def repeated_texts(resident: Resident) -> list[str]:
    """The beginnings of texts a chat got more than once."""
    counts = Counter(message.text for message in resident.seen())
    return [text[:40] for text, count in counts.items() if count > 1]


def reply_rows_sent(engine: Engine, chats: list[str]) -> dict[str, int] | None:
    """How many outbox rows (queued replies, and pushes such as "petition received") the
    outbox holds as sent to each Telegram chat's person; None if it holds no Telegram reply
    (the workers send their replies directly)."""
    deadline = time.monotonic() + 15
    with engine.connect() as connection:
        if not connection.execute(
            text(
                "SELECT 1 FROM outbox_message WHERE kind = 'reply' AND channel = 'telegram' LIMIT 1"
            )
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
            {"chats": chats},
        ).all()
    return {str(chat): int(str(count)) for chat, count in rows}


async def integrity(
    rig: Rig, run: Run, too_many: dict[str, int] | None = None
) -> dict[str, Integrity]:
    """Each channel's figures, and their totals under "all"."""
    expected = {(r.channel, u) for r in run.residents for u in r.sent}
    # A Zalo event held by a killed worker is taken over when its claim expires (the inbox's
    # lease): wait long enough to tell a late event from a lost one.
    handled = await rig.settle(expected, timeout=150.0 if run.killed else 60.0)
    petitions = await asyncio.to_thread(petitions_per_resident, rig.engine)
    telegram = [r for r in run.residents if r.channel == "telegram"]
    sent_rows = await asyncio.to_thread(reply_rows_sent, rig.engine, [r.account for r in telegram])
    acknowledged_telegram = {str(u) for u in rig.fake.acknowledged()}
    waits = await asyncio.to_thread(inbox_waits, rig.engine)
    too_many = too_many or {}

    def doubled(r: Resident) -> int:
        if r.channel == "telegram" and sent_rows is not None:
            # Every reply is one message here (codes as text, no long text): a message beyond
            # the rows marked sent was sent twice (a sender killed between a send and its
            # record).
            return max(0, len(r.seen()) - sent_rows.get(r.account, 0))
        return r.repeated()

    def acknowledged(r: Resident) -> int:
        if r.channel == "telegram":
            return len(set(r.sent) & acknowledged_telegram)
        return len(set(r.sent) & r.acknowledged)

    checks: dict[str, Integrity] = {}
    for channel in [*run.channels(), "all"]:
        mine = [r for r in run.residents if channel in ("all", r.channel)]
        updates = [(r.channel, u) for r in mine for u in r.sent]
        stuck = [r for r in mine if r.stuck_at]
        checks[channel] = Integrity(
            channel=channel,
            residents=len(mine),
            sent=len(updates),
            acknowledged=sum(acknowledged(r) for r in mine),
            lost=sum(1 for u in updates if handled[u] == 0),
            handled_twice=sum(1 for u in updates if handled[u] > 1),
            petitions_doubled=sum(1 for r in mine if petitions[r.channel, r.account] > 1),
            unfinished=len(stuck),
            stuck_steps=Counter(r.stuck_at for r in stuck if r.stuck_at),
            stuck_sample=[f"{r.channel} {r.stuck_at}: {r.last_said!r}" for r in stuck][:3],
            answer_lost=sum(
                1
                for r in stuck
                if r.sent
                and handled[r.channel, r.sent[-1]] > 0
                and len(r.seen()) == r.seen_when_stuck
            ),
            answered_late=sum(1 for r in stuck if len(r.seen()) > r.seen_when_stuck),
            replies_doubled=sum(doubled(r) for r in mine),
            doubled_sample=[
                f"{r.channel} {r.account}: {len(r.seen())} messages; repeated: {repeated_texts(r)}"
                for r in mine
                if doubled(r)
            ][:3],
            too_many_requests=(
                sum(too_many.values()) if channel == "all" else too_many.get(channel, 0)
            )
            + sum(r.rate_limited for r in mine),
            reconnects=sum(getattr(r, "reconnects", 0) for r in mine),
            claimed_again=sum(1 for u in updates if waits.get(u, (0, 0.0))[0] > 1),
            longest_inbox=max((waits.get(u, (0, 0.0))[1] for u in updates), default=0.0),
            p50=run.latency(0.5, None if channel == "all" else channel),
            p99=run.latency(0.99, None if channel == "all" else channel),
        )
    for r in run.residents:
        if r.channel != "telegram" and doubled(r):
            check = checks[r.channel]
            check.doubled_sample.extend(
                await asyncio.to_thread(
                    doubled_rows, rig.engine, r.channel, r.account, repeated_texts(r)
                )
            )
    return checks


def doubled_rows(engine: Engine, channel: str, chat_id: str, texts: list[str]) -> list[str]:
    """Where a text a chat got twice came from: the outbox rows whose text begins with it (one
    row sent twice, or two rows), and the chat's inbox events handled more than once."""
    from bot.channels.plain_text import plain

    lines: list[str] = []
    with engine.connect() as connection:
        rows = connection.execute(
            text(
                "SELECT id, idempotency_key, kind, attempts, pieces_sent, claimed_by, created_at, "
                "sent_at, data FROM outbox_message WHERE channel = :channel AND chat_id = :chat "
                "ORDER BY id"
            ),
            {"channel": channel, "chat": chat_id},
        ).all()
        for row in rows:
            said = plain(str((row.data or {}).get("text", "")))  # as the resident read it
            if any(said.startswith(prefix[:30].strip()) for prefix in texts):
                lines.append(
                    f"  outbox row {row.id} {row.idempotency_key} ({row.kind}): attempts "
                    f"{row.attempts}, pieces sent {row.pieces_sent}, by {row.claimed_by}, "
                    f"queued {row.created_at:%H:%M:%S.%f}, sent "
                    f"{row.sent_at and f'{row.sent_at:%H:%M:%S.%f}'}"
                )
        events = connection.execute(
            text(
                "SELECT event_id, attempts, received_at, handled_at, failure FROM inbox_event "
                "WHERE channel = :channel AND chat_id = :chat AND attempts > 1 ORDER BY id"
            ),
            {"channel": channel, "chat": chat_id},
        ).all()
        for event in events:
            lines.append(
                f"  inbox event {event.event_id}: attempts {event.attempts}, received "
                f"{event.received_at:%H:%M:%S.%f}, handled "
                f"{event.handled_at and f'{event.handled_at:%H:%M:%S.%f}'}, failure {event.failure}"
            )
    return lines


async def close_residents(run: Run) -> None:
    await asyncio.gather(*(r.close() for r in run.residents))


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


def everything_spent(spent: Run | Window) -> float:
    """CPU seconds of everything the run measured: workers, PostgreSQL, nginx, the harness."""
    return spent.worker_cpu + spent.postgres_cpu + spent.nginx_cpu + spent.harness_cpu


def print_run(title: str, run: Run, checks: dict[str, Integrity] | None = None) -> None:
    print(f"-- {title} (at {time.monotonic() - BEGAN:.0f} s)")
    print(
        f"   residents {len(run.residents)}, updates {run.updates} in {run.seconds:.1f} s: "
        f"{run.rate:.1f} updates/s"
    )
    if run.updates:
        per = 1000 / run.updates
        print(
            f"   CPU per update: workers {per * run.worker_cpu:.2f} ms, "
            f"PostgreSQL {per * run.postgres_cpu:.2f} ms (nginx {per * run.nginx_cpu:.2f} ms, "
            f"the fake servers and residents {per * run.harness_cpu:.2f} ms)"
        )
        if run.seconds:
            print(
                f"   cores busy: workers {run.worker_cpu / run.seconds:.2f}, "
                f"PostgreSQL {run.postgres_cpu / run.seconds:.2f}, "
                f"nginx {run.nginx_cpu / run.seconds:.2f}, the fake servers and residents "
                f"{run.harness_cpu / run.seconds:.2f} (one process, one core at most)"
            )
            if len(run.each_worker_cpu) > 1:
                print(
                    "   cores busy, each worker: "
                    + ", ".join(f"{spent / run.seconds:.2f}" for spent in run.each_worker_cpu)
                )
        print(
            f"   update to answer: p50 {1000 * run.latency(0.5):.0f} ms, "
            f"p99 {1000 * run.latency(0.99):.0f} ms"
        )
    steady = run.steady
    if steady is not None and steady.updates and steady.seconds:
        per = 1000 / steady.updates
        print(
            f"   while all {len(run.residents)} residents wrote (until the first was done, "
            f"{steady.seconds:.1f} s): {steady.updates} updates answered, {steady.rate:.1f} "
            f"updates/s; CPU per update: workers {per * steady.worker_cpu:.2f} ms, PostgreSQL "
            f"{per * steady.postgres_cpu:.2f} ms, nginx {per * steady.nginx_cpu:.2f} ms, the "
            f"fake servers and residents {per * steady.harness_cpu:.2f} ms; cores busy "
            f"{everything_spent(steady) / steady.seconds:.2f}"
        )
    if run.killed:
        print(f"   SIGKILL: {run.killed}")
    if checks is None:
        return
    print(
        "   channel    residents finished updates  acked   lost  twice  answer-lost  "
        "replies-twice  429  p50/p99 ms"
    )
    for check in checks.values():
        print(
            f"   {check.channel:<10} {check.residents:>9} {check.residents - check.unfinished:>8}"
            f" {check.sent:>7} {check.acknowledged:>6} {check.lost:>6} "
            f"{check.handled_twice + check.petitions_doubled:>6} {check.answer_lost:>12} "
            f"{check.replies_doubled:>14} {check.too_many_requests:>4}  "
            f"{1000 * check.p50:.0f}/{1000 * check.p99:.0f}"
        )
    total = checks["all"]
    print(
        "   (lost: sent, never handled in the database; twice: handled twice or two petitions; "
        "answer-lost: handled, its answer never came; replies-twice: on Telegram beyond the "
        "outbox's rows sent, elsewhere the same text twice; 429: the platform's rate-limit "
        'answers, on the web chat its "too fast" frames)'
    )
    if total.reconnects:
        print(f"   web pages that opened their socket again: {total.reconnects}")
    for check in checks.values():
        if check.channel == "all":
            continue
        if check.claimed_again:
            print(
                f"   {check.channel}: {check.claimed_again} events claimed again (their worker "
                f"killed); the longest from arrival to handled: {check.longest_inbox:.1f} s"
            )
        if check.unfinished:
            print(
                f"   {check.channel}: {check.unfinished} did not finish {dict(check.stuck_steps)}"
                f"; {check.answered_late} got an answer after giving up"
            )
        if check.channel == "web" and check.lost:
            print(
                f"   web: {check.lost} frames sent on a socket whose worker died were never "
                "handled (the page does not send a frame again after it reconnects)"
            )
        for line in check.stuck_sample:
            print(f"     e.g. stuck at {line}")
        for line in check.doubled_sample:
            print(f"     e.g. {line}")


async def main_async(args: argparse.Namespace) -> int:
    failures: list[str] = []
    folder = Path(tempfile.mkdtemp(prefix="doithoai-load-"))
    print(f"== PostgreSQL on {PG_PORT}, nginx on {NGINX_PORT}, logs in {folder}", flush=True)
    options = PRODUCTION_SETTINGS if args.durable else ""
    if args.statements:
        options += (
            " -c shared_preload_libraries=pg_stat_statements"
            " -c pg_stat_statements.track_planning=on"
        )
    print(
        "== PostgreSQL "
        + (
            f"as in production ({PRODUCTION_SETTINGS.strip()})"
            if args.durable
            else "as for the tests (fsync, synchronous_commit and full_page_writes off)"
        ),
        flush=True,
    )
    postgres = await asyncio.to_thread(Postgres, options)
    try:
        engine, ward = await asyncio.to_thread(seed, postgres.url, args.followers)
        with engine.connect() as connection:
            settings = connection.execute(
                text(
                    "SELECT name, setting FROM pg_settings WHERE name IN ('fsync', "
                    "'synchronous_commit', 'full_page_writes', 'jit', 'shared_buffers') "
                    "ORDER BY name"
                )
            ).all()
        print("== " + ", ".join(f"{name}={setting}" for name, setting in settings), flush=True)
        async with contextlib.AsyncExitStack() as stack:
            fakes = Fakes(await stack.enter_async_context(LoadTelegram()))
            if "zalo_oa" in args.channels:
                fakes.zalo_oa = LoadZaloOA(FAKE_ZALO_OA_PORT)
                await fakes.zalo_oa.start()
                stack.push_async_callback(fakes.zalo_oa.stop)
                await asyncio.to_thread(save_zalo_tokens, engine, fakes.zalo_oa)
            if "zalo_bot" in args.channels:
                fakes.zalo_bot = LoadZaloBot(FAKE_ZALO_BOT_PORT)
                await fakes.zalo_bot.start()
                stack.push_async_callback(fakes.zalo_bot.stop)
            http = await stack.enter_async_context(
                aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=100))
            )
            rig = Rig(folder, postgres, engine, ward, fakes, http, tuple(args.channels))
            stack.callback(rig.pauses.close)
            if args.statements:
                rig.statements = await asyncio.to_thread(Statements, postgres)
                stack.callback(rig.statements.dispose)
            print(f"== channels: {', '.join(args.channels)} (residents take them in turn)")
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
    # 1. Throughput: the cores are the bound (no flood control, the workers' budget raised).
    rig.fakes.flood_control(False, None)
    # (workers, WORKERS): one worker alone, then (with --inbox-alone) one worker with the
    # settings of several (the inbox, the accounts memo checked, its share of the budget): its
    # CPU per update is what the code of several workers costs without their contention for
    # the cores.
    shapes = [(1, 1)]
    if args.inbox_alone and args.workers > 1:
        shapes.append((1, args.workers))
    if args.workers > 1:
        shapes.append((args.workers, args.workers))
    # Zalo's replies are paced by the workers themselves (30 a second, 1 a second per chat,
    # bot/channels/registry.py) with no setting to lift it as TELEGRAM_MESSAGES_PER_SECOND is
    # lifted here: with Zalo residents the pace, not the cores, would be measured. Zalo's
    # residents take part in phase 2.
    fast = tuple(c for c in rig.channels if c in LIFTABLE) or rig.channels
    if fast != rig.channels:
        print(f"== phase 1 with the channels whose pace can be lifted: {', '.join(fast)}")
    # On a shared machine one run's rate moves by a fifth or more (other machines' work on
    # the same host): with --repeat N, N rounds of every shape, each round's ratio printed,
    # and their median.
    ratios: list[float] = []
    steady_ratios: list[float] = []
    for round_number in range(1, args.repeat + 1):
        if args.repeat > 1:
            print(f"== phase 1, round {round_number} of {args.repeat}")
        runs = await throughput_round(rig, args, shapes, fast, failures)
        one, many = runs[1, 1], runs[args.workers, args.workers]
        if (1, args.workers) in runs:
            alone = runs[1, args.workers]
            per = 1000 / alone.updates
            print(
                f"== CPU per update of one worker with WORKERS={args.workers} (the code of "
                f"several workers, no contention): workers {per * alone.worker_cpu:.2f} ms, "
                f"PostgreSQL {per * alone.postgres_cpu:.2f} ms; with WORKERS=1: "
                f"{1000 * one.worker_cpu / one.updates:.2f} ms, "
                f"{1000 * one.postgres_cpu / one.updates:.2f} ms"
            )
        project(one, many, runs.get((1, args.workers)), args.workers)
        ceiling(one.steady or one, many.steady or many, args.workers)
        ratios.append(many.rate / one.rate)
        print(
            f"== updates/s with {args.workers} workers against 1, whole runs: {many.rate:.1f} / "
            f"{one.rate:.1f} = {ratios[-1]:.2f}",
            flush=True,
        )
        if one.steady is not None and many.steady is not None and one.steady.rate:
            steady_ratios.append(many.steady.rate / one.steady.rate)
            print(
                f"== updates/s with {args.workers} workers against 1, while all "
                f"{args.residents} residents wrote: {many.steady.rate:.1f} / "
                f"{one.steady.rate:.1f} = {steady_ratios[-1]:.2f}",
                flush=True,
            )
    for label, found in (("whole runs", ratios), ("while all residents wrote", steady_ratios)):
        if len(found) > 1:
            print(
                f"== updates/s with {args.workers} workers against 1, {label}, median of "
                f"{len(found)} rounds: {statistics.median(found):.2f} "
                f"({', '.join(f'{ratio:.2f}' for ratio in found)})",
                flush=True,
            )
    if args.throughput_only:
        return

    # 2. A worker killed while residents write, the platforms' limits on.
    rig.pauses.watch_the_loop()  # read in phases 2 and 3 only: phase 1 measures the cores
    rig.fakes.flood_control(True, args.zalo_per_second)
    before_429 = rig.fakes.too_many_requests()
    await rig.start_workers(args.workers, budget=args.budget)
    logged_before = await asyncio.to_thread(rig.logged)
    residents = rig.residents(args.residents, think=args.think, timeout=40.0)
    rig.pauses.set_heap_aside()
    began = time.monotonic()
    run = await drive(rig, residents, kill_at=0.5)
    after_429 = rig.fakes.too_many_requests()
    too_many = {name: after_429[name] - before_429[name] for name in after_429}
    check = await integrity(rig, run, too_many)
    await close_residents(run)
    limits = "Telegram's limits" + (
        f", Zalo's assumed {args.zalo_per_second:g} a second"
        if args.zalo_per_second and {"zalo_oa", "zalo_bot"} & set(args.channels)
        else ""
    )
    print_run(f"{args.workers} workers, one killed half way, {limits}", run, check)
    assert rig.nginx is not None
    print(f"   requests nginx passed to another worker: {rig.nginx.retried()}", flush=True)
    print(f"   this process's longest pause for garbage collection: {rig.pauses.longest:.3f} s")
    harness_stalls(rig, began)
    logged = await asyncio.to_thread(rig.logged)
    hints = {hint: logged[hint] - logged_before[hint] for hint in LOG_HINTS}
    if any(hints.values()):
        said = ", ".join(f"«{hint}» {count}" for hint, count in hints.items() if count)
        print(f"   the workers logged (a hint at causes, not counted): {said}", flush=True)
    collect("worker killed", check, failures, killed=True)

    # 3. The sender's holder killed half way through an invitation.
    killed = next((w for w in rig.workers if not w.alive()), None)
    if killed is not None:
        await rig.restart(killed, args.budget)
    before_429 = rig.fakes.too_many_requests()
    rig.pauses.set_heap_aside()
    began = time.monotonic()
    # The one elected sender sends at the bot's budget (30 a second); the timeout leaves room.
    timeout = 1.5 * args.followers / ((args.budget or 30) / args.workers) + 120
    broadcast = await invitation(rig, args.followers, timeout)
    after_429 = rig.fakes.too_many_requests()
    by_platform = {name: after_429[name] - before_429[name] for name in after_429}
    invitation_429 = sum(by_platform.values())
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
    print(
        f"   429 answers: {invitation_429}"
        + (f" { ({k: v for k, v in by_platform.items() if v}) }" if invitation_429 else ""),
        flush=True,
    )
    if broadcast.lost:
        failures.append(f"{broadcast.lost} followers without the invitation")
    if broadcast.doubled > broadcast.in_flight_allowance:
        failures.append(f"{broadcast.doubled} followers got the invitation twice")
    if invitation_429:
        failures.append(f"{invitation_429} × 429 during the invitation")
    print(f"   followers still waiting at the kill: {broadcast.left_at_kill}")
    print(f"   this process's longest pause for garbage collection: {rig.pauses.longest:.3f} s")
    harness_stalls(rig, began)
    if takeover is None and broadcast.left_at_kill:
        failures.append("the sender was never taken over")


def harness_stalls(rig: Rig, began: float) -> None:
    """This process's three longest stalls in a phase and, for each 429 a fake server answered
    in it (five at most), the stalls of the two seconds before (the fake servers run here:
    requests that arrive during a stall are counted together in the platform's one-second
    window)."""
    longest = sorted(
        ((length, at) for at, length in rig.pauses.stalls if at >= began), reverse=True
    )[:3]
    print(
        "   this process's longest stalls (its event loop late): "
        + (", ".join(f"{length:.3f} s at {at - began:.1f} s" for length, at in longest) or "none"),
        flush=True,
    )
    moments = [(at, server) for at, server in rig.fakes.too_many_at() if at >= began]
    for at, server in moments[:SHOWN_429]:
        before = rig.pauses.stalls_before(at)
        stalls = ", ".join(
            f"{length:.3f} s ending {at - end:.2f} s before" for end, length in before
        )
        print(
            f"   a 429 from the fake {server} at {at - began:.2f} s; this process's stalls "
            f"in the 2 s before: {stalls or 'none'}",
            flush=True,
        )
    if len(moments) > SHOWN_429:
        print(f"   … and {len(moments) - SHOWN_429} more 429 answers", flush=True)


async def throughput_round(
    rig: Rig,
    args: argparse.Namespace,
    shapes: list[tuple[int, int]],
    fast: tuple[str, ...],
    failures: list[str],
) -> dict[tuple[int, int], Run]:
    """One run of each shape (workers, WORKERS), the cores the bound: each after a warm-up."""
    runs: dict[tuple[int, int], Run] = {}
    for count, setting in shapes:
        await rig.start_workers(count, budget=100_000, setting=setting)
        # Warm-up, not measured: each worker's first petitions load what a turn needs (the
        # syllable inventory, the gazetteer, the restoration table, the petition index:
        # seconds of CPU once per process, some in a thread of their own, waited for). Any
        # worker may take any update, so each worker needs several residents' worth of updates
        # to have met every step; four residents a worker.
        warm = rig.residents(4 * count, think=0.0, timeout=60.0, channels=fast)
        await close_residents(await drive(rig, warm))
        await rig.quieten()
        idle, idle_postgres = await rig.idle_cpu()
        spies = profile(rig.workers, args.profile, count, setting)
        measured = rig.residents(args.residents, think=0.0, timeout=60.0, channels=fast)
        if rig.statements is not None:
            await asyncio.to_thread(rig.statements.reset)
        run = await drive(rig, measured)
        end_profile(spies)
        if rig.statements is not None:  # before the checks' own statements
            await asyncio.to_thread(rig.statements.report, run.updates)
        check = await integrity(rig, run)
        await close_residents(run)
        shape = f"{count} worker(s)" + (
            f", WORKERS={setting} (through the inbox)" if setting != count else ""
        )
        print_run(f"throughput, {shape}", run, check)
        busy = run.worker_cpu - idle * run.seconds
        print(
            f"   the workers' CPU when idle (polling the inbox and the outbox, the sender's "
            f"election): {1000 * idle:.0f} ms a second; without it "
            f"{1000 * busy / run.updates:.2f} ms per update; PostgreSQL's meanwhile "
            f"{1000 * idle_postgres:.0f} ms a second"
        )
        collect(f"throughput {shape}", check, failures)
        runs[count, setting] = run
    return runs


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


def ceiling(one: Run | Window, many: Run | Window, workers: int) -> None:
    """The most this machine could give with every core busy: its cores, each second, divided
    by the CPU an update of the several workers' run took of everything on it (the workers,
    PostgreSQL, nginx, and this process's fake servers and residents, which a real deployment
    does not run beside its workers), against the one worker's measured rate. Of the windows
    while every resident wrote, where the runs have them."""
    cores = os.cpu_count() or 1
    spent = everything_spent(many)
    if not (many.updates and spent and one.rate):
        return
    most = cores * many.updates / spent
    each = 1000 * spent / many.updates
    print(
        f"== this machine's ceiling: {cores} cores all busy, at the {each:.2f} ms of CPU an "
        f"update took of everything here with {workers} workers: at most "
        f"{most:.0f} updates/s, {most / one.rate:.2f} times one worker (measured: "
        f"{many.rate / one.rate:.2f}, {many.rate / most:.0%} of the ceiling)"
    )
    # The ratio's bound were three workers to cost, of everything here, no more an update than
    # one: the one worker's run already keeps its own core, PostgreSQL's and the harness's share
    # busy, so the cores left over cap the ratio however cheap the several workers' path is.
    alone = everything_spent(one)
    if one.updates and alone and one.seconds:
        busy = alone / one.seconds
        print(
            f"== and were an update with {workers} workers to cost what it did with one "
            f"({1000 * alone / one.updates:.2f} ms of everything here; the one worker's run kept "
            f"{busy:.2f} cores busy): at most {cores / busy:.2f} times one worker; "
            f"{workers} workers paid {each - 1000 * alone / one.updates:+.2f} ms an update more"
        )


def profile(
    workers: list[Worker], folder: Path | None, count: int, setting: int
) -> list[subprocess.Popen[bytes]]:
    """py-spy attached to each worker (collapsed stacks of the thread holding the GIL: what
    costs CPU, not the threads waiting for PostgreSQL)."""
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
                "--gil",
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


def collect(
    phase: str, checks: dict[str, Integrity], failures: list[str], *, killed: bool = False
) -> None:
    """The failures of a phase, channel by channel. A resident left without an answer is one,
    where a worker was killed too: a turn's replies are to be queued in the outbox with its
    commit (PostgreSQL, issue 12), so a kill after the commit takes none with it; where a
    channel still sends its replies from the turn, a kill between the commit and the send
    loses them, and that fails the run. A reply sent twice is allowed once per channel at a
    kill (the piece in flight: no platform here has an idempotency key)."""
    for channel, check in checks.items():
        if channel != "all":
            failures.extend(check.failures(phase, doubled_allowed=1 if killed else 0))


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
    parser.add_argument(
        "--repeat",
        type=int,
        default=1,
        help="rounds of phase 1 (one worker, then several), each ratio printed and the median",
    )
    parser.add_argument(
        "--channels",
        type=lambda value: [name.strip() for name in value.split(",") if name.strip()],
        default=list(CHANNELS),
        help=f"the residents' channels, taken in turn (default: {','.join(CHANNELS)})",
    )
    parser.add_argument(
        "--think",
        type=float,
        default=1.0,
        help="seconds a resident reads each answer in phase 2 (less: more turns under way at "
        "the kill)",
    )
    parser.add_argument(
        "--zalo-per-second",
        type=float,
        default=30.0,
        help="the fake Zalo servers' budget of messages a second in phases 2 and 3, 429 above "
        "(Zalo publishes no figure; 0: none)",
    )
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
        "--durable",
        action="store_true",
        help="PostgreSQL with the production settings (fsync, synchronous_commit, "
        "full_page_writes on, jit off) instead of the tests' (fsync and commits not waited for)",
    )
    parser.add_argument(
        "--statements",
        action="store_true",
        help="PostgreSQL with pg_stat_statements: phase 1 prints the workers' statements per "
        "update and the most called ones",
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
    unknown = set(args.channels) - set(CHANNELS)
    if unknown or not args.channels:
        parser.error(f"--channels: choose among {', '.join(CHANNELS)}")
    if args.short:
        args.residents, args.followers = 30, 300
    return args


def main(argv: list[str] | None = None) -> int:
    return asyncio.run(main_async(parse(argv)))


if __name__ == "__main__":
    sys.exit(main())
