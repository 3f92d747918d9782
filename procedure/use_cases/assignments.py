"""An assignment's row and the copies it keeps for the deadline digests (C6 at scale, issue 12).

The digests count every written result still owed, per agency and per unit whose head answers
for it, over a million open petitions. So that this reads one index of the assignments and no
petition, the assignment row keeps, beside its (possibly extended) due date:

- ``awaiting_result``: whether the agency still owes the written result, that is whether the
  petition is forwarded, extended or reopened. Every use case that moves an assigned petition
  in or out of those states sets it (``follow_petition_state``);
- ``answerable_org_id``: the unit whose head hears of it when overdue, the session's unit or,
  for a petition outside any session, its area. Neither changes once a petition is assigned (a
  session's unit changes only while it is a plan; only kept items move between sessions);
- ``tracking_code``: the petition's code, the digest's order among items due the same day.

Migration 0020 filled them in for the assignments that existed before.
"""

from __future__ import annotations

from datetime import date, datetime

from sqlmodel import select

from procedure.lifecycles import PetitionState
from storage.tables import Assignment, DialogueSession, Petition
from storage.unit_of_work import UnitOfWork

# The states in which the agency owes the written result (P8, P9, issue 13's reopening).
AWAITING_RESULT_STATES = frozenset(
    {PetitionState.FORWARDED, PetitionState.EXTENDED, PetitionState.REOPENED}
)


def answerable_unit(uow: UnitOfWork, petition: Petition) -> int:
    """The unit whose head answers for the petition's result: the session's, or its area's."""
    if petition.session_id is not None:
        session = uow.session.get(DialogueSession, petition.session_id)
        if session is not None:
            return session.org_unit_id
    return petition.area_org_id


def new_assignment(
    uow: UnitOfWork,
    petition: Petition,
    *,
    agency_org_id: int,
    notice_date: date,
    due: date,
    created_at: datetime,
    conclusion_id: int | None = None,
) -> Assignment:
    """The petition given to an agency, due ``due``; added to the unit of work. The caller moves
    the petition to FORWARDED."""
    assignment = Assignment(
        petition_id=petition.id,  # type: ignore[arg-type]
        agency_org_id=agency_org_id,
        conclusion_id=conclusion_id,
        notice_date=notice_date,
        original_due_date=due,
        due_date=due,
        created_at=created_at,
        awaiting_result=True,
        answerable_org_id=answerable_unit(uow, petition),
        tracking_code=petition.tracking_code,
    )
    uow.session.add(assignment)
    return assignment


def follow_petition_state(
    uow: UnitOfWork, petition: Petition, assignment: Assignment | None = None
) -> None:
    """After the petition's state changed: whether its agency still owes the written result.
    ``assignment`` when the caller holds it; otherwise it is looked up (a petition never
    assigned has none, and nothing changes)."""
    if assignment is None:
        assignment = uow.session.exec(
            select(Assignment).where(Assignment.petition_id == petition.id)
        ).first()
        if assignment is None:
            return
    awaiting = PetitionState(petition.state) in AWAITING_RESULT_STATES
    if assignment.awaiting_result != awaiting:
        assignment.awaiting_result = awaiting
        uow.session.add(assignment)
