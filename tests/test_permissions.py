"""Who may do what, for which org unit."""

from __future__ import annotations

import pytest

from procedure.permissions import ROLE_ACTIONS, Action, Actor, Grant, Role, is_allowed

# city 1 → ward 2 → agency 3; ward 4 is a sibling of ward 2.
TREE = {1: None, 2: 1, 3: 2, 4: 1}


def actor(role: Role, unit: int) -> Actor:
    return Actor(person_id=10, grants=(Grant(role, unit),))


@pytest.mark.parametrize("action", list(Action))
@pytest.mark.parametrize("role", [Role.OFFICE, Role.HEAD, Role.AGENCY, Role.MONITOR, Role.ADMIN])
def test_a_role_covers_its_unit_and_the_units_below_never_siblings(role: Role, action: Action):
    allowed = action in ROLE_ACTIONS[role]
    assert is_allowed(actor(role, 2), action, 2, TREE) is allowed
    assert is_allowed(actor(role, 2), action, 3, TREE) is allowed
    assert is_allowed(actor(role, 2), action, 4, TREE) is False
    assert is_allowed(actor(role, 2), action, 1, TREE) is False


def test_residents_may_do_no_staff_action_and_the_system_may_do_all() -> None:
    for action in Action:
        assert not is_allowed(Actor.resident(5), action, 2, TREE)
        assert is_allowed(Actor.system(), action, 2, TREE)


def test_monitors_only_read() -> None:
    assert ROLE_ACTIONS[Role.MONITOR] == frozenset({Action.VIEW_OVERSIGHT})


def test_agencies_answer_and_extend_but_do_not_run_sessions() -> None:
    assert {Action.POST_RESULT, Action.EXTEND_DEADLINE} <= ROLE_ACTIONS[Role.AGENCY]
    assert Action.ANNOUNCE_SESSION not in ROLE_ACTIONS[Role.AGENCY]
    assert Action.POST_RESULT not in ROLE_ACTIONS[Role.OFFICE]


def test_the_event_names_the_role_that_allowed_the_action() -> None:
    both = Actor(person_id=1, grants=(Grant(Role.MONITOR, 2), Grant(Role.AGENCY, 3)))
    assert both.role_for(Action.POST_RESULT) is Role.AGENCY
    assert Actor.system().role_for(Action.POST_RESULT) is Role.SYSTEM
    assert Actor.resident(1).role_for(Action.POST_RESULT) is Role.RESIDENT
