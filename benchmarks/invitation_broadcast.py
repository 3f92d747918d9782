"""An invitation to every follower of a ward, from the announcement to the last chat (X4, P4).

    .venv/bin/python -m benchmarks.invitation_broadcast [--followers 10000] [--rate 30]

Builds a SQLite database in a temporary folder with one ward and ``followers`` residents who
follow it, each with a Telegram account; plans and announces a session through the real use
cases (the announcement queues one invitation per follower in its transaction), then drains the
outbox with :class:`bot.outbox_sender.OutboxSender` and the aiogram transport against the fake
Bot API server enforcing Telegram's limits (``rate_limit(30, 1)``). Prints the announcement's
transaction time, messages per second, 429s received, and followers who got no message or more
than one. The goal at 30/s: at least 28 messages a second, no 429, nothing lost.

At 30 messages a second, 10,000 followers take about six minutes.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import tempfile
import time
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import Engine

from bot.channels.telegram.aiogram_shim import make_bot
from bot.outbox_sender import OutboxSender
from bot.transports import TelegramAiogramTransport
from procedure.permissions import Actor, Grant, Role
from procedure.use_cases import sessions
from procedure.use_cases.administration import add_org_unit, ensure_reference_data, grant_role
from procedure.use_cases.context import ProcedureContext
from procedure.use_cases.sessions import SessionPlan
from storage.engine import make_engine, sqlite_url
from storage.migrate import upgrade_to_head
from storage.tables import ChannelAccount, Person
from storage.unit_of_work import UnitOfWork
from tests.conftest import at
from tests.fake_telegram import FakeTelegram
from tests.procedure_world import Clock

FIRST_CHAT_ID = 700_000_001


@dataclass(frozen=True)
class Ward:
    ward_id: int
    office: Actor
    chat_ids: list[int]  # one per follower, in the order of their person ids


def seed_ward(engine: Engine, followers: int, first_chat_id: int = FIRST_CHAT_ID) -> Ward:
    """A ward, its office, and ``followers`` residents of it, each with a Telegram account."""
    system = Actor.system()
    with UnitOfWork(engine) as uow:
        add_org_unit(uow, system, code="hcm", name="Thành phố Hồ Chí Minh", level_code="tinh_thanh")
        ward = add_org_unit(
            uow,
            system,
            code="ben-thanh",
            name="Phường Bến Thành",
            level_code="phuong_xa",
            parent_code="hcm",
        )
        assert ward.id is not None
        staff = Person(full_name="Lê Văn Phòng")
        uow.session.add(staff)
        uow.commit()
        assert staff.id is not None
        grant_role(uow, system, staff.id, "ben-thanh", Role.OFFICE)
        people = [Person(area_org_id=ward.id) for _ in range(followers)]
        uow.session.add_all(people)
        uow.flush()
        chat_ids = [first_chat_id + n for n in range(followers)]
        uow.session.add_all(
            ChannelAccount(
                person_id=person.id,  # type: ignore[arg-type]
                channel="telegram",
                external_user_id=str(chat_id),
                chat_id=str(chat_id),
            )
            for person, chat_id in zip(people, chat_ids, strict=True)
        )
        uow.commit()
        office = Actor(person_id=staff.id, grants=(Grant(Role.OFFICE, ward.id),))
        return Ward(ward_id=ward.id, office=office, chat_ids=chat_ids)


def announce(engine: Engine, ward: Ward) -> tuple[int, float]:
    """Plan a session of the ward and announce it; returns its id and the seconds the
    announcement (which queues the invitations) took."""
    clock = Clock()
    clock.set("2026-03-02")
    context = ProcedureContext(clock=clock)
    with UnitOfWork(engine) as uow:
        session = sessions.plan_session(
            uow,
            ward.office,
            SessionPlan(
                org_unit_id=ward.ward_id,
                chair_name="Phạm Văn Chủ, Chủ tịch UBND phường",
                venue="Hội trường UBND phường Bến Thành, 92 Nam Kỳ Khởi Nghĩa",
                starts_at=at("2026-03-16", "08:00"),
                ends_at=at("2026-03-16", "11:00"),
                content="Đối thoại về chỉnh trang đô thị & vệ sinh <môi trường>",
            ),
            context,
        )
        assert session.id is not None
        started = time.perf_counter()
        sessions.announce_session(uow, ward.office, session.id, context)
        uow.commit()
        return session.id, time.perf_counter() - started


def fresh_sqlite(folder: Path) -> Engine:
    engine = make_engine(sqlite_url(folder))
    upgrade_to_head(engine)
    with UnitOfWork(engine) as uow:
        ensure_reference_data(uow)
        uow.commit()
    return engine


async def broadcast(followers: int, rate: float) -> dict[str, float]:
    with tempfile.TemporaryDirectory() as folder:
        engine = fresh_sqlite(Path(folder))
        ward = seed_ward(engine, followers)
        _, announce_seconds = announce(engine, ward)
        async with FakeTelegram() as fake:
            fake.rate_limit(global_per_second=30, per_chat_per_second=1)
            bot = make_bot(fake.token, fake.base_url)
            sender = OutboxSender(
                engine,
                {"telegram": TelegramAiogramTransport(bot)},
                sender_id="benchmark",
                global_per_second=rate,
            )
            started = time.perf_counter()
            # As any one-off drain: within the sender election (a no-op on this SQLite file).
            sent = await sender.drain_once_if_elected()
            assert sent is not None, "another process is the active sender"
            seconds = time.perf_counter() - started
            await bot.session.close()
            received = Counter(message.chat_id for message in fake.sent_messages())
        engine.dispose()
    lost = sum(1 for chat in ward.chat_ids if received[chat] == 0)
    duplicated = sum(1 for chat in ward.chat_ids if received[chat] > 1)
    return {
        "followers": followers,
        "announce_seconds": announce_seconds,
        "sent": sent,
        "seconds": seconds,
        "per_second": sent / seconds if seconds else 0.0,
        "too_many_requests": fake.too_many_requests_sent,
        "lost": lost,
        "duplicated": duplicated,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--followers", type=int, default=10_000)
    parser.add_argument("--rate", type=float, default=30.0, help="the sender's global budget")
    args = parser.parse_args()
    logging.basicConfig(level=logging.WARNING)
    result = asyncio.run(broadcast(args.followers, args.rate))
    print(f"followers:              {result['followers']:.0f}")
    print(f"announce transaction:   {result['announce_seconds']:.3f} s")
    print(f"sent:                   {result['sent']:.0f} in {result['seconds']:.1f} s")
    print(f"messages per second:    {result['per_second']:.2f} (Telegram's limit: 30)")
    print(f"429 received:           {result['too_many_requests']:.0f}")
    print(f"lost (no message):      {result['lost']:.0f}")
    print(f"duplicated (> 1):       {result['duplicated']:.0f}")


if __name__ == "__main__":
    main()
