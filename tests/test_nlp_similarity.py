"""P2, P3: repeated petitions — near-duplicates grouped across sessions and years, the earlier
petitions shown to a resident before submitting, and the words that name a group (C9:
underthesea, loaded lazily, segmentation only).

The figures come from a LABELLED SET of petitions of one ward written for this test: 31 issues
(a problem at a place, or a paperwork problem with no place), each raised 3 to 6 times as
paraphrases (other words, the same problem and place), the same text typed without diacritics
(some in lower case), with typos, and shorter or longer versions. It holds the hard negatives
the issue names: other problems on the same street (flooding and street lights on Lê Lợi;
rubbish and water supply in alley 42 Cô Giang; karaoke, thefts and cables on Cống Quỳnh; a
leaning tree and night works on Pasteur), the same problem on other streets (flooding on Lê Lợi
and on Hàm Nghi, street lights on Lê Lợi and on Tôn Đức Thắng, sidewalks of Lý Tự Trọng and
around Bến Thành market, karaoke on Cống Quỳnh and bars on Bùi Viện), and paperwork problems
that share their vocabulary (land certificates and building permits; allowances of the elderly
and health insurance cards of children).

Run ``pytest -s tests/test_nlp_similarity.py`` to see the figures.
"""

from __future__ import annotations

import itertools
import subprocess
import sys
from array import array
from collections import Counter, defaultdict

import pytest

import nlp.similarity as similarity
from nlp.grouping import average_link
from nlp.keywords import keywords
from nlp.similarity import Gazetteer, PetitionIndex, analyse, find_places, place_names
from tests.labelled_petitions import LABELLED, bare, bare_lower

FLOOR = 0.9

TEXTS = [text for _, text in LABELLED]
ISSUES = [issue for issue, _ in LABELLED]


def members(issue: str) -> list[int]:
    return [i for i, name in enumerate(ISSUES) if name == issue]


@pytest.fixture(scope="module")
def index() -> PetitionIndex[int]:
    return PetitionIndex(enumerate(TEXTS))


@pytest.fixture(scope="module")
def groups(index: PetitionIndex[int]) -> list[list[int]]:
    return index.groups()


def pairwise(groups: list[list[int]], issues: list[str]) -> tuple[float, float, int, int, int]:
    """Pairwise precision and recall of groups against the labelled issues."""
    label = {i: g for g, group in enumerate(groups) for i in group}
    true_positive = false_positive = false_negative = 0
    for i, j in itertools.combinations(range(len(issues)), 2):
        same = issues[i] == issues[j]
        together = i in label and label.get(i) == label.get(j)
        true_positive += same and together
        false_positive += together and not same
        false_negative += same and not together
    precision = true_positive / ((true_positive + false_positive) or 1)
    recall = true_positive / ((true_positive + false_negative) or 1)
    return precision, recall, true_positive, false_positive, false_negative


def test_the_labelled_set_is_what_the_docstring_says() -> None:
    sizes = Counter(ISSUES)
    assert len(sizes) == 31
    assert min(sizes.values()) >= 3 and max(sizes.values()) <= 6
    assert sum(text.isascii() for text in TEXTS) >= 30  # typed without diacritics


# ---------------------------------------------------------------------------------------------
# groups()


def test_p2_groups_reach_the_precision_and_recall_floor(groups: list[list[int]]) -> None:
    precision, recall, tp, fp, fn = pairwise(groups, ISSUES)
    print(
        f"\nP2 groups() on the labelled set ({len(TEXTS)} petitions, {len(set(ISSUES))} issues,"
        f" threshold {similarity.THRESHOLD}): pairwise precision {precision:.3f}, recall"
        f" {recall:.3f} (pairs: {tp} right, {fp} wrongly together, {fn} wrongly apart)"
    )
    for group in groups:
        issues = Counter(ISSUES[i] for i in group)
        if len(issues) > 1:
            print(f"  mixed group: {dict(issues)}")
    placed = {i: g for g, group in enumerate(groups) for i in group}
    for issue in sorted(set(ISSUES)):
        parts = Counter(placed.get(i, -1 - i) for i in members(issue))
        if len(parts) > 1:
            print(f"  {issue} split in {len(parts)}: {sorted(parts.values(), reverse=True)}")
    assert precision >= FLOOR
    assert recall >= FLOOR


def test_p2_the_floor_holds_around_the_default_threshold(index: PetitionIndex[int]) -> None:
    """Not a knife edge upwards: the figures hold for thresholds a little higher. (The default,
    the middle of the tuning plateau 0.15–0.20, is the low edge on this set: at 0.17 the two
    paperwork issues sharing vocabulary merge, precision 0.82.)"""
    for threshold in (similarity.THRESHOLD + 0.02, similarity.THRESHOLD + 0.04):
        precision, recall, *_ = pairwise(index.group_positions(threshold), ISSUES)
        print(f"\n  threshold {threshold}: precision {precision:.3f}, recall {recall:.3f}")
        assert precision >= FLOOR and recall >= FLOOR


def test_p2_groups_return_ids_largest_group_first() -> None:
    ids = [f"YK-{i:03}" for i in range(len(TEXTS))]
    found = PetitionIndex(zip(ids, TEXTS, strict=True)).groups()
    assert all(len(group) >= 2 for group in found)
    assert [len(g) for g in found] == sorted((len(g) for g in found), reverse=True)
    assert {pid for group in found for pid in group} <= set(ids)


@pytest.mark.parametrize(
    ("issue", "other"),
    [
        ("ngap-le-loi", "den-le-loi"),
        ("rac-hem-42-co-giang", "mat-nuoc-hem-42-co-giang"),
        ("karaoke-hem-120-cong-quynh", "trom-xe-hem-120-cong-quynh"),
        ("karaoke-hem-120-cong-quynh", "day-dien-cong-quynh"),
        ("cay-nghieng-pasteur", "thi-cong-dem-pasteur"),
    ],
)
def test_p2_another_problem_on_the_same_street_is_another_issue(
    groups: list[list[int]], issue: str, other: str
) -> None:
    for group in groups:
        assert not (set(group) & set(members(issue)) and set(group) & set(members(other)))


@pytest.mark.parametrize(
    ("issue", "other"),
    [
        ("ngap-le-loi", "ngap-ham-nghi"),
        ("den-le-loi", "den-ton-duc-thang"),
        ("via-he-ly-tu-trong", "via-he-cho-ben-thanh"),
        ("rac-hem-42-co-giang", "rac-kenh-nhieu-loc"),
        ("karaoke-hem-120-cong-quynh", "nhac-bui-vien"),
        ("mat-nuoc-hem-42-co-giang", "nuoc-duc-chung-cu"),
    ],
)
def test_p2_the_same_problem_on_another_street_is_another_issue(
    groups: list[list[int]], issue: str, other: str
) -> None:
    for group in groups:
        assert not (set(group) & set(members(issue)) and set(group) & set(members(other)))


def test_p2_a_text_and_the_same_text_without_diacritics_are_grouped(
    groups: list[list[int]],
) -> None:
    placed = {i: g for g, group in enumerate(groups) for i in group}
    twins = [
        (i, j)
        for i, j in itertools.combinations(range(len(TEXTS)), 2)
        if TEXTS[j] in {bare(TEXTS[i]), bare_lower(TEXTS[i])}
    ]
    assert len(twins) >= 25
    assert all(i in placed and placed[i] == placed.get(j) for i, j in twins)


# ---------------------------------------------------------------------------------------------
# similar()

FLOODING_PARAPHRASE = (
    "Năm nào cũng vậy, cứ mưa to là đoạn đường Lê Lợi trước chợ lại ngập, nước tràn cả vào "
    "nhà, cống thoát không kịp."
)


@pytest.mark.parametrize(
    "query",
    [FLOODING_PARAPHRASE, bare(FLOODING_PARAPHRASE), bare_lower(FLOODING_PARAPHRASE)],
    ids=["accented", "without diacritics", "without diacritics, lower case"],
)
def test_p2_similar_shows_the_earlier_petitions_of_the_issue_first(
    index: PetitionIndex[int], query: str
) -> None:
    found = index.similar(query, limit=5)
    print(f"\n  {query[:45]}… -> {[(ISSUES[i], score) for i, score in found]}")
    assert len(found) == 5
    assert all(ISSUES[i] == "ngap-le-loi" for i, _ in found)
    assert [score for _, score in found] == sorted((score for _, score in found), reverse=True)


@pytest.mark.parametrize(
    ("query", "issue"),
    [
        ("Hàng quán trên đường Lý Tự Trọng chiếm hết vỉa hè, người đi bộ không có chỗ đi.",
         "via-he-ly-tu-trong"),
        ("mua xuong la duong ham nghi ngap, cong thoat nuoc bi tac", "ngap-ham-nghi"),
        ("Thủ tục làm sổ hồng quá chậm, nộp hồ sơ cả năm chưa có.", "so-hong"),
        ("Loa kéo karaoke ở hẻm 120 Cống Quỳnh ồn quá, tối nào cũng hát.",
         "karaoke-hem-120-cong-quynh"),
    ],
)  # fmt: skip
def test_p2_similar_finds_the_issue_of_other_new_petitions(
    index: PetitionIndex[int], query: str, issue: str
) -> None:
    found = index.similar(query, limit=3)
    assert found
    assert ISSUES[found[0][0]] == issue


def test_p2_similar_does_not_show_the_same_problem_on_another_street(
    index: PetitionIndex[int],
) -> None:
    found = index.similar("Mưa xuống là đường Hàm Nghi ngập, cống thoát nước tắc.", limit=10)
    assert found
    assert {ISSUES[i] for i, _ in found} == {"ngap-ham-nghi"}


def test_p2_similar_shows_nothing_for_an_issue_never_raised(index: PetitionIndex[int]) -> None:
    query = "Nhà văn hoá khu phố 4 xuống cấp, mái dột, đề nghị sửa chữa để bà con sinh hoạt."
    assert index.similar(query) == []
    assert index.similar(bare(query)) == []


def test_p2_similar_scores_only_candidates_not_the_whole_collection(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """One query reads the petitions of its place and the best candidates among the others."""
    streets = ["Lê Lợi", "Hàm Nghi", "Cống Quỳnh", "Pasteur", "Lý Tự Trọng", "Đề Thám"]
    others = ["Võ Văn Tần", "Lê Lai", "Calmette", "Yersin", "Ký Con", "Tản Đà", "Bà Hạt"]
    texts = list(TEXTS)
    for street, other in itertools.product(streets, others):
        texts += [text.replace(street, other) for text in TEXTS if street in text]
    big = PetitionIndex(enumerate(texts))
    scored: list[int] = []
    score = PetitionIndex._score
    monkeypatch.setattr(
        PetitionIndex, "_score", lambda self, q, doc: scored.append(doc) or score(self, q, doc)
    )
    found = big.similar(FLOODING_PARAPHRASE)
    block = big.place_frequency("le loi")
    print(f"\n  {len(texts)} petitions: one query scored {len(scored)} ({block} name Lê Lợi)")
    assert found and ISSUES[found[0][0]] == "ngap-le-loi"
    assert len(scored) <= block + similarity.CANDIDATES
    assert len(scored) < len(texts) / 4


# ---------------------------------------------------------------------------------------------
# keywords()


def test_p3_keywords_name_the_problem_and_the_street(index: PetitionIndex[int]) -> None:
    flooding = [TEXTS[i] for i in members("ngap-le-loi")]
    found = keywords(flooding, collection=index)
    print(f"\n  keywords of ngap-le-loi: {found}")
    assert {"ngập", "ngập nước"} & set(found)
    assert "Lê Lợi" in found


@pytest.mark.parametrize(
    ("issue", "words"),
    [
        ("via-he-ly-tu-trong", {"vỉa hè", "Lý Tự Trọng"}),
        ("rac-hem-42-co-giang", {"rác", "Cô Giang"}),
        ("den-le-loi", {"đèn", "Lê Lợi"}),
        ("tro-cap-nguoi-cao-tuoi", {"trợ cấp", "cao tuổi"}),
        ("bhyt-tre-em", {"bảo hiểm y tế"}),
    ],
)
def test_p3_keywords_of_other_issues(
    index: PetitionIndex[int], issue: str, words: set[str]
) -> None:
    found = keywords([TEXTS[i] for i in members(issue)], collection=index)
    assert words <= set(found), found


def test_p3_keywords_without_a_collection_contrast_with_general_text() -> None:
    found = keywords([TEXTS[i] for i in members("ngap-le-loi")], limit=5)
    assert {"ngập", "ngập nước"} & set(found)
    assert "Lê Lợi" in found


def test_p3_keywords_are_shown_with_diacritics_even_when_typed_without(
    index: PetitionIndex[int],
) -> None:
    typed_bare = [bare_lower(TEXTS[i]) for i in members("ngap-le-loi")]
    found = keywords(typed_bare, collection=index)
    assert "Lê Lợi" in found  # as the rest of the collection writes it
    assert "ngập" in found  # restored
    assert not set(found) & {"ngap", "le loi"}


def test_p3_keywords_prefer_words_of_several_syllables() -> None:
    texts = [
        "Bảo hiểm y tế của cháu chưa có, thẻ bảo hiểm y tế làm lâu.",
        "Chưa nhận được thẻ bảo hiểm y tế cho con.",
    ]
    assert keywords(texts, limit=1) == ["bảo hiểm y tế"]
    assert keywords([], limit=3) == [] and keywords(texts, limit=0) == []


# ---------------------------------------------------------------------------------------------
# Reading places and words


def test_p2_places_are_read_after_place_words() -> None:
    def keys(text: str, gazetteer: Gazetteer | None = None) -> list[str]:
        return [place.key for place in find_places(text, gazetteer)]

    assert keys("Ngập nước trên đường Lê Lợi khi mưa.") == ["le loi"]
    assert keys("Rác đổ bừa bãi đầu hẻm 42 Cô Giang.") == ["co giang"]
    assert keys("Mất điện ở hẻm 24 đường Phan Bội Châu.") == ["phan boi chau"]
    assert keys("Kẹt xe trước cổng trường Tiểu học Nguyễn Bỉnh Khiêm.") == ["nguyen binh khiem"]
    assert keys("Chó thả rong ở kp3 cắn người.") == ["khu pho 3"]
    assert keys("Tụ tập ở công viên 23/9 ban đêm.") == ["cong vien 23/9"]
    assert keys("Duong Le Loi ngap sau.") == ["le loi"]
    assert keys("Cây nghiêng ở đường Trường Chinh.") == ["truong chinh"]
    # a unit is not a place; a word after "đường" in lower case is no name
    assert keys("Đề nghị Phường Bến Thành kiểm tra mặt đường xuống cấp.") == []


def test_p2_names_known_in_the_collection_are_read_anywhere() -> None:
    texts = ["Đường Hàm Nghi ngập sâu.", "Đèn đường Ngô Gia Tự hư.", "Đường Hàm Nghi lại ngập."]
    gazetteer = Gazetteer(place_names(texts))
    assert [p.key for p in find_places("mua la ham nghi ngap", gazetteer)] == ["ham nghi"]
    assert [p.key for p in find_places("o hem 120 ngo gia tu", gazetteer)] == ["ngo gia tu"]
    assert find_places("mua la ham nghi ngap") == []  # unknown without the collection


def test_p2_a_typo_in_a_street_name_is_the_same_street() -> None:
    texts = ["Karaoke ở hẻm 120 Cống Quỳnh.", "Hẻm 120 Cống Quỳnh mất trộm xe."]
    gazetteer = Gazetteer(place_names([*texts, "Karaoke ở hẻm 120 Cống Quình."]))
    assert [p.key for p in find_places("Karaoke hẻm 120 Cống Quình", gazetteer)] == ["cong quynh"]
    assert gazetteer.written("cong quynh") == "Cống Quỳnh"


def test_p2_the_problem_is_read_without_its_places() -> None:
    analysis = analyse("Đường Lê Lợi đoạn trước chợ Bến Thành mưa là ngập sâu.")
    assert {p.key for p in analysis.places} == {"le loi", "ben thanh"}
    assert "ngập" in analysis.words
    assert not any("lợi" in word or "thành" in word for word in analysis.words)
    assert "đề nghị" not in analyse("Đề nghị sửa đèn đường.").words  # petition formula


def test_p2_a_text_typed_without_diacritics_is_read_like_the_accented_one() -> None:
    accented = analyse("Nước máy rất yếu, có ngày mất nước hoàn toàn.")
    typed = analyse("nuoc may rat yeu, co ngay mat nuoc hoan toan.")
    assert typed.bare and not accented.bare
    assert "hoàn toàn" in accented.words and "hoan toan" in typed.words  # words, not syllables
    assert "rất" not in accented.words  # a function word
    # split alike, with no restoration to get wrong (mặt nước for mất nước); a word without
    # diacritics that may be a function word or not is kept: co (có / cỏ), den (đến / đèn)
    keys = [similarity.match_key(word) for word in typed.words]
    assert [key for key in keys if key != "co"] == [
        similarity.match_key(word) for word in accented.words
    ]
    assert "den" in analyse("den duong hu het roi").words
    assert "đến" not in analyse("Đèn đường hư đến nay chưa sửa.").words


def test_p2_each_distinct_text_is_segmented_once_and_a_cache_is_used(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    calls: list[str] = []
    segment = similarity._segment
    monkeypatch.setattr(similarity, "_segment", lambda text: calls.append(text) or segment(text))
    cache: dict[str, similarity.Reading] = {}
    texts = TEXTS[:10] + TEXTS[:10]
    PetitionIndex(enumerate(texts), cache=cache)
    assert len(calls) == len(set(TEXTS[:10])) == len(cache)
    calls.clear()
    again = PetitionIndex(enumerate(texts), cache=cache)
    assert calls == []
    assert len(again) == 20


def test_p2_segmenting_in_worker_processes_reads_the_same(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(similarity, "PARALLEL_MINIMUM", 10)
    alone: dict[str, similarity.Reading] = {}
    shared: dict[str, similarity.Reading] = {}
    PetitionIndex(enumerate(TEXTS[:40]), cache=alone)
    PetitionIndex(enumerate(TEXTS[:40]), workers=2, cache=shared)
    assert shared == alone


# ---------------------------------------------------------------------------------------------
# Average link


def unit(*weights: float) -> similarity.Vector:
    norm = sum(w * w for w in weights) ** 0.5
    return array("i", range(len(weights))), array("f", (w / norm for w in weights))


def test_p2_average_link_does_not_chain_through_one_borderline_pair() -> None:
    # a and b alike, c and d alike; b and c share a little: single link would chain all four
    vectors = [unit(1, 0.1, 0, 0), unit(1, 0.4, 0, 0), unit(0, 0.4, 1, 0), unit(0, 0.1, 1, 0)]
    edges = [
        (i, j, sum(x * y for x, y in zip(vectors[i][1], vectors[j][1], strict=True)))
        for i, j in itertools.combinations(range(4), 2)
    ]
    assert average_link(vectors, edges, [frozenset()] * 4, 0.15, lambda s: s) == [[0, 1], [2, 3]]


def test_p2_average_link_never_merges_groups_naming_other_places() -> None:
    vectors = [unit(1, 0), unit(1, 0.01), unit(1, 0.02)]
    places = [frozenset({"le loi"}), frozenset(), frozenset({"ham nghi"})]
    edges = [(0, 1, 0.99), (1, 2, 0.99), (0, 2, 0.99)]
    found = average_link(vectors, edges, places, 0.5, lambda s: s)
    assert found == [[0, 1]] or found == [[1, 2]]


def test_p2_average_link_decides_on_all_pairs_not_only_the_scored_ones() -> None:
    # ten alike petitions; blocking scored only a chain of neighbours: still one group
    vectors = [unit(1, 0.05 * i) for i in range(10)]
    edges = [(i, i + 1, 0.99) for i in range(9)]
    assert average_link(vectors, edges, [frozenset()] * 10, 0.9, lambda s: s) == [list(range(10))]


# ---------------------------------------------------------------------------------------------
# C9: underthesea, lazily, segmentation only


def test_c9_underthesea_is_loaded_on_first_use_and_only_for_segmentation() -> None:
    program = """
import sys
import nlp.keywords
import nlp.similarity
assert "underthesea" not in sys.modules, "imported eagerly"
import underthesea

def banned(*args, **kwargs):
    raise AssertionError("must not be used")

for name in ("classify", "sentiment", "lang_detect", "translate", "pos_tag", "ner"):
    setattr(underthesea, name, banned)
index = nlp.similarity.PetitionIndex(
    [(1, "Đường Lê Lợi ngập sâu khi mưa lớn."), (2, "duong le loi ngap nang")]
)
assert index.similar("Ngập nước trên đường Lê Lợi.")
assert nlp.keywords.keywords(["Đường Lê Lợi ngập sâu.", "Lê Lợi ngập nước."])
"""
    result = subprocess.run(
        [sys.executable, "-c", program], capture_output=True, text=True, timeout=120
    )
    assert result.returncode == 0, result.stderr


def test_p2_an_empty_collection_and_empty_texts() -> None:
    empty: PetitionIndex[int] = PetitionIndex([])
    assert empty.groups() == [] and empty.similar("Ngập nước đường Lê Lợi.") == []
    index = PetitionIndex([(1, ""), (2, "   "), (3, "!!!")])
    assert index.groups() == [] and index.similar("") == []
    assert defaultdict  # imported for the reader's convenience in failure output
