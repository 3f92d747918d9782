"""Every lifecycle transition, allowed and refused (P1, P4, P7–P9, Q6, C1)."""

from __future__ import annotations

import itertools

import pytest

from procedure.errors import InvalidTransition
from procedure.lifecycles import (
    PetitionState,
    RegistrationState,
    SessionChange,
    SessionState,
    check_petition_transition,
    check_registration_transition,
    check_session_change,
    check_session_transition,
)

S, P, R = SessionState, PetitionState, RegistrationState

ALLOWED_SESSION = {
    (S.DRAFT, S.ANNOUNCED),
    (S.DRAFT, S.CANCELLED),
    (S.ANNOUNCED, S.HELD),
    (S.ANNOUNCED, S.CANCELLED),
    (S.HELD, S.CONCLUDED),
    (S.CONCLUDED, S.CLOSED),
}
ALLOWED_PETITION = {
    (P.RECEIVED, P.FORWARDED),
    (P.RECEIVED, P.ANSWERED_DIRECTLY),
    (P.RECEIVED, P.MERGED),
    # The office inbox: keep for a session (P3), transfer outside the unit, decline.
    (P.RECEIVED, P.KEPT),
    (P.RECEIVED, P.TRANSFERRED),
    (P.RECEIVED, P.DECLINED),
    (P.KEPT, P.FORWARDED),
    (P.KEPT, P.ANSWERED_DIRECTLY),
    (P.KEPT, P.MERGED),
    (P.KEPT, P.TRANSFERRED),
    (P.KEPT, P.DECLINED),
    (P.FORWARDED, P.EXTENDED),
    (P.FORWARDED, P.ANSWERED),
    (P.FORWARDED, P.MERGED),
    (P.EXTENDED, P.EXTENDED),
    (P.EXTENDED, P.ANSWERED),
    (P.EXTENDED, P.MERGED),
    # Issue 13: the petitioner says the written result did not (fully) resolve the problem; the
    # same agency answers again or extends in writing.
    (P.ANSWERED, P.REOPENED),
    (P.REOPENED, P.EXTENDED),
    (P.REOPENED, P.ANSWERED),
    (P.REOPENED, P.MERGED),
}
ALLOWED_REGISTRATION = {
    (R.REGISTERED, R.CANCELLED),
    (R.WAITLISTED, R.REGISTERED),
    (R.WAITLISTED, R.CANCELLED),
    (R.CANCELLED, R.REGISTERED),
    (R.CANCELLED, R.WAITLISTED),
}


@pytest.mark.parametrize(("current", "target"), list(itertools.product(S, S)))
def test_p1_session_transition(current: SessionState, target: SessionState) -> None:
    if (current, target) in ALLOWED_SESSION:
        assert check_session_transition(current.value, target) is current
    else:
        with pytest.raises(InvalidTransition) as refused:
            check_session_transition(current.value, target)
        assert "không thể chuyển sang" in refused.value.message


@pytest.mark.parametrize(("current", "target"), list(itertools.product(P, P)))
def test_p3_p7_p9_q6_petition_transition(current: PetitionState, target: PetitionState) -> None:
    if (current, target) in ALLOWED_PETITION:
        assert check_petition_transition(current.value, target) is current
    else:
        with pytest.raises(InvalidTransition):
            check_petition_transition(current.value, target)


@pytest.mark.parametrize(("current", "target"), list(itertools.product(R, R)))
def test_c1_registration_transition(current: RegistrationState, target: RegistrationState) -> None:
    if (current, target) in ALLOWED_REGISTRATION:
        assert check_registration_transition(current.value, target) is current
    else:
        with pytest.raises(InvalidTransition):
            check_registration_transition(current.value, target)


def test_p9_extension_may_repeat_and_answered_is_final() -> None:
    assert check_petition_transition("extended", P.EXTENDED) is P.EXTENDED
    for final in (P.ANSWERED_DIRECTLY, P.MERGED, P.TRANSFERRED, P.DECLINED):
        for target in P:
            with pytest.raises(InvalidTransition):
                check_petition_transition(final.value, target)


ALLOWED_CHANGES = {
    (S.DRAFT, SessionChange.EDIT),
    (S.DRAFT, SessionChange.CANCEL),
    (S.ANNOUNCED, SessionChange.RESCHEDULE),
    (S.ANNOUNCED, SessionChange.CANCEL),
}


@pytest.mark.parametrize(("current", "change"), list(itertools.product(S, SessionChange)))
def test_p1_p4_session_change(current: SessionState, change: SessionChange) -> None:
    if (current, change) in ALLOWED_CHANGES:
        assert check_session_change(current.value, change) is current
    else:
        with pytest.raises(InvalidTransition) as refused:
            check_session_change(current.value, change)
        assert "trạng thái" in refused.value.message


def test_p8_an_answered_petition_only_reopens_and_a_reopened_one_is_open() -> None:
    """Issue 13: after a written result, the only way on is the petitioner's "no" or "partly";
    a reopened petition is open again (the agency's /viec, the alerts, the review)."""
    from procedure.lifecycles import OPEN_PETITION_STATES

    for target in P:
        if target is P.REOPENED:
            assert check_petition_transition("answered", target) is P.ANSWERED
        else:
            with pytest.raises(InvalidTransition):
                check_petition_transition("answered", target)
    assert P.REOPENED in OPEN_PETITION_STATES and P.ANSWERED not in OPEN_PETITION_STATES
