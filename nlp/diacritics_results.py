"""Q4: what judging and restoring a text's diacritics return (``nlp.diacritics``): the verdict,
the counts it rests on, and a restoration the resident confirms word by word. Plain data, so that
the conversations can hold and show them without loading the language model; ``nlp.diacritics``
makes them, and names them too."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from enum import StrEnum
from typing import Any


class Verdict(StrEnum):
    """What a text looks like, as far as diacritics go (Q4)."""

    OK = "ok"
    NO_DIACRITICS = "no_diacritics"
    PARTLY_WITHOUT = "partly_without"
    TELEX = "telex"
    VNI = "vni"
    NOT_VIETNAMESE = "not_vietnamese"
    TOO_SHORT = "too_short"


#: Verdicts on which the text is refused (with an explanation and, where possible, a suggestion).
REFUSALS = frozenset(
    {
        Verdict.NO_DIACRITICS,
        Verdict.PARTLY_WITHOUT,
        Verdict.TELEX,
        Verdict.VNI,
        Verdict.NOT_VIETNAMESE,
    }
)


@dataclass(frozen=True, slots=True)
class DiacriticsReport:
    """The verdict on a text and the counts it rests on."""

    verdict: Verdict
    #: Words counted: syllables in any form, foreign words and names (not numbers or codes).
    words: int
    #: Vietnamese syllables in any form (accented, plain, stripped, Telex, VNI).
    syllables: int
    #: Syllables written with diacritics.
    marked: int
    #: Syllables that lack diacritics they need (stripped ones, and plain ones read in context).
    lacking: int
    #: Words typed as raw Telex / raw VNI keystrokes.
    telex: int
    vni: int
    #: Words that are no Vietnamese syllable in any form (English, other languages).
    foreign: int
    #: Capitalised words inside a sentence and acronyms, left out of the verdict.
    names: int
    #: Mean log ratio of P(syllable | previous) to P(syllable) along the reading of the plain
    #: words (None with no pair): high for Vietnamese, low for plain foreign words.
    fit: float | None = None

    @property
    def refused(self) -> bool:
        """True when the text must be refused (Q4); TOO_SHORT asks instead."""
        return self.verdict in REFUSALS


@dataclass(frozen=True, slots=True)
class RestoredWord:
    """One word of a restoration: where it is in the typed text and what it became."""

    start: int
    end: int
    typed: str
    best: str
    #: Posterior probability of ``best`` (1.0 for Telex/VNI read back and abbreviations).
    confidence: float
    #: The likeliest readings, best first (``best`` included), cased as typed.
    alternatives: tuple[str, ...]
    uncertain: bool


@dataclass(frozen=True, slots=True)
class Restoration:
    """A restored text: the typed text (normalised) and every word that changed or was
    weighed. Only ever offered to the resident, never applied (Q4)."""

    source: str
    words: tuple[RestoredWord, ...]
    #: False below the confidence floor: then no suggestion is offered, only the explanation.
    offered: bool

    @property
    def text(self) -> str:
        return self.with_choices({})

    @property
    def uncertain(self) -> tuple[RestoredWord, ...]:
        return tuple(word for word in self.words if word.uncertain)

    def with_choices(self, choices: Mapping[int, str]) -> str:
        """The text with ``choices`` (index in ``words`` -> word) instead of the best words."""
        pieces: list[str] = []
        last = 0
        for index, word in enumerate(self.words):
            pieces += [self.source[last : word.start], choices.get(index, word.best)]
            last = word.end
        pieces.append(self.source[last:])
        return "".join(pieces)

    def marked(self, mark: Callable[[str], str], plain: Callable[[str], str]) -> str:
        """The best text with uncertain words passed through ``mark`` and the rest through
        ``plain`` (for HTML: escape everything, wrap the uncertain words in tags)."""
        pieces: list[str] = []
        last = 0
        for word in self.words:
            pieces.append(plain(self.source[last : word.start]))
            pieces.append(mark(word.best) if word.uncertain else plain(word.best))
            last = word.end
        pieces.append(plain(self.source[last:]))
        return "".join(pieces)

    def to_dict(self) -> dict[str, Any]:
        """A JSON-safe form (kept in the conversation state while the resident confirms)."""
        return {
            "source": self.source,
            "offered": self.offered,
            "words": [
                [w.start, w.end, w.typed, w.best, w.confidence, list(w.alternatives), w.uncertain]
                for w in self.words
            ],
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Restoration:
        words = tuple(
            RestoredWord(int(a), int(b), str(t), str(best), float(c), tuple(alts), bool(u))
            for a, b, t, best, c, alts, u in data["words"]
        )
        return cls(str(data["source"]), words, bool(data["offered"]))
