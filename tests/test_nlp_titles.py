"""P2: a group of repeated petitions is named by a readable title — a representative
petition's subject — not by a list of keywords (used by /nhom, /tonghop, the yearly report)."""

from __future__ import annotations

from collections import defaultdict

import pytest

from nlp.titles import MAX_TITLE, group_title, representative, subject
from tests.labelled_petitions import LABELLED, NEW_HELD_OUT, bare, bare_lower

BY_ISSUE: dict[str, list[str]] = defaultdict(list)
for _issue, _text in LABELLED + NEW_HELD_OUT:
    BY_ISSUE[_issue].append(_text)


@pytest.mark.parametrize("issue", sorted(BY_ISSUE))
def test_p2_every_labelled_issue_gets_a_readable_title_from_one_of_its_petitions(
    issue: str,
) -> None:
    texts = BY_ISSUE[issue]
    title = group_title(texts)
    assert 10 <= len(title) <= MAX_TITLE
    assert title[0].isupper() and title[-1] not in ".,;:!?"
    assert any(title.rstrip("…") in " ".join(text.split()) for text in texts)
    assert not title.lower().startswith(("tôi là", "kính gửi"))
    assert len(title) <= 60 or title.find(", ", 25) == -1  # a long one: its first clause


def test_p2_titles_of_known_issues() -> None:
    assert group_title(BY_ISSUE["thieu-den-hem-15-calmette"]) == (
        "Hẻm 15 Calmette thiếu đèn chiếu sáng"
    )
    assert "Lê Lợi" in group_title(BY_ISSUE["ngap-le-loi"])
    assert "ngập" in group_title(BY_ISSUE["ngap-le-loi"])


def test_p2_the_title_is_written_with_diacritics_when_a_petition_is() -> None:
    text = "Hẻm 15 Calmette thiếu đèn chiếu sáng, buổi tối tối om."
    texts = [bare(text), bare_lower(text), text]
    assert representative(texts) == 2
    assert group_title(texts) == "Hẻm 15 Calmette thiếu đèn chiếu sáng, buổi tối tối om"
    assert group_title([bare_lower(text)]).startswith("Hem 15 calmette")


def test_p2_an_introduction_is_not_the_subject() -> None:
    text = "Tôi là cư dân ở số 65 Lê Lợi. Đường Lê Lợi ngập nặng mỗi mùa mưa."
    assert subject(text) == "Đường Lê Lợi ngập nặng mỗi mùa mưa"
    assert subject("Kính gửi UBND phường.\nXin cho lắp đèn hẻm 15.") == "Xin cho lắp đèn hẻm 15"


def test_p2_a_long_sentence_without_a_clause_is_cut_at_a_word() -> None:
    long = "Đề nghị " + "sửa chữa mặt đường " * 10
    title = subject(long)
    assert title.endswith("…") and len(title) <= MAX_TITLE
    assert group_title([]) == "" and subject("") == ""
