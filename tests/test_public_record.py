"""The public record (issue 13, items 4 and 5; P10: results public, monitored; X2: events): the
office publishes a checked petition, the ward's page and the Open311 GeoReport v2 API show it,
and never an unpublished petition, a name or a phone number."""

from __future__ import annotations

import json
import re
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from xml.etree import ElementTree

import aiohttp
import pytest
from aiohttp import web
from sqlalchemy import Engine
from sqlmodel import select

from bot.app import web_application
from bot.public import public_record
from procedure.errors import NotAllowed, Refusal
from procedure.permissions import Actor
from procedure.use_cases import follow_up, petitions
from procedure.use_cases.follow_up import AssignmentRequest
from procedure.use_cases.publication import publish_petition, scrub, unpublish_petition
from storage.tables import Event, PublicRecord
from storage.unit_of_work import UnitOfWork
from tests.procedure_world import World, build_world
from tests.test_use_cases import held_with_petitions, submission

# GeoReport v2, "GET Service Requests" / "GET Service Request": the fields of a request.
GEOREPORT_V2_REQUEST_FIELDS = [
    "service_request_id",
    "status",
    "status_notes",
    "service_name",
    "service_code",
    "description",
    "agency_responsible",
    "service_notice",
    "requested_datetime",
    "updated_datetime",
    "expected_datetime",
    "address",
    "address_id",
    "zipcode",
    "lat",
    "long",
    "media_url",
]
GEOREPORT_V2_SERVICE_FIELDS = [
    "service_code",
    "service_name",
    "description",
    "metadata",
    "type",
    "keywords",
    "group",
]
# Anything a resident could be found by: the names and the phone of the world's residents.
NAMES = ("Nguyễn Văn An", "Trần Thị Bình", "Lý Văn Cường")
PHONE_DIGITS = re.compile(r"(?:\+?84|0)\s?9\d(?:[\s.\-]?\d){7}")
ANSWER = "Phòng đã nạo vét cống đường Lê Lợi ngày 10/04/2026; liên hệ 0283 822 1234."
PLACE_A = "Trước nhà số 12 đường Lê Lợi"
PLACE_C = "Nhà Lý Văn Cường 0987 654 321, số 7 hẻm 5 Pasteur"
# What of them may be public: the street and the ward; the point rounded to about 100 m.
PUBLIC_PLACE_A = "Trước đường Lê Lợi, Phường Bến Thành"
PUBLIC_PLACE_C = "hẻm 5 Pasteur, Phường Bến Thành"
PUBLIC_MAP_A = "https://www.openstreetmap.org/?mlat=10.772&amp;mlon=106.698#map=17/10.772/106.698"


@dataclass
class Published:
    world: World
    answered: str  # published, with its answer
    pending: str  # published, still open
    hidden: str  # never published
    session_id: int


def build(uow: UnitOfWork) -> Published:
    world = build_world(uow)
    session_id, a, b, _q = held_with_petitions(world, uow)
    c = petitions.submit_petition(
        uow,
        submission(
            world,
            world.residents[2],
            None,
            text=(
                "Tôi là Lý Văn Cường, số 0987 654 321, email cuong@example.com: "
                "đèn đường hẻm 5 hỏng."
            ),
            full_name="Lý Văn Cường",
        ),
        world.context,
    )
    # Where the problems are (issue 13), as residents wrote them: a house number, a name and a
    # phone in the address, and a point shared to the metre.
    a.place_text, a.latitude, a.longitude = PLACE_A, 10.772154, 106.698312
    c.place_text = PLACE_C
    uow.session.add_all([a, c])
    world.clock.set("2026-03-27", "16:00")
    follow_up.notify_conclusion(
        uow,
        world.head,
        session_id,
        "Giao Phòng Kinh tế, Hạ tầng và Đô thị khảo sát, nạo vét cống đường Lê Lợi.",
        [AssignmentRequest(a.id, world.agency), AssignmentRequest(b.id, world.other_agency)],
        world.context,
    )
    world.clock.set("2026-04-10", "10:00")
    follow_up.post_result(uow, world.agency_officer, a.tracking_code, ANSWER, world.context)
    uow.commit()
    return Published(world, a.tracking_code, c.tracking_code, b.tracking_code, session_id)


@pytest.fixture
def published(uow: UnitOfWork) -> Published:
    data = build(uow)
    world = data.world
    publish_petition(
        uow,
        world.office,
        data.answered,
        "Ngập nước đường Lê Lợi khi mưa lớn (người gửi: Nguyễn Văn An, 0912 345 678)",
        world.context,
    )
    publish_petition(uow, world.head, data.pending, "", world.context)
    uow.commit()
    return data


def test_p10_x2_publishing_is_for_the_office_and_head_of_the_ward_and_is_an_event(
    uow: UnitOfWork,
) -> None:
    data = build(uow)
    world = data.world
    for outsider in (
        world.agency_officer,
        world.monitor,
        world.other_ward_office,
        Actor.resident(world.residents[0]),
    ):
        with pytest.raises(NotAllowed):
            publish_petition(uow, outsider, data.answered, "Tóm tắt", world.context)
    assert uow.session.exec(select(PublicRecord)).all() == []  # nothing is public by default
    record = publish_petition(uow, world.office, data.answered, "", world.context)
    uow.commit()
    assert record.published_by_person_id == world.office.person_id
    assert record.published_at == world.context.now()
    assert record.answer is not None and "Phòng đã nạo vét cống" in record.answer
    event = uow.session.exec(select(Event).where(Event.kind == "petition.published")).one()
    assert event.actor_person_id == world.office.person_id and event.actor_role == "office"
    with pytest.raises(NotAllowed):
        unpublish_petition(uow, world.monitor, data.answered, world.context)
    unpublish_petition(uow, world.head, data.answered, world.context)
    uow.commit()
    assert uow.session.exec(select(PublicRecord)).all() == []
    withdrawn = uow.session.exec(select(Event).where(Event.kind == "petition.unpublished")).one()
    assert withdrawn.actor_role == "head"
    with pytest.raises(Refusal) as again:
        unpublish_petition(uow, world.head, data.answered, world.context)
    assert data.answered in again.value.message


def test_p10_published_text_is_scrubbed_of_phones_emails_and_the_petitioners_name(
    published: Published, uow: UnitOfWork
) -> None:
    records = uow.session.exec(select(PublicRecord)).all()
    assert len(records) == 2
    for record in records:
        shown = f"{record.subject} {record.answer or ''}"
        assert not PHONE_DIGITS.search(shown), shown
        assert "@" not in shown
        assert not any(name in shown for name in NAMES), shown
    assert "0283 822 1234" not in (records[0].answer or "") + (records[1].answer or "")
    assert scrub("Gọi +84 912.345.678 hoặc an@x.vn, anh An", ["an"]) == "Gọi […] hoặc […], anh […]"
    assert scrub("Ngày 16/03/2026 có 25 hộ") == "Ngày 16/03/2026 có 25 hộ"  # dates stay


@asynccontextmanager
async def served(engine: Engine) -> AsyncIterator[str]:
    runner = web.AppRunner(web_application([], public_record(engine)))
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", 0).start()
    try:
        yield f"http://127.0.0.1:{runner.addresses[0][1]}"
    finally:
        await runner.cleanup()


async def fetch(url: str) -> tuple[int, str, str]:
    async with aiohttp.ClientSession() as client, client.get(url) as response:
        return response.status, response.content_type, await response.text()


def assert_nothing_identifying(text: str) -> None:
    assert not PHONE_DIGITS.search(text), PHONE_DIGITS.search(text)
    assert "+849" not in text and "@example.com" not in text
    for name in (*NAMES, "Lê Văn Phòng", "Võ Cán Bộ"):
        assert name not in text, name
    # No house from the written places, no shared point finer than about 100 m (X3).
    for house in ("số 12", "nhà số", "số 7", "0987"):
        assert house not in text, house
    assert "10.772154" not in text and "106.698312" not in text and "10.7721" not in text


async def test_p10_the_wards_page_shows_published_petitions_only(
    published: Published, engine: Engine
) -> None:
    async with served(engine) as base:
        status, kind, page = await fetch(f"{base}/congkhai/ben-thanh")
        assert (status, kind) == (200, "text/html")
        assert published.answered in page and published.pending in page
        assert published.hidden not in page
        assert "Ngập nước đường Lê Lợi khi mưa lớn" in page
        assert "Phòng đã nạo vét cống đường Lê Lợi" in page
        assert "Rác thải" not in page  # the unpublished petition's text
        assert "Đã trả lời" in page and "Đang giải quyết" in page
        # The session's result: counts and the conclusion, never who spoke.
        assert "Kết quả các buổi tiếp xúc, đối thoại" in page
        assert "khảo sát, nạo vét cống đường Lê Lợi" in page
        assert '<html lang="vi">' in page and 'name="viewport"' in page
        # Where (issue 13): the street as the office checked it, the ward, a rounded map link.
        assert PUBLIC_PLACE_A in page and PUBLIC_PLACE_C in page
        assert PUBLIC_MAP_A in page
        assert_nothing_identifying(page)
        index = await fetch(f"{base}/congkhai/")
        assert index[0] == 200 and "/congkhai/ben-thanh" in index[2]
        other = await fetch(f"{base}/congkhai/sai-gon")
        assert other[0] == 200 and published.answered not in other[2]
        missing = await fetch(f"{base}/congkhai/khong-co")
        assert missing[0] == 404


async def test_p10_open311_georeport_v2_contract(published: Published, engine: Engine) -> None:
    async with served(engine) as base:
        status, kind, body = await fetch(f"{base}/open311/v2/services.json")
        assert (status, kind) == (200, "application/json")
        services = json.loads(body)
        assert services and all(list(s) == GEOREPORT_V2_SERVICE_FIELDS for s in services)
        assert {"giao_thong", "moi_truong"} <= {s["service_code"] for s in services}

        status, kind, body = await fetch(f"{base}/open311/v2/requests.json")
        assert (status, kind) == (200, "application/json")
        requests = json.loads(body)
        assert {r["service_request_id"] for r in requests} == {
            published.answered,
            published.pending,
        }
        for request in requests:
            assert list(request) == GEOREPORT_V2_REQUEST_FIELDS
            assert request["status"] in {"open", "closed"}
            assert request["requested_datetime"].endswith("+07:00")
            # Coordinates only where a point was shared, rounded to the street (issue 13).
            shared = request["service_request_id"] == published.answered
            expected = (10.772, 106.698) if shared else (None, None)
            assert (request["lat"], request["long"]) == expected
        by_id = {r["service_request_id"]: r for r in requests}
        answered = by_id[published.answered]
        assert answered["status"] == "closed" and answered["service_code"] == "giao_thong"
        assert answered["service_name"] == "Giao thông, hạ tầng"
        assert answered["agency_responsible"] == "Phòng Kinh tế, Hạ tầng và Đô thị"
        assert "Phòng đã nạo vét cống" in answered["status_notes"]
        assert answered["requested_datetime"].startswith("2026-03-10T")
        # Due 20 working days after the notice of 27/03/2026 (P8).
        assert answered["expected_datetime"] == "2026-04-24T23:59:59+07:00"
        assert by_id[published.pending]["expected_datetime"] is None  # not assigned
        assert by_id[published.pending]["status"] == "open"
        assert by_id[published.pending]["status_notes"] is None
        assert_nothing_identifying(body)

        async def ids(query: str) -> set[str]:
            status, _, body = await fetch(f"{base}/open311/v2/requests.json?{query}")
            assert status == 200, body
            return {r["service_request_id"] for r in json.loads(body)}

        assert await ids("status=closed") == {published.answered}
        assert await ids("status=open") == {published.pending}
        assert await ids("status=open,closed") == {published.answered, published.pending}
        assert await ids(f"service_request_id={published.answered},{published.hidden}") == {
            published.answered
        }
        assert await ids("service_code=moi_truong") == set()
        assert await ids("start_date=2026-03-11&end_date=2026-12-31") == {published.pending}
        assert await ids("end_date=2026-03-10T23:59:59%2B07:00") == {published.answered}
        assert await ids("jurisdiction_id=sai-gon") == set()
        assert await ids("jurisdiction_id=ben-thanh") == {published.answered, published.pending}
        bad = await fetch(f"{base}/open311/v2/requests.json?status=maybe")
        assert bad[0] == 400 and json.loads(bad[2])[0]["code"] == 400

        one = await fetch(f"{base}/open311/v2/requests/{published.answered}.json")
        assert one[0] == 200 and [r["service_request_id"] for r in json.loads(one[2])] == [
            published.answered
        ]
        hidden = await fetch(f"{base}/open311/v2/requests/{published.hidden}.json")
        assert hidden[0] == 404 and published.hidden not in hidden[2]

        status, kind, body = await fetch(f"{base}/open311/v2/requests.xml")
        assert (status, kind) == (200, "text/xml")
        root = ElementTree.fromstring(body)
        assert root.tag == "service_requests"
        for request in root:
            assert [child.tag for child in request] == GEOREPORT_V2_REQUEST_FIELDS
        assert_nothing_identifying(body)


async def test_p10_withdrawn_petitions_disappear_everywhere(
    published: Published, engine: Engine, uow: UnitOfWork
) -> None:
    unpublish_petition(uow, published.world.office, published.answered, published.world.context)
    uow.commit()
    async with served(engine) as base:
        page = (await fetch(f"{base}/congkhai/ben-thanh"))[2]
        listed = (await fetch(f"{base}/open311/v2/requests.json"))[2]
        one = await fetch(f"{base}/open311/v2/requests/{published.answered}.json")
    assert published.answered not in page and published.answered not in listed
    assert one[0] == 404


async def test_p10_x3_the_public_place_is_the_street_the_office_checked_and_the_rounded_point(
    published: Published, engine: Engine, uow: UnitOfWork
) -> None:
    """B4, B5 (issue 13): the page and Open311 show where the problem is — the street the office
    checked (proposed from the written address without house numbers, names or phones), the
    ward, and the point rounded to about 100 m with a map link — never the house."""
    async with served(engine) as base:
        _, _, body = await fetch(f"{base}/open311/v2/requests.json")
        by_id = {r["service_request_id"]: r for r in json.loads(body)}
        answered, pending = by_id[published.answered], by_id[published.pending]
        assert answered["address"] == PUBLIC_PLACE_A
        assert (answered["lat"], answered["long"]) == (10.772, 106.698)
        assert pending["address"] == PUBLIC_PLACE_C and pending["lat"] is None
        assert_nothing_identifying(body)
    # The office corrects the place ("|" in /congkhai), or leaves only the ward.
    world = published.world
    publish_petition(
        uow, world.office, published.answered, "Ngập nước", world.context, "Đường Lê Lợi số 14"
    )
    publish_petition(uow, world.office, published.pending, "Đèn hỏng", world.context, "")
    uow.commit()
    async with served(engine) as base:
        _, _, body = await fetch(f"{base}/open311/v2/requests.json")
        by_id = {r["service_request_id"]: r for r in json.loads(body)}
        assert by_id[published.answered]["address"] == "Đường Lê Lợi, Phường Bến Thành"
        assert by_id[published.pending]["address"] == "Phường Bến Thành"
        _, _, page = await fetch(f"{base}/congkhai/ben-thanh")
        assert "Đường Lê Lợi, Phường Bến Thành" in page and PUBLIC_MAP_A in page
        assert "số 14" not in page and "hẻm 5 Pasteur" not in page
        assert_nothing_identifying(page)


@pytest.mark.parametrize(
    ("written", "public"),
    [
        ("Trước số 12 hẻm 42 Lê Lợi, khu phố 3", "Trước hẻm 42 Lê Lợi, khu phố 3"),
        ("12/3A Lê Lợi", "Lê Lợi"),
        ("Số nhà 7, hẻm 9 Pasteur", "hẻm 9 Pasteur"),
        ("nhà 5 đường Nguyễn Huệ", "đường Nguyễn Huệ"),
        ("Nhà Nguyễn Văn An, gọi 0912 345 678", ""),
        ("số 12", ""),
    ],
)
def test_p10_x3_a_written_address_is_cut_to_the_street_before_it_is_public(
    written: str, public: str
) -> None:
    from procedure.use_cases.publication import street_only

    assert street_only(written, ["Nguyễn Văn An"]) == public
