""" "Is it resolved?" (issue 13): the petitioner presses yes / partly / no under the question
pushed some working days after a written result; "no" or "partly" reopens the petition. Then an
optional comment, one message, or "skip"."""

from __future__ import annotations

from handlers.channel import Outgoing
from handlers.parsing import parse_id
from handlers.replies import button, main_menu, reply, say
from handlers.state import IDLE
from handlers.turn import Turn, entry, step
from procedure.use_cases.resolution import Resolution, add_comment, answer_resolution
from texts import format_date, t

FLOW = "resolution"
COMMENT = "resolution.comment"
SKIP = "resolved:skip"


def pressed(turn: Turn, value: str) -> None:
    """A press of ``resolved:<result id>:<answer>`` or ``resolved:skip``."""
    if value == "skip":
        if turn.state == COMMENT:
            turn.conversation.reset(keep=("opinion",))
            turn.send(reply("chat.resolution.skipped", buttons=main_menu()))
        else:
            turn.send(reply("chat.button_expired", buttons=main_menu()))
        return
    result, _, answer = value.partition(":")
    result_id = parse_id(result)
    if result_id is None or answer not in {item.value for item in Resolution}:
        turn.send(reply("chat.button_invalid", buttons=main_menu()))
        return
    answered = turn.attempt(
        lambda: answer_resolution(turn.uow, turn.person_id, result_id, answer, turn.context)
    )
    if answered is None:
        return
    code = answered.petition.tracking_code
    said = t(f"resolution.answer.{answer}")
    if answered.due is not None:
        turn.send(
            reply(
                "chat.resolution.reopened",
                code=code,
                answer=said,
                agency=answered.agency,
                due=format_date(answered.due),
            )
        )
    else:
        turn.send(reply("chat.resolution.thanks", code=code, answer=said))
    if turn.state not in {IDLE, COMMENT}:
        # In the middle of something else: the answer is kept; no comment is asked for now.
        turn.send(reply("chat.remind", flow=t(f"chat.flow.{_flow_of(turn)}")))
        return
    turn.data["resolution_feedback"] = answered.feedback.id
    turn.data["resolution_code"] = code
    turn.conversation.go(COMMENT)
    ask_comment(turn)


def _flow_of(turn: Turn) -> str:
    from handlers.turn import STEPS

    return STEPS[turn.state].flow


@entry(COMMENT, FLOW)
def ask_comment(turn: Turn) -> None:
    turn.send(
        Outgoing(
            text=say("chat.resolution.ask_comment"),
            buttons=((button("chat.resolution.skip", SKIP),),),
        )
    )


@step(COMMENT, FLOW)
def comment(turn: Turn) -> None:
    text = (turn.incoming.text or "").strip()
    if not text or turn.incoming.attachment is not None or turn.incoming.button:
        turn.send(
            Outgoing(
                text=say("chat.resolution.text_only"),
                buttons=((button("chat.resolution.skip", SKIP),),),
            )
        )
        return
    feedback_id = turn.data.get("resolution_feedback")
    code = str(turn.data.get("resolution_code") or "")
    if not isinstance(feedback_id, int):
        turn.conversation.reset(keep=("opinion",))
        turn.send(reply("chat.button_expired", buttons=main_menu()))
        return
    saved = turn.attempt(
        lambda: add_comment(
            turn.uow,
            turn.person_id,
            feedback_id,
            text,
            turn.context,
        )
    )
    turn.conversation.reset(keep=("opinion",))
    if saved is not None:
        turn.send(reply("chat.resolution.comment_saved", code=code, buttons=main_menu()))
