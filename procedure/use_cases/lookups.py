"""Read-only look-ups the conversations need, so that no handler reaches into tables."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlmodel import col, select

from procedure.lifecycles import RegistrationState
from storage.tables import (
    AgendaItem,
    DialogueSession,
    OrgUnit,
    Person,
    Petition,
    Registration,
    Topic,
    WrittenResult,
)
from storage.unit_of_work import UnitOfWork


def topics(uow: UnitOfWork, kind: str) -> Sequence[Topic]:
    return uow.session.exec(
        select(Topic)
        .where(Topic.kind == kind)
        .where(col(Topic.active))
        .order_by(col(Topic.position))
    ).all()


def topic(uow: UnitOfWork, code: str) -> Topic | None:
    return uow.session.get(Topic, code) if code else None


def session(uow: UnitOfWork, session_id: int) -> DialogueSession | None:
    return uow.session.get(DialogueSession, session_id)


def org_unit(uow: UnitOfWork, unit_id: int | None) -> OrgUnit | None:
    return uow.session.get(OrgUnit, unit_id) if unit_id is not None else None


def agenda(uow: UnitOfWork, session_id: int) -> Sequence[AgendaItem]:
    return uow.session.exec(
        select(AgendaItem)
        .where(AgendaItem.session_id == session_id)
        .order_by(col(AgendaItem.position))
    ).all()


def person(uow: UnitOfWork, person_id: int) -> Person | None:
    return uow.session.get(Person, person_id)


def petition(uow: UnitOfWork, petition_id: int) -> Petition | None:
    return uow.session.get(Petition, petition_id)


def written_results(uow: UnitOfWork, petition_id: int) -> dict[int | None, WrittenResult]:
    rows = uow.session.exec(
        select(WrittenResult)
        .where(WrittenResult.petition_id == petition_id)
        .order_by(col(WrittenResult.id))
    ).all()
    return {row.id: row for row in rows}


def active_registrations(
    uow: UnitOfWork, person_id: int, now: datetime
) -> Sequence[tuple[Registration, DialogueSession]]:
    """The resident's registrations for sessions still to come."""
    return uow.session.exec(
        select(Registration, DialogueSession)
        .join(DialogueSession, col(DialogueSession.id) == col(Registration.session_id))
        .where(Registration.person_id == person_id)
        .where(Registration.state != RegistrationState.CANCELLED)
        .where(col(DialogueSession.starts_at) > now)
    ).all()
