"""What every use case needs besides the database: the periods, the clock, the calendar."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime

from sqlmodel import select

from procedure.errors import NotAllowed, NotFound
from procedure.periods import Periods
from procedure.permissions import Action, Actor, is_allowed
from procedure.working_days import Override, OverrideKind, OverrideOrigin, WorkingCalendar
from storage.tables import CalendarOverride, Event, OrgUnit
from storage.unit_of_work import UnitOfWork
from texts import to_local


def system_clock() -> datetime:
    return datetime.now(UTC)


# A download address for a stored file reference (``file:<path>``, a photo sent on the web chat),
# where the deployment serves one (bot/files.py: PUBLIC_URL); None otherwise.
FileLink = Callable[[str], str | None]


@dataclass(frozen=True)
class ProcedureContext:
    periods: Periods = field(default_factory=Periods)
    clock: Callable[[], datetime] = system_clock
    file_link: FileLink | None = None

    def now(self) -> datetime:
        return self.clock()

    def today(self) -> date:
        """Today in Asia/Ho_Chi_Minh: the day every period is counted from."""
        return to_local(self.now()).date()


def administrator_overrides(uow: UnitOfWork) -> list[Override]:
    rows = uow.session.exec(select(CalendarOverride)).all()
    return [
        Override(
            day=row.day,
            kind=OverrideKind(row.kind),
            name=row.name,
            source=row.source,
            origin=OverrideOrigin.ADMINISTRATOR,
        )
        for row in rows
    ]


def load_calendar(uow: UnitOfWork) -> WorkingCalendar:
    """The official calendar with what administrators added in this database."""
    return WorkingCalendar.official(administrator_overrides(uow))


def org_parent_map(uow: UnitOfWork) -> dict[int, int | None]:
    rows = uow.session.exec(select(OrgUnit.id, OrgUnit.parent_id)).all()
    return {unit_id: parent_id for unit_id, parent_id in rows if unit_id is not None}


def require(uow: UnitOfWork, actor: Actor, action: Action, org_unit_id: int) -> None:
    """Refuse unless ``actor`` may do ``action`` for ``org_unit_id``."""
    if not is_allowed(actor, action, org_unit_id, org_parent_map(uow)):
        raise NotAllowed("refusal.not_allowed")


def org_unit_by_code(uow: UnitOfWork, code: str) -> OrgUnit:
    unit = uow.session.exec(select(OrgUnit).where(OrgUnit.code == code)).first()
    if unit is None:
        raise NotFound("refusal.org_unit_not_found", code=code)
    return unit


def record_event(
    uow: UnitOfWork,
    *,
    kind: str,
    actor: Actor,
    action: Action | None,
    at: datetime,
    session_id: int | None = None,
    petition_id: int | None = None,
    registration_id: int | None = None,
    from_state: str | None = None,
    to_state: str | None = None,
    reason: str | None = None,
    details: dict[str, object] | None = None,
) -> Event:
    """Every state change is an event with actor, time and reason (X2)."""
    event = Event(
        at=at,
        kind=kind,
        actor_person_id=actor.person_id,
        actor_role=actor.role_for(action)
        if action
        else ("system" if actor.is_system else "resident"),
        session_id=session_id,
        petition_id=petition_id,
        registration_id=registration_id,
        from_state=from_state,
        to_state=to_state,
        reason=reason,
        details=details or {},
    )
    uow.session.add(event)
    return event
