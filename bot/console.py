"""The terminal chat a newcomer gets with no token: ask about working days and deadlines.

Each line is a question: a date (``16/03/2026``) says whether it is a working day; a date and a
number (``10/02/2026 10``) gives the deadline N working days later; ``thu moi 16/03/2026`` gives
the latest day to send invitations for a session that day. ``/trogiup`` explains, ``/thoat`` ends.
"""

from __future__ import annotations

from typing import TextIO

from sqlalchemy import Engine

from bot.config import Settings
from nlp.dates import parse_date
from procedure.explain import describe_day, explain_deadline, explain_notice_window
from procedure.use_cases.context import load_calendar
from procedure.working_days import MAX_WORKING_DAYS
from storage.unit_of_work import UnitOfWork
from texts import t


def _words(key: str) -> tuple[str, ...]:
    """Words a person may type for one intent, listed in the catalogue separated by ``|``."""
    return tuple(word.strip().lower() for word in t(key).split("|"))


class ConsoleSession:
    def __init__(self, engine: Engine, settings: Settings) -> None:
        self._engine = engine
        self._settings = settings

    def run(self, source: TextIO, sink: TextIO) -> int:
        print(t("console.greeting"), file=sink)
        for raw in source:
            line = raw.strip()
            if not line:
                continue
            if line.lower() in _words("console.words.exit"):
                break
            print(self.answer(line), file=sink)
            sink.flush()
        print(t("console.goodbye"), file=sink)
        return 0

    def answer(self, line: str) -> str:
        lowered = line.lower()
        if lowered in _words("console.words.help"):
            return t("console.help")
        with UnitOfWork(self._engine) as uow:
            calendar = load_calendar(uow)
        for word in _words("console.words.notice"):
            if lowered.startswith(word):
                day = parse_date(line[len(word) :])
                if day is None:
                    return t("console.not_understood")
                window = calendar.notice_window(day, self._settings.periods.notice_working_days)
                return "\n".join(explain_notice_window(window))
        parts = line.split()
        day = parse_date(parts[0]) if parts else None
        if day is None:
            return t("console.not_understood")
        if len(parts) == 1:
            return describe_day(calendar.status(day))
        if len(parts) == 2 and parts[1].isdigit() and int(parts[1]) <= MAX_WORKING_DAYS:
            return "\n".join(explain_deadline(calendar.add_working_days(day, int(parts[1]))))
        return t("console.not_understood")
