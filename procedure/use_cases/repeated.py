"""P2, P3: the issues residents raised again and again — near-duplicate petitions grouped across
sessions and years (nlp/similarity), with the staff's decisions on top — and, for a resident
about to submit, the similar earlier petitions of the same area and their answers."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from typing import TYPE_CHECKING

from sqlmodel import col, select

from nlp.titles import group_title
from procedure.errors import NotFound
from procedure.lifecycles import OPEN_PETITION_STATES
from procedure.permissions import Action, Actor
from procedure.use_cases.annual_report import RepeatedIssue
from procedure.use_cases.context import ProcedureContext, require
from procedure.use_cases.resolution import REPEATED_REOPENINGS, reopened_counts
from procedure.use_cases.review import Period
from procedure.use_cases.sessions import units_below
from storage.tables import IssueLink, Petition, WrittenResult
from storage.unit_of_work import UnitOfWork
from texts import to_local

# The similarity index (word lists read from underthesea's data) is loaded by the first search
# for similar petitions, not by every start of the bot (issue 12).
if TYPE_CHECKING:
    from nlp.similarity import PetitionIndex

SAME, DIFFERENT = "same", "different"
_INDEXES: dict[tuple[int, int, int], PetitionIndex[int]] = {}


def _text(petition: Petition) -> str:
    street = petition.street or ""
    if street and street not in petition.text:
        return f"{petition.text} ({street})"
    return petition.text


def _petitions(uow: UnitOfWork, unit_id: int, until: date | None = None) -> list[Petition]:
    query = select(Petition).where(col(Petition.area_org_id).in_(units_below(uow, unit_id)))
    rows = list(uow.session.exec(query.order_by(col(Petition.received_at))).all())
    if until is not None:
        rows = [p for p in rows if to_local(p.received_at).date() <= until]
    return rows


def _index(unit_id: int, petitions: Sequence[Petition]) -> PetitionIndex[int]:
    """The index of a unit's petitions, rebuilt only when petitions were added."""
    key = (unit_id, len(petitions), max((p.id or 0 for p in petitions), default=0))
    index = _INDEXES.get(key)
    if index is None:
        from nlp.similarity import PetitionIndex

        index = PetitionIndex([(p.id, _text(p)) for p in petitions])  # type: ignore[misc]
        _INDEXES.clear()
        _INDEXES[key] = index
    return index


def _links(uow: UnitOfWork, ids: set[int]) -> list[IssueLink]:
    return [
        link
        for link in uow.session.exec(select(IssueLink)).all()
        if link.first_petition_id in ids and link.second_petition_id in ids
    ]


def _apply_decisions(groups: list[list[int]], links: Sequence[IssueLink]) -> list[list[int]]:
    """Staff decisions win: ``different`` takes a petition out of a group, ``same`` joins two."""
    apart = {
        (link.first_petition_id, link.second_petition_id)
        for link in links
        if link.decision == DIFFERENT
    }
    result: list[list[int]] = []
    for group in groups:
        kept: list[int] = []
        for member in sorted(group):
            if any((min(member, k), max(member, k)) in apart for k in kept):
                result.append([member])
            else:
                kept.append(member)
        result.append(kept)
    owner = {member: n for n, group in enumerate(result) for member in group}
    for link in links:
        if link.decision != SAME:
            continue
        first, second = owner.get(link.first_petition_id), owner.get(link.second_petition_id)
        if first is None or second is None or first == second:
            continue
        result[first].extend(result[second])
        for member in result[second]:
            owner[member] = first
        result[second] = []
    return [sorted(group) for group in result if group]


@dataclass(frozen=True)
class IssueGroup:
    petitions: tuple[Petition, ...]
    title: str  # a representative petition's subject (nlp.titles), not keywords
    answers: tuple[str, ...]

    @property
    def unresolved(self) -> bool:
        """Not conclusively resolved: one is still open, or it was raised again after an
        earlier one had been answered."""
        if any(p.state in OPEN_PETITION_STATES for p in self.petitions):
            return True
        answered = [p for p in self.petitions if p.state not in OPEN_PETITION_STATES]
        return len(answered) >= 2


def issue_groups(
    uow: UnitOfWork, unit_id: int, until: date | None = None, *, minimum: int = 2
) -> list[IssueGroup]:
    """Groups of near-duplicate petitions of the unit, largest first."""
    petitions = _petitions(uow, unit_id, until)
    if len(petitions) < minimum:
        return []
    by_id = {p.id: p for p in petitions if p.id is not None}  # stored: every one has an id
    index = _index(unit_id, petitions)
    automatic = index.groups()
    grouped = {member for group in automatic for member in group}
    automatic += [[pid] for pid in by_id if pid not in grouped]  # decisions may join singles
    groups = _apply_decisions(automatic, _links(uow, set(by_id)))  # type: ignore[arg-type]
    found = []
    for group in groups:
        if len(group) < minimum:
            continue
        members = tuple(sorted((by_id[i] for i in group), key=lambda p: p.received_at))
        answers = tuple(
            result.text
            for result in uow.session.exec(
                select(WrittenResult)
                .where(col(WrittenResult.petition_id).in_(group))
                .order_by(col(WrittenResult.id))
            ).all()
        )
        found.append(IssueGroup(members, group_title([p.text for p in members]), answers))
    return sorted(found, key=lambda g: (-len(g.petitions), g.petitions[0].received_at))


def repeated_issues(uow: UnitOfWork, unit_id: int, period: Period) -> list[RepeatedIssue]:
    """P2: the issues raised at least twice up to the end of the period, raised again within
    it, and not conclusively resolved — largest first. A petition whose petitioner said twice
    that the written result did not resolve it (reopened twice, issue 13) is one too."""
    start, _ = period.bounds()
    issues = []
    grouped: set[int] = set()
    petitions = _petitions(uow, unit_id, period.end)
    reopened = reopened_counts(uow, [p.id for p in petitions if p.id is not None])
    for group in issue_groups(uow, unit_id, period.end):
        grouped.update(p.id for p in group.petitions if p.id is not None)
        if not group.unresolved or group.petitions[-1].received_at < start:
            continue
        issues.append(
            RepeatedIssue(
                title=group.title,
                count=len(group.petitions),
                first_raised=to_local(group.petitions[0].received_at).date(),
                last_raised=to_local(group.petitions[-1].received_at).date(),
                open=sum(p.state in OPEN_PETITION_STATES for p in group.petitions),
                examples=tuple(p.tracking_code for p in group.petitions[-3:]),
                last_answer=group.answers[-1] if group.answers else "",
                reopened=sum(reopened.get(p.id or 0, (0,))[0] for p in group.petitions),
            )
        )
    for petition in petitions:
        times, last = reopened.get(petition.id or 0, (0, None))
        if petition.id in grouped or times < REPEATED_REOPENINGS or last is None or last < start:
            continue
        answer = uow.session.exec(
            select(WrittenResult.text)
            .where(WrittenResult.petition_id == petition.id)
            .order_by(col(WrittenResult.id).desc())
        ).first()
        day = to_local(petition.received_at).date()
        issues.append(
            RepeatedIssue(
                title=group_title([petition.text]),
                count=1 + times,  # raised once, then raised again at each reopening
                first_raised=day,
                last_raised=day,
                open=int(petition.state in OPEN_PETITION_STATES),
                examples=(petition.tracking_code,),
                last_answer=answer or "",
                reopened=times,
            )
        )
    return sorted(issues, key=lambda issue: -issue.count)


def decide(
    uow: UnitOfWork,
    actor: Actor,
    first_code: str,
    second_code: str,
    decision: str,
    context: ProcedureContext,
) -> None:
    """Staff confirm (``same``) or split (``different``) two petitions of a group."""
    from procedure.use_cases.petitions import petition_by_code

    first, second = petition_by_code(uow, first_code), petition_by_code(uow, second_code)
    if first.id == second.id or decision not in {SAME, DIFFERENT}:
        raise NotFound("refusal.petition_not_found")
    require(uow, actor, Action.MARK_DUPLICATE, first.area_org_id)
    require(uow, actor, Action.MARK_DUPLICATE, second.area_org_id)
    assert first.id is not None and second.id is not None  # stored petitions
    low, high = sorted((first.id, second.id))
    link = uow.session.get(IssueLink, (low, high)) or IssueLink(
        first_petition_id=low, second_petition_id=high, decision=decision
    )
    link.decision = decision
    link.decided_by_person_id = actor.person_id
    link.decided_at = context.now()
    uow.session.add(link)
    uow.flush()


def similar_earlier(
    uow: UnitOfWork, area_org_id: int, text: str, *, limit: int = 3
) -> list[tuple[Petition, str | None]]:
    """For a resident about to submit: earlier petitions of the same area on the same issue,
    with their answer if there is one. A suggestion, never a refusal."""
    petitions = _petitions(uow, area_org_id)
    if not petitions:
        return []
    by_id = {p.id: p for p in petitions}
    found = []
    for petition_id, _ in _index(area_org_id, petitions).similar(text, limit=limit):
        petition = by_id[petition_id]
        answer = uow.session.exec(
            select(WrittenResult.text)
            .where(WrittenResult.petition_id == petition_id)
            .order_by(col(WrittenResult.id).desc())
        ).first()
        found.append((petition, answer))
    return found
