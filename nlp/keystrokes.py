"""Telex and VNI: the two ways Vietnamese keyboards turn keystrokes into accented letters.

When the input method is off, what the resident typed stays raw: ``ddeef nghij`` (Telex) or
``d9e62 nghi5`` (VNI). ``from_telex``/``from_vni`` read one such word back as a syllable;
``to_telex``/``to_vni`` write accented text as those keystrokes (used to test the readers).
"""

from __future__ import annotations

import re

from nlp.orthography import Syllable, Tone, parse, render, split_letter

_TELEX_TONES = {"s": Tone.ACUTE, "f": Tone.GRAVE, "r": Tone.HOOK, "x": Tone.TILDE, "j": Tone.DOT}
_VNI_TONES = {
    "1": Tone.ACUTE,
    "2": Tone.GRAVE,
    "3": Tone.HOOK,
    "4": Tone.TILDE,
    "5": Tone.DOT,
    "0": Tone.LEVEL,
}
_DOUBLE = {"a": "â", "e": "ê", "o": "ô"}
_HORN = {"a": "ă", "o": "ơ", "u": "ư"}
_VOWEL_KEYS = frozenset("aeiouyăâêôơư")


def _finish(letters: list[str], tone: Tone) -> str | None:
    word = "".join(letters)
    parsed = parse(word)
    if parsed is None and "ươ" in word:  # open "uơ": thuở, huơ (both keyboards write ươ)
        parsed = parse(word.replace("ươ", "uơ"))
    if parsed is None:
        return None
    return render(Syllable(parsed.onset, parsed.cluster, parsed.coda, tone))


def _add_horn(letters: list[str], start: int) -> bool:
    """Telex ``w`` / VNI ``7``: ``uo`` -> ``ươ``, else the last a/o/u (after any ``qu``)."""
    word = "".join(letters)
    at = word.rfind("uo", start)
    if at >= 0:
        letters[at], letters[at + 1] = "ư", "ơ"
        return True
    for i in range(len(letters) - 1, start - 1, -1):
        if letters[i] in _HORN:
            letters[i] = _HORN[letters[i]]
            return True
    return False


def _replace_last(letters: list[str], table: dict[str, str]) -> bool:
    for i in range(len(letters) - 1, -1, -1):
        if letters[i] in table:
            letters[i] = table[letters[i]]
            return True
    return False


def _vowel_start(letters: list[str]) -> int:
    """Where hats may apply: after a ``qu`` onset, so ``quw`` is not ``qư``."""
    return 2 if letters[:2] == ["q", "u"] else 0


def from_telex(word: str) -> str | None:
    """The syllable a raw Telex word stands for (lower case), or None.

    None when no key was read as a mark (the word is plain) or when the result is not a
    well-formed syllable. ``ddwowngf`` -> ``đường``, ``nguoiwf`` -> ``người``. As on the
    keyboards, a doubled letter makes a hat only when typed twice in a row (``ee`` -> ``ê``),
    and a tone key pressed twice cancels the tone and types the letter (``off`` is no word).
    """
    letters: list[str] = []
    tone = Tone.LEVEL
    tone_key = ""
    keyed = False
    seen_vowel = False
    previous = ""
    for char in word.lower():
        if char == "d" and letters == ["d"]:
            letters[0] = "đ"
        elif char in _DOUBLE and previous == char and letters[-1] == char:
            letters[-1] = _DOUBLE[char]
        elif char == "w":
            if not _add_horn(letters, _vowel_start(letters)):
                letters.append("ư")
                seen_vowel = True
        elif seen_vowel and char == tone_key:
            tone, tone_key = Tone.LEVEL, ""
            letters.append(char)
        elif seen_vowel and char in _TELEX_TONES:
            tone, tone_key = _TELEX_TONES[char], char
        elif seen_vowel and char == "z":
            tone, tone_key = Tone.LEVEL, ""
        else:
            letters.append(char)
            seen_vowel = seen_vowel or char in _VOWEL_KEYS
            previous = char
            continue
        previous = char
        keyed = True
    return _finish(letters, tone) if keyed else None


def _vni_modify(digit: str, letters: list[str]) -> bool:
    """Apply a VNI hat digit (6 circumflex, 7 horn, 8 breve, 9 đ); False when it cannot."""
    if digit == "6":
        return _replace_last(letters, _DOUBLE)
    if digit == "7":
        return _add_horn(letters, _vowel_start(letters))
    if digit == "8":
        return _replace_last(letters, {"a": "ă"})
    if digit == "9" and letters[:1] == ["d"]:
        letters[0] = "đ"
        return True
    return False


def from_vni(word: str) -> str | None:
    """The syllable a raw VNI word stands for (lower case), or None.

    Digits 1–5 are the tones, 0 clears it, 6 a circumflex, 7 a horn, 8 a breve, 9 makes đ.
    ``d9u7o7ng2`` -> ``đường``. None when there is no such digit, a digit has nothing to
    modify (``2024``, ``h2o``), or the result is not a well-formed syllable.
    """
    letters: list[str] = []
    tone = Tone.LEVEL
    keyed = False
    seen_vowel = False
    for char in word.lower():
        if not char.isdigit():
            letters.append(char)
            seen_vowel = seen_vowel or char in _VOWEL_KEYS
            continue
        keyed = True
        if char in _VNI_TONES and seen_vowel:
            tone = _VNI_TONES[char]
        elif not _vni_modify(char, letters):
            return None
    return _finish(letters, tone) if keyed else None


_TELEX_LETTERS = {"đ": "dd", "â": "aa", "ă": "aw", "ê": "ee", "ô": "oo", "ơ": "ow", "ư": "uw"}
_VNI_LETTERS = {"đ": "d9", "â": "a6", "ă": "a8", "ê": "e6", "ô": "o6", "ơ": "o7", "ư": "u7"}
_TELEX_TONE_KEYS = {tone: key for key, tone in _TELEX_TONES.items()}
_VNI_TONE_KEYS = {tone: key for key, tone in _VNI_TONES.items() if tone}
_WORD = re.compile(r"[^\W\d_]+")


def _encode_word(
    word: str, letters: dict[str, str], tone_keys: dict[Tone, str], short_horns: bool
) -> str:
    out: list[str] = []
    tone = Tone.LEVEL
    for char in word:
        base, mark = split_letter(char)
        tone = mark or tone
        lower = base.lower()
        keys = letters.get(lower, lower)
        if base != lower:
            keys = keys.upper()
        out.append(keys)
    typed = "".join(out)
    if short_horns:
        typed = re.sub("uwow", "uow", typed, flags=re.IGNORECASE)
        typed = re.sub("(?<![uU])uw", "w", typed)
        typed = re.sub("(?<![uU])UW", "W", typed)
    if tone:
        key = tone_keys[tone]
        typed += key.upper() if word.isupper() and len(word) > 1 else key
    return typed


def to_telex(text: str, *, short_horns: bool = False) -> str:
    """Accented text as raw Telex keystrokes, tone key last: ``đường`` -> ``dduwowngf``.

    ``short_horns`` types the shortcuts many people use: ``uow`` for ươ, a lone ``w`` for ư.
    """
    return _WORD.sub(
        lambda m: _encode_word(m.group(), _TELEX_LETTERS, _TELEX_TONE_KEYS, short_horns), text
    )


def to_vni(text: str) -> str:
    """Accented text as raw VNI keystrokes, tone digit last: ``đường`` -> ``d9u7o7ng2``."""
    return _WORD.sub(lambda m: _encode_word(m.group(), _VNI_LETTERS, _VNI_TONE_KEYS, False), text)
