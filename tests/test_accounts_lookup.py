"""X3, C8 (issue 12): the account lookup with several workers (in a unit that read no accounts'
generation: no memo) is one prebuilt statement; an account that writes from another chat keeps
its person and has its chat moved (SQLite and PostgreSQL)."""

from __future__ import annotations

from sqlalchemy import Engine
from sqlmodel import select

from procedure.use_cases.residents import person_for_account
from storage.tables import ChannelAccount
from storage.unit_of_work import UnitOfWork, shared_between_processes


def test_x3_c8_an_account_writing_from_another_chat_keeps_its_person_and_moves(
    engine: Engine,
) -> None:
    shared_between_processes(engine)  # no lock, no generation: every lookup reads the table
    with UnitOfWork(engine, write=True) as uow:
        person = person_for_account(uow, "telegram", "77", "chat-1")
        uow.commit()
    with UnitOfWork(engine, write=True) as uow:
        assert person_for_account(uow, "telegram", "77", "chat-1") == person
        assert person_for_account(uow, "telegram", "77", "chat-2") == person
        uow.commit()
    with UnitOfWork(engine) as uow:
        accounts = uow.session.exec(
            select(ChannelAccount).where(ChannelAccount.external_user_id == "77")
        ).all()
        assert [(a.person_id, a.chat_id) for a in accounts] == [(person, "chat-2")]
    with UnitOfWork(engine, write=True) as uow:
        assert person_for_account(uow, "telegram", "78", "chat-3") != person  # a new person
        uow.commit()
