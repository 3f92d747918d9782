"""The public record (B4) and the Open311 read API (B5): what the office chose to publish.

Nothing is public by default. ``/congkhai <code>`` publishes a petition's checked summary and
the agency's answer; ``/ancongkhai <code>`` withdraws it. What is published is a copy the office
saw, scrubbed of anything that looks like a phone number or an e-mail address and of the
petitioner's name; the readers below return only those public fields, never a person.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlmodel import col, func, select

from nlp.street_level import street_level
from procedure.errors import Refusal
from procedure.lifecycles import OPEN_PETITION_STATES, PetitionState, SessionState
from procedure.permissions import Action, Actor
from procedure.places import map_url, public_point
from procedure.use_cases.context import ProcedureContext, record_event, require
from procedure.use_cases.petitions import petition_by_code
from procedure.use_cases.sessions import units_below
from storage.tables import (
    Assignment,
    Conclusion,
    DialogueSession,
    Event,
    OrgUnit,
    Petition,
    PublicRecord,
    Topic,
    WrittenResult,
)
from storage.unit_of_work import UnitOfWork

MAX_PUBLIC_CHARS = 2000
MAX_PLACE = 300
HIDDEN = "[…]"
# Defensive: anything that looks like a phone number (8+ digits, with spaces, dots, dashes or
# brackets between them, an optional +) or an e-mail address is removed from published text.
PHONE_LIKE = re.compile(r"\+?\d(?:[\s.\-()]{0,2}\d){7,}")
EMAIL_LIKE = re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+")


def scrub(text: str, names: Iterable[str] = ()) -> str:
    """The text without phone-like or e-mail-like strings nor the given names."""
    cleaned = EMAIL_LIKE.sub(HIDDEN, text)
    cleaned = PHONE_LIKE.sub(HIDDEN, cleaned)
    for name in names:
        if name and name.strip():
            pattern = rf"(?<!\w){re.escape(name.strip())}(?!\w)"
            cleaned = re.sub(pattern, HIDDEN, cleaned, flags=re.IGNORECASE)
    return cleaned.strip()[:MAX_PUBLIC_CHARS]


def latest_result(uow: UnitOfWork, petition_id: int) -> WrittenResult | None:
    return uow.session.exec(
        select(WrittenResult)
        .where(WrittenResult.petition_id == petition_id)
        .order_by(col(WrittenResult.created_at).desc(), col(WrittenResult.id).desc())
    ).first()


def proposed_place(petition: Petition) -> str:
    """Where the problem is, as the public record would show it before the office changes it:
    the address the resident wrote for the problem, else the street of the petition, without
    house numbers, phone numbers, e-mail addresses or the petitioner's name; "" when none."""
    return street_only(petition.place_text or petition.street or "", [petition.petitioner_name])


def street_only(address: str, names: Iterable[str]) -> str:
    """Each comma-separated part of ``address`` without house numbers; a part that names a
    person or holds a phone number or an e-mail address is left out whole."""
    kept = []
    for part in address.split(","):
        street = street_level(part)
        if street and scrub(street, names) == street:
            kept.append(street)
    return ", ".join(kept)[:MAX_PLACE]


def publish_petition(
    uow: UnitOfWork,
    actor: Actor,
    typed_code: str,
    subject: str,
    context: ProcedureContext,
    place: str | None = None,
) -> PublicRecord:
    """Publish (or publish again, with the latest answer) a petition's public summary.

    ``subject`` is the summary the office checked; empty means the petition's own text. Either
    way it is scrubbed. ``place`` is the street the office checked (None: the proposed one,
    :func:`proposed_place`; "": none, the ward only); it is scrubbed and cut to the street too.
    A duplicate is not published: its original is.
    """
    petition = petition_by_code(uow, typed_code)
    require(uow, actor, Action.PUBLISH_PETITION, petition.area_org_id)
    if petition.state == PetitionState.MERGED:
        raise Refusal("refusal.publish_duplicate")
    assert petition.id is not None
    names = [petition.petitioner_name]
    summary = scrub(subject.strip() or petition.text, names)
    if not summary:
        raise Refusal("refusal.publish_empty")
    result = latest_result(uow, petition.id)
    answer = scrub(result.text, names) if result is not None else None
    now = context.now()
    record = uow.session.get(PublicRecord, petition.id)
    republished = record is not None
    if record is None:
        record = PublicRecord(petition_id=petition.id, subject=summary)
    record.subject = summary
    record.answer = answer or None
    checked = proposed_place(petition) if place is None else street_only(place, names)
    record.place = checked or None
    record.published_by_person_id = actor.person_id
    record.published_at = now
    uow.session.add(record)
    record_event(
        uow,
        kind="petition.published",
        actor=actor,
        action=Action.PUBLISH_PETITION,
        at=now,
        petition_id=petition.id,
        details={"again": republished, "with_answer": answer is not None},
    )
    uow.flush()
    return record


def unpublish_petition(
    uow: UnitOfWork, actor: Actor, typed_code: str, context: ProcedureContext
) -> Petition:
    """Withdraw a petition from the public record."""
    petition = petition_by_code(uow, typed_code)
    require(uow, actor, Action.PUBLISH_PETITION, petition.area_org_id)
    record = uow.session.get(PublicRecord, petition.id)
    if record is None:
        raise Refusal("refusal.not_published", code=petition.tracking_code)
    uow.session.delete(record)
    record_event(
        uow,
        kind="petition.unpublished",
        actor=actor,
        action=Action.PUBLISH_PETITION,
        at=context.now(),
        petition_id=petition.id,
    )
    uow.flush()
    return petition


@dataclass(frozen=True)
class PublicPetition:
    """A published petition: public fields only (no person, no phone, no resident's text)."""

    code: str
    topic_code: str
    topic_name: str
    is_open: bool
    requested_at: datetime
    updated_at: datetime
    agency: str | None
    subject: str
    answer: str | None
    answered_on: str | None
    due_on: str | None  # the agency's due date (P8, P9), while the petition is assigned
    ward_code: str
    ward_name: str
    # The place (issue 13): the street the office checked and the ward; the shared point
    # rounded to the street (X3) and a map link centred on that rounded point.
    latitude: float | None = None
    longitude: float | None = None
    place: str | None = None
    map_link: str | None = None

    @property
    def address(self) -> str:
        """The street as the office checked it and the ward: "Hẻm 42 Lê Lợi, Phường Bến Thành"."""
        return ", ".join(part for part in (self.place, self.ward_name) if part)


@dataclass(frozen=True)
class PublicFilter:
    unit_ids: Sequence[int] | None = None
    codes: Sequence[str] | None = None
    topic_codes: Sequence[str] | None = None
    is_open: bool | None = None
    start: datetime | None = None
    end: datetime | None = None
    limit: int = 1000


def public_petitions(uow: UnitOfWork, filters: PublicFilter) -> list[PublicPetition]:
    """Published petitions, newest first, as the public may see them."""
    query = (
        select(PublicRecord, Petition, Topic)
        .join(Petition, col(Petition.id) == col(PublicRecord.petition_id))
        .join(Topic, col(Topic.code) == col(Petition.topic_code))
        .order_by(col(Petition.received_at).desc(), col(Petition.id).desc())
    )
    if filters.unit_ids is not None:
        query = query.where(col(Petition.area_org_id).in_(list(filters.unit_ids)))
    if filters.codes is not None:
        query = query.where(col(Petition.tracking_code).in_([c.upper() for c in filters.codes]))
    if filters.topic_codes is not None:
        query = query.where(col(Petition.topic_code).in_(list(filters.topic_codes)))
    open_states = [state.value for state in OPEN_PETITION_STATES]
    if filters.is_open is True:
        query = query.where(col(Petition.state).in_(open_states))
    elif filters.is_open is False:
        query = query.where(col(Petition.state).not_in(open_states))
    if filters.start is not None:
        query = query.where(col(Petition.received_at) >= filters.start)
    if filters.end is not None:
        query = query.where(col(Petition.received_at) <= filters.end)
    rows = uow.session.exec(query.limit(filters.limit)).all()
    found = []
    for record, petition, topic in rows:
        assert petition.id is not None
        last_event = uow.session.exec(
            select(func.max(Event.at)).where(Event.petition_id == petition.id)
        ).one()
        assignment = uow.session.exec(
            select(Assignment).where(Assignment.petition_id == petition.id)
        ).first()
        agency = uow.session.get(OrgUnit, assignment.agency_org_id) if assignment else None
        area = uow.session.get(OrgUnit, petition.area_org_id)
        result = latest_result(uow, petition.id) if record.answer else None
        point = public_point(petition.latitude, petition.longitude)
        found.append(
            PublicPetition(
                code=petition.tracking_code,
                topic_code=topic.code,
                topic_name=topic.name,
                is_open=petition.state in open_states,
                requested_at=petition.received_at,
                updated_at=max(
                    moment for moment in (last_event, record.published_at) if moment is not None
                ),
                agency=agency.name if agency else None,
                subject=record.subject,
                answer=record.answer,
                answered_on=result.answered_on.isoformat() if result else None,
                due_on=assignment.due_date.isoformat() if assignment else None,
                ward_code=area.code if area else "",
                ward_name=area.name if area else "",
                latitude=point.latitude if point else None,
                longitude=point.longitude if point else None,
                place=record.place,
                map_link=map_url(point.latitude, point.longitude, public=True) if point else None,
            )
        )
    return found


def public_topics(uow: UnitOfWork) -> list[Topic]:
    return list(
        uow.session.exec(
            select(Topic).where(col(Topic.active)).order_by(col(Topic.position), col(Topic.code))
        ).all()
    )


@dataclass(frozen=True)
class PublicSessionResult:
    """A session that took place: when, where, what, and counts (never who)."""

    starts_at: datetime
    venue: str
    content: str
    state: str
    petitions: int
    answered: int
    conclusion: str | None
    conclusion_notice_date: str | None


def public_session_results(uow: UnitOfWork, unit_id: int) -> list[PublicSessionResult]:
    """The sessions of a ward that took place, newest first, with their counts."""
    done = [SessionState.HELD, SessionState.CONCLUDED, SessionState.CLOSED]
    sessions = uow.session.exec(
        select(DialogueSession)
        .where(col(DialogueSession.org_unit_id).in_(units_below(uow, unit_id)))
        .where(col(DialogueSession.state).in_([state.value for state in done]))
        .order_by(col(DialogueSession.starts_at).desc())
        .limit(50)
    ).all()
    open_states = [state.value for state in OPEN_PETITION_STATES]
    results = []
    for session in sessions:
        states = uow.session.exec(
            select(Petition.state).where(Petition.session_id == session.id)
        ).all()
        conclusion = uow.session.exec(
            select(Conclusion).where(Conclusion.session_id == session.id)
        ).first()
        results.append(
            PublicSessionResult(
                starts_at=session.starts_at,
                venue=session.venue,
                content=session.content,
                state=session.state,
                petitions=len(states),
                answered=sum(
                    1 for s in states if s not in open_states and s != PetitionState.MERGED
                ),
                conclusion=scrub(conclusion.text) if conclusion else None,
                conclusion_notice_date=conclusion.notice_date.isoformat() if conclusion else None,
            )
        )
    return results


def ward_by_code(uow: UnitOfWork, code: str) -> OrgUnit | None:
    return uow.session.exec(select(OrgUnit).where(OrgUnit.code == code)).first()


def wards_with_public_record(uow: UnitOfWork) -> list[OrgUnit]:
    """Units that hold sessions or have petitions: the wards a visitor can choose from."""
    unit_ids = set(uow.session.exec(select(DialogueSession.org_unit_id).distinct()).all())
    unit_ids |= set(uow.session.exec(select(Petition.area_org_id).distinct()).all())
    if not unit_ids:
        return []
    return list(
        uow.session.exec(
            select(OrgUnit).where(col(OrgUnit.id).in_(unit_ids)).order_by(col(OrgUnit.name))
        ).all()
    )
