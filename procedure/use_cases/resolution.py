""" "Is it resolved?" (issue 13): some working days after a written result (P8), the petitioner is
asked once whether the problem was resolved — yes, partly or no, with an optional comment. "No"
or "partly" reopens the petition to the same agency with a new due date (the result period
again), and the head is told; a petition reopened twice is flagged to the head as a repeated
unresolved issue (P2).

Asked once: the question is an outbox row under the key ``resolution:<written result id>``, so a
second run of the scheduler queues nothing, and a resident who never answers is never asked
again about that result. Only written results of an agency (a petition in the ``answered``
state) are asked about, never a direct reply to a question, and never a petition of a person who
had their data erased (X3).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from enum import StrEnum

from sqlmodel import col, func, select

from procedure.deadlines import inbox_result_deadline, resolution_check_day, result_deadline
from procedure.errors import NotFound, Refusal
from procedure.lifecycles import PetitionState, check_petition_transition
from procedure.notifications import enqueue
from procedure.permissions import Actor, Role
from procedure.use_cases.assignments import follow_petition_state
from procedure.use_cases.context import ProcedureContext, load_calendar, record_event
from procedure.use_cases.follow_up import (
    assignment_agency,
    assignment_of,
    heads_for,
    staff_with_role,
)
from procedure.use_cases.residents import ERASED
from storage.tables import (
    DialogueSession,
    OutboxMessage,
    Petition,
    ResolutionFeedback,
    Topic,
    WrittenResult,
)
from storage.unit_of_work import UnitOfWork

QUESTION_KIND = "petition.resolution_question"
# A question whose day passed longer ago than this is not asked any more: when the feature is
# switched on, or after a long outage, residents are not asked about results of long ago.
ASK_WITHIN_DAYS = 30
# A petition reopened this many times is flagged to the head as a repeated unresolved issue (P2).
REPEATED_REOPENINGS = 2
COMMENT_LIMIT = 2000


class Resolution(StrEnum):
    YES = "yes"
    PARTLY = "partly"
    NO = "no"


REOPENING_ANSWERS = frozenset({Resolution.PARTLY, Resolution.NO})


def question_key(result_id: int) -> str:
    return f"resolution:{result_id}"


@dataclass(frozen=True)
class DueQuestion:
    petition: Petition
    result: WrittenResult
    agency: str
    asked_from: date  # the day the question became due


def due_questions(uow: UnitOfWork, context: ProcedureContext) -> list[DueQuestion]:
    """The written results whose petitioner is to be asked today and was not asked yet."""
    calendar = load_calendar(uow)
    today = context.today()
    periods = context.periods
    rows = uow.session.exec(
        select(WrittenResult, Petition)
        .join(Petition, col(Petition.id) == col(WrittenResult.petition_id))
        .where(Petition.state == PetitionState.ANSWERED)
        .where(col(WrittenResult.assignment_id).is_not(None))
        .where(WrittenResult.answered_on <= today)
        .order_by(col(WrittenResult.id))
    ).all()
    latest: dict[int, tuple[WrittenResult, Petition]] = {}
    for result, petition in rows:
        latest[petition.id] = (result, petition)  # type: ignore[index]
    candidates = []
    for result, petition in latest.values():
        if petition.petitioner_name == ERASED and petition.petitioner_phone_e164 == ERASED:
            continue  # X3: the person had their data erased
        day = resolution_check_day(calendar, result.answered_on, periods).due
        if day > today or day < today - timedelta(days=ASK_WITHIN_DAYS):
            continue
        candidates.append((result, petition, day))
    if not candidates:
        return []
    keys = [question_key(result.id) for result, _, _ in candidates]  # type: ignore[arg-type]
    asked = set(
        uow.session.exec(
            select(OutboxMessage.idempotency_key).where(
                col(OutboxMessage.idempotency_key).in_(keys)
            )
        ).all()
    )
    due = []
    for result, petition, day in candidates:
        if question_key(result.id) in asked:  # type: ignore[arg-type]
            continue
        assignment = assignment_of(uow, petition)
        due.append(DueQuestion(petition, result, assignment_agency(uow, assignment), day))
    return due


def queue_resolution_questions(uow: UnitOfWork, context: ProcedureContext) -> int:
    """Queue today's "is it resolved?" questions; returns how many rows were queued. Never
    commits (the scheduler owns the transaction)."""
    count = 0
    for item in due_questions(uow, context):
        queued = enqueue(
            uow,
            person_id=item.petition.person_id,
            kind=QUESTION_KIND,
            data={
                "tracking_code": item.petition.tracking_code,
                "result_id": item.result.id,
                "agency": item.agency,
                "answered_on": item.result.answered_on.isoformat(),
                "text": item.result.text[:300],
            },
            key=question_key(item.result.id),  # type: ignore[arg-type]
            transactional=False,
        )
        count += queued is not None
    uow.flush()
    return count


@dataclass(frozen=True)
class Answered:
    feedback: ResolutionFeedback
    petition: Petition
    agency: str
    due: date | None  # the new due date when the petition was reopened
    reopenings: int  # how many times the petition has been reopened, this time included


def reopenings_of(uow: UnitOfWork, petition_id: int) -> int:
    return int(
        uow.session.exec(
            select(func.count())
            .select_from(ResolutionFeedback)
            .where(ResolutionFeedback.petition_id == petition_id)
            .where(col(ResolutionFeedback.reopened))
        ).one()
    )


def answer_resolution(
    uow: UnitOfWork,
    person_id: int,
    result_id: int,
    answer: str,
    context: ProcedureContext,
) -> Answered:
    """The petitioner answers the question about one written result. Only the petitioner who was
    asked may answer, once; "no" or "partly" reopens the petition to the same agency."""
    try:
        resolution = Resolution(answer)
    except ValueError:
        raise NotFound("refusal.resolution_not_asked") from None
    result = uow.session.get(WrittenResult, result_id)
    petition = uow.session.get(Petition, result.petition_id) if result else None
    asked = uow.session.exec(
        select(OutboxMessage.id).where(OutboxMessage.idempotency_key == question_key(result_id))
    ).first()
    if result is None or petition is None or petition.person_id != person_id or asked is None:
        raise NotFound("refusal.resolution_not_asked")
    done = uow.session.exec(
        select(ResolutionFeedback).where(ResolutionFeedback.written_result_id == result_id)
    ).first()
    if done is not None:
        raise Refusal("refusal.resolution_answered_already", code=petition.tracking_code)
    assignment = assignment_of(uow, petition)
    agency = assignment_agency(uow, assignment)
    now = context.now()
    reopen = resolution in REOPENING_ANSWERS
    if reopen:
        # The result asked about must still be the petition's last word.
        previous = check_petition_transition(petition.state, PetitionState.REOPENED)
    elif petition.state != PetitionState.ANSWERED:
        raise Refusal("refusal.resolution_answered_already", code=petition.tracking_code)
    feedback = ResolutionFeedback(
        petition_id=petition.id,  # type: ignore[arg-type]
        written_result_id=result_id,
        person_id=person_id,
        answer=resolution.value,
        reopened=reopen,
        answered_at=now,
    )
    uow.session.add(feedback)
    uow.flush()
    actor = Actor.resident(person_id)
    record_event(
        uow,
        kind="petition.resolution_answered",
        actor=actor,
        action=None,
        at=now,
        petition_id=petition.id,
        session_id=petition.session_id,
        details={"answer": resolution.value, "result_id": result_id, "agency": agency},
    )
    if not reopen:
        uow.flush()
        return Answered(feedback, petition, agency, None, reopenings_of(uow, petition.id))  # type: ignore[arg-type]

    calendar = load_calendar(uow)
    today = context.today()
    if petition.session_id is None:
        due = inbox_result_deadline(calendar, today, context.periods).due
    else:
        due = result_deadline(calendar, today, context.periods).due
    previous_due = assignment.due_date
    assignment.due_date = due
    uow.session.add(assignment)
    petition.state = PetitionState.REOPENED
    uow.session.add(petition)
    follow_petition_state(uow, petition, assignment)
    count = reopenings_of(uow, petition.id)  # type: ignore[arg-type]
    repeated = count >= REPEATED_REOPENINGS
    record_event(
        uow,
        kind="petition.reopened",
        actor=actor,
        action=None,
        at=now,
        petition_id=petition.id,
        session_id=petition.session_id,
        from_state=previous,
        to_state=PetitionState.REOPENED,
        details={
            "answer": resolution.value,
            "agency": agency,
            "due": due.isoformat(),
            "previous_due": previous_due.isoformat(),
            "reopenings": count,
            "repeated": repeated,
        },
    )
    data: dict[str, object] = {
        "tracking_code": petition.tracking_code,
        "agency": agency,
        "answer": resolution.value,
        "due": due.isoformat(),
        "text": petition.text[:200],
        "reopenings": count,
        "repeated": repeated,
    }
    for officer in staff_with_role(uow, assignment.agency_org_id, Role.AGENCY):
        enqueue(
            uow,
            person_id=officer,
            kind="agency.reopened",
            data=data,
            key=f"petition:{petition.id}:reopened:{feedback.id}:{officer}",
        )
    session = uow.session.get(DialogueSession, petition.session_id) if petition.session_id else None
    for head in heads_for(uow, session.org_unit_id if session else petition.area_org_id):
        enqueue(
            uow,
            person_id=head,
            kind="head.reopened",
            data=data,
            key=f"petition:{petition.id}:reopened:{feedback.id}:head:{head}",
        )
    uow.flush()
    return Answered(feedback, petition, agency, due, count)


def add_comment(
    uow: UnitOfWork, person_id: int, feedback_id: int, comment: str, context: ProcedureContext
) -> ResolutionFeedback:
    """The optional comment that goes with an answer, once; an event of the petition (X2)."""
    feedback = uow.session.get(ResolutionFeedback, feedback_id)
    if feedback is None or feedback.person_id != person_id:
        raise NotFound("refusal.resolution_not_asked")
    text = comment.strip()[:COMMENT_LIMIT]
    if not text:
        raise Refusal("refusal.resolution_comment_empty")
    if feedback.comment:
        raise Refusal("refusal.resolution_comment_given")
    feedback.comment = text
    uow.session.add(feedback)
    petition = uow.session.get(Petition, feedback.petition_id)
    assert petition is not None
    record_event(
        uow,
        kind="petition.resolution_comment",
        actor=Actor.resident(person_id),
        action=None,
        at=context.now(),
        petition_id=feedback.petition_id,
        session_id=petition.session_id,
        details={"answer": feedback.answer},
    )
    if feedback.reopened:
        # The agency that answers again reads what the resident found unresolved.
        assignment = assignment_of(uow, petition)
        for officer in staff_with_role(uow, assignment.agency_org_id, Role.AGENCY):
            enqueue(
                uow,
                person_id=officer,
                kind="agency.resolution_comment",
                data={
                    "tracking_code": petition.tracking_code,
                    "agency": assignment_agency(uow, assignment),
                    "answer": feedback.answer,
                    "comment": text,
                },
                key=f"petition:{petition.id}:comment:{feedback.id}:{officer}",
            )
    uow.flush()
    return feedback


@dataclass
class SatisfactionLine:
    """The petitioners' answers about one agency's or one topic's written results."""

    name: str
    yes: int = 0
    partly: int = 0
    no: int = 0
    reopened: int = 0

    @property
    def answered(self) -> int:
        return self.yes + self.partly + self.no

    def add(self, feedback: ResolutionFeedback) -> None:
        setattr(self, feedback.answer, getattr(self, feedback.answer) + 1)
        self.reopened += feedback.reopened


@dataclass
class Satisfaction:
    asked: int = 0
    yes: int = 0
    partly: int = 0
    no: int = 0
    reopened: int = 0
    reopened_twice: int = 0  # petitions reopened at least twice (P2)
    by_agency: dict[str, SatisfactionLine] = field(default_factory=dict)
    by_topic: dict[str, SatisfactionLine] = field(default_factory=dict)

    @property
    def answered(self) -> int:
        return self.yes + self.partly + self.no


def satisfaction(
    uow: UnitOfWork, petition_ids: list[int], agencies: dict[int, str]
) -> Satisfaction:
    """The answers to "is it resolved?" about the given petitions, by agency and by topic.
    ``agencies`` maps a petition to its agency's name."""
    found = Satisfaction()
    if not petition_ids:
        return found
    topics = {t.code: t.name for t in uow.session.exec(select(Topic)).all()}
    petitions = {
        p.id: p
        for p in uow.session.exec(select(Petition).where(col(Petition.id).in_(petition_ids)))
    }
    result_ids = uow.session.exec(
        select(WrittenResult.id).where(col(WrittenResult.petition_id).in_(petition_ids))
    ).all()
    keys = [question_key(result_id) for result_id in result_ids]  # type: ignore[arg-type]
    found.asked = (
        int(
            uow.session.exec(
                select(func.count())
                .select_from(OutboxMessage)
                .where(col(OutboxMessage.idempotency_key).in_(keys))
            ).one()
        )
        if keys
        else 0
    )
    reopened_per_petition: dict[int, int] = {}
    for feedback in uow.session.exec(
        select(ResolutionFeedback)
        .where(col(ResolutionFeedback.petition_id).in_(petition_ids))
        .order_by(col(ResolutionFeedback.id))
    ).all():
        setattr(found, feedback.answer, getattr(found, feedback.answer) + 1)
        found.reopened += feedback.reopened
        if feedback.reopened:
            reopened_per_petition[feedback.petition_id] = (
                reopened_per_petition.get(feedback.petition_id, 0) + 1
            )
        petition = petitions[feedback.petition_id]
        agency = agencies.get(feedback.petition_id, "")
        found.by_agency.setdefault(agency, SatisfactionLine(agency)).add(feedback)
        topic = topics.get(petition.topic_code, petition.topic_code)
        found.by_topic.setdefault(topic, SatisfactionLine(topic)).add(feedback)
    found.reopened_twice = sum(
        1 for count in reopened_per_petition.values() if count >= REPEATED_REOPENINGS
    )
    return found


def reopened_counts(uow: UnitOfWork, petition_ids: list[int]) -> dict[int, tuple[int, datetime]]:
    """How many times each petition was reopened, and when last (for P2)."""
    if not petition_ids:
        return {}
    rows = uow.session.exec(
        select(
            ResolutionFeedback.petition_id,
            func.count(),
            func.max(ResolutionFeedback.answered_at),
        )
        .where(col(ResolutionFeedback.petition_id).in_(petition_ids))
        .where(col(ResolutionFeedback.reopened))
        .group_by(col(ResolutionFeedback.petition_id))
    ).all()
    return {pid: (int(n), as_utc(last)) for pid, n, last in rows}


def as_utc(moment: datetime) -> datetime:
    """An aggregate over a UTC column comes back naive on SQLite."""
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)
