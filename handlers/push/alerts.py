"""The daily digest of deadline alerts for an official (C6): one message, items grouped by how
urgent they are (overdue, due today, one working day left, three left), then by requirement."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from handlers.channel import Outgoing
from handlers.notifications import day, renderer
from handlers.replies import Html, say
from procedure.alerts import DIGEST_KIND, AlertLevel, Requirement

MAX_ITEMS_LISTED = 30
# Telegram allows 4096 characters in a message; keep well below with the markup counted.
TEXT_BUDGET = 3800


def _what(item: Mapping[str, object]) -> Html:
    """The session or the petition an item is about."""
    if item.get("requirement") == Requirement.INBOX.value:
        return Html(say("chat.alerts.inbox", code=item.get("tracking_code") or ""))
    if item.get("tracking_code"):
        extended = say("chat.alerts.extended") if item.get("extended") else ""
        return Html(
            say(
                "chat.alerts.petition",
                code=item["tracking_code"],
                agency=item.get("agency") or "",
                extended=Html(extended),
            )
        )
    session_day = (
        say("chat.alerts.session_day", day=day(item["session_day"]))
        if item.get("session_day")
        else ""
    )
    return Html(
        say("chat.alerts.session", label=item.get("label", ""), session_day=Html(session_day))
    )


def _line(item: Mapping[str, object]) -> str:
    late = int(item.get("late_working_days") or 0)  # type: ignore[call-overload]
    return say(
        "chat.alerts.item",
        what=_what(item),
        due=day(item["due"]),
        late=Html(say("chat.alerts.late", days=late) if late else ""),
        mark=Html(say("chat.alerts.escalated_mark") if item.get("escalated") else ""),
    )


def _ordered(items: Sequence[Mapping[str, object]]) -> list[Mapping[str, object]]:
    """By urgency, then by requirement; the order of the row within each group (the soonest
    deadline first) is kept."""
    levels = [level.value for level in AlertLevel]
    requirements = [requirement.value for requirement in Requirement]

    def rank(item: Mapping[str, object]) -> tuple[int, int]:
        level, requirement = item.get("level"), item.get("requirement")
        return (
            levels.index(level) if level in levels else len(levels),
            requirements.index(requirement) if requirement in requirements else len(requirements),
        )

    return sorted(items, key=rank)


@renderer(DIGEST_KIND)
def alert_digest(data: dict[str, object]) -> Outgoing:
    items: list[Mapping[str, object]] = list(data.get("items") or [])  # type: ignore[call-overload]
    parts = [say("chat.alerts.heading", day=day(data["day"]), count=len(items))]
    used = len(parts[0])
    listed, escalated = 0, False
    level_shown: object = None
    requirement_shown: object = None
    for item in _ordered(items):
        needed = []
        if item.get("level") != level_shown:
            level = item.get("level")
            if level in {member.value for member in AlertLevel}:
                needed.append("\n" + say(f"chat.alerts.level.{level}"))
        if item.get("level") != level_shown or item.get("requirement") != requirement_shown:
            requirement = item.get("requirement")
            if requirement in {member.value for member in Requirement}:
                needed.append(say(f"chat.alerts.requirement.{requirement}"))
        needed.append(_line(item))
        cost = sum(len(part) + 1 for part in needed)
        if listed >= MAX_ITEMS_LISTED or used + cost > TEXT_BUDGET:
            break
        parts.extend(needed)
        used += cost
        listed += 1
        escalated = escalated or bool(item.get("escalated"))
        level_shown, requirement_shown = item.get("level"), item.get("requirement")
    if listed < len(items):
        parts.append(say("chat.alerts.more", count=len(items) - listed))
    if escalated:
        parts.append("\n" + say("chat.alerts.escalated_legend"))
    return Outgoing(text="\n".join(parts))
