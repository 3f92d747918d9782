"""``doithoai demo seed``: a ward's two years of dialogue, played through the real use cases with
a moving clock, so that every event, deadline and late action is what the procedure would have
recorded. Invented people and petitions (bot/demo_data.toml); a real ward and real streets."""

from __future__ import annotations

import heapq
import itertools
import random
import tomllib
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from importlib import resources
from typing import Any

from sqlalchemy import Engine
from sqlmodel import col, select

from procedure.lifecycles import OPEN_PETITION_STATES
from procedure.permissions import Actor, Grant, Role
from procedure.use_cases import follow_up, registrations, sessions
from procedure.use_cases.administration import add_org_unit, grant_role, import_province
from procedure.use_cases.context import ProcedureContext, load_calendar
from procedure.use_cases.follow_up import AssignmentRequest
from procedure.use_cases.petitions import PetitionKind, PetitionSubmission, submit_petition
from procedure.use_cases.residents import give_consent
from procedure.working_days import WorkingCalendar
from storage.tables import ChannelAccount, DialogueSession, OrgUnit, Person, Petition
from storage.unit_of_work import UnitOfWork
from texts import LOCAL_TIMEZONE

SESSION_DAYS = (
    date(2025, 3, 20),
    date(2025, 6, 19),
    date(2025, 9, 18),
    date(2025, 12, 11),
    date(2026, 3, 19),
    date(2026, 6, 18),
    date(2026, 9, 17),
    date(2026, 11, 12),
)
# Seeded after the last of SESSION_DAYS, the demo also has its next session, announced that
# day, this many working days ahead.
NEXT_SESSION_WORKING_DAYS = 15
LATE_CONCLUSION = date(2025, 9, 18)  # this session's conclusion is notified late (P7)
RESIDENTS = 240
REGISTERED_PER_SESSION = 60
ATTENDING_PER_SESSION = 45


@dataclass
class MovingClock:
    now: datetime = field(default_factory=lambda: datetime(2025, 1, 2, 2, 0, tzinfo=UTC))

    def __call__(self) -> datetime:
        return self.now


@dataclass
class DemoSummary:
    ward: str
    ward_code: str
    created: bool = True
    sessions: int = 0
    petitions: int = 0
    results: int = 0
    extensions: int = 0
    open: int = 0


def _moment(day: date, clock: str) -> datetime:
    return datetime.combine(day, time.fromisoformat(clock), LOCAL_TIMEZONE).astimezone(UTC)


class _Timeline:
    """Actions in time order; an action may schedule later ones (a conclusion its results)."""

    def __init__(self) -> None:
        self._queue: list[tuple[datetime, int, int, Callable[[], object]]] = []
        self._order = itertools.count()

    def at(self, moment: datetime, action: Callable[[], object], rank: int = 5) -> None:
        heapq.heappush(self._queue, (moment, rank, next(self._order), action))

    def play(self, clock: MovingClock, until: date) -> None:
        while self._queue:
            moment, _, _, action = heapq.heappop(self._queue)
            if moment.astimezone(LOCAL_TIMEZONE).date() > until:
                return
            clock.now = moment
            action()


def load_data() -> dict[str, Any]:
    return tomllib.loads(resources.files("bot").joinpath("demo_data.toml").read_text("utf-8"))


def seed(engine: Engine, today: date, *, seed_value: int = 2026) -> DemoSummary:
    """Fill the database with the ward's sessions up to ``today``; nothing if already there."""
    data = load_data()
    rng = random.Random(seed_value)
    clock = MovingClock()
    context = ProcedureContext(clock=clock)
    with UnitOfWork(engine) as uow:
        province, _ = import_province(uow, Actor.system(), int(data["ward_province"]))
        ward = uow.session.exec(
            select(OrgUnit)
            .where(OrgUnit.parent_id == province.id)
            .where(OrgUnit.name == data["ward_name"])
        ).one()
        assert ward.id is not None
        summary = DemoSummary(ward=ward.name, ward_code=ward.code)
        if (
            uow.session.exec(
                select(DialogueSession.id).where(DialogueSession.org_unit_id == ward.id)
            ).first()
            is not None
        ):
            summary.created = False
            uow.commit()
            return summary
        world = _World(uow, ward, data, rng, context, summary)
        timeline = _Timeline()
        for number, day in enumerate(SESSION_DAYS):
            world.schedule_session(timeline, number, day)
        timeline.play(clock, today)
        if max(SESSION_DAYS) <= today:
            world.announce_next_session(clock, today)
        summary.open = len(
            uow.session.exec(
                select(Petition.id).where(
                    col(Petition.state).in_([state.value for state in OPEN_PETITION_STATES])
                )
            ).all()
        )
        uow.commit()
        return summary


class _World:
    def __init__(
        self,
        uow: UnitOfWork,
        ward: OrgUnit,
        data: dict[str, Any],
        rng: random.Random,
        context: ProcedureContext,
        summary: DemoSummary,
    ) -> None:
        self.uow, self.ward, self.data, self.rng = uow, ward, data, rng
        self.context, self.summary = context, summary
        self.calendar: WorkingCalendar = load_calendar(uow)
        self.office = self._staff(data["office"], Role.OFFICE, ward)
        self.head = self._staff(data["head"], Role.HEAD, ward)
        self._staff(data["monitor"], Role.MONITOR, ward)
        self.agencies: list[tuple[OrgUnit, Actor]] = []
        for index, (name, officer) in enumerate(
            zip(data["agencies"], data["agency_officers"], strict=True)
        ):
            agency = add_org_unit(
                uow,
                Actor.system(),
                code=f"{ward.code}-cq{index + 1}",
                name=name,
                level_code="co_quan",
                parent_code=ward.code,
            )
            self.agencies.append((agency, self._staff(officer, Role.AGENCY, agency)))
        self.residents = self._residents()

    def _staff(self, name: str, role: Role, unit: OrgUnit) -> Actor:
        person = Person(full_name=name)
        self.uow.session.add(person)
        self.uow.flush()
        assert person.id is not None and unit.id is not None
        grant_role(self.uow, Actor.system(), person.id, unit.code, role)
        return Actor(person_id=person.id, grants=(Grant(role, unit.id),))

    def _residents(self) -> list[Person]:
        people = []
        for number in range(RESIDENTS):
            name = " ".join(
                self.rng.choice(self.data[part]) for part in ("family", "middle", "given")
            )
            person = Person(
                full_name=name,
                phone_e164=f"+849{self.rng.randrange(10**7, 10**8)}",
                phone_verified=True,
                area_org_id=self.ward.id,
            )
            self.uow.session.add(person)
            self.uow.flush()
            assert person.id is not None
            self.uow.session.add(
                ChannelAccount(
                    person_id=person.id,
                    channel="demo",
                    external_user_id=f"demo-{number}",
                    chat_id=f"demo-{number}",
                )
            )
            people.append(person)
        self.uow.flush()
        for person in people:
            give_consent(self.uow, person.id, "demo", self.context)  # type: ignore[arg-type]
        return people

    def schedule_session(self, timeline: _Timeline, number: int, day: date) -> None:
        state: dict[str, Any] = {"petitions": []}
        data, uow, context = self.data, self.uow, self.context

        def plan() -> None:
            state["id"] = self._plan_session(number, day)

        timeline.at(_moment(day - timedelta(days=21), "09:00"), plan, 0)
        timeline.at(
            _moment(day - timedelta(days=12), "09:30"),
            lambda: sessions.announce_session(uow, self.office, state["id"], context),
            1,
        )
        people = self.rng.sample(self.residents, REGISTERED_PER_SESSION)
        for index, person in enumerate(people):
            timeline.at(
                _moment(day - timedelta(days=9), "10:00") + timedelta(minutes=index),
                self._register(state, person),
                2,
            )
        chosen = [i for i in data["issues"] if i.get("repeat") or self.rng.random() < 0.45]
        for index, issue in enumerate(chosen):
            text = issue["variants"][(number + index) % len(issue["variants"])]
            timeline.at(
                _moment(day - timedelta(days=6), "14:00") + timedelta(minutes=index),
                self._submit(state, issue, self.rng.choice(self.residents), text),
                3,
            )
        timeline.at(_moment(day, "08:00"), self._check_in(state), 4)
        timeline.at(
            _moment(day, "11:30"),
            lambda: sessions.hold_session(uow, self.office, state["id"], context),
            4,
        )
        late = day == LATE_CONCLUSION
        notice = self.calendar.add_working_days(day, 12 if late else 6).due
        timeline.at(_moment(notice, "16:00"), self._conclude(timeline, state, notice), 5)

    def _plan_session(self, number: int, day: date) -> int:
        session = sessions.plan_session(
            self.uow,
            self.office,
            sessions.SessionPlan(
                org_unit_id=self.ward.id,  # type: ignore[arg-type]
                chair_name=self.data["chair"],
                venue=self.data["venue"],
                starts_at=_moment(day, "08:00"),
                ends_at=_moment(day, "11:00"),
                content=self.data["sessions"][number % len(self.data["sessions"])],
                agency_org_ids=[agency.id for agency, _ in self.agencies],  # type: ignore[misc]
                capacity=120,
            ),
            self.context,
        )
        assert session.id is not None
        self.summary.sessions += 1
        return session.id

    def announce_next_session(self, clock: MovingClock, today: date) -> None:
        """The ward's next session, planned and announced today and open for registration: what
        a resident trying the demo registers for, whatever day the demo is seeded. It is held
        three working weeks from today (Article 13: invitations at least 5 working days
        ahead)."""
        day = self.calendar.add_working_days(today, NEXT_SESSION_WORKING_DAYS).due
        clock.now = max(clock.now, _moment(today, "09:00"))
        session_id = self._plan_session(len(SESSION_DAYS), day)
        sessions.announce_session(self.uow, self.office, session_id, self.context)

    def _register(self, state: dict[str, Any], person: Person) -> Callable[[], None]:
        def run() -> None:
            outcome = registrations.register(self.uow, person.id, state["id"], self.context)  # type: ignore[arg-type]
            state.setdefault("codes", []).append(outcome.registration.code)

        return run

    def _check_in(self, state: dict[str, Any]) -> Callable[[], None]:
        def run() -> None:
            for code in state.get("codes", [])[:ATTENDING_PER_SESSION]:
                registrations.check_in(self.uow, self.office, state["id"], code, self.context)

        return run

    def _submit(
        self, state: dict[str, Any], issue: dict[str, Any], person: Person, text: str
    ) -> Callable[[], None]:
        def run() -> None:
            petition = submit_petition(
                self.uow,
                PetitionSubmission(
                    person_id=person.id,  # type: ignore[arg-type]
                    kind=PetitionKind.PETITION,
                    topic_code=issue["topic"],
                    text=text,
                    full_name=person.full_name or "",
                    phone_e164=person.phone_e164 or "",
                    area_org_id=person.area_org_id,
                    session_id=state["id"],
                    street=issue["street"],
                    channel="demo",
                ),
                self.context,
            )
            state["petitions"].append((petition.tracking_code, petition.id, issue))
            self.summary.petitions += 1

        return run

    def _conclude(
        self, timeline: _Timeline, state: dict[str, Any], notice: date
    ) -> Callable[[], None]:
        def run() -> None:
            requests = [
                AssignmentRequest(petition_id, self.agencies[issue["agency"]][0].id)  # type: ignore[arg-type]
                for _, petition_id, issue in state["petitions"]
            ]
            follow_up.notify_conclusion(
                self.uow,
                self.head,
                state["id"],
                self.data["results"]["conclusion"],
                requests,
                self.context,
            )
            due = self.calendar.add_working_days(notice, self.context.periods.result_working_days)
            for index, (code, _, issue) in enumerate(state["petitions"]):
                self._schedule_result(timeline, code, issue, notice, due.due, index)

        return run

    def _schedule_result(
        self,
        timeline: _Timeline,
        code: str,
        issue: dict[str, Any],
        notice: date,
        due: date,
        index: int,
    ) -> None:
        agency, officer = self.agencies[issue["agency"]]
        results = self.data["results"]
        roll = self.rng.random()
        if issue.get("repeat"):
            # Answered in part each time, raised again next session: never resolved (P2).
            when = self.calendar.add_working_days(notice, 14 + index % 5).due
            text = results["partial"].format(agency=agency.name)
        elif roll < 0.15:
            when = self.calendar.add_working_days(due, 3).due  # late (P8)
            text = results["answered"].format(agency=agency.name)
        elif roll < 0.30:
            new_due = self.calendar.add_working_days(due, 15).due  # extended in writing (P9)
            timeline.at(_moment(due, "09:00"), self._extend(officer, code, new_due), 6)
            when = self.calendar.add_working_days(due, 10).due
            text = results["answered"].format(agency=agency.name)
        else:
            when = self.calendar.add_working_days(notice, 6 + index % 12).due
            text = results["answered"].format(agency=agency.name)
        timeline.at(_moment(when, "15:00"), self._answer(officer, code, text), 7)

    def _extend(self, officer: Actor, code: str, new_due: date) -> Callable[[], None]:
        def run() -> None:
            follow_up.extend_deadline(
                self.uow, officer, code, new_due, self.data["results"]["extension"], self.context
            )
            self.summary.extensions += 1

        return run

    def _answer(self, officer: Actor, code: str, text: str) -> Callable[[], None]:
        def run() -> None:
            follow_up.post_result(self.uow, officer, code, text, self.context)
            self.summary.results += 1

        return run
