"""X3: see, correct and delete one's personal data (Law 91/2025/QH15)."""

from __future__ import annotations

from handlers.channel import Outgoing
from handlers.flows.profile import describe_profile, ensure_profile
from handlers.replies import button, reply, say
from handlers.turn import Turn, entry, go, step
from procedure.use_cases.residents import ProfileChange, erase_personal_data, update_profile

FLOW = "dulieu"


def show(turn: Turn) -> None:
    """/dulieu: what we hold, and the buttons to correct or delete it."""
    turn.send(
        Outgoing(
            text=say("chat.privacy.yours", profile=describe_profile(turn)),
            buttons=(
                (
                    button("chat.privacy.fix_name", "fix:name"),
                    button("chat.privacy.fix_phone", "fix:phone"),
                ),
                (button("chat.privacy.fix_area", "fix:area"),),
                (button("chat.privacy.erase", "erase:ask"),),
            ),
        )
    )


def fix(turn: Turn, field: str) -> None:
    """Correct one detail: it is cleared and asked again (after consent, X3)."""
    change = {
        "name": ProfileChange(full_name=""),
        "phone": ProfileChange(phone_e164="", phone_verified=False),
    }.get(field)
    if change is not None:
        update_profile(turn.uow, turn.person_id, change)
    if field == "area":
        turn.data["resume"] = "privacy.done"
        turn.data["area_only"] = True
        go(turn, "profile.area")
        return
    if ensure_profile(turn, "privacy.done"):
        go(turn, "privacy.done")


@entry("privacy.done", FLOW)
def done(turn: Turn) -> None:
    turn.conversation.reset(keep=("opinion",))
    turn.send(reply("chat.privacy.updated"))
    show(turn)


def ask_erase(turn: Turn) -> None:
    turn.conversation.go("privacy.erase")
    turn.send(
        reply(
            "chat.privacy.erase_confirm",
            buttons=[
                [button("chat.privacy.erase_yes", "erase:yes")],
                [button("chat.privacy.erase_no", "erase:no")],
            ],
        )
    )


@step("privacy.erase", FLOW)
def answer_erase(turn: Turn) -> None:
    if turn.incoming.button == "erase:yes":
        count = erase_personal_data(turn.uow, turn.person_id, turn.context)
        turn.conversation.reset()
        turn.send(reply("chat.privacy.erased", count=count))
    else:
        turn.conversation.reset(keep=("opinion",))
        turn.send(reply("chat.privacy.kept"))
