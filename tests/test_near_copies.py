"""Q4: the near-copy check used on the held-out sets finds exactly what comparing every pair
finds (its prefix and size filters only skip pairs that cannot reach the threshold)."""

from __future__ import annotations

import random

import pytest

from tests.near_copies import near_copies, syllable_set

_WORDS = [
    "tôi",
    "ở",
    "tổ",
    "phường",
    "xã",
    "đèn",
    "đường",
    "hỏng",
    "nước",
    "ngập",
    "rác",
    "cống",
    "hẻm",
    "ngõ",
    "chợ",
    "trường",
]


def _every_pair(lines: list[tuple[int, str]], others: list[str], threshold: float) -> list[int]:
    sets = [syllable_set(other) for other in others]
    near = []
    for number, line in lines:
        mine = syllable_set(line)
        if any(
            len(mine & theirs) >= threshold * len(mine | theirs) if mine or theirs else True
            for theirs in sets
        ):
            near.append(number)
    return near


@pytest.mark.parametrize("threshold", [0.5, 0.6, 0.8, 1.0])
def test_q4_near_copies_equal_the_every_pair_comparison(threshold: float) -> None:
    chance = random.Random(935)

    def line() -> str:
        return " ".join(chance.choices(_WORDS, k=chance.randint(0, 9)))

    for _ in range(20):
        lines = [(number, line()) for number in range(1, 41)]
        others = [line() for _ in range(120)]
        assert near_copies(lines, others, threshold) == _every_pair(lines, others, threshold)


def test_q4_a_near_copy_is_found_and_a_different_size_is_not() -> None:
    others = ["Sai rồi, tôi ở tổ 14 chứ không phải tổ 4."]
    lines = [
        (1, "sai rồi, tôi ở tổ 9 chứ không phải tổ 6"),
        (2, "sai rồi"),
        (3, "Đèn đường ở tổ 9 hỏng"),
    ]
    assert near_copies(lines, others, 0.8) == [1]
