"""Files served by signed, expiring links on the one web application (bot/files.py), for the
channels that cannot carry a file themselves (the Zalo Bot; files Zalo OA refuses) and for staff
who open a resident's photo (B3: the calendar file "a file on Zalo"; C7)."""

from __future__ import annotations

import asyncio
import stat
from collections.abc import AsyncIterator
from pathlib import Path

import aiohttp
import pytest
from sqlalchemy import Engine

from bot.app import Running, serve
from bot.config import Settings
from bot.files import PublicFiles, file_message, secret_from
from tests.zalo_drivers import serve as serve_routes
from texts import t

ICS = b"BEGIN:VCALENDAR\r\nVERSION:2.0\r\nEND:VCALENDAR\r\n"
PNG = b"\x89PNG\r\n\x1a\n" + b"\0" * 64


class Clock:
    def __init__(self) -> None:
        self.now = 1_800_000_000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
async def served(tmp_path: Path) -> AsyncIterator[tuple[PublicFiles, Clock]]:
    clock = Clock()
    files = PublicFiles(tmp_path, b"secret", None, days=30, clock=clock)
    runner, base = await serve_routes(list(files.routes()))
    files.public_url = base
    try:
        yield files, clock
    finally:
        await runner.cleanup()


async def fetch(url: str) -> tuple[int, dict[str, str], bytes]:
    async with aiohttp.ClientSession() as session, session.get(url) as response:
        return response.status, dict(response.headers), await response.read()


async def test_b3_a_calendar_file_link_downloads_as_text_calendar_with_its_name(
    served: tuple[PublicFiles, Clock],
) -> None:
    files, _clock = served
    url = files.link("doi-thoai-phien-3.ics", ICS)
    assert url is not None and url.startswith(f"{files.public_url}/tep/")
    assert url.endswith("/doi-thoai-phien-3.ics")
    status, headers, body = await fetch(url)
    assert status == 200 and body == ICS
    assert headers["Content-Type"].startswith("text/calendar")
    assert headers["Content-Disposition"] == 'attachment; filename="doi-thoai-phien-3.ics"'
    assert headers["X-Content-Type-Options"] == "nosniff"
    status, headers, body = await fetch(files.link("anh.png", PNG) or "")
    assert (status, headers["Content-Type"], body) == (200, "image/png", PNG)
    assert headers["Content-Disposition"].startswith("inline;")
    # The same content is stored once.
    assert len(list((files.root / "files").iterdir())) == 2


async def test_c7_file_links_cannot_be_guessed_altered_or_used_after_they_expire(
    served: tuple[PublicFiles, Clock],
) -> None:
    files, clock = served
    url = files.link("lich.ics", ICS)
    assert url is not None
    token = url.split("/tep/")[1].split("/")[0]
    payload, signature = token.split(".")
    forged = f"{files.public_url}/tep/{payload}.{signature[:-2]}AA/lich.ics"
    other_key = PublicFiles(files.root, b"another secret", files.public_url, clock=clock)
    foreign = other_key.link("lich.ics", ICS)
    assert foreign is not None
    for bad in [
        forged,
        foreign,
        f"{files.public_url}/tep/",
        f"{files.public_url}/tep/{payload}",
        f"{files.public_url}/tep/..%2Ffile-link.key",
    ]:
        status, _headers, _body = await fetch(bad)
        assert status == 404, bad
    assert (await fetch(url))[0] == 200
    clock.now += 30 * 86400 + 1
    assert (await fetch(url))[0] == 404  # expired


async def test_c7_a_link_reaches_a_web_chat_photo_only_inside_the_data_folder(
    served: tuple[PublicFiles, Clock], tmp_path_factory: pytest.TempPathFactory
) -> None:
    files, _clock = served
    upload = files.root / "web-uploads" / "abc.jpg"
    upload.parent.mkdir()
    upload.write_bytes(b"\xff\xd8\xff jpeg")
    url = files.link_ref(f"file:{upload}")
    assert url is not None
    status, headers, body = await fetch(url)
    assert (status, headers["Content-Type"], body) == (200, "image/jpeg", b"\xff\xd8\xff jpeg")
    outside = tmp_path_factory.mktemp("elsewhere") / "secret.jpg"
    outside.write_bytes(b"no")
    assert files.link_ref(f"file:{outside}") is None
    assert files.link_ref("AgACAgIAAxkBAAI") is None  # a Telegram file id is no file of ours
    assert files.link_ref(f"file:{upload.parent / 'missing.jpg'}") is None


def test_c7_without_public_url_there_is_no_link_and_the_chat_says_how_to_get_the_file(
    tmp_path: Path,
) -> None:
    files = PublicFiles(tmp_path, b"secret", None)
    assert files.link("lich.ics", ICS) is None
    assert file_message(files, "lich.ics", ICS) == t("files.no_link", name="lich.ics")
    linked = PublicFiles(tmp_path, b"secret", "https://phuong.example.vn/")
    message = file_message(linked, "lich.ics", ICS)
    assert "https://phuong.example.vn/tep/" in message and "30" in message


def test_c7_the_link_secret_is_made_once_and_kept_private(tmp_path: Path) -> None:
    settings = Settings(data_dir=tmp_path, database_url="sqlite://")
    first = secret_from(settings)
    assert len(first) >= 32 and secret_from(settings) == first
    mode = (tmp_path / "file-link.key").stat().st_mode
    assert stat.S_IMODE(mode) == 0o600
    given = Settings(data_dir=tmp_path, database_url="sqlite://", file_link_secret="given")
    assert secret_from(given) == b"given"
    env = Settings.from_environ(
        {"PUBLIC_URL": "https://phuong.example.vn/", "DOITHOAI_DATA_DIR": str(tmp_path)}
    )
    assert env.public_url == "https://phuong.example.vn" and env.file_link_days == 30


async def test_c7_doithoai_run_serves_file_links_and_warns_without_public_url(
    engine: Engine, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """``serve``: with PUBLIC_URL the links are served by the one application (a port is
    opened even with no channel route); without it, the log says what Zalo cannot send."""
    from handlers.conversations import Conversations
    from handlers.turn import ChatSettings
    from procedure.use_cases.context import ProcedureContext

    class Silent:  # a channel with no route, like Zalo Bot by long polling
        name = "zalo_bot"
        from bot.channels.base import Capabilities

        capabilities = Capabilities()

        async def start(self, handle: object) -> None: ...
        async def stop(self) -> None: ...
        def routes(self) -> list[object]:
            return []

        def pieces(self, message: object) -> list[object]:
            return [message]

        async def send(self, chat_id: str, message: object) -> None: ...

    conversations = Conversations(engine, ProcedureContext(), ChatSettings(verify_code_as="text"))
    for public_url in (None, "https://phuong.example.vn"):
        settings = Settings(
            data_dir=tmp_path,
            database_url=str(engine.url),
            webhook_listen="127.0.0.1:0",
            public_url=public_url,
        )
        stop = asyncio.Event()
        ready: asyncio.Future[Running] = asyncio.get_running_loop().create_future()
        caplog.clear()
        task = asyncio.create_task(
            serve(settings, conversations, [Silent()], stop, on_ready=ready.set_result)  # type: ignore[list-item]
        )
        try:
            running = await asyncio.wait_for(ready, 15)
            if public_url is None:
                assert "PUBLIC_URL is not set: zalo_bot" in caplog.text
                assert running.port == 0  # nothing to serve: no port
                continue
            url = PublicFiles.from_settings(settings).link("lich.ics", ICS)
            assert url is not None
            local = url.replace(public_url, f"http://127.0.0.1:{running.port}")
            status, _headers, body = await fetch(local)
            assert (status, body) == (200, ICS)
        finally:
            stop.set()
            await asyncio.wait_for(task, 15)


async def test_c3_p8_staff_open_a_photo_sent_on_the_web_chat_by_its_link(
    chat_engine: Engine,
    clock: object,
    world: object,
    served: tuple[PublicFiles, Clock],
) -> None:
    """A web chat photo is stored as ``file:<path>``; the agency's notice and ``/viec`` give a
    link to it (photo_links), which downloads the photo."""
    from dataclasses import replace

    from sqlmodel import select

    from handlers.channel import Attachment as Sent
    from handlers.conversations import Conversations
    from handlers.notifications import render
    from procedure.permissions import Role
    from procedure.use_cases import inbox
    from procedure.use_cases.context import ProcedureContext
    from storage.tables import OrgUnit, OutboxMessage, Petition
    from storage.unit_of_work import UnitOfWork
    from tests.chat_drivers import ConsoleDriver, joined
    from tests.test_chat_contract import ACCENTED, ALICE
    from tests.test_petition_place import AGENCY, settings, start_petition, until_summary
    from tests.test_staff_chat import invite

    files, _clock = served
    photo = files.root / "web-uploads" / "ngap.jpg"
    photo.parent.mkdir()
    photo.write_bytes(b"\xff\xd8\xff flooded street")
    context = ProcedureContext(clock=clock, file_link=files.link_ref)  # type: ignore[arg-type]
    chat = ConsoleDriver(lambda: Conversations(chat_engine, context, settings()))
    code = invite(chat_engine, clock, "ben-thanh-dt", Role.AGENCY)  # type: ignore[arg-type]
    await chat.command(AGENCY, "start", code)
    await start_petition(chat)
    chat._as(ALICE)
    base = chat.chat.incoming_for("")
    sent = Sent(kind="photo", file_ref=f"file:{photo}", file_name="ngap.jpg")
    chat._send(ALICE, replace(base, text=None, attachment=sent))
    await until_summary(chat, await chat.text(ALICE, ACCENTED))
    await chat.press(ALICE, "Gửi")
    with UnitOfWork(chat_engine, write=True) as uow:
        (petition,) = uow.session.exec(select(Petition)).all()
        agency = uow.session.exec(select(OrgUnit).where(OrgUnit.code == "ben-thanh-dt")).one()
        assert agency.id is not None
        inbox.forward_petition(
            uow,
            world.office,
            petition.tracking_code,
            agency.id,
            context,  # type: ignore[attr-defined]
        )
        uow.commit()
        notice = uow.session.exec(
            select(OutboxMessage).where(OutboxMessage.kind == "agency.forwarded")
        ).first()
        assert notice is not None
        text = render(notice.kind, notice.data).text
    link = f"{files.public_url}/tep/"
    assert "1 ảnh kèm theo " + link in text
    url = text[text.index(link) :].split()[0]
    status, headers, body = await fetch(url)
    assert (status, headers["Content-Type"], body) == (200, "image/jpeg", photo.read_bytes())
    tasks = joined(await chat.command(AGENCY, "viec"))
    assert "1 ảnh kèm theo " + link in tasks
