"""Reading Bot API parameters the four ways Telegram accepts them.

"All queries must be made using UTF-8" as a URL query string,
``application/x-www-form-urlencoded``, ``application/json`` or ``multipart/form-data``
(the latter for uploads). aiogram posts every call as a form (``AiohttpSession.build_form_data``:
url-encoded, or multipart when a file is attached as ``attach://<random>``);
python-telegram-bot posts forms through httpx (``RequestData.json_parameters``; a file is a
multipart part named after the parameter, e.g. ``document``). In forms every value is a
string and objects are JSON strings, so values are typed here per field, as Telegram does.
"""

from __future__ import annotations

import json
import re
from typing import Any

from aiohttp import BodyPartReader, MultipartReader, web

from .errors import bad_request
from .records import UploadedFile

# Parameters whose value is a JSON-serialized object or array.
JSON_FIELDS = frozenset(
    {
        "reply_markup",
        "entities",
        "caption_entities",
        "allowed_updates",
        "commands",
        "scope",
        "link_preview_options",
        "reply_parameters",
        "media",
        "results",
        "options",
        "menu_button",
        "message_ids",
        "prices",
        "explanation_entities",
        "question_entities",
        "text_entities",
        "rights",
        "permissions",
        "reaction",
        "button",
        "suggested_post_parameters",
    }
)
# Parameters that are strings even when they look like numbers or booleans.
STRING_FIELDS = frozenset(
    {
        "text",
        "caption",
        "data",
        "parse_mode",
        "callback_query_id",
        "inline_message_id",
        "url",
        "secret_token",
        "ip_address",
        "file_id",
        "language_code",
        "description",
        "short_description",
        "name",
        "title",
        "emoji",
        "phone_number",
        "first_name",
        "last_name",
        "vcard",
        "address",
        "question",
        "explanation",
        "action",
        "photo",
        "document",
        "audio",
        "video",
        "voice",
        "animation",
        "sticker",
        "video_note",
        "thumbnail",
        "certificate",
        "business_connection_id",
        "message_effect_id",
        "start_parameter",
        "payload",
        "currency",
        "provider_token",
        "method",
    }
)
_INTEGER = re.compile(r"-?\d+")
_FLOAT = re.compile(r"-?\d+\.\d*(?:[eE][-+]?\d+)?")


def coerce(name: str, value: Any) -> Any:
    """Type one parameter value the way the Bot API reads it."""
    if not isinstance(value, str):
        return value
    if name in STRING_FIELDS:
        return value
    if name in JSON_FIELDS:
        try:
            return json.loads(value)
        except ValueError:
            raise bad_request(f"can't parse {name.replace('_', ' ')} JSON object") from None
    if _INTEGER.fullmatch(value):
        return int(value)
    if _FLOAT.fullmatch(value):
        return float(value)
    if value in ("true", "True"):
        return True
    if value in ("false", "False"):
        return False
    return value


def coerce_all(raw: dict[str, Any]) -> dict[str, Any]:
    """Type every parameter of a call."""
    return {name: coerce(name, value) for name, value in raw.items()}


async def read_multipart(reader: MultipartReader) -> tuple[dict[str, Any], dict[str, UploadedFile]]:
    """Fields and files of a ``multipart/form-data`` body (request or webhook answer)."""
    raw: dict[str, Any] = {}
    files: dict[str, UploadedFile] = {}
    while True:
        part = await reader.next()
        if part is None:
            break
        if not isinstance(part, BodyPartReader) or part.name is None:
            continue
        if part.filename is not None:
            files[part.name] = UploadedFile(
                field=part.name,
                filename=part.filename,
                content_type=part.headers.get("Content-Type"),
                data=bytes(await part.read()),
            )
        else:
            raw[part.name] = await part.text()
    return raw, files


async def read_request(request: web.Request) -> tuple[dict[str, Any], dict[str, UploadedFile]]:
    """Typed parameters and uploaded files of one Bot API call."""
    raw: dict[str, Any] = dict(request.query)
    files: dict[str, UploadedFile] = {}
    content_type = request.content_type
    if request.can_read_body:
        if content_type == "application/json":
            try:
                body = await request.json()
            except ValueError:
                raise bad_request("can't parse JSON object") from None
            if not isinstance(body, dict):
                raise bad_request("JSON object expected")
            raw.update(body)
        elif content_type == "application/x-www-form-urlencoded":
            raw.update(await request.post())
        elif content_type == "multipart/form-data":
            fields, files = await read_multipart(await request.multipart())
            raw.update(fields)
    return coerce_all(raw), files


def input_file_reference(
    params: dict[str, Any],
    files: dict[str, UploadedFile],
    field: str,
) -> UploadedFile | str:
    """The upload or the file_id/URL string a method got for ``field`` (e.g. ``photo``)."""
    value = params.get(field)
    if isinstance(value, str) and value.startswith("attach://"):
        upload = files.get(value.removeprefix("attach://"))
        if upload is None:
            raise bad_request(f"there is no {field} in the request")
        return upload
    if field in files:
        return files[field]
    if isinstance(value, str) and value:
        return value
    raise bad_request(f"there is no {field} in the request")
