"""The figures of an org unit over a period: the pressing-issue review (P2) and the yearly
report (P10) read the same numbers from here — one query behind both.

Sessions are counted by the day they started, petitions by the day they were received,
conclusions against the 10-working-day period (P7) and written results against their due date
after extensions (P8, P9), all in Asia/Ho_Chi_Minh days.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta

from sqlmodel import col, select

from nlp.street_level import street_level
from procedure.deadlines import conclusion_deadline
from procedure.lifecycles import OPEN_PETITION_STATES, PetitionState, SessionState
from procedure.permissions import Action, Actor
from procedure.places import public_point
from procedure.use_cases.context import ProcedureContext, load_calendar, require
from procedure.use_cases.resolution import Satisfaction, satisfaction
from procedure.use_cases.sessions import units_below
from storage.tables import (
    Assignment,
    Conclusion,
    DialogueSession,
    Extension,
    OrgUnit,
    Petition,
    Registration,
    ResolutionFeedback,
    Topic,
    WrittenResult,
)
from storage.unit_of_work import UnitOfWork
from texts import LOCAL_TIMEZONE, t, to_local

HELD_STATES = frozenset({SessionState.HELD, SessionState.CONCLUDED, SessionState.CLOSED})
ANSWERED_STATES = frozenset({PetitionState.ANSWERED, PetitionState.ANSWERED_DIRECTLY})


@dataclass(frozen=True)
class Period:
    start: date  # first day, inclusive
    end: date  # last day, inclusive

    @classmethod
    def year(cls, year: int) -> Period:
        return cls(date(year, 1, 1), date(year, 12, 31))

    def previous_year(self) -> Period:
        return Period(
            self.start.replace(year=self.start.year - 1), self.end.replace(year=self.end.year - 1)
        )

    def bounds(self) -> tuple[datetime, datetime]:
        """The period as UTC moments (local midnight to local midnight)."""
        first = datetime.combine(self.start, time(0), LOCAL_TIMEZONE)
        after = datetime.combine(self.end + timedelta(days=1), time(0), LOCAL_TIMEZONE)
        return first.astimezone(UTC), after.astimezone(UTC)


@dataclass(frozen=True)
class SessionLine:
    session_id: int
    day: date
    chair: str
    content: str
    attended: int
    registered: int
    opinions: int
    conclusion: str  # "on_time", "late", "missing", "pending"
    conclusion_late_days: int


@dataclass
class AgencyLine:
    agency: str
    assigned: int = 0
    on_time: int = 0
    late: int = 0
    open: int = 0
    overdue: int = 0
    extended: int = 0


@dataclass
class PlaceLine:
    """Where in the unit (issue 13): the ward and the street (or the point rounded to ~100 m),
    with how many petitions were about it, how many are answered, how many were reopened."""

    place: str
    petitions: int = 0
    answered: int = 0  # a written result or a direct reply stands (not reopened)
    reopened: int = 0  # petitions reopened at least once after "is it resolved?"


@dataclass
class Figures:
    unit: str
    period: Period
    sessions: list[SessionLine] = field(default_factory=list)
    petitions: int = 0
    by_topic: Counter[str] = field(default_factory=Counter)
    by_kind: Counter[str] = field(default_factory=Counter)
    by_state: Counter[str] = field(default_factory=Counter)
    by_place: Counter[str] = field(default_factory=Counter)
    places: dict[str, PlaceLine] = field(default_factory=dict)  # the same labels as by_place
    conclusions_on_time: int = 0
    conclusions_late: int = 0
    conclusions_missing: int = 0
    results_on_time: int = 0
    results_late: int = 0
    results_open: int = 0
    results_overdue: int = 0
    extended: int = 0
    questions_answered: int = 0
    agencies: dict[str, AgencyLine] = field(default_factory=dict)
    # "Is it resolved?" (issue 13): the petitioners' answers and the reopenings.
    satisfaction: Satisfaction = field(default_factory=Satisfaction)

    @property
    def sessions_held(self) -> int:
        return len(self.sessions)

    @property
    def attendance(self) -> int:
        return sum(line.attended for line in self.sessions)


def figures(
    uow: UnitOfWork, actor: Actor, unit_id: int, period: Period, context: ProcedureContext
) -> Figures:
    """The review's and the report's figures for ``unit_id`` and the units below it."""
    require(uow, actor, Action.VIEW_OVERSIGHT, unit_id)
    unit = uow.session.get(OrgUnit, unit_id)
    assert unit is not None
    units = units_below(uow, unit_id)
    start, end = period.bounds()
    calendar = load_calendar(uow)
    today = context.today()
    result = Figures(unit=unit.name, period=period)

    sessions = uow.session.exec(
        select(DialogueSession)
        .where(col(DialogueSession.org_unit_id).in_(units))
        .where(col(DialogueSession.starts_at) >= start)
        .where(col(DialogueSession.starts_at) < end)
        .where(col(DialogueSession.state).in_([s.value for s in HELD_STATES]))
        .order_by(col(DialogueSession.starts_at))
    ).all()
    for session in sessions:
        assert session.id is not None
        registrations = uow.session.exec(
            select(Registration).where(Registration.session_id == session.id)
        ).all()
        opinions = uow.session.exec(
            select(Petition.id).where(Petition.session_id == session.id)
        ).all()
        conclusion = uow.session.exec(
            select(Conclusion).where(Conclusion.session_id == session.id)
        ).first()
        due = conclusion_deadline(calendar, to_local(session.ends_at).date(), context.periods).due
        if conclusion is not None:
            status = "late" if conclusion.late_working_days else "on_time"
            late_days = conclusion.late_working_days
        else:
            status = "missing" if today > due else "pending"
            late_days = calendar.working_days_between(due, today) if today > due else 0
        result.sessions.append(
            SessionLine(
                session_id=session.id,
                day=to_local(session.starts_at).date(),
                chair=session.chair_name,
                content=session.content,
                attended=sum(1 for r in registrations if r.attended_at is not None),
                registered=sum(1 for r in registrations if r.state == "registered"),
                opinions=len(opinions),
                conclusion=status,
                conclusion_late_days=late_days,
            )
        )
        result.conclusions_on_time += status == "on_time"
        result.conclusions_late += status == "late"
        result.conclusions_missing += status == "missing"

    topics = {t.code: t.name for t in uow.session.exec(select(Topic)).all()}
    names = {u.id: u.name for u in uow.session.exec(select(OrgUnit)).all()}
    petitions = uow.session.exec(
        select(Petition)
        .where(col(Petition.area_org_id).in_(units))
        .where(col(Petition.received_at) >= start)
        .where(col(Petition.received_at) < end)
    ).all()
    place_of: dict[int | None, str] = {}
    for petition in petitions:
        result.petitions += 1
        result.by_topic[topics.get(petition.topic_code, petition.topic_code)] += 1
        result.by_kind[petition.kind] += 1
        result.by_state[petition.state] += 1
        place = names.get(petition.area_org_id, "")
        spot = _spot(petition)
        label = f"{place} — {spot}" if spot else place
        result.by_place[label] += 1
        spot_line = result.places.setdefault(label, PlaceLine(label))
        spot_line.petitions += 1
        spot_line.answered += petition.state in ANSWERED_STATES
        place_of[petition.id] = label
        result.questions_answered += petition.state == PetitionState.ANSWERED_DIRECTLY

    ids = [p.id for p in petitions]
    reopened = (
        set(
            uow.session.exec(
                select(ResolutionFeedback.petition_id)
                .where(col(ResolutionFeedback.petition_id).in_(ids))
                .where(col(ResolutionFeedback.reopened))
            ).all()
        )
        if ids
        else set()
    )
    for petition_id in reopened:
        result.places[place_of[petition_id]].reopened += 1
    rows = (
        uow.session.exec(
            select(Assignment, OrgUnit)
            .join(OrgUnit, col(OrgUnit.id) == col(Assignment.agency_org_id))
            .where(col(Assignment.petition_id).in_(ids))
        ).all()
        if ids
        else []
    )
    states = {p.id: p.state for p in petitions}
    for assignment, agency in rows:
        line = result.agencies.setdefault(agency.name, AgencyLine(agency.name))
        line.assigned += 1
        extended = (
            uow.session.exec(
                select(Extension.id).where(Extension.assignment_id == assignment.id)
            ).first()
            is not None
        )
        line.extended += extended
        result.extended += extended
        written = uow.session.exec(
            select(WrittenResult).where(WrittenResult.assignment_id == assignment.id)
        ).first()
        # A reopened petition (issue 13) is being resolved again: open, whatever came before.
        if written is not None and states.get(assignment.petition_id) != PetitionState.REOPENED:
            late = bool(written.late_working_days)
            line.late += late
            line.on_time += not late
            result.results_late += late
            result.results_on_time += not late
        elif states.get(assignment.petition_id) in OPEN_PETITION_STATES:
            line.open += 1
            result.results_open += 1
            overdue = assignment.due_date < today
            line.overdue += overdue
            result.results_overdue += overdue
    result.satisfaction = satisfaction(
        uow,
        [pid for pid in ids if pid is not None],
        {assignment.petition_id: agency.name for assignment, agency in rows},
    )
    return result


def _spot(petition: Petition) -> str | None:
    """Where in the ward (P2, issue 13): the street, else the address as written, else the shared
    point rounded to about 100 m, so that petitions about the same spot count together."""
    if petition.street:
        return petition.street
    written = street_level(petition.place_text or "")
    if written:
        # Without house numbers, so that "số 12 hẻm 42" and "số 14 hẻm 42" count together.
        return written
    point = public_point(petition.latitude, petition.longitude)
    if point is None:
        return None
    return t(
        "report.place_point", latitude=f"{point.latitude:.3f}", longitude=f"{point.longitude:.3f}"
    )
