"""Messages to officials: petitions assigned to an agency (P7), results reported to the head
(P8)."""

from __future__ import annotations

from handlers.channel import Outgoing
from handlers.notifications import day, renderer
from handlers.place_lines import photos_of, place_lines
from handlers.replies import Html, say
from texts import t

MAX_LISTED = 20


@renderer("agency.assigned")
def assigned(data: dict[str, object]) -> Outgoing:
    items = list(data.get("items") or [])  # type: ignore[call-overload]
    lines = "\n".join(
        say("staff.push.assigned_item", code=item["code"], text=item["text"])
        + place_lines(item.get("place"), str(item["code"]))
        for item in items[:MAX_LISTED]
    )
    # The photos Telegram keeps follow the notice, one album per petition (issue 13).
    photos = tuple(
        photo for item in items[:MAX_LISTED] for photo in photos_of(item.get("place"), item["code"])
    )
    more = say("staff.push.more", count=len(items) - MAX_LISTED) if len(items) > MAX_LISTED else ""
    return Outgoing(
        text=say(
            "staff.push.assigned",
            agency=data["agency"],
            count=len(items),
            due=day(data["due"]),
            conclusion=data["conclusion"],
            items=Html(lines),
            more=Html(more),
        ),
        photos=photos,
    )


@renderer("head.result_report")
def result_report(data: dict[str, object]) -> Outgoing:
    late = int(data.get("late_working_days") or 0)  # type: ignore[call-overload]
    timing = say("staff.push.late", days=late) if late else say("staff.push.on_time")
    return Outgoing(
        text=say(
            "staff.push.result_report",
            code=data["tracking_code"],
            agency=data["agency"],
            text=data["text"],
            answered_on=day(data["answered_on"]),
            due=day(data["due"]),
            timing=Html(timing),
        )
    )


@renderer("agency.forwarded")
def forwarded(data: dict[str, object]) -> Outgoing:
    """An inbox item the office forwarded to an agency, with its due date."""
    return Outgoing(
        text=say(
            "staff.push.forwarded",
            agency=data["agency"],
            kind=t(f"petition_kind.{data['kind']}"),
            code=data["tracking_code"],
            text=data["text"],
            due=day(data["due"]),
        )
        + place_lines(data.get("place"), str(data["tracking_code"])),  # type: ignore[arg-type]
        photos=photos_of(data.get("place"), str(data["tracking_code"])),  # type: ignore[arg-type]
    )
