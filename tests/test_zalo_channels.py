"""C7: the Zalo channels against the fake Zalo servers on 127.0.0.1 — the webhook signature,
an event delivered twice, a crash after the acknowledgement, tokens that expire and refresh
tokens used once, errors returned as HTTP 200, the reply window, the Zalo Bot's webhook."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

import aiohttp
import pytest
from sqlalchemy import Engine
from sqlmodel import select

from bot.channels.base import (
    Channel,
    OutsideReplyWindow,
    PermanentFailure,
    RateLimited,
    TransientFailure,
)
from bot.channels.zalo_oa import TemplatePlan, ZaloOAChannel
from bot.channels.zalo_oa.channel import NOT_DELIVERED
from bot.channels.zalo_oa.events import incoming_from_event
from bot.channels.zalo_oa.tokens import TokenKeeper
from bot.config import Settings
from handlers.channel import Button, Incoming, Outgoing
from storage import channel_store
from storage.tables import ChannelAccount, InboxEvent, Person
from storage.types import utc_now
from storage.unit_of_work import UnitOfWork
from tests.chat_drivers import Reply
from tests.fake_zalo import FakeZaloBot, FakeZaloOA
from tests.zalo_drivers import ZaloBotDriver, ZaloOADriver, serve

USER = "2468013579"


@dataclass
class OA:
    fake: FakeZaloOA
    channel: ZaloOAChannel
    url: str
    handled: list[Incoming]


def save_first_tokens(engine: Engine, fake: FakeZaloOA, expires_in: int | None = None) -> str:
    access, refresh, seconds = fake.issue_tokens(expires_in)
    with UnitOfWork(engine) as uow:
        channel_store.save_tokens(
            uow, fake.app_id, access, refresh, utc_now() + timedelta(seconds=seconds), utc_now()
        )
    return refresh


def make_channel(engine: Engine, fake: FakeZaloOA, **options: object) -> ZaloOAChannel:
    return ZaloOAChannel(
        engine,
        app_id=fake.app_id,
        app_secret=fake.app_secret,
        oa_secret_key=fake.oa_secret_key,
        api_url=fake.base_url,
        oauth_url=fake.base_url,
        **options,  # type: ignore[arg-type]
    )


@pytest.fixture
async def oa(engine: Engine) -> AsyncIterator[OA]:
    fake = FakeZaloOA()
    await fake.start()
    save_first_tokens(engine, fake)
    handled: list[Incoming] = []

    async def handle(incoming: Incoming) -> list[Outgoing]:
        handled.append(incoming)
        return [Outgoing(text=f"Đã nhận: {incoming.text or incoming.command or ''}")]

    channel = make_channel(engine, fake)
    runner, base = await serve(list(channel.routes()))
    await channel.start(handle)
    try:
        yield OA(fake, channel, base + channel.webhook_path, handled)
    finally:
        await channel.stop()
        await runner.cleanup()
        await fake.stop()


async def settle(oa: OA) -> None:
    for _ in range(50):
        await oa.channel.inbox.drain_once()
        with UnitOfWork(oa.channel.engine) as uow:
            if channel_store.unhandled_count(uow, "zalo_oa") == 0:
                return
        await asyncio.sleep(0.02)


def test_c7_both_zalo_channels_are_channels() -> None:
    settings = Settings.from_environ(
        {
            "DOITHOAI_DATA_DIR": "/nonexistent",
            "ZALO_APP_ID": "1",
            "ZALO_APP_SECRET": "2",
            "ZALO_OA_SECRET_KEY": "3",
            "ZALO_BOT_TOKEN": "1:abc",
        }
    )
    from bot.channels import zalo_bot, zalo_oa

    engine = object()
    assert isinstance(zalo_oa.from_settings(settings, engine), Channel)  # type: ignore[arg-type]
    assert isinstance(zalo_bot.from_settings(settings, engine), Channel)  # type: ignore[arg-type]
    bare = Settings.from_environ({"DOITHOAI_DATA_DIR": "/nonexistent"})
    assert zalo_oa.from_settings(bare, engine) is None  # type: ignore[arg-type]
    assert zalo_bot.from_settings(bare, engine) is None  # type: ignore[arg-type]
    assert settings.zalo_api_url == "https://openapi.zalo.me"
    assert settings.zalo_oauth_url == "https://oauth.zaloapp.com"
    assert settings.zalo_oa_webhook_path == "/zalo/oa"


# -- the webhook --------------------------------------------------------------------------------


async def test_c7_a_forged_zalo_signature_gets_401(oa: OA) -> None:
    event = oa.fake.text_event(USER, "xin chào")
    assert await oa.fake.post_event(oa.url, event, signature="mac=" + "0" * 64) == 401
    assert await oa.fake.post_event(oa.url, event, signature="") == 401
    # Signed with another OA's secret key.
    oa.fake.oa_secret_key, real = "someone-else", oa.fake.oa_secret_key
    assert await oa.fake.post_event(oa.url, event) == 401
    oa.fake.oa_secret_key = real
    # A body changed after signing.
    raw_signature = oa.fake.sign(b'{"x": 1}', event["timestamp"])
    assert await oa.fake.post_event(oa.url, event, signature=raw_signature) == 401
    await settle(oa)
    assert oa.handled == []
    with UnitOfWork(oa.channel.engine) as uow:
        assert uow.session.exec(select(InboxEvent)).all() == []


async def test_c7_every_documented_signature_variant_is_accepted_and_reported(oa: OA) -> None:
    variants = ["app_id+oa_secret", "oa_id+oa_secret", "app_id+app_secret", "oa_id+app_secret"]
    for variant in variants:
        event = oa.fake.text_event(USER, variant)
        assert await oa.fake.post_event(oa.url, event, variant=variant) == 200
    await settle(oa)
    assert [incoming.text for incoming in oa.handled] == variants
    assert oa.channel.signature_variants == dict.fromkeys(variants, 1)


async def test_x4_a_zalo_event_delivered_twice_is_handled_once(oa: OA) -> None:
    event = oa.fake.text_event(USER, "một lần thôi")
    assert await oa.fake.post_event(oa.url, event) == 200
    assert await oa.fake.post_event(oa.url, event) == 200  # Zalo retries: same msg_id
    await settle(oa)
    assert await oa.fake.post_event(oa.url, event) == 200  # and again, after handling
    await settle(oa)
    assert [incoming.text for incoming in oa.handled] == ["một lần thôi"]
    assert [sent.text for sent in oa.fake.sent_to(USER)] == ["Đã nhận: một lần thôi"]
    # Events without a msg_id (follow) get a derived id: a redelivery is still one event.
    follow = oa.fake.follow_event(USER)
    for _ in range(2):
        assert await oa.fake.post_event(oa.url, follow) == 200
    await settle(oa)
    assert [incoming.command for incoming in oa.handled] == [None, "start"]


async def test_x4_a_crash_after_the_acknowledgement_loses_nothing(engine: Engine) -> None:
    fake = FakeZaloOA()
    await fake.start()
    save_first_tokens(engine, fake)
    crashed = make_channel(engine, fake)  # receives, but dies before handling anything
    runner, base = await serve(list(crashed.routes()))
    try:
        for text in ("thứ nhất", "thứ hai"):
            event = fake.text_event(USER, text)
            assert await fake.post_event(base + crashed.webhook_path, event) == 200
        handled: list[str] = []

        async def handle(incoming: Incoming) -> list[Outgoing]:
            handled.append(incoming.text or "")
            return [Outgoing(text="ok")]

        restarted = make_channel(engine, fake)
        await restarted.start(handle)  # handles what was stored before the crash
        for _ in range(200):
            if len(fake.sent_to(USER)) == 2:
                break
            await asyncio.sleep(0.02)
        await restarted.stop()
        assert handled == ["thứ nhất", "thứ hai"]
        assert len(fake.sent_to(USER)) == 2
    finally:
        await runner.cleanup()
        await fake.stop()


def test_c7_zalo_oa_events_become_updates() -> None:
    fake = FakeZaloOA()
    follow = incoming_from_event(fake.follow_event(USER))
    assert follow is not None and follow.command == "start" and follow.user_id == USER
    assert incoming_from_event(fake.unfollow_event(USER)) is None
    command = incoming_from_event(fake.text_event(USER, "/tracuu KN-2345-6789"))
    assert command is not None and (command.command, command.payload) == ("tracuu", "KN-2345-6789")
    info = incoming_from_event(fake.submit_info_event(USER, "+84912345678"))
    assert info is not None and info.contact is not None
    assert (info.contact.phone_number, info.contact.user_id) == ("+84912345678", USER)
    image = incoming_from_event(fake.image_event(USER, "https://zalo.example/a.jpg", "ảnh"))
    assert image is not None and image.attachment is not None and image.text == "ảnh"
    assert (image.attachment.kind, image.attachment.file_ref) == (
        "photo",
        "https://zalo.example/a.jpg",
    )
    document = incoming_from_event(fake.file_event(USER, "https://zalo.example/d.pdf", "d.pdf"))
    assert document is not None and document.attachment is not None
    assert (document.attachment.kind, document.attachment.file_name) == ("document", "d.pdf")
    for short in (False, True):
        place = incoming_from_event(fake.location_event(USER, 10.7721, 106.6983, short=short))
        assert place is not None and place.location == (10.7721, 106.6983)
        assert not place.unsupported
    seen = {**fake.text_event(USER, "x"), "event_name": "user_seen_message"}
    assert incoming_from_event(seen) is None


# -- sending ---------------------------------------------------------------------------------


async def test_c7_zalo_oa_sends_text_in_pieces_buttons_as_template_and_the_phone_request(
    oa: OA,
) -> None:
    long = ("Đường Lê Lợi bị ngập sâu mỗi khi mưa lớn. " * 120).strip()
    few = Outgoing(text="Chọn:", buttons=((Button("Gửi", "send"), Button("Sửa", "edit")),))
    many = Outgoing(
        text="Chọn phường:", buttons=tuple((Button(f"Phường {n}", f"w:{n}"),) for n in range(7))
    )
    ask = Outgoing(text="Xin cho biết <b>số điện thoại</b>", ask_contact="Chia sẻ số điện thoại")
    for message in (Outgoing(text=long), few, many, ask):
        for piece in oa.channel.pieces(message):
            await oa.channel.send(USER, piece)
    sent = oa.fake.sent_to(USER)
    texts = [message.text for message in sent]
    assert all(len(text) <= 2000 for text in texts) and len(sent) == 3 + 1 + 1 + 2
    assert " ".join(texts[:3]) == long
    assert [(b["title"], b["type"], b["payload"]) for b in sent[3].buttons] == [
        ("Gửi", "oa.query.show", "Gửi"),
        ("Sửa", "oa.query.show", "Sửa"),
    ]
    assert sent[4].buttons == [] and "[3] Phường 0" in sent[4].text  # numbered after the 2
    assert sent[5].text == "Xin cho biết số điện thoại" and sent[6].asks_user_info
    # The tapped template button and the typed number both come back as the button.
    await oa.fake.post_event(oa.url, oa.fake.text_event(USER, "Sửa"))
    await oa.fake.post_event(oa.url, oa.fake.text_event(USER, "4"))
    await settle(oa)
    assert [incoming.button for incoming in oa.handled] == ["edit", "w:1"]


async def test_c7_zalo_errors_in_http_200_map_to_the_shared_failures(oa: OA) -> None:
    piece = Outgoing(text="Thông báo")
    oa.fake.fail_next({"error": -201, "message": "Invalid parameters"})
    with pytest.raises(PermanentFailure):
        await oa.channel.send(USER, piece)
    oa.fake.fail_next({"error": -32, "message": "exceed rate limit"})
    with pytest.raises(RateLimited):
        await oa.channel.send(USER, piece)
    oa.fake.rate_limit()
    with pytest.raises(RateLimited) as limited:
        await oa.channel.send(USER, piece)
    assert limited.value.retry_after == pytest.approx(0.05)
    oa.fake.fail_next({"error": -1, "message": "Internal error"}, status=502)
    with pytest.raises(TransientFailure):
        await oa.channel.send(USER, piece)
    oa.fake.outside_window.add(USER)
    with pytest.raises(OutsideReplyWindow) as refused:
        await oa.channel.send(USER, piece)
    assert refused.value.reason == NOT_DELIVERED
    oa.fake.outside_window.clear()
    await oa.channel.send(USER, piece)
    assert [sent.text for sent in oa.fake.sent_to(USER)] == ["Thông báo"]


@pytest.mark.parametrize("as_401", [False, True])
async def test_c7_an_expired_access_token_is_refreshed_and_the_send_repeated(
    oa: OA, as_401: bool
) -> None:
    oa.fake.expired_as_401 = as_401
    oa.fake.expire_access()  # Zalo says expired although our store thinks it is valid
    await oa.channel.send(USER, Outgoing(text="sau khi làm mới"))
    assert len(oa.fake.refresh_calls) == 1
    assert [sent.text for sent in oa.fake.sent_to(USER)] == ["sau khi làm mới"]


async def test_c7_an_access_token_is_refreshed_before_it_expires(engine: Engine) -> None:
    fake = FakeZaloOA()
    await fake.start()
    first_refresh = save_first_tokens(engine, fake, expires_in=60)  # under the 10-minute margin
    channel = make_channel(engine, fake)
    try:
        await channel.send(USER, Outgoing(text="một"))
        await channel.send(USER, Outgoing(text="hai"))
        assert fake.refresh_calls == [first_refresh]  # once, then the new token is used
        assert not fake.refresh_token_valid(first_refresh)
    finally:
        await channel.stop()
        await fake.stop()


async def test_c7_x4_zalo_oa_sends_reuse_the_tokens_read_and_see_another_processes_new_ones(
    engine: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A send reads no database while the tokens read are fresh (KEEP_SECONDS); tokens another
    process stored are used at once when Zalo calls the kept ones expired (no refresh token
    spent), and read again when the time is up."""
    from bot.channels.zalo_oa import tokens as tokens_module

    fake = FakeZaloOA()
    await fake.start()
    save_first_tokens(engine, fake)
    reads: list[str] = []
    load_tokens = channel_store.load_tokens

    def counted(uow: UnitOfWork, app_id: str) -> object:
        reads.append(app_id)
        return load_tokens(uow, app_id)

    monkeypatch.setattr(channel_store, "load_tokens", counted)
    channel = make_channel(engine, fake)
    try:
        for text in ("một", "hai", "ba"):
            await channel.send(USER, Outgoing(text=text))
        assert len(reads) == 1
        # Another process (the CLI, another worker's refresh) stores a new pair; Zalo now
        # refuses the old access token.
        fake.expire_access()
        save_first_tokens(engine, fake)
        await channel.send(USER, Outgoing(text="bốn"))
        assert fake.refresh_calls == []  # the newer generation was read, nothing spent
        assert [m.text for m in fake.sent_to(USER)][-1] == "bốn"
        monkeypatch.setattr(tokens_module, "KEEP_SECONDS", 0.0)
        before = len(reads)
        await channel.send(USER, Outgoing(text="năm"))
        assert len(reads) == before + 1
    finally:
        await channel.stop()
        await fake.stop()


async def test_c7_a_zalo_refresh_token_is_used_once_by_concurrent_refreshers(
    engine: Engine,
) -> None:
    """Two processes (two keepers, two HTTP sessions, one database) find the token expired at
    once: one refreshes, the other waits for its tokens; the used token is never sent twice."""
    fake = FakeZaloOA(refresh_delay=0.2)
    await fake.start()
    first_refresh = save_first_tokens(engine, fake, expires_in=1)
    sessions = [aiohttp.ClientSession() for _ in range(3)]
    try:
        keepers = [
            TokenKeeper(
                engine,
                session,
                oauth_url=fake.base_url,
                app_id=fake.app_id,
                app_secret=fake.app_secret,
                wait_seconds=0.02,
            )
            for session in sessions
        ]
        tokens = await asyncio.gather(*(keeper.access_token() for keeper in keepers))
        assert fake.refresh_calls == [first_refresh]
        assert len({access for access, _ in tokens}) == 1
        assert sum(keeper.refreshes for keeper in keepers) == 1
        with UnitOfWork(engine) as uow:
            stored = channel_store.load_tokens(uow, fake.app_id)
        assert stored is not None and fake.refresh_token_valid(stored.refresh_token)
        # A used refresh token answers -14020: refused for good, and the stored pair stays.
        with pytest.raises(PermanentFailure):
            await keepers[0]._call(first_refresh)
    finally:
        for session in sessions:
            await session.close()
        await fake.stop()


# -- the reply window ------------------------------------------------------------------------


def _zalo_resident(engine: Engine, phone: str | None) -> int:
    with UnitOfWork(engine) as uow:
        person = Person(full_name="Nguyễn Văn An", phone_e164=phone, phone_verified=bool(phone))
        uow.session.add(person)
        uow.flush()
        assert person.id is not None
        uow.session.add(
            ChannelAccount(
                person_id=person.id, channel="zalo_oa", external_user_id=USER, chat_id=USER
            )
        )
        uow.commit()
        return person.id


async def test_c7_outside_the_reply_window_a_notice_goes_by_template_to_the_verified_phone(
    engine: Engine,
) -> None:
    fake = FakeZaloOA()
    await fake.start()
    save_first_tokens(engine, fake)
    plan = TemplatePlan.parse(
        "tpl-204517", "ma_ho_so=tracking_code, trang_thai=kind", fake.template_url
    )
    channel = make_channel(engine, fake, template=plan)
    _zalo_resident(engine, "+84912345678")
    fake.outside_window.add(USER)
    try:
        notice = Outgoing(
            text="Ý kiến KN-2345-6789 đã được trả lời.",
            extra={"kind": "petition.answered", "tracking_code": "KN-2345-6789"},
        )
        await channel.send(USER, notice)
        assert fake.sent_to(USER) == []
        (template,) = fake.templates
        assert template["phone"] == "84912345678" and template["template_id"] == "tpl-204517"
        assert template["template_data"] == {
            "ma_ho_so": "KN-2345-6789",
            "trang_thai": "petition.answered",
        }
        # A reply in a conversation (no notice kind) is not a template's business.
        with pytest.raises(OutsideReplyWindow):
            await channel.send(USER, Outgoing(text="Xin chào"))
    finally:
        await channel.stop()
        await fake.stop()


async def test_c7_a_push_outside_the_reply_window_is_recorded_as_not_delivered(
    engine: Engine, uow: UnitOfWork
) -> None:
    """No template configured: the outbox row fails as "not delivered: outside Zalo's reply
    window", and the petition's timeline says so (staff's audit trail, the resident's /tracuu)."""
    from bot.outbox_sender import OutboxSender
    from procedure.notifications import enqueue
    from storage.tables import Event, OutboxMessage, Petition

    fake = FakeZaloOA()
    await fake.start()
    save_first_tokens(engine, fake)
    channel = make_channel(engine, fake)
    person_id = _zalo_resident(engine, "+84912345678")
    with UnitOfWork(engine) as work:
        from storage.tables import OrgUnit, Topic

        ward = OrgUnit(code="w", name="Phường Bến Thành", level_code="phuong_xa")
        topic = work.session.exec(select(Topic)).first()
        assert topic is not None
        work.session.add(ward)
        work.flush()
        petition = Petition(
            tracking_code="KN-2345-6789",
            kind="petition",
            topic_code=topic.code,
            text="Đường Lê Lợi bị ngập.",
            person_id=person_id,
            petitioner_name="Nguyễn Văn An",
            petitioner_phone_e164="+84912345678",
            area_org_id=ward.id,  # type: ignore[arg-type]
            channel="zalo_oa",
        )
        work.session.add(petition)
        enqueue(
            work,
            person_id=person_id,
            kind="petition.forwarded",
            data={"tracking_code": "KN-2345-6789", "agency": "Phòng Đô thị", "due": "2026-04-01"},
            key="petition:1:forwarded",
        )
        work.commit()
    fake.outside_window.add(USER)
    try:
        sender = OutboxSender(engine, {"zalo_oa": channel}, global_per_second=1000)
        await sender.drain_once()
    finally:
        await channel.stop()
        await fake.stop()
    with UnitOfWork(engine) as work:
        (row,) = work.session.exec(select(OutboxMessage)).all()
        assert row.failed_at is not None and row.sent_at is None
        assert row.failure == "not delivered: outside Zalo's reply window"
        (event,) = work.session.exec(
            select(Event).where(Event.kind == "petition.not_delivered")
        ).all()
        assert event.petition_id == petition.id and event.reason == row.failure
        assert event.details["message_kind"] == "petition.forwarded"
    from texts import t

    assert "Zalo" in t("chat.tracking.event.not_delivered", when="x")


# -- the Zalo Bot ---------------------------------------------------------------------------------


async def test_c7_zalo_bot_webhook_checks_its_secret_and_handles_an_event_once(
    engine: Engine,
) -> None:
    from bot.channels.zalo_bot import ZaloBotChannel

    fake = FakeZaloBot()
    await fake.start()
    handled: list[Incoming] = []

    async def handle(incoming: Incoming) -> list[Outgoing]:
        handled.append(incoming)
        buttons = tuple((Button(f"Lựa chọn {n}", f"c:{n}"),) for n in range(1, 4))
        return [Outgoing(text="Chọn <b>một</b> &amp; gõ số:", buttons=buttons)]

    channel = ZaloBotChannel(engine, token=fake.token, api_url=fake.base_url, webhook_url="x")
    runner, base = await serve([])
    await runner.cleanup()
    channel.webhook_url = base  # the address Zalo posts to: our application on 127.0.0.1
    runner, base2 = await serve(list(channel.routes()))
    channel.webhook_url = base2
    try:
        await channel.start(handle)
        assert fake.webhook_url == base2 + "/zalo/bot" and fake.webhook_secret
        event = fake.text_event(USER, "xin chào")
        assert await fake.deliver(event) == 200
        assert await fake.deliver(event) == 200  # redelivered: handled once
        secret, fake.webhook_secret = fake.webhook_secret, "forged-secret"
        assert await fake.deliver(fake.text_event(USER, "giả mạo")) == 401
        fake.webhook_secret = secret
        assert await fake.deliver(fake.text_event(USER, "2")) == 200
        # A label typed as people type it (no diacritics, another case) is its button too.
        assert await fake.deliver(fake.text_event(USER, "lua CHON 3")) == 200
        for _ in range(100):
            if len(handled) == 3 and len(fake.sent_to(USER)) == 3:  # all answered
                break
            await channel.inbox.drain_once()
            await asyncio.sleep(0.02)
        assert [(i.text, i.button) for i in handled] == [
            ("xin chào", None),
            (None, "c:2"),
            (None, "c:3"),
        ]
        first = fake.sent_to(USER)[0].text
        assert first.startswith("Chọn một & gõ số:") and "[3] Lựa chọn 3" in first
        # A push: numbered after the buttons already shown; 429 is the shared RateLimited.
        await channel.send(USER, Outgoing(text="Tin mới", buttons=((Button("Xem", "v"),),)))
        assert "[4] Xem" in fake.sent_to(USER)[-1].text
        fake.rate_limit()
        with pytest.raises(RateLimited):
            await channel.send(USER, Outgoing(text="Tin nữa"))
    finally:
        await channel.stop()
        await runner.cleanup()
        await fake.stop()


async def test_c7_x4_zalo_bot_out_of_reach_at_start_is_reached_later(
    engine: Engine, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    """The Zalo Bot platform out of reach when the channel starts: the start returns (the other
    channels of the process serve), tries again, and polls once the platform answers."""
    import socket

    from bot.channels import reconnect
    from bot.channels.zalo_bot import ZaloBotChannel

    monkeypatch.setattr(reconnect, "RETRY_SECONDS", (0.1,))
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]  # nothing listens there yet: connections are refused
    fake = FakeZaloBot(port=port)

    async def handle(incoming: Incoming) -> list[Outgoing]:
        return [Outgoing(text=f"Đã nhận: {incoming.text}")]

    channel = ZaloBotChannel(
        engine, token=fake.token, api_url=f"http://127.0.0.1:{port}", poll_timeout=1
    )
    await channel.start(handle)
    try:
        assert "Zalo Bot could not be reached at start" in caplog.text
        await fake.start()
        await fake.deliver(fake.text_event(USER, "xin chào"))
        for _ in range(200):
            if fake.sent_to(USER):
                break
            await asyncio.sleep(0.05)
        assert [message.text for message in fake.sent_to(USER)] == ["Đã nhận: xin chào"]
        assert fake.calls.count("deleteWebhook") == 1
    finally:
        await channel.stop()
        await fake.stop()


async def test_c7_x4_zalo_bot_polling_through_an_outage_warns_once_and_answers_after(
    engine: Engine, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    """The Zalo Bot platform gone while the channel polls: polled again after the delays of
    bot/channels/reconnect.py, a warning for the first failures only (not one every 30 s for
    as long as it lasts), and the resident is answered once it is back."""
    import logging
    import socket

    from bot.channels import reconnect
    from bot.channels.zalo_bot import ZaloBotChannel

    monkeypatch.setattr(reconnect, "RETRY_SECONDS", (0.01,))
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    fake = FakeZaloBot(port=port)
    await fake.start()

    async def handle(incoming: Incoming) -> list[Outgoing]:
        return [Outgoing(text=f"Đã nhận: {incoming.text}")]

    channel = ZaloBotChannel(
        engine, token=fake.token, api_url=f"http://127.0.0.1:{port}", poll_timeout=1
    )
    caplog.set_level(logging.DEBUG, logger="bot.channels.zalo_bot.channel")

    def failures() -> list[logging.LogRecord]:
        return [r for r in caplog.records if "getUpdates failed" in r.getMessage()]

    await channel.start(handle)
    back = FakeZaloBot(port=port)
    try:
        await fake.stop()  # the platform gone
        for _ in range(500):
            if len(failures()) >= 20:
                break
            await asyncio.sleep(0.01)
        await back.start()
        await back.deliver(back.text_event(USER, "xin chào"))
        for _ in range(200):
            if back.sent_to(USER):
                break
            await asyncio.sleep(0.05)
        assert [message.text for message in back.sent_to(USER)] == ["Đã nhận: xin chào"]
    finally:
        await channel.stop()
        await back.stop()
    levels = [record.levelno for record in failures()]
    assert len(levels) >= 20 and levels.count(logging.WARNING) == 1, levels
    assert "Zalo Bot reached again after" in caplog.text


async def test_c7_a_typed_label_presses_its_button_only_when_it_is_one_buttons(
    engine: Engine,
) -> None:
    """On Zalo buttons are numbered lines: a number, a label, or a label typed without
    diacritics presses a button; a label that several buttons' labels read as without
    diacritics ("ben": "Bên", "Bền", "Bến") presses none, and the step reads it as typed."""
    from bot.channels.plain_text import ButtonMemory

    memory = ButtonMemory(engine, "zalo_bot")
    words = (Button("Bên", "w:1"), Button("Bền", "w:2"), Button("Bến", "w:3"))
    again = (Button("Tự gõ lại cả câu", "w:again"),)
    await memory.after_turn(USER, [Outgoing(text="Chữ nào?", buttons=(words, again))])
    assert await memory.resolve(USER, "Bến") == "w:3"
    assert await memory.resolve(USER, "2") == "w:2"
    assert await memory.resolve(USER, "tu go lai  CA cau") == "w:again"
    assert await memory.resolve(USER, "ben") is None
    assert await memory.resolve(USER, "gõ lại") is None


def test_c7_zalo_first_tokens_come_from_the_cli(tmp_path: Path) -> None:
    from storage.engine import make_engine, sqlite_url
    from tests.test_cli import run

    result = run(
        tmp_path,
        "zalo",
        "token",
        "--access",
        "acc-1",
        "--refresh",
        "ref-1",
        "--expires-in",
        "3600",
        "--app-id",
        "42",
    )
    assert result.returncode == 0, result.stderr
    assert "42" in result.stdout and "acc-1" not in result.stdout and "ref-1" not in result.stdout
    engine = make_engine(sqlite_url(tmp_path))
    with UnitOfWork(engine) as uow:
        stored = channel_store.load_tokens(uow, "42")
    assert stored is not None and (stored.access_token, stored.refresh_token) == ("acc-1", "ref-1")
    assert timedelta(minutes=59) < stored.access_expires_at - utc_now() <= timedelta(hours=1)
    missing = run(tmp_path, "zalo", "token", "--access", "a", "--refresh", "r")
    assert missing.returncode == 2 and "ZALO_APP_ID" in missing.stdout


async def _bot_until_code(bot: ZaloBotDriver, user: int) -> list[Reply]:
    await bot.command(user, "gopy")
    await bot.press(user, "Không gắn với buổi đối thoại")
    await bot.press(user, "Góp ý")
    await bot.press(user, "Môi trường")
    replies = await bot.text(user, "Vỉa hè đường Lê Lợi bị lấn chiếm, đề nghị phường kiểm tra.")
    replies = await bot.press(user, "Tôi đồng ý")
    replies = await bot.text(user, "Nguyễn Văn Bình")
    assert any(reply.ask_contact for reply in replies)
    replies = await bot.text(user, "0912345678")
    if "phường, xã" in " ".join(reply.text for reply in replies):
        replies = await bot.text(user, "ben thanh")
        replies = await bot.press(user, "Phường Bến Thành")
    return replies


async def test_q3_zalo_channels_show_the_verification_code_as_a_picture_where_they_can(
    world: object, chat_engine: Engine
) -> None:
    """Where codes are pictures (VERIFY_CODE_AS=image, the default next to Telegram): Zalo OA
    uploads the picture and sends it; the Zalo Bot sends it by sendPhoto with its link
    (PUBLIC_URL), which the platform fetches; without PUBLIC_URL the Zalo Bot's resident reads
    the code as text."""
    from handlers.conversations import Conversations
    from handlers.turn import ChatSettings
    from procedure.use_cases.context import ProcedureContext
    from tests.test_chat_contract import give_details, verify_code

    def make() -> Conversations:
        return Conversations(chat_engine, ProcedureContext(), ChatSettings(verify_code_as="image"))

    driver = await ZaloOADriver.start(make)
    try:
        replies = await driver.command(1, "gopy")
        replies = await driver.press(1, "Không gắn với buổi đối thoại")
        replies = await driver.press(1, "Kiến nghị")
        replies = await driver.press(1, "Giao thông")
        replies = await driver.text(1, "Đường Lê Lợi bị ngập sâu mỗi khi mưa lớn.")
        replies = await give_details(driver, 1, replies)
        # Zalo OA: the picture is uploaded (upload/image) and sent as a media message.
        assert any(reply.image for reply in replies)
        with pytest.raises(AssertionError):
            verify_code(replies)
        assert [upload.kind for upload in driver.fake.uploads] == ["image"]
        assert driver.fake.uploads[0].content.startswith(b"\x89PNG")
    finally:
        await driver.close()
    bot = await ZaloBotDriver.start(make)
    try:
        replies = await _bot_until_code(bot, 2)
        assert any(reply.image for reply in replies)
        with pytest.raises(AssertionError):
            verify_code(replies)  # the digits are in the picture only
        picture = [sent.photo for sent in bot.fake.sent_to("2") if sent.photo]
        assert picture and picture[-1].startswith(b"\x89PNG")
        bot.links.files.public_url = None  # no PUBLIC_URL: no picture can be sent
        replies = await _bot_until_code(bot, 3)
        assert not any(reply.image for reply in replies)
        assert len(verify_code(replies)) == 5  # the digits, in the text
    finally:
        await bot.close()


async def test_c7_a_refresh_token_spent_elsewhere_keeps_notices_waiting(engine: Engine) -> None:
    """-14020 (the refresh token was used or expired): every send would fail until an
    administrator gives new tokens, so a notice waits (transient) rather than failing for good."""
    fake = FakeZaloOA()
    await fake.start()
    spent = save_first_tokens(engine, fake, expires_in=1)
    fake._refresh[spent] = False  # another installation refreshed with it
    channel = make_channel(engine, fake)
    try:
        with pytest.raises(TransientFailure):
            await channel.send(USER, Outgoing(text="Thông báo"))
        assert fake.refresh_calls == [spent] and fake.sent == []
    finally:
        await channel.stop()
        await fake.stop()


def test_x4_inbox_claims_the_oldest_event_of_each_chat_only(engine: Engine) -> None:
    """Several workers: a chat's next event waits until the one before it is handled."""
    lease = timedelta(minutes=1)
    with UnitOfWork(engine) as uow:
        for event_id, chat in (("a1", "A"), ("a2", "A"), ("b1", "B"), ("a3", "A")):
            assert channel_store.add_inbox_event(uow, "zalo_oa", event_id, {}, utc_now(), chat)
        assert not channel_store.add_inbox_event(uow, "zalo_oa", "a1", {}, utc_now(), "A")

    def claim() -> list[str]:
        with UnitOfWork(engine) as uow:
            claimed = channel_store.claim_inbox_events(
                uow, "zalo_oa", now=utc_now(), lease=lease, limit=10
            )
        return [event.event_id for event in claimed]

    first = claim()
    assert first == ["a1", "b1"]
    assert claim() == []  # another worker: a2 waits behind a1, still being handled
    with UnitOfWork(engine) as uow:
        ids = {e.event_id: e.id for e in uow.session.exec(select(InboxEvent))}
        channel_store.finish_inbox_event(uow, ids["a1"], now=utc_now())  # type: ignore[arg-type]
        channel_store.finish_inbox_event(  # b1 failed this time: tried again later
            uow,
            ids["b1"],  # type: ignore[arg-type]
            now=utc_now(),
            failure="TimeoutError",
        )
    assert claim() == ["a2", "b1"]


async def test_x3_the_zalo_oa_benchmark_answers_every_event() -> None:
    """benchmarks/zalo_oa_throughput.py on a few events: each is acknowledged, handled and
    answered (it had stopped at its world's seeding, its reference data never committed)."""
    from benchmarks.zalo_oa_throughput import our_channel

    acked, handled = await our_channel(users=3, turns=2)
    assert acked > 0 and handled > 0


@pytest.mark.parametrize("through", ["outbox", "replies"])
async def test_c7_x4_a_pushs_buttons_are_remembered_once_outside_the_rate_limiters_turn(
    engine: Engine, monkeypatch: pytest.MonkeyPatch, through: str
) -> None:
    """Remembering a push's buttons is a database write: done before the rate limiter's turn
    (its delay inside would bunch the calls the limiter spaced out, over Zalo's limit), and
    once, though Zalo answers the first call 429 and the piece is sent again."""
    from bot.channels.zalo_bot import ZaloBotChannel
    from bot.outbox_sender import OutboxSender
    from bot.rate_limit import RateLimiter
    from bot.reply_sender import ReplySender
    from handlers.reply_queue import queue_replies

    order: list[str] = []
    acquire, release = RateLimiter.acquire, RateLimiter.release

    async def acquiring(self: RateLimiter, chat: object, *, urgent: bool = False) -> None:
        await acquire(self, chat, urgent=urgent)  # type: ignore[arg-type]
        order.append("turn")

    def releasing(self: RateLimiter, chat: object) -> None:
        order.append("end")
        release(self, chat)  # type: ignore[arg-type]

    monkeypatch.setattr(RateLimiter, "acquire", acquiring)
    monkeypatch.setattr(RateLimiter, "release", releasing)
    fake = FakeZaloBot()
    await fake.start()
    channel = ZaloBotChannel(engine, token=fake.token, api_url=fake.base_url)
    remember = channel.buttons.add

    async def remembering(chat_id: str, message: Outgoing) -> int:
        order.append("remember")
        return await remember(chat_id, message)

    monkeypatch.setattr(channel.buttons, "add", remembering)
    push = Outgoing(text="Mời dự phiên đối thoại", buttons=((Button("Đăng ký", "r:1"),),))
    fake.rate_limit()
    try:
        if through == "outbox":
            with UnitOfWork(engine) as uow:
                person = Person(full_name="Nguyễn Văn An")
                uow.session.add(person)
                uow.flush()
                assert person.id is not None
                incoming = Incoming(channel="zalo_bot", chat_id=USER, user_id=USER, text="x")
                queue_replies(uow, incoming, person.id, [push])
                uow.commit()
            sender = OutboxSender(engine, {"zalo_bot": channel}, global_per_second=1000)
            await sender.drain_once()
            assert (sender.sent, sender.rate_limited) == (1, 1)
        else:
            replies = ReplySender(RateLimiter(1000, 1000))
            assert await replies.deliver(channel, USER, [push])
            assert (replies.sent, replies.rate_limited) == (1, 1)
    finally:
        await channel.stop()
        await fake.stop()
    assert order == ["remember", "turn", "end", "turn", "end"]
    (sent,) = fake.sent_to(USER)
    assert "[1] Đăng ký" in sent.text
    assert fake.too_many_requests_sent == 1
