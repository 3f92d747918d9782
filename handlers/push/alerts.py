"""The daily digest of deadline alerts for an official (C6): one message that counts the items
by how urgent they are (overdue, due today, one working day left, three left), then by
requirement, lists the most urgent few under their group, and says where to see the rest."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from handlers.channel import Outgoing
from handlers.notifications import day, renderer
from handlers.replies import Html, say
from procedure.alerts import DIGEST_KIND, LISTED_ITEMS, AlertLevel, Requirement

# The most urgent items listed by name (the digest's rows hold no more, issue 12); the others
# are counted, with the command that lists them all.
MAX_ITEMS_LISTED = LISTED_ITEMS
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

    def rank(item: Mapping[str, object]) -> tuple[int, int]:
        return _level_rank(item.get("level")), _requirement_rank(item.get("requirement"))

    return sorted(items, key=rank)


LEVELS = [level.value for level in AlertLevel]
REQUIREMENTS = [requirement.value for requirement in Requirement]
# Where the whole list is, by requirement (and for escalated items, the head's overview).
SEE_ALL = {"P4": "/quanlyphien", "P7": "/quanlyphien", "P8": "/viec", "INBOX": "/hopthu"}
SEE_ESCALATED = "/tonghop"


def _level_rank(level: object) -> int:
    return LEVELS.index(level) if level in LEVELS else len(LEVELS)  # type: ignore[arg-type]


def _requirement_rank(requirement: object) -> int:
    return (
        REQUIREMENTS.index(requirement)  # type: ignore[arg-type]
        if requirement in REQUIREMENTS
        else len(REQUIREMENTS)
    )


def _number(count: int) -> str:
    """1.234.567: thousands separated by dots, as Vietnamese writes them."""
    return f"{count:,}".replace(",", ".")


def _counts(data: Mapping[str, object]) -> list[dict[str, object]]:
    """How many items of each level and requirement (escalated apart). A row queued before the
    digests were counted (issue 12) lists every item: they are counted here."""
    given = data.get("counts")
    if isinstance(given, list):
        return [dict(entry) for entry in given if isinstance(entry, Mapping)]
    counted: dict[tuple[object, object, bool], int] = {}
    for item in data.get("items") or []:  # type: ignore[attr-defined]
        key = (item.get("level"), item.get("requirement"), bool(item.get("escalated")))
        counted[key] = counted.get(key, 0) + 1
    return [
        {"level": level, "requirement": requirement, "escalated": escalated, "count": count}
        for (level, requirement, escalated), count in counted.items()
    ]


@renderer(DIGEST_KIND)
def alert_digest(data: dict[str, object]) -> Outgoing:
    """The counts of each level and requirement, with the most urgent items listed under their
    group (at most ``MAX_ITEMS_LISTED``), and where to see the rest."""
    counts = [
        entry
        for entry in _counts(data)
        if entry.get("level") in LEVELS and entry.get("requirement") in REQUIREMENTS
    ]
    total = sum(int(entry.get("count") or 0) for entry in counts)  # type: ignore[call-overload]
    items = _ordered(list(data.get("items") or []))[:MAX_ITEMS_LISTED]  # type: ignore[call-overload]
    parts = [say("chat.alerts.heading", day=day(data["day"]), count=_number(total))]
    used = len(parts[0])
    listed = 0
    escalated_items = False
    for level in LEVELS:
        at_level = [entry for entry in counts if entry["level"] == level]
        if not at_level:
            continue
        level_total = sum(int(entry["count"]) for entry in at_level)  # type: ignore[call-overload]
        parts.append(
            "\n"
            + say(
                "chat.alerts.group",
                heading=Html(say(f"chat.alerts.level.{level}")),
                count=_number(level_total),
            )
        )
        for requirement in sorted(
            {str(entry["requirement"]) for entry in at_level}, key=_requirement_rank
        ):
            entries = [entry for entry in at_level if entry["requirement"] == requirement]
            count = sum(int(entry["count"]) for entry in entries)  # type: ignore[call-overload]
            escalated = sum(
                int(entry["count"])  # type: ignore[call-overload]
                for entry in entries
                if entry.get("escalated")
            )
            parts.append(
                say(
                    "chat.alerts.group",
                    heading=Html(say(f"chat.alerts.requirement.{requirement}")),
                    count=_number(count),
                )
                + (
                    say("chat.alerts.escalated_count", count=_number(escalated))
                    if escalated
                    else ""
                )
            )
            for item in items:
                if item.get("level") != level or item.get("requirement") != requirement:
                    continue
                line = _line(item)
                if used + len(line) + 1 > TEXT_BUDGET:
                    continue
                parts.append(line)
                used += len(line) + 1
                listed += 1
                escalated_items = escalated_items or bool(item.get("escalated"))
    if listed < total:
        places = sorted(
            {
                SEE_ESCALATED if entry.get("escalated") else SEE_ALL[str(entry["requirement"])]
                for entry in counts
            }
        )
        parts.append(
            "\n"
            + say("chat.alerts.more", count=_number(total - listed), commands=", ".join(places))
        )
    if escalated_items or any(entry.get("escalated") for entry in counts):
        parts.append("\n" + say("chat.alerts.escalated_legend"))
    return Outgoing(text="\n".join(parts))
