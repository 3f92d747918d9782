"""P10: the yearly report of sessions and results, to the party committee of the same level and
the directly superior government, with a notice to the Fatherland Front and the socio-political
organisations. Its figures are :func:`procedure.use_cases.review.figures` — the same as the
review shows for the same period."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import date

from sqlmodel import col, select

from procedure.permissions import Actor, Role
from procedure.use_cases.context import ProcedureContext, org_parent_map
from procedure.use_cases.review import Figures, Period, figures
from storage.tables import OrgUnit, Person, StaffRole
from storage.unit_of_work import UnitOfWork


@dataclass(frozen=True)
class RepeatedIssue:
    """A problem raised at least twice and not conclusively resolved (P2)."""

    title: str  # a representative petition's subject
    count: int
    first_raised: date
    last_raised: date
    open: int
    examples: tuple[str, ...]  # tracking codes
    last_answer: str = ""  # what was answered most recently, if anything
    # "Is it resolved?" (issue 13): how many times the petitioners said it was not, and the
    # petition was reopened.
    reopened: int = 0


@dataclass(frozen=True)
class AnnualReport:
    year: int
    unit: str
    superior: str  # the directly superior level, or "" at the top
    head: str  # name of the head who signs, or ""
    issued_on: date
    current: Figures
    previous: Figures
    repeated: Sequence[RepeatedIssue] = field(default=())
    # "Is it resolved?" (issue 13): the working days after a result the petitioner is asked.
    resolution_check_working_days: int = 10


RepeatedFinder = Callable[[UnitOfWork, int, Period], Sequence[RepeatedIssue]]


def build_annual_report(
    uow: UnitOfWork,
    actor: Actor,
    unit_id: int,
    year: int,
    context: ProcedureContext,
    *,
    repeated: RepeatedFinder | None = None,
    signer: str | None = None,
) -> AnnualReport:
    """P10: the yearly report of a unit. ``signer`` is the name chosen when the report is made;
    by default the unit's current head (the most recently appointed active one) signs."""
    period = Period.year(year)
    current = figures(uow, actor, unit_id, period, context)
    previous = figures(uow, actor, unit_id, period.previous_year(), context)
    unit = uow.session.get(OrgUnit, unit_id)
    assert unit is not None
    parent = org_parent_map(uow).get(unit_id)
    superior = uow.session.get(OrgUnit, parent) if parent is not None else None
    heads = uow.session.exec(
        select(Person.full_name)
        .join(StaffRole, col(StaffRole.person_id) == col(Person.id))
        .where(StaffRole.org_unit_id == unit_id)
        .where(StaffRole.role == Role.HEAD.value)
        .where(col(StaffRole.active))
        .order_by(col(StaffRole.granted_at).desc(), col(StaffRole.id).desc())
    ).all()
    chosen = " ".join((signer or "").split())
    head = chosen or next((name for name in heads if name), "")
    return AnnualReport(
        year=year,
        unit=unit.name,
        superior=superior.name if superior else "",
        head=head,
        issued_on=context.today(),
        current=current,
        previous=previous,
        repeated=tuple(repeated(uow, unit_id, period)) if repeated else (),
        resolution_check_working_days=context.periods.resolution_check_working_days,
    )
