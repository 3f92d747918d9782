"""The required personal details (Q1, Q2) after explicit consent (X3): name, phone, ward.

A flow that needs them calls :func:`ensure_profile` with the state to come back to; the details
already known are not asked again.
"""

from __future__ import annotations

from handlers import restore_words
from handlers.channel import Outgoing
from handlers.parsing import parse_id
from handlers.replies import Html, button, one_per_row, reply, say
from handlers.turn import STEPS, Turn, entry, go, step
from nlp.names import restore_name, title_case
from nlp.phone import PhoneStatus, mask_phone, parse_phone
from procedure.use_cases import lookups
from procedure.use_cases.areas import search_area
from procedure.use_cases.residents import (
    ProfileChange,
    area_of_person,
    get_person,
    give_consent,
    has_consent,
    join_by_verified_phone,
    update_profile,
)
from texts import t

FLOW = "profile"
NAME_MIN, NAME_MAX = 4, 100


def ensure_area(turn: Turn, resume: str) -> bool:
    """True when the resident's ward is known; otherwise ask for it only, then ``resume``."""
    if area_of_person(turn.uow, turn.person_id) is not None:
        return True
    turn.data["resume"] = resume
    turn.data["area_only"] = True
    go(turn, "profile.area")
    return False


def ensure_profile(turn: Turn, resume: str) -> bool:
    """True when consent, name, phone and ward are all known; otherwise ask for the first one
    missing and come back to ``resume`` afterwards."""
    turn.data["resume"] = resume
    turn.data.pop("area_only", None)
    person = get_person(turn.uow, turn.person_id)
    if not has_consent(turn.uow, turn.person_id):
        go(turn, "profile.consent")
    elif not person.full_name:
        go(turn, "profile.name")
    elif not person.phone_e164:
        go(turn, "profile.phone")
    elif person.area_org_id is None:
        go(turn, "profile.area")
    else:
        return True
    return False


def _continue(turn: Turn) -> None:
    resume = str(turn.data.get("resume") or "idle")
    if turn.data.pop("area_only", None):
        turn.data.pop("resume", None)
        go(turn, resume)
        return
    if ensure_profile(turn, resume):
        turn.data.pop("resume", None)
        go(turn, resume)


@entry("profile.consent", FLOW)
def ask_consent(turn: Turn) -> None:
    turn.send(
        reply(
            "chat.consent.notice",
            buttons=[
                [button("chat.consent.agree", "consent:yes")],
                [button("chat.consent.decline", "consent:no")],
            ],
        )
    )


@step("profile.consent", FLOW)
def answer_consent(turn: Turn) -> None:
    if turn.incoming.button == "consent:yes":
        give_consent(turn.uow, turn.person_id, turn.incoming.channel, turn.context)
        turn.send(reply("chat.consent.thanks"))
        _continue(turn)
    elif turn.incoming.button == "consent:no":
        # X3: without consent nothing personal is kept — the text written before the question
        # goes with the refusal.
        draft = turn.data.get("opinion")
        written = isinstance(draft, dict) and bool(draft.get("text") or draft.get("parts"))
        turn.conversation.reset()
        turn.send(reply("chat.consent.declined"))
        if written:
            turn.send(reply("chat.consent.draft_deleted"))
    else:
        turn.send(reply("chat.consent.press_a_button"))
        ask_consent(turn)


@entry("profile.name", FLOW)
def ask_name(turn: Turn) -> None:
    turn.send(reply("chat.profile.ask_name"))


@step("profile.name", FLOW)
def answer_name(turn: Turn) -> None:
    name = " ".join((turn.incoming.text or "").split())
    if not name:
        turn.send(reply("chat.profile.name_empty"))
        return
    if any(ch.isdigit() for ch in name) or not NAME_MIN <= len(name) <= NAME_MAX:
        turn.send(reply("chat.profile.name_invalid", low=NAME_MIN, high=NAME_MAX))
        return
    if len(name.split()) < 2:
        turn.send(reply("chat.profile.name_one_word"))
        return
    name = title_case(name)
    restored = restore_name(name)
    if restored is None or not restored.offered:
        _save_name(turn, name)
        return
    # Q4: typed without diacritics: a restored name is offered, its uncertain syllables are
    # confirmed one by one; the name as typed can be kept.
    turn.data["name_typed"] = name
    store: dict[str, object] = {}
    restore_words.begin(store, restored)
    turn.data["name_fix"] = store
    first = (
        [button("chat.restore.confirm_words", "name:words")]
        if restored.uncertain
        else [button("chat.profile.name_restore.use", "name:use")]
    )
    turn.conversation.go("profile.name_confirm")
    turn.send(
        reply(
            "chat.profile.name_restore.ask_uncertain"
            if restored.uncertain
            else "chat.profile.name_restore.ask",
            buttons=[
                first,
                [button("chat.profile.name_restore.keep", "name:keep")],
                [button("chat.profile.name_restore.retype", "name:retype")],
            ],
            typed=name,
            name=restore_words.marked_html(restored),
        )
    )


def _save_name(turn: Turn, name: str) -> None:
    turn.data.pop("name_typed", None)
    turn.data.pop("name_fix", None)
    update_profile(turn.uow, turn.person_id, ProfileChange(full_name=name))
    turn.send(reply("chat.profile.name_saved", name=name))
    _continue(turn)


def _name_store(turn: Turn) -> dict[str, object]:
    store = turn.data.get("name_fix")
    if not isinstance(store, dict):
        store = {}
        turn.data["name_fix"] = store
    return store


@step("profile.name_confirm", FLOW)
def answer_name_confirm(turn: Turn) -> None:
    pressed = turn.incoming.button or ""
    typed = str(turn.data.get("name_typed") or "")
    data = _name_store(turn).get(restore_words.RESTORATION)
    if pressed == "name:use" and isinstance(data, dict):
        restored = restore_words.Restoration.from_dict(data)
        if not restored.uncertain:
            _save_name(turn, restored.text)
            return
    if pressed == "name:words" and isinstance(data, dict):
        go(turn, "profile.name_words")
    elif pressed == "name:keep" and typed:
        _save_name(turn, typed)
    elif turn.incoming.text:
        turn.conversation.go("profile.name")
        answer_name(turn)
    else:
        turn.data.pop("name_fix", None)
        go(turn, "profile.name")


@entry("profile.name_words", FLOW)
def ask_name_words(turn: Turn) -> None:
    if not restore_words.ask(turn, _name_store(turn)):
        go(turn, "profile.name")


@step("profile.name_words", FLOW)
def answer_name_words(turn: Turn) -> None:
    outcome = restore_words.answer(turn, _name_store(turn))
    if outcome is None:
        return
    if outcome.text is not None:
        _save_name(turn, title_case(outcome.text))
    elif outcome.typed_text is not None:
        turn.conversation.go("profile.name")
        answer_name(turn)
    else:
        turn.data.pop("name_fix", None)
        go(turn, "profile.name")


@entry("profile.phone", FLOW)
def ask_phone(turn: Turn) -> None:
    if _typed_only(turn):
        turn.send(reply("chat.profile.ask_phone_typed"))
        return
    turn.send(
        Outgoing(text=say("chat.profile.ask_phone"), ask_contact=t("chat.profile.share_phone"))
    )


@step("profile.phone", FLOW)
def answer_phone(turn: Turn) -> None:
    contact = turn.incoming.contact
    if contact is not None:
        if contact.user_id is None or contact.user_id != turn.incoming.user_id:
            # Q2: only the sender's own contact counts; another person's card is refused.
            turn.send(
                Outgoing(
                    text=say("chat.profile.contact_not_yours"),
                    ask_contact=t("chat.profile.share_phone"),
                )
            )
            return
        parsed = parse_phone(contact.phone_number)
        if parsed.status is not PhoneStatus.VALID or parsed.e164 is None:
            turn.send(reply("chat.profile.contact_not_vietnamese"))
            return
        _save_phone(turn, parsed.e164, verified=True)
        return
    text = (turn.incoming.text or "").strip()
    if not text:
        ask_phone(turn)
        return
    parsed = parse_phone(text)
    if parsed.status is PhoneStatus.VALID and parsed.e164:
        _save_phone(turn, parsed.e164, verified=False)
    elif parsed.status is PhoneStatus.OLD_11_DIGIT_PROPOSAL and parsed.proposed_e164:
        turn.data["phone_proposal"] = parsed.proposed_e164
        go(turn, "profile.phone_confirm")
    else:
        turn.send(reply(f"chat.profile.phone_{parsed.status.value}", typed=text))


def _save_phone(turn: Turn, e164: str, *, verified: bool) -> None:
    if verified:
        # The same phone verified on another channel: the same resident (one person).
        joined = join_by_verified_phone(
            turn.uow, turn.person_id, e164, turn.incoming.channel, turn.context
        )
        if joined != turn.person_id:
            turn.person_id, turn._actor = joined, None
    update_profile(
        turn.uow, turn.person_id, ProfileChange(phone_e164=e164, phone_verified=verified)
    )
    turn.data.pop("phone_proposal", None)
    turn.send(
        Outgoing(
            text=say("chat.profile.phone_saved", phone=_display_phone(e164)), remove_keyboard=True
        )
    )
    if _typed_only(turn):
        turn.send(reply("chat.profile.phone_typed_unverified"))
    _continue(turn)


def _typed_only(turn: Turn) -> bool:
    """The channel cannot share a verified phone: it is typed, and said to be unverified."""
    return turn.incoming.channel in turn.settings.typed_phone_channels


def _display_phone(e164: str) -> str:
    return "0" + e164.removeprefix("+84") if e164.startswith("+84") else e164


@entry("profile.phone_confirm", FLOW)
def ask_phone_confirm(turn: Turn) -> None:
    proposal = str(turn.data.get("phone_proposal", ""))
    turn.send(
        reply(
            "chat.profile.phone_old_number",
            buttons=[
                [button("chat.profile.phone_use_new", "phone:new")],
                [button("chat.profile.phone_retype", "phone:retype")],
            ],
            new=_display_phone(proposal),
        )
    )


@step("profile.phone_confirm", FLOW)
def answer_phone_confirm(turn: Turn) -> None:
    proposal = turn.data.get("phone_proposal")
    if turn.incoming.button == "phone:new" and isinstance(proposal, str):
        _save_phone(turn, proposal, verified=False)
    elif turn.incoming.button == "phone:retype" or turn.incoming.text:
        turn.conversation.go("profile.phone")
        if turn.incoming.text:
            answer_phone(turn)
        else:
            ask_phone(turn)
    else:
        ask_phone_confirm(turn)


@entry("profile.area", FLOW)
def ask_area(turn: Turn) -> None:
    turn.send(reply("chat.profile.ask_area"))


@step("profile.area", FLOW)
def answer_area(turn: Turn) -> None:
    pressed = turn.incoming.button or ""
    if pressed.startswith("area:"):
        area_id = parse_id(pressed.removeprefix("area:"))
        unit = lookups.org_unit(turn.uow, area_id) if area_id is not None else None
        if unit is None:
            ask_area(turn)
            return
        update_profile(turn.uow, turn.person_id, ProfileChange(area_org_id=unit.id))
        turn.send(reply("chat.profile.area_saved", area=unit.name))
        _continue(turn)
        return
    typed = (turn.incoming.text or "").strip()
    if not typed:
        ask_area(turn)
        return
    found = search_area(turn.uow, typed)
    if found.status == "old_unknown":
        turn.send(reply("chat.profile.area_old_unknown", typed=typed))
        return
    if found.status == "old_ambiguous":
        turn.send(reply("chat.profile.area_old_ambiguous", typed=typed))
        return
    if found.status == "old":
        turn.send(reply("chat.profile.area_old", old=found.old, today=", ".join(found.today)))
        if not found.units:
            turn.send(reply("chat.profile.area_old_elsewhere"))
            return
    if not found.units:
        turn.send(reply("chat.profile.area_not_found", typed=typed))
        return
    buttons = one_per_row(
        button("chat.profile.area_option", f"area:{u.id}", name=u.name) for u in found.units
    )
    turn.send(Outgoing(text=say("chat.profile.area_choose"), buttons=buttons))


def describe_profile(turn: Turn) -> Html:
    """Name, phone and ward as the resident sees them (only they see their own details)."""
    person = get_person(turn.uow, turn.person_id)
    area = lookups.org_unit(turn.uow, person.area_org_id)
    return Html(
        say(
            "chat.profile.summary",
            name=person.full_name or t("chat.profile.unknown"),
            phone=_display_phone(person.phone_e164)
            if person.phone_e164
            else t("chat.profile.unknown"),
            verified=t("chat.profile.verified") if person.phone_verified else "",
            area=area.name if area else t("chat.profile.unknown"),
        )
    )


def masked(e164: str | None) -> str:
    return mask_phone(e164) if e164 else ""


assert all(name in STEPS for name in ("profile.consent", "profile.name", "profile.area"))
