"""Staff enrolment: one-time invite codes that bind a chat account to a role in an org unit."""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlmodel import col, select

from procedure.codes import CODE_ALPHABET
from procedure.errors import NotFound, Refusal
from procedure.permissions import STAFF_ROLES, Actor, Role
from procedure.use_cases.context import ProcedureContext, org_unit_by_code, record_event
from storage.tables import ChannelAccount, OrgUnit, StaffInvite, StaffRole
from storage.unit_of_work import UnitOfWork

INVITE_PREFIX = "nv_"
INVITE_LENGTH = 12
DEFAULT_INVITE_DAYS = 7


@dataclass(frozen=True)
class Invite:
    code: str  # shown once; only its hash is stored
    org_unit: str
    role: Role
    expires_at: datetime


def _hash(code: str) -> str:
    return hashlib.sha256(code.strip().lower().encode()).hexdigest()


def create_invite(
    uow: UnitOfWork,
    org_code: str,
    role: Role,
    context: ProcedureContext,
    *,
    created_by: str,
    valid_days: int = DEFAULT_INVITE_DAYS,
) -> Invite:
    """An administrator's invite (CLI): a code for ``/start <code>``, valid ``valid_days``."""
    if role not in STAFF_ROLES:
        raise Refusal("refusal.role_unknown", role=role)
    unit = org_unit_by_code(uow, org_code)
    body = "".join(secrets.choice(CODE_ALPHABET) for _ in range(INVITE_LENGTH)).lower()
    code = f"{INVITE_PREFIX}{body}"
    expires = context.now() + timedelta(days=valid_days)
    assert unit.id is not None  # a stored unit
    uow.session.add(
        StaffInvite(
            code_hash=_hash(code),
            org_unit_id=unit.id,
            role=role.value,
            created_by=created_by,
            created_at=context.now(),
            expires_at=expires,
        )
    )
    uow.flush()
    return Invite(code=code, org_unit=unit.name, role=role, expires_at=expires)


def is_invite_code(payload: str) -> bool:
    return payload.strip().lower().startswith(INVITE_PREFIX)


def redeem_invite(
    uow: UnitOfWork, person_id: int, code: str, context: ProcedureContext
) -> tuple[StaffRole, OrgUnit]:
    """Bind the person to the invite's role. Unknown, used and expired codes get one answer."""
    invite = uow.session.exec(
        select(StaffInvite).where(StaffInvite.code_hash == _hash(code))
    ).first()
    now = context.now()
    if invite is None or invite.used_at is not None or invite.expires_at <= now:
        raise NotFound("refusal.invite_invalid")
    unit = uow.session.get(OrgUnit, invite.org_unit_id)
    assert unit is not None
    grant = uow.session.exec(
        select(StaffRole)
        .where(StaffRole.person_id == person_id)
        .where(StaffRole.org_unit_id == invite.org_unit_id)
        .where(StaffRole.role == invite.role)
    ).first()
    if grant is None:
        grant = StaffRole(
            person_id=person_id, org_unit_id=invite.org_unit_id, role=invite.role, granted_at=now
        )
    grant.active = True
    uow.session.add(grant)
    invite.used_at = now
    invite.used_by_person_id = person_id
    uow.session.add(invite)
    record_event(
        uow,
        kind="staff.enrolled",
        actor=Actor.resident(person_id),
        action=None,
        at=now,
        details={"org_unit": unit.code, "role": invite.role},
    )
    uow.flush()
    return grant, unit


def staff_units(uow: UnitOfWork, person_id: int, roles: set[Role]) -> list[OrgUnit]:
    """The units in which the person holds one of ``roles``."""
    return list(
        uow.session.exec(
            select(OrgUnit)
            .join(StaffRole, col(StaffRole.org_unit_id) == col(OrgUnit.id))
            .where(StaffRole.person_id == person_id)
            .where(col(StaffRole.active))
            .where(col(StaffRole.role).in_([role.value for role in roles]))
            .order_by(col(OrgUnit.name))
        ).all()
    )


def staff_chats(uow: UnitOfWork, channel: str) -> list[tuple[int, str, str]]:
    """Every (person, user id, chat id) on ``channel`` of a person holding an active staff role:
    the chats whose command menu differs from the residents' one."""
    rows = uow.session.exec(
        select(ChannelAccount.person_id, ChannelAccount.external_user_id, ChannelAccount.chat_id)
        .where(ChannelAccount.channel == channel)
        .where(
            col(ChannelAccount.person_id).in_(
                select(StaffRole.person_id).where(col(StaffRole.active))
            )
        )
        .order_by(col(ChannelAccount.id))
    ).all()
    return [(person, user, chat or user) for person, user, chat in rows]
