"""A command typed as words ("góp ý", "dang ky", "Tra cứu", "tôi muốn đăng ký ạ") or a tracking
code pasted on its own ("KN-7QH4-MX2C", "mã kn 7qh4 mx2c"), read as the command a resident
means: on Zalo and on a ward's website, people type what a menu button says rather than
``/gopy``, and paste the code from their receipt.

A message is read as a command when, diacritics, case, emoji and punctuation aside, it is one
of the command's phrases with at most a few words of politeness or of the asker around it
("tôi muốn", "cho em", "ạ", "với"). Anything else ("không góp ý", "góp ý về đèn đường hẻm 12")
is a message, answered as before (the conversation offers to send it as an opinion). A word
that turns the phrase around ("không", "chưa") is not among those allowed around it.
"""

from __future__ import annotations

import re

from nlp.text import bare_words
from procedure.codes import normalise_code

# The phrases of each command, as typed without diacritics: the main menu's own labels
# (checked by a test against texts/vi.toml) and what people say for them.
PHRASES: dict[str, tuple[str, ...]] = {
    "gopy": (
        "gui y kien",
        "gop y",
        "gui gop y",
        "y kien",
        "gui kien nghi",
        "kien nghi",
        "gui phan anh",
        "phan anh",
        "gui cau hoi",
        "dat cau hoi",
        "cau hoi",
    ),
    "dangky": (
        "dang ky du",
        "dang ki du",
        "dang ky",
        "dang ki",
        "dang ky tham du",
        "dang ky du doi thoai",
        "dang ky doi thoai",
    ),
    "tracuu": (
        "tra cuu",
        "tra cuu y kien",
        "tra cuu kien nghi",
        "theo doi y kien",
        "theo doi kien nghi",
        "xem y kien",
        "xem kien nghi",
    ),
    "phien": (
        "buoi doi thoai",
        "cac buoi doi thoai",
        "lich doi thoai",
        "phien doi thoai",
        "xem lich doi thoai",
    ),
    "trogiup": ("huong dan", "tro giup", "giup do", "huong dan su dung", "help"),
    "start": ("menu", "bat dau", "start"),
    "huy": ("huy", "huy bo"),
    "dulieu": ("du lieu ca nhan", "thong tin ca nhan", "xem du lieu"),
    "khuvuc": ("doi khu vuc", "doi phuong", "doi phuong xa", "khu vuc"),
}
# Words that may stand around a phrase: the asker, politeness, a wish. No word that negates.
_ASKER = "toi em anh chi bac co chu minh chung ad admin bot"
_POLITE = "xin cho muon can vui long giup hay a oi nhe nha voi di"
AROUND = frozenset(f"{_ASKER} {_POLITE}".split())
# Around a pasted code: the same, and what names it ("mã", "tra cứu", "ý kiến số").
_NAMING = "ma so tra cuu xem theo doi y kien nghi cua la"
AROUND_CODE = frozenset(f"{_ASKER} {_POLITE} {_NAMING}".split())
# Longer than this, a message says more than a command.
MAX_WORDS = 8
LONGEST = 160  # characters

_CODE = re.compile(r"\bKN[\s.-]*[0-9A-Z]{4}[\s.-]*[0-9A-Z]{4}\b", re.IGNORECASE)
# The longest phrases first: "gửi ý kiến" is read whole before "ý kiến" is looked for.
_BY_PHRASE = sorted(
    (
        (tuple(phrase.split()), command)
        for command, phrases in PHRASES.items()
        for phrase in phrases
    ),
    key=lambda item: -len(item[0]),
)


# Every word a command's message may hold: a message with any other word is none.
_VOCABULARY = AROUND.union(*(phrase for phrase, _ in _BY_PHRASE))


def typed_command(text: str) -> tuple[str, str] | None:
    """The command (and its argument) ``text`` stands for, or None: a tracking code with at most
    a few words naming it is ``tracuu`` with the code; a command's phrase with at most a few
    words of politeness around it is that command."""
    if len(text) > LONGEST:
        return None
    found = _CODE.search(text)
    if found is not None:
        code = normalise_code(found.group())
        rest = bare_words(text[: found.start()] + " " + text[found.end() :])
        if code and len(rest) <= MAX_WORDS and all(word in AROUND_CODE for word in rest):
            return "tracuu", code
        return None
    words = bare_words(text)
    if (
        not words
        or len(words) > MAX_WORDS
        or any(char.isdigit() for char in text)
        or not _VOCABULARY.issuperset(words)
    ):
        return None
    for phrase, command in _BY_PHRASE:
        size = len(phrase)
        for start in range(len(words) - size + 1):
            if tuple(words[start : start + size]) != phrase:
                continue
            rest = words[:start] + words[start + size :]
            if all(word in AROUND for word in rest):
                return command, ""
    return None
