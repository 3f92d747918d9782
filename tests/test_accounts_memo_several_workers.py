"""Issue 12 (X3, C8): the accounts memo kept with several workers on one PostgreSQL.

A worker remembers which person an account is (``uow.memo``) and reads nothing for it on the
next update. Another worker may change that (a join of two accounts by a verified phone): a
trigger (migration 0023) changes the accounts' generation in the changing transaction, and each
turn reads the generation with its conversation's lock, in the same round trip. A transaction
that read no generation uses no memo. Roles are never remembered: a role taken away in another
worker is gone in this one's next transaction.

Each "worker" is an engine of its own (its own connections, as another process has).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from typing import Any

import pytest
from sqlalchemy import Engine, event, text, update

from procedure.permissions import Role
from procedure.use_cases.context import ProcedureContext
from procedure.use_cases.residents import actor_for, join_by_verified_phone, person_for_account
from storage.conversation_store import lock_conversation
from storage.engine import make_engine
from storage.tables import OrgUnit, Person, StaffRole
from storage.unit_of_work import UnitOfWork, shared_between_processes

postgresql_only = pytest.mark.parametrize("database_kind", ["postgresql"], indirect=True)
PHONE = "+84901234567"


@pytest.fixture
def worker(engine: Engine) -> Iterator[Engine]:
    """A worker of a deployment with ``WORKERS`` > 1 (bot/database.py marks its engine). The
    accounts' generation row as the migration leaves it (the tests' cleanup empties every
    table; with no row, no memo is used)."""
    with engine.begin() as connection:
        connection.execute(
            text(
                "INSERT INTO memo_generation (name, generation) VALUES ('accounts', 0) "
                "ON CONFLICT (name) DO NOTHING"
            )
        )
    mine = make_engine(engine.url.render_as_string(hide_password=False))
    shared_between_processes(mine)
    yield mine
    mine.dispose()


@pytest.fixture
def other_worker(engine: Engine) -> Iterator[Engine]:
    other = make_engine(engine.url.render_as_string(hide_password=False))
    shared_between_processes(other)
    yield other
    other.dispose()


class Lookups:
    """The statements that read channel_account on an engine."""

    def __init__(self, engine: Engine) -> None:
        self.count = 0

        def seen(_: Any, __: Any, statement: str, *args: Any) -> None:
            if "FROM channel_account" in statement:
                self.count += 1

        event.listen(engine, "before_cursor_execute", seen)


def turn_person(db: Engine, user: str = "42", *, locked: bool = True) -> int:
    """What a turn does first (handlers/conversations.py): the conversation's lock (with the
    accounts' generation), then the account's person."""
    with UnitOfWork(db, write=True) as uow:
        if locked:
            lock_conversation(uow, "telegram", user)
        person = person_for_account(uow, "telegram", user, user)
        uow.commit()
        return person


def verified_survivor(db: Engine) -> int:
    """A person who verified PHONE on another channel, committed."""
    with UnitOfWork(db) as uow:
        survivor = Person(phone_e164=PHONE, phone_verified=True)
        uow.session.add(survivor)
        uow.commit()
        assert survivor.id is not None
        return survivor.id


@postgresql_only
def test_x3_c8_the_memo_saves_the_lookup_and_a_join_in_another_worker_is_seen_at_once(
    worker: Engine, other_worker: Engine
) -> None:
    lookups = Lookups(worker)
    joined = turn_person(worker)  # first contact: the account is made, not remembered
    assert turn_person(worker) == joined  # read, and remembered
    read = lookups.count
    assert turn_person(worker) == joined
    assert lookups.count == read  # the memo: no lookup
    survivor = verified_survivor(other_worker)
    with UnitOfWork(other_worker, write=True) as uow:
        kept = join_by_verified_phone(uow, joined, PHONE, "zalo_oa", ProcedureContext())
        uow.commit()
    assert kept == survivor != joined
    # The next transaction of the first worker: the generation changed, the memo is gone.
    assert turn_person(worker) == survivor
    assert lookups.count == read + 1
    assert turn_person(worker) == survivor
    assert lookups.count == read + 1  # remembered again


@postgresql_only
def test_x3_c8_a_join_committed_while_the_turn_waits_for_the_chats_lock_is_seen(
    worker: Engine, other_worker: Engine
) -> None:
    """The chat's previous turn, in another worker, joins the account and commits while this
    turn waits for the chat's lock: the generation is read after the lock was granted."""
    joined = turn_person(worker)
    assert turn_person(worker) == turn_person(worker) == joined  # remembered
    survivor = verified_survivor(other_worker)
    seen: list[int] = []
    with UnitOfWork(other_worker, write=True) as uow:
        lock_conversation(uow, "telegram", "42")
        assert join_by_verified_phone(uow, joined, PHONE, "zalo_oa", ProcedureContext())
        uow.flush()
        waiting = threading.Thread(target=lambda: seen.append(turn_person(worker)))
        waiting.start()
        time.sleep(0.5)
        assert not seen  # waits for the chat's lock
        uow.commit()
    waiting.join(10)
    assert seen == [survivor]


@postgresql_only
def test_x3_c8_a_transaction_that_read_no_generation_uses_no_memo(worker: Engine) -> None:
    lookups = Lookups(worker)
    turn_person(worker)
    turn_person(worker)  # remembered for the turns
    before = lookups.count
    turn_person(worker, locked=False)
    turn_person(worker, locked=False)
    assert lookups.count == before + 2


@postgresql_only
def test_x3_c8_a_role_taken_away_in_another_worker_is_gone_in_the_next_transaction(
    worker: Engine, other_worker: Engine
) -> None:
    person = turn_person(worker)
    with UnitOfWork(other_worker) as uow:
        unit = OrgUnit(code="phuong-thu", name="Phường Thử", level_code="phuong_xa")
        uow.session.add(unit)
        uow.flush()
        assert unit.id is not None
        uow.session.add(StaffRole(person_id=person, org_unit_id=unit.id, role=Role.OFFICE))
        uow.commit()

    def roles() -> set[Role]:
        with UnitOfWork(worker, write=True) as uow:
            lock_conversation(uow, "telegram", "42")
            me = person_for_account(uow, "telegram", "42", "42")
            grants = {grant.role for grant in actor_for(uow, me).grants}
            uow.commit()
            return grants

    assert roles() == roles() == {Role.OFFICE}  # the account remembered, the roles read
    with UnitOfWork(other_worker) as uow:
        uow.session.execute(
            update(StaffRole).where(StaffRole.person_id == person).values(active=False)  # type: ignore[arg-type]
        )
        uow.commit()
    assert roles() == set()
