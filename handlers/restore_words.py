"""Q4: a restored text whose uncertain words the resident confirms one by one.

A restoration (``nlp.diacritics.restore``) marks the syllables it is not sure of. They are shown
underlined, and such a suggestion is never accepted with one tap: each uncertain word is asked
with its likeliest readings as buttons (or typed again), and only then is the text used. The
state lives in a plain dict inside the conversation data (JSON), next to the resident's own
text, which stays untouched until the end (X4).
"""

from __future__ import annotations

import html
from dataclasses import dataclass
from typing import Any

from handlers.replies import Html, button, reply
from handlers.turn import Turn
from nlp.diacritics_results import Restoration

__all__ = ["Outcome", "Restoration", "answer", "ask", "begin", "clear", "marked_html"]
from nlp.text import normalise

RESTORATION = "restoration"
CHOICES = "choices"
RETYPE = "words:retype"
WORD = "word:"


def marked_html(restoration: Restoration) -> Html:
    """The best text as HTML: the resident's text escaped, uncertain words underlined."""
    return Html(
        restoration.marked(
            mark=lambda word: f"<u>{html.escape(word, quote=False)}</u>",
            plain=lambda text: html.escape(text, quote=False),
        )
    )


def begin(store: dict[str, Any], restoration: Restoration) -> None:
    """Keep a restoration to confirm in ``store`` (a dict of the conversation data)."""
    store[RESTORATION] = restoration.to_dict()
    store[CHOICES] = {}


def clear(store: dict[str, Any]) -> None:
    store.pop(RESTORATION, None)
    store.pop(CHOICES, None)


def _pending(store: dict[str, Any]) -> tuple[Restoration, dict[str, str], list[int]] | None:
    data = store.get(RESTORATION)
    if not isinstance(data, dict):
        return None
    restoration = Restoration.from_dict(data)
    choices = {str(k): str(v) for k, v in dict(store.get(CHOICES) or {}).items()}
    left = [
        index
        for index, word in enumerate(restoration.words)
        if word.uncertain and str(index) not in choices
    ]
    return restoration, choices, left


def ask(turn: Turn, store: dict[str, Any]) -> bool:
    """Ask the next uncertain word; False when none is left (or nothing is kept)."""
    pending = _pending(store)
    if pending is None or not pending[2]:
        return False
    restoration, choices, left = pending
    index = left[0]
    word = restoration.words[index]
    total = len(restoration.uncertain)
    context = _only_this_marked(restoration, index, choices)
    buttons = [
        [button("chat.restore.word_option", f"{WORD}{index}:{n}", word=option)]
        for n, option in enumerate(word.alternatives)
    ]
    buttons.append([button("chat.restore.retype_all", RETYPE)])
    turn.send(
        reply(
            "chat.restore.confirm_word",
            buttons=buttons,
            number=total - len(left) + 1,
            total=total,
            typed=word.typed,
            context=Html(context),
        )
    )
    return True


def _only_this_marked(restoration: Restoration, index: int, choices: dict[str, str]) -> str:
    pieces: list[str] = []
    last = 0
    for at, word in enumerate(restoration.words):
        pieces.append(html.escape(restoration.source[last : word.start], quote=False))
        text = html.escape(choices.get(str(at), word.best), quote=False)
        pieces.append(f"<u><b>{text}</b></u>" if at == index else text)
        last = word.end
    pieces.append(html.escape(restoration.source[last:], quote=False))
    return "".join(pieces)


@dataclass(frozen=True)
class Outcome:
    """What an answer in the confirmation step led to."""

    #: The whole text, every uncertain word confirmed: use it.
    text: str | None = None
    #: The resident asked to type the sentence again (button), or typed a new text.
    retype: bool = False
    typed_text: str | None = None


def answer(turn: Turn, store: dict[str, Any]) -> Outcome | None:
    """Take a button or a typed word for the word being asked; None while words are left
    (the next one has been asked) or when the answer was not understood (asked again)."""
    pending = _pending(store)
    if pending is None:
        return Outcome(retype=True)
    restoration, choices, left = pending
    pressed = turn.incoming.button or ""
    if pressed == RETYPE:
        return Outcome(retype=True)
    if not left:
        return Outcome(text=restoration.with_choices({int(k): v for k, v in choices.items()}))
    index = left[0]
    word = restoration.words[index]
    if pressed.startswith(WORD):
        at, _, option = pressed.removeprefix(WORD).partition(":")
        if at == str(index) and option.isdigit() and int(option) < len(word.alternatives):
            choices[str(index)] = word.alternatives[int(option)]
    elif turn.incoming.text:
        typed = normalise(turn.incoming.text)
        if len(typed.split()) > 1:
            return Outcome(typed_text=typed)  # a whole new text: it replaces the old one
        if typed:
            choices[str(index)] = typed
    else:
        turn.send(reply("chat.restore.one_word_please", typed=word.typed))
        ask(turn, store)
        return None
    store[CHOICES] = choices
    if ask(turn, store):
        return None
    return Outcome(text=restoration.with_choices({int(k): v for k, v in choices.items()}))
