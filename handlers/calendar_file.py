"""A session as an iCalendar file (RFC 5545), attached to invitations and registration
confirmations (B3): the time in Asia/Ho_Chi_Minh with its VTIMEZONE, the venue, the chair and
the organising unit, a reminder the day before, one UID per session and a SEQUENCE that grows
when the session changes, so a calendar application updates or removes the event it has.

Built with the maintained ``icalendar`` library; no text of ours is assembled by hand.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from functools import lru_cache
from typing import TYPE_CHECKING, Protocol

from texts import LOCAL_TIMEZONE, t, to_local

PRODID = "-//Doi thoai//Dialogue sessions//VI"
REMINDER_BEFORE = timedelta(days=1)

# icalendar is imported when the first file is written: a start of the bot needs none (issue 12).
if TYPE_CHECKING:
    from icalendar import Timezone


class CalendarSession(Protocol):
    """What the file says of a session: a ``DialogueSession`` row has all of it."""

    @property
    def id(self) -> int | None: ...
    @property
    def content(self) -> str: ...
    @property
    def venue(self) -> str: ...
    @property
    def chair_name(self) -> str: ...
    @property
    def starts_at(self) -> datetime: ...
    @property
    def ends_at(self) -> datetime: ...
    @property
    def calendar_sequence(self) -> int: ...


@dataclass(frozen=True)
class SessionFacts:
    """A session as an outbox row describes it (``session_facts``), for the push renderers."""

    id: int | None
    content: str
    venue: str
    chair_name: str
    starts_at: datetime
    ends_at: datetime
    calendar_sequence: int = 0

    @classmethod
    def from_data(cls, data: Mapping[str, object]) -> SessionFacts:
        return cls(
            id=int(str(data["session_id"])),
            content=str(data.get("content", "")),
            venue=str(data.get("venue", "")),
            chair_name=str(data.get("chair", "")),
            starts_at=datetime.fromisoformat(str(data["starts_at"])),
            ends_at=datetime.fromisoformat(str(data["ends_at"])),
            calendar_sequence=int(str(data.get("calendar_sequence") or 0)),
        )


@lru_cache(maxsize=8)
def _local_timezone(year: int) -> Timezone:
    """Asia/Ho_Chi_Minh as a VTIMEZONE around ``year`` (computing it is slow: kept per year;
    the component is only read when a file is written)."""
    from icalendar import Timezone

    return Timezone.from_tzinfo(
        LOCAL_TIMEZONE, first_date=date(year - 1, 1, 1), last_date=date(year + 1, 12, 31)
    )


def session_uid(session_id: int | None) -> str:
    """The same UID for every file of one session, so an update replaces the event."""
    return f"doithoai-session-{session_id}@doithoai"


def calendar_file_name(session_id: int | None) -> str:
    return f"doi-thoai-phien-{session_id}.ics"


def session_calendar(
    session: CalendarSession,
    *,
    cancelled: bool = False,
    unit: str = "",
    stamp: datetime | None = None,
) -> bytes:
    """The session as an ``.ics`` file: METHOD:REQUEST, or METHOD:CANCEL when ``cancelled``.

    The SEQUENCE is the session's ``calendar_sequence`` (raised by every change of time, venue
    or content), plus one for the cancellation, so the cancelling file always outranks the
    last invitation a resident received.
    """
    from icalendar import Alarm, Calendar, Event

    calendar = Calendar()
    calendar.add("prodid", PRODID)
    calendar.add("version", "2.0")
    calendar.add("calscale", "GREGORIAN")
    calendar.add("method", "CANCEL" if cancelled else "REQUEST")

    event = Event()
    event.add("uid", session_uid(session.id))
    event.add("sequence", session.calendar_sequence + (1 if cancelled else 0))
    event.add("dtstamp", (stamp or datetime.now(UTC)).astimezone(UTC))
    event.add("dtstart", to_local(session.starts_at))
    event.add("dtend", to_local(session.ends_at))
    event.add("summary", t("calendar.summary", content=session.content))
    event.add("location", session.venue)
    event.add(
        "description",
        t("calendar.description", content=session.content, chair=session.chair_name, unit=unit),
    )
    event.add("status", "CANCELLED" if cancelled else "CONFIRMED")
    event.add("transp", "OPAQUE")
    if not cancelled:
        alarm = Alarm()
        alarm.add("action", "DISPLAY")
        alarm.add("trigger", -REMINDER_BEFORE)
        alarm.add("description", t("calendar.reminder", content=session.content))
        event.add_component(alarm)
    calendar.add_component(_local_timezone(to_local(session.starts_at).year))
    calendar.add_component(event)
    return calendar.to_ical()


def session_document(
    session: CalendarSession, *, cancelled: bool = False, unit: str = ""
) -> tuple[str, bytes]:
    """``Outgoing.document`` for a session: (file name, bytes)."""
    return calendar_file_name(session.id), session_calendar(session, cancelled=cancelled, unit=unit)
