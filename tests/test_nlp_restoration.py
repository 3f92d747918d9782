"""Q4: restoring diacritics on everyday petitions, measured on a half no tuning ever saw.

The labelled petitions (``nlp/data/petitions_gold.txt``, written as residents type) are split
once by a hash rule (``nlp/gold.py``) into a tuning half and a held-out half. The shipped table
is built from the tuning half only (checked below by rebuilding it). The confidence rule was
chosen on cross-validated calibration sentences (the tuning half and the written petition
sentences), never on a held-out set. A second, fresh held-out set (``petitions_fresh.txt``) was
written after the first held-out half's safety figure had been seen, and committed before any
rule was scored on it. A third (``petitions_fresh_2.txt``, 466 sentences) was written on
30/11/2026 by a writer who read neither the model's output nor its training text, while the
model was being improved on tuning material only, and scored once after the model was chosen.
A fourth (``petitions_fresh_3.txt``, 495 sentences, ``tests/test_nlp_fresh_sets.py``) was
written the same way on the same day, while the fourth and fifth resident batches were being
written, and scored once after the table was built (53.13 % of sentences). A fifth
(``petitions_fresh_4.txt``, 616 sentences, ``tests/test_nlp_fresh_sets.py``) was written
on 01/12/2026, while the sixth and seventh resident files and the word layer were being made,
by a writer who saw neither the model, its output nor its training text, and scored once on
01/12/2026 after the table was rebuilt: it is the fair measure now; the earlier sets have been
scored after model changes and are regression checks.

Figures printed (``pytest -s``): syllables right, whole sentences right, and the share of
offered suggestions holding a wrong syllable shown as certain (with the upper end of its
one-sided 95 % Wilson interval) of every held-out set, and of the tuning half in-sample; the
build (``python -m nlp.build_restoration``) prints the cross-validated figures of all calibration
sentences (each fold restored by a model built without it).
"""

from __future__ import annotations

import hashlib
import unicodedata
from collections.abc import Callable

import pytest

from bot.nlp_check import check_line
from nlp import build_restoration as build
from nlp import gold
from nlp.diacritics import Restoration, restore
from nlp.names import restore_name, title_case
from nlp.restoration import Model, model
from tests.near_copies import lines_of_other_files, near_copies

#: Goals of issue 11 on the held-out half.
SYLLABLES_GOAL = 0.95
SENTENCES_GOAL = 0.60
WRONG_CERTAIN_GOAL = 0.01
#: What the shipped table reaches today (a regression guard, under the goals: see below).
SYLLABLES_FLOOR = 0.92
SENTENCES_FLOOR = 0.35


def test_q4_the_split_is_fixed_by_the_hash_rule_and_has_two_real_halves() -> None:
    everything = gold.sentences()
    assert len(everything) >= 400
    assert len(set(everything)) == len(everything)
    tuning, held = gold.tuning(), gold.held_out_half()
    assert len(tuning) >= 150 and len(held) >= 150
    assert not set(tuning) & set(held)
    for sentence in everything:
        digest = hashlib.sha256(unicodedata.normalize("NFC", sentence).encode()).digest()
        assert gold.held_out(sentence) is (digest[0] % 2 == 1)


@pytest.mark.parametrize(
    ("held_out", "file"),
    [(gold.held_out_half, gold.GOLD.name), (gold.fresh_held_out, gold.FRESH.name)],
    ids=["held-out half", "first fresh set"],
)
def test_q4_no_held_out_line_is_a_near_copy_of_a_line_of_another_data_file(
    held_out: Callable[[], tuple[str, ...]], file: str
) -> None:
    """The later sets are checked in tests/test_nlp_fresh_sets.py; two lines of the held-out half
    that were near copies of training lines were taken out on 01/12/2026. Only positions in the
    held-out set are shown, never text."""
    numbered = list(enumerate(held_out(), start=1))
    assert near_copies(numbered, lines_of_other_files(file), 0.8) == []


def test_q4_the_fresh_held_out_set_is_new_text() -> None:
    fresh = gold.fresh_held_out()
    assert len(fresh) >= 150 and len(set(fresh)) == len(fresh)
    seen: set[str] = set()
    for path in sorted(gold.GOLD.parent.glob("*.txt")):
        if path != gold.FRESH:
            seen.update(line.strip().lower() for line in path.read_text("utf-8").splitlines())
    assert not {sentence.lower() for sentence in fresh} & seen


def test_q4_the_shipped_table_is_built_from_the_tuning_half_only(
    counted_restoration_model: Model,
) -> None:
    shipped = counted_restoration_model
    assert shipped.meta["tuning_sentences"] == len(gold.tuning())
    digest = hashlib.sha256("\n".join(gold.tuning()).encode("utf-8")).hexdigest()
    assert shipped.meta["tuning_digest"] == digest
    # Rebuilt from its sources with its weights, the table has the same trigrams: no held-out
    # sentence went in.
    weights = build.Weights(**shipped.meta["weights"])  # type: ignore[arg-type]
    rebuilt = build.combine(weights, gold.tuning())
    assert set(rebuilt.tri) == set(shipped.lm._tri)
    assert set(rebuilt.quad) == set(shipped.lm._quad)
    # And each held-out set would have added trigrams: combine() with it among the petitions
    # has the rebuilt table's trigrams and the set's own (added with the gold weight), so the
    # set's own trigrams are counted alone rather than the whole table three more times.
    assert weights.gold > 0
    for held_out in (
        gold.held_out_half(),
        gold.fresh_held_out(),
        gold.second_fresh_held_out(),
        gold.third_fresh_held_out(),
        gold.fourth_fresh_held_out(),
    ):
        assert set(build._counts(held_out, padded=True).tri) - set(shipped.lm._tri)


Figures = dict[str, tuple[float, float, build.Safety]]


@pytest.fixture(scope="module")
def figures() -> Figures:
    shipped = model()
    params = shipped.params
    out: Figures = {}
    for name, texts in (
        ("held-out", gold.held_out_half()),
        ("fresh held-out", gold.fresh_held_out()),
        ("second fresh held-out", gold.second_fresh_held_out()),
        ("third fresh held-out", gold.third_fresh_held_out()),
        ("fourth fresh held-out", gold.fourth_fresh_held_out()),
    ):
        scored = build.score(shipped, texts)
        out[name] = (*build.accuracy(scored), build.safety(scored, params, shipped.safe))
    # The cross-validated figures of the calibration sentences (the tuning half and the
    # written petitions, each fold restored by a table built without it) are the build's:
    # `python -m nlp.build_restoration` prints them. Here the held-out sets are judged, and the
    # tuning half in-sample beside them; restoring the folds again took a third of this
    # module's time and was printed, never checked.
    seen = build.score(shipped, gold.tuning())
    out["tuning, in-sample"] = (*build.accuracy(seen), build.safety(seen, params, shipped.safe))
    lines = [
        f"{'':<26}{'syllables':>10}{'sentences':>11}{'offered':>10}{'wrong+certain':>15}"
        f"{'(95 % upper)':>13}{'words to confirm':>18}"
    ]
    for name, (syllables, sentences, rule) in out.items():
        lines.append(
            f"{name:<26}{syllables:>10.2%}{sentences:>11.2%}"
            f"{rule.suggestions:>6}/{rule.suggestions + rule.below_floor:<3}"
            f"{rule.wrong_certain_share:>15.2%}{rule.wrong_certain_upper:>13.2%}"
            f"{rule.uncertain_words:>9}/{rule.words:<8}"
        )
    lines.append(
        f"goals (held-out sets): syllables >= {SYLLABLES_GOAL:.0%}, sentences >= "
        f"{SENTENCES_GOAL:.0%}, wrong+certain <= {WRONG_CERTAIN_GOAL:.0%}, suggestions offered"
    )
    print("\nQ4 restoration of everyday petitions typed without diacritics\n" + "\n".join(lines))
    print(f"confidence rule (chosen on the calibration folds): {params}")
    print(f"safe classes: {'all' if shipped.safe is None else len(shipped.safe)}")
    return out


def test_q4_held_out_restoration_keeps_its_level(
    figures: Figures,
    record_property: Callable[[str, object], None],
) -> None:
    syllables, sentences, _ = figures["held-out"]
    record_property("q4_held_out_syllables", round(syllables, 4))
    record_property("q4_held_out_sentences", round(sentences, 4))
    assert syllables >= SYLLABLES_FLOOR
    assert sentences >= SENTENCES_FLOOR


def test_q4_held_out_restoration_reaches_the_goal(
    figures: Figures,
) -> None:
    syllables, sentences, _ = figures["held-out"]
    assert syllables >= SYLLABLES_GOAL
    assert sentences >= SENTENCES_GOAL


@pytest.mark.parametrize(
    ("name", "least"),
    [
        ("held-out", 30),
        ("fresh held-out", 24),
        ("second fresh held-out", 50),
        ("third fresh held-out", 50),
        ("fourth fresh held-out", 50),
    ],
)
def test_q4_held_out_rule_still_offers_suggestions(figures: Figures, name: str, least: int) -> None:
    _, _, rule = figures[name]
    assert rule.suggestions >= least  # the rule offers suggestions, not only refusals


@pytest.mark.parametrize(
    "name",
    [
        "held-out",
        # 1 of 100 suggestions (1.00 %, at the goal) on the first fresh set with the table of
        # 01/12/2026; it was 1 of 94 (1.06 %) with the table before.
        "fresh held-out",
        "second fresh held-out",
        "third fresh held-out",
        "fourth fresh held-out",
    ],
)
def test_q4_held_out_suggestions_show_no_wrong_syllable_as_certain(
    figures: Figures,
    record_property: Callable[[str, object], None],
    name: str,
) -> None:
    _, _, rule = figures[name]
    record_property(f"q4_{name.replace(' ', '_')}_wrong_certain", rule.wrong_certain_share)
    assert rule.wrong_certain_share <= WRONG_CERTAIN_GOAL


def test_q4_fresh_held_out_syllables_reach_the_goal(
    figures: Figures,
    record_property: Callable[[str, object], None],
) -> None:
    syllables, sentences, _ = figures["fresh held-out"]
    record_property("q4_fresh_held_out_syllables", round(syllables, 4))
    record_property("q4_fresh_held_out_sentences", round(sentences, 4))
    assert syllables >= SYLLABLES_GOAL


def test_q4_fresh_held_out_sentences_reach_the_goal(figures: Figures) -> None:
    """Reached (63.24 %) with the fourth and fifth resident batches, but this set has been
    scored after every model change since it was written: it is a regression check now, not a
    fair measure of unseen text (the third fresh set is)."""
    _, sentences, _ = figures["fresh held-out"]
    assert sentences >= SENTENCES_GOAL


def test_q4_second_fresh_held_out_syllables_reach_the_goal(
    figures: Figures,
    record_property: Callable[[str, object], None],
) -> None:
    """The set written on 30/11/2026 by a writer who saw neither the model, its output nor its
    training text (nlp/data/petitions_fresh_2.txt), scored once after the model was chosen."""
    syllables, sentences, _ = figures["second fresh held-out"]
    record_property("q4_second_fresh_syllables", round(syllables, 4))
    record_property("q4_second_fresh_sentences", round(sentences, 4))
    assert syllables >= SYLLABLES_GOAL


def test_q4_second_fresh_held_out_sentences_reach_the_goal(figures: Figures) -> None:
    """49.57 % of 466 sentences when first scored; 59.66 % with the fourth and fifth resident
    batches (whose writers were given confusable pairs that included some of this set's
    errors); 66.31 % with the sixth and seventh and the word layer. A regression check now."""
    _, sentences, _ = figures["second fresh held-out"]
    assert sentences >= SENTENCES_GOAL


def test_q4_every_restored_word_carries_a_confidence() -> None:
    restored = restore("Duong Le Loi bi ngap sau moi khi mua lon, de nghi phuong nao vet cong.")
    assert isinstance(restored, Restoration)
    assert restored.text.startswith("Đường Lê Lợi bị ngập")
    for word in restored.words:
        assert 0.0 < word.confidence <= 1.0
        assert word.best == word.alternatives[0]
        assert word.uncertain == model().uncertain(
            word.typed, word.confidence, len(word.alternatives)
        )
        if word.confidence < model().params.uncertain_below and len(word.alternatives) > 1:
            assert word.uncertain
    again = Restoration.from_dict(restored.to_dict())
    assert again == restored
    assert again.with_choices({0: "ĐƯỜNG"}).startswith("ĐƯỜNG Lê Lợi")


def test_q4_keystrokes_read_back_are_certain_and_abbreviations_keep_their_d() -> None:
    telex = restore("ddeef nghij suwra chuwax ddwowngf")
    assert telex is not None and telex.text == "đề nghị sửa chữa đường"
    assert not telex.uncertain
    abbreviated = restore("nha toi k dc sua den duong")
    assert abbreviated is not None and " đc " in abbreviated.text


def test_q4_names_are_stored_in_title_case() -> None:
    assert title_case("nguyễn  văn AN") == "Nguyễn Văn An"
    assert title_case("ĐẶNG thị   bích") == "Đặng Thị Bích"


@pytest.mark.parametrize(
    ("typed", "expected"),
    [
        ("nguyen van an", "Nguyễn Văn An"),
        ("tran thi mai", "Trần Thị Mai"),
        ("le minh tuan", "Lê Minh Tuấn"),
        ("dang van binh", "Đặng Văn Bình"),
        ("vo thi lan", "Võ Thị Lan"),
        ("do quoc viet", "Đỗ Quốc Việt"),
    ],
)
def test_q4_a_name_without_diacritics_gets_its_likely_reading(typed: str, expected: str) -> None:
    restored = restore_name(typed)
    assert restored is not None and restored.offered
    assert restored.text == expected
    assert not restored.uncertain


def test_q4_an_ambiguous_given_name_is_uncertain_and_names_with_marks_are_left_alone() -> None:
    restored = restore_name("nguyen van hung")
    assert restored is not None
    hung = restored.words[-1]
    assert hung.uncertain and {"Hùng", "Hưng"} <= set(hung.alternatives)
    assert restore_name("Nguyễn Văn Hùng") is None
    assert restore_name("John Smith") is None


def test_q4_check_line_gives_verdict_refusal_suggestion_and_uncertain_words() -> None:
    accented = check_line("Đèn đường trước nhà tôi bị hỏng đã một tuần nay.")
    assert accented == {"verdict": "ok", "refused": False, "suggestion": None, "uncertain": []}
    stripped = check_line("Duong Le Loi bi ngap sau moi khi mua lon, de nghi phuong nao vet cong.")
    assert stripped["verdict"] == "no_diacritics" and stripped["refused"] is True
    assert str(stripped["suggestion"]).startswith("Đường Lê Lợi")
    restored = restore("Duong Le Loi bi ngap sau moi khi mua lon, de nghi phuong nao vet cong.")
    assert restored is not None
    assert stripped["uncertain"] == [word.best for word in restored.uncertain]
    low = check_line("ban ban ban ban ban ban ban ban ban ban")
    assert low["refused"] is True and low["suggestion"] is None and low["uncertain"] == []


def test_q4_numbers_shorthand_and_unit_abbreviations_are_context_and_stay_as_typed() -> None:
    restored = restore("nha em o hem 45/7, P.7 Q.3 cu, k co den duong")
    assert restored is not None
    assert restored.text == "nhà em ở hẻm 45/7, P.7 Q.3 cũ, k có đèn đường"
    typed = {word.typed for word in restored.words}
    assert not typed & {"45", "7", "P", "Q", "3", "k"}
    # A dot after P./Q./TP does not end the clause: the ward word is read as its context.
    ward = restore("nha toi o P. Tan Dinh, TP.HCM")
    assert ward is not None and ward.text == "nhà tôi ở P. Tân Định, TP.HCM"
    shorthand = restore("em dk tam tru ma ko dc")
    assert shorthand is not None and shorthand.text == "em đk tạm trú mà ko đc"


def test_q4_cross_validation_sorts_errors_into_classes() -> None:
    from nlp.restoration import Counts
    from nlp.restoration_cv import error_classes

    counts = Counts()
    counts.add_run(["đèn", "đường", "hỏng"])
    counts.add_run(["mấy", "hôm"])
    counts.add_run(["ở", "lê", "lợi"])
    scored = [
        # đèn -> đến: a short function word; hỏng -> hông: a pair the table has (context).
        build.Scored("đèn đường hỏng", "đến đường hông", [], fold=0),
        # ngập: never in the table; mấy after ngập: an unseen pair; Lợi: a name.
        build.Scored("ngập mấy hôm ở Lê Lợi", "ngấp máy hôm ở Lê Lối", [], fold=0),
    ]
    classes, confusions = error_classes(scored, [counts])
    assert classes == {"function": 1, "context": 1, "unknown": 1, "name": 1, "unseen pair": 1}
    assert confusions[("den", "đèn", "đến")] == 1
    assert confusions[("may", "mấy", "máy")] == 1


def test_q4_fold_counts_equal_each_fold_rebuilt_from_scratch(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The cross-validation's fold tables (``fold_counts``: shared sources added once, each
    sentence read once) are ``combine``'s without the fold, value for value and in the same
    order (the language model sums its contexts in that order), on a small corpus with every
    source and uneven weights."""
    listed = ["phường Bến Nghé", "đường Lê Lợi", "ngập nước"]
    running = ["Đèn đường hỏng mấy hôm nay, 2 lần rồi.", "Cống ở hẻm 12 bị nghẹt."]
    names = ("vlsp", "words", "places", "streets", "catalogue", "vocabulary", "phrases")
    small = {
        name: build._counts(
            running if name in ("vlsp", "catalogue") else listed,
            padded=name in ("vlsp", "catalogue"),
        )
        for name in names
    }
    small["petitions"] = build._counts(["không dùng"], padded=True)
    monkeypatch.setattr(build, "sources", lambda: small)
    tuning = [f"Đèn đường số {n} hỏng, xin sửa giúp ở phường Bến Thành {n}." for n in range(12)]
    written = [f"Nước ngập đường Lê Lợi {n} mấy hôm, hẻm {n} cũng ngập." for n in range(20)]
    written += ["Rác để ở đầu hẻm không ai dọn.", "Cây đổ chắn lối đi sau mưa."]
    weights = build.Weights(vlsp=0.3, words=0.07, gold=1.3, petitions=2.7, vlsp_unigram=0.4)
    folds = list(build.fold_counts(weights, tuning, written))
    assert len(folds) == build.FOLDS
    assert {build.fold(s) for s in [*tuning, *written]} == set(range(build.FOLDS))
    for k, counts in enumerate(folds):
        rebuilt = build.combine(
            weights,
            [s for s in tuning if build.fold(s) != k],
            [s for s in written if build.fold(s) != k],
        )
        for table in ("uni", "bi", "tri", "quad"):
            assert list(getattr(counts, table).items()) == list(getattr(rebuilt, table).items())


def test_q4_cross_validation_restores_each_calibration_sentence_once_without_its_fold(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """``cross_validated`` (what the build tunes the confidence rule on): every sentence of
    the tuning half and of the written sentences restored once per temperature, by the table
    of the folds it is not in; ``cross_fitted`` gives each fold the safe classes of the others
    only. On a small corpus: the whole calibration set is the build's to restore."""
    listed = ["phường Bến Nghé", "đường Lê Lợi", "ngập nước", "đến nhà", "máy bơm", "sữa", "hông"]
    names = ("vlsp", "words", "places", "streets", "catalogue", "vocabulary", "phrases")
    small = {name: build._counts(listed, padded=False) for name in names}
    small["petitions"] = build._counts(["không dùng"], padded=True)
    tuning = ["Đèn hỏng mấy hôm.", "Máy bơm hỏng rồi.", "Đến nhà văn hoá.", "Sửa đèn giúp."]
    tuning += ["Hết sữa rồi.", "Mấy cái máy hỏng.", "Đèn đường tắt.", "Đến giờ chưa sửa."]
    written = ["Nước ngập mấy hôm.", "Máy bơm ngập nước.", "Hông có ai đến.", "Sữa hỏng rồi."]
    written += ["Cống nghẹt mấy tuần.", "Đèn hông sáng."]
    monkeypatch.setattr(build, "sources", lambda: small)
    monkeypatch.setattr(build.gold, "tuning", lambda: tuning)
    monkeypatch.setattr(build, "written_sentences", lambda: written)
    weights = build.Weights(vlsp=0.3, words=0.07, gold=1.3, petitions=2.7, vlsp_unigram=0.4)
    scored = build.cross_validated(weights, (1.0, 2.0))
    assert set(scored) == {1.0, 2.0}
    for items in scored.values():
        assert sorted(item.sentence for item in items) == sorted([*tuning, *written])
        for item in items:
            assert item.fold == build.fold(item.sentence)
            assert item.gold == (item.sentence in tuning)
    counts = build.class_counts(scored[1.0], threshold=0.0)
    assert len(counts) > 1 and all(counts.values())  # ambiguous words in every fold
    safe = build.cross_fitted(counts, bound=0.99)
    assert set(safe) == set(counts)
    for k, classes in safe.items():
        others = {typed for j, table in counts.items() if j != k for typed in table}
        assert classes is not None and classes <= others
        # The fold's own errors never decide its safe classes.
        all_wrong = {**counts, k: {typed: (seen, seen) for typed, (seen, _) in counts[k].items()}}
        assert build.cross_fitted(all_wrong, bound=0.99)[k] == classes
    only_in_one = [
        (k, typed)
        for k, table in counts.items()
        for typed in table
        if not any(typed in other for j, other in counts.items() if j != k)
    ]
    assert only_in_one and all(typed not in safe[k] for k, typed in only_in_one)  # type: ignore[operator]


def test_q4_third_fresh_held_out_syllables_reach_the_goal(
    figures: Figures,
    record_property: Callable[[str, object], None],
) -> None:
    """The set written on 30/11/2026 by a writer who saw neither the model, its output nor its
    training text (nlp/data/petitions_fresh_3.txt, 495 sentences), while the fourth and fifth
    resident batches were written; scored once, after the model was chosen and built."""
    syllables, sentences, _ = figures["third fresh held-out"]
    record_property("q4_third_fresh_syllables", round(syllables, 4))
    record_property("q4_third_fresh_sentences", round(sentences, 4))
    assert syllables >= SYLLABLES_GOAL


def test_q4_third_fresh_held_out_sentences_reach_the_goal(figures: Figures) -> None:
    """Scored once on 30/11/2026 after its model was built: 53.13 % of 495 sentences (95.96 %
    of syllables; 1 of 195 suggestions, 0.51 %, with a wrong syllable shown as certain). With the
    table of 01/12/2026 61.01 %; a regression check now, the fifth set is the fair measure."""
    _, sentences, _ = figures["third fresh held-out"]
    assert sentences >= SENTENCES_GOAL


def test_q4_fourth_fresh_held_out_syllables_reach_the_goal(
    figures: Figures,
    record_property: Callable[[str, object], None],
) -> None:
    """The fifth held-out set (nlp/data/petitions_fresh_4.txt, 616 sentences, all 34
    provinces), written on 01/12/2026 by a writer who saw neither the model, its output nor its
    training text, while the sixth and seventh resident files and the word layer were made;
    scored once, on 01/12/2026, after the table was rebuilt: 96.87 % of syllables, 66.23 % of
    sentences, 2 of 397 suggestions (0.50 %) with a wrong syllable shown as certain."""
    syllables, sentences, _ = figures["fourth fresh held-out"]
    record_property("q4_fourth_fresh_syllables", round(syllables, 4))
    record_property("q4_fourth_fresh_sentences", round(sentences, 4))
    assert syllables >= SYLLABLES_GOAL


def test_q4_fourth_fresh_held_out_sentences_reach_the_goal(figures: Figures) -> None:
    _, sentences, _ = figures["fourth fresh held-out"]
    assert sentences >= SENTENCES_GOAL
