"""Written documents to a resident (P8, P9): the notice names the document — số, ký hiệu and
ngày ban hành — when the agency gave them."""

from __future__ import annotations

from dataclasses import replace

from handlers.channel import Outgoing
from handlers.notifications import day, plain, renderer
from handlers.replies import say


def _with_document(kind: str, data: dict[str, object]) -> Outgoing:
    message = plain(kind, data)
    number = data.get("document_number")
    if not number:
        return message
    issued = data.get("document_date")
    line = (
        say("chat.push.document_dated", number=number, date=day(issued))
        if issued
        else say("chat.push.document", number=number)
    )
    return replace(message, text=f"{message.text}\n{line}")


@renderer("petition.extended")
def extended(data: dict[str, object]) -> Outgoing:
    return _with_document("petition.extended", data)


@renderer("petition.answered")
def answered(data: dict[str, object]) -> Outgoing:
    return _with_document("petition.answered", data)
