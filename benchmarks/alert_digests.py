"""C6 at city scale (issue 12, item 3): the officials' deadline digests over many open petitions.

Run by hand::

    .venv/bin/python -m benchmarks.alert_digests [--petitions 1000000] [--database-url URL]

Prints; asserts nothing. Without ``--database-url`` a SQLite file in a temporary directory is
used; with a PostgreSQL address the schema ``public`` of that database is DROPPED and rebuilt
(use a throw-away cluster: ``DOITHOAI_CI_PG_PORT=55474 bash .ci/start-postgres``). Seeding a
million petitions takes minutes: ``--reuse DIR`` keeps the SQLite file in DIR (or, with a
PostgreSQL address, a note in DIR that the database is seeded) and measures the next runs on
the same database, brought to the head migration first (a new migration's back-fill runs there
and is timed). After seeding or migrating, PostgreSQL gets ``VACUUM ANALYZE``: what autovacuum
does after a bulk load in a deployment (statistics, and the visibility map for index-only scans).

Seeded (timed and printed apart): a city with 20 departments and 168 wards of 3 agencies each;
910 officials (the city's head and office, one officer per agency, each ward's head and office,
a second office official in 48 wards); 2,016 sessions (most concluded, some held and waiting for
conclusions, some drafts); N open petitions: 85 % assigned to an agency (of their ward, or of the
city for one in five; forwarded, extended or reopened; 60 % from a session) with due dates spread
from 120 days before today to 40 days after it (most of them overdue), 15 % in an office inbox,
received in the last 30 days. Rows go in with Core ``executemany`` on SQLite and ``COPY`` on
PostgreSQL.

Measured in a fresh child process, as ``doithoai alerts run`` does it (``Scheduler.run_once`` on
a working day at 09:00): wall time, CPU time of this process (PostgreSQL's own CPU is not in it),
peak RSS (``VmHWM``, the interpreter and its imports included; the RSS before the run is
printed too), digests queued, and the bytes of their outbox rows; then a second run, which must
queue nothing (one digest per person per day).
"""

from __future__ import annotations

import argparse
import json
import os
import random
import resource
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator, Sequence
from datetime import UTC, date, datetime, timedelta
from datetime import time as clock_time
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, Table, text

TODAY = date(2026, 3, 18)  # a Wednesday, a working day
WARDS = 168
WARD_AGENCIES = 3
CITY_DEPARTMENTS = 20
SECOND_OFFICE_WARDS = 48
SESSIONS_PER_WARD = 12
RESIDENTS = 20_000
CHUNK = 20_000
FILLER = (
    "Đề nghị các cơ quan chức năng kiểm tra, xử lý tình trạng ngập nước, lấn chiếm vỉa hè và "
    "rác thải tập kết sai nơi quy định trên địa bàn khu phố, ảnh hưởng đến đời sống người dân."
)


def _chunks(
    rows: Sequence[dict[str, Any]], size: int = CHUNK
) -> Iterator[Sequence[dict[str, Any]]]:
    for start in range(0, len(rows), size):
        yield rows[start : start + size]


def _load(engine: Engine, table: Table, rows: Sequence[dict[str, Any]]) -> None:
    """Core executemany on SQLite; COPY on PostgreSQL."""
    if not rows:
        return
    if engine.dialect.name == "postgresql":
        columns = list(rows[0])
        raw = engine.raw_connection()
        try:
            with raw.cursor() as cursor:  # type: ignore[attr-defined]
                names = ", ".join(f'"{name}"' for name in columns)
                with cursor.copy(f'COPY "{table.name}" ({names}) FROM STDIN') as copy:
                    for row in rows:
                        copy.write_row([row[name] for name in columns])
            raw.commit()
        finally:
            raw.close()
        return
    with engine.begin() as connection:
        for chunk in _chunks(rows):
            connection.execute(table.insert(), list(chunk))


def _utc(day: date, hour: int = 9) -> datetime:
    from texts import LOCAL_TIMEZONE

    return datetime.combine(day, clock_time(hour), LOCAL_TIMEZONE).astimezone(UTC)


def seed(engine: Engine, petitions: int, seed_value: int = 12) -> dict[str, int]:
    """The city described in the module's docstring; returns what was created."""
    from procedure.use_cases.administration import ensure_reference_data
    from storage.migrate import upgrade_to_head
    from storage.tables import (
        Assignment,
        Conclusion,
        DialogueSession,
        OrgUnit,
        Person,
        Petition,
        StaffRole,
    )
    from storage.unit_of_work import UnitOfWork

    def table(model: Any) -> Table:
        return model.__table__  # type: ignore[no-any-return]

    rng = random.Random(seed_value)
    if engine.dialect.name == "postgresql":
        with engine.begin() as connection:
            connection.execute(text("DROP SCHEMA public CASCADE"))
            connection.execute(text("CREATE SCHEMA public"))
    upgrade_to_head(engine)
    with UnitOfWork(engine) as uow:
        ensure_reference_data(uow)
        uow.commit()
    now = datetime.now(UTC)

    # Units: ids given here so that rows can refer to them before they exist in the database.
    units: list[dict[str, Any]] = []

    def unit(code: str, name: str, level: str, parent: int | None) -> int:
        units.append(
            {
                "id": len(units) + 1,
                "code": code,
                "name": name,
                "level_code": level,
                "parent_id": parent,
                "created_at": now,
            }
        )
        return len(units)

    city = unit("hcm", "Thành phố Hồ Chí Minh", "tinh_thanh", None)
    departments = [
        unit(f"so-{n}", f"Sở chuyên ngành số {n}", "co_quan", city)
        for n in range(1, CITY_DEPARTMENTS + 1)
    ]
    wards = []
    ward_agencies: dict[int, list[int]] = {}
    for n in range(1, WARDS + 1):
        ward = unit(f"phuong-{n}", f"Phường số {n}", "phuong_xa", city)
        wards.append(ward)
        ward_agencies[ward] = [
            unit(f"phuong-{n}-pb-{k}", f"Phòng chuyên môn {k} phường số {n}", "co_quan", ward)
            for k in range(1, WARD_AGENCIES + 1)
        ]

    people: list[dict[str, Any]] = []
    roles: list[dict[str, Any]] = []

    def person(name: str) -> int:
        people.append({"id": len(people) + 1, "full_name": name, "phone_verified": False,
                       "created_at": now})  # fmt: skip
        return len(people)

    def official(unit_id: int, role: str) -> None:
        roles.append(
            {
                "person_id": person(f"Cán bộ {len(people) + 1}"),
                "org_unit_id": unit_id,
                "role": role,
                "active": True,
                "granted_at": now,
            }
        )

    official(city, "head")
    official(city, "office")
    for department in departments:
        official(department, "agency")
    for n, ward in enumerate(wards):
        official(ward, "head")
        official(ward, "office")
        if n < SECOND_OFFICE_WARDS:
            official(ward, "office")
        for agency in ward_agencies[ward]:
            official(agency, "agency")
    officials = len(people)
    residents = [person(f"Người dân {n}") for n in range(RESIDENTS)]

    sessions: list[dict[str, Any]] = []
    conclusions: list[dict[str, Any]] = []
    ward_sessions: dict[int, list[int]] = {}
    for ward in wards:
        for k in range(SESSIONS_PER_WARD):
            session_id = len(sessions) + 1
            if k == SESSIONS_PER_WARD - 1:  # a plan for next month
                day, state = TODAY + timedelta(days=rng.randint(12, 40)), "draft"
            elif k == SESSIONS_PER_WARD - 2 and rng.random() < 0.5:  # held, not yet concluded
                day, state = TODAY - timedelta(days=rng.randint(3, 20)), "held"
            else:
                day, state = TODAY - timedelta(days=rng.randint(30, 400)), "concluded"
            sessions.append(
                {
                    "id": session_id,
                    "org_unit_id": ward,
                    "chair_name": "Chủ tịch UBND phường",
                    "venue": "Hội trường UBND phường",
                    "starts_at": _utc(day, 8),
                    "ends_at": _utc(day, 11),
                    "content": f"Đối thoại với Nhân dân về chỉnh trang đô thị, kỳ {k + 1}",
                    "state": state,
                    "calendar_sequence": 0,
                    "created_at": now,
                }
            )
            if state == "concluded":
                ward_sessions.setdefault(ward, []).append(session_id)
                conclusions.append(
                    {
                        "session_id": session_id,
                        "text": "Giao các phòng chuyên môn giải quyết.",
                        "notice_date": day + timedelta(days=10),
                        "due_date": day + timedelta(days=14),
                        "late_working_days": 0,
                        "created_at": now,
                    }
                )

    _load(engine, table(OrgUnit), units)
    _load(engine, table(Person), people)
    _load(engine, table(StaffRole), roles)
    _load(engine, table(DialogueSession), sessions)
    _load(engine, table(Conclusion), conclusions)
    assigned = 0
    for first in range(0, petitions, 50_000):  # in slices: a million rows at once take gigabytes
        petition_rows: list[dict[str, Any]] = []
        assignment_rows: list[dict[str, Any]] = []
        for n in range(first, min(first + 50_000, petitions)):
            ward = wards[rng.randrange(WARDS)]
            draw = rng.random()
            in_session: int | None
            if draw < 0.15:  # the office inbox
                state, in_session = "received", None
                received = _utc(TODAY - timedelta(days=rng.randint(0, 30)), rng.randint(0, 23))
            else:
                state = "forwarded" if draw < 0.90 else "extended" if draw < 0.97 else "reopened"
                in_session = rng.choice(ward_sessions[ward]) if rng.random() < 0.6 else None
                received = _utc(TODAY - timedelta(days=rng.randint(60, 400)))
            petition_id = n + 1
            petition_rows.append(
                {
                    "id": petition_id,
                    "tracking_code": f"KN-{n:08d}",
                    "kind": "petition",
                    "topic_code": "dan_van",
                    "text": FILLER,
                    "person_id": residents[rng.randrange(RESIDENTS)],
                    "petitioner_name": "Nguyễn Văn An",
                    "petitioner_phone_e164": "+84912345678",
                    "area_org_id": ward,
                    "session_id": in_session,
                    "channel": "telegram",
                    "state": state,
                    "received_at": received,
                }
            )
            if state != "received":
                agency = (
                    rng.choice(departments)
                    if rng.random() < 0.2
                    else rng.choice(ward_agencies[ward])
                )
                due = TODAY + timedelta(days=rng.randint(-120, 40))
                assignment_rows.append(
                    {
                        "petition_id": petition_id,
                        "agency_org_id": agency,
                        "notice_date": due - timedelta(days=28),
                        "original_due_date": due,
                        "due_date": due,
                        "created_at": now,
                        "awaiting_result": True,
                        "answerable_org_id": ward,  # its session's unit, or its area: the ward
                        "tracking_code": f"KN-{n:08d}",
                    }
                )
        _load(engine, table(Petition), petition_rows)
        _load(engine, table(Assignment), assignment_rows)
        assigned += len(assignment_rows)
    if engine.dialect.name == "postgresql":
        with engine.begin() as connection:
            for name in ("org_unit", "person", "dialogue_session", "petition"):
                connection.execute(
                    text(
                        f"SELECT setval(pg_get_serial_sequence('{name}', 'id'), "
                        f"(SELECT max(id) FROM {name}))"
                    )
                )
    settle(engine)
    return {
        "units": len(units),
        "officials": officials,
        "sessions": len(sessions),
        "petitions": petitions,
        "assignments": assigned,
    }


def settle(engine: Engine) -> None:
    """What autovacuum does after a bulk load on PostgreSQL (a deployment runs it): statistics
    for the planner and the visibility map that lets index-only scans skip the table. SQLite
    gets no statistics, as in use."""
    if engine.dialect.name != "postgresql":
        return
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
        connection.execute(text("VACUUM ANALYZE"))


def _seeded_marker(data_dir: Path, url: str, petitions: int) -> Path:
    """The file that says the database at ``url`` holds the city of ``petitions`` petitions."""
    from sqlalchemy.engine import make_url

    backend = make_url(url).get_backend_name()
    return data_dir / f"seeded-{backend}-{petitions}"


def _peak_rss_kb() -> int:
    """This process's peak resident memory: ``VmHWM`` on Linux (``ru_maxrss`` keeps the parent's
    figure across ``exec``, which would count the seeding), ``ru_maxrss`` elsewhere."""
    status = Path("/proc/self/status")
    if status.exists():
        for line in status.read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1])
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss


def _cpu_of(pid: int | None) -> float:
    """User and system CPU seconds of a process of this machine (the PostgreSQL backend that
    serves the run's connection: the pool hands the same one back), 0 when unknown."""
    stat = Path(f"/proc/{pid}/stat")
    if pid is None or not stat.exists():
        return 0.0
    fields = stat.read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def measure(url: str) -> dict[str, float | int]:
    """One run of ``doithoai alerts run``'s work, then a second one, in this process."""
    from bot.scheduler import Scheduler
    from procedure.use_cases.context import ProcedureContext
    from storage.engine import make_engine

    moment = _utc(TODAY, 9)
    engine = make_engine(url)
    with engine.connect() as connection:
        connection.execute(text("SELECT 1"))
    backend: int | None = None
    if engine.dialect.name == "postgresql":  # the server's CPU, when it runs on this machine
        with engine.connect() as connection:
            backend = connection.execute(text("SELECT pg_backend_pid()")).scalar_one()
    scheduler = Scheduler(engine, ProcedureContext(clock=lambda: moment))
    rss_before = _peak_rss_kb()
    server = _cpu_of(backend)
    wall, cpu = time.perf_counter(), time.process_time()
    digests, _ = scheduler.run_once()
    wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
    server = _cpu_of(backend) - server
    rss_peak = _peak_rss_kb()
    again = time.perf_counter()
    digests_again, _ = scheduler.run_once()
    again = time.perf_counter() - again
    with engine.connect() as connection:
        data: Any = connection.execute(
            text("SELECT data FROM outbox_message WHERE kind = 'alert.digest'")
        ).scalars()
        sizes = [len(json.dumps(row if isinstance(row, dict) else json.loads(row))) for row in data]
    return {
        "wall_s": wall,
        "cpu_s": cpu,
        "server_cpu_s": server,
        "load": os.getloadavg()[0],
        "rss_before_mb": rss_before / 1024,
        "rss_peak_mb": rss_peak / 1024,
        "digests": digests,
        "outbox_bytes": sum(sizes),
        "largest_row_bytes": max(sizes, default=0),
        "second_run_digests": digests_again,
        "second_run_s": again,
    }


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--petitions", type=int, default=1_000_000)
    parser.add_argument("--database-url", default=None)
    parser.add_argument(
        "--reuse",
        default=None,
        metavar="DIR",
        help="keep the SQLite database in DIR (with --database-url: a note that the database "
        "is seeded) and reuse it when it is already seeded with as many petitions; the "
        "migrations are brought to head first",
    )
    parser.add_argument("--measure-only", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.measure_only:
        print(json.dumps(measure(args.database_url)))
        return 0
    from storage.engine import make_engine
    from storage.urls import sqlite_url

    with tempfile.TemporaryDirectory(prefix="alert-digests-") as directory:
        data_dir = Path(args.reuse or directory)
        url = args.database_url or sqlite_url(data_dir)
        engine = make_engine(url)
        print(f"database: {engine.dialect.name}")
        marker = _seeded_marker(data_dir, url, args.petitions)
        if args.reuse and marker.exists():
            from storage.migrate import upgrade_to_head

            started = time.perf_counter()
            upgrade_to_head(engine)
            with engine.begin() as connection:
                connection.execute(text("DELETE FROM outbox_message"))
            settle(engine)
            print(
                f"reusing the database seeded in {data_dir} ({args.petitions:,} petitions): "
                f"migrated to head, outbox emptied in {time.perf_counter() - started:.1f} s"
            )
        else:
            started = time.perf_counter()
            created = seed(engine, args.petitions)
            print(
                f"seeded in {time.perf_counter() - started:.1f} s: {created['petitions']:,} open "
                f"petitions ({created['assignments']:,} assigned), {created['officials']} "
                f"officials, {created['units']} units, {created['sessions']:,} sessions"
            )
            if args.reuse:
                marker.touch()
        engine.dispose()
        child = subprocess.run(
            [sys.executable, "-m", "benchmarks.alert_digests", "--measure-only",
             "--database-url", url],
            check=True, capture_output=True, text=True, env=os.environ,
        )  # fmt: skip
        figures = json.loads(child.stdout.strip().splitlines()[-1])
    server = (
        f" + PostgreSQL backend {figures['server_cpu_s']:.2f} s" if figures["server_cpu_s"] else ""
    )
    print(
        f"alerts run: wall {figures['wall_s']:.2f} s (load average {figures['load']:.1f}), "
        f"CPU {figures['cpu_s']:.2f} s{server}, peak RSS {figures['rss_peak_mb']:.0f} MB "
        f"(before the run {figures['rss_before_mb']:.0f} MB)"
    )
    print(
        f"digests queued: {figures['digests']}, outbox bytes {figures['outbox_bytes']:,} "
        f"(largest row {figures['largest_row_bytes']:,})"
    )
    print(
        f"second run: {figures['second_run_digests']} digests queued in "
        f"{figures['second_run_s']:.2f} s"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
