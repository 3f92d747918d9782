"""A turn's replies as few messages as read well: a reply of text alone (an acknowledgement,
"Đã ghi họ tên: …", or a command's answer) is joined to the reply after it as its first
paragraph, so that a step answers in one message: its acknowledgement above its next question.

One message a turn is what a resident reads most easily on a phone, one notification, and on
Telegram a chat's second message waits a second (one a second per chat). A reply is not joined
when the next one is a picture or a file (their captions are short), when the text alone removes
a keyboard and the next one shows buttons or a keyboard (Telegram sends one keyboard a message),
when it carries instructions for the sender (``extra``), or when the message would grow long
(Zalo splits its texts at 2,000 characters).
"""

from __future__ import annotations

from dataclasses import replace

from handlers.channel import Outgoing

#: Longest text a joined message may have.
MAX_JOINED_CHARACTERS = 1500


def join_text_replies(replies: list[Outgoing]) -> list[Outgoing]:
    joined: list[Outgoing] = []
    for message in replies:
        previous = joined[-1] if joined else None
        if previous is not None and _joinable(previous, message):
            joined[-1] = replace(
                message,
                text=f"{previous.text}\n\n{message.text}",
                remove_keyboard=previous.remove_keyboard or message.remove_keyboard,
            )
        else:
            joined.append(message)
    return joined


def _joinable(first: Outgoing, second: Outgoing) -> bool:
    text_alone = not (
        first.buttons
        or first.ask_contact
        or first.ask_location
        or first.image
        or first.document
        or first.photos
        or first.extra
    )
    # Telegram sends one keyboard a message: inline buttons or a requested share would keep
    # the keyboard the first one removes.
    keyboard_kept = first.remove_keyboard and bool(
        second.buttons or second.ask_contact or second.ask_location
    )
    return (
        text_alone
        and bool(first.text.strip())
        and bool(second.text.strip())
        and not (second.image or second.document)
        and not keyboard_kept
        and len(first.text) + len(second.text) + 2 <= MAX_JOINED_CHARACTERS
    )
