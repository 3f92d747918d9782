"""C7 item 5: one resident across channels. The same person on Telegram and Zalo (a phone
verified by both channels) sees the same petitions and timelines; a phone only typed never
joins identities."""

from __future__ import annotations

from sqlalchemy import Engine
from sqlmodel import select

from handlers.conversations import Conversations
from handlers.turn import ChatSettings
from procedure.use_cases.context import ProcedureContext
from storage.tables import ChannelAccount, Event, Petition
from storage.unit_of_work import UnitOfWork
from tests.chat_drivers import ConsoleDriver, find_button
from tests.chat_world import ChatWorld
from tests.procedure_world import Clock
from tests.test_chat_contract import TRACKING_CODE, opinion_until_summary, texts
from tests.zalo_drivers import ZaloOADriver

ALICE_TELEGRAM, ALICE_ZALO = 7_000_000_001, 8_100_000_002


def _make(engine: Engine, clock: Clock):  # type: ignore[no-untyped-def]
    def make() -> Conversations:
        return Conversations(
            engine, ProcedureContext(clock=clock), ChatSettings(verify_code_as="text")
        )

    return make


def _people_of_accounts(engine: Engine) -> dict[tuple[str, str], int]:
    with UnitOfWork(engine) as uow:
        return {
            (a.channel, a.external_user_id): a.person_id
            for a in uow.session.exec(select(ChannelAccount)).all()
        }


async def test_c7_a_phone_verified_on_telegram_and_zalo_is_one_resident(
    world: ChatWorld, chat_engine: Engine, clock: Clock
) -> None:
    from tests.telegram_driver import TelegramDriver

    make = _make(chat_engine, clock)
    telegram = await TelegramDriver.start("aiogram", make)
    zalo = await ZaloOADriver.start(make)
    try:
        await opinion_until_summary(telegram, ALICE_TELEGRAM)
        first = TRACKING_CODE.search(texts(await telegram.press(ALICE_TELEGRAM, "Gửi")))
        assert first is not None
        # On Zalo, before sharing the phone, Alice is nobody we know.
        assert "chưa gửi ý kiến nào" in texts(await zalo.command(ALICE_ZALO, "tracuu"))
        # She writes an opinion on Zalo and shares her phone through Zalo's user info form.
        await opinion_until_summary(zalo, ALICE_ZALO)
        sent = texts(await zalo.press(ALICE_ZALO, "Gửi"))
        second = TRACKING_CODE.search(sent)
        assert second is not None, sent
        accounts = _people_of_accounts(chat_engine)
        alice = accounts[("telegram", str(ALICE_TELEGRAM))]
        assert accounts[("zalo_oa", str(ALICE_ZALO))] == alice
        with UnitOfWork(chat_engine) as uow:
            owners = {p.tracking_code: p.person_id for p in uow.session.exec(select(Petition))}
            joined = uow.session.exec(select(Event).where(Event.kind == "person.joined")).one()
        assert owners == {first.group(0): alice, second.group(0): alice}
        assert joined.actor_person_id == alice
        # Both channels show both petitions, and each one's timeline.
        for driver, user in ((zalo, ALICE_ZALO), (telegram, ALICE_TELEGRAM)):
            listed = await driver.command(user, "tracuu")
            assert "đã gửi 2 ý kiến" in texts(listed)
            assert find_button(listed, first.group(0)) and find_button(listed, second.group(0))
            timeline = await driver.command(user, "tracuu", first.group(0))
            assert "đã tiếp nhận" in texts(timeline)
    finally:
        await zalo.close()
        await telegram.close()


async def test_c7_a_typed_phone_never_joins_identities(
    world: ChatWorld, chat_engine: Engine, clock: Clock
) -> None:
    make = _make(chat_engine, clock)
    zalo = await ZaloOADriver.start(make)
    console = ConsoleDriver(make)
    try:
        await opinion_until_summary(zalo, ALICE_ZALO)  # the phone verified by Zalo
        code = TRACKING_CODE.search(texts(await zalo.press(ALICE_ZALO, "Gửi")))
        assert code is not None
        # Someone types the same number on a channel that cannot verify it.
        await console.command(1, "gopy")
        await console.press(1, "Không gắn với buổi đối thoại")
        await console.press(1, "Góp ý")
        await console.press(1, "Môi trường")
        replies = await console.text(
            1, "Vỉa hè đường Lê Lợi bị lấn chiếm, đề nghị phường kiểm tra."
        )
        replies = await console.press(1, "Tôi đồng ý")
        replies = await console.text(1, "Nguyễn Văn Khác")
        replies = await console.text(1, "0912345678")
        assert "Đã ghi số điện thoại" in texts(replies)
        accounts = _people_of_accounts(chat_engine)
        assert accounts[("console", "u1")] != accounts[("zalo_oa", str(ALICE_ZALO))]
        assert code.group(0) not in texts(await console.command(1, "tracuu"))
        assert "chưa gửi ý kiến nào" in texts(await console.command(1, "tracuu"))
    finally:
        await zalo.close()
        await console.close()


def test_c7_joining_moves_what_the_person_has_and_keeps_clashing_rows(
    engine: Engine, clock: Clock
) -> None:
    """On SQLite and PostgreSQL: every row that refers to the joined person moves to the kept
    one, except a row that would clash with one it has (the same session's registration)."""
    from procedure.use_cases.residents import join_by_verified_phone
    from storage.tables import Consent, Person, Registration
    from tests.chat_world import seed_chat_world

    world = seed_chat_world(engine, clock)
    with UnitOfWork(engine) as uow:
        kept = Person(full_name="Nguyễn Văn An", phone_e164="+84912345678", phone_verified=True)
        typed = Person(full_name="Người khác", phone_e164="+84912345678", phone_verified=False)
        joined = Person(phone_e164="+84912345678", phone_verified=True)
        uow.session.add_all([kept, typed, joined])
        uow.flush()
        assert kept.id and typed.id and joined.id
        kept_id, typed_id, joined_id = kept.id, typed.id, joined.id
        uow.session.add_all(
            [
                ChannelAccount(
                    person_id=kept_id, channel="telegram", external_user_id="1", chat_id="1"
                ),
                ChannelAccount(
                    person_id=joined_id, channel="zalo_oa", external_user_id="z", chat_id="z"
                ),
                Registration(session_id=world.session_id, person_id=kept_id, code="AAA-AAA"),
                Registration(session_id=world.session_id, person_id=joined_id, code="BBB-BBB"),
                Registration(session_id=world.full_session_id, person_id=joined_id, code="CCC-CCC"),
                Consent(person_id=joined_id, notice_version="2026-01", channel="zalo_oa"),
            ]
        )
        uow.commit()
        survivor = join_by_verified_phone(
            uow, joined_id, "+84912345678", "zalo_oa", ProcedureContext(clock=clock)
        )
        uow.commit()
        assert survivor == kept_id
        accounts = {a.channel: a.person_id for a in uow.session.exec(select(ChannelAccount))}
        registrations = {r.code: r.person_id for r in uow.session.exec(select(Registration))}
        consents = [c.person_id for c in uow.session.exec(select(Consent))]
        shell = uow.session.get(Person, joined_id)
    assert accounts == {"telegram": kept_id, "zalo_oa": kept_id}
    assert registrations == {"AAA-AAA": kept_id, "BBB-BBB": joined_id, "CCC-CCC": kept_id}
    assert consents == [kept_id]
    assert shell is not None and shell.phone_e164 is None and not shell.phone_verified
    with UnitOfWork(engine) as uow:  # the typed phone was never a candidate
        assert uow.session.get(Person, typed_id).phone_e164 == "+84912345678"  # type: ignore[union-attr]
        context = ProcedureContext()
        assert join_by_verified_phone(uow, typed_id, "+84912345678", "web", context) == kept_id
        # Two accounts of one channel with the same verified phone are not joined.
        assert (
            join_by_verified_phone(uow, typed_id, "+84912345678", "telegram", context) == typed_id
        )
