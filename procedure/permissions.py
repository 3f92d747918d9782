"""Who may do what, for which org unit.

A role held in an org unit covers that unit and every unit below it in the tree. Agencies act on
the petitions assigned to them; monitors (the Fatherland Front and socio-political organisations)
only read.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from enum import StrEnum


class Role(StrEnum):
    RESIDENT = "resident"
    OFFICE = "office"
    HEAD = "head"
    AGENCY = "agency"
    MONITOR = "monitor"
    ADMIN = "admin"
    SYSTEM = "system"


STAFF_ROLES = frozenset({Role.OFFICE, Role.HEAD, Role.AGENCY, Role.MONITOR, Role.ADMIN})


class Action(StrEnum):
    PLAN_SESSION = "plan_session"  # P1
    ANNOUNCE_SESSION = "announce_session"  # P4, P5
    CONDUCT_SESSION = "conduct_session"  # P6: check-in, opinions raised in the room, hold
    CANCEL_SESSION = "cancel_session"
    CLOSE_SESSION = "close_session"
    NOTIFY_CONCLUSION = "notify_conclusion"  # P7
    POST_RESULT = "post_result"  # P8
    EXTEND_DEADLINE = "extend_deadline"  # P9
    ANSWER_QUESTION = "answer_question"  # Q6
    MARK_DUPLICATE = "mark_duplicate"
    TRIAGE_PETITION = "triage_petition"  # the office inbox: forward, keep, transfer, decline
    VIEW_OVERSIGHT = "view_oversight"  # sessions, deadlines, overdue items, reports (P10)
    MANAGE_CALENDAR = "manage_calendar"  # X1
    MANAGE_ORG = "manage_org"
    INVITE_STAFF = "invite_staff"
    PUBLISH_PETITION = "publish_petition"  # B4, B5: the office checks what the public sees
    # Issue 13: the photos a resident sent, for those who resolve the petition (not monitors).
    VIEW_PETITION_PHOTOS = "view_petition_photos"


_OFFICE = frozenset(
    {
        Action.PLAN_SESSION,
        Action.ANNOUNCE_SESSION,
        Action.CONDUCT_SESSION,
        Action.CANCEL_SESSION,
        Action.CLOSE_SESSION,
        Action.NOTIFY_CONCLUSION,
        Action.ANSWER_QUESTION,
        Action.MARK_DUPLICATE,
        Action.TRIAGE_PETITION,
        Action.VIEW_OVERSIGHT,
        Action.PUBLISH_PETITION,
        Action.VIEW_PETITION_PHOTOS,
    }
)

ROLE_ACTIONS: Mapping[Role, frozenset[Action]] = {
    Role.RESIDENT: frozenset(),
    Role.OFFICE: _OFFICE,
    # The head chairs and concludes; the office notifies on the head's behalf. Both may do it.
    Role.HEAD: _OFFICE,
    Role.AGENCY: frozenset(
        {
            Action.POST_RESULT,
            Action.EXTEND_DEADLINE,
            Action.VIEW_OVERSIGHT,
            Action.VIEW_PETITION_PHOTOS,
        }
    ),
    Role.MONITOR: frozenset({Action.VIEW_OVERSIGHT}),
    Role.ADMIN: frozenset(
        {Action.MANAGE_CALENDAR, Action.MANAGE_ORG, Action.INVITE_STAFF, Action.VIEW_OVERSIGHT}
    ),
    Role.SYSTEM: frozenset(Action),
}


@dataclass(frozen=True)
class Grant:
    role: Role
    org_unit_id: int


@dataclass(frozen=True)
class Actor:
    """Who acts: a person with the roles they hold, or the system itself (CLI, scheduler)."""

    person_id: int | None
    grants: tuple[Grant, ...] = field(default=())
    is_system: bool = False

    @classmethod
    def system(cls) -> Actor:
        return cls(person_id=None, grants=(), is_system=True)

    @classmethod
    def resident(cls, person_id: int) -> Actor:
        return cls(person_id=person_id)

    def role_for(self, action: Action) -> Role:
        """The role named in the event when this actor does ``action``."""
        if self.is_system:
            return Role.SYSTEM
        for grant in self.grants:
            if action in ROLE_ACTIONS[grant.role]:
                return grant.role
        return Role.RESIDENT


def ancestors_of(org_unit_id: int, parent_of: Mapping[int, int | None]) -> list[int]:
    """The unit itself, then its parent, up to the root."""
    chain: list[int] = []
    current: int | None = org_unit_id
    seen: set[int] = set()
    while current is not None and current not in seen:
        seen.add(current)
        chain.append(current)
        current = parent_of.get(current)
    return chain


def is_allowed(
    actor: Actor, action: Action, org_unit_id: int, parent_of: Mapping[int, int | None]
) -> bool:
    """Whether ``actor`` may do ``action`` for ``org_unit_id`` (or a unit below one it holds)."""
    if actor.is_system:
        return True
    covering = set(ancestors_of(org_unit_id, parent_of))
    return any(
        action in ROLE_ACTIONS[grant.role] and grant.org_unit_id in covering
        for grant in actor.grants
    )


def roles_held(grants: Iterable[Grant]) -> set[Role]:
    return {grant.role for grant in grants}
