"""P2, X3: a petition joins its group of repeated issues when it is submitted, without a full
regrouping (the index finds its neighbours; the stored groups are kept up to date), gets the
group a full regrouping would give it, and the staff's decisions (/gop, /tach, /trung) survive
both the joins and a full regrouping."""

from __future__ import annotations

import pytest
from sqlmodel import select

from nlp.grouping import Membership
from nlp.similarity import PetitionIndex
from procedure.use_cases import petitions
from procedure.use_cases import repeated as repeated_module
from procedure.use_cases.repeated import (
    DIFFERENT,
    FULL,
    JOINED,
    SAME,
    STAFF,
    decide,
    issue_groups,
    regroup,
)
from storage.tables import IssueGroupMember, Petition
from storage.unit_of_work import UnitOfWork
from tests.labelled_petitions import HELD_OUT, TUNING
from tests.procedure_world import World, build_world
from tests.test_repeated import FLOODING, LIGHTS, NOISE, submit

MORE_FLOODING = "Mưa lớn là đường Lê Lợi ngập, nước tràn vào nhà, cống thoát nước bị nghẹt."


def _stored(uow: UnitOfWork, world: World) -> dict[str, tuple[str, str]]:
    """Tracking code -> (tracking code of the group's name, how it got there)."""
    rows = uow.session.exec(
        select(IssueGroupMember).where(IssueGroupMember.unit_org_id == world.ward)
    ).all()
    code = {p.id: p.tracking_code for p in uow.session.exec(select(Petition)).all()}
    return {code[row.petition_id]: (code[row.group_id], row.source) for row in rows}


def _partition(uow: UnitOfWork, world: World) -> set[frozenset[str]]:
    return {
        frozenset(p.tracking_code for p in group.petitions)
        for group in issue_groups(uow, world.ward)
    }


def test_p2_x3_a_submitted_petition_joins_its_group_without_a_full_regrouping(
    uow: UnitOfWork, monkeypatch: pytest.MonkeyPatch
) -> None:
    world = build_world(uow)
    first = submit(world, uow, FLOODING[0], "2026-03-10")
    lights = submit(world, uow, LIGHTS, "2026-03-11")
    noise = submit(world, uow, NOISE, "2026-03-12")
    uow.commit()
    index = uow.memo(repeated_module._INDEX_MEMO)[world.ward].index

    def no_regrouping(*args: object, **kwargs: object) -> None:
        raise AssertionError("a submission must not regroup the whole unit")

    monkeypatch.setattr(PetitionIndex, "groups", no_regrouping)
    monkeypatch.setattr(PetitionIndex, "__init__", no_regrouping)  # nor rebuild the index
    second = submit(world, uow, FLOODING[1], "2026-03-13")
    third = submit(world, uow, FLOODING[2], "2026-03-14")
    uow.commit()
    assert uow.memo(repeated_module._INDEX_MEMO)[world.ward].index is index
    stored = _stored(uow, world)
    assert stored[second] == (first, JOINED) and stored[third] == (first, JOINED)
    assert stored[first] == (first, FULL)  # the first petition of the unit grouped it in full
    assert stored[lights] == (lights, JOINED) and stored[noise] == (noise, JOINED)  # alone
    joined = _partition(uow, world)
    assert joined == {frozenset({first, second, third})}
    monkeypatch.undo()
    regroup(uow, world.ward)
    uow.commit()
    assert {source for _, source in _stored(uow, world).values()} == {FULL}
    assert _partition(uow, world) == joined  # what a full regrouping finds too


def test_p2_x3_staff_decisions_survive_joins_and_full_regroupings(uow: UnitOfWork) -> None:
    world = build_world(uow)
    first, second, third = (submit(world, uow, text, "2026-03-10") for text in FLOODING)
    lights = submit(world, uow, LIGHTS, "2026-03-10")
    noise = submit(world, uow, NOISE, "2026-03-10")
    uow.commit()
    assert _partition(uow, world) == {frozenset({first, second, third})}
    decide(uow, world.office, first, third, DIFFERENT, world.context)  # /tach
    decide(uow, world.office, second, third, DIFFERENT, world.context)
    decide(uow, world.office, first, lights, SAME, world.context)  # /gop
    uow.commit()
    assert _stored(uow, world)[third] == (third, STAFF)
    # /trung: the noise petition is marked as a duplicate of the first
    petitions.mark_duplicate(
        uow,
        world.office,
        petitions.petition_by_code(uow, noise).id,  # type: ignore[arg-type]
        petitions.petition_by_code(uow, first).id,  # type: ignore[arg-type]
        world.context,
    )
    uow.commit()
    decided = {frozenset({first, second, lights, noise})}
    assert _partition(uow, world) == decided
    fourth = submit(world, uow, MORE_FLOODING, "2026-03-20")  # joins; the decisions stay
    uow.commit()
    assert _stored(uow, world)[fourth][1] == JOINED
    after_join = _partition(uow, world)
    assert any({first, second, lights, noise} <= group for group in after_join)
    assert not any(third in group and first in group for group in after_join)
    regroup(uow, world.ward)
    uow.commit()
    regrouped = _partition(uow, world)
    assert any({first, second, lights, noise} <= group for group in regrouped)
    assert not any(third in group and (first in group or second in group) for group in regrouped)


def test_p2_x3_the_incremental_join_gives_the_group_a_full_regrouping_gives_on_a_sample() -> None:
    """Every fifth labelled petition (tuning and held-out sets) joins the groups of the others
    one by one; a full regrouping of all then puts each in the same group (the same earlier
    members) in at least 9 cases of 10."""
    texts = [text for _, text in TUNING + HELD_OUT]
    sample = [n for n in range(len(texts)) if n % 5 == 4]
    earlier = [n for n in range(len(texts)) if n % 5 != 4]
    index = PetitionIndex([(n, texts[n]) for n in earlier])
    membership = Membership(index.groups())
    for n in sample:
        index.add(n, texts[n])
        found = index.nearest_groups(n, membership.members_of)
        membership.join(n, found[0][0] if found else None)
    regrouped = PetitionIndex(enumerate(texts)).groups()
    full = {member: set(group) for group in regrouped for member in group}
    agree = sum(
        set(membership.members_of(n)) - set(sample) == full.get(n, {n}) - set(sample)
        for n in sample
    )
    print(f"\nP2 incremental join = full regrouping for {agree} of {len(sample)} sampled petitions")
    assert agree >= 0.9 * len(sample)


def test_p2_x3_a_petition_added_to_the_index_then_rolled_back_is_not_kept(
    uow: UnitOfWork,
) -> None:
    """The index is kept between transactions; a submission that rolls back leaves nothing in
    it that a later petition (which may get the same id) would be read as."""
    world = build_world(uow)
    first = submit(world, uow, FLOODING[0], "2026-03-10")
    uow.commit()
    submit(world, uow, NOISE, "2026-03-11")  # joined, in the index, then rolled back
    uow.rollback()
    second = submit(world, uow, FLOODING[1], "2026-03-12")
    uow.commit()
    assert _stored(uow, world)[second] == (first, JOINED)
    assert _partition(uow, world) == {frozenset({first, second})}
    index = uow.memo(repeated_module._INDEX_MEMO)[world.ward].index
    assert len(index) == 2


def test_p2_x3_a_large_group_gets_the_same_title_computed_as_one_matrix() -> None:
    """A group of thousands would take seconds pair by pair: from ``BATCH_FROM`` petitions the
    overlaps are one matrix product, the same floats as the loop (so the same title)."""
    from nlp import titles

    texts = [text for _, text in TUNING + HELD_OUT]
    assert len(texts) >= titles.BATCH_FROM
    sets = [titles._syllables(text) for text in texts]
    loop = [titles._mean_overlap(sets, i) for i in range(len(sets))]
    assert titles._mean_overlaps(sets) == loop
