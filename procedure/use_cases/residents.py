"""Residents: who is writing (accounts), consent (X3), their profile, and what they may see."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import cast

from sqlalchemy import bindparam, delete, insert, update
from sqlalchemy import select as core_select
from sqlmodel import col, select

from procedure.lifecycles import SessionState
from procedure.permissions import Actor, Grant, Role
from procedure.places import public_point
from procedure.use_cases.context import ProcedureContext, org_parent_map, record_event
from storage.tables import (
    ChannelAccount,
    Consent,
    DialogueSession,
    Person,
    Petition,
    StaffRole,
    TrackingMiss,
    WebMessage,
)
from storage.types import utc_now
from storage.unit_of_work import UnitOfWork

# The version of the privacy notice a consent refers to (texts: consent.notice). Raise it when the
# notice changes: residents are then asked again.
CONSENT_NOTICE_VERSION = "2026-01"
# What an erased name or phone on a petition becomes (shown to staff as "erased at the request").
ERASED = ""


ACCOUNTS = "accounts"  # the memo: (channel, external user id) -> (person id, chat id)


# Built once (issue 12): with several workers the memo is off, and every update looks its account
# up; three columns on the unique (channel, external user id), no ORM object.
_ACCOUNT_TABLE = ChannelAccount.__table__  # type: ignore[attr-defined]
_ACCOUNT_OF_USER = core_select(
    _ACCOUNT_TABLE.c.id, _ACCOUNT_TABLE.c.person_id, _ACCOUNT_TABLE.c.chat_id
).where(
    _ACCOUNT_TABLE.c.channel == bindparam("channel"),
    _ACCOUNT_TABLE.c.external_user_id == bindparam("user_id"),
)
_PERSON_TABLE = Person.__table__  # type: ignore[attr-defined]
_NEW_PERSON = (
    insert(_PERSON_TABLE)
    .values(
        phone_verified=False,
        created_at=bindparam("created_at", type_=_PERSON_TABLE.c.created_at.type),
    )
    .returning(_PERSON_TABLE.c.id)
)
_NEW_ACCOUNT = insert(_ACCOUNT_TABLE).values(
    person_id=bindparam("person_id"),
    channel=bindparam("channel"),
    external_user_id=bindparam("user_id"),
    chat_id=bindparam("chat_id"),
    created_at=bindparam("created_at", type_=_ACCOUNT_TABLE.c.created_at.type),
)
_MOVE_ACCOUNT_TO_CHAT = (
    update(_ACCOUNT_TABLE)
    .where(_ACCOUNT_TABLE.c.id == bindparam("account_id"))
    .values(chat_id=bindparam("chat_id"))
)


def person_for_account(uow: UnitOfWork, channel: str, user_id: str, chat_id: str) -> int:
    """The person behind a channel account, created on first contact. Flushed, not committed:
    the caller commits it with the rest of the turn.

    An account's person is remembered in this process (``uow.memo``): an update of a known
    account reads nothing. Only what was already committed is remembered (an account created
    or changed by this turn is read again next time), and :func:`forget_accounts` forgets a
    person's accounts when they are erased (or would be joined to another person)."""
    known = uow.memo(ACCOUNTS)
    remembered = known.get((channel, user_id))
    if remembered is not None and remembered[1] == chat_id:
        return int(remembered[0])
    account = (
        uow.session.connection()
        .execute(_ACCOUNT_OF_USER, {"channel": channel, "user_id": user_id})
        .first()
    )
    if account is not None:
        if account.chat_id != chat_id:
            uow.session.connection().execute(
                _MOVE_ACCOUNT_TO_CHAT, {"account_id": account.id, "chat_id": chat_id}
            )
        else:
            known[(channel, user_id)] = (account.person_id, chat_id)
        return int(account.person_id)
    # First contact: two Core inserts (issue 12: building, flushing and refreshing the two ORM
    # objects cost about as much as the rest of that turn).
    connection = uow.session.connection()
    now = utc_now()
    person_id: int = connection.execute(_NEW_PERSON, {"created_at": now}).scalar_one()
    connection.execute(
        _NEW_ACCOUNT,
        {
            "person_id": person_id,
            "channel": channel,
            "user_id": user_id,
            "chat_id": chat_id,
            "created_at": now,
        },
    )
    return int(person_id)


def forget_accounts(uow: UnitOfWork, person_id: int) -> None:
    """Forget what this process remembers of the person's accounts (:func:`person_for_account`)."""
    known = uow.memo(ACCOUNTS)
    for key, (person, _) in list(known.items()):
        if person == person_id:
            known.pop(key, None)


# Built once (issue 12): two columns, no StaffRole rows (most people have none).
_GRANTS_OF_PERSON = (
    core_select(col(StaffRole.role), col(StaffRole.org_unit_id))
    .where(col(StaffRole.person_id) == bindparam("person_id"))
    .where(col(StaffRole.active))
    .order_by(col(StaffRole.id))
)


def actor_for(uow: UnitOfWork, person_id: int) -> Actor:
    grants = cast(
        "Sequence[tuple[str, int]]",
        uow.execute(_GRANTS_OF_PERSON, {"person_id": person_id}).all(),
    )
    return Actor(
        person_id=person_id,
        grants=tuple(Grant(Role(role), unit_id) for role, unit_id in grants),
    )


def has_consent(uow: UnitOfWork, person_id: int) -> bool:
    return (
        uow.session.exec(
            select(Consent.id)
            .where(Consent.person_id == person_id)
            .where(Consent.notice_version == CONSENT_NOTICE_VERSION)
            .where(col(Consent.withdrawn_at).is_(None))
        ).first()
        is not None
    )


def give_consent(uow: UnitOfWork, person_id: int, channel: str, context: ProcedureContext) -> None:
    """X3: the explicit consent, with its time and the version of the notice shown."""
    if has_consent(uow, person_id):
        return
    now = context.now()
    uow.session.add(
        Consent(
            person_id=person_id,
            notice_version=CONSENT_NOTICE_VERSION,
            channel=channel,
            given_at=now,
        )
    )
    record_event(
        uow,
        kind="person.consented",
        actor=Actor.resident(person_id),
        action=None,
        at=now,
        details={"notice_version": CONSENT_NOTICE_VERSION},
    )
    uow.flush()


@dataclass(frozen=True)
class ProfileChange:
    full_name: str | None = None
    phone_e164: str | None = None
    phone_verified: bool | None = None
    area_org_id: int | None = None


def update_profile(uow: UnitOfWork, person_id: int, change: ProfileChange) -> Person:
    person = uow.session.get(Person, person_id)
    assert person is not None
    if change.full_name is not None:
        person.full_name = change.full_name.strip() or None
    if change.phone_e164 is not None:
        person.phone_e164 = change.phone_e164 or None
        person.phone_verified = bool(change.phone_verified) and bool(change.phone_e164)
    if change.area_org_id is not None:
        person.area_org_id = change.area_org_id
    uow.session.add(person)
    uow.flush()
    return person


def get_person(uow: UnitOfWork, person_id: int) -> Person:
    person = uow.session.get(Person, person_id)
    assert person is not None
    return person


# Built once: the question most turns ask of a person (issue 12: building a Person row cost
# about three times what the one column does).
_AREA_OF_PERSON = core_select(col(Person.area_org_id)).where(
    col(Person.id) == bindparam("person_id")
)


def area_of_person(uow: UnitOfWork, person_id: int) -> int | None:
    """The person's ward (``Person.area_org_id``), reading one column; a person already loaded
    in this unit of work is read as it is, with its changes not flushed yet (as
    :func:`get_person` would return it)."""
    person = uow.session.identity_map.get(uow.session.identity_key(Person, person_id))
    if person is not None:
        return person.area_org_id
    area: int | None = uow.execute(_AREA_OF_PERSON, {"person_id": person_id}).scalar_one()
    return area


def erase_personal_data(uow: UnitOfWork, person_id: int, context: ProcedureContext) -> int:
    """X3: delete the profile (name, phone, area), the name and phone copied onto every petition
    the person sent, and the record of their tracking misses; withdraw consent. Returns how many
    petitions were pseudonymised.

    What stays is what the record of a petition needs (the catalogue tells the resident, in
    ``chat.privacy.erased``): its content, tracking code, topic, ward, session, dates, states and
    answers — the official record of the dialogue — linked to a person record that no longer
    holds a name or a phone, and the chat account, so that the written answers still owed reach
    them; and the dates consent was given and withdrawn, the proof of lawful processing."""
    forget_accounts(uow, person_id)
    person = get_person(uow, person_id)
    person.full_name = None
    person.phone_e164 = None
    person.phone_verified = False
    person.area_org_id = None
    uow.session.add(person)
    now = context.now()
    for consent in uow.session.exec(
        select(Consent)
        .where(Consent.person_id == person_id)
        .where(col(Consent.withdrawn_at).is_(None))
    ).all():
        consent.withdrawn_at = now
        uow.session.add(consent)
    # What the bot said in the person's web chats is kept for a reloaded page: it goes too
    # (the rows stay, emptied, so that the chat's numbering goes on).
    chats = select(ChannelAccount.chat_id).where(ChannelAccount.person_id == person_id)
    uow.session.execute(
        update(WebMessage)
        .where(col(WebMessage.chat_id).in_(chats))
        .values(frame={"type": "erased"})
    )
    petitions = uow.session.exec(select(Petition).where(Petition.person_id == person_id)).all()
    for petition in petitions:
        petition.petitioner_name = ERASED
        petition.petitioner_phone_e164 = ERASED
        # A shared location may be the person's home: only the point rounded to the street,
        # which the public record shows, stays with the record (issue 13).
        point = public_point(petition.latitude, petition.longitude)
        petition.latitude = point.latitude if point else None
        petition.longitude = point.longitude if point else None
        uow.session.add(petition)
    uow.session.exec(delete(TrackingMiss).where(col(TrackingMiss.person_id) == person_id))
    record_event(
        uow,
        kind="person.erased",
        actor=Actor.resident(person_id),
        action=None,
        at=now,
        details={"petitions_pseudonymised": len(petitions)},
    )
    uow.flush()
    return len(petitions)


def upcoming_sessions(
    uow: UnitOfWork, area_org_id: int | None, now: datetime
) -> Sequence[DialogueSession]:
    """Announced sessions not yet begun, for the resident's ward and the levels above it."""
    query = (
        select(DialogueSession)
        .where(DialogueSession.state == SessionState.ANNOUNCED)
        .where(DialogueSession.starts_at > now)
        .order_by(col(DialogueSession.starts_at))
    )
    if area_org_id is not None:
        parents = org_parent_map(uow)
        chain: list[int] = []
        current: int | None = area_org_id
        while current is not None and current not in chain:
            chain.append(current)
            current = parents.get(current)
        query = query.where(col(DialogueSession.org_unit_id).in_(chain))
    return uow.session.exec(query).all()


def followers_of(uow: UnitOfWork, org_unit_id: int) -> Sequence[int]:
    """People who follow an area (their ward), for invitations (P4)."""
    return uow.session.exec(select(Person.id).where(Person.area_org_id == org_unit_id)).all()  # type: ignore[return-value]


def join_by_verified_phone(
    uow: UnitOfWork, person_id: int, phone_e164: str, channel: str, context: ProcedureContext
) -> int:
    """One resident across channels: when ``person_id`` has just verified ``phone_e164``
    through its channel (a Telegram contact of the sender's own account, Zalo's user info) and
    another person verified the same phone through another channel, they are one person. The
    earlier person is kept; this one's accounts, petitions, registrations, consents and the
    rest move to it. A phone only typed is never verified, so it never joins anyone; nor do
    two accounts of the same channel (``channel``, the one that verified it now): a number
    given up and reassigned by the operator must not merge two strangers.

    Returns the person to go on with. Flushed, not committed."""
    other = uow.session.exec(
        select(Person)
        .where(Person.phone_e164 == phone_e164)
        .where(col(Person.phone_verified))
        .where(Person.id != person_id)
        .where(
            ~select(ChannelAccount.id)
            .where(ChannelAccount.person_id == Person.id)
            .where(ChannelAccount.channel == channel)
            .exists()
        )
        .order_by(col(Person.id))
    ).first()
    if other is None or other.id is None:
        return person_id
    survivor = other.id
    _move_references(uow, person_id, survivor)
    forget_accounts(uow, person_id)  # its accounts are the survivor's now
    joined = get_person(uow, person_id)
    kept = get_person(uow, survivor)
    kept.full_name = kept.full_name or joined.full_name
    kept.area_org_id = kept.area_org_id or joined.area_org_id
    joined.full_name = joined.phone_e164 = joined.area_org_id = None
    joined.phone_verified = False
    uow.session.add_all([kept, joined])
    record_event(
        uow,
        kind="person.joined",
        actor=Actor.resident(survivor),
        action=None,
        at=context.now(),
        details={"joined_person_id": person_id, "channel": channel},
    )
    uow.flush()
    return survivor


def _move_references(uow: UnitOfWork, old: int, new: int) -> None:
    """Point every row that refers to person ``old`` at ``new``; a row that would then clash
    with one ``new`` already has (the same session registration, the same staff role) stays."""
    from sqlalchemy import and_, exists, update
    from sqlalchemy import select as core_select
    from sqlmodel import SQLModel

    person_table = SQLModel.metadata.tables["person"]
    uow.flush()
    for table in SQLModel.metadata.sorted_tables:
        for foreign_key in table.foreign_keys:
            if foreign_key.column.table is not person_table:
                continue
            column = foreign_key.parent
            statement = update(table).where(column == old)
            for constraint in table.constraints:
                names = [c.name for c in getattr(constraint, "columns", [])]
                if constraint.__class__.__name__ != "UniqueConstraint" or column.name not in names:
                    continue
                twin = table.alias()
                same = [twin.c[name] == table.c[name] for name in names if name != column.name]
                statement = statement.where(
                    ~exists(
                        core_select(twin.c[column.name]).where(
                            and_(twin.c[column.name] == new, *same)
                        )
                    )
                )
            uow.session.exec(
                statement.values({column.name: new}).execution_options(synchronize_session=False)
            )  # type: ignore[call-overload]
    uow.session.expire_all()
