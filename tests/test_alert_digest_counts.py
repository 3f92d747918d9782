"""C6 at city scale (issue 12): a digest counts an official's items per level and requirement in
SQL and lists only the most urgent few; who sees what is as before (a role covers its unit and
those below, only the nearest head hears of overdue items). X3: the digest's outbox row carries
no personal data. Checked item by item against a few hundred petitions, on SQLite and
PostgreSQL."""

from __future__ import annotations

import json
import random
from collections import Counter
from dataclasses import dataclass
from datetime import date, timedelta

import pytest
from sqlmodel import col, select

from handlers.notifications import render
from procedure.alerts import AlertLevel, Requirement, alert_level, late_working_days
from procedure.deadlines import triage_deadline
from procedure.permissions import Actor, Role
from procedure.use_cases.administration import grant_role
from procedure.use_cases.alerts import digest_summaries, queue_alert_digests
from procedure.use_cases.context import load_calendar
from storage.tables import Assignment, OutboxMessage, Person, Petition
from storage.unit_of_work import UnitOfWork
from tests.conftest import at
from tests.procedure_world import World, build_world
from texts import to_local

TODAY = date(2026, 3, 18)  # a Wednesday
PHONE = "+84987654321"
NAME = "Trịnh Thị Riêng Tư"
TEXT = "Nội dung riêng của kiến nghị số"


@dataclass(frozen=True)
class Seeded:
    """One open item as the test expects it: who owns it and who hears when it is overdue."""

    code: str
    requirement: Requirement
    due: date
    owners: frozenset[int]
    escalate_to: frozenset[int]


@pytest.fixture
def city(uow: UnitOfWork) -> tuple[World, dict[str, int], list[Seeded]]:
    """The world of the use-case tests, a city head, an agency supervisor on the ward (their role
    covers both agencies below it) and 330 petitions: assigned to either agency (in the ward, or
    in Phường Sài Gòn, which has no head), in the office inbox of either ward, or closed."""
    world = build_world(uow)
    people = {}
    for key, name, unit, role in (
        ("city_head", "Bùi Chủ Tịch Thành Phố", "hcm", Role.HEAD),
        ("supervisor", "Trương Giám Sát", "ben-thanh", Role.AGENCY),
    ):
        person = Person(full_name=name)
        uow.session.add(person)
        uow.commit()
        assert person.id is not None
        grant_role(uow, Actor.system(), person.id, unit, role)
        people[key] = person.id
    office = world.office.person_id
    head = world.head.person_id
    officer = world.agency_officer.person_id
    other_officer = world.other_agency_officer.person_id
    other_office = world.other_ward_office.person_id
    assert None not in (office, head, officer, other_officer, other_office)
    rng = random.Random(6)
    seeded: list[Seeded] = []
    calendar = load_calendar(uow)
    # Received on working days: an item received on a day off shares its due date with the
    # working day before, and among items due the same day the earlier receipt is listed first.
    receipt_days = [
        TODAY - timedelta(days=back)
        for back in range(26)
        if calendar.is_working_day(TODAY - timedelta(days=back))
    ]
    for n in range(330):
        code = f"T-{n:04d}"
        kind = n % 6
        in_ward = (n // 6) % 2 == 0
        area = world.ward if in_ward else world.other_ward
        ward_head = frozenset({head}) if in_ward else frozenset({people["city_head"]})
        petition = Petition(
            tracking_code=code,
            kind="petition",
            topic_code="giao_thong",
            text=f"{TEXT} {n}",
            person_id=world.residents[n % 3],
            petitioner_name=NAME,
            petitioner_phone_e164=PHONE,
            area_org_id=area,
            state="received",
            received_at=at(rng.choice(receipt_days).isoformat(), "10:00"),
        )
        if kind in (0, 1, 2, 3):  # assigned, due from 60 days ago to 10 days ahead
            petition.state = ("forwarded", "extended", "reopened", "forwarded")[kind]
            agency, officers = (
                (world.agency, {officer}) if n % 3 else (world.other_agency, {other_officer})
            )
            due = TODAY + timedelta(days=rng.randint(-60, 10))
            uow.session.add(petition)
            uow.session.flush()
            uow.session.add(
                Assignment(
                    petition_id=petition.id,  # type: ignore[arg-type]
                    agency_org_id=agency,
                    notice_date=due - timedelta(days=28),
                    original_due_date=due,
                    due_date=due,
                    answerable_org_id=area,
                    tracking_code=code,
                )
            )
            seeded.append(
                Seeded(
                    code,
                    Requirement.P8,
                    due,
                    frozenset(officers | {people["supervisor"]}),
                    ward_head,
                )
            )
        elif kind == 4:  # the office inbox
            uow.session.add(petition)
            local = to_local(petition.received_at).date()
            due = triage_deadline(calendar, local, world.context.periods).due
            offices = {office} if in_ward else {other_office}
            seeded.append(
                Seeded(code, Requirement.INBOX, due, frozenset(offices) | ward_head, ward_head)
            )
        else:  # answered: no deadline any more
            petition.state = "answered"
            uow.session.add(petition)
            uow.session.flush()
            uow.session.add(
                Assignment(
                    petition_id=petition.id,  # type: ignore[arg-type]
                    agency_org_id=world.agency,
                    notice_date=TODAY - timedelta(days=60),
                    original_due_date=TODAY - timedelta(days=30),
                    due_date=TODAY - timedelta(days=30),
                    awaiting_result=False,
                    answerable_org_id=area,
                    tracking_code=code,
                )
            )
    uow.commit()
    people |= {
        "office": office,
        "head": head,
        "officer": officer,
        "other_officer": other_officer,
        "other_office": other_office,
        "monitor": world.monitor.person_id,
    }  # type: ignore[dict-item]
    world.clock.set(TODAY.isoformat(), "09:00")
    return world, people, seeded


def expected_digests(
    uow: UnitOfWork, seeded: list[Seeded]
) -> dict[int, tuple[Counter[tuple[AlertLevel, Requirement, bool]], list[tuple[str, bool]]]]:
    """Item by item, as the rule says: owners hear of every alert, the heads of overdue ones."""
    calendar = load_calendar(uow)
    reached: dict[int, list[tuple[tuple[object, ...], str, AlertLevel, Requirement, bool]]] = {}
    for item in seeded:
        level = alert_level(calendar, item.due, TODAY)
        if level is None:
            continue
        key = (level.rank, item.due, item.requirement, item.code)
        for person in item.owners:
            reached.setdefault(person, []).append((key, item.code, level, item.requirement, False))
        if level is AlertLevel.OVERDUE:
            for person in item.escalate_to - item.owners:
                reached.setdefault(person, []).append(
                    (key, item.code, level, item.requirement, True)
                )
    return {
        person: (
            Counter((level, requirement, esc) for _, _, level, requirement, esc in items),
            [(code, esc) for _, code, _, _, esc in sorted(items)[:5]],
        )
        for person, items in reached.items()
    }


def test_c6_x3_digest_counts_and_most_urgent_items_match_item_by_item(
    uow: UnitOfWork, city: tuple[World, dict[str, int], list[Seeded]]
) -> None:
    world, people, seeded = city
    expected = expected_digests(uow, seeded)
    digests = digest_summaries(uow, world.context)
    assert set(digests) == set(expected)
    # Who sees what: each agency's officer, the supervisor over both, each ward's office, the
    # ward's head and (for the ward without a head) the city's; never the monitor.
    assert set(digests) == {
        people[key]
        for key in (
            "office",
            "head",
            "officer",
            "other_officer",
            "other_office",
            "city_head",
            "supervisor",
        )
    }
    for person, (counts, listed) in expected.items():
        digest = digests[person]
        assert Counter(dict(digest.counts)) == counts, person
        assert [(i.tracking_code, i.escalated) for i in digest.listed] == listed, person
        assert digest.total == sum(counts.values())
    supervisor = digests[people["supervisor"]]
    officer = digests[people["officer"]]
    other = digests[people["other_officer"]]
    assert supervisor.total == officer.total + other.total  # the ward's role covers both
    assert sum(c for (_, r, _), c in digests[people["office"]].counts.items() if r == "P8") == 0
    city_head = digests[people["city_head"]]
    assert {escalated for (_, _, escalated) in city_head.counts} == {True, False}
    assert all(level is AlertLevel.OVERDUE for (level, _, esc) in city_head.counts if esc)
    # The listed items carry what the message shows.
    first = officer.listed[0]
    calendar = load_calendar(uow)
    assert first.level is AlertLevel.OVERDUE
    assert first.late_working_days == late_working_days(calendar, first.due, TODAY)
    assert first.agency == "Phòng Kinh tế, Hạ tầng và Đô thị"


def test_c6_x3_digest_rows_are_small_once_a_day_and_hold_no_personal_data(
    uow: UnitOfWork, city: tuple[World, dict[str, int], list[Seeded]]
) -> None:
    world, people, _ = city
    digests = digest_summaries(uow, world.context)
    world.clock.set(TODAY.isoformat(), "06:30")
    assert queue_alert_digests(uow, world.context) == 0  # before working hours
    world.clock.set(TODAY.isoformat(), "09:00")
    assert queue_alert_digests(uow, world.context) == len(digests) == 7
    assert queue_alert_digests(uow, world.context) == 0  # once a day
    world.clock.set(TODAY.isoformat(), "15:00")
    assert queue_alert_digests(uow, world.context) == 0
    uow.commit()
    rows = uow.session.exec(
        select(OutboxMessage)
        .where(OutboxMessage.kind == "alert.digest")
        .order_by(col(OutboxMessage.person_id))
    ).all()
    assert [row.person_id for row in rows] == sorted(digests)
    for row in rows:
        stored = json.dumps(row.data, ensure_ascii=False)
        assert len(stored.encode()) < 3000
        assert PHONE not in stored and NAME not in stored and TEXT not in stored  # X3
        digest = digests[row.person_id]
        assert row.data["total"] == digest.total
        assert len(row.data["items"]) == min(5, digest.total)  # type: ignore[arg-type]
        text = render("alert.digest", row.data).text
        assert len(text) < 4096
        assert f"hôm nay có {digest.total} việc" in text
        assert text.count("• ") == len(digest.listed)
        rest = digest.total - len(digest.listed)
        if rest:
            assert f"… và {rest} việc khác chưa liệt kê trong tin nhắn này" in text
    officer_row = next(row for row in rows if row.person_id == people["officer"])
    text = render("alert.digest", officer_row.data).text
    overdue = sum(
        count
        for (level, _, _), count in digests[people["officer"]].counts.items()
        if level is AlertLevel.OVERDUE
    )
    assert f"⛔ <b>Quá hạn</b>: {overdue} việc" in text
    assert "xem đầy đủ: /viec." in text
    assert digests[people["officer"]].listed[0].tracking_code in text
    head_row = next(row for row in rows if row.person_id == people["head"])
    assert "/hopthu" in render("alert.digest", head_row.data).text
    assert "/tonghop" in render("alert.digest", head_row.data).text
