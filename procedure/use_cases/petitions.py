"""Submitting petitions (C2, Q1, Q5), duplicates, and the petitioner's timeline (C3, X2)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from enum import StrEnum

from sqlalchemy import bindparam
from sqlmodel import col, select

from procedure.codes import new_tracking_code, normalise_code
from procedure.errors import NotAllowed, NotFound, Refusal
from procedure.lifecycles import PetitionState, SessionState, check_petition_transition
from procedure.notifications import enqueue
from procedure.permissions import Action, Actor, is_allowed
from procedure.places import checked_place_text, checked_point
from procedure.use_cases.assignments import follow_petition_state
from procedure.use_cases.context import (
    FileLink,
    ProcedureContext,
    org_parent_map,
    record_event,
    require,
)
from storage.tables import (
    Assignment,
    Attachment,
    ChannelAccount,
    DialogueSession,
    Event,
    OrgUnit,
    Petition,
    Topic,
)
from storage.unit_of_work import UnitOfWork
from texts import t

CODE_ATTEMPTS = 8
MAX_PETITION_LENGTH = 20_000
SESSIONS_TAKING_OPINIONS = frozenset({SessionState.ANNOUNCED, SessionState.HELD})


class PetitionKind(StrEnum):
    OPINION = "opinion"  # góp ý
    PETITION = "petition"  # kiến nghị
    REPORT = "report"  # phản ánh: a resident tells of a problem on the ground (a kind of its own)
    QUESTION = "question"  # câu hỏi (Q5 categories)


class TopicKind(StrEnum):
    CIVIC = "civic"
    QUESTION = "question"


@dataclass(frozen=True)
class AttachmentRef:
    """A photo or document sent with a petition: the channel's reference to the file."""

    kind: str
    file_ref: str
    file_name: str | None = None
    mime_type: str | None = None


@dataclass(frozen=True)
class PetitionSubmission:
    """What a resident (or staff on their behalf, P6) submits. Q1: the starred fields."""

    person_id: int
    kind: PetitionKind
    topic_code: str
    text: str
    full_name: str
    phone_e164: str
    area_org_id: int | None
    session_id: int | None = None
    street: str | None = None
    channel: str = "console"
    attachments: Sequence[AttachmentRef] = ()
    # The place of the problem (issue 13): a shared point and/or the address as written.
    latitude: float | None = None
    longitude: float | None = None
    place_text: str | None = None


def missing_required_fields(submission: PetitionSubmission) -> list[str]:
    """Q1: the required fields still empty, by their catalogue names (field.*)."""
    missing = []
    if not submission.full_name.strip():
        missing.append("full_name")
    if not submission.phone_e164.strip():
        missing.append("phone")
    if submission.area_org_id is None:
        missing.append("area")
    if not submission.text.strip():
        missing.append("content")
    return missing


def _unused_tracking_code(uow: UnitOfWork) -> str:
    for _ in range(CODE_ATTEMPTS):
        code = new_tracking_code()
        if (
            uow.session.exec(select(Petition.id).where(Petition.tracking_code == code)).first()
            is None
        ):
            return code
    raise RuntimeError("could not draw an unused tracking code")


def submit_petition(
    uow: UnitOfWork,
    submission: PetitionSubmission,
    context: ProcedureContext,
    *,
    actor: Actor | None = None,
) -> Petition:
    """Accept a petition when every required field is there (Q1); give it a tracking code."""
    missing = missing_required_fields(submission)
    if missing:
        raise Refusal(
            "refusal.required_fields_missing",
            fields=", ".join(t(f"field.{name}") for name in missing),
        )
    if len(submission.text) > MAX_PETITION_LENGTH:
        raise Refusal("refusal.text_too_long", limit=MAX_PETITION_LENGTH)
    if not submission.phone_e164.startswith("+") or not submission.phone_e164[1:].isdigit():
        raise Refusal("refusal.phone_invalid")
    topic = uow.session.get(Topic, submission.topic_code)
    expected_kind = (
        TopicKind.QUESTION if submission.kind is PetitionKind.QUESTION else TopicKind.CIVIC
    )
    if topic is None or not topic.active or topic.kind != expected_kind:
        raise NotFound("refusal.topic_unknown")
    assert submission.area_org_id is not None
    if uow.session.get(OrgUnit, submission.area_org_id) is None:
        raise NotFound("refusal.org_unit_not_found", code=submission.area_org_id)
    if submission.session_id is not None:
        session = uow.session.get(DialogueSession, submission.session_id)
        if session is None or session.state not in SESSIONS_TAKING_OPINIONS:
            raise Refusal("refusal.session_not_taking_opinions")
    point = (
        checked_point(submission.latitude, submission.longitude)
        if submission.latitude is not None and submission.longitude is not None
        else None
    )
    place_text = checked_place_text(submission.place_text) if submission.place_text else None
    now = context.now()
    petition = Petition(
        tracking_code=_unused_tracking_code(uow),
        kind=submission.kind,
        topic_code=submission.topic_code,
        text=submission.text.strip(),
        person_id=submission.person_id,
        petitioner_name=submission.full_name.strip(),
        petitioner_phone_e164=submission.phone_e164,
        area_org_id=submission.area_org_id,
        street=(submission.street or "").strip() or None,
        latitude=point.latitude if point else None,
        longitude=point.longitude if point else None,
        place_text=place_text,
        session_id=submission.session_id,
        channel=submission.channel,
        state=PetitionState.RECEIVED,
        received_at=now,
    )
    uow.session.add(petition)
    uow.flush()
    assert petition.id is not None  # flushed
    for attachment in submission.attachments:
        uow.session.add(
            Attachment(
                petition_id=petition.id,
                channel=submission.channel,
                kind=attachment.kind,
                file_ref=attachment.file_ref,
                file_name=attachment.file_name,
                mime_type=attachment.mime_type,
            )
        )
    record_event(
        uow,
        kind="petition.received",
        actor=actor or Actor.resident(submission.person_id),
        action=Action.CONDUCT_SESSION if actor and not actor.is_system else None,
        at=now,
        petition_id=petition.id,
        session_id=submission.session_id,
        to_state=PetitionState.RECEIVED,
    )
    uow.flush()
    from procedure.use_cases.repeated import joined_on_submission

    joined_on_submission(uow, petition)  # P2: into its group of repeated issues, no regrouping
    return petition


def petition_by_code(uow: UnitOfWork, typed_code: str) -> Petition:
    """For staff: the petition with this tracking code."""
    code = normalise_code(typed_code)
    petition = uow.session.exec(select(Petition).where(Petition.tracking_code == code)).first()
    if petition is None:
        raise NotFound("refusal.petition_not_found")
    return petition


def own_petition_by_code(uow: UnitOfWork, person_id: int, typed_code: str) -> Petition:
    """For a resident: their own petition, or "not found" — the same answer for a code that is
    someone else's as for one that does not exist (C3: no enumeration)."""
    try:
        petition = petition_by_code(uow, typed_code)
    except NotFound:
        raise
    if petition.person_id != person_id:
        raise NotFound("refusal.petition_not_found")
    return petition


# Built once (issue 12: /tracuu on every resident's way; building it cost more than running it).
_PETITIONS_OF_PERSON = (
    select(Petition)
    .where(col(Petition.person_id) == bindparam("person_id"))
    .order_by(col(Petition.received_at).desc(), col(Petition.id).desc())
)


def petitions_of_person(uow: UnitOfWork, person_id: int) -> Sequence[Petition]:
    return uow.session.exec(_PETITIONS_OF_PERSON, params={"person_id": person_id}).all()


def person_of_channel_account(uow: UnitOfWork, channel: str, external_user_id: str) -> int | None:
    return uow.session.exec(
        select(ChannelAccount.person_id)
        .where(ChannelAccount.channel == channel)
        .where(ChannelAccount.external_user_id == external_user_id)
    ).first()


def timeline(uow: UnitOfWork, petition_id: int) -> Sequence[Event]:
    """X2: the events of a petition, oldest first — the resident's timeline and the audit trail."""
    return uow.session.exec(
        select(Event).where(Event.petition_id == petition_id).order_by(col(Event.at), col(Event.id))
    ).all()


def mark_duplicate(
    uow: UnitOfWork,
    actor: Actor,
    petition_id: int,
    original_id: int,
    context: ProcedureContext,
) -> Petition:
    """Staff mark a petition as a duplicate of another; it then follows the original's answer."""
    petition = uow.session.get(Petition, petition_id)
    original = uow.session.get(Petition, original_id)
    if petition is None or original is None:
        raise NotFound("refusal.petition_not_found")
    require(uow, actor, Action.MARK_DUPLICATE, petition.area_org_id)
    if petition.id == original.id or original.duplicate_of_id == petition.id:
        raise Refusal("refusal.duplicate_of_itself")
    current = check_petition_transition(petition.state, PetitionState.MERGED)
    now = context.now()
    petition.state = PetitionState.MERGED
    petition.duplicate_of_id = original.id
    uow.session.add(petition)
    follow_petition_state(uow, petition)
    record_event(
        uow,
        kind="petition.merged",
        actor=actor,
        action=Action.MARK_DUPLICATE,
        at=now,
        petition_id=petition.id,
        from_state=current,
        to_state=PetitionState.MERGED,
        details={"original_tracking_code": original.tracking_code},
    )
    enqueue(
        uow,
        person_id=petition.person_id,
        kind="petition.merged",
        data={
            "tracking_code": petition.tracking_code,
            "original_tracking_code": original.tracking_code,
        },
        key=f"petition:{petition.id}:merged",
    )
    uow.flush()
    from procedure.use_cases.repeated import follow_duplicate

    follow_duplicate(uow, petition.id, original.id)  # type: ignore[arg-type]
    return petition


MAX_PHOTO_LINKS = 3
MAX_PHOTOS_SHOWN = 10  # one Telegram album


def _photos(uow: UnitOfWork, petition_id: int | None) -> Sequence[Attachment]:
    return uow.session.exec(
        select(Attachment)
        .where(Attachment.petition_id == petition_id)
        .where(Attachment.kind == "photo")
        .order_by(col(Attachment.id))
    ).all()


def _is_link(file_ref: str) -> bool:
    return file_ref.startswith(("https://", "http://"))


def place_details(
    uow: UnitOfWork, petition: Petition, file_link: FileLink | None = None
) -> dict[str, object]:
    """The place of the problem and its photos, for the agency that resolves it (issue 13): the
    written address, the shared point, how many photos, the links of those a platform gave
    as addresses (Zalo) or the deployment serves (``file_link``: photos sent on the web chat),
    and the references of those a platform keeps (a Telegram file id, which the same bot can
    send again). Plain values, so that an outbox row can carry them."""
    attachments = _photos(uow, petition.id)
    links: list[str] = []
    kept: list[list[str]] = []
    for attachment in attachments:
        if _is_link(attachment.file_ref):
            links.append(attachment.file_ref)
        elif file_link is not None and (served := file_link(attachment.file_ref)):
            links.append(served)
        else:
            kept.append([attachment.channel, attachment.file_ref])
    return {
        "place_text": petition.place_text,
        "latitude": petition.latitude,
        "longitude": petition.longitude,
        "photos": len(attachments),
        "photo_links": links[:MAX_PHOTO_LINKS],
        "photo_refs": kept[:MAX_PHOTOS_SHOWN],
    }


@dataclass(frozen=True)
class PetitionPhotos:
    """The photos of one petition for an official who may see them: (channel, file reference)
    of those a platform keeps, and the links of those a platform gave as addresses."""

    tracking_code: str
    kept: tuple[tuple[str, str], ...]
    links: tuple[str, ...]

    @property
    def count(self) -> int:
        return len(self.kept) + len(self.links)


def petition_photos(uow: UnitOfWork, actor: Actor, typed_code: str) -> PetitionPhotos:
    """The photos a resident sent with a petition (issue 13), for the office and the head of its
    area and for the agency it is assigned to; anyone else is refused (the photos may show
    people and homes)."""
    petition = petition_by_code(uow, typed_code)
    parents = org_parent_map(uow)
    # The office and the head of the area (an agency's unit lies below the ward, so its role
    # does not cover the area), or the agency the petition is assigned to.
    allowed = is_allowed(actor, Action.TRIAGE_PETITION, petition.area_org_id, parents)
    if not allowed:
        agency_id = uow.session.exec(
            select(Assignment.agency_org_id).where(Assignment.petition_id == petition.id)
        ).first()
        allowed = agency_id is not None and is_allowed(
            actor, Action.VIEW_PETITION_PHOTOS, agency_id, parents
        )
    if not allowed:
        raise NotAllowed("refusal.not_allowed")
    attachments = _photos(uow, petition.id)
    return PetitionPhotos(
        tracking_code=petition.tracking_code,
        kept=tuple((a.channel, a.file_ref) for a in attachments if not _is_link(a.file_ref)),
        links=tuple(a.file_ref for a in attachments if _is_link(a.file_ref)),
    )
