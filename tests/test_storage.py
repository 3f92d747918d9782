"""C8: storage round-trips on SQLite and on a real PostgreSQL; migrations reach head (no mocks)."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import Engine, inspect, text
from sqlalchemy.exc import IntegrityError
from sqlmodel import SQLModel, select

import storage.tables  # noqa: F401
from storage.engine import make_engine, normalise_url, sqlite_url
from storage.migrate import (
    HEAD_REVISION,
    alembic_config,
    head_revisions,
    is_at_head,
    stored_revisions,
    upgrade_to_head,
)
from storage.tables import (
    CalendarOverride,
    ChannelAccount,
    Event,
    OrgUnit,
    Person,
    Petition,
)
from storage.unit_of_work import UnitOfWork

BIG_TELEGRAM_ID = str(2**63 - 1)


def test_c8_migrations_upgrade_an_empty_database_to_head(empty_engine: Engine) -> None:
    assert inspect(empty_engine).get_table_names() == []
    upgrade_to_head(empty_engine)
    assert is_at_head(empty_engine)
    tables = set(inspect(empty_engine).get_table_names())
    assert set(SQLModel.metadata.tables) <= tables
    # The migrations describe exactly the tables the code declares.
    with empty_engine.connect() as connection:
        differences = compare_metadata(MigrationContext.configure(connection), SQLModel.metadata)
    assert differences == []
    upgrade_to_head(empty_engine)  # a second run changes nothing
    assert is_at_head(empty_engine)


def test_c8_a_database_at_head_is_opened_without_alembic_and_one_behind_is_upgraded(
    empty_engine: Engine,
) -> None:
    # The revision the code names is alembic's head: a new migration must update it, or a
    # database one migration behind would be taken for up to date.
    assert head_revisions() == {HEAD_REVISION}
    assert stored_revisions(empty_engine) == set()
    upgrade_to_head(empty_engine)
    assert stored_revisions(empty_engine) == {HEAD_REVISION}
    command.downgrade(alembic_config(empty_engine), "-1")
    assert stored_revisions(empty_engine) != {HEAD_REVISION}
    upgrade_to_head(empty_engine)
    assert is_at_head(empty_engine)


def test_c8_round_trip_of_people_accounts_and_64_bit_ids(uow: UnitOfWork) -> None:
    person = Person(full_name="Nguyễn Thị Hoà", phone_e164="+84912345678", phone_verified=True)
    uow.session.add(person)
    uow.flush()
    assert person.id is not None
    uow.session.add(
        ChannelAccount(
            person_id=person.id,
            channel="telegram",
            external_user_id=BIG_TELEGRAM_ID,
            chat_id="-1001234567890123",
        )
    )
    uow.commit()
    uow.session.expunge_all()
    account = uow.session.exec(
        select(ChannelAccount).where(ChannelAccount.external_user_id == BIG_TELEGRAM_ID)
    ).one()
    assert account.chat_id == "-1001234567890123"
    stored = uow.session.get(Person, account.person_id)
    assert stored is not None and stored.full_name == "Nguyễn Thị Hoà"


def test_c8_times_are_stored_in_utc_and_read_back_aware(uow: UnitOfWork) -> None:
    moment = datetime(2026, 3, 16, 1, 30, tzinfo=UTC)
    event = Event(kind="test", actor_role="system", at=moment, details={"a": [1, "ư"]})
    uow.session.add(event)
    uow.commit()
    uow.session.expunge_all()
    stored = uow.session.exec(select(Event).where(Event.kind == "test")).one()
    assert stored.at == moment and stored.at.tzinfo is not None
    assert stored.details == {"a": [1, "ư"]}
    with pytest.raises(Exception, match="naive"):
        uow.session.add(Event(kind="naive", actor_role="system", at=datetime(2026, 1, 1)))
        uow.flush()


def test_c8_foreign_keys_and_unique_codes_are_enforced(uow: UnitOfWork) -> None:
    uow.session.add(
        ChannelAccount(person_id=999_999, channel="telegram", external_user_id="1", chat_id="1")
    )
    with pytest.raises(IntegrityError):
        uow.flush()
    uow.session.rollback()
    unit = OrgUnit(code="p1", name="Phường Một", level_code="phuong_xa")
    uow.session.add(unit)
    uow.flush()
    uow.session.add(OrgUnit(code="p1", name="Trùng mã", level_code="phuong_xa"))
    with pytest.raises(IntegrityError):
        uow.flush()


def test_c8_unit_of_work_rolls_back_what_was_not_committed(engine: Engine) -> None:
    with UnitOfWork(engine) as uow:
        uow.session.add(
            CalendarOverride(
                day=date(2026, 12, 24), kind="off", name="Thử", source="Thử", added_by="test"
            )
        )
        uow.flush()
    with UnitOfWork(engine) as uow:
        assert uow.session.get(CalendarOverride, date(2026, 12, 24)) is None


def test_c8_reference_data_is_loaded_once(uow: UnitOfWork) -> None:
    from procedure.use_cases.administration import ensure_reference_data
    from storage.tables import OrgLevel, Topic

    ensure_reference_data(uow)
    topics = uow.session.exec(select(Topic)).all()
    question_categories = {t.code for t in topics if t.kind == "question"}
    # Q5: the five categories of the question channel.
    assert question_categories == {
        "tuyen_giao",
        "to_chuc_xay_dung_dang",
        "kiem_tra_giam_sat",
        "dan_van",
        "van_phong_cap_uy",
    }
    assert len(uow.session.exec(select(OrgLevel)).all()) == 4
    assert len(topics) == len({t.code for t in topics})


def test_c8_sqlite_is_the_default_with_wal_and_foreign_keys(tmp_path) -> None:
    engine = make_engine(sqlite_url(tmp_path / "nested" / "dir"))
    with engine.connect() as connection:
        assert connection.execute(text("PRAGMA journal_mode")).scalar() == "wal"
        assert connection.execute(text("PRAGMA foreign_keys")).scalar() == 1
    assert (tmp_path / "nested" / "dir" / "doithoai.sqlite3").exists()


def test_c8_postgres_urls_use_psycopg_3() -> None:
    assert normalise_url("postgres://u:p@h/db") == "postgresql+psycopg://u:p@h/db"
    assert normalise_url("postgresql://u:p@h/db") == "postgresql+psycopg://u:p@h/db"
    assert normalise_url("sqlite:///x.db") == "sqlite:///x.db"


def test_c8_petition_text_round_trips_unchanged(uow: UnitOfWork) -> None:
    unit = OrgUnit(code="p2", name="Phường Hai", level_code="phuong_xa")
    person = Person(full_name="Trần Văn Ba")
    uow.session.add_all([unit, person])
    uow.flush()
    assert unit.id is not None and person.id is not None
    long_text = "Đường Nguyễn Trãi ngập nước sau mưa. 🌧️ " * 500
    uow.session.add(
        Petition(
            tracking_code="KN-AAAA-BBBB",
            kind="petition",
            topic_code="moi_truong",
            text=long_text,
            person_id=person.id,
            petitioner_name="Trần Văn Ba",
            petitioner_phone_e164="+84912345678",
            area_org_id=unit.id,
        )
    )
    uow.commit()
    uow.session.expunge_all()
    stored = uow.session.exec(select(Petition)).one()
    assert stored.text == long_text
