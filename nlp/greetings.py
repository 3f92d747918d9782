"""A greeting typed on its own ("xin chào", "Chào anh ạ", "alo", "hello ad"), read as a
greeting: the bot greets back with what it offers, instead of "we did not understand".

A message is a greeting when every word of it (diacritics, case and punctuation aside) is a word
of a greeting, and one of them says hello: "chào ạ" is a greeting, "chào, đèn đường hỏng" is a
message that starts with one (offered as an opinion like any other text).
"""

from __future__ import annotations

import re

from nlp.text import strip_diacritics

# The words that say hello, as typed without diacritics.
HELLO = frozenset({"chao", "hello", "hi", "helo", "alo", "allo", "xinchao"})
# The words that come with them: politeness and the bot, whom it is addressed to, the time of
# day ("chào buổi sáng tốt lành").
_POLITE = "xin a nha nhe oi day ad admin bot"
_TO_WHOM = "anh chi em ban ca moi nguoi quy vi bac co chu cau ong ba can bo phuong xa"
_TIME_OF_DAY = "buoi sang trua chieu toi tot lanh"
AROUND = frozenset(f"{_POLITE} {_TO_WHOM} {_TIME_OF_DAY}".split())
# Longer than this, it says more than hello.
MAX_WORDS = 6

_WORD = re.compile(r"[^\W\d_]+")


def is_greeting(text: str) -> bool:
    words = _WORD.findall(strip_diacritics(text).lower())
    if not words or len(words) > MAX_WORDS:
        return False
    # Only letters, spaces and punctuation: a number ("chào, số 12") says more than hello.
    if any(char.isdigit() for char in text):
        return False
    return any(word in HELLO for word in words) and all(
        word in HELLO or word in AROUND for word in words
    )
