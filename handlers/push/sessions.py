"""Invitations to residents (P4), notices to agencies (P5), and reminders of a session."""

from __future__ import annotations

from datetime import datetime

from handlers.calendar_file import SessionFacts, session_document
from handlers.channel import Outgoing
from handlers.notifications import renderer
from handlers.replies import Html, button, say
from texts import format_datetime, format_span

MAX_OPINIONS_LISTED = 15


def _when(data: dict[str, object]) -> dict[str, object]:
    starts = datetime.fromisoformat(str(data["starts_at"]))
    ends = datetime.fromisoformat(str(data["ends_at"]))
    return {"when": format_span(starts, ends)}


def _card(data: dict[str, object]) -> Html:
    return Html(
        say(
            "chat.sessions.card",
            content=data["content"],
            venue=data["venue"],
            chair=data["chair"],
            unit=data["unit"],
            **_when(data),
        )
    )


@renderer("session.invitation")
def invitation(data: dict[str, object]) -> Outgoing:
    session_id = data["session_id"]
    return Outgoing(
        text=say("chat.push.invitation", card=_card(data)),
        buttons=(
            (button("chat.sessions.register", f"reg:{session_id}"),),
            (button("chat.sessions.send_opinion", f"opinion:{session_id}"),),
        ),
        # The session as a calendar file (B3): a calendar application adds it at local time.
        document=session_document(SessionFacts.from_data(data), unit=str(data.get("unit", ""))),
    )


@renderer("session.agency_notice")
def agency_notice(data: dict[str, object]) -> Outgoing:
    opinions = list(data.get("opinions") or [])  # type: ignore[call-overload]
    lines = [
        say("chat.push.agency_notice_opinion", code=item["code"], text=item["text"])
        for item in opinions[:MAX_OPINIONS_LISTED]
    ]
    listed = "\n".join(lines) if lines else say("chat.push.agency_notice_no_opinions")
    more = (
        say("chat.push.agency_notice_more", count=len(opinions) - MAX_OPINIONS_LISTED)
        if len(opinions) > MAX_OPINIONS_LISTED
        else ""
    )
    return Outgoing(
        text=say(
            "chat.push.agency_notice",
            agency=data["agency"],
            card=_card(data),
            opinions=Html(listed),
            more=Html(more),
        )
    )


@renderer("session.reminder")
def reminder(data: dict[str, object]) -> Outgoing:
    return Outgoing(text=say("chat.push.reminder", code=data.get("code", ""), card=_card(data)))


def _previous(data: dict[str, object]) -> str:
    starts = datetime.fromisoformat(str(data["previous_starts_at"]))
    return format_datetime(starts)


@renderer("session.rescheduled")
def rescheduled(data: dict[str, object]) -> Outgoing:
    """A session moved to another date: to its registered residents, followers and agencies."""
    audience = str(data.get("audience") or "follower")
    return Outgoing(
        text=say(
            f"chat.push.rescheduled.{audience}",
            previous=_previous(data),
            card=_card(data),
            reason=data.get("reason") or "",
        ),
        # The calendar file again, with a higher SEQUENCE: calendars move the event (B3).
        document=session_document(SessionFacts.from_data(data), unit=str(data.get("unit", ""))),
    )


@renderer("session.cancelled")
def cancelled(data: dict[str, object]) -> Outgoing:
    """A session that will not take place: to everyone who was told of it."""
    return Outgoing(
        text=say(
            "chat.push.cancelled",
            card=_card(data),
            reason=data.get("reason") or "",
        ),
        # METHOD:CANCEL: calendars that added the invitation remove the event (B3).
        document=session_document(
            SessionFacts.from_data(data), cancelled=True, unit=str(data.get("unit", ""))
        ),
    )


@renderer("session.plan_expired")
def plan_expired(data: dict[str, object]) -> Outgoing:
    """To the office and the head, once: a plan whose date passed without an invitation."""
    return Outgoing(
        text=say("chat.push.plan_expired", id=data["session_id"], card=_card(data)),
        buttons=((button("staff.button.huyphien", f"staff:huyphien:{data['session_id']}"),),),
    )
