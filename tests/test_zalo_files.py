"""B3 ("a file on Zalo"), C7: pictures and files on Zalo OA and the Zalo Bot, against the fake
servers on 127.0.0.1. Zalo OA: uploads (``/v2.0/oa/upload/image`` ≤ 1 MB JPEG/PNG,
``/v2.0/oa/upload/file`` ≤ 5 MB PDF/DOC/DOCX), messages carrying the uploaded id, ids reused and
uploaded again when Zalo no longer takes them, failures mapped to the shared classes, and the
files Zalo does not take (the calendar file, a spreadsheet) sent as download links. The Zalo
Bot: pictures by sendPhoto with a link the platform fetches, files as download links."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass

import pytest
from sqlalchemy import Engine

from bot.channels.base import PermanentFailure, RateLimited, TransientFailure
from bot.channels.zalo_bot import ZaloBotChannel
from bot.channels.zalo_oa import ZaloOAChannel
from handlers.channel import Outgoing
from tests.fake_zalo import FakeZaloBot, FakeZaloOA
from tests.test_zalo_channels import USER, make_channel, save_first_tokens
from tests.zalo_drivers import FileLinks, linked_file
from texts import t

PNG = b"\x89PNG\r\n\x1a\n" + b"\0" * 100
DOCX = b"PK\x03\x04" + b"word" * 50
ICS = b"BEGIN:VCALENDAR\r\nVERSION:2.0\r\nEND:VCALENDAR\r\n"


class Clock:
    def __init__(self) -> None:
        self.now = 1_800_000_000.0

    def __call__(self) -> float:
        return self.now


@dataclass
class Setup:
    fake: FakeZaloOA
    channel: ZaloOAChannel
    links: FileLinks
    clock: Clock


@pytest.fixture
async def oa(engine: Engine) -> AsyncIterator[Setup]:
    fake = FakeZaloOA()
    await fake.start()
    save_first_tokens(engine, fake)
    links = FileLinks()
    await links.start()
    clock = Clock()
    channel = make_channel(engine, fake, files=links.files, clock=clock)
    try:
        yield Setup(fake, channel, links, clock)
    finally:
        await channel.stop()
        await links.close()
        await fake.stop()


async def deliver(oa: Setup, message: Outgoing) -> None:
    """As the outbox does: the channel's pieces, each by ``send``."""
    for piece in oa.channel.pieces(message):
        await oa.channel.send(USER, piece)


async def test_b3_zalo_oa_uploads_a_picture_once_and_sends_it_by_its_attachment_id(
    oa: Setup,
) -> None:
    await deliver(oa, Outgoing(text="Mã kiểm tra trong hình", image=PNG))
    await deliver(oa, Outgoing(text="", image=PNG))
    sent = oa.fake.sent_to(USER)
    assert [message.text for message in sent] == ["Mã kiểm tra trong hình", "", ""]
    assert [message.image for message in sent] == [None, PNG, PNG]
    # One upload for the same bytes: its id is reused (5,000 uploads a month).
    assert [(upload.kind, upload.content) for upload in oa.fake.uploads] == [("image", PNG)]
    element = sent[1].template["elements"][0]
    assert element == {"media_type": "image", "attachment_id": oa.fake.uploads[0].reference}


async def test_b3_zalo_oa_uploads_word_files_and_sends_calendar_files_as_download_links(
    oa: Setup,
) -> None:
    await deliver(oa, Outgoing(text="Báo cáo năm", document=("bao-cao-2026.docx", DOCX)))
    await deliver(oa, Outgoing(text="", document=("doi-thoai-phien-3.ics", ICS)))
    await deliver(oa, Outgoing(text="", document=("bao-cao-2026.xlsx", b"PK\x03\x04xlsx")))
    sent = oa.fake.sent_to(USER)
    assert sent[1].file == ("bao-cao-2026.docx", DOCX)
    assert sent[1].body["message"]["attachment"] == {
        "type": "file",
        "payload": {"token": oa.fake.uploads[0].reference},
    }
    # Zalo's file upload takes PDF, DOC and DOCX only: no upload for the others.
    assert [upload.name for upload in oa.fake.uploads] == ["bao-cao-2026.docx"]
    assert "doi-thoai-phien-3.ics" in sent[2].text and "/tep/" in sent[2].text
    assert await linked_file(sent[2].text) == ("doi-thoai-phien-3.ics", ICS)
    assert await linked_file(sent[3].text) == ("bao-cao-2026.xlsx", b"PK\x03\x04xlsx")


async def test_c7_a_zalo_attachment_id_past_its_seven_days_is_uploaded_again(oa: Setup) -> None:
    await deliver(oa, Outgoing(text="", image=PNG))
    # Zalo dropped the id early (our clock says it is 1 day old): refused once, uploaded again.
    oa.fake.age_uploads(8 * 86400)
    oa.clock.now += 86400
    await deliver(oa, Outgoing(text="", image=PNG))
    assert len(oa.fake.uploads) == 2
    assert [message.image for message in oa.fake.sent_to(USER)] == [PNG, PNG]
    # After 6 days the id is not reused at all.
    oa.clock.now += 6 * 86400
    await deliver(oa, Outgoing(text="", image=PNG))
    assert len(oa.fake.uploads) == 3 and len(oa.fake.sent_to(USER)) == 3


async def test_c7_zalo_upload_failures_map_to_the_shared_failures(oa: Setup) -> None:
    piece = Outgoing(text="", image=PNG)
    oa.fake.rate_limit()  # the upload answers 429
    with pytest.raises(RateLimited):
        await oa.channel.send(USER, piece)
    oa.fake.fail_next({"error": -1, "message": "Internal error"}, status=502)
    with pytest.raises(TransientFailure):
        await oa.channel.send(USER, piece)
    oa.fake.expire_access()  # an expired token during an upload: refreshed, upload repeated
    await oa.channel.send(USER, piece)
    assert len(oa.fake.refresh_calls) == 1 and oa.fake.sent_to(USER)[-1].image == PNG
    # Refused with the reused id, then the fresh upload refused too: a permanent failure.
    oa.fake.fail_next({"error": -201, "message": "Invalid parameters"}, times=2)
    with pytest.raises(PermanentFailure):
        await oa.channel.send(USER, piece)


async def test_c7_files_zalo_refuses_or_cannot_take_go_by_link_never_silently(
    oa: Setup,
) -> None:
    big = b"\x89PNG\r\n\x1a\n" + b"\1" * (1024 * 1024)  # over the 1 MB picture limit
    await deliver(oa, Outgoing(text="", image=big, extra={"file_name": "bieu-do.png"}))
    # The upload is refused (not a real PDF): the resident gets the link instead.
    await deliver(oa, Outgoing(text="", document=("ket-luan.pdf", b"not a pdf")))
    sent = oa.fake.sent_to(USER)
    assert oa.fake.uploads == []
    assert await linked_file(sent[0].text) == ("bieu-do.png", big)
    assert await linked_file(sent[1].text) == ("ket-luan.pdf", b"not a pdf")
    # Without PUBLIC_URL: a message saying how to get the file.
    oa.links.files.public_url = None
    await deliver(oa, Outgoing(text="", document=("doi-thoai-phien-3.ics", ICS)))
    assert oa.fake.sent_to(USER)[-1].text == t("files.no_link", name="doi-thoai-phien-3.ics")


async def test_c7_an_attachment_outside_the_reply_window_is_not_sent_by_template(
    oa: Setup,
) -> None:
    """The template fallback carries the notice's text once, never once per attachment."""
    from bot.channels.base import OutsideReplyWindow

    pieces = oa.channel.pieces(
        Outgoing(text="Thư mời", document=("lich.ics", ICS), extra={"kind": "session.invited"})
    )
    assert [piece.extra.get("kind") for piece in pieces] == ["session.invited", None]
    oa.fake.outside_window.add(USER)
    with pytest.raises(OutsideReplyWindow):
        await oa.channel.send(USER, pieces[1])
    assert oa.fake.templates == []


# -- the Zalo Bot: sendPhoto with a link the platform fetches, files as download links ----------


@pytest.fixture
async def bot(engine: Engine) -> AsyncIterator[tuple[FakeZaloBot, ZaloBotChannel, FileLinks]]:
    fake = FakeZaloBot()
    await fake.start()
    links = FileLinks()
    await links.start()
    channel = ZaloBotChannel(
        engine, token=fake.token, api_url=fake.base_url, poll_timeout=1, files=links.files
    )
    try:
        yield fake, channel, links
    finally:
        await channel.stop()
        await links.close()
        await fake.stop()


async def test_b3_the_zalo_bot_sends_pictures_by_link_and_files_as_download_links(
    bot: tuple[FakeZaloBot, ZaloBotChannel, FileLinks],
) -> None:
    fake, channel, _links = bot
    for message in (
        Outgoing(text="Biểu đồ", image=PNG, extra={"file_name": "bieu-do.png"}),
        Outgoing(text="", document=("doi-thoai-phien-3.ics", ICS)),
    ):
        for piece in channel.pieces(message):
            await channel.send(USER, piece)
    sent = fake.sent_to(USER)
    assert [message.text for message in sent[:2]] == ["Biểu đồ", ""]
    assert sent[1].photo == PNG and sent[1].photo_url and "/tep/" in sent[1].photo_url
    assert await linked_file(sent[2].text) == ("doi-thoai-phien-3.ics", ICS)
    assert sent[2].text.startswith("Tệp doi-thoai-phien-3.ics")


async def test_c7_a_zalo_bot_picture_link_the_platform_cannot_fetch_fails_the_send(
    bot: tuple[FakeZaloBot, ZaloBotChannel, FileLinks],
) -> None:
    """The platform fetches the photo URL itself: a broken link is a failed send, not a
    silent one (here the deployment's address answers nothing on that port)."""
    fake, channel, links = bot
    links.files.public_url = "http://127.0.0.1:9"  # the discard port: nothing answers
    with pytest.raises(PermanentFailure):
        await channel.send(USER, Outgoing(text="", image=PNG))
    assert fake.sent_to(USER) == []
    links.files.public_url = None  # no PUBLIC_URL: the resident is told, nothing is dropped
    await channel.send(USER, Outgoing(text="", image=PNG))
    await channel.send(USER, Outgoing(text="", document=("lich.ics", ICS)))
    assert [message.text for message in fake.sent_to(USER)] == [
        t("files.picture_no_link"),
        t("files.no_link", name="lich.ics"),
    ]


async def test_b3_p4_an_invitation_from_the_outbox_reaches_zalo_with_its_calendar_file(
    engine: Engine,
    oa: Setup,
    bot: tuple[FakeZaloBot, ZaloBotChannel, FileLinks],
) -> None:
    """The outbox sender delivers a queued invitation through both Zalo channels: its text,
    then the session's .ics by link, which opens at 08:00 Asia/Ho_Chi_Minh."""
    from sqlmodel import select

    from bot.outbox_sender import OutboxSender
    from procedure.notifications import enqueue_many
    from storage.tables import ChannelAccount, OutboxMessage, Person
    from storage.unit_of_work import UnitOfWork
    from tests.conftest import at

    invitation = {
        "session_id": 1,
        "content": "Đối thoại về chỉnh trang đô thị và vệ sinh môi trường",
        "starts_at": at("2026-03-16", "08:00").isoformat(),
        "ends_at": at("2026-03-16", "11:00").isoformat(),
        "venue": "Hội trường UBND phường Bến Thành",
        "chair": "Phạm Văn Chủ, Chủ tịch UBND phường",
        "unit": "Phường Bến Thành",
    }
    fake_bot, bot_channel, _links = bot
    with UnitOfWork(engine) as uow:
        people = [Person(), Person()]
        uow.session.add_all(people)
        uow.flush()
        for person, channel in zip(people, ("zalo_oa", "zalo_bot"), strict=True):
            uow.session.add(
                ChannelAccount(
                    person_id=person.id,  # type: ignore[arg-type]
                    channel=channel,
                    external_user_id=USER,
                    chat_id=USER,
                )
            )
        enqueue_many(
            uow,
            [(person.id, f"test:invitation:{person.id}") for person in people],  # type: ignore[misc]
            kind="session.invitation",
            data=invitation,
        )
        uow.commit()
    transports = {"zalo_oa": oa.channel, "zalo_bot": bot_channel}
    sender = OutboxSender(engine, transports, global_per_second=50, per_chat_per_second=50)  # type: ignore[arg-type]
    assert await sender.drain_once() == 2
    with UnitOfWork(engine) as uow:
        assert all(row.sent_at is not None for row in uow.session.exec(select(OutboxMessage)))
    for sent in (oa.fake.sent_to(USER), fake_bot.sent_to(USER)):
        assert "chỉnh trang đô thị" in sent[0].text
        linked = await linked_file(sent[-1].text)
        assert linked is not None and linked[0] == "doi-thoai-phien-1.ics"
        assert b"DTSTART;TZID=Asia/Ho_Chi_Minh:20260316T080000" in linked[1]
