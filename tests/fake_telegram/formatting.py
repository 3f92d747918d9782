"""Message text as Telegram sees it: HTML parse mode, entities, UTF-16 offsets.

:func:`parse_html` is a line-by-line port of ``parse_html`` in tdlib
(``td/telegram/MessageEntity.cpp``), which the Bot API server uses, so that the fake
rejects exactly what Telegram rejects, with the same words and byte offsets:
``Unsupported start tag "" at byte offset 2`` for ``a < b``,
``Can't find end tag corresponding to start tag "b"``, ``Unmatched end tag at byte offset
…, expected "</b>", found "</i>"`` and so on. The Bot API prefixes them with
``Bad Request: can't parse entities: ``.

Entity offsets and lengths are counted in UTF-16 code units, as in the Bot API.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from .errors import bad_request

SUPPORTED_TAGS = frozenset(
    {
        "a",
        "b",
        "strong",
        "i",
        "em",
        "s",
        "strike",
        "del",
        "u",
        "ins",
        "tg-spoiler",
        "tg-emoji",
        "span",
        "pre",
        "code",
        "blockquote",
    }
)
_SIMPLE_ENTITY_TYPES = {
    "i": "italic",
    "em": "italic",
    "b": "bold",
    "strong": "bold",
    "s": "strikethrough",
    "strike": "strikethrough",
    "del": "strikethrough",
    "u": "underline",
    "ins": "underline",
    "tg-spoiler": "spoiler",
    "span": "spoiler",
}
_NAMED_HTML_ENTITIES = {b"lt": ord("<"), b"gt": ord(">"), b"amp": ord("&"), b"quot": ord('"')}
_SPACES = frozenset(b" \t\r\n\0\v")
_LT, _GT, _AMP, _SLASH, _EQ = (ord(c) for c in "<>&/=")

MESSAGE_LIMIT = 4096
CAPTION_LIMIT = 1024
_BOT_COMMAND = re.compile(r"(?<![\w/])/[A-Za-z0-9_]{1,32}(?:@[A-Za-z0-9_]{3,32})?(?![\w@/])")


class EntityParseError(ValueError):
    """The text is not valid for its parse mode; ``str(error)`` is tdlib's message."""


def utf16_len(text: str) -> int:
    """Length in UTF-16 code units, the unit of entity offsets."""
    return len(text.encode("utf-16-le")) // 2


def _byte(data: bytes, index: int) -> int:
    """``text[i]`` of a NUL-terminated C string: 0 past the end."""
    return data[index] if index < len(data) else 0


def _is_space(char: int) -> bool:
    return char in _SPACES


def _is_first_code_unit(char: int) -> bool:
    return (char & 0xC0) != 0x80


def _decode_html_entity(data: bytes, pos: int) -> tuple[int, int] | None:
    """Decode ``&lt;``, ``&#38;``, ``&#x26;``…; return (code point, next position) or None."""
    end = pos + 1
    code = 0
    if _byte(data, pos + 1) == ord("#"):
        end += 1
        if _byte(data, pos + 2) == ord("x"):
            end += 1
            while _byte(data, end) and chr(data[end]) in "0123456789abcdefABCDEF":
                code = code * 16 + int(chr(data[end]), 16)
                end += 1
        else:
            while ord("0") <= _byte(data, end) <= ord("9"):
                code = code * 10 + data[end] - ord("0")
                end += 1
        if code == 0 or code >= 0x10FFFF or end - pos >= 10:
            return None
    else:
        while chr(_byte(data, end)).isascii() and chr(_byte(data, end)).isalpha():
            end += 1
        decoded = _NAMED_HTML_ENTITIES.get(data[pos + 1 : end])
        if decoded is None:
            return None
        code = decoded
    return code, end + 1 if _byte(data, end) == ord(";") else end


@dataclass
class _OpenTag:
    name: str
    argument: str
    utf16_offset: int
    result_begin: int


@dataclass
class _Parser:
    data: bytes
    result: bytearray = field(default_factory=bytearray)
    entities: list[dict[str, Any]] = field(default_factory=list)
    stack: list[_OpenTag] = field(default_factory=list)
    utf16_offset: int = 0

    def run(self) -> tuple[str, list[dict[str, Any]]]:
        data = self.data
        i = 0
        while i < len(data):
            char = data[i]
            if char == _AMP:
                decoded = _decode_html_entity(data, i)
                if decoded is not None:
                    code, i = decoded
                    self.utf16_offset += 1 + (code > 0xFFFF)
                    self.result += chr(code).encode("utf-8", "surrogatepass")
                    continue
            if char != _LT:
                if _is_first_code_unit(char):
                    self.utf16_offset += 1 + (char >= 0xF0)
                self.result.append(char)
                i += 1
                continue
            is_end_tag = _byte(data, i + 1) == _SLASH
            i = self._end_tag(i) if is_end_tag else self._start_tag(i)
            i += 1  # past '>'
        if self.stack:
            raise EntityParseError(
                f'Can\'t find end tag corresponding to start tag "{self.stack[-1].name}"'
            )
        try:
            text = self.result.decode("utf-8")
        except UnicodeDecodeError:
            raise EntityParseError(
                "Text contains invalid Unicode characters after decoding HTML entities, "
                "check for unmatched surrogate code units"
            ) from None
        for entity in self.entities:
            if entity["type"] == "code":
                entity.pop("language", None)
        self.entities.sort(key=lambda entity: (entity["offset"], -entity["length"]))
        return text, self.entities

    def _start_tag(self, begin: int) -> int:
        data = self.data
        i = begin + 1
        while not _is_space(_byte(data, i)) and _byte(data, i) != _GT:
            i += 1
        if _byte(data, i) == 0:
            raise EntityParseError(f"Unclosed start tag at byte offset {begin}")
        name = data[begin + 1 : i].lower().decode("utf-8", "replace")
        if name not in SUPPORTED_TAGS:
            raise EntityParseError(f'Unsupported start tag "{name}" at byte offset {begin}')
        argument = ""
        while _byte(data, i) != _GT:
            while _byte(data, i) != 0 and _is_space(_byte(data, i)):
                i += 1
            if _byte(data, i) == _GT:
                break
            attribute_begin = i
            while not _is_space(_byte(data, i)) and _byte(data, i) not in (_EQ, _GT):
                i += 1
            attribute = data[attribute_begin:i].decode("utf-8", "replace")
            if not attribute:
                raise EntityParseError(
                    f'Empty attribute name in the tag "{name}" at byte offset {begin}'
                )
            while _byte(data, i) != 0 and _is_space(_byte(data, i)):
                i += 1
            if name == "blockquote" and attribute == "expandable" and _byte(data, i) != _EQ:
                argument = "expandable"  # Bot API 7.4: a value-less attribute
                continue
            if _byte(data, i) != _EQ:
                raise EntityParseError(
                    "Expected equal sign in declaration of an attribute of the tag "
                    f'"{name}" at byte offset {begin}'
                )
            i += 1
            while _byte(data, i) != 0 and _is_space(_byte(data, i)):
                i += 1
            if _byte(data, i) == 0:
                raise EntityParseError(f'Unclosed start tag "{name}" at byte offset {begin}')
            value, i = self._attribute_value(i)
            if _byte(data, i) == 0:
                raise EntityParseError(f"Unclosed start tag at byte offset {begin}")
            if (name == "a" and attribute == "href") or (
                name == "tg-emoji" and attribute == "emoji-id"
            ):
                argument = value
            elif name == "code" and attribute == "class" and value.startswith("language-"):
                argument = value.removeprefix("language-")
            elif name == "span" and attribute == "class" and value.startswith("tg-"):
                argument = value.removeprefix("tg-")
        if name == "span" and argument != "spoiler":
            raise EntityParseError(
                f'Tag "span" must have class "tg-spoiler" at byte offset {begin}'
            )
        self.stack.append(_OpenTag(name, argument, self.utf16_offset, len(self.result)))
        return i

    def _attribute_value(self, i: int) -> tuple[str, int]:
        data = self.data
        quote = _byte(data, i)
        if quote not in (ord("'"), ord('"')):
            token_begin = i
            while chr(_byte(data, i)).isascii() and (
                chr(_byte(data, i)).isalnum() or _byte(data, i) in (ord("."), ord("-"))
            ):
                i += 1
            if not _is_space(_byte(data, i)) and _byte(data, i) != _GT:
                raise EntityParseError(f"Unexpected end of name token at byte offset {token_begin}")
            return data[token_begin:i].lower().decode("utf-8", "replace"), i
        i += 1
        value = bytearray()
        while _byte(data, i) != quote and _byte(data, i) != 0:
            if data[i] == _AMP:
                decoded = _decode_html_entity(data, i)
                if decoded is not None:
                    code, i = decoded
                    value += chr(code).encode("utf-8", "surrogatepass")
                    continue
            value.append(data[i])
            i += 1
        if _byte(data, i) == quote:
            i += 1
        return value.decode("utf-8", "replace"), i

    def _end_tag(self, begin: int) -> int:
        data = self.data
        if not self.stack:
            raise EntityParseError(f"Unexpected end tag at byte offset {begin}")
        i = begin + 2
        while not _is_space(_byte(data, i)) and _byte(data, i) != _GT:
            i += 1
        end_name = data[begin + 2 : i].lower().decode("utf-8", "replace")
        while _is_space(_byte(data, i)) and _byte(data, i) != 0:
            i += 1
        if _byte(data, i) != _GT:
            raise EntityParseError(f"Unclosed end tag at byte offset {begin}")
        tag = self.stack[-1]
        if end_name and end_name != tag.name:
            raise EntityParseError(
                f'Unmatched end tag at byte offset {begin}, expected "</{tag.name}>", '
                f'found "</{end_name}>"'
            )
        if self.utf16_offset > tag.utf16_offset:
            self._add_entity(tag)
        self.stack.pop()
        return i

    def _add_entity(self, tag: _OpenTag) -> None:
        offset = tag.utf16_offset
        length = self.utf16_offset - offset
        span = {"offset": offset, "length": length}
        last = self.entities[-1] if self.entities else None
        same_span = last is not None and (last["offset"], last["length"]) == (offset, length)
        if tag.name in _SIMPLE_ENTITY_TYPES:
            self.entities.append({"type": _SIMPLE_ENTITY_TYPES[tag.name], **span})
        elif tag.name == "tg-emoji":
            if not tag.argument.isdigit() or int(tag.argument) == 0:
                raise EntityParseError("Invalid custom emoji identifier specified")
            self.entities.append({"type": "custom_emoji", **span, "custom_emoji_id": tag.argument})
        elif tag.name == "a":
            url = tag.argument or self.result[tag.result_begin :].decode("utf-8", "replace")
            if url:
                self.entities.append({"type": "text_link", **span, "url": url})
        elif tag.name == "pre":
            if same_span and last is not None and last["type"] == "code" and last.get("language"):
                last["type"] = "pre"
            else:
                self.entities.append({"type": "pre", **span})
        elif tag.name == "code":
            if same_span and last is not None and last["type"] == "pre" and tag.argument:
                last["language"] = tag.argument
            else:
                entity = {"type": "code", **span}
                if tag.argument:
                    entity["language"] = tag.argument
                self.entities.append(entity)
        elif tag.name == "blockquote":
            kind = "expandable_blockquote" if tag.argument == "expandable" else "blockquote"
            self.entities.append({"type": kind, **span})


def parse_html(text: str) -> tuple[str, list[dict[str, Any]]]:
    """Plain text and entities of an HTML-formatted text; raise :class:`EntityParseError`."""
    return _Parser(text.encode("utf-8", "surrogatepass")).run()


def _trim(text: str, entities: list[dict[str, Any]]) -> tuple[str, list[dict[str, Any]]]:
    """Strip leading and trailing spaces and newlines as Telegram does, keeping entities."""
    stripped_left = text.lstrip(" \n")
    shift = len(text) - len(stripped_left)  # spaces and newlines are one UTF-16 unit each
    result = stripped_left.rstrip(" \n")
    size = utf16_len(result)
    kept = []
    for entity in entities:
        start = max(entity["offset"] - shift, 0)
        end = min(entity["offset"] + entity["length"] - shift, size)
        if end > start:
            kept.append({**entity, "offset": start, "length": end - start})
    return result, kept


def format_text(
    text: str,
    parse_mode: str | None,
    entities: list[dict[str, Any]] | None,
    *,
    caption: bool = False,
) -> tuple[str, list[dict[str, Any]]]:
    """What Telegram stores for a message text or caption, or the Bot API error it sends.

    HTML is validated and parsed exactly; Markdown and MarkdownV2 are accepted verbatim
    (not parsed); explicit ``entities`` are kept as given.
    """
    mode = (parse_mode or "").strip().lower()
    if entities:
        plain, found = text, [dict(entity) for entity in entities]
    elif mode == "html":
        try:
            plain, found = parse_html(text)
        except EntityParseError as error:
            raise bad_request(f"can't parse entities: {error}") from None
    elif mode in ("", "markdown", "markdownv2"):
        plain, found = text, []
    else:
        raise bad_request("unsupported parse_mode")
    plain, found = _trim(plain, found)
    limit = CAPTION_LIMIT if caption else MESSAGE_LIMIT
    if utf16_len(plain) > limit:
        raise bad_request("message caption is too long" if caption else "message is too long")
    return plain, found


def check_text(text: object) -> str:
    """The ``text`` parameter of sendMessage/editMessageText, or Telegram's error."""
    if text is None or text == "":
        raise bad_request("message text is empty")
    return str(text)


def bot_command_entities(text: str) -> list[dict[str, Any]]:
    """``bot_command`` entities Telegram attaches to an incoming text such as ``/start x``."""
    found = []
    for match in _BOT_COMMAND.finditer(text):
        found.append(
            {
                "type": "bot_command",
                "offset": utf16_len(text[: match.start()]),
                "length": utf16_len(match.group()),
            }
        )
    return found


__all__ = [
    "CAPTION_LIMIT",
    "MESSAGE_LIMIT",
    "EntityParseError",
    "bot_command_entities",
    "check_text",
    "format_text",
    "parse_html",
    "utf16_len",
]
