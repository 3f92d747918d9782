"""A small world for the use-case tests: a ward, two agencies, staff with roles, residents."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from procedure.periods import Periods
from procedure.permissions import Actor, Grant, Role
from procedure.use_cases.administration import add_org_unit, grant_role
from procedure.use_cases.context import ProcedureContext
from storage.tables import Person
from storage.unit_of_work import UnitOfWork
from tests.conftest import at


@dataclass
class Clock:
    now: datetime = field(default_factory=lambda: at("2026-03-02"))

    def __call__(self) -> datetime:
        return self.now

    def set(self, day: str, clock: str = "09:00") -> None:
        self.now = at(day, clock)


@dataclass
class World:
    clock: Clock
    context: ProcedureContext
    city: int
    ward: int
    other_ward: int
    agency: int
    other_agency: int
    office: Actor
    head: Actor
    agency_officer: Actor
    other_agency_officer: Actor
    other_ward_office: Actor
    monitor: Actor
    residents: list[int]


def _person(uow: UnitOfWork, name: str) -> int:
    person = Person(full_name=name, phone_e164="+84912345678")
    uow.session.add(person)
    uow.commit()
    assert person.id is not None
    return person.id


def _staff(uow: UnitOfWork, name: str, org_code: str, unit_id: int, role: Role) -> Actor:
    person_id = _person(uow, name)
    grant_role(uow, Actor.system(), person_id, org_code, role)
    return Actor(person_id=person_id, grants=(Grant(role, unit_id),))


def build_world(uow: UnitOfWork, periods: Periods | None = None) -> World:
    system = Actor.system()
    city = add_org_unit(
        uow, system, code="hcm", name="Thành phố Hồ Chí Minh", level_code="tinh_thanh"
    )
    ward = add_org_unit(
        uow,
        system,
        code="ben-thanh",
        name="Phường Bến Thành",
        level_code="phuong_xa",
        parent_code="hcm",
    )
    other = add_org_unit(
        uow,
        system,
        code="sai-gon",
        name="Phường Sài Gòn",
        level_code="phuong_xa",
        parent_code="hcm",
    )
    agency = add_org_unit(
        uow,
        system,
        code="ben-thanh-dt",
        name="Phòng Kinh tế, Hạ tầng và Đô thị",
        level_code="co_quan",
        parent_code="ben-thanh",
    )
    other_agency = add_org_unit(
        uow,
        system,
        code="ben-thanh-vh",
        name="Phòng Văn hóa – Xã hội",
        level_code="co_quan",
        parent_code="ben-thanh",
    )
    ids = [u.id for u in (city, ward, other, agency, other_agency)]
    assert all(i is not None for i in ids)
    clock = Clock()
    return World(
        clock=clock,
        context=ProcedureContext(periods=periods or Periods(), clock=clock),
        city=city.id,
        ward=ward.id,
        other_ward=other.id,  # type: ignore[arg-type]
        agency=agency.id,
        other_agency=other_agency.id,  # type: ignore[arg-type]
        office=_staff(uow, "Lê Văn Phòng", "ben-thanh", ward.id, Role.OFFICE),  # type: ignore[arg-type]
        head=_staff(uow, "Phạm Chủ Tịch", "ben-thanh", ward.id, Role.HEAD),  # type: ignore[arg-type]
        agency_officer=_staff(uow, "Võ Cán Bộ", "ben-thanh-dt", agency.id, Role.AGENCY),  # type: ignore[arg-type]
        other_agency_officer=_staff(
            uow,
            "Đỗ Cán Bộ",
            "ben-thanh-vh",
            other_agency.id,
            Role.AGENCY,  # type: ignore[arg-type]
        ),
        other_ward_office=_staff(uow, "Hồ Văn Thư", "sai-gon", other.id, Role.OFFICE),  # type: ignore[arg-type]
        monitor=_staff(uow, "Mai Mặt Trận", "ben-thanh", ward.id, Role.MONITOR),  # type: ignore[arg-type]
        residents=[
            _person(uow, name) for name in ("Nguyễn Văn An", "Trần Thị Bình", "Lý Văn Cường")
        ],
    )
