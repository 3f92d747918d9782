"""P2, P3: the issues residents raised again and again — near-duplicate petitions grouped across
sessions and years (nlp/similarity), with the staff's decisions on top — and, for a resident
about to submit, the similar earlier petitions of the same area and their answers."""

from __future__ import annotations

import threading
import weakref
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date
from typing import TYPE_CHECKING

from sqlalchemy import and_, delete, func, insert, or_
from sqlalchemy.orm import SessionTransaction
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
from storage.tables import IssueGroupMember, IssueLink, Petition, WrittenResult
from storage.types import utc_now
from storage.unit_of_work import UnitOfWork
from texts import to_local

# The similarity index (word lists read from underthesea's data) is loaded by the first search
# for similar petitions, not by every start of the bot (issue 12).
if TYPE_CHECKING:
    from nlp.similarity import PetitionIndex

SAME, DIFFERENT = "same", "different"
#: How a petition came to be in its group (``IssueGroupMember.source``).
FULL, JOINED, STAFF = "full", "join", "staff"
#: A unit never grouped is grouped in full when a petition is submitted if it holds no more
#: petitions than this (a larger one waits for ``regroup``: the CLI or the first review).
REGROUP_INLINE = 2_000
_INDEX_MEMO = "repeated.petition_index"
#: The indexes are shared by the threads of a process: one at a time reads or adds.
_LOCK = threading.RLock()


def _text(petition: Petition) -> str:
    return _written(petition.text, petition.street)


def _written(text: str, street: str | None) -> str:
    street = street or ""
    if street and street not in text:
        return f"{text} ({street})"
    return text


def _petitions(uow: UnitOfWork, unit_id: int, until: date | None = None) -> list[Petition]:
    query = select(Petition).where(col(Petition.area_org_id).in_(units_below(uow, unit_id)))
    rows = list(uow.session.exec(query.order_by(col(Petition.received_at))).all())
    if until is not None:
        rows = [p for p in rows if to_local(p.received_at).date() <= until]
    return rows


@dataclass
class _CachedIndex:
    index: PetitionIndex[int]
    #: The largest petition id read from the database into the index.
    max_id: int
    #: Petitions added by the last transaction that added any, by id, with their text:
    #: checked against the database when another transaction uses the index (the one that
    #: added them may have rolled back), then taken as stored.
    added: dict[int, str] = field(default_factory=dict)
    added_in: weakref.ref[SessionTransaction] | None = None


def _index(uow: UnitOfWork, unit_id: int) -> PetitionIndex[int]:
    """The index of a unit's petitions: built once per process and database, then brought up
    to date by adding the petitions submitted since (never rebuilt for them; rebuilt when a
    petition it holds has gone or changed). Call it holding ``_LOCK``.

    Every use checks it against the database (the count of the unit's petitions, the ones
    above the largest id it holds, the ones its last writer added), so it is kept also when
    several workers share the database: a petition another worker submitted is added (also
    one committed out of id order: the ids held are then compared with the ids stored); one
    deleted makes the counts differ and the index is rebuilt. The count and the petitions
    above the largest id are read by one statement, so one snapshot: read by two, a petition
    another worker committed between them was counted as missing, and the index rebuilt."""
    units = units_below(uow, unit_id)
    scope = col(Petition.area_org_id).in_(units)
    memo = uow.memo(_INDEX_MEMO, checked=True)
    cached: _CachedIndex | None = memo.get(unit_id)
    session = uow.session
    transaction = session.get_transaction()
    if cached is not None and cached.added and (
        cached.added_in is None or cached.added_in() is not transaction
    ):
        rows = session.exec(
            select(Petition.id, Petition.text, Petition.street).where(
                col(Petition.id).in_(list(cached.added))
            )
        ).all()
        found = {pid: _written(text, street) for pid, text, street in rows}
        if found != cached.added:
            cached = None
        else:
            cached.added, cached.added_in = {}, None
    if cached is not None:
        count, fresh = _count_and_fresh(uow, units, cached.max_id)
        if len(cached.index) + len(fresh) != count:
            # Other workers' petitions committed out of id order (below the largest id held):
            # those are added too; a petition gone from the database rebuilds the index.
            held = set(cached.index.ids)
            stored = set(session.exec(select(Petition.id).where(scope)).all())
            gaps = stored - held - {pid for pid, _, _ in fresh}
            count = len(stored)  # this statement's snapshot: it may hold more than the first
            if not held <= stored:
                cached = None
            elif gaps:
                fresh += list(
                    session.exec(
                        select(Petition.id, Petition.text, Petition.street).where(
                            col(Petition.id).in_(sorted(gap for gap in gaps if gap is not None))
                        )
                    ).all()
                )
    if cached is not None:
        for pid, text, street in fresh:
            assert pid is not None  # stored
            cached.index.add(pid, _written(text, street))
            cached.added[pid] = _written(text, street)
            cached.added_in = weakref.ref(transaction) if transaction is not None else None
            cached.max_id = max(cached.max_id, pid)
        if len(cached.index) != count:
            cached = None
    if cached is None:
        cached = memo[unit_id] = _build(uow, unit_id)
    return cached.index


def _count_and_fresh(
    uow: UnitOfWork, units: list[int], above: int
) -> tuple[int, list[tuple[int | None, str, str | None]]]:
    """How many petitions ``units`` have, and those with an id above ``above`` (in id order),
    in one statement: the count joined to the petitions (no petition: one row, the count)."""
    total = (
        select(func.count().label("n"))
        .select_from(Petition)
        .where(col(Petition.area_org_id).in_(units))
        .subquery("total")
    )
    rows = uow.session.exec(
        select(total.c.n, Petition.id, Petition.text, Petition.street)
        .select_from(total)
        .outerjoin(
            Petition,
            and_(col(Petition.area_org_id).in_(units), col(Petition.id) > above),
        )
        .order_by(col(Petition.id))
    ).all()
    count = rows[0][0] if rows else 0
    return count, [(pid, text, street) for _, pid, text, street in rows if pid is not None]


def _build(uow: UnitOfWork, unit_id: int) -> _CachedIndex:
    rows = uow.session.exec(
        select(Petition.id, Petition.text, Petition.street)
        .where(col(Petition.area_org_id).in_(units_below(uow, unit_id)))
        .order_by(col(Petition.received_at), col(Petition.id))
    ).all()
    from nlp.similarity import PetitionIndex

    index = PetitionIndex(
        [(pid, _written(text, street)) for pid, text, street in rows if pid is not None]
    )
    return _CachedIndex(index, max((pid or 0 for pid, _, _ in rows), default=0))


def forget_indexes(uow: UnitOfWork) -> None:
    """Drop the indexes kept for this database (the next use rebuilds them)."""
    uow.memo(_INDEX_MEMO, checked=True).clear()


def _links(uow: UnitOfWork, ids: set[int]) -> list[IssueLink]:
    """Staff decisions between these petitions: the links, and a petition marked as the
    duplicate of another (/trung) as the same issue."""
    links = [
        link
        for link in uow.session.exec(select(IssueLink)).all()
        if link.first_petition_id in ids and link.second_petition_id in ids
    ]
    decided = {(link.first_petition_id, link.second_petition_id) for link in links}
    duplicates = uow.session.exec(
        select(Petition.id, Petition.duplicate_of_id).where(
            col(Petition.duplicate_of_id).is_not(None)
        )
    ).all()
    for copy, original in duplicates:
        assert copy is not None and original is not None
        pair = (min(copy, original), max(copy, original))
        if copy in ids and original in ids and pair not in decided:
            links.append(
                IssueLink(first_petition_id=pair[0], second_petition_id=pair[1], decision=SAME)
            )
    return links


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
    """Groups of near-duplicate petitions of the unit, largest first: as stored (a full
    regrouping, then each petition joining its nearest group when submitted), with the staff's
    decisions on top. A unit never grouped is grouped in full first."""
    petitions = _petitions(uow, unit_id, until)
    if len(petitions) < minimum:
        return []
    by_id = {p.id: p for p in petitions if p.id is not None}  # stored: every one has an id
    assigned = _assignments(uow, unit_id)
    if not assigned:
        regroup(uow, unit_id)
    else:
        for petition in petitions:  # those submitted before the unit had groups
            if petition.id not in assigned:
                assert petition.id is not None
                join_group(uow, petition.id, unit_id)
    members: dict[int, list[int]] = {}
    for pid, group_id in _assignments(uow, unit_id).items():
        if pid in by_id:
            members.setdefault(group_id, []).append(pid)
    groups = _apply_decisions(list(members.values()), _links(uow, set(by_id)))  # type: ignore[arg-type]
    found = []
    for group in groups:
        if len(group) < minimum:
            continue
        petitions_of = tuple(sorted((by_id[i] for i in group), key=lambda p: p.received_at))
        answers = tuple(
            result.text
            for result in uow.session.exec(
                select(WrittenResult)
                .where(col(WrittenResult.petition_id).in_(group))
                .order_by(col(WrittenResult.id))
            ).all()
        )
        found.append(
            IssueGroup(petitions_of, group_title([p.text for p in petitions_of]), answers)
        )
    return sorted(found, key=lambda g: (-len(g.petitions), g.petitions[0].received_at))


def _assignments(uow: UnitOfWork, unit_id: int) -> dict[int, int]:
    """Petition id -> group id, as stored for the unit."""
    rows = uow.session.exec(
        select(IssueGroupMember.petition_id, IssueGroupMember.group_id).where(
            IssueGroupMember.unit_org_id == unit_id
        )
    ).all()
    return dict(rows)


def regroup(uow: UnitOfWork, unit_id: int) -> int:
    """A full regrouping of the unit's petitions (for staff and cron; petitions submitted
    later join their nearest group): the index rebuilt, average-link groups, the staff's
    decisions applied, and stored. Returns the number of groups of two or more."""
    cached = _build(uow, unit_id)  # a fresh index, outside the lock: submissions go on
    index = cached.index
    ids = index.ids
    automatic = index.groups()
    with _LOCK:
        # Brought up to date at its next use.
        uow.memo(_INDEX_MEMO, checked=True)[unit_id] = cached
    grouped = {member for group in automatic for member in group}
    automatic += [[pid] for pid in ids if pid not in grouped]
    groups = _apply_decisions(automatic, _links(uow, set(ids)))
    uow.session.execute(
        delete(IssueGroupMember).where(col(IssueGroupMember.unit_org_id) == unit_id)
    )
    now = utc_now()
    rows = [
        {
            "unit_org_id": unit_id,
            "petition_id": pid,
            "group_id": group[0],
            "source": FULL,
            "assigned_at": now,
        }
        for group in groups
        for pid in group
    ]
    if rows:
        uow.session.execute(insert(IssueGroupMember), rows)
    uow.flush()
    return sum(len(group) >= 2 for group in groups)


def join_group(uow: UnitOfWork, petition_id: int, unit_id: int) -> int:
    """A petition joins its nearest group of the unit without a regrouping (the index finds
    its neighbours; the group whose mean score with it is best, at the grouping threshold or
    more, and with none of whose members staff said it is not the same issue); alone when
    there is none. Stored; returns the group id. Already placed: left where it is."""
    current = uow.session.get(IssueGroupMember, (unit_id, petition_id))
    if current is not None:
        return current.group_id
    apart: set[int] = set()
    for link in uow.session.exec(
        select(IssueLink).where(
            IssueLink.decision == DIFFERENT,
            or_(
                col(IssueLink.first_petition_id) == petition_id,
                col(IssueLink.second_petition_id) == petition_id,
            ),
        )
    ).all():
        apart.update((link.first_petition_id, link.second_petition_id))
    apart.discard(petition_id)
    group_of: dict[int, int] = {}
    members: dict[int, list[int]] = {}

    def members_of(pid: int) -> list[int]:
        group_id = group_of.get(pid)
        if group_id is None:
            group_id = uow.session.exec(
                select(IssueGroupMember.group_id).where(
                    IssueGroupMember.unit_org_id == unit_id,
                    IssueGroupMember.petition_id == pid,
                )
            ).first()
            if group_id is None:
                return [pid]
        if group_id not in members:
            members[group_id] = list(
                uow.session.exec(
                    select(IssueGroupMember.petition_id).where(
                        IssueGroupMember.unit_org_id == unit_id,
                        IssueGroupMember.group_id == group_id,
                    )
                ).all()
            )
            group_of.update(dict.fromkeys(members[group_id], group_id))
        return members[group_id]

    with _LOCK:
        nearest = _index(uow, unit_id).nearest_groups(petition_id, members_of)
    group_id = petition_id
    for group, _ in nearest:
        if apart.intersection(group):
            continue
        first = group[0]
        found = group_of.get(first)
        if found is None:  # a petition in no group yet: the two begin one
            found = first
            _place(uow, unit_id, first, found, JOINED)
        group_id = found
        break
    _place(uow, unit_id, petition_id, group_id, JOINED)
    uow.flush()
    return group_id


def _place(uow: UnitOfWork, unit_id: int, petition_id: int, group_id: int, source: str) -> None:
    row = uow.session.get(IssueGroupMember, (unit_id, petition_id))
    if row is None:
        row = IssueGroupMember(
            unit_org_id=unit_id, petition_id=petition_id, group_id=group_id, source=source
        )
    row.group_id, row.source, row.assigned_at = group_id, source, utc_now()
    uow.session.add(row)


def joined_on_submission(uow: UnitOfWork, petition: Petition) -> None:
    """When a petition is submitted: it joins its nearest group of its area (a unit never
    grouped is grouped in full when small; a large one waits for ``regroup``)."""
    assert petition.id is not None  # flushed
    unit_id = petition.area_org_id
    grouped = uow.session.exec(
        select(IssueGroupMember.petition_id).where(IssueGroupMember.unit_org_id == unit_id)
    ).first()
    if grouped is not None:
        join_group(uow, petition.id, unit_id)
        return
    count = uow.session.exec(
        select(func.count())
        .select_from(Petition)
        .where(col(Petition.area_org_id).in_(units_below(uow, unit_id)))
    ).one()
    if count <= REGROUP_INLINE:
        regroup(uow, unit_id)


def follow_duplicate(uow: UnitOfWork, copy_id: int, original_id: int) -> None:
    """/trung: a petition marked as the duplicate of another is in the other's group."""
    low, high = sorted((copy_id, original_id))
    _staff_moves(uow, low, high, SAME)


def _staff_moves(uow: UnitOfWork, low: int, high: int, decision: str) -> None:
    """Stored groups follow a staff decision in every unit that grouped both petitions:
    ``same`` brings the second's group into the first's, ``different`` takes the second out
    of a group they share."""
    rows = uow.session.exec(
        select(IssueGroupMember).where(col(IssueGroupMember.petition_id).in_([low, high]))
    ).all()
    by_unit: dict[int, dict[int, IssueGroupMember]] = {}
    for row in rows:
        by_unit.setdefault(row.unit_org_id, {})[row.petition_id] = row
    for unit_id, pair in by_unit.items():
        if len(pair) != 2:
            continue
        first, second = pair[low], pair[high]
        if decision == SAME and first.group_id != second.group_id:
            moved = uow.session.exec(
                select(IssueGroupMember).where(
                    IssueGroupMember.unit_org_id == unit_id,
                    IssueGroupMember.group_id == second.group_id,
                )
            ).all()
            for row in moved:
                _place(uow, unit_id, row.petition_id, first.group_id, STAFF)
        elif decision == DIFFERENT and first.group_id == second.group_id:
            if second.group_id == high:  # the group was named after it: renamed
                rest = uow.session.exec(
                    select(IssueGroupMember).where(
                        IssueGroupMember.unit_org_id == unit_id,
                        IssueGroupMember.group_id == high,
                        IssueGroupMember.petition_id != high,
                    )
                ).all()
                name = min(row.petition_id for row in rest)
                for row in rest:
                    _place(uow, unit_id, row.petition_id, name, row.source)
            _place(uow, unit_id, high, high, STAFF)
    uow.flush()


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
    _staff_moves(uow, low, high, decision)


def similar_earlier(
    uow: UnitOfWork, area_org_id: int, text: str, *, limit: int = 3
) -> list[tuple[Petition, str | None]]:
    """For a resident about to submit: earlier petitions of the same area on the same issue,
    with their answer if there is one. A suggestion, never a refusal."""
    with _LOCK:
        index = _index(uow, area_org_id)
        similar = index.similar(text, limit=limit) if len(index) else []
    found = []
    for petition_id, _ in similar:
        petition = uow.session.get(Petition, petition_id)
        if petition is None:
            continue
        answer = uow.session.exec(
            select(WrittenResult.text)
            .where(WrittenResult.petition_id == petition_id)
            .order_by(col(WrittenResult.id).desc())
        ).first()
        found.append((petition, answer))
    return found
