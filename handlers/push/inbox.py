"""Notices to a resident about an item of the office inbox that need more than one entry."""

from __future__ import annotations

from handlers.channel import Outgoing
from handlers.notifications import day, renderer
from handlers.replies import Html, button, say


@renderer("petition.kept")
def kept(data: dict[str, object]) -> Outgoing:
    session = (
        say("chat.push.kept_session", day=day(data["session_day"]))
        if data.get("session_day")
        else ""
    )
    code = str(data["tracking_code"])
    return Outgoing(
        text=say("chat.push.petition.kept", tracking_code=code, session=Html(session)),
        buttons=((button("chat.push.track", f"track:{code}"),),),
    )
