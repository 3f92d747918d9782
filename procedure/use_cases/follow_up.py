"""After the session (Article 13 §3): the head's conclusions to the agencies (P7), written results
(P8), extensions in writing (P9), and direct replies to questions (Q6)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date

from sqlmodel import col, select

from procedure.deadlines import conclusion_deadline, result_deadline, timeliness
from procedure.errors import NotFound, Refusal
from procedure.lifecycles import (
    PetitionState,
    SessionState,
    check_petition_transition,
    check_session_transition,
)
from procedure.notifications import enqueue
from procedure.permissions import Action, Actor, Role, ancestors_of
from procedure.use_cases.assignments import follow_petition_state, new_assignment
from procedure.use_cases.context import (
    ProcedureContext,
    load_calendar,
    org_parent_map,
    record_event,
    require,
)
from procedure.use_cases.petitions import PetitionKind, petition_by_code, place_details
from procedure.use_cases.sessions import get_session
from storage.tables import (
    Assignment,
    Conclusion,
    DialogueSession,
    Extension,
    OrgUnit,
    Petition,
    StaffRole,
    WrittenResult,
)
from storage.unit_of_work import UnitOfWork
from texts import format_date, t, to_local


@dataclass(frozen=True)
class AssignmentRequest:
    """P7: this petition goes to this agency."""

    petition_id: int
    agency_org_id: int


def notify_conclusion(
    uow: UnitOfWork,
    actor: Actor,
    session_id: int,
    text: str,
    assignments: Sequence[AssignmentRequest],
    context: ProcedureContext,
) -> Conclusion:
    """P7: the office notifies the head's conclusions to the agencies, each petition assigned to
    the agency responsible for it. Due within 10 working days after the session ended; a later
    notice is accepted and recorded as late. Each assignment is due 20 working days after the
    notice (P8).
    """
    session = get_session(uow, session_id)
    require(uow, actor, Action.NOTIFY_CONCLUSION, session.org_unit_id)
    current = check_session_transition(session.state, SessionState.CONCLUDED)
    if not text.strip():
        raise Refusal("refusal.conclusion_text_missing")
    calendar = load_calendar(uow)
    notice_day = context.today()
    due = conclusion_deadline(calendar, to_local(session.ends_at).date(), context.periods)
    on_time = timeliness(calendar, due.due, notice_day)
    result_due = result_deadline(calendar, notice_day, context.periods).due
    petitions = _petitions_to_assign(uow, session_id, assignments)
    now = context.now()
    conclusion = Conclusion(
        session_id=session_id,
        text=text.strip(),
        notice_date=notice_day,
        due_date=due.due,
        late_working_days=on_time.late_working_days if on_time.late else 0,
        notified_by_person_id=actor.person_id,
        created_at=now,
    )
    uow.session.add(conclusion)
    session.state = SessionState.CONCLUDED
    uow.session.add(session)
    uow.flush()
    record_event(
        uow,
        kind="session.concluded",
        actor=actor,
        action=Action.NOTIFY_CONCLUSION,
        at=now,
        session_id=session_id,
        from_state=current,
        to_state=SessionState.CONCLUDED,
        details={
            "due": due.due.isoformat(),
            "notice_date": notice_day.isoformat(),
            "late": on_time.late,
            "late_working_days": on_time.late_working_days,
        },
    )
    by_agency: dict[int, list[dict[str, object]]] = {}
    for request, petition in zip(assignments, petitions, strict=True):
        by_agency.setdefault(request.agency_org_id, []).append(
            {
                "code": petition.tracking_code,
                "text": petition.text[:200],
                "place": place_details(uow, petition, context.file_link),
            }
        )
        previous = check_petition_transition(petition.state, PetitionState.FORWARDED)
        new_assignment(
            uow,
            petition,
            agency_org_id=request.agency_org_id,
            conclusion_id=conclusion.id,
            notice_date=notice_day,
            due=result_due,
            created_at=now,
        )
        petition.state = PetitionState.FORWARDED
        uow.session.add(petition)
        agency = uow.session.get(OrgUnit, request.agency_org_id)
        assert agency is not None
        record_event(
            uow,
            kind="petition.forwarded",
            actor=actor,
            action=Action.NOTIFY_CONCLUSION,
            at=now,
            session_id=session_id,
            petition_id=petition.id,
            from_state=previous,
            to_state=PetitionState.FORWARDED,
            details={"agency": agency.name, "due": result_due.isoformat()},
        )
        enqueue(
            uow,
            person_id=petition.person_id,
            kind="petition.forwarded",
            data={
                "tracking_code": petition.tracking_code,
                "agency": agency.name,
                "due": result_due.isoformat(),
            },
            key=f"petition:{petition.id}:forwarded",
        )
    _notify_agency_staff(uow, session_id, text.strip(), by_agency, result_due)
    uow.flush()
    return conclusion


def _notify_agency_staff(
    uow: UnitOfWork,
    session_id: int,
    conclusion: str,
    by_agency: dict[int, list[dict[str, object]]],
    due: date,
) -> None:
    """P7: each agency's staff get the head's conclusion with their petitions and the due date."""
    for agency_id, items in by_agency.items():
        agency = uow.session.get(OrgUnit, agency_id)
        for person_id in staff_with_role(uow, agency_id, Role.AGENCY):
            enqueue(
                uow,
                person_id=person_id,
                kind="agency.assigned",
                data={
                    "agency": agency.name if agency else "",
                    "conclusion": conclusion,
                    "due": due.isoformat(),
                    "items": items,
                },
                key=f"assigned:{session_id}:{agency_id}:{person_id}",
            )


def staff_with_role(uow: UnitOfWork, unit_id: int, role: Role) -> list[int]:
    return list(
        uow.session.exec(
            select(StaffRole.person_id)
            .where(StaffRole.org_unit_id == unit_id)
            .where(StaffRole.role == role.value)
            .where(col(StaffRole.active))
        ).all()
    )


def heads_for(uow: UnitOfWork, unit_id: int) -> list[int]:
    """The heads of a unit, or of the nearest unit above it that has one."""
    for candidate in ancestors_of(unit_id, org_parent_map(uow)):
        heads = staff_with_role(uow, candidate, Role.HEAD)
        if heads:
            return heads
    return []


def _petitions_to_assign(
    uow: UnitOfWork, session_id: int, assignments: Sequence[AssignmentRequest]
) -> list[Petition]:
    seen: set[int] = set()
    petitions = []
    for request in assignments:
        petition = uow.session.get(Petition, request.petition_id)
        if petition is None or petition.session_id != session_id:
            raise NotFound("refusal.petition_not_in_session")
        if request.petition_id in seen:
            raise Refusal("refusal.petition_assigned_twice", code=petition.tracking_code)
        seen.add(request.petition_id)
        if uow.session.get(OrgUnit, request.agency_org_id) is None:
            raise NotFound("refusal.org_unit_not_found", code=request.agency_org_id)
        petitions.append(petition)
    return petitions


def assignment_of(uow: UnitOfWork, petition: Petition) -> Assignment:
    assignment = uow.session.exec(
        select(Assignment).where(Assignment.petition_id == petition.id)
    ).first()
    if assignment is None:
        raise Refusal("refusal.petition_not_assigned", code=petition.tracking_code)
    return assignment


def post_result(
    uow: UnitOfWork,
    actor: Actor,
    tracking_code: str,
    text: str,
    context: ProcedureContext,
    *,
    document_ref: str | None = None,
    document_number: str | None = None,
    document_date: date | None = None,
) -> WrittenResult:
    """P8: the agency's written result to the petitioner; late results are allowed and recorded.
    The result is a document: its số, ký hiệu and ngày ban hành are kept and told."""
    petition = petition_by_code(uow, tracking_code)
    assignment = assignment_of(uow, petition)
    require(uow, actor, Action.POST_RESULT, assignment.agency_org_id)
    previous = check_petition_transition(petition.state, PetitionState.ANSWERED)
    if not text.strip():
        raise Refusal("refusal.result_text_missing")
    calendar = load_calendar(uow)
    today = context.today()
    on_time = timeliness(calendar, assignment.due_date, today)
    now = context.now()
    result = WrittenResult(
        petition_id=petition.id,  # type: ignore[arg-type]
        assignment_id=assignment.id,
        text=text.strip(),
        document_ref=document_ref,
        document_number=(document_number or "").strip() or None,
        document_date=document_date,
        answered_on=today,
        late_working_days=on_time.late_working_days if on_time.late else 0,
        created_by_person_id=actor.person_id,
        created_at=now,
    )
    uow.session.add(result)
    uow.flush()
    petition.state = PetitionState.ANSWERED
    uow.session.add(petition)
    follow_petition_state(uow, petition, assignment)
    record_event(
        uow,
        kind="petition.answered",
        actor=actor,
        action=Action.POST_RESULT,
        at=now,
        petition_id=petition.id,
        session_id=petition.session_id,
        from_state=previous,
        to_state=PetitionState.ANSWERED,
        details={
            "due": assignment.due_date.isoformat(),
            "late": on_time.late,
            "late_working_days": on_time.late_working_days,
            "has_document": document_ref is not None,
            "result_id": result.id,
            "agency": assignment_agency(uow, assignment),
        },
    )
    agency_name = assignment_agency(uow, assignment)
    _notify_answer(uow, petition, "petition.answered", result, agency_name)
    # P8: the agency also reports to the head.
    session = uow.session.get(DialogueSession, petition.session_id) if petition.session_id else None
    for head in heads_for(uow, session.org_unit_id if session else petition.area_org_id):
        enqueue(
            uow,
            person_id=head,
            kind="head.result_report",
            data={
                "tracking_code": petition.tracking_code,
                "agency": agency_name,
                "text": result.text,
                "due": assignment.due_date.isoformat(),
                "answered_on": result.answered_on.isoformat(),
                "late_working_days": result.late_working_days or 0,
            },
            key=f"petition:{petition.id}:report:{head}",
        )
    uow.flush()
    return result


def extend_deadline(
    uow: UnitOfWork,
    actor: Actor,
    tracking_code: str,
    new_due: date,
    reason: str,
    context: ProcedureContext,
    *,
    document_number: str | None = None,
    document_date: date | None = None,
) -> Extension:
    """P9: a complex case; the agency gives written notice of the new deadline. The deadline
    moves, the history stays (every extension is a row and an event)."""
    petition = petition_by_code(uow, tracking_code)
    assignment = assignment_of(uow, petition)
    require(uow, actor, Action.EXTEND_DEADLINE, assignment.agency_org_id)
    previous = check_petition_transition(petition.state, PetitionState.EXTENDED)
    if not reason.strip():
        raise Refusal("refusal.reason_missing")
    calendar = load_calendar(uow)
    if new_due <= assignment.due_date:
        raise Refusal("refusal.extension_not_later", current=format_date(assignment.due_date))
    if not calendar.is_working_day(new_due):
        raise Refusal(
            "refusal.extension_not_working_day",
            date=format_date(new_due),
            next=format_date(calendar.next_working_day(new_due)),
        )
    now = context.now()
    extension = Extension(
        assignment_id=assignment.id,  # type: ignore[arg-type]
        previous_due_date=assignment.due_date,
        new_due_date=new_due,
        reason=reason.strip(),
        notice_text=t(
            "notice.extension",
            code=petition.tracking_code,
            previous=format_date(assignment.due_date),
            due=format_date(new_due),
            reason=reason.strip(),
        ),
        created_by_person_id=actor.person_id,
        created_at=now,
        document_number=(document_number or "").strip() or None,
        document_date=document_date,
    )
    uow.session.add(extension)
    assignment.due_date = new_due
    uow.session.add(assignment)
    petition.state = PetitionState.EXTENDED
    uow.session.add(petition)
    follow_petition_state(uow, petition, assignment)
    record_event(
        uow,
        kind="petition.extended",
        actor=actor,
        action=Action.EXTEND_DEADLINE,
        at=now,
        petition_id=petition.id,
        session_id=petition.session_id,
        from_state=previous,
        to_state=PetitionState.EXTENDED,
        reason=reason.strip(),
        details={
            "previous_due": extension.previous_due_date.isoformat(),
            "due": new_due.isoformat(),
            "agency": assignment_agency(uow, assignment),
        },
    )
    uow.flush()
    enqueue(
        uow,
        person_id=petition.person_id,
        kind="petition.extended",
        data={
            "tracking_code": petition.tracking_code,
            "agency": assignment_agency(uow, assignment),
            "previous_due": extension.previous_due_date.isoformat(),
            "due": new_due.isoformat(),
            "reason": extension.reason,
            **_document_data(extension.document_number, extension.document_date),
        },
        key=f"petition:{petition.id}:extended:{extension.id}",
    )
    uow.flush()
    return extension


def answer_question(
    uow: UnitOfWork, actor: Actor, tracking_code: str, text: str, context: ProcedureContext
) -> WrittenResult:
    """Q6: staff reply (phúc đáp) to a question; the asker is notified."""
    petition = petition_by_code(uow, tracking_code)
    require(uow, actor, Action.ANSWER_QUESTION, petition.area_org_id)
    if petition.kind != PetitionKind.QUESTION:
        raise Refusal("refusal.not_a_question", code=petition.tracking_code)
    previous = check_petition_transition(petition.state, PetitionState.ANSWERED_DIRECTLY)
    if not text.strip():
        raise Refusal("refusal.result_text_missing")
    now = context.now()
    result = WrittenResult(
        petition_id=petition.id,  # type: ignore[arg-type]
        text=text.strip(),
        answered_on=context.today(),
        created_by_person_id=actor.person_id,
        created_at=now,
    )
    uow.session.add(result)
    uow.flush()
    petition.state = PetitionState.ANSWERED_DIRECTLY
    uow.session.add(petition)
    record_event(
        uow,
        kind="petition.answered_directly",
        actor=actor,
        action=Action.ANSWER_QUESTION,
        at=now,
        petition_id=petition.id,
        from_state=previous,
        to_state=PetitionState.ANSWERED_DIRECTLY,
        details={"result_id": result.id},
    )
    _notify_answer(uow, petition, "petition.answered_directly", result, None)
    uow.flush()
    return result


def assignment_agency(uow: UnitOfWork, assignment: Assignment) -> str:
    agency = uow.session.get(OrgUnit, assignment.agency_org_id)
    assert agency is not None
    return agency.name


def _notify_answer(
    uow: UnitOfWork, petition: Petition, kind: str, result: WrittenResult, agency: str | None
) -> None:
    """The answer goes to the petitioner and to every petition merged into this one."""
    followers = uow.session.exec(
        select(Petition).where(Petition.duplicate_of_id == petition.id)
    ).all()
    for recipient in (petition, *followers):
        enqueue(
            uow,
            person_id=recipient.person_id,
            kind=kind,
            data={
                "tracking_code": recipient.tracking_code,
                "original_tracking_code": petition.tracking_code,
                "agency": agency,
                "text": result.text,
                "document_ref": result.document_ref,
                "answered_on": result.answered_on.isoformat(),
                **_document_data(result.document_number, result.document_date),
            },
            key=f"petition:{recipient.id}:{kind}",
        )


def _document_data(number: str | None, issued: date | None) -> dict[str, object]:
    """The số, ký hiệu and ngày ban hành of a written document, for a notice."""
    data: dict[str, object] = {}
    if number:
        data["document_number"] = number
    if issued:
        data["document_date"] = issued.isoformat()
    return data
