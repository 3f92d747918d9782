"""Q4: is a text Vietnamese written with its diacritics? And if not, what was meant?

``judge`` reads every word of a text against the syllable inventory (``nlp.syllables``):
accented syllables, plain words that are syllables as typed (``ban``, ``con``), stripped words
that only an accented syllable explains (``nguoi``), raw Telex (``ddwowngf``), raw VNI
(``d9u7o7ng2``), and the rest (foreign words, names, codes). Plain words are weighed in
context: a syllable-bigram Viterbi pass decides whether ``ban`` is meant as ``bạn``. The
verdict comes from those counts. ``suggest`` returns the restored text (Telex/VNI read back,
stripped syllables restored by the same Viterbi pass) for the resident to accept or not: it is
never applied silently.
"""

from __future__ import annotations

import itertools
import re
import unicodedata
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from enum import Enum, auto
from functools import lru_cache
from typing import Any

import numpy as np

from nlp import lattice, restoration, syllables, word_layer
from nlp.diacritics_results import (  # what judge and restore return, named here too
    REFUSALS,
    DiacriticsReport,
    Restoration,
    RestoredWord,
    Verdict,
)
from nlp.keystrokes import from_telex, from_vni
from nlp.orthography import (
    VOWELS,
    has_vietnamese_marks,
    split_letter,
    strip_vietnamese,
)
from nlp.syllables import END, START, Inventory
from nlp.text import normalise

__all__ = [
    "REFUSALS",
    "DiacriticsReport",
    "Restoration",
    "RestoredWord",
    "Verdict",
    "judge",
    "judge_and_restore",
    "restore",
    "suggest",
]

#: Fewer words than this (numbers, punctuation, emoji not counted) is too short to judge.
MIN_WORDS = 3


class _Kind(Enum):
    MARKED = auto()  # an accented syllable
    PLAIN = auto()  # a syllable as typed, no marks (ban, con): may or may not lack them
    STRIPPED = auto()  # no syllable as typed, but accented syllables strip to it (nguoi)
    PARTIAL = auto()  # some marks, not all (đuong)
    TELEX = auto()
    VNI = auto()
    FOREIGN = auto()
    SKIP = auto()  # numbers, codes, acronyms


_TOKENS = re.compile(
    r"(?P<skip>(?:https?://|www\.)\S+"
    r"|[\w.+-]+@[\w-]+(?:\.[\w-]+)+"
    r"|[\w-]+(?:\.[\w-]+)*\.(?:vn|com|net|org|gov|edu|info|io|me)\b(?:/\S*)?)"
    r"|(?P<word>[^\W_]+(?:['’][^\W_]+)*)"
)
_SENTENCE_END = frozenset(".!?…:\n")
_OPENERS = frozenset("\"'“”‘’«»([{-–—•*>")
_NO_SPACE_SCRIPTS = (
    (0x0E00, 0x0EFF),  # Thai, Lao
    (0x1780, 0x17FF),  # Khmer
    (0x2E80, 0x9FFF),  # CJK, kana
    (0xF900, 0xFAFF),
)
#: Weight of a Telex word too short to tell from English (``is``, ``as``, ``of``).
_WEAK_TELEX = 0.25


@dataclass(slots=True)
class _Token:
    start: int
    end: int
    text: str
    kind: _Kind
    #: Lower-case canonical reading for MARKED/TELEX/VNI; candidates for PLAIN/STRIPPED/PARTIAL.
    readings: tuple[str, ...]
    weight: float = 1.0
    name: bool = False
    acronym: bool = False
    #: Inside a sentence: True when capitalised, False when lower case; None when it tells
    #: nothing (first word of a sentence, ALL CAPS, Title Case text).
    capital: bool | None = None
    #: True when something other than spaces separates this token from the previous one.
    breaks: bool = True
    #: For a number or an abbreviation: the syllables it stands for, as context for the
    #: restoration of its neighbours (``restoration.CONTEXT_WORDS``); () for the rest of a
    #: number already read (``45/7``). None for every other token.
    context: tuple[str, ...] | None = None


def _no_space_script(char: str) -> bool:
    code = ord(char)
    return any(low <= code <= high for low, high in _NO_SPACE_SCRIPTS)


@lru_cache(maxsize=4096)
def _latin(char: str) -> bool:
    return not char.isalpha() or unicodedata.name(char, "").startswith("LATIN")


def _consistent(typed: str, candidate: str) -> bool:
    """Whether an accented candidate keeps every mark that was typed (``đuong`` ~ ``đường``)."""
    if len(typed) != len(candidate):
        return False
    for mine, theirs in zip(typed, candidate, strict=True):
        base, tone = split_letter(mine)
        their_base, their_tone = split_letter(theirs)
        if tone and tone != their_tone:
            return False
        if base != strip_vietnamese(base) and base != their_base:
            return False
    return True


#: Chat shorthand of Vietnamese (không, được, đăng ký, người, nước, với, mọi người): neither
#: syllables nor foreign words; left out of the verdict like numbers.
SHORTHAND = frozenset(
    {"k", "ko", "kh", "hok", "khg", "dc", "đc", "dk", "đk", "ng", "nc", "vs", "mn"}
)


def _classify(word: str, inv: Inventory) -> tuple[_Kind, tuple[str, ...], float]:
    """The kind of one word, its readings, and its weight as evidence.

    A plain word reads as Telex only when the Telex reading is likelier than any stripped
    reading (``khoong`` is ``không``; ``boong`` would be ``bông``).
    """
    lower = word.lower()
    if lower in SHORTHAND:
        return _Kind.SKIP, (), 0.0
    if any(char.isdigit() for char in lower):
        reading = from_vni(lower) if any(char.isalpha() for char in lower) else None
        if reading and reading in inv:
            return _Kind.VNI, (reading,), 1.0
        return _Kind.SKIP, (), 0.0
    if lower.isascii():
        options = inv.candidates(lower)
        reading = from_telex(lower)
        if (
            reading
            and reading in inv
            and inv.count(reading) > max(map(inv.count, options[:1]), default=0)
        ):
            return _Kind.TELEX, (reading,), 1.0 if len(lower) > 2 else _WEAK_TELEX
        if lower in inv:
            return _Kind.PLAIN, options, 1.0
        if options:
            return _Kind.STRIPPED, options, 1.0
        return _Kind.FOREIGN, (), 1.0
    if any(_no_space_script(char) for char in lower):
        return _Kind.FOREIGN, (), float(len(lower))
    if not all(_latin(char) for char in lower):
        return _Kind.FOREIGN, (), 1.0
    reading = syllables.canonical(lower)
    if reading is not None and has_vietnamese_marks(lower):
        return _Kind.MARKED, (reading,), 1.0
    options = tuple(c for c in inv.candidates(strip_vietnamese(lower)) if _consistent(lower, c))
    if options:
        return _Kind.PARTIAL, options, 1.0
    if not any(split_letter(char)[0] in VOWELS for char in lower):
        return _Kind.SKIP, (), 0.0
    return _Kind.FOREIGN, (), 1.0


def _sentence_initial(text: str, start: int) -> bool:
    index = start - 1
    while index >= 0 and (text[index] == " " or text[index] in _OPENERS):
        index -= 1
    return index < 0 or text[index] in _SENTENCE_END


def _context(
    word: str, kind: _Kind, previous: _Token | None, gap: str
) -> tuple[tuple[str, ...] | None, bool]:
    """What a number or an abbreviation stands for as context (see ``_Token.context``), and
    whether the gap before the token still breaks the run (a dot after ``P`` does not)."""
    lower = word.lower()
    after_unit = (
        previous is not None
        and gap.strip(" ") == "."
        and previous.text.lower() in restoration.UNIT_ABBREVIATIONS
    )
    if kind is _Kind.SKIP and word.isdigit():
        if (
            previous is not None
            and previous.context is not None
            and previous.text.isdigit()
            and gap in {"/", ".", ",", ":"}
        ):
            return (), False
        return (restoration.NUMBER,), not after_unit and bool(gap.strip(" "))
    if lower in restoration.CONTEXT_WORDS:
        return restoration.CONTEXT_WORDS[lower], bool(gap.strip(" "))
    return None, not after_unit and bool(gap.strip(" "))


def _tokenise(text: str, inv: Inventory) -> list[_Token]:
    tokens: list[_Token] = []
    last_end = 0
    for match in _TOKENS.finditer(text):
        gap = text[last_end : match.start()]
        breaks = not tokens or bool(gap.strip(" "))
        last_end = match.end()
        if match.group("skip"):
            tokens.append(_Token(match.start(), match.end(), match.group(), _Kind.SKIP, (), 0.0))
            continue
        word = match.group()
        kind, readings, weight = _classify(word, inv)
        context, joined_breaks = _context(word, kind, tokens[-1] if tokens else None, gap)
        if tokens:
            breaks = joined_breaks
        tokens.append(
            _Token(
                match.start(),
                match.end(),
                word,
                kind,
                readings,
                weight,
                breaks=breaks,
                context=context,
            )
        )
    _mark_names(text, tokens)
    return tokens


def _mark_names(text: str, tokens: list[_Token]) -> None:
    """Capitalised words inside a sentence, and acronyms, are names: left out of the verdict.

    Unless most words are capitalised (Title Case or ALL CAPS text): then none is, and case
    tells nothing about any word.
    """
    words = [t for t in tokens if t.kind is not _Kind.SKIP]
    capitalised = [t for t in words if t.text[:1].isupper()]
    if len(capitalised) * 5 >= len(words) * 4:
        return
    for token in words:
        if token.kind is _Kind.MARKED:
            continue
        token.acronym = len(token.text) > 1 and token.text.isupper()
        if token.acronym:
            token.name = True
        elif not _sentence_initial(text, token.start):
            token.capital = token.text[:1].isupper()
            token.name = token.capital


def _chains(tokens: Sequence[_Token], kinds: frozenset[_Kind]) -> list[list[_Token]]:
    chains: list[list[_Token]] = []
    chain: list[_Token] = []
    for token in tokens:
        if token.kind in kinds and not token.name and token.readings:
            if token.breaks and chain:
                chains.append(chain)
                chain = []
            chain.append(token)
        elif chain:
            chains.append(chain)
            chain = []
    if chain:
        chains.append(chain)
    return chains


#: Candidates kept per position in the Viterbi pass (the most frequent ones).
_BEAM = 12


def _viterbi(
    positions: Sequence[tuple[tuple[str, ...], dict[str, float]]], inv: Inventory
) -> list[str]:
    """The most likely syllable sequence: bigram LM plus a per-candidate bonus (log).

    Every pair of neighbouring candidates is weighed at once (``lattice.InventoryTables``);
    ties go to the earlier candidate, as with ``max``."""
    table = lattice.inventory_tables(inv)
    ids = [[table.id_of(START)]]
    ids += [[table.id_of(option) for option in options] for options, _ in positions]
    ids.append([table.id_of(END)])
    logs = table.log_bigrams(list(itertools.pairwise(ids)))
    scores = np.zeros(1)
    back: list[Any] = []
    for (options, bonus), log in zip(positions, logs, strict=False):
        total = scores[:, None] + log
        best = total.argmax(axis=0)
        scores = total[best, np.arange(len(options))]
        if bonus:
            scores = scores + np.array([bonus.get(option, 0.0) for option in options])
        back.append(best)
    index = int((scores + logs[-1][:, 0]).argmax())
    path = [positions[-1][0][index]]
    for step, (options, _) in zip(reversed(back[1:]), reversed(positions[:-1]), strict=True):
        index = int(step[index])
        path.append(options[index])
    return path[::-1]


#: Log-bonus for keeping a plain word as typed when judging (writers who use marks mean it).
KEEP_BONUS = 1.0


def _restore(chain: Sequence[_Token], inv: Inventory, keep_bonus: float) -> list[str]:
    positions: list[tuple[tuple[str, ...], dict[str, float]]] = []
    for token in chain:
        options = token.readings[:_BEAM]
        lower = token.text.lower()
        if token.kind is _Kind.PLAIN and lower not in options:
            options = (lower, *options)
        bonus = {
            option: (keep_bonus if option == lower else 0.0)
            + (0.0 if token.capital is None else inv.log_case(option, token.capital))
            for option in options
        }
        positions.append((options, bonus))
    return _viterbi(positions, inv)


_JUDGED = frozenset({_Kind.MARKED, _Kind.PLAIN, _Kind.STRIPPED, _Kind.PARTIAL})


def _pair_fit(path: Sequence[str], inv: Inventory) -> list[float]:
    """How much more likely each syllable is after its left neighbour than on its own (log)."""
    return [inv.log_bigram(a, b) - inv.log_unigram(b) for a, b in itertools.pairwise(path)]


def _report(tokens: Sequence[_Token], inv: Inventory) -> DiacriticsReport:
    counted = [t for t in tokens if t.kind is not _Kind.SKIP]
    marked = sum(1 for t in counted if t.kind is _Kind.MARKED)
    if not marked:
        # Names are spared for the sake of accented text; with no mark anywhere they are
        # words like the others (Toi la Nguyen Van Binh).
        for token in counted:
            token.name = token.acronym
    # Keystrokes give themselves away even in a capitalised word (Vieetj Nam).
    keyed = [t for t in counted if t.kind in {_Kind.TELEX, _Kind.VNI}]
    judged = [t for t in counted if not t.name and t.kind not in {_Kind.TELEX, _Kind.VNI}]
    kinds = Counter(t.kind for t in judged)
    lacking = kinds[_Kind.STRIPPED] + kinds[_Kind.PARTIAL]
    fits: list[float] = []
    for chain in _chains(tokens, _JUDGED):
        if marked and not any(t.kind is _Kind.PLAIN for t in chain):
            continue
        restored = _restore(chain, inv, KEEP_BONUS if marked else 0.0)
        fits += _pair_fit(restored, inv)
        lacking += sum(
            1
            for token, choice in zip(chain, restored, strict=True)
            if token.kind is _Kind.PLAIN and choice != token.text.lower()
        )
    facts = _Facts(
        words=round(sum(t.weight if t.kind is _Kind.FOREIGN else 1 for t in counted)),
        syllables=sum(kinds[k] for k in _JUDGED) + len(keyed),
        marked=marked,
        lacking=lacking,
        telex=sum(1 for t in keyed if t.kind is _Kind.TELEX),
        telex_weight=sum(t.weight for t in keyed if t.kind is _Kind.TELEX),
        vni=sum(1 for t in keyed if t.kind is _Kind.VNI),
        foreign=sum(t.weight for t in judged if t.kind is _Kind.FOREIGN),
        fit=sum(fits) / len(fits) if fits else None,
    )
    return DiacriticsReport(
        verdict=_decide(facts),
        words=facts.words,
        syllables=facts.syllables,
        marked=marked,
        lacking=lacking,
        telex=facts.telex,
        vni=facts.vni,
        foreign=round(facts.foreign),
        names=sum(1 for t in counted if t.name),
        fit=facts.fit,
    )


@dataclass(frozen=True, slots=True)
class _Facts:
    words: int
    syllables: int
    marked: int
    lacking: int
    telex: int
    telex_weight: float
    vni: int
    foreign: float
    fit: float | None


#: Raw keystrokes: at least this many words, and this share of the evidence.
KEYED_MIN = 2
KEYED_SHARE = 0.2
#: Not Vietnamese when foreign words make this share of the evidence (and few are marked).
FOREIGN_SHARE = 0.4
MARKED_SHARE_OF_VIETNAMESE = 0.3
#: Without any mark: refused as stripped when this share of the syllables lacks marks.
STRIPPED_SHARE = 0.3
#: With some marks: refused as partly stripped when this share of the words that need marks
#: lacks them (and at least two do).
PARTLY_SHARE = 0.2
#: Mean bigram fit (log ratio) under which plain words among foreign ones (at least this
#: share of the evidence) are no Vietnamese.
FIT_MIN = 0.25
FEW_FOREIGN_SHARE = 0.25


def _decide(facts: _Facts) -> Verdict:
    if facts.words < MIN_WORDS:
        return Verdict.TOO_SHORT
    evidence = facts.syllables + facts.foreign
    if evidence == 0:
        return Verdict.OK
    keyed_floor = max(KEYED_MIN, KEYED_SHARE * evidence)
    if facts.vni >= keyed_floor and facts.vni > facts.marked:
        return Verdict.VNI
    if facts.telex_weight >= keyed_floor and facts.telex_weight > facts.marked + facts.foreign:
        return Verdict.TELEX
    # Not typed with keystrokes: words that only read as keystrokes (is, as, has) are foreign.
    foreign = facts.foreign + facts.telex + facts.vni
    if foreign >= FOREIGN_SHARE * evidence and facts.marked < MARKED_SHARE_OF_VIETNAMESE * evidence:
        return Verdict.NOT_VIETNAMESE
    if facts.marked:
        needing = facts.lacking + facts.marked
        if facts.lacking >= 2 and facts.lacking >= PARTLY_SHARE * needing:
            return Verdict.PARTLY_WITHOUT
        return Verdict.OK
    if foreign >= FEW_FOREIGN_SHARE * evidence and (facts.fit is None or facts.fit < FIT_MIN):
        return Verdict.NOT_VIETNAMESE  # a few plain words among foreign ones: "on the road"
    if facts.lacking >= 2 and facts.lacking >= STRIPPED_SHARE * facts.syllables:
        return Verdict.NO_DIACRITICS
    if foreign > facts.syllables:
        return Verdict.NOT_VIETNAMESE
    return Verdict.OK


def judge(text: str, *, inventory: Inventory | None = None) -> DiacriticsReport:
    """Judge whether a text is Vietnamese written with diacritics (Q4).

    ``inventory`` replaces the shipped one (tests hold sentences out of it).
    """
    inv = inventory or syllables.inventory()
    return _report(_tokenise(normalise(text), inv), inv)


def _recase(typed: str, reading: str) -> str:
    if len(typed) > 1 and typed.isupper():
        return reading.upper()
    if typed[:1].isupper():
        return reading[:1].upper() + reading[1:]
    return reading


_KEYED = {
    Verdict.TELEX: frozenset({_Kind.TELEX}),
    Verdict.VNI: frozenset({_Kind.VNI}),
    Verdict.TOO_SHORT: frozenset({_Kind.TELEX, _Kind.VNI}),
}

#: Chat abbreviations whose đ a stripped text lost: ``dc`` is ``đc`` (được), ``dk`` ``đk``.
ABBREVIATIONS = {"dc": "đc", "dk": "đk"}
#: Alternatives offered for an uncertain word (the best one included).
ALTERNATIVES = 4
#: Candidates per word given to the restoration model (the most frequent ones).
_CANDIDATES = 16


def _edges(tokens: Sequence[_Token], chain: Sequence[_Token]) -> tuple[bool, bool]:
    """Whether a chain starts and ends at punctuation or the text's edge (not at a word)."""
    first = tokens.index(chain[0])
    last = tokens.index(chain[-1])
    starts = first == 0 or chain[0].breaks
    ends = last == len(tokens) - 1 or tokens[last + 1].breaks
    return starts, ends


def _restore_chains(tokens: Sequence[_Token]) -> list[list[_Token]]:
    """Runs of words to restore together: the judged kinds, with numbers and abbreviations
    inside them as context (``_Token.context``); runs of context alone are left out."""
    chains: list[list[_Token]] = []
    chain: list[_Token] = []
    for token in tokens:
        if token.context is not None or (
            token.kind in _JUDGED and not token.name and token.readings
        ):
            if token.breaks and chain:
                chains.append(chain)
                chain = []
            chain.append(token)
        elif chain:
            chains.append(chain)
            chain = []
    if chain:
        chains.append(chain)
    return [c for c in chains if any(token.context is None for token in c)]


def _decode_chain(
    chain: Sequence[_Token],
    inv: Inventory,
    model: restoration.Model,
    edges: tuple[bool, bool] = (True, True),
) -> list[restoration.Choice | None]:
    """The choice for every token of a chain (None for a token that is context only)."""
    starts, ends = edges
    places: list[restoration.Place] = []
    where: list[int | None] = []
    name_bonus, person_bonus = model.params.name_bonus, model.params.person_bonus
    typed = [None if t.context is not None else t.text for t in chain]
    named = word_layer.name_syllables(typed) if name_bonus else [set[str]() for _ in chain]
    persons = word_layer.person_syllables(typed) if person_bonus else [set[str]() for _ in chain]
    for token, in_names, in_person in zip(chain, named, persons, strict=True):
        if token.context is not None:
            places += (restoration.Place((syllable,)) for syllable in token.context)
            where.append(None)
            continue
        options = token.readings[:_CANDIDATES]
        lower = token.text.lower()
        if token.kind is _Kind.PLAIN and lower not in options:
            options = (lower, *options)
        if in_names or in_person:
            extra = in_names | in_person
            options += tuple(o for o in token.readings[_CANDIDATES:] if o in extra)
        bonus = (
            {option: inv.log_case(option, token.capital) for option in options}
            if token.capital is not None
            else {}
        )
        for option in in_names.intersection(options):
            bonus[option] = bonus.get(option, 0.0) + name_bonus
        for option in in_person.intersection(options):
            bonus[option] = bonus.get(option, 0.0) + person_bonus
        where.append(len(places))
        places.append(restoration.Place(options, bonus))
    decoded = restoration.decode(places, model, starts=starts, ends=ends)
    return [None if index is None else decoded[index] for index in where]


def restore(
    text: str, *, inventory: Inventory | None = None, model: restoration.Model | None = None
) -> Restoration | None:
    """The text with its diacritics restored, every restored word with its confidence; None
    when there is nothing to offer (the text is fine, not Vietnamese, or nothing changes).

    For Telex or VNI text the raw words are read back (certain) and the other words stay as
    typed; otherwise stripped and plain syllables, names included, are restored by the
    4-gram model of ``nlp.restoration``. Case, punctuation, numbers, acronyms and words that
    are no Vietnamese syllable stay as typed; the text is normalised (``normalise``) first.
    """
    inv = inventory or syllables.inventory()
    clean = normalise(text)
    tokens = _tokenise(clean, inv)
    verdict = _report(tokens, inv).verdict
    return _restoration(clean, tokens, verdict, inv, model or restoration.model())


def judge_and_restore(
    text: str, *, inventory: Inventory | None = None, model: restoration.Model | None = None
) -> tuple[DiacriticsReport, Restoration | None]:
    """``judge(text)`` and, when the text is refused, ``restore(text)`` (else None), reading
    the text once (``doithoai nlp check``)."""
    inv = inventory or syllables.inventory()
    clean = normalise(text)
    tokens = _tokenise(clean, inv)
    report = _report(tokens, inv)
    if not report.refused:
        return report, None
    return report, _restoration(
        clean, tokens, report.verdict, inv, model or restoration.model()
    )


def _restoration(
    clean: str,
    tokens: Sequence[_Token],
    verdict: Verdict,
    inv: Inventory,
    current: restoration.Model,
) -> Restoration | None:
    """``restore`` of a normalised text, tokenised and judged (``_report`` has run on
    ``tokens``)."""
    params = current.params
    if verdict in {Verdict.OK, Verdict.NOT_VIETNAMESE}:
        return None
    keyed = _KEYED.get(verdict)
    found: dict[int, RestoredWord] = {}

    def certain(token: _Token, reading: str) -> RestoredWord:
        best = _recase(token.text, reading)
        return RestoredWord(token.start, token.end, token.text, best, 1.0, (best,), False)

    for token in tokens:
        if keyed and token.kind in keyed:
            found[token.start] = certain(token, token.readings[0])
        elif token.text.lower() in ABBREVIATIONS:
            found[token.start] = certain(token, ABBREVIATIONS[token.text.lower()])
        token.name = token.acronym  # names are restored too: Nguyen Van Binh
    if verdict is not Verdict.TELEX and verdict is not Verdict.VNI:
        for chain in _restore_chains(tokens):
            decoded = _decode_chain(chain, inv, current, _edges(tokens, chain))
            for token, choice in zip(chain, decoded, strict=True):
                if token.kind is _Kind.MARKED or choice is None:
                    continue
                alternatives = tuple(
                    _recase(token.text, option) for option, _ in choice.ranked[:ALTERNATIVES]
                )
                found[token.start] = RestoredWord(
                    token.start,
                    token.end,
                    token.text,
                    alternatives[0],
                    choice.confidence,
                    alternatives,
                    current.uncertain(token.text, choice.confidence, len(choice.ranked)),
                )
    words = tuple(found[start] for start in sorted(found))
    if all(word.best == word.typed for word in words):
        return None
    doubtful = sum(1 for w in words if w.uncertain)
    offered = (
        doubtful <= params.floor_uncertain_count
        and doubtful <= params.floor_uncertain_share * len(words)
    )
    return Restoration(clean, words, offered)


def suggest(
    text: str, *, inventory: Inventory | None = None, model: restoration.Model | None = None
) -> str | None:
    """The best restored text (``restore``), or None when there is nothing to offer.

    Confidence is left out here: a handler offering the text to a resident uses ``restore``.
    """
    restored = restore(text, inventory=inventory, model=model)
    return None if restored is None else restored.text
