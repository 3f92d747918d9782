"""/gopy — send an opinion, petition or question (C2, Q1–Q5), and get a tracking code.

Steps: the session (or none) → the kind → the topic or question category (Q5) → the text, with
the diacritics rule (Q4) → the required details not yet known (Q1, Q2, after consent X3) → the
verification code (Q3) → a summary to confirm → the tracking code. The draft is kept in the
conversation state at every step, so nothing typed is lost (X4).
"""

from __future__ import annotations

from typing import Any

from handlers import restore_words, verification
from handlers.channel import Outgoing
from handlers.flows.profile import describe_profile, ensure_profile
from handlers.parsing import parse_id
from handlers.replies import Html, button, one_per_row, reply, say
from handlers.turn import Turn, entry, go, step
from nlp.diacritics_results import Verdict
from nlp.loading import load_in_background
from nlp.text import normalise
from procedure.places import checked_place_text, checked_point, map_url
from procedure.use_cases import lookups
from procedure.use_cases.petitions import (
    MAX_PETITION_LENGTH,
    AttachmentRef,
    PetitionKind,
    PetitionSubmission,
    submit_petition,
)
from procedure.use_cases.repeated import similar_earlier
from procedure.use_cases.residents import get_person, upcoming_sessions
from texts import format_date, format_datetime, t, to_local

FLOW = "gopy"
DRAFT = "opinion"
# Telegram splits a long message at 4,096 characters: a part this long is probably followed by
# the next one, so the bot waits for it instead of moving on.
SPLIT_HINT = 3_900
NO_SESSION = "none"
NEW_CODE = "code:new"  # the button under a verification picture: draw a new one
REFUSED = frozenset({Verdict.NO_DIACRITICS, Verdict.PARTLY_WITHOUT, Verdict.TELEX, Verdict.VNI})
# The steps where a shared location is the place of the problem (issue 13); elsewhere it is not
# understood.
TAKES_LOCATION = frozenset({"gopy.text", "gopy.confirm", "gopy.place"})


def draft(turn: Turn) -> dict[str, Any]:
    value = turn.data.get(DRAFT)
    if not isinstance(value, dict):
        value = {}
        turn.data[DRAFT] = value
    return value


def start(turn: Turn, session_id: int | None = None) -> None:
    """/gopy, or "gửi ý kiến cho buổi này" from a session's page."""
    # The text comes a few answers from now: what judging it needs is built meanwhile, off
    # the thread of everyone's turns (once per process; nlp/loading.py).
    load_in_background()
    current = draft(turn)
    if current.get("text") and session_id is None:
        turn.send(
            reply(
                "chat.opinion.resume_draft",
                buttons=[
                    [button("chat.opinion.resume_yes", "draft:resume")],
                    [button("chat.opinion.resume_new", "draft:new")],
                ],
                excerpt=_excerpt(str(current["text"])),
            )
        )
        turn.conversation.go("gopy.resume")
        return
    turn.data[DRAFT] = {}
    if session_id is not None:
        draft(turn)["session_id"] = session_id
        go(turn, "gopy.kind")
    else:
        go(turn, "gopy.session")


@entry("gopy.resume", FLOW)
def ask_resume(turn: Turn) -> None:
    """/gopy again while asked whether to resume the draft: ask again."""
    start(turn)


OFFERED = "offered_text"
OFFER_MIN_WORDS = 5


def offer_as_opinion(turn: Turn) -> bool:
    """Free text typed outside any step is not lost: it is offered as the start of a new
    opinion (kept until the resident answers or types something else)."""
    text = normalise(turn.incoming.text or "")
    if len(text.split()) < OFFER_MIN_WORDS or text.startswith("/"):
        return False
    turn.data[OFFERED] = text
    load_in_background()
    turn.send(
        reply(
            "chat.opinion.offer",
            excerpt=_excerpt(text),
            buttons=[
                [button("chat.opinion.offer_yes", "offer:opinion")],
                [button("chat.opinion.offer_no", "offer:no")],
            ],
        )
    )
    return True


def answer_offer(turn: Turn, value: str) -> None:
    text = turn.data.pop(OFFERED, None)
    if value != "opinion" or not text:
        turn.send(reply("chat.opinion.offer_dropped" if text else "chat.button_expired"))
        return
    turn.data[DRAFT] = {"prefilled": str(text)}
    go(turn, "gopy.session")


@step("gopy.resume", FLOW)
def answer_resume(turn: Turn) -> None:
    if turn.incoming.button == "draft:resume":
        go(turn, _next_missing_step(turn))
    elif turn.incoming.button == "draft:new":
        turn.data[DRAFT] = {}
        go(turn, "gopy.session")
    else:
        turn.send(reply("chat.press_a_button"))
        start(turn)


def _next_missing_step(turn: Turn) -> str:
    current = draft(turn)
    if "session_id" not in current:
        return "gopy.session"
    if "kind" not in current:
        return "gopy.kind"
    if "topic" not in current:
        return "gopy.topic"
    return "gopy.text" if not current.get("text") else "gopy.checked"


@entry("gopy.session", FLOW)
def ask_session(turn: Turn) -> None:
    person = get_person(turn.uow, turn.person_id)
    sessions = upcoming_sessions(turn.uow, person.area_org_id, turn.context.now())
    buttons = [
        button(
            "chat.opinion.session_option",
            f"session:{s.id}",
            when=format_datetime(s.starts_at),
            content=_excerpt(s.content, 40),
        )
        for s in sessions[:6]
    ]
    buttons.append(button("chat.opinion.no_session", f"session:{NO_SESSION}"))
    turn.send(Outgoing(text=say("chat.opinion.ask_session"), buttons=one_per_row(buttons)))


@step("gopy.session", FLOW)
def answer_session(turn: Turn) -> None:
    pressed = turn.incoming.button or ""
    if pressed == f"session:{NO_SESSION}":
        draft(turn)["session_id"] = None
    elif pressed.startswith("session:") and parse_id(pressed.removeprefix("session:")):
        draft(turn)["session_id"] = parse_id(pressed.removeprefix("session:"))
    else:
        turn.send(reply("chat.press_a_button"))
        ask_session(turn)
        return
    go(turn, "gopy.kind")


@entry("gopy.kind", FLOW)
def ask_kind(turn: Turn) -> None:
    buttons = one_per_row(
        button(f"chat.opinion.kind.{kind.value}", f"kind:{kind.value}") for kind in PetitionKind
    )
    turn.send(Outgoing(text=say("chat.opinion.ask_kind"), buttons=buttons))


@step("gopy.kind", FLOW)
def answer_kind(turn: Turn) -> None:
    pressed = (turn.incoming.button or "").removeprefix("kind:")
    if pressed not in {kind.value for kind in PetitionKind}:
        turn.send(reply("chat.press_a_button"))
        ask_kind(turn)
        return
    draft(turn)["kind"] = pressed
    go(turn, "gopy.topic")


@entry("gopy.topic", FLOW)
def ask_topic(turn: Turn) -> None:
    kind = "question" if draft(turn).get("kind") == PetitionKind.QUESTION else "civic"
    topics = lookups.topics(turn.uow, kind)
    buttons = one_per_row(
        button("chat.opinion.topic_option", f"topic:{tp.code}", name=tp.name) for tp in topics
    )
    key = "chat.opinion.ask_category" if kind == "question" else "chat.opinion.ask_topic"
    turn.send(Outgoing(text=say(key), buttons=buttons))


@step("gopy.topic", FLOW)
def answer_topic(turn: Turn) -> None:
    code = (turn.incoming.button or "").removeprefix("topic:")
    topic = lookups.topic(turn.uow, code)
    if topic is None:
        turn.send(reply("chat.press_a_button"))
        ask_topic(turn)
        return
    draft(turn)["topic"] = topic.code
    prefilled = draft(turn).pop("prefilled", None)
    if prefilled:
        # Text typed outside any step and offered as a new opinion: it is the opinion's text.
        draft(turn)["text"] = prefilled
        go(turn, "gopy.checked")
        return
    go(turn, "gopy.text")


@entry("gopy.text", FLOW)
def ask_text(turn: Turn) -> None:
    turn.send(reply("chat.opinion.ask_text", limit=f"{MAX_PETITION_LENGTH:,}".replace(",", ".")))


@step("gopy.text", FLOW)
def answer_text(turn: Turn) -> None:
    if turn.incoming.location is not None:
        keep_location(turn)
        return
    if turn.incoming.attachment is not None:
        keep_attachment(turn)
        if not turn.incoming.text:
            return
    if turn.incoming.button == "text:done" and draft(turn).get("parts"):
        _check_text(turn)
        return
    # Stored as the resident wrote it, in NFC and without invisible characters (DESIGN.md).
    text = normalise(turn.incoming.text or "")
    if not text.strip():
        turn.send(reply("chat.opinion.text_empty"))
        return
    current = draft(turn)
    parts = list(current.get("parts") or [])
    if sum(len(p) for p in parts) + len(text) > MAX_PETITION_LENGTH:
        turn.send(
            reply("chat.opinion.text_too_long", limit=f"{MAX_PETITION_LENGTH:,}".replace(",", "."))
        )
        return
    parts.append(text)
    current["parts"] = parts
    if len(text) >= SPLIT_HINT:
        turn.send(
            reply(
                "chat.opinion.text_part_received",
                number=len(parts),
                buttons=[[button("chat.opinion.text_done", "text:done")]],
            )
        )
        return
    _check_text(turn)


def _check_text(turn: Turn) -> None:
    current = draft(turn)
    text = "\n".join(str(part) for part in current.pop("parts", []) or [])
    if current.get("appending") and current.get("text"):
        text = f"{current['text']}\n{text}"
    current.pop("appending", None)
    current["text"] = text
    go(turn, "gopy.checked")


@entry("gopy.checked", FLOW)
def check_text(turn: Turn) -> None:
    """Q4: Vietnamese with diacritics; a refused text is kept and a restored one is offered."""
    current = draft(turn)
    text = str(current.get("text", ""))
    if current.get("accepted_short") == text:
        _after_text(turn)
        return
    from nlp.diacritics import judge  # the language model, loaded by the first text judged

    report = judge(normalise(text))
    if report.verdict is Verdict.TOO_SHORT:
        turn.conversation.go("gopy.diacritics")
        turn.send(
            reply(
                "chat.opinion.too_short",
                buttons=[
                    [button("chat.opinion.keep_short", "text:keep")],
                    [button("chat.opinion.retype", "text:retype")],
                ],
            )
        )
        return
    if report.verdict is Verdict.NOT_VIETNAMESE:
        turn.conversation.go("gopy.diacritics")
        turn.send(
            reply(
                "chat.opinion.not_vietnamese",
                buttons=[[button("chat.opinion.retype", "text:retype")]],
            )
        )
        return
    if report.verdict in REFUSED:
        turn.conversation.go("gopy.diacritics")
        turn.send(_refusal(turn, text, report.verdict))
        return
    _after_text(turn)


def _refusal(turn: Turn, text: str, verdict: Verdict) -> Outgoing:
    """Q4: the refusal, with a restored text when we are confident enough. Certain words only:
    one tap uses it; uncertain words are underlined and must be confirmed one by one; below the
    confidence floor no suggestion, only the explanation. The resident's text stays as typed."""
    current = draft(turn)
    current.pop("suggestion", None)
    restore_words.clear(current)
    from nlp.diacritics import restore

    restored = restore(text)
    buttons = [[button("chat.opinion.retype", "text:retype")]]
    if restored is None or not restored.offered:
        shown = Html(say("chat.restore.suggestion_none")) if restored is not None else ""
    elif restored.uncertain:
        restore_words.begin(current, restored)
        buttons.insert(0, [button("chat.restore.confirm_words", "text:confirm_words")])
        shown = Html(
            say(
                "chat.restore.suggestion_uncertain",
                count=len(restored.uncertain),
                text=restore_words.marked_html(restored),
            )
        )
    else:
        current["suggestion"] = restored.text
        buttons.insert(0, [button("chat.opinion.use_suggestion", "text:suggestion")])
        shown = Html(say("chat.opinion.suggestion", text=restored.text))
    return reply(f"chat.opinion.refused.{verdict.value}", buttons=buttons, suggestion=shown)


@step("gopy.checked", FLOW)
def answer_checked(turn: Turn) -> None:
    check_text(turn)


@entry("gopy.diacritics", FLOW)
def ask_diacritics_again(turn: Turn) -> None:
    """/gopy (or the menu's button) again while a text without diacritics waits for an answer:
    say again what was found and offer the same choices."""
    check_text(turn)


@step("gopy.diacritics", FLOW)
def answer_diacritics(turn: Turn) -> None:
    current = draft(turn)
    pressed = turn.incoming.button
    if pressed == "text:suggestion" and current.get("suggestion"):
        current["text"] = current.pop("suggestion")
        turn.send(reply("chat.opinion.suggestion_used"))
        _after_text(turn)
    elif pressed == "text:confirm_words" and current.get(restore_words.RESTORATION):
        go(turn, "gopy.words")
    elif pressed == "text:keep":
        current["accepted_short"] = current.get("text")
        _after_text(turn)
    elif pressed == "text:retype":
        current.pop("suggestion", None)
        restore_words.clear(current)
        turn.send(reply("chat.opinion.retype_prompt"))
        turn.conversation.go("gopy.text")
    elif turn.incoming.text:
        # Typed again instead of pressing a button: the new text replaces the refused one.
        current.pop("suggestion", None)
        restore_words.clear(current)
        turn.conversation.go("gopy.text")
        answer_text(turn)
    else:
        turn.send(reply("chat.press_a_button"))
        check_text(turn)


@entry("gopy.words", FLOW)
def ask_words(turn: Turn) -> None:
    """Q4: the uncertain words of the suggestion, one at a time (the text is kept meanwhile)."""
    if not restore_words.ask(turn, draft(turn)):
        check_text(turn)


@step("gopy.words", FLOW)
def answer_words(turn: Turn) -> None:
    current = draft(turn)
    outcome = restore_words.answer(turn, current)
    if outcome is None:
        return
    restore_words.clear(current)
    if outcome.text is not None:
        current["text"] = outcome.text
        turn.send(reply("chat.restore.confirmed", text=outcome.text))
        _after_text(turn)
    elif outcome.typed_text is not None:
        # A whole new text typed instead of one word: it replaces the refused one.
        turn.conversation.go("gopy.text")
        answer_text(turn)
    else:
        turn.send(reply("chat.opinion.retype_prompt"))
        turn.conversation.go("gopy.text")


def _after_text(turn: Turn) -> None:
    _show_similar(turn)
    if ensure_profile(turn, "gopy.verify"):
        go(turn, "gopy.verify")


@entry("gopy.verify", FLOW)
def ask_code(turn: Turn) -> None:
    """Q3: every submission shows a verification code to type back."""
    current = draft(turn)
    code = verification.new_code()
    current["verify_code"] = code
    current["verify_tries"] = 0
    _show_code(turn, code, "chat.opinion.ask_code")


def _show_code(turn: Turn, code: str, key: str) -> None:
    if turn.settings.verify_code_as == "text" or not turn.incoming.shows_images:
        turn.send(reply(f"{key}_text", code=code))
    else:
        turn.send(
            Outgoing(
                text=say(key),
                image=verification.render_png(code),
                # A button for a fresh picture, and the digits for screen readers (Q3, C7).
                buttons=((button("chat.opinion.new_code", NEW_CODE),),),
                extra={"alt": t("chat.opinion.code_alt", digits=" ".join(code))},
            )
        )


@step("gopy.verify", FLOW)
def answer_code(turn: Turn) -> None:
    current = draft(turn)
    expected = str(current.get("verify_code", ""))
    if turn.incoming.button == NEW_CODE:
        code = verification.new_code()
        current["verify_code"] = code
        current["verify_tries"] = 0
        _show_code(turn, code, "chat.opinion.code_renewed")
        return
    typed = turn.incoming.text or ""
    if expected and verification.matches(expected, typed):
        current.pop("verify_code", None)
        current["verified"] = True
        go(turn, "gopy.confirm")
        return
    tries = int(current.get("verify_tries", 0)) + 1
    current["verify_tries"] = tries
    if tries >= verification.MAX_TRIES:
        code = verification.new_code()
        current["verify_code"] = code
        current["verify_tries"] = 0
        _show_code(turn, code, "chat.opinion.code_renewed")
    else:
        turn.send(reply("chat.opinion.code_wrong", left=verification.MAX_TRIES - tries))


@entry("gopy.confirm", FLOW)
def ask_confirm(turn: Turn) -> None:
    current = draft(turn)
    session_id = current.get("session_id")
    session = lookups.session(turn.uow, session_id) if isinstance(session_id, int) else None
    topic = lookups.topic(turn.uow, str(current.get("topic")))
    turn.send(
        reply(
            "chat.opinion.summary",
            buttons=[
                [button("chat.opinion.send", "confirm:send")],
                [
                    button("chat.opinion.edit_text", "confirm:edit"),
                    button("chat.opinion.add_text", "confirm:add"),
                ],
                [button("chat.place.add", "confirm:place")],
                [button("chat.opinion.cancel", "confirm:cancel")],
            ],
            session=(
                t(
                    "chat.opinion.session_line",
                    when=format_datetime(session.starts_at),
                    content=session.content,
                )
                if session
                else t("chat.opinion.no_session")
            ),
            kind=t(f"chat.opinion.kind.{current.get('kind')}"),
            topic=topic.name if topic else "",
            text=str(current.get("text", "")),
            attachments=len(current.get("attachments") or []),
            place=Html(_place_summary(current)),
            profile=describe_profile(turn),
        )
    )


@step("gopy.confirm", FLOW)
def answer_confirm(turn: Turn) -> None:
    pressed = turn.incoming.button
    current = draft(turn)
    if turn.incoming.location is not None:
        if keep_location(turn):
            ask_confirm(turn)
    elif turn.incoming.attachment is not None:
        keep_attachment(turn)
        ask_confirm(turn)
    elif pressed == "confirm:place":
        go(turn, "gopy.place")
    elif pressed == "confirm:send":
        _submit(turn)
    elif pressed == "confirm:edit":
        current.pop("text", None)
        turn.send(reply("chat.opinion.retype_prompt"))
        turn.conversation.go("gopy.text")
    elif pressed == "confirm:add":
        current["appending"] = True
        turn.send(reply("chat.opinion.add_prompt"))
        turn.conversation.go("gopy.text")
    elif pressed == "confirm:cancel":
        turn.data.pop(DRAFT, None)
        turn.conversation.reset()
        turn.send(reply("chat.opinion.cancelled"))
    else:
        turn.send(reply("chat.press_a_button"))
        ask_confirm(turn)


def _submit(turn: Turn) -> None:
    current = draft(turn)
    person = get_person(turn.uow, turn.person_id)
    submission = PetitionSubmission(
        person_id=turn.person_id,
        kind=PetitionKind(str(current.get("kind"))),
        topic_code=str(current.get("topic")),
        text=str(current.get("text", "")),
        full_name=person.full_name or "",
        phone_e164=person.phone_e164 or "",
        area_org_id=person.area_org_id,
        session_id=current.get("session_id"),  # type: ignore[arg-type]
        channel=turn.incoming.channel,
        attachments=[AttachmentRef(**item) for item in current.get("attachments") or []],
        latitude=_float(current.get("latitude")),
        longitude=_float(current.get("longitude")),
        place_text=str(current.get("place_text") or "") or None,
    )
    petition = turn.attempt(lambda: submit_petition(turn.uow, submission, turn.context))
    if petition is None:
        return
    turn.data.pop(DRAFT, None)
    turn.conversation.reset()
    turn.send(
        reply(
            # A question's receipt says "câu hỏi", a report's "phản ánh" (X5 wording).
            f"chat.opinion.received_as.{petition.kind}",
            code=petition.tracking_code,
            received=format_datetime(petition.received_at),
        )
    )


def _show_similar(turn: Turn) -> None:
    """Earlier petitions of the same area on the same issue, with their answers: shown once, as
    information — never a refusal (P2)."""
    current = draft(turn)
    area = get_person(turn.uow, turn.person_id).area_org_id
    if area is None or current.get("similar_shown") == current.get("text"):
        return
    current["similar_shown"] = current.get("text")
    found = similar_earlier(turn.uow, area, str(current.get("text", "")))
    if not found:
        return
    lines = [
        say(
            "chat.opinion.similar_line",
            code=petition.tracking_code,
            date=format_date(to_local(petition.received_at).date()),
            text=_excerpt(petition.text, 120),
            answer=Html(say("chat.opinion.similar_answer", text=_excerpt(answer, 160)))
            if answer
            else Html(say("chat.opinion.similar_pending")),
        )
        for petition, answer in found
    ]
    turn.send(reply("chat.opinion.similar", lines=Html("\n".join(lines))))


def keep_attachment(turn: Turn) -> None:
    attachment = turn.incoming.attachment
    assert attachment is not None
    current = draft(turn)
    items = list(current.get("attachments") or [])
    items.append(
        {
            "kind": attachment.kind,
            "file_ref": attachment.file_ref,
            "file_name": attachment.file_name,
            "mime_type": attachment.mime_type,
        }
    )
    current["attachments"] = items
    turn.send(reply(f"chat.opinion.attachment_kept.{attachment.kind}", count=len(items)))


def _excerpt(text: str, limit: int = 80) -> str:
    flat = " ".join(text.split())
    return flat if len(flat) <= limit else flat[: limit - 1] + "…"


# --- the place of the problem (issue 13) ----------------------------------------------------------


@entry("gopy.place", FLOW)
def ask_place(turn: Turn) -> None:
    """Where is the problem? A shared location (a keyboard button where the platform has one,
    its attach menu elsewhere) or an address typed as the resident knows it."""
    turn.send(Outgoing(text=say("chat.place.ask"), ask_location=t("chat.place.share")))
    turn.send(reply("chat.place.or_back", buttons=[[button("chat.place.back", "confirm:back")]]))


@step("gopy.place", FLOW)
def answer_place(turn: Turn) -> None:
    incoming = turn.incoming
    current = draft(turn)
    if incoming.location is not None:
        if keep_location(turn):
            go(turn, "gopy.confirm")
    elif incoming.attachment is not None:
        keep_attachment(turn)
    elif incoming.button == "confirm:back":
        go(turn, "gopy.confirm")
    elif incoming.text and incoming.text.strip():
        written = turn.attempt(lambda: checked_place_text(normalise(incoming.text or "")))
        if written is None:
            return
        current["place_text"] = written
        turn.send(Outgoing(text=say("chat.place.text_kept", place=written), remove_keyboard=True))
        go(turn, "gopy.confirm")
    else:
        turn.send(reply("chat.press_a_button"))
        ask_place(turn)


def keep_location(turn: Turn) -> bool:
    """A shared location: the place of the problem, when it is in Vietnam."""
    assert turn.incoming.location is not None
    latitude, longitude = turn.incoming.location
    point = turn.attempt(lambda: checked_point(latitude, longitude))
    if point is None:
        return False
    current = draft(turn)
    current["latitude"], current["longitude"] = point.latitude, point.longitude
    turn.send(
        Outgoing(
            text=say("chat.place.location_kept", map=map_url(point.latitude, point.longitude)),
            remove_keyboard=True,
        )
    )
    return True


def _place_summary(current: dict[str, Any]) -> str:
    latitude, longitude = _float(current.get("latitude")), _float(current.get("longitude"))
    parts = []
    if current.get("place_text"):
        parts.append(say("chat.place.summary_text", place=str(current["place_text"])))
    if latitude is not None and longitude is not None:
        parts.append(say("chat.place.summary_point", map=map_url(latitude, longitude)))
    return "; ".join(parts) if parts else say("chat.place.summary_none")


def _float(value: object) -> float | None:
    return float(value) if isinstance(value, int | float) else None
