"""A button's label typed instead of pressed ("Kiến nghị", "giao thong", "tôi đồng ý"): the press
it stands for, on every channel.

The buttons of a turn's replies are kept with the conversation until the next turn (a turn that
shows none forgets them): a message that is one of their labels, or one part of a label between
commas ("giao thông" for "Giao thông, xây dựng, hạ tầng"), as written or as people type it
(another case, no emoji, no diacritics), presses that button. A typed text that several labels
read as ("ben": "Bên", "Bền", "Bến") presses none: the step reads it as typed, as it reads any
text that is no label.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Sequence
from functools import lru_cache
from typing import Any

from handlers.channel import Incoming, Outgoing
from nlp.text import bare_words

#: The conversation's data key of the last turn's buttons: [[label, data], …].
SHOWN = "shown_buttons"
#: More buttons than this in one turn are not kept (a long list is pressed, not typed).
MOST_KEPT = 24
#: A text longer than this is no label (a petition's text is not compared with the buttons).
LONGEST_LABEL = 120

_WORD = re.compile(r"[^\W_]+")


def _words(text: str) -> tuple[str, ...]:
    """The words of ``text`` in lower case, diacritics kept (emoji and punctuation dropped)."""
    return tuple(_WORD.findall(unicodedata.normalize("NFC", text).lower()))


def _bare_words(text: str) -> tuple[str, ...]:
    """The words of ``text`` as people type them: no diacritics, lower case."""
    return tuple(bare_words(text))


@lru_cache(maxsize=4096)
def _sayings(label: str, bare: bool) -> frozenset[tuple[str, ...]]:
    """What typing a label may be, folded (``bare``: without diacritics): the label, or one of
    its parts between commas ("giao thông" for "Giao thông, xây dựng, hạ tầng", "y tế" for "An
    sinh xã hội, y tế, giáo dục"). Cached: the same menus are shown again and again."""
    fold = _bare_words if bare else _words
    parts = label.split(",")
    return frozenset(map(fold, [label, *parts] if len(parts) > 1 else [label]))


def shown(replies: Sequence[Outgoing]) -> list[list[str]]:
    """The buttons of a turn's replies, as kept with the conversation."""
    kept = [[b.label, b.data] for reply in replies for row in reply.buttons for b in row]
    return kept if len(kept) <= MOST_KEPT else []


def pressed(incoming: Incoming, kept: Any) -> str | None:
    """The data of the button ``incoming``'s text is the label of, among those ``kept``; None
    when it is a press, a command, a file or a place already, or no label of one button only."""
    text = incoming.text
    if (
        not text
        or len(text) > LONGEST_LABEL
        or not isinstance(kept, list)
        or incoming.button is not None
        or incoming.command is not None
        or incoming.attachment is not None
        or incoming.location is not None
        or incoming.contact is not None
    ):
        return None
    pairs = [
        (str(pair[0]), str(pair[1])) for pair in kept if isinstance(pair, list) and len(pair) == 2
    ]
    for bare in (False, True):
        typed = _bare_words(text) if bare else _words(text)
        if not typed:
            return None
        meant = {data for label, data in pairs if typed in _sayings(label, bare)}
        if len(meant) == 1:
            return meant.pop()
        if meant:
            return None  # several buttons say it: none is pressed
    return None
