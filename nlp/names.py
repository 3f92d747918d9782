"""Q4 for names: a full name typed without diacritics gets a restored suggestion, and names are
stored in title case ("nguyễn văn an" -> "Nguyễn Văn An").

A Vietnamese name is a surname, middle names and a given name; each place has its own likely
syllables (``nlp/data/person_names.txt``). The reading of each syllable weighs that place's
prior against the general syllable frequency; its posterior is its confidence, and the same
rule as for any text applies: uncertain syllables are marked and must be confirmed.
"""

from __future__ import annotations

import re
from pathlib import Path

from nlp import syllables
from nlp.diacritics_results import Restoration, RestoredWord
from nlp.loading import built_once
from nlp.orthography import canonical_syllable, has_vietnamese_marks, strip_vietnamese
from nlp.text import normalise

NAMES = Path(__file__).with_name("data") / "person_names.txt"
#: A syllable whose posterior is under this is shown as uncertain.
UNCERTAIN_BELOW = 0.9
#: Weight of the general syllable frequency beside the place's prior (an unlisted name).
GENERAL = 0.02
#: No suggestion with more uncertain syllables than this.
FLOOR_UNCERTAIN = 2
ALTERNATIVES = 4
_WORD = re.compile(r"[^\W\d_]+")


def title_case(name: str) -> str:
    """Every word capitalised, the rest lower case, spaces normalised: ``nguyễn VĂN an`` ->
    ``Nguyễn Văn An`` (what is stored for a name)."""
    words = normalise(name).split()
    return " ".join(word[:1].upper() + word[1:].lower() for word in words)


@built_once
def priors() -> dict[str, dict[str, float]]:
    """Relative frequency of each syllable in each place: surname, middle, given."""
    table: dict[str, dict[str, float]] = {}
    section = ""
    for line in NAMES.read_text("utf-8").splitlines():
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        if line.startswith("["):
            section = line.strip("[]")
            table[section] = {}
            continue
        word, weight = line.rsplit(" ", 1)
        syllable = canonical_syllable(word)
        if syllable:
            table[section][syllable] = table[section].get(syllable, 0.0) + float(weight)
    for section, weights in table.items():
        total = sum(weights.values())
        table[section] = {key: value / total for key, value in weights.items()}
    return table


def _places(count: int) -> list[str]:
    if count == 1:
        return ["given"]
    return ["surname", *(["middle"] * (count - 2)), "given"]


def restore_name(typed: str) -> Restoration | None:
    """The name with its diacritics restored, in title case; None when the name already has
    marks, is no Vietnamese syllables, or nothing would change."""
    name = title_case(typed)
    if not name or has_vietnamese_marks(name):
        return None
    inv = syllables.inventory()
    table = priors()
    matches = list(_WORD.finditer(name))
    if not matches or len(matches) != len(name.split()):
        return None
    total = inv.total or 1.0
    words: list[RestoredWord] = []
    for match, place in zip(matches, _places(len(matches)), strict=True):
        bare = match.group().lower()
        options = set(inv.candidates(bare))
        if bare in inv:
            options.add(bare)
        options.update(s for s in table.get(place, {}) if strip_vietnamese(s) == bare)
        if not options:
            return None
        prior = table.get(place, {})
        scores = {
            option: prior.get(option, 0.0) + GENERAL * inv.count(option) / total
            for option in options
        }
        norm = sum(scores.values()) or 1.0
        ranked = sorted(((o, v / norm) for o, v in scores.items()), key=lambda kv: (-kv[1], kv[0]))
        cased = tuple(option[:1].upper() + option[1:] for option, _ in ranked[:ALTERNATIVES])
        confidence = ranked[0][1]
        words.append(
            RestoredWord(
                match.start(),
                match.end(),
                match.group(),
                cased[0],
                confidence,
                cased,
                confidence < UNCERTAIN_BELOW and len(ranked) > 1,
            )
        )
    if all(word.best == word.typed for word in words):
        return None
    offered = sum(1 for word in words if word.uncertain) <= FLOOR_UNCERTAIN
    return Restoration(name, tuple(words), offered)
