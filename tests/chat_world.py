"""A ward with an announced session, for the chat tests."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import Engine

from procedure.permissions import Actor, Grant, Role
from procedure.use_cases import sessions
from procedure.use_cases.administration import add_org_unit, grant_role
from procedure.use_cases.sessions import SessionPlan
from storage.tables import Person
from storage.unit_of_work import UnitOfWork
from tests.conftest import at
from tests.procedure_world import Clock


@dataclass
class ChatWorld:
    ward: int
    session_id: int
    full_session_id: int
    office: Actor


def seed_chat_world(engine: Engine, clock: Clock) -> ChatWorld:
    from procedure.use_cases.context import ProcedureContext

    context = ProcedureContext(clock=clock)
    with UnitOfWork(engine) as uow:
        system = Actor.system()
        add_org_unit(uow, system, code="hcm", name="Thành phố Hồ Chí Minh", level_code="tinh_thanh")
        ward = add_org_unit(
            uow,
            system,
            code="ben-thanh",
            name="Phường Bến Thành",
            level_code="phuong_xa",
            parent_code="hcm",
        )
        add_org_unit(
            uow,
            system,
            code="sai-gon",
            name="Phường Sài Gòn",
            level_code="phuong_xa",
            parent_code="hcm",
        )
        add_org_unit(
            uow,
            system,
            code="ben-thanh-dt",
            name="Phòng Kinh tế, Hạ tầng và Đô thị",
            level_code="co_quan",
            parent_code="ben-thanh",
        )
        staff = Person(full_name="Lê Văn Phòng")
        uow.session.add(staff)
        uow.commit()
        assert staff.id is not None and ward.id is not None
        grant_role(uow, system, staff.id, "ben-thanh", Role.OFFICE)
        office = Actor(person_id=staff.id, grants=(Grant(Role.OFFICE, ward.id),))

        def announced(content: str, capacity: int | None, day: str) -> int:
            session = sessions.plan_session(
                uow,
                office,
                SessionPlan(
                    org_unit_id=ward.id,  # type: ignore[arg-type]
                    chair_name="Phạm Văn Chủ, Chủ tịch UBND phường",
                    venue="Hội trường UBND phường Bến Thành, 92 Nam Kỳ Khởi Nghĩa",
                    starts_at=at(day, "08:00"),
                    ends_at=at(day, "11:00"),
                    content=content,
                    capacity=capacity,
                ),
                context,
            )
            sessions.announce_session(uow, office, session.id, context)  # type: ignore[arg-type]
            return session.id  # type: ignore[return-value]

        first = announced(
            "Đối thoại về chỉnh trang đô thị & vệ sinh <môi trường>", 50, "2026-03-16"
        )
        full = announced("Đối thoại về an ninh trật tự", 1, "2026-03-17")
        uow.commit()
    return ChatWorld(ward=ward.id, session_id=first, full_session_id=full, office=office)
