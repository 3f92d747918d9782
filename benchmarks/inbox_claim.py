"""X3 at a peak (issue 12): the inbox's claim of due events with a backlog after a storm, and
the outbox sender's claims behind an invitation's backlog.

Run by hand::

    .venv/bin/python -m benchmarks.inbox_claim [--database-url URL] [--handled 100000]
        [--backlogs 100,1000,10000]

Prints; asserts nothing. Without ``--database-url`` a SQLite file in a temporary directory is
used; with a PostgreSQL address the schema ``public`` of that database is DROPPED and rebuilt
(use a throw-away cluster: ``DOITHOAI_CI_PG_PORT=55474 bash .ci/start-postgres``).

For each backlog: the table holds a week of handled events (``--handled``, of 5,000 chats) and
its statistics are taken while nothing waits, as autovacuum leaves them before a peak; then the
backlog arrives (events of as many chats as events, times 0.8: some chats wrote twice) and a
worker claims batches of 50, the statement ``Inbox`` runs when its room was full or after an
idle second (storage/channel_store.py, ``_claim``), with and without the chat's spacing
(Telegram's second a chat). Each claim is rolled back, so each sees the same backlog; twelve
claims on one connection, the median of the last six printed (psycopg prepares a statement at
its sixth execution and PostgreSQL plans it generically after five more: the plan a worker's
long-lived connection runs).

Then the outbox: 20,000 messages sent (statistics taken), then an invitation's backlog of as many
messages as each ``--backlogs`` figure, and 40 replies waiting; the sender's claim of 30 replies
(``claim_due(urgent_only=True)``: with several workers, one claim per reply), each released
again, median of the last six of twelve.

On 2 December 2026 (PostgreSQL 15, 100,000 handled events), a claim of 50 over a backlog of
100, 1,000 and 10,000 events: before issue 12's change 3.5, 84 and (at 3,000) 725 ms, the
chat's earlier events looked up by an anti join planned on the quiet table's statistics; with
the correlated look-ups and the handled-only index (migration 0025) 1.6, 5.3 and 26-43 ms; with
the index of due events in the order they came (migration 0026) 1.7-2.0, 2.3-2.6 and 4.6-5.0
ms. SQLite (20,000 handled): 0.5, 0.5 and 1.5-1.7 ms. The sender's claim of 30 replies behind
1,000, 10,000 and 50,000 invitations waiting, PostgreSQL: 1.8, 3.0 and 7.0 ms before the index
of the replies waiting (migration 0027), 2.5, 2.4 and 2.5 ms with it. (SQLite, one process, claims
replies with the general claim: 2.1, 5.0 and 14.2 ms.)

Last, an invitation to ``--followers`` people (a Telegram account each): the sender's claim of a
batch of 30 (replies first, then the others, for the four channels), released again, with 1,000,
10,000 and 50,000 of them waiting. PostgreSQL 15, 50,000 followers: 64.6, 86.3 and 101.6 ms
before migration 0028 (every account grouped by person, every waiting row sorted), 7.7, 7.6 and
8.5 ms with it (the rows' own index walked, each one's newest account looked up alone).
"""

from __future__ import annotations

import argparse
import random
import statistics
import tempfile
import time
from datetime import timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, text

from storage import channel_store
from storage.engine import make_engine, sqlite_url
from storage.migrate import upgrade_to_head
from storage.tables import InboxEvent
from storage.types import utc_now
from storage.unit_of_work import UnitOfWork

BATCH = 50
CLAIMS = 12
CHANNEL = "telegram"


def fill(engine: Engine, handled: int, backlog: int, rng: random.Random) -> None:
    table = InboxEvent.__table__  # type: ignore[attr-defined]
    now = utc_now()
    with engine.begin() as connection:
        connection.execute(table.delete())
        rows = [
            {
                "channel": CHANNEL,
                "event_id": f"h{n}",
                "chat_id": f"c{n % 5000}",
                "payload": {"update_id": n},
                "received_at": now - timedelta(days=7) + timedelta(seconds=6 * n / 5),
                "handled_at": now - timedelta(days=7) + timedelta(seconds=6 * n / 5 + 1),
                "attempts": 1,
            }
            for n in range(handled)
        ]
        for start in range(0, len(rows), 5000):
            connection.execute(table.insert(), rows[start : start + 5000])
    if engine.dialect.name == "postgresql":  # the statistics of a quiet table
        with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
            connection.execute(text("VACUUM ANALYZE inbox_event"))
    else:
        with engine.begin() as connection:
            connection.execute(text("ANALYZE"))
    chats = max(1, int(backlog * 0.8))
    with engine.begin() as connection:
        late = [
            {
                "channel": CHANNEL,
                "event_id": f"p{n}",
                "chat_id": f"s{rng.randrange(chats)}",
                "payload": {"update_id": handled + n},
                "received_at": now - timedelta(seconds=backlog - n),
                "attempts": 0,
            }
            for n in range(backlog)
        ]
        for start in range(0, len(late), 5000):
            connection.execute(table.insert(), late[start : start + 5000])


def claims(engine: Engine, spacing: timedelta | None) -> tuple[float, int]:
    """The median milliseconds of the last six of twelve claims, and how many each claimed."""
    spent: list[float] = []
    claimed = 0
    for _ in range(CLAIMS):
        began = time.perf_counter()
        # write=True: on SQLite a real transaction (the driver begins none before WITH … UPDATE).
        with UnitOfWork(engine, write=True) as uow:
            claimed = len(
                channel_store._claim(
                    uow,
                    CHANNEL,
                    now=utc_now(),
                    lease=timedelta(seconds=9),
                    limit=BATCH,
                    chat_spacing=spacing,
                )
            )
            uow.rollback()
        spent.append(1000 * (time.perf_counter() - began))
    return statistics.median(spent[CLAIMS // 2 :]), claimed


def fill_outbox(engine: Engine, backlog: int) -> None:
    from storage.tables import OutboxMessage, Person

    table = OutboxMessage.__table__  # type: ignore[attr-defined]
    now = utc_now()
    earlier = now - timedelta(days=2)
    with UnitOfWork(engine) as uow:
        uow.session.execute(table.delete())
        person = Person(full_name="Người theo dõi")
        uow.session.add(person)
        uow.commit()
        common = {"person_id": person.id, "kind": "x", "data": {}, "created_at": now}

    def rows(prefix: str, count: int, **values: object) -> list[dict[str, object]]:
        return [{"idempotency_key": f"{prefix}{n}", **common, **values} for n in range(count)]

    with engine.begin() as connection:
        sent = rows("sent", 20_000, available_at=earlier, sent_at=earlier, urgent=True)
        for start in range(0, len(sent), 5000):
            connection.execute(table.insert(), sent[start : start + 5000])
    if engine.dialect.name == "postgresql":
        with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
            connection.execute(text("VACUUM ANALYZE outbox_message"))
    with engine.begin() as connection:
        waiting = rows("invitation", backlog, available_at=earlier)
        for start in range(0, len(waiting), 5000):
            connection.execute(table.insert(), waiting[start : start + 5000])
        connection.execute(
            table.insert(),
            rows("reply", 40, available_at=earlier, urgent=True, channel="telegram", chat_id="7"),
        )


def reply_claims(engine: Engine) -> tuple[float, int]:
    """The sender's claim of 30 replies (with several workers, one a reply)."""
    return timed_claims(engine, urgent_only=True, channels={"telegram"})


def timed_claims(engine: Engine, **options: Any) -> tuple[float, int]:
    """``claim_due`` of 30 with ``options``, each claim released again: the median of the last
    six of twelve, in ms, and how many the last claimed."""
    from storage import outbox_store

    spent: list[float] = []
    claimed: list[outbox_store.ClaimedMessage] = []
    for _ in range(CLAIMS):
        began = time.perf_counter()
        with UnitOfWork(engine) as uow:
            claimed = outbox_store.claim_due(
                uow,
                sender_id="bench",
                now=utc_now(),
                lease=timedelta(seconds=30),
                limit=30,
                **options,
            )
        spent.append(1000 * (time.perf_counter() - began))
        with UnitOfWork(engine) as uow:  # released for the next claim (commits)
            outbox_store.release_claims(uow, [message.id for message in claimed], sender_id="bench")
    return statistics.median(spent[CLAIMS // 2 :]), len(claimed)


def fill_invitation(
    engine: Engine, followers: int, backlog: int, *, sent: int = 20_000
) -> list[int]:
    """``followers`` people with a Telegram account each, ``sent`` messages sent (statistics
    taken), then an invitation waiting for the first ``backlog`` of them; the followers' person
    ids, in order (tests/test_several_workers_scale.py uses it too)."""
    from sqlalchemy import insert

    from storage.tables import ChannelAccount, OutboxMessage, Person

    people = Person.__table__  # type: ignore[attr-defined]
    accounts = ChannelAccount.__table__  # type: ignore[attr-defined]
    outbox = OutboxMessage.__table__  # type: ignore[attr-defined]
    now = utc_now()
    earlier = now - timedelta(days=2)
    with engine.begin() as connection:
        connection.execute(outbox.delete())
        ids = list(
            connection.execute(
                accounts.select()
                .with_only_columns(accounts.c.person_id)
                .order_by(accounts.c.person_id)
            ).scalars()
        )
        if len(ids) < followers:
            made = connection.execute(
                insert(people).returning(people.c.id, sort_by_parameter_order=True),
                [{"full_name": "Người theo dõi", "created_at": now}] * (followers - len(ids)),
            ).scalars()
            new = list(made)
            connection.execute(
                accounts.insert(),
                [
                    {
                        "person_id": person_id,
                        "channel": "telegram",
                        "external_user_id": str(person_id),
                        "chat_id": str(person_id),
                        "created_at": now,
                    }
                    for person_id in new
                ],
            )
            ids += new
        common = {"kind": "x", "data": {}, "created_at": now}
        done = [
            {"idempotency_key": f"sent{n}", "person_id": ids[n % len(ids)], **common}
            | {"available_at": earlier, "sent_at": earlier}
            for n in range(sent)
        ]
        for start in range(0, len(done), 5000):
            connection.execute(outbox.insert(), done[start : start + 5000])
    if engine.dialect.name == "postgresql":
        with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
            connection.execute(text("VACUUM ANALYZE outbox_message"))
            connection.execute(text("VACUUM ANALYZE channel_account"))
    with engine.begin() as connection:
        waiting = [
            {"idempotency_key": f"invitation{n}", "person_id": person_id, **common}
            | {"available_at": earlier + timedelta(milliseconds=n)}
            for n, person_id in enumerate(ids[:backlog])
        ]
        for start in range(0, len(waiting), 5000):
            connection.execute(outbox.insert(), waiting[start : start + 5000])
    return ids


def invitation_claims(engine: Engine) -> tuple[float, int]:
    """The sender's claim of a batch (replies first, then the others, for the channels it
    runs)."""
    return timed_claims(engine, channels={"telegram", "zalo_oa", "zalo_bot", "web"})


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n", 1)[0])
    parser.add_argument("--database-url", default="")
    parser.add_argument("--handled", type=int, default=100_000)
    parser.add_argument("--backlogs", default="100,1000,10000")
    parser.add_argument("--followers", type=int, default=50_000)
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory() as folder:
        engine = make_engine(args.database_url or sqlite_url(Path(folder)))
        if engine.dialect.name == "postgresql":
            with engine.begin() as connection:
                connection.execute(text("DROP SCHEMA public CASCADE"))
                connection.execute(text("CREATE SCHEMA public"))
        upgrade_to_head(engine)
        print(f"== {engine.dialect.name}: {args.handled:,} events handled in the last week")
        rng = random.Random(12)
        for backlog in (int(part) for part in args.backlogs.split(",")):
            fill(engine, args.handled, backlog, rng)
            for label, spacing in (("no spacing", None), ("a second a chat", timedelta(seconds=1))):
                ms, claimed = claims(engine, spacing)
                print(
                    f"   backlog {backlog:>6,}, {label:>15}: {ms:7.2f} ms a claim of {claimed} "
                    f"({ms / max(1, claimed):.3f} ms an event)"
                )
        print("== the sender's claim of 30 replies behind an invitation's backlog")
        for backlog in (int(part) for part in args.backlogs.split(",")):
            fill_outbox(engine, backlog)
            ms, claimed = reply_claims(engine)
            print(f"   backlog {backlog:>6,}: {ms:7.2f} ms a claim of {claimed} replies")
        print(f"== the sender's claim of 30 of an invitation to {args.followers:,} followers")
        for backlog in (int(part) for part in args.backlogs.split(",")):
            fill_invitation(engine, args.followers, min(backlog, args.followers))
            ms, claimed = invitation_claims(engine)
            print(
                f"   {min(backlog, args.followers):>6,} waiting: {ms:7.2f} ms a claim of {claimed}"
            )
        engine.dispose()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
