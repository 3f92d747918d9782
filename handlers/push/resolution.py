""" "Is it resolved?" (issue 13): the question to the petitioner, with its three answers as
buttons, and the notices of a reopened petition to the agency and the head."""

from __future__ import annotations

from handlers.channel import Outgoing
from handlers.notifications import day, renderer
from handlers.replies import Html, button, say
from texts import t


@renderer("petition.resolution_question")
def question(data: dict[str, object]) -> Outgoing:
    # The answer buttons carry ``resolved:<written result id>:<yes|partly|no>``.
    result_id = data["result_id"]
    code = str(data["tracking_code"])
    return Outgoing(
        text=say(
            "chat.push.petition.resolution_question",
            tracking_code=code,
            agency=data.get("agency") or "",
            answered_on=day(data["answered_on"]),
            text=data.get("text") or "",
        ),
        buttons=(
            (button("chat.resolution.yes", f"resolved:{result_id}:yes"),),
            (button("chat.resolution.partly", f"resolved:{result_id}:partly"),),
            (button("chat.resolution.no", f"resolved:{result_id}:no"),),
            (button("chat.push.track", f"track:{code}"),),
        ),
    )


def _flag(data: dict[str, object]) -> Html:
    if not data.get("repeated"):
        return Html("")
    return Html(say("staff.push.repeated_flag", count=data.get("reopenings") or 0))


def _reopened(key: str, data: dict[str, object]) -> Outgoing:
    """A reopened petition, to its agency or to the head: the same facts, their own wording."""
    return Outgoing(
        text=say(
            key,
            agency=data["agency"],
            code=data["tracking_code"],
            answer=t(f"resolution.answer.{data['answer']}"),
            due=day(data["due"]),
            text=data.get("text") or "",
            flag=_flag(data),
        )
    )


@renderer("agency.reopened")
def to_agency(data: dict[str, object]) -> Outgoing:
    return _reopened("staff.push.reopened", data)


@renderer("head.reopened")
def to_head(data: dict[str, object]) -> Outgoing:
    return _reopened("staff.push.head_reopened", data)


@renderer("agency.resolution_comment")
def comment_to_agency(data: dict[str, object]) -> Outgoing:
    return Outgoing(
        text=say(
            "staff.push.resolution_comment",
            agency=data["agency"],
            code=data["tracking_code"],
            answer=t(f"resolution.answer.{data['answer']}"),
            comment=data.get("comment") or "",
        )
    )
