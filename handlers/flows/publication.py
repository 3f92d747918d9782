"""/congkhai and /ancongkhai — the office publishes a petition it has checked on the ward's
public page and the Open311 API, or withdraws it (issue 13, items 4 and 5; X2: an event each)."""

from __future__ import annotations

from dataclasses import replace

from handlers.replies import reply, say
from handlers.turn import Turn
from procedure.use_cases import lookups
from procedure.use_cases.petitions import petition_by_code
from procedure.use_cases.publication import publish_petition, unpublish_petition

PUBLIC_PATH = "/congkhai/{code}"


def publish(turn: Turn, payload: str) -> None:
    """/congkhai <code> [public summary] [| public place]: after "|", the street the office
    checked ("-" or nothing: the ward only); without "|", the proposed one (shown in the
    reply, to be checked)."""
    code, _, rest = payload.strip().partition(" ")
    if not code:
        turn.send(reply("public.staff.usage"))
        return
    summary, bar, typed_place = rest.partition("|")
    place = None if not bar else ("" if typed_place.strip() in {"", "-"} else typed_place)
    record = turn.attempt(
        lambda: publish_petition(turn.uow, turn.actor, code, summary.strip(), turn.context, place)
    )
    if record is None:
        return
    petition = petition_by_code(turn.uow, code)
    ward = lookups.org_unit(turn.uow, petition.area_org_id)
    published = reply(
        "public.staff.published",
        code=petition.tracking_code,
        ward=ward.name if ward else "",
        path=PUBLIC_PATH.format(code=ward.code if ward else ""),
        subject=record.subject,
        answer=record.answer or say("public.staff.no_answer"),
    )
    # The place the public sees (issue 13), to be checked like the rest; changed with "|".
    where = say(
        "public.staff.place",
        place=record.place or say("public.staff.place_none"),
        code=petition.tracking_code,
    )
    turn.send(replace(published, text=f"{published.text}\n{where}"))


def unpublish(turn: Turn, payload: str) -> None:
    """/ancongkhai <code>."""
    code = payload.strip()
    if not code:
        turn.send(reply("public.staff.usage"))
        return
    petition = turn.attempt(lambda: unpublish_petition(turn.uow, turn.actor, code, turn.context))
    if petition is not None:
        turn.send(reply("public.staff.unpublished", code=petition.tracking_code))
