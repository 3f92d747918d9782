"""/tracuu — the resident's own petitions and the timeline of one (C3, X2). A code that is not
theirs gets the same answer as a code that does not exist, and repeated misses are slowed down."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import Any

from handlers.channel import Outgoing
from handlers.replies import Html, button, one_per_row, reply, say
from handlers.turn import Turn
from procedure.errors import NotFound
from procedure.use_cases import lookups
from procedure.use_cases.petitions import own_petition_by_code, petitions_of_person, timeline
from storage.conversation_store import recent_tracking_misses, record_tracking_miss
from texts import format_date, format_datetime, t


def start(turn: Turn, code: str = "") -> None:
    if code.strip():
        show_by_code(turn, code)
        return
    mine = petitions_of_person(turn.uow, turn.person_id)
    if not mine:
        turn.send(reply("chat.tracking.none"))
        return
    turn.send(
        Outgoing(
            text=say("chat.tracking.list", count=len(mine)),
            buttons=one_per_row(
                button(
                    "chat.tracking.option",
                    f"track:{p.tracking_code}",
                    code=p.tracking_code,
                    state=t(f"state.petition.{p.state}"),
                    date=format_date(_local_day(p.received_at)),
                )
                for p in mine[:10]
            ),
        )
    )


def _local_day(moment: datetime) -> date:
    from texts import to_local

    return to_local(moment).date()


def show_by_code(turn: Turn, code: str) -> None:
    """A code's timeline. Misses are counted per person and per channel account in their own
    table (not in the conversation, which /huy clears): after too many, a pause (X2)."""
    now = turn.context.now()
    since = now - timedelta(seconds=turn.settings.tracking_miss_window_seconds)
    incoming = turn.incoming
    misses = recent_tracking_misses(
        turn.uow, turn.person_id, incoming.channel, incoming.user_id, since
    )
    if misses >= turn.settings.tracking_misses_allowed:
        turn.send(reply("chat.tracking.slow_down"))
        return
    try:
        petition = own_petition_by_code(turn.uow, turn.person_id, code)
    except NotFound:
        record_tracking_miss(
            turn.uow, turn.person_id, incoming.channel, incoming.user_id, now, forget_before=since
        )
        turn.send(reply("chat.tracking.not_found", code=code.strip()[:40]))
        return
    turn.send(Outgoing(text=render_timeline(turn, petition)))


def render_timeline(turn: Turn, petition: Any) -> str:
    lines = [
        say(
            "chat.tracking.heading",
            code=petition.tracking_code,
            state=t(f"state.petition.{petition.state}"),
            text=_excerpt(petition.text),
        )
    ]
    results = lookups.written_results(turn.uow, petition.id)  # type: ignore[arg-type]
    for event in timeline(turn.uow, petition.id):  # type: ignore[arg-type]
        lines.append(_event_line(event, results))
    return "\n".join(lines)


def _event_line(event: Any, results: dict[int | None, Any]) -> str:
    when = format_datetime(event.at)
    details = event.details or {}
    due = details.get("due")
    values: dict[str, object] = {
        "when": when,
        "agency": details.get("agency", ""),
        "due": format_date(datetime.fromisoformat(str(due)).date()) if due else "",
        "reason": event.reason or "",
        "original": details.get("original_tracking_code", ""),
        "body": details.get("body", ""),
        "session": Html(
            say("chat.push.kept_session", day=format_date(date.fromisoformat(str(session_day))))
        )
        if (session_day := details.get("session_day"))
        else "",
        # Issue 13: the petitioner's answer to "is it resolved?".
        "answer": t(f"resolution.answer.{answer}") if (answer := details.get("answer")) else "",
    }
    if event.kind in {"petition.answered", "petition.answered_directly"}:
        result = results.get(details.get("result_id"))  # type: ignore[arg-type]
        values["text"] = result.text if result else ""
    key = f"chat.tracking.event.{event.kind.removeprefix('petition.')}"
    return say(key, **values)


def _excerpt(text: str, limit: int = 120) -> str:
    flat = " ".join(text.split())
    return flat if len(flat) <= limit else flat[: limit - 1] + "…"


__all__ = ["Html", "render_timeline", "show_by_code", "start"]
