"""Administration: reference data, org units (with real ward names), staff roles, calendar days."""

from __future__ import annotations

import tomllib
from collections.abc import Sequence
from datetime import date
from importlib import resources

from sqlmodel import col, select

from procedure.errors import NotFound, Refusal
from procedure.permissions import STAFF_ROLES, Action, Actor, Role
from procedure.use_cases.context import (
    ProcedureContext,
    org_unit_by_code,
    require,
)
from procedure.working_days import OverrideKind
from storage.tables import CalendarOverride, OrgLevel, OrgUnit, Person, StaffRole, Topic
from storage.unit_of_work import UnitOfWork
from texts import format_date

PROVINCE_LEVEL = "tinh_thanh"
WARD_LEVEL = "phuong_xa"


def ensure_reference_data(uow: UnitOfWork) -> None:
    """Levels and topics a new database starts with; existing rows are left as they are."""
    raw = resources.files("procedure.data").joinpath("reference.toml").read_text("utf-8")
    data = tomllib.loads(raw)
    for level in data["levels"]:
        if uow.session.get(OrgLevel, level["code"]) is None:
            uow.session.add(OrgLevel(**level))
    for position, topic in enumerate(data["topics"]):
        if uow.session.get(Topic, topic["code"]) is None:
            uow.session.add(Topic(position=position, **topic))
    uow.flush()


def add_org_unit(
    uow: UnitOfWork,
    actor: Actor,
    *,
    code: str,
    name: str,
    level_code: str,
    parent_code: str | None = None,
) -> OrgUnit:
    parent = org_unit_by_code(uow, parent_code) if parent_code else None
    require_admin(uow, actor, parent)
    if uow.session.get(OrgLevel, level_code) is None:
        raise NotFound("refusal.org_level_unknown", code=level_code)
    if uow.session.exec(select(OrgUnit.id).where(OrgUnit.code == code)).first() is not None:
        raise Refusal("refusal.org_unit_exists", code=code)
    unit = OrgUnit(
        code=code.strip(),
        name=name.strip(),
        level_code=level_code,
        parent_id=parent.id if parent else None,
    )
    uow.session.add(unit)
    uow.flush()
    return unit


def require_admin(uow: UnitOfWork, actor: Actor, unit: OrgUnit | None) -> None:
    if unit is None:
        if not actor.is_system:
            raise Refusal("refusal.not_allowed")
        return
    assert unit.id is not None
    require(uow, actor, Action.MANAGE_ORG, unit.id)


def import_province(uow: UnitOfWork, actor: Actor, province_code: int) -> tuple[OrgUnit, int]:
    """Create a province and its current wards/communes from ``vietnam-provinces`` (the 2025
    map: 34 provinces, 3,321 communes). Idempotent: known codes are kept. Returns the province
    and how many wards were added."""
    from vietnam_provinces import Province, ProvinceCode, Ward

    try:
        province = Province.from_code(ProvinceCode(province_code))
    except ValueError as unknown:
        raise NotFound("refusal.province_unknown", code=province_code) from unknown
    ensure_reference_data(uow)
    code = f"vn-{province_code}"
    unit = uow.session.exec(select(OrgUnit).where(OrgUnit.code == code)).first()
    if unit is None:
        if not actor.is_system:
            raise Refusal("refusal.not_allowed")
        unit = OrgUnit(code=code, name=province.name, level_code=PROVINCE_LEVEL)
        uow.session.add(unit)
        uow.flush()
    else:
        require_admin(uow, actor, unit)
    known = set(uow.session.exec(select(OrgUnit.code).where(OrgUnit.parent_id == unit.id)).all())
    added = 0
    for ward in Ward.iter_all():
        if ward.province_code != province.code:
            continue
        ward_code = f"{code}-{int(ward.code)}"
        if ward_code in known:
            continue
        uow.session.add(
            OrgUnit(code=ward_code, name=ward.name, level_code=WARD_LEVEL, parent_id=unit.id)
        )
        added += 1
    uow.flush()
    return unit, added


def children_of(uow: UnitOfWork, parent_code: str | None) -> Sequence[OrgUnit]:
    query = select(OrgUnit).order_by(col(OrgUnit.name))
    if parent_code is None:
        query = query.where(col(OrgUnit.parent_id).is_(None))
    else:
        query = query.where(OrgUnit.parent_id == org_unit_by_code(uow, parent_code).id)
    return uow.session.exec(query).all()


def grant_role(
    uow: UnitOfWork, actor: Actor, person_id: int, org_code: str, role: Role
) -> StaffRole:
    """Give ``person_id`` a staff role in an org unit (issue 4 adds invite codes on top)."""
    if role not in STAFF_ROLES:
        raise Refusal("refusal.role_unknown", role=role)
    unit = org_unit_by_code(uow, org_code)
    assert unit.id is not None
    require(uow, actor, Action.INVITE_STAFF, unit.id)
    if uow.session.get(Person, person_id) is None:
        raise NotFound("refusal.person_not_found")
    existing = uow.session.exec(
        select(StaffRole)
        .where(StaffRole.person_id == person_id)
        .where(StaffRole.org_unit_id == unit.id)
        .where(StaffRole.role == role.value)
    ).first()
    if existing is not None:
        existing.active = True
        uow.session.add(existing)
        uow.flush()
        return existing
    grant = StaffRole(person_id=person_id, org_unit_id=unit.id, role=role.value)
    uow.session.add(grant)
    uow.flush()
    return grant


def set_calendar_day(
    uow: UnitOfWork,
    actor: Actor,
    day: date,
    kind: OverrideKind,
    name: str,
    source: str,
    context: ProcedureContext,
    *,
    added_by: str,
) -> CalendarOverride:
    """X1: an administrator declares a day off or a working day; it applies at once."""
    _require_calendar_admin(uow, actor)
    if not name.strip() or not source.strip():
        raise Refusal("refusal.calendar_name_source_missing")
    row = uow.session.get(CalendarOverride, day)
    if row is None:
        row = CalendarOverride(day=day, kind=kind, name="", source="", added_by="")
    row.kind = kind.value
    row.name = name.strip()
    row.source = source.strip()
    row.added_by = added_by
    row.added_at = context.now()
    uow.session.add(row)
    uow.flush()
    return row


def remove_calendar_day(uow: UnitOfWork, actor: Actor, day: date) -> None:
    _require_calendar_admin(uow, actor)
    row = uow.session.get(CalendarOverride, day)
    if row is None:
        raise NotFound("refusal.calendar_day_not_set", date=format_date(day))
    uow.session.delete(row)
    uow.flush()


def calendar_days(uow: UnitOfWork) -> Sequence[CalendarOverride]:
    return uow.session.exec(select(CalendarOverride).order_by(col(CalendarOverride.day))).all()


def _require_calendar_admin(uow: UnitOfWork, actor: Actor) -> None:
    if actor.is_system:
        return
    roots = uow.session.exec(select(OrgUnit.id).where(col(OrgUnit.parent_id).is_(None))).all()
    if not any(grant.role is Role.ADMIN and grant.org_unit_id in roots for grant in actor.grants):
        raise Refusal("refusal.not_allowed")
